package sqldb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// The PostgreSQL import encodes its rows itself in binary COPY format, so each column's type is
// fixed in the code: it must be the column's type in the schema (a wrong width is refused by the
// server as "incorrect binary data format", and one that fits by luck would store nonsense), and
// its loans columns must be those the SQLite import writes. On SQLite the column names are
// checked against the tables.
func TestImportCopyTypes(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		cols := sqldb.ImportCopyColumnsForTest()
		var names []string
		for _, c := range cols["loans"] {
			names = append(names, c[0])
		}
		if got, want := strings.Join(names, ","), strings.Join(strings.Fields(strings.ReplaceAll(sqldb.LoanColumnsForTest, ",", " ")), ","); got != want {
			t.Errorf("COPY loans columns\n%s\nSQLite's\n%s", got, want)
		}
		for _, table := range []string{"loans", "borrowers", "borrower_pii"} {
			if len(cols[table]) == 0 {
				t.Fatalf("no COPY columns for %s", table)
			}
			schema := map[string]string{}
			q := `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
				WHERE a.attrelid = '` + table + `'::regclass AND a.attnum > 0 AND NOT a.attisdropped`
			if db.Dialect() == sqldb.SQLite {
				q = `SELECT name, '' FROM pragma_table_info('` + table + `')`
			}
			if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				rs, err := tx.Query(ctx, q)
				if err != nil {
					return err
				}
				defer rs.Close()
				for rs.Next() {
					var n, typ string
					if err := rs.Scan(&n, &typ); err != nil {
						return err
					}
					schema[n] = typ
				}
				return rs.Err()
			}); err != nil {
				t.Fatal(err)
			}
			for _, c := range cols[table] {
				typ, ok := schema[c[0]]
				switch {
				case !ok:
					t.Errorf("%s.%s: no such column", table, c[0])
				case db.Dialect() == sqldb.Postgres && typ != c[1]:
					t.Errorf("%s.%s is %s in the schema, COPY encodes %s", table, c[0], typ, c[1])
				}
			}
		}
	})
}

// Values at the edges of the binary encoding come back as they went in: dates before
// PostgreSQL's epoch (2000-01-01) and before 1970, the largest integers, NULLs in every nullable
// column, text in Chinese. An INTEGER column given a value beyond its range is an error on
// PostgreSQL (as the statement would be) and the session can only be rolled back; SQLite's
// integers hold it.
func TestImportCopyEdgeValues(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		old := fullLoan(0)
		old.OriginationDate = date.Of(1969, time.July, 20)
		old.DefaultDate = date.Of(1999, time.December, 31)
		old.WriteOffDate = date.Of(2000, time.January, 1)
		old.LastPaymentDate = date.Of(1900, time.March, 1)
		old.LimitationExpiryDate = date.Of(9999, time.December, 31)
		old.BirthDate = date.Of(1949, time.October, 1)
		old.OriginalAmount = cny(1<<62 + 12345)
		old.TotalClaim = cny(-(1 << 62))
		old.DaysPastDue = 1<<31 - 1
		old.AgencyPlacements = 0
		old.Court = "广东省深圳市福田区人民法院（第二法庭）"
		old.Extras = map[string]string{"备注": "含\"引号\"和\\反斜杠", "empty": ""}
		bare := bareLoan(1)
		bare.DaysPastDue = -(1 << 31)
		loans := []reclaim.Loan{old, bare}
		p := importTape(t, db, "hash-edges", loans, nil)
		var back []reclaim.Loan
		if err := db.StreamLoans(ctx, p.ID, func(l *reclaim.Loan) error {
			back = append(back, *l)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(storedForm(loans), back, cmpOpts); diff != "" {
			t.Errorf("loans differ after round trip (-in +out):\n%s", diff)
		}

		imp, err := db.BeginImport(ctx, meta("hash-overflow"))
		if err != nil {
			t.Fatal(err)
		}
		defer imp.Rollback()
		big := fullLoan(2)
		big.DaysPastDue = 1 << 31
		err = imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: big}})
		if db.Dialect() == sqldb.SQLite {
			if err != nil {
				t.Fatalf("SQLite refused a days-past-due of 2^31: %v", err)
			}
			return
		}
		if err == nil {
			t.Fatal("PostgreSQL took a days-past-due of 2^31 into an INTEGER column")
		}
		if _, err := imp.Commit(ctx, sqldb.ImportSummary{}); err == nil {
			t.Fatal("the import committed after a failed AddLoans")
		}
		if err := imp.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "loans"); n != 2 {
			t.Errorf("%d loans after the failed import, want the 2 of the first", n)
		}
	})
}
