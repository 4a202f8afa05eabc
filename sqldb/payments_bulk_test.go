package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// A statement large enough for the bulk path (1,000 lines and cases and more: the transaction ids and
// half the cases are loaded on a reader connection on SQLite, rows are written by prepared
// multi-row inserts or COPY, balances by one set-based update) gives exactly the balances,
// counts, movements and limitation events the lines call for; a second file with one line
// already posted is refused naming that line, and changes nothing.
func TestImportStatementBulkPath(t *testing.T) {
	const loans, lines = 2500, 2600
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "bulk", Ref: "BULK", CutOffDate: date.Of(2025, 6, 30),
			Currency: money.CNY, ContentHash: "bulk-pay", Salt: []byte("salt")})
		if err != nil {
			t.Fatal(err)
		}
		if err := imp.AddLoans(ctx, synthRows(loans)); err != nil {
			t.Fatal(err)
		}
		p, err := imp.Commit(ctx, sqldb.ImportSummary{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 1, 5), Price: money.Yuan(1000), Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		total := func(loan int) int64 {
			c, err := db.CaseForLoan(ctx, p.ID, fmt.Sprintf("LN%d", 10000000+loan))
			if err != nil {
				t.Fatal(err)
			}
			as, err := db.CaseAccounts(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if a.LoanRef == fmt.Sprintf("LN%d", 10000000+loan) {
					return a.Principal.Minor() + a.Interest.Minor() + a.Fees.Minor()
				}
			}
			t.Fatalf("loan %d has no account", loan)
			return 0
		}
		sample := []int{0, 1, 2, 3, 4, 99, 100, 1249, 1250, 2498, 2499}
		before := map[int]int64{}
		for _, l := range sample {
			before[l] = total(l)
		}
		// Line i pays 1.23 to loan i%2500; every 50th line has no reference (queued); line
		// 2599 reverses line 2598 (which paid loan 98).
		var b bytes.Buffer
		b.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
		paid := map[int]int64{}
		queued := 0
		for i := 0; i < lines; i++ {
			switch {
			case i == lines-1:
				fmt.Fprintf(&b, "B-%d,2026-11-03,-1.23,,退票,B-%d\n", i, i-1)
			case i%50 == 25:
				fmt.Fprintf(&b, "B-%d,2026-11-02,1.23,某人,谢谢 %d,\n", i, i)
				queued++
			default:
				fmt.Fprintf(&b, "B-%d,2026-11-02,1.23,,还款 LN%d no%d,\n", i, 10000000+i%loans, i)
				if i != lines-2 {
					paid[i%loans] += 123
				}
			}
		}
		st, err := workout.ParseStatement(bytes.NewReader(b.Bytes()), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.ImportStatement(ctx, "bulk.csv", st, sqldb.PaymentOptions{Actor: "t"})
		if err != nil {
			t.Fatal(err)
		}
		applied := lines - queued - 2 // the reversed credit and its reversal are not applied
		if res.Lines != lines || res.Matched != applied || res.Queued != queued || res.Reversals != 1 || res.Applied.Minor() != int64(applied)*123 {
			t.Fatalf("import %+v; want %d matched, %d queued, 1 reversal", res, applied, queued)
		}
		for _, l := range sample {
			if got := before[l] - total(l); got != paid[l] {
				t.Errorf("loan %d: balance fell by %d, want %d", l, got, paid[l])
			}
		}
		counts := map[string]int64{"payments": lines, "payment_allocations": int64(lines - queued)}
		for table, want := range counts {
			if n, err := sqldb.CountRowsForTest(ctx, db, table); err != nil || n != want {
				t.Errorf("%s: %d rows (%v), want %d", table, n, err, want)
			}
		}
		// One line posted before: refused, naming it; nothing changes.
		var again bytes.Buffer
		again.WriteString("txn_id,date,amount,reference\n")
		for i := 0; i < 2100; i++ {
			id := fmt.Sprintf("C-%d", i)
			if i == 1500 {
				id = "B-7"
			}
			fmt.Fprintf(&again, "%s,2026-11-04,2.00,LN%d no%d\n", id, 10000000+i%loans, i)
		}
		st2, err := workout.ParseStatement(bytes.NewReader(again.Bytes()), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.ImportStatement(ctx, "again.csv", st2, sqldb.PaymentOptions{Actor: "t"})
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.ECONFLICT || !asErr(err, &re) || re.Fields["line"] != "1502" || re.Fields["rule"] != "already_posted" {
			t.Fatalf("a file with a posted line: %v (%+v)", err, re)
		}
		for table, want := range counts {
			if n, _ := sqldb.CountRowsForTest(ctx, db, table); n != want {
				t.Errorf("%s: %d rows after a refused file, want %d", table, n, want)
			}
		}
		for _, l := range sample {
			if got := before[l] - total(l); got != paid[l] {
				t.Errorf("loan %d changed by a refused file: fell by %d, want %d", l, got, paid[l])
			}
		}
	})
}
