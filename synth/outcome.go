package synth

import (
	"math"
	"math/rand/v2"

	"reclaim"
	"reclaim/money"
)

// LifetimeMonths is the horizon Outcome simulates before truncating to the caller's horizon:
// ten years after the cut-off, which holds every collection the model produces.
const LifetimeMonths = 120

// Resolution kinds of Collections.Kind.
const (
	KindNone       = "none"       // the borrower never pays
	KindSettlement = "settlement" // a lump sum at a discount to the claim
	KindPlan       = "plan"       // an instalment plan, which may break
)

// Collections is a loan's simulated future after the cut-off.
type Collections struct {
	// Payments are the monthly collections within the horizon, oldest first; Month is the first
	// day of the k-th month after the cut-off's month (k >= 1).
	Payments []reclaim.Repayment
	// Total is the sum of Payments (zero in the loan's currency when there are none).
	Total money.Amount
	// Kind is how the borrower resolves over the lifetime (KindNone, KindSettlement, KindPlan),
	// whether or not that happens within the horizon.
	Kind string
	// StartMonth is the month (1-based, after the cut-off) of the first lifetime payment, 0 for
	// KindNone. It may lie beyond the horizon.
	StartMonth int
	// PlanMonths is the agreed length of an instalment plan, PlanBroken whether it breaks.
	PlanMonths int
	PlanBroken bool
	// PayProbability is the lifetime probability of any payment that the model assigned.
	PayProbability float64
}

// Calibration constants of Outcome (docs/synth-calibration.md says where each comes from).
const (
	outcomeIntercept  = -1.69
	settleShare       = 0.5  // of payers, the share who settle in a lump sum
	planBreakRate     = 0.35 // of instalment plans, the share that break
	settleDiscountMin = 0.30
	settleDiscountMax = 0.60
)

// startYearWeights are the shares of payers whose first payment falls in years 1..5+ after the
// cut-off; instalment plans spread collections later, so collections end up about 40/27/17/10/6.
var startYearWeights = []float64{0.515, 0.23, 0.135, 0.08, 0.04}

// PayScore is the logit of a loan's lifetime probability of any payment, before the intercept:
// the borrower's propensity plus the observable drivers of market.md (lower DPD, smaller balance,
// phone reachable, not sued, not written off, age 30-50; deceased and bankrupt borrowers rarely
// pay).
func PayScore(it *Item) float64 {
	l := &it.Loan
	years := math.Max(float64(l.DaysPastDue)/365, 0.25)
	pi := l.PrincipalOutstanding.Float() + l.InterestOutstanding.Float()
	s := 1.1*it.Propensity - 0.15*math.Log(years) - 0.18*math.Log(math.Max(pi, 100)/20000)
	if l.PhoneAvailable {
		s += 0.35
	} else {
		s -= 0.35
	}
	if l.LegalStatus != reclaim.NotSued {
		s -= 0.25
	}
	if l.WrittenOff {
		s -= 0.2
	}
	if l.Age >= 30 && l.Age <= 50 {
		s += 0.15
	} else {
		s -= 0.1
	}
	if l.ProductType == reclaim.CreditCard {
		s -= 0.3
	}
	if l.RepaymentPlanActive {
		s += 0.8
	}
	if l.Deceased {
		s -= 1.5
	}
	if l.Bankrupt {
		s -= 1.5
	}
	return s
}

// Outcome draws the loan's collections over the horizonMonths months after the cut-off from r.
// It simulates the whole LifetimeMonths path and truncates it, so for one stream state the
// payments within a shorter horizon are a prefix of those within a longer one. The draw is
// deterministic in (item, r's state); use OutcomeRand(seed, it.Index) for a reproducible stream.
//
// A borrower pays at all with probability logistic(intercept + PayScore). Payers start in a
// month drawn front-loaded over ten years; half settle in one lump sum at a 30-60% discount to
// the claim, half take an instalment plan of 6-24 months at up to 30% discount, of which 35% break
// after some instalments.
func Outcome(it *Item, horizonMonths int, r *rand.Rand) Collections {
	l := &it.Loan
	cur := l.TotalClaim.Currency()
	if cur == "" {
		cur = money.DefaultCurrency
	}
	c := Collections{Kind: KindNone, Total: money.Zero(cur)}
	horizonMonths = min(max(horizonMonths, 0), LifetimeMonths)
	c.PayProbability = logistic(outcomeIntercept + PayScore(it))
	// Draw every number whatever the branch, so the stream advances the same way for every loan.
	uPay, uKind, uStart, uWithin, uDisc := r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()
	uLen, uBreak, uBroken := r.Float64(), r.Float64(), r.Float64()
	if uPay >= c.PayProbability {
		return c
	}
	// First payment month.
	year := pickU(uStart, startYearWeights)
	var start int
	if year < 4 {
		// Front-loaded within the year: truncated exponential over 12 months.
		const tau = 7.0
		m := -tau * math.Log(1-uWithin*(1-math.Exp(-12/tau)))
		start = 12*year + 1 + min(int(m), 11)
	} else {
		const tau = 24.0
		m := -tau * math.Log(1-uWithin*(1-math.Exp(-72/tau)))
		start = 49 + min(int(m), 71)
	}
	c.StartMonth = start
	claim := l.TotalClaim
	var amounts []money.Amount
	var months []int
	if uKind < settleShare {
		c.Kind = KindSettlement
		disc := settleDiscountMin + (settleDiscountMax-settleDiscountMin)*uDisc
		a, err := money.FromFloat(claim.Float()*(1-disc), cur, money.HalfUp)
		if err == nil && a.Sign() > 0 {
			amounts, months = []money.Amount{a}, []int{start}
		}
	} else {
		c.Kind = KindPlan
		n := 6 + int(uLen*19) // 6..24 months
		c.PlanMonths = n
		disc := 0.3 * uDisc
		total, err := money.FromFloat(claim.Float()*(1-disc), cur, money.HalfUp)
		paid := n
		if uBreak < planBreakRate {
			c.PlanBroken = true
			paid = 1 + int(uBroken*float64(n-1)) // 1..n-1 instalments
		}
		if err == nil && total.Sign() > 0 {
			parts, err := total.Split(n)
			if err == nil {
				for k := 0; k < paid; k++ {
					amounts = append(amounts, parts[k])
					months = append(months, start+k)
				}
			}
		}
	}
	ch := reclaim.ChannelInternal
	switch {
	case l.LegalStatus != reclaim.NotSued:
		ch = reclaim.ChannelLegal
	case l.AgencyPlacements > 0:
		ch = reclaim.ChannelAgency
	}
	base := l.CutOffDate.StartOfMonth()
	for k, m := range months {
		if m > horizonMonths {
			break
		}
		c.Payments = append(c.Payments, reclaim.Repayment{LoanID: l.LoanID, Month: base.AddMonths(m), Amount: amounts[k], Source: reclaim.SourceDebtor, Channel: ch})
		c.Total, _ = c.Total.Add(amounts[k])
	}
	return c
}

// pickU picks an index with probability proportional to w using the uniform draw u.
func pickU(u float64, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u *= t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}
