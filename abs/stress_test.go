package abs

import (
	"strings"
	"testing"

	"reclaim/money"
)

// TestBreakeven solves the example deal's break-even haircut per delay and checks the answer at
// fen precision: the senior passes at the solved haircut and fails when one more fen of
// collections is lost. Longer delays cannot allow a larger haircut here.
func TestBreakeven(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	bs, err := d.Breakeven([]int{0, 1, 2, 4}, money.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(d, false)
	prev := money.MustRate(1, 1)
	for _, b := range bs {
		if !b.PassesBase {
			// With two empty periods the reserve (about 1.5 periods of senior interest and
			// fees) runs out: the senior misses interest whatever the haircut.
			if b.Delay < 2 || !b.Haircut.IsZero() {
				t.Errorf("%v", b)
			}
			prev = b.Haircut
			continue
		}
		if b.Haircut.Sign() <= 0 || b.Haircut.Cmp(money.MustRate(1, 1)) >= 0 {
			t.Fatalf("%v", b)
		}
		if b.Haircut.Cmp(prev) > 0 {
			t.Errorf("delay %d allows more haircut (%s) than a shorter delay (%s)", b.Delay, b.Percent, prev.Percent(6))
		}
		prev = b.Haircut
		base := d.collections(Scenario{Delay: b.Delay})
		total := b.Collections.Minor()
		lost := total - b.Kept.Minor()
		for _, c := range []struct {
			lost int64
			want bool
		}{{lost, true}, {lost + 1, false}} {
			coll := make([]int64, len(base))
			for k, x := range base {
				a, _ := money.New(x, "CNY").MulRate(money.MustRate(total-c.lost, total), money.HalfUp)
				coll[k] = a.Minor()
			}
			if ok, err := r.quiet(coll); err != nil || ok != c.want {
				t.Errorf("delay %d, %d fen lost: pass %v (%v), want %v", b.Delay, c.lost, ok, err, c.want)
			}
		}
		// The run at the break-even haircut, recorded, shows no senior loss.
		res, err := d.Run(Scenario{Delay: b.Delay, Haircut: b.Haircut})
		if err != nil || !res.Tranches[0].Loss.IsZero() {
			t.Errorf("delay %d at break-even: %v %+v", b.Delay, err, res.Tranches[0])
		}
		t.Logf("%v in %d runs", b, b.Steps)
	}
}

func TestGrid(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	hs := []money.Rate{{}, money.MustRate(1, 10), money.MustRate(3, 10), money.MustRate(1, 2)}
	cells, err := d.Grid(hs, []int{0, 2}, money.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 8 {
		t.Fatalf("%d cells", len(cells))
	}
	if !cells[0].SeniorPass || cells[0].Loss[0] != 0 || cells[7].SeniorPass || cells[7].Loss[0] <= 0 {
		t.Errorf("grid corners: %+v %+v", cells[0], cells[7])
	}
	for i := 2; i < len(cells); i++ { // more haircut, same delay: no less loss
		if cells[i].Loss[0] < cells[i-2].Loss[0] {
			t.Errorf("loss falls with the haircut: %+v then %+v", cells[i-2], cells[i])
		}
	}
}

// TestCleanUpCall: with the call exercised, the originator buys the pool back on the first
// payment date the tranches are down to 10% of their issued balance; the proceeds repay every
// tranche and the deal ends that day.
func TestCleanUpCall(t *testing.T) {
	doc := exampleDoc(t)
	doc.CleanUpCall.Exercise = true
	d, err := Compile(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Run(Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	last := r.Periods[len(r.Periods)-1]
	if last.CallProceeds.Sign() <= 0 || len(r.Periods) >= 16 {
		t.Fatalf("no call: %d periods, proceeds %s", len(r.Periods), last.CallProceeds)
	}
	var issued, before int64
	for i, tr := range r.Tranches {
		issued += tr.Issued.Minor()
		before += r.Periods[len(r.Periods)-2].Tranches[i].Closing.Minor()
		if !tr.Outstanding.IsZero() {
			t.Errorf("tranche %s still has %s after the call", tr.Name, tr.Outstanding)
		}
	}
	if before*10 > issued {
		t.Errorf("called although the balance before (%d) was above 10%% of %d", before, issued)
	}
	found := false
	for _, l := range r.Statement {
		found = found || (l.From == "originator" && l.Amount == last.CallProceeds)
	}
	if !found {
		t.Error("no statement line for the call proceeds")
	}
}

// withEOD adds abs.md's event of default to miniDoc ("senior interest unpaid on a payment date;
// principal unpaid at legal maturity ... switches to a post-default waterfall").
func withEOD(doc *Document) *Document {
	doc.Triggers = []Trigger{
		{Name: "eod_interest", Kind: "interest_shortfall", Tranche: "A", Status: "post_default"},
		{Name: "eod_maturity", Kind: "principal_at_maturity", Tranche: "A", Status: "post_default"},
	}
	doc.Waterfalls["post_default"] = doc.Waterfalls["normal"]
	return doc
}

// testOf returns the named trigger's test on a payment date (nil when it was not tested).
func testOf(r *Result, trigger string, period int) *TriggerTest {
	for i, tt := range r.Triggers {
		if tt.Trigger == trigger && tt.Period == period {
			return &r.Triggers[i]
		}
	}
	return nil
}

// TestEventOfDefaultInterest: one fen of senior interest unpaid after the distribution is an
// event of default; the interest paid exactly, or with a fen to spare, is not. The deal switches
// to its post-default waterfall from the next payment date, with the reason logged.
func TestEventOfDefaultInterest(t *testing.T) {
	d := compileDoc(t, withEOD(miniDoc()))
	for _, c := range []struct {
		coll string // period 1's collections; A's interest due is 0.26
		hit  bool
	}{{"0.25", true}, {"0.26", false}, {"0.27", false}} {
		// Periods 2 and 3 collect enough to pay their interest whatever happened in period 1.
		r, err := d.Run(Scenario{Collections: flows(t, "2024-02-15", c.coll, "2024-03-15", "1.00", "2024-04-15", "1.00")})
		if err != nil {
			t.Fatal(err)
		}
		tt := testOf(r, "eod_interest", 1)
		if tt == nil || tt.When != "after" || tt.Hit != c.hit || tt.InForce != c.hit {
			t.Errorf("collections %s: test %+v, want hit %v after distribution", c.coll, tt, c.hit)
		}
		if r.Periods[0].Status != "normal" {
			t.Errorf("collections %s: period 1 ran %s", c.coll, r.Periods[0].Status)
		}
		// The principal left at the legal maturity is a later event of default: only period 1's
		// changes concern the interest.
		var changes []StatusChange
		for _, sc := range r.StatusChanges {
			if sc.Period == 1 {
				changes = append(changes, sc)
			}
		}
		want := "normal"
		if c.hit {
			want = "post_default"
			if len(changes) != 1 || changes[0].To != "post_default" || !strings.Contains(changes[0].Reason, "eod_interest") {
				t.Errorf("collections %s: status changes %+v", c.coll, changes)
			}
		} else if len(changes) != 0 {
			t.Errorf("collections %s: status changes %+v", c.coll, changes)
		}
		if r.Periods[1].Status != want {
			t.Errorf("collections %s: period 2 ran %s, want %s", c.coll, r.Periods[1].Status, want)
		}
	}
}

// TestEventOfDefaultMaturity: on a one-date deal (first payment = legal maturity, 26 fen of
// interest), one fen of principal unpaid at the legal maturity is an event of default and a
// loss of 0.01; the balance repaid exactly, or with a fen of residual, is neither.
func TestEventOfDefaultMaturity(t *testing.T) {
	doc := withEOD(miniDoc())
	doc.Dates.LegalMaturity = doc.Dates.FirstPayment
	d := compileDoc(t, doc)
	for _, c := range []struct {
		coll, loss string
		hit        bool
	}{{"365.25", "0.01", true}, {"365.26", "0.00", false}, {"365.27", "0.00", false}} {
		r, err := d.Run(Scenario{Collections: flows(t, "2024-02-15", c.coll)})
		if err != nil {
			t.Fatal(err)
		}
		tt := testOf(r, "eod_maturity", 1)
		if tt == nil || tt.Hit != c.hit {
			t.Errorf("collections %s: test %+v, want hit %v", c.coll, tt, c.hit)
		}
		if got := r.Tranches[0].Loss.String(); got != c.loss {
			t.Errorf("collections %s: loss %s, want %s", c.coll, got, c.loss)
		}
		if c.hit != (r.FinalStatus == "post_default") {
			t.Errorf("collections %s: final status %s", c.coll, r.FinalStatus)
		}
	}
}

// TestCumulativeRecoveryThreshold: abs.md's "recovery-performance tests (cumulative recoveries
// vs forecast)"; docs/abs-deal.md: hit when collections / forecast is below the threshold, so
// exactly 90% of the 100.00 forecast passes and a fen less fails. abs.md's run loop tests such
// triggers "before distribution" and then chooses "the waterfall by status".
func TestCumulativeRecoveryThreshold(t *testing.T) {
	doc := miniDoc()
	doc.Triggers = []Trigger{{Name: "perf", Kind: "cumulative_recovery", Threshold: "90%", Status: "lockout"}}
	doc.Waterfalls["lockout"] = doc.Waterfalls["normal"]
	d := compileDoc(t, doc)
	for _, c := range []struct {
		coll string
		hit  bool
	}{{"89.99", true}, {"90.00", false}, {"90.01", false}} {
		r, err := d.Run(Scenario{Collections: flows(t, "2024-02-15", c.coll)})
		if err != nil {
			t.Fatal(err)
		}
		tt := testOf(r, "perf", 1)
		if tt == nil || tt.When != "before" || tt.Hit != c.hit {
			t.Errorf("collections %s: test %+v, want hit %v before distribution", c.coll, tt, c.hit)
		}
		// Tested before the distribution, a hit switches the waterfall of the same payment date.
		want := "normal"
		if c.hit {
			want = "lockout"
		}
		if r.Periods[0].Status != want {
			t.Errorf("collections %s: period 1 ran %s, want %s", c.coll, r.Periods[0].Status, want)
		}
	}
}

// TestReserveTarget: abs.md, "Liquidity reserve funded at closing, sized like 1.5 x next
// period's senior interest + fees", the target rounded HALF_UP. On 2024-03-26 the next period
// has 31 days: 31 fen of interest on 365.00, × 1.5 = 46.5 fen, a target of 0.47. On 2024-04-26
// (after 9.00 of principal) the next 30 days accrue 29.26 fen on 356.00, rounded to 29, × 1.5 =
// 43.5, a target of 0.44: 0.03 is released. On the legal maturity there is no next period: the target
// is zero and the reserve is released in full.
func TestReserveTarget(t *testing.T) {
	doc := miniDoc()
	doc.Accounts = append(doc.Accounts, Account{Name: "reserve", Kind: "reserve", Initial: "0.10",
		Target: &ReserveTarget{Multiple: "1.5", Tranches: []string{"A"}}})
	doc.Waterfalls["normal"] = []Step{
		{Action: "pay_interest", Tranches: []string{"A"}, From: []string{"collection", "reserve"}},
		{Action: "top_up_reserve", Account: "reserve"},
		{Action: "release_reserve", Account: "reserve"},
		{Action: "pay_principal", Tranches: []string{"A"}, Mode: "pass_through"},
		{Action: "split_residual", Shares: []Share{{Tranche: "A", Pct: "100%"}}},
	}
	r, err := compileDoc(t, doc).Run(Scenario{Collections: flows(t, "2024-02-15", "9.63", "2024-03-15", "1.00", "2024-04-15", "1.00")})
	if err != nil {
		t.Fatal(err)
	}
	if l := r.Statement[0]; l.From != "issuance" || l.To != "reserve" || l.Amount.String() != "0.10" || l.Period != 1 {
		t.Errorf("first line %+v, want the reserve funded at closing", l)
	}
	var got []string
	for _, p := range r.Periods {
		got = append(got, p.Accounts[1].Closing.String())
	}
	if strings.Join(got, " ") != "0.47 0.44 0.00" {
		t.Errorf("reserve closing balances %v, want 0.47 0.44 0.00", got)
	}
	// Period 1: 9.63 = 0.26 interest + 0.37 topping the 0.10 funded at closing up to 0.47 + 9.00
	// principal.
	if p := r.Periods[0].Tranches[0].PrincipalPaid.String(); p != "9.00" {
		t.Errorf("period 1 principal %s, want 9.00", p)
	}
	found := false
	for _, l := range r.Statement {
		found = found || (l.Period == 2 && l.From == "reserve" && l.To == "collection" && l.Amount.String() == "0.03")
	}
	if !found {
		t.Error("no release of 0.03 above the target on 2024-04-26")
	}
}

// TestResidualSplitRounding: abs.md, the incentive fee is "a split such as 20/80 of the
// residual", each share rounded HALF_UP and the last share taking the remainder, so the parts add
// up to the cash left.
func TestResidualSplitRounding(t *testing.T) {
	for _, c := range []struct {
		first, residual, fee, holders string
	}{
		{"50%", "0.03", "0.02", "0.01"}, // 1.5 fen rounds up; the last share gets the rest
		{"50%", "0.02", "0.01", "0.01"},
		{"20%", "0.02", "0.00", "0.02"}, // 0.4 fen rounds down
		{"20%", "0.03", "0.01", "0.02"}, // 0.6 fen rounds up
		{"20%", "0.05", "0.01", "0.04"},
	} {
		doc := miniDoc()
		doc.Dates.LegalMaturity = doc.Dates.FirstPayment
		doc.Fees = []Fee{{Name: "incentive", Basis: "residual"}}
		doc.Waterfalls["normal"][2].Shares = []Share{{Fee: "incentive", Pct: c.first}, {Tranche: "A", Pct: "100%"}}
		rest, _ := money.MustRate(1, 1).Sub(mustRate(t, c.first))
		doc.Waterfalls["normal"][2].Shares[1].Pct = rest.String()
		res, _ := money.ParseStrict(c.residual, "CNY")
		r, err := compileDoc(t, doc).Run(Scenario{Collections: flows(t, "2024-02-15", money.New(36526+res.Minor(), "CNY").String())})
		if err != nil {
			t.Fatal(err)
		}
		p := r.Periods[0]
		if p.Fees[0].Paid.String() != c.fee || p.Tranches[0].ResidualPaid.String() != c.holders {
			t.Errorf("%s of %s: incentive %s, holders %s, want %s and %s", c.first, c.residual, p.Fees[0].Paid, p.Tranches[0].ResidualPaid, c.fee, c.holders)
		}
	}
}

// TestRunStops: abs.md, "stop at legal maturity or when everything is paid and the pool is
// exhausted": a deal repaid on its first date with no later cash stops there; cash still to come
// in a later period keeps it running to that period (and the residual goes to the holders).
func TestRunStops(t *testing.T) {
	d := compileDoc(t, miniDoc())
	for _, c := range []struct {
		flows   []Flow
		periods int
	}{
		{flows(t, "2024-02-15", "365.26"), 1},
		{flows(t, "2024-02-15", "365.25"), 3}, // a fen of principal still owed: runs to the legal maturity
		{flows(t, "2024-02-15", "365.26", "2024-04-15", "1.00"), 3},
		{flows(t, "2024-02-15", "365.26", "2024-03-15", "1.00"), 2},
	} {
		r, err := d.Run(Scenario{Collections: c.flows})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Periods) != c.periods {
			t.Errorf("%v: %d periods, want %d", c.flows, len(r.Periods), c.periods)
		}
	}
}

// TestProRataLimit: abs.md, "pay fee (sequential or pro rata, with a limit)". Two fixed fees of
// 0.10 and 0.20 paid pro rata within a limit of 0.10 split it by the amounts due, largest
// remainder (0.033 and 0.067: 0.03 and 0.07); at a limit of 0.30 both are paid; at 0.31 the
// extra fen stays for the next step. Sequentially within 0.10, the first fee takes it all.
func TestProRataLimit(t *testing.T) {
	for _, c := range []struct {
		mode, limit, a, b string
	}{
		{"pro_rata", "0.10", "0.03", "0.07"},
		{"pro_rata", "0.29", "0.10", "0.19"}, // 0.0967 and 0.1933: the fen left goes to the larger remainder
		{"pro_rata", "0.30", "0.10", "0.20"},
		{"pro_rata", "0.31", "0.10", "0.20"},
		{"sequential", "0.10", "0.10", "0.00"},
		{"sequential", "0.29", "0.10", "0.19"},
	} {
		doc := miniDoc()
		doc.Fees = []Fee{{Name: "a", Basis: "fixed", Amount: "0.10"}, {Name: "b", Basis: "fixed", Amount: "0.20"}}
		doc.Waterfalls["normal"] = append([]Step{{Action: "pay_fee", Fees: []string{"a", "b"}, Mode: c.mode, Limit: c.limit}}, doc.Waterfalls["normal"]...)
		r, err := compileDoc(t, doc).Run(Scenario{Collections: flows(t, "2024-02-15", "10.00")})
		if err != nil {
			t.Fatal(err)
		}
		fa, fb := r.Periods[0].Fees[0], r.Periods[0].Fees[1]
		if fa.Paid.String() != c.a || fb.Paid.String() != c.b {
			t.Errorf("%s within %s: paid %s and %s, want %s and %s", c.mode, c.limit, fa.Paid, fb.Paid, c.a, c.b)
		}
		if fa.Paid.Minor()+fa.Unpaid.Minor() != 10 || fb.Paid.Minor()+fb.Unpaid.Minor() != 20 {
			t.Errorf("%s within %s: unpaid %s and %s do not carry the rest", c.mode, c.limit, fa.Unpaid, fb.Unpaid)
		}
	}
}
