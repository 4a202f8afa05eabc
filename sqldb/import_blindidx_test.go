package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// A large import on SQLite drops the blind index's hash index and builds it again at its commit
// (random keys inserted one by one into an index beyond the page cache made the 10M import
// several times slower). Whatever happens, the index is there afterwards and answers: after a
// commit that rebuilt it, after a commit into a store whose index was too large to rebuild, and
// after a rollback (DDL is transactional), and a reader in the middle of the import keeps its
// snapshot with the index. Both engines: PostgreSQL has no hash index since its migration 00035
// (no query used it; docs/benchmarks.md, issue 11), and the look-ups by hash answer all the same.
func TestImportBlindIndexDeferred(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		defer sqldb.SetBlindBufRowsForTest(500)()
		rows := pipelineRows(3000) // 2,000 borrowers, 4,000 blind rows
		indexed := func(what string) {
			t.Helper()
			q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'borrower_blind_hash'`
			if db.Dialect() != sqldb.SQLite {
				// This test's schema only: the tests of other packages run beside it in theirs.
				q = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'borrower_blind_hash' AND schemaname = current_schema()`
			}
			var n int
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error { return tx.QueryRow(ctx, q).Scan(&n) }); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[db.Dialect() == sqldb.SQLite]; n != want {
				t.Fatalf("%s: %d hash indexes, want %d", what, n, want)
			}
			if db.Dialect() == sqldb.SQLite {
				var plan string
				if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
					r, err := tx.Query(ctx, `EXPLAIN QUERY PLAN SELECT borrower_id FROM borrower_blind WHERE hash = ?`, []byte("x"))
					if err != nil {
						return err
					}
					defer r.Close()
					for r.Next() {
						var id, parent, unused int
						var detail string
						if err := r.Scan(&id, &parent, &unused, &detail); err != nil {
							return err
						}
						plan += detail
					}
					return r.Err()
				}); err != nil {
					t.Fatal(err)
				}
				if want := "borrower_blind_hash"; !strings.Contains(plan, want) {
					t.Fatalf("%s: a look-up by hash does not use the index: %q", what, plan)
				}
			}
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
			// A reader during the import: its own snapshot, index included.
			indexed(name + ", during the import")
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
		first := rows[0].Blind[0].Hash

		importAll("rolled-back", false)
		indexed("after a rollback")
		lookup("after a rollback", first, 0)

		importAll("rebuilt", true) // empty store: dropped and rebuilt
		indexed("after a rebuild")
		lookup("after a rebuild", first, 1)

		restore := sqldb.SetBlindIndexRebuildMaxForTest(100) // 4,000 rows stored: kept
		importAll("kept", true)
		restore()
		indexed("after an import that kept it")
		lookup("after an import that kept it", first, 2)
		if db.Dialect() == sqldb.SQLite { // the session's temp_store FILE does not leak into the pool
			var ts int
			if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { return tx.QueryRow(ctx, `PRAGMA temp_store`).Scan(&ts) }); err != nil {
				t.Fatal(err)
			}
			if ts != 2 {
				t.Errorf("the writer's temp_store is %d after the imports, want 2 (MEMORY)", ts)
			}
		}
		if n := count(t, db, "borrower_blind"); n != 8000 {
			t.Errorf("borrower_blind has %d rows, want 8000", n)
		}
	})
}
