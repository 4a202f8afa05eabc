package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/valuation"
	"reclaim/valuation/service"
	"reclaim/workout"
)

// demoDashboard gives the manager's dashboard something to show on the portfolio demoWorkout
// boarded: its forecast at purchase (the demo model's valuation), the champion/challenger arms,
// a second collector and an agency, contacts through the compliance engine since the award
// (some refused), and a statement of payments since the award totalling about what the forecast
// expected. Idempotent: a portfolio that already has its forecast is left as it is.
func demoDashboard(ctx context.Context, g *globals, a *app, ps []reclaim.Portfolio) error {
	if len(ps) == 0 {
		return nil
	}
	p := ps[0]
	if len(ps) > 1 {
		p = ps[1]
	}
	acq, err := a.db.GetAcquisition(ctx, p.ID)
	if err != nil {
		return err
	}
	if err := demoOlderVintage(ctx, g, a, ps); err != nil {
		return err
	}
	if _, err := a.db.GetForecast(ctx, p.ID); err == nil {
		return nil
	} else if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
		return err
	}
	ctx = reclaim.WithActor(ctx, "demo")
	f, err := forecasterFor(service.New(a.db, service.Options{}), "", 0)(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("demo forecast: %w", err)
	}
	f.Source, f.Actor = sqldb.ForecastAtBoarding, "demo"
	if err := a.db.SaveForecast(ctx, f); err != nil {
		return err
	}
	if _, err := a.db.AssignArms(ctx, defaultExperiment.Name, defaultExperiment.Seed, defaultExperiment.Share, acq.AwardDate); err != nil {
		return err
	}
	today := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
	// Cases of the demo portfolio beyond demo-collector's 300: a second collector and an agency.
	var cases []sqldb.Case
	for after := int64(0); len(cases) < 600; {
		cs, err := a.db.ListCases(ctx, sqldb.CaseFilter{AfterID: after, Limit: 300})
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			after = c.ID
			cases = append(cases, c)
		}
	}
	for i, c := range cases {
		switch {
		case c.Assignee != "":
		case i < 450:
			if err := a.db.AssignCase(ctx, c.ID, "demo-collector-2"); err != nil {
				return err
			}
			cases[i].Assignee = "demo-collector-2"
		case i < 560:
			if _, err := a.db.PlaceCase(ctx, c.ID, "华东催收", "demo-collection_manager", "demo placement"); err != nil {
				return err
			}
			cases[i].Agency = "华东催收"
		}
	}
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return err
	}
	svc := newWorkoutService(a.db, bk, nil, nil)
	mgr := workout.Viewer{Role: reclaim.RoleCollectionManager, Username: "demo-collection_manager"}
	cst := time.FixedZone("CST", 8*3600)
	rng := rand.New(rand.NewPCG(2025, uint64(p.ID)))
	start := acq.AwardDate.AddDays(3)
	span := today.Sub(start)
	if span < 2 {
		return nil
	}
	// Contacts: a call, SMS or letter on most cases some day since the award (recorded as the
	// manager's, so demo-collector's own history stays what demoWorkout made); one in eleven at
	// 22:30, which the compliance engine refuses.
	type touch struct {
		caseID int64
		day    date.Date
		kind   string
	}
	var touched []touch
	kinds := []string{"call", "call", "sms", "letter"}
	outcomes := map[string][]string{"call": {"answered", "no_answer", "promise_to_pay", "busy"}, "sms": {"delivered"}, "letter": {"delivered"}}
	for i, c := range cases {
		if i < 40 || rng.IntN(10) >= 7 { // demoWorkout contacted the first 40
			continue
		}
		day := start.AddDays(rng.IntN(span))
		kind := kinds[rng.IntN(len(kinds))]
		out := outcomes[kind][rng.IntN(len(outcomes[kind]))]
		t := day.Time()
		at := time.Date(t.Year(), t.Month(), t.Day(), 9+rng.IntN(9), rng.IntN(60), 0, 0, cst)
		if i%11 == 0 {
			at = time.Date(t.Year(), t.Month(), t.Day(), 22, 30, 0, 0, cst)
		}
		in := workout.ActionInput{Kind: kind, Outcome: out, Party: "debtor", At: at, Note: "demo"}
		if kind == "call" || kind == "sms" {
			in.Number = fmt.Sprintf("1380000%04d", i)
		}
		res, err := svc.Contact(ctx, mgr, c.ID, in, "console", false)
		if err != nil {
			return fmt.Errorf("demo contact on case %d: %w", c.ID, err)
		}
		if res.Allowed {
			touched = append(touched, touch{c.ID, day, kind})
		}
	}
	// Payments since the award, about 90% of what the forecast expected by yesterday, mostly a
	// few days after a contact, a few out of the blue.
	want := 0.9 * valuation.ForecastBetween(acq.AwardDate, f.Engine(), acq.AwardDate, today.AddDays(-1))
	n := min(len(touched), 160)
	if n == 0 || want <= 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
	per := want / float64(n+n/5)
	for i := range n + n/5 {
		var caseID int64
		var day date.Date
		if i < n {
			// Calls bring payments four times as often as an SMS or a letter: the channel
			// effect the trained contact model (demoContactModel) finds.
			t := touched[rng.IntN(len(touched))]
			for t.kind != "call" && rng.IntN(4) > 0 {
				t = touched[rng.IntN(len(touched))]
			}
			caseID, day = t.caseID, t.day.AddDays(1+rng.IntN(6))
		} else {
			caseID, day = cases[rng.IntN(len(cases))].ID, start.AddDays(rng.IntN(span))
		}
		if !day.Before(today) {
			day = today.AddDays(-1)
		}
		amt, err := money.FromFloat(per*(0.4+1.2*rng.Float64()), money.CNY, money.HalfUp)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "DASH%06d,%s,%s,,还款 %s,\n", i+1, day, amt, workout.CaseRef(caseID))
	}
	st, err := workout.ParseStatement(strings.NewReader(b.String()), workout.DefaultStatementMapping())
	if err != nil {
		return fmt.Errorf("demo dashboard statement: %w", err)
	}
	imp, err := a.db.ImportStatement(ctx, "demo-dashboard-statement.csv", st, sqldb.PaymentOptions{Blind: sqldb.BlindLookup(bk), Actor: "demo"})
	if err != nil {
		return fmt.Errorf("demo dashboard statement: %w", err)
	}
	fmt.Fprintf(g.stdout, "Froze portfolio %d's forecast at purchase (model %s); %d contacts and %d payments (%s CNY) for the manager's dashboard.\n",
		p.ID, f.Model, len(touched), imp.Matched, imp.Applied.Grouped())
	return nil
}

// demoOlderVintage boards a third portfolio as bought eight months ago at the price the demo
// model values it at for the default target IRR (so its underwritten IRR is that target), with
// its forecast frozen and about eight months of payments running near the forecast: a second
// vintage, old enough for an IRR to date, on the dashboard's vintage chart. Skipped with fewer
// than four portfolios (the first two are the pool and the workout demo, the last the
// marketplace's) and when the portfolio was already acquired.
func demoOlderVintage(ctx context.Context, g *globals, a *app, ps []reclaim.Portfolio) error {
	if len(ps) < 4 {
		return nil
	}
	p := ps[2]
	if _, err := a.db.GetAcquisition(ctx, p.ID); err == nil {
		return nil
	} else if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
		return err
	}
	ctx = reclaim.WithActor(ctx, "demo")
	v, err := service.New(a.db, service.Options{}).PortfolioValuation(ctx, p.ID, valuation.Request{Paths: -1})
	if err != nil {
		return fmt.Errorf("demo vintage valuation: %w", err)
	}
	if v.Price.Price.IsAbsent() || v.Price.Price.Minor() <= 0 {
		return nil // no positive price reaches the target: nothing sensible to buy
	}
	f, err := forecastFromValuation(p.ID, v)
	if err != nil {
		return err
	}
	var maxID int64
	for {
		cs, err := a.db.ListCases(ctx, sqldb.CaseFilter{AfterID: maxID, Limit: 1000})
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		maxID = cs[len(cs)-1].ID
	}
	today := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
	award := today.AddMonths(-8)
	if _, err := a.db.BoardPortfolio(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: award, Price: v.Price.Price,
		Buyer: "演示资产管理公司", Actor: "demo"}); err != nil {
		return fmt.Errorf("board portfolio %d: %w", p.ID, err)
	}
	f.Source, f.Actor = sqldb.ForecastAtBoarding, "demo"
	if err := a.db.SaveForecast(ctx, f); err != nil {
		return err
	}
	if _, err := a.db.AssignArms(ctx, defaultExperiment.Name, defaultExperiment.Seed, defaultExperiment.Share, award); err != nil {
		return err
	}
	var ids []int64
	for after := maxID; ; {
		cs, err := a.db.ListCases(ctx, sqldb.CaseFilter{AfterID: after, Limit: 1000})
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		after = cs[len(cs)-1].ID
	}
	if len(ids) == 0 {
		return nil
	}
	// Each month since the award: about its forecast (85% to 105%) in 30 payments.
	rng := rand.New(rand.NewPCG(2026, uint64(p.ID)))
	var b strings.Builder
	b.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
	n := 0
	eng := f.Engine()
	for k := 1; k <= 8; k++ {
		lo := award.StartOfMonth().AddMonths(k)
		hi := lo.EndOfMonth()
		if !hi.Before(today) {
			hi = today.AddDays(-1)
		}
		if hi.Before(lo) {
			break
		}
		want := valuation.ForecastBetween(award, eng, lo, hi) * (0.85 + 0.2*rng.Float64())
		for range 30 {
			amt, err := money.FromFloat(want/30*(0.5+rng.Float64()), money.CNY, money.HalfUp)
			if err != nil {
				return err
			}
			n++
			fmt.Fprintf(&b, "VINT%06d,%s,%s,,还款 %s,\n", n, lo.AddDays(rng.IntN(hi.Sub(lo)+1)), amt, workout.CaseRef(ids[rng.IntN(len(ids))]))
		}
	}
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return err
	}
	st, err := workout.ParseStatement(strings.NewReader(b.String()), workout.DefaultStatementMapping())
	if err != nil {
		return fmt.Errorf("demo vintage statement: %w", err)
	}
	imp, err := a.db.ImportStatement(ctx, "demo-vintage-statement.csv", st, sqldb.PaymentOptions{Blind: sqldb.BlindLookup(bk), Actor: "demo"})
	if err != nil {
		return fmt.Errorf("demo vintage statement: %w", err)
	}
	fmt.Fprintf(g.stdout, "Boarded portfolio %d as bought on %s at the model's price for %.0f%% (%s CNY), %d payments since.\n",
		p.ID, award, 100*v.Price.TargetIRR, v.Price.Price.Grouped(), imp.Matched)
	return nil
}

// demoContactModel trains the contact model from the demo's contact log and payments (a 7-day
// horizon: the demo's payments follow their contacts within a week) so that the console's queue
// shows the challenger arm valued by a model. Skipped when a model is stored; a log too small to
// train on is reported, not an error.
func demoContactModel(ctx context.Context, g *globals, a *app) error {
	if n, err := a.db.CountContactModels(ctx); err != nil || n > 0 {
		return err
	}
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return err
	}
	svc := newWorkoutService(a.db, bk, nil, nil)
	mgr := workout.Viewer{Role: reclaim.RoleCollectionManager, Username: "demo-collection_manager"}
	m, err := svc.TrainContactModel(reclaim.WithActor(ctx, "demo"), mgr, workout.ContactTrainRequest{Horizon: 7, MinRows: 150, Name: "demo-contact"})
	if reclaim.ErrorCode(err) == reclaim.EINVALID {
		fmt.Fprintf(g.stdout, "No contact model trained: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprint(g.stdout, contactModelText(m))
	return nil
}
