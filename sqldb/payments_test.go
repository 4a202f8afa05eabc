package sqldb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
	"reclaim/workout"
)

// paymentsFixture imports and boards a portfolio of four debtors and opens a pool on it.
type paymentsFixture struct {
	db                  *sqldb.DB
	zCase, wCase, nCase int64
	opt                 sqldb.PaymentOptions
	portfolio           int64
}

func newPaymentsFixture(t *testing.T, db *sqldb.DB, withPool bool) paymentsFixture {
	t.Helper()
	ctx := context.Background()
	zhang := reclaim.PersonalData{Name: "张三", NationalID: "11010519491231002x", Phone: "13800138000"}
	wang := reclaim.PersonalData{Name: "王五", Phone: "13900000000"}
	p := importPeople(t, db, "pay-h1", "PKG-P", []reclaim.Loan{
		workoutLoan("PKG-P", "LN-0001", "Z", 100000), workoutLoan("PKG-P", "LN-0002", "Z", 50000),
		workoutLoan("PKG-P", "LN-0003", "W", 30000), workoutLoan("PKG-P", "LN-0004", "N", 20000),
	}, map[string]reclaim.PersonalData{"Z": zhang, "W": wang})
	if _, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 3, 2), Price: cny(50000), Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	f := paymentsFixture{db: db, portfolio: p.ID}
	f.zCase, _ = db.CaseForLoan(ctx, p.ID, "LN-0001")
	f.wCase, _ = db.CaseForLoan(ctx, p.ID, "LN-0003")
	f.nCase, _ = db.CaseForLoan(ctx, p.ID, "LN-0004")
	bk := testBlindKey(t)
	f.opt = sqldb.PaymentOptions{Actor: "user:tester", Blind: sqldb.BlindLookup(bk)}
	if withPool {
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "PAY-1", Origin: "test.example/ledger/PAY-1", PortfolioID: p.ID, Effective: date.Of(2026, 3, 2)}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "PAY-1")
	}
	return f
}

func parseStmt(t *testing.T, src string) *workout.Statement {
	t.Helper()
	st, err := workout.ParseStatement(strings.NewReader(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func accountBalances(t *testing.T, db *sqldb.DB, caseID int64) map[string][3]int64 {
	t.Helper()
	as, err := db.CaseAccounts(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][3]int64{}
	for _, a := range as {
		out[a.LoanRef] = [3]int64{a.Fees.Minor(), a.Interest.Minor(), a.Principal.Minor()}
	}
	return out
}

func paymentByTxn(t *testing.T, db *sqldb.DB, txn string) sqldb.Payment {
	t.Helper()
	ps, err := db.ListPayments(context.Background(), sqldb.PaymentFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.TxnID == txn {
			full, err := db.GetPayment(context.Background(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return full
		}
	}
	t.Fatalf("no payment %s", txn)
	return sqldb.Payment{}
}

func TestImportStatementEndToEnd(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, true)
		before := accountBalances(t, db, f.zCase)
		src := fmt.Sprintf(`txn_id,date,amount,payer_name,payer_phone,reference,reverses
T1,2026-04-02,500.00,张三,,还款 ln-0002,
T2,2026-04-02,100.00,王五,139-0000-0000,,
T3,2026-04-03,7.77,某人,,thanks,
T4,2026-04-03,-500.00,张三,,退票,T1
T5,2026-04-04,2000.00,,,%s 结清,
`, workout.CaseRef(f.nCase))
		imp, err := db.ImportStatement(ctx, "nov.csv", parseStmt(t, src), f.opt)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Lines != 5 || imp.Matched != 2 || imp.Queued != 1 || imp.Reversals != 1 || imp.Applied != cny(210000) {
			t.Fatalf("import %+v", imp)
		}
		// T1 paid LN-0002 (named in the reference) and was reversed: Z's balances are back.
		if got := accountBalances(t, db, f.zCase); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("after the reversal %v, before %v", got, before)
		}
		// The reversed part-payment no longer interrupts the period.
		if as, _ := db.CaseAccounts(ctx, f.zCase); as[1].LoanRef != "LN-0002" || as[1].LimitationExpiry != date.Of(2027, 2, 28) {
			t.Fatalf("limitation after the reversal: %+v", as)
		}
		p1 := paymentByTxn(t, db, "T1")
		if p1.Status != sqldb.PaymentReversed || p1.Method != string(workout.MatchReference) || p1.ReversedBy == 0 || len(p1.Allocations) != 1 {
			t.Fatalf("T1 %+v", p1)
		}
		if a := p1.Allocations[0]; a.Fees != cny(40) || a.Interest != cny(60) || a.Principal != cny(49900) || a.Pool != "PAY-1" || a.PoolEvent == "" {
			t.Fatalf("T1 allocation %+v", a)
		}
		rev := paymentByTxn(t, db, "T4")
		if rev.Status != sqldb.PaymentReversal || rev.ReversesID != p1.ID || len(rev.Allocations) != 1 || rev.Allocations[0].Principal != cny(-49900) {
			t.Fatalf("T4 %+v", rev)
		}
		// T2 found W's case by the blind index of the phone.
		if p2 := paymentByTxn(t, db, "T2"); p2.Status != sqldb.PaymentApplied || p2.CaseID != f.wCase || p2.Method != string(workout.MatchBlindIndex) || p2.PayerMasked != "王*" {
			t.Fatalf("T2 %+v", p2)
		}
		// T5 pays N's whole balance (20000.00 fen = 200.00) and leaves a credit.
		p5 := paymentByTxn(t, db, "T5")
		if p5.Status != sqldb.PaymentApplied || p5.CaseID != f.nCase || p5.Credit != cny(200000-20000) {
			t.Fatalf("T5 %+v", p5)
		}
		// T3 waits in the queue; a person matches it to W.
		q, err := db.ListPayments(ctx, sqldb.PaymentFilter{Status: sqldb.PaymentQueued})
		if err != nil || len(q) != 1 || q[0].TxnID != "T3" || q[0].QueueReason != string(workout.QueueNoMatch) {
			t.Fatalf("queue %+v %v", q, err)
		}
		m, err := db.MatchPayment(ctx, q[0].ID, f.wCase, nil, f.opt)
		if err != nil || m.Status != sqldb.PaymentApplied || m.Method != string(workout.MatchManual) || m.MatchedBy != "user:tester" {
			t.Fatalf("manual match %+v %v", m, err)
		}
		if _, err := db.MatchPayment(ctx, q[0].ID, f.wCase, nil, f.opt); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("matched twice: %v", err)
		}
		// Newest first, paged with BeforeID: the console's "recently applied" list.
		all, err := db.ListPayments(ctx, sqldb.PaymentFilter{Status: sqldb.PaymentApplied})
		if err != nil || len(all) < 3 {
			t.Fatalf("applied %d %v", len(all), err)
		}
		newest, err := db.ListPayments(ctx, sqldb.PaymentFilter{Status: sqldb.PaymentApplied, Newest: true, Limit: 2})
		if err != nil || len(newest) != 2 || newest[0].ID != all[len(all)-1].ID || newest[1].ID != all[len(all)-2].ID {
			t.Fatalf("newest first: %+v %v", newest, err)
		}
		older, err := db.ListPayments(ctx, sqldb.PaymentFilter{Status: sqldb.PaymentApplied, Newest: true, BeforeID: newest[1].ID})
		if err != nil || len(older) != len(all)-2 || (len(older) > 0 && older[0].ID != all[len(all)-3].ID) {
			t.Fatalf("the page before %d: %+v %v", newest[1].ID, older, err)
		}
		// A bounce reported through the API reverses T2.
		p2 := paymentByTxn(t, db, "T2")
		r2, err := db.ReversePayment(ctx, p2.ID, date.Of(2026, 4, 5), "bounced", f.opt)
		if err != nil || r2.Status != sqldb.PaymentReversal || r2.Amount != cny(-10000) {
			t.Fatalf("reverse %+v %v", r2, err)
		}
		if _, err := db.ReversePayment(ctx, p2.ID, date.Of(2026, 4, 5), "again", f.opt); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("reversed twice: %v", err)
		}
		// The same file again, or a file repeating a posted transaction, changes nothing.
		n0, _ := sqldb.CountRowsForTest(ctx, db, "payments")
		if _, err := db.ImportStatement(ctx, "nov.csv", parseStmt(t, src), f.opt); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("same file twice: %v", err)
		}
		_, err = db.ImportStatement(ctx, "dec.csv", parseStmt(t, "txn_id,date,amount,reference\nT9,2026-04-09,1.00,x\nt5,2026-04-09,1.00,y\n"), f.opt)
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.ECONFLICT || !asErr(err, &re) || re.Fields["line"] != "3" || re.Fields["rule"] != "already_posted" {
			t.Fatalf("a posted transaction again: %v", err)
		}
		if n1, _ := sqldb.CountRowsForTest(ctx, db, "payments"); n1 != n0 {
			t.Fatalf("a rejected file wrote %d payments", n1-n0)
		}
		// The pool's ledger: two collections and two reversals, and the period report nets them.
		sequenceAll(t, db, "PAY-1")
		rep, err := db.ClosePeriod(ctx, "PAY-1", date.Of(2026, 3, 2), date.Of(2026, 4, 30), date.Of(2026, 4, 30))
		if err != nil {
			t.Fatal(err)
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
			if strings.Contains(string(b), "张") || strings.Contains(string(b), "LN-000") || strings.Contains(string(b), "T1") {
				t.Fatalf("personal data or a seller key on the ledger: %s", b)
			}
			entries = append(entries, e)
			types[e.Type()]++
		}
		// Collections: T1 (LN-0002), T2 (LN-0003), T5 (LN-0004), T3 (LN-0003); reversals: T1, T2.
		if types[verify.TypeLoanCollection] != 4 || types[verify.TypeLoanCollectionReversal] != 2 {
			t.Fatalf("entry types %v", types)
		}
		if rep.CollectionsCount != 4 || rep.ReversalsCount != 2 || rep.Collections != verify.Amount(20000+777).String() {
			t.Fatalf("report %+v", rep)
		}
		if res, err := verify.ReportEntries(entries, int64(len(entries)-1)); err != nil {
			t.Fatalf("the verifier disagrees: %v %+v", err, res.Mismatches)
		}
	})
}

func asErr(err error, re **reclaim.Error) bool {
	e, ok := err.(*reclaim.Error)
	*re = e
	return ok
}

func TestPaymentsClosedCaseAndRejections(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, false)
		if err := sqldb.SetCaseStatusForTest(ctx, db, f.nCase, sqldb.CaseClosed); err != nil {
			t.Fatal(err)
		}
		p, err := db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "API-1", Date: date.Of(2026, 4, 2), Amount: cny(100),
			Reference: workout.CaseRef(f.nCase)}, f.opt)
		if err != nil || p.Status != sqldb.PaymentQueued || p.QueueReason != string(workout.QueueCaseClosed) || p.CaseID != f.nCase || len(p.Allocations) != 0 {
			t.Fatalf("payment for a closed case %+v %v", p, err)
		}
		if _, err := db.MatchPayment(ctx, p.ID, f.nCase, nil, f.opt); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("manual match to a closed case: %v", err)
		}
		// Posting straight to a case, paying a named loan first, and the name-and-amount match.
		lz := accountBalances(t, db, f.zCase)
		p, err = db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "API-2", Date: date.Of(2026, 4, 2), Amount: cny(50), CaseID: f.zCase}, f.opt)
		if err != nil || p.Status != sqldb.PaymentApplied || p.Method != string(workout.MatchManual) {
			t.Fatalf("posted to a case %+v %v", p, err)
		}
		if got := accountBalances(t, db, f.zCase); got["LN-0001"][0] != 0 || got["LN-0001"][1] != lz["LN-0001"][1]-10 {
			t.Fatalf("oldest loan's fees first: %v (was %v)", got, lz)
		}
		// The part-payment interrupts the limitation period of the loan it paid.
		as, _ := db.CaseAccounts(ctx, f.zCase)
		if as[0].LoanRef != "LN-0001" || as[0].LimitationExpiry != date.Of(2029, 4, 2) || as[1].LimitationExpiry != date.Of(2027, 2, 28) {
			t.Fatalf("limitation after a part-payment: %+v", as)
		}
		if c, _ := db.GetCase(ctx, f.zCase); c.LimitationExpiry != date.Of(2027, 2, 28) {
			t.Fatalf("the case's expiry is its earliest loan's: %v", c.LimitationExpiry)
		}
		p, err = db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "API-3", Date: date.Of(2026, 4, 2), Amount: cny(50000), PayerName: "张三"}, f.opt)
		// Every fixture borrower is masked 张*; only Z has a loan (LN-0002) of 500.00.
		if err != nil || p.Status != sqldb.PaymentApplied || p.CaseID != f.zCase || p.Method != string(workout.MatchNameAmount) {
			t.Fatalf("name and amount %+v %v", p, err)
		}
		for name, in := range map[string]sqldb.PaymentInput{
			"no txn":          {Date: date.Of(2026, 4, 2), Amount: cny(1)},
			"no date":         {TxnID: "X1", Amount: cny(1)},
			"zero":            {TxnID: "X2", Date: date.Of(2026, 4, 2), Amount: cny(0)},
			"negative":        {TxnID: "X3", Date: date.Of(2026, 4, 2), Amount: cny(-1)},
			"control":         {TxnID: "X\x00", Date: date.Of(2026, 4, 2), Amount: cny(1)},
			"reverses credit": {TxnID: "X4", Date: date.Of(2026, 4, 2), Amount: cny(1), Reverses: "API-2"},
		} {
			if _, err := db.PostPayment(ctx, in, f.opt); reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "X5", Date: date.Of(2026, 4, 2), Amount: cny(1), CaseID: 99999}, f.opt); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown case: %v", err)
		}
		if _, err := db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "api-2", Date: date.Of(2026, 4, 2), Amount: cny(1)}, f.opt); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Errorf("a posted transaction again: %v", err)
		}
		// A reversal of a credit nobody posted waits in the queue.
		p, err = db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "X6", Date: date.Of(2026, 4, 2), Amount: cny(-5), Reverses: "NEVER"}, f.opt)
		if err != nil || p.Status != sqldb.PaymentQueued || p.QueueReason != string(workout.QueueUnknownOriginal) {
			t.Fatalf("unknown original %+v %v", p, err)
		}
		// A reversal of another amount waits too.
		p, err = db.PostPayment(ctx, sqldb.PaymentInput{TxnID: "X7", Date: date.Of(2026, 4, 2), Amount: cny(-5), Reverses: "API-2"}, f.opt)
		if err != nil || p.Status != sqldb.PaymentQueued || p.QueueReason != string(workout.QueueReversalAmount) {
			t.Fatalf("reversal amount %+v %v", p, err)
		}
		if _, err := db.MatchPayment(ctx, p.ID, f.zCase, nil, f.opt); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("a queued reversal matched as a credit: %v", err)
		}
		_ = money.CNY
	})
}

// A file whose pool collection falls in a closed period is refused whole: nothing is stored.
func TestImportStatementAllOrNothing(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, true)
		if _, err := db.ClosePeriod(ctx, "PAY-1", date.Of(2026, 3, 2), date.Of(2026, 3, 31), date.Of(2026, 3, 31)); err != nil {
			t.Fatal(err)
		}
		before := accountBalances(t, db, f.zCase)
		src := "txn_id,date,amount,reference\nG1,2026-04-02,10.00,LN-0001\nG2,2026-04-03,5.00,nobody\nG3,2026-03-15,10.00,LN-0002\n"
		_, err := db.ImportStatement(ctx, "late.csv", parseStmt(t, src), f.opt)
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !asErr(err, &re) || re.Fields["line"] != "4" || re.Fields["rule"] != "period_closed" {
			t.Fatalf("closed period: %v", err)
		}
		for _, table := range []string{"payments", "payment_allocations", "statement_imports"} {
			if n, _ := sqldb.CountRowsForTest(ctx, db, table); n != 0 {
				t.Errorf("%s has %d rows after a rejected file", table, n)
			}
		}
		if got := accountBalances(t, db, f.zCase); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("balances changed: %v, before %v", got, before)
		}
	})
}
