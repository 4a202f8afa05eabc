package workout

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

func stLogistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestOptimalDiscountBeatsNeighbours: the chosen discount's expected NPV is at least that of
// every grid point, in particular its neighbours, and golden-section search on the same unimodal
// curve lands within a grid step of it.
func TestOptimalDiscountBeatsNeighbours(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		mid := rapid.Float64Range(0.1, 0.7).Draw(rt, "mid")
		scale := rapid.Float64Range(0.02, 0.2).Draw(rt, "scale")
		in := SettlementInput{Claim: money.New(rapid.Int64Range(10_000, 100_000_000).Draw(rt, "claim"), money.CNY),
			Accept:   func(d float64) float64 { return stLogistic((d - mid) / scale) },
			Fallback: 0, PayDays: rapid.IntRange(0, 30).Draw(rt, "days"), AnnualRate: 0.15, KeepRate: 0.9}
		o, err := OptimalDiscount(in)
		if err != nil {
			rt.Fatal(err)
		}
		k := int(math.Round(o.Discount / 0.025))
		for _, j := range []int{k - 1, k + 1} {
			if j >= 0 && j < len(DiscountGrid) && in.OfferNPV(DiscountGrid[j]) > o.ExpectedNPV+1e-9 {
				rt.Fatalf("neighbour %v beats %v: %v > %v", DiscountGrid[j], o.Discount, in.OfferNPV(DiscountGrid[j]), o.ExpectedNPV)
			}
		}
		for _, d := range DiscountGrid {
			if in.OfferNPV(d) > o.ExpectedNPV+1e-9 {
				rt.Fatalf("grid point %v beats %v", d, o.Discount)
			}
		}
		if s, _ := o.Amount.Add(o.Waived); !s.Equal(in.Claim) {
			rt.Fatalf("amount %s + waived %s != claim %s", o.Amount, o.Waived, in.Claim)
		}
		g, err := GoldenDiscount(in, 0, 0.8, 1e-6)
		if err != nil {
			rt.Fatal(err)
		}
		if g.ExpectedNPV < o.ExpectedNPV-1e-6*in.Claim.Float() {
			rt.Fatalf("golden section %v (%v) below the grid's %v (%v)", g.Discount, g.ExpectedNPV, o.Discount, o.ExpectedNPV)
		}
	})
}

func TestOptimalDiscountCapAndErrors(t *testing.T) {
	in := SettlementInput{Claim: money.Yuan(10_000), Accept: func(d float64) float64 { return stLogistic((d - 0.7) / 0.05) }, MaxDiscount: 0.5}
	o, err := OptimalDiscount(in)
	if err != nil || o.Discount > 0.5 {
		t.Fatalf("capped offer %+v %v", o, err)
	}
	for _, bad := range []SettlementInput{
		{Claim: money.Yuan(0), Accept: in.Accept},
		{Claim: money.Yuan(1)},
		{Claim: money.Yuan(1), Accept: in.Accept, MaxDiscount: 1},
		{Claim: money.Yuan(1), Accept: in.Accept, Grid: []float64{0.2, 1.2}},
	} {
		if _, err := OptimalDiscount(bad); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("%+v: err %v, want EINVALID", bad, err)
		}
	}
}

func TestRequiredApproval(t *testing.T) {
	p := DefaultApprovalPolicy()
	offer := func(d float64, waivedYuan int64) Offer {
		return Offer{Discount: d, Waived: money.Yuan(waivedYuan)}
	}
	for _, tc := range []struct {
		maker   string
		o       Offer
		checker string
		code    string
	}{
		{"collector", offer(0.30, 20_000), "", ""},
		{"collector", offer(0.3001, 100), "team_lead", ""},
		{"collector", offer(0.25, 20_001), "team_lead", ""},
		{"collector", offer(0.50, 1_000), "collection_manager", ""},
		{"team_lead", offer(0.45, 100_000), "", ""},
		{"collection_manager", offer(0.75, 1_000_000), "credit_committee", ""},
		{"collector", offer(0.95, 1), "", reclaim.EINVALID},
		{"intern", offer(0.10, 1), "", reclaim.EFORBIDDEN},
	} {
		a, err := RequiredApproval(p, tc.maker, tc.o)
		if reclaim.ErrorCode(err) != tc.code {
			t.Errorf("%s %+v: err %v, want code %q", tc.maker, tc.o, err, tc.code)
			continue
		}
		if err == nil && a.Checker != tc.checker {
			t.Errorf("%s %+v: checker %q, want %q", tc.maker, tc.o, a.Checker, tc.checker)
		}
	}
	o := offer(0.40, 1_000)
	if err := CheckApproval(p, "collector", "ann", "team_lead", "ann", o); reclaim.ErrorCode(err) != reclaim.EFORBIDDEN {
		t.Errorf("maker as checker: %v", err)
	}
	if err := CheckApproval(p, "collector", "ann", "collector", "bob", o); reclaim.ErrorCode(err) != reclaim.EFORBIDDEN {
		t.Errorf("junior checker: %v", err)
	}
	if err := CheckApproval(p, "collector", "ann", "collection_manager", "bob", o); err != nil {
		t.Errorf("senior checker: %v", err)
	}
	bad := ApprovalPolicy{Roles: []RoleLimit{{Role: "a", MaxDiscount: 0.5}, {Role: "b", MaxDiscount: 0.4}}}
	if err := bad.Validate(); err == nil {
		t.Errorf("decreasing limits accepted")
	}
}

func TestWaiver(t *testing.T) {
	w, err := NewWaiver("C1", "L1", date.Of(2026, 7, 1), money.New(1_000_000, money.CNY), money.New(550_000, money.CNY), "ann", "bob")
	if err != nil || w.Waived.Minor() != 450_000 || math.Abs(w.Discount-0.45) > 1e-12 {
		t.Fatalf("waiver %+v %v", w, err)
	}
	if _, err := NewWaiver("C1", "L1", date.Of(2026, 7, 1), money.New(100, money.CNY), money.New(101, money.CNY), "a", ""); err == nil {
		t.Errorf("paid above the claim accepted")
	}
	parts, err := SplitWaiver(money.New(1001, money.CNY), []money.Amount{money.New(1, money.CNY), money.New(1, money.CNY), money.New(1, money.CNY)})
	if err != nil || parts[0].Minor()+parts[1].Minor()+parts[2].Minor() != 1001 {
		t.Errorf("split %v %v", parts, err)
	}
}

func TestLift(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5}
	b := []float64{2, 3, 4, 5, 6}
	l, err := LiftPaired(a, b, 0.95)
	if err != nil || l.Diff != 1 || l.SE != 0 || l.Lo != 1 || l.Hi != 1 || l.RelativeDiff != 1.0/3 {
		t.Fatalf("paired %+v %v", l, err)
	}
	n, err := LiftNormal(a, b, 0.95)
	se := math.Sqrt(2.5/5 + 2.5/5)
	if err != nil || n.Diff != 1 || math.Abs(n.SE-se) > 1e-12 || math.Abs(n.Lo-(1-1.959963984540054*se)) > 1e-9 {
		t.Fatalf("normal %+v %v", n, err)
	}
	bs, err := LiftBootstrap(a, b, 0.95, 500, 7)
	if err != nil || bs.Diff != 1 || !(bs.Lo < 1 && bs.Hi > 1) {
		t.Fatalf("bootstrap %+v %v", bs, err)
	}
	if bs2, _ := LiftBootstrap(a, b, 0.95, 500, 7); bs2 != bs {
		t.Errorf("bootstrap not deterministic by seed")
	}
	if _, err := LiftPaired(a, b[:4], 0.95); err == nil {
		t.Errorf("unequal paired arms accepted")
	}
	if _, err := LiftNormal(a[:1], b, 0.95); err == nil {
		t.Errorf("one-case arm accepted")
	}
	in := 0
	for i := 0; i < 10000; i++ {
		id := "C" + string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('0'+i/260))
		if ChallengerArm(3, id, 0.3) {
			in++
		}
		if ChallengerArm(3, id, 0.3) != ChallengerArm(3, id, 0.3) {
			t.Fatal("arm not deterministic")
		}
	}
	if in < 2700 || in > 3300 {
		t.Errorf("challenger share %d of 10000, want about 3000", in)
	}
}
