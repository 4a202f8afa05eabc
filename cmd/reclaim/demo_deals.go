package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/ledger"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// The demo's live ABS deals (docs/console-deals.md): two deals selected from the demo's loans,
// the demo investor's organisation holding the first only, so that the investor portal has a deal
// to watch and another it must not see.
const (
	demoDealPool      = "RCL-ABS-DEMO-1"
	demoOtherDealPool = "RCL-ABS-DEMO-2"
	demoInvestorOrg   = "INV-DEMO"
	demoOtherInvestor = "INV-OTHER"
	// demoDealShare is the share of each closed window's forecast the demo collects: below the
	// deal's 90% recovery-shortfall threshold, so that the trigger is hit and the portal alerts.
	demoDealSharePct = 80
)

// demoDealYAML is docs/examples/deal-npl-2tranche.yaml with the recovery-shortfall trigger of
// abs/testdata/deal-shortfall-trigger.yaml; demoDealDocument scales it to the selected pool.
//
//go:embed demo_deal.yaml
var demoDealYAML []byte

// demoDeals opens the demo deals once (a second run reuses them): for each, a pool of loans
// selected from the demo's last portfolio, the example deal document scaled to that pool with
// dates such that the payment dates whose collection periods have ended are closed with their
// reports (collections at demoDealSharePct% of the forecast: the recovery-shortfall trigger is
// hit), and the current period is open. The demo-investor account's organisation holds the first
// deal, another organisation the second. When serving, collections keep arriving in the first
// deal's pool every few seconds until ctx ends.
func demoDeals(ctx context.Context, g *globals, a *app, lf ledgerFlags, serving bool) error {
	ls, err := newLedgerService(g, a, lf, nil, g.log)
	if err != nil {
		return err
	}
	today := date.FromTime(time.Now().UTC())
	for i, spec := range []struct{ pool, name, investor, investorName string }{
		{demoDealPool, "Reclaim NPL ABS 2026-1", demoInvestorOrg, "Demo Asset Management"},
		{demoOtherDealPool, "Reclaim NPL ABS 2026-2", demoOtherInvestor, "Other Securities Co."},
	} {
		if _, err := a.db.GetDeal(ctx, spec.pool); reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
			if err := demoOpenDeal(ctx, g, a, ls, spec.pool, spec.name, today, uint64(i+1)); err != nil {
				return fmt.Errorf("deal %s: %w", spec.pool, err)
			}
		} else if err != nil {
			return err
		}
		if err := a.db.CreateInvestor(ctx, sqldb.Investor{ID: spec.investor, Name: spec.investorName}); err != nil && reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			return err
		}
		d, err := a.db.GetDeal(ctx, spec.pool)
		if err != nil {
			return err
		}
		doc, err := abs.Parse(d.Doc)
		if err != nil {
			return err
		}
		// Half of the senior tranche and all of the subordinated one.
		for k, t := range doc.Tranches {
			amt, err := money.Parse(t.Balance, "CNY")
			if err != nil {
				return err
			}
			if k == 0 {
				amt, _ = amt.MulDiv(1, 2, money.HalfUp)
			}
			if err := a.db.SetHolding(ctx, sqldb.Holding{Investor: spec.investor, Pool: spec.pool, Tranche: t.Name, Amount: amt}); err != nil {
				return err
			}
		}
	}
	u, err := a.db.UserByUsername(ctx, "demo-"+string(reclaim.RoleInvestor))
	if err != nil {
		return err
	}
	if err := a.db.SetInvestorUser(ctx, demoInvestorOrg, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Deals %s (held by %s, the demo-investor's organisation) and %s (held by %s) are live.\n",
		demoDealPool, demoInvestorOrg, demoOtherDealPool, demoOtherInvestor)
	if serving {
		go demoDealServicing(ctx, a, ls, 5*time.Second)
	}
	return nil
}

// demoDealDocument scales the demo deal document to a pool of claim and principal (fen) and
// borrowers, with its cut-off seven months before today's month: the pool's forecast is the
// example's shape times claim / the example's claim, as are the tranches, the reserve and the
// trustee's fee.
func demoDealDocument(name string, claim, principal int64, borrowers int, today date.Date) ([]byte, error) {
	doc, err := abs.Parse(demoDealYAML)
	if err != nil {
		return nil, err
	}
	base, err := money.Parse(doc.Pool.Claim, "CNY")
	if err != nil {
		return nil, err
	}
	scale := func(s string) (string, error) {
		v, err := money.Parse(s, "CNY")
		if err != nil {
			return "", err
		}
		out, err := v.MulDiv(claim, base.Minor(), money.HalfUp)
		return out.String(), err
	}
	cutoff := today.StartOfMonth().AddMonths(-7).EndOfMonth()
	first := cutoff.StartOfMonth().AddMonths(3).AddDays(25)
	doc.Name = name
	doc.Dates.Cutoff = cutoff.String()
	doc.Dates.Closing = cutoff.StartOfMonth().AddMonths(1).AddDays(25).String()
	doc.Dates.FirstPayment = first.String()
	doc.Dates.LegalMaturity = first.AddMonths(45).String()
	doc.Pool.Claim = money.New(claim, "CNY").String()
	doc.Pool.Principal = money.New(principal, "CNY").String()
	doc.Pool.Borrowers = borrowers
	for k := range doc.Pool.Forecast {
		f := &doc.Pool.Forecast[k]
		if f.Amount, err = scale(f.Amount); err != nil {
			return nil, err
		}
		f.Date = cutoff.StartOfMonth().AddMonths(k + 1).EndOfMonth().String()
	}
	for k := range doc.Accounts {
		if doc.Accounts[k].Initial != "" {
			if doc.Accounts[k].Initial, err = scale(doc.Accounts[k].Initial); err != nil {
				return nil, err
			}
		}
	}
	for k := range doc.Fees {
		if doc.Fees[k].Amount != "" {
			if doc.Fees[k].Amount, err = scale(doc.Fees[k].Amount); err != nil {
				return nil, err
			}
		}
	}
	for k := range doc.Tranches {
		if doc.Tranches[k].Balance, err = scale(doc.Tranches[k].Balance); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}

// demoOpenDeal selects 300 loans of the last portfolio that are in no deal yet, opens the deal,
// posts collections for the collection periods that have ended (and the current one so far) and
// closes the ended periods with their reports.
func demoOpenDeal(ctx context.Context, g *globals, a *app, ls *ledger.Service, pool, name string, today date.Date, seed uint64) error {
	ps, err := a.db.ListPortfolios(ctx)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	pid := ps[len(ps)-1].ID
	crit := live.Criteria{Portfolios: []int64{pid}, MinDPD: 90, Limit: 300}
	m, err := crit.Compile(today)
	if err != nil {
		return err
	}
	var sel []sqldb.DealLoan
	var claim, principal int64
	borrowers := map[string]bool{}
	err = a.db.CandidateLoans(ctx, crit.Portfolios, func(p int64, l *reclaim.Loan) error {
		if len(sel) >= m.Limit() || !m.Match(l) || l.TotalClaim.Minor() <= 0 {
			return nil
		}
		sel = append(sel, sqldb.DealLoan{PortfolioID: p, Loan: l})
		claim += l.TotalClaim.Minor()
		principal += l.PrincipalOutstanding.Minor()
		borrowers[l.BorrowerID] = true
		return nil
	})
	if err != nil {
		return err
	}
	if len(sel) == 0 {
		return reclaim.Errorf(reclaim.ENOTFOUND, "no loan of portfolio %d is free for a deal", pid)
	}
	doc, err := demoDealDocument(name, claim, principal, len(borrowers), today)
	if err != nil {
		return err
	}
	deal, err := abs.Load(doc, abs.Options{})
	if err != nil {
		return err
	}
	cutoff, _ := date.ParseStrict(deal.Document().Dates.Cutoff)
	critJSON, _ := json.Marshal(crit)
	if _, err := a.db.CreateDeal(ctx, sqldb.DealSpec{Pool: pool, Name: name, Origin: ls.Origin() + "/" + pool, Doc: doc,
		Effective: cutoff.AddDays(1), Loans: sel, Criteria: string(critJSON), CreatedBy: "demo", LogKey: ls.VerifierKey()}); err != nil {
		return err
	}
	ls.SequenceAll(ctx)
	periods, err := live.Windows(deal)
	if err != nil {
		return err
	}
	loans, _, err := a.db.PoolLoans(ctx, pool, 0, len(sel))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 2026))
	balance := map[string]int64{}
	for _, l := range loans {
		balance[l.Ref] = l.Balance.Minor()
	}
	channels := []string{verify.ChannelBankTransfer, verify.ChannelOnline, verify.ChannelAgency, verify.ChannelCourt}
	closed := 0
	txn := 0
	for _, p := range periods {
		if !p.CollectionStart.Before(today) {
			break
		}
		end, days := p.CollectionEnd, p.CollectionEnd.Sub(p.CollectionStart)+1
		target := p.Forecast.Minor() * demoDealSharePct / 100
		if !end.Before(today) {
			// The current period so far: its share of the window's forecast to yesterday.
			end = today.AddDays(-1)
			target = target * int64(end.Sub(p.CollectionStart)+1) / int64(days)
		} else {
			closed++
		}
		for target > 0 {
			l := loans[rng.IntN(len(loans))]
			amt := min(balance[l.Ref]/(5+int64(rng.IntN(20))), target)
			if amt < 100 {
				if balance[l.Ref] >= target {
					amt = target
				} else {
					continue
				}
			}
			txn++
			eff := p.CollectionStart.AddDays(rng.IntN(end.Sub(p.CollectionStart) + 1))
			if _, err := a.db.PostCollection(ctx, tlog.Collection{Pool: pool, LoanRef: l.Ref, Amount: money.New(amt, "CNY"),
				Channel: channels[rng.IntN(len(channels))], TxnID: fmt.Sprintf("ABS-%s-%06d", pool, txn), Effective: eff, PostedBy: "demo"}); err != nil {
				return err
			}
			balance[l.Ref] -= amt
			target -= amt
		}
	}
	ls.SequenceAll(ctx)
	for period := 1; period <= closed; period++ {
		if _, err := a.db.CloseDealPeriod(ctx, pool, period, demoDealReport(doc, pool, ls.Origin()+"/"+pool, period)); err != nil {
			return fmt.Errorf("closing period %d: %w", period, err)
		}
	}
	if err := ls.SequenceAndPublish(ctx); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Deal %s opened on %d loans of portfolio %d (claim %s), %d periods reported.\n",
		pool, len(sel), pid, money.New(claim, "CNY").Grouped(), closed)
	return nil
}

// demoDealReport closes a period with package abs/live, as the API does.
func demoDealReport(doc []byte, pool, origin string, period int) sqldb.DealReportBuild {
	return func(log []verify.Entry, size int64) ([]byte, []verify.Entry, error) {
		d, err := abs.Load(doc, abs.Options{})
		if err != nil {
			return nil, nil, err
		}
		st, err := live.StateFromEntries(log)
		if err != nil {
			return nil, nil, err
		}
		rep, _, err := live.Build(live.Input{Deal: d, State: st, Period: period, Origin: origin, LedgerSize: size})
		if err != nil {
			return nil, nil, err
		}
		body, err := rep.Encode()
		if err != nil {
			return nil, nil, err
		}
		_, wins, err := live.Scenario(d, st, period)
		if err != nil {
			return nil, nil, err
		}
		es, err := rep.Entries(body, wins[period-1])
		return body, es, err
	}
}

// demoDealServicing posts a collection dated today to the demo deal's pool every few seconds
// while the demo serves, so that the investor portal's live view moves.
func demoDealServicing(ctx context.Context, a *app, s *ledger.Service, every time.Duration) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		loans, total, err := a.db.PoolLoans(ctx, demoDealPool, rng.IntN(300), 1)
		if err != nil || total == 0 || len(loans) == 0 || loans[0].Balance.Minor() < 10000 {
			continue
		}
		l := loans[0]
		s.PostCollection(ctx, tlog.Collection{Pool: demoDealPool, LoanRef: l.Ref, Amount: money.New(l.Balance.Minor()/50, "CNY"),
			Channel: verify.ChannelOnline, TxnID: fmt.Sprintf("ABS-LIVE-%d-%d", time.Now().Unix(), n),
			Effective: date.FromTime(time.Now().UTC()), PostedBy: "demo"})
	}
}
