package pricing

import (
	"math"

	"reclaim/workout"
)

// CourtFee returns the case-acceptance fee in yuan for a property claim of claim yuan under the
// statutory bands (诉讼费用交纳办法 art. 13): 50 yuan up to 10,000; then 2.5% of the part up to
// 100,000, 2% to 200,000, 1.5% to 500,000, 1% to 1 million, 0.9% to 2 million, 0.8% to 5 million,
// 0.7% to 10 million, 0.6% to 20 million and 0.5% above. A 50,000-yuan claim costs 1,050 yuan. With
// simplified set, the fee is halved (simplified procedure, art. 16). The fee is continuous and
// non-decreasing for claims above 0; a claim of 0 or less files no case and costs 0; NaN gives NaN.
func CourtFee(claim float64, simplified bool) float64 {
	if math.IsNaN(claim) {
		return math.NaN()
	}
	if claim <= 0 {
		return 0
	}
	// The schedule is workout.CourtFeeBands (one copy; workout.CourtFee is the exact fee in fen
	// a filing records): this is its float form for the expected legal cost.
	fee := float64(workout.CourtFeeBase)
	lo := float64(workout.CourtFeeBaseUpTo)
	for _, b := range workout.CourtFeeBands {
		if claim <= lo {
			break
		}
		upTo := math.Inf(1)
		if b.UpTo > 0 {
			upTo = float64(b.UpTo)
		}
		fee += (min(claim, upTo) - lo) * float64(b.BP) / 10_000
		lo = upTo
	}
	if simplified {
		fee /= 2
	}
	return fee
}

// expectedLegalCost is the expected legal cost of one loan: its litigation probability times the
// court fee (mixed between the ordinary and simplified procedure) plus the other per-case cost.
func expectedLegalCost(l *Loan, a *Assumptions) float64 {
	if l.PLitigation == 0 {
		return 0
	}
	fee := CourtFee(l.Claim, false) * (1 - a.SimplifiedShare/2)
	return l.PLitigation * (fee + a.LegalCostPerCase)
}
