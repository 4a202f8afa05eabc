package valuation

import (
	"reclaim/date"
	"reclaim/money"
	"reclaim/synth"
)

// MaxHorizonMonths bounds the months of collections a training table observes: the whole
// lifetime a seasoned portfolio simulates.
const MaxHorizonMonths = synth.MaxSeasonedMonths

// ObservedMonths returns how many whole months of collections an imported seasoned tape observes
// after its cut-off: the latest month after the cut-off's month that any loan's repayment history
// reaches (0 when no history runs past the cut-off). The month after the cut-off's is month 1.
func ObservedMonths(inputs []Input) int {
	n := 0
	for i := range inputs {
		in := &inputs[i]
		if in.Loan == nil {
			continue
		}
		base := in.Loan.CutOffDate.StartOfMonth()
		for _, r := range in.History {
			n = max(n, date.MonthsBetween(base, r.Month.StartOfMonth()))
		}
	}
	return n
}

// PortfolioExample fills ex with one loan of an imported seasoned tape, the way SeasonedExample
// fills it from a synthetic one: the features as of the loan's cut-off (Input ignores history past
// its as-of month, so the collections after the cut-off cannot leak into them), the total claim as
// the exposure, and as the outcome the repayments of months 1..horizon after the cut-off's month
// (month k+1 in ex.Monthly[k]). It reports false, leaving ex unusable, when the loan has no
// positive claim or no loan record. ex.Monthly is reused.
func PortfolioExample(in Input, horizon int, ex *Example) bool {
	if in.Loan == nil || in.Loan.TotalClaim.Sign() <= 0 || horizon < 1 || horizon > MaxHorizonMonths {
		return false
	}
	in.AsOf = in.Loan.CutOffDate
	ex.Input = in
	ex.Exposure = in.Loan.TotalClaim.Float()
	if cap(ex.Monthly) < horizon {
		ex.Monthly = make([]float64, horizon)
	}
	ex.Monthly = ex.Monthly[:horizon]
	// Sums in minor units, converted once, as SeasonedExample converts its money sums.
	var monthly [MaxHorizonMonths]int64
	var total int64
	base := in.Loan.CutOffDate.StartOfMonth()
	for _, r := range in.History {
		k := date.MonthsBetween(base, r.Month.StartOfMonth())
		if k < 1 || k > horizon || r.Amount.Sign() <= 0 {
			continue
		}
		monthly[k-1] += r.Amount.Minor()
		total += r.Amount.Minor()
	}
	cur := in.Loan.TotalClaim.Currency()
	for k := range ex.Monthly {
		ex.Monthly[k] = money.New(monthly[k], cur).Float()
	}
	ex.Recovered = money.New(total, cur).Float()
	return true
}
