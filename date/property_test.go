package date

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genDate draws a date in the supported range 0001-01-01 to 9999-12-31, biased towards month ends
// and recent years.
func genDate() *rapid.Generator[Date] {
	lo, hi := minDate.Days(), maxDate.Days()
	return rapid.Custom(func(t *rapid.T) Date {
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			return FromDays(rapid.IntRange(lo, hi).Draw(t, "days"))
		case 1:
			y := rapid.IntRange(1900, 2100).Draw(t, "y")
			m := time.Month(rapid.IntRange(1, 12).Draw(t, "m"))
			return Of(y, m, DaysIn(y, m)-rapid.IntRange(0, 3).Draw(t, "fromEnd"))
		}
		return FromDays(rapid.IntRange(Of(1950, 1, 1).Days(), Of(2050, 12, 31).Days()).Draw(t, "recent"))
	})
}

func TestPropDaysRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(minDate.Days(), maxDate.Days()).Draw(t, "n")
		d := FromDays(n)
		if d.Days() != n || FromDays(d.Days()) != d {
			t.Fatalf("FromDays(%d).Days() = %d", n, d.Days())
		}
		y, m, dd := d.Date()
		if e, err := New(y, m, dd); err != nil || e != d {
			t.Fatalf("New(Date()) of %d = %v, %v", n, e, err)
		}
		// Agree with the standard library.
		tm := time.Unix(int64(n)*86400, 0).UTC()
		if ty, tmm, td := tm.Date(); ty != y || tmm != m || td != dd || tm.Weekday() != d.Weekday() {
			t.Fatalf("day %d: %v vs time %v", n, d, tm)
		}
		if d.AddDays(1).Sub(d) != 1 || d.AddDays(1).Days() != n+1 {
			t.Fatal("AddDays/Sub disagree")
		}
	})
}

func TestPropStringParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDate().Draw(t, "d")
		s := d.String()
		if p, err := Parse(s); err != nil || p != d {
			t.Fatalf("Parse(%q) = %v, %v", s, p, err)
		}
		y, m, dd := d.Date()
		for _, alt := range []string{
			s[:4] + s[5:7] + s[8:],
			s[:4] + "/" + s[5:7] + "/" + s[8:],
			s[:4] + "." + s[5:7] + "." + s[8:],
			s[:4] + "年" + itoa(int(m)) + "月" + itoa(dd) + "日",
			s + "T12:34:56Z",
		} {
			if p, err := Parse(alt); err != nil || p != d {
				t.Fatalf("Parse(%q) = %v, %v; want %v (y=%d)", alt, p, err, d, y)
			}
		}
		var u Date
		if b, _ := d.MarshalJSON(); u.UnmarshalJSON(b) != nil || u != d {
			t.Fatalf("JSON round trip of %v = %v", d, u)
		}
	})
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

func TestPropAddMonths(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDate().Draw(t, "d")
		if d.Year() < 200 || d.Year() > 9800 {
			return
		}
		n := rapid.IntRange(-1200, 1200).Draw(t, "n")
		e := d.AddMonths(n)
		_, _, day := d.Date()
		ey, em, eday := e.Date()
		if eday > day {
			t.Fatalf("%v + %d months = %v: day grew", d, n, e)
		}
		if DaysIn(ey, em) >= day && eday != day {
			t.Fatalf("%v + %d months = %v: day changed although the month is long enough", d, n, e)
		}
		if eday < day && eday != DaysIn(ey, em) {
			t.Fatalf("%v + %d months = %v: clipped but not to the month end", d, n, e)
		}
		if got := (ey*12 + int(em)) - (d.Year()*12 + int(d.Month())); got != n {
			t.Fatalf("%v + %d months = %v: %d calendar months apart", d, n, e, got)
		}
		// Stepping from an anchor: MonthsBetween inverts AddMonths, and is the largest such k.
		a := rapid.IntRange(-600, 600).Draw(t, "a")
		b := rapid.IntRange(-600, 600).Draw(t, "b")
		x, y := d.AddMonths(a), d.AddMonths(a+b)
		if k := MonthsBetween(d, y); k != a+b {
			t.Fatalf("MonthsBetween(%v, %v) = %d; want %d", d, y, k, a+b)
		}
		k := MonthsBetween(x, y)
		if x.AddMonths(k).After(y) || !x.AddMonths(k+1).After(y) {
			t.Fatalf("MonthsBetween(%v, %v) = %d is not the largest k with AddMonths(k) <= u", x, y, k)
		}
		// For any u: the largest k with d.AddMonths(k) <= u.
		u := genDate().Draw(t, "u")
		if u.Year() < 200 || u.Year() > 9800 {
			return
		}
		k = MonthsBetween(d, u)
		if d.AddMonths(k).After(u) || !d.AddMonths(k+1).After(u) {
			t.Fatalf("MonthsBetween(%v, %v) = %d is not the largest k with AddMonths(k) <= u", d, u, k)
		}
		if Age(d, u) < 0 || (!u.Before(d) && Age(d, u) != k/12) {
			t.Fatalf("Age(%v, %v) = %d", d, u, Age(d, u))
		}
	})
}

func TestPropDayCounts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genDate().Draw(t, "a"), genDate().Draw(t, "b")
		for _, dc := range []DayCount{Act365F, Act360, Thirty360, ActAct} {
			if dc.Days(a, b) != -dc.Days(b, a) {
				t.Fatalf("%s not antisymmetric on %v, %v", dc.Name(), a, b)
			}
			f, g := dc.YearFraction(a, b), dc.YearFraction(b, a)
			// 30/360 can count 0 days between distinct dates (the 30th to the 31st); ACT cannot.
			if f != -g || (a.Before(b) && (f < 0 || (f == 0 && dc != Thirty360))) {
				t.Fatalf("%s.YearFraction(%v, %v) = %v, reversed %v", dc.Name(), a, b, f, g)
			}
		}
		// ACT/ACT over whole years from 1 January is the number of years.
		if y := a.Year(); y < 9000 {
			n := rapid.IntRange(0, 50).Draw(t, "years")
			if f := ActAct.YearFraction(Of(y, 1, 1), Of(y+n, 1, 1)); f != float64(n) {
				t.Fatalf("ActAct whole years = %v; want %d", f, n)
			}
		}
	})
}
