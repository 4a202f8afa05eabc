package sqldb_test

import (
	"context"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

func wantRule(t *testing.T, what string, err error, rule string) {
	t.Helper()
	e, ok := err.(*reclaim.Error)
	if !ok || e.Code != reclaim.EINVALID || e.Fields["rule"] != rule {
		t.Fatalf("%s: got %v, want EINVALID rule %s", what, err, rule)
	}
}

// verifyLog runs the investors' checks on the pool's whole log as the server stored it: every
// period report recomputed by effective date, and every movement in exactly one period.
func verifyLog(t *testing.T, db *sqldb.DB, pool string) []verify.Entry {
	t.Helper()
	ctx := context.Background()
	head, err := db.LedgerHead(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := db.LedgerEntries(ctx, pool, 0, head.Size)
	if err != nil {
		t.Fatal(err)
	}
	es := make([]verify.Entry, len(raw))
	for i, b := range raw {
		if es[i], err = verify.ParseEntry(b); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	for i, e := range es {
		if _, ok := e.(verify.PeriodReport); ok {
			if res, err := verify.ReportEntries(es, int64(i)); err != nil {
				t.Fatalf("report %d: %v %+v", i, err, res.Mismatches)
			}
		}
	}
	if res, err := verify.CheckPeriods(es); err != nil {
		t.Fatalf("periods: %v %+v", err, res.Problems)
	}
	return es
}

// TestPeriodsCutByEffectiveDate (issue 11 item 7): on both engines, a collection dated after the
// period's end but posted before its close is not in that period and is in the next; a movement
// dated inside a closed period is refused (collection, status, removal), on the last closed day
// and before, and accepted on the first open day; the roll-forward holds across three periods and
// matches the loans' balances; the verifier recomputes the same reports from the log.
func TestPeriodsCutByEffectiveDate(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		d := date.Of
		p := importTape(t, db, "period-cut", mixedLoans(9), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P", Origin: "test.example/ledger/P", PortfolioID: p.ID, Effective: d(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "P")
		all, _, err := db.PoolLoans(ctx, "P", 0, 10)
		if err != nil || len(all) != 9 {
			t.Fatalf("loans %d %v", len(all), err)
		}
		var boarded int64
		var pl []sqldb.PoolLoan // loans with something to collect, in a fixed order
		for _, l := range all {
			boarded += l.Balance.Minor()
			if l.Balance.Minor() >= 1000 {
				pl = append(pl, l)
			}
		}
		if len(pl) < 5 {
			t.Fatalf("%d loans with a balance", len(pl))
		}
		byRef := func(ref string) sqldb.PoolLoan {
			l, _, _ := db.PoolLoans(ctx, "P", 0, 10)
			for _, x := range l {
				if x.Ref == ref {
					return x
				}
			}
			t.Fatalf("no loan %s", ref)
			return sqldb.PoolLoan{}
		}
		n := 0
		collect := func(ref string, amt int64, eff date.Date) (string, error) {
			n++
			return db.PostCollection(ctx, sqldb.Collection{Pool: "P", LoanRef: ref, Amount: money.New(amt, "CNY"), Channel: verify.ChannelBankTransfer,
				TxnID: "T" + string(rune('A'+n)), Effective: eff, PostedBy: "collector"})
		}
		if _, err := collect(pl[0].Ref, 100, d(2026, 7, 10)); err != nil {
			t.Fatal(err)
		}
		// Posted in July (before the close), value date 1 August.
		if _, err := collect(pl[1].Ref, 200, d(2026, 8, 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetLoanStatus(ctx, "P", pl[2].Ref, verify.StatusContacted, "", d(2026, 8, 3)); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "P")
		postDated, _ := db.LedgerHead(ctx, "P") // the 1 August collection is entry Size-2
		jul, err := db.ClosePeriod(ctx, "P", d(2026, 7, 1), d(2026, 7, 31), d(2026, 8, 5))
		if err != nil {
			t.Fatal(err)
		}
		if jul.CollectionsCount != 1 || jul.Collections != "100" || jul.LoansBoarded != 9 || jul.FromIndex != 0 || jul.ToIndex != postDated.Size ||
			len(jul.StatusChanges) != 0 || jul.ClosingBalance != verify.Amount(boarded-100).String() {
			t.Fatalf("July counted by log position: %+v", jul)
		}
		sequenceAll(t, db, "P")
		before, _ := db.LedgerHead(ctx, "P")

		// Dated in the closed July: refused, nothing written.
		for _, eff := range []date.Date{d(2026, 7, 31), d(2026, 7, 1), d(2026, 6, 30)} {
			_, err := collect(pl[3].Ref, 50, eff)
			wantRule(t, "collection dated "+eff.String(), err, "period_closed")
			_, err = db.SetLoanStatus(ctx, "P", pl[3].Ref, verify.StatusPromise, "", eff)
			wantRule(t, "status dated "+eff.String(), err, "period_closed")
			_, err = db.RemoveLoan(ctx, "P", pl[3].Ref, verify.RemovalSold, money.New(1, "CNY"), eff)
			wantRule(t, "removal dated "+eff.String(), err, "period_closed")
		}
		sequenceAll(t, db, "P")
		if after, _ := db.LedgerHead(ctx, "P"); after.Size != before.Size {
			t.Fatalf("refused movements were logged: %d -> %d", before.Size, after.Size)
		}
		if l := byRef(pl[3].Ref); l.Balance != pl[3].Balance || l.Status != pl[3].Status {
			t.Fatalf("refused movements changed the loan: %+v", l)
		}
		// The first open day is accepted; so is a removal dated in September, posted in August.
		if _, err := collect(pl[3].Ref, 50, d(2026, 8, 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RemoveLoan(ctx, "P", pl[4].Ref, verify.RemovalRepurchased, money.New(1, "CNY"), d(2026, 9, 2)); err != nil {
			t.Fatal(err)
		}
		aug, err := db.ClosePeriod(ctx, "P", d(2026, 8, 1), d(2026, 8, 31), d(2026, 9, 1))
		if err != nil {
			t.Fatal(err)
		}
		if aug.CollectionsCount != 2 || aug.Collections != "250" || aug.LoansRemoved != 0 || aug.StatusChanges[verify.StatusContacted] != 1 ||
			aug.FromIndex != postDated.Size-2 || aug.OpeningBalance != jul.ClosingBalance || aug.ClosingBalance != verify.Amount(boarded-350).String() {
			t.Fatalf("August: %+v (the 1 August collection is entry %d)", aug, postDated.Size-2)
		}
		sep, err := db.ClosePeriod(ctx, "P", d(2026, 9, 1), d(2026, 9, 30), d(2026, 10, 1))
		if err != nil {
			t.Fatal(err)
		}
		if sep.LoansRemoved != 1 || sep.RemovedBalance != verify.Amount(pl[4].Balance.Minor()).String() || sep.CollectionsCount != 0 ||
			sep.FromIndex >= aug.ToIndex || sep.OpeningBalance != aug.ClosingBalance {
			t.Fatalf("September: %+v", sep)
		}
		// Every movement is dated by now: the closing balance is the loans' balances.
		pl2, _, _ := db.PoolLoans(ctx, "P", 0, 10)
		var outstanding int64
		for _, l := range pl2 {
			outstanding += l.Balance.Minor()
		}
		if sep.ClosingBalance != verify.Amount(outstanding).String() {
			t.Fatalf("closing %s, loans %d", sep.ClosingBalance, outstanding)
		}
		sequenceAll(t, db, "P")
		verifyLog(t, db, "P")
	})
}

// TestFirstPeriodStart: the first period must start on or before the first movement's date, so
// that no movement is dated before every period.
func TestFirstPeriodStart(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		d := date.Of
		p := importTape(t, db, "period-first", mixedLoans(3), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P", Origin: "test.example/ledger/P", PortfolioID: p.ID, Effective: d(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		_, err := db.ClosePeriod(ctx, "P", d(2026, 7, 2), d(2026, 7, 31), d(2026, 7, 31))
		wantRule(t, "first period after the boarding", err, "period_start_after_movement")
		rep, err := db.ClosePeriod(ctx, "P", d(2026, 7, 1), d(2026, 7, 31), d(2026, 7, 31))
		if err != nil || rep.LoansBoarded != 3 {
			t.Fatalf("first period from the boarding day: %+v %v", rep, err)
		}
		sequenceAll(t, db, "P")
		verifyLog(t, db, "P")
	})
}

// TestMisbookedEntryCaught: a log written around the rule (a collection dated in a closed period
// enqueued directly, as a faulty or dishonest server would) makes the next close fail instead of
// silently dropping it, and the investors' check names the entry.
func TestMisbookedEntryCaught(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		d := date.Of
		p := importTape(t, db, "period-misbook", mixedLoans(3), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P", Origin: "test.example/ledger/P", PortfolioID: p.ID, Effective: d(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClosePeriod(ctx, "P", d(2026, 7, 1), d(2026, 7, 31), d(2026, 7, 31)); err != nil {
			t.Fatal(err)
		}
		pl, _, _ := db.PoolLoans(ctx, "P", 0, 10)
		e, err := verify.LoanCollection{Header: verify.Header{Pool: "P", EventID: "late", Effective: "2026-07-20"}, Loan: pl[0].Ref, Amount: 10, Principal: 10,
			Channel: verify.ChannelCash, BankTxn: verify.Commit(make([]byte, 32), verify.TagBankTxn, verify.BankTxnRecord("X"))}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { return tx.Enqueue(ctx, "P", "late", e) }); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "P")
		if _, err := db.ClosePeriod(ctx, "P", d(2026, 8, 1), d(2026, 8, 31), d(2026, 8, 31)); reclaim.ErrorCode(err) != reclaim.EINTERNAL {
			t.Fatalf("close over a misbooked entry: %v", err)
		}
		head, _ := db.LedgerHead(ctx, "P")
		raw, _ := db.LedgerEntries(ctx, "P", 0, head.Size)
		es := make([]verify.Entry, len(raw))
		for i, b := range raw {
			es[i], _ = verify.ParseEntry(b)
		}
		res, err := verify.CheckPeriods(es)
		if err == nil || len(res.Problems) != 1 || res.Problems[0].EventID != "late" {
			t.Fatalf("verifier: %v %+v", err, res)
		}
	})
}

// TestRemovalNotBeforeCollection: a removal dated before a collection already posted on the loan
// is refused (rule removal_before_collection); on the collection's date it is accepted.
func TestRemovalNotBeforeCollection(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		d := date.Of
		p := importTape(t, db, "period-removal", mixedLoans(3), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P", Origin: "test.example/ledger/P", PortfolioID: p.ID, Effective: d(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		pl, _, _ := db.PoolLoans(ctx, "P", 0, 10)
		var l sqldb.PoolLoan
		for _, x := range pl {
			if x.Balance.Minor() >= 100 {
				l = x
			}
		}
		if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "P", LoanRef: l.Ref, Amount: money.New(50, "CNY"), Channel: verify.ChannelCash,
			TxnID: "R1", Effective: d(2026, 7, 20)}); err != nil {
			t.Fatal(err)
		}
		_, err := db.RemoveLoan(ctx, "P", l.Ref, verify.RemovalSold, money.New(1, "CNY"), d(2026, 7, 19))
		wantRule(t, "removal before a collection", err, "removal_before_collection")
		if _, err := db.RemoveLoan(ctx, "P", l.Ref, verify.RemovalSold, money.New(1, "CNY"), d(2026, 7, 20)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClosePeriod(ctx, "P", d(2026, 7, 1), d(2026, 7, 31), d(2026, 7, 31)); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "P")
		verifyLog(t, db, "P")
	})
}

// TestCloseRacesMovements: collections dated on the period's last day are posted while the
// period is being closed. Each is either counted by the report (it committed before the close
// saw the outbox) or refused as dated in a closed period; none lands on the log after the report
// dated inside it, and the investors' checks pass.
func TestCloseRacesMovements(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		d := date.Of
		p := importTape(t, db, "period-race", mixedLoans(12), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P", Origin: "test.example/ledger/P", PortfolioID: p.ID, Effective: d(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		pl, _, _ := db.PoolLoans(ctx, "P", 0, 20)
		var refs []string
		for _, l := range pl {
			if l.Balance.Minor() >= 1000 {
				refs = append(refs, l.Ref)
			}
		}
		const per = 5
		results := make(chan error, len(refs)*per)
		start := make(chan struct{})
		for w, ref := range refs {
			go func(w int, ref string) {
				<-start
				for k := 0; k < per; k++ {
					_, err := db.PostCollection(ctx, sqldb.Collection{Pool: "P", LoanRef: ref, Amount: money.New(1, "CNY"), Channel: verify.ChannelCash,
						TxnID: "RACE-" + string(rune('a'+w)) + string(rune('0'+k)), Effective: d(2026, 7, 31)})
					results <- err
				}
			}(w, ref)
		}
		close(start)
		// Close once the first collections are in, while the others are still being posted.
		first := []error{<-results, <-results}
		var rep sqldb.PeriodReportDoc
		var err error
		for attempt := 0; ; attempt++ {
			rep, err = db.ClosePeriod(ctx, "P", d(2026, 7, 1), d(2026, 7, 31), d(2026, 7, 31))
			if reclaim.ErrorCode(err) != reclaim.EUNAVAILABLE || attempt == 20 {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		accepted := 0
		for i := 0; i < len(refs)*per; i++ {
			var err error
			if i < len(first) {
				err = first[i]
			} else {
				err = <-results
			}
			switch {
			case err == nil:
				accepted++
			case reclaim.ErrorCode(err) == reclaim.EINVALID:
				wantRule(t, "raced collection", err, "period_closed")
			default:
				t.Fatalf("raced collection: %v", err)
			}
		}
		if rep.CollectionsCount != int64(accepted) {
			t.Fatalf("report counts %d collections, %d were accepted", rep.CollectionsCount, accepted)
		}
		sequenceAll(t, db, "P")
		verifyLog(t, db, "P")
		t.Logf("%d of %d racing collections accepted and counted, the rest refused", accepted, len(refs)*per)
	})
}
