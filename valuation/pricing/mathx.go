package pricing

import (
	"math"
	"slices"
)

// normCDF is Φ, the standard normal distribution function.
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// normQuantile is Φ⁻¹, accurate in both tails; Φ⁻¹(0) = −Inf and Φ⁻¹(1) = +Inf.
func normQuantile(p float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p < 0.5:
		return -math.Sqrt2 * math.Erfcinv(2*p)
	default:
		return math.Sqrt2 * math.Erfcinv(2*(1-p))
	}
}

// quantileSorted returns the q-quantile (q in [0, 1]) of sorted data by linear interpolation
// between order statistics (Hyndman and Fan type 7, the default of R and NumPy).
func quantileSorted(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := q * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// meanStd returns the mean and the sample standard deviation (n−1 denominator) of xs.
func meanStd(xs []float64) (mean, sd float64) {
	n := float64(len(xs))
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / (n - 1))
}

// StandardPercentiles are the percentile levels, in percent, that Summary reports.
var StandardPercentiles = [...]float64{1, 5, 10, 25, 50, 75, 90, 95, 99}

// Percentile is one point of a distribution: the value at level P percent.
type Percentile struct {
	// P is the level in percent (5 for the 5th percentile).
	P float64 `json:"p"`
	// Value is the sample's value at that level.
	Value float64 `json:"value"`
}

// Summary describes a sample: its mean, its standard deviation (n−1 denominator) and its values at
// StandardPercentiles (interpolated between order statistics, Hyndman–Fan type 7).
type Summary struct {
	// Mean is the sample mean.
	Mean float64 `json:"mean"`
	// StdDev is the sample standard deviation.
	StdDev float64 `json:"std_dev"`
	// Percentiles holds one value per level of StandardPercentiles, in that order.
	Percentiles []Percentile `json:"percentiles"`
}

// At returns the value at level p percent if p is one of StandardPercentiles, else NaN.
func (s Summary) At(p float64) float64 {
	for _, x := range s.Percentiles {
		if x.P == p {
			return x.Value
		}
	}
	return math.NaN()
}

// summarize describes xs, which it sorts in place.
func summarize(xs []float64) Summary {
	var s Summary
	s.Mean, s.StdDev = meanStd(xs)
	slices.Sort(xs)
	s.Percentiles = make([]Percentile, len(StandardPercentiles))
	for i, p := range StandardPercentiles {
		s.Percentiles[i] = Percentile{P: p, Value: quantileSorted(xs, p/100)}
	}
	return s
}
