package sqldb_test

import (
	"context"
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
