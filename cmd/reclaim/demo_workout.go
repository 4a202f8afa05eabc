package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/workout"
)

// demoCollector is the demo account whose queue the workbench shows.
const demoCollector = "demo-collector"

// demoWorkout boards one demo portfolio into servicing (the second when there are two, else the
// first) with an acquisition priced at 5.8% of the claim (the 2024 average of
// ../shared/design/market.md), assigns up to 300 cases to demo-collector, records a little
// contact history through the compliance engine, and imports a bank statement with matched lines
// and one unmatched line. Idempotent: a portfolio already acquired is left as it is.
func demoWorkout(ctx context.Context, g *globals, a *app, ps []reclaim.Portfolio) error {
	if len(ps) == 0 {
		return nil
	}
	p := ps[0]
	if len(ps) > 1 {
		p = ps[1]
	}
	if _, err := a.db.GetAcquisition(ctx, p.ID); err == nil {
		return nil
	} else if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
		return err
	}
	ctx = reclaim.WithActor(ctx, "demo")
	price, err := p.TotalClaim.MulDiv(58, 1000, money.HalfUp)
	if err != nil {
		return err
	}
	bid, err := p.TotalClaim.MulDiv(60, 1000, money.HalfUp)
	if err != nil {
		return err
	}
	today := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
	res, err := a.db.BoardPortfolio(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: today.AddDays(-45), Price: price, Bid: bid,
		Buyer: "演示资产管理公司", Actor: "demo"})
	if err != nil {
		return fmt.Errorf("board portfolio %d: %w", p.ID, err)
	}
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return err
	}
	var mine []sqldb.Case
	after := int64(0)
	for len(mine) < 300 {
		cs, err := a.db.ListCases(ctx, sqldb.CaseFilter{AfterID: after, Limit: 300})
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			after = c.ID
			if c.Assignee == "" && len(mine) < 300 {
				if err := a.db.AssignCase(ctx, c.ID, demoCollector); err != nil {
					return err
				}
				mine = append(mine, c)
			}
		}
	}
	// History: a few calls and letters on the first cases of the queue, a day or more ago,
	// decided by the same engine the console asks (one of them at 22:30, which it refuses).
	svc := newWorkoutService(a.db, bk, nil, nil)
	v := workout.Viewer{Role: reclaim.RoleCollector, Username: demoCollector}
	cst := time.FixedZone("CST", 8*3600)
	for i, c := range mine {
		if i >= 40 {
			break
		}
		day := today.AddDays(-1 - i%10).Time()
		at := time.Date(day.Year(), day.Month(), day.Day(), 9+i%9, 15, 0, 0, cst)
		outcomes := []string{"no_answer", "answered", "busy", "promise_to_pay"}
		in := workout.ActionInput{Kind: "call", Outcome: outcomes[i%len(outcomes)], Party: "debtor",
			Number: fmt.Sprintf("1390000%04d", i), At: at, Note: "demo"}
		if i%7 == 3 {
			in = workout.ActionInput{Kind: "letter", Outcome: "delivered", Party: "debtor", At: at, Note: "demo"}
		}
		if i%11 == 5 {
			in.At = time.Date(day.Year(), day.Month(), day.Day(), 22, 30, 0, 0, cst)
		}
		if _, err := svc.Contact(ctx, v, c.ID, in, "console", false); err != nil {
			return fmt.Errorf("demo contact on case %d: %w", c.ID, err)
		}
	}
	// A statement: two credits naming cases by reference, one line nobody can match.
	if len(mine) >= 2 {
		var b strings.Builder
		b.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
		d := today.AddDays(-2)
		fmt.Fprintf(&b, "DEMO%s001,%s,500.00,,还款 %s,\n", strings.ReplaceAll(d.String(), "-", ""), d, workout.CaseRef(mine[0].ID))
		fmt.Fprintf(&b, "DEMO%s002,%s,300.00,,%s 还款,\n", strings.ReplaceAll(d.String(), "-", ""), d, workout.CaseRef(mine[1].ID))
		fmt.Fprintf(&b, "DEMO%s003,%s,1288.00,欧阳某某,货款 转账,\n", strings.ReplaceAll(d.String(), "-", ""), d)
		fmt.Fprintf(&b, "DEMO%s004,%s,66.60,,生活费,\n", strings.ReplaceAll(d.String(), "-", ""), d)
		st, err := workout.ParseStatement(strings.NewReader(b.String()), workout.DefaultStatementMapping())
		if err != nil {
			return fmt.Errorf("demo statement: %w", err)
		}
		if _, err := a.db.ImportStatement(ctx, "demo-statement.csv", st,
			sqldb.PaymentOptions{Blind: sqldb.BlindLookup(bk), Actor: "demo"}); err != nil {
			return fmt.Errorf("demo statement: %w", err)
		}
	}
	fmt.Fprintf(g.stdout, "\nBoarded portfolio %d into servicing (price %s %s): %d cases, %d assigned to %s.\n",
		p.ID, price.Grouped(), price.Currency(), res.Cases, len(mine), demoCollector)
	return nil
}
