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

// TestStreamLoanBatchesSparse: where a portfolio's ids are sparse (one in 50 kept), the batches
// still give every loan once, in order, with its history, never more than the batch size, and the
// id window widens so that the batches are not mostly empty reads.
func TestStreamLoanBatchesSparse(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		loans := mixedLoans(2000)
		var reps []reclaim.Repayment
		for i := 0; i < len(loans); i += 7 {
			reps = append(reps, reclaim.Repayment{LoanID: loans[i].LoanID, Month: date.Of(2022, 12, 1), Amount: cny(int64(100 + i)),
				Source: reclaim.SourceDebtor, Channel: reclaim.ChannelInternal})
		}
		p := importTape(t, db, "sparse", loans, reps)
		if n, err := sqldb.ThinLoansForTest(ctx, db, p.ID, 50); err != nil || n < 1900 {
			t.Fatalf("thinning: %d, %v", n, err)
		}
		var want []reclaim.Loan
		if err := db.StreamLoans(ctx, p.ID, func(l *reclaim.Loan) error { want = append(want, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		hist := map[string][]reclaim.Repayment{}
		if err := db.StreamRepayments(ctx, p.ID, func(r *reclaim.Repayment) error { hist[r.LoanID] = append(hist[r.LoanID], *r); return nil }); err != nil {
			t.Fatal(err)
		}
		const size = 8
		var got []reclaim.Loan
		batches := 0
		err := db.StreamLoanBatches(ctx, p.ID, size, true, func(ls []reclaim.Loan, hs [][]reclaim.Repayment) error {
			batches++
			if len(ls) > size || len(ls) == 0 {
				t.Errorf("a batch of %d loans", len(ls))
			}
			for i, l := range ls {
				if h := hist[l.LoanID]; !reflect.DeepEqual(hs[i], h) {
					t.Errorf("loan %s: history %v, want %v", l.LoanID, hs[i], h)
				}
			}
			got = append(got, ls...)
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, want) || len(want) == 0 {
			t.Fatalf("%d loans of %d, %v", len(got), len(want), err)
		}
		// 40 loans in batches of at most 8: at least 5 batches; a fixed window of 8 ids would give
		// 40 batches of one loan (and 210 empty reads).
		if batches < len(want)/size || batches > 3*len(want)/size {
			t.Errorf("%d loans in %d batches", len(want), batches)
		}
	})
}

// TestStreamLoanBatchesReadPaths: SQLite's own read connections (the default) and the
// database/sql driver give StreamLoans' loans, field for field, at batch sizes that read a batch
// in one part and in several (dense ids), and in parts cut short where ids are sparse; on
// PostgreSQL (one path) the same against StreamLoans.
func TestStreamLoanBatchesReadPaths(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		loans := mixedLoans(12_000)
		for i := range loans {
			if i%5 == 0 {
				loans[i].Court = ""
				loans[i].Extras = nil
			}
		}
		p := importTape(t, db, "paths", loans, nil)
		var want []reclaim.Loan
		if err := db.StreamLoans(ctx, p.ID, func(l *reclaim.Loan) error { want = append(want, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		read := func(size int) ([]reclaim.Loan, int) {
			t.Helper()
			var got []reclaim.Loan
			batches := 0
			err := db.StreamLoanBatches(ctx, p.ID, size, false, func(ls []reclaim.Loan, hs [][]reclaim.Repayment) error {
				batches++
				if len(ls) > size {
					t.Errorf("a batch of %d loans, at most %d expected", len(ls), size)
				}
				got = append(got, ls...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return got, batches
		}
		defer sqldb.SetDriverLoanReadsForTest(sqldb.SetDriverLoanReadsForTest(false))
		for _, driver := range []bool{false, true} {
			sqldb.SetDriverLoanReadsForTest(driver)
			for _, size := range []int{7, 997, 9_000, 50_000} {
				got, batches := read(size)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("driver %v, batches of %d: %d loans differ from StreamLoans' %d", driver, size, len(got), len(want))
				}
				if wantBatches := (len(want) + size - 1) / size; batches != wantBatches {
					t.Errorf("driver %v: %d loans in %d batches of %d, want %d", driver, len(want), batches, size, wantBatches)
				}
			}
		}
		// Sparse ids: one loan in three kept, batches of 3,000 read in parts over windows that
		// widen; a part that would overfill the batch is cut.
		if _, err := sqldb.ThinLoansForTest(ctx, db, p.ID, 3); err != nil {
			t.Fatal(err)
		}
		want = want[:0]
		if err := db.StreamLoans(ctx, p.ID, func(l *reclaim.Loan) error { want = append(want, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, driver := range []bool{false, true} {
			sqldb.SetDriverLoanReadsForTest(driver)
			if got, _ := read(3_000); !reflect.DeepEqual(got, want) {
				t.Fatalf("driver %v, sparse: %d loans differ from StreamLoans' %d", driver, len(got), len(want))
			}
		}
	})
}

// TestStreamLoanBatchesBadValues: a stored value of the wrong type (what no import writes: text
// in an amount, a date that is not one, a NULL currency) stops the stream with an error on
// either read path, never a panic or a zero value passed on.
func TestStreamLoanBatchesBadValues(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		defer sqldb.SetDriverLoanReadsForTest(sqldb.SetDriverLoanReadsForTest(false))
		for i, bad := range []string{
			`UPDATE loans SET origination_date = 'not a date' WHERE portfolio_id = ? AND loan_ref = 'L000004'`,
			`UPDATE loans SET principal_minor = 'abc' WHERE portfolio_id = ? AND loan_ref = 'L000004'`,
			`UPDATE loans SET extras_json = '{"grade":' WHERE portfolio_id = ? AND loan_ref = 'L000004'`,
			`UPDATE loans SET written_off = 'maybe' WHERE portfolio_id = ? AND loan_ref = 'L000004'`,
		} {
			p := importTape(t, db, fmt.Sprintf("bad-%d", i), mixedLoans(10), nil)
			if err := sqldb.ExecForTest(ctx, db, bad, p.ID); err != nil {
				// PostgreSQL's types refuse the value itself: nothing to read.
				if db.Dialect() == sqldb.Postgres {
					continue
				}
				t.Fatalf("%s: %v", bad, err)
			}
			for _, driver := range []bool{false, true} {
				sqldb.SetDriverLoanReadsForTest(driver)
				n := 0
				err := db.StreamLoanBatches(ctx, p.ID, 4, false, func(ls []reclaim.Loan, _ [][]reclaim.Repayment) error {
					n += len(ls)
					return nil
				})
				if err == nil || n > 4 {
					t.Errorf("driver %v, %s: %d loans read, err %v", driver, bad, n, err)
				}
			}
		}
	})
}
