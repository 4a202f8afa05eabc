// Package cnid validates, generates and masks Chinese resident identity card numbers
// (GB 11643-1999 citizen identification numbers) and mainland mobile phone numbers.
//
// An 18-character ID is a 6-digit administrative division code (GB/T 2260, where the person's
// household was registered when the number was issued), an 8-digit birth date YYYYMMDD, a 3-digit
// sequence number whose last digit is odd for men and even for women, and a check character
// computed with ISO 7064 MOD 11-2 over the first 17 digits ('0'-'9' or 'X' for ten).
//
// This package checks the structure only; whether the region code exists is for package region
// (the code in an ID may be a division that has since been abolished). Nothing here logs, stores
// or prints a number; callers must treat IDs and phone numbers as personal data.
package cnid

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"reclaim/date"
)

// Errors returned by this package, wrapped with detail; test with errors.Is.
var (
	// ErrLength means the ID does not have 18 characters.
	ErrLength = errors.New("cnid: wrong length")
	// ErrFormat means a character is not allowed where it stands (digits, and X last).
	ErrFormat = errors.New("cnid: invalid character")
	// ErrBirthDate means the embedded birth date does not exist, is before 1800, or is after the
	// as-of date.
	ErrBirthDate = errors.New("cnid: invalid birth date")
	// ErrChecksum means the check character does not match the first 17 digits.
	ErrChecksum = errors.New("cnid: check digit mismatch")
	// ErrMobile means a string is not a mainland mobile phone number.
	ErrMobile = errors.New("cnid: invalid mobile number")
)

// Length is the number of characters of a second-generation ID.
const Length = 18

// minBirthYear is the earliest birth year accepted: nobody alive was born before it.
const minBirthYear = 1800

// weights[i] is 2^(17-i) mod 11, the ISO 7064 MOD 11-2 weight of the ID's (i+1)th character.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// Info is what an ID says about its holder.
type Info struct {
	// ID is the normalised 18-character ID (surrounding spaces removed, 'x' upper-cased).
	ID string
	// Region is the 6-digit GB/T 2260 code of the issuing household registration.
	Region string
	// Birth is the date of birth.
	Birth date.Date
	// Sequence is the 3-digit sequence number (digits 15 to 17), 0 to 999.
	Sequence int
	// Male is true when the sequence number is odd.
	Male bool
}

// CheckDigit returns the ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') for the first 17
// digits of an ID. first17 must be exactly 17 ASCII digits, else the error wraps ErrLength or
// ErrFormat.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: need 17 digits, got %d characters", ErrLength, utf8.RuneCountInString(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: character %d is not a digit", ErrFormat, i+1)
		}
		sum += int(c-'0') * weights[i]
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return 'X', nil
	}
	return byte('0' + v), nil
}

// Validate checks an 18-character ID: length, characters, birth date (a real day, from 1800 on)
// and check character. Surrounding spaces are ignored and a lower-case 'x' is accepted; Info.ID is
// the normalised form. The error wraps ErrLength, ErrFormat, ErrBirthDate or ErrChecksum and
// says which character or field is wrong, without echoing the ID. A birth date in the future is
// not detected; use ValidateAsOf for that.
func Validate(id string) (Info, error) {
	return validate(id, date.Date{})
}

// ValidateAsOf is Validate that also rejects, with ErrBirthDate, a birth date after asOf. The zero
// asOf disables that check.
func ValidateAsOf(id string, asOf date.Date) (Info, error) {
	return validate(id, asOf)
}

func validate(id string, asOf date.Date) (Info, error) {
	s := strings.TrimSpace(id)
	if n := utf8.RuneCountInString(s); n != Length || len(s) != Length {
		if n == Length {
			return Info{}, fmt.Errorf("%w: non-ASCII character (full-width digit?)", ErrFormat)
		}
		if n == 15 {
			return Info{}, fmt.Errorf("%w: %d characters, want 18 (a 15-digit first-generation ID? see Upgrade15)", ErrLength, n)
		}
		return Info{}, fmt.Errorf("%w: %d characters, want 18", ErrLength, n)
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return Info{}, fmt.Errorf("%w: character %d is not a digit", ErrFormat, i+1)
		}
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
		s = s[:17] + "X"
	}
	if (last < '0' || last > '9') && last != 'X' {
		return Info{}, fmt.Errorf("%w: character 18 must be a digit or X", ErrFormat)
	}
	birth, err := birthDate(s[6:14])
	if err != nil {
		return Info{}, err
	}
	if !asOf.IsZero() && birth.After(asOf) {
		return Info{}, fmt.Errorf("%w: birth date is after %s", ErrBirthDate, asOf)
	}
	want, _ := CheckDigit(s[:17])
	if want != last {
		return Info{}, fmt.Errorf("%w: the check character does not match the first 17 digits", ErrChecksum)
	}
	seq := int(s[14]-'0')*100 + int(s[15]-'0')*10 + int(s[16]-'0')
	return Info{ID: s, Region: s[:6], Birth: birth, Sequence: seq, Male: seq%2 == 1}, nil
}

// birthDate reads YYYYMMDD (8 ASCII digits).
func birthDate(s string) (date.Date, error) {
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := int(s[4]-'0')*10 + int(s[5]-'0')
	d := int(s[6]-'0')*10 + int(s[7]-'0')
	if y < minBirthYear {
		return date.Date{}, fmt.Errorf("%w: year %d is before %d", ErrBirthDate, y, minBirthYear)
	}
	b, err := date.New(y, time.Month(m), d)
	if err != nil {
		return date.Date{}, fmt.Errorf("%w: characters 7-14 are not a real date", ErrBirthDate)
	}
	return b, nil
}

// Upgrade15 converts a 15-digit first-generation ID (YYMMDD birth date, born 1900-1999) to the
// 18-character form by inserting "19" before the year and appending the check character. The
// result is validated; errors are as for Validate.
func Upgrade15(id string) (string, error) {
	s := strings.TrimSpace(id)
	if len(s) != 15 || utf8.RuneCountInString(s) != 15 {
		return "", fmt.Errorf("%w: %d characters, want 15", ErrLength, utf8.RuneCountInString(s))
	}
	first17 := s[:6] + "19" + s[6:]
	c, err := CheckDigit(first17)
	if err != nil {
		return "", err
	}
	out := first17 + string(c)
	if _, err := Validate(out); err != nil {
		return "", err
	}
	return out, nil
}

// Generate returns a valid 18-character ID for a person registered in region (6 ASCII digits),
// born on birth, with sequence number seq (taken modulo 1000, negative values made positive) whose
// parity is then adjusted to the sex: the last sequence digit is odd for men and even for women,
// by flipping its lowest bit if needed. It panics when region is not 6 digits or birth is the zero
// Date or before 1800; it is meant for synthetic data and tests.
func Generate(region string, birth date.Date, seq int, male bool) string {
	if len(region) != 6 || strings.ContainsFunc(region, func(r rune) bool { return r < '0' || r > '9' }) {
		panic(fmt.Sprintf("cnid.Generate: region %q is not 6 digits", region))
	}
	if birth.IsZero() || birth.Year() < minBirthYear {
		panic(fmt.Sprintf("cnid.Generate: birth date %v out of range", birth))
	}
	seq %= 1000
	if seq < 0 {
		seq += 1000
	}
	if (seq%2 == 1) != male {
		seq ^= 1
	}
	y, m, d := birth.Date()
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", region, y, int(m), d, seq)
	c, err := CheckDigit(first17)
	if err != nil {
		panic(err) // unreachable: first17 is 17 digits by construction
	}
	return first17 + string(c)
}

// MaskKeep is the number of leading characters of an ID that Mask shows: the province and
// prefecture (GB/T 2260 digits 1-4). Nothing else of the ID is shown: not the county, not a digit
// of the birth date or the sequence number, not the check character.
const MaskKeep = 4

// Mask hides an ID for display to anyone who may not read personal data: the first MaskKeep
// characters (province and prefecture) are kept and every other character becomes '*'
// ("4405**************"). A string of fewer than 11 characters is masked entirely, so a short or
// malformed value never leaks.
//
// The mask is chosen so that, together with the borrower's birth year and the county code that
// lists show in clear, at least MinConsistentIDs valid IDs remain consistent with what is shown
// (docs/security-pii.md has the arithmetic; ConsistentIDs counts them). The earlier mask (first 6
// and last 4 characters) hid exactly the birth date, which lists showed beside it.
func Mask(id string) string {
	return maskKeep(strings.TrimSpace(id), MaskKeep, 0, 11)
}

// MaskPhone hides the middle of a phone number: a number that ValidMobile accepts is normalised and
// shown as its first 3 and last 4 digits ("138****5678"); any other string of 8 or more
// characters keeps its first 3 and last 4 characters; shorter strings are masked entirely.
func MaskPhone(p string) string {
	if n, err := NormalizeMobile(p); err == nil {
		return maskKeep(n, 3, 4, 8)
	}
	return maskKeep(strings.TrimSpace(p), 3, 4, 8)
}

// maskKeep keeps head and tail runes of s and stars the rest; strings shorter than minLen runes
// are all stars.
func maskKeep(s string, head, tail, minLen int) string {
	if ascii(s) {
		if len(s) < minLen {
			return strings.Repeat("*", len(s))
		}
		if head >= len(s)-tail {
			return s
		}
		var b strings.Builder // one allocation
		b.Grow(len(s))
		b.WriteString(s[:head])
		for i := head; i < len(s)-tail; i++ {
			b.WriteByte('*')
		}
		b.WriteString(s[len(s)-tail:])
		return b.String()
	}
	r := []rune(s)
	if len(r) < minLen {
		return strings.Repeat("*", len(r))
	}
	for i := head; i < len(r)-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// NormalizeMobile returns the 11-digit form of a mainland mobile number. It removes spaces and
// hyphens anywhere and a leading country code "+86", "0086" or "86" (the last only when 13 digits
// remain), then requires 11 ASCII digits starting with 1 and a second digit from 3 to 9 (no
// mainland mobile prefix starts 10, 11 or 12). Errors wrap ErrMobile.
func NormalizeMobile(p string) (string, error) {
	if plainMobile(p) {
		return p, nil // already normal: the usual case, asked for each loan's phone three times
	}
	return normalizeMobile(p)
}

// normalizeMobile is NormalizeMobile for any input.
func normalizeMobile(p string) (string, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, p)
	switch {
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	case strings.HasPrefix(s, "86") && len(s) == 13:
		s = s[2:]
	}
	if n := utf8.RuneCountInString(s); n != 11 {
		return "", fmt.Errorf("%w: %d characters, want 11 digits", ErrMobile, n)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", fmt.Errorf("%w: character %d is not a digit", ErrMobile, i+1)
		}
	}
	if s[0] != '1' || s[1] < '3' {
		return "", fmt.Errorf("%w: mobile numbers start with 13 to 19", ErrMobile)
	}
	return s, nil
}

// plainMobile reports whether p is 11 ASCII digits starting 13 to 19, which NormalizeMobile returns
// as it is.
func plainMobile(p string) bool {
	if len(p) != 11 || p[0] != '1' || p[1] < '3' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// ValidMobile reports, as a nil error, whether p is a mainland mobile number in any form that
// NormalizeMobile accepts; otherwise the error wraps ErrMobile and says what is wrong.
func ValidMobile(p string) error {
	_, err := NormalizeMobile(p)
	return err
}
