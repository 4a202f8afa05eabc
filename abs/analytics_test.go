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

// TestYearFractionEdges checks the day counts of abs.md ("ACT/365F by default (also ACT/360,
// 30/360, ACT/ACT)") at their edges: a leap day, the 31st of a month under 30/360 Bond Basis, a
// year end under ACT/ACT ISDA (a day of 2023 is 1/365, a day of 2024 is 1/366) and an empty
// period.
func TestYearFractionEdges(t *testing.T) {
	for _, c := range []struct {
		dc, s, e string
		num, den int64
	}{
		{"ACT/365F", "2024-02-28", "2024-03-01", 2, 365},
		{"ACT/365F", "2024-01-01", "2025-01-01", 366, 365},
		{"ACT/360", "2024-02-28", "2024-03-01", 2, 360},
		{"30/360", "2024-01-31", "2024-02-29", 29, 360}, // start day 31 becomes 30
		{"30/360", "2024-01-30", "2024-03-31", 60, 360}, // end day 31 becomes 30 after a start on the 30th
		{"30/360", "2024-01-29", "2024-03-31", 62, 360}, // ... but not after a start on the 29th
		{"30/360", "2024-02-29", "2024-03-31", 32, 360}, // no end-of-February rule (Bond Basis)
		{"ACT/ACT", "2023-12-31", "2024-01-01", 1, 365},
		{"ACT/ACT", "2024-12-31", "2025-01-01", 1, 366},
		{"ACT/ACT", "2024-01-01", "2025-01-01", 1, 1},
		{"ACT/ACT", "2024-03-26", "2024-03-26", 0, 1},
	} {
		s, _ := date.ParseStrict(c.s)
		e, _ := date.ParseStrict(c.e)
		got, err := YearFraction(c.dc, s, e)
		if err != nil || got.Cmp(money.MustRate(c.num, c.den)) != 0 {
			t.Errorf("%s %s..%s = %v (%v), want %d/%d", c.dc, c.s, c.e, got, err, c.num, c.den)
		}
	}
	if _, err := YearFraction("ACT/364", date.Of(2024, 1, 1), date.Of(2024, 2, 1)); err == nil {
		t.Error("an unknown day count was accepted")
	}
}

// TestDefaultDayCount: abs.md, the senior's coupon is "ACT/365F" and ACT/365F is the default; a
// tranche with no day_count accrues actual days over 365 (26 days from closing 2024-02-29 to
// 2024-03-26, a leap year, is 26/365, not 26/366).
func TestDefaultDayCount(t *testing.T) {
	d := compileDoc(t, miniDoc())
	if want := money.MustRate(26, 36500); d.accr[0][0].Cmp(want) != 0 {
		t.Errorf("first accrual factor %v, want %v", d.accr[0][0], want)
	}
}

// TestInterestHalfUp: abs.md, "round HALF_UP to 0.01 where each amount is computed (interest,
// ...)". With 73 days at 10% (1/50 of the balance) a balance of 1,000,000.25 accrues exactly
// 20,000.005: HALF_UP gives 20,000.01 (half-even would give 20,000.00); a fen below and above
// round to the nearest fen.
func TestInterestHalfUp(t *testing.T) {
	for _, c := range []struct{ balance, want string }{
		{"1000000.24", "20000.00"}, // 20,000.0048
		{"1000000.25", "20000.01"}, // 20,000.005
		{"1000000.26", "20000.01"}, // 20,000.0052
		{"1000000.75", "20000.02"}, // 20,000.015
	} {
		doc := miniDoc()
		doc.Dates.Cutoff, doc.Dates.Closing = "2023-12-31", "2024-01-13" // 73 days to 2024-03-26
		doc.Tranches[0].Balance, doc.Tranches[0].Coupon = c.balance, "10%"
		r, err := compileDoc(t, doc).Run(Scenario{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Periods[0].Tranches[0].InterestDue.String(); got != c.want {
			t.Errorf("balance %s: first interest %s, want %s", c.balance, got, c.want)
		}
	}
}

// TestFeeHalfUp: a base fee of 1% of collections, half deferred (abs.md, "a base fee (often % of
// collections, sometimes partly deferred ...)"), each amount rounded HALF_UP where it is
// computed: 1% of 2.50 is 2.5 fen, accrued as 0.03; half of that, 1.5 fen, is deferred as 0.02;
// 0.01 is due now.
func TestFeeHalfUp(t *testing.T) {
	for _, c := range []struct{ coll, accrued, deferred, paid string }{
		{"2.49", "0.02", "0.01", "0.01"}, // 2.49 fen; 1 fen deferred
		{"2.50", "0.03", "0.02", "0.01"}, // 2.5 fen; 1.5 fen deferred
		{"2.51", "0.03", "0.02", "0.01"}, // 2.51 fen; 1.5 fen deferred
		{"3.50", "0.04", "0.02", "0.02"}, // 3.5 fen; 2 fen deferred
	} {
		doc := miniDoc()
		doc.Fees = []Fee{{Name: "servicer", Basis: "collections", Rate: "1%", Deferred: "50%"}}
		doc.Waterfalls["normal"] = append([]Step{{Action: "pay_fee", Fees: []string{"servicer"}}}, doc.Waterfalls["normal"]...)
		r, err := compileDoc(t, doc).Run(Scenario{Collections: flows(t, "2024-02-15", c.coll)})
		if err != nil {
			t.Fatal(err)
		}
		f := r.Periods[0].Fees[0]
		if f.Accrued.String() != c.accrued || f.Deferred.String() != c.deferred || f.Paid.String() != c.paid || !f.Unpaid.IsZero() {
			t.Errorf("collections %s: accrued %s deferred %s paid %s unpaid %s, want %s %s %s 0.00",
				c.coll, f.Accrued, f.Deferred, f.Paid, f.Unpaid, c.accrued, c.deferred, c.paid)
		}
	}
}

// TestInterestArrears: abs.md, "accrue and pay interest (with arrears)": when the cash runs out
// inside the interest step the unpaid fen is carried to the next date, with no interest on it,
// and nothing reaches the later principal step.
func TestInterestArrears(t *testing.T) {
	d := compileDoc(t, miniDoc())
	for _, c := range []struct {
		coll                            string
		paid, short, prin, due2, short2 string
	}{
		{"0.25", "0.25", "0.01", "0.00", "0.32", "0.32"}, // one fen short: 0.01 + 0.31 due next
		{"0.26", "0.26", "0.00", "0.00", "0.31", "0.31"}, // exactly the interest
		{"0.27", "0.26", "0.00", "0.01", "0.31", "0.31"}, // one fen to principal
	} {
		r, err := d.Run(Scenario{Collections: flows(t, "2024-02-15", c.coll)})
		if err != nil {
			t.Fatal(err)
		}
		p1, p2 := r.Periods[0].Tranches[0], r.Periods[1].Tranches[0]
		if p1.InterestDue.String() != "0.26" || p1.InterestPaid.String() != c.paid || p1.InterestShortfall.String() != c.short || p1.PrincipalPaid.String() != c.prin {
			t.Errorf("collections %s, period 1: %+v", c.coll, p1)
		}
		if p2.InterestDue.String() != c.due2 || p2.InterestShortfall.String() != c.short2 {
			t.Errorf("collections %s, period 2: due %s shortfall %s, want %s %s", c.coll, p2.InterestDue, p2.InterestShortfall, c.due2, c.short2)
		}
	}
}
