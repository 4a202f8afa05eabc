package money

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Rate is an exact rational number num/den (den > 0), kept in lowest terms: an interest rate, a
// fee rate, a share or a day-count fraction. 3% is 3/100; ACT/365F over 92 days is 92/365. The
// zero Rate is 0. Rates multiply amounts exactly through Amount.MulRate, which rounds once, with
// the mode the caller names.
type Rate struct {
	num, den int64
}

// ErrRate reports an invalid or unrepresentable rate.
var ErrRate = fmt.Errorf("money: invalid rate")

// NewRate returns num/den in lowest terms. den must not be zero; a negative den flips the sign.
func NewRate(num, den int64) (Rate, error) {
	if den == 0 {
		return Rate{}, fmt.Errorf("%w: zero denominator", ErrRate)
	}
	if den < 0 {
		if num == math.MinInt64 || den == math.MinInt64 {
			return Rate{}, ErrOverflow
		}
		num, den = -num, -den
	}
	return reduce(num, den), nil
}

// MustRate is NewRate for constants; it panics on a zero denominator.
func MustRate(num, den int64) Rate {
	r, err := NewRate(num, den)
	if err != nil {
		panic(err)
	}
	return r
}

func reduce(num, den int64) Rate {
	if num == 0 {
		return Rate{0, 1}
	}
	g := gcd(abs64(num), uint64(den))
	return Rate{num / int64(g), den / int64(g)}
}

func abs64(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1
	}
	return uint64(x)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ParseRate reads a rate written as a decimal ("0.03", "-0.5"), a percentage ("3%", "3.25 %"),
// or a fraction of two integers ("92/365"). At most 18 significant decimal digits; no exponent.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	bad := func() (Rate, error) { return Rate{}, fmt.Errorf("%w: %q", ErrRate, s) }
	if n, d, ok := strings.Cut(t, "/"); ok {
		a, err1 := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		b, err2 := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		if err1 != nil || err2 != nil || b == 0 {
			return bad()
		}
		return NewRate(a, b)
	}
	scale := int64(1)
	if strings.HasSuffix(t, "%") {
		t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
		scale = 100
	}
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	ip, fp, _ := strings.Cut(t, ".")
	if ip == "" && fp == "" || len(ip)+len(fp) > 18 {
		return bad()
	}
	var num int64
	for _, part := range []string{ip, fp} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad()
			}
			num = num*10 + int64(part[i]-'0')
		}
	}
	den := int64(1)
	for range len(fp) {
		den *= 10
	}
	hi, lo := bits.Mul64(uint64(den), uint64(scale))
	if hi != 0 || lo > math.MaxInt64 {
		return bad()
	}
	if neg {
		num = -num
	}
	return NewRate(num, int64(lo))
}

// Num returns the numerator (the sign is carried here).
func (r Rate) Num() int64 { return r.num }

// Den returns the denominator (at least 1; the zero Rate reports 1).
func (r Rate) Den() int64 {
	if r.den == 0 {
		return 1
	}
	return r.den
}

// IsZero reports whether r is 0.
func (r Rate) IsZero() bool { return r.num == 0 }

// Sign returns -1, 0 or +1.
func (r Rate) Sign() int {
	switch {
	case r.num < 0:
		return -1
	case r.num > 0:
		return 1
	}
	return 0
}

// Rat returns r as a big.Rat.
func (r Rate) Rat() *big.Rat { return big.NewRat(r.num, r.Den()) }

// Float returns r as a float64, for model maths and display only.
func (r Rate) Float() float64 { return float64(r.num) / float64(r.Den()) }

// Cmp compares r and s exactly: -1, 0 or +1.
func (r Rate) Cmp(s Rate) int { return r.Rat().Cmp(s.Rat()) }

// Mul returns r*s in lowest terms, or ErrOverflow when the result's terms do not fit in int64.
func (r Rate) Mul(s Rate) (Rate, error) {
	z := new(big.Rat).Mul(r.Rat(), s.Rat())
	return fromRat(z)
}

// Add returns r+s in lowest terms, or ErrOverflow.
func (r Rate) Add(s Rate) (Rate, error) {
	z := new(big.Rat).Add(r.Rat(), s.Rat())
	return fromRat(z)
}

// Sub returns r-s in lowest terms, or ErrOverflow.
func (r Rate) Sub(s Rate) (Rate, error) {
	z := new(big.Rat).Sub(r.Rat(), s.Rat())
	return fromRat(z)
}

func fromRat(z *big.Rat) (Rate, error) {
	if !z.Num().IsInt64() || !z.Denom().IsInt64() {
		return Rate{}, ErrOverflow
	}
	return Rate{z.Num().Int64(), z.Denom().Int64()}, nil
}

// String writes r as a fraction "num/den", or as an integer when den is 1.
func (r Rate) String() string {
	if r.Den() == 1 {
		return strconv.FormatInt(r.num, 10)
	}
	return strconv.FormatInt(r.num, 10) + "/" + strconv.FormatInt(r.den, 10)
}

// Percent writes r as a percentage with the given number of decimals, rounded half up (for
// display): MustRate(1, 3).Percent(2) is "33.33%".
func (r Rate) Percent(decimals int) string {
	p := new(big.Rat).Mul(r.Rat(), big.NewRat(100, 1))
	return p.FloatString(decimals) + "%"
}

// MulRate returns a × r rounded once to the currency's minor unit with mode (HalfUp rounds halves
// away from zero; Exact refuses a result that needs rounding, with ErrSyntax). The product is
// computed exactly in 128-bit integer arithmetic, never in floating point. A result beyond the
// int64 range of minor units is ErrOverflow.
func (a Amount) MulRate(r Rate, mode RoundingMode) (Amount, error) {
	m, err := mulDiv(a.minor, r.num, r.Den(), mode)
	if err != nil {
		return Amount{}, err
	}
	return Amount{minor: m, cur: a.cur}, nil
}

// MulDiv returns a × num / den rounded once with mode, exactly (the building block of MulRate for
// callers that hold a ratio of two integers, such as a pro-rata share). den must be positive.
func (a Amount) MulDiv(num, den int64, mode RoundingMode) (Amount, error) {
	if den <= 0 {
		return Amount{}, fmt.Errorf("%w: denominator %d", ErrRate, den)
	}
	m, err := mulDiv(a.minor, num, den, mode)
	if err != nil {
		return Amount{}, err
	}
	return Amount{minor: m, cur: a.cur}, nil
}

// mulDiv computes x*n/d (d > 0) rounded with mode.
func mulDiv(x, n, d int64, mode RoundingMode) (int64, error) {
	neg := (x < 0) != (n < 0)
	ux, un, ud := abs64(x), abs64(n), uint64(d)
	hi, lo := bits.Mul64(ux, un)
	if hi >= ud {
		return 0, ErrOverflow
	}
	q, rem := bits.Div64(hi, lo, ud)
	if rem != 0 {
		switch mode {
		case HalfUp:
			if rem >= ud-rem { // 2·rem >= d without overflow
				q++
			}
		case HalfEven:
			if rem > ud-rem || (rem == ud-rem && q%2 == 1) {
				q++
			}
		case Down:
		case Exact:
			return 0, fmt.Errorf("%w: the product needs rounding", ErrSyntax)
		default:
			return 0, fmt.Errorf("money: unknown rounding mode %d", mode)
		}
	}
	if q == 0 {
		return 0, nil
	}
	if neg {
		if q > 1<<63 {
			return 0, ErrOverflow
		}
		return int64(-q), nil // 1<<63 wraps to MinInt64
	}
	if q > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(q), nil
}
