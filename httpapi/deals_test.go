package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/abs/dealservice"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// dealFixture opens two deals, A and B, on a second portfolio (the fixture's own is all in
// pool P1), and makes the investor user a member of an organisation holding A's senior tranche.
func dealFixture(t *testing.T, f *fixture) *dealservice.Service {
	t.Helper()
	ctx := context.Background()
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: f.dir, AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Run(ctx, f.db.IngestStore(), keys, f.writeTape("deals.csv", 40, nil), ingest.Options{SellerName: "Bank B"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/examples/deal-npl-2tranche.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc := dealservice.New(f.db, f.valuation, "test.example/ledger", "", nil)
	for _, pool := range []string{"A", "B"} {
		if _, err := svc.Create(ctx, httpapi.DealCreate{Pool: pool, Document: doc, Criteria: live.Criteria{Portfolios: []int64{rep.PortfolioID}, Limit: 15},
			AsOf: date.Of(2016, 4, 30), Effective: date.Of(2016, 5, 1), UseDocForecast: true, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, f.db, pool)
	}
	if err := svc.CreateInvestor(ctx, live.Investor{ID: "inv-a", Name: "Fund A"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetInvestorUser(ctx, "inv-a", f.users[reclaim.RoleInvestor].ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetHolding(ctx, live.Holding{Investor: "inv-a", Pool: "A", Tranche: "A", Amount: money.New(1e9, "CNY")}); err != nil {
		t.Fatal(err)
	}
	return svc
}

func sequenceAll(t *testing.T, db *sqldb.DB, pool string) {
	t.Helper()
	for {
		n, err := db.Sequence(context.Background(), pool, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// sseFirst opens an event stream and returns what it sent until an event of type want arrived
// (or the timeout), and the status.
func sseFirst(t *testing.T, f *fixture, token, topic, want string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/v1/stream?topic="+topic, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return res.StatusCode, b.String()
	}
	var got strings.Builder
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		got.WriteString(sc.Text() + "\n")
		if sc.Text() == "event: "+want {
			sc.Scan()
			got.WriteString(sc.Text() + "\n")
			break
		}
	}
	return res.StatusCode, got.String()
}

// TestInvestorSeesOnlyItsDeals: the investor of deal A cannot see deal B through any route (the
// deal routes, the pool routes, the raw log, the topics), and sees A through all of them.
func TestInvestorSeesOnlyItsDeals(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		dealFixture(t, f)
		inv := f.as(reclaim.RoleInvestor)
		trustee := f.as(reclaim.RoleTrustee)
		// A report of each deal, closed by the trustee.
		for _, pool := range []string{"A", "B"} {
			res, b := trustee.do("POST", "/api/v1/deals/"+pool+"/reports", `{"period":1}`)
			if res.StatusCode != 201 || !strings.Contains(string(b), `"period":1`) {
				t.Fatalf("close %s: %d %s", pool, res.StatusCode, b)
			}
			sequenceAll(t, db, pool)
		}
		if err := f.ledger.SequenceAndPublish(context.Background()); err != nil {
			t.Fatal(err)
		}
		res, b := inv.do("GET", "/api/v1/deals", "")
		var list []httpapi.DealView
		json.Unmarshal(b, &list)
		if res.StatusCode != 200 || len(list) != 1 || list[0].Pool != "A" || len(list[0].Holdings) != 1 {
			t.Fatalf("investor's deals: %d %s", res.StatusCode, b)
		}
		if res, b := f.as(reclaim.RoleAnalyst).do("GET", "/api/v1/deals", ""); res.StatusCode != 200 || !strings.Contains(string(b), `"pool":"B"`) {
			t.Fatalf("analyst's deals: %d %s", res.StatusCode, b)
		}
		// Deal B, through every door: 404, as if it did not exist.
		for _, path := range []string{
			"/api/v1/deals/B", "/api/v1/deals/B/monitor", "/api/v1/deals/B/run", "/api/v1/deals/B/reports",
			"/api/v1/deals/B/reports/1", "/api/v1/deals/B/reports/1?format=csv", "/api/v1/deals/B/reports/1?format=html",
			"/api/v1/deals/B/reports/1/preview", "/api/v1/deals/B/loans?format=csv",
			"/api/v1/pools/B", "/api/v1/pools/B/entries", "/api/v1/pools/B/entries/open", "/api/v1/pools/B/reports", "/api/v1/pools/B/loans",
			"/ledger/B/tile/0/000", "/ledger/B/tile/entries/000", "/ledger/B/receipt/0", "/ledger/B/proof/inclusion?index=0&size=1",
		} {
			res, b := inv.do("GET", path, "")
			if res.StatusCode != 404 || strings.Contains(string(b), "distribution") {
				t.Errorf("investor of A reading %s: %d %.200s", path, res.StatusCode, b)
			}
		}
		res, b = inv.do("GET", "/api/v1/pools", "")
		if res.StatusCode != 200 || strings.Contains(string(b), `"pool":"B"`) || !strings.Contains(string(b), `"pool":"A"`) {
			t.Errorf("investor's pool list: %d %.300s", res.StatusCode, b)
		}
		token := f.tokenFor(reclaim.RoleInvestor)
		for _, topic := range []string{"deal.B", "ledger.B"} {
			if code, body := sseFirst(t, f, token, topic, "monitor"); code != 404 {
				t.Errorf("investor of A subscribing to %s: %d %s", topic, code, body)
			}
		}
		// Deal A, through the same doors.
		for _, path := range []string{"/api/v1/deals/A", "/api/v1/deals/A/monitor?as_of=2016-08-01", "/api/v1/deals/A/reports",
			"/api/v1/pools/A", "/api/v1/pools/A/entries", "/ledger/A/tile/0/000.p/1"} {
			if res, b := inv.do("GET", path, ""); res.StatusCode != 200 {
				t.Errorf("investor of A reading %s: %d %.200s", path, res.StatusCode, b)
			}
		}
		code, body := sseFirst(t, f, token, "deal.A", "monitor")
		if code != 200 || !strings.Contains(body, `"deal_hash"`) || !strings.Contains(body, `"triggers"`) {
			t.Errorf("deal.A stream: %d %s", code, body)
		}
		// The report: JSON is the exact document the ledger's hash covers; CSV and HTML render it.
		res, doc := inv.do("GET", "/api/v1/deals/A/reports/1", "")
		var infos []httpapi.ReportInfoView
		_, lb := inv.do("GET", "/api/v1/deals/A/reports", "")
		json.Unmarshal(lb, &infos)
		if res.StatusCode != 200 || len(infos) != 1 || live.Hash(doc) != infos[0].Hash || infos[0].Checkpoint == nil {
			t.Fatalf("report: %d; list %s", res.StatusCode, lb)
		}
		if res, b := inv.do("GET", "/api/v1/deals/A/reports/1?format=csv", ""); res.StatusCode != 200 || !strings.HasPrefix(string(b), "section,row,field,value") {
			t.Errorf("CSV: %d %.100s", res.StatusCode, b)
		}
		if res, b := inv.do("GET", "/api/v1/deals/A/reports/1?format=html", ""); res.StatusCode != 200 || !strings.Contains(string(b), "<svg") ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("HTML: %d %.100s", res.StatusCode, b)
		}
		// Loan-level data: no seller loan ids, no personal data; Parquet too.
		res, b = inv.do("GET", "/api/v1/deals/A/loans?format=csv", "")
		if res.StatusCode != 200 || strings.Count(string(b), "\n") != 16 || strings.Contains(string(b), "LN") {
			t.Errorf("loans CSV: %d %s", res.StatusCode, b)
		}
		if res, b := inv.do("GET", "/api/v1/deals/A/loans?format=parquet", ""); res.StatusCode != 200 || !bytes.HasPrefix(b, []byte("PAR1")) {
			t.Errorf("loans Parquet: %d %.20q", res.StatusCode, b)
		}
		// Managing is not the investor's.
		if res, _ := inv.do("POST", "/api/v1/deals/A/reports", `{"period":2}`); res.StatusCode != 403 {
			t.Errorf("investor closing a period: %d", res.StatusCode)
		}
		if res, _ := inv.do("GET", "/api/v1/holdings", ""); res.StatusCode != 200 {
			t.Errorf("holdings: %d", res.StatusCode)
		}
	})
}

// TestDealCreateAndCosts creates a deal through the API (the document rejected with its paths
// when invalid, nothing stored), posts a cost and a servicer file, and sees them in the preview.
func TestDealCreateAndCosts(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	dealFixture(t, f)
	an := f.as(reclaim.RoleAnalyst)
	doc, _ := os.ReadFile("../docs/examples/deal-npl-2tranche.yaml")
	bad := strings.Replace(string(doc), `coupon: "3.00%"`, `coupon: "300%"`, 1)
	body, _ := json.Marshal(map[string]any{"pool": "C", "document": bad, "criteria": map[string]any{}, "effective": "2016-05-01", "use_document_forecast": true})
	res, b := an.do("POST", "/api/v1/deals", string(body))
	if res.StatusCode != 422 && res.StatusCode != 400 || !strings.Contains(string(b), "tranches[0].coupon") {
		t.Fatalf("invalid document: %d %s", res.StatusCode, b)
	}
	if res, _ := an.do("GET", "/api/v1/deals/C", ""); res.StatusCode != 404 {
		t.Fatalf("the invalid deal was stored: %d", res.StatusCode)
	}
	tr := f.as(reclaim.RoleTrustee)
	res, b = tr.do("POST", "/api/v1/deals/A/costs", `{"kind":"cost","channel":"court","amount":"123.45","effective":"2016-06-01","memo":"court fee"}`)
	if res.StatusCode != 201 {
		t.Fatalf("cost: %d %s", res.StatusCode, b)
	}
	// A deal's ledger dates (its opening, an amendment) are in the API's range, as every other
	// ledger date: neither goes on the log dated 9999 or before 1990; nothing is stored.
	for _, d := range []string{"9999-12-31", "1989-12-31"} {
		amended := strings.Replace(string(doc), `coupon: "3.00%"`, `coupon: "3.10%"`, 1)
		body, _ := json.Marshal(map[string]any{"document": amended, "reason": "abuse", "effective": d})
		res, b := tr.do("POST", "/api/v1/deals/A/amendments", string(body))
		wantInvalid(t, "amendment effective "+d, res.StatusCode, b, "effective")
		body, _ = json.Marshal(map[string]any{"pool": "C3", "document": string(doc), "criteria": map[string]any{"limit": 5}, "as_of": "2016-04-30", "effective": d})
		res, b = an.do("POST", "/api/v1/deals", string(body))
		wantInvalid(t, "deal effective "+d, res.StatusCode, b, "effective")
	}
	if res, _ := an.do("GET", "/api/v1/deals/C3", ""); res.StatusCode != 404 {
		t.Fatalf("a deal opened with a refused date was stored: %d", res.StatusCode)
	}
	res, b = tr.do("POST", "/api/v1/deals/A/servicer-files", `{"csv":"date,amount\n2016-06-30,1000.00\n"}`)
	if res.StatusCode != 201 || !strings.Contains(string(b), `"entries":1`) {
		t.Fatalf("servicer file: %d %s", res.StatusCode, b)
	}
	sequenceAll(t, f.db, "A")
	res, b = tr.do("GET", "/api/v1/deals/A/reports/1/preview", "")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"collections_gross":"1000.00"`) || !strings.Contains(string(b), `"costs":"123.45"`) ||
		!strings.Contains(string(b), `"preview":true`) {
		t.Fatalf("preview: %d %.600s", res.StatusCode, b)
	}
	res, b = tr.do("GET", "/api/v1/deals/A/monitor?as_of=2016-08-01", "")
	var snap live.DealSnapshot
	json.Unmarshal(b, &snap)
	if res.StatusCode != 200 || snap.Period != 1 || snap.Curve[0].Actual == nil || snap.Curve[0].Actual.String() != "876.55" {
		t.Fatalf("monitor: %d %s", res.StatusCode, b)
	}
	// A collection pool far below its forecast: the monitor alerts.
	if len(snap.Alerts) == 0 {
		t.Errorf("no alert: %s", b)
	}
	// A per-loan servicer file: refused naming the line when a loan is unknown (nothing stored),
	// refused to a role without deal.manage, and posted to the loan when good.
	res, b = tr.do("GET", "/api/v1/deals/A/loans", "")
	var loans []live.DealLoanRow
	if err := json.Unmarshal(b, &loans); err != nil || res.StatusCode != 200 || len(loans) == 0 {
		t.Fatalf("loans: %d %v %.300s", res.StatusCode, err, b)
	}
	var target live.DealLoanRow
	for _, l := range loans {
		if l.Balance.Minor() >= 1000 {
			target = l
		}
	}
	perLoan := func(loan string) string {
		body, _ := json.Marshal(map[string]string{"csv": "date,loan,amount,channel\n2016-07-15," + loan + ",10.00,agency\n"})
		return string(body)
	}
	res, b = tr.do("POST", "/api/v1/deals/A/servicer-files", perLoan("NO-SUCH-LOAN"))
	if res.StatusCode/100 != 4 || !strings.Contains(string(b), "line 2 loan") {
		t.Fatalf("unknown loan: %d %s", res.StatusCode, b)
	}
	if res, b := f.as(reclaim.RoleCollector).do("POST", "/api/v1/deals/A/servicer-files", perLoan(target.Ref)); res.StatusCode != 403 && res.StatusCode != 404 {
		t.Fatalf("a collector imported a servicer file: %d %s", res.StatusCode, b)
	}
	res, b = tr.do("POST", "/api/v1/deals/A/servicer-files", perLoan(target.Ref))
	if res.StatusCode != 201 || !strings.Contains(string(b), `"entries":1`) {
		t.Fatalf("per-loan servicer file: %d %s", res.StatusCode, b)
	}
	res, b = tr.do("GET", "/api/v1/deals/A/loans", "")
	json.Unmarshal(b, &loans)
	for _, l := range loans {
		if l.Ref == target.Ref && l.Balance.Minor() != target.Balance.Minor()-1000 {
			t.Fatalf("loan %s balance %s, was %s", l.Ref, l.Balance, target.Balance)
		}
	}
	// A selection previewed with the registered model: its forecast comes from the valuation.
	selBody, _ := json.Marshal(map[string]any{"criteria": map[string]any{}, "as_of": "2016-04-30", "document": string(doc)})
	res, b = an.do("POST", "/api/v1/deals/selection", string(selBody))
	var sel httpapi.DealSelection
	json.Unmarshal(b, &sel)
	if res.StatusCode != 200 || sel.Loans != 10 || sel.ForecastNote != "" || len(sel.Disclosure.Forecast) == 0 || sel.Disclosure.ForecastRecoveries.Minor() <= 0 {
		t.Fatalf("selection: %d %.500s", res.StatusCode, b)
	}
	var sum int64
	for _, fl := range sel.Disclosure.Forecast {
		sum += fl.Amount.Minor()
	}
	if sum != sel.Disclosure.ForecastRecoveries.Minor() || sel.Disclosure.Header.Loans != 10 || sel.Disclosure.Sizing == nil ||
		sel.Disclosure.Sizing.Issue.String() != "218000000.00" {
		t.Fatalf("forecast %d vs %s", sum, sel.Disclosure.ForecastRecoveries)
	}
	// Opened with the valuation's forecast: the document's pool is the selection's.
	body, _ = json.Marshal(map[string]any{"pool": "C2", "document": string(doc), "criteria": map[string]any{"limit": 5}, "as_of": "2016-04-30", "effective": "2016-05-01"})
	res, b = an.do("POST", "/api/v1/deals", string(body))
	var dv httpapi.DealView
	json.Unmarshal(b, &dv)
	if res.StatusCode != 201 || dv.Hash == "" || strings.Contains(dv.Document, "2100000000.00") || !strings.Contains(dv.Document, `"forecast":[{`) {
		t.Fatalf("create with the valuation's forecast: %d %.400s", res.StatusCode, b)
	}
	_ = fmt.Sprint
}

// TestDealStreamLiveUpdate: the deal.<pool> topic sends a monitor event when it opens and
// another when the pool's log changes, and an alert event for a trigger near or hit.
func TestDealStreamLiveUpdate(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	dealFixture(t, f)
	token := f.tokenFor(reclaim.RoleInvestor)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/v1/stream?topic=deal.A", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, res)
	}
	defer res.Body.Close()
	events := make(chan [2]string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var typ string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				typ = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				events <- [2]string{typ, v}
			}
		}
		close(events)
	}()
	next := func(want string) string {
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("stream ended before a %s event", want)
				}
				if e[0] == want {
					return e[1]
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", want)
			}
		}
	}
	first := next("monitor")
	// The pool has collected nothing against its forecast: the senior interest comes from the
	// reserve, then goes unpaid: an alert.
	if alert := next("alert"); !strings.Contains(alert, `"trigger":"eod_`) {
		t.Fatalf("alert %s", alert)
	}
	// A servicer file lands on the log: a new snapshot follows.
	if res, b := f.as(reclaim.RoleTrustee).do("POST", "/api/v1/deals/A/servicer-files", `{"csv":"date,amount\n2016-06-30,1000000.00\n"}`); res.StatusCode != 201 {
		t.Fatalf("servicer file: %d %s", res.StatusCode, b)
	}
	if err := f.ledger.SequenceAndPublish(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := next("monitor")
	if second == first || !strings.Contains(second, `"actual":"1000000.00"`) {
		t.Fatalf("the snapshot after the change:\n%s\nbefore:\n%s", second, first)
	}
}
