package valuation

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"reclaim/valuation/pricing"
)

// DefaultBatch is the number of loans a streaming valuation's source should yield at a time
// (see LoanSource): large enough that scoring runs on full blocks on every core, small enough
// that a batch's inputs, features and scores take tens of megabytes.
const DefaultBatch = 50_000

// LoanSource yields a portfolio's loans in batches, always in the same order (a stored
// portfolio's import order), calling yield once per batch and stopping with yield's first error,
// which it returns unchanged. A batch and what its inputs point to must not be changed after
// yield is called: ValueStream scores a batch while the source reads the next.
type LoanSource func(ctx context.Context, yield func(batch []Input) error) error

// SliceSource is a LoanSource over loans held in memory, in batches of size (0: DefaultBatch).
func SliceSource(loans []Input, size int) LoanSource {
	if size <= 0 {
		size = DefaultBatch
	}
	return func(ctx context.Context, yield func([]Input) error) error {
		for lo := 0; lo < len(loans); lo += size {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := yield(loans[lo:min(lo+size, len(loans))]); err != nil {
				return err
			}
		}
		return nil
	}
}

// StreamInput is what ValueStream needs besides ValueInput's parameters.
type StreamInput struct {
	// Source yields the loans (ValueInput.Loans is ignored).
	Source LoanSource
	// Count is the number of loans Source will yield, for progress (0: unknown).
	Count int
	// KeepLoans is the number of loans up to which the Monte Carlo is simulated loan by loan,
	// exactly as Value does (0: pricing.DefaultKeepLoans; negative: never); a larger portfolio is
	// simulated by cohorts (see pricing.Builder).
	KeepLoans int
}

// ValueStream values a portfolio like Value, reading its loans batch by batch from s.Source:
// each batch is scored, added to the projection's sums and to the Monte Carlo's cohorts, checked
// against the top and bottom lists, and dropped. Memory is bounded by two batches, the
// cohorts and the lists, whatever the number of loans: the batch being scored and the one the
// source is reading.
//
// The result equals Value's on the same loans in the same order, field for field, with two
// exceptions: the features missing from every loan are refused only once every batch is scored
// (Value refuses before scoring), and on a portfolio of more than s.KeepLoans loans the Monte
// Carlo figures (IRRDistribution, PriceAtConfidence, PriceAtMedian, HurdleProbability and the
// curve's P5/P50/P95) come from the cohort simulation, which samples the same model by cohort
// (pricing.MonteCarloConfig), so they agree with Value's within sampling error, not to the bit.
// The scores, the projection, the prices for the target IRR and multiple, the price table and
// the loan lists are the same to the fen.
//
// Progress reports the stages "scoring" (loans read and scored: done counts them), then
// "projecting" and "simulating", like Value.
func ValueStream(ctx context.Context, in ValueInput, s StreamInput) (*Valuation, error) {
	if in.Model == nil {
		return nil, errors.New("valuation: no model")
	}
	if s.Source == nil {
		return nil, errors.New("valuation: no loan source")
	}
	a, err := in.prepare()
	if err != nil {
		return nil, err
	}
	m := in.Model
	agg := &streamAgg{in: &in, m: m, tail: tailOf(m, a.Horizon), b: pricing.NewBuilder(a, s.KeepLoans), curveIdx: map[string]int{}, baseRate: map[string]float64{}, cov: m.NewCoverage(),
		top: topList{k: in.TopLoans, before: topBefore}, bottom: topList{k: in.TopLoans, before: bottomBefore},
		missing: map[string]int{}}
	total := s.Count
	if err := pipeline(ctx, s.Source, func(batch []Input) error {
		base := agg.n
		scores, err := m.ScoreBatch(ctx, batch, ScoreOptions{Progress: func(done int) {
			in.progress("scoring", base+done, max(total, base+done))
		}}, agg.cov)
		if err != nil {
			return err
		}
		agg.add(batch, scores)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := agg.n
	if n == 0 {
		return nil, errors.New("valuation: the portfolio has no loans")
	}
	in.progress("scoring", n, n)
	if err := agg.cov.Check(); err != nil {
		return nil, err
	}
	v := &Valuation{Model: in.ModelRef, AsOf: in.AsOf, Currency: in.Currency, Horizon: a.Horizon, Loans: n,
		MissingFeatures: agg.missing, Assumptions: Assumptions{Horizon: a.Horizon, CollectionCostRate: a.CollectionCostRate,
			ServicingCost: a.ServicingCost, LegalFeeMonth: a.LegalFeeMonth, SimplifiedShare: a.SimplifiedShare,
			LegalCostPerCase: a.LegalCostPerCase, LitigationShare: in.LitigationShare}}
	v.Claim = toAmount(agg.claim, in.Currency)
	v.ExpectedRecovery = toAmount(agg.expected, in.Currency)
	v.ExpectedRate = ratio0(agg.expected, agg.claim)
	v.PMaterialMean = agg.pSum / float64(n)
	v.Baseline = Baseline{ExpectedRecovery: toAmount(agg.baseline, in.Currency), ExpectedRate: ratio0(agg.baseline, agg.claim)}
	v.Tail = agg.tails.info(agg.tail, agg.claim, in.Currency)

	in.progress("projecting", 0, 1)
	eng, err := agg.b.Engine()
	if err != nil {
		return nil, err
	}
	if err := in.price(ctx, v, eng, agg.claim); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		list *topList
		out  *[]LoanValuation
	}{{&agg.top, &v.TopLoans}, {&agg.bottom, &v.BottomLoans}} {
		cands := l.list.final()
		*l.out = make([]LoanValuation, 0, len(cands))
		for i := range cands {
			c := &cands[i]
			lv, err := m.loanValuation(c.in, &c.score, in.Reasons, in.Currency, false)
			if err != nil {
				return nil, err
			}
			*l.out = append(*l.out, lv)
		}
	}
	return v, nil
}

// pipeline runs src in its own goroutine and fn on each batch in the caller's, so that the
// next batch is read while one is processed (the source cannot start a third batch before fn
// takes the second, so at most two are alive). The first error of either stops both and is
// returned. src gets ctx itself, not a derived context, so that a context whose Err does more
// than report Done (valuation/service's) is still polled.
func pipeline(ctx context.Context, src LoanSource, fn func([]Input) error) error {
	batches := make(chan []Input)
	stop := make(chan struct{})
	srcErr := make(chan error, 1)
	go func() {
		defer close(batches)
		srcErr <- src(ctx, func(b []Input) error {
			select {
			case batches <- b:
				return nil
			case <-stop:
				return errStopped
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var err error
	for b := range batches {
		if err = fn(b); err != nil {
			close(stop) // the source's next yield returns errStopped
			break
		}
	}
	if e := <-srcErr; err == nil {
		err = e
	}
	return err
}

// errStopped is what a source's yield returns once the valuation has stopped on an error.
var errStopped = errors.New("valuation: stopped")

// streamAgg accumulates a streaming valuation: the same sums, in the same order, as Value.
type streamAgg struct {
	in       *ValueInput
	m        *RecoveryModel
	tail     Tail
	tails    tailSums
	b        *pricing.Builder
	curveIdx map[string]int
	baseRate map[string]float64 // the static pool's rate by segment
	cov      *Coverage
	n        int

	claim, expected, baseline, pSum float64
	missing                         map[string]int
	top, bottom                     topList
}

func (g *streamAgg) add(batch []Input, scores []LoanScore) {
	for i := range scores {
		s := &scores[i]
		pl := priceLoan(s, g.tail, g.in.LitigationShare)
		c, ok := g.curveIdx[pl.key]
		if !ok {
			c = g.b.AddCurve(g.tail.Curve(s.Timing, pl.within))
			g.curveIdx[pl.key] = c
		}
		pl.loan.Curve = c
		l := pl.loan
		g.b.Add(l)
		g.claim += s.Exposure
		g.expected += pricing.EffectiveRate(l) * s.Exposure
		g.tails.add(&pl, s.Exposure)
		rate, ok := g.baseRate[s.Segment]
		if !ok {
			rate = g.m.Baseline(s.Segment).Rate
			g.baseRate[s.Segment] = rate
		}
		g.baseline += s.Exposure * rate
		g.pSum += s.PRecovery
		for _, f := range s.Missing {
			g.missing[f]++
		}
		cand := candidate{idx: g.n, score: *s}
		g.top.offer(&cand, &batch[i])
		g.bottom.offer(&cand, &batch[i])
		g.n++
	}
}

// candidate is a loan that may be listed: its position in the portfolio, its score and its
// input (a copy that does not hold the batch).
type candidate struct {
	idx   int
	score LoanScore
	in    Input
}

// topBefore orders loans as Value's top list does: by expected rate, highest first, then by loan
// id, then by position.
func topBefore(x, y *candidate) int {
	if c := cmp.Compare(y.score.ExpectedRate, x.score.ExpectedRate); c != 0 {
		return c
	}
	if c := strings.Compare(x.score.LoanID, y.score.LoanID); c != 0 {
		return c
	}
	return cmp.Compare(x.idx, y.idx)
}

// bottomBefore is the bottom list's order: Value's order read from its end.
func bottomBefore(x, y *candidate) int { return topBefore(y, x) }

// topList keeps the first k loans under before, in memory bounded by 4k candidates.
type topList struct {
	k      int
	before func(x, y *candidate) int
	cands  []candidate
	// last is the k-th candidate after the latest trim (valid when trimmed): a loan not before
	// it cannot enter the list.
	last    candidate
	trimmed bool
}

func (t *topList) offer(c *candidate, in *Input) {
	if t.trimmed && t.before(c, &t.last) >= 0 {
		return
	}
	kept := *c
	loan := *in.Loan
	kept.in = *in
	kept.in.Loan = &loan
	kept.in.History = slices.Clone(in.History)
	t.cands = append(t.cands, kept)
	if len(t.cands) >= 4*t.k {
		t.trim()
	}
}

func (t *topList) trim() {
	slices.SortFunc(t.cands, func(x, y candidate) int { return t.before(&x, &y) })
	if len(t.cands) > t.k {
		clear(t.cands[t.k:])
		t.cands = t.cands[:t.k]
	}
	if len(t.cands) == t.k {
		t.last, t.trimmed = t.cands[t.k-1], true
	}
}

// final returns the list, in order.
func (t *topList) final() []candidate {
	t.trim()
	return t.cands
}
