package sqldb_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// benchLoans returns the number of loans per benchmark import: RECLAIM_BENCH_LOANS or 100000.
func benchLoans(tb testing.TB) int {
	if s := os.Getenv("RECLAIM_BENCH_LOANS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			tb.Fatalf("RECLAIM_BENCH_LOANS=%q", s)
		}
		return n
	}
	return 100000
}

// synthRows builds n varied loans, about 1.25 loans per borrower, with a 160-byte sealed blob on
// each borrower's first loan.
func synthRows(n int) []sqldb.LoanRow {
	rows := make([]sqldb.LoanRow, n)
	sealed := make([]byte, 160)
	for i := range sealed {
		sealed[i] = byte(i * 7)
	}
	base := date.Of(2025, time.June, 30)
	for i := range rows {
		b := i * 4 / 5
		prin := int64(100000 + (i*7919)%5000000)
		intr := prin / 7
		fees := int64(i % 1000)
		dpd := 90 + (i*31)%2500
		l := reclaim.Loan{
			LoanID: "LN" + strconv.Itoa(10000000+i), BorrowerID: "BR" + strconv.Itoa(10000000+b),
			ProductType: reclaim.ProductTypes[i%len(reclaim.ProductTypes)], OriginationDate: base.AddDays(-dpd - 400 - i%900),
			OriginalAmount: money.New(prin*2, money.CNY), Currency: money.CNY,
			PrincipalOutstanding: money.New(prin, money.CNY), InterestOutstanding: money.New(intr, money.CNY),
			FeesOutstanding: money.New(fees, money.CNY), TotalClaim: money.New(prin+intr+fees, money.CNY),
			DefaultDate: base.AddDays(-dpd), DaysPastDue: dpd, FiveCategory: reclaim.FiveCategories[i%3],
			WrittenOff: i%4 == 0, SecurityType: reclaim.SecurityTypes[i%4], LegalStatus: reclaim.LegalStatuses[i%7],
			LimitationExpiryDate: base.AddDays(300 + i%700), Age: 22 + i%50, RegionCode: strconv.Itoa(110000 + (i%34)*10000 + i%20),
			PhoneAvailable: i%3 != 0, ForbearanceCount: -1, AgencyPlacements: i % 5,
		}
		if i%4 == 0 {
			l.WriteOffDate = base.AddDays(-(i % 300))
		}
		if i%2 == 0 {
			l.LastPaymentDate, l.LastPaymentAmount = base.AddDays(-dpd-30), money.New(int64(1000+i%50000), money.CNY)
		}
		rows[i].Loan = l
		if i*4/5 != (i-1)*4/5 || i == 0 {
			rows[i].Sealed, rows[i].KeyID = sealed, "abcd1234"
		}
	}
	return rows
}

func benchImport(b *testing.B, open func(b *testing.B) *sqldb.DB) {
	n := benchLoans(b)
	rows := synthRows(n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := open(b)
		b.StartTimer()
		start := time.Now()
		imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "bench", Ref: "BENCH", CutOffDate: date.Of(2025, 6, 30),
			Currency: money.CNY, ContentHash: fmt.Sprint("bench-", i), Salt: []byte("salt")})
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < n; off += 10000 {
			if err := imp.AddLoans(ctx, rows[off:min(off+10000, n)]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := imp.Commit(ctx, sqldb.ImportSummary{}); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "loans/s")
}

// BenchmarkImportSQLite imports RECLAIM_BENCH_LOANS (default 100000) synthetic loans into a
// fresh SQLite file per iteration and reports loans/s.
func BenchmarkImportSQLite(b *testing.B) {
	benchImport(b, func(b *testing.B) *sqldb.DB { return sqldbtest.OpenSQLite(b) })
}

// BenchmarkImportPostgres is BenchmarkImportSQLite on PostgreSQL (a fresh schema per iteration);
// it needs RECLAIM_TEST_POSTGRES_DSN.
func BenchmarkImportPostgres(b *testing.B) {
	benchImport(b, func(b *testing.B) *sqldb.DB { return sqldbtest.OpenPostgres(b) })
}

// TestWriteBenchCSV writes the benchmark's loans as CSV (in loans column order, NULL as empty)
// to $RECLAIM_BENCH_CSV, for timing the sqlite3 CLI's .import and psql's \copy against the same
// data. It does nothing unless the variable is set.
func TestWriteBenchCSV(t *testing.T) {
	path := os.Getenv("RECLAIM_BENCH_CSV")
	if path == "" {
		t.Skip("RECLAIM_BENCH_CSV not set")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	str := func(v any) string {
		switch x := v.(type) {
		case nil:
			return ""
		case string:
			return x
		case int64:
			return strconv.FormatInt(x, 10)
		case bool:
			if x {
				return "1"
			}
			return "0"
		}
		return fmt.Sprint(v)
	}
	opt := func(a money.Amount) any {
		if a.IsAbsent() {
			return nil
		}
		return a.Minor()
	}
	d := func(t date.Date) any {
		if t.IsZero() {
			return nil
		}
		return t.String()
	}
	rec := make([]string, 0, 36)
	for i, r := range synthRows(benchLoans(t)) {
		l := r.Loan
		age := any(int64(l.Age))
		var birthYear any // the stored form: the year, and the age it implies (docs/security-pii.md)
		if !l.BirthDate.IsZero() {
			birthYear, age = int64(l.BirthDate.Year()), int64(l.CutOffDate.Year()-l.BirthDate.Year())
		}
		vals := []any{int64(1), int64(i*4/5 + 1), l.LoanID, l.BorrowerID, string(l.ProductType), d(l.OriginationDate),
			opt(l.OriginalAmount), string(l.Currency), opt(l.PrincipalOutstanding), opt(l.InterestOutstanding),
			opt(l.FeesOutstanding), opt(l.TotalClaim), d(l.DefaultDate), int64(l.DaysPastDue), string(l.FiveCategory),
			l.WrittenOff, d(l.WriteOffDate), string(l.SecurityType), d(l.LastPaymentDate), opt(l.LastPaymentAmount),
			string(l.LegalStatus), d(l.LegalStartDate), l.Court, d(l.LimitationExpiryDate), birthYear, age,
			l.RegionCode, l.Deceased, l.Bankrupt, l.PhoneAvailable, d(l.LastContactDate), nil, l.RepaymentPlanActive,
			int64(l.AgencyPlacements), l.ComplaintFlag, nil}
		rec = rec[:0]
		for _, v := range vals {
			rec = append(rec, str(v))
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}
