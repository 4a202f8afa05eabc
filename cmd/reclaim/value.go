package main

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/spf13/cobra"

	"reclaim/money"
	"reclaim/valuation"
	"reclaim/valuation/pricing"
	"reclaim/valuation/service"
)

// stageBar shows one progress bar per stage of long work.
type stageBar struct {
	g     *globals
	stage string
	bar   *progress
}

func (b *stageBar) report(stage string, done, total int) {
	if stage != b.stage {
		b.bar.done()
		b.stage = stage
		b.bar = b.g.newProgress(stage, int64(max(total, 1)))
	}
	b.bar.set(int64(done))
}

func (b *stageBar) done() { b.bar.done() }

// valueFlags are the flags of value and price.
type valueFlags struct {
	model      string
	targetIRR  float64
	multiple   float64
	confidence float64
	paths      int
	jsonOut    bool
	collection float64
	servicing  float64
	legalCost  float64
	litigation float64
	simplified float64
	horizon    int
}

func (f *valueFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.model, "model", "", "registered model (NAME or NAME@VERSION; default: the newest active cn-v1 model)")
	fl.Float64Var(&f.targetIRR, "target-irr", valuation.DefaultTargetIRR, "annual target IRR (0.18 is 18%)")
	fl.Float64Var(&f.multiple, "target-multiple", valuation.DefaultTargetMultiple, "gross money multiple to price for")
	fl.Float64Var(&f.confidence, "confidence", valuation.DefaultConfidence, "share of Monte Carlo paths that must earn the target IRR")
	fl.IntVar(&f.paths, "paths", valuation.DefaultPaths, "Monte Carlo paths (0: no simulation)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the valuation as JSON (the API's document)")
	d := pricing.DefaultAssumptions()
	fl.Float64Var(&f.collection, "collection-cost", d.CollectionCostRate, "collection cost as a share of cash collected")
	fl.Float64Var(&f.servicing, "servicing-cost", d.ServicingCost, "servicing cost per open account a month, in the portfolio's currency")
	fl.Float64Var(&f.litigation, "litigation-share", 0, "probability that each loan is sued (court fee paid in month 3)")
	fl.Float64Var(&f.simplified, "simplified-share", d.SimplifiedShare, "share of suits under the simplified procedure (half the court fee)")
	fl.Float64Var(&f.legalCost, "legal-cost", d.LegalCostPerCase, "further legal cost per suit (lawyer, service)")
	fl.IntVar(&f.horizon, "horizon", 0, "months to value (0: the model's training horizon; beyond it market.md's lifetime tail is added and stated apart)")
}

func (f *valueFlags) request() (valuation.Request, error) {
	switch {
	case !(f.targetIRR > -0.99 && f.targetIRR <= 100):
		return valuation.Request{}, usagef("--target-irr must be in (-0.99, 100], got %v", f.targetIRR)
	case !(f.multiple > 0 && f.multiple <= 100):
		return valuation.Request{}, usagef("--target-multiple must be in (0, 100], got %v", f.multiple)
	case !(f.confidence > 0 && f.confidence < 1):
		return valuation.Request{}, usagef("--confidence must be in (0, 1), got %v", f.confidence)
	case f.paths < 0 || f.paths > 100000:
		return valuation.Request{}, usagef("--paths must be in [0, 100000], got %d", f.paths)
	case !(f.collection >= 0 && f.collection <= 1), !(f.litigation >= 0 && f.litigation <= 1), !(f.simplified >= 0 && f.simplified <= 1):
		return valuation.Request{}, usagef("--collection-cost, --litigation-share and --simplified-share must be in [0, 1]")
	case !(f.servicing >= 0) || math.IsInf(f.servicing, 0) || !(f.legalCost >= 0) || math.IsInf(f.legalCost, 0):
		return valuation.Request{}, usagef("--servicing-cost and --legal-cost must be finite and not negative")
	case f.horizon < 0 || f.horizon > pricing.MaxHorizon:
		return valuation.Request{}, usagef("--horizon must be in [0, %d] months (0: the model's), got %d", pricing.MaxHorizon, f.horizon)
	}
	a := pricing.DefaultAssumptions()
	a.Horizon = f.horizon // 0: the model's
	a.CollectionCostRate, a.ServicingCost, a.SimplifiedShare, a.LegalCostPerCase = f.collection, f.servicing, f.simplified, f.legalCost
	paths := f.paths
	if paths == 0 {
		paths = -1
	}
	req := valuation.Request{Model: f.model, TargetIRR: f.targetIRR, TargetMultiple: f.multiple, Confidence: f.confidence, Paths: paths,
		LitigationShare: f.litigation}
	// Default assumptions stay nil, so that the valuation shares the API's cache key.
	if def := pricing.DefaultAssumptions(); a != (pricing.Assumptions{CollectionCostRate: def.CollectionCostRate, ServicingCost: def.ServicingCost,
		LegalFeeMonth: def.LegalFeeMonth, SimplifiedShare: def.SimplifiedShare, LegalCostPerCase: def.LegalCostPerCase}) {
		req.Assumptions = &a
	}
	return req, nil
}

// runValuation values the portfolio named by args[0] with a progress bar.
func runValuation(cmd *cobra.Command, g *globals, a *app, arg string, f *valueFlags) (*valuation.Valuation, error) {
	id, err := portfolioArg(arg)
	if err != nil {
		return nil, err
	}
	req, err := f.request()
	if err != nil {
		return nil, err
	}
	bar := &stageBar{g: g}
	report := bar.report
	if hook := valuationProgressHook; hook != nil {
		report = func(stage string, done, total int) { bar.report(stage, done, total); hook(stage, done, total) }
	}
	svc := service.New(a.db, service.Options{Logger: g.log, Progress: report, WriteStored: true})
	// Ctrl-C cancels cmd's context (main): the valuation stops between chunks of loans or Monte
	// Carlo paths and returns ECANCELED ("valuation cancelled; nothing was stored"), exit 130.
	v, err := svc.PortfolioValuation(cmd.Context(), id, req)
	bar.done()
	return v, err
}

// valuationProgressHook, when set (by tests), also receives the valuation's progress reports.
var valuationProgressHook func(stage string, done, total int)

func newValueCmd(g *globals) *cobra.Command {
	var f valueFlags
	c := &cobra.Command{
		Use:   "value PORTFOLIO",
		Short: "Value a portfolio: expected recovery, projection, price, Monte Carlo",
		Long: `Scores every loan of the portfolio with a registered recovery model (P(material recovery), expected
recovery rate, timing by static-pool segment), projects monthly collections, costs and net flows,
and prices the portfolio for the target IRR and the target multiple, with the price table and the
Monte Carlo distribution (docs/valuation.md). A target no price reaches is reported with the
reason, not as a failure. --json prints the API's valuation document.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			v, err := runValuation(cmd, g, a, args[0], &f)
			if err != nil {
				return err
			}
			if f.jsonOut {
				return writeJSON(g.stdout, v)
			}
			printValuation(g.stdout, args[0], v)
			return nil
		}),
	}
	f.register(c)
	return c
}

func newPriceCmd(g *globals) *cobra.Command {
	var f valueFlags
	c := &cobra.Command{
		Use:   "price PORTFOLIO --target-irr 0.18",
		Short: "Price a portfolio for a target IRR, with the Monte Carlo distribution and the price table",
		Long: `The price for the target IRR on the expected net flows, the price for the target gross multiple,
the price at which the target is met in --confidence of the Monte Carlo paths, the distribution of
IRR and multiple at the price (with the probability of missing the hurdle) and the price/IRR
table. A target IRR no positive price reaches is explained, and the command still succeeds.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			v, err := runValuation(cmd, g, a, args[0], &f)
			if err != nil {
				return err
			}
			if f.jsonOut {
				return writeJSON(g.stdout, v)
			}
			fmt.Fprintf(g.stdout, "Portfolio %s, %d loans, claim %s %s, model %s@%d, %d-month horizon.\n\n", args[0], v.Loans, v.Claim.Grouped(),
				v.Currency, v.Model.Name, v.Model.Version, v.Horizon)
			if rows := tailRows(v); rows != nil {
				table(g.stdout, []string{"EXPECTED RECOVERY", "AMOUNT"}, append([][]string{{"total", v.ExpectedRecovery.Grouped()}}, rows...))
				fmt.Fprintln(g.stdout)
			}
			printPrice(g.stdout, v)
			printPriceTable(g.stdout, v)
			return nil
		}),
	}
	f.register(c)
	return c
}

func pctp(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", *p)
}

func share(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

func printValuation(w io.Writer, arg string, v *valuation.Valuation) {
	fmt.Fprintf(w, "Portfolio %s valued with %s@%d as of %s (%d-month horizon, amounts in %s).\n\n", arg, v.Model.Name, v.Model.Version,
		v.AsOf, v.Horizon, v.Currency)
	rows := [][]string{
		{"loans", strconv.Itoa(v.Loans)},
		{"claim", v.Claim.Grouped()},
		{"expected recovery (model)", v.ExpectedRecovery.Grouped() + " (" + share(v.ExpectedRate) + ")"},
	}
	rows = append(rows, tailRows(v)...)
	rows = append(rows, [][]string{
		{"expected recovery (static pool)", v.Baseline.ExpectedRecovery.Grouped() + " (" + share(v.Baseline.ExpectedRate) + ")"},
		{"mean P(material recovery)", share(v.PMaterialMean)},
		{"projected gross collections", v.Totals.Gross.Grouped()},
		{"costs: collection / legal / servicing", v.Totals.Collection.Grouped() + " / " + v.Totals.Legal.Grouped() + " / " + v.Totals.Servicing.Grouped()},
		{"projected net flows", v.Totals.Net.Grouped()},
	}...)
	table(w, []string{"FIGURE", "VALUE"}, rows)
	fmt.Fprintln(w)
	printPrice(w, v)
	printPriceTable(w, v)
	rows = nil
	for _, l := range v.TopLoans[:min(5, len(v.TopLoans))] {
		rows = append(rows, loanRow(l))
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "\nHighest expected recovery rates:")
		table(w, []string{"LOAN", "CLAIM", "P(MATERIAL)", "RATE", "EXPECTED", "TOP REASON"}, rows)
	}
	printMissing(w, v.MissingFeatures, v.Loans)
}

// tailRows states a valuation's tail beyond the model's training horizon (none without one).
func tailRows(v *valuation.Valuation) [][]string {
	t := v.Tail
	if t == nil {
		return nil
	}
	return [][]string{
		{fmt.Sprintf("  within the training horizon (months 1-%d)", t.TrainingHorizon), t.Within.Grouped()},
		{fmt.Sprintf("  tail, months %d-%d (%s, factor %.3f)", t.TrainingHorizon+1, t.Horizon, t.Method, t.Factor), t.Amount.Grouped() + " (" + share(t.Rate) + ")"},
	}
}

func loanRow(l valuation.LoanValuation) []string {
	reason := ""
	if len(l.Reasons) > 0 {
		r := l.Reasons[0]
		val := "missing"
		if r.Level != "" {
			val = r.Level
		} else if r.Value != nil {
			val = strconv.FormatFloat(*r.Value, 'g', 4, 64)
		}
		reason = fmt.Sprintf("%s=%s (%+.4f)", r.Feature, val, r.Contribution)
	}
	return []string{l.LoanID, l.Claim.Grouped(), share(l.PRecovery), share(l.ExpectedRate), l.ExpectedRecovery.Grouped(), reason}
}

func amountOr(a money.Amount, none string) string {
	if a.IsAbsent() {
		return none
	}
	return a.Grouped()
}

func printPrice(w io.Writer, v *valuation.Valuation) {
	p := v.Price
	if p.Price.IsAbsent() {
		fmt.Fprintf(w, "Price for a %s IRR: none. %s\n", share(p.TargetIRR), p.Explanation)
	} else {
		payback := "not within the horizon"
		if p.PaybackMonth != nil {
			payback = "month " + strconv.Itoa(*p.PaybackMonth)
		}
		fmt.Fprintf(w, "Price for a %s IRR: %s (%s of the claim); gross multiple %.2fx, net %.2fx; payback %s.\n", share(p.TargetIRR),
			p.Price.Grouped(), pctp(p.PricePct), *p.Multiple, *p.NetMultiple, payback)
		if p.HurdleProbability != nil {
			fmt.Fprintf(w, "At that price the hurdle is met in %s of the Monte Carlo paths; the price meeting it in half of them (the median path) is %s (%s of the claim).\n",
				share(*p.HurdleProbability), amountOr(p.PriceAtMedian, "none"), pctp(p.PriceAtMedianPct))
		}
	}
	fmt.Fprintf(w, "Price for a %.2fx gross multiple: %s (%s of the claim).\n", p.TargetMultiple, amountOr(p.PriceForMultiple, "none"), pctp(p.PriceForMultiplePct))
	if p.PriceAtConfidence.IsAbsent() {
		fmt.Fprintf(w, "Price meeting %s in %.0f%% of paths: none. %s\n", share(p.TargetIRR), 100*p.Confidence, p.ConfidenceExplanation)
	} else {
		fmt.Fprintf(w, "Price meeting %s in %.0f%% of paths: %s (%s of the claim).\n", share(p.TargetIRR), 100*p.Confidence,
			p.PriceAtConfidence.Grouped(), pctp(p.PriceAtConfidencePct))
	}
	if d := v.IRRDistribution; d != nil {
		at := func(level float64) string {
			for _, q := range d.Percentiles {
				if q.P == level {
					return share(q.IRR)
				}
			}
			return "-"
		}
		mult := func(level float64) string {
			for _, q := range d.MultiplePercentiles {
				if q.P == level {
					return fmt.Sprintf("%.2fx", q.Multiple)
				}
			}
			return "-"
		}
		fmt.Fprintf(w, "\nMonte Carlo at the price (%d paths): IRR P5 %s, P50 %s, P95 %s (mean %s; the expected flows' IRR %s); gross multiple P5 %s, P50 %s, P95 %s.\n",
			d.Paths, at(5), at(50), at(95), share(d.MeanIRR), share(d.ExpectedFlowIRR), mult(5), mult(50), mult(95))
		fmt.Fprintf(w, "Probability of missing the %s hurdle: %s.\n", share(p.TargetIRR), share(d.ProbMissHurdle))
	}
}

func printPriceTable(w io.Writer, v *valuation.Valuation) {
	fmt.Fprintln(w, "\nPrice table:")
	var rows [][]string
	for _, r := range v.PriceTable {
		irr := "-"
		if r.IRR != nil && !math.IsNaN(*r.IRR) {
			irr = share(*r.IRR)
		}
		pb := "-"
		if r.PaybackMonth > 0 {
			pb = strconv.Itoa(r.PaybackMonth)
		}
		rows = append(rows, []string{fmt.Sprintf("%.0f%%", r.PricePct), r.Price.Grouped(), irr, fmt.Sprintf("%.2fx", r.Multiple), fmt.Sprintf("%.2fx", r.NetMultiple), pb})
	}
	table(w, []string{"PRICE % CLAIM", "PRICE", "IRR", "GROSS MULTIPLE", "NET MULTIPLE", "PAYBACK MONTH"}, rows)
}

func newBacktestCmd(g *globals) *cobra.Command {
	var model string
	var jsonOut bool
	c := &cobra.Command{
		Use:   "backtest PORTFOLIO",
		Short: "Compare a model's predicted collections with what was collected since the cut-off",
		Long: `Actual collections are the repayment-history entries dated after the portfolio's cut-off month
(seasoned tapes) and the collections posted to every pool opened from the portfolio. They are
compared with the model's predictions month by month, by static-pool segment and by vintage
(origination year), over the months observed so far.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			id, err := portfolioArg(args[0])
			if err != nil {
				return err
			}
			r, ref, err := service.New(a.db, service.Options{Logger: g.log}).BackTest(cmd.Context(), id, model)
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, struct {
					Model valuation.ModelRef `json:"model"`
					*valuation.BackTestReport
				}{ref, r})
			}
			if r.Months == 0 {
				fmt.Fprintf(g.stdout, "Nothing has been collected on portfolio %d since its cut-off: nothing to compare yet.\n", id)
				return nil
			}
			fmt.Fprintf(g.stdout, "Back-test of %s on portfolio %d over %d months: predicted %s, actual %s (error %s).\n\n", service.ModelRef(ref), id,
				r.Months, grouped(r.Total.Predicted), grouped(r.Total.Actual), pct2(r.Total.ErrorPct))
			var rows [][]string
			for _, m := range r.ByMonth {
				rows = append(rows, []string{strconv.Itoa(m.Month), grouped(m.Predicted), grouped(m.Actual), grouped(m.CumPredicted), grouped(m.CumActual)})
			}
			table(g.stdout, []string{"MONTH", "PREDICTED", "ACTUAL", "CUM. PREDICTED", "CUM. ACTUAL"}, rows)
			for _, grp := range []struct {
				title string
				rows  []valuation.BackTestRow
			}{{"By vintage:", r.ByVintage}, {"By segment (largest 15):", r.BySegment[:min(15, len(r.BySegment))]}} {
				fmt.Fprintln(g.stdout, "\n"+grp.title)
				rows = rows[:0]
				for _, b := range grp.rows {
					rows = append(rows, []string{b.Key, strconv.Itoa(b.Loans), grouped(b.Predicted), grouped(b.Actual), pct2(b.ErrorPct)})
				}
				table(g.stdout, []string{"GROUP", "LOANS", "PREDICTED", "ACTUAL", "ERROR"}, rows)
			}
			if r.UnmatchedLoans > 0 {
				fmt.Fprintf(g.stdout, "\n%d loans with collections had no prediction (%s left out).\n", r.UnmatchedLoans, grouped(r.UnmatchedAmount))
			}
			return nil
		}),
	}
	c.Flags().StringVar(&model, "model", "", "registered model (NAME or NAME@VERSION; default: the newest active cn-v1 model)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return c
}
