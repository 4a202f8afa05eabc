package abs

import (
	"math"
	"testing"

	"reclaim/date"
	"reclaim/money"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.10f, want %.10f (±%g)", what, got, want, tol)
	}
}

// TestSIFMA checks CPR <-> SMM against the SIFMA Uniform Practices formula
// SMM = 1 − (1 − CPR)^(1/12), with values computed by hand:
// 0.9^(1/12) = exp(ln 0.9 / 12) = exp(−0.0087800440) = 0.9912583892, so 10% CPR is 0.8741611%
// SMM; 0.94^(1/12) = exp(−0.0051562836) = 0.9948569872, so 6% CPR (the plateau of 100% PSA)
// is 0.5143013% SMM.
func TestSIFMA(t *testing.T) {
	near(t, "SMM(10% CPR)", CPRToSMM(0.10), 0.0087416108, 1e-9)
	near(t, "SMM(6% CPR)", CPRToSMM(0.06), 0.0051430128, 1e-9)
	near(t, "CPR(1% SMM)", SMMToCPR(0.01), 1-math.Pow(0.99, 12), 1e-15) // 11.3615%
	near(t, "CPR(1% SMM) by hand", SMMToCPR(0.01), 0.1136151, 1e-7)
	for _, c := range []float64{0, 0.01, 0.2, 0.5, 0.99} {
		near(t, "round trip", SMMToCPR(CPRToSMM(c)), c, 1e-12)
	}
}

func TestXIRR(t *testing.T) {
	d0 := date.Of(2024, 1, 1)
	// −100 now, +110 in 365 days: 10%.
	r, err := XIRR([]CashFlow{{d0, -100}, {d0.AddDays(365), 110}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "one-year XIRR", r, 0.10, 1e-10)
	// −100, +121 after 730 days: 10% a year compounded annually.
	r, _ = XIRR([]CashFlow{{d0, -100}, {d0.AddDays(730), 121}})
	near(t, "two-year XIRR", r, 0.10, 1e-10)
	// Excel's XIRR documentation example: −10000 on 2008-01-01, 2750 on 2008-03-01, 4250 on
	// 2008-10-30, 3250 on 2009-02-15, 2750 on 2009-04-01 gives 0.373362535.
	r, _ = XIRR([]CashFlow{{date.Of(2008, 1, 1), -10000}, {date.Of(2008, 3, 1), 2750}, {date.Of(2008, 10, 30), 4250},
		{date.Of(2009, 2, 15), 3250}, {date.Of(2009, 4, 1), 2750}})
	near(t, "Excel XIRR example", r, 0.373362535, 1e-8)
	if _, err := XIRR([]CashFlow{{d0, 100}, {d0.AddDays(10), 5}}); err == nil {
		t.Error("no sign change accepted")
	}
	// A loss: −100, +50 after a year is −50%.
	r, _ = XIRR([]CashFlow{{d0, -100}, {d0.AddDays(365), 50}})
	near(t, "loss", r, -0.5, 1e-10)
}

func TestPriceYieldDuration(t *testing.T) {
	s := date.Of(2024, 1, 1)
	// A 2-year 5% annual bond of 100 face, at 5% yield, prices at par; Macaulay duration is
	// (5/1.05 + 2·105/1.05²)/100 = (4.7619048 + 190.4761905)/100 = 1.9523810 years; modified
	// 1.9523810/1.05 = 1.8594104.
	flows := []CashFlow{{s.AddDays(365), 5}, {s.AddDays(730), 105}}
	near(t, "price at 5%", PriceAtYield(s, flows, 100, 0.05), 100, 1e-9)
	mac, mod := Duration(s, flows, 0.05)
	near(t, "Macaulay", mac, 1.9523810, 1e-7)
	near(t, "modified", mod, 1.8594104, 1e-7)
	y, err := YieldAtPrice(s, flows, 100, 98)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "price back from yield", PriceAtYield(s, flows, 100, y), 98, 1e-8)
	// WAL: 60 of principal after 1 year and 40 after 2 years = 1.4 years.
	near(t, "WAL", WAL(s, []CashFlow{{s.AddDays(365), 60}, {s.AddDays(730), 40}}), 1.4, 1e-12)
}

func TestYearFraction(t *testing.T) {
	s, e := date.Of(2023, 12, 15), date.Of(2024, 3, 15)
	for _, c := range []struct {
		dc   string
		want money.Rate
	}{
		{"ACT/365F", money.MustRate(91, 365)},
		{"ACT/360", money.MustRate(91, 360)},
		{"30/360", money.MustRate(90, 360)},
		// 17 days of 2023 over 365 + 74 days of 2024 over 366
		{"ACT/ACT", mustAdd(money.MustRate(17, 365), money.MustRate(74, 366))},
	} {
		got, err := YearFraction(c.dc, s, e)
		if err != nil || got.Cmp(c.want) != 0 {
			t.Errorf("%s: %v %v, want %v", c.dc, got, err, c.want)
		}
		// The float day counts of package date agree.
		near(t, c.dc+" vs package date", got.Float(), dayCount(c.dc).YearFraction(s, e), 1e-12)
	}
}

func mustAdd(a, b money.Rate) money.Rate { r, _ := a.Add(b); return r }

func dayCount(n string) date.DayCount { return date.DayCountByName(n) }

// TestInterestRounding: the senior's first interest is 188,000,000 × 3% × 61/365 =
// 942,575.342... rounded HALF_UP to 942,575.34, as the golden table shows.
func TestInterestRounding(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	r, err := d.Run(Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Periods[0].Tranches[0].InterestDue.String(); got != "942575.34" {
		t.Errorf("first senior interest %s", got)
	}
	// Every collection is accounted for: the pool's cash plus the reserve's funding equals the
	// payments out plus the closing balances.
	var out int64
	for _, l := range r.Statement {
		if l.From != "pool" && l.From != "issuance" && l.From != "originator" && !isAccount(d, l.To) {
			out += l.Amount.Minor()
		}
	}
	if out != r.CashOut.Minor() {
		t.Errorf("statement pays out %d, result says %d", out, r.CashOut.Minor())
	}
}

func isAccount(d *Deal, name string) bool { return d.accountIndex(name) >= 0 }
