package sqldb_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

func exampleDeal(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../docs/examples/deal-npl-2tranche.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dealBuilder closes a period with package abs/live, as the CLI and the API do.
func dealBuilder(t *testing.T, doc []byte, pool string, period int) sqldb.DealReportBuild {
	return func(log []verify.Entry, size int64) ([]byte, []verify.Entry, error) {
		d, err := abs.Load(doc, abs.Options{})
		if err != nil {
			return nil, nil, err
		}
		st, err := live.StateFromEntries(log)
		if err != nil {
			return nil, nil, err
		}
		rep, _, err := live.Build(live.Input{Deal: d, State: st, Period: period, Origin: "test/" + pool, LedgerSize: size})
		if err != nil {
			return nil, nil, err
		}
		body, err := rep.Encode()
		if err != nil {
			return nil, nil, err
		}
		_, wins, err := live.Scenario(d, st, period)
		if err != nil {
			return nil, nil, err
		}
		es, err := rep.Entries(body, wins[period-1])
		return body, es, err
	}
}

func TestDealLifecycle(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p1 := importTape(t, db, "deal-hash-1", mixedLoans(12), nil)
		p2 := importTape(t, db, "deal-hash-2", mixedLoans(12), nil) // the same seller loan ids
		var sel []sqldb.DealLoan
		err := db.CandidateLoans(ctx, []int64{p1.ID, p2.ID}, func(pid int64, l *reclaim.Loan) error {
			if pid == p1.ID || len(sel) < 18 {
				sel = append(sel, sqldb.DealLoan{PortfolioID: pid, Loan: l})
			}
			return nil
		})
		if err != nil || len(sel) != 18 {
			t.Fatalf("candidates %d %v", len(sel), err)
		}
		doc := exampleDeal(t)
		eff := date.Of(2016, 5, 1)
		// An invalid document stores nothing.
		bad := []byte(strings.Replace(string(doc), `coupon: "3.00%"`, `coupon: "300%"`, 1))
		if _, err := db.CreateDeal(ctx, sqldb.DealSpec{Pool: "D1", Origin: "test/D1", Doc: bad, Effective: eff, Loans: sel}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("invalid document: %v", err)
		}
		if _, err := db.LedgerPool(ctx, "D1"); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("a pool was created from an invalid document: %v", err)
		}
		deal, err := db.CreateDeal(ctx, sqldb.DealSpec{Pool: "D1", Origin: "test/D1", Doc: doc, Effective: eff, Loans: sel, Criteria: `{"min_dpd":0}`, CreatedBy: "analyst"})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := abs.Load(doc, abs.Options{})
		if deal.Hash != d.Hash() || deal.OpenedHash != d.Hash() {
			t.Fatalf("deal %+v", deal)
		}
		// A loan is in one pool at a time.
		_, err = db.CreateDeal(ctx, sqldb.DealSpec{Pool: "D2", Origin: "test/D2", Doc: doc, Effective: eff, Loans: sel[:1]})
		if reclaim.ErrorCode(err) != reclaim.ECONFLICT || !strings.Contains(err.Error(), "already in pool D1") {
			t.Fatalf("a pooled loan pooled again: %v", err)
		}
		if _, err := db.GetDeal(ctx, "D2"); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("the refused deal was stored: %v", err)
		}
		n := 0
		db.CandidateLoans(ctx, []int64{p1.ID, p2.ID}, func(int64, *reclaim.Loan) error { n++; return nil })
		if n != 6 {
			t.Fatalf("%d candidates left, want 6", n)
		}
		// A pool opened from a whole portfolio (before deals) holds its loans too.
		p3 := importTape(t, db, "deal-hash-3", mixedLoans(3), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "OLD", Origin: "test/OLD", PortfolioID: p3.ID, Effective: eff}); err != nil {
			t.Fatal(err)
		}
		n = 0
		var p3loan *reclaim.Loan
		db.StreamLoans(ctx, p3.ID, func(l *reclaim.Loan) error { c := *l; p3loan = &c; return nil })
		db.CandidateLoans(ctx, []int64{p3.ID}, func(int64, *reclaim.Loan) error { n++; return nil })
		if n != 0 {
			t.Fatalf("%d candidates in a portfolio pooled whole", n)
		}
		if _, err := db.CreateDeal(ctx, sqldb.DealSpec{Pool: "D3", Origin: "test/D3", Doc: doc, Effective: eff,
			Loans: []sqldb.DealLoan{{PortfolioID: p3.ID, Loan: p3loan}}}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("a loan of a whole-portfolio pool pooled again: %v", err)
		}
		sequenceAll(t, db, "D1")
		// Servicing: collections by pool key (portfolio/loan id), a cost, a waiver, a servicer file.
		key := sel[0].Loan.LoanID
		if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "D1", LoanRef: live.PoolKey(p1.ID, key), Amount: money.New(100000, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "T1", Effective: date.Of(2016, 5, 20), PostedBy: "c"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "D1", LoanRef: live.PoolKey(p2.ID, key), Amount: money.New(50000, "CNY"),
			Channel: verify.ChannelCourt, TxnID: "T2", Effective: date.Of(2016, 6, 2), PostedBy: "c"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordDealCost(ctx, sqldb.DealCostSpec{Pool: "D1", Kind: verify.CostDisposal, Channel: verify.ChannelCourt,
			Amount: money.New(20000, "CNY"), Effective: date.Of(2016, 6, 3), Memo: "court fee", PostedBy: "c"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordDealCost(ctx, sqldb.DealCostSpec{Pool: "D1", Kind: verify.CostWaiver, Loan: live.PoolKey(p1.ID, key),
			Amount: money.New(1000, "CNY"), Effective: date.Of(2016, 6, 4), Memo: "settlement"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordDealCost(ctx, sqldb.DealCostSpec{Pool: "D1", Kind: verify.CostWaiver, Amount: money.New(1, "CNY"), Effective: date.Of(2016, 6, 4)}); err == nil {
			t.Fatal("a waiver without its loan was recorded")
		}
		file := []byte("date,amount\n2016-06-30,1000.00\n2016-08-31,2000.00\n")
		if n, err := db.ImportServicerFile(ctx, "D1", file); err != nil || n != 2 {
			t.Fatalf("servicer file %d %v", n, err)
		}
		if _, err := db.ImportServicerFile(ctx, "D1", file); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("a servicer file imported twice: %v", err)
		}
		// Period 2 cannot close before period 1.
		if _, err := db.CloseDealPeriod(ctx, "D1", 2, dealBuilder(t, doc, "D1", 2)); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("period 2 first: %v", err)
		}
		body, err := db.CloseDealPeriod(ctx, "D1", 1, dealBuilder(t, doc, "D1", 1))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), `"collections_gross":"2500.00"`) || !strings.Contains(string(body), `"costs":"200.00"`) {
			t.Fatalf("report %s", body)
		}
		if _, err := db.CloseDealPeriod(ctx, "D1", 1, dealBuilder(t, doc, "D1", 1)); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("period 1 twice: %v", err)
		}
		// A collection or a cost dated in the reported period is refused.
		if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "D1", LoanRef: live.PoolKey(p1.ID, key), Amount: money.New(100, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "T-late", Effective: date.Of(2016, 6, 10), PostedBy: "c"}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("a collection in a closed deal period: %v", err)
		}
		if _, err := db.RecordDealCost(ctx, sqldb.DealCostSpec{Pool: "D1", Kind: verify.CostDisposal, Amount: money.New(1, "CNY"),
			Effective: date.Of(2016, 6, 10)}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("a cost in a closed period: %v", err)
		}
		sequenceAll(t, db, "D1")
		if _, err := db.CloseDealPeriod(ctx, "D1", 2, dealBuilder(t, doc, "D1", 2)); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "D1")
		reps, err := db.DealReports(ctx, "D1")
		if err != nil || len(reps) != 2 || reps[0].PaymentDate != date.Of(2016, 7, 26) {
			t.Fatalf("reports %+v %v", reps, err)
		}
		stored, err := db.DealReportDoc(ctx, "D1", 1)
		if err != nil || string(stored) != string(body) || live.Hash(stored) != reps[0].Hash {
			t.Fatalf("stored report differs: %v", err)
		}
		// The verifier, from the log alone, agrees with both reports and with the document.
		log, err := db.DealLog(ctx, "D1", false)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := verify.DealReports(log)
		if len(res) != 2 {
			t.Fatalf("%d deal reports on the log", len(res))
		}
		for _, r := range res {
			if len(r.Mismatches) > 0 {
				t.Errorf("report at %d: %+v", r.Index, r.Mismatches)
			}
		}
		if ms, err := verify.CheckDealReportDoc(log, stored); err != nil || len(ms) > 0 {
			t.Errorf("document against the log: %v %+v", err, ms)
		}
		// Boarding entries are version 2 with the loan's attributes.
		boarded := 0
		for _, e := range log {
			if b, ok := e.(verify.LoanBoarded); ok {
				boarded++
				if b.V != verify.EntryVersion2 {
					t.Fatalf("boarding entry in version %d", b.V)
				}
			}
		}
		if boarded != 18 {
			t.Fatalf("%d boarded", boarded)
		}
		// Amendment.
		amended := []byte(strings.Replace(string(doc), `amount: "600000.00"`, `amount: "650000.00"`, 1))
		deal, err = db.AmendDeal(ctx, "D1", amended, "trustee fee raised", date.Of(2016, 9, 1))
		if err != nil || deal.Hash == deal.OpenedHash {
			t.Fatalf("amendment %+v %v", deal, err)
		}
		if _, err := db.AmendDeal(ctx, "D1", amended, "again", date.Of(2016, 9, 1)); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("an amendment changing nothing: %v", err)
		}
		// Loan-level data carries no seller key.
		rows, err := db.DealLoans(ctx, "D1")
		if err != nil || len(rows) != 18 {
			t.Fatalf("deal loans %d %v", len(rows), err)
		}
		for _, r := range rows {
			if strings.Contains(r.Ref, key) || r.Ref == "" {
				t.Fatalf("loan row %+v", r)
			}
		}
		// Investors and holdings.
		if err := db.CreateInvestor(ctx, sqldb.Investor{ID: "inv-a", Name: "Fund A"}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateInvestor(ctx, sqldb.Investor{ID: "inv-a", Name: "Fund A2"}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("investor twice: %v", err)
		}
		u, err := db.CreateUser(ctx, reclaim.User{Username: "inv-user", DisplayName: "Investor", Role: reclaim.RoleInvestor, PasswordHash: "hash"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetInvestorUser(ctx, "inv-a", u.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.SetHolding(ctx, sqldb.Holding{Investor: "inv-a", Pool: "D1", Tranche: "Z", Amount: money.New(1, "CNY")}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("holding of an unknown tranche: %v", err)
		}
		pools, _ := db.UserPools(ctx, u.ID)
		if len(pools) != 0 {
			t.Fatalf("pools before any holding: %v", pools)
		}
		if err := db.SetHolding(ctx, sqldb.Holding{Investor: "inv-a", Pool: "D1", Tranche: "A", Amount: money.New(100000000, "CNY")}); err != nil {
			t.Fatal(err)
		}
		pools, _ = db.UserPools(ctx, u.ID)
		if !pools["D1"] || len(pools) != 1 {
			t.Fatalf("pools %v", pools)
		}
		hs, _ := db.Holdings(ctx, "inv-a")
		if len(hs) != 1 || hs[0].Amount.String() != "1000000.00" {
			t.Fatalf("holdings %+v", hs)
		}
	})
}
