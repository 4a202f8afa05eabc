package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"reclaim/date"
	"reclaim/events"
	"reclaim/ledger"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

const (
	envLedgerKey    = "RECLAIM_LEDGER_KEY"
	envLedgerOrigin = "RECLAIM_LEDGER_ORIGIN"
)

// ledgerFlags configure the pool ledger: the checkpoint signing key (a file, never the
// database), the origin prefix, and the witnesses.
type ledgerFlags struct {
	keyFile   string
	origin    string
	witnesses string
	quorum    int
	interval  time.Duration
	extraKeys []string
	// auditRate and auditEvery pace the scheduled store audit (serve).
	auditRate  int64
	auditEvery time.Duration
}

func (f *ledgerFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.keyFile, "ledger-key", os.Getenv(envLedgerKey), "checkpoint signing key file (default <data-dir>/ledger.key, created on first use) ($"+envLedgerKey+")")
	fs.StringSliceVar(&f.extraKeys, "ledger-extra-key", nil, "more signing key files (each with its .pub) for pools still signed by them after another pool's key rotation")
	fs.StringVar(&f.origin, "ledger-origin", envOr(envLedgerOrigin, "reclaim.local/ledger"), "checkpoint origin prefix; a pool's origin is <prefix>/<pool> ($"+envLedgerOrigin+")")
	fs.StringVar(&f.witnesses, "witnesses", "", "witness list file: one '<name> <add-checkpoint URL> <cosignature vkey>' per line")
	fs.IntVar(&f.quorum, "witness-quorum", 0, "cosignatures a checkpoint needs before it is published")
	fs.DurationVar(&f.interval, "checkpoint-interval", 5*time.Second, "how often grown logs get a new checkpoint")
	fs.Int64Var(&f.auditRate, "ledger-audit-rate", 2000, "entries per second the scheduled store audit recomputes (negative: off)")
	fs.DurationVar(&f.auditEvery, "ledger-audit-every", time.Hour, "how often a full store audit pass starts over from entry 0")
}

func (f *ledgerFlags) keyPath(g *globals) string {
	if f.keyFile != "" {
		return f.keyFile
	}
	return filepath.Join(g.dataDir, "ledger.key")
}

// newLedgerService opens the node's ledger service; the default key (in the data directory) is
// created on first use.
func newLedgerService(g *globals, a *app, f ledgerFlags, broker *events.Broker, log *slog.Logger) (*ledger.Service, error) {
	if log == nil {
		log = g.log
	}
	return ledger.New(a.db, broker, log, ledger.Config{KeyFile: f.keyPath(g), CreateKey: f.keyFile == "", Origin: f.origin,
		WitnessFile: f.witnesses, Quorum: f.quorum, Interval: f.interval, AuditRate: f.auditRate, AuditEvery: f.auditEvery, ExtraKeyFiles: f.extraKeys,
		Created: func(path, vkey string) {
			fmt.Fprintf(g.stderr, "created the ledger signing key %s (verifier key %s); keep it off the database host's backups\n", path, vkey)
		}})
}

func newLedgerCmd(g *globals) *cobra.Command {
	var lf ledgerFlags
	c := &cobra.Command{
		Use:   "ledger",
		Short: "Pool ledgers: open pools, post collections, close periods, publish checkpoints",
		Long: `Each pool (ABS trust) has a transparency log (design: ../shared/design/ledger.md). Business
changes write their entries in the same transaction; 'reclaim serve' sequences them and publishes
signed checkpoints. Investors verify the log with reclaim-verify and a policy file ('ledger policy').`,
	}
	withLedger := func(fn func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error) func(*cobra.Command, []string) error {
		return g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			s, err := newLedgerService(g, a, lf, nil, g.log)
			if err != nil {
				return err
			}
			return fn(cmd, args, a, s)
		})
	}
	var pool, name, eff string
	var portfolio int64
	open := &cobra.Command{
		Use:   "open --pool ID --portfolio N",
		Short: "Open a pool from an imported portfolio: board every loan onto a new ledger",
		Args:  cobra.NoArgs,
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			d, err := effective(eff)
			if err != nil {
				return err
			}
			p, err := a.db.OpenPool(cmd.Context(), sqldb.PoolSpec{Pool: pool, Name: name, Origin: s.Origin() + "/" + pool, PortfolioID: portfolio, Effective: d,
				LogKey: s.VerifierKey()})
			if err != nil {
				return err
			}
			if err := s.SequenceAndPublish(cmd.Context()); err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, p)
			}
			fmt.Fprintf(g.stdout, "pool %s opened: %d entries queued (origin %s)\n", p.Pool, p.Pending, p.Origin)
			return nil
		}),
	}
	open.Flags().StringVar(&pool, "pool", "", "pool id, e.g. RCL-2026-1 (required)")
	open.Flags().Int64Var(&portfolio, "portfolio", 0, "portfolio id (required)")
	open.Flags().StringVar(&name, "name", "", "display name (default: the portfolio's)")
	open.Flags().StringVar(&eff, "effective", "", "boarding date YYYY-MM-DD (default today)")
	open.MarkFlagRequired("pool")
	open.MarkFlagRequired("portfolio")

	list := &cobra.Command{
		Use: "list", Short: "List pools with their log size and latest checkpoint", Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			ps, err := a.db.LedgerPools(cmd.Context())
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, ps)
			}
			rows := [][]string{}
			for _, p := range ps {
				cp := "-"
				if c, err := a.db.LatestCheckpoint(cmd.Context(), p.Pool); err == nil {
					cp = fmt.Sprintf("%d (%d cosigners)", c.Size, c.Cosigners)
				}
				rows = append(rows, []string{p.Pool, p.Name, fmt.Sprint(p.Size), fmt.Sprint(p.Pending), cp, p.Origin})
			}
			table(g.stdout, []string{"POOL", "NAME", "ENTRIES", "QUEUED", "CHECKPOINT", "ORIGIN"}, rows)
			return nil
		}),
	}
	publish := &cobra.Command{
		Use: "publish", Short: "Sequence queued entries and publish a checkpoint of every pool now", Args: cobra.NoArgs,
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			return s.SequenceAndPublish(cmd.Context())
		}),
	}
	var loan, amount, txn, channel string
	collect := &cobra.Command{
		Use: "collect --pool ID --loan REF|LOAN_ID --amount 123.45 --txn BANKTXN", Short: "Post a collection to a pool", Args: cobra.NoArgs,
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			amt, err := money.Parse(amount, "CNY")
			if err != nil {
				return usagef("--amount: %v", err)
			}
			d, err := effective(eff)
			if err != nil {
				return err
			}
			id, err := a.db.PostCollection(cmd.Context(), tlog.Collection{Pool: pool, LoanRef: loan, Amount: amt, Channel: channel, TxnID: txn,
				Effective: d, PostedBy: "cli"})
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, id)
			return s.SequenceAndPublish(cmd.Context())
		}),
	}
	collect.Flags().StringVar(&pool, "pool", "", "pool id")
	collect.Flags().StringVar(&loan, "loan", "", "the loan: its per-pool reference (L...) or the tape's loan id ('reclaim ledger loans POOL' lists both)")
	collect.Flags().StringVar(&amount, "amount", "", "amount in yuan")
	collect.Flags().StringVar(&txn, "txn", "", "bank transaction id")
	collect.Flags().StringVar(&channel, "channel", verify.ChannelBankTransfer, "bank_transfer, online, cash, court, agency or sale")
	collect.Flags().StringVar(&eff, "effective", "", "value date (default today)")
	var from, to string
	report := &cobra.Command{
		Use: "report --pool ID --from DATE --to DATE", Short: "Close a reporting period (a period.report entry computed from the log)", Args: cobra.NoArgs,
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			start, err1 := date.Parse(from)
			end, err2 := date.Parse(to)
			if err1 != nil || err2 != nil {
				return usagef("--from and --to are dates YYYY-MM-DD")
			}
			r, err := a.db.ClosePeriod(cmd.Context(), pool, start, end, end)
			if err != nil {
				return err
			}
			if err := s.SequenceAndPublish(cmd.Context()); err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, r)
			}
			printPeriodReport(g.stdout, r)
			return nil
		}),
	}
	report.Flags().StringVar(&pool, "pool", "", "pool id")
	report.Flags().StringVar(&from, "from", "", "period start")
	report.Flags().StringVar(&to, "to", "", "period end")
	var offset, limit int
	loans := &cobra.Command{
		Use:   "loans POOL",
		Short: "List a pool's loans: reference, the tape's loan id, balances and status",
		Long: `Lists the loans of a pool in reference order. The reference (L...) is what the ledger carries;
the loan id is the seller's, from the tape, and stays off the ledger. 'ledger collect --loan'
takes either.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			if limit <= 0 || offset < 0 {
				return usagef("--limit must be positive and --offset not negative")
			}
			pl, total, err := a.db.PoolLoans(cmd.Context(), args[0], offset, limit)
			if err != nil {
				return err
			}
			if total == 0 {
				if _, err := a.db.LedgerPool(cmd.Context(), args[0]); err != nil {
					return err
				}
			}
			if g.jsonOut {
				return writeJSON(g.stdout, struct {
					Total int64            `json:"total"`
					Loans []sqldb.PoolLoan `json:"loans"`
				}{total, pl})
			}
			rows := make([][]string, 0, len(pl))
			for _, l := range pl {
				collected, _ := l.Claim.Sub(l.Balance)
				rows = append(rows, []string{l.Ref, l.LoanKey, l.Claim.Grouped(), collected.Grouped(), l.Balance.Grouped(), l.Status})
			}
			table(g.stdout, []string{"REF", "LOAN ID", "CLAIM (CNY)", "COLLECTED", "BALANCE", "STATUS"}, rows)
			if shown := int64(offset + len(pl)); shown < total {
				fmt.Fprintf(g.stdout, "%d-%d of %d loans; --offset %d for more\n", offset+1, shown, total, shown)
			}
			return nil
		}),
	}
	loans.Flags().IntVar(&offset, "offset", 0, "skip this many loans")
	loans.Flags().IntVar(&limit, "limit", 50, "list at most this many loans")
	var url string
	policy := &cobra.Command{
		Use: "policy --pool ID --url BASE", Short: "Print the investors' policy file for a pool (log key, origin, witnesses, quorum)", Args: cobra.NoArgs,
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			p, err := a.db.LedgerPool(cmd.Context(), pool)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(g.stdout, s.PolicyFile(p, url))
			return err
		}),
	}
	policy.Flags().StringVar(&pool, "pool", "", "pool id")
	policy.Flags().StringVar(&url, "url", "http://127.0.0.1:8080", "the server's base URL")
	fsck := &cobra.Command{
		Use:   "fsck POOL",
		Short: "Audit a pool's stored log against its entries (exit 0 clean, 1 damaged)",
		Long: `Recomputes every leaf hash and interior hash of the pool's log from the stored entries, and the
root at the last checkpoint this node signed, and compares them with the database: the same audit
the server runs on a schedule. A damaged store is reported (entry index, stored and recomputed
hash) and recorded, so the server stops signing the pool; a clean result clears the record.`,
		Args: cobra.ExactArgs(1),
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			ie, err := s.Fsck(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if ie == nil {
				if g.jsonOut {
					return writeJSON(g.stdout, map[string]any{"pool": args[0], "damaged": false})
				}
				fmt.Fprintf(g.stdout, "pool %s: the stored log matches its entries\n", args[0])
				return nil
			}
			if g.jsonOut {
				writeJSON(g.stdout, map[string]any{"pool": args[0], "damaged": true, "mismatches": ie.Mismatches})
			} else {
				fmt.Fprintf(g.stdout, "pool %s: the stored log is DAMAGED (%d mismatches); signing is stopped\n", args[0], len(ie.Mismatches))
				for _, m := range ie.Mismatches {
					fmt.Fprintf(g.stdout, "  %s\n", m)
				}
			}
			return fmt.Errorf("pool %s: the stored log is damaged", args[0])
		}),
	}
	var newKey string
	rotate := &cobra.Command{
		Use:   "rotate-key --pool ID --new-key FILE",
		Short: "Move a pool's log to a new signing key with a key.rotation entry signed by the old key",
		Long: `Queues a key.rotation entry naming the pool's current verifier key and the new one, sequences it,
publishes a checkpoint covering it signed by the OLD key (with the witness quorum), and then records
the new key for the pool: every later checkpoint is signed by the new key, and reclaim-verify sync
follows the rotation. FILE is created (with FILE.pub) when it does not exist. Run it with the
current key (--ledger-key); if it is interrupted, run it again. Afterwards start the server with
--ledger-key FILE, adding --ledger-extra-key <old key> while other pools are still signed by it.`,
		Args: cobra.NoArgs,
		RunE: withLedger(func(cmd *cobra.Command, args []string, a *app, s *ledger.Service) error {
			if pool == "" || newKey == "" {
				return usagef("--pool and --new-key are required")
			}
			if _, err := os.Stat(newKey); errors.Is(err, os.ErrNotExist) {
				vkey, err := tlog.GenerateKey(s.Origin(), newKey)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "created the signing key %s (verifier key %s)\n", newKey, vkey)
			}
			d, err := effective(eff)
			if err != nil {
				return err
			}
			r, err := s.RotateKey(cmd.Context(), pool, newKey, d)
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, r)
			}
			fmt.Fprintf(g.stdout, "pool %s: key.rotation at entry %d, covered by checkpoint %d signed by the old key\nold key: %s\nnew key: %s\n"+
				"Start the server with --ledger-key %s (add --ledger-extra-key for the old key while other pools use it).\n",
				r.Pool, r.Index, r.Size, r.OldKey, r.NewKey, newKey)
			return nil
		}),
	}
	rotate.Flags().StringVar(&pool, "pool", "", "pool id")
	rotate.Flags().StringVar(&newKey, "new-key", "", "the new signing key file (created with its .pub when missing)")
	rotate.Flags().StringVar(&eff, "effective", "", "the rotation's effective date (default today)")
	for _, sub := range []*cobra.Command{open, publish, collect, report, policy, fsck, rotate} {
		lf.register(sub)
	}
	c.PersistentFlags().BoolVar(&g.jsonOut, "json", false, "print JSON")
	c.AddCommand(open, list, loans, publish, collect, report, policy, fsck, rotate)
	return c
}

// printPeriodReport prints a period report for people: amounts in yuan, the balance
// roll-forward, collections by channel. The JSON (--json) carries amounts in fen, as the ledger
// entry does.
func printPeriodReport(w io.Writer, r tlog.PeriodReport) {
	yuan := func(minor string) string {
		m, err := strconv.ParseInt(minor, 10, 64)
		if err != nil {
			return minor
		}
		return money.New(m, "CNY").Grouped()
	}
	fmt.Fprintf(w, "Pool %s, period %s to %s (log entries %d to %d, event %s)\n\n", r.Pool, r.PeriodStart, r.PeriodEnd,
		r.FromIndex, r.ToIndex-1, r.EventID)
	table(w, []string{"BALANCE (CNY)", ""}, [][]string{
		{"opening balance", yuan(r.OpeningBalance)},
		{fmt.Sprintf("+ boarded (%d loans)", r.LoansBoarded), yuan(r.BoardedBalance)},
		{fmt.Sprintf("- collected (%d collections)", r.CollectionsCount), yuan(r.Collections)},
		{fmt.Sprintf("- removed (%d loans)", r.LoansRemoved), yuan(r.RemovedBalance)},
		{"= closing balance", yuan(r.ClosingBalance)},
		{"of the collections, principal", yuan(r.PrincipalCollected)},
	})
	if len(r.ByChannel) > 0 {
		fmt.Fprintln(w)
		rows := [][]string{}
		for _, ch := range slices.Sorted(maps.Keys(r.ByChannel)) {
			rows = append(rows, []string{ch, money.New(r.ByChannel[ch], "CNY").Grouped()})
		}
		table(w, []string{"CHANNEL", "COLLECTED (CNY)"}, rows)
	}
	if len(r.StatusChanges) > 0 {
		fmt.Fprintln(w)
		rows := [][]string{}
		for _, st := range slices.Sorted(maps.Keys(r.StatusChanges)) {
			rows = append(rows, []string{st, strconv.FormatInt(r.StatusChanges[st], 10)})
		}
		table(w, []string{"STATUS CHANGES", "LOANS"}, rows)
	}
}

// effective parses an optional date flag (default: today, UTC).
func effective(s string) (date.Date, error) {
	if s == "" {
		y, m, d := time.Now().UTC().Date()
		return date.New(y, m, d)
	}
	d, err := date.Parse(s)
	if err != nil {
		return d, usagef("date %q: %v", s, err)
	}
	return d, nil
}
