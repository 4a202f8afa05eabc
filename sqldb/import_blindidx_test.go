package sqldb_test

import (
	"context"
	"testing"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// The blind index has no index on hash on either engine (migration 00035: no query looks it up
// by hash; matching goes through case_keys). What an import stores is read by borrower, the
// table's primary key, and a look-up by hash still answers (by a scan): nothing after a
// rollback, every term after a commit, with a reader in the middle of the import seeing neither.
func TestImportBlindIndexByBorrower(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		defer sqldb.SetBlindBufRowsForTest(500)()
		rows := pipelineRows(3000) // 2,000 borrowers, 4,000 blind rows
		q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'borrower_blind'`
		if db.Dialect() != sqldb.SQLite {
			// This test's schema only: the tests of other packages run beside it in theirs. The
			// primary key's index is the one index.
			q = `SELECT COUNT(*) - 1 FROM pg_indexes WHERE tablename = 'borrower_blind' AND schemaname = current_schema()`
		}
		var n int
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error { return tx.QueryRow(ctx, q).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("borrower_blind has %d secondary indexes, want 0", n)
		}
		lookup := func(what string, hash []byte, want int) {
			t.Helper()
			var n int
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				return tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_blind WHERE hash = ?`, hash).Scan(&n)
			}); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("%s: %d rows by hash, want %d", what, n, want)
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
		if n := count(t, db, "borrower_blind"); n != 8000 {
			t.Errorf("borrower_blind has %d rows, want 8000", n)
		}
	})
}
