package gbdt

import (
	"cmp"
	"math"
	"slices"
)

// The metrics take parallel slices; weight may be nil (every row weighs 1). They return NaN when
// the lengths differ, there are no rows or the weights sum to zero, and never panic.

func weightAt(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

func lengthsOK(n int, w []float64, others ...[]float64) bool {
	if n == 0 || (w != nil && len(w) != n) {
		return false
	}
	for _, o := range others {
		if len(o) != n {
			return false
		}
	}
	return true
}

// AUC is the weighted area under the ROC curve of score against label: the probability that a
// random positive outranks a random negative, ties counting one half. A label y counts as weight
// w*y positive and w*(1-y) negative, so 0/1 labels work as usual. NaN scores, or a class with no
// weight, give NaN.
func AUC(label, score, weight []float64) float64 {
	n := len(label)
	if !lengthsOK(n, weight, score) {
		return math.NaN()
	}
	idx := make([]int, n)
	for i := range idx {
		if math.IsNaN(score[i]) {
			return math.NaN()
		}
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(score[a], score[b]) })
	var negBelow, area, pos, neg float64
	for i := 0; i < n; {
		j := i
		var gp, gn float64
		for ; j < n && score[idx[j]] == score[idx[i]]; j++ {
			w := weightAt(weight, idx[j])
			y := label[idx[j]]
			gp += w * y
			gn += w * (1 - y)
		}
		area += gp * (negBelow + gn/2)
		negBelow += gn
		pos += gp
		neg += gn
		i = j
	}
	if !(pos > 0) || !(neg > 0) {
		return math.NaN()
	}
	return area / (pos * neg)
}

// LogLoss is the weighted mean binary cross-entropy of probabilities p for labels in [0, 1];
// p is clipped to [1e-15, 1-1e-15].
func LogLoss(label, p, weight []float64) float64 {
	n := len(label)
	if !lengthsOK(n, weight, p) {
		return math.NaN()
	}
	var s, sw float64
	for i, y := range label {
		q := math.Min(math.Max(p[i], 1e-15), 1-1e-15)
		w := weightAt(weight, i)
		s += -w * (y*math.Log(q) + (1-y)*math.Log(1-q))
		sw += w
	}
	if !(sw > 0) {
		return math.NaN()
	}
	return s / sw
}

// MAE is the weighted mean absolute error of pred against label.
func MAE(label, pred, weight []float64) float64 {
	n := len(label)
	if !lengthsOK(n, weight, pred) {
		return math.NaN()
	}
	var s, sw float64
	for i, y := range label {
		w := weightAt(weight, i)
		s += w * math.Abs(pred[i]-y)
		sw += w
	}
	if !(sw > 0) {
		return math.NaN()
	}
	return s / sw
}

// RMSE is the weighted root mean squared error of pred against label.
func RMSE(label, pred, weight []float64) float64 {
	n := len(label)
	if !lengthsOK(n, weight, pred) {
		return math.NaN()
	}
	var s, sw float64
	for i, y := range label {
		w := weightAt(weight, i)
		d := pred[i] - y
		s += w * d * d
		sw += w
	}
	if !(sw > 0) {
		return math.NaN()
	}
	return math.Sqrt(s / sw)
}

// ranks returns average ranks (1-based, ties sharing their mean rank).
func ranks(x []float64) []float64 {
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j < n && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// Spearman is the rank correlation of a and b (Pearson correlation of their average ranks). It
// is NaN when the lengths differ, there are fewer than two rows, a value is NaN or either
// side is constant.
func Spearman(a, b []float64) float64 {
	n := len(a)
	if n < 2 || len(b) != n {
		return math.NaN()
	}
	for i := range a {
		if math.IsNaN(a[i]) || math.IsNaN(b[i]) {
			return math.NaN()
		}
	}
	ra, rb := ranks(a), ranks(b)
	mean := float64(n+1) / 2
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// CalibrationBin is one row of a reliability table.
type CalibrationBin struct {
	// Lo and Hi are the smallest and largest prediction in the bin.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// MeanPredicted is the bin's mean prediction and Observed its mean label.
	MeanPredicted float64 `json:"mean_predicted"`
	Observed      float64 `json:"observed"`
	// Count is the number of rows in the bin.
	Count int `json:"count"`
}

// Calibration sorts rows by prediction p and cuts them into bins groups of (nearly) equal count,
// 10 giving deciles, and returns each group's mean prediction against its mean label. Rows with
// a NaN prediction are left out. It returns nil when the lengths differ, bins < 1 or no row is
// left; with fewer rows than bins some bins are empty and omitted.
func Calibration(label, p []float64, bins int) []CalibrationBin {
	if len(label) != len(p) || bins < 1 {
		return nil
	}
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	n := len(idx)
	if n == 0 {
		return nil
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	var out []CalibrationBin
	for k := range bins {
		lo, hi := k*n/bins, (k+1)*n/bins
		if lo == hi {
			continue
		}
		b := CalibrationBin{Lo: p[idx[lo]], Hi: p[idx[hi-1]], Count: hi - lo}
		for _, i := range idx[lo:hi] {
			b.MeanPredicted += p[i]
			b.Observed += label[i]
		}
		b.MeanPredicted /= float64(b.Count)
		b.Observed /= float64(b.Count)
		out = append(out, b)
	}
	return out
}
