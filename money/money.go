// Package money is Reclaim's value type for amounts of money.
//
// An Amount is an integer number of minor units (fen for CNY, cents for USD) tagged with its
// currency. Arithmetic is checked: an overflow or a currency mismatch is an error, never a silent
// wrap. Splitting an amount uses Allocate, a largest-remainder method whose parts always sum to the
// whole. Floats belong to model maths; they cross into money once, through FromFloat, with an
// explicit rounding mode.
//
// The zero Amount has no currency and means "absent"; use New or Zero to make a real zero.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Currency is an ISO 4217 alphabetic code such as "CNY".
type Currency string

// Common currencies. CNY is Reclaim's default.
const (
	CNY Currency = "CNY"
	USD Currency = "USD"
	EUR Currency = "EUR"
	HKD Currency = "HKD"
	JPY Currency = "JPY"
)

// DefaultCurrency is used where a tape or a JSON document does not name one.
const DefaultCurrency = CNY

// Digits returns the number of decimal digits of the currency's minor unit (2 unless ISO 4217 says
// otherwise). The currencies whose minor unit is not two decimal digits are listed here (a switch:
// every amount parsed asks, and a map look-up cost an import of 300,000 loans 40 ms).
func (c Currency) Digits() int {
	switch c {
	case JPY, "KRW", "VND":
		return 0
	case "BHD", "KWD", "OMR", "JOD", "TND":
		return 3
	}
	return 2
}

// Valid reports whether c looks like an ISO 4217 code: three upper-case ASCII letters.
func (c Currency) Valid() bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// Errors returned by this package; test with errors.Is.
var (
	ErrOverflow = errors.New("money: amount out of range")
	ErrCurrency = errors.New("money: currency mismatch")
	ErrSyntax   = errors.New("money: invalid amount")
	ErrNoParts  = errors.New("money: allocation needs positive weights")
)

// Amount is an amount of money in integer minor units of one currency.
type Amount struct {
	minor int64
	cur   Currency
}

// New returns minor units of currency c.
func New(minor int64, c Currency) Amount { return Amount{minor: minor, cur: c} }

// Zero returns a zero amount of currency c.
func Zero(c Currency) Amount { return Amount{cur: c} }

// Yuan returns whole yuan as a CNY amount. It is meant for constants and tests; it panics on
// overflow.
func Yuan(y int64) Amount {
	m, ok := mul64(y, 100)
	if !ok {
		panic(ErrOverflow)
	}
	return Amount{minor: m, cur: CNY}
}

// Minor returns the amount in minor units.
func (a Amount) Minor() int64 { return a.minor }

// Currency returns the amount's currency ("" for the zero Amount).
func (a Amount) Currency() Currency { return a.cur }

// IsAbsent reports whether a is the zero Amount, which carries no currency and stands for a
// missing value.
func (a Amount) IsAbsent() bool { return a.cur == "" && a.minor == 0 }

// IsZero reports whether the amount is zero (of any currency, or absent).
func (a Amount) IsZero() bool { return a.minor == 0 }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int {
	switch {
	case a.minor < 0:
		return -1
	case a.minor > 0:
		return 1
	}
	return 0
}

func (a Amount) same(b Amount) (Currency, error) {
	switch {
	case a.cur == b.cur:
		return a.cur, nil
	case a.IsAbsent():
		return b.cur, nil
	case b.IsAbsent():
		return a.cur, nil
	}
	return "", fmt.Errorf("%w: %s and %s", ErrCurrency, a.cur, b.cur)
}

// Add returns a+b. The currencies must match (an absent amount adopts the other's currency).
func (a Amount) Add(b Amount) (Amount, error) {
	c, err := a.same(b)
	if err != nil {
		return Amount{}, err
	}
	s := a.minor + b.minor
	if (s > a.minor) != (b.minor > 0) {
		return Amount{}, ErrOverflow
	}
	return Amount{minor: s, cur: c}, nil
}

// Sub returns a-b, checked like Add.
func (a Amount) Sub(b Amount) (Amount, error) {
	c, err := a.same(b)
	if err != nil {
		return Amount{}, err
	}
	d := a.minor - b.minor
	if (d < a.minor) != (b.minor > 0) {
		return Amount{}, ErrOverflow
	}
	return Amount{minor: d, cur: c}, nil
}

// Neg returns -a.
func (a Amount) Neg() (Amount, error) {
	if a.minor == math.MinInt64 {
		return Amount{}, ErrOverflow
	}
	return Amount{minor: -a.minor, cur: a.cur}, nil
}

// Mul returns a*n.
func (a Amount) Mul(n int64) (Amount, error) {
	m, ok := mul64(a.minor, n)
	if !ok {
		return Amount{}, ErrOverflow
	}
	return Amount{minor: m, cur: a.cur}, nil
}

// Cmp compares a and b: -1 if a < b, 0 if equal, +1 if a > b. Amounts of different currencies
// compare by minor units; callers that care check Currency first.
func (a Amount) Cmp(b Amount) int {
	switch {
	case a.minor < b.minor:
		return -1
	case a.minor > b.minor:
		return 1
	}
	return 0
}

// Equal reports whether a and b have the same value and currency (an absent amount equals only an
// absent amount).
func (a Amount) Equal(b Amount) bool { return a == b }

// Float returns the amount in major units as a float64, for model maths only. Amounts of up to 15
// significant digits come back unchanged through FromFloat with any rounding mode; larger ones may
// not, because neighbouring amounts then share a float64.
func (a Amount) Float() float64 {
	return float64(a.minor) / pow10f[a.cur.Digits()]
}

// Sum adds amounts of one currency, checked.
func Sum(as ...Amount) (Amount, error) {
	var t Amount
	for _, a := range as {
		var err error
		if t, err = t.Add(a); err != nil {
			return Amount{}, err
		}
	}
	return t, nil
}

// FromFloat converts major units held in a float64 (a model's output) to an Amount, rounding to the
// currency's minor unit with mode. NaN and infinities are errors.
func FromFloat(f float64, c Currency, mode RoundingMode) (Amount, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Amount{}, fmt.Errorf("%w: %v", ErrSyntax, f)
	}
	// Go through the shortest decimal representation that reads back as f, so that 0.285 rounds
	// as written, not as its binary approximation 0.28499999...
	return ParseUnit(strconv.FormatFloat(f, 'g', -1, 64), c, Major, mode)
}

// Allocate splits a into len(weights) parts proportional to the weights by the largest-remainder
// method: each part gets the floor of its exact share, and the minor units left over go one each to
// the parts with the largest remainders (ties to the earlier part). The parts always sum to a.
// Weights must be non-negative with a positive sum.
func (a Amount) Allocate(weights ...int64) ([]Amount, error) {
	if len(weights) == 0 {
		return nil, ErrNoParts
	}
	var total uint64
	for _, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("%w: negative weight %d", ErrNoParts, w)
		}
		var carry uint64
		total, carry = bits.Add64(total, uint64(w), 0)
		if carry != 0 || total > math.MaxInt64 {
			return nil, ErrOverflow
		}
	}
	if total == 0 {
		return nil, ErrNoParts
	}
	neg := a.minor < 0
	abs := uint64(a.minor)
	if neg {
		abs = uint64(-(a.minor + 1)) + 1
	}
	parts := make([]Amount, len(weights))
	rems := make([]uint64, len(weights))
	var given uint64
	for i, w := range weights {
		hi, lo := bits.Mul64(abs, uint64(w))
		q, r := bits.Div64(hi, lo, total) // hi < total because w <= total
		rems[i] = r
		parts[i] = Amount{minor: int64(q), cur: a.cur}
		given += q
	}
	left := abs - given // < len(weights)
	for left > 0 {
		best := -1
		for i := range rems {
			if weights[i] > 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		parts[best].minor++
		rems[best] = 0
		left--
	}
	if neg {
		for i := range parts {
			parts[i].minor = -parts[i].minor
		}
	}
	return parts, nil
}

// Split divides a into n parts that differ by at most one minor unit and sum to a.
func (a Amount) Split(n int) ([]Amount, error) {
	if n <= 0 {
		return nil, ErrNoParts
	}
	w := make([]int64, n)
	for i := range w {
		w[i] = 1
	}
	return a.Allocate(w...)
}

func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

var pow10f = [...]float64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8}
