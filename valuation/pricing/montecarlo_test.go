package pricing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNormalGenerator(t *testing.T) {
	const n = 1 << 20
	r := newXrng(42, 7)
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = r.norm()
	}
	mean, sd := meanStd(xs)
	if math.Abs(mean) > 4/math.Sqrt(n) || math.Abs(sd*sd-1) > 4*math.Sqrt(2.0/n) {
		t.Errorf("mean %v, variance %v", mean, sd*sd)
	}
	slices.Sort(xs)
	// Kolmogorov–Smirnov distance to Φ; 1.95/√n is the 0.1% critical value.
	d := 0.0
	for i, x := range xs {
		f := normCDF(x)
		d = max(d, math.Abs(f-float64(i)/n), math.Abs(f-float64(i+1)/n))
	}
	if d > 1.95/math.Sqrt(n) {
		t.Errorf("KS distance %v", d)
	}
	// The tails, which come from the slow path.
	for _, x := range []float64{-4, -3.5, -3, 3, 3.5, 4} {
		k, _ := slices.BinarySearch(xs, x)
		got, want := float64(k)/n, normCDF(x)
		if se := math.Sqrt(want * (1 - want) / n); math.Abs(got-want) > 4.5*se+1e-6 {
			t.Errorf("P(X < %v) = %v, want %v", x, got, want)
		}
	}
}

func TestNormQuantile(t *testing.T) {
	for _, p := range []float64{1e-12, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-9} {
		if got := normCDF(normQuantile(p)); math.Abs(got-p) > 1e-12*max(1, p/1e-3) && math.Abs(got/p-1) > 1e-9 {
			t.Errorf("Φ(Φ⁻¹(%v)) = %v", p, got)
		}
	}
	if !math.IsInf(normQuantile(0), -1) || !math.IsInf(normQuantile(1), 1) {
		t.Error("Φ⁻¹ at 0 or 1 is not infinite")
	}
}

func TestWarp(t *testing.T) {
	curve := marketCurve(0.9)
	cum := make([]float64, len(curve)+1)
	for m, s := range curve {
		cum[m+1] = cum[m] + s
	}
	share, surv := make([]float64, 60), make([]float64, 60)
	warp(cum, 1, 0, share, surv)
	for m := range 60 {
		if math.Abs(share[m]-curve[m]) > 1e-15 || math.Abs(surv[m]-survival(cum, m+1)) > 1e-15 {
			t.Fatalf("month %d: share %v surv %v, want %v %v", m+1, share[m], surv[m], curve[m], survival(cum, m+1))
		}
	}
	for _, sd := range [][2]float64{{2, 0}, {0.5, 0}, {1.3, 2.5}, {0.7, 0.4}} {
		long, lsurv := make([]float64, 200), make([]float64, 200)
		warp(cum, sd[0], sd[1], long, lsurv)
		total := 0.0
		for m, x := range long {
			if x < 0 || lsurv[m] < 0 || lsurv[m] > 1 || (m > 0 && lsurv[m] > lsurv[m-1]) {
				t.Fatalf("stretch %v delay %v: month %d share %v survival %v", sd[0], sd[1], m+1, x, lsurv[m])
			}
			total += x
		}
		if math.Abs(total-1) > 1e-12 {
			t.Errorf("stretch %v delay %v: shares sum to %v", sd[0], sd[1], total)
		}
	}
}

func smallEngine(t testing.TB, n int) *Engine {
	t.Helper()
	e, err := NewEngine(synthPortfolio(n, 3), DefaultAssumptions())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSimulateDeterministicBySeed(t *testing.T) {
	e := smallEngine(t, 500)
	for _, exact := range []bool{false, true} {
		cfg := DefaultMonteCarlo()
		cfg.Paths = 40
		cfg.Exact = exact
		var first *Simulation
		for _, w := range []int{1, 2, 5} {
			cfg.Workers = w
			sim, err := e.Simulate(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = sim
				continue
			}
			if !reflect.DeepEqual(first.Gross, sim.Gross) || !reflect.DeepEqual(first.Net, sim.Net) || !reflect.DeepEqual(first.Z, sim.Z) {
				t.Errorf("exact=%v: %d workers give other paths than 1", exact, w)
			}
		}
		cfg.Seed = 2
		other, _ := e.Simulate(context.Background(), cfg)
		if reflect.DeepEqual(first.Gross, other.Gross) {
			t.Errorf("exact=%v: seeds 1 and 2 give the same paths", exact)
		}
	}
}

// meanWithin checks that the sample mean of xs is within z standard errors of want.
func meanWithin(t *testing.T, what string, xs []float64, want, z float64) {
	t.Helper()
	m, sd := meanStd(xs)
	se := sd / math.Sqrt(float64(len(xs)))
	if math.Abs(m-want) > z*se+1e-9*math.Abs(want) {
		t.Errorf("%s: mean %v, want %v (se %v, %.1f se away)", what, m, want, se, math.Abs(m-want)/se)
	} else if testing.Verbose() {
		t.Logf("%s: mean %.6g, want %.6g (%.2f se away, se %.3g%%)", what, m, want, (m-want)/se, 100*se/math.Abs(want))
	}
}

// TestMonteCarloMeanMatchesProjection: with no systemic timing effect the simulator is unbiased
// for the projection, both with ρ = 0 and no noise and with the default copula and severity noise
// (E[p(Z)] = p, and both severity factors have mean 1).
func TestMonteCarloMeanMatchesProjection(t *testing.T) {
	e := smallEngine(t, 2000)
	proj := e.Projection()
	quiet := DefaultMonteCarlo()
	quiet.Rho, quiet.SeverityVol, quiet.IdiosyncraticVol, quiet.TimingStretch, quiet.TimingDelay = 0, 0, 0, 0, 0
	noisy := DefaultMonteCarlo()
	noisy.TimingStretch, noisy.TimingDelay = 0, 0
	for name, cfg := range map[string]MonteCarloConfig{"quiet": quiet, "noisy": noisy} {
		cfg.Paths = 20000
		sim, err := e.Simulate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		tg, tn := make([]float64, cfg.Paths), make([]float64, cfg.Paths)
		for p := range cfg.Paths {
			tg[p], tn[p] = sum(sim.Gross[p]), sum(sim.Net[p])
		}
		meanWithin(t, name+" total gross", tg, proj.Total.Gross, 4)
		meanWithin(t, name+" total net", tn, proj.Total.Net, 4)
		col := make([]float64, cfg.Paths)
		for _, m := range []int{0, 5, 11, 23, 47, 59} {
			for p := range cfg.Paths {
				col[p] = sim.Gross[p][m]
			}
			meanWithin(t, fmt.Sprintf("%s gross month %d", name, m+1), col, proj.Gross[m], 4.5)
		}
	}
}

// TestTimingKeepsTotal: with TimingKeepsTotal, timing effects move collections within the horizon
// without changing their mean total (the projection's); without it, stretching and delaying lose
// collections beyond the horizon and the mean falls below the projection.
func TestTimingKeepsTotal(t *testing.T) {
	e := smallEngine(t, 2000)
	proj := e.Projection()
	cfg := DefaultMonteCarlo()
	cfg.TimingStretch, cfg.TimingDelay = 0.3, 2
	cfg.Paths = 20000
	for _, keep := range []bool{true, false} {
		cfg.TimingKeepsTotal = keep
		sim, err := e.Simulate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		tg := make([]float64, cfg.Paths)
		for p := range cfg.Paths {
			tg[p] = sum(sim.Gross[p])
		}
		if keep {
			meanWithin(t, "kept total gross", tg, proj.Total.Gross, 4)
		} else if m, _ := meanStd(tg); !(m < 0.99*proj.Total.Gross) {
			t.Errorf("without TimingKeepsTotal the mean total %v is not below the projection's %v", m, proj.Total.Gross)
		}
	}
}

// disagreements compares two samples of one quantity: their means and variances by z-tests with
// the standard error of each, and each quantile q of a against b by the share of b below it,
// which is q ± √(q(1−q)(1/n_a + 1/n_b)) when both come from one distribution. It lists every
// statistic more than z standard errors apart.
func disagreements(what string, a, b []float64, qs []float64, z float64) []string {
	var out []string
	ma, sa := meanStd(a)
	mb, sb := meanStd(b)
	na, nb := float64(len(a)), float64(len(b))
	if d := (ma - mb) / math.Sqrt(sa*sa/na+sb*sb/nb); math.Abs(d) > z {
		out = append(out, fmt.Sprintf("%s mean %.6g vs %.6g (%.1f se)", what, ma, mb, d))
	}
	seVar := func(xs []float64, m, s float64) float64 {
		m4 := 0.0
		for _, x := range xs {
			d := x - m
			m4 += d * d * d * d
		}
		m4 /= float64(len(xs))
		return (m4 - s*s*s*s) / float64(len(xs))
	}
	if d := (sa*sa - sb*sb) / math.Sqrt(seVar(a, ma, sa)+seVar(b, mb, sb)); math.Abs(d) > z {
		out = append(out, fmt.Sprintf("%s sd %.6g vs %.6g (%.1f se)", what, sa, sb, d))
	}
	as, bs := slices.Clone(a), slices.Clone(b)
	slices.Sort(as)
	slices.Sort(bs)
	for _, q := range qs {
		x := quantileSorted(as, q)
		lo, _ := slices.BinarySearch(bs, x)
		hi := lo
		for hi < len(bs) && bs[hi] == x {
			hi++
		}
		fb := (float64(lo) + 0.5*float64(hi-lo)) / nb
		if d := (fb - q) / math.Sqrt(q*(1-q)*(1/na+1/nb)); math.Abs(d) > z {
			out = append(out, fmt.Sprintf("%s p%g %.6g: share of the other sample below it %.4f (%.1f se)", what, 100*q, x, fb, d))
		}
	}
	return out
}

// TestFastMatchesExact compares the fast simulator with the loan-level reference on 200 loans and
// 20,000 paths each (different seeds): mean, standard deviation and the 5th, 25th, 50th, 75th and
// 95th percentiles of total collections and of the IRR at a fixed price must agree within four
// standard errors. Deliberately wrong parameters in the fast run must be caught.
func TestFastMatchesExact(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 paths of each simulator")
	}
	e := smallEngine(t, 200)
	price, err := e.Projection().PriceForIRR(0.2)
	if err != nil {
		t.Fatal(err)
	}
	const paths = 20000
	qs := []float64{0.05, 0.25, 0.5, 0.75, 0.95}
	sample := func(e *Engine, cfg MonteCarloConfig) (coll, irr []float64) {
		sim, err := e.Simulate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		coll = make([]float64, paths)
		for p := range paths {
			coll[p] = sum(sim.Gross[p])
		}
		irr, _, _ = sim.pathIRRs(price)
		return coll, irr
	}
	cfg := DefaultMonteCarlo()
	cfg.Paths = paths
	cfg.Exact = true
	cfg.Seed = 11
	exColl, exIRR := sample(e, cfg)
	compare := func(coll, irr []float64) []string {
		return append(disagreements("collections", coll, exColl, qs, 4), disagreements("IRR", irr, exIRR, qs, 4)...)
	}

	cfg.Exact = false
	cfg.Seed = 12
	if bad := compare(sample(e, cfg)); len(bad) > 0 {
		t.Errorf("fast and exact simulators disagree:\n%s", strings.Join(bad, "\n"))
	}

	// The same comparison must fail when the fast run is given a wrong parameter.
	wrongRho := cfg
	wrongRho.Rho = 0.2
	wrongScale := cfg
	wrongScale.SeverityVol = 0.3
	wrongNoise := cfg
	wrongNoise.IdiosyncraticVol = 0.9
	for name, c := range map[string]MonteCarloConfig{"rho 0.2": wrongRho, "systemic severity vol 0.3": wrongScale, "idiosyncratic vol 0.9": wrongNoise} {
		if bad := compare(sample(e, c)); len(bad) == 0 {
			t.Errorf("a fast run with %s was not told apart from the exact one", name)
		} else {
			t.Logf("%s caught: %s", name, bad[0])
		}
	}
	// And when the portfolio is wrong: recoveries 4% higher.
	p := synthPortfolio(200, 3)
	for i := range p.Loans {
		p.Loans[i].ExpectedRate *= 1.04
	}
	e2, err := NewEngine(p, DefaultAssumptions())
	if err != nil {
		t.Fatal(err)
	}
	if bad := compare(sample(e2, cfg)); len(bad) == 0 {
		t.Error("recoveries 4% higher were not told apart")
	} else {
		t.Logf("recoveries +4%% caught: %s", bad[0])
	}
}

func TestOutcomeFanAndConfidence(t *testing.T) {
	e := smallEngine(t, 1000)
	proj := e.Projection()
	cfg := DefaultMonteCarlo()
	cfg.Paths = 2000
	sim, err := e.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	price, err := proj.PriceForIRR(0.2)
	if err != nil {
		t.Fatal(err)
	}
	o, err := sim.Outcome(price, 0.15)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Summary{o.IRR, o.NetMultiple, o.GrossMultiple, o.Collections} {
		if len(s.Percentiles) != len(StandardPercentiles) || !slices.IsSortedFunc(s.Percentiles, func(a, b Percentile) int {
			return int(math.Copysign(1, a.Value-b.Value)) * boolInt(a.Value != b.Value)
		}) {
			t.Errorf("percentiles not increasing: %+v", s.Percentiles)
		}
	}
	// The systemic factor makes the paths' IRRs spread widely around the projection's 20%.
	if o.IRR.At(5) >= 0.2 || o.IRR.At(95) <= 0.2 || o.PMissHurdle <= 0 || o.PMissHurdle >= 1 {
		t.Errorf("IRR p5 %v, p95 %v, P(IRR < 15%%) = %v at the price for 20%%", o.IRR.At(5), o.IRR.At(95), o.PMissHurdle)
	}
	if math.Abs(o.Collections.Mean-proj.Total.Gross) > 0.1*proj.Total.Gross {
		t.Errorf("mean collections %v, projection %v", o.Collections.Mean, proj.Total.Gross)
	}
	fan := sim.Fan()
	for m := range sim.Horizon {
		if !(fan.P5[m] <= fan.P50[m] && fan.P50[m] <= fan.P95[m]) {
			t.Fatalf("month %d: fan %v %v %v", m+1, fan.P5[m], fan.P50[m], fan.P95[m])
		}
	}
	// The price at confidence c meets the target in a share c of the paths.
	prev := math.Inf(1)
	for _, c := range []float64{0.5, 0.8, 0.9, 0.95} {
		pc, err := sim.PriceAtConfidence(0.2, c)
		if err != nil {
			t.Fatal(err)
		}
		if pc >= prev {
			t.Errorf("price at %v confidence %v is not below the one at lower confidence %v", c, pc, prev)
		}
		prev = pc
		oc, _ := sim.Outcome(pc, 0.2)
		if math.Abs((1-oc.PMissHurdle)-c) > 1.5/float64(cfg.Paths) {
			t.Errorf("at the price for %v confidence, %v of paths meet 20%%", c, 1-oc.PMissHurdle)
		}
	}
	if _, err := sim.Outcome(0, 0.1); err == nil {
		t.Error("Outcome at price 0 accepted")
	}
	if _, err := sim.PriceAtConfidence(0.2, 1); err == nil {
		t.Error("confidence 1 accepted")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestUnreachableConfidence(t *testing.T) {
	p := synthPortfolio(100, 5)
	a := DefaultAssumptions()
	a.ServicingCost = 5000 // servicing swamps collections
	e, err := NewEngine(p, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Projection().PriceForIRR(0.2); !errors.Is(err, ErrUnreachable) {
		t.Errorf("PriceForIRR: %v", err)
	}
	cfg := DefaultMonteCarlo()
	cfg.Paths = 50
	sim, err := e.Simulate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if price, err := sim.PriceAtConfidence(0.2, 0.9); !errors.Is(err, ErrUnreachable) || price != 0 {
		t.Errorf("PriceAtConfidence = %v, %v", price, err)
	}
	o, err := sim.Outcome(1000, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if o.NoIRR == 0 || o.PMissHurdle != 1 || o.IRR.At(50) != MinIRR {
		t.Errorf("hopeless portfolio: NoIRR %d, PMissHurdle %v, median IRR %v", o.NoIRR, o.PMissHurdle, o.IRR.At(50))
	}
}

func TestSimulateBadConfig(t *testing.T) {
	e := smallEngine(t, 10)
	for name, edit := range map[string]func(*MonteCarloConfig){
		"paths":       func(c *MonteCarloConfig) { c.Paths = 0 },
		"rho 1":       func(c *MonteCarloConfig) { c.Rho = 1 },
		"rho NaN":     func(c *MonteCarloConfig) { c.Rho = math.NaN() },
		"vol":         func(c *MonteCarloConfig) { c.SeverityVol = -1 },
		"correlation": func(c *MonteCarloConfig) { c.SeverityCorrelation = 2 },
		"workers":     func(c *MonteCarloConfig) { c.Workers = -1 },
	} {
		cfg := DefaultMonteCarlo()
		edit(&cfg)
		var ie *InputError
		if _, err := e.Simulate(context.Background(), cfg); !errors.As(err, &ie) {
			t.Errorf("%s: %v", name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Simulate(ctx, DefaultMonteCarlo()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
