package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/httpapi"
	"reclaim/market"
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
		caseA, loanA, _ := boardedCase(t, f)
		ctx := context.Background()
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

// TestCaseFactsCannotBeDatedInTheFuture: what a collector, lawyer or manager records as having
// happened (a contact, a notice's delivery, a legal step, a debtor's acceptance, a promise made)
// cannot be dated after tomorrow, and the broken-promise job cannot run for a day after
// tomorrow: each is refused with 400 naming the field. A delivered demand, a delivered notice
// and a filing interrupt the limitation period, so a future date would move the case's
// limitation expiry years ahead and revive a time-barred debt; nothing is written.
func TestCaseFactsCannotBeDatedInTheFuture(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		caseA, _, _ := boardedCase(t, f)
		mgr := f.as(reclaim.RoleCollectionManager)
		page := func() workout.CasePage {
			t.Helper()
			res, b := mgr.do("GET", fmt.Sprintf("/api/v1/cases/%d", caseA), "")
			if res.StatusCode != 200 {
				t.Fatalf("case: %d %s", res.StatusCode, b)
			}
			var p workout.CasePage
			json.Unmarshal(b, &p)
			return p
		}
		was := page()
		if len(was.Notices) == 0 {
			t.Fatal("the boarded case has no notice")
		}
		far := "2199-01-02"
		cp := func(what string) string { return fmt.Sprintf("/api/v1/cases/%d/%s", caseA, what) }
		for _, c := range []struct{ what, path, body, field string }{
			{"delivered letter", cp("contacts"), `{"kind":"letter","outcome":"delivered","recording_ref":"EMS-1","at":"2199-01-02T10:00:00+08:00"}`, "at"},
			{"notice delivery", cp("notices/deliver"), fmt.Sprintf(`{"notice_id":%d,"delivered_on":%q,"channel":"ems","proof_ref":"EMS-2"}`, was.Notices[0].ID, far), "delivered_on"},
			{"filing", cp("legal"), fmt.Sprintf(`{"legal_step":"filing","effective":%q,"claim":"100.00"}`, far), "effective"},
			{"promise made", fmt.Sprintf("/api/v1/workout/cases/%d/promises", caseA), fmt.Sprintf(`{"amount":"10.00","due":%q,"made":%q}`, far, far), "made"},
			{"commitments job", "/api/v1/workout/commitments/check", fmt.Sprintf(`{"as_of":%q}`, far), "as_of"},
		} {
			res, b := mgr.do("POST", c.path, c.body)
			var e httpapi.ErrorBody
			if res.StatusCode != 400 || json.Unmarshal(b, &e) != nil || e.Code != reclaim.EINVALID || e.Fields["field"] != c.field {
				t.Errorf("%s dated %s: %d %s, want 400 naming %s", c.what, far, res.StatusCode, b, c.field)
			}
		}
		now := page()
		if now.LimitationExpiry != was.LimitationExpiry {
			t.Errorf("refused facts moved the limitation expiry from %s to %s", was.LimitationExpiry, now.LimitationExpiry)
		}
		if len(now.Timeline) != len(was.Timeline) || now.Notices[0].DeliveredOn != was.Notices[0].DeliveredOn {
			t.Errorf("refused facts were recorded: timeline %d -> %d items, notice delivered %s", len(was.Timeline), len(now.Timeline), now.Notices[0].DeliveredOn)
		}
		// An approved offer accepted "in the future" is refused too (it would count payments
		// from a day not yet come).
		o := decode[workout.SettlementOffer](t, must(t, mgr, "POST", fmt.Sprintf("/api/v1/workout/cases/%d/offers", caseA), `{"discount":0.1}`, 201))
		if o.Status != workout.OfferApproved {
			t.Fatalf("offer %+v", o)
		}
		res, b := mgr.do("POST", fmt.Sprintf("/api/v1/workout/offers/%d/accept", o.ID), fmt.Sprintf(`{"accepted_on":%q}`, far))
		var e httpapi.ErrorBody
		if res.StatusCode != 400 || json.Unmarshal(b, &e) != nil || e.Fields["field"] != "accepted_on" {
			t.Errorf("acceptance dated %s: %d %s, want 400 naming accepted_on", far, res.StatusCode, b)
		}
		// Today is fine.
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/workout/offers/%d/accept", o.ID), "{}", 200)
		must(t, mgr, "POST", "/api/v1/workout/commitments/check", "{}", 200)
	})
}

// TestPaymentAmountsBounded: a payment or statement line of more than 10 billion yuan is
// refused naming the amount (the bound keeps a statement's total, up to a million lines, within
// int64 fen: without it two lines of 5e16 yuan wrapped the import's applied total negative),
// and nothing is written.
func TestPaymentAmountsBounded(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		caseA, loanA, loanB := boardedCase(t, f)
		col := f.as(reclaim.RoleCollector)
		today := time.Now().UTC().Format("2006-01-02")
		for i, a := range []string{"10000000000.01", "50000000000000000.00", "92233720368547758.07", "-10000000000.01"} {
			body := fmt.Sprintf(`{"txn_id":"BIG-%d","date":%q,"amount":%q,"case_id":%d}`, i, today, a, caseA)
			if a[0] == '-' {
				body = fmt.Sprintf(`{"txn_id":"BIG-%d","date":%q,"amount":%q,"reverses":"X-1"}`, i, today, a)
			}
			res, b := col.do("POST", "/api/v1/payments", body)
			var e httpapi.ErrorBody
			if res.StatusCode != 400 || json.Unmarshal(b, &e) != nil || e.Code != reclaim.EINVALID || (e.Fields["amount"] == "" && e.Fields["field"] != "amount") {
				t.Errorf("payment of %s: %d %s, want 400 naming amount", a, res.StatusCode, b)
			}
		}
		stmt := fmt.Sprintf("txn_id,date,amount,reference\nH1,%s,50000000000000000.00,还款 %s\nH2,%s,50000000000000000.00,还款 %s\n", today, loanA, today, loanB)
		res, b := col.uploadStatement("huge.csv", []byte(stmt))
		var e httpapi.ErrorBody
		if res.StatusCode != 400 || json.Unmarshal(b, &e) != nil || e.Fields["field"] != "amount" || e.Fields["line"] != "2" || e.Fields["rule"] != workout.StmtRuleAmountRange {
			t.Errorf("statement of 5e16-yuan lines: %d %s, want 400 naming line 2's amount", res.StatusCode, b)
		}
		if _, b := col.do("GET", "/api/v1/payments?limit=100", ""); strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("refused payments stored: %s", b)
		}
		res, b = col.do("POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"MAX","date":%q,"amount":"10000000000.00","case_id":%d}`, today, caseA))
		if res.StatusCode != 201 {
			t.Errorf("a payment of exactly 10 billion yuan: %d %s", res.StatusCode, b)
		}
	})
}

// TestCourtAuctionResultDated: a court auction's result recorded from an outside platform
// books its proceeds to the loan as a collection on the pool's ledger, dated by at; at may not
// be after tomorrow or before 1990 (as a posted collection's date), and nothing is recorded.
func TestCourtAuctionResultDated(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	admin := f.as(reclaim.RoleAdmin)
	now := time.Now().UTC()
	spec := market.ListingSpec{Title: "Debtor's flat", Pack: "judicial", Format: "english", Kind: "real_estate", External: true,
		CaseNumber: "(2026)沪0115执1234号", Platform: "court platform", Appraisal: mustAmt("1000000.00"), StartPrice: mustAmt("700000.00"),
		Increment: mustAmt("10000.00"), Deposit: mustAmt("70000.00"), NoticeAt: now.Add(-31 * 24 * time.Hour), Start: now.Add(-time.Hour), End: now.Add(47 * time.Hour)}
	a := createAuction(t, admin, spec)
	ref := collectionRef(t, f)
	pending := func() int64 {
		p, err := f.db.LedgerPool(context.Background(), "P1")
		if err != nil {
			t.Fatal(err)
		}
		return p.Pending
	}
	was := pending()
	for _, at := range []string{"9999-12-31T10:00:00Z", "2199-01-01T10:00:00+08:00", "1989-12-31T10:00:00Z"} {
		res, b := admin.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/outside", a.ID),
			fmt.Sprintf(`{"status":"sold","at":%q,"price":"800000.00","buyer":"a buyer","loan":%q,"pool":"P1"}`, at, ref))
		wantInvalid(t, "court auction at "+at, res.StatusCode, b, "at")
	}
	if n := pending(); n != was {
		t.Errorf("refused results queued %d ledger entries", n-was)
	}
	if res, b := admin.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d", a.ID), ""); !strings.Contains(string(b), `"status":"open"`) {
		t.Errorf("after refused results: %d %.300s", res.StatusCode, b)
	}
}
