package gbdt

import (
	"errors"
	"fmt"
	"math"
)

// Objective names the loss the trees minimise and the link between the margin (the sum of the
// trees) and the prediction.
type Objective string

const (
	// Binary is the log-loss for 0/1 labels (labels in [0, 1] are accepted as soft labels); the
	// margin is the log-odds and Predict returns the probability.
	Binary Objective = "binary:logistic"
	// Squared is the squared error; the margin is the prediction.
	Squared Objective = "reg:squarederror"
	// Tweedie is the Tweedie deviance with a log link for non-negative targets with a point mass
	// at zero (recovered amounts); Params.TweedieVariancePower picks the distribution. Predict
	// returns exp(margin), the mean.
	Tweedie Objective = "reg:tweedie"
)

// Valid reports whether o is one of the objectives this package implements.
func (o Objective) Valid() bool { return o == Binary || o == Squared || o == Tweedie }

// Limits on Params. MaxMaxBins is 256 so that a bin index fits a uint8 with bin 0 reserved for
// missing values.
const (
	MaxMaxBins  = 256
	MaxMaxDepth = 16
	MaxTrees    = 100000
)

// Params are the training parameters. Start from DefaultParams and change what you need; Validate
// says which fields are out of range. A zero MaxBins, Subsample, ColSample or
// TweedieVariancePower takes its default (256, 1, 1, 1.5); a zero Threads means GOMAXPROCS.
type Params struct {
	// Objective is the loss; see Binary, Squared and Tweedie.
	Objective Objective `json:"objective"`
	// Trees is the number of boosting rounds (1..MaxTrees); early stopping may keep fewer.
	Trees int `json:"trees"`
	// MaxDepth is the depth of every tree (1..MaxMaxDepth); trees grow level by level.
	MaxDepth int `json:"max_depth"`
	// LearningRate (eta, in (0, 1]) scales every leaf value.
	LearningRate float64 `json:"learning_rate"`
	// MaxBins is the number of histogram bins per feature including the bin reserved for missing
	// values, so a numeric feature gets at most MaxBins-1 value bins and a categorical feature
	// keeps its MaxBins-2 most frequent categories (the rest share one "other" bin). 2..256.
	MaxBins int `json:"max_bins"`
	// MinChildWeight is the least hessian sum a child may have (>= 0).
	MinChildWeight float64 `json:"min_child_weight"`
	// Lambda is the L2 penalty on leaf values (>= 0).
	Lambda float64 `json:"lambda"`
	// Gamma is the least loss reduction a split must bring (>= 0).
	Gamma float64 `json:"gamma"`
	// CatSupport regularises categorical splits (>= 0). A split ranks a node's categories by
	// their mean gradient and sends a prefix of that ranking left; a category whose hessian sum
	// in the node is below CatSupport × MinChildWeight is too small for its mean to be trusted,
	// so it is ranked as weight 0 (no evidence either way) instead of at an extreme, where its
	// noise would put it and the split would fit that noise. 1 is XGBoost's rule; 0 ranks every
	// category by its own mean (how models trained before this field was added were grown,
	// which is what their files, lacking the field, read as). DefaultParams sets 3.
	CatSupport float64 `json:"cat_support,omitempty"`
	// Subsample is the share of rows each tree sees, drawn afresh per tree, in (0, 1].
	Subsample float64 `json:"subsample"`
	// ColSample is the share of features each tree may split on, drawn per tree, in (0, 1].
	ColSample float64 `json:"colsample"`
	// TweedieVariancePower is the Tweedie power p, in (1, 2); used by the Tweedie objective.
	TweedieVariancePower float64 `json:"tweedie_variance_power"`
	// EarlyStoppingRounds stops training when the validation loss has not improved for this many
	// rounds and keeps the best iteration; 0 disables it. It needs a validation set.
	EarlyStoppingRounds int `json:"early_stopping_rounds"`
	// Seed drives row and column sampling and the binning sample; the same seed, data and
	// parameters give a bit-identical model whatever Threads is.
	Seed uint64 `json:"seed"`
	// Threads is the number of goroutines training uses; 0 means GOMAXPROCS.
	// It does not change the model and is not recorded in it.
	Threads int `json:"threads,omitempty"`
}

// DefaultParams returns the defaults: binary log-loss, 100 trees of depth 6, learning rate 0.1,
// 256 bins, min child weight 1, lambda 1, gamma 0, category support 3, no subsampling, Tweedie
// power 1.5, no early stopping, seed 0, all cores.
func DefaultParams() Params {
	return Params{
		Objective:            Binary,
		Trees:                100,
		MaxDepth:             6,
		LearningRate:         0.1,
		MaxBins:              MaxMaxBins,
		MinChildWeight:       1,
		Lambda:               1,
		CatSupport:           3,
		Subsample:            1,
		ColSample:            1,
		TweedieVariancePower: 1.5,
	}
}

// withDefaults fills the zero fields that have a documented default.
func (p Params) withDefaults() Params {
	if p.MaxBins == 0 {
		p.MaxBins = MaxMaxBins
	}
	if p.Subsample == 0 {
		p.Subsample = 1
	}
	if p.ColSample == 0 {
		p.ColSample = 1
	}
	if p.TweedieVariancePower == 0 {
		p.TweedieVariancePower = 1.5
	}
	return p
}

// Validate reports every field out of range (after the documented zero-value defaults), joined
// into one error; nil means Train accepts p.
func (p Params) Validate() error {
	p = p.withDefaults()
	var errs []error
	bad := func(field string, v any, rule string) {
		errs = append(errs, fmt.Errorf("gbdt: Params.%s is %v; it must be %s", field, v, rule))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !p.Objective.Valid() {
		bad("Objective", fmt.Sprintf("%q", p.Objective), fmt.Sprintf("%q, %q or %q", Binary, Squared, Tweedie))
	}
	if p.Trees < 1 || p.Trees > MaxTrees {
		bad("Trees", p.Trees, fmt.Sprintf("between 1 and %d", MaxTrees))
	}
	if p.MaxDepth < 1 || p.MaxDepth > MaxMaxDepth {
		bad("MaxDepth", p.MaxDepth, fmt.Sprintf("between 1 and %d", MaxMaxDepth))
	}
	if !(p.LearningRate > 0 && p.LearningRate <= 1) {
		bad("LearningRate", p.LearningRate, "in (0, 1]")
	}
	if p.MaxBins < 2 || p.MaxBins > MaxMaxBins {
		bad("MaxBins", p.MaxBins, fmt.Sprintf("between 2 and %d", MaxMaxBins))
	}
	if !(p.MinChildWeight >= 0) || !finite(p.MinChildWeight) {
		bad("MinChildWeight", p.MinChildWeight, "a finite number >= 0")
	}
	if !(p.Lambda >= 0) || !finite(p.Lambda) {
		bad("Lambda", p.Lambda, "a finite number >= 0")
	}
	if !(p.Gamma >= 0) || !finite(p.Gamma) {
		bad("Gamma", p.Gamma, "a finite number >= 0")
	}
	if !(p.CatSupport >= 0) || !finite(p.CatSupport) {
		bad("CatSupport", p.CatSupport, "a finite number >= 0")
	}
	if !(p.Subsample > 0 && p.Subsample <= 1) {
		bad("Subsample", p.Subsample, "in (0, 1]")
	}
	if !(p.ColSample > 0 && p.ColSample <= 1) {
		bad("ColSample", p.ColSample, "in (0, 1]")
	}
	if !(p.TweedieVariancePower > 1 && p.TweedieVariancePower < 2) {
		bad("TweedieVariancePower", p.TweedieVariancePower, "in (1, 2)")
	}
	if p.EarlyStoppingRounds < 0 {
		bad("EarlyStoppingRounds", p.EarlyStoppingRounds, ">= 0")
	}
	if p.Threads < 0 {
		bad("Threads", p.Threads, ">= 0 (0 means GOMAXPROCS)")
	}
	return errors.Join(errs...)
}
