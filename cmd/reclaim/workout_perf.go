package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/valuation"
	"reclaim/valuation/service"
	"reclaim/workout"
	"reclaim/workout/dash"
	wsvc "reclaim/workout/service"
)

// Performance against the price paid and the champion/challenger arms (issue 13 items 3 and 5;
// docs/performance.md): 'reclaim workout performance', 'forecast' and 'arms', and the forecaster
// the workout service freezes a boarded portfolio's forecast with.

// defaultExperiment is the champion/challenger experiment every case boarded through the server
// (API, console) or the CLI is drawn into: half the cases to the challenger.
var defaultExperiment = wsvc.Experiment{Name: "cc-1", Seed: 1, Share: 0.5}

// forecastFromValuation turns a valuation into the forecast frozen at purchase.
func forecastFromValuation(id int64, v *valuation.Valuation) (sqldb.FrozenForecast, error) {
	f := sqldb.FrozenForecast{PortfolioID: id, Model: service.ModelRef(v.Model), TargetIRR: v.Price.TargetIRR, AsOf: v.AsOf,
		CollectionCostRate: v.Assumptions.CollectionCostRate, Currency: v.Currency}
	if len(v.Curve) == 0 || len(v.FixedCosts) != len(v.Curve) {
		return f, reclaim.Errorf(reclaim.EINVALID, "the valuation of portfolio %d has no monthly projection", id)
	}
	for i, p := range v.Curve {
		fc, err := money.FromFloat(v.FixedCosts[i], v.Currency, money.HalfUp)
		if err != nil {
			return f, err
		}
		f.Gross = append(f.Gross, p.Expected)
		f.FixedCost = append(f.FixedCost, fc)
	}
	return f, nil
}

// forecasterFor values a portfolio with the named model (empty: the active one) at the target
// IRR (0: valuation.DefaultTargetIRR), without a Monte Carlo, for the forecast frozen at purchase.
func forecasterFor(vs *service.Service, model string, targetIRR float64) wsvc.Forecaster {
	return func(ctx context.Context, id int64) (sqldb.FrozenForecast, error) {
		v, err := vs.PortfolioValuation(ctx, id, valuation.Request{Model: model, TargetIRR: targetIRR, Paths: -1})
		if err != nil {
			return sqldb.FrozenForecast{}, err
		}
		return forecastFromValuation(id, v)
	}
}

func newPerformanceCmds(g *globals) []*cobra.Command {
	var portfolio int64
	var asOf string
	var jsonOut bool
	perf := &cobra.Command{
		Use:   "performance [--portfolio ID] [--as-of YYYY-MM-DD] [--json]",
		Short: "Performance against the price paid: collections against the forecast at purchase, IRR to date, projected and underwritten IRR",
		Long: `Per acquisition and per vintage (the month of the award), as of a date (default today, China
time): the gross collected to date against what the forecast frozen at purchase expected by then,
the realised IRR (the price out at the award, net collections in by month, nothing for the
remainder), the projected IRR (actuals to date, then the rest of the forecast; also scaled by
collected/forecast) and the underwritten IRR (the forecast's net flows at the price paid). With
--portfolio, one acquisition with its months and its origination years. See docs/performance.md.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			d := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
			if asOf != "" {
				var err error
				if d, err = date.Parse(asOf); err != nil {
					return usagef("--as-of %q is not a date (YYYY-MM-DD): %v", asOf, err)
				}
			}
			if portfolio < 0 {
				return usagef("--portfolio must be a portfolio id")
			}
			svc := wsvc.New(a.db, wsvc.Options{})
			r, err := svc.Performance(cmd.Context(), portfolio, d)
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, r)
			}
			printPerformance(g.stdout, r, portfolio > 0)
			return nil
		}),
	}
	perf.Flags().Int64Var(&portfolio, "portfolio", 0, "one acquired portfolio (its months and origination years)")
	perf.Flags().StringVar(&asOf, "as-of", "", "the report date, YYYY-MM-DD (default today, China time)")
	perf.Flags().BoolVar(&jsonOut, "json", false, "print JSON")

	var model string
	var target float64
	var fjson bool
	forecast := &cobra.Command{
		Use:   "forecast PORTFOLIO [--model NAME[@VERSION]] [--target-irr R] [--json]",
		Short: "Freeze the forecast at purchase of a portfolio acquired without one (backfill from a valuation run)",
		Long: `Boarding freezes the portfolio's valuation forecast (the active model's, at the default target
IRR) as the forecast at purchase. A portfolio boarded before that existed, or when no model was
active, has none: this values it with the model and target IRR its bid was priced on and stores
the monthly gross collections and fixed costs, marked "backfill". A frozen forecast is never
replaced (a second run is refused).`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			id, err := portfolioArg(args[0])
			if err != nil {
				return err
			}
			if target != 0 && !(target > -1 && target < 10) {
				return usagef("--target-irr %v is not an annual rate such as 0.18", target)
			}
			if _, err := a.db.GetAcquisition(cmd.Context(), id); err != nil {
				return err
			}
			if _, err := a.db.GetForecast(cmd.Context(), id); err == nil {
				return reclaim.Errorf(reclaim.ECONFLICT, "portfolio %d already has its forecast at purchase (it is frozen)", id)
			}
			f, err := forecasterFor(service.New(a.db, service.Options{}), model, target)(cmd.Context(), id)
			if err != nil {
				return err
			}
			f.Source, f.Actor = sqldb.ForecastBackfill, "cli"
			if err := a.db.SaveForecast(cmd.Context(), f); err != nil {
				return err
			}
			if fjson {
				return writeJSON(g.stdout, f)
			}
			total := int64(0)
			for _, x := range f.Gross {
				total += x.Minor()
			}
			fmt.Fprintf(g.stdout, "froze the forecast of portfolio %d: %d months, %s %s gross, model %s, target IRR %.1f%%\n",
				id, len(f.Gross), money.New(total, f.Currency).Grouped(), f.Currency, f.Model, 100*f.TargetIRR)
			return nil
		}),
	}
	forecast.Flags().StringVar(&model, "model", "", "the model the bid was priced with, NAME or NAME@VERSION (default: the active one)")
	forecast.Flags().Float64Var(&target, "target-irr", 0, "the target IRR the bid was priced at (default 0.18)")
	forecast.Flags().BoolVar(&fjson, "json", false, "print JSON")

	var exp string
	var seed uint64
	var share float64
	var on string
	arms := &cobra.Command{
		Use:   "arms [--experiment NAME] [--seed N] [--share X] [--date YYYY-MM-DD]",
		Short: "Draw the champion/challenger arm of every case that has none",
		Long: `Every case boarded gets its arm at boarding (experiment cc-1, challenger share 0.5). This draws
the arm of cases that have none (boarded before arms existed): a fixed random draw from the
seed and the case id. Cases keep the arm they have.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			d := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
			if on != "" {
				var err error
				if d, err = date.Parse(on); err != nil {
					return usagef("--date %q is not a date (YYYY-MM-DD): %v", on, err)
				}
			}
			if !(share >= 0 && share <= 1) {
				return usagef("--share %v must be in [0, 1]", share)
			}
			n, err := a.db.AssignArms(cmd.Context(), exp, seed, share, d)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "drew the arm of %d cases (experiment %s, challenger share %.2f)\n", n, exp, share)
			return nil
		}),
	}
	arms.Flags().StringVar(&exp, "experiment", defaultExperiment.Name, "the experiment's name")
	arms.Flags().Uint64Var(&seed, "seed", defaultExperiment.Seed, "the draw's seed")
	arms.Flags().Float64Var(&share, "share", defaultExperiment.Share, "the challenger's share of cases")
	arms.Flags().StringVar(&on, "date", "", "the day recorded with the draw (default today)")
	return []*cobra.Command{perf, forecast, arms}
}

func pctOrDash(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(100**x, 'f', 1, 64) + "%"
}

func printPerformance(w io.Writer, r *dash.PerformanceReport, detail bool) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	head := "\tpurchased\tprice\tcollected\tforecast to date\tvs forecast\tIRR to date\tprojected\tscaled\tunderwritten\t\n"
	fmt.Fprintf(w, "Performance against the price paid, as of %s\n\nBy portfolio\n", r.AsOf)
	fmt.Fprint(tw, "portfolio"+head)
	for _, p := range r.Portfolios {
		printPerfRow(tw, p)
	}
	tw.Flush()
	fmt.Fprint(w, "\nBy vintage (award month)\n")
	fmt.Fprint(tw, "vintage"+head)
	for _, p := range r.Vintages {
		printPerfRow(tw, p)
	}
	tw.Flush()
	if detail {
		for _, p := range r.Portfolios {
			fmt.Fprintf(w, "\nPortfolio %s by month\n", p.Key)
			fmt.Fprint(tw, "month\tlabel\tcollected\tforecast\tcum collected\tcum forecast\t\n")
			for _, m := range p.Months {
				f, cf := "-", "-"
				if m.Forecast != nil {
					f, cf = fmt.Sprintf("%.2f", *m.Forecast), fmt.Sprintf("%.2f", *m.CumForecast)
				}
				fmt.Fprintf(tw, "%d\t%s\t%.2f\t%s\t%.2f\t%s\t\n", m.Month, m.Label, m.Actual, f, m.CumActual, cf)
			}
			tw.Flush()
		}
		if len(r.Origination) > 0 {
			fmt.Fprint(w, "\nBy origination year (price: the loans' cost basis; no forecast by year)\n")
			fmt.Fprint(tw, "year\tloans\tcost basis\tcollected\tmultiple\tIRR to date\t\n")
			for _, o := range r.Origination {
				fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2fx\t%s\t\n", o.Key, o.Portfolios, o.Price, o.Collected, o.Multiple, pctOrDash(o.IRRToDate))
			}
			tw.Flush()
		}
	}
	for _, p := range r.Portfolios {
		if !p.HasForecast {
			fmt.Fprintf(w, "\nportfolio %s has no forecast at purchase: 'reclaim workout forecast %s' backfills it\n", p.Key, p.Key)
		}
	}
}

func printPerfRow(tw io.Writer, p valuation.Performance) {
	fc, vs := "-", "-"
	if p.ForecastToDate != nil {
		fc = fmt.Sprintf("%.2f", *p.ForecastToDate)
	}
	if p.CollectedVsForecast != nil {
		vs = fmt.Sprintf("%.1f%%", 100**p.CollectedVsForecast)
	}
	fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Key, p.Purchased, p.Price, p.Collected, fc, vs,
		pctOrDash(p.IRRToDate), pctOrDash(p.ProjectedIRR), pctOrDash(p.ProjectedIRRScaled), pctOrDash(p.UnderwrittenIRR))
}

// afterCLIBoard freezes the forecast of a portfolio the CLI boarded and draws its cases' arms.
func afterCLIBoard(ctx context.Context, a *app, spec workout.BoardSpec) wsvc.Boarded {
	return wsvc.New(a.db, wsvc.Options{Forecaster: forecasterFor(service.New(a.db, service.Options{}), "", 0),
		Experiment: &defaultExperiment}).AfterBoarding(ctx, spec)
}

func printBoarded(w io.Writer, id int64, b wsvc.Boarded) {
	if b.Forecast {
		fmt.Fprintf(w, "froze the forecast at purchase (the active model's valuation); drew the arm of %d cases\n", b.Arms)
	} else {
		fmt.Fprintf(w, "no forecast at purchase (%s): 'reclaim workout forecast %d' backfills it; drew the arm of %d cases\n", b.ForecastNote, id, b.Arms)
	}
}
