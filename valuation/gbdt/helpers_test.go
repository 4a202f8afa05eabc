package gbdt

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// numFeatures names k numeric features x0..x(k-1).
func numFeatures(k int) []Feature {
	fs := make([]Feature, k)
	for j := range fs {
		fs[j] = Feature{Name: fmt.Sprintf("x%d", j)}
	}
	return fs
}

// genData fills a dataset of n rows with uniform [0, 1) features and label fn(row).
func genData(seed uint64, n int, fs []Feature, fill func(r *rand.Rand, x []float64), label func(r *rand.Rand, x []float64) float64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := NewDataset(fs, n)
	x := make([]float64, len(fs))
	for i := range n {
		for j := range x {
			x[j] = r.Float64()
		}
		if fill != nil {
			fill(r, x)
		}
		for j := range x {
			d.Columns[j][i] = x[j]
		}
		d.Label[i] = label(r, x)
	}
	return d
}

func mustTrain(t testing.TB, p Params, train, valid *Dataset) *Model {
	t.Helper()
	m, err := Train(context.Background(), p, train, valid, nil)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

func predictAll(t testing.TB, m *Model, d *Dataset) []float64 {
	t.Helper()
	out := make([]float64, d.Rows())
	if err := m.PredictDataset(d, out); err != nil {
		t.Fatalf("PredictDataset: %v", err)
	}
	return out
}

func modelBytes(t testing.TB, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return b.Bytes()
}

func bernoulli(r *rand.Rand, p float64) float64 {
	if r.Float64() < p {
		return 1
	}
	return 0
}

func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// gammaVariate draws Gamma(shape >= 1, scale 1) by Marsaglia and Tsang.
func gammaVariate(r *rand.Rand, shape float64) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// mixedData is a small binary problem with numeric, categorical and missing values.
func mixedData(seed uint64, n int) *Dataset {
	fs := []Feature{{Name: "a"}, {Name: "b"}, {Name: "c", Kind: Categorical}, {Name: "d"}, {Name: "e"}}
	return genData(seed, n, fs, func(r *rand.Rand, x []float64) {
		x[2] = float64(r.IntN(6))
		if r.Float64() < 0.2 {
			x[3] = math.NaN()
		}
		if r.Float64() < 0.1 {
			x[2] = math.NaN()
		}
	}, func(r *rand.Rand, x []float64) float64 {
		z := 3*x[0] - 2*x[1]
		if x[2] == 1 || x[2] == 4 {
			z += 1.5
		}
		if math.IsNaN(x[3]) {
			z += 1
		} else {
			z += x[3] * x[4]
		}
		return bernoulli(r, sigmoid(z-1))
	})
}
