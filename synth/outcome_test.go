package synth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/money"
)

func TestOutcomeProperties(t *testing.T) {
	items := generate(t, cfgFor(BankMixed, 3000, 3))
	rapid.Check(t, func(rt *rapid.T) {
		it := &items[rapid.IntRange(0, len(items)-1).Draw(rt, "item")]
		h := rapid.IntRange(0, LifetimeMonths+12).Draw(rt, "horizon")
		seed := rapid.Uint64().Draw(rt, "seed")
		full := Outcome(it, LifetimeMonths, OutcomeRand(seed, it.Index))
		part := Outcome(it, h, OutcomeRand(seed, it.Index))
		again := Outcome(it, h, OutcomeRand(seed, it.Index))
		opts := cmp.Options{cmp.AllowUnexported(money.Amount{}, date.Date{}), cmpopts.EquateEmpty()}
		if d := cmp.Diff(part, again, opts); d != "" {
			rt.Fatalf("Outcome not deterministic:\n%s", d)
		}
		// A shorter horizon is a prefix of the lifetime path, with the same resolution.
		if len(part.Payments) > len(full.Payments) || !cmp.Equal(part.Payments, full.Payments[:len(part.Payments)], opts) {
			rt.Fatalf("horizon %d payments are not a prefix of the lifetime payments", h)
		}
		if part.Kind != full.Kind || part.StartMonth != full.StartMonth || part.PlanBroken != full.PlanBroken {
			rt.Fatalf("resolution depends on the horizon")
		}
		sum := money.Zero(it.Loan.Currency)
		base := it.Loan.CutOffDate.StartOfMonth()
		for k, p := range part.Payments {
			sum, _ = sum.Add(p.Amount)
			m := date.MonthsBetween(base, p.Month)
			if p.Amount.Sign() <= 0 || m < 1 || m > min(h, LifetimeMonths) || p.Month.Day() != 1 || p.LoanID != it.Loan.LoanID {
				rt.Fatalf("payment %d: %+v (month %d, horizon %d)", k, p, m, h)
			}
			if k > 0 && !p.Month.After(part.Payments[k-1].Month) {
				rt.Fatalf("payments not monthly increasing")
			}
		}
		if sum != part.Total {
			rt.Fatalf("Total %v != sum of payments %v", part.Total, sum)
		}
		if full.Total.Cmp(it.Loan.TotalClaim) > 0 {
			rt.Fatalf("collections %v exceed the claim %v", full.Total, it.Loan.TotalClaim)
		}
		switch full.Kind {
		case KindNone:
			if len(full.Payments) != 0 || full.StartMonth != 0 {
				rt.Fatalf("non-payer with payments")
			}
		case KindSettlement:
			if len(full.Payments) != 1 || full.StartMonth < 1 {
				rt.Fatalf("settlement with %d payments", len(full.Payments))
			}
			f := full.Total.Float() / it.Loan.TotalClaim.Float()
			if f < 0.4-1e-6 || f > 0.7+1e-6 {
				rt.Fatalf("settlement pays %.3f of the claim", f)
			}
		case KindPlan:
			if full.PlanMonths < 6 || full.PlanMonths > 24 {
				rt.Fatalf("plan of %d months", full.PlanMonths)
			}
			if n := len(full.Payments); (full.PlanBroken && n >= full.PlanMonths) || (!full.PlanBroken && full.StartMonth+full.PlanMonths-1 <= LifetimeMonths && n != full.PlanMonths) {
				rt.Fatalf("plan of %d months, broken %v, %d payments", full.PlanMonths, full.PlanBroken, n)
			}
		default:
			rt.Fatalf("kind %q", full.Kind)
		}
		if full.PayProbability <= 0 || full.PayProbability >= 1 {
			rt.Fatalf("pay probability %v", full.PayProbability)
		}
	})
}

// The observable drivers of market.md move the pay probability the documented way.
func TestPayScoreDrivers(t *testing.T) {
	base := generate(t, cfgFor(BankMixed, 1, 8))[0]
	base.Loan.PhoneAvailable, base.Loan.WrittenOff, base.Loan.Deceased = true, false, false
	base.Loan.LegalStatus = "not_sued"
	base.Loan.Age = 40
	s0 := PayScore(&base)
	worse := map[string]func(*Item){
		"higher DPD":        func(it *Item) { it.Loan.DaysPastDue *= 3 },
		"larger balance":    func(it *Item) { it.Loan.PrincipalOutstanding, _ = it.Loan.PrincipalOutstanding.Mul(5) },
		"phone unreachable": func(it *Item) { it.Loan.PhoneAvailable = false },
		"sued":              func(it *Item) { it.Loan.LegalStatus = "judgment" },
		"written off":       func(it *Item) { it.Loan.WrittenOff = true },
		"age 60":            func(it *Item) { it.Loan.Age = 60 },
		"deceased":          func(it *Item) { it.Loan.Deceased = true },
		"lower propensity":  func(it *Item) { it.Propensity -= 1 },
	}
	for name, f := range worse {
		it := base
		f(&it)
		if s := PayScore(&it); s >= s0 {
			t.Errorf("%s: score %.3f, want below %.3f", name, s, s0)
		}
	}
}
