package pricing

import (
	"fmt"
	"slices"
)

// Engine is a validated, prepared portfolio under fixed assumptions. It is immutable after
// NewEngine and safe for concurrent use.
type Engine struct {
	a      Assumptions
	loans  []Loan // nil for a cohort engine
	nLoans int
	curves [][]float64 // the curves as given
	cum    [][]float64 // cum[c][m] = shares of months 1..m of curve c; cum[c][0] = 0

	claim       float64   // total claim
	curveWeight []float64 // Σ Claim × effective rate, per curve
	curveOpen   []float64 // open accounts, per curve
	legal       float64   // expected legal cost of the portfolio, paid in LegalFeeMonth

	// The loans that can pay (effective rate > 0), as flat arrays for the Monte Carlo.
	actThreshold []float64 // Φ⁻¹(PRecovery)
	actAmount    []float64 // Claim × severity given recovery
	actCurve     []int32

	// cohorts are a cohort engine's paying-capable loans (see Builder); nil for a loan-level one.
	cohorts []cohort
}

// NewEngine validates p under a (see Validate) and prepares it. It copies what it keeps, so p may
// be changed afterwards. The error is an *InputError when the input is invalid.
func NewEngine(p Portfolio, a Assumptions) (*Engine, error) {
	if err := Validate(p, a); err != nil {
		return nil, err
	}
	e := &Engine{
		a:           a,
		loans:       slices.Clone(p.Loans),
		nLoans:      len(p.Loans),
		curves:      make([][]float64, len(p.Curves)),
		cum:         make([][]float64, len(p.Curves)),
		curveWeight: make([]float64, len(p.Curves)),
		curveOpen:   make([]float64, len(p.Curves)),
	}
	for c, s := range p.Curves {
		e.curves[c] = slices.Clone(s)
		cum := make([]float64, len(s)+1)
		for m, x := range s {
			cum[m+1] = cum[m] + x
		}
		e.cum[c] = cum
	}
	active := 0
	for i := range e.loans {
		l := &e.loans[i]
		e.claim += l.Claim
		_, rate := severity(l)
		e.curveWeight[l.Curve] += l.Claim * rate
		if l.Open {
			e.curveOpen[l.Curve]++
		}
		e.legal += expectedLegalCost(l, &a)
		if rate > 0 && l.Claim > 0 {
			active++
		}
	}
	e.actThreshold = make([]float64, 0, active)
	e.actAmount = make([]float64, 0, active)
	e.actCurve = make([]int32, 0, active)
	for i := range e.loans {
		l := &e.loans[i]
		sev, rate := severity(l)
		if rate > 0 && l.Claim > 0 {
			e.actThreshold = append(e.actThreshold, normQuantile(l.PRecovery))
			e.actAmount = append(e.actAmount, l.Claim*sev)
			e.actCurve = append(e.actCurve, int32(l.Curve))
		}
	}
	return e, nil
}

// Project is NewEngine(p, a) followed by Engine.Projection.
func Project(p Portfolio, a Assumptions) (*Projection, error) {
	e, err := NewEngine(p, a)
	if err != nil {
		return nil, err
	}
	return e.Projection(), nil
}

// Assumptions returns the assumptions the engine was built with.
func (e *Engine) Assumptions() Assumptions { return e.a }

// Loans returns the number of loans.
func (e *Engine) Loans() int { return e.nLoans }

// Costs holds monthly costs by kind, in yuan; month m is at index m-1.
type Costs struct {
	// Collection is Assumptions.CollectionCostRate times the month's gross collections.
	Collection []float64
	// Legal is the expected court fee and per-case legal cost, all in Assumptions.LegalFeeMonth.
	Legal []float64
	// Servicing is Assumptions.ServicingCost times the expected number of open accounts still
	// being worked in the month.
	Servicing []float64
	// Total is the sum of the three.
	Total []float64
}

// Totals are sums over the horizon, in yuan.
type Totals struct {
	// Gross is the total gross collections.
	Gross float64 `json:"gross"`
	// Collection is the total collection cost.
	Collection float64 `json:"collection"`
	// Legal is the total legal cost.
	Legal float64 `json:"legal"`
	// Servicing is the total servicing cost.
	Servicing float64 `json:"servicing"`
	// Costs is the sum of the three kinds.
	Costs float64 `json:"costs"`
	// Net is Gross − Costs.
	Net float64 `json:"net"`
}

// Projection is the expected monthly cash flow of a portfolio (or of one loan), in yuan, month m at
// index m-1 of every slice. Net = Gross − Costs.Total month by month.
type Projection struct {
	// Horizon is the number of months (the length of every slice).
	Horizon int
	// Loans is the number of loans projected.
	Loans int
	// Claim is the total claim of those loans.
	Claim float64
	// Gross is the expected gross collections.
	Gross []float64
	// Costs are the expected costs by kind.
	Costs Costs
	// Net is the expected net cash flow to the buyer.
	Net []float64
	// Total sums every series over the horizon.
	Total Totals
}

func newProjection(h int) *Projection {
	return &Projection{
		Horizon: h,
		Gross:   make([]float64, h),
		Costs: Costs{
			Collection: make([]float64, h),
			Legal:      make([]float64, h),
			Servicing:  make([]float64, h),
			Total:      make([]float64, h),
		},
		Net: make([]float64, h),
	}
}

// finish derives collection cost, totals and net from Gross, Legal and Servicing.
func (p *Projection) finish(collectionRate float64) {
	var t Totals
	for m := range p.Gross {
		g := p.Gross[m]
		cc := collectionRate * g
		p.Costs.Collection[m] = cc
		tc := cc + p.Costs.Legal[m] + p.Costs.Servicing[m]
		p.Costs.Total[m] = tc
		p.Net[m] = g - tc
		t.Gross += g
		t.Collection += cc
		t.Legal += p.Costs.Legal[m]
		t.Servicing += p.Costs.Servicing[m]
		t.Costs += tc
		t.Net += g - tc
	}
	p.Total = t
}

// survival returns the share of a curve's accounts still being worked in month m (1-based): one
// minus the share of lifetime recovery collected before the month, 1 − Σ_{k<m} share_k. Accounts
// are taken to resolve (pay out or be closed) at the pace their curve collects.
func survival(cum []float64, m int) float64 {
	k := min(m-1, len(cum)-1)
	return max(1-cum[k], 0)
}

// Projection returns the portfolio's expected monthly cash flows:
//
//   - Gross in month m: Σ over loans of Claim × effective rate (see EffectiveRate) × the share of
//     month m in the loan's curve. When every curve fits within the horizon, the total is
//     Σ Claim × effective rate.
//   - Collection cost: CollectionCostRate × Gross.
//   - Legal: Σ PLitigation × (CourtFee, at the SimplifiedShare mix of procedures, +
//     LegalCostPerCase), all in LegalFeeMonth.
//   - Servicing in month m: ServicingCost × Σ over open loans of the survival implied by the
//     loan's curve, 1 − (share collected before month m).
func (e *Engine) Projection() *Projection {
	h := e.a.Horizon
	p := newProjection(h)
	p.Loans = e.nLoans
	p.Claim = e.claim
	for c, w := range e.curveWeight {
		shares := e.curves[c]
		n := min(len(shares), h)
		for m := range n {
			p.Gross[m] += w * shares[m]
		}
		if open := e.curveOpen[c]; open > 0 {
			for m := range h {
				p.Costs.Servicing[m] += e.a.ServicingCost * open * survival(e.cum[c], m+1)
			}
		}
	}
	p.Costs.Legal[e.a.LegalFeeMonth-1] = e.legal
	p.finish(e.a.CollectionCostRate)
	return p
}

// LoanProjection returns the expected monthly cash flows of loan i (its index in Portfolio.Loans),
// by the same rules as Projection, so the loans' projections add up to the portfolio's. An index
// out of range is an error, and so is any index for a cohort engine (see Builder), which keeps no
// loan.
func (e *Engine) LoanProjection(i int) (*Projection, error) {
	if e.cohorts != nil {
		return nil, fmt.Errorf("pricing: a cohort engine keeps no loan-level detail")
	}
	if i < 0 || i >= len(e.loans) {
		return nil, fmt.Errorf("pricing: loan index %d out of range [0, %d)", i, len(e.loans))
	}
	l := &e.loans[i]
	h := e.a.Horizon
	p := newProjection(h)
	p.Loans = 1
	p.Claim = l.Claim
	_, rate := severity(l)
	w := l.Claim * rate
	shares := e.curves[l.Curve]
	for m := range min(len(shares), h) {
		p.Gross[m] = w * shares[m]
	}
	if l.Open {
		for m := range h {
			p.Costs.Servicing[m] = e.a.ServicingCost * survival(e.cum[l.Curve], m+1)
		}
	}
	p.Costs.Legal[e.a.LegalFeeMonth-1] = expectedLegalCost(l, &e.a)
	p.finish(e.a.CollectionCostRate)
	return p, nil
}
