package sqldb_test

import (
	"context"
	"slices"
	"testing"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// Boarding records its borrowers' masked names in borrower_names, which name-and-amount payment
// matching reads; a portfolio imported but not boarded adds none. Migration 00040 builds the same
// rows from the boarded accounts (checked by going down to 00039 and up again), and takes the
// masked-name index off borrowers, which every import had to keep up to date. Both engines.
func TestBorrowerNames(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, false) // boarded: Z and W with personal data, N without
		importPeople(t, db, "names-unboarded", "PKG-U", []reclaim.Loan{workoutLoan("PKG-U", "LN-9", "Q", 1000)},
			map[string]reclaim.PersonalData{"Q": {Name: "赵六"}})
		names := func(what string) []string {
			t.Helper()
			var out []string
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				rs, err := tx.Query(ctx, `SELECT n.masked_name, b.borrower_ref, b.portfolio_id FROM borrower_names n
					JOIN borrowers b ON b.id = n.borrower_id ORDER BY b.borrower_ref`)
				if err != nil {
					return err
				}
				defer rs.Close()
				for rs.Next() {
					var name, ref string
					var pid int64
					if err := rs.Scan(&name, &ref, &pid); err != nil {
						return err
					}
					if pid != f.portfolio {
						t.Errorf("%s: %s of portfolio %d, which is not boarded", what, ref, pid)
					}
					out = append(out, name+" "+ref)
				}
				return rs.Err()
			}); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return out
		}
		want := []string{"张* W", "张* Z"} // importPeople masks every name as 张*
		if got := names("after boarding"); !slices.Equal(got, want) {
			t.Fatalf("after boarding: %q, want %q", got, want)
		}
		index := func() int {
			q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'borrowers_masked_name'`
			if db.Dialect() != sqldb.SQLite {
				q = `SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'borrowers_masked_name' AND schemaname = current_schema()`
			}
			var n int
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error { return tx.QueryRow(ctx, q).Scan(&n) }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if index() != 0 {
			t.Error("borrowers still has its masked-name index")
		}
		if err := sqldb.MigrateDownToForTest(ctx, db, 39); err != nil {
			t.Fatal(err)
		}
		if index() != 1 {
			t.Error("down: the masked-name index is not back")
		}
		if err := sqldb.MigrateToForTest(ctx, db, 40); err != nil {
			t.Fatal(err)
		}
		if got := names("up again"); !slices.Equal(got, want) {
			t.Fatalf("up again: %q, want %q", got, want)
		}
	})
}
