package sqldb_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// rawBindRows returns n loans that between them hold every kind of value an import binds: full
// and bare loans, empty texts that are stored as NULL, texts in Chinese and with quotes, extras,
// a birth year without a birth date, borrowers with and without masked data, sealed data and
// blind-index terms (one repeated, one without a hash).
func rawBindRows(n int) []sqldb.LoanRow {
	rows := make([]sqldb.LoanRow, n)
	seen := map[string]bool{}
	for i := range rows {
		var l reclaim.Loan
		switch i % 4 {
		case 0, 1:
			l = fullLoan(i)
		case 2:
			l = bareLoan(i)
		default:
			l = fullLoan(i)
			l.LoanID = fmt.Sprintf("贷款-'%d'", i)
			l.Court, l.RegionCode, l.ProductType = "", "", ""
			l.BirthDate, l.BirthYear = reclaim.Loan{}.BirthDate, 1970+i%30
			l.Extras = map[string]string{"note": `say "hi"`, "空": ""}
		}
		l.BorrowerID = fmt.Sprintf("B%06d", i*3/5)
		rows[i] = sqldb.LoanRow{Loan: l}
		if i%7 != 0 {
			rows[i].Masked = reclaim.Masked{Name: "张*", NationalID: "1101**********002X", Phone: strings.Repeat("*", i%3)}
		}
		if !seen[l.BorrowerID] && i%5 != 1 {
			seen[l.BorrowerID] = true
			h1 := sha256.Sum256([]byte("nid" + l.BorrowerID))
			h2 := sha256.Sum256([]byte("phone" + l.BorrowerID))
			rows[i].Sealed, rows[i].KeyID = append([]byte("sealed\x00"), l.BorrowerID...), "k1"
			rows[i].Blind = []workout.BlindTerm{{Kind: "nid", Hash: h1[:]}, {Kind: "phone", Hash: h2[:]},
				{Kind: "nid", Hash: h1[:]}, {Kind: "phone"}}
		}
	}
	return rows
}

// storedRows returns, table by table, every row the import of portfolio pid stored, each value
// in SQLite's quote() form (type and bytes), ids replaced by the borrower's reference.
func storedRows(t *testing.T, db *sqldb.DB, pid int64) map[string][]string {
	t.Helper()
	ctx := context.Background()
	var loanCols []string
	for _, c := range strings.Split(sqldb.LoanColumnsForTest, ",") {
		if c = strings.TrimSpace(c); c != "portfolio_id" && c != "borrower_id" {
			loanCols = append(loanCols, "quote(l."+c+")")
		}
	}
	queries := map[string]string{
		"loans": `SELECT b.borrower_ref, ` + strings.Join(loanCols, ", ") + ` FROM loans l JOIN borrowers b ON b.id = l.borrower_id
			WHERE l.portfolio_id = ? ORDER BY l.loan_ref`,
		"borrowers": `SELECT quote(borrower_ref), quote(masked_name), quote(masked_national_id), quote(masked_phone)
			FROM borrowers WHERE portfolio_id = ? ORDER BY borrower_ref`,
		"borrower_pii": `SELECT b.borrower_ref, quote(p.key_id), quote(p.sealed), quote(p.blind) FROM borrower_pii p
			JOIN borrowers b ON b.id = p.borrower_id WHERE b.portfolio_id = ? ORDER BY b.borrower_ref`,
	}
	out := map[string][]string{}
	err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		for table, q := range queries {
			rows, err := tx.Query(ctx, q, pid)
			if err != nil {
				return err
			}
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				out[table] = append(out[table], fmt.Sprint(vals...))
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An import whose INSERTs bind below database/sql stores, byte for byte and type for type, the
// rows the driver stores for the same tape (the blind-index terms in borrower_pii.blind among
// them), unpipelined and pipelined. SQLite only: PostgreSQL imports through COPY, and this path does not
// exist there.
func TestImportRawBindStoresWhatTheDriverStores(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		if db.Dialect() != sqldb.SQLite {
			t.Skip("the binding below database/sql is SQLite's; PostgreSQL imports with COPY")
		}
		ctx := context.Background()
		rows := rawBindRows(6123)
		run := func(name string, driver, pipelined bool) map[string][]string {
			t.Helper()
			defer sqldb.SetImportDriverBindForTest(driver)()
			imp, err := db.BeginImport(ctx, meta("rawbind-"+name))
			if err != nil {
				t.Fatal(err)
			}
			defer imp.Rollback()
			if pipelined {
				imp.Pipeline()
			}
			for i := 0; i < len(rows); i += 700 {
				if err := imp.AddLoans(ctx, rows[i:min(i+700, len(rows))]); err != nil {
					t.Fatal(err)
				}
			}
			if got := sqldb.ImportBindsRawForTest(imp); got == driver {
				t.Fatalf("%s: bound below database/sql = %v", name, got)
			}
			p, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: int64(len(rows))})
			if err != nil {
				t.Fatal(err)
			}
			return storedRows(t, db, p.ID)
		}
		want := run("driver", true, false)
		for table, n := range map[string]int{"loans": 6123, "borrowers": 3674} {
			if len(want[table]) != n {
				t.Fatalf("the driver stored %d %s, want %d", len(want[table]), table, n)
			}
		}
		if len(want["borrower_pii"]) == 0 {
			t.Fatal("the driver stored no sealed borrower")
		}
		for _, r := range want["borrower_pii"] {
			if strings.HasSuffix(r, " NULL") {
				t.Fatalf("the driver stored a sealed borrower without its blind-index terms: %s", r)
			}
		}
		for _, c := range []struct {
			name      string
			pipelined bool
		}{{"raw", false}, {"raw-pipelined", true}} {
			got := run(c.name, false, c.pipelined)
			for table := range want {
				if !reflect.DeepEqual(got[table], want[table]) {
					for i := range min(len(got[table]), len(want[table])) {
						if got[table][i] != want[table][i] {
							t.Errorf("%s: %s row %d:\n got %s\nwant %s", c.name, table, i, got[table][i], want[table][i])
							break
						}
					}
					t.Errorf("%s: %s: %d rows stored, the driver %d, or they differ", c.name, table, len(got[table]), len(want[table]))
				}
			}
		}
	})
}

// A loan id stored twice is ECONFLICT on the raw path too, pipelined or not, and nothing stays.
func TestImportRawBindConflict(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		rows := rawBindRows(1500)
		rows[1400].Loan.LoanID = rows[3].Loan.LoanID
		for _, pipelined := range []bool{false, true} {
			imp, err := db.BeginImport(ctx, meta(fmt.Sprintf("conflict-%v", pipelined)))
			if err != nil {
				t.Fatal(err)
			}
			if pipelined {
				imp.Pipeline()
			}
			err = imp.AddLoans(ctx, rows)
			if err == nil {
				_, err = imp.Commit(ctx, sqldb.ImportSummary{})
			}
			mustCode(t, err, reclaim.ECONFLICT)
			if db.Dialect() == sqldb.SQLite && !sqldb.ImportBindsRawForTest(imp) {
				t.Error("the import bound through the driver")
			}
			imp.Rollback()
			assertEmpty(t, db)
		}
	})
}
