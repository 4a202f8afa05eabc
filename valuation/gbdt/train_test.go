package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Params)
		field string
	}{
		{"objective", func(p *Params) { p.Objective = "multi:softmax" }, "Objective"},
		{"trees", func(p *Params) { p.Trees = 0 }, "Trees"},
		{"depth", func(p *Params) { p.MaxDepth = 17 }, "MaxDepth"},
		{"eta", func(p *Params) { p.LearningRate = 0 }, "LearningRate"},
		{"bins", func(p *Params) { p.MaxBins = 257 }, "MaxBins"},
		{"mcw", func(p *Params) { p.MinChildWeight = -1 }, "MinChildWeight"},
		{"lambda", func(p *Params) { p.Lambda = math.NaN() }, "Lambda"},
		{"gamma", func(p *Params) { p.Gamma = math.Inf(1) }, "Gamma"},
		{"catsupport", func(p *Params) { p.CatSupport = -1 }, "CatSupport"},
		{"subsample", func(p *Params) { p.Subsample = 1.5 }, "Subsample"},
		{"colsample", func(p *Params) { p.ColSample = -0.1 }, "ColSample"},
		{"tweedie", func(p *Params) { p.TweedieVariancePower = 2 }, "TweedieVariancePower"},
		{"early", func(p *Params) { p.EarlyStoppingRounds = -1 }, "EarlyStoppingRounds"},
		{"threads", func(p *Params) { p.Threads = -2 }, "Threads"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			tc.edit(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), "Params."+tc.field) {
				t.Fatalf("Validate() = %v; want an error naming Params.%s", err, tc.field)
			}
		})
	}
	// Zero fields with documented defaults are accepted.
	p := DefaultParams()
	p.MaxBins, p.Subsample, p.ColSample, p.TweedieVariancePower = 0, 0, 0, 0
	if err := p.Validate(); err != nil {
		t.Fatalf("zero defaults: %v", err)
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	d := genData(1, 50, numFeatures(2), nil, func(r *rand.Rand, x []float64) float64 { return x[0] })
	ctx := context.Background()
	p := DefaultParams()
	p.Trees = 2
	if _, err := Train(ctx, p, d, nil, nil); err != nil {
		t.Fatalf("labels in [0, 1] are fine for Binary: %v", err)
	}
	bad := d.Subset([]int{0, 1, 2})
	bad.Label[1] = 2
	if _, err := Train(ctx, p, bad, nil, nil); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("label 2 for Binary: %v", err)
	}
	p.EarlyStoppingRounds = 3
	if _, err := Train(ctx, p, d, nil, nil); err == nil {
		t.Errorf("early stopping without validation set accepted")
	}
	p.EarlyStoppingRounds = 0
	other := genData(1, 50, []Feature{{Name: "x0"}, {Name: "zz"}}, nil, func(r *rand.Rand, x []float64) float64 { return 0 })
	if _, err := Train(ctx, p, d, other, nil); err == nil || !strings.Contains(err.Error(), `"zz"`) {
		t.Errorf("mismatched validation features: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Train(cctx, p, d, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestCancelDuringTraining(t *testing.T) {
	d := genData(2, 2000, numFeatures(3), nil, func(r *rand.Rand, x []float64) float64 { return bernoulli(r, x[0]) })
	ctx, cancel := context.WithCancel(context.Background())
	p := DefaultParams()
	p.Trees = 1000
	_, err := Train(ctx, p, d, nil, func(pr Progress) {
		if pr.Iteration == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
}

// TestStepFunction recovers a two-step function of one feature among noise features. The
// feature takes 200 distinct values, so every bin is exact and the fit must be too.
func TestStepFunction(t *testing.T) {
	step := func(x []float64) float64 {
		switch {
		case x[0] < 0.3:
			return 0
		case x[0] < 0.7:
			return 2
		}
		return -1
	}
	grid := func(r *rand.Rand, x []float64) { x[0] = float64(r.IntN(200)) / 200 }
	fs := numFeatures(3)
	train := genData(3, 3000, fs, grid, func(r *rand.Rand, x []float64) float64 { return step(x) })
	test := genData(4, 2000, fs, grid, func(r *rand.Rand, x []float64) float64 { return step(x) })
	p := DefaultParams()
	p.Objective, p.Trees, p.MaxDepth, p.LearningRate = Squared, 60, 2, 0.3
	m := mustTrain(t, p, train, nil)
	pred := predictAll(t, m, test)
	for i, y := range test.Label {
		if math.Abs(pred[i]-y) > 1e-6 {
			t.Fatalf("x=%v: predicted %v; want %v", test.Columns[0][i], pred[i], y)
		}
	}
	// On continuous values only the bins that straddle a step are off.
	train = genData(3, 5000, fs, nil, func(r *rand.Rand, x []float64) float64 { return step(x) })
	test = genData(4, 5000, fs, nil, func(r *rand.Rand, x []float64) float64 { return step(x) })
	p.Trees, p.MaxDepth = 100, 3
	pred = predictAll(t, mustTrain(t, p, train, nil), test)
	if mae := MAE(test.Label, pred, nil); mae > 0.03 {
		t.Fatalf("continuous step function: MAE %.4f; want <= 0.03", mae)
	}
}

// TestAdditiveFunction recovers a smooth additive function under noise.
func TestAdditiveFunction(t *testing.T) {
	f := func(x []float64) float64 { return math.Sin(2*math.Pi*x[0]) + 2*x[1]*x[1] - x[2] }
	fs := numFeatures(5)
	train := genData(5, 8000, fs, nil, func(r *rand.Rand, x []float64) float64 { return f(x) + 0.1*r.NormFloat64() })
	test := genData(6, 2000, fs, nil, func(r *rand.Rand, x []float64) float64 { return f(x) })
	p := DefaultParams()
	p.Objective, p.Trees, p.MaxDepth, p.LearningRate = Squared, 300, 3, 0.1
	m := mustTrain(t, p, train, nil)
	rmse := RMSE(test.Label, predictAll(t, m, test), nil)
	if rmse > 0.08 {
		t.Fatalf("additive function: RMSE against the noise-free target %.4f; want <= 0.08", rmse)
	}
	imp := m.FeatureImportance()
	for j := 3; j < 5; j++ {
		if imp[j] > 0.05*imp[0] {
			t.Errorf("noise feature %d importance %.3g vs %.3g for x0", j, imp[j], imp[0])
		}
	}
}

// TestLogisticNearBayes checks the AUC against the AUC of the true probabilities.
func TestLogisticNearBayes(t *testing.T) {
	prob := func(x []float64) float64 {
		return sigmoid(3*x[0] - 2*x[1] + 4*(x[2]-0.5)*(x[3]-0.5) + math.Sin(6*x[4]) - 0.5)
	}
	fs := numFeatures(6)
	train := genData(7, 20000, fs, nil, func(r *rand.Rand, x []float64) float64 { return bernoulli(r, prob(x)) })
	test := genData(8, 20000, fs, nil, func(r *rand.Rand, x []float64) float64 { return bernoulli(r, prob(x)) })
	bayes := make([]float64, test.Rows())
	x := make([]float64, len(fs))
	for i := range bayes {
		bayes[i] = prob(test.Row(i, x))
	}
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.LearningRate = 150, 3, 0.1
	m := mustTrain(t, p, train, nil)
	pred := predictAll(t, m, test)
	got, best := AUC(test.Label, pred, nil), AUC(test.Label, bayes, nil)
	t.Logf("AUC %.4f, Bayes AUC %.4f", got, best)
	if got < best-0.01 {
		t.Fatalf("AUC %.4f is more than 0.01 below the Bayes AUC %.4f", got, best)
	}
	if ll, llb := LogLoss(test.Label, pred, nil), LogLoss(test.Label, bayes, nil); ll > llb+0.01 {
		t.Fatalf("log loss %.4f vs Bayes %.4f", ll, llb)
	}
}

// TestTweedieBeatsMean fits compound Poisson-gamma data.
func TestTweedieBeatsMean(t *testing.T) {
	mean := func(x []float64) float64 { return math.Exp(0.3 + 1.2*x[0] - 0.8*x[1]) }
	gen := func(r *rand.Rand, x []float64) float64 {
		lambda := mean(x) / 2 // claims of mean 2 (gamma shape 2)
		y := 0.0
		for range poisson(r, lambda) {
			y += gammaVariate(r, 2)
		}
		return y
	}
	fs := numFeatures(4)
	train := genData(9, 10000, fs, nil, gen)
	test := genData(10, 5000, fs, nil, gen)
	zeros := 0
	for _, y := range train.Label {
		if y == 0 {
			zeros++
		}
	}
	if zeros < 1000 {
		t.Fatalf("test data has only %d zeros", zeros)
	}
	p := DefaultParams()
	p.Objective, p.Trees, p.MaxDepth, p.LearningRate = Tweedie, 150, 2, 0.1
	m := mustTrain(t, p, train, nil)
	pred := predictAll(t, m, test)
	avg := 0.0
	for _, y := range train.Label {
		avg += y
	}
	avg /= float64(train.Rows())
	dev := func(mu func(i int) float64) float64 {
		const rho = 1.5
		s := 0.0
		for i, y := range test.Label {
			u := mu(i)
			s += 2 * (math.Pow(y, 2-rho)/((1-rho)*(2-rho)) - y*math.Pow(u, 1-rho)/(1-rho) + math.Pow(u, 2-rho)/(2-rho))
		}
		return s / float64(len(test.Label))
	}
	dm, d0 := dev(func(i int) float64 { return pred[i] }), dev(func(int) float64 { return avg })
	x := make([]float64, len(fs))
	dt := dev(func(i int) float64 { return mean(test.Row(i, x)) })
	t.Logf("Tweedie deviance: model %.4f, mean predictor %.4f, true mean %.4f", dm, d0, dt)
	if !(dm < d0-0.5*(d0-dt)) {
		t.Fatalf("model deviance %.4f does not close half the gap between the mean predictor %.4f and the truth %.4f", dm, d0, dt)
	}
	if math.Abs(m.BaseScore()-math.Log(avg)) > 1e-9 {
		t.Errorf("base score %v; want log of the mean label %v", m.BaseScore(), math.Log(avg))
	}
}

// TestMissingDefaultDirection: missingness carries the signal, and one split must route it.
func TestMissingDefaultDirection(t *testing.T) {
	for _, missHigh := range []bool{true, false} {
		fs := numFeatures(2)
		d := genData(11, 4000, fs, func(r *rand.Rand, x []float64) {
			x[0] = float64(r.IntN(100)) / 100
			if r.Float64() < 0.3 {
				x[0] = math.NaN()
			}
		}, func(r *rand.Rand, x []float64) float64 {
			if math.IsNaN(x[0]) {
				if missHigh {
					return 1
				}
				return 0
			}
			if x[0] >= 0.5 {
				return 1
			}
			return 0
		})
		p := DefaultParams()
		p.Objective, p.Trees, p.MaxDepth, p.LearningRate, p.Lambda = Squared, 1, 1, 1, 0
		m := mustTrain(t, p, d, nil)
		nan, lo, hi := m.Predict([]float64{math.NaN(), 0.5}), m.Predict([]float64{0.1, 0.5}), m.Predict([]float64{0.9, 0.5})
		want := lo
		if missHigh {
			want = hi
		}
		if math.Abs(lo) > 1e-9 || math.Abs(hi-1) > 1e-9 || nan != want {
			t.Errorf("missHigh=%v: predict(low)=%v predict(high)=%v predict(NaN)=%v", missHigh, lo, hi, nan)
		}
		if dl := m.trees[0].defaultLeft[0]; dl == missHigh {
			t.Errorf("missHigh=%v: root default direction left=%v", missHigh, dl)
		}
	}
	// Missingness alone: one split separating missing from every value.
	d := genData(12, 2000, numFeatures(1), func(r *rand.Rand, x []float64) {
		if r.Float64() < 0.5 {
			x[0] = math.NaN()
		}
	}, func(r *rand.Rand, x []float64) float64 {
		if math.IsNaN(x[0]) {
			return 3
		}
		return 0
	})
	p := DefaultParams()
	p.Objective, p.Trees, p.MaxDepth, p.LearningRate, p.Lambda = Squared, 1, 1, 1, 0
	m := mustTrain(t, p, d, nil)
	if got := m.Predict([]float64{math.NaN()}); math.Abs(got-3) > 1e-9 {
		t.Errorf("predict(NaN) = %v; want 3", got)
	}
	for _, v := range []float64{-1e300, 0, 0.7, 1e300, math.Inf(1)} {
		if got := m.Predict([]float64{v}); math.Abs(got) > 1e-9 {
			t.Errorf("predict(%v) = %v; want 0", v, got)
		}
	}
}

// TestCategoricalSetSplit: membership in {1, 4, 7, 8} is one categorical split; a single
// numeric split on the codes cannot express it.
func TestCategoricalSetSplit(t *testing.T) {
	in := map[float64]bool{1: true, 4: true, 7: true, 8: true}
	gen := func(kind Kind) *Dataset {
		return genData(13, 3000, []Feature{{Name: "c", Kind: kind}, {Name: "u"}}, func(r *rand.Rand, x []float64) {
			x[0] = float64(r.IntN(10))
		}, func(r *rand.Rand, x []float64) float64 {
			if in[x[0]] {
				return 1
			}
			return 0
		})
	}
	p := DefaultParams()
	p.Objective, p.Trees, p.MaxDepth, p.LearningRate, p.Lambda = Squared, 1, 1, 1, 0
	cat := mustTrain(t, p, gen(Categorical), nil)
	num := mustTrain(t, p, gen(Numeric), nil)
	for c := 0.0; c < 10; c++ {
		want := 0.0
		if in[c] {
			want = 1
		}
		if got := cat.Predict([]float64{c, 0.5}); math.Abs(got-want) > 1e-9 {
			t.Errorf("categorical model: predict(%v) = %v; want %v", c, got, want)
		}
	}
	// Unseen codes go to the side without the set.
	if got := cat.Predict([]float64{42, 0.5}); math.Abs(got) > 1e-9 {
		t.Errorf("unseen code: predict = %v; want 0", got)
	}
	d := gen(Numeric)
	pn := predictAll(t, num, d)
	if rmse := RMSE(d.Label, pn, nil); rmse < 0.3 {
		t.Errorf("a numeric stump reached RMSE %.3f; the test is not discriminating", rmse)
	}
	dc := gen(Categorical)
	if rmse := RMSE(dc.Label, predictAll(t, cat, dc), nil); rmse > 1e-9 {
		t.Errorf("categorical stump RMSE %v; want 0", rmse)
	}
}

// TestMonotoneConstraints is a property test over seeds: with x0 constrained up and x1 down,
// predictions along a grid of either feature never move the wrong way, whatever the data say.
func TestMonotoneConstraints(t *testing.T) {
	for seed := uint64(0); seed < 8; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		fs := []Feature{{Name: "up", Monotone: 1}, {Name: "down", Monotone: -1}, {Name: "free"}, {Name: "c", Kind: Categorical}}
		a, b := 1+5*r.Float64(), 1+5*r.Float64()
		d := genData(seed, 1500, fs, func(r *rand.Rand, x []float64) {
			x[3] = float64(r.IntN(4))
			if r.Float64() < 0.05 {
				x[2] = math.NaN()
			}
		}, func(r *rand.Rand, x []float64) float64 {
			// Non-monotone truth: the constraint has to bind.
			return math.Sin(a*x[0]) + math.Cos(b*x[1]) + math.Sin(a*b*x[0]*x[1]) + 0.3*x[3] + 0.2*r.NormFloat64()
		})
		p := DefaultParams()
		p.Objective, p.Trees, p.MaxDepth, p.LearningRate, p.Seed = Squared, 40, 4, 0.2, seed
		p.Subsample, p.ColSample = 0.8, 0.75
		m := mustTrain(t, p, d, nil)
		if seed == 0 {
			// Without the constraints the same data give a model that breaks them, so the
			// property below is not vacuous.
			free := *d
			free.Features = []Feature{{Name: "up"}, {Name: "down"}, {Name: "free"}, {Name: "c", Kind: Categorical}}
			if violations(mustTrain(t, p, &free, nil), rand.New(rand.NewPCG(1, 1))) == 0 {
				t.Fatalf("the unconstrained model is monotone too; the test does not discriminate")
			}
		}
		if v := violations(m, r); v > 0 {
			t.Fatalf("seed %d: %d grid steps break a monotone constraint", seed, v)
		}
	}
}

// violations counts grid steps where m moves against "up" increasing or "down" decreasing.
func violations(m *Model, r *rand.Rand) int {
	bad := 0
	x := make([]float64, 4)
	for range 30 {
		base := []float64{r.Float64(), r.Float64(), r.Float64(), float64(r.IntN(4))}
		for j, dir := range []float64{1, -1} {
			copy(x, base)
			prev := math.Inf(-int(dir))
			for g := -0.1; g <= 1.1; g += 0.01 {
				x[j] = g
				v := m.PredictRaw(x)
				if dir*(v-prev) < -1e-12 {
					bad++
				}
				prev = v
			}
		}
	}
	return bad
}

// TestDeterminism: the same seed gives a byte-identical model file with 1 and 2 threads, on
// data large enough to use several histogram and partition blocks.
func TestDeterminism(t *testing.T) {
	d := mixedData(14, 70000)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.Subsample, p.ColSample, p.Seed = 8, 5, 0.8, 0.8, 42
	var files [][]byte
	for _, th := range []int{1, 2} {
		p.Threads = th
		files = append(files, modelBytes(t, mustTrain(t, p, d, nil)))
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatalf("models differ between 1 and 2 threads")
	}
	p.Seed = 43
	if bytes.Equal(files[0], modelBytes(t, mustTrain(t, p, d, nil))) {
		t.Fatalf("a different seed gave the same model")
	}
}

// TestEarlyStopping: on noisy data the validation loss turns up; training stops EarlyStoppingRounds
// rounds after the best iteration and keeps exactly the best trees.
func TestEarlyStopping(t *testing.T) {
	fs := numFeatures(4)
	gen := func(seed uint64, n int) *Dataset {
		return genData(seed, n, fs, nil, func(r *rand.Rand, x []float64) float64 { return bernoulli(r, sigmoid(2*x[0]-1)) })
	}
	train, valid := gen(15, 400), gen(16, 2000)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.LearningRate, p.MinChildWeight, p.EarlyStoppingRounds = 500, 6, 0.3, 0, 10
	var reports []Progress
	m, err := Train(context.Background(), p, train, valid, func(pr Progress) { reports = append(reports, pr) })
	if err != nil {
		t.Fatal(err)
	}
	best := m.BestIteration()
	if best < 1 || best > 100 {
		t.Fatalf("best iteration %d", best)
	}
	if len(reports) != best+10 {
		t.Fatalf("%d rounds reported; want best %d + 10", len(reports), best)
	}
	minLoss, minAt := math.Inf(1), 0
	for i, pr := range reports {
		if pr.Iteration != i+1 || pr.Metric != "logloss" || math.IsNaN(pr.TrainLoss) {
			t.Fatalf("report %d: %+v", i, pr)
		}
		if pr.ValidLoss < minLoss {
			minLoss, minAt = pr.ValidLoss, pr.Iteration
		}
	}
	if minAt != best || m.NumTrees() != best {
		t.Fatalf("best %d, trees %d; the minimum validation loss was at %d", best, m.NumTrees(), minAt)
	}
	// The kept model's validation loss is the reported minimum.
	if got := m.Info.Metrics["valid_logloss"]; math.Abs(got-minLoss) > 1e-12 {
		t.Fatalf("kept model's validation loss %v; reported minimum %v", got, minLoss)
	}
	if last := reports[len(reports)-1]; last.BestIteration != best || last.BestLoss != minLoss {
		t.Fatalf("last report %+v", last)
	}
}

// TestPredictPaths: single-row, batch and margin predictions agree bit for bit, including
// missing values, unseen categories and non-integer codes.
func TestPredictPaths(t *testing.T) {
	d := mixedData(17, 3000)
	p := DefaultParams()
	p.Trees, p.MaxDepth = 30, 4
	m := mustTrain(t, p, d, nil)
	test := mixedData(18, 1500)
	test.Columns[2][0], test.Columns[2][1], test.Columns[2][2] = 9, 2.5, -1
	test.Columns[0][3] = math.Inf(1)
	raw := make([]float64, test.Rows())
	if err := m.PredictDatasetRaw(test, raw); err != nil {
		t.Fatal(err)
	}
	prob := predictAll(t, m, test)
	x := make([]float64, 5)
	for i := range raw {
		test.Row(i, x)
		if r := m.PredictRaw(x); r != raw[i] {
			t.Fatalf("row %d: PredictRaw %v, batch %v", i, r, raw[i])
		}
		if q := m.Predict(x); q != prob[i] || q != sigmoid(raw[i]) {
			t.Fatalf("row %d: Predict %v, batch %v", i, q, prob[i])
		}
	}
	if !math.IsNaN(m.PredictRaw(x[:4])) {
		t.Errorf("short row did not give NaN")
	}
	// Feature mismatches are errors naming the first difference.
	renamed := test.Subset([]int{0, 1})
	renamed.Features[3].Name = "dd"
	if err := m.PredictDataset(renamed, make([]float64, 2)); err == nil || !strings.Contains(err.Error(), `"dd"`) || !strings.Contains(err.Error(), "feature 3") {
		t.Errorf("renamed feature: %v", err)
	}
	short := &Dataset{Features: test.Features[:4], Columns: test.Columns[:4], Label: test.Label}
	if err := m.PredictDataset(short, raw); err == nil {
		t.Errorf("4 features accepted")
	}
	if err := m.PredictDataset(test, raw[:10]); err == nil {
		t.Errorf("short output accepted")
	}
}

// TestManyCategories: beyond MaxBins-2 categories the rare ones share the "other" bin, unseen
// codes go with it, and batch scoring still matches single-row scoring.
func TestManyCategories(t *testing.T) {
	good := func(c float64) bool { return int(c)%3 == 0 }
	d := genData(19, 20000, []Feature{{Name: "c", Kind: Categorical}, {Name: "u"}}, func(r *rand.Rand, x []float64) {
		x[0] = float64(int(400 * math.Pow(r.Float64(), 2))) // 400 codes, skewed
	}, func(r *rand.Rand, x []float64) float64 {
		if good(x[0]) {
			return 1
		}
		return 0
	})
	p := DefaultParams()
	p.Objective, p.Trees, p.MaxDepth, p.LearningRate = Squared, 20, 3, 0.5
	m := mustTrain(t, p, d, nil)
	pred := predictAll(t, m, d)
	x := make([]float64, 2)
	var errFrequent float64
	for i := range pred {
		if r := m.PredictRaw(d.Row(i, x)); r != pred[i] {
			t.Fatalf("row %d: single %v, batch %v", i, r, pred[i])
		}
		if x[0] < 100 {
			errFrequent = math.Max(errFrequent, math.Abs(pred[i]-d.Label[i]))
		}
	}
	if errFrequent > 0.1 {
		t.Errorf("frequent categories: max error %v", errFrequent)
	}
}

// TestScorerFallback: a model file whose split names more categories than a byte can bin is
// scored by walking the trees, with the same results.
func TestScorerFallback(t *testing.T) {
	var codes []string
	for c := 0; c < 600; c += 2 {
		codes = append(codes, strconv.Itoa(c))
	}
	body := `{"objective":"reg:squarederror","features":[{"name":"c","kind":1},{"name":"x"}],` +
		`"params":{"objective":"reg:squarederror","trees":1,"max_depth":2,"learning_rate":0.1},"base_score":0.5,` +
		`"trees":[{"feature":[0,1,-1,-1,-1],"threshold":[0,0.5,0,0,0],"left":[1,3,-1,-1,-1],"right":[2,4,-1,-1,-1],` +
		`"default_left":[false,true,false,false,false],"value":[0,0,3,1,2],"cover":[4,2,2,1,1],"gain":[1,1,0,0,0],` +
		`"cat_nodes":[0],"cat_sets":[[` + strings.Join(codes, ",") + `]]}]}`
	m, err := ReadModel(bytes.NewReader(signed([]byte(body), FormatVersion)))
	if err != nil {
		t.Fatal(err)
	}
	if m.sc.binned {
		t.Fatal("300 codes in one split should not be binned")
	}
	d := NewDataset(m.Features(), 6)
	rows := [][2]float64{{0, 0.1}, {0, 0.9}, {1, 0.1}, {598, math.NaN()}, {599, 0}, {math.NaN(), 0.7}}
	want := []float64{1.5, 2.5, 3.5, 1.5, 3.5, 3.5}
	for i, r := range rows {
		d.Columns[0][i], d.Columns[1][i] = r[0], r[1]
	}
	out := make([]float64, 6)
	if err := m.PredictDataset(d, out); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if out[i] != want[i] || m.Predict(rows[i][:]) != want[i] {
			t.Errorf("row %v: batch %v, single %v; want %v", rows[i], out[i], m.Predict(rows[i][:]), want[i])
		}
	}
}

// TestDeepTrees: trees deeper than the perfect layout allows are scored in their linked form,
// with the same results as single rows.
func TestDeepTrees(t *testing.T) {
	d := mixedData(20, 400)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.MinChildWeight, p.LearningRate = 5, 12, 0, 0.5
	m := mustTrain(t, p, d, nil)
	linked := 0
	for i := range m.sc.trees {
		if !m.sc.trees[i].perfect {
			linked++
		}
	}
	if linked == 0 {
		t.Fatal("no tree uses the linked form")
	}
	test := mixedData(21, 500)
	raw := make([]float64, test.Rows())
	if err := m.PredictDatasetRaw(test, raw); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(test.Features))
	for i := range raw {
		if r := m.PredictRaw(test.Row(i, x)); r != raw[i] {
			t.Fatalf("row %d: single %v, batch %v", i, r, raw[i])
		}
	}
}

// TestCatSupport: categories too small to trust are ranked as weight 0, so a categorical split
// cannot sort them to the sides their noisy means point to; with CatSupport 0 it can.
func TestCatSupport(t *testing.T) {
	// Category 0 (400 rows) has mean 0.9, 2 (400 rows) 0.6, 1 (800 rows) 0.25, so the best split
	// is {0, 2} | {1}. Category 3 has 4 rows, all 0, and 4 has 4 rows, all 1: ranked by their
	// means, 4 joins {0, 2} and 3 joins {1}; ranked as weight 0 (in code order, 3 before 4), both
	// fall between 2 and 1, and a prefix of the ranking keeps them together.
	fs := []Feature{{Name: "c", Kind: Categorical}}
	d := NewDataset(fs, 1608)
	for i := range d.Rows() {
		var c, y int
		switch {
		case i < 400:
			c, y = 0, min(1, i%10)
		case i < 800:
			c, y = 2, i%5/3^1
		case i < 1600:
			c, y = 1, i%4/3
		case i < 1604:
			c, y = 3, 0
		default:
			c, y = 4, 1
		}
		d.Columns[0][i], d.Label[i] = float64(c), float64(y)
	}
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.MinChildWeight = 1, 1, 5
	for _, support := range []float64{0, 3} {
		p.CatSupport = support
		m := mustTrain(t, p, d, nil)
		pred := func(c float64) float64 { return m.Predict([]float64{c}) }
		if pred(0) != pred(2) || pred(0) == pred(1) {
			t.Fatalf("CatSupport %v: the split is not {0, 2} | {1}", support)
		}
		if support == 0 && (pred(4) != pred(0) || pred(3) != pred(1)) {
			t.Errorf("CatSupport 0: categories 3 and 4 should be sorted by their means")
		}
		if support > 0 && pred(3) != pred(4) { // hessian 4 × 0.25 = 1 < 3 × 5
			t.Errorf("CatSupport %v: categories 3 and 4 should be ranked as weight 0, side by side", support)
		}
	}
}
