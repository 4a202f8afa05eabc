package valuation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"reclaim/date"
	"reclaim/synth"
	"reclaim/valuation/pricing"
)

// vintage is one simulated vintage: a seasoned synthetic portfolio whose realised collections
// are all scaled by one systemic draw.
type vintage struct {
	ins    []Input
	total  float64 // realised collections within the horizon, after the draw
	draw   float64
	claims float64
}

// systemicVintages builds count vintages of loans loans each (seeds from seed0), each with its
// collections multiplied by exp(σ·W − σ²/2), W ~ N(0, 1) drawn from rng; with b not nil their
// examples are added to it.
func systemicVintages(t *testing.T, seed0 uint64, count, loans, months int, sigma float64, rng *rand.Rand, b *TableBuilder) []vintage {
	t.Helper()
	out := make([]vintage, 0, count)
	var ex Example
	for k := range count {
		seed := seed0 + uint64(k)
		cfg := synth.Config{Seed: seed, Loans: loans, PortfolioRef: fmt.Sprintf("V-%d", seed), CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}
		s, err := synth.NewSeasoned(cfg, months)
		if err != nil {
			t.Fatal(err)
		}
		draw := math.Exp(sigma*rng.NormFloat64() - sigma*sigma/2)
		v := vintage{draw: draw}
		for {
			it, ok := s.Next()
			if !ok {
				break
			}
			SeasonedExample(&it, &ex)
			ex.Recovered *= draw
			for m := range ex.Monthly {
				ex.Monthly[m] *= draw
			}
			if b != nil {
				if err := b.Add(&ex); err != nil {
					t.Fatal(err)
				}
				continue
			}
			l := it.Loan
			v.ins = append(v.ins, Input{Loan: &l, History: it.History, HistoryStart: it.HistoryStart, AsOf: l.CutOffDate})
			v.total += ex.Recovered
			v.claims += ex.Exposure
		}
		out = append(out, v)
	}
	return out
}

// TestUncertaintyCoverage: the systemic volatility estimated from the training data's vintages,
// fed to the pricing Monte Carlo, gives P5-P95 bands of a portfolio's collections that hold the
// realised collections of new vintages (new seeds, new systemic draws) 90% ± 3% of the time.
// Training: 40 vintages of 500 loans, collections scaled per vintage by a lognormal draw of
// σ = 0.15 the estimator is not told. Test: 300 new vintages of 300 loans with their own draws.
func TestUncertaintyCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 110,000 synthetic loans")
	}
	start := time.Now()
	const sigma, months = 0.15, 12
	rng := rand.New(rand.NewPCG(7, 11))
	b := NewTableBuilder(CN(), TableOptions{Horizon: months})
	systemicVintages(t, 1000, 40, 500, months, sigma, rng, b)
	m, err := TrainRecoveryModel(context.Background(), b.Table(), TrainOptions{Trees: 120}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := m.Summary.Uncertainty
	if u == nil || u.Grouping != "portfolio" || u.Cohorts != 40 {
		t.Fatalf("uncertainty %+v", u)
	}
	t.Logf("estimated: total vol %.4f (injected %.2f), count vol %.4f, amount vol %.4f, rho %.5f, severity vol %.4f, idiosyncratic %.3f, stretch %.4f; trained in %v",
		u.TotalVol, sigma, u.CountVol, u.AmountVol, u.Rho, u.SeverityVol, u.IdiosyncraticVol, u.TimingStretch, time.Since(start))
	if math.Abs(u.TotalVol-sigma) > 0.06 {
		t.Errorf("systemic volatility %.4f, injected %.2f", u.TotalVol, sigma)
	}
	test := systemicVintages(t, 5000, 300, 300, months, sigma, rng, nil)
	a := pricing.DefaultAssumptions()
	a.Horizon = months
	a.LegalFeeMonth = 1
	cfg := u.MonteCarlo(pricing.DefaultMonteCarlo())
	cfg.Paths = 400
	cfg.Workers = 2
	inside := 0
	var z []float64
	for k, v := range test {
		scores, err := m.Score(context.Background(), v.ins, ScoreOptions{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		var p pricing.Portfolio
		idx := map[string]int{}
		for _, s := range scores {
			c, ok := idx[s.CurveSegment]
			if !ok {
				c = len(p.Curves)
				idx[s.CurveSegment] = c
				p.Curves = append(p.Curves, s.Timing)
			}
			p.Loans = append(p.Loans, pricing.Loan{ID: s.LoanID, Claim: s.Exposure, PRecovery: s.PRecovery, ExpectedRate: s.ExpectedRate, Curve: c})
		}
		eng, err := pricing.NewEngine(p, a)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Seed = uint64(k + 1)
		sim, err := eng.Simulate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		totals := make([]float64, len(sim.Gross))
		for i, g := range sim.Gross {
			for _, x := range g {
				totals[i] += x
			}
		}
		slices.Sort(totals)
		p5, p95 := totals[len(totals)*5/100], totals[len(totals)*95/100-1]
		if v.total >= p5 && v.total <= p95 {
			inside++
		}
		// Where the realised total falls in the simulated distribution.
		r, _ := slices.BinarySearch(totals, v.total)
		z = append(z, float64(r)/float64(len(totals)))
	}
	cov := float64(inside) / float64(len(test))
	below, above := 0, 0
	for _, q := range z {
		if q < 0.05 {
			below++
		} else if q > 0.95 {
			above++
		}
	}
	t.Logf("coverage of the P5-P95 band: %.1f%% of %d vintages (%d below P5, %d above P95); %v in all", 100*cov, len(test), below, above, time.Since(start))
	if math.Abs(cov-0.90) > 0.03 {
		t.Errorf("P5-P95 coverage %.1f%%, want 90%% ± 3%%", 100*cov)
	}
}

// TestPriceAgreement: with the Monte Carlo calibrated from the model's training data, the
// headline price (target IRR on the expected flows) and the median path agree (the price at which
// half the paths earn the target is within 5% of it), the expected-flow IRR at the headline price
// is the target, and the price is stated with the probability of meeting the hurdle. With the
// uncalibrated defaults (ρ = 0.1, a timing delay that loses collections) the median path's price
// is far below the headline: the test fails without the calibration.
func TestPriceAgreement(t *testing.T) {
	m := smallModel(t)
	u := m.Summary.Uncertainty
	if u == nil || u.Method == "" {
		t.Fatal("the model has no uncertainty estimate")
	}
	t.Logf("uncertainty: %s, %d cohorts, total %.4f count %.4f amount %.4f rho %.5f sevvol %.4f idio %.3f stretch %.4f",
		u.Grouping, u.Cohorts, u.TotalVol, u.CountVol, u.AmountVol, u.Rho, u.SeverityVol, u.IdiosyncraticVol, u.TimingStretch)
	ins, _ := seasonedInputs(t, 17, 3000, 12)
	old := pricing.DefaultMonteCarlo()
	old.Paths = 500
	for _, c := range []struct {
		name string
		mc   *pricing.MonteCarloConfig
		ok   bool
	}{{"calibrated", nil, true}, {"uncalibrated defaults", &old, false}} {
		v, err := Value(context.Background(), ValueInput{Model: m, Loans: ins, Paths: 500, TargetIRR: 0.18, MonteCarlo: c.mc})
		if err != nil {
			t.Fatal(err)
		}
		p, d := v.Price, v.IRRDistribution
		if p.Price.IsAbsent() || d == nil || p.HurdleProbability == nil || p.PriceAtMedian.IsAbsent() {
			t.Fatalf("%s: price %+v distribution %+v", c.name, p, d)
		}
		rel := p.PriceAtMedian.Float()/p.Price.Float() - 1
		t.Logf("%s: price %v (hurdle met on %.1f%% of paths), at the median path %v (%+.2f%%), at %.0f%% confidence %v; IRR expected flows %.4f, median path %.4f, P5 %.4f, P95 %.4f",
			c.name, p.Price, 100**p.HurdleProbability, p.PriceAtMedian, 100*rel, 100*p.Confidence, p.PriceAtConfidence, d.ExpectedFlowIRR, d.MedianIRR, d.Percentiles[1].IRR, d.Percentiles[7].IRR)
		if math.Abs(d.ExpectedFlowIRR-0.18) > 1e-6 || math.Abs(*p.HurdleProbability-(1-d.ProbMissHurdle)) > 1e-12 {
			t.Errorf("%s: expected-flow IRR %v at the headline price, hurdle probability %v", c.name, d.ExpectedFlowIRR, *p.HurdleProbability)
		}
		agree := math.Abs(rel) <= 0.05 && *p.HurdleProbability > 0.35 && *p.HurdleProbability < 0.65
		if agree != c.ok {
			t.Errorf("%s: the median path's price %+.2f%% from the headline, hurdle met on %.1f%% of paths (agreement %v, want %v)",
				c.name, 100*rel, 100**p.HurdleProbability, agree, c.ok)
		}
		if !(p.PriceAtConfidence.Float() < p.PriceAtMedian.Float()) {
			t.Errorf("%s: price at %.0f%% confidence %v is not below the median path's %v", c.name, 100*p.Confidence, p.PriceAtConfidence, p.PriceAtMedian)
		}
	}
}

// TestPoolMonteCarlo: at any payer rate, the pool-level settings give the pool multiplier the
// estimated total systemic spread (TotalVol), with mean 1; the loan-level ρ (solved at MeanP)
// would not at a lower payer rate.
func TestPoolMonteCarlo(t *testing.T) {
	u := &Uncertainty{Method: "test", TotalVol: 0.12, CountVol: 0.08, MeanP: 0.6}
	u.AmountVol = math.Sqrt((1+u.TotalVol*u.TotalVol)/(1+u.CountVol*u.CountVol) - 1)
	u.SeverityVol = math.Sqrt(math.Log1p(u.AmountVol * u.AmountVol))
	u.Rho = rhoForCountVol(u.MeanP, u.CountVol)
	spread := func(cfg pricing.MonteCarloConfig, p float64) (mean, sd float64) {
		const n = 200_000
		var s, s2 float64
		for i := range n {
			m := cfg.PoolPath(p, i).Multiplier
			s += m
			s2 += m * m
		}
		mean = s / n
		return mean, math.Sqrt(s2/n - mean*mean)
	}
	for _, p := range []float64{0.05, 0.2, 0.6} {
		cfg := u.PoolMonteCarlo(pricing.DefaultMonteCarlo(), p)
		mean, sd := spread(cfg, p)
		if math.Abs(mean-1) > 0.002 || math.Abs(sd-u.TotalVol) > 0.004 {
			t.Errorf("payer rate %v: multiplier mean %.4f sd %.4f, want 1 and %.4f (rho %.5f)", p, mean, sd, u.TotalVol, cfg.Rho)
		}
		if cfg.TimingDelay != 0 || cfg.SeverityCorrelation != 0 || cfg.SeverityVol != u.SeverityVol {
			t.Errorf("settings %+v", cfg)
		}
	}
	// The loan-level ρ at a payer rate of 5% overstates the spread.
	if _, sd := spread(u.MonteCarlo(pricing.DefaultMonteCarlo()), 0.05); sd < u.TotalVol+0.01 {
		t.Errorf("loan-level rho at 5%%: sd %.4f, expected it above %.4f", sd, u.TotalVol)
	}
	// No estimate: base unchanged.
	var none *Uncertainty
	if got := none.PoolMonteCarlo(pricing.DefaultMonteCarlo(), 0.2); got != pricing.DefaultMonteCarlo() {
		t.Errorf("no estimate changed the settings: %+v", got)
	}
}
