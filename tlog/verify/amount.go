package verify

import (
	"errors"
	"fmt"
	"strconv"
)

// Amount is a money amount in minor units (fen for CNY: 1234 is 12.34 yuan). In an entry it is a
// JSON string of the integer number of minor units, as ../shared/design/ledger.md specifies:
// decimal digits, no sign, exponent, point or leading zeros: "0", "1230", "123456789".
// Entries carry only amounts from 0 to MaxAmount.
type Amount int64

// MaxAmount is the largest amount an entry may carry (17 digits: 999,999,999,999,999.99 yuan).
// Sums of up to 92 such amounts fit in an int64; Add reports overflow anyway.
const MaxAmount Amount = 99_999_999_999_999_999

// String returns the amount as an entry carries it: the integer number of minor units ("1230";
// "-5" for a negative amount, which entries never carry).
func (a Amount) String() string { return string(a.append(nil)) }

// Major formats the amount in major units with two decimals ("12.30"), for people.
func (a Amount) Major() string {
	u := uint64(a)
	var dst []byte
	if a < 0 {
		dst = append(dst, '-')
		u = uint64(-(a + 1)) + 1
	}
	dst = strconv.AppendUint(dst, u/100, 10)
	f := u % 100
	return string(append(dst, '.', byte('0'+f/10), byte('0'+f%10)))
}

func (a Amount) append(dst []byte) []byte {
	if a < 0 {
		return strconv.AppendUint(append(dst, '-'), uint64(-(a+1))+1, 10) // no overflow for math.MinInt64
	}
	return strconv.AppendUint(dst, uint64(a), 10)
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

var errAmount = errors.New(`want a canonical amount in minor units: decimal digits, no sign, point, exponent or leading zeros, such as "0" or "123450"`)

// ParseAmount parses a canonical entry amount (minor units, "123450") . It rejects a sign,
// leading zeros ("0100"), a decimal point, exponents, spaces and values above MaxAmount, with an
// error that quotes the input.
func ParseAmount(s string) (Amount, error) {
	n := len(s)
	if n == 0 || n > 17 || n > 1 && s[0] == '0' {
		if n > 17 && n < 64 && allDigits(s) && s[0] != '0' {
			return 0, fmt.Errorf("%q is more than the largest amount %s", s, MaxAmount)
		}
		return 0, fmt.Errorf("%q: %w", s, errAmount)
	}
	var v uint64
	for i := 0; i < n; i++ {
		c := s[i]
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

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
