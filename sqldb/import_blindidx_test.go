package sqldb_test

import (
	"bytes"
	"context"
	"testing"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// storedBlindTerms returns every stored blind-index term.
func storedBlindTerms(t *testing.T, db *sqldb.DB) []sqldb.BlindTermForTest {
	t.Helper()
	terms, err := sqldb.BlindTermsForTest(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return terms
}

// termsWithHash returns the stored terms with this hash, as "borrower ref/kind".
func termsWithHash(t *testing.T, db *sqldb.DB, hash []byte) []string {
	t.Helper()
	var out []string
	for _, x := range storedBlindTerms(t, db) {
		if bytes.Equal(x.Hash, hash) {
			out = append(out, x.BorrowerRef+"/"+x.Kind)
		}
	}
	return out
}

// The blind index lives in borrower_pii.blind since migration 00039 (borrower_blind is gone on
// both engines). What an import stores is there for its borrowers: nothing after a rollback, every
// term after a commit, with a reader in the middle of the import seeing none; the same borrowers in
// a second portfolio have their terms again, under their own ids.
func TestImportBlindTermsInPII(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		rows := pipelineRows(3000) // 2,000 borrowers, 4,000 blind-index terms
		q := `SELECT COUNT(*) FROM sqlite_master WHERE name = 'borrower_blind'`
		if db.Dialect() != sqldb.SQLite {
			q = `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'borrower_blind' AND schemaname = current_schema()`
		}
		var n int
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error { return tx.QueryRow(ctx, q).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatal("borrower_blind still exists")
		}
		lookup := func(what string, hash []byte, want int) {
			t.Helper()
			if got := termsWithHash(t, db, hash); len(got) != want {
				t.Fatalf("%s: %d terms with the hash (%v), want %d", what, len(got), got, want)
			}
		}
		first := rows[0].Blind[0].Hash
		importAll := func(name string, commit bool) {
			t.Helper()
			imp, err := db.BeginImport(ctx, meta(name))
			if err != nil {
				t.Fatal(err)
			}
			imp.Pipeline()
			for i := 0; i < len(rows); i += 400 {
				if err := imp.AddLoans(ctx, rows[i:min(i+400, len(rows))]); err != nil {
					t.Fatal(err)
				}
			}
			lookup(name+", a reader during the import", first, map[string]int{"rolled-back": 0, "stored": 0, "again": 1}[name])
			if !commit {
				if err := imp.Rollback(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if _, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: 3000, BorrowerCount: 2000}); err != nil {
				t.Fatal(err)
			}
		}
		importAll("rolled-back", false)
		lookup("after a rollback", first, 0)
		importAll("stored", true)
		lookup("after a commit", first, 1)
		importAll("again", true) // the same borrowers in a second portfolio
		lookup("after a second import", first, 2)
		all := storedBlindTerms(t, db)
		if len(all) != 8000 {
			t.Errorf("%d blind-index terms stored, want 8000", len(all))
		}
		ids := map[int64]int{}
		for _, x := range all {
			ids[x.BorrowerID]++
		}
		if len(ids) != 4000 {
			t.Errorf("the terms belong to %d borrowers, want 4000", len(ids))
		}
		for id, k := range ids {
			if k != 2 {
				t.Errorf("borrower %d has %d terms, want 2", id, k)
				break
			}
		}
	})
}
