package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/abs"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tlog/verify"
	"reclaim/valuation"
)

func loadDeal(t testing.TB) *abs.Deal {
	t.Helper()
	b, err := os.ReadFile("../../docs/examples/deal-npl-2tranche.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := abs.Load(b, abs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func hx(c byte) string { return strings.Repeat(string([]byte{c}), 64) }

// poolLog is a pool's log: opening, two boarded loans, collections in the first two windows
// (2016-05-01..2016-06-30, 2016-07-01..2016-09-30), a cost and a waiver.
func poolLog(d *abs.Deal) []verify.Entry {
	h := func(id, eff string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: eff} }
	h2 := func(id, eff string) verify.Header { x := h(id, eff); x.V = 2; return x }
	coll := func(id, eff, loan, ch string, a int64) verify.Entry {
		return verify.LoanCollection{Header: h(id, eff), Loan: loan, Amount: verify.Amount(a), Principal: verify.Amount(a), Channel: ch, BankTxn: hx('c')}
	}
	return []verify.Entry{
		verify.PoolOpened{Header: h("open", "2016-04-30"), Name: "HC", Cutoff: "2016-04-30", Currency: "CNY", WaterfallHash: d.Hash()},
		verify.LoanBoarded{Header: h2("b1", "2016-04-30"), Loan: "L1", Claim: 150000000000, Principal: 150000000000, Commitment: hx('b'),
			DPD: 400, Product: "credit_card", Region: "440305", Grade: "loss"},
		verify.LoanBoarded{Header: h2("b2", "2016-04-30"), Loan: "L2", Claim: 60000000000, Principal: 60000000000, Commitment: hx('b'),
			DPD: 100, Product: "consumer_loan", Region: "310101", Grade: "doubtful"},
		coll("c1", "2016-05-20", "L1", verify.ChannelBankTransfer, 1500000000),
		coll("c2", "2016-06-15", "L2", verify.ChannelCourt, 800000000),
		verify.DealCost{Header: h("k1", "2016-06-16"), Kind: verify.CostDisposal, Loan: "L2", Channel: verify.ChannelCourt, Amount: 30000000, Memo: "court fee"},
		verify.DealCost{Header: h("w1", "2016-06-17"), Kind: verify.CostWaiver, Loan: "L2", Amount: 5000000, Memo: "settlement"},
		verify.DealCollections{Header: h("s1", "2016-06-30"), Amount: 100000000, Line: 2, FileHash: hx('f')},
		coll("c3", "2016-08-02", "L1", verify.ChannelAgency, 2000000000),
	}
}

// close builds period p's report from the log, appends its entries, and returns the report and
// its document.
func closePeriod(t *testing.T, d *abs.Deal, log []verify.Entry, p int) ([]verify.Entry, *Report, []byte) {
	t.Helper()
	st, err := StateFromEntries(log)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := Build(Input{Deal: d, State: st, Period: p, Origin: "example/P1", LedgerSize: int64(len(log))})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	_, wins, err := Scenario(d, st, p)
	if err != nil {
		t.Fatal(err)
	}
	es, err := rep.Entries(doc, wins[p-1])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := verify.ParseEntry(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		log = append(log, back)
	}
	if got := int64(len(log) - 1); got != rep.Ledger.ReportIndex {
		t.Fatalf("report entry at %d, the report says %d", got, rep.Ledger.ReportIndex)
	}
	return log, rep, doc
}

// TestReportAgreesWithVerifier closes two periods and checks that the verifier, reading only the
// log, recomputes every figure of both reports and finds the published documents' lines.
func TestReportAgreesWithVerifier(t *testing.T) {
	d := loadDeal(t)
	log := poolLog(d)
	log, r1, doc1 := closePeriod(t, d, log, 1)
	log, r2, doc2 := closePeriod(t, d, log, 2)
	res, bal := verify.DealReports(log)
	if len(res) != 2 {
		t.Fatalf("%d reports checked", len(res))
	}
	for _, r := range res {
		if len(r.Mismatches) > 0 {
			t.Errorf("report at %d: %+v", r.Index, r.Mismatches)
		}
	}
	for _, doc := range [][]byte{doc1, doc2} {
		ms, err := verify.CheckDealReportDoc(log, doc)
		if err != nil || len(ms) > 0 {
			t.Errorf("%v %+v", err, ms)
		}
	}
	// Period 1: gross 15,000,000 + 8,000,000 + 1,000,000 (servicer), costs 300,000.
	if r1.PoolCash.Gross.String() != "24000000.00" || r1.PoolCash.Costs.String() != "300000.00" || r1.PoolCash.Net.String() != "23700000.00" {
		t.Errorf("period 1 pool cash %+v", r1.PoolCash)
	}
	if r1.Recoveries.PeriodRatio != "94.97%" || r1.Recoveries.PeriodForecast.String() != "24955000.00" {
		t.Errorf("recoveries %+v", r1.Recoveries)
	}
	if ce := r1.Tranches[0].CreditEnhancement; !strings.HasSuffix(ce, "%") || ce < "1" {
		t.Errorf("senior credit enhancement %s", ce)
	}
	if r1.PoolCash.Waivers.String() != "50000.00" {
		t.Errorf("waivers %s", r1.PoolCash.Waivers)
	}
	// Claim: 2,100,000,000 - 23,000,000 collected on loans - 50,000 waived.
	if r1.PoolCash.ClosingClaim.String() != "2076950000.00" || r1.PoolCash.OpeningClaim.String() != "2100000000.00" {
		t.Errorf("claims %s %s", r1.PoolCash.OpeningClaim, r1.PoolCash.ClosingClaim)
	}
	if r2.PoolCash.Gross.String() != "20000000.00" || r2.Period != 2 {
		t.Errorf("period 2 %+v", r2.PoolCash)
	}
	// Every report field abs.md names is present.
	var m map[string]any
	json.Unmarshal(doc1, &m)
	for _, k := range []string{"tranches", "pool_cash", "by_channel", "by_region", "by_dpd_bucket", "by_grade", "recoveries", "accounts",
		"distribution", "triggers", "ledger", "fees"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report has no %q", k)
		}
	}
	tr := m["tranches"].([]any)[0].(map[string]any)
	for _, k := range []string{"opening_balance", "closing_balance", "factor", "interest_due", "interest_paid", "interest_shortfall", "principal_paid", "credit_enhancement"} {
		if _, ok := tr[k]; !ok {
			t.Errorf("tranche line has no %q", k)
		}
	}
	reg := fmt.Sprint(r1.ByRegion)
	if !strings.Contains(reg, "440000") || !strings.Contains(reg, "310000") || !strings.Contains(reg, "unallocated") {
		t.Errorf("by region %s", reg)
	}
	if r1.Accounts[0].Name != "collection" || len(r1.Accounts[0].Lines) == 0 {
		t.Errorf("accounts %+v", r1.Accounts)
	}
	// Tampering with a logged line after the fact is caught.
	for i, e := range log {
		if p, ok := e.(verify.DealPayment); ok && p.Period == 2 && p.From != "pool" {
			p.Amount++
			log[i] = p
			break
		}
	}
	res, _ = verify.DealReports(log)
	if len(res[1].Mismatches) == 0 {
		t.Error("a changed distribution line was not detected")
	}
	_ = bal
}

func TestRenderings(t *testing.T) {
	d := loadDeal(t)
	_, rep, _ := closePeriod(t, d, poolLog(d), 1)
	var csvb, htmlb bytes.Buffer
	if err := rep.WriteCSV(&csvb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"section,row,field,value", "tranche,A,credit_enhancement,", "pool,,collections_net,23700000.00",
		"by_channel,court,costs,300000.00", "distribution,1,from,issuance", "trigger,1,trigger,eod_interest", "ledger,,report_event,deal-report-1"} {
		if !strings.Contains(csvb.String(), want) {
			t.Errorf("CSV lacks %q", want)
		}
	}
	if err := rep.WriteHTML(&htmlb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "<polyline", "Trigger tests", "Distribution", "credit enhancement", "23700000.00"} {
		if !strings.Contains(htmlb.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestMonitorAlerts(t *testing.T) {
	d := loadDeal(t)
	log := poolLog(d)
	st, _ := StateFromEntries(log)
	snap, err := Monitor(d, st, date.Of(2016, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Period != 2 || len(snap.Tranches) != 2 || len(snap.Reserves) != 1 {
		t.Fatalf("snapshot %+v", snap)
	}
	if snap.Curve[0].Actual == nil || snap.Curve[0].Actual.String() != "23700000.00" || snap.Curve[3].Actual != nil {
		t.Errorf("curve %+v", snap.Curve[:4])
	}
	if len(snap.Alerts) != 0 {
		t.Errorf("alerts on a pool collecting close to its forecast: %+v", snap.Alerts)
	}
	// Collections far below the forecast (one small collection): the senior interest is paid
	// from the reserve, then not at all: alerts.
	st, _ = StateFromEntries(log[:4])
	st.Collections[0].Amount = 10000000
	snap, err = Monitor(d, st, date.Of(2016, 10, 15))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range snap.Alerts {
		if a.Trigger == "eod_maturity" || a.Trigger == "eod_interest" {
			found = true
		}
	}
	if !found {
		t.Errorf("no alert on a pool collecting a fraction of its forecast: %+v", snap.Triggers)
	}
	// On the forecast itself nothing is near.
	full := []verify.Entry{log[0], log[1], log[2]}
	st2, _ := StateFromEntries(full)
	snap2, err := Monitor(d, st2, date.Of(2016, 5, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap2.Alerts) != 0 || snap2.Period != 0 {
		t.Errorf("alerts before any collection period ended: %+v", snap2.Alerts)
	}
}

func TestSizeDeal(t *testing.T) {
	d := loadDeal(t)
	doc := d.Document()
	disc := &Disclosure{ForecastRecoveries: money.New(24150000000, "CNY")}
	disc.Header.Claim = money.New(210000000000, "CNY")
	s, err := SizeDeal(doc, disc)
	if err != nil {
		t.Fatal(err)
	}
	// 16和萃1 scale: senior 188 m of 241.5 m forecast (77.85%), issue 218 m of 2.1 bn (10.38%).
	if s.SeniorOfForecast != "77.85%" || s.IssueOfClaim != "10.38%" || !s.Typical || s.Tranches[0].Share != "86.24%" {
		t.Errorf("sizing %+v", s)
	}
	disc.ForecastRecoveries = money.New(20000000000, "CNY") // senior 94% of forecast: atypical
	if s, _ := SizeDeal(doc, disc); s.Typical {
		t.Errorf("an oversized senior is typical: %+v", s)
	}
}

// TestWindowsReachLegalMaturity: abs.md's run loop stops "at legal maturity or when everything
// is paid and the pool is exhausted", and there is a report per period. With the legal maturity a
// year after the date on which the forecast repays the example deal (period 17 of 20), a live
// deal whose collections fall short still has a collection window, a run and a report for every
// payment date up to the legal maturity; the windows follow one another day after day.
func TestWindowsReachLegalMaturity(t *testing.T) {
	doc := loadDeal(t).Document()
	doc.Dates.LegalMaturity = "2021-04-26"
	d, err := abs.Compile(doc, abs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := d.Run(abs.Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	pay := d.PaymentDates()
	if len(base.Periods) >= len(pay) {
		t.Fatalf("the forecast runs %d of %d payment dates; the test needs it to stop early", len(base.Periods), len(pay))
	}
	wins, err := Windows(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(wins) != len(pay) {
		t.Fatalf("%d windows for %d payment dates", len(wins), len(pay))
	}
	var cum int64
	for k, w := range wins {
		start := date.Of(2016, 5, 1)
		if k > 0 {
			start = wins[k-1].CollectionEnd.AddDays(1)
		}
		if w.Period != k+1 || w.Date != pay[k] || w.CollectionStart != start || w.CollectionEnd != pay[k].AddDays(-26) {
			t.Errorf("window %d: %+v", k+1, w)
		}
		if k < len(base.Periods) && (w.CollectionStart != base.Periods[k].CollectionStart || w.Forecast != base.Periods[k].Forecast) {
			t.Errorf("window %d differs from the run's period: %+v, %+v", k+1, w, base.Periods[k])
		}
		cum += w.Forecast.Minor()
		if w.CumForecast.Minor() != cum {
			t.Errorf("window %d: cumulative forecast %s, want %d fen", k+1, w.CumForecast, cum)
		}
	}
	if last := wins[len(wins)-1]; last.CollectionEnd != date.Of(2021, 3, 31) {
		t.Errorf("last window ends %s", last.CollectionEnd)
	}
	// The pool's log collects far less than the forecast: the deal is still running at period 18.
	st, err := StateFromEntries(poolLog(d))
	if err != nil {
		t.Fatal(err)
	}
	rep, res, err := Build(Input{Deal: d, State: st, Period: 18})
	if err != nil {
		t.Fatalf("period 18: %v", err)
	}
	if rep.CollectionStart != wins[17].CollectionStart || rep.CollectionEnd != wins[17].CollectionEnd || res.Tranches[0].Outstanding.IsZero() {
		t.Errorf("period 18 report %s..%s, senior outstanding %s", rep.CollectionStart, rep.CollectionEnd, res.Tranches[0].Outstanding)
	}
}

// TestSizeDealBoundaries: abs.md, "the senior tranche is 49%-78% of forecast recoveries; issue
// size 5%-14% of 本息费": both ends of each range are typical, a fen beyond either is not.
func TestSizeDealBoundaries(t *testing.T) {
	for _, c := range []struct {
		senior, sub, forecast, claim string
		typical                      bool
	}{
		{"78.00", "22.00", "100.00", "1000.00", true},  // senior 78%, issue 10%
		{"78.01", "21.99", "100.00", "1000.00", false}, // senior 78.01%
		{"49.00", "51.00", "100.00", "1000.00", true},  // senior 49%
		{"48.99", "51.01", "100.00", "1000.00", false}, // senior 48.99%
		{"60.00", "40.00", "100.00", "2000.00", true},  // issue 5%
		{"60.00", "40.00", "100.00", "2000.01", false}, // issue just under 5%
		{"7.00", "7.00", "10.00", "100.00", true},      // issue 14%
		{"7.00", "7.00", "10.00", "99.99", false},      // issue just over 14%
	} {
		doc := &abs.Document{Tranches: []abs.Tranche{{Name: "A", Balance: c.senior}, {Name: "Sub", Balance: c.sub}}}
		fc, err := money.ParseStrict(c.forecast, "CNY")
		if err != nil {
			t.Fatal(err)
		}
		claim, err := money.ParseStrict(c.claim, "CNY")
		if err != nil {
			t.Fatal(err)
		}
		disc := &Disclosure{ForecastRecoveries: fc}
		disc.Header.Claim = claim
		s, err := SizeDeal(doc, disc)
		if err != nil {
			t.Fatal(err)
		}
		if s.Typical != c.typical {
			t.Errorf("senior %s, sub %s, forecast %s, claim %s: typical %v (senior %s of forecast, issue %s of claim), want %v",
				c.senior, c.sub, c.forecast, c.claim, s.Typical, s.SeniorOfForecast, s.IssueOfClaim, c.typical)
		}
	}
}

func TestCriteria(t *testing.T) {
	asOf := date.Of(2026, 1, 1)
	loan := func(mut func(l *reclaim.Loan)) *reclaim.Loan {
		l := &reclaim.Loan{ProductType: "credit_card", DaysPastDue: 400, RegionCode: "440305", TotalClaim: money.New(5000000, "CNY"),
			LegalStatus: "not_sued", LimitationExpiryDate: date.Of(2027, 1, 1)}
		if mut != nil {
			mut(l)
		}
		return l
	}
	cases := []struct {
		name string
		c    Criteria
		l    *reclaim.Loan
		want bool
	}{
		{"no criteria", Criteria{}, loan(nil), true},
		{"product", Criteria{Products: []string{"consumer_loan"}}, loan(nil), false},
		{"dpd in range", Criteria{MinDPD: 360, MaxDPD: 720}, loan(nil), true},
		{"dpd too low", Criteria{MinDPD: 500}, loan(nil), false},
		{"province prefix", Criteria{Regions: []string{"44"}}, loan(nil), true},
		{"other prefecture", Criteria{Regions: []string{"4401"}}, loan(nil), false},
		{"claim bounds", Criteria{MinClaim: "10000", MaxClaim: "60000"}, loan(nil), true},
		{"claim above", Criteria{MaxClaim: "49999.99"}, loan(nil), false},
		{"legal status", Criteria{LegalStatuses: []string{"judgment"}}, loan(nil), false},
		{"limitation headroom", Criteria{MinLimitationDays: 365}, loan(nil), true},
		{"limitation too close", Criteria{MinLimitationDays: 366}, loan(nil), false},
		{"limitation unknown", Criteria{MinLimitationDays: 1}, loan(func(l *reclaim.Loan) { l.LimitationExpiryDate = date.Date{} }), false},
	}
	for _, c := range cases {
		m, err := c.c.Compile(asOf)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := m.Match(c.l); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, bad := range []Criteria{{MinDPD: 10, MaxDPD: 5}, {MinClaim: "x"}, {MinClaim: "10", MaxClaim: "5"}, {Regions: []string{"44a"}}, {MinLimitationDays: -1}} {
		if _, err := bad.Compile(asOf); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if PoolKey(12, "LN-1") == PoolKey(13, "LN-1") {
		t.Error("pool keys collide across portfolios")
	}
}

// TestForecastFromCurve: the flows sum to the projection's net total exactly and follow the
// curve's shape (property).
func TestForecastFromCurve(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(t, "months")
		var curve []valuation.CurvePoint
		var gross int64
		for i := range n {
			g := rapid.Int64Range(0, 1e9).Draw(t, "g")
			gross += g
			curve = append(curve, valuation.CurvePoint{Month: i + 1, Expected: money.New(g, "CNY")})
		}
		net := rapid.Int64Range(0, 1e12).Draw(t, "net")
		flows, err := ForecastFromCurve(curve, valuation.ProjectionTotals{Gross: money.New(gross, "CNY"), Net: money.New(net, "CNY")}, date.Of(2025, 1, 31))
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for i, f := range flows {
			sum += f.Amount.Minor()
			if i > 0 && !f.Date.After(flows[i-1].Date) {
				t.Fatalf("dates not increasing: %v", flows)
			}
			if !f.Date.IsEndOfMonth() || !f.Date.After(date.Of(2025, 1, 31)) {
				t.Fatalf("flow dated %s", f.Date)
			}
		}
		if gross > 0 && net > 0 && sum != net {
			t.Fatalf("flows sum to %d, net %d", sum, net)
		}
	})
}

// TestReportsAgreeWithVerifierProperty: for random servicing (collections on random loans and
// dates, servicer rows, costs that may exceed a window's collections and carry over), closing
// periods one after another, the verifier recomputes every logged figure from the log alone.
// TestReportsAgreeWithVerifierProperty: random collections, servicer rows, costs, bounces (of a
// collection of this window or an earlier one) and settlement waivers over up to five periods;
// every report the server builds is recomputed by the verifier from the log, and its document
// (breakdowns, pool cash, waivers) matches.
func TestReportsAgreeWithVerifierProperty(t *testing.T) {
	d := loadDeal(t)
	wins, err := Windows(d)
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		log := poolLog(d)[:3] // opened, two loans boarded
		reversed := map[string]bool{}
		periods := rapid.IntRange(1, 5).Draw(rt, "periods")
		n := 0
		for p := 1; p <= periods; p++ {
			w := wins[p-1]
			days := w.CollectionEnd.Sub(w.CollectionStart)
			for range rapid.IntRange(0, 6).Draw(rt, "events") {
				n++
				eff := w.CollectionStart.AddDays(rapid.IntRange(0, days).Draw(rt, "day")).String()
				h := verify.Header{Pool: "P1", EventID: fmt.Sprintf("e%d", n), Effective: eff}
				amt := verify.Amount(rapid.Int64Range(1, 2e9).Draw(rt, "amount"))
				switch rapid.IntRange(0, 5).Draw(rt, "kind") {
				case 0, 1:
					loan := []string{"L1", "L2"}[rapid.IntRange(0, 1).Draw(rt, "loan")]
					log = append(log, verify.LoanCollection{Header: h, Loan: loan, Amount: amt, Principal: amt, Channel: verify.ChannelOnline, BankTxn: hx('c')})
				case 2:
					log = append(log, verify.DealCollections{Header: h, Amount: amt, Line: int64(n), FileHash: hx('f')})
				case 3:
					log = append(log, verify.DealCost{Header: h, Kind: verify.CostDisposal, Amount: amt / 3, Memo: "cost"})
				case 4: // the bounce of an earlier collection (maybe of a closed window: carried)
					var open []verify.LoanCollection
					for _, e := range log {
						switch e := e.(type) {
						case verify.LoanCollection:
							if e.Effective <= eff && !reversed[e.EventID] {
								open = append(open, e)
							}
						}
					}
					if len(open) == 0 {
						continue
					}
					c := open[rapid.IntRange(0, len(open)-1).Draw(rt, "reversed")]
					reversed[c.EventID] = true
					log = append(log, verify.LoanCollectionReversal{Header: h, Loan: c.Loan, Amount: c.Amount, Principal: c.Principal,
						Reverses: c.EventID, Reason: "bounced"})
				case 5:
					loan := []string{"L1", "L2"}[rapid.IntRange(0, 1).Draw(rt, "loan")]
					log = append(log, verify.LoanWaiver{Header: h, Loan: loan, Amount: amt/7 + 1, Principal: amt/7 + 1, Settlement: "offer-1", Reason: "settled"})
				}
			}
			st, err := StateFromEntries(log)
			if err != nil {
				rt.Fatal(err)
			}
			rep, _, err := Build(Input{Deal: d, State: st, Period: p, LedgerSize: int64(len(log))})
			if err != nil {
				rt.Fatal(err)
			}
			doc, _ := rep.Encode()
			_, ws, _ := Scenario(d, st, p)
			es, err := rep.Entries(doc, ws[p-1])
			if err != nil {
				rt.Fatal(err)
			}
			log = append(log, es...)
			if ms, err := verify.CheckDealReportDoc(log, doc); err != nil || len(ms) > 0 {
				rt.Fatalf("period %d document: %v %+v", p, err, ms)
			}
		}
		res, _ := verify.DealReports(log)
		if len(res) != periods {
			rt.Fatalf("%d reports, want %d", len(res), periods)
		}
		for _, r := range res {
			if len(r.Mismatches) > 0 {
				rt.Fatalf("report at %d: %+v", r.Index, r.Mismatches)
			}
		}
	})
}

// TestReversalsAndWaivers: a bounce nets the collections of the window it is dated in; bounces
// beyond the window's collections (of cash an earlier window distributed) leave a gross of zero
// and are carried with the costs; a settlement's loan.waiver is a waiver of the report (beside
// deal.cost waivers) and lowers the claim. The verifier agrees with every figure.
func TestReversalsAndWaivers(t *testing.T) {
	d := loadDeal(t)
	log := poolLog(d)
	log, _, _ = closePeriod(t, d, log, 1)
	h := func(id, eff string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: eff} }
	// Window 2 (2016-07-01..09-30): c3 (20,000,000.00) is logged already; c1 and c2 of window 1
	// (23,000,000.00) bounce, and L2's settlement waives 100,000.00.
	log = append(log,
		verify.LoanCollectionReversal{Header: h("r1", "2016-07-10"), Loan: "L1", Amount: 1500000000, Principal: 1500000000, Reverses: "c1", Reason: "bounced"},
		verify.LoanCollectionReversal{Header: h("r2", "2016-07-11"), Loan: "L2", Amount: 800000000, Principal: 800000000, Reverses: "c2", Reason: "bounced"},
		verify.LoanWaiver{Header: h("w2", "2016-07-12"), Loan: "L2", Amount: 10000000, Principal: 10000000, Settlement: "offer-7", Reason: "settled"})
	log, r2, doc2 := closePeriod(t, d, log, 2)
	pc := r2.PoolCash
	if pc.Gross.String() != "0.00" || pc.Net.String() != "0.00" || pc.Costs.String() != "0.00" || pc.CostsCarried.String() != "3000000.00" {
		t.Errorf("period 2 pool cash %+v", pc)
	}
	if pc.Waivers.String() != "100000.00" {
		t.Errorf("period 2 waivers %s", pc.Waivers)
	}
	// 2,100,000,000 - (23,000,000 + 20,000,000 - 23,000,000) collected - 50,000 - 100,000 waived.
	if pc.ClosingClaim.String() != "2079850000.00" {
		t.Errorf("closing claim %s", pc.ClosingClaim)
	}
	ch := map[string]Bucket{}
	for _, b := range r2.ByChannel {
		ch[b.Key] = b
	}
	if ch[verify.ChannelBankTransfer].Gross.String() != "-15000000.00" || ch[verify.ChannelAgency].Gross.String() != "20000000.00" ||
		ch[verify.ChannelCourt].Gross.String() != "-8000000.00" || ch[verify.ChannelAgency].Count != 1 || ch[verify.ChannelBankTransfer].Count != 0 {
		t.Errorf("by channel %+v", r2.ByChannel)
	}
	// Window 3: 5,000,000.00 collected pays the 3,000,000.00 carried.
	log = append(log, verify.LoanCollection{Header: h("c4", "2016-10-05"), Loan: "L1", Amount: 500000000, Principal: 500000000,
		Channel: verify.ChannelOnline, BankTxn: hx('c')})
	log, r3, doc3 := closePeriod(t, d, log, 3)
	if r3.PoolCash.Gross.String() != "5000000.00" || r3.PoolCash.Costs.String() != "3000000.00" || r3.PoolCash.Net.String() != "2000000.00" ||
		r3.PoolCash.CostsCarried.String() != "0.00" {
		t.Errorf("period 3 pool cash %+v", r3.PoolCash)
	}
	res, _ := verify.DealReports(log)
	for _, r := range res {
		if len(r.Mismatches) > 0 {
			t.Errorf("report at %d: %+v", r.Index, r.Mismatches)
		}
	}
	for _, doc := range [][]byte{doc2, doc3} {
		if ms, err := verify.CheckDealReportDoc(log, doc); err != nil || len(ms) > 0 {
			t.Errorf("%v %+v", err, ms)
		}
	}
	// A log that drops a bounce, or a settlement waiver, no longer matches.
	drop := func(id string) []verify.Entry {
		var out []verify.Entry
		for _, e := range log {
			if e.EntryHeader().EventID != id {
				out = append(out, e)
			}
		}
		return out
	}
	if res, _ := verify.DealReports(drop("r1")); len(res[1].Mismatches) == 0 {
		t.Error("a dropped bounce was not detected")
	}
	if ms, _ := verify.CheckDealReportDoc(drop("w2"), doc2); len(ms) == 0 {
		t.Error("a dropped settlement waiver was not detected")
	}
}
