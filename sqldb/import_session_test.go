package sqldb_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"reclaim"
	"reclaim/ingest"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// A borrower's blind-index terms are stored with its sealed personal data, whichever of its loans
// brings them: every term of every borrower is found, under the right borrower, including one
// whose PII (and terms) came with its last loan, after about 2,000 other borrowers. The writer
// connection goes back to the pool with the pool's settings (temp_store MEMORY, no sorter
// threads) after a commit, a rollback and a BeginImport that failed. Both engines.
func TestImportBlindLate(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		rows := pipelineRows(3000)
		// Borrower C000000 (the smallest id) first comes without PII; its PII and terms come with
		// a last loan, after about 2,000 borrowers with larger ids.
		late := rows[0]
		late.Loan = fullLoan(3000)
		late.Loan.BorrowerID = rows[0].Loan.BorrowerID
		rows[0].Sealed, rows[0].KeyID, rows[0].Blind = nil, "", nil
		rows = append(rows, late)

		poolSettings := func(what string) {
			t.Helper()
			if db.Dialect() != sqldb.SQLite {
				return
			}
			for _, c := range []struct {
				pragma string
				want   int
			}{{"temp_store", 2}, {"threads", 0}} {
				var got int
				if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
					return tx.QueryRow(ctx, `PRAGMA `+c.pragma).Scan(&got)
				}); err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s: the writer's %s is %d, want %d", what, c.pragma, got, c.want)
				}
			}
		}
		importAll := func(name string, commit bool) error {
			t.Helper()
			imp, err := db.BeginImport(ctx, meta(name))
			if err != nil {
				return err
			}
			imp.Pipeline()
			for i := 0; i < len(rows); i += 400 {
				if err := imp.AddLoans(ctx, rows[i:min(i+400, len(rows))]); err != nil {
					t.Fatal(err)
				}
			}
			if !commit {
				return imp.Rollback()
			}
			_, err = imp.Commit(ctx, sqldb.ImportSummary{LoanCount: int64(len(rows)), BorrowerCount: 2000})
			return err
		}

		if err := importAll("rolled-back", false); err != nil {
			t.Fatal(err)
		}
		poolSettings("after a rollback")
		if n := len(storedBlindTerms(t, db)); n != 0 {
			t.Fatalf("after a rollback %d blind-index terms are stored", n)
		}
		if err := importAll("stored", true); err != nil {
			t.Fatal(err)
		}
		poolSettings("after a commit")
		err := importAll("stored", true) // the same content hash: BeginImport refuses it
		mustCode(t, err, reclaim.ECONFLICT)
		poolSettings("after a refused BeginImport")

		stored := map[string][]string{} // hash -> borrower ref/kind
		all := storedBlindTerms(t, db)
		for _, x := range all {
			stored[string(x.Hash)] = append(stored[string(x.Hash)], x.BorrowerRef+"/"+x.Kind)
		}
		terms := 0
		for _, r := range rows {
			for _, bt := range r.Blind {
				terms++
				if found, want := stored[string(bt.Hash)], r.Loan.BorrowerID+"/"+bt.Kind; len(found) != 1 || found[0] != want {
					t.Errorf("hash %x: found %v, want [%s]", bt.Hash[:4], found, want)
				}
			}
		}
		if terms != 4000 {
			t.Fatalf("the test tape has %d terms, want 4000", terms)
		}
		if len(all) != terms {
			t.Errorf("%d blind-index terms stored, want %d", len(all), terms)
		}
	})
}

// TestSQLiteWALCutBack: an import is one transaction, so the WAL grows to the size of everything it
// wrote (about 8 GB at 10 million loans). Once checkpointed, the next write cuts the file back to
// the writer's journal_size_limit instead of leaving it at its largest until every connection
// closes. SQLite only (PostgreSQL manages its own WAL).
func TestSQLiteWALCutBack(t *testing.T) {
	const limit = 256 << 10
	defer sqldb.SetWALSizeLimitForTest(limit)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reclaim.db")
	db := sqldbtest.Open(t, "sqlite:"+path)
	walSize := func() int64 {
		t.Helper()
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	imp, err := db.BeginImport(ctx, meta("wal"))
	if err != nil {
		t.Fatal(err)
	}
	imp.Pipeline()
	// 30,000 loans write well over the 1,000 pages (of 8 KiB) after which a commit checkpoints the WAL.
	if err := imp.AddLoans(ctx, pipelineRows(30000)); err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Commit(ctx, sqldb.ImportSummary{}); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n <= limit {
		t.Fatalf("the import left a WAL of %d bytes, not above the %d-byte limit: the test proves nothing", n, limit)
	}
	if _, err := db.CreateUser(ctx, reclaim.User{Username: "after-import", Role: reclaim.RoleAnalyst, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n > limit {
		t.Errorf("after the next write the WAL is %d bytes, want at most %d", n, limit)
	}
	if got := count(t, db, "loans"); got != 30000 {
		t.Errorf("%d loans stored, want 30000", got)
	}
}

// TestSQLitePageSize: a new SQLite store has 8 KiB pages (half the WAL frames of an import, and
// a quarter of SQLite's cost of looking each written page up among them); a store created with
// another page size keeps it when opened again. SQLite only.
func TestSQLitePageSize(t *testing.T) {
	ctx := context.Background()
	pageSize := func(db *sqldb.DB) int {
		t.Helper()
		var n int
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error { return tx.QueryRow(ctx, `PRAGMA page_size`).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	dir := t.TempDir()
	if n := pageSize(sqldbtest.Open(t, "sqlite:"+filepath.Join(dir, "new.db"))); n != 8192 {
		t.Errorf("a new store's page size is %d, want 8192", n)
	}
	// A store made with 4 KiB pages (as every store before this setting was) keeps them.
	old := filepath.Join(dir, "old.db")
	raw, err := sql.Open("sqlite", "file:"+old+"?_pragma=page_size(4096)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if n := pageSize(sqldbtest.Open(t, "sqlite:"+old)); n != 4096 {
		t.Errorf("an existing 4 KiB store's page size is %d after opening, want 4096", n)
	}
}

// An import's batch reaches the session as it is: sqldb.LoanRow is ingest.LoanRow, not a copy of
// its fields (this does not compile if they become two types again).
func TestLoanRowIsIngestRow(t *testing.T) {
	var rows []ingest.LoanRow
	var same []sqldb.LoanRow = rows
	_ = same
}
