package synth

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/region"
)

// calibration holds the figures the calibration tests check and docs/synth-calibration.md reports.
type calibration struct {
	Loans, Borrowers  int
	ProductShare      map[reclaim.ProductType]float64
	WADPD             float64 // weighted by principal + interest
	MeanDPD           float64
	EastShare         float64 // share of principal + interest from East China
	Age30to50         float64 // share of borrowers
	AgeMode5          int     // lower bound of the most common 5-year age band
	WAAge             float64
	LoansPerBorrower  float64
	LineUnder300k     float64 // share of loans with original amount < 300k
	WrittenOff, Sued  float64
	PhoneAvailable    float64
	Judged            float64 // share of loans with judgment, enforcement or terminated enforcement
	HistoryPayers     float64 // share of loans with a post-default payment in the history window
	P24               float64 // share of loans paying within 24 months
	Recovery          float64 // lifetime collections / (principal + interest)
	Timing            [5]float64
	Spearman          float64 // propensity vs lifetime collections / claim
	SettleShare       float64 // of payers
	PlanBreakShare    float64 // of plans
	AvgSettleFraction float64 // settlement / claim
	InterestShare     float64 // interest / principal
	MedianPrincipal   float64
}

func measure(t testing.TB, cfg Config) calibration {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var c calibration
	c.ProductShare = map[reclaim.ProductType]float64{}
	var wDPD, wSum, east, dpdSum, ageW float64
	var age3050, lines, wo, sued, phone, judged, histPay, p24 float64
	var collected, piSum, intSum, prSum float64
	var timing [5]float64
	var payers, settles, plans, broken float64
	var settleFrac float64
	prop := make([]float64, 0, cfg.Loans)
	rec := make([]float64, 0, cfg.Loans)
	prins := make([]float64, 0, cfg.Loans)
	ageBands := map[int]int{}
	lastB := -1
	for {
		it, ok := g.Next()
		if !ok {
			break
		}
		l := &it.Loan
		c.Loans++
		c.ProductShare[l.ProductType]++
		pi := l.PrincipalOutstanding.Float() + l.InterestOutstanding.Float()
		piSum += pi
		prSum += l.PrincipalOutstanding.Float()
		intSum += l.InterestOutstanding.Float()
		prins = append(prins, l.PrincipalOutstanding.Float())
		wDPD += pi * float64(l.DaysPastDue)
		wSum += pi
		dpdSum += float64(l.DaysPastDue)
		if p, ok := region.Province(l.RegionCode); ok && p.Region == region.East {
			east += pi
		}
		ageW += pi * float64(l.Age)
		if it.BorrowerIndex != lastB {
			lastB = it.BorrowerIndex
			c.Borrowers++
			if l.Age >= 30 && l.Age <= 50 {
				age3050++
			}
			ageBands[l.Age/5*5]++
		}
		if l.OriginalAmount.Float() < 300000 {
			lines++
		}
		if l.WrittenOff {
			wo++
		}
		if l.LegalStatus != reclaim.NotSued {
			sued++
		}
		switch l.LegalStatus {
		case reclaim.Judgment, reclaim.Enforcement, reclaim.EnforcementTerminated:
			judged++
		}
		if l.PhoneAvailable {
			phone++
		}
		for _, h := range it.History {
			if h.Month.After(l.DefaultDate) {
				histPay++
				break
			}
		}
		out := Outcome(&it, LifetimeMonths, OutcomeRand(cfg.Seed, it.Index))
		if len(out.Payments) > 0 && out.Payments[0].Month.Before(l.CutOffDate.StartOfMonth().AddMonths(25)) {
			p24++
		}
		tot := out.Total.Float()
		collected += tot
		for _, p := range out.Payments {
			k := date.MonthsBetween(l.CutOffDate.StartOfMonth(), p.Month)
			y := min((k-1)/12, 4)
			timing[y] += p.Amount.Float()
		}
		if out.Kind != KindNone {
			payers++
			if out.Kind == KindSettlement {
				settles++
				settleFrac += tot / l.TotalClaim.Float()
			} else {
				plans++
				if out.PlanBroken {
					broken++
				}
			}
		}
		prop = append(prop, it.Propensity)
		rec = append(rec, tot/l.TotalClaim.Float())
	}
	n := float64(c.Loans)
	for k := range c.ProductShare {
		c.ProductShare[k] /= n
	}
	c.WADPD = wDPD / wSum
	c.MeanDPD = dpdSum / n
	c.EastShare = east / wSum
	c.WAAge = ageW / wSum
	c.Age30to50 = age3050 / float64(c.Borrowers)
	best := 0
	for b, k := range ageBands {
		if k > ageBands[best] {
			best = b
		}
	}
	c.AgeMode5 = best
	c.LoansPerBorrower = n / float64(c.Borrowers)
	c.LineUnder300k = lines / n
	c.WrittenOff, c.Sued, c.PhoneAvailable, c.Judged = wo/n, sued/n, phone/n, judged/n
	c.HistoryPayers = histPay / n
	c.P24 = p24 / n
	c.Recovery = collected / piSum
	for i := range timing {
		c.Timing[i] = timing[i] / collected
	}
	c.Spearman = spearman(prop, rec)
	c.SettleShare = settles / payers
	c.PlanBreakShare = broken / plans
	c.AvgSettleFraction = settleFrac / settles
	c.InterestShare = intSum / prSum
	sort.Float64s(prins)
	c.MedianPrincipal = prins[len(prins)/2]
	return c
}

// ranks returns average ranks (ties share their mean rank).
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// spearman is the rank correlation of x and y with average ranks for ties.
func spearman(x, y []float64) float64 {
	rx, ry := ranks(x), ranks(y)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx /= float64(len(rx))
	my /= float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

// calibrationLoans is the sample size of the calibration tests.
const calibrationLoans = 50_000

func TestCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration needs 50k loans per profile")
	}
	in := func(t *testing.T, name string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.4f, want in [%.4f, %.4f]", name, got, lo, hi)
		}
	}
	// Lifetime recovery (collections / principal + interest) targets of market.md by profile.
	recovery := map[Profile][2]float64{
		BankCards:       {0.05, 0.12}, // cards 5-12%
		ConsumerFinance: {0.15, 0.25}, // packages under 1 year DPD 15-25%
		BankMixed:       {0.08, 0.15}, // aged consumer packages 8-15%
		Aged:            {0.03, 0.08}, // deeper than "aged": over 3 years, written off (estimate)
	}
	timing := [5]float64{0.40, 0.27, 0.17, 0.10, 0.06}
	for _, p := range Profiles {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			c := measure(t, cfgFor(p, calibrationLoans, 2025))
			t.Logf("%s: WA-DPD %.1f, East %.3f, age 30-50 %.3f (mode band %d, WA %.1f), loans/borrower %.3f, lines<300k %.3f, written off %.3f, sued %.3f, judged %.3f, phone %.3f, P24 %.4f, recovery %.4f, timing %.3f, Spearman %.3f, settle %.3f, plan break %.3f, settle fraction %.3f, interest/principal %.3f, median principal %.0f",
				p, c.WADPD, c.EastShare, c.Age30to50, c.AgeMode5, c.WAAge, c.LoansPerBorrower, c.LineUnder300k, c.WrittenOff, c.Sued, c.Judged, c.PhoneAvailable, c.P24, c.Recovery, c.Timing, c.Spearman, c.SettleShare, c.PlanBreakShare, c.AvgSettleFraction, c.InterestShare, c.MedianPrincipal)
			t.Logf("%s: product shares %v, mean DPD %.1f, history payers %.3f", p, c.ProductShare, c.MeanDPD, c.HistoryPayers)
			for prod, want := range p.ProductMix() {
				in(t, "share of "+string(prod), c.ProductShare[prod], want-0.02, want+0.02)
			}
			in(t, "East China share of volume", c.EastShare, 0.30, 0.45)
			in(t, "loans per borrower", c.LoansPerBorrower, 1.1, 1.3)
			in(t, "lines under 300k", c.LineUnder300k, 0.85, 1)
			in(t, "lifetime recovery", c.Recovery, recovery[p][0], recovery[p][1])
			if p != Aged {
				in(t, "P(any payment within 24 months)", c.P24, 0.10, 0.25)
			}
			for y := range timing {
				in(t, fmt.Sprintf("timing year %d", y+1), c.Timing[y], timing[y]-0.025, timing[y]+0.025)
			}
			in(t, "settling share of payers", c.SettleShare, 0.47, 0.53)
			in(t, "broken share of plans", c.PlanBreakShare, 0.30, 0.40)
			in(t, "settlement / claim", c.AvgSettleFraction, 0.40, 0.70)
			in(t, "Spearman(propensity, recovery)", c.Spearman, 0.2, 1)
			switch p {
			case ConsumerFinance:
				in(t, "weighted-average DPD", c.WADPD, 93, 137)
				in(t, "median principal", c.MedianPrincipal, 2000, 12000)
			case Aged:
				in(t, "written off", c.WrittenOff, 1, 1)
				in(t, "judgment or enforcement", c.Judged, 0.5, 1)
				in(t, "weighted-average DPD", c.WADPD, 3*365, 15*365)
			default:
				in(t, "ages 30-50", c.Age30to50, 0.7, 0.9)
				in(t, "modal age band", float64(c.AgeMode5), 40, 45)
			}
		})
	}
}

// The pooled market of Portfolios lands inside the per-account target.
func TestCalibrationPooled(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration needs 50k loans")
	}
	var loans, p24, east float64
	for _, cfg := range Portfolios(77, calibrationLoans, cut) {
		c := measure(t, cfg)
		loans += float64(c.Loans)
		p24 += c.P24 * float64(c.Loans)
		east += c.EastShare * float64(c.Loans)
	}
	t.Logf("pooled demo market: P24 %.4f, East share %.3f", p24/loans, east/loans)
	if got := p24 / loans; got < 0.10 || got > 0.25 {
		t.Errorf("pooled P(any payment within 24 months) = %.4f, want 10-25%%", got)
	}
}
