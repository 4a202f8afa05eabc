package date

import "fmt"

// ParseStrict reads a date in the one form an API accepts: exactly YYYY-MM-DD in ASCII digits
// (ten bytes, no spaces, no time of day, no other separator), naming a day that exists. Parse
// stays lenient for tapes, which are not API calls. Anything else is ErrSyntax; a well-formed
// day that does not exist (2023-02-29) is ErrInvalid.
func ParseStrict(s string) (Date, error) {
	if d, ok := parseISO(s); ok {
		return d, nil
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' && isDigits(s[:4]) && isDigits(s[5:7]) && isDigits(s[8:]) {
		return Date{}, fmt.Errorf("%w: %q is not a day of the calendar", ErrInvalid, s)
	}
	return Date{}, fmt.Errorf("%w: %q is not a date of the form YYYY-MM-DD", ErrSyntax, s)
}

// ParseStrictWithin reads s like ParseStrict and requires lo <= d <= hi (ErrRange otherwise).
func ParseStrictWithin(s string, lo, hi Date) (Date, error) {
	d, err := ParseStrict(s)
	if err != nil {
		return d, err
	}
	if d.Before(lo) || d.After(hi) {
		return Date{}, fmt.Errorf("%w: %s is not between %s and %s", ErrRange, d, lo, hi)
	}
	return d, nil
}
