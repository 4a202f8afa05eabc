package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/dealservice"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/ledger"
	"reclaim/money"
	"reclaim/tlog"
	"reclaim/tlog/verify"
	"reclaim/valuation/service"
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
// selected from one of the demo's portfolios, the example deal document scaled to that pool with
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
	b := dealservice.New(a.db, service.New(a.db, service.Options{Logger: g.log}), ls.Origin(), ls.VerifierKey(), nil)
	today := b.Today()
	for i, spec := range []struct{ pool, name, investor, investorName string }{
		{demoDealPool, "Reclaim NPL ABS 2026-1", demoInvestorOrg, "Demo Asset Management"},
		{demoOtherDealPool, "Reclaim NPL ABS 2026-2", demoOtherInvestor, "Other Securities Co."},
	} {
		if err := b.CreateInvestor(ctx, live.Investor{ID: spec.investor, Name: spec.investorName}); err != nil && reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			return err
		}
		if _, err := a.db.GetDeal(ctx, spec.pool); reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
			err := demoOpenDeal(ctx, g, a, b, spec.pool, spec.name, today, i)
			if errors.Is(err, errNoFreeLoans) || errors.Is(err, errNoForecast) {
				fmt.Fprintf(g.stdout, "Deal %s not opened: %v.\n", spec.pool, err)
				continue
			}
			if err != nil {
				return fmt.Errorf("deal %s: %w", spec.pool, err)
			}
		} else if err != nil {
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
			if err := b.SetHolding(ctx, live.Holding{Investor: spec.investor, Pool: spec.pool, Tranche: t.Name, Amount: amt}); err != nil {
				return err
			}
		}
	}
	u, err := a.db.UserByUsername(ctx, "demo-"+string(reclaim.RoleInvestor))
	if err != nil {
		return err
	}
	if err := b.SetInvestorUser(ctx, demoInvestorOrg, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Deals %s (held by %s, the demo-investor's organisation) and %s (held by %s) are live.\n",
		demoDealPool, demoInvestorOrg, demoOtherDealPool, demoOtherInvestor)
	if err := ls.SequenceAndPublish(ctx); err != nil {
		return err
	}
	if serving {
		go demoDealServicing(ctx, a, ls, 5*time.Second)
	}
	return nil
}

// demoDealDocument scales the demo deal document to a pool whose forecast net recoveries (from
// the valuation model) total forecast fen: the tranches, the reserve and the trustee's fee are the
// example's times forecast / the example's forecast total, so that the structure stands to the
// pool as the example's stands to its own. The dates are the example's moved to the pool's
// cut-off (closing on the 26th of the next month, quarterly payments from the 26th of the third,
// sixteen of them). The pool's claim and forecast are the selection's: the deal service inlines
// them (live.WithForecast).
func demoDealDocument(name string, forecast int64, cutoff date.Date) ([]byte, error) {
	doc, err := abs.Parse(demoDealYAML)
	if err != nil {
		return nil, err
	}
	var base int64
	for _, f := range doc.Pool.Forecast {
		v, err := money.Parse(f.Amount, "CNY")
		if err != nil {
			return nil, err
		}
		base += v.Minor()
	}
	if forecast <= 0 || base <= 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "the demo deal needs a positive forecast")
	}
	scale := func(s string) (string, error) {
		v, err := money.Parse(s, "CNY")
		if err != nil {
			return "", err
		}
		out, err := v.MulDiv(forecast, base, money.HalfUp)
		return out.String(), err
	}
	first := cutoff.StartOfMonth().AddMonths(3).AddDays(25)
	doc.Name = name
	doc.Dates.Cutoff = cutoff.String()
	doc.Dates.Closing = cutoff.StartOfMonth().AddMonths(1).AddDays(25).String()
	doc.Dates.FirstPayment = first.String()
	doc.Dates.LegalMaturity = first.AddMonths(45).String()
	for k := range doc.Pool.Forecast {
		f := &doc.Pool.Forecast[k]
		if f.Amount, err = scale(f.Amount); err != nil {
			return nil, err
		}
		f.Date = cutoff.StartOfMonth().AddMonths(k + 1).EndOfMonth().String()
	}
	if doc.Pool.Claim, err = scale(doc.Pool.Claim); err != nil {
		return nil, err
	}
	doc.Pool.Principal = ""
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

// errNoFreeLoans is a demo too small for another deal.
var errNoFreeLoans = errors.New("no portfolio but the demo pool's has loans at 90+ days past due in no deal")

// errNoForecast is a selection the valuation model forecasts nothing for (no model registered).
var errNoForecast = errors.New("no forecast")

// demoOpenDeal opens a deal through the deal service, as POST /api/v1/deals does: up to 300 loans
// of one portfolio (the k-th from the last, else the nearest with loans left; never the first,
// whose loans the demo pool holds) at 90+ days past due that are in no deal yet, the forecast from the
// registered valuation model, the example document scaled to it. Then it posts collections at
// demoDealSharePct% of each collection period's forecast from boarding to yesterday and closes
// the periods whose payment date has passed, each with its report.
func demoOpenDeal(ctx context.Context, g *globals, a *app, b *dealservice.Service, pool, name string, today date.Date, k int) error {
	ps, err := a.db.ListPortfolios(ctx)
	if err != nil {
		return err
	}
	var order []reclaim.Portfolio
	for i := len(ps) - 1 - k; i >= 1; i-- {
		order = append(order, ps[i])
	}
	for i := len(ps) - k; i < len(ps); i++ {
		if i >= 1 {
			order = append(order, ps[i])
		}
	}
	var pf reclaim.Portfolio
	var crit live.Criteria
	var sel *httpapi.DealSelection
	for _, p := range order {
		crit = live.Criteria{Portfolios: []int64{p.ID}, MinDPD: 90, Limit: 300}
		s, err := b.Select(ctx, crit, p.CutOffDate, "", nil)
		if reclaim.ErrorCode(err) == reclaim.EINVALID {
			continue // the selection is empty
		} else if err != nil {
			return err
		}
		if s.Loans > 0 {
			pf, sel = p, s
			break
		}
	}
	if sel == nil {
		return errNoFreeLoans
	}
	if sel.Disclosure == nil || sel.Disclosure.ForecastRecoveries.Minor() <= 0 {
		return fmt.Errorf("%w (%d loans of portfolio %d selected, but the valuation model forecasts nothing for them)", errNoForecast, sel.Loans, pf.ID)
	}
	cutoff := pf.CutOffDate
	seed := uint64(k + 1)
	doc, err := demoDealDocument(name, sel.Disclosure.ForecastRecoveries.Minor(), cutoff)
	if err != nil {
		return err
	}
	if _, err := b.Create(ctx, httpapi.DealCreate{Pool: pool, Name: name, Document: doc, Criteria: crit, AsOf: cutoff,
		Effective: cutoff.AddDays(1), Actor: "demo"}); err != nil {
		return err
	}
	rec, err := a.db.GetDeal(ctx, pool)
	if err != nil {
		return err
	}
	deal, err := abs.Load(rec.Doc, abs.Options{})
	if err != nil {
		return err
	}
	periods, err := live.Windows(deal)
	if err != nil {
		return err
	}
	loans, _, err := a.db.PoolLoans(ctx, pool, 0, sel.Loans)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 2026))
	balance := map[string]int64{}
	for _, l := range loans {
		balance[l.Ref] = l.Balance.Minor()
	}
	channels := []string{verify.ChannelBankTransfer, verify.ChannelOnline, verify.ChannelAgency, verify.ChannelCourt}
	closed, txn := 0, 0
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
		}
		if !p.Date.After(today) {
			closed++
		}
		for tries := 0; target > 0 && tries < 100000; tries++ {
			l := loans[rng.IntN(len(loans))]
			amt := min(balance[l.Ref]/(5+int64(rng.IntN(20))), target)
			if amt < 100 {
				if balance[l.Ref] < target {
					continue
				}
				amt = target
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
	for period := 1; period <= closed; period++ {
		if _, err := b.CloseReport(ctx, pool, period); err != nil {
			return fmt.Errorf("closing period %d: %w", period, err)
		}
	}
	fmt.Fprintf(g.stdout, "Deal %s opened on %d loans of portfolio %d (forecast %s from the valuation model), %d periods reported.\n",
		pool, sel.Loans, pf.ID, sel.Disclosure.ForecastRecoveries.Grouped(), closed)
	return nil
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
