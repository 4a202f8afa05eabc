package sqldb_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestPortfolioStatsStoredAtImport: the stats an import stores equal the ones computed from the
// rows (with history, without, and for a second portfolio after the first); an import rolled
// back stores none; a portfolio whose row is missing has its stats computed; RepaymentMonths
// answers from them.
func TestPortfolioStatsStoredAtImport(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		reps := []reclaim.Repayment{
			{LoanID: "L000003", Month: date.Of(2023, 2, 1), Amount: cny(500)},
			{LoanID: "L000001", Month: date.Of(2022, 11, 1), Amount: cny(30000)},
			{LoanID: "L000004", Month: date.Of(2024, 1, 1), Amount: cny(0)},
		}
		a := importTape(t, db, "stats-a", mixedLoans(230), reps)
		// An abandoned import in between: nothing of it is stored.
		imp, err := db.BeginImport(ctx, meta("stats-abandoned"))
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]sqldb.LoanRow, 40)
		for i := range rows {
			rows[i].Loan = fullLoan(i)
		}
		if err := imp.AddLoans(ctx, rows); err != nil {
			t.Fatal(err)
		}
		imp.Rollback()
		b := importTape(t, db, "stats-b", mixedLoans(17), nil)
		if n, m := count(t, db, "portfolio_stats"), count(t, db, "portfolios"); n != 2 || m != 2 {
			t.Fatalf("%d stats rows for %d portfolios, want 2 and 2", n, m)
		}
		want := map[int64]sqldb.PortfolioStats{
			a.ID: {RepaymentFirst: date.Of(2022, 11, 1), RepaymentLast: date.Of(2024, 1, 1), RepaymentRows: 3},
			b.ID: {},
		}
		for _, p := range []reclaim.Portfolio{a, b} {
			stored, err := db.PortfolioStats(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			computed, err := db.ComputePortfolioStats(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored != computed {
				t.Errorf("portfolio %d: stored %+v, computed %+v", p.ID, stored, computed)
			}
			if stored.LastLoanID-stored.FirstLoanID+1 != p.LoanCount || stored.FirstLoanID == 0 {
				t.Errorf("portfolio %d: loan ids %d..%d for %d loans", p.ID, stored.FirstLoanID, stored.LastLoanID, p.LoanCount)
			}
			w := want[p.ID]
			if stored.RepaymentFirst != w.RepaymentFirst || stored.RepaymentLast != w.RepaymentLast || stored.RepaymentRows != w.RepaymentRows {
				t.Errorf("portfolio %d: history %v..%v (%d rows), want %v..%v (%d)", p.ID, stored.RepaymentFirst, stored.RepaymentLast,
					stored.RepaymentRows, w.RepaymentFirst, w.RepaymentLast, w.RepaymentRows)
			}
			first, last, n, err := db.RepaymentMonths(ctx, p.ID)
			if err != nil || first != w.RepaymentFirst || last != w.RepaymentLast || n != w.RepaymentRows {
				t.Errorf("RepaymentMonths(%d) = %v %v %d %v", p.ID, first, last, n, err)
			}
		}
		if b.ID <= a.ID {
			t.Fatalf("ids %d, %d", a.ID, b.ID)
		}
		// A missing row (a store from before the table, had the migration not filled it) is computed.
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM portfolio_stats WHERE portfolio_id = ?`, a.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if s, err := db.PortfolioStats(ctx, a.ID); err != nil || s.RepaymentRows != 3 || s.LastLoanID-s.FirstLoanID != 229 {
			t.Errorf("without the row: %+v %v", s, err)
		}
		if _, err := db.PortfolioStats(ctx, 9999); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown portfolio: %v", err)
		}
		if _, _, n, err := db.RepaymentMonths(ctx, 9999); err != nil || n != 0 {
			t.Errorf("RepaymentMonths of an unknown portfolio: %d %v", n, err)
		}
		last, err := db.LastRepaymentCollected(ctx, a.ID, date.Of(2023, 1, 1))
		if err != nil || last != date.Of(2023, 2, 1) { // the 2024 row is 0
			t.Errorf("LastRepaymentCollected = %v %v", last, err)
		}
	})
}

// TestLoansPageAnyOffset: a page at any offset, read by id, is the slice of the loans in import
// order; keyset pages (LoansPageAfter) walk every loan once; a portfolio whose ids are not
// contiguous (a loan row removed under the store) falls back to OFFSET with the same answer.
func TestLoansPageAnyOffset(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		importTape(t, db, "page-a", mixedLoans(40), nil)
		p := importTape(t, db, "page-b", mixedLoans(211), nil)
		importTape(t, db, "page-c", mixedLoans(5), nil)
		all := func() []string {
			var ids []string
			if err := db.StreamLoans(ctx, p.ID, func(l *reclaim.Loan) error { ids = append(ids, l.LoanID); return nil }); err != nil {
				t.Fatal(err)
			}
			return ids
		}
		ids := func(v []reclaim.LoanView) []string {
			out := []string{}
			for _, l := range v {
				out = append(out, l.LoanID)
			}
			return out
		}
		check := func(label string) {
			want := all()
			for _, c := range []struct{ off, lim int }{{0, 50}, {1, 10}, {49, 50}, {150, 100}, {205, 50}, {210, 1}, {211, 5}, {5000, 5}} {
				got, total, err := db.LoansPage(ctx, p.ID, c.off, c.lim)
				if err != nil {
					t.Fatal(err)
				}
				w := []string{}
				if c.off < len(want) {
					w = want[c.off:min(c.off+c.lim, len(want))]
				}
				if !reflect.DeepEqual(ids(got), w) || total != 211 {
					t.Errorf("%s: offset %d limit %d: %v (total %d), want %v", label, c.off, c.lim, ids(got), total, w)
				}
			}
			var walked []string
			after := ""
			for range 100 {
				page, _, err := db.LoansPageAfter(ctx, p.ID, after, 37)
				if err != nil {
					t.Fatal(err)
				}
				walked = append(walked, ids(page)...)
				if len(page) < 37 {
					break
				}
				after = page[len(page)-1].LoanID
			}
			if !reflect.DeepEqual(walked, want) {
				t.Errorf("%s: keyset walk gave %d loans, want %d", label, len(walked), len(want))
			}
		}
		check("contiguous")
		if _, _, err := db.LoansPageAfter(ctx, p.ID, "NO-SUCH-LOAN", 10); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("unknown after: %v", err)
		}
		if _, _, err := db.LoansPage(ctx, 9999, 0, 10); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown portfolio: %v", err)
		}
		// Not contiguous (as when two imports on PostgreSQL draw ids from the sequence at the same
		// time): the last loan's id moved past another portfolio's, and the stats recomputed.
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE loans SET id = id + 100000 WHERE portfolio_id = ? AND loan_ref = ?`, p.ID, fmt.Sprintf("L%06d", 210)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM portfolio_stats WHERE portfolio_id = ?`, p.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if s, err := db.PortfolioStats(ctx, p.ID); err != nil || s.LastLoanID-s.FirstLoanID+1 == p.LoanCount {
			t.Fatalf("the ids still look contiguous: %+v %v", s, err)
		}
		check("not contiguous")
	})
}
