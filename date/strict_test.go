package date

import (
	"errors"
	"regexp"
	"testing"
)

func TestParseStrict(t *testing.T) {
	for in, want := range map[string]Date{"2025-07-02": Of(2025, 7, 2), "2024-02-29": Of(2024, 2, 29), "0001-01-01": Of(1, 1, 1),
		"9999-12-31": Of(9999, 12, 31)} {
		if d, err := ParseStrict(in); err != nil || d != want {
			t.Errorf("ParseStrict(%q) = %v, %v", in, d, err)
		}
	}
	// Everything the lenient tape reader takes but an API must not (issue 9, item 12).
	for _, in := range []string{"20250702", "2025/07/02", "2025.07.02", "2025-7-2", "2025年7月2日", "2025-07-02T00:00:00Z",
		"2025-07-02 08:00", " 2025-07-02", "2025-07-02 ", "２０２５-０７-０２", "+2025-07-02", "-2025-07-02", "25-07-02", "", "2025-07-0x"} {
		if _, err := ParseStrict(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseStrict(%q): %v, want ErrSyntax", in, err)
		}
	}
	for _, in := range []string{"2023-02-29", "2025-13-01", "2025-00-10", "2025-04-31", "0000-01-01"} {
		if _, err := ParseStrict(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseStrict(%q): %v, want ErrInvalid", in, err)
		}
	}
	lo, hi := Of(1990, 1, 1), Of(2026, 12, 7)
	if _, err := ParseStrictWithin("9999-12-31", lo, hi); !errors.Is(err, ErrRange) {
		t.Errorf("9999-12-31: %v, want ErrRange", err)
	}
	if _, err := ParseStrictWithin("1989-12-31", lo, hi); !errors.Is(err, ErrRange) {
		t.Errorf("1989-12-31: %v, want ErrRange", err)
	}
	if d, err := ParseStrictWithin("2026-12-07", lo, hi); err != nil || d != hi {
		t.Errorf("the bound itself: %v, %v", d, err)
	}
}

var isoForm = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// FuzzParseStrict: ParseStrict accepts only YYYY-MM-DD, agrees with Parse wherever it accepts,
// round-trips through String, and never panics.
func FuzzParseStrict(f *testing.F) {
	for _, s := range []string{"2025-07-02", "20250702", "2025/07/02", "2025-07-02T00:00:00Z", "9999-12-31", "2023-02-29", "0000-00-00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseStrict(s)
		if err != nil {
			if isoForm.MatchString(s) != errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseStrict(%q): %v (form matches: %v)", s, err, isoForm.MatchString(s))
			}
			return
		}
		if !isoForm.MatchString(s) {
			t.Fatalf("ParseStrict(%q) = %v: accepted another form", s, d)
		}
		if p, err := Parse(s); err != nil || p != d {
			t.Fatalf("Parse(%q) = %v, %v; ParseStrict = %v", s, p, err, d)
		}
		if d.String() != s {
			t.Fatalf("ParseStrict(%q) formats back as %q", s, d.String())
		}
	})
}
