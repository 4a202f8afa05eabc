package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"reclaim/events"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/tlog/verify"
)

// newMarket starts the marketplace service of a serving node: bids are judged by per-auction
// engines and group-committed (sqldb.Market); every committed event and every close is
// published on the topic auction.<id>, a committed batch's events together (one transaction
// on PostgreSQL's fan-out, not one per event).
func newMarket(a *app, broker *events.Broker, log *slog.Logger) *sqldb.Market {
	return a.db.NewMarket(sqldb.MarketOptions{NotifyAll: func(notes []sqldb.Note) {
		msgs := make([]events.Message, len(notes))
		for i, n := range notes {
			msgs[i] = events.Message{Topic: "auction." + strconv.FormatInt(n.AuctionID, 10), Type: n.Type, Data: n.Data}
		}
		if err := broker.PublishAll(context.Background(), msgs); err != nil {
			log.Warn("auction events not published", "events", len(msgs), "err", err)
		}
	}})
}

// marketCollectors exposes the bid batcher's work on /metrics: reclaim_market_batches_total
// (committed transactions) and reclaim_market_records_total (events they wrote); their ratio is
// the group-commit factor.
func marketCollectors(m *sqldb.Market) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reclaim_market_batches_total",
			Help: "Transactions the marketplace's bid batcher committed."}, func() float64 { return float64(m.Stats().Batches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "reclaim_market_records_total",
			Help: "Auction events (bids, deposits, payments...) the bid batcher committed."}, func() float64 { return float64(m.Stats().Records) }),
	}
}

// newMarketCmd is 'reclaim market': the operator's marketplace commands (docs/marketplace.md).
func newMarketCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "market", Short: "The auction marketplace: organisations, deposits, closes, the no-resale flag, bid histories"}
	market := func(fn func(ctx context.Context, m *sqldb.Market, a *app, args []string) error) func(*cobra.Command, []string) error {
		return g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			m := a.db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
			defer m.Close()
			return fn(cliActor(cmd.Context()), m, a, args)
		})
	}
	id := func(s, what string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0, usagef("%s must be a positive number, not %q", what, s)
		}
		return n, nil
	}
	var clear bool
	acquired := &cobra.Command{Use: "acquired PORTFOLIO", Short: "Flag a portfolio as bought by the AMC (a personal-NPL package it bought may not be relisted)",
		Args: cobra.ExactArgs(1), RunE: market(func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			p, err := id(args[0], "PORTFOLIO")
			if err != nil {
				return err
			}
			if err := a.db.SetAcquired(ctx, p, !clear); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "portfolio %d acquired=%v\n", p, !clear)
			return nil
		})}
	acquired.Flags().BoolVar(&clear, "clear", false, "remove the flag")
	var jsonOut bool
	orgs := &cobra.Command{Use: "orgs", Short: "List bidding organisations", Args: cobra.NoArgs,
		RunE: market(func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			os, err := m.Orgs(ctx)
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, os)
			}
			var rows [][]string
			for _, o := range os {
				rows = append(rows, []string{strconv.FormatInt(o.ID, 10), o.Name, o.LicenceType, o.Status, strconv.FormatBool(o.Barred)})
			}
			table(g.stdout, []string{"ID", "NAME", "LICENCE", "STATUS", "BARRED"}, rows)
			return nil
		})}
	orgs.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	var reason string
	decide := func(approve bool) func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
		return func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			o, err := id(args[0], "ORG")
			if err != nil {
				return err
			}
			org, err := m.DecideOrg(ctx, o, approve, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "organisation %d (%s): %s\n", org.ID, org.Name, org.Status)
			return nil
		}
	}
	approve := &cobra.Command{Use: "approve ORG", Short: "Qualify an organisation to bid", Args: cobra.ExactArgs(1), RunE: market(decide(true))}
	reject := &cobra.Command{Use: "reject ORG --reason TEXT", Short: "Reject an organisation's qualification", Args: cobra.ExactArgs(1), RunE: market(decide(false))}
	reject.Flags().StringVar(&reason, "reason", "", "why (required)")
	var note string
	credit := &cobra.Command{Use: "credit ORG AMOUNT", Short: "Credit money received to an organisation's deposit account (AMOUNT in yuan)", Args: cobra.ExactArgs(2),
		RunE: market(func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			o, err := id(args[0], "ORG")
			if err != nil {
				return err
			}
			amt, err := money.ParseStrict(args[1], money.CNY)
			if err != nil {
				return usagef("AMOUNT: %v", err)
			}
			acc, err := m.CreditDeposit(ctx, o, amt, note)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "organisation %d: balance %s, frozen %s, available %s\n", o, acc.Balance, acc.Frozen, acc.Available)
			return nil
		})}
	credit.Flags().StringVar(&note, "note", "", "reference of the transfer")
	link := &cobra.Command{Use: "link ORG USERNAME", Short: "Make a bidder account act for an organisation", Args: cobra.ExactArgs(2),
		RunE: market(func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			o, err := id(args[0], "ORG")
			if err != nil {
				return err
			}
			u, err := a.db.UserByUsername(ctx, args[1])
			if err != nil {
				return err
			}
			return m.LinkUser(ctx, o, u.ID)
		})}
	closeDue := &cobra.Command{Use: "close-due", Short: "Close every auction past its end now (a serving node does this every 250 ms)", Args: cobra.NoArgs,
		RunE: market(func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			n, err := m.CloseDue(ctx)
			fmt.Fprintf(g.stdout, "%d auction(s) closed\n", n)
			return err
		})}
	history := &cobra.Command{Use: "history AUCTION", Short: "Print an auction's accepted-bid history in its canonical encoding and its SHA-256 (reclaim-bid-history/v1)",
		Long: `Prints the canonical encoding of the auction's accepted bids (verify.EncodeBidHistory: one line
"n at code amount" per bid after the version line) followed by its SHA-256: the value the
auction.result ledger entry carries as bid_history once the sale is settled.`,
		Args: cobra.ExactArgs(1), RunE: market(func(ctx context.Context, m *sqldb.Market, a *app, args []string) error {
			n, err := id(args[0], "AUCTION")
			if err != nil {
				return err
			}
			bids, hash, err := m.History(ctx, n)
			if err != nil {
				return err
			}
			var vb []verify.HistoryBid
			for _, b := range bids {
				vb = append(vb, verify.HistoryBid{At: b.At, Bidder: b.Code, Amount: verify.Amount(b.Amount.Minor())})
			}
			enc, err := verify.EncodeBidHistory(vb)
			if err != nil {
				return err
			}
			g.stdout.Write(enc)
			fmt.Fprintf(g.stdout, "sha256 %s\n", hash)
			return nil
		})}
	c.AddCommand(acquired, orgs, approve, reject, credit, link, closeDue, history)
	return c
}
