package sqldb_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"
	"time"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// pipelineRows returns n loans of n*2/3 borrowers, each borrower's first row with sealed personal
// data and two blind-index terms.
func pipelineRows(n int) []sqldb.LoanRow {
	rows := make([]sqldb.LoanRow, n)
	seen := map[string]bool{}
	for i := range rows {
		l := fullLoan(i)
		l.BorrowerID = fmt.Sprintf("C%06d", i*2/3)
		rows[i] = sqldb.LoanRow{Loan: l, Masked: reclaim.Masked{Name: "张*"}}
		if !seen[l.BorrowerID] {
			seen[l.BorrowerID] = true
			h1 := sha256.Sum256([]byte("nid" + l.BorrowerID))
			h2 := sha256.Sum256([]byte("phone" + l.BorrowerID))
			rows[i].Sealed, rows[i].KeyID = []byte("sealed "+l.BorrowerID), "k1"
			rows[i].Blind = []workout.BlindTerm{{Kind: "nid", Hash: h1[:]}, {Kind: "phone", Hash: h2[:]}}
		}
	}
	return rows
}

// A pipelined import (AddLoans returns before SQLite has stored the rows) stores what an
// unpipelined one stores; a loan id stored twice is ECONFLICT by Commit at the latest and
// nothing stays; a rollback with rows still queued leaves nothing, not even rows whose INSERT
// was queued before it (they must not run outside the transaction). Both engines (on PostgreSQL
// Pipeline changes nothing).
func TestImportPipeline(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		rows := pipelineRows(6000)
		add := func(imp *sqldb.Import, rows []sqldb.LoanRow) error {
			for i := 0; i < len(rows); i += 700 {
				if err := imp.AddLoans(ctx, rows[i:min(i+700, len(rows))]); err != nil {
					return err
				}
			}
			return nil
		}
		empty := func(what string) {
			t.Helper()
			assertEmpty(t, db)
			if n := len(storedBlindTerms(t, db)); n != 0 {
				t.Errorf("%s: %d blind-index terms stored", what, n)
			}
		}

		// A repeated loan id far from its first use.
		dup := append([]sqldb.LoanRow(nil), rows...)
		dup[5500].Loan.LoanID = dup[20].Loan.LoanID
		imp, err := db.BeginImport(ctx, meta("dup"))
		if err != nil {
			t.Fatal(err)
		}
		imp.Pipeline()
		err = add(imp, dup)
		if err == nil {
			_, err = imp.Commit(ctx, sqldb.ImportSummary{})
		}
		mustCode(t, err, reclaim.ECONFLICT)
		if err := imp.AddLoans(ctx, rows[:1]); err == nil {
			t.Error("the import went on after an error")
		}
		imp.Rollback()
		empty("repeated id")

		// Rolled back with chunks queued.
		for round := 0; round < 3; round++ {
			imp, err := db.BeginImport(ctx, meta("rollback"))
			if err != nil {
				t.Fatal(err)
			}
			imp.Pipeline()
			if err := add(imp, rows); err != nil {
				t.Fatal(err)
			}
			if err := imp.Rollback(); err != nil {
				t.Fatal(err)
			}
			empty("rollback")
		}

		// Pipelined and not: the same rows stored.
		stored := map[bool]int64{}
		for _, pipelined := range []bool{false, true} {
			imp, err := db.BeginImport(ctx, meta(fmt.Sprintf("store-%v", pipelined)))
			if err != nil {
				t.Fatal(err)
			}
			if pipelined {
				imp.Pipeline()
			}
			if err := add(imp, rows); err != nil {
				t.Fatal(err)
			}
			has, err := imp.HasLoans(ctx, []string{rows[5999].Loan.LoanID, "nope"})
			if err != nil || !has[0] || has[1] {
				t.Fatalf("HasLoans = %v, %v", has, err)
			}
			p, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: 6000, BorrowerCount: 4000})
			if err != nil {
				t.Fatal(err)
			}
			stored[pipelined] = p.ID
		}
		loans := func(id int64) []reclaim.Loan {
			var out []reclaim.Loan
			if err := db.StreamLoans(ctx, id, func(l *reclaim.Loan) error { out = append(out, *l); return nil }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		a, b := loans(stored[false]), loans(stored[true])
		if len(a) != 6000 || !reflect.DeepEqual(a, b) {
			t.Fatalf("stored %d and %d loans, or they differ", len(a), len(b))
		}
		for _, id := range []int64{stored[false], stored[true]} {
			indexed, sealed, err := db.BlindIndexCount(ctx, id)
			if err != nil || indexed != 4000 || sealed != 4000 {
				t.Errorf("portfolio %d: %d borrowers indexed, %d sealed (%v), want 4000", id, indexed, sealed, err)
			}
		}
		if n := len(storedBlindTerms(t, db)); n != 16000 {
			t.Errorf("%d blind-index terms stored, want 16000", n)
		}
	})
}

// Migration 00028 keeps every blind-index row and its look-ups, up and down; on SQLite the table
// has no rowid afterwards.
func TestMigration00028(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openMigratedTo(t, dsn, 26)
		h := func(i int) []byte { s := sha256.Sum256([]byte{byte(i)}); return s[:] }
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for i := 0; i < 50; i++ {
				if _, err := tx.Exec(ctx, `INSERT INTO borrower_blind (borrower_id, kind, hash) VALUES (?, ?, ?)`, int64(i/2), []string{"nid", "phone"}[i%2], h(i)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check := func(what string) {
			t.Helper()
			var n, bid int64
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_blind`).Scan(&n); err != nil {
					return err
				}
				return tx.QueryRow(ctx, `SELECT borrower_id FROM borrower_blind WHERE hash = ?`, h(31)).Scan(&bid)
			}); err != nil || n != 50 || bid != 15 {
				t.Errorf("%s: %d rows, hash 31 -> borrower %d (%v)", what, n, bid, err)
			}
		}
		check("before")
		if err := sqldb.MigrateToForTest(ctx, db, 28); err != nil {
			t.Fatal(err)
		}
		check("after 00028")
		if db.Dialect() == sqldb.SQLite {
			err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				var r int64
				return tx.QueryRow(ctx, `SELECT rowid FROM borrower_blind LIMIT 1`).Scan(&r)
			})
			if err == nil {
				t.Error("borrower_blind still has a rowid")
			}
		}
		if err := sqldb.MigrateDownToForTest(ctx, db, 26); err != nil {
			t.Fatal(err)
		}
		check("down again")
	})
}

// A pipelined import whose context is cancelled with chunks queued and replies owed (on
// PostgreSQL the goroutine sends a chunk before it reads the previous one's replies) fails,
// stores nothing, and leaves the pool able to serve the next import. Both engines.
func TestImportPipelineCancel(t *testing.T) {
	defer sqldb.SetPipeStoreDelayForTest(5 * time.Millisecond)()
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		rows := pipelineRows(6000)
		for _, cancelAt := range []int{700, 2800, 5600} {
			ctx, cancel := context.WithCancel(context.Background())
			imp, err := db.BeginImport(ctx, meta(fmt.Sprintf("cancel-%d", cancelAt)))
			if err != nil {
				t.Fatal(err)
			}
			imp.Pipeline()
			for i := 0; i < len(rows) && err == nil; i += 350 {
				if i == cancelAt {
					cancel()
				}
				err = imp.AddLoans(ctx, rows[i:min(i+350, len(rows))])
			}
			if err == nil {
				_, err = imp.Commit(ctx, sqldb.ImportSummary{})
			}
			if err == nil {
				t.Fatalf("cancelled at row %d: the import committed", cancelAt)
			}
			imp.Rollback()
			cancel()
			assertEmpty(t, db)
		}
		// Every connection the pool holds still works: imports back to back.
		for round := 0; round < 3; round++ {
			ctx := context.Background()
			imp, err := db.BeginImport(ctx, meta(fmt.Sprintf("after-cancel-%d", round)))
			if err != nil {
				t.Fatal(err)
			}
			imp.Pipeline()
			for i := 0; i < 1400; i += 350 {
				if err := imp.AddLoans(ctx, rows[i:i+350]); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if _, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: 1400}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if got := count(t, db, "loans"); got != 3*1400 {
			t.Errorf("%d loans stored, want %d", got, 3*1400)
		}
	})
}
