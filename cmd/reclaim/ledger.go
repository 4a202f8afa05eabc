package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	// createKey creates a missing --ledger-key file too (the demo); otherwise only the default
	// key in the data directory is created on first use.
	createKey bool
	nodeID    string
	leaseTTL  time.Duration
}

func (f *ledgerFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.keyFile, "ledger-key", os.Getenv(envLedgerKey), "checkpoint signing key file (default <data-dir>/ledger.key, created on first use) ($"+envLedgerKey+")")
	fs.StringVar(&f.origin, "ledger-origin", envOr(envLedgerOrigin, "reclaim.local/ledger"), "checkpoint origin prefix; a pool's origin is <prefix>/<pool> ($"+envLedgerOrigin+")")
	fs.StringVar(&f.witnesses, "witnesses", "", "witness list file: one '<name> <add-checkpoint URL> <cosignature vkey>' per line")
	fs.IntVar(&f.quorum, "witness-quorum", 0, "cosignatures a checkpoint needs before it is published")
	fs.DurationVar(&f.interval, "checkpoint-interval", 5*time.Second, "how often grown logs get a new checkpoint")
	fs.StringVar(&f.nodeID, "node-id", os.Getenv("RECLAIM_NODE_ID"), "this node's id in the ledger leader lease and the logs (default: host, pid and a random suffix) ($RECLAIM_NODE_ID)")
	fs.DurationVar(&f.leaseTTL, "leader-lease", 5*time.Second, "ledger leader lease: a dead leader is replaced after at most this long (PostgreSQL)")
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
	return ledger.New(a.db, broker, log, ledger.Config{KeyFile: f.keyPath(g), CreateKey: f.keyFile == "" || f.createKey, Origin: f.origin,
		WitnessFile: f.witnesses, Quorum: f.quorum, Interval: f.interval, Node: f.nodeID, LeaseTTL: f.leaseTTL,
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
			p, err := a.db.OpenPool(cmd.Context(), sqldb.PoolSpec{Pool: pool, Name: name, Origin: s.Origin() + "/" + pool, PortfolioID: portfolio, Effective: d})
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
		Use: "collect --pool ID --loan REF --amount 123.45 --txn BANKTXN", Short: "Post a collection to a pool", Args: cobra.NoArgs,
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
	collect.Flags().StringVar(&loan, "loan", "", "the loan's per-pool reference")
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
			return writeJSON(g.stdout, r)
		}),
	}
	report.Flags().StringVar(&pool, "pool", "", "pool id")
	report.Flags().StringVar(&from, "from", "", "period start")
	report.Flags().StringVar(&to, "to", "", "period end")
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
	for _, sub := range []*cobra.Command{open, publish, collect, report, policy} {
		lf.register(sub)
	}
	c.AddCommand(open, list, publish, collect, report, policy)
	return c
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
