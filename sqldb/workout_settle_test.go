package sqldb_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
	"reclaim/workout"
)

// proposeAt returns a ProposeOffer decision the way the service makes it: the engine's offer
// for amount on the claim, and its approval under the default policy for a maker in role.
func proposeAt(amount money.Amount, maker, role string, expires, payBy date.Date) func(money.Amount) (workout.SettlementOffer, error) {
	return func(claim money.Amount) (workout.SettlementOffer, error) {
		o, err := workout.OfferFor(claim, amount)
		if err != nil {
			return workout.SettlementOffer{}, err
		}
		a, err := workout.RequiredApproval(workout.DefaultApprovalPolicy(), role, o)
		if err != nil {
			return workout.SettlementOffer{}, err
		}
		st := workout.OfferApproved
		if a.Checker != "" {
			st = workout.OfferProposed
		}
		return workout.SettlementOffer{Claim: claim, Amount: o.Amount, Waived: o.Waived, Discount: o.Discount, SuggestedDiscount: 0.5,
			Status: st, Maker: maker, MakerRole: role, CheckerRole: a.Checker, ExpiresOn: expires, PayBy: payBy, GraceDays: 3}, nil
	}
}

func checkAs(role, user string) func(workout.SettlementOffer) error {
	return func(o workout.SettlementOffer) error {
		return workout.DecideOffer(workout.DefaultApprovalPolicy(), o.MakerRole, o.Maker, role, user, o.Offer())
	}
}

func codeOf(err error) string {
	var e *reclaim.Error
	if asErr(err, &e) {
		return e.Code
	}
	return ""
}

// TestSettlementLifecycle: a collector's offer beyond its limit waits for a manager; the maker
// cannot approve it; it is approved once, accepted, paid in two payments, and on the day it is
// paid in full the remainder is waived: a waiver movement on each account (balances zero), a
// loan.waiver entry per pool loan, and a version-2 period report whose roll-forward the verifier
// recomputes.
func TestSettlementLifecycle(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, true)
		claim, err := db.CaseClaim(ctx, f.zCase)
		if err != nil || claim != cny(150000) {
			t.Fatalf("claim %s %v", claim, err)
		}
		exp, payBy := date.Of(2026, 4, 30), date.Of(2026, 4, 30)
		o, err := db.ProposeOffer(ctx, f.zCase, proposeAt(cny(75000), "alice", "collector", exp, payBy))
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != workout.OfferProposed || o.CheckerRole != "collection_manager" || o.Waived != cny(75000) || o.Discount != 0.5 {
			t.Fatalf("offer %+v", o)
		}
		// Beyond every limit (95%): refused, nothing stored. A second live offer: refused.
		n0, _ := sqldb.CountRowsForTest(ctx, db, "settlement_offers")
		if _, err := db.ProposeOffer(ctx, f.wCase, proposeAt(cny(1000), "alice", "collector", exp, payBy)); codeOf(err) != reclaim.EINVALID {
			t.Fatalf("offer beyond every limit: %v", err)
		}
		if _, err := db.ProposeOffer(ctx, f.zCase, proposeAt(cny(140000), "alice", "collector", exp, payBy)); codeOf(err) != reclaim.ECONFLICT {
			t.Fatalf("second live offer: %v", err)
		}
		if n1, _ := sqldb.CountRowsForTest(ctx, db, "settlement_offers"); n1 != n0 {
			t.Fatalf("refused offers stored %d rows", n1-n0)
		}
		// Maker-checker: the maker, and another collector, may not approve; a manager may.
		if _, err := db.DecideOffer(ctx, o.ID, true, "alice", "", checkAs("collection_manager", "alice")); codeOf(err) != reclaim.EFORBIDDEN {
			t.Fatalf("maker approves own: %v", err)
		}
		if _, err := db.DecideOffer(ctx, o.ID, true, "bob", "", checkAs("collector", "bob")); codeOf(err) != reclaim.EFORBIDDEN {
			t.Fatalf("collector approves: %v", err)
		}
		if g, _ := db.GetOffer(ctx, o.ID); g.Status != workout.OfferProposed || g.Checker != "" {
			t.Fatalf("a refused decision changed the offer: %+v", g)
		}
		// Accepting before approval is a conflict.
		if _, err := db.AcceptOffer(ctx, o.ID, date.Of(2026, 4, 1), nil, "alice"); codeOf(err) != reclaim.ECONFLICT {
			t.Fatalf("accept a proposed offer: %v", err)
		}
		if o, err = db.DecideOffer(ctx, o.ID, true, "mgr", "ok", checkAs("collection_manager", "mgr")); err != nil || o.Status != workout.OfferApproved {
			t.Fatalf("approve: %+v %v", o, err)
		}
		if _, err := db.DecideOffer(ctx, o.ID, false, "mgr2", "", checkAs("collection_manager", "mgr2")); codeOf(err) != reclaim.ECONFLICT {
			t.Fatalf("decided twice: %v", err)
		}
		if _, err := db.AcceptOffer(ctx, o.ID, date.Of(2026, 5, 1), nil, "alice"); codeOf(err) != reclaim.EINVALID {
			t.Fatalf("accepted after expiry: %v", err)
		}
		if o, err = db.AcceptOffer(ctx, o.ID, date.Of(2026, 4, 1), nil, "alice"); err != nil || o.Status != workout.OfferAccepted {
			t.Fatalf("accept: %+v %v", o, err)
		}
		// 500.00 on 2 April: not yet paid.
		if _, err := db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "S-1", Date: date.Of(2026, 4, 2), Amount: cny(50000), CaseID: f.zCase}, f.opt); err != nil {
			t.Fatal(err)
		}
		res, err := db.CheckCommitments(ctx, date.Of(2026, 4, 3), "system")
		if err != nil || len(res.Errors) > 0 || len(res.OffersPaid) != 0 {
			t.Fatalf("check: %+v %v", res, err)
		}
		if g, _ := db.GetOffer(ctx, o.ID); g.Received != cny(50000) || g.Status != workout.OfferAccepted {
			t.Fatalf("after the first payment %+v", g)
		}
		// 250.00 on 5 April: paid in full; the remaining 750.00 is waived.
		if _, err := db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "S-2", Date: date.Of(2026, 4, 5), Amount: cny(25000), CaseID: f.zCase}, f.opt); err != nil {
			t.Fatal(err)
		}
		res, err = db.CheckCommitments(ctx, date.Of(2026, 4, 6), "system")
		if err != nil || len(res.Errors) > 0 || len(res.OffersPaid) != 1 || len(res.Waivers) != 1 {
			t.Fatalf("check: %+v %v", res, err)
		}
		for ref, b := range accountBalances(t, db, f.zCase) {
			if b != [3]int64{} {
				t.Errorf("loan %s not waived to zero: %v", ref, b)
			}
		}
		ws, err := db.CaseWaivers(ctx, f.zCase)
		if err != nil || len(ws) != 1 || ws[0].Waived != cny(75000) || ws[0].Paid != cny(75000) || ws[0].Checker != "mgr" || len(ws[0].Loans) != 2 {
			t.Fatalf("waivers %+v %v", ws, err)
		}
		for _, l := range ws[0].Loans {
			if l.Pool != "PAY-1" || l.PoolEvent == "" {
				t.Fatalf("waiver loan without its ledger entry: %+v", l)
			}
		}
		ms, _ := db.Movements(ctx, f.zCase)
		var waived int64
		for _, m := range ms {
			if m.Type == workout.MoveWaiver {
				waived -= m.Amount.Minor()
			}
		}
		if waived != 75000 {
			t.Fatalf("waiver movements sum to %d", waived)
		}
		// Again on the same day: nothing changes.
		again, err := db.CheckCommitments(ctx, date.Of(2026, 4, 6), "system")
		if err != nil || len(again.OffersPaid)+len(again.Waivers)+len(again.Errors) != 0 {
			t.Fatalf("second run %+v %v", again, err)
		}
		// The ledger: two loan.waiver entries; the period report carries them (version 2) and the
		// verifier's roll-forward agrees.
		sequenceAll(t, db, "PAY-1")
		rep, err := db.ClosePeriod(ctx, "PAY-1", date.Of(2026, 3, 2), date.Of(2026, 4, 30), date.Of(2026, 4, 30))
		if err != nil {
			t.Fatal(err)
		}
		if rep.WaiversCount != 2 || rep.Waived != verify.Amount(75000).String() {
			t.Fatalf("report %+v", rep)
		}
		sequenceAll(t, db, "PAY-1")
		head, _ := db.LedgerHead(ctx, "PAY-1")
		raw, err := db.LedgerEntries(ctx, "PAY-1", 0, head.Size)
		if err != nil {
			t.Fatal(err)
		}
		var entries []verify.Entry
		types := map[string]int{}
		for i, b := range raw {
			e, err := verify.ParseEntry(b)
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if strings.Contains(string(b), "张") || strings.Contains(string(b), "LN-000") || strings.Contains(string(b), "alice") {
				t.Fatalf("personal data, a seller key or a user on the ledger: %s", b)
			}
			entries = append(entries, e)
			types[e.Type()]++
		}
		last, ok := entries[len(entries)-1].(verify.PeriodReport)
		if types[verify.TypeLoanWaiver] != 2 || !ok || last.V != verify.EntryVersion2 || last.Waived != 75000 {
			t.Fatalf("entry types %v, report %+v", types, entries[len(entries)-1])
		}
		if res, err := verify.ReportEntries(entries, int64(len(entries)-1)); err != nil {
			t.Fatalf("the verifier disagrees: %v %+v", err, res.Mismatches)
		}
	})
}

// TestPlansPromisesAndExpiry: plans with negative or overlapping instalments are refused naming
// the instalment (nothing stored); the job marks a missed plan broken, a kept promise kept, a late
// one broken (the day after its grace), an approved offer never accepted expired, and a settlement plan complete.
func TestPlansPromisesAndExpiry(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, false)
		d := date.Of
		inst := func(seq int, due date.Date, minor int64) workout.Instalment {
			return workout.Instalment{Seq: seq, Due: due, Amount: cny(minor)}
		}
		for name, c := range map[string]struct {
			plan  workout.Plan
			field string
		}{
			"overlap":  {workout.Plan{Total: cny(20000), Instalments: []workout.Instalment{inst(1, d(2026, 5, 1), 10000), inst(2, d(2026, 5, 1), 10000)}}, "instalments[1].due"},
			"negative": {workout.Plan{Total: cny(20000), Instalments: []workout.Instalment{inst(1, d(2026, 5, 1), 30000), inst(2, d(2026, 6, 1), -10000)}}, "instalments[1].amount"},
			"too much": {workout.Plan{Total: cny(40000), Instalments: []workout.Instalment{inst(1, d(2026, 5, 1), 40000)}}, "total"},
		} {
			_, err := db.CreatePlan(ctx, f.wCase, c.plan, 3, d(2026, 4, 1), "alice")
			var e *reclaim.Error
			if !asErr(err, &e) || e.Code != reclaim.EINVALID || e.Fields["field"] != c.field {
				t.Errorf("%s: %v", name, err)
			}
		}
		if n, _ := sqldb.CountRowsForTest(ctx, db, "payment_plans"); n != 0 {
			t.Fatalf("refused plans stored %d", n)
		}
		plan, err := workout.NewPlan("", cny(30000), d(2026, 4, 10), 3, money.Amount{})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := db.CreatePlan(ctx, f.wCase, plan, 3, d(2026, 4, 1), "alice")
		if err != nil || sp.Status != workout.PlanActive || len(sp.Instalments) != 3 {
			t.Fatalf("plan %+v %v", sp, err)
		}
		// A promise must come from a promise_to_pay call of the case.
		act, err := db.AddAction(ctx, workout.Action{CaseID: f.nCase, Kind: workout.KindCall, Channel: workout.KindCall, Outcome: workout.CallPromiseToPay, Actor: "alice"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		note, _ := db.AddAction(ctx, workout.Action{CaseID: f.nCase, Kind: workout.KindNote, Outcome: "", Actor: "alice", Note: "x"}, nil)
		if _, err := db.AddPromise(ctx, workout.StoredPromise{CaseID: f.nCase, ActionID: note.ID, Made: d(2026, 4, 1), Due: d(2026, 4, 8), Amount: cny(5000), Actor: "alice"}); codeOf(err) != reclaim.EINVALID {
			t.Fatalf("promise from a note: %v", err)
		}
		if _, err := db.AddPromise(ctx, workout.StoredPromise{CaseID: f.wCase, ActionID: act.ID, Made: d(2026, 4, 1), Due: d(2026, 4, 8), Amount: cny(5000), Actor: "alice"}); codeOf(err) != reclaim.EINVALID {
			t.Fatalf("promise from another case's call: %v", err)
		}
		kept, err := db.AddPromise(ctx, workout.StoredPromise{CaseID: f.nCase, ActionID: act.ID, Made: d(2026, 4, 1), Due: d(2026, 4, 8), Amount: cny(5000), Grace: 2, Actor: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		late, err := db.AddPromise(ctx, workout.StoredPromise{CaseID: f.zCase, Made: d(2026, 4, 1), Due: d(2026, 4, 8), Amount: cny(5000), Grace: 2, Actor: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		// An approved offer on N that is never accepted.
		off, err := db.ProposeOffer(ctx, f.nCase, proposeAt(cny(18000), "mgr", "collection_manager", d(2026, 4, 20), d(2026, 4, 30)))
		if err != nil || off.Status != workout.OfferApproved {
			t.Fatalf("offer within the maker's limit: %+v %v", off, err)
		}
		// W pays the first instalment (100.00) on time, nothing after; N pays 50.00 in time.
		for _, p := range []sqldb.PaymentInput{
			{TxnID: "P-1", Date: d(2026, 4, 9), Amount: cny(10000), CaseID: f.wCase},
			{TxnID: "P-2", Date: d(2026, 4, 9), Amount: cny(5000), CaseID: f.nCase},
		} {
			if _, err := db.PostPayment(ctx, p, f.opt); err != nil {
				t.Fatal(err)
			}
		}
		res, err := db.CheckCommitments(ctx, d(2026, 4, 11), "system")
		if err != nil || len(res.Errors) > 0 || !equalIDs(res.PromisesKept, kept.ID) || !equalIDs(res.PromisesBroken, late.ID) || len(res.PlansBroken) != 0 {
			t.Fatalf("11 April: %+v %v", res, err)
		}
		res, err = db.CheckCommitments(ctx, d(2026, 5, 14), "system")
		if err != nil || len(res.Errors) > 0 || len(res.PromisesBroken) != 0 || !equalIDs(res.PlansBroken, sp.ID) || !equalIDs(res.OffersExpired, off.ID) {
			t.Fatalf("14 May: %+v %v", res, err)
		}
		ps, _ := db.CasePlans(ctx, f.wCase)
		if len(ps) != 1 || ps[0].Status != workout.PlanBroken || ps[0].MissedSeq != 2 || ps[0].Shortfall != cny(10000) {
			t.Fatalf("plan after %+v", ps)
		}
		pr, _ := db.CasePromises(ctx, f.zCase)
		if len(pr) != 1 || pr[0].Status != string(workout.PromiseBroken) || pr[0].ClosedOn != d(2026, 4, 11) {
			t.Fatalf("promise %+v", pr)
		}
		// A settlement on W paid by a plan: complete when its instalments are paid.
		o, err := db.ProposeOffer(ctx, f.wCase, proposeAt(cny(15000), "mgr", "collection_manager", d(2026, 6, 30), d(2026, 7, 31)))
		if err != nil {
			t.Fatal(err)
		}
		bad := workout.Plan{Total: cny(14000), Instalments: []workout.Instalment{inst(1, d(2026, 6, 1), 14000)}}
		if _, err := db.AcceptOffer(ctx, o.ID, d(2026, 5, 20), &bad, "mgr"); codeOf(err) != reclaim.EINVALID {
			t.Fatalf("plan not the offer's amount: %v", err)
		}
		pl, _ := workout.NewPlan("", cny(15000), d(2026, 6, 1), 2, money.Amount{})
		if o, err = db.AcceptOffer(ctx, o.ID, d(2026, 5, 20), &pl, "mgr"); err != nil || o.Plan == nil || len(o.Plan.Instalments) != 2 {
			t.Fatalf("accept with a plan: %+v %v", o, err)
		}
		for i, p := range []sqldb.PaymentInput{
			{TxnID: "Q-1", Date: d(2026, 6, 1), Amount: cny(7500), CaseID: f.wCase},
			{TxnID: "Q-2", Date: d(2026, 7, 1), Amount: cny(7500), CaseID: f.wCase},
		} {
			if _, err := db.PostPayment(ctx, p, f.opt); err != nil {
				t.Fatal(i, err)
			}
		}
		res, err = db.CheckCommitments(ctx, d(2026, 7, 2), "system")
		if err != nil || len(res.Errors) > 0 || !equalIDs(res.OffersPaid, o.ID) || len(res.Waivers) != 1 {
			t.Fatalf("plan settlement: %+v %v", res, err)
		}
		if g, _ := db.GetOffer(ctx, o.ID); g.Plan == nil || g.Plan.Status != workout.PlanComplete || g.Status != workout.OfferPaid {
			t.Fatalf("offer after %+v", g)
		}
		// W's claim 300.00, paid 100 + 150, waived 50.
		if ws, _ := db.CaseWaivers(ctx, f.wCase); len(ws) != 1 || ws[0].Waived != cny(5000) || ws[0].Loans[0].Pool != "" {
			t.Fatalf("waiver %+v", ws)
		}
	})
}

func equalIDs(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestDecideOfferRace: two managers approve the same offer at once: exactly one decision is
// stored, the other is ECONFLICT (PostgreSQL's serializable transactions, SQLite's one writer).
func TestDecideOfferRace(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, false)
		for round := 0; round < 5; round++ {
			caseID := []int64{f.zCase, f.wCase, f.nCase}[round%3]
			o, err := db.ProposeOffer(ctx, caseID, func(claim money.Amount) (workout.SettlementOffer, error) {
				x, _ := workout.OfferAt(claim, 0.5)
				return workout.SettlementOffer{Claim: claim, Amount: x.Amount, Waived: x.Waived, Discount: x.Discount, Status: workout.OfferProposed,
					Maker: "alice", MakerRole: "collector", CheckerRole: "collection_manager", ExpiresOn: date.Of(2026, 12, 31), PayBy: date.Of(2026, 12, 31)}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					u := []string{"m1", "m2", "m3", "m4"}[i]
					_, errs[i] = db.DecideOffer(ctx, o.ID, i%2 == 0, u, "", checkAs("collection_manager", u))
				}(i)
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case codeOf(err) != reclaim.ECONFLICT:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			g, _ := db.GetOffer(ctx, o.ID)
			if ok != 1 || (g.Status != workout.OfferApproved && g.Status != workout.OfferRejected) || g.Checker == "" {
				t.Fatalf("round %d: %d decisions stored, offer %+v", round, ok, g)
			}
			// Close it so the case can take the next round's offer.
			if _, err := db.CheckCommitments(ctx, date.Of(2027, 1, 1), "system"); err != nil {
				t.Fatal(err)
			}
		}
	})
}
