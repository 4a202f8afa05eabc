package verify

import (
	"errors"
	"fmt"
	"strconv"
)

// Amount is a money amount in minor units (fen for CNY: 1234 is 12.34). In an entry it is a JSON
// string in major units with exactly two decimals and no sign, exponent or leading zeros:
// "0.00", "12.30", "1234567.89". Entries carry only amounts from 0 to MaxAmount.
type Amount int64

// MaxAmount is the largest amount an entry may carry: 999,999,999,999,999.99. Sums of up to 92
// such amounts fit in an int64; Add reports overflow anyway.
const MaxAmount Amount = 99_999_999_999_999_999

// String returns the amount in major units with two decimals ("12.30"; "-0.05" for a negative
// amount, which entries never carry).
func (a Amount) String() string { return string(a.append(nil)) }

func (a Amount) append(dst []byte) []byte {
	u := uint64(a)
	if a < 0 {
		dst = append(dst, '-')
		u = uint64(-(a + 1)) + 1 // no overflow for math.MinInt64
	}
	dst = strconv.AppendUint(dst, u/100, 10)
	f := u % 100
	return append(dst, '.', byte('0'+f/10), byte('0'+f%10))
}

// Add returns a+b and whether the sum did not overflow int64.
func (a Amount) Add(b Amount) (Amount, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// Sub returns a-b and whether the difference did not overflow int64.
func (a Amount) Sub(b Amount) (Amount, bool) {
	d := a - b
	if (b > 0 && d > a) || (b < 0 && d < a) {
		return 0, false
	}
	return d, true
}

var errAmount = errors.New(`want a canonical amount: digits, a point and exactly two decimals, no sign or leading zeros, such as "0.00" or "1234.50"`)

// ParseAmount parses a canonical entry amount ("1234.50") into minor units. It rejects a sign,
// leading zeros ("01.00"), a missing or third decimal, exponents, spaces, and values above
// MaxAmount, with an error that quotes the input.
func ParseAmount(s string) (Amount, error) {
	n := len(s)
	if n < 4 || n > 21 || s[n-3] != '.' {
		return 0, fmt.Errorf("%q: %w", s, errAmount)
	}
	intPart, frac := s[:n-3], s[n-2:]
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, fmt.Errorf("%q: %w", s, errAmount)
	}
	var v uint64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q: %w", s, errAmount)
		}
		v = v*10 + uint64(c-'0')
		if v > uint64(MaxAmount/100) {
			return 0, fmt.Errorf("%q is more than the largest amount %s", s, MaxAmount)
		}
	}
	for i := 0; i < 2; i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q: %w", s, errAmount)
		}
		v = v*10 + uint64(c-'0')
	}
	if v > uint64(MaxAmount) {
		return 0, fmt.Errorf("%q is more than the largest amount %s", s, MaxAmount)
	}
	return Amount(v), nil
}
