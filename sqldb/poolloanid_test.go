package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

// TestCollectByTapeLoanID: a collection may name the loan by the seller's loan id; the ledger
// entry still carries only the per-pool reference.
func TestCollectByTapeLoanID(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		loans := mixedLoans(5)
		p := importTape(t, db, "loan-id-hash", loans, nil)
		eff := date.Of(2026, 7, 1)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "RCL-ID", Origin: "test.example/RCL-ID", PortfolioID: p.ID, Effective: eff}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "RCL-ID")
		pl, _, err := db.PoolLoans(ctx, "RCL-ID", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		k := -1
		for i, l := range pl {
			if l.Balance.Minor() >= 100 {
				k = i
			}
		}
		if k < 0 {
			t.Fatal("no loan with a balance")
		}
		target := pl[k]
		if target.LoanKey == "" || target.LoanKey == target.Ref {
			t.Fatalf("pool loan without a distinct loan id: %+v", target)
		}
		ev, err := db.PostCollection(ctx, sqldb.Collection{Pool: "RCL-ID", LoanRef: target.LoanKey, Amount: money.New(100, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "BANK-ID-1", Effective: eff, PostedBy: "collector"})
		if err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "RCL-ID")
		after, _, _ := db.PoolLoans(ctx, "RCL-ID", 0, 10)
		if after[k].Balance.Minor() != target.Balance.Minor()-100 {
			t.Errorf("balance %v, want %v - 1.00", after[k].Balance, target.Balance)
		}
		lp, err := db.LedgerPool(ctx, "RCL-ID")
		if err != nil {
			t.Fatal(err)
		}
		entries, err := db.LedgerEntries(ctx, "RCL-ID", 0, lp.Size)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if strings.Contains(string(e), ev) {
				found = true
				if !strings.Contains(string(e), target.Ref) || strings.Contains(string(e), target.LoanKey) {
					t.Errorf("collection entry does not carry the reference alone: %s", e)
				}
			}
		}
		if !found {
			t.Fatalf("collection %s not on the ledger", ev)
		}
		_, err = db.PostCollection(ctx, sqldb.Collection{Pool: "RCL-ID", LoanRef: "no-such-loan", Amount: money.New(100, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "BANK-ID-2", Effective: eff, PostedBy: "collector"})
		if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown loan: %v", err)
		}
		// Status changes take the reference only: the tape's loan id must not reach the ledger.
		if _, err := db.SetLoanStatus(ctx, "RCL-ID", target.LoanKey, verify.StatusOpen, "x", eff); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("status by loan id: %v", err)
		}
	})
}
