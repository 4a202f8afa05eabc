// Command ours runs the product's default training recipe (valuation.TrainRecoveryModel, the code
// path of 'reclaim model train') on the LendingClub recovery data once per fold, each time holding
// that fold out, and prints the held-out metrics as JSON in the form bench/lendingclub/peers.py
// prints its learners' (see peers.py for their definitions; peers.py trains XGBoost and
// scikit-learn with the same recipe), with the sampling noise of each fold's sum
// (valuation.SamplingNoise: how far a model right in expectation would still miss each fold, and
// the probability that it lands within ±3% on every fold).
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
	n := t.Rows()
	pMat, pRate := make([]float64, n), make([]float64, n)
	var info valuation.TrainInfo
	trees := [][2]int{}
	for f := 0; f < t.NumFolds; f++ {
		// The product's default recipe: the options 'reclaim model train' passes when no flag
		// changes them (the fold held out aside).
		m, err := valuation.TrainRecoveryModel(context.Background(), t, valuation.TrainOptions{ValidFold: f, Threads: threads}, nil)
		if err != nil {
			return nil, err
		}
		_, valid := t.Split(f)
		p, _, r, err := m.PredictTable(t, valid)
		if err != nil {
			return nil, err
		}
		for k, i := range valid {
			pMat[i], pRate[i] = p[k], r[k]
		}
		info = m.Summary.Info
		trees = append(trees, [2]int{info.MaterialTrees, info.SeverityTrees})
	}
	res := score(t, pMat, pRate)
	// The sampling noise of each fold's sum (docs/valuation.md, "How close can a fold be?"):
	// how far a model right in expectation would still miss it, and the chance that such a
	// model lands within ±3% on every fold.
	noise := valuation.SamplingNoise(t.Exposure, pRate, t.Rate, t.Folds, valuation.NoiseOptions{Tolerance: 0.03, Seed: 1})
	return map[string]any{
		"sampling_noise": noise,
		"data": map[string]any{"feature_set": fs.Name(), "fingerprint": fs.Fingerprint(), "rows": n,
			"features": fs.Len(), "folds": t.NumFolds},
		"params": map[string]any{"material": info.MaterialParams, "severity": info.SeverityParams, "severity_weighted": info.SeverityWeighted,
			"trees_per_fold": trees},
		"results": map[string]any{"reclaim_gbdt": res},
	}, nil
}

// score computes peers.py's metrics of out-of-fold P(material) and expected rates.
func score(t *valuation.Table, pMat, pRate []float64) map[string]any {
	high, _ := t.Label(valuation.LabelHigh)
	material, _ := t.Label(valuation.LabelMaterial)
	mae, actual, predicted := 0.0, 0.0, 0.0
	foldA := make([]float64, t.NumFolds)
	foldP := make([]float64, t.NumFolds)
	for i := range pRate {
		mae += math.Abs(pRate[i] - t.Rate[i])
		a, p := t.Rate[i]*t.Exposure[i], pRate[i]*t.Exposure[i]
		actual += a
		predicted += p
		foldA[t.Folds[i]] += a
		foldP[t.Folds[i]] += p
	}
	folds := make([]float64, t.NumFolds)
	absErr, maxErr := 0.0, 0.0
	for f := range foldA {
		folds[f] = round4((foldP[f] - foldA[f]) / foldA[f] * 100)
		absErr += math.Abs(folds[f]) / float64(t.NumFolds)
		maxErr = math.Max(maxErr, math.Abs(folds[f]))
	}
	return map[string]any{
		"auc_rate_ge_10":             round4(gbdt.AUC(high, pRate, nil)),
		"auc_material":               round4(gbdt.AUC(material, pMat, nil)),
		"mae_rate":                   round4(mae / float64(len(pRate))),
		"spearman_rate":              round4(gbdt.Spearman(pRate, t.Rate)),
		"portfolio_error_pct":        round4((predicted - actual) / actual * 100),
		"fold_portfolio_err_pct":     folds,
		"fold_portfolio_abs_err_pct": round4(absErr),
		"fold_portfolio_max_err_pct": round4(maxErr),
	}
}
