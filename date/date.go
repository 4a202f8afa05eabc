// Package date holds civil dates for business facts: cut-off, due, default and payment dates.
//
// A Date has no time of day and no time zone. Months are stepped from an anchor with end-of-month
// clipping (31 January + 1 month is 28 or 29 February, never 2 March); never use time.AddDate for
// business dates. The zero Date means "no date".
package date

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a proleptic Gregorian calendar date. It is comparable with == and ordered by Compare.
type Date struct {
	// n is the number of days since 1970-01-01 plus offset, so that the zero value is "no date".
	n int32
}

const offset = 1 << 30

// Supported range: years 1 to 9999.
var (
	minDate = mustYMD(1, 1, 1)
	maxDate = mustYMD(9999, 12, 31)
)

// Errors returned by this package; test with errors.Is.
var (
	ErrInvalid = errors.New("date: invalid date")
	ErrSyntax  = errors.New("date: unrecognised date")
	ErrRange   = errors.New("date: out of range")
)

// daysFromCivil returns days since 1970-01-01 (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// IsLeap reports whether y is a Gregorian leap year.
func IsLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// DaysIn returns the number of days in month m of year y.
func DaysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if IsLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// New returns the date y-m-d, or ErrInvalid when no such day exists or the year is outside 1-9999.
func New(y int, m time.Month, d int) (Date, error) {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > DaysIn(y, m) {
		return Date{}, fmt.Errorf("%w: %04d-%02d-%02d", ErrInvalid, y, int(m), d)
	}
	return Date{n: int32(daysFromCivil(y, int(m), d) + offset)}, nil
}

// Of returns the date y-m-d and panics when it does not exist; for constants and tests.
func Of(y int, m time.Month, d int) Date {
	t, err := New(y, m, d)
	if err != nil {
		panic(err)
	}
	return t
}

func mustYMD(y, m, d int) Date { return Of(y, time.Month(m), d) }

// FromTime returns the civil date of t in t's location. It panics when that date's year is outside
// 1-9999; use FromTimeChecked for times that come from input.
func FromTime(t time.Time) Date {
	y, m, d := t.Date()
	return Of(y, m, d)
}

// FromTimeChecked returns the civil date of t in t's location, or ErrInvalid when its year is
// outside 1-9999.
func FromTimeChecked(t time.Time) (Date, error) {
	y, m, d := t.Date()
	return New(y, m, d)
}

// FromDays returns the date n days after 1970-01-01.
func FromDays(n int) Date { return Date{n: int32(n + offset)} }

// Days returns the number of days since 1970-01-01 (negative before). Undefined for the zero Date.
func (t Date) Days() int { return int(t.n) - offset }

// IsZero reports whether t is the zero Date ("no date").
func (t Date) IsZero() bool { return t.n == 0 }

// Date returns the year, month and day.
func (t Date) Date() (y int, m time.Month, d int) {
	yy, mm, dd := civilFromDays(t.Days())
	return yy, time.Month(mm), dd
}

// Year returns the year.
func (t Date) Year() int { y, _, _ := t.Date(); return y }

// Month returns the month.
func (t Date) Month() time.Month { _, m, _ := t.Date(); return m }

// Day returns the day of the month.
func (t Date) Day() int { _, _, d := t.Date(); return d }

// Weekday returns the day of the week.
func (t Date) Weekday() time.Weekday {
	return time.Weekday(((t.Days() % 7) + 7 + 4) % 7) // 1970-01-01 was a Thursday
}

// Time returns midnight UTC at the start of t.
func (t Date) Time() time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// String formats t as YYYY-MM-DD; the zero Date formats as "".
func (t Date) String() string {
	if t.IsZero() {
		return ""
	}
	var b [10]byte
	return string(t.AppendISO(b[:0]))
}

// AppendISO appends String's form of t to dst (nothing for the zero Date).
func (t Date) AppendISO(dst []byte) []byte {
	if t.IsZero() {
		return dst
	}
	y, m, d := t.Date()
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// Compare returns -1, 0 or +1 as t is before, equal to or after u.
func (t Date) Compare(u Date) int {
	switch {
	case t.n < u.n:
		return -1
	case t.n > u.n:
		return 1
	}
	return 0
}

// Equal reports whether t and u are the same day (the same as ==; it lets go-cmp compare Dates).
func (t Date) Equal(u Date) bool { return t.n == u.n }

// Before reports whether t is before u.
func (t Date) Before(u Date) bool { return t.n < u.n }

// After reports whether t is after u.
func (t Date) After(u Date) bool { return t.n > u.n }

// AddDays returns t plus n days.
func (t Date) AddDays(n int) Date { return Date{n: t.n + int32(n)} }

// Sub returns the number of days from u to t (t - u).
func (t Date) Sub(u Date) int { return int(t.n) - int(u.n) }

// AddMonths returns the date n months after t, clipped to the end of the target month:
// 2024-01-31 + 1 month is 2024-02-29. To build a schedule, always step from the anchor
// (anchor.AddMonths(k)), never from the previous date, or a clipped day is lost for good.
func (t Date) AddMonths(n int) Date {
	y, m, d := t.Date()
	mi := y*12 + int(m) - 1 + n
	ny, nm := floorDiv(mi, 12), time.Month(mi-floorDiv(mi, 12)*12+1)
	if dim := DaysIn(ny, nm); d > dim {
		d = dim
	}
	return Date{n: int32(daysFromCivil(ny, int(nm), d) + offset)}
}

// AddYears returns the date n years after t; 29 February clips to 28 February.
func (t Date) AddYears(n int) Date { return t.AddMonths(12 * n) }

// StartOfMonth returns the first day of t's month.
func (t Date) StartOfMonth() Date {
	y, m, _ := t.Date()
	return Of(y, m, 1)
}

// EndOfMonth returns the last day of t's month.
func (t Date) EndOfMonth() Date {
	y, m, _ := t.Date()
	return Of(y, m, DaysIn(y, m))
}

// IsEndOfMonth reports whether t is the last day of its month.
func (t Date) IsEndOfMonth() bool { return t == t.EndOfMonth() }

// MonthsBetween returns the number of whole months from t to u, counted the way AddMonths steps:
// the largest k with t.AddMonths(k) <= u (negative when u is before t).
func MonthsBetween(t, u Date) int {
	ty, tm, _ := t.Date()
	uy, um, _ := u.Date()
	// t.AddMonths(k) lands in u's month; t.AddMonths(k+1) is after u. AddMonths is monotone in k,
	// so at most one step back is needed.
	k := (uy-ty)*12 + int(um) - int(tm)
	for t.AddMonths(k).After(u) {
		k--
	}
	return k
}

// Age returns the age in whole years on day at of someone born on birth: the number of birthdays
// (anniversaries stepped by AddYears, so 29 February counts on 28 February) on or before at. It is 0
// when at is before birth.
func Age(birth, at Date) int {
	if at.Before(birth) {
		return 0
	}
	return MonthsBetween(birth, at) / 12
}

// Parse reads a date written as 2024-01-31, 2024/01/31, 2024/1/31, 2024.01.31, 20240131,
// 2024年1月31日, or a timestamp whose date part is one of these followed by 'T' or a space and a
// time of day (2024-01-31T08:00:00Z, 2024/1/31 08:00); the time is ignored. Leading and trailing
// spaces are ignored. Anything else, and days that do not exist (2023-02-29), are errors.
func Parse(s string) (Date, error) {
	if d, ok := parseISO(s); ok {
		return d, nil
	}
	t := strings.TrimSpace(s)
	if i := strings.IndexAny(t, "T "); i >= 8 {
		if !isTimeOfDay(strings.TrimSpace(t[i+1:])) {
			return Date{}, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		t = t[:i]
	}
	var parts []string
	switch {
	case strings.Contains(t, "年"):
		r := strings.NewReplacer("年", "-", "月", "-", "日", "")
		parts = strings.Split(r.Replace(t), "-")
	case len(t) == 8 && isDigits(t):
		parts = []string{t[:4], t[4:6], t[6:]}
	default:
		for _, sep := range []string{"-", "/", "."} {
			if strings.Contains(t, sep) {
				parts = strings.Split(t, sep)
				break
			}
		}
	}
	if len(parts) != 3 || len(parts[0]) != 4 {
		return Date{}, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 4 || (i > 0 && len(p) > 2) || !isDigits(p) {
			return Date{}, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		n[i], _ = strconv.Atoi(p)
	}
	return New(n[0], time.Month(n[1]), n[2])
}

// parseISO is Parse's fast path for the common exact form YYYY-MM-DD. ok is false for anything
// else (including invalid days), which the general path then reports.
func parseISO(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	// Bytes below '0' wrap around to more than 9.
	y0, y1, y2, y3 := s[0]-'0', s[1]-'0', s[2]-'0', s[3]-'0'
	m0, m1, d0, d1 := s[5]-'0', s[6]-'0', s[8]-'0', s[9]-'0'
	if y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9 {
		return Date{}, false
	}
	y := int(y0)*1000 + int(y1)*100 + int(y2)*10 + int(y3)
	m := int(m0)*10 + int(m1)
	d := int(d0)*10 + int(d1)
	// New's checks, without building its error for a day that does not exist.
	if y < 1 || m < 1 || m > 12 || d < 1 || d > DaysIn(y, time.Month(m)) {
		return Date{}, false
	}
	return Date{n: int32(daysFromCivil(y, m, d) + offset)}, true
}

// ParseLayout reads s with a Go time layout such as "02/01/2006" or "Jan-2006" (a missing day
// means the first of the month).
func ParseLayout(s, layout string) (Date, error) {
	tm, err := time.Parse(layout, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%w: %q does not match layout %q", ErrSyntax, s, layout)
	}
	return FromTimeChecked(tm)
}

// isTimeOfDay reports whether s looks like the time part of a timestamp: "08:00", "08:00:00.5Z",
// "08:00:00+08:00", "080000".
func isTimeOfDay(s string) bool {
	if len(s) < 4 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ':', c == '.', c == 'Z', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// FromExcelSerial converts a spreadsheet serial day number to a date. In the 1900 date system
// (date1904 false) serial 1 is 1900-01-01 and serial 60 is the non-existent 1900-02-29 that
// Lotus 1-2-3 invented and Excel kept: it is rejected. In the 1904 system serial 0 is 1904-01-01.
// A fractional part (a time of day) is ignored. Serials past 9999-12-31 (2958465 in the 1900
// system, 2957003 in the 1904 system), negative serials and NaN are ErrRange.
func FromExcelSerial(serial float64, date1904 bool) (Date, error) {
	limit := 2958465.0
	if date1904 {
		limit -= 1462
	}
	if serial != serial || serial < 0 || serial >= limit+1 {
		return Date{}, fmt.Errorf("%w: excel serial %v", ErrRange, serial)
	}
	n := int(serial)
	if date1904 {
		return Of(1904, 1, 1).AddDays(n), nil
	}
	switch {
	case n == 0:
		return Date{}, fmt.Errorf("%w: excel serial 0 is no date", ErrRange)
	case n == 60:
		return Date{}, fmt.Errorf("%w: excel serial 60 is 1900-02-29, which does not exist", ErrInvalid)
	case n < 60:
		return Of(1899, 12, 31).AddDays(n), nil
	}
	return Of(1899, 12, 30).AddDays(n), nil
}

// MarshalText formats t as YYYY-MM-DD (empty for the zero Date).
func (t Date) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses any form Parse accepts; empty text is the zero Date.
func (t *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Date{}
		return nil
	}
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (t Date) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON reads a date string or null.
func (t *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*t = Date{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("%w: %s", ErrSyntax, s)
	}
	return t.UnmarshalText([]byte(s[1 : len(s)-1]))
}

// ParseMonth reads a month as repayment histories write it and returns its first day: a date in
// any form Parse reads (its day is dropped), or a year and month alone, as 2024-01, 2024/1,
// 2024.01, 202401 or 2024年1月. Anything else, and months outside 1-12, are errors.
func ParseMonth(s string) (Date, error) {
	if d, err := Parse(s); err == nil {
		return d.StartOfMonth(), nil
	}
	t := strings.TrimSpace(s)
	var y, m string
	switch {
	case strings.HasSuffix(t, "月") && strings.Count(t, "年") == 1:
		y, m, _ = strings.Cut(strings.TrimSuffix(t, "月"), "年")
	case len(t) == 6 && isDigits(t):
		y, m = t[:4], t[4:]
	default:
		for _, sep := range []string{"-", "/", "."} {
			if a, b, ok := strings.Cut(t, sep); ok {
				y, m = a, b
				break
			}
		}
	}
	if len(y) != 4 || !isDigits(y) || m == "" || len(m) > 2 || !isDigits(m) {
		return Date{}, fmt.Errorf("%w: %q is not a month", ErrSyntax, s)
	}
	yn, _ := strconv.Atoi(y)
	mn, _ := strconv.Atoi(m)
	return New(yn, time.Month(mn), 1)
}
