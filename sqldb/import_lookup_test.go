package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// A pipelined import looks borrowers of earlier chunks up while its goroutine still has chunks
// queued: when the borrowers it remembers cover every queued chunk, between two chunks without
// waiting for the queue; when they do not (few remembered, as here with 50), only after every
// queued chunk is stored. Either way each borrower is stored once, every loan points at it, and
// its personal data is the first that came. Both engines. Half the borrowers have loans 4,000
// rows apart, farther than the 1,500 to 3,000 borrowers remembered, so that their second and
// third loans are looked up; the others have two loans 600 rows apart, within the chunks the
// queue may hold (at most 750 rows on PostgreSQL, 1,250 on SQLite), which only a look-up after
// the queue is stored finds when 50 are remembered.
func TestImportPipelinedLookups(t *testing.T) {
	for _, c := range []struct {
		recent    int
		wantDrain bool
	}{{1500, false}, {50, true}} {
		t.Run(fmt.Sprintf("remember-%d", c.recent), func(t *testing.T) {
			defer sqldb.SetRecentBorrowers(c.recent)()
			if c.wantDrain {
				// The goroutine is kept behind the caller, so that chunks are queued when a
				// look-up needs the dropped generation's borrowers stored (without the delay
				// whether any are depends on the two cores' timing: the check failed once in
				// three runs).
				defer sqldb.SetPipeStoreDelayForTest(15 * time.Millisecond)()
			}
			sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
				ctx := context.Background()
				kr := testKeyring(t)
				hash := fmt.Sprintf("hash-lookups-%d", c.recent)
				const n, nb = 12000, 5000
				imp, err := db.BeginImport(ctx, meta(hash))
				if err != nil {
					t.Fatal(err)
				}
				defer imp.Rollback()
				imp.Pipeline()
				rows := make([]sqldb.LoanRow, n)
				seen := map[string]bool{}
				for i := range rows {
					l := fullLoan(i)
					if i%2 == 0 {
						l.BorrowerID = fmt.Sprintf("B%04d", i/2%2000) // rows k, k+4000, k+8000
					} else {
						q := i % 1200 / 2
						l.BorrowerID = fmt.Sprintf("N%02d-%03d", i/1200, q%300) // two rows 600 apart
					}
					rows[i].Loan = l
					if seen[l.BorrowerID] { // personal data from a borrower's second row on
						sealed, err := kr.SealPersonal(person(l.BorrowerID), aad(hash, l.BorrowerID))
						if err != nil {
							t.Fatal(err)
						}
						rows[i].Sealed, rows[i].KeyID = sealed, kr.KeyID()
					}
					seen[l.BorrowerID] = true
				}
				for i := 0; i < n; i += 250 {
					if err := imp.AddLoans(ctx, rows[i:min(i+250, n)]); err != nil {
						t.Fatal(err)
					}
				}
				lookups, drained := sqldb.ImportLookupsForTest(imp)
				if _, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: n, BorrowerCount: nb}); err != nil {
					t.Fatal(err)
				}
				if lookups == 0 {
					t.Fatal("no borrower was looked up")
				}
				if got := drained > 0; got != c.wantDrain {
					t.Errorf("%d of %d look-ups waited for the queue; want some: %v", drained, lookups, c.wantDrain)
				}
				if got := count(t, db, "borrowers"); got != nb {
					t.Errorf("%d borrowers stored, want %d", got, nb)
				}
				if got := count(t, db, "borrower_pii"); got != nb {
					t.Errorf("%d borrowers' personal data stored, want %d", got, nb)
				}
				assertIntegrity(t, db)
			})
		})
	}
}
