package sqldb_test

import (
	"context"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestClosePeriodRules: overlapping, out-of-order, gapped and future periods are refused before
// anything is written, on both engines; the log and the reports table stay as they were, and a
// correct period is still accepted afterwards (issue 9 item 8).
func TestClosePeriodRules(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		now := time.Date(2026, 8, 15, 23, 59, 0, 0, time.UTC)
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		p := importTape(t, db, "period-hash", mixedLoans(6), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P", Origin: "test.example/ledger/P", PortfolioID: p.ID, Effective: date.Of(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "P")
		d := date.Of
		if _, err := db.ClosePeriod(ctx, "P", d(2026, 7, 1), d(2026, 7, 31), d(2026, 7, 31)); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "P")
		before, _ := db.LedgerHead(ctx, "P")
		for _, c := range []struct {
			name       string
			start, end date.Date
			rule       string
		}{
			{"same period again", d(2026, 7, 1), d(2026, 7, 31), "period_overlap"},
			{"overlaps one day", d(2026, 7, 31), d(2026, 8, 10), "period_overlap"},
			{"out of order", d(2026, 6, 1), d(2026, 6, 30), "period_out_of_order"},
			{"gap", d(2026, 8, 2), d(2026, 8, 10), "period_gap"},
			{"ends 9999-12-31", d(2026, 8, 1), d(9999, 12, 31), "period_in_future"},
			{"ends tomorrow", d(2026, 8, 1), d(2026, 8, 16), "period_in_future"},
		} {
			_, err := db.ClosePeriod(ctx, "P", c.start, c.end, c.end)
			e, ok := err.(*reclaim.Error)
			if !ok || e.Code != reclaim.EINVALID || e.Fields["rule"] != c.rule {
				t.Fatalf("%s: got %v, want rule %s", c.name, err, c.rule)
			}
		}
		sequenceAll(t, db, "P")
		after, _ := db.LedgerHead(ctx, "P")
		reps, err := db.PeriodReports(ctx, "P")
		if err != nil {
			t.Fatal(err)
		}
		if after.Size != before.Size || len(reps) != 1 {
			t.Fatalf("a refused period wrote something: size %d -> %d, %d reports", before.Size, after.Size, len(reps))
		}
		// The boundary that is allowed: contiguous, ending today.
		rep, err := db.ClosePeriod(ctx, "P", d(2026, 8, 1), d(2026, 8, 15), d(2026, 8, 15))
		if err != nil {
			t.Fatal(err)
		}
		if rep.PeriodStart != "2026-08-01" || rep.FromIndex != before.Size-1 || rep.ToIndex != before.Size {
			t.Fatalf("second report %+v (log size before %d)", rep, before.Size)
		}
	})
}
