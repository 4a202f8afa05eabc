package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
)

// rawRows reads every row of a query with raw SQL, as an operator with database access would,
// each value as text (dates as YYYY-MM-DD, instants RFC 3339, blobs as raw bytes), by column.
func rawRows(t *testing.T, db *sqldb.DB, query string, args ...any) (cols []string, out []map[string]string) {
	t.Helper()
	ctx := context.Background()
	err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if cols, err = rows.Columns(); err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			m := map[string]string{}
			for i, v := range vals {
				switch x := v.(type) {
				case nil:
				case time.Time:
					m[cols[i]] = x.Format("2006-01-02") + " " + x.Format(time.RFC3339Nano)
				case []byte:
					m[cols[i]] = string(x)
				default:
					m[cols[i]] = fmt.Sprint(x)
				}
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// birthForms are the ways a birth date could sit in a clear column.
func birthForms(b date.Date) []string {
	y, m, d := b.Date()
	return []string{b.String(), fmt.Sprintf("%04d%02d%02d", y, int(m), d), fmt.Sprintf("%04d/%d/%d", y, int(m), d)}
}

// importSynthetic imports a synthetic tape with personal data through the real import path and
// returns the portfolio id and each borrower's personal data as the tape had it.
func importSynthetic(t *testing.T, db *sqldb.DB, loans int) (int64, map[string]reclaim.PersonalData) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tape.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := synth.Config{Seed: 9, Loans: loans, PortfolioRef: "PKG-PII", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed}
	truth := map[string]reclaim.PersonalData{}
	if _, err := synth.WriteTape(ctx, cfg, f, nil, synth.TapeOptions{IncludePersonal: true}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for it, ok := g.Next(); ok; it, ok = g.Next() {
		truth[it.Loan.BorrowerID] = it.Personal
	}
	rep, err := ingest.Run(ctx, db.IngestStore(), testKeyring(t), path, ingest.Options{SellerName: "Bank A"})
	if err != nil || rep.PortfolioID == 0 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	return rep.PortfolioID, truth
}

// TestNoRestorableIDInClearColumns is the operator's view of issue 9, item 2: read with raw SQL,
// the loans and borrowers rows (and the portfolio's stored header, report and events) hold no birth
// date and no national ID, and what they do hold in clear about a borrower (masked ID, county,
// birth year, age) leaves at least cnid.MinConsistentIDs valid IDs. Before migration 00006 the
// loans table had a birth_date column and borrowers.masked_national_id kept the first 6 and last 4
// characters: the two rebuilt every ID.
func TestNoRestorableIDInClearColumns(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		pid, truth := importSynthetic(t, db, 120)
		cols, loans := rawRows(t, db, `SELECT * FROM loans WHERE portfolio_id = ?`, pid)
		for _, c := range cols {
			if strings.Contains(strings.ToLower(c), "birth_date") || strings.Contains(strings.ToLower(c), "national") {
				t.Errorf("loans has a column %s", c)
			}
		}
		_, borrowers := rawRows(t, db, `SELECT * FROM borrowers WHERE portfolio_id = ?`, pid)
		masked := map[string]string{}
		for _, b := range borrowers {
			masked[b["borrower_ref"]] = b["masked_national_id"]
		}
		if len(loans) != 120 || len(borrowers) == 0 {
			t.Fatalf("%d loans, %d borrowers", len(loans), len(borrowers))
		}
		checked := 0
		for _, l := range loans {
			pd, ok := truth[l["borrower_ref"]]
			if !ok || pd.NationalID == "" {
				t.Fatalf("no synthetic personal data for %s", l["borrower_ref"])
			}
			info, err := cnid.Validate(pd.NationalID)
			if err != nil {
				t.Fatal(err)
			}
			for col, v := range l {
				for _, s := range append(birthForms(info.Birth), pd.NationalID, pd.NationalID[6:14], pd.NationalID[10:]) {
					if strings.Contains(v, s) {
						t.Errorf("loans.%s of %s holds %q (from the birth date or ID) in clear", col, l["loan_ref"], s)
					}
				}
			}
			by, err := strconv.Atoi(l["birth_year"])
			if err != nil || by != info.Birth.Year() {
				t.Errorf("birth_year %q, want %d", l["birth_year"], info.Birth.Year())
			}
			if age, _ := strconv.Atoi(l["age"]); age != 2025-by {
				t.Errorf("age %s beside birth year %d: want cut-off year - birth year = %d", l["age"], by, 2025-by)
			}
			m := masked[l["borrower_ref"]]
			if m == "" || strings.Trim(m[cnid.MaskKeep:], "*") != "" {
				t.Errorf("masked_national_id %q shows more than the first %d characters", m, cnid.MaskKeep)
			}
			if checked < 8 { // each count enumerates ~366,000 IDs
				checked++
				// Worst case: the attacker takes the ID's own county from region_code.
				n, err := cnid.ConsistentIDs(cnid.Shown{Mask: m, Region: pd.NationalID[:6], BirthYear: by})
				if err != nil || n < cnid.MinConsistentIDs {
					t.Errorf("%d IDs consistent with the clear columns of %s (%v); want >= %d", n, l["loan_ref"], err, cnid.MinConsistentIDs)
				}
			}
		}
		for _, b := range borrowers {
			pd := truth[b["borrower_ref"]]
			info, _ := cnid.Validate(pd.NationalID)
			for col, v := range b {
				for _, s := range append(birthForms(info.Birth), pd.NationalID, pd.NationalID[6:14], pd.Phone) {
					if strings.Contains(v, s) {
						t.Errorf("borrowers.%s holds %q in clear", col, s)
					}
				}
			}
		}
		// Nothing else the portfolio stores in clear carries them either.
		_, other := rawRows(t, db, `SELECT header_json, report_json FROM portfolios WHERE id = ?`, pid)
		_, events := rawRows(t, db, `SELECT detail FROM events WHERE portfolio_id = ?`, pid)
		for _, row := range append(other, events...) {
			for _, v := range row {
				for _, pd := range truth {
					info, _ := cnid.Validate(pd.NationalID)
					for _, s := range append(birthForms(info.Birth), pd.NationalID) {
						if strings.Contains(v, s) {
							t.Fatalf("stored JSON holds %q in clear", s)
						}
					}
				}
			}
		}
	})
}

// TestCollectorsStillReadBirthDates: the audited path still gives a collector the full personal
// data, birth date included, and records the read with the fields returned.
func TestCollectorsStillReadBirthDates(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		pid, truth := importSynthetic(t, db, 40)
		kdb := sqldb.KeyedDB{DB: db, Keys: testKeyring(t)}
		n := 0
		for ref, want := range truth {
			got, err := kdb.ReadPersonal(ctx, reclaim.Access{Actor: "user:collector1", Purpose: "call about settlement"}, pid, ref)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := cnid.Validate(want.NationalID)
			if got.NationalID != want.NationalID || got.Name != want.Name || got.Phone != want.Phone || got.BirthDate != info.Birth {
				t.Fatalf("collector read %s: got ID ok=%v birth %v, want birth %v", ref, got.NationalID == want.NationalID, got.BirthDate, info.Birth)
			}
			n++
		}
		log, err := db.ListPIIAccess(ctx, reclaim.PIIAccessFilter{PortfolioID: pid})
		if err != nil || len(log) != n {
			t.Fatalf("%d access-log rows for %d reads: %v", len(log), n, err)
		}
		for _, a := range log {
			if a.Actor != "user:collector1" || !strings.Contains(strings.Join(a.Fields, ","), "birth_date") ||
				!strings.Contains(strings.Join(a.Fields, ","), "national_id") {
				t.Errorf("access row %+v", a)
			}
		}
	})
}

// openMigratedTo opens the store at dsn with the migrations up to and including version applied
// (a migration test loads data in that schema, then runs the next); closed when the test ends.
func openMigratedTo(t *testing.T, dsn string, version int64) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqldb.MigrateToForTest(ctx, db, version); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMigration00006 loads loans in the schema before 00006 (birth_date in clear, masked IDs
// showing the first 6 and last 4 characters), runs the migration and checks, with raw SQL, that
// the birth date is gone, the birth year and the age derived from it are there, and the stored
// masks show only the first four characters.
func TestMigration00006(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openMigratedTo(t, dsn, 5)
		id := cnid.Generate("440502", date.Of(1985, 7, 7), 635, true)
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			stmts := []struct {
				q    string
				args []any
			}{
				{`INSERT INTO sellers (id, name, created_at) VALUES (1, 'Bank A', ?)`, []any{"2025-07-01T00:00:00.000000Z"}},
				{`INSERT INTO portfolios (id, seller_id, ref, name, cut_off_date, currency, status, source_file, content_hash, salt, imported_at)
					VALUES (1, 1, 'P', 'P', ?, 'CNY', 'active', 't.csv', 'h', ?, ?)`, []any{"2025-06-30", []byte("salt"), "2025-07-01T00:00:00.000000Z"}},
				{`INSERT INTO borrowers (id, portfolio_id, borrower_ref, masked_name, masked_national_id, masked_phone) VALUES
					(1, 1, 'B1', '张*', ?, '138****5678'), (2, 1, 'B2', '李*', '110105*****1002', NULL), (3, 1, 'B3', NULL, '*****', NULL),
					(4, 1, 'B4', NULL, NULL, NULL)`, []any{cnid.Generate("440502", date.Of(1985, 7, 7), 635, true)[:6] + "********" + id[14:]}},
			}
			for i, l := range []struct {
				birth any
				age   any
			}{{"1985-07-07", 39}, {"1990-12-31", 34}, {nil, 44}, {nil, nil}} {
				stmts = append(stmts, struct {
					q    string
					args []any
				}{`INSERT INTO loans (portfolio_id, borrower_id, loan_ref, borrower_ref, currency, days_past_due, written_off, deceased, bankrupt,
					phone_available, repayment_plan_active, agency_placements, complaint_flag, birth_date, age)
					VALUES (1, ?, ?, ?, 'CNY', 100, false, false, false, false, false, 0, false, ?, ?)`,
					[]any{i + 1, fmt.Sprintf("L%d", i+1), fmt.Sprintf("B%d", i+1), l.birth, l.age}})
			}
			for _, s := range stmts {
				if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
					return fmt.Errorf("%s: %w", s.q, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect() == sqldb.SQLite {
			// The old rows are in the database file itself, as on a server that ran for a while.
			if err := sqldb.CheckpointForTest(ctx, db); err != nil {
				t.Fatal(err)
			}
			if raw, err := os.ReadFile(strings.TrimPrefix(dsn, "sqlite:")); err != nil || !strings.Contains(string(raw), "1985-07-07") {
				t.Fatalf("the test's premise: the birth date is in the file's bytes before the migration (%v)", err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		cols, loans := rawRows(t, db, `SELECT * FROM loans ORDER BY loan_ref`)
		for _, c := range cols {
			if c == "birth_date" {
				t.Errorf("loans.birth_date survived the migration")
			}
		}
		want := []struct{ year, age string }{{"1985", "40"}, {"1990", "35"}, {"", "44"}, {"", ""}}
		for i, l := range loans {
			if l["birth_year"] != want[i].year || l["age"] != want[i].age {
				t.Errorf("%s: birth_year %q age %q, want %q %q", l["loan_ref"], l["birth_year"], l["age"], want[i].year, want[i].age)
			}
			for _, v := range l {
				if strings.Contains(v, "1985-07-07") || strings.Contains(v, "1990-12-31") {
					t.Errorf("%s still holds a birth date: %v", l["loan_ref"], l)
				}
			}
		}
		_, bs := rawRows(t, db, `SELECT borrower_ref, masked_national_id FROM borrowers ORDER BY borrower_ref`)
		wantMask := []string{"4405**************", "1101***********", "*****", ""}
		for i, b := range bs {
			if b["masked_national_id"] != wantMask[i] {
				t.Errorf("%s: masked_national_id %q, want %q", b["borrower_ref"], b["masked_national_id"], wantMask[i])
			}
		}
		if db.Dialect() == sqldb.SQLite {
			// secure_delete: the old cells are overwritten, not left in free space of the file.
			if err := sqldb.CheckpointForTest(ctx, db); err != nil {
				t.Fatal(err)
			}
			path := strings.TrimPrefix(dsn, "sqlite:")
			for _, f := range []string{path, path + "-wal"} {
				raw, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				for _, s := range []string{"1985-07-07", "1990-12-31", "440502********"} {
					if strings.Contains(string(raw), s) {
						t.Errorf("%s still holds %q in its bytes after the migration", filepath.Base(f), s)
					}
				}
			}
		}
		// The store reads the migrated rows.
		var got []reclaim.Loan
		if err := db.StreamLoans(ctx, 1, func(l *reclaim.Loan) error { got = append(got, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[0].BirthYear != 1985 || got[0].Age != 40 || !got[0].BirthDate.IsZero() || got[2].BirthYear != 0 || got[2].Age != 44 {
			t.Errorf("StreamLoans after the migration: %+v", got)
		}
		page, _, err := db.LoansPage(ctx, 1, 0, 10)
		if err != nil || len(page) != 4 || page[0].Borrower.NationalID != "4405**************" {
			t.Errorf("LoansPage after the migration: %+v, %v", page, err)
		}
		// Down restores the column, empty (the dates are gone by design), and up again works.
		if err := sqldb.MigrateDownToForTest(ctx, db, 5); err != nil {
			t.Fatalf("down: %v", err)
		}
		// (another query text: PostgreSQL's cached plan for the first one has the old row type)
		cols, loans = rawRows(t, db, `SELECT * FROM loans ORDER BY loan_ref, id`)
		if !slices.Contains(cols, "birth_date") || slices.Contains(cols, "birth_year") || loans[0]["birth_date"] != "" {
			t.Errorf("after down: columns %v, first row %v", cols, loans[0])
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
	})
}

// TestOldSealedRecordsGiveTheBirthDate: personal data sealed before migration 00006 has no birth
// date (it lived in loans.birth_date, which the migration dropped); the collectors' audited read
// derives it from the national ID, and logs that it was returned.
func TestOldSealedRecordsGiveTheBirthDate(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		kr := testKeyring(t)
		m := meta("old-seal")
		imp, err := db.BeginImport(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		defer imp.Rollback()
		old := reclaim.PersonalData{Name: "王小明", NationalID: "11010519491231002X", Phone: "13800138000"} // no BirthDate
		sealed, err := kr.SealPersonal(old, ingest.PersonalAAD(m.ContentHash, "B1"))
		if err != nil {
			t.Fatal(err)
		}
		l := bareLoan(1)
		l.BorrowerID = "B1"
		if err := imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: l, Sealed: sealed, KeyID: kr.KeyID()}}); err != nil {
			t.Fatal(err)
		}
		p, err := imp.Commit(ctx, sqldb.ImportSummary{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := sqldb.KeyedDB{DB: db, Keys: kr}.ReadPersonal(ctx, reclaim.Access{Actor: "user:c", Purpose: "court filing"}, p.ID, "B1")
		if err != nil || got.BirthDate != date.Of(1949, 12, 31) || got.NationalID != old.NationalID {
			t.Fatalf("read: birth %v, %v", got.BirthDate, err)
		}
		log, err := db.ListPIIAccess(ctx, reclaim.PIIAccessFilter{PortfolioID: p.ID})
		if err != nil || len(log) != 1 || !strings.Contains(strings.Join(log[0].Fields, ","), "birth_date") {
			t.Errorf("access log %+v, %v", log, err)
		}
	})
}
