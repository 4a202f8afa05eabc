package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"reclaim/date"
	"reclaim/synth"
	"reclaim/valuation"
	"reclaim/workout"
	"reclaim/workout/sim"
)

// reclaim collections: the workout strategy engines (docs/strategy.md) and the simulator
// (docs/simulator.md). No database is needed.

func newCollectionsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "collections",
		Short: "Collection strategy: simulate a portfolio's workout, compare strategies, check strategy files",
		Long: `The collection strategy engines: the next best action per case from models trained on contact
outcomes, daily work queues within the teams' capacity (an exact assignment), NPV-optimal settlement
discounts, and a day-by-day simulator of synthetic debtors who respond to the actions taken
(docs/strategy.md, docs/simulator.md). No database or data directory is needed.`,
	}
	c.AddCommand(newCollectionsSimulateCmd(g), newCollectionsCompareCmd(g), newCollectionsStrategyCmd(g))
	return c
}

type simFlags struct {
	loans, months      int
	seed               uint64
	strategy           string
	strategyFile       string
	profile            string
	cutOff             string
	contacts, payments string
	jsonOut            bool
	model              string
	forecast           bool
	learnLoans         int
	learnMonths        int
	uplift             bool
	share              float64
}

func (f *simFlags) register(c *cobra.Command, withStrategy bool) {
	fl := c.Flags()
	fl.IntVar(&f.loans, "loans", 100_000, "loans in the synthetic portfolio")
	fl.IntVar(&f.months, "months", 12, "months to simulate")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed gives the same debtors and the same run")
	if withStrategy {
		fl.StringVar(&f.strategy, "strategy", "optimiser", "optimiser, rules, or split (champion rules / challenger optimiser on one portfolio)")
		fl.StringVar(&f.contacts, "contacts", "", "write the contact log (collection-rules.md CSV) to this file")
		fl.StringVar(&f.payments, "payments", "", "write the payments (bank-statement CSV, docs/payments.md) to this file")
		fl.Float64Var(&f.share, "challenger-share", 0.5, "split: the challenger's share of cases and capacity")
	} else {
		fl.StringVar(&f.contacts, "contacts", "", "write the optimiser run's contact log (collection-rules.md CSV) to this file")
		fl.StringVar(&f.payments, "payments", "", "write the optimiser run's payments (bank-statement CSV) to this file")
	}
	fl.StringVar(&f.strategyFile, "strategy-file", "", "strategy YAML (channels, costs, teams; docs/strategy.md); default: the built-in strategy scaled to --loans")
	fl.StringVar(&f.profile, "profile", "bank-mixed", "synthetic portfolio profile (see reclaim synth)")
	fl.StringVar(&f.cutOff, "cut-off", "2026-06-30", "the portfolio's cut-off date; the workout starts the next day")
	fl.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	fl.StringVar(&f.model, "model", "", "recovery model file for the forecast (default: train one on a seasoned synthetic portfolio)")
	fl.BoolVar(&f.forecast, "forecast", true, "compute the valuation forecast to compare collections with")
	fl.IntVar(&f.learnLoans, "learn-loans", 0, "loans of the exploration portfolio the optimiser's models learn from (default loans/5, at least 5,000)")
	fl.IntVar(&f.learnMonths, "learn-months", 9, "months of the exploration run")
	fl.BoolVar(&f.uplift, "uplift", false, "value contacts by P(pay | channel) - P(pay | no contact) instead of P(pay | channel)")
}

func (f *simFlags) base(g *globals) (sim.Config, error) {
	cut, err := date.ParseStrict(f.cutOff)
	if err != nil {
		return sim.Config{}, usagef("--cut-off %q: want YYYY-MM-DD", f.cutOff)
	}
	prof, err := synth.ParseProfile(f.profile)
	if err != nil {
		return sim.Config{}, usagef("--profile: %v", err)
	}
	if f.loans < 1 || f.loans > 5_000_000 {
		return sim.Config{}, usagef("--loans must be 1..5000000")
	}
	if f.months < 1 || f.months > 60 {
		return sim.Config{}, usagef("--months must be 1..60")
	}
	s, err := loadStrategy(f.strategyFile, f.loans)
	if err != nil {
		return sim.Config{}, err
	}
	return sim.Config{Seed: f.seed, Loans: f.loans, Months: f.months, CutOff: cut, Profile: prof, Strategy: s}, nil
}

// loadStrategy reads a strategy file, or returns the built-in strategy (sized for 100,000 loans)
// scaled to the portfolio.
func loadStrategy(path string, loans int) (*workout.Strategy, error) {
	if path == "" {
		return workout.DefaultStrategy().Scaled(float64(loans) / 100_000), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, codedError{2, err.Error()}
	}
	s, err := workout.ParseStrategy(b, path)
	if err != nil {
		return nil, codedError{2, err.Error()}
	}
	return s, nil
}

func (f *simFlags) learn(ctx context.Context, g *globals, base sim.Config) (*sim.Models, error) {
	n := f.learnLoans
	if n == 0 {
		n = max(f.loans/5, 5_000)
	}
	if !g.quiet {
		fmt.Fprintf(g.stderr, "Exploring %d synthetic loans for %d months to train the strategy models...\n", n, f.learnMonths)
	}
	m, _, err := sim.Learn(ctx, base, sim.LearnConfig{Seed: f.seed ^ 0x5eed, Loans: n, Months: f.learnMonths})
	if err != nil {
		return nil, err
	}
	m.Uplift = f.uplift
	return m, nil
}

// forecaster returns the valuation forecast function: a recovery model (loaded, or trained on a
// seasoned synthetic portfolio of the same profile) scoring each loan's expected collections by
// month.
func (f *simFlags) forecaster(ctx context.Context, g *globals, base sim.Config) (func([]synth.Item, int) ([]float64, error), string, error) {
	if !f.forecast {
		return nil, "", nil
	}
	var m *valuation.RecoveryModel
	var src string
	if f.model != "" {
		r, err := os.Open(f.model)
		if err != nil {
			return nil, "", codedError{2, err.Error()}
		}
		defer r.Close()
		if m, err = valuation.LoadRecoveryModel(r); err != nil {
			return nil, "", codedError{2, fmt.Sprintf("%s: %v", f.model, err)}
		}
		src = f.model
	} else {
		const loans, months = 10_000, 24
		cfg := synth.Config{Seed: f.seed ^ 0xf0ca, Loans: loans, PortfolioRef: "SEASONED-SIM", CutOff: base.CutOff.AddMonths(-months),
			Profile: base.Profile}
		if !g.quiet {
			fmt.Fprintf(g.stderr, "Training the recovery model for the forecast on a seasoned synthetic portfolio (%d loans, %d months)...\n", loans, months)
		}
		s, err := synth.NewSeasoned(cfg, months)
		if err != nil {
			return nil, "", err
		}
		t, err := valuation.BuildSeasoned(s, valuation.CN(), valuation.TableOptions{})
		if err != nil {
			return nil, "", err
		}
		if m, err = valuation.TrainRecoveryModel(ctx, t, valuation.TrainOptions{Trees: 100, MaxDepth: 4, LearningRate: 0.08}, nil); err != nil {
			return nil, "", err
		}
		src = fmt.Sprintf("recovery model trained on a seasoned synthetic portfolio (%d loans, %s, %d months)", loans, base.Profile, months)
	}
	hist := synth.DefaultHistoryMonths
	fn := func(items []synth.Item, months int) ([]float64, error) {
		ins := make([]valuation.Input, len(items))
		for i := range items {
			it := &items[i]
			ins[i] = valuation.Input{Loan: &it.Loan, History: it.History,
				HistoryStart: it.Loan.CutOffDate.StartOfMonth().AddMonths(-(hist - 1)), AsOf: it.Loan.CutOffDate}
		}
		sc, err := m.Score(ctx, ins, valuation.ScoreOptions{})
		if err != nil {
			return nil, err
		}
		out := make([]float64, months)
		for i := range sc {
			for k, v := range sc[i].PredictedCollections(months) {
				out[k] += v
			}
		}
		return out, nil
	}
	return fn, src, nil
}

func createOut(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, codedError{2, err.Error()}
	}
	return f, nil
}

func newCollectionsSimulateCmd(g *globals) *cobra.Command {
	var f simFlags
	c := &cobra.Command{
		Use:   "simulate --loans N --months M --strategy optimiser|rules",
		Short: "Simulate a synthetic portfolio's workout day by day and print collections against the forecast",
		Long: `Simulates the workout of a synthetic portfolio (package synth) day by day: each day the strategy
builds its work queue within the teams' capacity, every planned contact allowed by the compliance
engine; debtors respond (reached, commit to a settlement or a plan, pay or break). Prints the
collections by month against the valuation forecast, contacts by channel, cost and net.
--contacts and --payments write the contact log and the payments, so that
'reclaim compliance audit --pack cn --contacts FILE' can check the log (docs/simulator.md).`,
		Example: `  reclaim collections simulate --loans 100000 --months 12 --strategy optimiser --contacts contacts.csv --payments payments.csv
  reclaim collections simulate --loans 5000 --months 6 --strategy rules --json --forecast=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			base, err := f.base(g)
			if err != nil {
				return err
			}
			switch sim.Mode(f.strategy) {
			case sim.Rules, sim.Optimiser, sim.Split:
				base.Mode = sim.Mode(f.strategy)
			default:
				return usagef("--strategy %q: want optimiser, rules or split", f.strategy)
			}
			base.ChallengerShare = f.share
			if base.Mode != sim.Rules {
				if base.Models, err = f.learn(ctx, g, base); err != nil {
					return err
				}
			}
			var src string
			if base.Forecast, src, err = f.forecaster(ctx, g, base); err != nil {
				return err
			}
			cf, err := createOut(f.contacts)
			if err != nil {
				return err
			}
			pf, err := createOut(f.payments)
			if err != nil {
				return err
			}
			if cf != nil {
				defer cf.Close()
				base.Contacts = cf
			}
			if pf != nil {
				defer pf.Close()
				base.Payments = pf
			}
			base.PerCase = base.Mode == sim.Split
			p := g.newProgress("simulating days", int64(base.Months*31))
			base.Progress = func(d, n int) { p.total = int64(n); p.set(int64(d)) }
			res, err := sim.Run(ctx, base)
			p.done()
			if err != nil {
				return err
			}
			for _, fl := range []*os.File{cf, pf} {
				if fl != nil {
					if err := fl.Close(); err != nil {
						return err
					}
				}
			}
			var lift *workout.Lift
			if base.Mode == sim.Split {
				var a, b []float64
				for i, v := range res.PerCase {
					if res.Challenger[i] {
						b = append(b, v)
					} else {
						a = append(a, v)
					}
				}
				if l, err := workout.LiftNormal(a, b, 0.95); err == nil {
					lift = &l
				}
			}
			if f.jsonOut {
				return writeJSON(g.stdout, map[string]any{"result": res, "forecast_source": src, "lift": lift, "models": modelsSummary(base.Models)})
			}
			printSim(g.stdout, res, src)
			if lift != nil {
				printLift(g.stdout, "challenger (optimiser) - champion (rules), random split", *lift)
			}
			return nil
		},
	}
	f.register(c, true)
	return c
}

func modelsSummary(m *sim.Models) map[string]any {
	if m == nil {
		return nil
	}
	return map[string]any{"contact_examples": m.ContactExamples, "accept_examples": m.AcceptExamples,
		"pay_share": m.PayShare, "fallback_share": m.FallbackShare, "uplift": m.Uplift}
}

func printSim(w io.Writer, r *sim.Result, src string) {
	fmt.Fprintf(w, "Simulated %d loans (%d cases, claim %s yuan) for %d days under the %s strategy (%s), seed %d.\n",
		r.Loans, r.Cases, grouped(r.Claim), r.Days, r.Mode, r.Strategy, r.Seed)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MONTH\tCOLLECTED\tFORECAST\tRATIO\tCONTACTS\tCOST\t")
	for _, m := range r.Months {
		ratio := "-"
		if m.Forecast > 0 {
			ratio = fmt.Sprintf("%.2f", m.Collected/m.Forecast)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t\n", m.Month, grouped(m.Collected), grouped(m.Forecast), ratio, m.Contacts, grouped(m.Cost))
	}
	ratio := "-"
	if r.Forecast > 0 {
		ratio = fmt.Sprintf("%.2f", r.Collected/r.Forecast)
	}
	fmt.Fprintf(tw, "total\t%s\t%s\t%s\t\t%s\t\n", grouped(r.Collected), grouped(r.Forecast), ratio, grouped(r.Cost))
	tw.Flush()
	if src != "" {
		fmt.Fprintf(w, "Forecast: %s.\n", src)
	}
	chs := make([]string, 0, len(r.Contacts))
	for ch := range r.Contacts {
		chs = append(chs, ch)
	}
	sort.Strings(chs)
	var parts []string
	for _, ch := range chs {
		parts = append(parts, fmt.Sprintf("%s %d (%s yuan)", ch, r.Contacts[ch], grouped(r.ContactCost[ch])))
	}
	fmt.Fprintf(w, "Contacts by channel: %s.\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "Collected %s yuan (%.2f%% of the claim), cost %s, net %s; %d paying cases (%.1f%%).\n",
		grouped(r.Collected), 100*r.Collected/r.Claim, grouped(r.Cost), grouped(r.Net), r.Payers, 100*float64(r.Payers)/float64(max(r.Cases, 1)))
	fmt.Fprintf(w, "Offers %d (%d needing a checker), settlements paid %d at a mean discount of %.1f%% (waived %s), plans %d (%d broken), promises broken %d; queue contacts refused by the compliance engine: %d.\n",
		r.Offers, r.OffersChecker, r.Settlements, 100*r.MeanDiscount, grouped(r.Waived), r.Plans, r.PlansBroken, r.PromisesBroke, r.QueueDropped)
	if len(r.Arms) > 0 {
		for _, k := range []string{"champion", "challenger"} {
			a := r.Arms[k]
			fmt.Fprintf(w, "  %s: %d cases, collected %s, cost %s, net %s, %d paying\n", k, a.Cases, grouped(a.Collected), grouped(a.Cost), grouped(a.Net), a.Payers)
		}
	}
}

func printLift(w io.Writer, what string, l workout.Lift) {
	fmt.Fprintf(w, "Uplift, %s: %+.2f yuan net per case (%d%% CI %+.2f to %+.2f; %s), %+.1f%% (CI %+.1f%% to %+.1f%%) on the champion's %.2f.\n",
		what, l.Diff, int(l.Confidence*100+0.5), l.Lo, l.Hi, l.Method, 100*l.RelativeDiff, 100*l.RelativeLo, 100*l.RelativeHi, l.Mean1)
}

func newCollectionsCompareCmd(g *globals) *cobra.Command {
	var f simFlags
	c := &cobra.Command{
		Use:   "compare --loans N --months M",
		Short: "Run the rules-only champion and the optimiser on the same debtors and capacity and print the uplift",
		Long: `Runs the simulator twice on the same synthetic debtors with the same teams and capacity: once with the
rules-only baseline (champion), once with the optimiser (challenger), with common random numbers, and
prints each run's collections and the optimiser's uplift in mean net collections per case with its 95%
confidence interval (normal approximation of the paired difference).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			base, err := f.base(g)
			if err != nil {
				return err
			}
			models, err := f.learn(ctx, g, base)
			if err != nil {
				return err
			}
			var src string
			if base.Forecast, src, err = f.forecaster(ctx, g, base); err != nil {
				return err
			}
			base.PerCase = true
			var res [2]*sim.Result
			for k, m := range []sim.Mode{sim.Rules, sim.Optimiser} {
				cfg := base
				cfg.Mode, cfg.Models = m, models
				if k == 1 {
					cfg.Forecast = nil // the same portfolio: the forecast is the champion's
					cf, err := createOut(f.contacts)
					if err != nil {
						return err
					}
					pf, err := createOut(f.payments)
					if err != nil {
						return err
					}
					if cf != nil {
						defer cf.Close()
						cfg.Contacts = cf
					}
					if pf != nil {
						defer pf.Close()
						cfg.Payments = pf
					}
				}
				p := g.newProgress("simulating "+string(m), int64(base.Months*31))
				cfg.Progress = func(d, n int) { p.total = int64(n); p.set(int64(d)) }
				res[k], err = sim.Run(ctx, cfg)
				p.done()
				if err != nil {
					return err
				}
			}
			res[1].Forecast = res[0].Forecast
			for m := range res[1].Months {
				res[1].Months[m].Forecast = res[0].Months[m].Forecast
			}
			lift, err := workout.LiftPaired(res[0].PerCase, res[1].PerCase, 0.95)
			if err != nil {
				return err
			}
			if f.jsonOut {
				return writeJSON(g.stdout, map[string]any{"champion": res[0], "challenger": res[1], "lift": lift,
					"forecast_source": src, "models": modelsSummary(models)})
			}
			printSim(g.stdout, res[0], src)
			fmt.Fprintln(g.stdout)
			printSim(g.stdout, res[1], src)
			fmt.Fprintln(g.stdout)
			printLift(g.stdout, "optimiser - rules on the same debtors and capacity", lift)
			return nil
		},
	}
	f.register(c, false)
	return c
}

func newCollectionsStrategyCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "strategy",
		Short: "Strategy files: check one, or print the built-in one",
	}
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a strategy file and print its channels and teams (exit 2 naming the path of the first problem)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadStrategy(args[0], 0)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "strategy %s, pack %s, min gap %d days, max discount %.0f%%\n", s.Name, s.Pack, s.MinGapDays, 100*s.MaxDiscount)
			for _, ch := range workout.AllChannels {
				if c, ok := s.Channels[ch]; ok {
					fmt.Fprintf(g.stdout, "  channel %-6s cost %s\n", ch, c)
				}
			}
			for _, t := range s.Teams {
				fmt.Fprintf(g.stdout, "  team %s%s: %v, %d contacts a day, %d agents, shift %s-%s\n", t.Name, agencyNote(t.Agency), t.Channels,
					t.Capacity, t.Agents, clockOf(t.ShiftStart), clockOf(t.ShiftEnd))
			}
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "default",
		Short: "Print the built-in strategy file (sized for 100,000 loans)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.WriteString(g.stdout, workout.DefaultStrategyYAML)
			return err
		},
	}
	c.AddCommand(check, show)
	return c
}

func agencyNote(a string) string {
	if a == "" {
		return ""
	}
	return " (agency " + a + ")"
}

func clockOf(d interface{ Minutes() float64 }) string {
	m := int(d.Minutes())
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}
