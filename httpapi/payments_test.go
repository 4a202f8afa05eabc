package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// statementBody builds a multipart statement upload; extra parts are name, filename, content.
func statementBody(name string, data []byte, extra ...string) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	for i := 0; i+2 < len(extra); i += 3 {
		pw, _ := mw.CreateFormFile(extra[i], extra[i+1])
		pw.Write([]byte(extra[i+2]))
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func (c *client) uploadStatement(name string, data []byte, extra ...string) (*http.Response, []byte) {
	c.f.t.Helper()
	body, ct := statementBody(name, data, extra...)
	req, _ := http.NewRequest("POST", c.f.ts.URL+"/api/v1/payments/statements", body)
	req.Header.Set("Content-Type", ct)
	res, err := c.c.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// boardFixture boards the fixture's portfolio (its pool P1 is opened on it) and returns two
// loan ids of different cases.
// boardedCase boards the fixture's portfolio (boardFixture) and returns the case of its first
// loan, and both loans.
func boardedCase(t *testing.T, f *fixture) (caseID int64, loanA, loanB string) {
	t.Helper()
	loanA, loanB = boardFixture(t, f)
	caseID, err := f.db.CaseForLoan(context.Background(), f.portfolio, loanA)
	if err != nil {
		t.Fatal(err)
	}
	return caseID, loanA, loanB
}

func boardFixture(t *testing.T, f *fixture) (string, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: f.portfolio, AwardDate: date.Of(2025, 7, 1), Price: money.Yuan(1000), Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cases := map[int64]bool{}
	f.db.StreamLoans(ctx, f.portfolio, func(l *reclaim.Loan) error {
		c, err := f.db.CaseForLoan(ctx, f.portfolio, l.LoanID)
		if err == nil && !cases[c] && len(ids) < 2 && len(l.LoanID) >= 3 {
			cases[c] = true
			ids = append(ids, l.LoanID)
		}
		return nil
	})
	if len(ids) < 2 {
		t.Fatal("the fixture has fewer than two cases")
	}
	return ids[0], ids[1]
}

func TestPaymentsAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		loanA, loanB := boardFixture(t, f)
		col := f.as(reclaim.RoleCollector)
		sub, _, _, err := f.broker.Subscribe(httpapi.TopicPayments, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		stmt := fmt.Sprintf("txn_id,date,amount,payer_name,reference\nS1,2026-01-05,10.00,张三,还款 %s\nS2,2026-01-05,3.21,某人,谢谢\n", loanA)
		res, b := col.uploadStatement("jan.csv", []byte(stmt))
		if res.StatusCode != 201 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		var imp workout.StatementImport
		json.Unmarshal(b, &imp)
		if imp.Lines != 2 || imp.Matched != 1 || imp.Queued != 1 || imp.Applied.Minor() != 1000 {
			t.Fatalf("import %+v", imp)
		}
		select {
		case e := <-sub.C:
			if e.Type != "payments" || !strings.Contains(string(e.Data), `"statement"`) {
				t.Fatalf("event %+v", e)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event on the payments topic")
		}
		if res, _ := f.as(reclaim.RoleAnalyst).do("GET", "/api/v1/stream?topic=payments", ""); res.StatusCode != 404 {
			t.Fatalf("an analyst subscribes to payments: %d", res.StatusCode)
		}
		if res, b := col.uploadStatement("jan.csv", []byte(stmt)); res.StatusCode != 409 {
			t.Fatalf("same file twice: %d %s", res.StatusCode, b)
		}
		res, b = col.do("GET", "/api/v1/payments?status=queued", "")
		var q []workout.Payment
		json.Unmarshal(b, &q)
		if res.StatusCode != 200 || len(q) != 1 || q[0].TxnID != "S2" || q[0].QueueReason != "no_match" {
			t.Fatalf("queue: %d %s", res.StatusCode, b)
		}
		caseB, _ := db.CaseForLoan(context.Background(), f.portfolio, loanB)
		res, b = col.do("POST", fmt.Sprintf("/api/v1/payments/%d/match", q[0].ID), fmt.Sprintf(`{"case_id":%d}`, caseB))
		var m workout.Payment
		json.Unmarshal(b, &m)
		if res.StatusCode != 200 || m.Status != "applied" || m.Method != "manual" || m.MatchedBy != "user:collector1" || len(m.Allocations) == 0 {
			t.Fatalf("match: %d %s", res.StatusCode, b)
		}
		// The pool P1 holds the fixture's loans: the collection is on its ledger.
		if m.Allocations[0].Pool != "P1" || m.Allocations[0].PoolEvent == "" {
			t.Fatalf("no ledger entry for a pool loan: %+v", m.Allocations)
		}
		res, b = col.do("POST", fmt.Sprintf("/api/v1/payments/%d/reverse", m.ID), `{"date":"2026-01-07","reason":"退票"}`)
		var r workout.Payment
		json.Unmarshal(b, &r)
		if res.StatusCode != 201 || r.Status != "reversal" || r.ReversesID != m.ID || r.Allocations[0].Pool != "P1" {
			t.Fatalf("reverse: %d %s", res.StatusCode, b)
		}
		res, b = col.do("POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"API-9","date":"2026-01-08","amount":"5.00","reference":"%s"}`, loanB))
		var p workout.Payment
		json.Unmarshal(b, &p)
		if res.StatusCode != 201 || p.Status != "applied" || p.CaseID != caseB || p.Method != "reference" {
			t.Fatalf("post: %d %s", res.StatusCode, b)
		}
		if res, b := col.do("GET", fmt.Sprintf("/api/v1/payments/%d", p.ID), ""); res.StatusCode != 200 || !strings.Contains(string(b), `"allocations"`) {
			t.Fatalf("get: %d %s", res.StatusCode, b)
		}
		if res, b := f.as(reclaim.RoleAuditor).do("GET", fmt.Sprintf("/api/v1/payments/statements/%d", imp.ID), ""); res.StatusCode != 200 {
			t.Fatalf("auditor reads the import: %d %s", res.StatusCode, b)
		}
		if res, _ := f.as(reclaim.RoleAnalyst).do("POST", "/api/v1/payments", `{"txn_id":"X","date":"2026-01-08","amount":"5.00"}`); res.StatusCode != 403 {
			t.Fatalf("analyst posts a payment: %d", res.StatusCode)
		}
	})
}

// TestPaymentsAbuse: malformed, hostile and conflicting requests get clear 4xx errors naming the
// problem and change nothing.
func TestPaymentsAbuse(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	boardFixture(t, f)
	col := f.as(reclaim.RoleCollector)
	count := func() int {
		_, b := col.do("GET", "/api/v1/payments?limit=1000", "")
		var ps []workout.Payment
		json.Unmarshal(b, &ps)
		return len(ps)
	}
	for _, c := range []struct {
		name, file, data string
		extra            []string
		status           int
		want             string
	}{
		{"unknown column", "a.csv", "txn_id,date,amount,colour\nA1,2026-01-05,1.00,red\n", nil, 400, `"rule":"unknown_column"`},
		{"duplicate line", "a.csv", "txn_id,date,amount\nA1,2026-01-05,1.00\na1,2026-01-06,2.00\n", nil, 400, `"line":"3"`},
		{"negative without original", "a.csv", "txn_id,date,amount\nA1,2026-01-05,-1.00\n", nil, 400, `"rule":"negative_without_original"`},
		{"bad date", "a.csv", "txn_id,date,amount\nA1,2026-13-05,1.00\n", nil, 400, `"field":"date"`},
		{"not csv", "a.exe", "MZ", nil, 400, "unsupported file type"},
		{"bad mapping", "a.csv", "txn_id,date,amount\nA1,2026-01-05,1.00\n", []string{"mapping", "m.yaml", "colums: {}"}, 400, "field colums not found"},
		{"binary junk", "a.csv", "\x00\x01\x02\xff\xfe", nil, 400, `"rule"`},
		{"empty", "a.csv", "", nil, 400, "empty_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, b := col.uploadStatement(c.file, []byte(c.data), c.extra...)
			if res.StatusCode != c.status || !strings.Contains(string(b), c.want) {
				t.Errorf("%d %s, want %d with %s", res.StatusCode, b, c.status, c.want)
			}
		})
	}
	if res, b := col.do("POST", "/api/v1/payments/statements", `{"file":"x"}`); res.StatusCode != 400 {
		t.Errorf("JSON instead of multipart: %d %s", res.StatusCode, b)
	}
	for name, body := range map[string]string{
		"exponent":          `{"txn_id":"J1","date":"2026-01-08","amount":"1e5"}`,
		"float":             `{"txn_id":"J1","date":"2026-01-08","amount":5}`,
		"bad date":          `{"txn_id":"J1","date":"08/01/2026","amount":"5.00"}`,
		"negative, no orig": `{"txn_id":"J1","date":"2026-01-08","amount":"-5.00"}`,
		"control char":      `{"txn_id":"J\u0001","date":"2026-01-08","amount":"5.00"}`,
		"unknown field":     `{"txn_id":"J1","date":"2026-01-08","amount":"5.00","admin":true}`,
		"bad currency":      `{"txn_id":"J1","date":"2026-01-08","amount":"5.00","currency":"yuan"}`,
	} {
		if res, b := col.do("POST", "/api/v1/payments", body); res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%s: %d %s", name, res.StatusCode, b)
		}
	}
	if res, b := col.do("POST", "/api/v1/payments", `{"txn_id":"J2","date":"2026-01-08","amount":"5.00","case_id":999999}`); res.StatusCode != 404 {
		t.Errorf("unknown case: %d %s", res.StatusCode, b)
	}
	if res, b := col.do("POST", "/api/v1/payments/999999/match", `{"case_id":1}`); res.StatusCode != 404 {
		t.Errorf("match an unknown payment: %d %s", res.StatusCode, b)
	}
	if res, b := col.do("POST", "/api/v1/payments/999999/reverse", `{"date":"2026-01-08","reason":"x"}`); res.StatusCode != 404 {
		t.Errorf("reverse an unknown payment: %d %s", res.StatusCode, b)
	}
	if n := count(); n != 0 {
		t.Fatalf("rejected requests stored %d payments", n)
	}
	// No statement plaintext is left in the upload directory.
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".spill") {
			t.Errorf("spill file left behind: %s", e.Name())
		}
	}
}
