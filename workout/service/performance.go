package service

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/valuation"
	"reclaim/workout"
	"reclaim/workout/dash"
)

// Performance against the price paid and the manager's dashboard (issue 13 items 3 and 5;
// docs/performance.md): the service loads from sqldb and asks the pure rules
// (valuation.PerformanceOf and VintagePerformance, workout.Collections, ArmLift, CountLimitation).

// Forecaster computes the forecast a portfolio is frozen with at boarding (cmd/reclaim values the
// portfolio with the active recovery model). It returns ENOTFOUND when no model can value it.
type Forecaster func(ctx context.Context, portfolioID int64) (sqldb.FrozenForecast, error)

// Experiment is a champion/challenger experiment: every new case is drawn into an arm at boarding
// (workout.DrawArm with Seed and the challenger's Share).
type Experiment struct {
	Name  string
	Seed  uint64
	Share float64
}

// Boarded says what AfterBoarding did.
type Boarded struct {
	// Forecast is true when the forecast at purchase was frozen; ForecastNote says why not.
	Forecast     bool   `json:"forecast"`
	ForecastNote string `json:"forecast_note,omitempty"`
	// Arms is the number of cases drawn into an arm.
	Arms int `json:"arms"`
}

// AfterBoarding freezes the boarded portfolio's forecast (Options.Forecaster) and draws the new
// cases' arms (Options.Experiment). Neither undoes the boarding when it fails: a portfolio
// without a forecast is reported as such (and can be backfilled with 'reclaim workout
// forecast'); cases without an arm are drawn by the next boarding or 'reclaim workout arms'.
// Board calls it; the CLI, which boards through sqldb, calls it itself.
func (s *Service) AfterBoarding(ctx context.Context, spec workout.BoardSpec) Boarded {
	var b Boarded
	if s.opts.Forecaster != nil {
		f, err := s.opts.Forecaster(ctx, spec.PortfolioID)
		if err == nil {
			f.Source = sqldb.ForecastAtBoarding
			f.Actor = spec.Actor
			err = s.db.SaveForecast(ctx, f)
		}
		if err != nil {
			b.ForecastNote = err.Error()
			slog.Warn("boarded without a forecast at purchase", "portfolio", spec.PortfolioID, "err", err)
		} else {
			b.Forecast = true
		}
	} else {
		b.ForecastNote = "no forecaster configured"
	}
	if e := s.opts.Experiment; e != nil {
		n, err := s.db.AssignArms(ctx, e.Name, e.Seed, e.Share, spec.AwardDate)
		if err != nil {
			slog.Warn("strategy arms not drawn at boarding", "portfolio", spec.PortfolioID, "err", err)
		}
		b.Arms = n
	}
	return b
}

// Performance reports every acquisition (portfolioID 0) or one (with its origination years) as
// of asOf. An acquisition awarded after asOf is left out (for one portfolio: EINVALID).
func (s *Service) Performance(ctx context.Context, portfolioID int64, asOf date.Date) (*dash.PerformanceReport, error) {
	if asOf.IsZero() {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "as_of must be a date", Fields: map[string]string{"field": "as_of", "rule": "date"}}
	}
	recs, err := s.db.PerformanceRecords(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	return performanceOf(recs, portfolioID, asOf)
}

// performanceOf is Performance over loaded records.
func performanceOf(recs []sqldb.PerformanceRecord, portfolioID int64, asOf date.Date) (*dash.PerformanceReport, error) {
	out := &dash.PerformanceReport{AsOf: asOf, Portfolios: []valuation.Performance{}, Vintages: []valuation.Performance{}}
	vintages := map[string][]valuation.PerformanceInput{}
	for _, r := range recs {
		a := r.Acquisition
		if a.AwardDate.After(asOf) {
			if portfolioID > 0 {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("portfolio %d was bought on %s, after %s", a.PortfolioID, a.AwardDate, asOf),
					Fields: map[string]string{"field": "as_of", "value": asOf.String(), "rule": "after purchase"}}
			}
			continue
		}
		in := valuation.PerformanceInput{Key: strconv.FormatInt(a.PortfolioID, 10), Price: a.Price.Float(), Purchased: a.AwardDate, Collections: r.Collections}
		if r.Forecast != nil {
			in.Forecast = r.Forecast.Engine()
		}
		p, err := valuation.PerformanceOf(in, asOf)
		if err != nil {
			return nil, reclaim.Errorf(reclaim.EINVALID, "%v", err)
		}
		out.Portfolios = append(out.Portfolios, p)
		v := fmt.Sprintf("%04d-%02d", a.AwardDate.Year(), int(a.AwardDate.Month()))
		vintages[v] = append(vintages[v], in)
		if portfolioID > 0 {
			years := make([]int, 0, len(r.ByOrigination))
			for y := range r.ByOrigination {
				years = append(years, y)
			}
			slices.Sort(years)
			for _, y := range years {
				o := r.ByOrigination[y]
				if !(o.CostBasis.Float() > 0) {
					continue
				}
				key := "unknown"
				if y > 0 {
					key = strconv.Itoa(y)
				}
				op, err := valuation.PerformanceOf(valuation.PerformanceInput{Key: key, Price: o.CostBasis.Float(), Purchased: a.AwardDate,
					Collections: o.Collections}, asOf)
				if err != nil {
					return nil, reclaim.Errorf(reclaim.EINVALID, "%v", err)
				}
				op.Portfolios = o.Loans // for an origination year: its loans
				out.Origination = append(out.Origination, op)
			}
		}
	}
	keys := make([]string, 0, len(vintages))
	for k := range vintages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := valuation.VintagePerformance(k, vintages[k], asOf)
		if err != nil {
			return nil, reclaim.Errorf(reclaim.EINVALID, "%v", err)
		}
		out.Vintages = append(out.Vintages, v)
	}
	return out, nil
}

// Dashboard builds the manager's dashboard over [from, to] (at most 366 days), with limitation
// counts as of to. channelCost is the cost of one contact per channel (nil: the default
// strategy's, workout.DefaultStrategyYAML).
func (s *Service) Dashboard(ctx context.Context, from, to date.Date, channelCost map[string]float64) (*dash.Dashboard, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) || to.Sub(from) > 366 {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "give from and to dates, from not after to, at most 366 days apart",
			Fields: map[string]string{"field": "from", "rule": "range"}}
	}
	dd, err := s.db.DashboardData(ctx, from, to)
	if err != nil {
		return nil, err
	}
	recs, err := s.db.PerformanceRecords(ctx, 0)
	if err != nil {
		return nil, err
	}
	if channelCost == nil {
		channelCost = map[string]float64{}
		for ch, c := range workout.DefaultStrategy().Channels {
			channelCost[string(ch)] = c.Float()
		}
	}
	in := workout.DashInput{From: from, To: to, Cases: dd.Cases, Payments: dd.Payments, Contacts: dd.Contacts,
		Forecast: map[int64]float64{}, PortfolioClaim: dd.PortfolioClaim, ChannelCost: channelCost}
	for _, r := range recs {
		if r.Forecast != nil {
			in.Forecast[r.Acquisition.PortfolioID] = valuation.ForecastBetween(r.Acquisition.AwardDate, r.Forecast.Engine(), from, to)
		}
	}
	d := &dash.Dashboard{From: from, To: to, Collections: workout.Collections(in), Arms: workout.ArmLift(in, 0.95),
		Limitation: workout.CountLimitation(dd.Cases, to)}
	if e := s.opts.Experiment; e != nil {
		d.Experiment = e.Name
	}
	// Denials by local day and rule, summarised in SQL (sqldb.AttemptDays: the same figures as
	// SummarizeAttempts over every attempt, without loading them).
	days, err := s.db.AttemptDays(ctx, from.Time().Add(-14*time.Hour), to.AddDays(1).Time().Add(14*time.Hour))
	if err != nil {
		return nil, err
	}
	byRule := map[string]int{}
	for _, r := range days {
		if r.Day < from.String() || r.Day > to.String() {
			continue
		}
		d.Denials.Attempts += r.Attempts
		d.Denials.Denied += r.Denied
		for k, n := range r.ByRule {
			byRule[k] += n
		}
		if n := len(d.Denials.ByDay); n > 0 && d.Denials.ByDay[n-1].Day == r.Day {
			d.Denials.ByDay[n-1].Attempts += r.Attempts
			d.Denials.ByDay[n-1].Denied += r.Denied
		} else {
			d.Denials.ByDay = append(d.Denials.ByDay, dash.DayDenials{Day: r.Day, Attempts: r.Attempts, Denied: r.Denied})
		}
	}
	d.Denials.ByRule = []dash.KeyCount{}
	for k, n := range byRule {
		d.Denials.ByRule = append(d.Denials.ByRule, dash.KeyCount{Key: k, Count: n})
	}
	slices.SortFunc(d.Denials.ByRule, func(a, b dash.KeyCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key)) })
	if d.Denials.ByDay == nil {
		d.Denials.ByDay = []dash.DayDenials{}
	}
	perf, err := performanceOf(recs, 0, to) // the records loaded above: read once
	if err != nil {
		return nil, err
	}
	d.Vintages = perf.Vintages
	return d, nil
}
