package valuation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"reclaim/date"
	"reclaim/money"
	"reclaim/valuation/pricing"
)

// Defaults of ValueInput.
const (
	// DefaultTargetIRR is the target IRR when ValueInput.TargetIRR is 0: market.md's 15-25%
	// target unlevered IRR, at 18%.
	DefaultTargetIRR = 0.18
	// DefaultTargetMultiple is the gross money multiple priced for when ValueInput.TargetMultiple
	// is 0 (market.md: 1.5-2.5x on price).
	DefaultTargetMultiple = 2.0
	// DefaultConfidence is the share of Monte Carlo paths that must meet the target for the price
	// at confidence.
	DefaultConfidence = 0.9
	// DefaultPaths is the number of Monte Carlo paths when ValueInput.Paths is 0.
	DefaultPaths = 500
	// DefaultTopLoans is the length of the top and bottom loan lists.
	DefaultTopLoans = 20
	// DefaultReasons is the number of reason codes per listed loan.
	DefaultReasons = 5
	// HistogramBins is the number of bins of the IRR histogram.
	HistogramBins = 20
)

// ModelRef names a registered model version.
type ModelRef struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// CurvePoint is one month of the portfolio's projected gross collections. Amounts are decimal
// strings in the portfolio's currency.
type CurvePoint struct {
	// Month is 1 for the first month after the as-of date.
	Month int `json:"month"`
	// Expected is the projection's expected gross collections of the month.
	Expected money.Amount `json:"expected"`
	// P5, P50 and P95 are the Monte Carlo percentiles of the month's gross collections (the
	// month taken alone); absent (null) without a simulation.
	P5  money.Amount `json:"p5"`
	P50 money.Amount `json:"p50"`
	P95 money.Amount `json:"p95"`
	// Cumulative is the expected gross collections of months 1..Month.
	Cumulative money.Amount `json:"cumulative"`
	// Tail is true for a month beyond the model's training horizon: its collections are the
	// tail's (Valuation.Tail), not the model's; absent (false) otherwise.
	Tail bool `json:"tail,omitempty"`
}

// PriceResult is the price for the target IRR and the related figures. When no positive price
// reaches the target, Price, PricePct, Multiple and PaybackMonth are null and Explanation says
// why.
type PriceResult struct {
	// TargetIRR is the annual target IRR.
	TargetIRR float64 `json:"target_irr"`
	// Price is the highest price earning TargetIRR on the expected net flows.
	Price money.Amount `json:"price"`
	// PricePct is Price as a percentage of the claim (5 is 5%), like every *_pct field.
	PricePct *float64 `json:"price_pct"`
	// Multiple is the gross money multiple at Price: expected gross collections / Price.
	Multiple *float64 `json:"multiple"`
	// NetMultiple is the net money multiple at Price: expected net flows / Price.
	NetMultiple *float64 `json:"net_multiple"`
	// PaybackMonth is the month in which cumulative net flows repay Price (null when they do not
	// within the horizon).
	PaybackMonth *int `json:"payback_month"`
	// Explanation is empty when the target is reached, else why not.
	Explanation string `json:"explanation"`
	// TargetMultiple is the gross money multiple priced for, PriceForMultiple the price at which
	// expected gross collections are TargetMultiple times the price (null when unreachable) and
	// PriceForMultiplePct that price as a percentage of the claim.
	TargetMultiple      float64      `json:"target_multiple"`
	PriceForMultiple    money.Amount `json:"price_for_multiple"`
	PriceForMultiplePct *float64     `json:"price_for_multiple_pct"`
	// Confidence is the share of Monte Carlo paths that must earn TargetIRR; PriceAtConfidence
	// the highest price that does in that share (null when none does, or without a simulation),
	// PriceAtConfidencePct that price as a percentage of the claim and ConfidenceExplanation why it is
	// null.
	Confidence            float64      `json:"confidence"`
	PriceAtConfidence     money.Amount `json:"price_at_confidence"`
	PriceAtConfidencePct  *float64     `json:"price_at_confidence_pct"`
	ConfidenceExplanation string       `json:"confidence_explanation,omitempty"`
	// HurdleProbability is the share of Monte Carlo paths that earn TargetIRR at Price: the
	// confidence of the headline price (null without a simulation or a price).
	HurdleProbability *float64 `json:"hurdle_probability"`
	// PriceAtMedian is the price at which half the paths earn TargetIRR (the median path's
	// price); with a simulation that agrees with the expected flows it is close to Price.
	PriceAtMedian    money.Amount `json:"price_at_median"`
	PriceAtMedianPct *float64     `json:"price_at_median_pct"`
}

// IRRPercentile is one percentile of the simulated IRRs.
type IRRPercentile struct {
	// P is the level in percent (5 for the 5th percentile).
	P float64 `json:"p"`
	// IRR is the annual IRR at that level.
	IRR float64 `json:"irr"`
}

// MultiplePercentile is one percentile of the simulated gross money multiples.
type MultiplePercentile struct {
	P        float64 `json:"p"`
	Multiple float64 `json:"multiple"`
}

// HistogramBin counts the simulated paths whose IRR falls in [Lo, Hi).
type HistogramBin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int     `json:"count"`
}

// IRRDistribution is the Monte Carlo distribution of returns at the price for the target IRR.
type IRRDistribution struct {
	// Price is the price the paths are evaluated at.
	Price money.Amount `json:"price"`
	// Paths is the number of simulated paths.
	Paths int `json:"paths"`
	// Percentiles of the annual IRR (pricing.StandardPercentiles; a path that never repays the
	// price counts as pricing.MinIRR).
	Percentiles []IRRPercentile `json:"percentiles"`
	// ProbMissHurdle is the share of paths whose IRR is below the target.
	ProbMissHurdle float64 `json:"prob_miss_hurdle"`
	// Histogram counts paths by IRR in HistogramBins equal bins from the 1st to the 99th
	// percentile; paths beyond them fall in the first or last bin, so the counts sum to Paths.
	Histogram []HistogramBin `json:"histogram"`
	// MultiplePercentiles are percentiles of the gross money multiple (collections / price).
	MultiplePercentiles []MultiplePercentile `json:"multiple_percentiles"`
	// MeanIRR is the mean of the paths' IRRs, MedianIRR their median, and ExpectedFlowIRR the
	// IRR of the expected net flows at Price (the target, when Price is the headline price).
	MeanIRR         float64 `json:"mean_irr"`
	MedianIRR       float64 `json:"median_irr"`
	ExpectedFlowIRR float64 `json:"expected_flow_irr"`
}

// PriceTableRow is one price of the price table.
type PriceTableRow struct {
	// Price in the portfolio's currency and PricePct as a percentage of the claim (5 is 5%).
	Price    money.Amount `json:"price"`
	PricePct float64      `json:"price_pct"`
	// IRR is the annual IRR on the expected net flows at the price (null when there is none).
	IRR *float64 `json:"irr"`
	// Multiple is the gross money multiple, NetMultiple the net one.
	Multiple    float64 `json:"multiple"`
	NetMultiple float64 `json:"net_multiple"`
	// PaybackMonth is the payback month, 0 when the price is not repaid within the horizon.
	PaybackMonth int `json:"payback_month"`
}

// LoanValuation is one loan's scores and reason codes.
type LoanValuation struct {
	LoanID string `json:"loan_id"`
	// Claim is the loan's exposure under the model's basis (the total claim for cn-v1 models).
	Claim money.Amount `json:"claim"`
	// PRecovery is P(material recovery), Severity E[rate | material recovery], ExpectedRate the
	// expected recovery as a share of Claim (PRecovery × Severity, exactly) and ExpectedRecovery
	// Claim × ExpectedRate.
	PRecovery        float64      `json:"p_recovery"`
	Severity         float64      `json:"severity"`
	ExpectedRate     float64      `json:"expected_rate"`
	ExpectedRecovery money.Amount `json:"expected_recovery"`
	// Reasons are the reason codes of the expected recovery (top DefaultReasons in lists, all
	// in the loan endpoint); Bias is the expected recovery at the models' base values (major
	// units): Bias + Σ contributions = the expected recovery (Explanation).
	Reasons []Reason `json:"reasons"`
	Bias    float64  `json:"bias"`
	// BaseRate is Bias as a share of Claim; SeverityLink is Explanation.SeverityLink.
	BaseRate     float64 `json:"base_rate"`
	SeverityLink string  `json:"severity_link"`
	// Segment is the loan's static-pool segment, BaselineRate the segment's static-pool rate.
	Segment      string  `json:"segment"`
	BaselineRate float64 `json:"baseline_rate"`
	// Missing names the features the loan lacked.
	Missing []string `json:"missing"`
	// Timing is the monthly shares of the recovery by month (they sum to 1).
	Timing []float64 `json:"timing,omitempty"`
}

// Baseline is the static-pool baseline's view of the portfolio.
type Baseline struct {
	ExpectedRecovery money.Amount `json:"expected_recovery"`
	ExpectedRate     float64      `json:"expected_rate"`
}

// ProjectionTotals are the projection's sums over the horizon.
type ProjectionTotals struct {
	Gross      money.Amount `json:"gross"`
	Collection money.Amount `json:"collection_cost"`
	Legal      money.Amount `json:"legal_cost"`
	Servicing  money.Amount `json:"servicing_cost"`
	Net        money.Amount `json:"net"`
}

// Valuation is a portfolio's valuation: the recovery model's scores, the projection, the price
// for a target IRR and a target multiple, the price table and the Monte Carlo distribution.
// Amounts are money.Amount (JSON: decimal strings in the portfolio's currency, null when absent);
// rates, shares, IRRs and multiples are numbers.
type Valuation struct {
	Model ModelRef `json:"model"`
	// AsOf is the date the loans are scored at (the portfolio's cut-off).
	AsOf date.Date `json:"as_of"`
	// Currency of every amount.
	Currency money.Currency `json:"currency"`
	// Horizon is the months projected.
	Horizon int `json:"horizon"`
	// Loans, Claim: the portfolio's loans and total exposure.
	Loans int          `json:"loans"`
	Claim money.Amount `json:"claim"`
	// ExpectedRecovery is Σ exposure × expected rate; ExpectedRate its share of Claim;
	// PMaterialMean the mean P(material).
	ExpectedRecovery money.Amount `json:"expected_recovery"`
	ExpectedRate     float64      `json:"expected_rate"`
	PMaterialMean    float64      `json:"p_material_mean"`
	// MissingFeatures counts, per feature, the loans that lacked it (features no loan lacked are
	// left out).
	MissingFeatures map[string]int `json:"missing_features"`
	// Curve is the monthly projection with its Monte Carlo band.
	Curve []CurvePoint `json:"curve"`
	// Totals are the projection's sums (gross, costs, net).
	Totals ProjectionTotals `json:"totals"`
	// Price is the price for the target IRR (and multiple, and at confidence).
	Price PriceResult `json:"price"`
	// IRRDistribution is the Monte Carlo distribution at Price; null when there is no price or no
	// simulation.
	IRRDistribution *IRRDistribution `json:"irr_distribution"`
	// PriceTable tabulates IRR, multiples and payback at 1%..20% of the claim.
	PriceTable []PriceTableRow `json:"price_table"`
	// TopLoans and BottomLoans are the loans with the highest and lowest expected rates.
	TopLoans    []LoanValuation `json:"top_loans"`
	BottomLoans []LoanValuation `json:"bottom_loans"`
	// Baseline is the static-pool baseline's expected recovery.
	Baseline Baseline `json:"baseline"`
	// Assumptions are the projection's parameters.
	Assumptions Assumptions `json:"assumptions"`
	// FixedCosts is the projection's legal and servicing cost of each month (month 1 first, in
	// major units), the part of the costs that does not scale with collections: what the forecast
	// frozen at purchase keeps beside Curve (docs/performance.md). Not part of the JSON.
	FixedCosts []float64 `json:"-"`
	// Tail states the collections added beyond the model's training horizon when Horizon
	// exceeds it (tail.go; ExpectedRecovery and the projection include them); absent
	// otherwise.
	Tail *TailInfo `json:"tail,omitempty"`
}

// Assumptions are the projection's parameters as a valuation reports them (pricing.Assumptions,
// and the litigation share applied to every loan).
type Assumptions struct {
	Horizon            int     `json:"horizon"`
	CollectionCostRate float64 `json:"collection_cost_rate"`
	ServicingCost      float64 `json:"servicing_cost"`
	LegalFeeMonth      int     `json:"legal_fee_month"`
	SimplifiedShare    float64 `json:"simplified_share"`
	LegalCostPerCase   float64 `json:"legal_cost_per_case"`
	LitigationShare    float64 `json:"litigation_share"`
}

// ValueInput is what Value needs. Zero fields take the defaults named.
type ValueInput struct {
	// Model scores the loans; ModelRef names it in the result.
	Model    *RecoveryModel
	ModelRef ModelRef
	// Loans are the portfolio's loans with their histories and as-of dates.
	Loans []Input
	// AsOf is reported as the valuation's date.
	AsOf date.Date
	// Currency of the loans' amounts (default CNY).
	Currency money.Currency
	// Assumptions of the projection. nil means pricing.DefaultAssumptions with the horizon set to
	// the model's timing (its Horizon, or 60 months for a model without timing); in given
	// assumptions a zero Horizon means that same horizon and a LegalFeeMonth beyond the horizon
	// is moved to its last month. A Horizon beyond the model's training horizon adds the tail of
	// tail.go to the months after it (Valuation.Tail states it).
	Assumptions *pricing.Assumptions
	// MonteCarlo configures the simulation (zero: pricing.DefaultMonteCarlo with Paths paths).
	MonteCarlo *pricing.MonteCarloConfig
	// Paths is the number of Monte Carlo paths when MonteCarlo is nil (0: DefaultPaths; negative:
	// no simulation).
	Paths int
	// TargetIRR (0: DefaultTargetIRR), TargetMultiple (0: DefaultTargetMultiple) and Confidence
	// (0: DefaultConfidence) are what to price for.
	TargetIRR      float64
	TargetMultiple float64
	Confidence     float64
	// LitigationShare is the probability, for every loan, that the buyer sues and pays the court
	// fee (default 0).
	LitigationShare float64
	// TopLoans is the length of the top and bottom lists (0: DefaultTopLoans); Reasons the reason
	// codes per listed loan (0: DefaultReasons).
	TopLoans int
	Reasons  int
	// Progress, when not nil, is told what is being done: a stage ("scoring", "projecting",
	// "simulating", in that order) and how far it is (done of total; total 0 when unknown; for
	// ValueStream, "scoring" counts the loans read and scored).
	// Within a stage done never decreases, and a stage that completes reports done == total.
	Progress func(stage string, done, total int)
}

// Value values a portfolio held in memory with the recovery model and the pricing engine: every
// loan's input, features and score at once (ValueStream is the product's path, in bounded
// memory, with the same result on portfolios of up to pricing.DefaultKeepLoans loans). Invalid input
// (no model, no loans, a bad target) is an error; a target IRR that no positive price reaches is
// not: the valuation then has a null price and an explanation. It stops with ctx's error when ctx
// is cancelled.
func Value(ctx context.Context, in ValueInput) (*Valuation, error) {
	if in.Model == nil {
		return nil, errors.New("valuation: no model")
	}
	if len(in.Loans) == 0 {
		return nil, errors.New("valuation: the portfolio has no loans")
	}
	a, err := in.prepare()
	if err != nil {
		return nil, err
	}
	m := in.Model
	progress := in.progress
	n := len(in.Loans)
	scores, err := m.Score(ctx, in.Loans, ScoreOptions{Progress: func(done int) { progress("scoring", done, n) }})
	if err != nil {
		return nil, err
	}

	// The pricing portfolio: one curve per distinct timing curve (and share within the training
	// horizon, when a tail extends it).
	tail := tailOf(m, a.Horizon)
	curveIdx := map[string]int{}
	var curves [][]float64
	port := pricing.Portfolio{Loans: make([]pricing.Loan, n)}
	v := &Valuation{Model: in.ModelRef, AsOf: in.AsOf, Currency: in.Currency, Horizon: a.Horizon, Loans: n,
		MissingFeatures: map[string]int{}, Assumptions: Assumptions{Horizon: a.Horizon, CollectionCostRate: a.CollectionCostRate,
			ServicingCost: a.ServicingCost, LegalFeeMonth: a.LegalFeeMonth, SimplifiedShare: a.SimplifiedShare,
			LegalCostPerCase: a.LegalCostPerCase, LitigationShare: in.LitigationShare}}
	var claim, expected, baseline, pSum float64
	var tails tailSums
	for i := range scores {
		s := &scores[i]
		pl := priceLoan(s, tail, in.LitigationShare)
		c, ok := curveIdx[pl.key]
		if !ok {
			c = len(curves)
			curveIdx[pl.key] = c
			curves = append(curves, tail.Curve(s.Timing, pl.within))
		}
		pl.loan.Curve = c
		port.Loans[i] = pl.loan
		claim += s.Exposure
		expected += pricing.EffectiveRate(port.Loans[i]) * s.Exposure
		tails.add(&pl, s.Exposure)
		baseline += s.Exposure * m.Baseline(s.Segment).Rate
		pSum += s.PRecovery
		for _, f := range s.Missing {
			v.MissingFeatures[f]++
		}
	}
	port.Curves = curves
	amt := func(x float64) money.Amount { return toAmount(x, in.Currency) }
	v.Claim = amt(claim)
	v.ExpectedRecovery = amt(expected)
	v.ExpectedRate = ratio0(expected, claim)
	v.PMaterialMean = pSum / float64(n)
	v.Baseline = Baseline{ExpectedRecovery: amt(baseline), ExpectedRate: ratio0(baseline, claim)}
	v.Tail = tails.info(tail, claim, in.Currency)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("projecting", 0, 1)
	eng, err := pricing.NewEngine(port, a)
	if err != nil {
		return nil, err
	}
	if err := in.price(ctx, v, eng, claim); err != nil {
		return nil, err
	}
	// Top and bottom loans by expected rate (ties by loan id, for a stable order).
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		if c := cmp.Compare(scores[y].ExpectedRate, scores[x].ExpectedRate); c != 0 {
			return c
		}
		return strings.Compare(scores[x].LoanID, scores[y].LoanID)
	})
	k := min(in.TopLoans, n)
	v.TopLoans = make([]LoanValuation, 0, k)
	v.BottomLoans = make([]LoanValuation, 0, k)
	for _, i := range order[:k] {
		lv, err := m.loanValuation(in.Loans[i], &scores[i], in.Reasons, in.Currency, false)
		if err != nil {
			return nil, err
		}
		v.TopLoans = append(v.TopLoans, lv)
	}
	for j := n - 1; j >= n-k; j-- {
		i := order[j]
		lv, err := m.loanValuation(in.Loans[i], &scores[i], in.Reasons, in.Currency, false)
		if err != nil {
			return nil, err
		}
		v.BottomLoans = append(v.BottomLoans, lv)
	}
	return v, nil
}

// prepare fills in's defaults and checks them, and returns the projection's assumptions.
func (in *ValueInput) prepare() (pricing.Assumptions, error) {
	if in.TargetIRR == 0 {
		in.TargetIRR = DefaultTargetIRR
	}
	if !(in.TargetIRR > -1) || math.IsInf(in.TargetIRR, 0) {
		return pricing.Assumptions{}, fmt.Errorf("valuation: the target IRR must be above -100%%, got %v", in.TargetIRR)
	}
	if in.TargetMultiple == 0 {
		in.TargetMultiple = DefaultTargetMultiple
	}
	if !(in.TargetMultiple > 0) || math.IsInf(in.TargetMultiple, 0) {
		return pricing.Assumptions{}, fmt.Errorf("valuation: the target multiple must be positive, got %v", in.TargetMultiple)
	}
	if in.Confidence == 0 {
		in.Confidence = DefaultConfidence
	}
	if !(in.Confidence > 0 && in.Confidence < 1) {
		return pricing.Assumptions{}, fmt.Errorf("valuation: the confidence must be in (0, 1), got %v", in.Confidence)
	}
	if !(in.LitigationShare >= 0 && in.LitigationShare <= 1) {
		return pricing.Assumptions{}, fmt.Errorf("valuation: the litigation share must be in [0, 1], got %v", in.LitigationShare)
	}
	if in.Currency == "" {
		in.Currency = money.CNY
	}
	if in.TopLoans <= 0 {
		in.TopLoans = DefaultTopLoans
	}
	if in.Reasons <= 0 {
		in.Reasons = DefaultReasons
	}
	a := pricing.DefaultAssumptions()
	a.Horizon = len(in.Model.dflt)
	if in.Model.Horizon > 0 {
		a.Horizon = in.Model.Horizon
	}
	if in.Assumptions != nil {
		h := a.Horizon
		a = *in.Assumptions
		if a.Horizon == 0 {
			a.Horizon = h
		}
	}
	a.LegalFeeMonth = min(a.LegalFeeMonth, a.Horizon)
	return a, nil
}

// progress tells in.Progress, when set.
func (in *ValueInput) progress(stage string, done, total int) {
	if in.Progress != nil {
		in.Progress(stage, done, total)
	}
}

func ratio0(a, b float64) float64 {
	if !(b > 0) {
		return 0
	}
	return a / b
}

func finiteOr0(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// unreachable turns pricing's ErrUnreachable error into an explanation for a person.
func unreachable(err error) string {
	s := err.Error()
	if p := pricing.ErrUnreachable.Error() + ": "; strings.HasPrefix(s, p) {
		s = "no positive price reaches the target: " + strings.TrimPrefix(s, p)
	}
	return s
}

// distribution summarises the simulation at price.
func distribution(sim *pricing.Simulation, price, target float64) (*IRRDistribution, error) {
	o, err := sim.Outcome(price, target)
	if err != nil {
		return nil, err
	}
	d := &IRRDistribution{Paths: len(sim.Net), ProbMissHurdle: o.PMissHurdle, MeanIRR: o.IRR.Mean, MedianIRR: o.IRR.At(50)}
	for _, p := range o.IRR.Percentiles {
		d.Percentiles = append(d.Percentiles, IRRPercentile{P: p.P, IRR: p.Value})
	}
	for _, p := range o.GrossMultiple.Percentiles {
		d.MultiplePercentiles = append(d.MultiplePercentiles, MultiplePercentile{P: p.P, Multiple: p.Value})
	}
	irrs := make([]float64, len(sim.Net))
	for p, net := range sim.Net {
		r, err := pricing.IRR(price, net)
		if err != nil {
			// No IRR in [MinIRR, MaxIRR]: either the flows never repay the price (a near-total
			// loss, counted as MinIRR, as Outcome does) or the IRR is above MaxIRR.
			r = pricing.MinIRR
			if sum(net) > price {
				r = pricing.MaxIRR
			}
		}
		irrs[p] = r
	}
	lo, hi := o.IRR.At(1), o.IRR.At(99)
	if !(hi > lo) {
		lo, hi = lo-0.005, lo+0.005
	}
	w := (hi - lo) / HistogramBins
	d.Histogram = make([]HistogramBin, HistogramBins)
	for b := range d.Histogram {
		d.Histogram[b] = HistogramBin{Lo: lo + float64(b)*w, Hi: lo + float64(b+1)*w}
	}
	for _, r := range irrs {
		b := int(math.Floor((r - lo) / w))
		d.Histogram[max(0, min(HistogramBins-1, b))].Count++
	}
	return d, nil
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// loanValuation builds one loan's view from its score; k reasons (k <= 0: all).
func (m *RecoveryModel) loanValuation(in Input, s *LoanScore, k int, cur money.Currency, withTiming bool) (LoanValuation, error) {
	e := s.Explanation
	if e == nil || (k <= 0 && len(e.Reasons) > 0 && e.Reasons[len(e.Reasons)-1].Feature == OtherFeatures) {
		x, err := m.Explain(in, k)
		if err != nil {
			return LoanValuation{}, err
		}
		e = &x
	}
	amount := func(x float64) money.Amount {
		a, err := money.FromFloat(x, cur, money.HalfUp)
		if err != nil {
			return money.Amount{}
		}
		return a
	}
	lv := LoanValuation{LoanID: s.LoanID, Claim: amount(s.Exposure), PRecovery: s.PRecovery, Severity: s.Severity, ExpectedRate: s.ExpectedRate,
		ExpectedRecovery: amount(s.ExpectedRecovery), Reasons: e.Reasons, Bias: e.Bias, BaseRate: e.BaseRate, SeverityLink: e.SeverityLink,
		Segment: s.Segment, BaselineRate: m.Baseline(s.Segment).Rate, Missing: s.Missing}
	if lv.Missing == nil {
		lv.Missing = []string{}
	}
	if withTiming {
		lv.Timing = s.Timing
	}
	return lv, nil
}

// ValueLoan scores one loan with every reason code and its timing curve (the loan endpoint).
func ValueLoan(ctx context.Context, m *RecoveryModel, in Input, cur money.Currency) (LoanValuation, error) {
	if cur == "" {
		cur = money.CNY
	}
	scores, err := m.Score(ctx, []Input{in}, ScoreOptions{Threads: 1})
	if err != nil {
		return LoanValuation{}, err
	}
	return m.loanValuation(in, &scores[0], 0, cur, true)
}

// Request asks for a portfolio valuation: the parameters of the API's valuation route and of
// the CLI's value and price commands. Zero fields take ValueInput's defaults.
type Request struct {
	// Model is a registered model's name (its active version), "NAME@VERSION", or empty for the
	// newest active cn-v1 model (else the newest active model).
	Model string
	// TargetIRR, TargetMultiple and Confidence are what to price for.
	TargetIRR      float64
	TargetMultiple float64
	Confidence     float64
	// Paths is the number of Monte Carlo paths (0: DefaultPaths; negative: none).
	Paths int
	// Assumptions and LitigationShare are ValueInput's (nil and 0: the defaults).
	Assumptions     *pricing.Assumptions
	LitigationShare float64
}

// ModelCard describes a registered model version: the registry's facts and the model's summary.
type ModelCard struct {
	Name       string    `json:"name"`
	Version    int       `json:"version"`
	FeatureSet string    `json:"feature_set"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	// Active says whether this is the version valuations use for the name.
	Active bool `json:"active"`
	// SHA256 is the hex SHA-256 of the model file and Size its length in bytes.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// ModelSummary holds metrics, calibration, importance and training facts.
	ModelSummary
	// Tail states how valuations beyond the training horizon are extended (absent when they
	// are not: a model without a horizon, or of 60 months or more).
	Tail *TailCard `json:"tail,omitempty"`
}

type progressKey struct{}

// WithProgress returns a context that carries a progress function for the valuations run with it
// (valuation/service calls it besides its own Options.Progress, with the same stages as
// ValueInput.Progress, plus "loading"): how a request asks for its own progress.
func WithProgress(ctx context.Context, progress func(stage string, done, total int)) context.Context {
	return context.WithValue(ctx, progressKey{}, progress)
}

// ProgressFrom returns the progress function ctx carries (nil without one).
func ProgressFrom(ctx context.Context) func(stage string, done, total int) {
	f, _ := ctx.Value(progressKey{}).(func(stage string, done, total int))
	return f
}

// price projects eng's flows and prices them into v: totals, price for the target IRR and
// multiple, price table, Monte Carlo (progress "projecting" then "simulating") and the curve.
// claim is the portfolio's total exposure.
func (in *ValueInput) price(ctx context.Context, v *Valuation, eng *pricing.Engine, claim float64) error {
	m := in.Model
	progress := in.progress
	amt := func(x float64) money.Amount { return toAmount(x, in.Currency) }
	proj := eng.Projection()
	progress("projecting", 1, 1)
	v.FixedCosts = make([]float64, proj.Horizon)
	for m := range v.FixedCosts {
		v.FixedCosts[m] = proj.Costs.Legal[m] + proj.Costs.Servicing[m]
	}
	v.Totals = ProjectionTotals{Gross: amt(proj.Total.Gross), Collection: amt(proj.Total.Collection), Legal: amt(proj.Total.Legal),
		Servicing: amt(proj.Total.Servicing), Net: amt(proj.Total.Net)}
	pct := func(price float64) *float64 {
		if claim <= 0 {
			return nil
		}
		p := 100 * price / claim
		return &p
	}

	// Price for the target IRR, and for the target multiple.
	pr := PriceResult{TargetIRR: in.TargetIRR, TargetMultiple: in.TargetMultiple, Confidence: in.Confidence}
	price, perr := proj.PriceForIRR(in.TargetIRR)
	switch {
	case perr == nil:
		pr.Price = amt(price)
		pr.PricePct = pct(price)
		gm, nm := pricing.Multiple(price, proj.Gross), pricing.Multiple(price, proj.Net)
		pr.Multiple, pr.NetMultiple = &gm, &nm
		if pb, ok := proj.Payback(price); ok {
			pr.PaybackMonth = &pb
		}
	case errors.Is(perr, pricing.ErrUnreachable):
		pr.Explanation = unreachable(perr)
	default:
		return perr
	}
	if pm, err := proj.PriceForGrossMultiple(in.TargetMultiple); err == nil {
		pr.PriceForMultiple = amt(pm)
		pr.PriceForMultiplePct = pct(pm)
	}
	for _, row := range proj.PriceTable(nil) {
		v.PriceTable = append(v.PriceTable, PriceTableRow{Price: amt(row.Price), PricePct: row.PricePct, IRR: row.IRR,
			Multiple: finiteOr0(row.GrossMultiple), NetMultiple: finiteOr0(row.NetMultiple), PaybackMonth: row.PaybackMonth})
	}

	// Monte Carlo.
	cfg := m.Summary.Uncertainty.MonteCarlo(pricing.DefaultMonteCarlo())
	paths := in.Paths
	if paths == 0 {
		paths = DefaultPaths
	}
	cfg.Paths = paths
	if in.MonteCarlo != nil {
		cfg = *in.MonteCarlo
		paths = cfg.Paths
	}
	var fan *pricing.Fan
	if paths > 0 {
		progress("simulating", 0, cfg.Paths)
		sim, err := eng.SimulateProgress(ctx, cfg, func(done int) { progress("simulating", done, cfg.Paths) })
		if err != nil {
			return err
		}
		f := sim.Fan()
		fan = &f
		if pc, err := sim.PriceAtConfidence(in.TargetIRR, 0.5); err == nil {
			pr.PriceAtMedian = amt(pc)
			pr.PriceAtMedianPct = pct(pc)
		}
		if pc, err := sim.PriceAtConfidence(in.TargetIRR, in.Confidence); err == nil {
			pr.PriceAtConfidence = amt(pc)
			pr.PriceAtConfidencePct = pct(pc)
		} else if errors.Is(err, pricing.ErrUnreachable) {
			pr.ConfidenceExplanation = unreachable(err)
		} else {
			return err
		}
		if perr == nil && price > 0 {
			d, err := distribution(sim, price, in.TargetIRR)
			if err != nil {
				return err
			}
			d.Price = pr.Price
			if r, err := proj.IRR(price); err == nil {
				d.ExpectedFlowIRR = r
			}
			hp := 1 - d.ProbMissHurdle
			pr.HurdleProbability = &hp
			v.IRRDistribution = d
		}
	} else {
		pr.ConfidenceExplanation = "no Monte Carlo simulation was run"
	}
	v.Price = pr

	// The monthly curve.
	cum := 0.0
	for mth := range proj.Horizon {
		cum += proj.Gross[mth]
		p := CurvePoint{Month: mth + 1, Expected: amt(proj.Gross[mth]), Cumulative: amt(cum), Tail: v.Tail != nil && mth >= v.Tail.TrainingHorizon}
		if fan != nil {
			p.P5, p.P50, p.P95 = amt(fan.P5[mth]), amt(fan.P50[mth]), amt(fan.P95[mth])
		}
		v.Curve = append(v.Curve, p)
	}
	return nil
}

// toAmount rounds x (major units) half up to an amount in cur; NaN, infinities and overflow give
// the absent amount.
func toAmount(x float64, cur money.Currency) money.Amount {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return money.Amount{}
	}
	a, err := money.FromFloat(x, cur, money.HalfUp)
	if err != nil {
		return money.Amount{}
	}
	return a
}
