package cnid

import (
	"fmt"
	"time"

	"reclaim/date"
)

// MinConsistentIDs is the least number of valid IDs that must stay consistent with everything a
// role without the personal-data permission sees about one borrower (the masked ID, the county
// code, the birth year and the age derived from it). With Mask and a birth year it is at least
// 365 days x 1000 sequence numbers = 365,000; the bound leaves room for an attacker who also
// knows the borrower's sex (halving it) and for a short year. docs/security-pii.md has the
// arithmetic.
const MinConsistentIDs = 100_000

// Shown is what someone who may not read personal data can learn about a borrower's national ID
// from lists: the masked ID, a six-digit region code shown in clear beside it (the loan's
// region_code, assumed, in the worst case, to be the ID's own county), and the birth year. Birth
// models a disclosure the product no longer makes (the exact birth date beside the mask); it is
// here so that tests can show what such a disclosure costs.
type Shown struct {
	Mask      string    // Mask(id)
	Region    string    // six ASCII digits: the candidates' county
	BirthYear int       // the candidates' birth year
	Birth     date.Date // when not zero, the candidates' exact birth date (must lie in BirthYear)
}

// ConsistentIDs counts the valid 18-character IDs c with c[:6] == s.Region, a birth date in
// s.BirthYear (on s.Birth when that is set) and Mask(c) == s.Mask: the candidates someone who
// holds only s must try. The count is exhaustive (every day of the year and every sequence number,
// the check character computed), so it stays right for any change to Mask. It returns an error for
// a region that is not six digits or a birth year outside 1800-9999.
func ConsistentIDs(s Shown) (int, error) {
	if len(s.Region) != 6 {
		return 0, fmt.Errorf("cnid: region %q is not 6 digits", s.Region)
	}
	for i := 0; i < 6; i++ {
		if s.Region[i] < '0' || s.Region[i] > '9' {
			return 0, fmt.Errorf("cnid: region %q is not 6 digits", s.Region)
		}
	}
	if s.BirthYear < minBirthYear || s.BirthYear > 9999 {
		return 0, fmt.Errorf("cnid: birth year %d out of range", s.BirthYear)
	}
	first := date.Of(s.BirthYear, time.January, 1)
	last := date.Of(s.BirthYear, time.December, 31)
	if !s.Birth.IsZero() {
		if s.Birth.Year() != s.BirthYear {
			return 0, nil
		}
		first, last = s.Birth, s.Birth
	}
	var buf [Length]byte
	copy(buf[:6], s.Region)
	n := 0
	for d := first; !d.After(last); d = d.AddDays(1) {
		y, m, dd := d.Date()
		for i, v := range [8]int{y / 1000, y / 100 % 10, y / 10 % 10, y % 10, int(m) / 10, int(m) % 10, dd / 10, dd % 10} {
			buf[6+i] = byte('0' + v)
		}
		sum14 := 0
		for i := 0; i < 14; i++ {
			sum14 += int(buf[i]-'0') * weights[i]
		}
		for seq := 0; seq < 1000; seq++ {
			d1, d2, d3 := seq/100, seq/10%10, seq%10
			buf[14], buf[15], buf[16] = byte('0'+d1), byte('0'+d2), byte('0'+d3)
			v := (12 - (sum14+d1*weights[14]+d2*weights[15]+d3*weights[16])%11) % 11
			buf[17] = byte('0' + v)
			if v == 10 {
				buf[17] = 'X'
			}
			if Mask(string(buf[:])) == s.Mask {
				n++
			}
		}
	}
	return n, nil
}
