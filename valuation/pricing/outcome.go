package pricing

import (
	"fmt"
	"math"
	"slices"
)

// Outcome is the distribution of returns over the simulated paths for one price.
type Outcome struct {
	// Price is the price in yuan the outcome is for.
	Price float64 `json:"price"`
	// Hurdle is the annual hurdle IRR PMissHurdle refers to.
	Hurdle float64 `json:"hurdle"`
	// IRR is the distribution of the paths' annual IRRs. A path whose flows never repay the price
	// counts as MinIRR (a near-total loss), one whose IRR exceeds MaxIRR as MaxIRR.
	IRR Summary `json:"irr"`
	// NetMultiple is the distribution of total net flows / price.
	NetMultiple Summary `json:"net_multiple"`
	// GrossMultiple is the distribution of total gross collections / price.
	GrossMultiple Summary `json:"gross_multiple"`
	// Collections is the distribution of total gross collections in yuan.
	Collections Summary `json:"collections"`
	// PMissHurdle is the share of paths whose IRR is below Hurdle.
	PMissHurdle float64 `json:"p_miss_hurdle"`
	// NoIRR is the number of paths whose flows never repay the price (IRR counted as MinIRR).
	NoIRR int `json:"no_irr"`
	// AboveMaxIRR is the number of paths whose IRR exceeds MaxIRR (counted as MaxIRR).
	AboveMaxIRR int `json:"above_max_irr"`
}

// pathIRRs returns each path's IRR at price, floored at MinIRR and capped at MaxIRR, and the
// number of paths floored and capped.
func (s *Simulation) pathIRRs(price float64) (irrs []float64, never, above int) {
	irrs = make([]float64, len(s.Net))
	for p, net := range s.Net {
		r, st := irrCore(price, net)
		switch st {
		case irrNever:
			never++
		case irrAbove:
			above++
		}
		irrs[p] = r
	}
	return irrs, never, above
}

// Outcome returns the distribution of IRR, multiples and collections over the paths at price
// (yuan, finite and positive) and the probability of an IRR below hurdle (an annual rate).
func (s *Simulation) Outcome(price, hurdle float64) (*Outcome, error) {
	if !(price > 0) || math.IsInf(price, 1) {
		return nil, fmt.Errorf("pricing: the price must be finite and positive, got %v", price)
	}
	if math.IsNaN(hurdle) {
		return nil, fmt.Errorf("pricing: the hurdle IRR is NaN")
	}
	o := &Outcome{Price: price, Hurdle: hurdle}
	irrs, never, above := s.pathIRRs(price)
	o.NoIRR, o.AboveMaxIRR = never, above
	miss := 0
	for _, r := range irrs {
		if r < hurdle {
			miss++
		}
	}
	o.PMissHurdle = float64(miss) / float64(len(irrs))
	o.IRR = summarize(irrs)
	n := len(s.Net)
	netM, grossM, coll := make([]float64, n), make([]float64, n), make([]float64, n)
	for p := range n {
		g := sum(s.Gross[p])
		coll[p] = g
		grossM[p] = g / price
		netM[p] = sum(s.Net[p]) / price
	}
	o.NetMultiple = summarize(netM)
	o.GrossMultiple = summarize(grossM)
	o.Collections = summarize(coll)
	return o, nil
}

// Fan is the band of monthly gross collections across paths, in yuan, month m at index m-1: the
// 5th, 50th and 95th percentiles of each month taken separately.
type Fan struct {
	// P5 is the 5th percentile of each month's gross collections.
	P5 []float64 `json:"p5"`
	// P50 is the median.
	P50 []float64 `json:"p50"`
	// P95 is the 95th percentile.
	P95 []float64 `json:"p95"`
}

// Fan returns the per-month percentiles of gross collections, for the console's uncertainty band.
func (s *Simulation) Fan() Fan {
	f := Fan{P5: make([]float64, s.Horizon), P50: make([]float64, s.Horizon), P95: make([]float64, s.Horizon)}
	col := make([]float64, len(s.Gross))
	for m := range s.Horizon {
		for p, g := range s.Gross {
			col[p] = g[m]
		}
		slices.Sort(col)
		f.P5[m] = quantileSorted(col, 0.05)
		f.P50[m] = quantileSorted(col, 0.50)
		f.P95[m] = quantileSorted(col, 0.95)
	}
	return f
}

// PriceAtConfidence returns the highest price (yuan) whose IRR meets target (an annual rate) in at
// least a share confidence of the paths: the (1 − confidence) quantile of the paths' present
// values at target. confidence must be in (0, 1). When that price is not positive, the error wraps
// ErrUnreachable and says why.
func (s *Simulation) PriceAtConfidence(target, confidence float64) (float64, error) {
	if !(confidence > 0 && confidence < 1) {
		return 0, fmt.Errorf("pricing: the confidence must be in (0, 1), got %v", confidence)
	}
	if !(target > -1) || math.IsInf(target, 1) {
		return 0, fmt.Errorf("pricing: the target IRR must be finite and above -100%%, got %v", target)
	}
	pvs := make([]float64, len(s.Net))
	for p, net := range s.Net {
		pvs[p] = PV(net, target)
	}
	slices.Sort(pvs)
	price := quantileSorted(pvs, 1-confidence)
	if !(price > 0) {
		return 0, fmt.Errorf("%w: in %.1f%% of the paths the present value of the net flows at %.2f%% a year is at most %.2f yuan, so no positive price earns the target with that confidence",
			ErrUnreachable, 100*(1-confidence), 100*target, price)
	}
	return price, nil
}
