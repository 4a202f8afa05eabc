package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// benchData is a 40-feature binary problem like the peer benchmark's (bench/gbdt), smaller.
func benchData(seed uint64, n int) *Dataset {
	fs := numFeatures(40)
	for j := 34; j < 40; j++ {
		fs[j].Kind = Categorical
	}
	return genData(seed, n, fs, func(r *rand.Rand, x []float64) {
		for j := 34; j < 40; j++ {
			x[j] = float64(r.IntN(3 + 5*(j-34)))
		}
		for j := 0; j < 34; j += 5 {
			if r.Float64() < 0.05 {
				x[j] = math.NaN()
			}
		}
	}, func(r *rand.Rand, x []float64) float64 {
		z := 2*x[1] - 3*x[2]*x[3] + math.Sin(5*x[4]) + 0.5*math.Mod(x[35], 3) - 1
		if !math.IsNaN(x[0]) {
			z += x[0]
		}
		return bernoulli(r, sigmoid(z))
	})
}

func BenchmarkTrain(b *testing.B) {
	d := benchData(1, 50000)
	p := DefaultParams()
	p.Trees, p.MaxDepth = 20, 6
	b.ResetTimer()
	for b.Loop() {
		if _, err := Train(context.Background(), p, d, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.Rows()*p.Trees)*float64(b.N)/b.Elapsed().Seconds(), "row-trees/s")
}

// BenchmarkPredictDataset scores with 300 trees of depth 6, as the peer benchmark does.
func BenchmarkPredictDataset(b *testing.B) {
	d := benchData(2, 20000)
	p := DefaultParams()
	p.Trees, p.MaxDepth = 300, 6
	m, err := Train(context.Background(), p, d, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	test := benchData(3, 100000)
	out := make([]float64, test.Rows())
	b.ResetTimer()
	for b.Loop() {
		if err := m.PredictDataset(test, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(test.Rows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkPredictRaw(b *testing.B) {
	d := benchData(2, 20000)
	p := DefaultParams()
	p.Trees, p.MaxDepth = 100, 6
	m, err := Train(context.Background(), p, d, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	x := d.Row(0, make([]float64, 40))
	for b.Loop() {
		m.PredictRaw(x)
	}
}
