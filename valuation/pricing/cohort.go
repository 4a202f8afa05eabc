package pricing

import (
	"fmt"
	"math"
	"slices"
)

// Streaming engines: a portfolio too large to hold loan by loan is added to a Builder one loan at
// a time. The Builder keeps what the projection needs (per-curve sums, exactly the sums NewEngine
// computes, in the same order) and, for the Monte Carlo, cohorts: the paying-capable loans grouped
// by timing curve and by a narrow band of Φ⁻¹(PRecovery). A cohort keeps four sums, whatever the
// number of its loans, so the engine's memory is bounded by curves × bands, not by loans.
//
// While the portfolio has at most Builder's loan limit, the loans themselves are kept too and
// Engine returns exactly NewEngine's engine (the loan-level Monte Carlo, path for path). Beyond
// it they are dropped and the engine simulates cohorts (see MonteCarloConfig, "Cohorts").

// CohortBand is the width, in Φ⁻¹(PRecovery), of the bands cohorts group loans by. Within a band
// the loans' conditional recovery probabilities p_i(Z) differ by less than about 1% relative to
// each other for |Z| ≤ 4 at ρ = 0.1, which is what the cohort simulation approximates away.
const CohortBand = 0.02

// DefaultKeepLoans is the number of loans up to which a Builder keeps them (and its engine is the
// loan-level one).
const DefaultKeepLoans = 50_000

// cohortKey names a cohort: a curve and a band of thresholds.
type cohortKey struct {
	curve int32
	band  int32
}

// cohort holds the sums of one cohort's paying-capable loans (effective rate > 0, claim > 0):
// a_i = Claim × severity (the amount paid given recovery, before the systemic factors) and
// p_i = PRecovery.
type cohort struct {
	curve int32
	n     float64 // loans
	sumP  float64 // Σ p_i
	sumAP float64 // Σ a_i·p_i: the cohort's expected collections
	sumA2 float64 // Σ a_i²·p_i
}

// Builder builds an Engine from loans added one at a time, in memory bounded by the number of
// curves and cohorts (plus the loans themselves while there are at most its loan limit). It is
// not safe for concurrent use.
type Builder struct {
	a      Assumptions
	curves [][]float64
	ps     problems

	n           int
	claim       float64
	curveWeight []float64
	curveOpen   []float64
	legal       float64

	keep    int
	loans   []Loan // nil once more than keep loans were added
	cohorts []cohort
	index   map[cohortKey]int
}

// NewBuilder starts an engine under the assumptions a. While at most keepLoans loans are added
// (0: DefaultKeepLoans; negative: none) the loans are kept and Engine returns NewEngine's
// loan-level engine; beyond that the engine simulates cohorts.
func NewBuilder(a Assumptions, keepLoans int) *Builder {
	if keepLoans == 0 {
		keepLoans = DefaultKeepLoans
	}
	b := &Builder{a: a, keep: max(keepLoans, 0), index: map[cohortKey]int{}}
	a.check(&b.ps)
	if b.keep > 0 {
		b.loans = make([]Loan, 0, min(b.keep, 4096))
	}
	return b
}

// AddCurve adds a timing curve (see Portfolio.Curves) and returns its index for Loan.Curve. The
// curve is copied. An invalid curve is reported by Engine.
func (b *Builder) AddCurve(shares []float64) int {
	c := len(b.curves)
	checkCurve(&b.ps, c, shares)
	b.curves = append(b.curves, slices.Clone(shares))
	b.curveWeight = append(b.curveWeight, 0)
	b.curveOpen = append(b.curveOpen, 0)
	return c
}

// Curves returns the number of curves added.
func (b *Builder) Curves() int { return len(b.curves) }

// Loans returns the number of loans added.
func (b *Builder) Loans() int { return b.n }

// Add adds a loan whose Curve indexes a curve already added. An invalid loan is reported by
// Engine, with its index in the order of Add.
func (b *Builder) Add(l Loan) {
	i := b.n
	b.n++
	before := b.ps.e.Total
	checkLoan(&b.ps, i, &l, len(b.curves))
	if b.ps.e.Total > before {
		b.loans = nil
		return
	}
	if b.loans != nil {
		if len(b.loans) < b.keep {
			b.loans = append(b.loans, l)
		} else {
			b.loans = nil
		}
	}
	// The same sums as NewEngine, in the same order (so the projection is the same to the bit).
	b.claim += l.Claim
	sev, rate := severity(&l)
	b.curveWeight[l.Curve] += l.Claim * rate
	if l.Open {
		b.curveOpen[l.Curve]++
	}
	b.legal += expectedLegalCost(&l, &b.a)
	if !(rate > 0 && l.Claim > 0) {
		return
	}
	t := normQuantile(l.PRecovery)
	band := int32(math.MaxInt32) // PRecovery 1: always pays
	if !math.IsInf(t, 1) {
		band = int32(math.Floor(t / CohortBand))
	}
	k := cohortKey{curve: int32(l.Curve), band: band}
	j, ok := b.index[k]
	if !ok {
		j = len(b.cohorts)
		b.index[k] = j
		b.cohorts = append(b.cohorts, cohort{curve: int32(l.Curve)})
	}
	c := &b.cohorts[j]
	a := l.Claim * sev
	c.n++
	c.sumP += l.PRecovery
	c.sumAP += a * l.PRecovery
	c.sumA2 += a * a * l.PRecovery
}

// Cohorts returns the number of cohorts the loans fall in.
func (b *Builder) Cohorts() int { return len(b.cohorts) }

// Engine returns the engine of the loans added: NewEngine's when the loans were kept, else a
// cohort engine (Engine.Cohorts > 0) whose Projection equals NewEngine's on the same loans, whose
// LoanProjection is unavailable and whose Monte Carlo simulates cohorts. The error is an
// *InputError listing every invalid assumption, curve and loan. The Builder must not be used
// afterwards.
func (b *Builder) Engine() (*Engine, error) {
	if len(b.curves) == 0 {
		b.ps.setting("len(Portfolio.Curves)", 0, "must have at least one timing curve")
	}
	if err := b.ps.err(); err != nil {
		return nil, err
	}
	if b.loans != nil && len(b.loans) == b.n {
		return NewEngine(Portfolio{Loans: b.loans, Curves: b.curves}, b.a)
	}
	e := &Engine{
		a:           b.a,
		nLoans:      b.n,
		curves:      b.curves,
		cum:         make([][]float64, len(b.curves)),
		claim:       b.claim,
		curveWeight: b.curveWeight,
		curveOpen:   b.curveOpen,
		legal:       b.legal,
		cohorts:     b.cohorts,
	}
	for c, s := range b.curves {
		cum := make([]float64, len(s)+1)
		for m, x := range s {
			cum[m+1] = cum[m] + x
		}
		e.cum[c] = cum
	}
	if e.cohorts == nil {
		e.cohorts = []cohort{} // a cohort engine with no paying loan
	}
	return e, nil
}

// Cohorts returns the number of cohorts a cohort engine simulates, 0 for a loan-level engine.
func (e *Engine) Cohorts() int { return len(e.cohorts) }

// cohortSim is a cohort prepared for one simulation.
type cohortSim struct {
	curve int32
	n     int
	t     float64 // Φ⁻¹ of the mean PRecovery
	mu    float64 // mean amount of a payer (after the lift correction), before A and η
	m2    float64 // mean square of a payer's amount, noise included
}

// prepareCohorts turns the cohorts' sums into what a path needs under cfg: the mean is exact (the
// cohort's expected collections are Σ a_i·p_i, as in the projection); the spread within a band is
// approximated by the band's mean threshold.
func (e *Engine) prepareCohorts(cfg *MonteCarloConfig) []cohortSim {
	lift := math.Sqrt(cfg.Rho) * cfg.SeverityVol * cfg.SeverityCorrelation
	noise := math.Exp(cfg.IdiosyncraticVol * cfg.IdiosyncraticVol)
	out := make([]cohortSim, 0, len(e.cohorts))
	for _, c := range e.cohorts {
		pbar := c.sumP / c.n
		t := normQuantile(pbar)
		// E[N·A] = n·Φ(t + lift) for N ~ Binomial(n, p̄(Z)), so this mean makes E[collections]
		// = Σ a_i·p_i.
		den := c.n * normCDF(t+lift)
		if !(den > 0) {
			continue
		}
		mu := c.sumAP / den
		k := pbar / normCDF(t+lift) // the lift correction of one payer's amount
		m2 := c.sumA2 / c.sumP * k * k * noise
		out = append(out, cohortSim{curve: c.curve, n: int(c.n), t: t, mu: mu, m2: m2})
	}
	return out
}

// cohortLoans draws every cohort for one path and adds its collections (before the systemic
// scale A) to its curve's accumulator: the number of payers N ~ Binomial(n, p̄(Z)), p̄(Z) the
// copula's conditional probability at the cohort's mean threshold, and their total amount, given
// N, lognormal with the mean N·μ and the variance N·(m2 − μ²) of a sum of N independent payers.
func (e *Engine) cohortLoans(cfg *MonteCarloConfig, cs []cohortSim, r *xrng, st state, w *pathWork) {
	clear(w.acc)
	k := math.Sqrt(1 - cfg.Rho)
	shift := math.Sqrt(cfg.Rho) * st.z
	for i := range cs {
		c := &cs[i]
		q := 1.0
		if !math.IsInf(c.t, 1) {
			q = normCDF((c.t + shift) / k)
		}
		payers := binomial(r, c.n, q)
		if payers == 0 {
			continue
		}
		mean := float64(payers) * c.mu
		v := float64(payers) * (c.m2 - c.mu*c.mu)
		x := mean
		if v > 0 && mean > 0 {
			s2 := math.Log1p(v / (mean * mean))
			x = mean * math.Exp(math.Sqrt(s2)*r.norm()-s2/2)
		}
		w.acc[c.curve] += x
	}
}

// binomial draws from Binomial(n, q): by inversion when the smaller of n·q and n·(1−q) is below
// 30 (exact), else by the normal approximation with a continuity correction.
func binomial(r *xrng, n int, q float64) int {
	switch {
	case n <= 0 || !(q > 0):
		return 0
	case q >= 1:
		return n
	case q > 0.5:
		return n - binomial(r, n, 1-q)
	}
	nf := float64(n)
	if nf*q < 30 {
		u := r.float64()
		pk := math.Exp(nf * math.Log1p(-q))
		f := pk
		odds := q / (1 - q)
		k := 0
		for u > f && k < n {
			pk *= float64(n-k) / float64(k+1) * odds
			k++
			f += pk
			if pk == 0 {
				break
			}
		}
		return k
	}
	x := math.Floor(nf*q + math.Sqrt(nf*q*(1-q))*r.norm() + 0.5)
	return int(min(max(x, 0), nf))
}

// String describes the engine for logs: loans, curves, and loan-level or cohorts.
func (e *Engine) String() string {
	if e.cohorts != nil {
		return fmt.Sprintf("pricing engine: %d loans, %d curves, %d cohorts", e.nLoans, len(e.curves), len(e.cohorts))
	}
	return fmt.Sprintf("pricing engine: %d loans, %d curves, loan level", e.nLoans, len(e.curves))
}
