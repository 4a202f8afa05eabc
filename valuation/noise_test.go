package valuation

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"
)

// noiseWorld is a synthetic book with a known law: loan i recovers sev_i of its exposure with
// probability p_i and nothing otherwise, so E[rate_i] = p_i sev_i and Var(rate_i) = sev_i² p_i (1
// − p_i) exactly.
type noiseWorld struct {
	exposure, p, sev, mu []float64
	pkg                  []int
}

func newNoiseWorld(rng *rand.Rand, packages, perPackage int) *noiseWorld {
	n := packages * perPackage
	w := &noiseWorld{exposure: make([]float64, n), p: make([]float64, n), sev: make([]float64, n), mu: make([]float64, n), pkg: make([]int, n)}
	for i := range n {
		w.exposure[i] = math.Exp(8 + 0.8*rng.NormFloat64())
		w.p[i] = 0.2 + 0.6*rng.Float64()
		w.sev[i] = 0.05 + 0.25*rng.Float64()
		w.mu[i] = w.p[i] * w.sev[i]
		w.pkg[i] = i % packages
	}
	return w
}

// draw returns one realisation of the rates.
func (w *noiseWorld) draw(rng *rand.Rand) []float64 {
	r := make([]float64, len(w.p))
	for i := range r {
		if rng.Float64() < w.p[i] {
			r[i] = w.sev[i]
		}
	}
	return r
}

// trueSD is the exact standard deviation of each package's relative error of the perfect model.
func (w *noiseWorld) trueSD(packages int) []float64 {
	v, m := make([]float64, packages), make([]float64, packages)
	for i, e := range w.exposure {
		v[w.pkg[i]] += e * e * w.sev[i] * w.sev[i] * w.p[i] * (1 - w.p[i])
		m[w.pkg[i]] += e * w.mu[i]
	}
	for k := range v {
		v[k] = math.Sqrt(v[k]) / m[k]
	}
	return v
}

// TestSamplingNoiseKnownVariance: on a book whose Var(rate | x) is known, the estimated standard
// deviation of every package's error is the true one (within 10%, by all three estimates), and
// the probability of landing within the tolerance, stated per package and on all packages at
// once, matches the frequency over 2,000 independent realisations of the book scored by the
// true expectations.
func TestSamplingNoiseKnownVariance(t *testing.T) {
	const packages, per = 5, 2000
	rng := rand.New(rand.NewPCG(7, 11))
	w := newNoiseWorld(rng, packages, per)
	truth := w.trueSD(packages)
	rep := SamplingNoise(w.exposure, w.mu, w.draw(rng), w.pkg, NoiseOptions{Tolerance: 0.03, Draws: 4000, Seed: 3})
	if len(rep.Packages) != packages {
		t.Fatalf("%d packages, want %d", len(rep.Packages), packages)
	}
	for k, pn := range rep.Packages {
		if pn.Loans != per {
			t.Errorf("package %d: %d loans, want %d", k, pn.Loans, per)
		}
		want := 100 * truth[k]
		for name, got := range map[string]float64{"binned": pn.SDPct, "residual": pn.ResidualSDPct, "bootstrap": pn.BootstrapSDPct} {
			if math.Abs(got/want-1) > 0.10 {
				t.Errorf("package %d: %s sd %.3f%%, true %.3f%%", k, name, got, want)
			}
		}
	}

	// The realised frequencies of |error| <= 3% by a model that knows every E[rate_i].
	const reps = 2000
	hits := make([]int, packages)
	all := 0
	for range reps {
		r := w.draw(rng)
		diff, mu := make([]float64, packages), make([]float64, packages)
		for i := range r {
			diff[w.pkg[i]] += w.exposure[i] * (r[i] - w.mu[i])
			mu[w.pkg[i]] += w.exposure[i] * w.mu[i]
		}
		ok := true
		for k := range diff {
			if math.Abs(diff[k]) <= 0.03*mu[k] {
				hits[k]++
			} else {
				ok = false
			}
		}
		if ok {
			all++
		}
	}
	for k, pn := range rep.Packages {
		f := float64(hits[k]) / reps
		if math.Abs(pn.PWithin-f) > 0.05 || math.Abs(pn.PWithinSim-f) > 0.05 {
			t.Errorf("package %d: P(within 3%%) stated %.3f (simulated %.3f), realised %.3f", k, pn.PWithin, pn.PWithinSim, f)
		}
		if pn.PWithin <= 0.2 || pn.PWithin >= 0.98 {
			t.Errorf("package %d: P(within) %.3f: the test's book should make the question open", k, pn.PWithin)
		}
	}
	fAll := float64(all) / reps
	if math.Abs(rep.PAll-fAll) > 0.06 || math.Abs(rep.PAllSim-fAll) > 0.06 {
		t.Errorf("P(all within 3%%) stated %.3f (simulated %.3f), realised %.3f", rep.PAll, rep.PAllSim, fAll)
	}
}

// TestSamplingNoiseScaling: quadrupling a package's loans halves its noise (the sd falls as
// 1/sqrt(n)), and doubling every exposure changes nothing (the error is relative).
func TestSamplingNoiseScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	small := newNoiseWorld(rng, 1, 2000)
	large := newNoiseWorld(rng, 1, 8000)
	rs := SamplingNoise(small.exposure, small.mu, small.draw(rng), small.pkg, NoiseOptions{Draws: -1})
	rl := SamplingNoise(large.exposure, large.mu, large.draw(rng), large.pkg, NoiseOptions{Draws: -1})
	if ratio := rs.Packages[0].SDPct / rl.Packages[0].SDPct; math.Abs(ratio-2) > 0.25 {
		t.Errorf("sd(2,000 loans) / sd(8,000 loans) = %.3f, want about 2", ratio)
	}
	rate := small.draw(rng)
	double := make([]float64, len(small.exposure))
	for i, e := range small.exposure {
		double[i] = 2 * e
	}
	a := SamplingNoise(small.exposure, small.mu, rate, small.pkg, NoiseOptions{Draws: -1})
	b := SamplingNoise(double, small.mu, rate, small.pkg, NoiseOptions{Draws: -1})
	if math.Abs(a.Packages[0].SDPct-b.Packages[0].SDPct) > 1e-9 || math.Abs(a.Packages[0].ErrorPct-b.Packages[0].ErrorPct) > 1e-9 {
		t.Errorf("doubling exposures moved the noise: %+v against %+v", a.Packages[0], b.Packages[0])
	}
}

// TestSamplingNoiseEdges: no loans, and a book with no randomness at all.
func TestSamplingNoiseEdges(t *testing.T) {
	if rep := SamplingNoise(nil, nil, nil, nil, NoiseOptions{}); len(rep.Packages) != 0 {
		t.Errorf("no loans gave %d packages", len(rep.Packages))
	}
	exposure := []float64{100, 200, 300, 400}
	rate := []float64{0.1, 0.1, 0.1, 0.1}
	rep := SamplingNoise(exposure, rate, rate, []int{0, 1, 0, 1}, NoiseOptions{Draws: 100})
	for _, pn := range rep.Packages {
		if pn.SDPct != 0 || pn.ResidualSDPct != 0 || pn.PWithin != 1 || pn.PWithinSim != 1 || pn.ErrorPct != 0 {
			t.Errorf("a certain book: %+v", pn)
		}
	}
	if rep.PAll != 1 || rep.PAllSim != 1 {
		t.Errorf("a certain book: P(all) %v / %v", rep.PAll, rep.PAllSim)
	}
}

// TestSamplingNoiseProperties (rapid): for any book, the probabilities lie in [0, 1], the joint
// one is the product of the packages' and no larger than any of them, the estimates are
// non-negative, and neither the order of the loans nor the scale of the exposures changes the
// standard deviations.
func TestSamplingNoiseProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(rt, "loans")
		k := rapid.IntRange(1, 4).Draw(rt, "packages")
		exposure, pred, rate := make([]float64, n), make([]float64, n), make([]float64, n)
		pkg := make([]int, n)
		for i := range n {
			exposure[i] = rapid.Float64Range(1, 1e6).Draw(rt, "exposure")
			pred[i] = rapid.Float64Range(0.001, 1).Draw(rt, "pred")
			rate[i] = rapid.Float64Range(0, 1).Draw(rt, "rate")
			pkg[i] = i % k
		}
		opts := NoiseOptions{Bins: rapid.IntRange(1, 12).Draw(rt, "bins"), Draws: 50, Seed: 9}
		rep := SamplingNoise(exposure, pred, rate, pkg, opts)
		prod := 1.0
		for _, pn := range rep.Packages {
			for _, p := range []float64{pn.PWithin, pn.PWithinSim} {
				if !(p >= 0 && p <= 1) {
					rt.Fatalf("probability %v outside [0, 1]: %+v", p, pn)
				}
			}
			if !(pn.SDPct >= 0 && pn.ResidualSDPct >= 0 && pn.BootstrapSDPct >= 0) {
				rt.Fatalf("negative sd: %+v", pn)
			}
			if rep.PAll > pn.PWithin+1e-12 || rep.PAllSim > pn.PWithinSim+1e-12 {
				rt.Fatalf("P(all) %v / %v above a package's %v / %v", rep.PAll, rep.PAllSim, pn.PWithin, pn.PWithinSim)
			}
			prod *= pn.PWithin
		}
		if math.Abs(prod-rep.PAll) > 1e-12 {
			rt.Fatalf("P(all) %v, product %v", rep.PAll, prod)
		}
		// Reverse the loans and scale the exposures: the sds stay.
		m := rapid.Float64Range(0.01, 100).Draw(rt, "scale")
		e2, p2, r2, k2 := make([]float64, n), make([]float64, n), make([]float64, n), make([]int, n)
		for i := range n {
			j := n - 1 - i
			e2[j], p2[j], r2[j], k2[j] = m*exposure[i], pred[i], rate[i], pkg[i]
		}
		rep2 := SamplingNoise(e2, p2, r2, k2, opts)
		for p := range rep.Packages {
			a, b := rep.Packages[p], rep2.Packages[p]
			if math.Abs(a.ResidualSDPct-b.ResidualSDPct) > 1e-6*(1+a.ResidualSDPct) || math.Abs(a.ErrorPct-b.ErrorPct) > 1e-6*(1+math.Abs(a.ErrorPct)) {
				rt.Fatalf("package %d moved: %+v against %+v", p, a, b)
			}
		}
	})
}

// TestSamplingNoiseGolden pins the report on a small seeded book (testdata/noise.golden.json;
// `go test ./valuation -run TestSamplingNoiseGolden -update` rewrites it): bins, per-package
// estimates and probabilities, stated and simulated.
func TestSamplingNoiseGolden(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 4))
	w := newNoiseWorld(rng, 3, 300)
	rep := SamplingNoise(w.exposure, w.mu, w.draw(rng), w.pkg, NoiseOptions{Bins: 5, Tolerance: 0.05, Draws: 500, Seed: 8})
	r := func(x []float64) {
		for i := range x {
			x[i] = round9(x[i])
		}
	}
	r(rep.BinVariance)
	r(rep.BinMean)
	r(rep.BinUpper)
	rep.PAll = round9(rep.PAll)
	for i := range rep.Packages {
		p := &rep.Packages[i]
		for _, x := range []*float64{&p.Predicted, &p.Recovered, &p.ErrorPct, &p.SDPct, &p.ResidualSDPct, &p.BootstrapSDPct, &p.PWithin} {
			*x = round9(*x)
		}
	}
	b, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "noise.golden.json")
	if *update {
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("the report differs from %s: %s", path, firstDiff(string(b)+"\n", string(want)))
	}
}
