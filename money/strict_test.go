package money

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"testing"
)

func TestParseStrict(t *testing.T) {
	for _, tc := range []struct {
		in    string
		c     Currency
		minor int64
	}{
		{"0", CNY, 0}, {"1", CNY, 100}, {"12.3", CNY, 1230}, {"12.34", CNY, 1234}, {"-5.01", CNY, -501},
		{"0.01", CNY, 1}, {"1234567890123", CNY, 123456789012300}, {"7", JPY, 7}, {"1.234", "KWD", 1234},
		{"92233720368547758.07", CNY, math.MaxInt64}, {"-92233720368547758.08", CNY, math.MinInt64},
	} {
		a, err := ParseStrict(tc.in, tc.c)
		if err != nil || a.Minor() != tc.minor || a.Currency() != tc.c {
			t.Errorf("ParseStrict(%q, %s) = %v, %v; want %d", tc.in, tc.c, a, err, tc.minor)
		}
	}
	// Everything the lenient tape reader takes but an API must not (issue 9, item 12).
	for _, in := range []string{
		"", "1万", "1E2", "1e2", "１２３", "¥1", "$1", "+5", ".5", "5.", "1,000", " 1", "1 ", "12.345", "(5)",
		"1.2.3", "--1", "-", "007", "00.5", "-0", "-0.00", "1元", "0x10", "1_000", "١٢٣", "NaN", "Inf", "1.5", // 1.5 is fine for CNY: see below
	} {
		if in == "1.5" {
			if _, err := ParseStrict(in, JPY); !errors.Is(err, ErrSyntax) {
				t.Errorf("ParseStrict(%q, JPY): %v, want ErrSyntax (no minor unit)", in, err)
			}
			continue
		}
		if a, err := ParseStrict(in, CNY); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseStrict(%q) = %v, %v; want ErrSyntax", in, a, err)
		}
	}
	for _, in := range []string{"92233720368547758.08", "-92233720368547758.09", "99999999999999999999999", "18446744073709551616"} {
		if _, err := ParseStrict(in, CNY); !errors.Is(err, ErrOverflow) {
			t.Errorf("ParseStrict(%q): %v, want ErrOverflow", in, err)
		}
	}
}

// FuzzParseStrict: ParseStrict accepts exactly the documented form, agrees with the lenient
// Parse wherever it accepts, round-trips through String, and never panics.
func FuzzParseStrict(f *testing.F) {
	for _, s := range []string{"0", "12.34", "-1", "1万", "1E2", "１", "¥1", "+5", ".5", "007", "-0", "92233720368547758.08", "1.234"} {
		f.Add(s, uint8(0))
	}
	forms := map[Currency]*regexp.Regexp{}
	f.Fuzz(func(t *testing.T, s string, sel uint8) {
		c := []Currency{CNY, JPY, "KWD"}[int(sel)%3]
		re := forms[c]
		if re == nil {
			frac := ""
			if d := c.Digits(); d > 0 {
				frac = `(\.[0-9]{1,` + strconv.Itoa(d) + `})?`
			}
			re = regexp.MustCompile(`^-?(0|[1-9][0-9]*)` + frac + `$`)
			forms[c] = re
		}
		a, err := ParseStrict(s, c)
		if err != nil {
			if errors.Is(err, ErrOverflow) {
				if !re.MatchString(s) {
					t.Fatalf("%q: overflow reported for text of the wrong form", s)
				}
				return
			}
			if re.MatchString(s) && !isNegZero(s) {
				t.Fatalf("ParseStrict(%q, %s) refused the documented form: %v", s, c, err)
			}
			return
		}
		if !re.MatchString(s) || isNegZero(s) {
			t.Fatalf("ParseStrict(%q, %s) = %v: accepted text outside the form", s, c, a)
		}
		if b, err := Parse(s, c); err != nil || b != a {
			t.Fatalf("Parse(%q) = %v, %v; ParseStrict = %v", s, b, err, a)
		}
		if b, err := ParseStrict(a.String(), c); err != nil || b != a {
			t.Fatalf("round trip of %q via %q: %v, %v", s, a.String(), b, err)
		}
	})
}

func isNegZero(s string) bool {
	if len(s) == 0 || s[0] != '-' {
		return false
	}
	for _, r := range s[1:] {
		if r != '0' && r != '.' {
			return false
		}
	}
	return true
}
