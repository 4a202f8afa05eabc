// Package valuation scores non-performing loans: the recovery model's features, its training
// data, the static-pool baseline it is compared with, and (in package gbdt) the gradient-boosted
// trees themselves.
//
// Features are computed in one place for training and for scoring: a FeatureSet turns a loan,
// its repayment history and an as-of date (an Input) into a row of float64 with NaN for missing
// values, and lists in Row.Missing the features whose input field the loan lacked. Two sets
// exist: "cn-v1" for the canonical Chinese tape (shared/design/tape.md) and "lendingclub-v1" for
// the real LendingClub charged-off file read through mappings/lendingclub.yaml, which uses only
// information known at charge-off. docs/features.md defines every feature.
//
// Training tables (Table) are built from Examples, a loan's Input plus what was collected on it
// afterwards: BuildSeasoned reads a seasoned synthetic portfolio (package synth),
// BuildLendingClub the LendingClub file. Each row carries its recovery-rate labels, a fold
// assigned by a hash of the borrower key (FoldOf) and a static-pool segment; PoolStats fits the
// industry's static-pool recovery curves per segment on the training folds, the transparent
// baseline the trees are compared with.
//
// The recovery model (RecoveryModel, recovery.go) bundles a binary tree model for P(material
// recovery), a regression tree model for the expected recovery rate and the static pool's
// per-segment curves for timing; TrainRecoveryModel fits it on a Table, Score and Explain apply
// it (with TreeSHAP reason codes), Save and LoadRecoveryModel write and read its versioned,
// checksummed file. Value (value.go) turns the scores into a portfolio valuation with package
// pricing: projection, price for a target IRR and multiple, price table and Monte Carlo.
// BackTest (backtest.go) compares predicted with actual collections. docs/valuation.md describes
// them.
//
// The package is an engine: it imports no database or HTTP code and reads files only where a
// function says so (BuildLendingClub).
package valuation
