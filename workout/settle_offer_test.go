package workout

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

func code(err error) string {
	var e *reclaim.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestOfferAmountsSum: an offer at a discount or for an amount always has amount + waived =
// claim, amount positive and at most the claim, and OfferFor(OfferAt(d).Amount) gives back d to
// within a fen of the claim.
func TestOfferAmountsSum(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		claim := money.New(rapid.Int64Range(1, 1_000_000_000).Draw(rt, "claim"), money.CNY)
		d := rapid.Float64Range(0, 0.99).Draw(rt, "d")
		o, err := OfferAt(claim, d)
		if err != nil {
			rt.Fatal(err)
		}
		if s, _ := o.Amount.Add(o.Waived); !s.Equal(claim) || o.Waived.Sign() < 0 || o.Amount.Cmp(claim) > 0 {
			rt.Fatalf("offer %+v on claim %s", o, claim)
		}
		if o.Amount.Sign() <= 0 {
			return // a claim of a few fen at a large discount rounds to nothing
		}
		back, err := OfferFor(claim, o.Amount)
		if err != nil {
			rt.Fatal(err)
		}
		if !back.Waived.Equal(o.Waived) || back.Discount < d-1/claim.Float()-1e-9 || back.Discount > d+1/claim.Float()+1e-9 {
			rt.Fatalf("round trip %+v vs %+v", back, o)
		}
	})
}

func TestOfferRefusals(t *testing.T) {
	claim := money.Yuan(10_000)
	for name, err := range map[string]error{
		"zero claim":       func() error { _, err := OfferAt(money.Zero(money.CNY), 0.1); return err }(),
		"discount 1":       func() error { _, err := OfferAt(claim, 1); return err }(),
		"negative":         func() error { _, err := OfferAt(claim, -0.1); return err }(),
		"amount above":     func() error { _, err := OfferFor(claim, money.Yuan(10_001)); return err }(),
		"amount zero":      func() error { _, err := OfferFor(claim, money.Zero(money.CNY)); return err }(),
		"another currency": func() error { _, err := OfferFor(claim, money.New(100, "USD")); return err }(),
	} {
		if code(err) != reclaim.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := OfferFor(claim, money.Yuan(10_001))
	if e := err.(*reclaim.Error); e.Fields["field"] != "amount" {
		t.Errorf("field not named: %+v", e)
	}
}

func TestOfferTransitions(t *testing.T) {
	all := []string{OfferProposed, OfferApproved, OfferRejected, OfferAccepted, OfferExpired, OfferPaid, OfferBroken}
	allowed := map[[2]string]bool{
		{OfferProposed, OfferApproved}: true, {OfferProposed, OfferRejected}: true, {OfferProposed, OfferExpired}: true,
		{OfferApproved, OfferAccepted}: true, {OfferApproved, OfferExpired}: true,
		{OfferAccepted, OfferPaid}: true, {OfferAccepted, OfferBroken}: true,
	}
	for _, a := range all {
		for _, b := range all {
			err := OfferTransition(a, b)
			if allowed[[2]string{a, b}] != (err == nil) {
				t.Errorf("%s -> %s: %v", a, b, err)
			}
			if err != nil && code(err) != reclaim.ECONFLICT {
				t.Errorf("%s -> %s: code %s", a, b, code(err))
			}
		}
	}
	for _, s := range all {
		if OfferLive(s) != (s == OfferProposed || s == OfferApproved || s == OfferAccepted) {
			t.Errorf("live %s", s)
		}
	}
}

func TestDecideOffer(t *testing.T) {
	p := DefaultApprovalPolicy()
	big, _ := OfferAt(money.Yuan(50_000), 0.5) // beyond a collector (30%), within a manager (60%)
	if err := DecideOffer(p, "collector", "alice", "collection_manager", "alice", big); code(err) != reclaim.EFORBIDDEN {
		t.Errorf("maker decides own: %v", err)
	}
	if err := DecideOffer(p, "collector", "alice", "collector", "bob", big); code(err) != reclaim.EFORBIDDEN {
		t.Errorf("another collector approves: %v", err)
	}
	if err := DecideOffer(p, "collector", "alice", "collection_manager", "mgr", big); err != nil {
		t.Errorf("manager approves: %v", err)
	}
	huge, _ := OfferAt(money.Yuan(50_000), 0.7) // needs the credit committee
	if err := DecideOffer(p, "collector", "alice", "collection_manager", "mgr", huge); code(err) != reclaim.EFORBIDDEN {
		t.Errorf("manager approves beyond the limit: %v", err)
	}
}

// TestSuggestOffer: the suggestion is on the grid, within the cap, and no other grid point of the
// same curve has a larger expected NPV.
func TestSuggestOffer(t *testing.T) {
	claim := money.Yuan(80_000)
	o, err := SuggestOffer(claim, nil, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	if o.Discount <= 0 || o.Discount > 0.6 {
		t.Fatalf("suggested %v", o.Discount)
	}
	in := SettlementInput{Claim: claim, Accept: DefaultAcceptance, Fallback: 0.1 * claim.Float(), PayDays: 30, AnnualRate: 0.15}
	// The chart's curve is the same function: its maximum is the suggestion.
	best := DiscountPoint{ExpectedNPV: -1}
	for _, p := range SuggestCurve(claim, nil, 0.6) {
		if p.Discount > 0.6+1e-12 {
			t.Fatalf("curve beyond the cap: %v", p.Discount)
		}
		if p.ExpectedNPV > best.ExpectedNPV {
			best = p
		}
	}
	if best.Discount != o.Discount || best.ExpectedNPV != o.ExpectedNPV {
		t.Errorf("curve maximum %+v, suggestion %+v", best, o)
	}
	for _, d := range DiscountGrid {
		if d <= 0.6 && in.OfferNPV(d) > o.ExpectedNPV+1e-9 {
			t.Errorf("grid %v beats the suggestion %v", d, o.Discount)
		}
	}
}

func TestSettlementStanding(t *testing.T) {
	d := func(s string) date.Date { x, _ := date.Parse(s); return x }
	amt := money.Yuan(6000)
	rs := []Receipt{{On: d("2026-02-28"), Amount: money.Yuan(5000)}, {On: d("2026-03-05"), Amount: money.Yuan(4000)}, {On: d("2026-03-20"), Amount: money.Yuan(2000)}}
	for _, c := range []struct {
		asOf, want string
		got        int64
	}{
		{"2026-03-10", OfferAccepted, 4000}, // the payment before acceptance does not count
		{"2026-03-20", OfferPaid, 6000},
		{"2026-04-30", OfferPaid, 6000},
	} {
		s, got, err := SettlementStanding(amt, d("2026-03-01"), d("2026-03-31"), 5, nil, rs, d(c.asOf))
		if err != nil || s != c.want || got.Minor() != c.got*100 {
			t.Errorf("%s: %s %s %v", c.asOf, s, got, err)
		}
	}
	s, _, _ := SettlementStanding(amt, d("2026-03-01"), d("2026-03-31"), 5, nil, rs[:2], d("2026-04-06"))
	if s != OfferBroken {
		t.Errorf("short after grace: %s", s)
	}
	plan, err := NewPlan("C1", amt, d("2026-03-15"), 3, money.Amount{})
	if err != nil {
		t.Fatal(err)
	}
	// 2000 due 15 March, 15 April and 15 May, grace 3 days; 4000 received on 5 March.
	if s, _, _ = SettlementStanding(amt, d("2026-03-01"), d("2026-05-15"), 3, &plan, rs[1:2], d("2026-04-20")); s != OfferAccepted {
		t.Errorf("plan on time: %s", s)
	}
	if s, _, _ = SettlementStanding(amt, d("2026-03-01"), d("2026-05-15"), 3, &plan, rs[1:2], d("2026-05-19")); s != OfferBroken {
		t.Errorf("plan missed: %s", s)
	}
	s, _, _ = SettlementStanding(amt, d("2026-03-01"), d("2026-05-15"), 3, &plan, rs[1:], d("2026-05-19"))
	if s != OfferPaid {
		t.Errorf("plan paid: %s", s)
	}
}

func TestWaiveRemainder(t *testing.T) {
	ls := []LoanBalance{
		{Loan: "1", Fees: money.Yuan(10), Interest: money.Yuan(20), Principal: money.Yuan(300)},
		{Loan: "2", Fees: money.Zero(money.CNY), Interest: money.Zero(money.CNY), Principal: money.Zero(money.CNY)},
		{Loan: "3", Fees: money.Zero(money.CNY), Interest: money.Yuan(1), Principal: money.Zero(money.CNY)},
	}
	mv := WaiveRemainder(ls)
	if len(mv) != 2 {
		t.Fatalf("%+v", mv)
	}
	after, err := ApplyMovements(ls, mv)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range after {
		if l.Total() != 0 {
			t.Errorf("loan %s left %d", l.Loan, l.Total())
		}
	}
}

func TestCloseSettled(t *testing.T) {
	c := money.CNY
	bal := func(loan string, f, i, p int64) LoanBalance {
		return LoanBalance{Loan: loan, Fees: money.New(f, c), Interest: money.New(i, c), Principal: money.New(p, c)}
	}
	for _, tc := range []struct {
		name  string
		in    []LoanBalance
		loans []string
		cas   bool
	}{
		{"all waived to zero", []LoanBalance{bal("1", 0, 0, 0), bal("2", 0, 0, 0)}, []string{"1", "2"}, true},
		{"one account left", []LoanBalance{bal("1", 0, 0, 0), bal("2", 0, 0, 1)}, []string{"1"}, false},
		{"fees left only", []LoanBalance{bal("1", 5, 0, 0)}, []string{}, false},
		{"a credit in one component does not hide a debt in another", []LoanBalance{bal("1", 5, -5, 0)}, []string{}, false},
		{"no active account", nil, []string{}, true},
	} {
		got := CloseSettled(tc.in)
		if got.Case != tc.cas || len(got.Loans) != len(tc.loans) {
			t.Errorf("%s: %+v", tc.name, got)
			continue
		}
		for i := range got.Loans {
			if got.Loans[i] != tc.loans[i] {
				t.Errorf("%s: %+v", tc.name, got)
			}
		}
	}
}

// TestCloseSettledAfterWaiverProperty: whatever the balances, waiving the remainder
// (WaiveRemainder applied) closes every account and the case.
func TestCloseSettledAfterWaiverProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 6).Draw(rt, "loans")
		var ls []LoanBalance
		for i := range n {
			ls = append(ls, LoanBalance{Loan: string(rune('a' + i)), Fees: money.New(rapid.Int64Range(0, 1e6).Draw(rt, "f"), money.CNY),
				Interest: money.New(rapid.Int64Range(0, 1e6).Draw(rt, "i"), money.CNY), Principal: money.New(rapid.Int64Range(0, 1e8).Draw(rt, "p"), money.CNY)})
		}
		mv := WaiveRemainder(ls)
		after := make([]LoanBalance, len(ls))
		for i, l := range ls {
			after[i] = l
			for _, m := range mv {
				if m.Loan == l.Loan {
					after[i] = LoanBalance{Loan: l.Loan, Fees: money.New(l.Fees.Minor()-m.Fees.Minor(), money.CNY),
						Interest: money.New(l.Interest.Minor()-m.Interest.Minor(), money.CNY), Principal: money.New(l.Principal.Minor()-m.Principal.Minor(), money.CNY)}
				}
			}
		}
		got := CloseSettled(after)
		if !got.Case || len(got.Loans) != n {
			rt.Fatalf("after the waiver %+v: %+v", after, got)
		}
		if n > 0 && !CloseSettled(ls).Case && len(mv) == 0 {
			rt.Fatalf("open balances with nothing to waive: %+v", ls)
		}
	})
}
