package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout/dash"
)

func TestPerformanceAndDashboardAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		mgr := f.as(reclaim.RoleCollectionManager)
		col := f.as(reclaim.RoleCollector)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/portfolios/%d/acquisition", f.portfolio), `{"award_date":"2026-03-02","price":"10000.00"}`, 201)
		months := make([]money.Amount, 24)
		fixed := make([]money.Amount, 24)
		for i := range months {
			months[i] = money.New(int64(150000-5000*i), money.CNY)
			fixed[i] = money.New(1000, money.CNY)
		}
		if err := db.SaveForecast(ctx, sqldb.FrozenForecast{PortfolioID: f.portfolio, Source: sqldb.ForecastBackfill, Model: "m@1", TargetIRR: 0.2,
			AsOf: date.Of(2026, 2, 28), CollectionCostRate: 0.3, Currency: money.CNY, Gross: months, FixedCost: fixed, Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AssignArms(ctx, "e", 1, 0.5, date.Of(2026, 3, 2)); err != nil {
			t.Fatal(err)
		}
		cases := decode[struct{ Items []struct{ ID int64 } }](t, must(t, mgr, "GET", "/api/v1/cases?limit=2", "", 200))
		c1 := cases.Items[0].ID
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/assign", c1), `{"assignee":"collector1"}`, 200)
		must(t, col, "POST", fmt.Sprintf("/api/v1/cases/%d/contacts", c1), `{"kind":"call","outcome":"promise_to_pay","number":"13800138000","at":"2026-04-09T10:00:00+08:00"}`, 200)
		must(t, col, "POST", fmt.Sprintf("/api/v1/cases/%d/contacts", c1), `{"kind":"call","outcome":"no_answer","number":"13800138000","at":"2026-04-09T22:30:00+08:00"}`, 200) // denied
		must(t, col, "POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"P1","date":"2026-04-10","amount":"800.00","case_id":%d}`, c1), 201)

		r := decode[dash.PerformanceReport](t, must(t, mgr, "GET", "/api/v1/workout/performance?as_of=2026-04-30", "", 200))
		if len(r.Portfolios) != 1 || len(r.Vintages) != 1 || r.Vintages[0].Key != "2026-03" {
			t.Fatalf("report %+v", r)
		}
		p := r.Portfolios[0]
		if p.Collected != 800 || !p.HasForecast || p.UnderwrittenIRR == nil || p.ForecastToDate == nil || *p.ForecastToDate != 1500 || p.IRRToDate != nil {
			t.Fatalf("portfolio %+v", p)
		}
		one := decode[dash.PerformanceReport](t, must(t, mgr, "GET", fmt.Sprintf("/api/v1/workout/performance/%d?as_of=2026-04-30", f.portfolio), "", 200))
		if len(one.Portfolios) != 1 || len(one.Origination) == 0 {
			t.Fatalf("one portfolio %+v", one)
		}
		d := decode[dash.Dashboard](t, must(t, mgr, "GET", "/api/v1/workout/dashboard?from=2026-04-01&to=2026-04-30", "", 200))
		if d.Collections.Total.Collected != 800 || d.Collections.Total.Forecast == nil || *d.Collections.Total.Forecast != 1500 {
			t.Fatalf("collections %+v", d.Collections.Total)
		}
		if len(d.Collections.ByChannel) == 0 || d.Collections.ByChannel[0].Key != "call" || d.Collections.ByAgent[0].Key != "collector1" {
			t.Fatalf("breakdown %+v", d.Collections)
		}
		if d.Denials.Denied != 1 || len(d.Denials.ByRule) == 0 || len(d.Denials.ByDay) != 1 || d.Denials.ByDay[0].Day != "2026-04-09" {
			t.Fatalf("denials %+v", d.Denials)
		}
		if d.Arms.Champion+d.Arms.Challenger == 0 || d.Arms.Lift == nil || len(d.Vintages) != 1 {
			t.Fatalf("arms %+v vintages %d", d.Arms, len(d.Vintages))
		}
		// Abuse: wrong role, malformed input, unknown portfolio.
		for _, path := range []string{"/api/v1/workout/performance", "/api/v1/workout/dashboard", fmt.Sprintf("/api/v1/workout/performance/%d", f.portfolio)} {
			for _, role := range []reclaim.Role{reclaim.RoleCollector, reclaim.RoleAgency, reclaim.RoleBidder, reclaim.RoleInvestor} {
				must(t, f.as(role), "GET", path, "", 403)
			}
		}
		must(t, mgr, "GET", "/api/v1/workout/performance?as_of=2026-13-01", "", 400)
		must(t, mgr, "GET", "/api/v1/workout/performance?as_of=yesterday", "", 400)
		must(t, mgr, "GET", fmt.Sprintf("/api/v1/workout/performance/%d?as_of=2026-01-01", f.portfolio), "", 400) // before the purchase
		must(t, mgr, "GET", "/api/v1/workout/performance/99999", "", 404)
		must(t, mgr, "GET", "/api/v1/workout/dashboard?from=2026-05-01&to=2026-04-01", "", 400)
		must(t, mgr, "GET", "/api/v1/workout/dashboard?from=2020-01-01&to=2026-04-01", "", 400)
		must(t, f.as(reclaim.RoleAuditor), "GET", "/api/v1/workout/dashboard", "", 200)
	})
}
