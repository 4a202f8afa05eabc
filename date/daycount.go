package date

// DayCount is a day-count convention: the fraction of a year between two dates used to accrue
// interest or discount cash flows.
type DayCount interface {
	// Days returns the day count from start to end under the convention (negative when end is
	// before start).
	Days(start, end Date) int
	// YearFraction returns the accrual fraction from start to end.
	YearFraction(start, end Date) float64
	// Name is the convention's market name, such as "ACT/365F".
	Name() string
}

// The conventions Reclaim uses.
var (
	// Act365F is actual days over 365 (ACT/365 Fixed).
	Act365F DayCount = act{365, "ACT/365F"}
	// Act360 is actual days over 360 (ACT/360).
	Act360 DayCount = act{360, "ACT/360"}
	// Thirty360 is 30/360 Bond Basis (ISDA 2006 section 4.16(f)): a day 31 at the start becomes 30,
	// and a day 31 at the end becomes 30 when the start day is then 30. It does not apply the
	// end-of-February adjustments of the SIA "30/360 US" (30U/360) variant.
	Thirty360 DayCount = thirty360{}
	// ActAct is ACT/ACT ISDA (ISDA 2006 section 4.16(b)): days in leap years over 366 plus days in
	// other years over 365, the start date counted and the end date not.
	ActAct DayCount = actActISDA{}
)

// DayCountByName returns the convention with the given name (as returned by Name), or nil.
func DayCountByName(name string) DayCount {
	for _, dc := range []DayCount{Act365F, Act360, Thirty360, ActAct} {
		if dc.Name() == name {
			return dc
		}
	}
	return nil
}

type act struct {
	basis int
	name  string
}

func (a act) Days(s, e Date) int                   { return e.Sub(s) }
func (a act) YearFraction(s, e Date) float64       { return float64(e.Sub(s)) / float64(a.basis) }
func (a act) Name() string                         { return a.name }
func (thirty360) Name() string                     { return "30/360" }
func (t thirty360) YearFraction(s, e Date) float64 { return float64(t.Days(s, e)) / 360 }

type thirty360 struct{}

func (thirty360) Days(s, e Date) int {
	if e.Before(s) {
		return -thirty360{}.Days(e, s)
	}
	y1, m1, d1 := s.Date()
	y2, m2, d2 := e.Date()
	if d1 == 31 {
		d1 = 30
	}
	if d2 == 31 && d1 == 30 {
		d2 = 30
	}
	return 360*(y2-y1) + 30*(int(m2)-int(m1)) + d2 - d1
}

type actActISDA struct{}

func (actActISDA) Name() string       { return "ACT/ACT" }
func (actActISDA) Days(s, e Date) int { return e.Sub(s) }

func (a actActISDA) YearFraction(s, e Date) float64 {
	if e.Before(s) {
		return -a.YearFraction(e, s)
	}
	ys, ye := s.Year(), e.Year()
	if ys == ye {
		return float64(e.Sub(s)) / yearDays(ys)
	}
	f := float64(Of(ys+1, 1, 1).Sub(s)) / yearDays(ys)
	f += float64(ye - ys - 1)
	f += float64(e.Sub(Of(ye, 1, 1))) / yearDays(ye)
	return f
}

func yearDays(y int) float64 {
	if IsLeap(y) {
		return 366
	}
	return 365
}
