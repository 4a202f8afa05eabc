package valuation

import (
	"context"
	"fmt"
	"math"
	"slices"

	"reclaim/valuation/gbdt"
)

// The amount recipe: how TrainRecoveryModel turns the tape features into expected recovered
// amounts that add up (docs/valuation.md, "The model").
//
//   - P(material) is a binary model of LabelMaterial;
//   - the severity, E[rate | material], is a regression on the rate of the material loans only,
//     clipped to [MaterialThreshold, 1], so that the expected rate P(material) × severity can
//     never contradict P(material) (a loan with a 2% chance of a material recovery expects at
//     least 2% × 1% of its exposure);
//   - both are cross-fitted on the training folds (each training fold predicted by models trained
//     on the other training folds, with early stopping on it), and the out-of-fold expected
//     amounts calibrate a multiplicative factor per cell of exposure decile × score quintile
//     (credibility-weighted towards the exposure decile's and the global factor) so that, on the
//     training loans, Σ exposure × expected rate = Σ recovered by construction;
//   - the final models are trained on every training fold with the cross-fitted numbers of
//     trees; the held-out fold is used for nothing but the metrics.

// AmountCalibration maps a loan's uncalibrated expected rate to the calibrated one: the
// severity is multiplied by the factor of the loan's cell (exposure bin × score bin) and capped
// at 1.
type AmountCalibration struct {
	// ExposureCuts are the upper bounds of every exposure bin but the last (ascending);
	// ScoreCuts the same for the uncalibrated expected rate.
	ExposureCuts []float64 `json:"exposure_cuts"`
	ScoreCuts    []float64 `json:"score_cuts"`
	// Factors[e][s] multiplies the severity of a loan in exposure bin e and score bin s.
	Factors [][]float64 `json:"factors"`
	// Global is the factor fitted on every loan (before the cells), Prior the credibility (in
	// loans) given to the parent's factor when fitting a cell.
	Global float64 `json:"global"`
	Prior  float64 `json:"prior"`
	// Loans is the number of out-of-fold loans the factors were fitted on.
	Loans int `json:"loans"`
}

func binOf(cuts []float64, x float64) int {
	b, _ := slices.BinarySearch(cuts, x)
	return b
}

// quantileCuts returns the n-1 inner quantile cut points of x (ties collapse: fewer cuts).
func quantileCuts(x []float64, n int) []float64 {
	if n <= 1 || len(x) == 0 {
		return []float64{}
	}
	s := slices.Clone(x)
	slices.Sort(s)
	cuts := []float64{}
	for k := 1; k < n; k++ {
		v := s[min(len(s)-1, k*len(s)/n)]
		if len(cuts) == 0 || v > cuts[len(cuts)-1] {
			cuts = append(cuts, v)
		}
	}
	return cuts
}

// fitAmountCalibration fits the factors on out-of-fold data: exposures, uncalibrated P(material)
// and severities, and the actual (capped) rates.
func fitAmountCalibration(exposure, p, sev, rate []float64, expBins, scoreBins int, prior float64) *AmountCalibration {
	n := len(rate)
	score := make([]float64, n)
	for i := range score {
		score[i] = p[i] * sev[i]
	}
	c := &AmountCalibration{ExposureCuts: quantileCuts(exposure, expBins), ScoreCuts: quantileCuts(score, scoreBins), Prior: prior, Loans: n}
	ne, ns := len(c.ExposureCuts)+1, len(c.ScoreCuts)+1
	type cell struct{ act, pred, n float64 }
	cells := make([][]cell, ne)
	for e := range cells {
		cells[e] = make([]cell, ns)
	}
	var ga, gp float64
	for i := range n {
		a, pr := exposure[i]*rate[i], exposure[i]*score[i]
		cl := &cells[binOf(c.ExposureCuts, exposure[i])][binOf(c.ScoreCuts, score[i])]
		cl.act += a
		cl.pred += pr
		cl.n++
		ga += a
		gp += pr
	}
	c.Global = ratioOr(ga, gp, 1)
	shrink := func(act, pred, cnt, parent float64) float64 {
		raw := ratioOr(act, pred, parent)
		return (cnt*raw + prior*parent) / (cnt + prior)
	}
	c.Factors = make([][]float64, ne)
	for e := range cells {
		var ea, ep, en float64
		for _, cl := range cells[e] {
			ea, ep, en = ea+cl.act, ep+cl.pred, en+cl.n
		}
		fe := shrink(ea, ep, en, c.Global)
		c.Factors[e] = make([]float64, ns)
		for s, cl := range cells[e] {
			c.Factors[e][s] = shrink(cl.act, cl.pred, cl.n, fe)
		}
	}
	// Shrinkage and the cap at 1 move the total: rescale so that the calibrated amounts add up
	// to the actual ones exactly (a few passes: the cap makes it non-linear).
	for range 4 {
		var pa float64
		for i := range n {
			pa += exposure[i] * p[i] * c.severity(exposure[i], score[i], sev[i])
		}
		k := ratioOr(ga, pa, 1)
		if math.Abs(k-1) < 1e-12 {
			break
		}
		for e := range c.Factors {
			for s := range c.Factors[e] {
				c.Factors[e][s] *= k
			}
		}
	}
	return c
}

func ratioOr(a, b, dflt float64) float64 {
	if !(b > 0) || !(a >= 0) {
		return dflt
	}
	return a / b
}

// severity returns the calibrated severity of a loan.
func (c *AmountCalibration) severity(exposure, score, sev float64) float64 {
	if c == nil || len(c.Factors) == 0 {
		return sev
	}
	e := min(binOf(c.ExposureCuts, exposure), len(c.Factors)-1)
	s := min(binOf(c.ScoreCuts, score), len(c.Factors[e])-1)
	return clampSeverity(sev * c.Factors[e][s])
}

// Severity returns the calibrated severity (E[rate | material]) of a loan of the given exposure,
// P(material) p and uncalibrated severity sev.
func (c *AmountCalibration) Severity(exposure, p, sev float64) float64 {
	return c.severity(exposure, p*sev, sev)
}

func (c *AmountCalibration) validate() error {
	if c == nil {
		return nil
	}
	if !slices.IsSorted(c.ExposureCuts) || !slices.IsSorted(c.ScoreCuts) || len(c.Factors) != len(c.ExposureCuts)+1 {
		return fmt.Errorf("valuation: malformed amount calibration")
	}
	for _, row := range c.Factors {
		if len(row) != len(c.ScoreCuts)+1 {
			return fmt.Errorf("valuation: malformed amount calibration")
		}
		for _, f := range row {
			if !(f >= 0) || math.IsInf(f, 0) {
				return fmt.Errorf("valuation: amount calibration factor %v", f)
			}
		}
	}
	return nil
}

func clampSeverity(s float64) float64 {
	switch {
	case math.IsNaN(s) || s < MaterialThreshold:
		return MaterialThreshold
	case s > 1:
		return 1
	}
	return s
}

// recipe is the training recipe's knobs (TrainOptions resolved).
type recipe struct {
	opts       TrainOptions
	sevObj     gbdt.Objective
	sevWeight  bool // weigh severity rows by exposure
	expBins    int  // 0: no calibration
	scoreBins  int
	prior      float64
	crossFit   bool
	matDataset *gbdt.Dataset // LabelMaterial, every row
	sevDataset *gbdt.Dataset // LabelRate, every row, weights by exposure when sevWeight
	// direct (a variant measured in docs/benchmarks.md, not the default): the second model
	// learns the expected rate of every loan, E[rate | x], instead of the severity of the
	// material ones, and the severity is that expectation divided by P(material), clamped to
	// [MaterialThreshold, 1], so that expected = P(material) × severity still holds.
	direct bool
	// sevRho is the Tweedie power of the second model when its objective is Tweedie (0: the
	// learner's default).
	sevRho float64
	// heldOut, when set, receives the held-out rows with their P(material) and expected rates
	// (the variants' harness).
	heldOut func(rows []int, p, rate []float64)
}

func (r *recipe) params(obj gbdt.Objective, trees int, es bool) gbdt.Params {
	p := gbdt.DefaultParams()
	p.Objective = obj
	p.Trees = trees
	p.MaxDepth = r.opts.MaxDepth
	p.LearningRate = r.opts.LearningRate
	p.MinChildWeight = r.opts.MinChildWeight
	if es {
		p.EarlyStoppingRounds = r.opts.EarlyStopping
	}
	p.Seed = r.opts.Seed
	p.Threads = r.opts.Threads
	return p
}

func (r *recipe) material(rows []int, t *Table) []int {
	out := make([]int, 0, len(rows))
	for _, i := range rows {
		if t.Rate[i] >= MaterialThreshold {
			out = append(out, i)
		}
	}
	return out
}

// sevRows are the rows the second model learns from: the material ones (or all, direct).
func (r *recipe) sevRows(rows []int, t *Table) []int {
	if r.direct {
		return rows
	}
	return r.material(rows, t)
}

// fit trains P(material) and the severity on rows; with es (early-stopping rows) not nil it
// stops early on them, else it grows matTrees and sevTrees trees.
func (r *recipe) fit(ctx context.Context, t *Table, rows, es []int, matTrees, sevTrees int, progress func(string) func(gbdt.Progress)) (mat, sev *gbdt.Model, err error) {
	var mv, sv *gbdt.Dataset
	useES := es != nil && r.opts.EarlyStopping > 0
	if useES {
		mv = r.matDataset.Subset(es)
		sv = r.sevDataset.Subset(r.material(es, t))
		if sv.Rows() == 0 {
			sv = nil
		}
	}
	mt, st := matTrees, sevTrees
	if useES {
		mt, st = r.opts.Trees, r.opts.Trees
	}
	mat, err = gbdt.Train(ctx, r.params(gbdt.Binary, mt, useES), r.matDataset.Subset(rows), mv, progress("material"))
	if err != nil {
		return nil, nil, fmt.Errorf("valuation: training P(material): %w", err)
	}
	sr := r.sevRows(rows, t)
	if len(sr) == 0 {
		return nil, nil, fmt.Errorf("valuation: no training loan has a material recovery (>= %g of its exposure): the severity cannot be learnt", MaterialThreshold)
	}
	sp := r.params(r.sevObj, st, useES && sv != nil)
	if r.sevRho > 0 {
		sp.TweedieVariancePower = r.sevRho
	}
	sev, err = gbdt.Train(ctx, sp, r.sevDataset.Subset(sr), sv, progress("severity/"+string(r.sevObj)))
	if err != nil {
		return nil, nil, fmt.Errorf("valuation: training the severity (%s): %w", r.sevObj, err)
	}
	return mat, sev, nil
}

// predictParts returns P(material) and the (uncalibrated, clamped) severity of rows.
func predictParts(mat, sev *gbdt.Model, d *gbdt.Dataset) (p, s []float64, err error) {
	return predictPartsOf(mat, sev, d, false)
}

// predictPartsOf is predictParts; with direct the second model is E[rate | x] and the severity
// its ratio to P(material).
func predictPartsOf(mat, sev *gbdt.Model, d *gbdt.Dataset, direct bool) (p, s []float64, err error) {
	p = make([]float64, d.Rows())
	s = make([]float64, d.Rows())
	if err := mat.PredictDataset(d, p); err != nil {
		return nil, nil, err
	}
	if err := sev.PredictDataset(d, s); err != nil {
		return nil, nil, err
	}
	clip01(p)
	for i := range s {
		if direct {
			s[i] /= math.Max(p[i], 1e-9)
		}
		s[i] = clampSeverity(s[i])
	}
	return p, s, nil
}

// FoldError is one fold's portfolio error, of the model and of the static pool, each fitted
// without the fold.
type FoldError struct {
	// Fold is the fold; Held is true for the fold held out of the final model (the others are
	// scored by the cross-fitted models and calibrations that did not see them).
	Fold int  `json:"fold"`
	Held bool `json:"held_out"`
	// Loans, Exposure and Recovered are the fold's totals; Predicted the model's expected
	// recovery and Baseline the static pool's.
	Loans     int     `json:"loans"`
	Exposure  float64 `json:"exposure"`
	Recovered float64 `json:"recovered"`
	Predicted float64 `json:"predicted"`
	Baseline  float64 `json:"baseline"`
	// ErrorPct and BaselineErrorPct are 100 × (predicted − recovered) / recovered.
	ErrorPct         Num `json:"error_pct"`
	BaselineErrorPct Num `json:"baseline_error_pct"`
	// NoisePct is the standard deviation of the portfolio error a model that is right in
	// expectation would still show on these loans (100 × sqrt(Σ exposure² × (rate − expected)²)
	// / recovered): folds whose |error| is within two of it are as good as the data allow.
	NoisePct Num `json:"noise_pct"`
}

// ExposureDecileError is the portfolio error of the held-out loans of one exposure decile.
type ExposureDecileError struct {
	Decile int `json:"decile"`
	// Lo and Hi bound the decile's exposures.
	Lo               float64 `json:"lo"`
	Hi               float64 `json:"hi"`
	Loans            int     `json:"loans"`
	Recovered        float64 `json:"recovered"`
	Predicted        float64 `json:"predicted"`
	Baseline         float64 `json:"baseline"`
	ErrorPct         Num     `json:"error_pct"`
	BaselineErrorPct Num     `json:"baseline_error_pct"`
}

func pctErr(pred, act float64) Num {
	if !(act > 0) {
		return Num(math.NaN())
	}
	return Num(100 * (pred - act) / act)
}

// foldError sums one fold.
func foldError(fold int, held bool, exposure, rate, pred, base []float64) FoldError {
	f := FoldError{Fold: fold, Held: held, Loans: len(rate)}
	var noise float64
	for i := range rate {
		f.Exposure += exposure[i]
		f.Recovered += exposure[i] * rate[i]
		f.Predicted += exposure[i] * pred[i]
		f.Baseline += exposure[i] * base[i]
		d := exposure[i] * (rate[i] - pred[i])
		noise += d * d
	}
	f.ErrorPct, f.BaselineErrorPct = pctErr(f.Predicted, f.Recovered), pctErr(f.Baseline, f.Recovered)
	if f.Recovered > 0 {
		f.NoisePct = Num(100 * math.Sqrt(noise) / f.Recovered)
	} else {
		f.NoisePct = Num(math.NaN())
	}
	return f
}

// exposureDeciles sums the held-out loans by decile of exposure.
func exposureDeciles(exposure, rate, pred, base []float64) []ExposureDecileError {
	idx := make([]int, len(rate))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if exposure[a] < exposure[b] {
			return -1
		}
		if exposure[a] > exposure[b] {
			return 1
		}
		return 0
	})
	n := len(idx)
	out := []ExposureDecileError{}
	for d := range 10 {
		lo, hi := d*n/10, (d+1)*n/10
		if lo >= hi {
			continue
		}
		r := ExposureDecileError{Decile: d + 1, Lo: exposure[idx[lo]], Hi: exposure[idx[hi-1]], Loans: hi - lo}
		for _, i := range idx[lo:hi] {
			r.Recovered += exposure[i] * rate[i]
			r.Predicted += exposure[i] * pred[i]
			r.Baseline += exposure[i] * base[i]
		}
		r.ErrorPct, r.BaselineErrorPct = pctErr(r.Predicted, r.Recovered), pctErr(r.Baseline, r.Recovered)
		out = append(out, r)
	}
	return out
}
