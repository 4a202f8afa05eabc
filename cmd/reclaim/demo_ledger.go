package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/ledger"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// demoPoolID is the pool the demo opens from its first portfolio.
const demoPoolID = "RCL-DEMO-1"

// demoPool opens the demo pool (once) from the first portfolio, services it for three months
// (collections, status changes, a repurchase, monthly period reports) and publishes a checkpoint.
func demoPool(ctx context.Context, g *globals, a *app, s *ledger.Service, portfolioID int64) error {
	if _, err := a.db.LedgerPool(ctx, demoPoolID); err == nil {
		return nil
	} else if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
		return err
	}
	boarding := date.Of(2025, 7, 1)
	p, err := a.db.OpenPool(ctx, sqldb.PoolSpec{Pool: demoPoolID, Name: "Reclaim NPL Trust 2025-1", Origin: s.Origin() + "/" + demoPoolID,
		PortfolioID: portfolioID, Effective: boarding, LogKey: s.VerifierKey()})
	if err != nil {
		return err
	}
	s.SequenceAll(ctx)
	loans, _, err := a.db.PoolLoans(ctx, demoPoolID, 0, 2000)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 2025))
	txn := 0
	channels := []string{verify.ChannelBankTransfer, verify.ChannelOnline, verify.ChannelAgency, verify.ChannelCourt}
	for month := 0; month < 3; month++ {
		start := boarding.AddMonths(month)
		end := start.AddMonths(1).AddDays(-1)
		for i := 0; i < 120 && len(loans) > 0; i++ {
			l := loans[rng.IntN(len(loans))]
			if l.Balance.Minor() < 200 || l.Status != verify.StatusOpen && l.Status != verify.StatusPlan {
				continue
			}
			amt := max(100, l.Balance.Minor()*int64(3+rng.IntN(25))/100)
			txn++
			if _, err := a.db.PostCollection(ctx, tlog.Collection{Pool: demoPoolID, LoanRef: l.Ref, Amount: money.New(amt, "CNY"),
				Channel: channels[rng.IntN(len(channels))], TxnID: fmt.Sprintf("ICBC-2025%02d-%06d", 7+month, txn),
				Effective: start.AddDays(rng.IntN(28)), PostedBy: "demo"}); err != nil && reclaim.ErrorCode(err) != reclaim.EINVALID {
				return err
			}
		}
		for i := 0; i < 20; i++ {
			l := loans[rng.IntN(len(loans))]
			st := []string{verify.StatusContacted, verify.StatusPromise, verify.StatusPlan, verify.StatusLitigation}[rng.IntN(4)]
			if _, err := a.db.SetLoanStatus(ctx, demoPoolID, l.Ref, st, "", start.AddDays(rng.IntN(28))); err != nil && reclaim.ErrorCode(err) != reclaim.EINVALID {
				return err
			}
		}
		if month == 1 {
			l := loans[len(loans)-1]
			if _, err := a.db.RemoveLoan(ctx, demoPoolID, l.Ref, verify.RemovalRepurchased, l.Balance, end); err != nil {
				return err
			}
		}
		if _, err := a.db.ClosePeriod(ctx, demoPoolID, start, end, end); err != nil {
			return err
		}
	}
	if err := s.SequenceAndPublish(ctx); err != nil {
		return err
	}
	after, err := a.db.LedgerPool(ctx, demoPoolID)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "\nPool %s opened from portfolio %d: %d loans boarded, %d ledger entries, checkpoint published (origin %s).\n",
		demoPoolID, portfolioID, p.Pending-1, after.Size, after.Origin)
	return nil
}

// demoServicing posts a small collection to the demo pool every few seconds while the demo
// serves, so that the ledger's live feed moves.
func demoServicing(ctx context.Context, a *app, s *ledger.Service, every time.Duration) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		loans, total, err := a.db.PoolLoans(ctx, demoPoolID, rng.IntN(1000), 1)
		if err != nil || total == 0 || len(loans) == 0 {
			continue
		}
		l := loans[0]
		if l.Balance.Minor() < 1000 {
			continue
		}
		y, m, d := time.Now().UTC().Date()
		today, _ := date.New(y, m, d)
		s.PostCollection(ctx, tlog.Collection{Pool: demoPoolID, LoanRef: l.Ref, Amount: money.New(l.Balance.Minor()/20, "CNY"),
			Channel: verify.ChannelOnline, TxnID: fmt.Sprintf("LIVE-%d-%d", time.Now().Unix(), n), Effective: today, PostedBy: "demo"})
	}
}

// writeDemoPolicy writes the investors' policy file of the demo pool (log key, origin, the demo
// witness, quorum) to <data-dir>/demo-pool.policy: what an investor pastes on the pool's ledger
// page to pin the keys, or gives to reclaim-verify.
func writeDemoPolicy(ctx context.Context, g *globals, a *app, s *ledger.Service, base string) error {
	p, err := a.db.LedgerPool(ctx, demoPoolID)
	if err != nil {
		return err
	}
	path := filepath.Join(g.dataDir, "demo-pool.policy")
	if err := os.WriteFile(path, []byte(s.PolicyFile(p, base)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Investors' policy file of pool %s: %s (paste it on the pool's ledger page to pin the keys).\n", demoPoolID, path)
	return nil
}
