package gbdt

import (
	"fmt"
	"math"
)

// gh is a gradient/hessian pair; histograms are arrays of them.
type gh struct{ g, h float64 }

// sigmoid is the logistic function, accurate for large |m|.
func sigmoid(m float64) float64 {
	if m >= 0 {
		return 1 / (1 + math.Exp(-m))
	}
	e := math.Exp(m)
	return e / (1 + e)
}

// metricName is the name of the loss an objective reports and early-stops on.
func metricName(o Objective, rho float64) string {
	switch o {
	case Binary:
		return "logloss"
	case Squared:
		return "rmse"
	default:
		return fmt.Sprintf("tweedie-nloglik@%g", rho)
	}
}

// checkLabels rejects labels the objective cannot fit.
func checkLabels(o Objective, d *Dataset, which string) error {
	for i, y := range d.Label {
		switch o {
		case Binary:
			if y < 0 || y > 1 {
				return fmt.Errorf("gbdt: %s row %d: label %v is outside [0, 1] for %s", which, i, y, o)
			}
		case Tweedie:
			if y < 0 {
				return fmt.Errorf("gbdt: %s row %d: label %v is negative for %s", which, i, y, o)
			}
		}
	}
	return nil
}

// baseScore is the weighted mean label on the link scale.
func baseScore(o Objective, d *Dataset) (float64, error) {
	var sw, swy float64
	for i, y := range d.Label {
		w := 1.0
		if d.Weight != nil {
			w = d.Weight[i]
		}
		sw += w
		swy += w * y
	}
	if !(sw > 0) {
		return 0, fmt.Errorf("gbdt: the training weights sum to %v; they must sum to more than 0", sw)
	}
	mean := swy / sw
	switch o {
	case Binary:
		mean = math.Min(math.Max(mean, 1e-7), 1-1e-7)
		return math.Log(mean / (1 - mean)), nil
	case Tweedie:
		if !(mean > 0) {
			return 0, fmt.Errorf("gbdt: every training label is 0; %s needs some positive labels", o)
		}
		return math.Log(mean), nil
	default:
		return mean, nil
	}
}

// transform maps a margin to the response scale.
func transform(o Objective, m float64) float64 {
	switch o {
	case Binary:
		return sigmoid(m)
	case Tweedie:
		return math.Exp(m)
	default:
		return m
	}
}

// gradients fills grad[lo:hi] for the margins and, when wantLoss, returns the weighted loss sum
// and weight sum of those rows (the loss before any root or mean is taken).
func gradients(o Objective, rho float64, margin, label, weight []float64, grad []gh, lo, hi int, wantGrad, wantLoss bool) (loss, wsum float64) {
	for i := lo; i < hi; i++ {
		m, y := margin[i], label[i]
		w := 1.0
		if weight != nil {
			w = weight[i]
		}
		var g, h, l float64
		switch o {
		case Binary:
			e := math.Exp(-math.Abs(m))
			var p float64
			if m >= 0 {
				p = 1 / (1 + e)
			} else {
				p = e / (1 + e)
			}
			g, h = p-y, math.Max(p*(1-p), 1e-16)
			if wantLoss {
				l = math.Max(m, 0) + math.Log1p(e) - y*m
			}
		case Squared:
			g, h = m-y, 1
			l = g * g
		default:
			a := math.Exp((1 - rho) * m)
			b := math.Exp((2 - rho) * m)
			g = -y*a + b
			h = -y*(1-rho)*a + (2-rho)*b
			if wantLoss {
				l = -y*a/(1-rho) + b/(2-rho)
			}
		}
		if wantGrad {
			grad[i] = gh{g * w, h * w}
		}
		loss += l * w
		wsum += w
	}
	return loss, wsum
}

// finishLoss turns a weighted loss sum into the reported metric.
func finishLoss(o Objective, loss, wsum float64) float64 {
	if !(wsum > 0) {
		return math.NaN()
	}
	if o == Squared {
		return math.Sqrt(loss / wsum)
	}
	return loss / wsum
}
