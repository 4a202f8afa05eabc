package pricing

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// fataler is what build needs of a test (testing.TB and *rapid.T).
type fataler interface {
	Helper()
	Fatal(args ...any)
}

// build adds p's curves and loans to a Builder keeping keep loans.
func build(t fataler, p Portfolio, a Assumptions, keep int) *Engine {
	t.Helper()
	b := NewBuilder(a, keep)
	for _, c := range p.Curves {
		b.AddCurve(c)
	}
	for _, l := range p.Loans {
		b.Add(l)
	}
	e, err := b.Engine()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBuilderKeptLoansIsNewEngine: a Builder that kept every loan gives NewEngine's engine, so the
// projection and the Monte Carlo paths are the same to the bit.
func TestBuilderKeptLoansIsNewEngine(t *testing.T) {
	p := synthPortfolio(3000, 5)
	a := DefaultAssumptions()
	want, err := NewEngine(p, a)
	if err != nil {
		t.Fatal(err)
	}
	got := build(t, p, a, 3000)
	if got.Cohorts() != 0 {
		t.Fatalf("kept loans but built %d cohorts", got.Cohorts())
	}
	if !reflect.DeepEqual(got.Projection(), want.Projection()) {
		t.Error("projections differ")
	}
	cfg := DefaultMonteCarlo()
	cfg.Paths = 50
	s1, err := got.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := want.Simulate(context.Background(), cfg)
	if !reflect.DeepEqual(s1.Gross, s2.Gross) || !reflect.DeepEqual(s1.Net, s2.Net) {
		t.Error("simulations differ")
	}
}

// TestCohortProjectionIdentical: a cohort engine's projection is NewEngine's to the bit (the same
// sums in the same order), for several assumption sets.
func TestCohortProjectionIdentical(t *testing.T) {
	p := synthPortfolio(5000, 6)
	for _, a := range []Assumptions{DefaultAssumptions(), {Horizon: 36, CollectionCostRate: 0.25, ServicingCost: 5, LegalFeeMonth: 2,
		SimplifiedShare: 0.5, LegalCostPerCase: 800}} {
		want, err := NewEngine(p, a)
		if err != nil {
			t.Fatal(err)
		}
		got := build(t, p, a, -1)
		if got.Cohorts() == 0 || got.Loans() != len(p.Loans) {
			t.Fatalf("cohorts %d, loans %d", got.Cohorts(), got.Loans())
		}
		if !reflect.DeepEqual(got.Projection(), want.Projection()) {
			t.Errorf("%+v: projections differ: %+v vs %+v", a, got.Projection().Total, want.Projection().Total)
		}
		if _, err := got.LoanProjection(0); err == nil {
			t.Error("a cohort engine gave a loan projection")
		}
	}
}

// TestCohortMatchesLoanLevelPathByPath: both simulators draw the same systemic state for path p
// under the same seed, so with no timing effect each path's total collections differ only by
// the idiosyncratic draws. Given the state, the loan-level total has the exact variance
// V(Z) = A²·Σ_i (p_i(Z)·a_i'²·e^{σ²} − p_i(Z)²·a_i'²), and the cohort simulator approximates the
// same distribution, so d = (cohort − loan level)/√(2·V(Z)) should have mean 0 and variance 1
// over the paths. The test allows |mean| < 0.15 and sd in [0.8, 1.25] (2,000 paths: the standard
// error of the mean is 0.022 and of the sd about 0.016, so these bounds leave room for the band
// approximation and the lognormal shape of a cohort's sum, and catch a wrong mean or variance).
func TestCohortMatchesLoanLevelPathByPath(t *testing.T) {
	p := synthPortfolio(20000, 7)
	a := DefaultAssumptions()
	a.Horizon = 120 // the curves fit: every path's total is Σ payers' amounts × A
	loan, err := NewEngine(p, a)
	if err != nil {
		t.Fatal(err)
	}
	coh := build(t, p, a, -1)
	cfg := DefaultMonteCarlo()
	cfg.Paths = 2000
	cfg.TimingStretch, cfg.TimingDelay = 0, 0
	s1, err := loan.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := coh.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lift := math.Sqrt(cfg.Rho) * cfg.SeverityVol * cfg.SeverityCorrelation
	noise := math.Exp(cfg.IdiosyncraticVol * cfg.IdiosyncraticVol)
	k := math.Sqrt(1 - cfg.Rho)
	var ds []float64
	var tot1, tot2 []float64
	for path := range cfg.Paths {
		if s1.Z[path] != s2.Z[path] {
			t.Fatalf("path %d: systemic draws differ", path)
		}
		r := newXrng(cfg.Seed, uint64(path))
		st := cfg.state(r.norm(), r.norm())
		v := 0.0
		for i := range p.Loans {
			l := &p.Loans[i]
			sev, rate := severity(l)
			if rate == 0 || l.Claim == 0 {
				continue
			}
			th := normQuantile(l.PRecovery)
			amt := l.Claim * sev * l.PRecovery / normCDF(th+lift) * st.scale
			pz := normCDF((th + math.Sqrt(cfg.Rho)*st.z) / k)
			v += pz*amt*amt*noise - pz*pz*amt*amt
		}
		g1, g2 := sum(s1.Gross[path]), sum(s2.Gross[path])
		tot1, tot2 = append(tot1, g1), append(tot2, g2)
		ds = append(ds, (g2-g1)/math.Sqrt(2*v))
	}
	m, sd := meanStd(ds)
	t.Logf("standardised path differences: mean %.3f, sd %.3f (%d cohorts for %d loans)", m, sd, coh.Cohorts(), len(p.Loans))
	if math.Abs(m) > 0.15 || sd < 0.8 || sd > 1.25 {
		t.Errorf("standardised path differences: mean %.3f, sd %.3f; want mean 0 and sd 1", m, sd)
	}
	// Both are unbiased for the projection's total.
	want := coh.Projection().Total.Gross
	meanWithin(t, "cohort total", tot2, want, 4)
	meanWithin(t, "loan-level total", tot1, want, 4)
}

// TestCohortMatchesLoanLevelDistribution: with the default configuration (timing effects on),
// the distributions of total collections and of the IRR at a fixed price agree between the cohort
// and the loan-level simulator within four standard errors (mean, sd, and the 5th..95th
// percentiles), on independent seeds.
func TestCohortMatchesLoanLevelDistribution(t *testing.T) {
	p := synthPortfolio(10000, 8)
	a := DefaultAssumptions()
	loan, err := NewEngine(p, a)
	if err != nil {
		t.Fatal(err)
	}
	coh := build(t, p, a, -1)
	cfg := DefaultMonteCarlo()
	cfg.Paths = 3000
	s1, err := loan.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 99
	s2, err := coh.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	price, err := loan.Projection().PriceForIRR(0.18)
	if err != nil {
		t.Fatal(err)
	}
	stats := func(s *Simulation) (tot, irr []float64) {
		for path := range s.Gross {
			tot = append(tot, sum(s.Gross[path]))
			r, err := IRR(price, s.Net[path])
			if err != nil {
				r = MinIRR
			}
			irr = append(irr, r)
		}
		return tot, irr
	}
	t1, i1 := stats(s1)
	t2, i2 := stats(s2)
	qs := []float64{0.05, 0.25, 0.5, 0.75, 0.95}
	for _, d := range append(disagreements("total", t2, t1, qs, 4), disagreements("IRR", i2, i1, qs, 4)...) {
		t.Error(d)
	}
}

// TestBinomial checks the sampler's mean and variance on both of its methods and at the edges.
func TestBinomial(t *testing.T) {
	for _, c := range []struct {
		n int
		q float64
	}{{0, 0.3}, {10, 0}, {10, 1}, {50, 0.02}, {200, 0.1}, {40, 0.5}, {1000, 0.3}, {100000, 0.001}, {300, 0.97}} {
		r := newXrng(3, uint64(c.n))
		const draws = 20000
		xs := make([]float64, draws)
		for i := range xs {
			k := binomial(&r, c.n, c.q)
			if k < 0 || k > c.n {
				t.Fatalf("Binomial(%d, %g) drew %d", c.n, c.q, k)
			}
			xs[i] = float64(k)
		}
		m, sd := meanStd(xs)
		wm, wv := float64(c.n)*c.q, float64(c.n)*c.q*(1-c.q)
		if wv == 0 {
			if m != wm || sd != 0 {
				t.Errorf("Binomial(%d, %g): mean %g sd %g, want %g and 0", c.n, c.q, m, sd, wm)
			}
			continue
		}
		if se := math.Sqrt(wv / draws); math.Abs(m-wm) > 4*se {
			t.Errorf("Binomial(%d, %g): mean %g, want %g (se %g)", c.n, c.q, m, wm, se)
		}
		if v := sd * sd; math.Abs(v-wv) > 0.06*wv {
			t.Errorf("Binomial(%d, %g): variance %g, want %g", c.n, c.q, v, wv)
		}
	}
}

// TestBuilderInvalid: invalid loans, curves and assumptions are listed by Engine, with the
// loan's index in the order of Add; Exact is refused on a cohort engine.
func TestBuilderInvalid(t *testing.T) {
	a := DefaultAssumptions()
	a.Horizon = 0
	b := NewBuilder(a, -1)
	b.AddCurve([]float64{0.5, 0.4})
	b.Add(Loan{ID: "ok", Claim: 10, PRecovery: 0.1, ExpectedRate: 0.05})
	b.Add(Loan{ID: "bad", Claim: -1, PRecovery: 2, ExpectedRate: 0.05, Curve: 3})
	_, err := b.Engine()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an *InputError", err)
	}
	if ie.Total != 6 { // horizon, legal fee month, curve sum, claim, p, curve index
		t.Errorf("%d problems, want 6: %v", ie.Total, err)
	}
	found := false
	for _, pr := range ie.Problems {
		if pr.Loan == 1 && pr.LoanID == "bad" && pr.Field == "Claim" {
			found = true
		}
	}
	if !found {
		t.Errorf("the bad loan's claim is not named: %v", err)
	}
	if _, err := NewBuilder(DefaultAssumptions(), 0).Engine(); err == nil {
		t.Error("an engine without curves was built")
	}
	coh := build(t, synthPortfolio(100, 1), DefaultAssumptions(), -1)
	cfg := DefaultMonteCarlo()
	cfg.Exact = true
	if _, err := coh.Simulate(context.Background(), cfg); !errors.As(err, &ie) {
		t.Errorf("Exact on a cohort engine: %v", err)
	}
}

// TestBuilderProperty: for any valid portfolio and assumptions, a Builder's engine, whether it
// kept the loans or built cohorts, has NewEngine's projection to the bit, and a cohort engine's
// cohorts carry every paying loan once (their expected collections sum to the projection's
// weights).
func TestBuilderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		curves := [][]float64{{1}, {0.5, 0.3, 0.2}, {0.1, 0.2, 0.3, 0.4}}
		n := rapid.IntRange(1, 60).Draw(t, "loans")
		loans := make([]Loan, n)
		for i := range loans {
			p := rapid.SampledFrom([]float64{0, 0.001, 0.3, 0.5, 0.99, 1}).Draw(t, "p")
			loans[i] = Loan{
				Claim:        rapid.Float64Range(0, 1e6).Draw(t, "claim"),
				PRecovery:    p,
				ExpectedRate: p * rapid.Float64Range(0, 1.5).Draw(t, "sev") * 0.66,
				Curve:        rapid.IntRange(0, 2).Draw(t, "curve"),
				PLitigation:  rapid.SampledFrom([]float64{0, 0.5, 1}).Draw(t, "lit"),
				Open:         rapid.Bool().Draw(t, "open"),
			}
			loans[i].ExpectedRate = min(loans[i].ExpectedRate, 1)
		}
		a := DefaultAssumptions()
		a.Horizon = rapid.IntRange(1, 6).Draw(t, "horizon")
		a.LegalFeeMonth = rapid.IntRange(1, a.Horizon).Draw(t, "fee month")
		p := Portfolio{Loans: loans, Curves: curves}
		want, err := NewEngine(p, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, keep := range []int{n, -1} {
			got := build(t, p, a, keep)
			if !reflect.DeepEqual(got.Projection(), want.Projection()) {
				t.Fatalf("keep %d: projections differ", keep)
			}
		}
		coh := build(t, p, a, -1)
		weight := make([]float64, len(curves))
		for _, c := range coh.cohorts {
			weight[c.curve] += c.sumAP
		}
		for c := range weight {
			if d := math.Abs(weight[c] - want.curveWeight[c]); d > 1e-9*(1+want.curveWeight[c]) {
				t.Fatalf("curve %d: cohorts carry %v, the projection %v", c, weight[c], want.curveWeight[c])
			}
		}
		cfg := DefaultMonteCarlo()
		cfg.Paths = 3
		if _, err := coh.Simulate(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	})
}
