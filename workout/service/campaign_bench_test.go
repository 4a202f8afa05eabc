package service_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
	"reclaim/workout/service"
)

// BenchmarkCampaign sends one SMS campaign over RECLAIM_BENCH_CAMPAIGN_CASES open cases
// (default: skipped; the figure is 100,000) on SQLite and, with
// RECLAIM_TEST_POSTGRES_DSN, PostgreSQL, with the real compliance engine and a realistic
// history: 3 calls in the last week on every case, 2 SMS already today on every 10th case (the
// campaign's cap of 2 a day refuses them), do-not-contact on every 50th, deceased on every
// 100th. Its peer, in the same run, is the one-by-one path (service.Contact, one transaction per
// contact) over the first 2,000 cases. It reports cases/s, the longest batch (the longest any
// one campaign transaction and its decisions took) and this process's CPU time.
func BenchmarkCampaign(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("RECLAIM_BENCH_CAMPAIGN_CASES"))
	if n <= 0 {
		b.Skip("set RECLAIM_BENCH_CAMPAIGN_CASES (e.g. 100000) to run")
	}
	engines := []struct {
		name string
		open func(testing.TB) *sqldb.DB
	}{{"sqlite", sqldbtest.OpenSQLite}}
	if os.Getenv("RECLAIM_TEST_POSTGRES_DSN") != "" {
		engines = append(engines, struct {
			name string
			open func(testing.TB) *sqldb.DB
		}{"postgres", sqldbtest.OpenPostgres})
	}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			db := e.open(b)
			ctx := context.Background()
			now := time.Date(2026, 3, 10, 10, 0, 0, 0, cst)
			t0 := time.Now()
			ids := seedCampaignCases(b, db, n, now)
			seed := time.Since(t0)
			bk, _ := pii.NewBlindKey(bytes.Repeat([]byte{9}, 32))
			var batches []time.Duration
			last := time.Now()
			svc := service.New(db, service.Options{Policy: workout.Decide, NumberKey: service.HexKey(bk.PhoneHash), Now: func() time.Time { return now },
				Publish: func(_ context.Context, _, typ string, _ any) {
					if typ == "campaign" {
						batches = append(batches, time.Since(last))
						last = time.Now()
					}
				}})
			mgr := workout.Viewer{Role: "collection_manager", Username: "mgr"}
			if _, _, err := svc.CreateCampaign(ctx, mgr, workout.CampaignSpec{Key: "bench", Name: "bench", Channel: "sms", Template: "t1",
				Selection: workout.CampaignSelection{All: true}, MaxPerDay: 2, ScheduledAt: now}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			last = start
			if k, err := svc.RunCampaigns(ctx, "bench"); k != 1 || err != nil {
				b.Fatalf("run: %d %v", k, err)
			}
			wall := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			cs, _ := svc.Campaigns(ctx, 1)
			c := cs[0]
			if c.Done != int64(n) || c.Sent+c.Denied != int64(n) {
				b.Fatalf("campaign %+v", c)
			}
			var longest time.Duration
			for _, d := range batches[1:] {
				longest = max(longest, d)
			}
			// The peer: the same SMS, one case at a time through the manual path.
			peerN := min(2000, n)
			now = now.Add(time.Hour)
			pcpu0 := cpuTime()
			pstart := time.Now()
			for _, id := range ids[:peerN] {
				if _, err := svc.Contact(ctx, mgr, id, workout.ActionInput{Kind: "sms", Outcome: "delivered", Number: "13900000000"}, "api", false); err != nil {
					b.Fatal(err)
				}
			}
			pwall := time.Since(pstart)
			pcpu := cpuTime() - pcpu0
			per := wall.Seconds() / float64(n) * 1e6
			pper := pwall.Seconds() / float64(peerN) * 1e6
			b.ReportMetric(float64(n)/wall.Seconds(), "cases/s")
			b.ReportMetric(per, "µs/case")
			b.ReportMetric(pper, "peer-µs/contact")
			b.ReportMetric(longest.Seconds()*1000, "longest-batch-ms")
			b.Logf("%s: seeded %d cases in %s; campaign %s wall, %s CPU (%.0f cases/s, %.1f µs/case, %d batches, longest %s); sent %d, denied %d %v; "+
				"peer one-by-one %d contacts %s wall, %s CPU (%.1f µs/contact): campaign/peer per contact = %.2f",
				e.name, n, seed.Round(time.Millisecond), wall.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(n)/wall.Seconds(), per,
				len(batches)-2, longest.Round(time.Millisecond), c.Sent, c.Denied, c.ByRule, peerN, pwall.Round(time.Millisecond), pcpu.Round(time.Millisecond),
				pper, per/pper)
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// seedCampaignCases writes n open cases and their history straight into the tables (multi-row
// inserts), far faster than importing and boarding a tape.
func seedCampaignCases(b *testing.B, db *sqldb.DB, n int, now time.Time) []int64 {
	ctx := context.Background()
	inst := func(t time.Time) any {
		t = t.UTC().Truncate(time.Microsecond)
		if db.Dialect() == sqldb.SQLite {
			return t.Format("2006-01-02T15:04:05.000000Z")
		}
		return t
	}
	ids := make([]int64, n)
	const chunk = 500
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var cq, aq strings.Builder
			var cargs, aargs []any
			cq.WriteString(`INSERT INTO cases (id, status, currency, deceased, bankrupt, do_not_contact, opened_at, updated_at) VALUES `)
			aq.WriteString(`INSERT INTO contact_attempts (case_id, contact_id, debt_id, channel, party, number_key, at, local_at, outcome, consent,
				agent, agency, source, pack, allowed, reasons) VALUES `)
			first := true
			for i := start; i < end; i++ {
				id := int64(i + 1)
				ids[i] = id
				if i > start {
					cq.WriteString(",")
				}
				cq.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
				cargs = append(cargs, id, "open", "CNY", i%100 == 99, false, i%50 == 49, inst(now.AddDate(0, -1, 0)), inst(now.AddDate(0, -1, 0)))
				type h struct {
					ch, outcome string
					at          time.Time
				}
				hist := []h{{"call", "no_answer", now.AddDate(0, 0, -6)}, {"call", "answered", now.AddDate(0, 0, -3)}, {"call", "busy", now.AddDate(0, 0, -1)}}
				if i%10 == 0 {
					hist = append(hist, h{"sms", "delivered", now.Add(-2 * time.Hour)}, h{"sms", "delivered", now.Add(-time.Hour)})
				}
				for k, x := range hist {
					if !first {
						aq.WriteString(",")
					}
					first = false
					aq.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
					aargs = append(aargs, id, fmt.Sprintf("seed-%d-%d", id, k), "", x.ch, "debtor", fmt.Sprintf("nk%d", id), inst(x.at),
						x.at.Format(time.RFC3339), x.outcome, "", "seed", "", "console", "cn", true, "[]")
				}
			}
			if _, err := tx.Exec(ctx, cq.String(), cargs...); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, aq.String(), aargs...)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if db.Dialect() != sqldb.SQLite {
		// Identity columns: continue after the explicit ids.
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))`)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}
