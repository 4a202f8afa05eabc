package valuation

import (
	"errors"
	"fmt"
	"math"

	"reclaim/date"
	"reclaim/valuation/pricing"
)

// Performance against the price paid (issue 13 item 3; docs/performance.md): what a purchase has
// collected against the valuation forecast it was priced on, and the IRRs that follow. Pure: the
// caller loads the acquisition, its frozen forecast and the collections; nothing here reads a
// clock or a database.
//
// Months. The price is paid at month 0 (the award date). Month k ≥ 1 is the calendar month k
// months after the award's month; collections dated in the award's own month, after the award,
// count in month 1 (the back-test's convention). The forecast's month k is its month k after its
// as-of date, re-anchored at the purchase. As of a date in month M ≥ 1, months 1..M-1 are over and
// month M has run for day/days-in-month of its length.
//
// Net flows. Only collections are recorded, not costs, so an actual month's net flow is its gross
// collections less the forecast's costs of that month: the collection cost at the forecast's rate
// on what was actually collected, plus the forecast's fixed (legal and servicing) costs. A month
// that collects exactly its forecast therefore has exactly the forecast's net flow. The fixed
// costs of the current month count pro rata. Without a forecast there are no cost figures and the
// net flows are the gross collections.

// ForecastMonth is one month of a frozen forecast, in major units (yuan).
type ForecastMonth struct {
	// Gross is the expected gross collections of the month.
	Gross float64 `json:"gross"`
	// FixedCost is the month's legal and servicing costs (the costs that do not scale with
	// collections).
	FixedCost float64 `json:"fixed_cost"`
}

// Forecast is the monthly forecast a purchase was priced on, month 1 at index 0.
type Forecast struct {
	// Months is the forecast, month 1 first.
	Months []ForecastMonth `json:"months"`
	// CollectionCostRate is the share of gross collections spent collecting them.
	CollectionCostRate float64 `json:"collection_cost_rate"`
	// TargetIRR is the target IRR of the valuation the forecast came from (informative: the
	// underwritten IRR is recomputed from the price paid).
	TargetIRR float64 `json:"target_irr"`
}

func (f *Forecast) gross(k int) float64 {
	if k >= 1 && k <= len(f.Months) {
		return f.Months[k-1].Gross
	}
	return 0
}

// Collection is an amount collected (negative for a reversal) on a date, in major units.
type Collection struct {
	On     date.Date
	Amount float64
}

// PerformanceInput is one purchase.
type PerformanceInput struct {
	// Key names the purchase (a portfolio id).
	Key string
	// Price is the price paid, in major units; it must be positive.
	Price float64
	// Purchased is the award date (month 0).
	Purchased date.Date
	// Forecast is the frozen forecast; nil when the purchase has none.
	Forecast *Forecast
	// Collections are the collections since the purchase, in any order. Collections dated before
	// the purchase or after the as-of date are not counted.
	Collections []Collection
}

// PerformanceMonth is one month of a performance report.
type PerformanceMonth struct {
	// Month is the month after the purchase (1 = the first); Label is its calendar month (YYYY-MM).
	Month int    `json:"month"`
	Label string `json:"label"`
	// Actual is the gross collected in the month (to the as-of date in the current month).
	Actual float64 `json:"actual"`
	// Forecast is the forecast's gross for the month, pro rata for the current month; null
	// without a forecast.
	Forecast *float64 `json:"forecast"`
	// CumActual and CumForecast are the running totals.
	CumActual   float64  `json:"cum_actual"`
	CumForecast *float64 `json:"cum_forecast"`
}

// Performance is a purchase's (or a vintage's) collections and IRRs as of a date. IRRs are annual
// rates; an IRR is null when it does not exist (see the matching note).
type Performance struct {
	// Key names the purchase or the vintage; Portfolios counts the purchases in it.
	Key        string `json:"key"`
	Portfolios int    `json:"portfolios"`
	// Price is the price paid; Purchased the (earliest) award date; AsOf the report's date.
	Price     float64   `json:"price"`
	Purchased date.Date `json:"purchased"`
	AsOf      date.Date `json:"as_of"`
	// MonthsElapsed is how far into its life the purchase is, in months (fractional).
	MonthsElapsed float64 `json:"months_elapsed"`
	// HasForecast says whether a frozen forecast exists (for a vintage: for every purchase in it).
	// Without one, the forecast figures and the projected and underwritten IRRs are null.
	HasForecast bool `json:"has_forecast"`
	// Collected is the gross collected to date; ForecastToDate what the forecast expected by
	// now; CollectedVsForecast their ratio (null when the forecast expected nothing yet).
	Collected           float64  `json:"collected"`
	ForecastToDate      *float64 `json:"forecast_to_date"`
	ForecastTotal       *float64 `json:"forecast_total"`
	CollectedVsForecast *float64 `json:"collected_vs_forecast"`
	// Multiple is Collected / Price (gross money multiple to date).
	Multiple float64 `json:"multiple"`
	// IRRToDate is the realised IRR: the price out at month 0, the net collections of months
	// 1..M in, nothing for the remainder.
	IRRToDate     *float64 `json:"irr_to_date"`
	IRRToDateNote string   `json:"irr_to_date_note,omitempty"`
	// ProjectedIRR is the IRR of the actual net flows to date followed by the forecast's net
	// flows for the rest of the horizon (the rest of the current month included), unscaled.
	ProjectedIRR     *float64 `json:"projected_irr"`
	ProjectedIRRNote string   `json:"projected_irr_note,omitempty"`
	// ProjectedIRRScaled is the same with the remaining forecast's gross scaled by
	// CollectedVsForecast (a purchase running 20% behind is assumed to stay 20% behind).
	ProjectedIRRScaled *float64 `json:"projected_irr_scaled"`
	// UnderwrittenIRR is the IRR of the forecast's net flows at the price paid: the IRR the
	// purchase was priced to earn.
	UnderwrittenIRR     *float64 `json:"underwritten_irr"`
	UnderwrittenIRRNote string   `json:"underwritten_irr_note,omitempty"`
	// TargetIRR is the valuation's target IRR the forecast came with (for a vintage: the
	// price-weighted mean); null without a forecast.
	TargetIRR *float64 `json:"target_irr"`
	// Months is the monthly comparison, months 1..M.
	Months []PerformanceMonth `json:"months"`
}

// series is a purchase's monthly flows on its own month axis, ready to be summed into a vintage.
type series struct {
	price       float64
	purchased   date.Date
	m           int     // the as-of month index (0: still in the award month)
	frac        float64 // the share of month m that has run (1 when m = 0)
	actualGross []float64
	actualNet   []float64 // months 1..max(m,1)
	fcGross     []float64 // the forecast's gross, months 1..H (nil without a forecast)
	fcKeep      []float64 // the forecast's gross less its collection cost
	fcFixed     []float64 // the forecast's fixed costs
	horizon     int
	targetIRR   float64
	hasFC       bool
}

// monthIndex is the month after purchased in which d falls (the award month counts as month 1).
func monthIndex(purchased, d date.Date) int {
	return max(1, date.MonthsBetween(purchased.StartOfMonth(), d.StartOfMonth()))
}

func buildSeries(in PerformanceInput, asOf date.Date) (series, error) {
	if !(in.Price > 0) || math.IsInf(in.Price, 1) {
		return series{}, fmt.Errorf("performance %s: the price paid must be positive, got %v", in.Key, in.Price)
	}
	if in.Purchased.IsZero() {
		return series{}, fmt.Errorf("performance %s: no purchase date", in.Key)
	}
	if asOf.Before(in.Purchased) {
		return series{}, fmt.Errorf("performance %s: the as-of date %s is before the purchase on %s", in.Key, asOf, in.Purchased)
	}
	s := series{price: in.Price, purchased: in.Purchased}
	s.m = date.MonthsBetween(in.Purchased.StartOfMonth(), asOf.StartOfMonth())
	s.frac = 1
	if s.m >= 1 {
		s.frac = float64(asOf.Day()) / float64(date.DaysIn(asOf.Year(), asOf.Month()))
	}
	n := max(s.m, 1)
	s.actualGross = make([]float64, n)
	for _, c := range in.Collections {
		if c.On.Before(in.Purchased) || c.On.After(asOf) {
			continue
		}
		if math.IsNaN(c.Amount) || math.IsInf(c.Amount, 0) {
			return series{}, fmt.Errorf("performance %s: the collection of %s is %v", in.Key, c.On, c.Amount)
		}
		s.actualGross[monthIndex(in.Purchased, c.On)-1] += c.Amount
	}
	s.actualNet = make([]float64, n)
	if f := in.Forecast; f != nil {
		s.hasFC = true
		s.targetIRR = f.TargetIRR
		s.horizon = len(f.Months)
		s.fcGross = make([]float64, s.horizon)
		s.fcKeep = make([]float64, s.horizon)
		s.fcFixed = make([]float64, s.horizon)
		for k := 1; k <= s.horizon; k++ {
			s.fcGross[k-1] = f.gross(k)
			s.fcKeep[k-1] = f.gross(k) * (1 - f.CollectionCostRate)
			s.fcFixed[k-1] = f.Months[k-1].FixedCost
		}
		for k := 1; k <= n; k++ {
			s.actualNet[k-1] = s.actualGross[k-1]*(1-f.CollectionCostRate) - s.elapsed(k)*at(s.fcFixed, k)
		}
	} else {
		copy(s.actualNet, s.actualGross)
	}
	return s, nil
}

// elapsed is the share of month k (1-based) that has run by the as-of date.
func (s *series) elapsed(k int) float64 {
	switch {
	case s.m == 0 || k > s.m:
		return 0
	case k == s.m:
		return s.frac
	}
	return 1
}

// at returns xs[k-1], 0 past the end.
func at(xs []float64, k int) float64 {
	if k >= 1 && k <= len(xs) {
		return xs[k-1]
	}
	return 0
}

// PerformanceOf reports one purchase as of asOf. It fails on a price that is not positive, a
// missing purchase date, an as-of date before the purchase, or a collection that is not a number.
func PerformanceOf(in PerformanceInput, asOf date.Date) (Performance, error) {
	s, err := buildSeries(in, asOf)
	if err != nil {
		return Performance{}, err
	}
	return summarise(in.Key, 1, s, asOf), nil
}

// VintagePerformance reports the purchases of one vintage (purchases awarded in the same calendar
// month) as one: prices, collections and forecasts summed month by month, the earliest award date
// as the purchase date. The forecast figures exist only when every purchase has a forecast.
func VintagePerformance(key string, ins []PerformanceInput, asOf date.Date) (Performance, error) {
	if len(ins) == 0 {
		return Performance{}, errors.New("performance: a vintage needs at least one purchase")
	}
	var v series
	allFC := true
	weighted := 0.0
	for i, in := range ins {
		s, err := buildSeries(in, asOf)
		if err != nil {
			return Performance{}, err
		}
		if i == 0 {
			v = series{purchased: s.purchased, m: s.m, frac: s.frac}
		} else if s.purchased.StartOfMonth() != v.purchased.StartOfMonth() {
			return Performance{}, fmt.Errorf("performance %s: %s was bought in %s, not in the vintage's month %s", key, in.Key,
				monthLabel(s.purchased), monthLabel(v.purchased))
		}
		if s.purchased.Before(v.purchased) {
			v.purchased = s.purchased
		}
		v.price += s.price
		v.actualGross = addSeries(v.actualGross, s.actualGross)
		v.actualNet = addSeries(v.actualNet, s.actualNet)
		allFC = allFC && s.hasFC
		if s.hasFC {
			v.fcGross = addSeries(v.fcGross, s.fcGross)
			v.fcKeep = addSeries(v.fcKeep, s.fcKeep)
			v.fcFixed = addSeries(v.fcFixed, s.fcFixed)
			v.horizon = max(v.horizon, s.horizon)
			weighted += s.targetIRR * s.price
		}
	}
	if allFC {
		v.hasFC = true
		v.targetIRR = weighted / v.price
	} else {
		v.fcGross, v.fcKeep, v.fcFixed, v.horizon = nil, nil, nil, 0
	}
	return summarise(key, len(ins), v, asOf), nil
}

func addSeries(a, b []float64) []float64 {
	if len(b) > len(a) {
		a = append(a, make([]float64, len(b)-len(a))...)
	}
	for i, x := range b {
		a[i] += x
	}
	return a
}

func ptr(x float64) *float64 { return &x }

// irrOf returns the IRR of paying price for flows, or nil and why there is none.
func irrOf(price float64, flows []float64) (*float64, string) {
	r, err := pricing.IRR(price, flows)
	if err != nil {
		return nil, err.Error()
	}
	return &r, ""
}

func summarise(key string, n int, s series, asOf date.Date) Performance {
	p := Performance{Key: key, Portfolios: n, Price: s.price, Purchased: s.purchased, AsOf: asOf, HasForecast: s.hasFC}
	if s.m >= 1 {
		p.MonthsElapsed = float64(s.m-1) + s.frac
	}
	months := max(s.m, 1)
	start := s.purchased.StartOfMonth()
	cumA, cumF := 0.0, 0.0
	for k := 1; k <= months; k++ {
		label := start.AddMonths(k)
		row := PerformanceMonth{Month: k, Label: monthLabel(label), Actual: at(s.actualGross, k)}
		cumA += row.Actual
		row.CumActual = cumA
		if s.hasFC {
			f := at(s.fcGross, k) * s.elapsed(k)
			cumF += f
			row.Forecast, row.CumForecast = ptr(f), ptr(cumF)
		}
		p.Months = append(p.Months, row)
	}
	p.Collected = cumA
	p.Multiple = cumA / s.price
	p.IRRToDate, p.IRRToDateNote = irrOf(s.price, s.actualNet)
	if !s.hasFC {
		p.ProjectedIRRNote = "no forecast at purchase"
		p.UnderwrittenIRRNote = "no forecast at purchase"
		return p
	}
	total := 0.0
	for _, g := range s.fcGross {
		total += g
	}
	p.ForecastToDate, p.ForecastTotal = ptr(cumF), ptr(total)
	p.TargetIRR = ptr(s.targetIRR)
	if cumF > 0 {
		p.CollectedVsForecast = ptr(cumA / cumF)
	}
	fcNet := make([]float64, s.horizon)
	for k := range fcNet {
		fcNet[k] = s.fcKeep[k] - s.fcFixed[k]
	}
	p.UnderwrittenIRR, p.UnderwrittenIRRNote = irrOf(s.price, fcNet)
	// Projected: the actual net flows of months 1..m, the rest of month m and every later month
	// from the forecast (scaled or not).
	project := func(scale float64) []float64 {
		h := max(s.horizon, months)
		flows := make([]float64, h)
		copy(flows, s.actualNet)
		for k := 1; k <= h; k++ {
			rest := 1 - s.elapsed(k) // the share of month k still to come
			if rest == 0 {
				continue
			}
			flows[k-1] += rest * (scale*at(s.fcKeep, k) - at(s.fcFixed, k))
		}
		return flows
	}
	p.ProjectedIRR, p.ProjectedIRRNote = irrOf(s.price, project(1))
	if p.CollectedVsForecast != nil {
		p.ProjectedIRRScaled, _ = irrOf(s.price, project(*p.CollectedVsForecast))
	} else {
		p.ProjectedIRRScaled = p.ProjectedIRR
	}
	return p
}

// monthLabel formats a date's month as YYYY-MM.
func monthLabel(d date.Date) string { return fmt.Sprintf("%04d-%02d", d.Year(), int(d.Month())) }

// ForecastBetween returns the forecast's gross collections over the days from..to (inclusive),
// on the month axis of PerformanceOf: month k is the calendar month k months after the purchase's
// month, spread evenly over its days (the purchase's own month expects nothing).
func ForecastBetween(purchased date.Date, f *Forecast, from, to date.Date) float64 {
	if f == nil || to.Before(from) {
		return 0
	}
	start := purchased.StartOfMonth()
	total := 0.0
	for k := 1; k <= len(f.Months); k++ {
		lo := start.AddMonths(k)
		hi := lo.EndOfMonth()
		if hi.Before(from) {
			continue
		}
		if lo.After(to) {
			break
		}
		a, b := lo, hi
		if from.After(a) {
			a = from
		}
		if to.Before(b) {
			b = to
		}
		total += f.Months[k-1].Gross * float64(b.Sub(a)+1) / float64(hi.Sub(lo)+1)
	}
	return total
}
