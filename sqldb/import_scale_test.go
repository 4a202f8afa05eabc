package sqldb_test

import (
	"context"
	"fmt"
	"testing"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// An import keeps only recent borrowers in memory: a borrower whose loans are scattered over the
// tape, far apart, is found again in the transaction (not created twice), and its sealed personal
// data is stored once, from the first of its rows that carries any, even when that row comes
// chunks after the borrower was created.
func TestImportScatteredBorrowersBoundedMemory(t *testing.T) {
	defer sqldb.SetRecentBorrowers(50)()
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		kr := testKeyring(t)
		const hash, n, nb = "hash-scattered", 3000, 700
		imp, err := db.BeginImport(ctx, meta(hash))
		if err != nil {
			t.Fatal(err)
		}
		defer imp.Rollback()
		rows := make([]sqldb.LoanRow, n)
		var claim int64
		for i := range rows {
			l := fullLoan(i)
			l.BorrowerID = fmt.Sprintf("B%04d", i%nb) // borrower k on rows k, k+700, k+1400, ...
			rows[i].Loan = l
			claim += l.TotalClaim.Minor()
			if i >= 2*nb { // personal data only from a borrower's third row on
				sealed, err := kr.SealPersonal(person(l.BorrowerID), aad(hash, l.BorrowerID))
				if err != nil {
					t.Fatal(err)
				}
				rows[i].Sealed, rows[i].KeyID = sealed, kr.KeyID()
			}
		}
		for i := 0; i < n; i += 250 { // many calls, so many chunks on both engines
			if err := imp.AddLoans(ctx, rows[i:min(i+250, n)]); err != nil {
				t.Fatal(err)
			}
		}
		p, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: n, BorrowerCount: nb, TotalClaim: cny(claim)})
		if err != nil {
			t.Fatal(err)
		}
		if p.LoanCount != n {
			t.Fatalf("portfolio = %+v", p)
		}
		if got := count(t, db, "borrowers"); got != nb {
			t.Errorf("%d borrowers stored, want %d", got, nb)
		}
		if got := count(t, db, "borrower_pii"); got != nb {
			t.Errorf("%d borrowers' personal data stored, want %d", got, nb)
		}
		assertIntegrity(t, db)
		// The borrowers are there under their own references.
		for _, ref := range []string{"B0000", "B0349", "B0699"} {
			var id int64
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				return tx.QueryRow(ctx, `SELECT id FROM borrowers WHERE borrower_ref = ?`, ref).Scan(&id)
			}); err != nil {
				t.Fatal(err)
			}
			if id == 0 {
				t.Fatalf("borrower %s not found", ref)
			}
		}
	})
}
