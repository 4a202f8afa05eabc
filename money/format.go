package money

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RoundingMode says how a value between two minor units is rounded. The zero value is HalfUp.
type RoundingMode int

const (
	// HalfUp rounds to the nearest minor unit, halves away from zero (the commercial rule, and
	// Reclaim's default).
	HalfUp RoundingMode = iota
	// HalfEven rounds to the nearest minor unit, halves to the even neighbour (banker's rounding).
	HalfEven
	// Down truncates toward zero.
	Down
	// Exact refuses to round: a value with more decimals than the currency allows is an error.
	Exact
)

// String names the mode.
func (m RoundingMode) String() string {
	switch m {
	case HalfUp:
		return "HALF_UP"
	case HalfEven:
		return "HALF_EVEN"
	case Down:
		return "DOWN"
	case Exact:
		return "EXACT"
	}
	return "RoundingMode(" + strconv.Itoa(int(m)) + ")"
}

// Unit is a power-of-ten scale for amounts written in larger (or smaller) units than the major
// unit: a tape column headed 金额(万元) holds values in Wan.
type Unit int

// Units seen on Chinese and international tapes.
const (
	Major    Unit = 0  // yuan, dollars
	Thousand Unit = 3  // 千元
	Wan      Unit = 4  // 万元 (10,000)
	Yi       Unit = 8  // 亿元 (100,000,000)
	Cent     Unit = -2 // 分 / cents, for tapes that carry minor units
)

// Parse reads a decimal amount in major units: an optional sign, digits with optional comma
// thousand separators in groups of three, an optional fraction, an optional exponent
// (1.2E+05, as spreadsheets write), an optional leading currency symbol (¥ ￥ $), accounting
// parentheses for negatives, full-width digits, and an optional unit suffix 元, 万元/万 or
// 亿元/亿. More decimals than the currency allows are an error; use ParseUnit to round.
func Parse(s string, c Currency) (Amount, error) {
	return ParseUnit(s, c, Major, Exact)
}

// ParseUnit reads s like Parse, multiplies it by the unit, and rounds to the currency's minor
// unit with mode. A unit suffix in s (元, 万元/万, 亿元/亿) says the value's unit itself and
// replaces u: "1.5万元" in a column of 万元 is 1.5万元, "800元" there is 800 yuan. (A suffix that
// multiplied the column's unit read the first as 1.5亿元.)
func ParseUnit(s string, c Currency, u Unit, mode RoundingMode) (Amount, error) {
	if c == "" {
		c = DefaultCurrency
	}
	if a, ok := parseSimple(s, c, u); ok {
		return a, nil
	}
	d, err := parseDecimal(s)
	if err != nil {
		return Amount{}, err
	}
	if d.hasUnit {
		u = Unit(d.unit)
	}
	d.exp += int(u) + c.Digits()
	m, err := d.round(mode)
	if err != nil {
		return Amount{}, fmt.Errorf("%w: %q", err, s)
	}
	return Amount{minor: m, cur: c}, nil
}

// parseSimple is ParseUnit's fast path for the common form: an optional minus, at most 15 ASCII
// digits, an optional point and fraction, and no rounding needed once scaled. ok is false for
// anything else, which the general path then handles (or reports).
func parseSimple(s string, c Currency, u Unit) (Amount, bool) {
	if len(s) == 0 || len(s) > 17 {
		return Amount{}, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var v int64
	digits, frac := 0, -1
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			v = v*10 + int64(ch-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case ch == '.' && frac < 0:
			frac = 0
		default:
			return Amount{}, false
		}
	}
	if digits == 0 || digits > 15 {
		return Amount{}, false
	}
	if frac < 0 {
		frac = 0
	}
	shift := c.Digits() + int(u) - frac // power of ten to multiply by
	if shift < 0 {
		return Amount{}, false // rounding or an exactness check: the general path decides
	}
	for ; shift > 0; shift-- {
		if v > (1<<63-1)/10 {
			return Amount{}, false
		}
		v *= 10
	}
	if neg {
		v = -v
	}
	return Amount{minor: v, cur: c}, true
}

// decimal is digits × 10^exp, with a unit suffix read from the text.
type decimal struct {
	neg     bool
	digits  []byte // ASCII digits, no leading zeros
	exp     int
	unit    int  // the suffix's power of ten
	hasUnit bool // s ends in a unit suffix (元 included, whose unit is 0)
}

const maxExp = 400

func parseDecimal(s string) (decimal, error) {
	var d decimal
	bad := func() (decimal, error) { return decimal{}, fmt.Errorf("%w: %q", ErrSyntax, s) }
	t := strings.TrimSpace(s)
	if strings.ContainsFunc(t, func(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E }) {
		t = toHalfWidth(t)
	}
	if t == "" {
		return bad()
	}
	if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		d.neg = true
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	for _, suf := range []struct {
		s string
		u int
	}{{"亿元", 8}, {"万元", 4}, {"千元", 3}, {"亿", 8}, {"万", 4}, {"元", 0}} {
		if strings.HasSuffix(t, suf.s) {
			t = strings.TrimSpace(strings.TrimSuffix(t, suf.s))
			d.unit, d.hasUnit = suf.u, true
			break
		}
	}
	if t != "" && (t[0] == '-' || t[0] == '+') {
		if d.neg && t[0] == '-' {
			return bad()
		}
		d.neg = d.neg || t[0] == '-'
		t = t[1:]
	}
	for _, sym := range []string{"¥", "￥", "$"} {
		if strings.HasPrefix(t, sym) {
			t = strings.TrimSpace(t[len(sym):])
			break
		}
	}
	if t == "" {
		return bad()
	}
	mant, expPart, hasExp := strings.Cut(strings.ToLower(t), "e")
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return bad()
	}
	if hasDot && strings.ContainsRune(frac, '.') {
		return bad()
	}
	if strings.ContainsRune(intPart, ',') {
		groups := strings.Split(intPart, ",")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return bad()
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return bad()
			}
		}
		intPart = strings.Join(groups, "")
	}
	digits := make([]byte, 0, len(intPart)+len(frac))
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad()
			}
		}
		digits = append(digits, part...)
	}
	d.exp = -len(frac)
	if hasExp {
		e, err := strconv.Atoi(expPart)
		if err != nil || e > maxExp || e < -maxExp {
			return bad()
		}
		d.exp += e
	}
	i := 0
	for i < len(digits) && digits[i] == '0' {
		i++
	}
	d.digits = digits[i:]
	if len(d.digits) == 0 {
		d.neg = false
	}
	return d, nil
}

// round returns the value as an int64 count of units of 10^0, after scaling by exp.
func (d decimal) round(mode RoundingMode) (int64, error) {
	if len(d.digits) == 0 {
		return 0, nil
	}
	keep := len(d.digits) + d.exp // digits that stay left of the point
	if keep > 19 {
		return 0, ErrOverflow
	}
	var q uint64
	var rest []byte
	if keep <= 0 {
		rest = d.digits
	} else if keep >= len(d.digits) {
		for _, c := range d.digits {
			q = q*10 + uint64(c-'0')
		}
		for i := len(d.digits); i < keep; i++ {
			q *= 10
		}
	} else {
		for _, c := range d.digits[:keep] {
			q = q*10 + uint64(c-'0')
		}
		rest = d.digits[keep:]
	}
	if len(rest) > 0 {
		// rest is the fraction of one unit; keep <= 0 means leading zeros precede it.
		var cmpHalf int // compare fraction with one half
		if keep < 0 {
			cmpHalf = -1
		} else {
			switch {
			case rest[0] > '5':
				cmpHalf = 1
			case rest[0] < '5':
				cmpHalf = -1
			default:
				cmpHalf = 0
				for _, c := range rest[1:] {
					if c != '0' {
						cmpHalf = 1
						break
					}
				}
			}
		}
		nonzero := false
		for _, c := range rest {
			if c != '0' {
				nonzero = true
				break
			}
		}
		switch mode {
		case Exact:
			if nonzero {
				return 0, fmt.Errorf("%w: more decimals than the currency allows", ErrSyntax)
			}
		case Down:
		case HalfUp:
			if cmpHalf >= 0 {
				q++
			}
		case HalfEven:
			if cmpHalf > 0 || (cmpHalf == 0 && q%2 == 1) {
				q++
			}
		default:
			return 0, fmt.Errorf("money: unknown rounding mode %d", mode)
		}
	}
	if q > 1<<63-1 && !(d.neg && q == 1<<63) {
		return 0, ErrOverflow
	}
	v := int64(q) // 1<<63 wraps to math.MinInt64, which is already the negated value
	if d.neg && q != 1<<63 {
		v = -v
	}
	return v, nil
}

func toHalfWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			b.WriteRune(r - 0xFEE0)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// String formats the amount in major units with the currency's decimals and no grouping:
// "-1234.50". The absent amount formats as "".
func (a Amount) String() string {
	if a.IsAbsent() {
		return ""
	}
	return format(a.minor, a.cur.Digits(), false)
}

// Grouped formats the amount with comma thousand separators: "1,234,567.80".
func (a Amount) Grouped() string {
	if a.IsAbsent() {
		return ""
	}
	return format(a.minor, a.cur.Digits(), true)
}

// InUnit formats the amount in a larger unit (Wan for 万元) with the given number of decimals
// (negative counts as 0), rounded with mode (Exact counts as HalfUp): Yuan(123456).InUnit(Wan, 2,
// HalfUp) is "12.35". The absent amount formats as ""; a result too large for int64 units of the
// requested precision formats as "?".
func (a Amount) InUnit(u Unit, decimals int, mode RoundingMode) string {
	if a.IsAbsent() {
		return ""
	}
	if decimals < 0 {
		decimals = 0
	}
	d, err := parseDecimal(format(a.minor, a.cur.Digits(), false))
	if err != nil {
		return "?"
	}
	d.exp += decimals - int(u)
	if mode == Exact {
		mode = HalfUp
	}
	v, err := d.round(mode)
	if err != nil {
		return "?"
	}
	return format(v, decimals, false)
}

// Format implements fmt.Formatter: %v and %s print String, %d prints minor units, %+v adds the
// currency code ("1234.50 CNY").
func (a Amount) Format(f fmt.State, verb rune) {
	switch verb {
	case 'd':
		fmt.Fprint(f, a.minor)
	case 'v':
		if f.Flag('+') {
			fmt.Fprintf(f, "%s %s", a.String(), a.cur)
			return
		}
		fmt.Fprint(f, a.String())
	default:
		fmt.Fprint(f, a.String())
	}
}

func format(minor int64, digits int, group bool) string {
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-(minor + 1)) + 1
	}
	s := strconv.FormatUint(u, 10)
	for len(s) <= digits {
		s = "0" + s
	}
	intPart, frac := s[:len(s)-digits], s[len(s)-digits:]
	if group && len(intPart) > 3 {
		var b strings.Builder
		first := len(intPart) % 3
		if first > 0 {
			b.WriteString(intPart[:first])
		}
		for i := first; i < len(intPart); i += 3 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(intPart[i : i+3])
		}
		intPart = b.String()
	}
	out := intPart
	if digits > 0 {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// MarshalJSON writes the amount as a JSON string in major units ("1234.56"); the absent amount is
// null. The currency travels beside the amount, never inside it.
func (a Amount) MarshalJSON() ([]byte, error) {
	if a.IsAbsent() {
		return []byte("null"), nil
	}
	return []byte(`"` + a.String() + `"`), nil
}

// UnmarshalJSON reads a decimal string (or a bare JSON number) exactly, in the receiver's
// currency, or CNY when the receiver has none. null leaves the absent amount.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*a = Amount{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if !utf8.ValidString(s) {
		return ErrSyntax
	}
	c := a.cur
	if c == "" {
		c = DefaultCurrency
	}
	v, err := Parse(s, c)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
