package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// benchStatement writes an n-line statement over the loans LN10000000...: 98% of the lines quote
// a loan id in the reference, 1% carry only a payer name (they end in the queue), 1% bounce an
// earlier line. Transaction ids carry the run's tag, so each run's statement is new.
func benchStatement(n, loans int, tag string) []byte {
	var b bytes.Buffer
	b.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
	for i := 0; i < n; i++ {
		switch {
		case i%100 == 50:
			fmt.Fprintf(&b, "%s-%d,2026-11-02,%d.%02d,某人,谢谢,\n", tag, i, 10+i/100, i%100)
		case i%100 == 99:
			fmt.Fprintf(&b, "%s-%d,2026-11-03,-100.00,,退票 %s-%d,%s-%d\n", tag, i, tag, i-1, tag, i-1)
		default:
			fmt.Fprintf(&b, "%s-%d,2026-11-02,100.00,张三,还款 LN%d 谢谢,\n", tag, i, 10000000+(i*7919)%loans)
		}
	}
	return b.Bytes()
}

// BenchmarkStatementImportSQLite imports an n-line statement (RECLAIM_BENCH_LOANS, default
// 100,000 lines over as many boarded loans) end to end on SQLite: parse, match, allocate and
// store in one transaction. Setup (import and boarding) is not timed.
func BenchmarkStatementImportSQLite(b *testing.B) {
	benchStatementImport(b, sqldbtest.OpenSQLite(b))
}

// BenchmarkStatementImportPostgres is the same on PostgreSQL (RECLAIM_TEST_POSTGRES_DSN).
func BenchmarkStatementImportPostgres(b *testing.B) {
	benchStatementImport(b, sqldbtest.OpenPostgres(b))
}

func benchStatementImport(b *testing.B, db *sqldb.DB) {
	n := benchLoans(b)
	ctx := context.Background()
	imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "bench", Ref: "BENCH", CutOffDate: date.Of(2025, 6, 30),
		Currency: money.CNY, ContentHash: "bench-pay", Salt: []byte("salt")})
	if err != nil {
		b.Fatal(err)
	}
	rows := synthRows(n)
	for off := 0; off < n; off += 10000 {
		if err := imp.AddLoans(ctx, rows[off:min(off+10000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	p, err := imp.Commit(ctx, sqldb.ImportSummary{})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if _, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 1, 5), Price: money.Yuan(1000000), Actor: "bench"}); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d loans boarded in %v", n, time.Since(t0))
	b.ResetTimer()
	var parse, store, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		data := benchStatement(n, n, fmt.Sprintf("R%d", i))
		b.StartTimer()
		c0 := cpuTime()
		t1 := time.Now()
		st, err := workout.ParseStatement(bytes.NewReader(data), nil)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		res, err := db.ImportStatement(ctx, "bench.csv", st, sqldb.PaymentOptions{Actor: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		parse += t2.Sub(t1)
		store += time.Since(t2)
		cpu += cpuTime() - c0
		if res.Lines != n || res.Matched+res.Queued+2*res.Reversals < n {
			b.Fatalf("import %+v", res)
		}
	}
	b.ReportMetric(parse.Seconds()/float64(b.N), "parse-s/op")
	b.ReportMetric(store.Seconds()/float64(b.N), "match+allocate+store-s/op")
	b.ReportMetric(float64(n)*float64(b.N)/(parse+store).Seconds(), "lines/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user + system CPU time: on a shared machine it says what the work
// cost when the wall clock also counts waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
