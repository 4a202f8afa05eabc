package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/date"
	"reclaim/events"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/valuation/service"
	"reclaim/workout"
	wsvc "reclaim/workout/service"
)

// envBlindKey is where the blind-index key may be given (hex or base64); otherwise blind.key in
// the data directory is used (created on first use).
const envBlindKey = pii.BlindEnvVar

// blindKey loads the blind-index key ($RECLAIM_BLIND_KEY, else blind.key in the data directory,
// created on first use) and checks it against the fingerprint the database recorded.
func (g *globals) blindKey(ctx context.Context, db *sqldb.DB) (*pii.BlindKey, error) {
	bk, err := pii.LoadBlindKey("", g.dataDir)
	if err != nil {
		return nil, fmt.Errorf("blind-index key: %w", err)
	}
	if err := db.BindBlindKey(ctx, bk.Fingerprint()); err != nil {
		return nil, fmt.Errorf("blind-index key (%s): %w", bk.Source(), err)
	}
	return bk, nil
}

// blindTerms adapts the key to the workout's term type.
func blindTerms(bk *pii.BlindKey) func(reclaim.PersonalData) []workout.BlindTerm {
	return func(p reclaim.PersonalData) []workout.BlindTerm {
		ts := bk.Terms(p)
		out := make([]workout.BlindTerm, len(ts))
		for i, t := range ts {
			out[i] = workout.BlindTerm{Kind: t.Kind, Hash: t.Hash}
		}
		return out
	}
}

// sealer is the import's sealer: the personal-data keyring, writing the blind index too.
func (g *globals) sealer(ctx context.Context, a *app) (ingest.Sealer, error) {
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return nil, err
	}
	return ingest.WithBlindIndex(a.keys, blindTerms(bk)), nil
}

// newWorkoutService wires the workout service: the compliance policy (the compliance engine,
// workout.Decide, asked before every contact), blind-indexed numbers, live events.
func newWorkoutService(db *sqldb.DB, bk *pii.BlindKey, broker *events.Broker, log *slog.Logger) *wsvc.Service {
	opts := wsvc.Options{Policy: workout.Decide, NumberKey: wsvc.HexKey(bk.PhoneHash),
		Forecaster: forecasterFor(service.New(db, service.Options{Logger: log}), "", 0), Experiment: &defaultExperiment} // workout_perf.go
	if broker != nil {
		opts.Publish = func(ctx context.Context, topic, typ string, data any) {
			if err := broker.Publish(ctx, topic, typ, data); err != nil && log != nil {
				log.Debug("workout event not published", "topic", topic, "err", err)
			}
		}
	}
	return wsvc.New(db, opts)
}

func newWorkoutCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "workout", Short: "Acquire and board portfolios, work cases (docs/workout.md)"}

	var price, bid, seller, buyer, awarded string
	var jsonOut bool
	board := &cobra.Command{
		Use:   "board PORTFOLIO --price X --date YYYY-MM-DD [--seller S] [--bid B]",
		Short: "Record the purchase of a portfolio and board it: accounts, cases, notices of assignment",
		Long: `Records the acquisition (price paid, bid, award date, seller) and boards the portfolio in one
transaction: a servicing account per loan with its cost basis (the price split by claim share),
each debtor's loans in one case across every portfolio (matched by the keyed blind index of the
national ID or, without one, a phone; run 'reclaim workout backfill-blind-index' first for
portfolios imported before the index existed), each loan's limitation expiry, and a notice of
assignment per case (CN-7) waiting for its delivery to be recorded.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			id, err := portfolioArg(args[0])
			if err != nil {
				return err
			}
			p, err := a.db.GetPortfolio(cmd.Context(), id)
			if err != nil {
				return err
			}
			if price == "" || awarded == "" {
				return usagef("--price and --date are required")
			}
			pr, err := money.ParseStrict(price, p.Currency)
			if err != nil {
				return usagef("--price %q is not an amount in %s: %v", price, p.Currency, err)
			}
			var b money.Amount
			if bid != "" {
				if b, err = money.ParseStrict(bid, p.Currency); err != nil {
					return usagef("--bid %q is not an amount in %s: %v", bid, p.Currency, err)
				}
			}
			d, err := date.Parse(awarded)
			if err != nil {
				return usagef("--date %q is not a date (YYYY-MM-DD): %v", awarded, err)
			}
			res, err := a.db.BoardPortfolio(cmd.Context(), workout.BoardSpec{PortfolioID: id, AwardDate: d, Price: pr, Bid: b,
				Seller: seller, Buyer: buyer, Actor: "cli"})
			if err != nil {
				return err
			}
			extra := afterCLIBoard(cmd.Context(), a, workout.BoardSpec{PortfolioID: id, AwardDate: d, Actor: "cli"}) // workout_perf.go
			if jsonOut {
				return writeJSON(g.stdout, res)
			}
			fmt.Fprintf(g.stdout, "boarded portfolio %d (acquisition %d, price %s %s): %d accounts in %d cases (%d new), %d notices of assignment to deliver\n",
				id, res.Acquisition.ID, pr.Grouped(), pr.Currency(), res.Accounts, res.Cases, res.NewCases, res.Notices)
			printBoarded(g.stdout, id, extra)
			return nil
		}),
	}
	board.Flags().StringVar(&price, "price", "", "price paid, in the portfolio currency (required)")
	board.Flags().StringVar(&awarded, "date", "", "award (and boarding) date, YYYY-MM-DD (required)")
	board.Flags().StringVar(&bid, "bid", "", "the AMC's bid, when known")
	board.Flags().StringVar(&seller, "seller", "", "the assignor named in the notices (default: the portfolio's seller)")
	board.Flags().StringVar(&buyer, "buyer", "", "the assignee named in the notices")
	board.Flags().BoolVar(&jsonOut, "json", false, "print JSON")

	var purpose string
	var batch int
	backfill := &cobra.Command{
		Use:   "backfill-blind-index [PORTFOLIO...] --purpose TEXT",
		Short: "Write the blind index of borrowers imported before it existed (decrypts each once, audited)",
		Long: `Portfolios imported before the blind index existed have sealed personal data but no
blind-index terms, so their debtors cannot be matched across portfolios. This command reads each
such borrower's sealed record once through the audited personal-data path (one pii_access_log row
per borrower, with the purpose given), computes the HMAC of the normalised national ID and phones
under the blind-index key, and writes them. It never stores the decrypted data. It is resumable:
only borrowers without blind-index terms are read. With no PORTFOLIO it covers every portfolio.`,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			ctx := cmd.Context()
			if len(purpose) < 5 {
				return usagef("--purpose is required (at least 5 characters): it is recorded with every read")
			}
			bk, err := g.blindKey(ctx, a.db)
			if err != nil {
				return err
			}
			var ids []int64
			if len(args) == 0 {
				ps, err := a.db.ListPortfolios(ctx)
				if err != nil {
					return err
				}
				for _, p := range ps {
					ids = append(ids, p.ID)
				}
			}
			for _, s := range args {
				id, err := portfolioArg(s)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			terms := blindTerms(bk)
			for _, id := range ids {
				n, err := backfillBlind(ctx, a, id, purpose, batch, terms)
				if err != nil {
					return fmt.Errorf("portfolio %d: %w", id, err)
				}
				idx, sealed, err := a.db.BlindIndexCount(ctx, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "portfolio %d: indexed %d borrowers now (%d of %d with personal data have a blind index)\n", id, n, idx, sealed)
			}
			return nil
		}),
	}
	backfill.Flags().StringVar(&purpose, "purpose", "", "why the personal data is read (recorded in the audit log)")
	backfill.Flags().IntVar(&batch, "batch", 500, "borrowers per transaction")

	member := &cobra.Command{
		Use:   "agency-member USERNAME AGENCY",
		Short: "Make an agency user a member of an agency (\"\" removes it)",
		Args:  cobra.ExactArgs(2),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			return a.db.SetAgencyMember(cmd.Context(), args[0], args[1])
		}),
	}
	assign := &cobra.Command{
		Use:   "assign CASE USERNAME",
		Short: "Assign a case (C<id> or <id>) to a collector",
		Args:  cobra.ExactArgs(2),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			id, err := strconv.ParseInt(trimC(args[0]), 10, 64)
			if err != nil || id <= 0 {
				return usagef("CASE must be a case reference (C12) or id, got %q", args[0])
			}
			return a.db.AssignCase(cmd.Context(), id, args[1])
		}),
	}
	campaign := &cobra.Command{Use: "campaign", Short: "Bulk contact campaigns (docs/workout-api.md, \"Campaigns\")"}
	campaignList := &cobra.Command{
		Use:   "list",
		Short: "List campaigns, newest first, with progress and the result by rule id",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			cs, err := a.db.ListCampaigns(cmd.Context(), 100)
			if err != nil {
				return err
			}
			for _, c := range cs {
				fmt.Fprintf(g.stdout, "%d\t%s\t%s\t%s\t%d/%d\tsent %d\tdenied %d\t%v\n", c.ID, c.Status, c.Channel, c.Name, c.Done, c.Total, c.Sent, c.Denied, c.ByRule)
			}
			return nil
		}),
	}
	campaignRun := &cobra.Command{
		Use:   "run",
		Short: "Send every campaign that is due now, to the end (what 'reclaim serve' does every 5 seconds)",
		Long: `Sends the campaigns whose time has come, batch by batch, each contact decided by the compliance
engine when it is sent; resumes a campaign a stopped server left running once its lease (2 minutes)
has expired. Safe to run beside a server: one runner holds a campaign at a time.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			bk, err := g.blindKey(cmd.Context(), a.db)
			if err != nil {
				return err
			}
			host, _ := os.Hostname()
			n, err := newWorkoutService(a.db, bk, nil, nil).RunCampaigns(cmd.Context(), fmt.Sprintf("cli:%s:%d", host, os.Getpid()))
			fmt.Fprintf(g.stdout, "%d campaign(s) sent\n", n)
			return err
		}),
	}
	campaign.AddCommand(campaignList, campaignRun)
	c.AddCommand(board, backfill, member, assign, campaign)
	c.AddCommand(newPerformanceCmds(g)...) // workout_perf.go
	c.AddCommand(newSettleCmds(g)...)
	c.AddCommand(newQueueCmds(g)...) // workout_queue.go
	return c
}

func trimC(s string) string {
	if len(s) > 1 && (s[0] == 'C' || s[0] == 'c') {
		return s[1:]
	}
	return s
}

// backfillBlind indexes one portfolio's borrowers that have none, batch by batch; each batch's
// reads are audited in the read's own transaction and the hashes written in the next.
func backfillBlind(ctx context.Context, a *app, id int64, purpose string, batch int, terms func(reclaim.PersonalData) []workout.BlindTerm) (int, error) {
	p, err := a.db.GetPortfolio(ctx, id)
	if err != nil {
		return 0, err
	}
	if batch <= 0 {
		batch = 500
	}
	total := 0
	var after int64
	for {
		refs, last, err := a.db.BorrowersWithoutBlindIndex(ctx, id, after, batch)
		if err != nil {
			return total, err
		}
		if len(refs) == 0 {
			return total, nil
		}
		after = last
		pds, err := a.db.ReadPersonalData(ctx, reclaim.Access{Actor: "cli:blind-index-backfill", Purpose: purpose}, id, refs,
			func(sealed []byte, _ string, ref string) (reclaim.PersonalData, error) {
				return a.keys.OpenPersonal(sealed, ingest.PersonalAAD(p.ContentHash, ref))
			})
		if err != nil {
			return total, err
		}
		m := make(map[string][]workout.BlindTerm, len(pds))
		for ref, pd := range pds {
			m[ref] = terms(pd)
		}
		clear(pds)
		if err := a.db.AddBlindIndex(ctx, id, m); err != nil {
			return total, err
		}
		total += len(m)
	}
}
