package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"reclaim"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestPaymentsCannotBeDatedInTheFuture: a payment's value date is a fact of the past. Posted,
// reversed or imported through the API with a date after tomorrow (or before 1990), it is
// refused naming the date, and nothing is written: no payment, no ledger entry for the pool
// loan (the collections route refuses the same dates), and the case's limitation expiry, which
// a part-payment moves to its date + 3 years, stays where it was.
func TestPaymentsCannotBeDatedInTheFuture(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		loanA, _ := boardFixture(t, f)
		ctx := context.Background()
		caseA, err := db.CaseForLoan(ctx, f.portfolio, loanA)
		if err != nil {
			t.Fatal(err)
		}
		col := f.as(reclaim.RoleCollector)
		mgr := f.as(reclaim.RoleCollectionManager)
		expiry := func() string {
			t.Helper()
			res, b := mgr.do("GET", fmt.Sprintf("/api/v1/cases/%d", caseA), "")
			if res.StatusCode != 200 {
				t.Fatalf("case: %d %s", res.StatusCode, b)
			}
			var p workout.CasePage
			json.Unmarshal(b, &p)
			return p.LimitationExpiry.String()
		}
		count := func() int {
			t.Helper()
			_, b := col.do("GET", "/api/v1/payments?limit=1000", "")
			var ps []workout.Payment
			json.Unmarshal(b, &ps)
			return len(ps)
		}
		pending := func() int64 {
			t.Helper()
			p, err := db.LedgerPool(ctx, "P1")
			if err != nil {
				t.Fatal(err)
			}
			return p.Pending
		}
		wasExpiry, wasCount, wasPending := expiry(), count(), pending()
		later := time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02")
		for i, d := range []string{"9999-12-31", "2199-01-01", later, "1989-12-31"} {
			res, b := col.do("POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"FUT-%d","date":%q,"amount":"1.00","case_id":%d}`, i, d, caseA))
			wantInvalid(t, "payment dated "+d, res.StatusCode, b, "date")
			res, b = col.do("POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"FUR-%d","date":%q,"amount":"1.00","reference":%q}`, i, d, loanA))
			wantInvalid(t, "payment by reference dated "+d, res.StatusCode, b, "date")
			stmt := fmt.Sprintf("txn_id,date,amount,reference\nFST-%d,%s,1.00,还款 %s\n", i, d, loanA)
			res, b = col.uploadStatement(fmt.Sprintf("future-%d.csv", i), []byte(stmt))
			var e httpapi.ErrorBody
			if res.StatusCode != 400 || json.Unmarshal(b, &e) != nil || e.Fields["field"] != "date" || e.Fields["line"] != "2" || e.Fields["rule"] != workout.StmtRuleDateRange {
				t.Errorf("statement line dated %s: %d %s, want 400 naming line 2's date", d, res.StatusCode, b)
			}
		}
		if n := count(); n != wasCount {
			t.Errorf("refused payments stored: %d payments, want %d", n, wasCount)
		}
		if n := pending(); n != wasPending {
			t.Errorf("refused payments queued %d ledger entries, want %d", n, wasPending)
		}
		if e := expiry(); e != wasExpiry {
			t.Errorf("refused payments moved the limitation expiry from %s to %s", wasExpiry, e)
		}
		// A real payment today; its bounce cannot be dated in the future either.
		today := time.Now().UTC().Format("2006-01-02")
		res, b := col.do("POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"NOW-1","date":%q,"amount":"1.00","case_id":%d}`, today, caseA))
		if res.StatusCode != 201 {
			t.Fatalf("a payment dated today: %d %s", res.StatusCode, b)
		}
		var p workout.Payment
		json.Unmarshal(b, &p)
		res, b = col.do("POST", fmt.Sprintf("/api/v1/payments/%d/reverse", p.ID), `{"date":"9999-12-31","reason":"退票"}`)
		wantInvalid(t, "reversal dated 9999-12-31", res.StatusCode, b, "date")
		if res, b := col.do("GET", fmt.Sprintf("/api/v1/payments/%d", p.ID), ""); res.StatusCode != 200 || json.Unmarshal(b, &p) != nil || p.Status != "applied" {
			t.Errorf("after the refused reversal: %d %s", res.StatusCode, b)
		}
	})
}
