package money

import (
	"math"
	"math/big"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// genMinor draws int64 minor units, biased towards small values and the int64 limits.
func genMinor() *rapid.Generator[int64] {
	return rapid.OneOf(
		rapid.Int64(),
		rapid.Int64Range(-1_000_000_00, 1_000_000_00),
		rapid.Int64Range(math.MaxInt64-1000, math.MaxInt64),
		rapid.Int64Range(math.MinInt64, math.MinInt64+1000),
	)
}

func genCurrency() *rapid.Generator[Currency] {
	return rapid.SampledFrom([]Currency{CNY, USD, JPY, "KWD"})
}

func TestPropAllocate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := New(genMinor().Draw(t, "minor"), CNY)
		maxW := rapid.SampledFrom([]int64{3, 1000, math.MaxInt64 / 64}).Draw(t, "maxW")
		weights := rapid.SliceOfN(rapid.Int64Range(0, maxW), 1, 40).Draw(t, "weights")
		var total int64
		for _, w := range weights {
			total += w
		}
		if total == 0 {
			weights[0] = 1
			total = 1
		}
		parts, err := a.Allocate(weights...)
		if err != nil {
			t.Fatalf("Allocate: %v", err)
		}
		if len(parts) != len(weights) {
			t.Fatalf("%d parts for %d weights", len(parts), len(weights))
		}
		sum := new(big.Int)
		bt := big.NewInt(total)
		for i, p := range parts {
			if p.Currency() != CNY {
				t.Fatalf("part %d currency %q", i, p.Currency())
			}
			sum.Add(sum, big.NewInt(p.Minor()))
			// |part*total - a*w| < total: the part is within one minor unit of its exact share.
			exact := new(big.Int).Mul(big.NewInt(a.Minor()), big.NewInt(weights[i]))
			diff := new(big.Int).Mul(big.NewInt(p.Minor()), bt)
			diff.Sub(diff, exact)
			if diff.CmpAbs(bt) >= 0 {
				t.Fatalf("part %d = %d is more than one unit from %d*%d/%d", i, p.Minor(), a.Minor(), weights[i], total)
			}
			if weights[i] == 0 && p.Minor() != 0 {
				t.Fatalf("zero weight got %d", p.Minor())
			}
		}
		if sum.Cmp(big.NewInt(a.Minor())) != 0 {
			t.Fatalf("parts sum to %v, want %d", sum, a.Minor())
		}
	})
}

func TestPropSplit(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := New(genMinor().Draw(t, "minor"), USD)
		n := rapid.IntRange(1, 50).Draw(t, "n")
		parts, err := a.Split(n)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := parts[0].Minor(), parts[0].Minor()
		var s big.Int
		for _, p := range parts {
			lo, hi = min(lo, p.Minor()), max(hi, p.Minor())
			s.Add(&s, big.NewInt(p.Minor()))
		}
		if hi-lo > 1 || s.Cmp(big.NewInt(a.Minor())) != 0 {
			t.Fatalf("Split(%d) of %d = %v", n, a.Minor(), parts)
		}
	})
}

func TestPropStringRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCurrency().Draw(t, "cur")
		a := New(genMinor().Draw(t, "minor"), c)
		texts := []string{a.String(), a.Grouped()}
		if a.Minor() < 0 && a.Minor() != math.MinInt64 {
			texts = append(texts, "("+New(-a.Minor(), c).Grouped()+")") // accounting negative
		}
		for _, s := range texts {
			b, err := Parse(s, c)
			if err != nil || b != a {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", s, b, err, a)
			}
		}
		b, err := ParseUnit(a.InUnit(Wan, c.Digits()+4, Exact), c, Wan, Exact)
		if a.Minor() > -1e14 && a.Minor() < 1e14 && (err != nil || b != a) {
			t.Fatalf("InUnit(Wan) round trip of %+v = %+v, %v", a, b, err)
		}
	})
}

func TestPropArithmetic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x, y := genMinor().Draw(t, "x"), genMinor().Draw(t, "y")
		a, b := New(x, CNY), New(y, CNY)
		exactSum := new(big.Int).Add(big.NewInt(x), big.NewInt(y))
		s, err := a.Add(b)
		if exactSum.IsInt64() != (err == nil) || (err == nil && s.Minor() != exactSum.Int64()) {
			t.Fatalf("%d + %d = %d, %v", x, y, s.Minor(), err)
		}
		exactDiff := new(big.Int).Sub(big.NewInt(x), big.NewInt(y))
		d, err := a.Sub(b)
		if exactDiff.IsInt64() != (err == nil) || (err == nil && d.Minor() != exactDiff.Int64()) {
			t.Fatalf("%d - %d = %d, %v", x, y, d.Minor(), err)
		}
		n := rapid.OneOf(rapid.Int64(), rapid.Int64Range(-1000, 1000)).Draw(t, "n")
		exactProd := new(big.Int).Mul(big.NewInt(x), big.NewInt(n))
		p, err := a.Mul(n)
		if exactProd.IsInt64() != (err == nil) || (err == nil && p.Minor() != exactProd.Int64()) {
			t.Fatalf("%d * %d = %d, %v", x, n, p.Minor(), err)
		}
	})
}

// TestPropFromFloat checks that a float that came from a short decimal converts like the decimal.
func TestPropFromFloat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Up to 15 significant digits survive the trip through float64 exactly.
		mant := rapid.Int64Range(-999_999_999_999_999, 999_999_999_999_999).Draw(t, "mant")
		scale := rapid.IntRange(0, 8).Draw(t, "scale")
		s := strconv.FormatInt(mant, 10)
		if scale > 0 {
			neg := mant < 0
			if neg {
				s = s[1:]
			}
			for len(s) <= scale {
				s = "0" + s
			}
			s = s[:len(s)-scale] + "." + s[len(s)-scale:]
			if neg {
				s = "-" + s
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		mode := rapid.SampledFrom([]RoundingMode{HalfUp, HalfEven, Down, Exact}).Draw(t, "mode")
		want, werr := ParseUnit(s, CNY, Major, mode)
		got, gerr := FromFloat(f, CNY, mode)
		if (werr == nil) != (gerr == nil) || got != want {
			t.Fatalf("FromFloat(%v) = %v, %v; ParseUnit(%q) = %v, %v", f, got, gerr, s, want, werr)
		}
		// And an amount's own Float converts back to it, up to 15 significant digits (beyond that
		// neighbouring amounts share a float64).
		a := New(rapid.Int64Range(-999_999_999_999_999, 999_999_999_999_999).Draw(t, "minor"), CNY)
		if b, err := FromFloat(a.Float(), CNY, HalfUp); err != nil || b != a {
			t.Fatalf("FromFloat(%v.Float()) = %v, %v", a, b, err)
		}
	})
}

// TestPropRoundingModes checks the modes against each other on random decimals with one extra
// digit: Down <= HalfEven <= HalfUp in magnitude and all within one unit.
func TestPropRoundingModes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tenths := rapid.Int64Range(-1e15, 1e15).Draw(t, "tenths") // value in tenths of a fen
		s := strconv.FormatInt(tenths, 10)
		neg := tenths < 0
		if neg {
			s = s[1:]
		}
		for len(s) < 4 {
			s = "0" + s
		}
		s = s[:len(s)-3] + "." + s[len(s)-3:]
		if neg {
			s = "-" + s
		}
		abs := tenths
		if neg {
			abs = -abs
		}
		q, r := abs/10, abs%10
		wantDown, wantUp, wantEven := q, q, q
		if r >= 5 {
			wantUp++
		}
		if r > 5 || (r == 5 && q%2 == 1) {
			wantEven++
		}
		sign := int64(1)
		if neg {
			sign = -1
		}
		for mode, want := range map[RoundingMode]int64{Down: wantDown, HalfUp: wantUp, HalfEven: wantEven} {
			got, err := ParseUnit(s, CNY, Major, mode)
			if err != nil || got.Minor() != sign*want {
				t.Fatalf("ParseUnit(%q, %v) = %d, %v; want %d", s, mode, got.Minor(), err, sign*want)
			}
		}
		_, err := ParseUnit(s, CNY, Major, Exact)
		if (r != 0) != (err != nil) {
			t.Fatalf("Exact(%q) err = %v", s, err)
		}
	})
}
