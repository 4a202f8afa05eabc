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
	"reclaim/synth"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// demoPoolID is the pool the demo opens from its first portfolio.
const demoPoolID = "RCL-DEMO-1"

// demoPool opens the demo pool (once) from the first portfolio, generated from src, services it
// month by month up to last month (collections drawn from the loans' simulated futures, status
// changes, a repurchase, monthly period reports) and publishes a checkpoint.
func demoPool(ctx context.Context, g *globals, a *app, s *ledger.Service, portfolioID int64, src synth.Config) error {
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
	// The pool's collections are the loans' own simulated futures (synth.Outcome, the generator's
	// calibration: 10-25% of borrowers pay within 24 months, settlements and instalment plans that
	// break), from boarding to the last full month before today, so that the back-test and the
	// pool's reports compare the model with collections of the market's shape.
	months := demoServicedMonths(boarding, time.Now().UTC())
	plan, err := demoCollections(ctx, a, src, months)
	if err != nil {
		return err
	}
	txn := 0
	channels := []string{verify.ChannelBankTransfer, verify.ChannelOnline, verify.ChannelAgency, verify.ChannelCourt}
	bar := g.newProgress("servicing "+demoPoolID, int64(months))
	for month := 0; month < months; month++ {
		start := boarding.AddMonths(month)
		end := start.AddMonths(1).AddDays(-1)
		for _, c := range plan[month] {
			txn++
			if _, err := a.db.PostCollection(ctx, tlog.Collection{Pool: demoPoolID, LoanRef: c.ref, Amount: c.amount,
				Channel: channels[rng.IntN(len(channels))], TxnID: fmt.Sprintf("ICBC-%04d%02d-%06d", start.Year(), int(start.Month()), txn),
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
		bar.set(int64(month + 1))
	}
	bar.done()
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

// demoMaxServicedMonths bounds the demo pool's simulated history (and so the time the first
// `make demo` spends posting it).
const demoMaxServicedMonths = 24

// demoServicedMonths is the number of whole months from boarding to the month before now's,
// between 3 and demoMaxServicedMonths.
func demoServicedMonths(boarding date.Date, now time.Time) int {
	n := date.MonthsBetween(boarding.StartOfMonth(), date.FromTime(now).StartOfMonth())
	return min(max(n, 3), demoMaxServicedMonths)
}

// demoPosting is one simulated month's collection from one pool loan.
type demoPosting struct {
	ref    string
	amount money.Amount
}

// demoCollections draws the collections of the pool's loans over its first months from the
// generator that wrote the portfolio's tape (src): plan[m] holds month m's postings (month 0 is
// the month after the cut-off's), each capped at what the loan still owes.
func demoCollections(ctx context.Context, a *app, src synth.Config, months int) ([][]demoPosting, error) {
	type owed struct {
		ref     string
		balance int64
	}
	byKey := map[string]*owed{}
	for off := 0; ; off += 5000 {
		page, total, err := a.db.PoolLoans(ctx, demoPoolID, off, 5000)
		if err != nil {
			return nil, err
		}
		for _, l := range page {
			byKey[l.LoanKey] = &owed{ref: l.Ref, balance: l.Balance.Minor()}
		}
		if len(page) == 0 || int64(off+len(page)) >= total {
			break
		}
	}
	gen, err := synth.New(src)
	if err != nil {
		return nil, err
	}
	base := src.CutOff.StartOfMonth()
	plan := make([][]demoPosting, months)
	for it, ok := gen.Next(); ok; it, ok = gen.Next() {
		o := byKey[it.Loan.LoanID]
		if o == nil {
			continue
		}
		out := synth.Outcome(&it, months, synth.OutcomeRand(src.Seed, it.Index))
		for _, p := range out.Payments {
			m := date.MonthsBetween(base, p.Month.StartOfMonth()) - 1
			amt := min(p.Amount.Minor(), o.balance)
			if m < 0 || m >= months || amt <= 0 {
				continue
			}
			o.balance -= amt
			plan[m] = append(plan[m], demoPosting{ref: o.ref, amount: money.New(amt, p.Amount.Currency())})
		}
	}
	return plan, nil
}
