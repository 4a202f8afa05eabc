package date

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics and that every date it accepts is in range and formats
// back to text that parses to the same date.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2024-01-31", "2024/1/31", "2024.01.31", "20240131", "2024年1月31日", "2024-01-31T08:00:00Z",
		"2023-02-29", "0000-00-00", "9999-12-31", "garbage", "2024-01-31 ", "年月日", "2024年",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d.Before(minDate) || d.After(maxDate) || d.IsZero() {
			t.Fatalf("Parse(%q) = out of range day %d", s, d.Days())
		}
		out := d.String()
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 %q", out)
		}
		if e, err := Parse(out); err != nil || e != d {
			t.Fatalf("Parse(%q) = %v, %v; want %v (from %q)", out, e, err, d, s)
		}
	})
}

// FuzzFromExcelSerial checks that FromExcelSerial never panics and returns only in-range dates.
func FuzzFromExcelSerial(f *testing.F) {
	f.Add(45322.0, false)
	f.Add(60.0, false)
	f.Add(2957003.9, true)
	f.Fuzz(func(t *testing.T, serial float64, is1904 bool) {
		d, err := FromExcelSerial(serial, is1904)
		if err == nil && (d.Before(minDate) || d.After(maxDate)) {
			t.Fatalf("FromExcelSerial(%v, %v) = day %d out of range", serial, is1904, d.Days())
		}
	})
}

// FuzzParseMonth checks that ParseMonth never panics, that every month it accepts is the first
// day of a month in range, and that it agrees with Parse on every text Parse reads.
func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{
		"2024-01", "2024/1", "2024.12", "202401", "2024年1月", "2024年01月", "2024-01-31", "2024年1月31日",
		"2024-13", "2024-00", "2024-1-", "24-01", "202413", "2024年月", "年1月", "2024年1月1月", "2024-001", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseMonth(s)
		if p, perr := Parse(s); perr == nil && (err != nil || d != p.StartOfMonth()) {
			t.Fatalf("ParseMonth(%q) = %v, %v; Parse gives %v", s, d, err, p)
		}
		if err != nil {
			return
		}
		if d.Before(minDate) || d.After(maxDate) || d.IsZero() || d != d.StartOfMonth() {
			t.Fatalf("ParseMonth(%q) = %v: not the first day of a month in range", s, d)
		}
	})
}
