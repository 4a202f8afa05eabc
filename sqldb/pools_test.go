package sqldb_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

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

func TestPoolLifecycle(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		loans := mixedLoans(40)
		p := importTape(t, db, "pool-hash", loans, nil)
		eff := date.Of(2026, 7, 1)
		lp, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "RCL-1", Origin: "test.example/ledger/RCL-1", PortfolioID: p.ID, Effective: eff})
		if err != nil {
			t.Fatal(err)
		}
		if lp.Pending != 41 || lp.Size != 0 {
			t.Fatalf("after opening: %+v", lp)
		}
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "RCL-1", Origin: "x/RCL-1", PortfolioID: p.ID, Effective: eff}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("pool opened twice: %v", err)
		}
		sequenceAll(t, db, "RCL-1")
		pl, total, err := db.PoolLoans(ctx, "RCL-1", 0, 100)
		if err != nil || total != 40 {
			t.Fatalf("pool loans %d %v", total, err)
		}
		var opening int64
		for _, l := range pl {
			opening += l.Balance.Minor()
		}
		// A collection pays fees, then interest, then principal.
		var withFees sqldb.PoolLoan
		for _, l := range pl {
			if l.Fees.Minor() > 0 && l.Interest.Minor() > 0 {
				withFees = l
				break
			}
		}
		if withFees.Ref == "" {
			t.Fatal("no loan with fees and interest in the test tape")
		}
		amt := withFees.Fees.Minor() + 1
		ev, err := db.PostCollection(ctx, sqldb.Collection{Pool: "RCL-1", LoanRef: withFees.Ref, Amount: money.New(amt, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "BANK-0001", Effective: eff.AddDays(3), PostedBy: "collector"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.PostCollection(ctx, sqldb.Collection{Pool: "RCL-1", LoanRef: withFees.Ref, Amount: money.New(1, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "BANK-0001", Effective: eff, PostedBy: "collector"})
		if reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("the same bank transaction twice: %v", err)
		}
		_, err = db.PostCollection(ctx, sqldb.Collection{Pool: "RCL-1", LoanRef: withFees.Ref, Amount: money.New(withFees.Balance.Minor(), "CNY"),
			Channel: verify.ChannelOnline, TxnID: "BANK-0002", Effective: eff, PostedBy: "collector"})
		if reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("more than the balance: %v", err)
		}
		for _, bad := range []sqldb.Collection{
			{Pool: "RCL-1", LoanRef: "nope", Amount: money.New(1, "CNY"), Channel: verify.ChannelCash, TxnID: "B3", Effective: eff},
			{Pool: "RCL-1", LoanRef: withFees.Ref, Amount: money.New(1, "CNY"), Channel: "pigeon", TxnID: "B4", Effective: eff},
			{Pool: "RCL-1", LoanRef: withFees.Ref, Amount: money.New(0, "CNY"), Channel: verify.ChannelCash, TxnID: "B5", Effective: eff},
		} {
			if _, err := db.PostCollection(ctx, bad); err == nil {
				t.Errorf("accepted %+v", bad)
			}
		}
		if _, err := db.SetLoanStatus(ctx, "RCL-1", pl[1].Ref, verify.StatusLitigation, "filed", eff.AddDays(5)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RemoveLoan(ctx, "RCL-1", pl[2].Ref, verify.RemovalRepurchased, money.New(1000, "CNY"), eff.AddDays(6)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RemoveLoan(ctx, "RCL-1", pl[2].Ref, verify.RemovalSold, money.Amount{}, eff.AddDays(6)); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("removed twice: %v", err)
		}
		if _, err := db.UpdateLoanRecord(ctx, "RCL-1", pl[3].Ref, []byte(`{"court":"fixed"}`), []string{"court", "court"}, eff.AddDays(7)); err != nil {
			t.Fatal(err)
		}
		rep, err := db.ClosePeriod(ctx, "RCL-1", date.Of(2026, 7, 1), date.Of(2026, 7, 31), date.Of(2026, 7, 31))
		if err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "RCL-1")
		// The report covers everything before it, and lands at ToIndex.
		head, _ := db.LedgerHead(ctx, "RCL-1")
		if rep.FromIndex != 0 || rep.ToIndex != head.Size-1 || rep.LoansBoarded != 40 || rep.CollectionsCount != 1 || rep.LoansRemoved != 1 {
			t.Fatalf("report %+v, size %d", rep, head.Size)
		}
		pl, _, _ = db.PoolLoans(ctx, "RCL-1", 0, 100)
		var closing int64
		for _, l := range pl {
			closing += l.Balance.Minor()
		}
		if rep.ClosingBalance != verify.Amount(closing).String() || rep.BoardedBalance != verify.Amount(opening).String() {
			t.Fatalf("balances %+v, opening %d closing %d", rep, opening, closing)
		}
		entries, err := db.LedgerEntries(ctx, "RCL-1", 0, head.Size)
		if err != nil {
			t.Fatal(err)
		}
		last, err := verify.ParseEntry(entries[len(entries)-1])
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := last.(verify.PeriodReport); !ok || r.ToIndex != head.Size-1 {
			t.Fatalf("last entry %T %+v", last, last)
		}
		// No seller key or borrower key reaches the log; every entry is canonical.
		for i, e := range entries {
			if _, err := verify.ParseEntry(e); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			for _, l := range loans {
				if strings.Contains(string(e), `"`+l.LoanID+`"`) || strings.Contains(string(e), `"`+l.BorrowerID+`"`) {
					t.Fatalf("entry %d names seller key %s / %s", i, l.LoanID, l.BorrowerID)
				}
			}
		}
		// The collection's bank commitment opens with its stored salt.
		leaf, err := db.LedgerLeafByEvent(ctx, "RCL-1", ev)
		if err != nil {
			t.Fatal(err)
		}
		ce, _ := verify.ParseEntry(leaf.Entry)
		salt, err := db.Salt(ctx, "RCL-1", ev, verify.TagBankTxn)
		if err != nil {
			t.Fatal(err)
		}
		if got := verify.Commit(salt, verify.TagBankTxn, verify.BankTxnRecord("BANK-0001")); got != ce.(verify.LoanCollection).BankTxn {
			t.Fatal("bank commitment does not open")
		}
		if c := ce.(verify.LoanCollection); c.Fees != verify.Amount(withFees.Fees.Minor()) || c.Interest != 1 || c.Principal != 0 {
			t.Fatalf("split %+v", c)
		}
		// A second period starts where the first ended, from its closing balance.
		rep2, err := db.ClosePeriod(ctx, "RCL-1", date.Of(2026, 8, 1), date.Of(2026, 8, 31), date.Of(2026, 8, 31))
		if err != nil {
			t.Fatal(err)
		}
		if rep2.FromIndex != rep.ToIndex || rep2.OpeningBalance != rep.ClosingBalance || rep2.ClosingBalance != rep.ClosingBalance {
			t.Fatalf("second report %+v", rep2)
		}
		reps, err := db.PeriodReports(ctx, "RCL-1")
		if err != nil || len(reps) != 2 {
			t.Fatalf("reports %d %v", len(reps), err)
		}
		b, _ := json.Marshal(reps[0])
		if !strings.Contains(string(b), `"loans_boarded":40`) {
			t.Fatalf("report doc %s", b)
		}
		// PIPL erasure destroys the record salts of a loan; the log is untouched.
		sequenceAll(t, db, "RCL-1")
		head, _ = db.LedgerHead(ctx, "RCL-1")
		n, err := db.EraseSalts(ctx, "RCL-1", pl[3].Ref)
		if err != nil || n != 2 {
			t.Fatalf("erased %d salts: %v", n, err)
		}
		head2, _ := db.LedgerHead(ctx, "RCL-1")
		if head2 != head {
			t.Fatalf("log size %d after erasure", head2.Size)
		}
	})
}

func TestPoolStatementsAndAuctions(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "auction-hash", mixedLoans(12), nil)
		eff := date.Of(2026, 1, 31)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "A1", Origin: "test.example/ledger/A1", PortfolioID: p.ID, Effective: eff}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "A1")
		cny := func(m int64) money.Amount { return money.New(m, "CNY") }
		st := sqldb.CashStatement{Pool: "A1", Account: "6222020200112233445", PeriodStart: date.Of(2026, 1, 1), PeriodEnd: eff,
			Opening: cny(1000), Credits: cny(500), Debits: cny(200), Closing: cny(1300), Document: []byte("statement"), Effective: eff}
		if _, err := db.RecordCashStatement(ctx, st); err != nil {
			t.Fatal(err)
		}
		st.Closing = cny(1301)
		if _, err := db.RecordCashStatement(ctx, st); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("unbalanced statement: %v", err)
		}
		loans, _, _ := db.PoolLoans(ctx, "A1", 0, 3)
		refs := []string{loans[0].Ref, loans[1].Ref, loans[2].Ref}
		if _, err := db.RecordAuctionResult(ctx, sqldb.AuctionSale{Pool: "A1", Auction: "AUC-1", Lot: "1", LoanRefs: refs, Price: cny(100001),
			Winner: "bidder-42", Effective: eff}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordAuctionResult(ctx, sqldb.AuctionSale{Pool: "A1", Auction: "AUC-1", Lot: "2", LoanRefs: refs[:1], Price: cny(1),
			Winner: "bidder-43", Effective: eff}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("a sold loan sold again: %v", err)
		}
		sequenceAll(t, db, "A1")
		head, _ := db.LedgerHead(ctx, "A1")
		entries, err := db.LedgerEntries(ctx, "A1", 0, head.Size)
		if err != nil {
			t.Fatal(err)
		}
		var price int64
		var sold, results int
		for _, b := range entries {
			e, err := verify.ParseEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			switch e := e.(type) {
			case verify.LoanRemoved:
				sold++
				price += int64(e.Price)
			case verify.AuctionResult:
				results++
			case verify.CashStatement:
				if strings.Contains(string(b), "6222020200112233445") {
					t.Fatal("the account number reached the log")
				}
			}
			if strings.Contains(string(b), "bidder-42") {
				t.Fatal("the winner's id reached the log")
			}
		}
		if sold != 3 || results != 1 || price != 100001 {
			t.Fatalf("sold %d, results %d, price parts sum to %d", sold, results, price)
		}
	})
}
