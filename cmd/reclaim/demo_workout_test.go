package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// `reclaim demo` boards a portfolio into servicing for the collections console: an acquisition,
// cases assigned to demo-collector, contact history decided by the compliance engine (one call at
// 22:30 refused under CN-1), and a statement whose two unmatched lines wait in the queue. A second
// run changes none of it. On SQLite and PostgreSQL.
func TestDemoBoardsServicing(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := filepath.Join(t.TempDir(), "data")
		g := []string{"--data-dir", dir, "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		type counts struct {
			mine, queued, attempts, denied int
			proposed, accepted, committee  int
			forecasts                      int
			collected                      float64
		}
		count := func() counts {
			db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var c counts
			cs, err := db.ListCases(ctx, sqldb.CaseFilter{Assignee: demoCollector, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			c.mine = len(cs)
			ps, err := db.ListPayments(ctx, workout.PaymentFilter{Status: "queued"})
			if err != nil {
				t.Fatal(err)
			}
			c.queued = len(ps)
			ats, err := db.Attempts(ctx, sqldb.AttemptFilter{From: time.Now().AddDate(0, 0, -30), To: time.Now().AddDate(0, 0, 1), Agent: demoCollector})
			if err != nil {
				t.Fatal(err)
			}
			c.attempts = len(ats)
			for _, a := range ats {
				if !a.Allowed {
					c.denied++
					if len(a.Reasons) == 0 || a.Reasons[0].Rule != "CN-1" {
						t.Errorf("a refused demo contact has reasons %+v, want CN-1", a.Reasons)
					}
				}
			}
			// demo_settle.go: one offer waiting for a checker, one accepted with a 6-month plan.
			for _, st := range []string{workout.OfferProposed, workout.OfferAccepted} {
				os, err := db.ListOffers(ctx, sqldb.OfferFilter{Status: st})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range os {
					if st == workout.OfferProposed && o.CheckerRole == "collection_manager" {
						c.proposed++
					}
					if st == workout.OfferProposed && o.CheckerRole == "credit_committee" && o.Discount == 0.75 {
						c.committee++
					}
					if st == workout.OfferAccepted && o.Plan != nil && len(o.Plan.Instalments) == 6 {
						c.accepted++
					}
				}
			}
			return c
		}
		var first counts
		for run := 1; run <= 2; run++ {
			out, errOut, code := cli(t, append(g, "demo", "--loans", "600", "--no-serve")...)
			if code != exitOK {
				t.Fatalf("demo run %d: %d\n%s\n%s", run, code, out, errOut)
			}
			got := count()
			got.forecasts, got.collected = demoPerformance(t, ctx, dsn) // demo_dashboard.go
			if run == 1 {
				if !strings.Contains(out, "into servicing") {
					t.Errorf("the demo does not say it boarded a portfolio:\n%s", out)
				}
				if got.forecasts < 1 || got.collected <= 0 {
					t.Errorf("the dashboard demo: %d forecasts at purchase, %.2f collected", got.forecasts, got.collected)
				}
				// demo_dashboard.go: a contact model trained from the demo's log, or the reason not.
				if !strings.Contains(out, "contact model demo-contact:") && !strings.Contains(out, "No contact model trained: the contact log has") {
					t.Errorf("the demo says nothing of its contact model:\n%s", out)
				}
				t.Logf("contact model: %s", out[max(0, strings.Index(out, "contact model")):])
				if got.mine < 40 || got.queued != 2 || got.attempts != 40 || got.denied < 1 || got.proposed != 1 || got.accepted != 1 || got.committee != 1 {
					t.Fatalf("after the demo: %+v, want >= 40 cases for %s, 2 queued credits, 40 attempts, >= 1 denied, 1 offer waiting, 1 for the committee, 1 accepted with a plan", got, demoCollector)
				}
				first = got
			} else if got != first {
				t.Errorf("a second demo run changed the servicing data: %+v, then %+v", first, got)
			}
		}
	})
}

// demoPerformance counts the acquisitions with a forecast at purchase and their collections.
func demoPerformance(t *testing.T, ctx context.Context, dsn string) (int, float64) {
	t.Helper()
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.PerformanceRecords(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, sum := 0, 0.0
	for _, r := range recs {
		if r.Forecast != nil {
			n++
		}
		for _, c := range r.Collections {
			sum += c.Amount
		}
	}
	return n, sum
}
