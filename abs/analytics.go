package abs

import (
	"errors"
	"math"

	"reclaim/date"
)

// CashFlow is a dated cash flow for analytics, in major units (yuan) as a float64: analytics
// are model maths, not bookkeeping. Money itself stays in money.Amount.
type CashFlow struct {
	Date   date.Date
	Amount float64
}

// ErrNoYield is returned when a set of flows has no yield (no sign change, or no root in range).
var ErrNoYield = errors.New("abs: the flows have no yield")

// years is the ACT/365 year fraction from s to e, the time axis of every analytic here.
func years(s, e date.Date) float64 { return float64(e.Sub(s)) / 365 }

// WAL returns the weighted average life of principal payments in ACT/365 years from the pricing
// date: Σ principal_i × t_i / Σ principal_i. Flows are principal payments; zero when there are
// none.
func WAL(pricing date.Date, principal []CashFlow) float64 {
	var num, den float64
	for _, f := range principal {
		num += f.Amount * years(pricing, f.Date)
		den += f.Amount
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// PV returns the present value at settle of the flows at an annual yield y compounded annually on
// ACT/365: Σ cf_i / (1+y)^t_i. Flows dated before settle are compounded forward.
func PV(settle date.Date, flows []CashFlow, y float64) float64 {
	var s float64
	for _, f := range flows {
		s += f.Amount * math.Pow(1+y, -years(settle, f.Date))
	}
	return s
}

// XIRR returns the annual rate r (annual compounding, ACT/365 from the first flow's date) at
// which the flows' present value is zero: the Excel XIRR convention. The flows need at least one
// negative and one positive amount; the root is searched in (-100%, 10^6%) by bisection on a
// bracket, refined by safeguarded Newton steps, to 1e-12.
func XIRR(flows []CashFlow) (float64, error) {
	if len(flows) == 0 {
		return 0, ErrNoYield
	}
	t0 := flows[0].Date
	for _, f := range flows {
		if f.Date.Before(t0) {
			t0 = f.Date
		}
	}
	neg, pos := false, false
	for _, f := range flows {
		neg = neg || f.Amount < 0
		pos = pos || f.Amount > 0
	}
	if !neg || !pos {
		return 0, ErrNoYield
	}
	f := func(r float64) (v, dv float64) {
		for _, c := range flows {
			t := years(t0, c.Date)
			x := math.Pow(1+r, -t)
			v += c.Amount * x
			dv -= t * c.Amount * x / (1 + r)
		}
		return
	}
	lo, hi := -0.999999999, 1.0
	flo, _ := f(lo)
	fhi, _ := f(hi)
	for flo*fhi > 0 && hi < 1e4 {
		hi *= 4
		fhi, _ = f(hi)
	}
	if flo*fhi > 0 {
		return 0, ErrNoYield
	}
	r := (lo + hi) / 2
	for range 200 {
		v, dv := f(r)
		if v == 0 {
			return r, nil
		}
		if (v > 0) == (flo > 0) {
			lo, flo = r, v
		} else {
			hi = r
		}
		next := r - v/dv
		if dv == 0 || math.IsNaN(next) || next <= lo || next >= hi {
			next = (lo + hi) / 2
		}
		if math.Abs(next-r) < 1e-12 {
			return next, nil
		}
		r = next
	}
	return r, nil
}

// PriceAtYield returns the price per 100 of face of the flows (per 1 of face times 100) at a yield
// y, settled on settle: 100 × PV(settle, flows, y) / face.
func PriceAtYield(settle date.Date, flows []CashFlow, face, y float64) float64 {
	return 100 * PV(settle, flows, y) / face
}

// YieldAtPrice returns the yield at which the flows are worth price per 100 of face on settle
// (the XIRR of paying price × face / 100 on settle and receiving the flows).
func YieldAtPrice(settle date.Date, flows []CashFlow, face, price float64) (float64, error) {
	all := make([]CashFlow, 0, len(flows)+1)
	all = append(all, CashFlow{Date: settle, Amount: -price * face / 100})
	all = append(all, flows...)
	return XIRR(all)
}

// Duration returns the Macaulay duration (the PV-weighted mean time of the flows in ACT/365
// years from settle, at yield y) and the modified duration, Macaulay / (1 + y), the relative price
// change per unit of yield under annual compounding.
func Duration(settle date.Date, flows []CashFlow, y float64) (macaulay, modified float64) {
	var pv, tpv float64
	for _, f := range flows {
		t := years(settle, f.Date)
		x := f.Amount * math.Pow(1+y, -t)
		pv += x
		tpv += t * x
	}
	if pv == 0 {
		return 0, 0
	}
	macaulay = tpv / pv
	return macaulay, macaulay / (1 + y)
}

// CPRToSMM converts a conditional prepayment rate (annual) to the single monthly mortality
// (SIFMA Uniform Practices): SMM = 1 − (1 − CPR)^(1/12).
func CPRToSMM(cpr float64) float64 { return 1 - math.Pow(1-cpr, 1.0/12) }

// SMMToCPR is the inverse of CPRToSMM: CPR = 1 − (1 − SMM)^12.
func SMMToCPR(smm float64) float64 { return 1 - math.Pow(1-smm, 12) }
