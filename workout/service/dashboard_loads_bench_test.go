package service_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
	"reclaim/workout/service"
)

// BenchmarkDashboardLoads measures the manager's dashboard loads at RECLAIM_BENCH_DASH_CASES
// cases (default: skipped; the figure is 100,000) on SQLite and, with
// RECLAIM_TEST_POSTGRES_DSN, PostgreSQL: one portfolio imported and boarded (one loan per
// debtor), arms drawn, 4 contacts a case over 60 days and a payment on every second case
// (multi-row inserts), and a stored plan of 6,000 items for the day. Each load is timed three
// times (median reported): the dashboard (GET /api/v1/workout/dashboard: DashboardData,
// PerformanceRecords and the rules), the performance report, the queue read (manager and one
// collector), and the contact log the trainer reads. The baseline, in the same run, is a plain
// full grouped scan (claims by case from accounts, and a COUNT of contact_attempts): the floor
// any load over every case pays.
func BenchmarkDashboardLoads(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("RECLAIM_BENCH_DASH_CASES"))
	if n <= 0 {
		b.Skip("set RECLAIM_BENCH_DASH_CASES (e.g. 100000) to run")
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
			now := time.Date(2026, 5, 2, 8, 0, 0, 0, cst)
			svc := service.New(db, service.Options{Policy: workout.Decide, Now: func() time.Time { return now }})
			t0 := time.Now()
			seedDashboard(b, db, svc, n, now)
			seed := time.Since(t0)
			day := date.Of(2026, 5, 2)
			from, to := date.Of(2026, 4, 3), date.Of(2026, 5, 2)
			col := workout.Viewer{Role: reclaim.RoleCollector, Username: "c01"}
			loads := []struct {
				name string
				fn   func() (int, error)
			}{
				{"baseline-scan", func() (int, error) {
					k := 0
					err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
						rows, err := tx.Query(ctx, `SELECT case_id, SUM(claim_minor) FROM accounts GROUP BY case_id`)
						if err != nil {
							return err
						}
						for rows.Next() {
							var id, s int64
							if err := rows.Scan(&id, &s); err != nil {
								rows.Close()
								return err
							}
							k++
						}
						rows.Close()
						var c int64
						return tx.QueryRow(ctx, `SELECT COUNT(*) FROM contact_attempts`).Scan(&c)
					})
					return k, err
				}},
				// The dashboard's and the performance report's queries one by one (as in
				// sqldb/performance.go), to see which one costs what.
				{"q-dash-cases", rawCount(db, `SELECT c.id, c.assignee, c.agency, c.limitation_expiry, x.arm, s.portfolio_id, s.claim
					FROM (SELECT case_id, portfolio_id, SUM(claim_minor) AS claim FROM accounts GROUP BY case_id, portfolio_id) s
					JOIN cases c ON c.id = s.case_id LEFT JOIN case_arms x ON x.case_id = c.id ORDER BY s.case_id, s.portfolio_id`)},
				{"q-dash-payments", rawCount(db, `SELECT case_id, effective, SUM(amount_minor) FROM account_movements WHERE type IN (?, ?) AND effective >= ? AND effective <= ?
					GROUP BY case_id, effective ORDER BY case_id, effective`, workout.MovePayment, workout.MoveReversal, dtArg(db, from), dtArg(db, to))},
				{"q-dash-contacts", rawCount(db, `SELECT case_id, local_at, channel FROM contact_attempts
					WHERE at >= ? AND at < ? AND (source = ? OR (allowed AND source <> ?)) ORDER BY at, id`,
					instArg(db, from.Time().Add(-14*time.Hour)), instArg(db, to.AddDays(1).Time().Add(14*time.Hour)), workout.SourceAgency, workout.SourceCheck)},
				{"q-perf-basis", rawCount(db, `SELECT a.portfolio_id, l.origination_date, COUNT(*), SUM(a.cost_basis_minor) FROM accounts a JOIN loans l ON l.id = a.loan_id
					GROUP BY a.portfolio_id, l.origination_date`)},
				{"q-perf-collections", rawCount(db, `SELECT a.portfolio_id, l.origination_date, m.effective, SUM(m.amount_minor) FROM account_movements m
					JOIN accounts a ON a.loan_id = m.loan_id JOIN loans l ON l.id = m.loan_id WHERE m.type IN (?, ?)
					GROUP BY a.portfolio_id, l.origination_date, m.effective ORDER BY a.portfolio_id, m.effective`, workout.MovePayment, workout.MoveReversal)},
				{"attempt-days", func() (int, error) {
					ds, err := db.AttemptDays(ctx, from.Time().Add(-14*time.Hour), to.AddDays(1).Time().Add(14*time.Hour))
					return len(ds), err
				}},
				{"dashboard", func() (int, error) {
					d, err := svc.Dashboard(ctx, from, to, nil)
					if err != nil {
						return 0, err
					}
					return len(d.Vintages), nil
				}},
				{"dashboard-data", func() (int, error) {
					d, err := db.DashboardData(ctx, from, to)
					if err != nil {
						return 0, err
					}
					return len(d.Cases) + len(d.Payments) + len(d.Contacts), nil
				}},
				{"performance", func() (int, error) {
					r, err := svc.Performance(ctx, 0, day)
					if err != nil {
						return 0, err
					}
					return len(r.Portfolios), nil
				}},
				{"queue-manager", func() (int, error) {
					it, err := svc.Queue(ctx, manager, day)
					return len(it), err
				}},
				{"queue-collector", func() (int, error) {
					it, err := svc.Queue(ctx, col, day)
					return len(it), err
				}},
				{"contact-log", func() (int, error) {
					l, err := db.ContactLog(ctx)
					if err != nil {
						return 0, err
					}
					return len(l.Contacts), nil
				}},
			}
			b.ResetTimer()
			var report []string
			for _, l := range loads {
				var ds []time.Duration
				size := 0
				for range 3 {
					s := time.Now()
					k, err := l.fn()
					if err != nil {
						b.Fatalf("%s: %v", l.name, err)
					}
					ds = append(ds, time.Since(s))
					size = k
				}
				sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
				b.ReportMetric(float64(ds[1].Microseconds())/1000, l.name+"-ms")
				report = append(report, fmt.Sprintf("%s %s (%d rows/items; runs %s %s %s)", l.name, ds[1].Round(time.Millisecond), size,
					ds[0].Round(time.Millisecond), ds[1].Round(time.Millisecond), ds[2].Round(time.Millisecond)))
			}
			b.StopTimer()
			b.Logf("%s: %d cases seeded in %s; %s", e.name, n, seed.Round(time.Second), strings.Join(report, "; "))
		})
	}
}

// seedDashboard imports and boards n loans (one per debtor), draws the arms, and writes the
// contacts, payments and the day's plan straight into their tables (multi-row inserts).
func seedDashboard(b *testing.B, db *sqldb.DB, svc *service.Service, n int, now time.Time) {
	ctx := context.Background()
	cut := date.Of(2025, 12, 31)
	imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "Bench bank", Ref: "DASH", CutOffDate: cut, Currency: money.CNY,
		SourceFile: "dash.csv", ContentHash: "bench-dash", Salt: make([]byte, 32), Actor: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]sqldb.LoanRow, 0, 8000)
	for i := 0; i < n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprint("dash-person-", i)))
		claim := int64(100_000 + (i*7919)%5_000_000)
		l := reclaim.Loan{PortfolioRef: "DASH", CutOffDate: cut, LoanID: fmt.Sprintf("D-L%d", i), BorrowerID: fmt.Sprintf("B%d", i),
			Currency: money.CNY, PrincipalOutstanding: money.New(claim, money.CNY), InterestOutstanding: money.New(0, money.CNY),
			FeesOutstanding: money.New(0, money.CNY), TotalClaim: money.New(claim, money.CNY), DefaultDate: date.Of(2023, 1, 1).AddDays(i % 900),
			OriginationDate: date.Of(2019+i%4, 1, 1), DaysPastDue: 200 + i%700, Age: -1, ForbearanceCount: -1}
		rows = append(rows, sqldb.LoanRow{Loan: l, Sealed: []byte("sealed-placeholder"), KeyID: "bench0000",
			Blind: []workout.BlindTerm{{Kind: workout.BlindNationalID, Hash: h[:]}}, Masked: reclaim.Masked{Name: "张*"}})
		if len(rows) == cap(rows) || i == n-1 {
			if err := imp.AddLoans(ctx, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	p, err := imp.Commit(ctx, sqldb.ImportSummary{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Board(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(int64(n)*10_000, money.CNY), Actor: "bench"}); err != nil {
		b.Fatal(err)
	}
	if _, err := db.AssignArms(ctx, "cc-1", 7, 0.5, date.Of(2026, 3, 2)); err != nil {
		b.Fatal(err)
	}
	// case -> loan
	loanOf := make(map[int64]int64, n)
	var caseIDs []int64
	if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		rows, err := tx.Query(ctx, `SELECT case_id, loan_id FROM accounts ORDER BY case_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c, l int64
			if err := rows.Scan(&c, &l); err != nil {
				return err
			}
			if _, ok := loanOf[c]; !ok {
				caseIDs = append(caseIDs, c)
			}
			loanOf[c] = l
		}
		return rows.Err()
	}); err != nil {
		b.Fatal(err)
	}
	inst := func(t time.Time) any {
		t = t.UTC().Truncate(time.Microsecond)
		if db.Dialect() == sqldb.SQLite {
			return t.Format("2006-01-02T15:04:05.000000Z")
		}
		return t
	}
	dt := func(d date.Date) any {
		if db.Dialect() == sqldb.SQLite {
			return d.String()
		}
		return d.Time()
	}
	chans := []string{"call", "sms", "call", "letter"}
	const chunk = 400
	for lo := 0; lo < len(caseIDs); lo += chunk {
		hi := min(lo+chunk, len(caseIDs))
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var aq, mq strings.Builder
			var aargs, margs []any
			aq.WriteString(`INSERT INTO contact_attempts (case_id, contact_id, debt_id, channel, party, number_key, at, local_at, outcome, consent,
				agent, agency, source, pack, allowed, reasons) VALUES `)
			mq.WriteString(`INSERT INTO account_movements (loan_id, case_id, type, amount_minor, principal_minor, interest_minor, fees_minor, currency, effective, reference, actor, at) VALUES `)
			nm := 0
			for i := lo; i < hi; i++ {
				id := caseIDs[i]
				for k := 0; k < 4; k++ {
					at := now.AddDate(0, 0, -60+15*k+int(id%13)).Add(time.Duration(id%8) * time.Hour)
					if i > lo || k > 0 {
						aq.WriteString(",")
					}
					aq.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
					aargs = append(aargs, id, fmt.Sprintf("s-%d-%d", id, k), "", chans[(int(id)+k)%4], "debtor", "", inst(at),
						at.In(cst).Format(time.RFC3339), "answered", "", fmt.Sprintf("c%02d", id%40), "", "console", "cn", true, "[]")
				}
				if i%2 == 0 {
					if nm > 0 {
						mq.WriteString(",")
					}
					nm++
					eff := date.FromTime(now).AddDays(-int(id % 55))
					amt := int64(10_000 + id%50_000)
					mq.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
					margs = append(margs, loanOf[id], id, workout.MovePayment, -amt, -amt, 0, 0, "CNY", dt(eff), "bench", "bench", inst(now))
				}
			}
			if _, err := tx.Exec(ctx, aq.String(), aargs...); err != nil {
				return err
			}
			if nm > 0 {
				if _, err := tx.Exec(ctx, mq.String(), margs...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// 40 collectors with 2,500 cases each, and the day's plan: 150 items each.
	if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cases SET assignee = 'c' || CASE WHEN id % 40 < 10 THEN '0' ELSE '' END || CAST(id % 40 AS TEXT)`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var items []workout.PlanItem
	day := date.FromTime(now)
	for i, id := range caseIDs {
		if i%16 != 0 || len(items) >= 6000 {
			continue
		}
		items = append(items, workout.PlanItem{Day: day, CaseID: id, Arm: workout.ArmChampion, Team: fmt.Sprintf("c%02d", id%40), Assignee: fmt.Sprintf("c%02d", id%40),
			Channel: "call", PlannedAt: now.Format(time.RFC3339), Value: 10, Net: float64(id % 1000), Rank: len(items) + 1, PlannedBy: "bench"})
	}
	if err := db.ReplacePlan(ctx, day, items); err != nil {
		b.Fatal(err)
	}
}

// rawCount runs q and counts its rows.
func rawCount(db *sqldb.DB, q string, args ...any) func() (int, error) {
	return func() (int, error) {
		k := 0
		err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
			rows, err := tx.Query(context.Background(), q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				k++
			}
			return rows.Err()
		})
		return k, err
	}
}

func instArg(db *sqldb.DB, t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if db.Dialect() == sqldb.SQLite {
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t
}

func dtArg(db *sqldb.DB, d date.Date) any {
	if db.Dialect() == sqldb.SQLite {
		return d.String()
	}
	return d.Time()
}
