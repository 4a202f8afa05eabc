// Command ours trains Reclaim's gradient-boosted trees (package valuation/gbdt) on the
// LendingClub recovery data with the features, folds and hyper-parameters that
// bench/lendingclub/peers.py gives XGBoost and scikit-learn, and prints the same out-of-fold
// metrics as JSON (see peers.py for their definitions).
//
// Usage (from the repository root):
//
//	go run ./bench/lendingclub/ours [-data ../shared/data/lendingclub/chargedoff_dev.csv]
//	    [-mapping mappings/lendingclub.yaml] [-threads 2]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"

	"reclaim/valuation"
	"reclaim/valuation/gbdt"
)

// Hyper-parameters shared with peers.py (PARAMS there).
const (
	trees          = 300
	learningRate   = 0.04
	maxDepth       = 3
	minSamplesLeaf = 20 // min child weight = 20 × the hessian of one row
	l2             = 1.0
	maxBins        = 256 // 255 value bins + the missing bin, as max_bins=255 in the peers
)

func main() {
	data := flag.String("data", "../shared/data/lendingclub/chargedoff_dev.csv", "the LendingClub charged-off file")
	mapping := flag.String("mapping", "mappings/lendingclub.yaml", "the tape mapping of the file")
	threads := flag.Int("threads", 2, "training goroutines")
	flag.Parse()
	doc, err := run(*data, *mapping, *threads)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ours:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(doc)
}

func params(obj gbdt.Objective, hessian float64, threads int) gbdt.Params {
	p := gbdt.DefaultParams()
	p.Objective = obj
	p.Trees = trees
	p.LearningRate = learningRate
	p.MaxDepth = maxDepth
	p.MinChildWeight = minSamplesLeaf * hessian
	p.Lambda = l2
	p.MaxBins = maxBins
	p.Seed = 0
	p.Threads = threads
	return p
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// oof trains on the other folds and predicts each fold, for one label and objective.
func oof(t *valuation.Table, label string, obj gbdt.Objective, threads int) ([]float64, error) {
	d, err := t.Dataset(label)
	if err != nil {
		return nil, err
	}
	out := make([]float64, t.Rows())
	for f := 0; f < t.NumFolds; f++ {
		trainRows, testRows := t.Split(f)
		tr, te := d.Subset(trainRows), d.Subset(testRows)
		h := 1.0
		if obj == gbdt.Binary {
			p := math.Min(math.Max(mean(tr.Label), 1e-6), 1-1e-6)
			h = p * (1 - p)
		}
		m, err := gbdt.Train(context.Background(), params(obj, h, threads), tr, nil, nil)
		if err != nil {
			return nil, err
		}
		pred := make([]float64, te.Rows())
		if err := m.PredictDataset(te, pred); err != nil {
			return nil, err
		}
		for k, i := range testRows {
			out[i] = pred[k]
		}
	}
	return out, nil
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func run(data, mapping string, threads int) (any, error) {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	fs := valuation.LendingClub()
	t, err := valuation.BuildLendingClub(data, mapping, fs, valuation.TableOptions{Folds: valuation.DefaultFolds})
	if err != nil {
		return nil, err
	}
	high, _ := t.Label(valuation.LabelHigh)
	material, _ := t.Label(valuation.LabelMaterial)
	pHigh, err := oof(t, valuation.LabelHigh, gbdt.Binary, threads)
	if err != nil {
		return nil, err
	}
	pMat, err := oof(t, valuation.LabelMaterial, gbdt.Binary, threads)
	if err != nil {
		return nil, err
	}
	pRate, err := oof(t, valuation.LabelRate, gbdt.Squared, threads)
	if err != nil {
		return nil, err
	}
	mae, actual, predicted := 0.0, 0.0, 0.0
	foldA := make([]float64, t.NumFolds)
	foldP := make([]float64, t.NumFolds)
	for i := range pRate {
		pRate[i] = math.Min(math.Max(pRate[i], 0), 1)
		mae += math.Abs(pRate[i] - t.Rate[i])
		a, p := t.Rate[i]*t.Exposure[i], pRate[i]*t.Exposure[i]
		actual += a
		predicted += p
		foldA[t.Folds[i]] += a
		foldP[t.Folds[i]] += p
	}
	foldErr := 0.0
	for f := range foldA {
		foldErr += math.Abs(foldP[f]-foldA[f]) / foldA[f] * 100
	}
	res := map[string]float64{
		"auc_rate_ge_10":             round4(gbdt.AUC(high, pHigh, nil)),
		"auc_material":               round4(gbdt.AUC(material, pMat, nil)),
		"mae_rate":                   round4(mae / float64(len(pRate))),
		"spearman_rate":              round4(gbdt.Spearman(pRate, t.Rate)),
		"portfolio_error_pct":        round4((predicted - actual) / actual * 100),
		"fold_portfolio_abs_err_pct": round4(foldErr / float64(t.NumFolds)),
	}
	return map[string]any{
		"data": map[string]any{"feature_set": fs.Name(), "fingerprint": fs.Fingerprint(), "rows": t.Rows(),
			"features": fs.Len(), "folds": t.NumFolds},
		"params": map[string]any{"trees": trees, "learning_rate": learningRate, "max_depth": maxDepth,
			"min_samples_leaf": minSamplesLeaf, "l2": l2, "max_bins": maxBins, "subsample": 1.0, "seed": 0},
		"results": map[string]any{"reclaim_gbdt": res},
	}, nil
}
