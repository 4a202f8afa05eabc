package money

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in       string
		num, den int64
	}{
		{"3%", 3, 100}, {"3.00%", 3, 100}, {"0.03", 3, 100}, {"92/365", 92, 365}, {"1.5", 3, 2},
		{"-0.5", -1, 2}, {"100%", 1, 1}, {" 2.5 % ", 1, 40}, {"0", 0, 1}, {"10/-4", -5, 2},
	} {
		r, err := ParseRate(c.in)
		if err != nil || r.Num() != c.num || r.Den() != c.den {
			t.Errorf("ParseRate(%q) = %v, %v; want %d/%d", c.in, r, err, c.num, c.den)
		}
	}
	for _, in := range []string{"", "%", "abc", "1e3", "1/0", "1.2.3", "12345678901234567890", "--1", "."} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

func TestMulRate(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		num, den int64
		mode     RoundingMode
		want     int64
	}{
		{18800000000, 3 * 92, 100 * 365, HalfUp, 142158904}, // 188m x 3% x 92/365 = 1,421,589.041...
		{5, 1, 2, HalfUp, 3}, {5, 1, 2, HalfEven, 2}, {7, 1, 2, HalfEven, 4}, {-5, 1, 2, HalfUp, -3},
		{5, 1, 2, Down, 2}, {100, 1, 3, HalfUp, 33}, {200, 1, 3, HalfUp, 67}, {-200, 1, 3, HalfUp, -67},
		{math.MaxInt64, 1, 1, HalfUp, math.MaxInt64}, {math.MinInt64, 1, 1, HalfUp, math.MinInt64},
	} {
		got, err := New(c.minor, CNY).MulRate(MustRate(c.num, c.den), c.mode)
		if err != nil || got.Minor() != c.want {
			t.Errorf("%d x %d/%d %v = %v, %v; want %d", c.minor, c.num, c.den, c.mode, got.Minor(), err, c.want)
		}
	}
	if _, err := New(math.MaxInt64, CNY).MulRate(MustRate(2, 1), HalfUp); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	if _, err := New(5, CNY).MulRate(MustRate(1, 2), Exact); !errors.Is(err, ErrSyntax) {
		t.Errorf("exact: %v", err)
	}
}

// TestPropMulRate checks MulRate against big.Rat arithmetic: the result is the exact product
// rounded by the named rule.
func TestPropMulRate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := genMinor().Draw(t, "minor")
		n := rapid.Int64Range(-1_000_000_000, 1_000_000_000).Draw(t, "num")
		d := rapid.Int64Range(1, 1_000_000_000).Draw(t, "den")
		mode := rapid.SampledFrom([]RoundingMode{HalfUp, HalfEven, Down}).Draw(t, "mode")
		got, err := New(x, CNY).MulRate(MustRate(n, d), mode)
		exact := new(big.Rat).Mul(big.NewRat(x, 1), big.NewRat(n, d))
		q := new(big.Int).Quo(exact.Num(), exact.Denom()) // truncated toward zero
		rem := new(big.Rat).Sub(exact, new(big.Rat).SetInt(q))
		rem.Abs(rem)
		half := big.NewRat(1, 2)
		up := false
		switch mode {
		case HalfUp:
			up = rem.Cmp(half) >= 0
		case HalfEven:
			up = rem.Cmp(half) > 0 || (rem.Cmp(half) == 0 && q.Bit(0) == 1)
		}
		if up {
			q.Add(q, big.NewInt(int64(exact.Sign())))
		}
		if !q.IsInt64() {
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("%d x %d/%d: want overflow, got %v %v", x, n, d, got, err)
			}
			return
		}
		if err != nil && !errors.Is(err, ErrOverflow) {
			t.Fatalf("%d x %d/%d: %v", x, n, d, err)
		}
		if err == nil && got.Minor() != q.Int64() {
			t.Fatalf("%d x %d/%d %v = %d; want %s", x, n, d, mode, got.Minor(), q)
		}
	})
}
