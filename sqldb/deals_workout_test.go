package sqldb_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"reclaim"
	"reclaim/abs/rerun"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
	"reclaim/workout"
)

// shiftedDeal is the two-tranche example deal moved 12 years on (2016 -> 2028, leap years stay
// leap years), so that its windows come after the workout fixtures' boarding in 2026.
func shiftedDeal(t *testing.T) []byte {
	s := string(exampleDeal(t))
	for _, y := range [][2]string{{"2020-", "2032-"}, {"2019-", "2031-"}, {"2018-", "2030-"}, {"2017-", "2029-"}, {"2016-", "2028-"}} {
		s = strings.ReplaceAll(s, y[0], y[1])
	}
	return []byte(s)
}

// TestDealWorkoutFlow: loans boarded into servicing and selected into a live deal get their
// workout postings on the deal's log: a payment (loan.collection), a bounced payment
// (loan.collection_reversal) and a settlement paid in full (loan.collection, then loan.waiver).
// The period's report shows the collections net of the bounce and the settlement's waiver; the
// verifier and the waterfall re-run (reclaim-verify report --deal-doc) agree with it, and a
// tampered log or document is caught. The paid settlement closes its accounts and its case (a
// case_closed action on the timeline); a later payment for it waits in the queue, applied to
// nothing; a bounce dated in a reported window is refused with nothing changed.
func TestDealWorkoutFlow(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, false)
		doc := shiftedDeal(t)
		var sel []sqldb.DealLoan
		if err := db.CandidateLoans(ctx, []int64{f.portfolio}, func(pid int64, l *reclaim.Loan) error {
			sel = append(sel, sqldb.DealLoan{PortfolioID: pid, Loan: l})
			return nil
		}); err != nil || len(sel) != 4 {
			t.Fatalf("candidates %d %v", len(sel), err)
		}
		if _, err := db.CreateDeal(ctx, sqldb.DealSpec{Pool: "DW", Origin: "test/DW", Doc: doc, Effective: date.Of(2028, 5, 1), Loans: sel}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "DW")
		post := func(in sqldb.PaymentInput) sqldb.Payment {
			t.Helper()
			p, err := db.PostPayment(ctx, in, f.opt)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		// Window 1 (2028-05-01..06-30): 100.00 paid by W, 200.00 that bounces.
		p1 := post(sqldb.PaymentInput{TxnID: "P-1", Date: date.Of(2028, 5, 10), Amount: cny(10000), CaseID: f.wCase})
		if len(p1.Allocations) != 1 || p1.Allocations[0].Pool != "DW" || p1.Allocations[0].PoolEvent == "" {
			t.Fatalf("a payment on a deal loan did not reach the deal's log: %+v", p1.Allocations)
		}
		post(sqldb.PaymentInput{TxnID: "P-2", Date: date.Of(2028, 5, 12), Amount: cny(20000), CaseID: f.wCase})
		rev := post(sqldb.PaymentInput{TxnID: "P-2/bounce", Date: date.Of(2028, 5, 20), Amount: cny(-20000), Reverses: "P-2"})
		if rev.Status != sqldb.PaymentReversal {
			t.Fatalf("bounce %+v", rev)
		}
		// Z's settlement: 750.00 of 1,500.00, paid on 15 May; the job waives the rest on the 16th.
		o, err := db.ProposeOffer(ctx, f.zCase, proposeAt(cny(75000), "alice", "collector", date.Of(2028, 5, 31), date.Of(2028, 5, 31)))
		if err != nil {
			t.Fatal(err)
		}
		if o, err = db.DecideOffer(ctx, o.ID, true, "mgr", "ok", checkAs("collection_manager", "mgr")); err != nil {
			t.Fatal(err)
		}
		if _, err = db.AcceptOffer(ctx, o.ID, date.Of(2028, 5, 2), nil, "alice"); err != nil {
			t.Fatal(err)
		}
		post(sqldb.PaymentInput{TxnID: "S-1", Date: date.Of(2028, 5, 15), Amount: cny(75000), CaseID: f.zCase})
		res, err := db.CheckCommitments(ctx, date.Of(2028, 5, 16), "system")
		if err != nil || len(res.Errors) > 0 || len(res.OffersPaid) != 1 || len(res.Waivers) != 1 || len(res.CasesClosed) != 1 || res.CasesClosed[0] != f.zCase {
			t.Fatalf("check: %+v %v", res, err)
		}
		// The case and its accounts are closed, with the closing on the timeline.
		c, err := db.GetCase(ctx, f.zCase)
		if err != nil || c.Status != sqldb.CaseClosed {
			t.Fatalf("case after its settlement: %+v %v", c, err)
		}
		accts, _ := db.CaseAccounts(ctx, f.zCase)
		for _, a := range accts {
			if a.Status != sqldb.AccountClosed || a.Principal.Minor()+a.Interest.Minor()+a.Fees.Minor() != 0 {
				t.Fatalf("account after the settlement: %+v", a)
			}
		}
		items, err := db.Timeline(ctx, f.zCase, 100)
		if err != nil {
			t.Fatal(err)
		}
		closedAt := 0
		for _, it := range items {
			if it.Kind == workout.KindCaseClosed && it.Action != nil && it.Action.Outcome == "settled" && it.Action.Amount == cny(75000) {
				closedAt++
			}
		}
		if closedAt != 1 {
			t.Fatalf("%d case_closed actions on the timeline", closedAt)
		}
		if open, err := db.ListCases(ctx, sqldb.CaseFilter{Status: sqldb.CaseOpen}); err != nil {
			t.Fatal(err)
		} else {
			for _, oc := range open {
				if oc.ID == f.zCase {
					t.Fatal("the closed case is still listed as open")
				}
			}
		}
		// The other cases stay open.
		if w, _ := db.GetCase(ctx, f.wCase); w.Status != sqldb.CaseOpen {
			t.Fatalf("case W %+v", w)
		}
		// Again: nothing changes (no second closing).
		if again, err := db.CheckCommitments(ctx, date.Of(2028, 5, 17), "system"); err != nil || len(again.CasesClosed) != 0 {
			t.Fatalf("second run %+v %v", again, err)
		}
		// A payment for the closed case, posted to it or naming it: queued, applied to nothing.
		sequenceAll(t, db, "DW")
		head0, _ := db.LedgerHead(ctx, "DW")
		n0, _ := sqldb.CountRowsForTest(ctx, db, "account_movements")
		for _, in := range []sqldb.PaymentInput{
			{TxnID: "Z-late-1", Date: date.Of(2028, 5, 25), Amount: cny(1000), CaseID: f.zCase},
			{TxnID: "Z-late-2", Date: date.Of(2028, 5, 25), Amount: cny(1000), Reference: workout.CaseRef(f.zCase)},
		} {
			p := post(in)
			if p.Status != sqldb.PaymentQueued || p.QueueReason != string(workout.QueueCaseClosed) || len(p.Allocations) != 0 {
				t.Fatalf("payment for a closed case: %+v", p)
			}
		}
		if n1, _ := sqldb.CountRowsForTest(ctx, db, "account_movements"); n1 != n0 {
			t.Fatalf("a payment for a closed case moved a balance (%d movements)", n1-n0)
		}
		sequenceAll(t, db, "DW")
		if head1, _ := db.LedgerHead(ctx, "DW"); head1.Size != head0.Size {
			t.Fatalf("a payment for a closed case reached the ledger (%d -> %d)", head0.Size, head1.Size)
		}
		// Close period 1: gross 100 + 200 - 200 + 750 = 850.00; the waiver 750.00.
		body, err := db.CloseDealPeriod(ctx, "DW", 1, dealBuilder(t, doc, "DW", 1))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			PoolCash  map[string]any `json:"pool_cash"`
			ByChannel []struct {
				Key   string `json:"key"`
				Count int    `json:"count"`
				Gross string `json:"gross"`
			} `json:"by_channel"`
		}
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"collections_gross": "850.00", "collections_net": "850.00", "costs": "0.00", "waivers": "750.00",
			"opening_claim": "2000.00", "closing_claim": "400.00"}
		for k, v := range want {
			if rep.PoolCash[k] != v {
				t.Errorf("pool_cash.%s = %v, want %s", k, rep.PoolCash[k], v)
			}
		}
		if len(rep.ByChannel) != 1 || rep.ByChannel[0].Gross != "850.00" || rep.ByChannel[0].Count != 3 {
			t.Errorf("by channel %+v", rep.ByChannel)
		}
		// A bounce dated in the reported window is refused; the credit stays applied.
		p1id := paymentByTxn(t, db, "P-1").ID
		if _, err := db.ReversePayment(ctx, p1id, date.Of(2028, 6, 10), "bounced", f.opt); reclaim.ErrorCode(err) != reclaim.EINVALID ||
			!strings.Contains(err.Error(), "already reported") {
			t.Fatalf("a bounce in a reported window: %v", err)
		}
		if p := paymentByTxn(t, db, "P-1"); p.Status != sqldb.PaymentApplied {
			t.Fatalf("the refused bounce changed the credit: %+v", p)
		}
		// So is a statement whose pool line is dated there: the error names the line (line 3 of the file,
		// after the header); nothing is imported.
		np0, _ := sqldb.CountRowsForTest(ctx, db, "payments")
		src := "txn_id,date,amount,reference\nQ-1,2028-07-02,1.00," + workout.CaseRef(f.wCase) + "\nQ-2,2028-06-10,1.00," + workout.CaseRef(f.wCase) + "\n"
		if _, err := db.ImportStatement(ctx, "late.csv", parseStmt(t, src), f.opt); reclaim.ErrorCode(err) != reclaim.EINVALID ||
			!strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "already reported") {
			t.Fatalf("a statement line in a reported window: %v", err)
		}
		if np1, _ := sqldb.CountRowsForTest(ctx, db, "payments"); np1 != np0 {
			t.Fatalf("a refused statement stored %d payments", np1-np0)
		}
		sequenceAll(t, db, "DW")
		// The verifier and the re-run (reclaim-verify report --deal-doc) agree.
		log, err := db.DealLog(ctx, "DW", false)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, e := range log {
			types[e.Type()]++
		}
		if types[verify.TypeLoanCollection] != 3 || types[verify.TypeLoanCollectionReversal] != 1 || types[verify.TypeLoanWaiver] != 2 {
			t.Fatalf("entry types %v", types)
		}
		drs, _ := verify.DealReports(log)
		if len(drs) != 1 || len(drs[0].Mismatches) > 0 || drs[0].Recomputed.Collections != 85000 {
			t.Fatalf("deal reports %+v", drs)
		}
		if ms, err := verify.CheckDealReportDoc(log, body); err != nil || len(ms) > 0 {
			t.Fatalf("document against the log: %v %+v", err, ms)
		}
		rr, err := rerun.Check(log, []rerun.Document{{Name: "deal.yaml", Data: doc}})
		if err != nil || rr.Mismatches() != 0 || len(rr.Periods) != 1 || !rr.Periods[0].Rerun || rr.Periods[0].Net != "850.00" {
			t.Fatalf("rerun %+v %v", rr, err)
		}
		// Tampering: a log without the bounce, or a document with the waiver taken out, is caught.
		var noBounce []verify.Entry
		for _, e := range log {
			if e.Type() != verify.TypeLoanCollectionReversal {
				noBounce = append(noBounce, e)
			}
		}
		if drs, _ := verify.DealReports(noBounce); len(drs) != 1 || !hasField(drs[0].Mismatches, "collections") {
			t.Fatalf("a dropped bounce was not caught: %+v", drs)
		}
		if rr, _ := rerun.Check(noBounce, []rerun.Document{{Name: "deal.yaml", Data: doc}}); rr == nil || rr.Mismatches() == 0 {
			t.Fatal("the re-run did not catch a dropped bounce")
		}
		var noWaiver []verify.Entry
		for _, e := range log {
			if e.Type() != verify.TypeLoanWaiver {
				noWaiver = append(noWaiver, e)
			}
		}
		if ms, _ := verify.CheckDealReportDoc(noWaiver, body); !hasField(ms, "pool_cash.waivers") {
			t.Fatalf("dropped waivers were not caught: %+v", ms)
		}
		forged := []byte(strings.Replace(string(body), `"waivers":"750.00"`, `"waivers":"0.00"`, 1))
		if ms, _ := verify.CheckDealReportDoc(log, forged); !hasField(ms, "pool_cash.waivers") || !hasField(ms, "report_hash") {
			t.Fatalf("a forged waiver figure was not caught: %+v", ms)
		}
	})
}

func hasField(ms []verify.Mismatch, field string) bool {
	for _, m := range ms {
		if m.Field == field {
			return true
		}
	}
	return false
}
