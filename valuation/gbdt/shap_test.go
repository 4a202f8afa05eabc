package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestShapAdditivity: contributions plus bias sum to the margin on random rows.
func TestShapAdditivity(t *testing.T) {
	d := mixedData(31, 3000)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.Subsample, p.ColSample = 40, 5, 0.8, 0.8
	m := mustTrain(t, p, d, nil)
	test := mixedData(32, 300)
	x := make([]float64, len(d.Features))
	phi := make([]float64, len(x)+1)
	for i := range test.Rows() {
		test.Row(i, x)
		if err := m.Contributions(x, phi); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, v := range phi {
			sum += v
		}
		if raw := m.PredictRaw(x); math.Abs(sum-raw) > 1e-9 {
			t.Fatalf("row %d: contributions sum to %v; margin %v", i, sum, raw)
		}
	}
	if err := m.Contributions(x[:2], phi); err == nil {
		t.Errorf("short row accepted")
	}
	if err := m.Contributions(x, phi[:3]); err == nil {
		t.Errorf("short phi accepted")
	}
}

// condExpect is the tree's value when the features in s are known (x) and the rest are
// averaged over the branches by training cover: the value function TreeSHAP explains.
func condExpect(t *tree, n int, x []float64, s uint) float64 {
	if t.feature[n] < 0 {
		return t.value[n]
	}
	if s>>uint(t.feature[n])&1 == 1 {
		if t.goesLeft(n, x) {
			return condExpect(t, int(t.left[n]), x, s)
		}
		return condExpect(t, int(t.right[n]), x, s)
	}
	l, r := t.coverShares(n)
	return l*condExpect(t, int(t.left[n]), x, s) + r*condExpect(t, int(t.right[n]), x, s)
}

// bruteShapley computes exact Shapley values by enumerating every subset.
func bruteShapley(m *Model, x []float64) []float64 {
	F := len(x)
	v := func(s uint) float64 {
		sum := m.base
		for i := range m.trees {
			sum += condExpect(&m.trees[i], 0, x, s)
		}
		return sum
	}
	fact := func(k int) float64 {
		f := 1.0
		for i := 2; i <= k; i++ {
			f *= float64(i)
		}
		return f
	}
	phi := make([]float64, F+1)
	for j := range F {
		for s := uint(0); s < 1<<F; s++ {
			if s>>uint(j)&1 == 1 {
				continue
			}
			k := 0
			for b := s; b != 0; b &= b - 1 {
				k++
			}
			w := fact(k) * fact(F-k-1) / fact(F)
			phi[j] += w * (v(s|1<<uint(j)) - v(s))
		}
	}
	phi[F] = v(0)
	return phi
}

// TestShapBruteForce compares TreeSHAP with exact Shapley values on a 5-feature model whose
// trees reuse features along their paths.
func TestShapBruteForce(t *testing.T) {
	d := mixedData(33, 2000)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.LearningRate = 12, 4, 0.3
	m := mustTrain(t, p, d, nil)
	reused := false
	for i := range m.trees {
		tr := &m.trees[i]
		seen := map[int32]int{}
		for _, f := range tr.feature {
			if f >= 0 {
				seen[f]++
				if seen[f] > 1 {
					reused = true
				}
			}
		}
	}
	if !reused {
		t.Fatal("no tree splits twice on a feature; the test would not cover unwinding")
	}
	r := rand.New(rand.NewPCG(5, 5))
	x := make([]float64, 5)
	phi := make([]float64, 6)
	for k := 0; k < 50; k++ {
		mixedData(uint64(100+k), 1).Row(0, x)
		if k%5 == 0 {
			x[r.IntN(5)] = math.NaN()
		}
		if err := m.Contributions(x, phi); err != nil {
			t.Fatal(err)
		}
		want := bruteShapley(m, x)
		for j := range phi {
			if math.Abs(phi[j]-want[j]) > 1e-9 {
				t.Fatalf("row %v: phi[%d] = %v; brute force %v", x, j, phi[j], want[j])
			}
		}
	}
}
