package service_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/workout"
	"reclaim/workout/service"
)

// BenchmarkCasePage measures the case page (service.Case: the case, its accounts, timeline,
// notices, complaints, consents and placements) on SQLite with RECLAIM_BENCH_LOANS loans stored
// (default: skipped; the figure is 1,000,000) in portfolios of 100,000 loans, 1.25 loans
// per borrower, 10% of each portfolio's debtors also in the previous portfolio (so cases span
// portfolios), every case boarded and each sampled case with a few contacts. It reports the p50
// and p99 latency of reading random cases' pages. RECLAIM_BENCH_DB keeps the database at that
// path between runs (built once).
func BenchmarkCasePage(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("RECLAIM_BENCH_LOANS"))
	if n <= 0 {
		b.Skip("set RECLAIM_BENCH_LOANS (e.g. 1000000) to run")
	}
	ctx := context.Background()
	path := os.Getenv("RECLAIM_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	_, statErr := os.Stat(path)
	db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := service.New(db, service.Options{Policy: nightPolicy, NumberKey: func(s string) string { return s }})
	if statErr != nil {
		start := time.Now()
		buildBench(b, db, svc, n)
		b.Logf("built %d loans in %v", n, time.Since(start))
	}
	var maxCase int64
	cs, err := db.ListCases(ctx, sqldb.CaseFilter{AfterID: 0, Limit: 1})
	if err != nil || len(cs) == 0 {
		b.Fatal("no cases", err)
	}
	for lo, hi := int64(1), int64(1<<40); lo <= hi; {
		mid := (lo + hi) / 2
		if _, err := db.GetCase(ctx, mid); err == nil {
			maxCase, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	var loans int64
	for _, p := range mustPortfolios(b, db) {
		loans += p.LoanCount
	}
	b.Logf("%d loans stored, %d cases", loans, maxCase)
	r := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := 1 + r.Int64N(maxCase)
		t0 := time.Now()
		if _, err := svc.Case(ctx, manager, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}

func mustPortfolios(b *testing.B, db *sqldb.DB) []reclaim.Portfolio {
	ps, err := db.ListPortfolios(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return ps
}

func buildBench(b *testing.B, db *sqldb.DB, svc *service.Service, n int) {
	ctx := context.Background()
	const per = 100_000
	cut := date.Of(2025, 12, 31)
	for k := 0; k*per < n; k++ {
		ref := fmt.Sprintf("BENCH-%02d", k)
		imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "Bench bank", Ref: ref, CutOffDate: cut, Currency: money.CNY,
			SourceFile: ref + ".csv", ContentHash: "bench-" + ref, Salt: make([]byte, 32), Actor: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		m := min(per, n-k*per)
		rows := make([]sqldb.LoanRow, 0, 8000)
		flush := func() {
			if err := imp.AddLoans(ctx, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
		for i := 0; i < m; i++ {
			bi := i * 4 / 5 // 1.25 loans per borrower
			person := fmt.Sprintf("p%d-%d", k, bi)
			if k > 0 && bi%10 == 0 {
				person = fmt.Sprintf("p%d-%d", k-1, bi) // also a debtor of the previous portfolio
			}
			h := sha256.Sum256([]byte(person))
			claim := int64(100_000 + (i*7919)%5_000_000)
			l := reclaim.Loan{PortfolioRef: ref, CutOffDate: cut, LoanID: fmt.Sprintf("%s-L%d", ref, i), BorrowerID: fmt.Sprintf("B%d", bi),
				Currency: money.CNY, PrincipalOutstanding: money.New(claim*8/10, money.CNY), InterestOutstanding: money.New(claim-claim*8/10, money.CNY),
				FeesOutstanding: money.New(0, money.CNY), TotalClaim: money.New(claim, money.CNY), DefaultDate: date.Of(2023, 1, 1).AddDays(i % 900),
				Age: -1, ForbearanceCount: -1}
			rows = append(rows, sqldb.LoanRow{Loan: l, Sealed: []byte("sealed-placeholder"), KeyID: "bench0000",
				Blind: []workout.BlindTerm{{Kind: workout.BlindNationalID, Hash: h[:]}}, Masked: reclaim.Masked{Name: "张*", Phone: "138****0000"}})
			if len(rows) == cap(rows) {
				flush()
			}
		}
		if len(rows) > 0 {
			flush()
		}
		p, err := imp.Commit(ctx, sqldb.ImportSummary{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Board(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(int64(m)*10_000, money.CNY)}); err != nil {
			b.Fatal(err)
		}
	}
	// A few contacts on a sample of cases, for a realistic timeline.
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		id := 1 + r.Int64N(int64(n)/2)
		for j := 0; j < 3; j++ {
			at := time.Date(2026, 3, 10, 9+j*5, 0, 0, 0, time.FixedZone("CST", 8*3600))
			if _, err := svc.Contact(ctx, manager, id, workout.ActionInput{Kind: workout.KindCall, Outcome: workout.CallNoAnswer, Number: "13800138000", At: at},
				workout.SourceAPI, false); err != nil && reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
				b.Fatal(err)
			}
		}
	}
}
