package valuation

import (
	"math"
	"strconv"

	"reclaim/money"
	"reclaim/valuation/pricing"
)

// The tail beyond the training horizon (docs/valuation.md, "Beyond the training horizon").
//
// A model's expected rate is the recovery within its training horizon H (the months of outcomes
// it was trained on). A valuation over V > H months adds the collections of months H+1..V by a
// tail taken from the lifetime timing of market.md ("Recoveries": lifetime collections of aged
// Chinese consumer packages by year after boarding, year 1 40%, year 2 27%, year 3 17%, year 4
// 10%, year 5+ 6%; the same figures as MarketTiming, each year spread evenly over its months,
// year 5+ over months 49-60). With L(m) that monthly lifetime share and C(H) = Σ_{m<=H} L(m),
// a loan expected to recover r within H months is expected to recover r × L(m) / C(H) in month
// m > H: the collections after the horizon stand to those within it as they do in the market's
// lifetime curve. The factor F = Σ_{H<m<=V} L(m) / C(H) (0.49 from 24 to 60 months; nothing
// after month 60, where the market curve ends).

// TailMethod names the tail's method in valuations and docs.
const TailMethod = "market-lifetime-shares"

// TailSource cites where the tail's shares come from.
const TailSource = "design/market.md, Recoveries: lifetime collections by year 40/27/17/10/6% (year 5+ spread over months 49-60)"

// tailStep sets the grid of within-horizon shares of a loan whose tail the cap at its exposure
// cuts (see Tail.Apply): consecutive shares differ by a factor 1 + 1/tailStep.
const tailStep = 1000

// Tail extends a model's expected collections beyond its training horizon. The zero Tail (and
// any tail with Factor 0) changes nothing.
type Tail struct {
	// TrainingHorizon is the months of outcomes the model was trained on; Horizon the valuation's.
	TrainingHorizon int
	Horizon         int
	// Factor is the expected tail collections per unit expected within the training horizon
	// (before the cap at the exposure).
	Factor float64
	// shares[k] is the tail of month TrainingHorizon+1+k per unit within the training horizon
	// (they sum to Factor).
	shares []float64
}

// MarketTail returns the tail for a model trained on trainingHorizon months valued over horizon
// months, from market.md's lifetime shares (MarketTiming). It is the zero Tail when horizon <=
// trainingHorizon, when trainingHorizon <= 0 (a model whose rate is not bounded by a horizon, such
// as LendingClub's lifetime recoveries) or when the market curve has nothing after
// trainingHorizon (60 months or more).
func MarketTail(trainingHorizon, horizon int) Tail {
	life := MarketTiming()
	if trainingHorizon <= 0 || horizon <= trainingHorizon || trainingHorizon >= len(life) {
		return Tail{}
	}
	within := 0.0
	for _, s := range life[:trainingHorizon] {
		within += s
	}
	t := Tail{TrainingHorizon: trainingHorizon, Horizon: horizon, shares: make([]float64, horizon-trainingHorizon)}
	for k := range t.shares {
		if m := trainingHorizon + k; m < len(life) {
			t.shares[k] = life[m] / within
			t.Factor += t.shares[k]
		}
	}
	return t
}

// Active reports whether the tail adds anything.
func (t Tail) Active() bool { return t.Factor > 0 }

// Shares returns the tail of months TrainingHorizon+1..Horizon per unit of expected recovery
// within the training horizon (a copy).
func (t Tail) Shares() []float64 { return append([]float64(nil), t.shares...) }

// Apply returns the lifetime figures of a loan whose P(material) is p and whose expected rate
// within the training horizon is rate (0 <= rate <= p <= 1): the expected rate over the horizon
// rateV = rate × (1 + Factor), capped so that it never exceeds 1 (the whole exposure), the
// share of it collected within the training horizon (within = rate / rateV) and pV, the
// P(material) that makes pricing's severity rateV / pV equal to the model's (more payers over a
// longer horizon, each paying what the model expects of a payer; capped at 1). A loan the cap
// cuts gets within from a geometric grid (ratio 1.001, so that such loans share a bounded
// number of timing curves): its rateV is at least 1/1.001 of its exposure, never above it. In
// every case rateV × within = rate: the collections within the training horizon are the
// model's. Without a tail, or for a loan expecting nothing, it returns p, rate and 1.
func (t Tail) Apply(p, rate float64) (pV, rateV, within float64) {
	if !t.Active() || !(rate > 0) {
		return p, rate, 1
	}
	within = 1 / (1 + t.Factor)
	rateV = rate * (1 + t.Factor)
	if rateV > 1 {
		// The smallest within of the grid (1+Factor)^-1 × (1+1/tailStep)^k that is >= rate.
		k := math.Ceil(math.Log(rate*(1+t.Factor)) / math.Log1p(1.0/tailStep))
		within = math.Min(1, math.Exp(k*math.Log1p(1.0/tailStep))/(1+t.Factor))
		rateV = math.Min(1, rate/within)
	}
	pV = math.Min(1, p*(rateV/rate))
	rateV = math.Min(rateV, pV)
	return pV, rateV, within
}

// Curve extends a timing curve of the training horizon (monthly shares of the collections within
// it, summing to 1) to the valuation's horizon, for a loan collecting the share within of its
// expected collections within the training horizon: months 1..TrainingHorizon get curve ×
// within, later months the rest (1 − within) in the tail's proportions. The result sums to 1
// like the input. A curve of another length than TrainingHorizon, or an inactive tail, is
// returned unchanged.
func (t Tail) Curve(curve []float64, within float64) []float64 {
	if !t.Active() || len(curve) != t.TrainingHorizon || within >= 1 {
		return curve
	}
	out := make([]float64, t.Horizon)
	for m, s := range curve {
		out[m] = s * within
	}
	for k, s := range t.shares {
		out[t.TrainingHorizon+k] = (1 - within) * s / t.Factor
	}
	return out
}

// TailInfo states the tail of a valuation: how it was made and how much it adds.
type TailInfo struct {
	// Method names the tail's method (TailMethod) and Source cites its figures (TailSource).
	Method string `json:"method"`
	Source string `json:"source"`
	// TrainingHorizon is the months of outcomes the model was trained on; Horizon the months
	// valued. Months TrainingHorizon+1..Horizon are the tail's.
	TrainingHorizon int `json:"training_horizon"`
	Horizon         int `json:"horizon"`
	// Factor is the tail per unit expected within the training horizon, before the cap at each
	// loan's exposure.
	Factor float64 `json:"factor"`
	// Within is the expected recovery within the training horizon (the model's), Amount the
	// tail's expected collections (ExpectedRecovery = Within + Amount), Rate the tail as a share
	// of the claim.
	Within money.Amount `json:"within"`
	Amount money.Amount `json:"amount"`
	Rate   float64      `json:"rate"`
}

// pricedLoan is a scored loan as the pricing engine takes it, with its timing curve's key and
// share within the training horizon; the same for Value and ValueStream.
type pricedLoan struct {
	loan   pricing.Loan
	key    string
	within float64
	// rate is the effective expected rate within the training horizon, tail the rate the tail
	// adds (the pricing loan's effective rate is rate + tail).
	rate, tail float64
}

// priceLoan turns a score into a pricing loan under the tail (inactive: the loan as before the
// tail existed, keyed by its curve segment).
func priceLoan(s *LoanScore, t Tail, litigation float64) pricedLoan {
	l := pricing.Loan{ID: s.LoanID, Claim: s.Exposure, PRecovery: s.PRecovery, ExpectedRate: s.ExpectedRate,
		PLitigation: litigation, Open: true}
	pl := pricedLoan{key: s.CurveSegment, within: 1, rate: pricing.EffectiveRate(l)}
	if !t.Active() || len(s.Timing) != t.TrainingHorizon {
		pl.loan = l
		return pl
	}
	pV, rV, within := t.Apply(l.PRecovery, pl.rate)
	if !(pl.rate > 0) {
		within = 1 / (1 + t.Factor) // nothing to collect: the segment's curve
	}
	l.PRecovery, l.ExpectedRate = pV, rV
	pl.loan, pl.within = l, within
	pl.tail = math.Max(0, pricing.EffectiveRate(l)-pl.rate)
	if within != 1/(1+t.Factor) {
		pl.key = s.CurveSegment + "\x00" + strconv.FormatFloat(within, 'g', -1, 64)
	}
	return pl
}

// tailSums adds up the parts within the training horizon and the tail, loan by loan, in the
// order both valuation paths share.
type tailSums struct{ within, tail float64 }

func (t *tailSums) add(pl *pricedLoan, exposure float64) {
	t.within += pl.rate * exposure
	t.tail += pl.tail * exposure
}

// info states the tail of a valuation (nil without one).
func (t *tailSums) info(tail Tail, claim float64, cur money.Currency) *TailInfo {
	if !tail.Active() {
		return nil
	}
	return &TailInfo{Method: TailMethod, Source: TailSource, TrainingHorizon: tail.TrainingHorizon, Horizon: tail.Horizon,
		Factor: tail.Factor, Within: toAmount(t.within, cur), Amount: toAmount(t.tail, cur), Rate: ratio0(t.tail, claim)}
}

// TailCard states on a model card how valuations beyond the model's training horizon are
// extended: the method, its source, the horizon and the factor up to month 60 (where market.md's
// lifetime curve ends).
type TailCard struct {
	Method          string  `json:"method"`
	Source          string  `json:"source"`
	TrainingHorizon int     `json:"training_horizon"`
	FactorTo60      float64 `json:"factor_to_60"`
}

// ModelTailCard is the TailCard of a model trained on trainingHorizon months, nil when no
// valuation of it gets a tail (no horizon, or 60 months or more).
func ModelTailCard(trainingHorizon int) *TailCard {
	t := MarketTail(trainingHorizon, len(MarketTiming()))
	if !t.Active() {
		return nil
	}
	return &TailCard{Method: TailMethod, Source: TailSource, TrainingHorizon: trainingHorizon, FactorTo60: t.Factor}
}

// tailOf is the valuation's tail: market.md's beyond the model's training horizon.
func tailOf(m *RecoveryModel, horizon int) Tail { return MarketTail(m.Horizon, horizon) }
