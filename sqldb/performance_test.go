package sqldb_test

import (
	"context"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

func TestForecastFrozenAndPerformanceRecords(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newPaymentsFixture(t, db, false)
		fc := sqldb.FrozenForecast{PortfolioID: f.portfolio, Source: sqldb.ForecastAtBoarding, Model: "m@1", TargetIRR: 0.18,
			AsOf: date.Of(2026, 2, 28), CollectionCostRate: 0.3, Currency: money.CNY, Actor: "t",
			Gross: []money.Amount{cny(2000000), cny(1500000), cny(1000000)}, FixedCost: []money.Amount{cny(10000), cny(10000), cny(0)}}
		// Refusals change nothing.
		for name, c := range map[string]struct {
			f    func(*sqldb.FrozenForecast)
			code string
		}{
			"not acquired":   {func(x *sqldb.FrozenForecast) { x.PortfolioID = 999 }, reclaim.ENOTFOUND},
			"negative":       {func(x *sqldb.FrozenForecast) { x.Gross = []money.Amount{cny(1), cny(-1), cny(1)} }, reclaim.EINVALID},
			"lengths":        {func(x *sqldb.FrozenForecast) { x.FixedCost = x.FixedCost[:2] }, reclaim.EINVALID},
			"currency":       {func(x *sqldb.FrozenForecast) { x.Currency = "USD" }, reclaim.EINVALID},
			"bad source":     {func(x *sqldb.FrozenForecast) { x.Source = "guess" }, reclaim.EINVALID},
			"cost rate of 1": {func(x *sqldb.FrozenForecast) { x.CollectionCostRate = 1 }, reclaim.EINVALID},
		} {
			x := fc
			x.Gross = append([]money.Amount(nil), fc.Gross...)
			x.FixedCost = append([]money.Amount(nil), fc.FixedCost...)
			c.f(&x)
			if err := db.SaveForecast(ctx, x); reclaim.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", name, err, c.code)
			}
		}
		if _, err := db.GetForecast(ctx, f.portfolio); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("a refused forecast was stored: %v", err)
		}
		if err := db.SaveForecast(ctx, fc); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveForecast(ctx, fc); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("a second forecast: %v, want a conflict (frozen)", err)
		}
		got, err := db.GetForecast(ctx, f.portfolio)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Gross) != 3 || got.Gross[1] != cny(1500000) || got.FixedCost[0] != cny(10000) || got.AsOf != fc.AsOf || got.TargetIRR != 0.18 {
			t.Fatalf("forecast %+v", got)
		}
		// Collections: two credits in April and May, one reversed; a queued line counts for nothing.
		src := `txn_id,date,amount,payer_name,payer_phone,reference,reverses
T1,2026-04-02,500.00,,,` + workout.CaseRef(f.zCase) + `,
T2,2026-05-06,300.00,,,` + workout.CaseRef(f.nCase) + `,
T3,2026-05-07,-300.00,,,退票,T2
T4,2026-05-08,120.00,,,` + workout.CaseRef(f.wCase) + `,
T5,2026-05-08,99.00,某人,,thanks,
`
		if _, err := db.ImportStatement(ctx, "s.csv", parseStmt(t, src), f.opt); err != nil {
			t.Fatal(err)
		}
		recs, err := db.PerformanceRecords(ctx, f.portfolio)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Forecast == nil || recs[0].Acquisition.Price != cny(50000) {
			t.Fatalf("records %+v", recs)
		}
		total := 0.0
		for _, c := range recs[0].Collections {
			total += c.Amount
		}
		if total != 620 {
			t.Fatalf("collections %+v total %v, want 620.00", recs[0].Collections, total)
		}
		loans, basis := 0, int64(0)
		for _, o := range recs[0].ByOrigination {
			loans += o.Loans
			basis += o.CostBasis.Minor()
		}
		if loans != 4 || basis != cny(50000).Minor() {
			t.Fatalf("by origination: %d loans, basis %d", loans, basis)
		}
		if _, err := db.PerformanceRecords(ctx, 999); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("unknown portfolio: %v", err)
		}

		// Arms: drawn once, kept.
		n, err := db.AssignArms(ctx, "e1", 7, 0.5, date.Of(2026, 3, 2))
		if err != nil || n != 3 {
			t.Fatalf("arms %d %v, want 3 cases", n, err)
		}
		if n, err := db.AssignArms(ctx, "e2", 8, 1, date.Of(2026, 3, 3)); err != nil || n != 0 {
			t.Fatalf("second draw %d %v, want none", n, err)
		}
		if _, err := db.AssignArms(ctx, "e3", 8, 1.5, date.Of(2026, 3, 3)); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("share 1.5: %v", err)
		}
		dd, err := db.DashboardData(ctx, date.Of(2026, 5, 1), date.Of(2026, 5, 31))
		if err != nil {
			t.Fatal(err)
		}
		if len(dd.Cases) != 3 || dd.PortfolioClaim[f.portfolio] != 2000 {
			t.Fatalf("dashboard cases %+v claim %v", dd.Cases, dd.PortfolioClaim)
		}
		arms := map[string]int{}
		for _, c := range dd.Cases {
			arms[c.Arm]++
			if c.Arm != workout.DrawArm(7, workout.CaseRef(c.ID), 0.5) {
				t.Errorf("case %d in %q", c.ID, c.Arm)
			}
		}
		if arms[workout.ArmChampion]+arms[workout.ArmChallenger] != 3 {
			t.Errorf("arms %v", arms)
		}
		sum := 0.0
		for _, p := range dd.Payments {
			sum += p.Amount
		}
		if sum != 120 { // May: 300 - 300 + 120
			t.Fatalf("May payments %+v", dd.Payments)
		}
	})
}
