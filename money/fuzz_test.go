package money

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics and that whatever it accepts formats back to text that
// parses to the same amount.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0", "1,234.56", "-1.2E+05", "(12.5万)", "１２３", "¥1,000", "1,23,4", "1e400",
		"92233720368547758.07", "-92233720368547758.08", "0.005", ".", "(", "亿元", "+-1",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, sel uint8) {
		c := []Currency{CNY, JPY, "KWD"}[int(sel)%3]
		mode := RoundingMode(int(sel/3) % 5)
		a, err := ParseUnit(s, c, Major, mode)
		if err != nil {
			return
		}
		if a.Currency() != c {
			t.Fatalf("currency %q", a.Currency())
		}
		for _, out := range []string{a.String(), a.Grouped()} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 %q", out)
			}
			b, err := Parse(out, c)
			if err != nil || b != a {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v (from %q)", out, b, err, a, s)
			}
		}
		_ = a.InUnit(Wan, int(sel%12), mode)
	})
}

// FuzzAllocate checks that Allocate never panics and that its parts sum to the whole.
func FuzzAllocate(f *testing.F) {
	f.Add(int64(100), int64(1), int64(2), int64(0))
	f.Add(int64(-1<<63), int64(1<<62), int64(1<<62), int64(1))
	f.Fuzz(func(t *testing.T, m, w1, w2, w3 int64) {
		parts, err := New(m, CNY).Allocate(w1, w2, w3)
		if err != nil {
			return
		}
		var s int64
		for _, p := range parts {
			s += p.Minor() // wraps, but the true sum is m, so the wrapped sum is m too
		}
		if s != m {
			t.Fatalf("parts %v sum to %d, want %d", parts, s, m)
		}
	})
}

// FuzzParseSimpleAgrees: the fast path and the general parser agree wherever the fast path answers.
func FuzzParseSimpleAgrees(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.", ".5", "123.45", "-99.999", "100000000000000", "12.3456", "007"} {
		f.Add(s, 0)
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, s string, unit int) {
		u := Unit(unit%9 - 2) // Cent .. Yi
		a, ok := parseSimple(s, CNY, u)
		if !ok {
			return
		}
		d, err := parseDecimal(s)
		if err != nil {
			t.Fatalf("fast path accepted %q, general path: %v", s, err)
		}
		d.exp += int(u) + d.unit + CNY.Digits()
		m, err := d.round(Exact)
		if err != nil || m != a.Minor() {
			t.Fatalf("%q unit %d: fast %d, general %d (%v)", s, u, a.Minor(), m, err)
		}
	})
}
