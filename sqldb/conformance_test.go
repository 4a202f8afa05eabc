package sqldb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b money.Amount) bool { return a == b }),
	cmp.Comparer(func(a, b date.Date) bool { return a == b }),
}

var cutOff = date.Of(2025, time.June, 30)

func meta(hash string) sqldb.ImportMeta {
	return sqldb.ImportMeta{SellerName: "某银行信用卡中心", Ref: "PKG-2025-01", Name: "2025 第一期", CutOffDate: cutOff,
		Currency: money.CNY, SourceFile: "tape.csv", ContentHash: hash, Salt: []byte("0123456789abcdef0123456789abcdef"),
		Actor: "tester"}
}

func cny(minor int64) money.Amount { return money.New(minor, money.CNY) }

// fullLoan has every field set.
func fullLoan(i int) reclaim.Loan {
	return reclaim.Loan{
		PortfolioRef: "PKG-2025-01", CutOffDate: cutOff,
		LoanID: fmt.Sprintf("L%06d", i), BorrowerID: fmt.Sprintf("B%06d", i/2), ProductType: reclaim.CreditCard,
		OriginationDate: date.Of(2019, time.March, 31), OriginalAmount: cny(5000000), Currency: money.CNY,
		PrincipalOutstanding: cny(1234567), InterestOutstanding: cny(234567), FeesOutstanding: cny(1000),
		TotalClaim: cny(1470134), DefaultDate: date.Of(2023, time.January, 15), DaysPastDue: 897,
		FiveCategory: reclaim.Loss, WrittenOff: true, WriteOffDate: date.Of(2024, time.February, 29),
		SecurityType: reclaim.Guaranteed, LastPaymentDate: date.Of(2022, time.December, 1), LastPaymentAmount: cny(50000),
		LegalStatus: reclaim.Judgment, LegalStartDate: date.Of(2024, time.May, 6), Court: "北京市朝阳区人民法院",
		LimitationExpiryDate: date.Of(2027, time.May, 6), BirthDate: date.Of(1985, time.July, 7), Age: 39,
		RegionCode: "110105", Deceased: true, Bankrupt: true, PhoneAvailable: true, LastContactDate: date.Of(2025, time.April, 1),
		ForbearanceCount: 2, RepaymentPlanActive: true, AgencyPlacements: 3, ComplaintFlag: true,
		Extras: map[string]string{"grade": "C", "渠道": "线上"},
	}
}

// storedForm is what the store gives back for loans: no birth date (personal data, sealed by the
// caller), the birth year instead, and an age that is cut-off year - birth year when the year is
// known (docs/security-pii.md).
func storedForm(in []reclaim.Loan) []reclaim.Loan {
	out := make([]reclaim.Loan, len(in))
	for i, l := range in {
		if !l.BirthDate.IsZero() {
			l.BirthYear = l.BirthDate.Year()
		}
		if l.BirthYear > 0 {
			l.Age = l.CutOffDate.Year() - l.BirthYear
		}
		l.BirthDate = date.Date{}
		out[i] = l
	}
	return out
}

// bareLoan has every optional field absent.
func bareLoan(i int) reclaim.Loan {
	return reclaim.Loan{
		PortfolioRef: "PKG-2025-01", CutOffDate: cutOff,
		LoanID: fmt.Sprintf("M%06d", i), BorrowerID: fmt.Sprintf("C%06d", i), Currency: money.CNY,
		Age: -1, ForbearanceCount: -1,
	}
}

func testKeyring(t testing.TB) *pii.Keyring {
	k, err := pii.NewKey(bytes.Repeat([]byte{42}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	r, err := pii.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func aad(hash, borrower string) []byte { return []byte("portfolio:" + hash + "/borrower:" + borrower) }

const secretName = "王小明秘密"

func person(ref string) reclaim.PersonalData {
	return reclaim.PersonalData{Name: secretName + ref, NationalID: "11010519491231002X", Phone: "13800138000"}
}

func mustCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := reclaim.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// count returns the number of rows in table.
func count(t *testing.T, db *sqldb.DB, table string) int {
	t.Helper()
	var n int
	if err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func assertEmpty(t *testing.T, db *sqldb.DB) {
	t.Helper()
	for _, table := range []string{"portfolios", "borrowers", "borrower_pii", "loans", "repayments", "events", "portfolio_stats", "valuation_results"} {
		if n := count(t, db, table); n != 0 {
			t.Errorf("table %s has %d rows, want 0", table, n)
		}
	}
}

func TestMigrations(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 0 || st[0].Version != 1 {
			t.Fatalf("status = %+v", st)
		}
		for _, m := range st {
			if !m.Applied || m.AppliedAt.IsZero() {
				t.Errorf("migration %d (%s) not applied", m.Version, m.Path)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		assertEmpty(t, db)
	})
}

func TestOpenWithoutMigrate(t *testing.T) {
	ctx := context.Background()
	dsn := sqldbtest.SQLiteDSN(t)
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != sqldb.SQLite {
		t.Fatalf("dialect %q", db.Dialect())
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st {
		if m.Applied {
			t.Fatalf("Open applied migration %d without Options.Migrate", m.Version)
		}
	}
	for _, bad := range []string{"sqlite::memory:", ""} {
		if _, err := sqldb.Open(ctx, bad, sqldb.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	for _, alias := range []string{"file:" + filepath.Join(t.TempDir(), "a.db"), filepath.Join(t.TempDir(), "b.db")} {
		db, err := sqldb.Open(ctx, alias, sqldb.Options{Migrate: true})
		if err != nil {
			t.Fatalf("Open(%q): %v", alias, err)
		}
		db.Close()
	}
}

// importTape imports loans (with PII for every second borrower) and repayments and commits.
func importTape(t *testing.T, db *sqldb.DB, hash string, loans []reclaim.Loan, reps []reclaim.Repayment) reclaim.Portfolio {
	t.Helper()
	ctx := context.Background()
	kr := testKeyring(t)
	imp, err := db.BeginImport(ctx, meta(hash))
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	rows := make([]sqldb.LoanRow, len(loans))
	var claim int64
	borrowers := map[string]bool{}
	for i, l := range loans {
		rows[i].Loan = l
		borrowers[l.BorrowerID] = true
		claim += l.TotalClaim.Minor()
		if i%2 == 0 {
			sealed, err := kr.SealPersonal(person(l.BorrowerID), aad(hash, l.BorrowerID))
			if err != nil {
				t.Fatal(err)
			}
			rows[i].Sealed, rows[i].KeyID = sealed, kr.KeyID()
		}
	}
	// Two calls, to cross a batch boundary and a call boundary.
	half := len(rows) / 2
	if err := imp.AddLoans(ctx, rows[:half]); err != nil {
		t.Fatal(err)
	}
	if err := imp.AddLoans(ctx, rows[half:]); err != nil {
		t.Fatal(err)
	}
	if err := imp.AddRepayments(ctx, reps); err != nil {
		t.Fatal(err)
	}
	p, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: int64(len(loans)), BorrowerCount: int64(len(borrowers)),
		TotalClaim: cny(claim), HeaderJSON: []byte(`{"loans":` + fmt.Sprint(len(loans)) + `}`), ReportJSON: []byte(`{"rejected":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Rollback(); err != nil {
		t.Fatalf("Rollback after Commit: %v", err)
	}
	assertIntegrity(t, db)
	return p
}

// assertIntegrity checks the links that the bulk tables keep by construction instead of by
// foreign keys.
func assertIntegrity(t *testing.T, db *sqldb.DB) {
	t.Helper()
	for what, q := range map[string]string{
		"loans without their borrower": `SELECT COUNT(*) FROM loans l LEFT JOIN borrowers b
			ON b.id = l.borrower_id AND b.portfolio_id = l.portfolio_id AND b.borrower_ref = l.borrower_ref WHERE b.id IS NULL`,
		"borrowers without portfolio":  `SELECT COUNT(*) FROM borrowers b LEFT JOIN portfolios p ON p.id = b.portfolio_id WHERE p.id IS NULL`,
		"PII without borrower":         `SELECT COUNT(*) FROM borrower_pii x LEFT JOIN borrowers b ON b.id = x.borrower_id WHERE b.id IS NULL`,
		"repayments without portfolio": `SELECT COUNT(*) FROM repayments r LEFT JOIN portfolios p ON p.id = r.portfolio_id WHERE p.id IS NULL`,
		"borrowers without loans":      `SELECT COUNT(*) FROM borrowers b WHERE NOT EXISTS (SELECT 1 FROM loans l WHERE l.borrower_id = b.id)`,
	} {
		var n int
		if err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
			return tx.QueryRow(context.Background(), q).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
}

func mixedLoans(n int) []reclaim.Loan {
	loans := make([]reclaim.Loan, 0, n)
	for i := 0; i < n; i++ {
		if i%3 == 2 {
			loans = append(loans, bareLoan(i))
		} else {
			loans = append(loans, fullLoan(i))
		}
	}
	return loans
}

func TestImportRoundTrip(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		loans := mixedLoans(1203) // more than two SQLite batches, with a remainder
		reps := []reclaim.Repayment{
			{LoanID: "L000000", Month: date.Of(2022, 11, 1), Amount: cny(30000), Source: reclaim.SourceDebtor, Channel: reclaim.ChannelInternal},
			{LoanID: "L000000", Month: date.Of(2022, 12, 1), Amount: cny(50000), Source: reclaim.SourceGuarantor, Channel: reclaim.ChannelAgency},
			{LoanID: "L000001", Month: date.Of(2022, 12, 1), Amount: cny(1), Source: reclaim.SourceCourt, Channel: reclaim.ChannelLegal},
		}
		before := time.Now().Add(-time.Second)
		p := importTape(t, db, "hash-1", loans, reps)

		var claim int64
		borrowers := map[string]bool{}
		for _, l := range loans {
			claim += l.TotalClaim.Minor()
			borrowers[l.BorrowerID] = true
		}
		if p.ID == 0 || p.Status != reclaim.PortfolioActive || p.LoanCount != int64(len(loans)) || p.TotalClaim != cny(claim) ||
			p.SellerName != "某银行信用卡中心" || p.Ref != "PKG-2025-01" || p.CutOffDate != cutOff || p.Currency != money.CNY ||
			p.ContentHash != "hash-1" || p.SourceFile != "tape.csv" || !bytes.Equal(p.Salt, meta("").Salt) ||
			p.ImportedAt.Before(before) || p.ImportedAt.Location() != time.UTC {
			t.Fatalf("portfolio = %+v", p)
		}
		got, err := db.GetPortfolio(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p, got, cmpOpts); diff != "" {
			t.Errorf("GetPortfolio differs from Commit's (-commit +get):\n%s", diff)
		}
		list, err := db.ListPortfolios(ctx)
		if err != nil || len(list) != 1 || list[0].ID != p.ID {
			t.Fatalf("ListPortfolios = %v, %v", list, err)
		}
		if n := count(t, db, "borrowers"); n != len(borrowers) {
			t.Errorf("%d borrowers, want %d", n, len(borrowers))
		}
		if h, err := db.PortfolioHeaderJSON(ctx, p.ID); err != nil || string(h) != `{"loans":1203}` {
			t.Errorf("header = %s, %v", h, err)
		}
		if r, err := db.PortfolioReportJSON(ctx, p.ID); err != nil || string(r) != `{"rejected":[]}` {
			t.Errorf("report = %s, %v", r, err)
		}

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
		stop := errors.New("stop")
		n := 0
		if err := db.StreamLoans(ctx, p.ID, func(*reclaim.Loan) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("StreamLoans did not stop on fn's error: %v after %d", err, n)
		}
		mustCode(t, db.StreamLoans(ctx, 999, func(*reclaim.Loan) error { return nil }), reclaim.ENOTFOUND)

		r0, err := db.Repayments(ctx, p.ID, "L000000")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(reps[:2], r0, cmpOpts); diff != "" {
			t.Errorf("repayments (-want +got):\n%s", diff)
		}
		if r, err := db.Repayments(ctx, p.ID, "nope"); err != nil || len(r) != 0 {
			t.Errorf("Repayments(unknown) = %v, %v", r, err)
		}

		evs, err := db.ListEvents(ctx, p.ID, 10)
		if err != nil || len(evs) != 1 || evs[0].Type != reclaim.EventTapeImported || evs[0].Actor != "tester" ||
			!strings.Contains(evs[0].Detail, `"content_hash":"hash-1"`) {
			t.Fatalf("events = %+v, %v", evs, err)
		}
	})
}

func TestDuplicateContentHash(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "same", mixedLoans(10), nil)
		before := map[string]int{}
		for _, table := range []string{"portfolios", "borrowers", "loans", "events", "sellers"} {
			before[table] = count(t, db, table)
		}
		_, err := db.BeginImport(ctx, meta("same"))
		mustCode(t, err, reclaim.ECONFLICT)
		if !strings.Contains(err.Error(), fmt.Sprintf("portfolio %d", p.ID)) {
			t.Errorf("conflict message does not name portfolio %d: %v", p.ID, err)
		}
		for table, n := range before {
			if got := count(t, db, table); got != n {
				t.Errorf("%s: %d rows after the refused import, %d before", table, got, n)
			}
		}
		// The writer is free again.
		if _, err := db.UpsertSeller(ctx, "另一家"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRollbackLeavesNothing(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		imp, err := db.BeginImport(ctx, meta("rolled-back"))
		if err != nil {
			t.Fatal(err)
		}
		rows := []sqldb.LoanRow{{Loan: fullLoan(1), Sealed: []byte("sealed-bytes-0123456789012345678901234567890"), KeyID: "abcd1234"}, {Loan: bareLoan(2)}}
		if err := imp.AddLoans(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if err := imp.AddRepayments(ctx, []reclaim.Repayment{{LoanID: "L000001", Month: date.Of(2024, 1, 1), Amount: cny(1)}}); err != nil {
			t.Fatal(err)
		}
		if err := imp.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := imp.Rollback(); err != nil {
			t.Fatalf("second Rollback: %v", err)
		}
		if _, err := imp.Commit(ctx, sqldb.ImportSummary{}); err == nil {
			t.Fatal("Commit after Rollback succeeded")
		}
		assertEmpty(t, db)
		// Same hash can be imported now.
		importTape(t, db, "rolled-back", mixedLoans(3), nil)
	})
}

func TestImportValidation(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		m := meta("v")
		m.Currency = "cny"
		_, err := db.BeginImport(ctx, m)
		mustCode(t, err, reclaim.EINVALID)

		usd := fullLoan(1)
		usd.Currency, usd.TotalClaim = money.USD, money.New(1, money.USD)
		otherPkg := bareLoan(2)
		otherPkg.PortfolioRef = "OTHER"
		mixed := fullLoan(3)
		mixed.FeesOutstanding = money.New(1, money.USD)
		noKey := sqldb.LoanRow{Loan: bareLoan(4), Sealed: []byte("x")}
		for name, row := range map[string]sqldb.LoanRow{
			"currency": {Loan: usd}, "package": {Loan: otherPkg}, "mixed amounts": {Loan: mixed}, "no key id": noKey,
			"no loan id": {Loan: reclaim.Loan{BorrowerID: "b", Currency: money.CNY}},
		} {
			imp, err := db.BeginImport(ctx, meta("v"))
			if err != nil {
				t.Fatal(err)
			}
			err = imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: bareLoan(9)}, row})
			if reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Errorf("%s: err = %v, want EINVALID", name, err)
			}
			if err := imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: bareLoan(10)}}); err == nil {
				t.Errorf("%s: import continued after an error", name)
			}
			imp.Rollback()
		}

		imp, err := db.BeginImport(ctx, meta("dup"))
		if err != nil {
			t.Fatal(err)
		}
		err = imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: bareLoan(1)}, {Loan: bareLoan(1)}})
		mustCode(t, err, reclaim.ECONFLICT)
		imp.Rollback()

		imp, err = db.BeginImport(ctx, meta("sum"))
		if err != nil {
			t.Fatal(err)
		}
		if err := imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: fullLoan(1)}}); err != nil {
			t.Fatal(err)
		}
		_, err = imp.Commit(ctx, sqldb.ImportSummary{LoanCount: 2})
		mustCode(t, err, reclaim.EINVALID)
		_, err = imp.Commit(ctx, sqldb.ImportSummary{TotalClaim: cny(1)})
		mustCode(t, err, reclaim.EINVALID)
		imp.Rollback()
		assertEmpty(t, db)
	})
}

func TestKilledImportLeavesNothing(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		imp, err := db.BeginImport(ctx, meta("killed"))
		if err != nil {
			t.Fatal(err)
		}
		rows := make([]sqldb.LoanRow, 5000)
		for i := range rows {
			rows[i].Loan = fullLoan(i)
		}
		if err := imp.AddLoans(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if db.Dialect() == sqldb.SQLite {
			// The crash image: the files as they are on disk mid-import, opened by a new process.
			path := strings.TrimPrefix(dsn, "sqlite:")
			crash := filepath.Join(t.TempDir(), "crash.db")
			for _, suffix := range []string{"", "-wal"} {
				b, err := os.ReadFile(path + suffix)
				if err != nil && !(suffix != "" && os.IsNotExist(err)) {
					t.Fatal(err)
				}
				if err := os.WriteFile(crash+suffix, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cdb, err := sqldb.Open(ctx, "sqlite:"+crash, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			assertEmpty(t, cdb)
			cdb.Close()
		}
		// Close without Commit (the process exits).
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db2, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		assertEmpty(t, db2)
		importTape(t, db2, "killed", mixedLoans(5), nil)
	})
}

func TestPostgresBackendKilled(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	ctx := context.Background()
	app := fmt.Sprintf("reclaim_kill_%d", time.Now().UnixNano())
	db, err := sqldb.Open(ctx, dsn+"&application_name="+app, sqldb.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	imp, err := db.BeginImport(ctx, meta("terminated"))
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.AddLoans(ctx, []sqldb.LoanRow{{Loan: fullLoan(1)}, {Loan: bareLoan(2)}}); err != nil {
		t.Fatal(err)
	}
	admin := sqldbtest.Open(t, dsn)
	var killed bool
	if err := admin.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRow(ctx, `SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?`, app).Scan(&killed)
	}); err != nil || !killed {
		t.Fatalf("terminate backend: %v %v", killed, err)
	}
	if _, err := imp.Commit(ctx, sqldb.ImportSummary{}); err == nil {
		t.Fatal("Commit on a killed connection succeeded")
	}
	imp.Rollback()
	assertEmpty(t, admin)
}

func TestPIIStoredOnlyAsCiphertext(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := sqldbtest.Open(t, dsn)
		p := importTape(t, db, "pii", mixedLoans(50), nil)
		if n := count(t, db, "borrower_pii"); n == 0 {
			t.Fatal("no PII stored")
		}
		needle := secretName
		switch db.Dialect() {
		case sqldb.SQLite:
			path := strings.TrimPrefix(dsn, "sqlite:")
			for _, suffix := range []string{"", "-wal", "-shm"} {
				b, err := os.ReadFile(path + suffix)
				if os.IsNotExist(err) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(needle)) || bytes.Contains(b, []byte("13800138000")) {
					t.Errorf("personal data in plaintext in %s", path+suffix)
				}
			}
		case sqldb.Postgres:
			for _, table := range []string{"borrower_pii", "borrowers", "loans", "portfolios", "events", "sellers"} {
				var n int
				err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
					return tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` x WHERE x::text LIKE ? OR x::text LIKE ?`,
						"%"+needle+"%", "%13800138000%").Scan(&n)
				})
				if err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%d rows of %s hold personal data in plaintext", n, table)
				}
			}
			var leaks int
			err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
				return tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_pii WHERE position(convert_to(?, 'UTF8') in sealed) > 0`, needle).Scan(&leaks)
			})
			if err != nil || leaks != 0 {
				t.Errorf("sealed blobs contain the name: %d, %v", leaks, err)
			}
		}
		// And the ciphertext opens to the right person.
		kr := testKeyring(t)
		got, err := db.ReadPersonalData(ctx, sqldb.Access{Actor: "auditor", Purpose: "test"}, p.ID, []string{"B000000"},
			func(sealed []byte, keyID, ref string) (reclaim.PersonalData, error) {
				if keyID != kr.KeyID() {
					t.Errorf("key id %q, want %q", keyID, kr.KeyID())
				}
				return kr.OpenPersonal(sealed, aad("pii", ref))
			})
		if err != nil || got["B000000"] != person("B000000") {
			t.Fatalf("ReadPersonalData: %v", err)
		}
	})
}

func TestReadPersonalDataAudited(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "audit", mixedLoans(12), nil)
		kr := testKeyring(t)
		opens := 0
		open := func(sealed []byte, keyID, ref string) (reclaim.PersonalData, error) {
			opens++
			return kr.OpenPersonal(sealed, aad("audit", ref))
		}
		// B000000 and B000002 have PII (rows 0 and 4); C000002 (a bare loan, row 2) has none.
		refs := []string{"B000000", "B000002", "C000005"}

		_, err := db.ReadPersonalData(ctx, sqldb.Access{Actor: "alice"}, p.ID, refs, open)
		mustCode(t, err, reclaim.EINVALID)
		_, err = db.ReadPersonalData(ctx, sqldb.Access{Actor: "alice", Purpose: "   "}, p.ID, refs, open)
		mustCode(t, err, reclaim.EINVALID)
		_, err = db.ReadPersonalData(ctx, sqldb.Access{Purpose: "x"}, p.ID, refs, open)
		mustCode(t, err, reclaim.EINVALID)
		if opens != 0 || count(t, db, "pii_access_log") != 0 {
			t.Fatalf("refused reads decrypted %d records or logged", opens)
		}

		got, err := db.ReadPersonalData(ctx, sqldb.Access{Actor: "alice", Purpose: "debtor notification"}, p.ID, refs, open)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]reclaim.PersonalData{"B000000": person("B000000"), "B000002": person("B000002")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("personal data (-want +got):\n%s", diff)
		}
		log, err := db.ListPIIAccess(ctx, sqldb.PIIAccessFilter{PortfolioID: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 {
			t.Fatalf("access log has %d rows, want 2: %+v", len(log), log)
		}
		for _, a := range log {
			if a.Actor != "alice" || a.Purpose != "debtor notification" || a.PortfolioID != p.ID || a.At.IsZero() ||
				!cmp.Equal(a.Fields, []string{"name", "national_id", "phone"}) || want[a.BorrowerRef].Name == "" {
				t.Errorf("log row %+v", a)
			}
		}

		// Unknown borrower: nothing read, nothing logged.
		_, err = db.ReadPersonalData(ctx, sqldb.Access{Actor: "bob", Purpose: "x"}, p.ID, []string{"B000000", "nobody"}, open)
		mustCode(t, err, reclaim.ENOTFOUND)
		_, err = db.ReadPersonalData(ctx, sqldb.Access{Actor: "bob", Purpose: "x"}, 999, []string{"B000000"}, open)
		mustCode(t, err, reclaim.ENOTFOUND)
		// A failing open: nothing logged.
		_, err = db.ReadPersonalData(ctx, sqldb.Access{Actor: "bob", Purpose: "x"}, p.ID, []string{"B000000", "B000002"},
			func(sealed []byte, keyID, ref string) (reclaim.PersonalData, error) {
				if ref == "B000002" {
					return reclaim.PersonalData{}, pii.ErrAuth
				}
				return open(sealed, keyID, ref)
			})
		if !errors.Is(err, pii.ErrAuth) {
			t.Fatalf("err = %v, want pii.ErrAuth", err)
		}
		if bob, _ := db.ListPIIAccess(ctx, sqldb.PIIAccessFilter{Actor: "bob"}); len(bob) != 0 {
			t.Fatalf("failed reads were logged: %+v", bob)
		}
		if n := count(t, db, "pii_access_log"); n != 2 {
			t.Fatalf("%d log rows, want 2", n)
		}
		one, err := db.ListPIIAccess(ctx, sqldb.PIIAccessFilter{BorrowerRef: "B000002", Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour), Limit: 5})
		if err != nil || len(one) != 1 {
			t.Fatalf("filtered log = %+v, %v", one, err)
		}
	})
}

func TestSellersAndEvents(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, err := db.UpsertSeller(ctx, " 招商银行 ")
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.UpsertSeller(ctx, "招商银行")
		if err != nil || b.ID != a.ID || b.Name != "招商银行" || !b.CreatedAt.Equal(a.CreatedAt) || a.CreatedAt.IsZero() {
			t.Fatalf("upsert twice: %+v %+v %v", a, b, err)
		}
		_, err = db.UpsertSeller(ctx, "  ")
		mustCode(t, err, reclaim.EINVALID)
		if _, err := db.UpsertSeller(ctx, "Alpha Bank"); err != nil {
			t.Fatal(err)
		}
		sellers, err := db.ListSellers(ctx)
		if err != nil || len(sellers) != 2 {
			t.Fatalf("ListSellers = %+v, %v", sellers, err)
		}

		_, err = db.GetPortfolio(ctx, 42)
		mustCode(t, err, reclaim.ENOTFOUND)
		_, err = db.PortfolioHeaderJSON(ctx, 42)
		mustCode(t, err, reclaim.ENOTFOUND)

		at := time.Date(2025, 7, 1, 8, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
		e, err := db.AddEvent(ctx, reclaim.Event{Type: "system.note", Actor: "ops", Detail: `{"k":"v"}`, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 || !e.At.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("event = %+v", e)
		}
		_, err = db.AddEvent(ctx, reclaim.Event{Type: "x", Detail: "not json"})
		mustCode(t, err, reclaim.EINVALID)
		_, err = db.AddEvent(ctx, reclaim.Event{Type: "x", PortfolioID: 77})
		mustCode(t, err, reclaim.ENOTFOUND)
		e2, err := db.AddEvent(ctx, reclaim.Event{Type: "system.other", Actor: "ops"})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.ListEvents(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []reclaim.Event{e2, e}
		want[0].Detail = "{}"
		if diff := cmp.Diff(want, evs); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestTxRollbackAndErrors(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO sellers (name, created_at) VALUES (?, ?)`, "ghost", "2025-01-01T00:00:00.000000Z"); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("WriteTx returned %v, want fn's error unchanged", err)
		}
		if n := count(t, db, "sellers"); n != 0 {
			t.Fatalf("rolled-back insert visible: %d sellers", n)
		}
		err = db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO sellers (name, created_at) VALUES (?, ?)`, "ghost", "2025-01-01T00:00:00.000000Z")
			return err
		})
		if err == nil {
			t.Fatal("ReadTx allowed a write")
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		mustCode(t, db.WriteTx(cctx, func(*sqldb.Tx) error { return nil }), reclaim.ECANCELED)
	})
}
