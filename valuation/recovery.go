package valuation

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"reclaim"
	"reclaim/money"
	"reclaim/valuation/gbdt"
)

// RecoveryFormatVersion is the recovery-model file format this build writes and reads.
//
// A recovery-model file is one header line, "RECLAIM-RECOVERY <version> <body bytes> <hex SHA-256
// of the body>\n", followed by a JSON body holding the feature set's name and fingerprint, the
// exposure basis, the two gbdt model files (each with its own header and checksum), the static
// pool and the model's summary (metrics, calibration, importance, training facts).
const RecoveryFormatVersion = 2

const recoveryMagic = "RECLAIM-RECOVERY"

// maxRecoveryFile bounds the bytes LoadRecoveryModel reads.
const maxRecoveryFile = 1 << 30

// Exposure bases: what a loan's recovery rate divides by.
const (
	// ExposureClaim is the total claim (principal + interest + fees outstanding): the
	// denominator of the seasoned synthetic labels and of cn-v1 models.
	ExposureClaim = "total_claim"
	// ExposurePrincipal is the principal outstanding: LendingClub's ead_principal, the
	// denominator of lendingclub-v1 models.
	ExposurePrincipal = "principal_outstanding"
)

// OtherFeatures names the reason that sums the contributions of the features left out of a
// top-k explanation, so that the reasons and the bias still add up to the margin.
const OtherFeatures = "(other features)"

// ErrModelChecksum is returned (wrapped) by LoadRecoveryModel when the body of a model file does
// not match the checksum in its header: the file is corrupted.
var ErrModelChecksum = errors.New("valuation: recovery model file checksum mismatch: the file is corrupted")

// ErrNotModelFile is returned (wrapped) by LoadRecoveryModel for input that is not a recovery-model
// file at all.
var ErrNotModelFile = errors.New("valuation: not a Reclaim recovery model file")

// ModelVersionError is returned by LoadRecoveryModel for a file of another format version.
type ModelVersionError struct {
	// File is the format version the file declares; Build is RecoveryFormatVersion.
	File, Build int
}

// Error names both versions.
func (e *ModelVersionError) Error() string {
	return fmt.Sprintf("valuation: the model file is recovery-model format version %d; this build reads version %d (retrain the model, or use a build that reads version %d)",
		e.File, e.Build, e.File)
}

// DefaultExposure returns the exposure basis of a feature set: ExposurePrincipal for
// lendingclub-v1, ExposureClaim otherwise.
func DefaultExposure(featureSet string) string {
	if featureSet == LendingClubV1 {
		return ExposurePrincipal
	}
	return ExposureClaim
}

// ExposureOf returns the loan's exposure in major units under basis (ExposureClaim: total_claim,
// else principal + interest + fees; ExposurePrincipal: principal_outstanding) and whether it is
// known, finite and positive.
func ExposureOf(basis string, l *reclaim.Loan) (float64, bool) {
	var a money.Amount
	if basis == ExposurePrincipal {
		a = l.PrincipalOutstanding
	} else {
		a = l.TotalClaim
		if a.IsAbsent() && !l.PrincipalOutstanding.IsAbsent() {
			if s, err := l.Claim(); err == nil {
				a = s
			}
		}
	}
	if a.IsAbsent() {
		return 0, false
	}
	v := a.Float()
	return v, v > 0 && !math.IsInf(v, 0)
}

// Num is a float64 that JSON carries as a number, or as null when it is NaN or infinite (a
// metric that cannot be computed, such as an AUC on one class).
type Num float64

// MarshalJSON writes the number, or null when it is not finite.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number; null reads as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("valuation: %q is not a number", b)
	}
	*n = Num(f)
	return nil
}

// RecoveryMetrics are a model's scores on held-out loans (the validation fold), next to the
// static-pool baseline fitted without that fold. Rates are capped recovery rates (LabelRate).
type RecoveryMetrics struct {
	// AUCMaterial is the AUC of P(material) for LabelMaterial.
	AUCMaterial Num `json:"auc_material"`
	// AUCRate10 is the AUC of the expected rate for LabelHigh (rate >= 10%).
	AUCRate10 Num `json:"auc_rate10"`
	// LogLoss is the log-loss of P(material).
	LogLoss Num `json:"logloss"`
	// MAE and RMSE are the errors of the expected rate against the rate.
	MAE  Num `json:"mae"`
	RMSE Num `json:"rmse"`
	// Spearman is the rank correlation of the expected rate and the rate.
	Spearman Num `json:"spearman"`
	// PortfolioErrorPct is 100 × (Σ exposure × expected rate − Σ recovered) / Σ recovered over
	// the held-out loans (recoveries capped at the exposure).
	PortfolioErrorPct Num `json:"portfolio_error_pct"`
	// The same for the static-pool baseline: its segment rate for the rate metrics and its
	// segment share of material recoveries for P(material).
	BaselineAUCRate10         Num `json:"baseline_auc_rate10"`
	BaselineMAE               Num `json:"baseline_mae"`
	BaselineRMSE              Num `json:"baseline_rmse"`
	BaselineAUCMaterial       Num `json:"baseline_auc_material"`
	BaselineLogLoss           Num `json:"baseline_logloss"`
	BaselineSpearman          Num `json:"baseline_spearman"`
	BaselinePortfolioErrorPct Num `json:"baseline_portfolio_error_pct"`
	// Rows is the number of loans scored.
	Rows int `json:"rows"`
}

// CalibrationRow is one bin of a reliability table: loans sorted by prediction and cut into
// groups of equal count (deciles), the group's mean prediction against its mean outcome.
type CalibrationRow struct {
	// Bin is the group's rank, 1 for the lowest predictions.
	Bin int `json:"bin"`
	// Predicted is the mean prediction and Observed the mean outcome.
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
	// Count is the number of loans in the group.
	Count int `json:"count"`
	// Lo and Hi are the smallest and largest prediction in the group.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// FeatureGain is one feature's share of a model's total split gain.
type FeatureGain struct {
	Feature string  `json:"feature"`
	Gain    float64 `json:"gain"`
}

// TrainInfo records how a model was trained.
type TrainInfo struct {
	// Source describes the training data (free text given to Train).
	Source string `json:"source"`
	// Rows, TrainRows and ValidRows count the table's loans and its two sides.
	Rows      int `json:"rows"`
	TrainRows int `json:"train_rows"`
	ValidRows int `json:"valid_rows"`
	// ValidFold is the fold held out (of Folds) for early stopping and the metrics.
	ValidFold int `json:"valid_fold"`
	Folds     int `json:"folds"`
	// Horizon is the months of timing in the static-pool curves (0: none; the valuation then
	// uses MarketTiming).
	Horizon int `json:"horizon"`
	// Exposure is the exposure basis.
	Exposure string `json:"exposure"`
	// SeverityObjective is the severity model's objective; SeverityWeighted says whether its
	// loans were weighted by exposure.
	SeverityObjective gbdt.Objective `json:"severity_objective"`
	SeverityWeighted  bool           `json:"severity_weighted"`
	// CrossFitFolds are the training folds cross-fitted (each predicted by models trained on the
	// others, with early stopping on it) for the amount calibration and the numbers of trees.
	CrossFitFolds []int `json:"cross_fit_folds"`
	// MaterialTrees and SeverityTrees are the final models' trees (the cross-fitted models' mean
	// early-stopping iteration).
	MaterialTrees int `json:"material_trees"`
	SeverityTrees int `json:"severity_trees"`
	// MaterialParams and SeverityParams are the learner's parameters.
	MaterialParams gbdt.Params `json:"material_params"`
	SeverityParams gbdt.Params `json:"severity_params"`
}

// ModelSummary is what a model says about itself: it is stored in the model file and, as JSON,
// beside it in the registry.
type ModelSummary struct {
	// Metrics are the held-out scores.
	Metrics RecoveryMetrics `json:"metrics"`
	// Calibration is the reliability table of P(material) by decile on the held-out loans;
	// RateCalibration the same for the expected rate.
	Calibration     []CalibrationRow `json:"calibration"`
	RateCalibration []CalibrationRow `json:"rate_calibration"`
	// FoldErrors is the portfolio error of every fold next to the static pool's, each fold
	// scored by models, calibrations and pools fitted without it; ExposureDeciles the same over
	// all those held-out predictions by decile of exposure.
	FoldErrors      []FoldError           `json:"fold_errors"`
	ExposureDeciles []ExposureDecileError `json:"exposure_deciles"`
	// Importance is the severity model's gain by feature as shares of the total, largest first;
	// MaterialImportance the same for P(material).
	Importance         []FeatureGain `json:"importance"`
	MaterialImportance []FeatureGain `json:"material_importance"`
	// Info says how the model was trained.
	Info TrainInfo `json:"info"`
	// Uncertainty is the systemic, amount and timing dispersion estimated from the training
	// data's cohorts, which the valuation's Monte Carlo uses (nil in models trained before it).
	Uncertainty *Uncertainty `json:"uncertainty,omitempty"`
}

// RecoveryModel is the recovery model: P(material recovery), the expected recovery rate and the
// timing of collections for every loan, with reason codes. It bundles a binary gbdt model for
// LabelMaterial, a regression gbdt model for LabelRate, the static-pool segment curves (timing,
// and the transparent baseline) and the model's summary. Create it with TrainRecoveryModel or
// LoadRecoveryModel; it is immutable afterwards and safe for concurrent use.
type RecoveryModel struct {
	// FeatureSet names the feature set and Fingerprint is its FeatureSet.Fingerprint at training.
	FeatureSet  string
	Fingerprint string
	// Exposure is the exposure basis (ExposureClaim or ExposurePrincipal) rates refer to.
	Exposure string
	// Horizon is the months the rate covers and the curves span (0: the training data had no
	// timing, e.g. LendingClub; the rate is then the recovery to date).
	Horizon int
	// Material predicts P(rate >= MaterialThreshold); Severity predicts E[rate | material] (the
	// capped rate of the loans with a material recovery), clamped to [MaterialThreshold, 1].
	Material *gbdt.Model
	Severity *gbdt.Model
	// Calibration scales the severity so that expected amounts add up (nil: none).
	Calibration *AmountCalibration
	// Pool is the static pool fitted on every training loan (timing and baseline).
	Pool *StaticPool
	// Summary holds metrics, calibration, importance and training facts.
	Summary ModelSummary

	fs     *FeatureSet
	timing map[string][]float64 // segment key in Pool -> monthly shares summing to 1
	dflt   []float64            // timing when no segment has one
}

// TrainOptions configure TrainRecoveryModel. Zero fields take the defaults named.
type TrainOptions struct {
	// ValidFold is the fold held out for early stopping and the metrics (default 0).
	ValidFold int
	// Trees is the most boosting rounds per model (default 300); early stopping keeps fewer.
	Trees int
	// MaxDepth is the trees' depth (default 4).
	MaxDepth int
	// LearningRate is the shrinkage (default 0.05).
	LearningRate float64
	// MinChildWeight is the least hessian in a leaf (default 10).
	MinChildWeight float64
	// EarlyStopping stops a model after this many rounds without a better validation loss
	// (default 30; negative disables it).
	EarlyStopping int
	// SeverityObjective forces the severity model's objective (gbdt.Squared or gbdt.Tweedie);
	// empty takes the recipe's (squared error, exposure-weighted: docs/valuation.md).
	SeverityObjective gbdt.Objective
	// Seed drives the learner's sampling; Threads its goroutines (0: all cores).
	Seed    uint64
	Threads int
	// MinSegmentLoans is the fewest loans a static-pool segment needs to stand alone (default
	// DefaultMinSegmentLoans).
	MinSegmentLoans int
	// Exposure is the exposure basis of the table's rates (default DefaultExposure of the
	// feature set).
	Exposure string
	// Source describes the training data for the model's summary.
	Source string
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Trees <= 0 {
		o.Trees = 300
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 4
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 0.05
	}
	if o.MinChildWeight <= 0 {
		o.MinChildWeight = 10
	}
	if o.EarlyStopping == 0 {
		o.EarlyStopping = 30
	}
	if o.EarlyStopping < 0 {
		o.EarlyStopping = 0
	}
	if o.MinSegmentLoans <= 0 {
		o.MinSegmentLoans = DefaultMinSegmentLoans
	}
	return o
}

// TrainProgress reports one boosting round of TrainRecoveryModel.
type TrainProgress struct {
	// Stage names the model being trained: "material", or "rate/<objective>".
	Stage string
	gbdt.Progress
}

// TrainRecoveryModel trains the recovery model on t with the amount recipe (amount.go): the rows
// outside opts.ValidFold are cross-fitted (each of their folds predicted by P(material) and
// severity models trained on the other training folds, with early stopping on it), the
// out-of-fold predictions calibrate the expected amounts by exposure decile × score quintile, and
// the final models are trained on every training row with the cross-fitted numbers of trees. The
// held-out fold gives the metrics, the calibration tables and the baseline comparison (the static
// pool fitted without that fold) and is used for nothing else; the summary also gives the
// portfolio error of every fold (each scored by models and calibrations that did not see it) and
// by exposure decile. The final static pool is fitted on every row. The table must use
// StandardSegment (scoring does). progress, when not nil, is called after every round. The same
// table and options give a bit-identical model.
func TrainRecoveryModel(ctx context.Context, t *Table, opts TrainOptions, progress func(TrainProgress)) (*RecoveryModel, error) {
	return trainRecipe(ctx, t, opts, defaultRecipe(opts), progress)
}

// defaultRecipe is the product's recipe: the choices docs/valuation.md reports measurements of.
func defaultRecipe(opts TrainOptions) recipe {
	r := recipe{sevObj: gbdt.Squared, sevWeight: true, expBins: 10, scoreBins: 5, prior: 100}
	if opts.SeverityObjective != "" {
		r.sevObj = opts.SeverityObjective
	}
	return r
}

func trainRecipe(ctx context.Context, t *Table, opts TrainOptions, r recipe, progress func(TrainProgress)) (*RecoveryModel, error) {
	opts = opts.withDefaults()
	if t == nil || t.Rows() == 0 {
		return nil, errors.New("valuation: no training rows")
	}
	if t.NumFolds < 3 {
		return nil, fmt.Errorf("valuation: the table has %d folds; training needs at least 3 (one held out, two to cross-fit)", t.NumFolds)
	}
	if opts.ValidFold < 0 || opts.ValidFold >= t.NumFolds {
		return nil, fmt.Errorf("valuation: validation fold %d is not one of the table's %d folds", opts.ValidFold, t.NumFolds)
	}
	if opts.Exposure == "" {
		opts.Exposure = DefaultExposure(t.FeatureSet.Name())
	}
	if opts.SeverityObjective != "" && opts.SeverityObjective != gbdt.Squared && opts.SeverityObjective != gbdt.Tweedie {
		return nil, fmt.Errorf("valuation: the severity objective must be %q or %q, not %q", gbdt.Squared, gbdt.Tweedie, opts.SeverityObjective)
	}
	r.opts = opts
	train, valid := t.Split(opts.ValidFold)
	if len(train) == 0 || len(valid) == 0 {
		return nil, fmt.Errorf("valuation: fold %d leaves %d training and %d validation rows; both sides need loans", opts.ValidFold, len(train), len(valid))
	}
	var err error
	if r.matDataset, err = t.Dataset(LabelMaterial); err != nil {
		return nil, err
	}
	if r.sevDataset, err = t.Dataset(LabelRate); err != nil {
		return nil, err
	}
	if r.sevWeight {
		mean := 0.0
		for _, e := range t.Exposure {
			mean += e
		}
		mean /= float64(len(t.Exposure))
		r.sevDataset.Weight = make([]float64, len(t.Exposure))
		for i, e := range t.Exposure {
			r.sevDataset.Weight[i] = e / mean
		}
	}
	stage := func(prefix string) func(string) func(gbdt.Progress) {
		return func(name string) func(gbdt.Progress) {
			if progress == nil {
				return nil
			}
			return func(p gbdt.Progress) { progress(TrainProgress{Stage: prefix + name, Progress: p}) }
		}
	}

	// Cross-fit the training folds.
	n := t.Rows()
	oofP, oofS := make([]float64, n), make([]float64, n)
	var inner []int
	var matTrees, sevTrees float64
	for w := range t.NumFolds {
		if w == opts.ValidFold {
			continue
		}
		var rows, es []int
		for _, i := range train {
			if t.Folds[i] == w {
				es = append(es, i)
			} else {
				rows = append(rows, i)
			}
		}
		if len(es) == 0 || len(rows) == 0 {
			continue
		}
		mat, sev, err := r.fit(ctx, t, rows, es, 0, 0, stage(fmt.Sprintf("fold %d: ", w)))
		if err != nil {
			return nil, err
		}
		p, s, err := predictPartsOf(mat, sev, r.matDataset.Subset(es), r.direct)
		if err != nil {
			return nil, err
		}
		for k, i := range es {
			oofP[i], oofS[i] = p[k], s[k]
		}
		inner = append(inner, w)
		matTrees += float64(mat.NumTrees())
		sevTrees += float64(sev.NumTrees())
	}
	if len(inner) < 2 {
		return nil, fmt.Errorf("valuation: the training rows fall in %d folds; cross-fitting needs at least 2", len(inner))
	}
	mt := max(1, int(math.Round(matTrees/float64(len(inner)))))
	st := max(1, int(math.Round(sevTrees/float64(len(inner)))))
	material, severity, err := r.fit(ctx, t, train, nil, mt, st, stage("final: "))
	if err != nil {
		return nil, err
	}
	calib := func(rows []int) *AmountCalibration {
		if r.expBins <= 0 {
			return nil
		}
		return fitAmountCalibration(pick(t.Exposure, rows), pick(oofP, rows), pick(oofS, rows), pick(t.Rate, rows), r.expBins, r.scoreBins, r.prior)
	}
	cal := calib(train)

	// Held-out predictions of every fold: the held-out fold by the final model and calibration,
	// each training fold by its cross-fitted models and a calibration fitted without it.
	pred, pAll := make([]float64, n), make([]float64, n)
	pHeld, sHeld, err := predictPartsOf(material, severity, r.matDataset.Subset(valid), r.direct)
	if err != nil {
		return nil, err
	}
	ratePred := make([]float64, len(valid))
	for k, i := range valid {
		ratePred[k] = pHeld[k] * cal.Severity(t.Exposure[i], pHeld[k], sHeld[k])
		pred[i], pAll[i] = ratePred[k], pHeld[k]
	}
	if r.heldOut != nil {
		r.heldOut(valid, pHeld, ratePred)
	}
	base := make([]float64, n)
	var folds []FoldError
	for f := range t.NumFolds {
		var rows, others []int
		for _, i := range train {
			if t.Folds[i] == f {
				rows = append(rows, i)
			} else {
				others = append(others, i)
			}
		}
		var pool *StaticPool
		if f == opts.ValidFold {
			rows = valid
			pool = t.Pool.Fit(f, opts.MinSegmentLoans)
		} else {
			if len(rows) == 0 {
				continue
			}
			c := calib(others)
			for _, i := range rows {
				pred[i], pAll[i] = oofP[i]*c.Severity(t.Exposure[i], oofP[i], oofS[i]), oofP[i]
			}
			pool = t.Pool.FitExcept(opts.MinSegmentLoans, f, opts.ValidFold)
		}
		for _, i := range rows {
			base[i] = pool.Predict(t.Segments[i]).Rate
		}
		folds = append(folds, foldError(f, f == opts.ValidFold, pick(t.Exposure, rows), pick(t.Rate, rows), pick(pred, rows), pick(base, rows)))
	}

	rm := &RecoveryModel{
		FeatureSet:  t.FeatureSet.Name(),
		Fingerprint: t.FeatureSet.Fingerprint(),
		Exposure:    opts.Exposure,
		Horizon:     t.Horizon,
		Material:    material,
		Severity:    severity,
		Calibration: cal,
		Pool:        t.Pool.Fit(-1, opts.MinSegmentLoans),
		fs:          t.FeatureSet,
	}
	// Held-out figures of the model and of the baseline fitted without the fold.
	basePool := t.Pool.Fit(opts.ValidFold, opts.MinSegmentLoans)
	ho := Holdout{Rate: pick(t.Rate, valid), Exposure: pick(t.Exposure, valid), PMaterial: pHeld, ExpectedRate: ratePred,
		BaselineRate: make([]float64, len(valid)), BaselineMaterial: make([]float64, len(valid))}
	for k, i := range valid {
		sc := basePool.Predict(t.Segments[i])
		ho.BaselineRate[k], ho.BaselineMaterial[k] = sc.Rate, sc.MaterialShare
	}
	rm.Summary = ModelSummary{
		Metrics:            ho.Metrics(),
		Calibration:        calibration(materialLabels(ho.Rate), pHeld),
		RateCalibration:    calibration(ho.Rate, ratePred),
		FoldErrors:         folds,
		ExposureDeciles:    exposureDeciles(t.Exposure, t.Rate, pred, base),
		Importance:         importance(severity),
		MaterialImportance: importance(material),
		Info: TrainInfo{
			Source: opts.Source, Rows: t.Rows(), TrainRows: len(train), ValidRows: len(valid), ValidFold: opts.ValidFold,
			Folds: t.NumFolds, Horizon: t.Horizon, Exposure: opts.Exposure, SeverityObjective: severity.Objective(),
			SeverityWeighted: r.sevWeight, CrossFitFolds: inner, MaterialTrees: material.NumTrees(), SeverityTrees: severity.NumTrees(),
			MaterialParams: material.Params(), SeverityParams: severity.Params(),
		},
	}
	u := estimateUncertainty(t, pAll, pred)
	rm.Summary.Uncertainty = &u
	rm.prepare()
	return rm, nil
}

func pick(x []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for k, i := range rows {
		out[k] = x[i]
	}
	return out
}

func clip01(x []float64) {
	for i, v := range x {
		switch {
		case v < 0:
			x[i] = 0
		case v > 1:
			x[i] = 1
		case math.IsNaN(v):
			x[i] = 0
		}
	}
}

func materialLabels(rate []float64) []float64 { return thresholdLabels(rate, MaterialThreshold) }

func thresholdLabels(rate []float64, th float64) []float64 {
	out := make([]float64, len(rate))
	for i, r := range rate {
		if r >= th {
			out[i] = 1
		}
	}
	return out
}

// Holdout holds held-out outcomes and predictions, all of one length: the loans' capped rates
// and exposures, the model's P(material) and expected rates, and the baseline's segment rates and
// shares of material recoveries.
type Holdout struct {
	Rate, Exposure                 []float64
	PMaterial, ExpectedRate        []float64
	BaselineRate, BaselineMaterial []float64
}

// Metrics scores the predictions (see RecoveryMetrics). Slices of the wrong length give NaN
// metrics.
func (h Holdout) Metrics() RecoveryMetrics {
	mat := materialLabels(h.Rate)
	high := thresholdLabels(h.Rate, HighThreshold)
	portErr := func(pred []float64) Num {
		if len(pred) != len(h.Rate) || len(h.Exposure) != len(h.Rate) {
			return Num(math.NaN())
		}
		var p, a float64
		for i := range pred {
			p += h.Exposure[i] * pred[i]
			a += h.Exposure[i] * h.Rate[i]
		}
		return Num(100 * (p - a) / a)
	}
	return RecoveryMetrics{
		AUCMaterial:               Num(gbdt.AUC(mat, h.PMaterial, nil)),
		AUCRate10:                 Num(gbdt.AUC(high, h.ExpectedRate, nil)),
		LogLoss:                   Num(gbdt.LogLoss(mat, h.PMaterial, nil)),
		MAE:                       Num(gbdt.MAE(h.Rate, h.ExpectedRate, nil)),
		RMSE:                      Num(gbdt.RMSE(h.Rate, h.ExpectedRate, nil)),
		Spearman:                  Num(gbdt.Spearman(h.ExpectedRate, h.Rate)),
		PortfolioErrorPct:         portErr(h.ExpectedRate),
		BaselineAUCRate10:         Num(gbdt.AUC(high, h.BaselineRate, nil)),
		BaselineMAE:               Num(gbdt.MAE(h.Rate, h.BaselineRate, nil)),
		BaselineRMSE:              Num(gbdt.RMSE(h.Rate, h.BaselineRate, nil)),
		BaselineAUCMaterial:       Num(gbdt.AUC(mat, h.BaselineMaterial, nil)),
		BaselineLogLoss:           Num(gbdt.LogLoss(mat, h.BaselineMaterial, nil)),
		BaselineSpearman:          Num(gbdt.Spearman(h.BaselineRate, h.Rate)),
		BaselinePortfolioErrorPct: portErr(h.BaselineRate),
		Rows:                      len(h.Rate),
	}
}

func calibration(label, p []float64) []CalibrationRow {
	bins := gbdt.Calibration(label, p, 10)
	out := make([]CalibrationRow, len(bins))
	for i, b := range bins {
		out[i] = CalibrationRow{Bin: i + 1, Predicted: b.MeanPredicted, Observed: b.Observed, Count: b.Count, Lo: b.Lo, Hi: b.Hi}
	}
	return out
}

func importance(m *gbdt.Model) []FeatureGain {
	gain := m.FeatureImportance()
	total := 0.0
	for _, g := range gain {
		total += g
	}
	feats := m.Features()
	out := make([]FeatureGain, 0, len(gain))
	for j, g := range gain {
		if g > 0 && total > 0 {
			out = append(out, FeatureGain{Feature: feats[j].Name, Gain: g / total})
		}
	}
	slices.SortStableFunc(out, func(a, b FeatureGain) int { return cmp.Compare(b.Gain, a.Gain) })
	return out
}

// MarketTiming is the timing used when a model has no curves of its own (trained on data without
// dated collections, such as LendingClub): shared/design/market.md's estimate of when lifetime
// collections of aged Chinese consumer packages arrive (year 1 40%, year 2 27%, year 3 17%,
// year 4 10%, year 5 and later 6%), spread evenly over the months of each year, 60 months in all.
func MarketTiming() []float64 {
	years := []float64{0.40, 0.27, 0.17, 0.10, 0.06}
	out := make([]float64, 0, 60)
	for _, y := range years {
		for range 12 {
			out = append(out, y/12)
		}
	}
	return out
}

// prepare resolves the feature set and derives the timing curves.
func (m *RecoveryModel) prepare() {
	m.timing = map[string][]float64{}
	m.dflt = MarketTiming()
	if m.Horizon <= 0 || m.Pool == nil {
		return
	}
	shares := func(sc SegmentCurve) []float64 {
		if len(sc.Curve) != m.Horizon {
			return nil
		}
		total := sc.Curve[m.Horizon-1]
		if !(total > 0) {
			return nil
		}
		out := make([]float64, m.Horizon)
		prev := 0.0
		for k, c := range sc.Curve {
			out[k] = math.Max(c-prev, 0)
			prev = math.Max(c, prev)
		}
		sum := 0.0
		for _, v := range out {
			sum += v
		}
		for k := range out {
			out[k] /= sum
		}
		return out
	}
	if root, ok := m.Pool.Segments[""]; ok {
		if s := shares(root); s != nil {
			m.dflt = s
		} else {
			m.dflt = uniform(m.Horizon)
		}
	}
	for key, sc := range m.Pool.Segments {
		if s := shares(sc); s != nil {
			m.timing[key] = s
		}
	}
}

func uniform(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1 / float64(n)
	}
	return out
}

// FeatureSetOf returns the model's feature set.
func (m *RecoveryModel) FeatureSetOf() *FeatureSet { return m.fs }

// Timing returns the monthly timing curve the model uses for a loan of the segment: the shares of
// its recovery collected in months 1, 2, ... after the as-of date (they sum to 1), and the
// static-pool segment they come from ("" for the whole pool). It is the curve of the segment the
// pool predicts with (StaticPool.Predict), else of the nearest parent with any collections, else
// the whole pool's (MarketTiming for a model without timing). The slice is shared: do not modify
// it.
func (m *RecoveryModel) Timing(segment string) ([]float64, string) {
	if m.Horizon <= 0 || m.Pool == nil {
		return m.dflt, ""
	}
	key := m.Pool.Predict(segment).Key
	ps := prefixes(key)
	for i := len(ps) - 1; i >= 0; i-- {
		if s, ok := m.timing[ps[i]]; ok {
			return s, ps[i]
		}
	}
	return m.dflt, ""
}

// Baseline returns the static pool's figures for a segment (StaticPool.Predict of the pool
// fitted on every training loan).
func (m *RecoveryModel) Baseline(segment string) SegmentCurve {
	if m.Pool == nil {
		return SegmentCurve{}
	}
	return m.Pool.Predict(segment)
}

// CalibrationReason names the reason that carries the amount calibration's adjustment
// (AmountCalibration): the calibrated minus the uncalibrated expected recovery.
const CalibrationReason = "(calibration)"

// Reason is one feature's contribution to a loan's expected recovery.
type Reason struct {
	// Feature is the feature's name, OtherFeatures for the sum of the features left out, or
	// CalibrationReason.
	Feature string `json:"feature"`
	// Value is the loan's value of the feature; null when missing (or for the two sums).
	Value *float64 `json:"value"`
	// Level names the category of a categorical feature's value.
	Level string `json:"level,omitempty"`
	// Contribution is the feature's share of the expected recovery, in the exposure's currency
	// (major units); RateContribution the same as a share of the exposure.
	Contribution     float64 `json:"contribution"`
	RateContribution float64 `json:"rate_contribution"`
	// Material and Severity are the feature's TreeSHAP values on the two models' margins: the
	// log-odds of P(material) and the severity's margin (Explanation.SeverityLink).
	Material float64 `json:"material"`
	Severity float64 `json:"severity"`
}

// Explanation is the reason codes of one loan's expected recovery, exposure × P(material) ×
// severity. Each model's TreeSHAP values are turned into changes of its output by the secant of
// its link between the base and the loan (exact in sum), and the change of the product is split
// between the two parts symmetrically (Δ(p·s) = Δp·(s+s₀)/2 + Δs·(p+p₀)/2, the two-player Shapley
// value), so that Bias + Σ Contribution = ExpectedRecovery always holds.
type Explanation struct {
	// Reasons are the largest contributions by absolute amount, largest first, then (when some
	// were left out) one OtherFeatures reason that sums the rest, then CalibrationReason.
	Reasons []Reason `json:"reasons"`
	// Bias is the expected recovery of a loan of this exposure at the models' base values
	// (exposure × BaseRate), and BaseRate = P(material at the base) × severity at the base.
	Bias     float64 `json:"bias"`
	BaseRate float64 `json:"base_rate"`
	// ExpectedRecovery is the loan's expected recovery (Bias + Σ Contribution) and ExpectedRate
	// its share of the exposure; PMaterial and Severity are its two factors.
	ExpectedRecovery float64 `json:"expected_recovery"`
	ExpectedRate     float64 `json:"expected_rate"`
	PMaterial        float64 `json:"p_material"`
	Severity         float64 `json:"severity"`
	// SeverityLink says how the severity model's margin becomes the severity: "identity"
	// (squared error) or "log" (Tweedie); it is then clamped to [MaterialThreshold, 1] and
	// calibrated.
	SeverityLink string `json:"severity_link"`
}

func secant(dy, dx, deriv float64) float64 {
	if dx == 0 || math.Abs(dx) < 1e-12 {
		return deriv
	}
	return dy / dx
}

// explain returns the explanation of row x of a loan of the given exposure with the top k
// reasons (k <= 0: every feature with a non-zero contribution).
func (m *RecoveryModel) explain(x []float64, k int, exposure float64) (Explanation, error) {
	feats := m.Severity.Features()
	F := len(feats)
	phiM := make([]float64, F+1)
	phiS := make([]float64, F+1)
	if err := m.Material.Contributions(x, phiM); err != nil {
		return Explanation{}, err
	}
	if err := m.Severity.Contributions(x, phiS); err != nil {
		return Explanation{}, err
	}
	link := "identity"
	sevOf := func(margin float64) float64 { return clampSeverity(margin) }
	if m.Severity.Objective() == gbdt.Tweedie {
		link = "log"
		sevOf = func(margin float64) float64 { return clampSeverity(math.Exp(margin)) }
	}
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	l0, l1 := phiM[F], m.Material.PredictRaw(x)
	z0, z1 := phiS[F], m.Severity.PredictRaw(x)
	p0, p1 := sig(l0), m.Material.Predict(x)
	p1 = min(max(p1, 0), 1)
	s0, s1 := sevOf(z0), sevOf(z1)
	sc := m.Calibration.Severity(exposure, p1, s1)
	slopeP := secant(p1-p0, l1-l0, p1*(1-p1))
	slopeS := secant(s1-s0, z1-z0, 0)
	wP := slopeP * (s1 + s0) / 2
	wS := slopeS * (p1 + p0) / 2
	e := Explanation{BaseRate: p0 * s0, PMaterial: p1, Severity: sc, ExpectedRate: p1 * sc, SeverityLink: link}
	e.Bias = exposure * e.BaseRate
	e.ExpectedRecovery = exposure * e.ExpectedRate
	rate := make([]float64, F)
	idx := make([]int, 0, F)
	for j := range F {
		rate[j] = phiM[j]*wP + phiS[j]*wS
		if phiM[j] != 0 || phiS[j] != 0 {
			idx = append(idx, j)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(math.Abs(rate[b]), math.Abs(rate[a])) })
	keep := idx
	if k > 0 && len(idx) > k {
		keep = idx[:k]
	}
	specs := m.fs.defs
	for _, j := range keep {
		r := Reason{Feature: feats[j].Name, Contribution: exposure * rate[j], RateContribution: rate[j], Material: phiM[j], Severity: phiS[j]}
		if v := x[j]; !math.IsNaN(v) {
			r.Value = &v
			if lv := specs[j].Levels; feats[j].Kind == gbdt.Categorical && v >= 0 && int(v) < len(lv) {
				r.Level = lv[int(v)]
			}
		}
		e.Reasons = append(e.Reasons, r)
	}
	if len(keep) < len(idx) {
		r := Reason{Feature: OtherFeatures}
		for _, j := range idx[len(keep):] {
			r.RateContribution += rate[j]
			r.Material += phiM[j]
			r.Severity += phiS[j]
		}
		r.Contribution = exposure * r.RateContribution
		e.Reasons = append(e.Reasons, r)
	}
	if adj := p1 * (sc - s1); adj != 0 {
		e.Reasons = append(e.Reasons, Reason{Feature: CalibrationReason, Contribution: exposure * adj, RateContribution: adj})
	}
	if e.Reasons == nil {
		e.Reasons = []Reason{}
	}
	return e, nil
}

// Explain returns the reason codes of one loan with the top k reasons (k <= 0: all).
func (m *RecoveryModel) Explain(in Input, k int) (Explanation, error) {
	if in.Loan == nil {
		return Explanation{}, errors.New("valuation: Explain needs a loan")
	}
	exposure, ok := ExposureOf(m.Exposure, in.Loan)
	if !ok {
		exposure = 0
	}
	return m.explain(m.fs.Compute(in).Values, k, exposure)
}

// LoanScore is the model's view of one loan.
type LoanScore struct {
	// LoanID is the tape's loan id.
	LoanID string `json:"loan_id"`
	// Exposure is the loan's exposure in major units under the model's basis (0 when unknown;
	// ExposureKnown says which).
	Exposure      float64 `json:"exposure"`
	ExposureKnown bool    `json:"exposure_known"`
	// PRecovery is P(a material recovery, >= 1% of the exposure, within the horizon).
	PRecovery float64 `json:"p_recovery"`
	// Severity is E[rate | material recovery]: the severity model's output, calibrated, in
	// [MaterialThreshold, 1].
	Severity float64 `json:"severity"`
	// ExpectedRate is the expected recovery as a share of the exposure (unconditional):
	// PRecovery × Severity, exactly (so it is never 0 beside a positive PRecovery, and never
	// above it); ExpectedRecovery is Exposure × ExpectedRate.
	ExpectedRate     float64 `json:"expected_recovery_rate"`
	ExpectedRecovery float64 `json:"expected_recovery"`
	// Segment is the loan's static-pool segment (StandardSegment) and CurveSegment the segment
	// whose timing curve it uses.
	Segment      string `json:"segment"`
	CurveSegment string `json:"curve_segment"`
	// Timing is the monthly timing curve (RecoveryModel.Timing; shared, do not modify).
	Timing []float64 `json:"-"`
	// Missing names the features flagged missing for the loan (Row.Missing).
	Missing []string `json:"missing,omitempty"`
	// Explanation holds the reason codes when ScoreOptions.Reasons asked for them.
	Explanation *Explanation `json:"explanation,omitempty"`
}

// ScoreOptions configure Score.
type ScoreOptions struct {
	// Reasons asks for the top Reasons reason codes of every loan (0: none; they cost more than
	// the scores themselves).
	Reasons int
	// Threads is the number of goroutines (0: all cores).
	Threads int
	// Progress, when not nil, is called with the number of loans whose features are computed.
	Progress func(done int)
}

// Score scores every input: features by the model's feature set (missing values flagged),
// P(material) and the expected rate from the trees, the segment's timing curve and, when asked,
// reason codes. Results are in input order. It stops with ctx's error when ctx is cancelled.
func (m *RecoveryModel) Score(ctx context.Context, inputs []Input, opts ScoreOptions) ([]LoanScore, error) {
	if len(inputs) == 0 {
		return []LoanScore{}, nil
	}
	return m.scoreBatch(ctx, inputs, opts, m.NewCoverage(), true)
}

// Coverage records which features some loan has: Score refuses loans that lack entirely the
// features carrying most of the model's gain (see MaxAbsentGain), and a streaming valuation,
// which scores a portfolio in batches, accumulates what its batches have and checks once (see
// RecoveryModel.ScoreBatch and Coverage.Check).
type Coverage struct {
	m       *RecoveryModel
	present []bool
}

// NewCoverage returns an empty coverage for the model's features.
func (m *RecoveryModel) NewCoverage() *Coverage {
	return &Coverage{m: m, present: make([]bool, m.fs.Len())}
}

// Check returns Score's error for loans that lack entirely the features carrying more than
// MaxAbsentGain of the gain, over every batch recorded so far.
func (c *Coverage) Check() error { return c.m.checkCoverage(c.present) }

// ScoreBatch scores a batch of a portfolio's loans like Score, except that it records in cov
// which features the batch has instead of checking them: the caller calls cov.Check once the
// portfolio is scored. Scores do not depend on how the portfolio is cut into batches.
func (m *RecoveryModel) ScoreBatch(ctx context.Context, inputs []Input, opts ScoreOptions, cov *Coverage) ([]LoanScore, error) {
	if len(inputs) == 0 {
		return []LoanScore{}, nil
	}
	return m.scoreBatch(ctx, inputs, opts, cov, false)
}

// scoreBatch scores inputs, recording the features present in cov; with check it fails,
// before predicting, when cov fails its check.
func (m *RecoveryModel) scoreBatch(ctx context.Context, inputs []Input, opts ScoreOptions, cov *Coverage, check bool) ([]LoanScore, error) {
	n := len(inputs)
	out := make([]LoanScore, n)
	for i := range inputs {
		if inputs[i].Loan == nil {
			return nil, fmt.Errorf("valuation: input %d has no loan", i)
		}
	}
	F := m.fs.Len()
	cols := make([][]float64, F)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	const block = 2048
	var next, done int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(threads, (n+block-1)/block) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var row Row
			var c featureCtx
			// The segment's figures, by segment: a few dozen segments cover a portfolio.
			segs := map[segmentKey]*segmentInfo{}
			for ctx.Err() == nil {
				mu.Lock()
				lo := int(next)
				next += block
				mu.Unlock()
				if lo >= n {
					return
				}
				hi := min(n, lo+block)
				for i := lo; i < hi; i++ {
					in := &inputs[i]
					c.init(in)
					m.fs.fill(&c, &row)
					for j, v := range row.Values {
						cols[j][i] = v
					}
					s := &out[i]
					s.LoanID = in.Loan.LoanID
					s.Exposure, s.ExposureKnown = ExposureOf(m.Exposure, in.Loan)
					if !s.ExposureKnown {
						s.Exposure = 0
					}
					if len(row.Missing) > 0 {
						s.Missing = slices.Clone(row.Missing)
					}
					k := standardSegment(&c)
					seg, ok := segs[k]
					if !ok {
						seg = &segmentInfo{name: k.String()}
						seg.timing, seg.curve = m.Timing(seg.name)
						segs[k] = seg
					}
					s.Segment, s.Timing, s.CurveSegment = seg.name, seg.timing, seg.curve
				}
				if opts.Progress != nil {
					mu.Lock()
					done += int64(hi - lo)
					opts.Progress(int(done))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for j, c := range cols {
		if !cov.present[j] && slices.ContainsFunc(c, func(v float64) bool { return !math.IsNaN(v) }) {
			cov.present[j] = true
		}
	}
	if check {
		if err := cov.Check(); err != nil {
			return nil, err
		}
	}
	ds := &gbdt.Dataset{Features: m.fs.Features(), Columns: cols, Label: make([]float64, n)}
	pm := make([]float64, n)
	pr := make([]float64, n)
	if err := m.Material.PredictDataset(ds, pm); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.Severity.PredictDataset(ds, pr); err != nil {
		return nil, err
	}
	clip01(pm)
	x := make([]float64, F)
	for i := range out {
		s := &out[i]
		s.PRecovery = pm[i]
		s.Severity = m.Calibration.Severity(s.Exposure, pm[i], clampSeverity(pr[i]))
		s.ExpectedRate = s.PRecovery * s.Severity
		s.ExpectedRecovery = s.Exposure * s.ExpectedRate
		if opts.Reasons > 0 {
			e, err := m.explain(ds.Row(i, x), opts.Reasons, s.Exposure)
			if err != nil {
				return nil, err
			}
			s.Explanation = &e
		}
	}
	return out, nil
}

// segmentInfo is what scoring gives every loan of a segment.
type segmentInfo struct {
	name, curve string
	timing      []float64
}

// MaxAbsentGain is the largest share of a model's gain (the mean of its two models' shares)
// that features absent from every loan may carry before Score refuses the loans.
const MaxAbsentGain = 0.5

// checkCoverage fails when features that no loan has (every value missing: the tape lacks the
// columns they are computed from) carry more than MaxAbsentGain of the model's gain: a model of
// another feature set, or a tape mapped wrongly, whose scores would be the trees' defaults.
func (m *RecoveryModel) checkCoverage(present []bool) error {
	gain := map[string]float64{}
	for _, g := range m.Summary.Importance {
		gain[g.Feature] += g.Gain / 2
	}
	for _, g := range m.Summary.MaterialImportance {
		gain[g.Feature] += g.Gain / 2
	}
	var absent []string
	share := 0.0
	for j, has := range present {
		if !has {
			name := m.fs.defs[j].Name
			absent = append(absent, name)
			share += gain[name]
		}
	}
	if len(absent) == len(present) || (len(gain) > 0 && share > MaxAbsentGain) {
		return fmt.Errorf("valuation: the loans lack entirely %d of the %d features of the %s model, which carry %.0f%% of its gain: %s; the tape has none of the columns they are computed from (score it with a model of its own feature set, or map those columns)",
			len(absent), len(present), m.FeatureSet, 100*share, strings.Join(absent, ", "))
	}
	return nil
}

// recoveryFile is the JSON body of a model file.
type recoveryFile struct {
	FeatureSet  string             `json:"feature_set"`
	Fingerprint string             `json:"fingerprint"`
	Exposure    string             `json:"exposure"`
	Horizon     int                `json:"horizon"`
	Material    string             `json:"material"`
	Severity    string             `json:"severity"`
	Calibration *AmountCalibration `json:"calibration"`
	Pool        *StaticPool        `json:"pool"`
	Summary     ModelSummary       `json:"summary"`
}

// Save writes the model file (see RecoveryFormatVersion) to w.
func (m *RecoveryModel) Save(w io.Writer) error {
	var mat, rate bytes.Buffer
	if _, err := m.Material.WriteTo(&mat); err != nil {
		return err
	}
	if _, err := m.Severity.WriteTo(&rate); err != nil {
		return err
	}
	body, err := json.Marshal(recoveryFile{FeatureSet: m.FeatureSet, Fingerprint: m.Fingerprint, Exposure: m.Exposure,
		Horizon: m.Horizon, Material: mat.String(), Severity: rate.String(), Calibration: m.Calibration, Pool: m.Pool, Summary: m.Summary})
	if err != nil {
		return fmt.Errorf("valuation: encoding the model: %w", err)
	}
	sum := sha256.Sum256(body)
	if _, err := fmt.Fprintf(w, "%s %d %d %s\n", recoveryMagic, RecoveryFormatVersion, len(body), hex.EncodeToString(sum[:])); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// MarshalBinary returns the model file's bytes (Save into memory).
func (m *RecoveryModel) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := m.Save(&b)
	return b.Bytes(), err
}

// LoadRecoveryModel reads a model file written by Save. It fails, without panicking, on input
// that is not a model file (ErrNotModelFile), a file of another format version
// (*ModelVersionError, naming both versions), a body that does not match its checksum
// (ErrModelChecksum), a truncated file, and a model whose feature set this build does not have
// or has in another version (the fingerprints differ).
func LoadRecoveryModel(r io.Reader) (*RecoveryModel, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRecoveryFile+1))
	if err != nil {
		return nil, fmt.Errorf("valuation: reading the model file: %w", err)
	}
	if len(data) > maxRecoveryFile {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrNotModelFile, maxRecoveryFile)
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || nl > 256 {
		return nil, fmt.Errorf("%w (no header line)", ErrNotModelFile)
	}
	fields := strings.Fields(string(data[:nl]))
	if len(fields) == 0 || fields[0] != recoveryMagic {
		if len(fields) > 0 && fields[0] == "RECLAIM-GBDT" {
			return nil, fmt.Errorf("%w: this is a bare gbdt tree file, not a recovery model", ErrNotModelFile)
		}
		return nil, fmt.Errorf("%w (bad magic)", ErrNotModelFile)
	}
	if len(fields) < 2 {
		return nil, fmt.Errorf("%w: the header has no format version", ErrNotModelFile)
	}
	version, err := strconv.Atoi(fields[1])
	if err != nil {
		return nil, fmt.Errorf("%w: bad format version %.20q", ErrNotModelFile, fields[1])
	}
	if version != RecoveryFormatVersion {
		return nil, &ModelVersionError{File: version, Build: RecoveryFormatVersion}
	}
	if len(fields) != 4 {
		return nil, fmt.Errorf("%w: malformed header (want magic, version, length, checksum)", ErrNotModelFile)
	}
	size, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("%w: bad body length %.20q", ErrNotModelFile, fields[2])
	}
	want, err := hex.DecodeString(fields[3])
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("%w: malformed SHA-256 checksum", ErrNotModelFile)
	}
	body := data[nl+1:]
	switch {
	case int64(len(body)) < size:
		return nil, fmt.Errorf("valuation: model file truncated: the body has %d of %d bytes", len(body), size)
	case int64(len(body)) > size:
		return nil, fmt.Errorf("valuation: model file has %d bytes after its body", int64(len(body))-size)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], want) {
		return nil, ErrModelChecksum
	}
	var f recoveryFile
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("valuation: decoding the model body: %w", err)
	}
	fs, ok := FeatureSetByName(f.FeatureSet)
	if !ok {
		return nil, fmt.Errorf("valuation: the model uses feature set %q, which this build does not have", f.FeatureSet)
	}
	if fp := fs.Fingerprint(); fp != f.Fingerprint {
		return nil, fmt.Errorf("valuation: the model was trained on another version of feature set %s (fingerprint %.12s…; this build's is %.12s…)",
			f.FeatureSet, f.Fingerprint, fp)
	}
	if f.Exposure != ExposureClaim && f.Exposure != ExposurePrincipal {
		return nil, fmt.Errorf("valuation: unknown exposure basis %q", f.Exposure)
	}
	mat, err := gbdt.ReadModel(strings.NewReader(f.Material))
	if err != nil {
		return nil, fmt.Errorf("valuation: the P(material) trees: %w", err)
	}
	rate, err := gbdt.ReadModel(strings.NewReader(f.Severity))
	if err != nil {
		return nil, fmt.Errorf("valuation: the severity trees: %w", err)
	}
	if err := f.Calibration.validate(); err != nil {
		return nil, err
	}
	for _, g := range []*gbdt.Model{mat, rate} {
		feats := g.Features()
		want := fs.Features()
		if len(feats) != len(want) {
			return nil, fmt.Errorf("valuation: the trees have %d features; %s has %d", len(feats), fs.Name(), len(want))
		}
		for j := range feats {
			if feats[j].Name != want[j].Name || feats[j].Kind != want[j].Kind {
				return nil, fmt.Errorf("valuation: tree feature %d is %q; %s's is %q", j, feats[j].Name, fs.Name(), want[j].Name)
			}
		}
	}
	if mat.Objective() != gbdt.Binary || (rate.Objective() != gbdt.Squared && rate.Objective() != gbdt.Tweedie) {
		return nil, fmt.Errorf("valuation: unexpected objectives %s and %s", mat.Objective(), rate.Objective())
	}
	if f.Horizon < 0 || f.Pool == nil || f.Pool.Horizon != f.Horizon {
		return nil, errors.New("valuation: the model's static pool is missing or does not match its horizon")
	}
	m := &RecoveryModel{FeatureSet: f.FeatureSet, Fingerprint: f.Fingerprint, Exposure: f.Exposure, Horizon: f.Horizon,
		Material: mat, Severity: rate, Calibration: f.Calibration, Pool: f.Pool, Summary: f.Summary, fs: fs}
	if m.Pool.Segments == nil {
		m.Pool.Segments = map[string]SegmentCurve{}
	}
	m.prepare()
	return m, nil
}

// Evaluation is a model's performance on a table it did not train on.
type Evaluation struct {
	// Metrics compare the model and its own static pool (fitted on the training data) with the
	// table's outcomes.
	Metrics RecoveryMetrics `json:"metrics"`
	// Calibration and RateCalibration are the deciles of P(material) and of the expected rate.
	Calibration     []CalibrationRow `json:"calibration"`
	RateCalibration []CalibrationRow `json:"rate_calibration"`
	// ExposureDeciles is the portfolio error by decile of exposure, next to the static pool's.
	ExposureDeciles []ExposureDecileError `json:"exposure_deciles"`
	// Missing counts, per feature, the rows that lacked it (features no row lacked are left out).
	Missing map[string]int `json:"missing"`
}

// Evaluate scores every row of t (built with the model's feature set and exposure basis, e.g. a
// newer seasoned portfolio or another data file) and compares the predictions with the table's
// outcomes. The baseline is the model's own static pool. A table of another feature set or
// version is an error.
func (m *RecoveryModel) Evaluate(t *Table) (Evaluation, error) {
	if t == nil || t.Rows() == 0 {
		return Evaluation{}, errors.New("valuation: no rows to evaluate")
	}
	if t.FeatureSet.Name() != m.FeatureSet || t.FeatureSet.Fingerprint() != m.Fingerprint {
		return Evaluation{}, fmt.Errorf("valuation: the table has feature set %s; the model reads %s (or another version of it)", t.FeatureSet.Name(), m.FeatureSet)
	}
	d, err := t.Dataset(LabelRate)
	if err != nil {
		return Evaluation{}, err
	}
	n := t.Rows()
	h := Holdout{Rate: d.Label, Exposure: t.Exposure, PMaterial: make([]float64, n), ExpectedRate: make([]float64, n),
		BaselineRate: make([]float64, n), BaselineMaterial: make([]float64, n)}
	if err := m.Material.PredictDataset(d, h.PMaterial); err != nil {
		return Evaluation{}, err
	}
	if err := m.Severity.PredictDataset(d, h.ExpectedRate); err != nil {
		return Evaluation{}, err
	}
	clip01(h.PMaterial)
	for i, s := range h.ExpectedRate {
		h.ExpectedRate[i] = h.PMaterial[i] * m.Calibration.Severity(t.Exposure[i], h.PMaterial[i], clampSeverity(s))
	}
	for i, seg := range t.Segments {
		sc := m.Baseline(seg)
		h.BaselineRate[i], h.BaselineMaterial[i] = sc.Rate, sc.MaterialShare
	}
	e := Evaluation{Metrics: h.Metrics(), Calibration: calibration(materialLabels(h.Rate), h.PMaterial),
		RateCalibration: calibration(h.Rate, h.ExpectedRate), ExposureDeciles: exposureDeciles(h.Exposure, h.Rate, h.ExpectedRate, h.BaselineRate),
		Missing: map[string]int{}}
	for j, c := range t.MissingCount {
		if c > 0 {
			e.Missing[t.FeatureSet.defs[j].Name] = c
		}
	}
	return e, nil
}

// PredictTable returns P(material), the calibrated severity and the expected rate (their product)
// of the given rows of t (nil: every row), as Score computes them. t must have the model's
// feature set.
func (m *RecoveryModel) PredictTable(t *Table, rows []int) (p, severity, rate []float64, err error) {
	if t.FeatureSet.Name() != m.FeatureSet || t.FeatureSet.Fingerprint() != m.Fingerprint {
		return nil, nil, nil, fmt.Errorf("valuation: the table has feature set %s; the model reads %s (or another version of it)", t.FeatureSet.Name(), m.FeatureSet)
	}
	d, err := t.Dataset(LabelRate)
	if err != nil {
		return nil, nil, nil, err
	}
	exposure := t.Exposure
	if rows != nil {
		d = d.Subset(rows)
		exposure = pick(t.Exposure, rows)
	}
	p, s, err := predictParts(m.Material, m.Severity, d)
	if err != nil {
		return nil, nil, nil, err
	}
	rate = make([]float64, len(p))
	for i := range p {
		s[i] = m.Calibration.Severity(exposure[i], p[i], s[i])
		rate[i] = p[i] * s[i]
	}
	return p, s, rate, nil
}
