// Package gbdt is Reclaim's histogram gradient-boosted-tree learner and scorer: binary log-loss,
// squared-error and Tweedie regression, missing values, categorical features, row and column
// subsampling, L2 and min-gain regularisation, early stopping, monotone constraints, TreeSHAP
// contributions, and versioned, checksummed model files. It imports only the standard library.
package gbdt

import (
	"errors"
	"fmt"
	"math"
)

// Kind says how a feature's values are read.
type Kind uint8

const (
	// Numeric features are ordered; the tree splits them at a threshold.
	Numeric Kind = iota
	// Categorical features carry small non-negative integer codes (0, 1, 2, ...); the tree splits
	// them by a set of categories. Codes are not ordered.
	Categorical
)

// Feature names one column of a Dataset.
type Feature struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Monotone constrains the model's response to this feature: +1 non-decreasing,
	// -1 non-increasing, 0 unconstrained. Only numeric features may be constrained.
	Monotone int8 `json:"monotone,omitempty"`
}

// Dataset is a column-major table of float64 features. NaN marks a missing value. Label and
// Weight have one value per row; Weight may be nil (every row weighs 1).
type Dataset struct {
	Features []Feature
	// Columns[j][i] is feature j of row i.
	Columns [][]float64
	Label   []float64
	Weight  []float64
}

// NewDataset allocates an empty dataset of rows rows over the given features.
func NewDataset(features []Feature, rows int) *Dataset {
	d := &Dataset{Features: append([]Feature(nil), features...), Columns: make([][]float64, len(features)), Label: make([]float64, rows)}
	for j := range d.Columns {
		d.Columns[j] = make([]float64, rows)
	}
	return d
}

// Rows is the number of rows.
func (d *Dataset) Rows() int { return len(d.Label) }

// Row copies row i into dst (len(dst) must be len(d.Features)) and returns it.
func (d *Dataset) Row(i int, dst []float64) []float64 {
	for j, c := range d.Columns {
		dst[j] = c[i]
	}
	return dst
}

// Subset returns a new dataset holding the given rows, in that order.
func (d *Dataset) Subset(rows []int) *Dataset {
	s := NewDataset(d.Features, len(rows))
	for j, c := range d.Columns {
		dst := s.Columns[j]
		for k, i := range rows {
			dst[k] = c[i]
		}
	}
	for k, i := range rows {
		s.Label[k] = d.Label[i]
	}
	if d.Weight != nil {
		s.Weight = make([]float64, len(rows))
		for k, i := range rows {
			s.Weight[k] = d.Weight[i]
		}
	}
	return s
}

// Validate checks the dataset's shape and values: one column per feature, every column and the
// weights as long as the labels, finite labels and weights, non-negative weights, categorical
// codes that are non-negative integers below 1<<16.
func (d *Dataset) Validate() error {
	if len(d.Columns) != len(d.Features) {
		return fmt.Errorf("gbdt: %d columns for %d features", len(d.Columns), len(d.Features))
	}
	n := len(d.Label)
	if n == 0 {
		return errors.New("gbdt: the dataset has no rows")
	}
	for j, c := range d.Columns {
		if len(c) != n {
			return fmt.Errorf("gbdt: feature %q has %d values for %d rows", d.Features[j].Name, len(c), n)
		}
		f := d.Features[j]
		if f.Kind == Categorical {
			if f.Monotone != 0 {
				return fmt.Errorf("gbdt: categorical feature %q cannot be monotone", f.Name)
			}
			for i, v := range c {
				if !math.IsNaN(v) && (v < 0 || v >= 1<<16 || v != math.Trunc(v)) {
					return fmt.Errorf("gbdt: feature %q row %d: category code %v is not an integer in [0, 65535]", f.Name, i, v)
				}
			}
		} else if f.Monotone < -1 || f.Monotone > 1 {
			return fmt.Errorf("gbdt: feature %q: monotone must be -1, 0 or +1", f.Name)
		}
	}
	for i, v := range d.Label {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("gbdt: label of row %d is %v", i, v)
		}
	}
	if d.Weight != nil {
		if len(d.Weight) != n {
			return fmt.Errorf("gbdt: %d weights for %d rows", len(d.Weight), n)
		}
		for i, w := range d.Weight {
			if !(w >= 0) || math.IsInf(w, 0) {
				return fmt.Errorf("gbdt: weight of row %d is %v", i, w)
			}
		}
	}
	return nil
}
