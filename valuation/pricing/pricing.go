package pricing

import (
	"errors"
	"fmt"
	"math"
)

// ErrNoIRR is wrapped by the error of IRR when no rate in [MinIRR, MaxIRR] equates the present
// value of the flows with the price; the message says why.
var ErrNoIRR = errors.New("pricing: no IRR")

// ErrUnreachable is wrapped by the error of the price-for-target functions when no positive price
// meets the target; the message says why.
var ErrUnreachable = errors.New("pricing: no positive price reaches the target")

// MinIRR and MaxIRR bound the annual IRRs that IRR searches.
const (
	// MinIRR is −99.99% a year, the lowest IRR reported (and the floor the Monte Carlo gives a
	// path that never repays its price).
	MinIRR = -0.9999
	// MaxIRR is 1,000,000% a year, the highest IRR reported.
	MaxIRR = 1e4
)

// PV returns the present value at month 0 of flows (month m at index m-1) at the annual rate
// rate: Σ flows[m-1] / (1+rate)^(m/12). rate must be above −1; otherwise PV returns NaN.
func PV(flows []float64, rate float64) float64 {
	if !(rate > -1) || math.IsInf(rate, 1) {
		return math.NaN()
	}
	return pvFactor(flows, math.Pow(1+rate, -1.0/12))
}

// pvFactor is Σ flows[m-1] v^m.
func pvFactor(flows []float64, v float64) float64 {
	pv, d := 0.0, v
	for _, f := range flows {
		pv += f * d
		d *= v
	}
	return pv
}

// NPV returns the net present value of buying flows for price at month 0: PV(flows, rate) − price.
func NPV(price float64, flows []float64, rate float64) float64 {
	return PV(flows, rate) - price
}

// irrGrid is the grid, in u = ln(1+annual rate), on which IRR brackets its root.
const irrGridPoints = 160

var (
	irrUMin = math.Log1p(MinIRR)
	irrUMax = math.Log1p(MaxIRR)
)

type irrStatus int

const (
	irrOK irrStatus = iota
	irrNever
	irrAbove
)

// irrCore finds the annual IRR of paying price at month 0 for flows. It scans the NPV on a grid of
// ln(1+rate) from the top down and refines, with Brent's method, the highest crossing where the NPV
// turns from positive to negative as the rate rises: the rate at which the investment breaks even.
// With one sign change in the cumulative flows (Norstrom's condition) that root is the only one.
func irrCore(price float64, flows []float64) (float64, irrStatus) {
	f := func(u float64) float64 { return pvFactor(flows, math.Exp(-u/12)) - price }
	step := (irrUMax - irrUMin) / (irrGridPoints - 1)
	hi := irrUMax
	fhi := f(hi)
	if fhi >= 0 {
		if fhi == 0 {
			return MaxIRR, irrOK
		}
		return MaxIRR, irrAbove
	}
	for k := irrGridPoints - 2; k >= 0; k-- {
		lo := irrUMin + float64(k)*step
		flo := f(lo)
		if flo == 0 {
			return math.Expm1(lo), irrOK
		}
		if flo > 0 {
			u := brent(f, lo, hi, flo, fhi, 1e-13)
			return math.Expm1(u), irrOK
		}
		hi, fhi = lo, flo
	}
	return MinIRR, irrNever
}

// IRR returns the annual internal rate of return of paying price (yuan, > 0) at month 0 for flows:
// the rate at which NPV(price, flows, rate) = 0, searched in [MinIRR, MaxIRR]. When the NPV has more
// than one root there, IRR returns the highest one at which the NPV turns from positive to
// negative as the rate rises. When there is none, the error wraps ErrNoIRR and says why.
func IRR(price float64, flows []float64) (float64, error) {
	if !(price > 0) || math.IsInf(price, 1) {
		return math.NaN(), fmt.Errorf("pricing: the IRR needs a finite positive price, got %v", price)
	}
	for m, f := range flows {
		if !finite(f) {
			return math.NaN(), fmt.Errorf("pricing: the flow of month %d is %v", m+1, f)
		}
	}
	r, st := irrCore(price, flows)
	switch st {
	case irrNever:
		total := 0.0
		for _, f := range flows {
			total += f
		}
		return math.NaN(), fmt.Errorf("%w: the net flows (%.2f yuan in all over %d months) never repay the price of %.2f yuan at any annual rate above %.2f%%",
			ErrNoIRR, total, len(flows), price, 100*MinIRR)
	case irrAbove:
		return math.NaN(), fmt.Errorf("%w: the IRR exceeds %.0f%% a year (the price of %.2f yuan is tiny next to the flows)",
			ErrNoIRR, 100*MaxIRR, price)
	}
	return r, nil
}

// brent finds a root of f in [a, b], where fa = f(a) and fb = f(b) have opposite signs, by Brent's
// method (inverse quadratic interpolation and secant steps safeguarded by bisection), to within tol.
func brent(f func(float64) float64, a, b, fa, fb, tol float64) float64 {
	const eps = 0x1p-52
	c, fc := b, fb
	var d, e float64
	for range 200 {
		if (fb > 0) == (fc > 0) {
			c, fc = a, fa
			d = b - a
			e = d
		}
		if math.Abs(fc) < math.Abs(fb) {
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tol1 := 2*eps*math.Abs(b) + 0.5*tol
		xm := 0.5 * (c - b)
		if math.Abs(xm) <= tol1 || fb == 0 {
			return b
		}
		if math.Abs(e) >= tol1 && math.Abs(fa) > math.Abs(fb) {
			s := fb / fa
			var p, q float64
			if a == c {
				p = 2 * xm * s
				q = 1 - s
			} else {
				q = fa / fc
				r := fb / fc
				p = s * (2*xm*q*(q-r) - (b-a)*(r-1))
				q = (q - 1) * (r - 1) * (s - 1)
			}
			if p > 0 {
				q = -q
			}
			p = math.Abs(p)
			if 2*p < min(3*xm*q-math.Abs(tol1*q), math.Abs(e*q)) {
				e = d
				d = p / q
			} else {
				d = xm
				e = d
			}
		} else {
			d = xm
			e = d
		}
		a, fa = b, fb
		if math.Abs(d) > tol1 {
			b += d
		} else {
			b += math.Copysign(tol1, xm)
		}
		fb = f(b)
	}
	return b
}

// PriceForIRR returns the highest price (yuan) at which buying flows earns the annual rate target:
// PV(flows, target). When no positive price does (the flows are never positive, or their present
// value at target is not positive), the error wraps ErrUnreachable and says why; the price is then
// 0, never negative. When the flows change sign more than once, IRR at the returned price may find
// another root.
func PriceForIRR(flows []float64, target float64) (float64, error) {
	if !(target > -1) || math.IsInf(target, 1) {
		return 0, fmt.Errorf("pricing: the target IRR must be finite and above -100%%, got %v", target)
	}
	anyPositive := false
	for m, f := range flows {
		if !finite(f) {
			return 0, fmt.Errorf("pricing: the flow of month %d is %v", m+1, f)
		}
		anyPositive = anyPositive || f > 0
	}
	if !anyPositive {
		return 0, fmt.Errorf("%w: the net flows are never positive over %d months (costs meet or exceed collections every month), so no price earns %.2f%%",
			ErrUnreachable, len(flows), 100*target)
	}
	pv := PV(flows, target)
	if !(pv > 0) {
		return 0, fmt.Errorf("%w: the present value of the net flows at %.2f%% a year is %.2f yuan (costs outweigh collections at that rate), so no positive price earns it",
			ErrUnreachable, 100*target, pv)
	}
	return pv, nil
}

// Multiple returns the money multiple of paying price for flows: Σ flows / price. Pass gross
// collections for the gross multiple, net flows for the net one. price must be positive; otherwise
// Multiple returns NaN.
func Multiple(price float64, flows []float64) float64 {
	if !(price > 0) {
		return math.NaN()
	}
	return sum(flows) / price
}

// PriceForMultiple returns the price (yuan) at which flows return multiple times the price:
// Σ flows / multiple. multiple must be finite and positive. When Σ flows is not positive no
// positive price reaches it, and the error wraps ErrUnreachable.
func PriceForMultiple(flows []float64, multiple float64) (float64, error) {
	if !(multiple > 0) || math.IsInf(multiple, 1) {
		return 0, fmt.Errorf("pricing: the target multiple must be finite and positive, got %v", multiple)
	}
	total := sum(flows)
	if !finite(total) {
		return 0, fmt.Errorf("pricing: the flows sum to %v", total)
	}
	if !(total > 0) {
		return 0, fmt.Errorf("%w: the flows total %.2f yuan, so no positive price returns %.2fx", ErrUnreachable, total, multiple)
	}
	return total / multiple, nil
}

// Payback returns the first month m (1-based) at which the cumulative flows of months 1..m reach
// price, undiscounted, and true; or 0 and false when they never do within the flows.
func Payback(price float64, flows []float64) (int, bool) {
	cum := 0.0
	for m, f := range flows {
		cum += f
		if cum >= price {
			return m + 1, true
		}
	}
	return 0, false
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// PriceRow is one row of a price table.
type PriceRow struct {
	// PricePct is the price as a percentage of the total claim (5 means 5%).
	PricePct float64 `json:"price_pct"`
	// Price is the price in yuan.
	Price float64 `json:"price"`
	// IRR is the annual IRR at the price, nil when there is none (see IRR).
	IRR *float64 `json:"irr"`
	// NetMultiple is total net flows / price.
	NetMultiple float64 `json:"net_multiple"`
	// GrossMultiple is total gross collections / price.
	GrossMultiple float64 `json:"gross_multiple"`
	// PaybackMonth is the payback month (see Payback), 0 when the price is not repaid within the
	// horizon.
	PaybackMonth int `json:"payback_month"`
}

// DefaultTablePcts are the prices of the default price table: 1% to 20% of the claim in steps of
// one point.
func DefaultTablePcts() []float64 {
	pcts := make([]float64, 20)
	for i := range pcts {
		pcts[i] = float64(i + 1)
	}
	return pcts
}

// PriceTable returns one row per price in pcts (percent of p.Claim; nil means DefaultTablePcts),
// in the given order. A price that is not positive yields a row with no IRR, NaN multiples and no
// payback.
func (p *Projection) PriceTable(pcts []float64) []PriceRow {
	if pcts == nil {
		pcts = DefaultTablePcts()
	}
	rows := make([]PriceRow, len(pcts))
	for i, pct := range pcts {
		price := p.Claim * pct / 100
		row := PriceRow{PricePct: pct, Price: price}
		row.NetMultiple = Multiple(price, p.Net)
		row.GrossMultiple = Multiple(price, p.Gross)
		if price > 0 {
			if r, err := IRR(price, p.Net); err == nil {
				row.IRR = &r
			}
			row.PaybackMonth, _ = Payback(price, p.Net)
		}
		rows[i] = row
	}
	return rows
}

// NPV is NPV(price, p.Net, rate).
func (p *Projection) NPV(price, rate float64) float64 { return NPV(price, p.Net, rate) }

// IRR is IRR(price, p.Net).
func (p *Projection) IRR(price float64) (float64, error) { return IRR(price, p.Net) }

// PriceForIRR is PriceForIRR(p.Net, target).
func (p *Projection) PriceForIRR(target float64) (float64, error) { return PriceForIRR(p.Net, target) }

// PriceForGrossMultiple is PriceForMultiple(p.Gross, multiple): the price at which gross
// collections are multiple times the price (the debt buyers' "gross money multiple").
func (p *Projection) PriceForGrossMultiple(multiple float64) (float64, error) {
	return PriceForMultiple(p.Gross, multiple)
}

// PriceForNetMultiple is PriceForMultiple(p.Net, multiple): the price at which net cash is
// multiple times the price.
func (p *Projection) PriceForNetMultiple(multiple float64) (float64, error) {
	return PriceForMultiple(p.Net, multiple)
}

// Payback is Payback(price, p.Net).
func (p *Projection) Payback(price float64) (int, bool) { return Payback(price, p.Net) }
