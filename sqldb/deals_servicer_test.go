package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"reclaim"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

// TestServicerFileByLoan: a per-loan servicer file is allocated to its loans (by per-pool
// reference or pool key, two rows on one loan), posted as one loan.collection per row, lowers
// each loan's balance, and the pool's roll-forward by loan (a period.report recomputed by the
// verifier) and the deal report's claim agree; bad files (unknown loan, too much, a closed
// window, a transaction already posted) are refused naming the line, with nothing stored.
func TestServicerFileByLoan(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p1 := importTape(t, db, "svc-hash-1", mixedLoans(6), nil)
		var sel []sqldb.DealLoan
		if err := db.CandidateLoans(ctx, []int64{p1.ID}, func(pid int64, l *reclaim.Loan) error {
			sel = append(sel, sqldb.DealLoan{PortfolioID: pid, Loan: l})
			return nil
		}); err != nil || len(sel) != 6 {
			t.Fatalf("candidates %d %v", len(sel), err)
		}
		if _, err := db.CreateDeal(ctx, sqldb.DealSpec{Pool: "S1", Origin: "test/S1", Doc: exampleDeal(t), Effective: date.Of(2016, 5, 1), Loans: sel}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "S1")
		before := loanBalances(t, db, "S1")
		log0, _ := db.DealLog(ctx, "S1", false)
		var refs []string
		for _, e := range log0 {
			if b, ok := e.(verify.LoanBoarded); ok {
				refs = append(refs, b.Loan)
			}
		}
		key0 := live.PoolKey(p1.ID, sel[0].Loan.LoanID)
		var ref0 string // the per-pool reference of sel[0]
		for _, pl := range l0Loans(t, db, "S1") {
			if pl.LoanKey == key0 || pl.LoanKey == sel[0].Loan.LoanID {
				ref0 = pl.Ref
			}
		}
		var others []string // loans with something left to collect, other than ref0
		for _, r := range refs {
			if r != ref0 && before[r] > 100 {
				others = append(others, r)
			}
		}
		if ref0 == "" || len(refs) != 6 || len(others) < 2 || before[ref0] < 2 {
			t.Fatalf("refs %v %q, others %v", refs, ref0, others)
		}

		// Refused files store nothing: an unknown loan and an amount above the loan's balance.
		over := money.New(before[refs[1]]+1, money.CNY)
		bad := fmt.Sprintf("date,loan,amount\n2016-05-20,%s,10.00\n2016-05-21,NOPE,10.00\n2016-05-22,%s,%s\n", key0, refs[1], over)
		_, err := db.ImportServicerFile(ctx, "S1", []byte(bad))
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !errorsAs(err, &re) || re.Fields["line 3 loan"] == "" || !strings.Contains(re.Fields["line 4 amount"], "exceeds loan "+refs[1]) {
			t.Fatalf("bad file: %v %+v", err, re)
		}
		assertUnchanged(t, db, "S1", before, len(log0))

		// Closed window: period 1 is closed, a row dated in it is refused naming its line.
		// (Checked below once a period is closed.)

		// A good file: pool key and reference, two rows on one loan, channel and txn columns.
		half := before[ref0] / 2
		good := fmt.Sprintf("Date,Loan,Amount,Channel,Txn_ID\n2016-05-20,%s,%s,agency,SV-1\n2016-06-10,%s,%s,,SV-2\n2016-06-11,%s,1.00,court,\n",
			key0, money.New(half, money.CNY), ref0, money.New(before[ref0]-half, money.CNY), others[0])
		n, err := db.ImportServicerFile(ctx, "S1", []byte(good))
		if err != nil || n != 3 {
			t.Fatalf("good file: %d %v", n, err)
		}
		if _, err := db.ImportServicerFile(ctx, "S1", []byte(good)); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("imported twice: %v", err)
		}
		after := loanBalances(t, db, "S1")
		if after[ref0] != 0 || after[others[0]] != before[others[0]]-100 {
			t.Fatalf("balances after the file: %d (was %d), %d (was %d)", after[ref0], before[ref0], after[others[0]], before[others[0]])
		}
		sequenceAll(t, db, "S1")
		log, err := db.DealLog(ctx, "S1", false)
		if err != nil {
			t.Fatal(err)
		}
		var colls []verify.LoanCollection
		for _, e := range log[len(log0):] {
			switch e := e.(type) {
			case verify.LoanCollection:
				colls = append(colls, e)
			case verify.DealCollections:
				t.Fatalf("a per-loan file logged pool cash without a loan: %+v", e)
			}
		}
		if len(colls) != 3 || colls[0].Loan != ref0 || colls[1].Loan != ref0 || colls[2].Loan != others[0] ||
			colls[0].Channel != verify.ChannelAgency || colls[1].Channel != verify.ChannelBankTransfer || colls[2].Channel != verify.ChannelCourt {
			t.Fatalf("collections %+v", colls)
		}
		for _, c := range colls {
			if c.Principal+c.Interest+c.Fees != c.Amount || strings.Contains(string(mustEncode(t, c)), sel[0].Loan.LoanID) {
				t.Fatalf("collection %+v", c)
			}
		}
		// The deal's claim rolls forward by loan: the whole file leaves the pool's claim.
		st, err := live.StateFromEntries(log)
		if err != nil {
			t.Fatal(err)
		}
		var boarded int64
		for _, m := range st.Members {
			boarded += m.Claim
		}
		if got := st.ClaimAt(date.Of(2016, 6, 30)); got != boarded-before[ref0]-100 {
			t.Fatalf("claim at 2016-06-30 %d, want %d", got, boarded-before[ref0]-100)
		}
		// The pool's period report rolls every loan's balance forward; the verifier agrees.
		doc, err := db.ClosePeriod(ctx, "S1", date.Of(2016, 5, 1), date.Of(2016, 6, 30), date.Of(2016, 7, 1))
		if err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "S1")
		log, _ = db.DealLog(ctx, "S1", false)
		var idx int64 = -1
		for i, e := range log {
			if e.Type() == verify.TypePeriodReport {
				idx = int64(i)
			}
		}
		res, err := verify.ReportEntries(log, idx)
		if err != nil || len(res.Mismatches) > 0 || res.Reported.CollectionsCount != 3 {
			t.Fatalf("period report %+v: %v %+v", doc, err, res)
		}
		// A row dated in the closed period is refused with its line; nothing stored.
		mid := loanBalances(t, db, "S1")
		late := fmt.Sprintf("date,loan,amount\n2016-07-02,%s,1.00\n2016-06-15,%s,1.00\n", others[1], others[1])
		_, err = db.ImportServicerFile(ctx, "S1", []byte(late))
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("a row in a closed period: %v", err)
		}
		assertUnchanged(t, db, "S1", mid, len(log))
		// A transaction already posted is a conflict naming the line.
		dup := fmt.Sprintf("date,loan,amount,txn_id\n2016-07-03,%s,1.00,sv-1\n", others[1])
		if _, err := db.ImportServicerFile(ctx, "S1", []byte(dup)); reclaim.ErrorCode(err) != reclaim.ECONFLICT || !strings.Contains(err.Error(), "line 2") {
			t.Fatalf("a transaction posted twice: %v", err)
		}
		assertUnchanged(t, db, "S1", mid, len(log))
		// The older date,amount file still logs pool cash without a loan.
		if n, err := db.ImportServicerFile(ctx, "S1", []byte("date,amount\n2016-07-05,5.00\n")); err != nil || n != 1 {
			t.Fatalf("date,amount file: %d %v", n, err)
		}
	})
}

func errorsAs(err error, re **reclaim.Error) bool {
	e, ok := err.(*reclaim.Error)
	if !ok {
		return false
	}
	*re = e
	return true
}

func mustEncode(t *testing.T, e verify.Entry) []byte {
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func l0Loans(t *testing.T, db *sqldb.DB, pool string) []sqldb.PoolLoan {
	t.Helper()
	ls, _, err := db.PoolLoans(context.Background(), pool, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// loanBalances is each pool loan's balance in minor units, by per-pool reference.
func loanBalances(t *testing.T, db *sqldb.DB, pool string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, l := range l0Loans(t, db, pool) {
		out[l.Ref] = l.Balance.Minor()
	}
	return out
}

// assertUnchanged checks that a refused file changed no balance and logged nothing.
func assertUnchanged(t *testing.T, db *sqldb.DB, pool string, balances map[string]int64, logSize int) {
	t.Helper()
	now := loanBalances(t, db, pool)
	for ref, b := range balances {
		if now[ref] != b {
			t.Fatalf("loan %s balance %d, was %d: a refused file changed it", ref, now[ref], b)
		}
	}
	log, err := db.DealLog(context.Background(), pool, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != logSize {
		t.Fatalf("log (with the outbox) has %d entries, was %d: a refused file logged something", len(log), logSize)
	}
}
