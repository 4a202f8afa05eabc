package money

import "fmt"

// ParseStrict reads an amount in the one form an API accepts: an optional minus sign, the
// integer part in ASCII digits without leading zeros ("0" alone is fine), and an optional point
// followed by one to c.Digits() digits (none for a currency without minor units, such as JPY).
// Nothing else: no plus sign, no spaces, no thousands separators, no exponent, no currency
// symbol, no unit suffix (万), no full-width digits, no bare ".5" or "5.", and no minus on a
// zero. In regular-expression terms, for CNY: ^-?(0|[1-9][0-9]*)(\.[0-9]{1,2})?$. An amount
// beyond the int64 range of minor units is ErrOverflow; any other refusal is ErrSyntax. The
// lenient Parse stays for tapes, which are not API calls.
func ParseStrict(s string, c Currency) (Amount, error) {
	if c == "" {
		c = DefaultCurrency
	}
	bad := func() (Amount, error) { return Amount{}, fmt.Errorf("%w: %q is not of the form -123.45", ErrSyntax, s) }
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[start:i]
	if intPart == "" || (len(intPart) > 1 && intPart[0] == '0') {
		return bad()
	}
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
		if frac == "" || len(frac) > c.Digits() {
			return bad()
		}
	}
	if i != len(s) {
		return bad()
	}
	var v uint64
	const limit = 1 << 63 // |MinInt64|; MaxInt64 is limit-1
	for _, part := range []string{intPart, frac + zeros[:c.Digits()-len(frac)]} {
		for j := 0; j < len(part); j++ {
			d := uint64(part[j] - '0')
			if v > (limit-d)/10 {
				return Amount{}, fmt.Errorf("%w: %q", ErrOverflow, s)
			}
			v = v*10 + d
		}
	}
	switch {
	case neg && v == 0:
		return bad() // a zero has no sign
	case neg:
		return Amount{minor: int64(-v), cur: c}, nil // -(1<<63) wraps to MinInt64, as it should
	case v >= limit:
		return Amount{}, fmt.Errorf("%w: %q", ErrOverflow, s)
	}
	return Amount{minor: int64(v), cur: c}, nil
}

// zeros pads a fraction to the currency's minor digits (at most 3, see Digits).
const zeros = "000000"
