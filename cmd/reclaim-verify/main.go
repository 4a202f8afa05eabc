// Command reclaim-verify is the investor's verifier for a Reclaim pool ledger. It keeps its own
// copy of a pool's transparency log, checks the log's signatures, witness cosignatures and
// append-only consistency, recomputes the servicer's period reports, reconciles collections with
// the trustee's bank statements, opens record commitments, draws audit samples and checks
// receipts offline. Everything it checks of the log is done with package reclaim/tlog/verify,
// which imports only the Go standard library and golang.org/x/mod/sumdb. Re-running a live deal's
// waterfall (report --deal-doc) needs the deal engine: package reclaim/abs/rerun drives the pure
// engine (reclaim/abs) with the log's entries and the investor's deal documents only.
//
// Exit codes: 0 when every check passed, 1 when a check failed (the evidence is printed and
// written to a JSON file) or an operation failed, 2 for a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"reclaim/tlog/verify"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// tokenEnv is the environment variable that may hold the bearer token for reading the log.
const tokenEnv = "RECLAIM_VERIFY_TOKEN"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, time.Now)
	stop()
	os.Exit(code)
}

// usageError marks errors in how the command was called.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// cli holds the flags shared by the subcommands.
type cli struct {
	stdout, stderr io.Writer
	now            func() time.Time
	policyFile     string
	dir            string
	evidenceDir    string
	jsonOut        bool
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	c := &cli{stdout: stdout, stderr: stderr, now: now}
	root := c.root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "error:", err)
		fmt.Fprintln(stderr, "Run 'reclaim-verify --help' for usage.")
		return exitUsage
	}
	c.reportFailure(err)
	return exitFailed
}

// reportFailure prints an error and, for a verification failure, its evidence (writing it to
// the evidence directory unless it was already written).
func (c *cli) reportFailure(err error) {
	fmt.Fprintln(c.stderr, "FAILED:", err)
	var f *verify.Failure
	if !errors.As(err, &f) {
		return
	}
	if f.File == "" {
		dir := c.evidenceDir
		if dir == "" && c.dir != "" {
			dir = filepath.Join(c.dir, verify.EvidenceDir)
		}
		if dir == "" {
			dir = "evidence"
		}
		if _, werr := verify.WriteEvidence(dir, f, c.now()); werr != nil {
			fmt.Fprintln(c.stderr, "cannot write the evidence file:", werr)
		}
	}
	doc, merr := verify.MarshalEvidence(f, c.now())
	if merr == nil {
		fmt.Fprintf(c.stderr, "evidence (%s):\n%s", f.File, doc)
	}
}

func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least",
		"requires exactly", "flag needs an argument", "invalid argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "reclaim-verify",
		Short: "Verify a Reclaim pool ledger yourself",
		Long: `reclaim-verify checks a Reclaim ABS pool's transparency log with code you can read: the log
key's signature and a quorum of independent witness cosignatures on every checkpoint, that the
log only ever grows (fork evidence is written otherwise), that every entry is canonical and
hashes into the signed tree, that the servicer's period reports add up, and that logged
collections match the trustee's bank statement.

Start with a policy file (its format is in tlog/verify/README.md), then run
'reclaim-verify sync --policy pool.policy --dir pool' regularly.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&c.evidenceDir, "evidence-dir", "", "where to write evidence files (default <dir>/evidence, or ./evidence without --dir)")
	pf.BoolVar(&c.jsonOut, "json", false, "print results as JSON")
	root.AddCommand(c.syncCmd(), c.reportCmd(), c.reconcileCmd(), c.openCmd(), c.sampleCmd(), c.proofCmd())
	return root
}

func (c *cli) policyFlag(cmd *cobra.Command, required bool) {
	cmd.Flags().StringVar(&c.policyFile, "policy", "", "policy file: the log key, witnesses and quorum you trust")
	if required {
		cmd.MarkFlagRequired("policy")
	}
}

func (c *cli) dirFlag(cmd *cobra.Command, required bool) {
	cmd.Flags().StringVar(&c.dir, "dir", "", "directory holding your copy of the log")
	if required {
		cmd.MarkFlagRequired("dir")
	}
}

func (c *cli) readPolicy() (*verify.Policy, error) {
	p, err := verify.ReadPolicy(c.policyFile)
	if err != nil {
		return nil, usagef("--policy: %v", err)
	}
	return p, nil
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (c *cli) syncCmd() *cobra.Command {
	var tokenFile string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "sync --policy FILE --dir DIR",
		Short: "Fetch and verify the log's new checkpoint and entries into DIR",
		Long: `Fetches <url>checkpoint, checks the log's signature, origin and witness quorum, checks that it is
consistent with the checkpoint stored in DIR (writing fork evidence to DIR/evidence if not),
downloads the new entries, checks that each is canonical, and that all of them hash to the
checkpoint's root. Only then are the entries and the checkpoint stored.

Tiles and entries need a bearer token: --token-file FILE, or $` + tokenEnv + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := c.readPolicy()
			if err != nil {
				return err
			}
			if p.URL == "" {
				return usagef("the policy %s has no url directive", c.policyFile)
			}
			token := os.Getenv(tokenEnv)
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return usagef("--token-file: %v", err)
				}
				token = strings.TrimSpace(string(b))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			// Sync keeps a few requests in flight: keep that many connections open.
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 16
			hc := &http.Client{Timeout: timeout, Transport: tr}
			res, err := verify.Sync(ctx, p, c.dir, hc, verify.SyncOptions{Token: token, Now: c.now})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.printJSON(map[string]any{"old_size": res.OldSize, "size": res.Size, "root": res.Root,
					"new_entries": res.NewEntries, "cosignatures": res.Checkpoint.Cosignatures, "ignored": res.Checkpoint.Ignored,
					"log_key": res.LogKey, "rotations": res.Rotations})
			}
			for _, r := range res.Rotations {
				fmt.Fprintf(c.stdout, "KEY ROTATION followed at entry %d (announced under a checkpoint signed by the old key):\n  old %s\n  new %s\n"+
					"  confirm the new key out of band, then put it on the policy's log line\n", r.Index, r.OldKey, r.NewKey)
			}
			fmt.Fprintf(c.stdout, "OK %s: size %d (was %d, %d new entries), root %s\n", p.Origin, res.Size, res.OldSize, res.NewEntries, res.Root)
			for _, s := range res.Checkpoint.Cosignatures {
				fmt.Fprintf(c.stdout, "  cosigned by %s at %s\n", s.Name, s.Time.Format(time.RFC3339))
			}
			for _, s := range res.Checkpoint.Ignored {
				fmt.Fprintf(c.stdout, "  ignored signature %s\n", s)
			}
			return nil
		},
	}
	c.policyFlag(cmd, true)
	c.dirFlag(cmd, true)
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the bearer token for reading tiles and entries ($"+tokenEnv+")")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

func (c *cli) reportCmd() *cobra.Command {
	var index int64
	var dealDoc string
	var dealDocs []string
	cmd := &cobra.Command{
		Use:   "report --dir DIR [--index N] [--deal-report FILE] [--deal-doc DEAL.yaml ...]",
		Short: "Recompute a period report (default: every report) from the logged entries",
		Long: `Replays the entries in DIR (run sync first) and recomputes every figure of the period.report at
log index N (all period reports when --index is not given): counts, collections, principal
collected (net of loan.collection_reversal), boarded and removed balances, the waivers
(loan.waiver, reported in version-2 reports), the opening balance from the previous report and the
closing roll-forward (opening + boarded - collections - removed - waived), and checks every loan's balance along the way. Periods are cut by effective
(value) date, not by log position: a report counts the movements sequenced before it whose date
is in its period. It then checks the whole log: every movement is in exactly one reported period,
sequenced before that period's report, or in the open period after the last report. Every
mismatch and misplaced entry is listed. For a live ABS deal it also checks every deal.report
(schema v2): the window's collections, costs and net, the distribution lines' count and sum, the
pool's line, the trust accounts never overdrawn, the deal hash in force; --deal-report FILE checks a
downloaded report document's hash and lines against the log. With --deal-doc (the deal document
fixed at pool opening, and one --deal-doc per logged amendment), it re-runs every reported
payment date's waterfall from the document in force and the cash the log records, and compares
each distribution line and trigger test with the logged ones: a mismatch names the period, the
line and both amounts; with --deal-report too, the document's status and tranche figures are
compared with the re-run. A document that does not hash to a deal the log fixes is a mismatch,
and so is a period whose deal in force was not given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var indices []int64
			if cmd.Flags().Changed("index") {
				indices = []int64{index}
			} else {
				l, err := verify.LoadLocal(c.dir)
				if err != nil {
					return err
				}
				for i, e := range l.Parsed {
					if e.Type() == verify.TypePeriodReport {
						indices = append(indices, int64(i))
					}
				}
				if len(indices) == 0 {
					// A live deal's reports (deal.report, schema v2) are checked on their own (deal.go).
					found, out, err := c.dealReports(dealDoc, dealDocs)
					if found && c.jsonOut && out != nil {
						c.printJSON(out)
					}
					if !found {
						fmt.Fprintln(c.stdout, "no period reports in the log yet")
					}
					return err
				}
			}
			var results []*verify.ReportResult
			var firstErr error
			for _, i := range indices {
				res, err := verify.Report(c.dir, i)
				if res != nil {
					results = append(results, res)
				}
				if err != nil {
					var f *verify.Failure
					if !errors.As(err, &f) {
						return err
					}
					if firstErr == nil {
						firstErr = err
					} else {
						c.reportFailure(err)
					}
				}
				if !c.jsonOut && res != nil {
					status := "OK"
					if len(res.Mismatches) > 0 {
						status = "MISMATCH"
					}
					r := res.Reported
					fmt.Fprintf(c.stdout, "%s report at %d (%s..%s, entries %d..%d): closing balance %s\n", status, i, r.PeriodStart, r.PeriodEnd,
						res.Recomputed.FromIndex, i, r.ClosingBalance)
					for _, m := range res.Mismatches {
						fmt.Fprintf(c.stdout, "  %s: reported %s, recomputed %s %s\n", m.Field, m.Reported, m.Recomputed, m.Detail)
					}
				}
			}
			// Every movement of the whole log must be in exactly one reported period (sequenced
			// before its report) or in the open one.
			periods, err := verify.Periods(c.dir)
			if err != nil {
				var f *verify.Failure
				if !errors.As(err, &f) {
					return err
				}
				if firstErr == nil {
					firstErr = err
				} else {
					c.reportFailure(err)
				}
			}
			if c.jsonOut {
				if err := c.printJSON(struct {
					Reports []*verify.ReportResult `json:"reports"`
					Periods *verify.PeriodsResult  `json:"periods"`
				}{results, periods}); err != nil {
					return err
				}
			} else if periods != nil {
				status := "OK"
				if len(periods.Problems) > 0 {
					status = "MISPLACED"
				}
				fmt.Fprintf(c.stdout, "%s periods (cut by effective date): %d movements, %d in the open period after the last report, %d outside the reported periods\n",
					status, periods.Movements, periods.InOpen, len(periods.Problems))
				for _, p := range periods.Problems {
					fmt.Fprintf(c.stdout, "  entry %d (%s %s, dated %s): %s\n", p.Index, p.Type, p.EventID, p.Effective, p.Reason)
				}
			}
			if !cmd.Flags().Changed("index") { // a live deal's reports (deal.go)
				if found, out, err := c.dealReports(dealDoc, dealDocs); found || err != nil {
					if c.jsonOut && out != nil {
						c.printJSON(out)
					}
					if err != nil && firstErr == nil {
						firstErr = err
					}
				}
			}
			return firstErr
		},
	}
	c.dirFlag(cmd, true)
	cmd.Flags().Int64Var(&index, "index", 0, "log index of the period.report entry")
	cmd.Flags().StringVar(&dealDoc, "deal-report", "", "a live deal's report document (JSON) to check against the log's deal.report and distribution lines")
	cmd.Flags().StringArrayVar(&dealDocs, "deal-doc", nil, "a live deal's document (YAML or JSON; repeat for each amendment's) to re-run the waterfall of every reported period")
	return cmd
}

func (c *cli) reconcileCmd() *cobra.Command {
	var stmt, opens string
	cmd := &cobra.Command{
		Use:   "reconcile --dir DIR --statement FILE --openings FILE",
		Short: "Match logged collections against the trustee's bank statement",
		Long: `Checks that every logged collection's bank_txn commitment opens, with the salt from the openings
file (CSV: event_id,salt_hex,txn_id), to a credit on the bank statement (CSV: txn_id,date,amount)
of the same amount, and that every statement credit has a logged collection. Unmatched items are
listed both ways.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sf, err := os.Open(stmt)
			if err != nil {
				return usagef("--statement: %v", err)
			}
			defer sf.Close()
			of, err := os.Open(opens)
			if err != nil {
				return usagef("--openings: %v", err)
			}
			defer of.Close()
			res, err := verify.Reconcile(c.dir, sf, of)
			if res != nil {
				if c.jsonOut {
					if jerr := c.printJSON(res); jerr != nil {
						return jerr
					}
				} else {
					fmt.Fprintf(c.stdout, "%d collections, %d statement credits, %d matched\n", res.Collections, res.Credits, res.Matched)
					for _, u := range res.UnmatchedCollections {
						fmt.Fprintf(c.stdout, "  unmatched collection at %d (%s, %s): %s\n", u.Index, u.EventID, u.Amount, u.Reason)
					}
					for _, u := range res.UnmatchedCredits {
						fmt.Fprintf(c.stdout, "  unmatched credit %s (%s): %s\n", u.TxnID, u.Amount, u.Reason)
					}
				}
			}
			return err
		},
	}
	c.dirFlag(cmd, true)
	cmd.Flags().StringVar(&stmt, "statement", "", "bank statement CSV: txn_id,date,amount")
	cmd.Flags().StringVar(&opens, "openings", "", "openings CSV from the servicer: event_id,salt_hex,txn_id")
	cmd.MarkFlagRequired("statement")
	cmd.MarkFlagRequired("openings")
	return cmd
}

// tags maps short tag names to the commitment domain tags.
var tags = map[string]string{
	"loan-record":  verify.TagLoanRecord,
	"bank-txn":     verify.TagBankTxn,
	"bank-account": verify.TagBankAccount,
	"bidder":       verify.TagBidder,
}

// commitmentOf returns the commitment an entry carries and its domain tag.
func commitmentOf(e verify.Entry) (string, string, bool) {
	switch e := e.(type) {
	case verify.LoanBoarded:
		return e.Commitment, verify.TagLoanRecord, true
	case verify.LoanRecordUpdated:
		return e.Commitment, verify.TagLoanRecord, true
	case verify.LoanCollection:
		return e.BankTxn, verify.TagBankTxn, true
	case verify.CashStatement:
		return e.Account, verify.TagBankAccount, true
	case verify.AuctionResult:
		return e.Winner, verify.TagBidder, true
	}
	return "", "", false
}

func (c *cli) openCmd() *cobra.Command {
	var commitment, recordFile, salt, tag string
	var index int64
	cmd := &cobra.Command{
		Use:   "open (--commitment HEX | --dir DIR --index N) --record FILE --salt HEX [--tag TAG]",
		Short: "Check that a record and salt open a logged commitment",
		Long: `Checks that HMAC-SHA256(salt, tag || 0x00 || record) equals the commitment, given directly or taken
from the entry at --index in DIR (whose type also fixes the tag). Tags: loan-record, bank-txn,
bank-account, bidder (or the full reclaim/...-v1 tag).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			record, err := os.ReadFile(recordFile)
			if err != nil {
				return usagef("--record: %v", err)
			}
			fullTag := tags[tag]
			if fullTag == "" && tag != "" {
				fullTag = tag
			}
			switch {
			case commitment != "" && c.dir != "":
				return usagef("give --commitment or --dir with --index, not both")
			case commitment == "" && c.dir == "":
				return usagef("give --commitment, or --dir and --index")
			case c.dir != "":
				if !cmd.Flags().Changed("index") {
					return usagef("--dir needs --index")
				}
				l, err := verify.LoadLocal(c.dir)
				if err != nil {
					return err
				}
				if index < 0 || index >= int64(len(l.Parsed)) {
					return usagef("--index %d is beyond the %d entries in %s", index, len(l.Parsed), c.dir)
				}
				cm, t, ok := commitmentOf(l.Parsed[index])
				if !ok {
					return usagef("entry %d (%s) carries no commitment", index, l.Parsed[index].Type())
				}
				if fullTag != "" && fullTag != t {
					return usagef("entry %d is a %s, whose commitment uses tag %s, not %s", index, l.Parsed[index].Type(), t, fullTag)
				}
				commitment, fullTag = cm, t
			}
			if fullTag == "" {
				return usagef("--tag is required with --commitment")
			}
			if err := verify.Open(commitment, record, salt, fullTag); err != nil {
				return &verify.Failure{Kind: "commitment-open", Err: err, Evidence: map[string]any{
					"commitment": commitment, "tag": fullTag, "salt_hex": salt, "record_file": recordFile, "record_bytes": len(record)}}
			}
			fmt.Fprintf(c.stdout, "OK the record opens commitment %s (tag %s)\n", commitment, fullTag)
			return nil
		},
	}
	c.dirFlag(cmd, false)
	cmd.Flags().StringVar(&commitment, "commitment", "", "the commitment, 64 hex digits")
	cmd.Flags().Int64Var(&index, "index", 0, "log index of the entry whose commitment to open (with --dir)")
	cmd.Flags().StringVar(&recordFile, "record", "", "file holding the exact record bytes")
	cmd.Flags().StringVar(&salt, "salt", "", "the salt, 64 hex digits")
	cmd.Flags().StringVar(&tag, "tag", "", "loan-record, bank-txn, bank-account or bidder")
	cmd.MarkFlagRequired("record")
	cmd.MarkFlagRequired("salt")
	return cmd
}

func (c *cli) sampleCmd() *cobra.Command {
	var k int
	var cpFile string
	cmd := &cobra.Command{
		Use:   "sample (--dir DIR | --policy FILE --checkpoint FILE) -k N",
		Short: "Draw the deterministic audit sample of N entries from a checkpoint",
		Long: `Draws N distinct log indices from the checkpoint's root hash and size (see verify.Sample for the
algorithm, which anyone can reimplement). With --dir it uses the checkpoint stored by sync and
prints each sampled entry's type, event and loan; with --checkpoint it first verifies that
checkpoint against --policy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var cp verify.Checkpoint
			var local *verify.Local
			switch {
			case c.dir != "" && cpFile != "":
				return usagef("give --dir or --checkpoint, not both")
			case c.dir != "":
				l, err := verify.LoadLocal(c.dir)
				if err != nil {
					return err
				}
				cp, local = l.Checkpoint, l
			case cpFile != "":
				if c.policyFile == "" {
					return usagef("--checkpoint needs --policy")
				}
				p, err := c.readPolicy()
				if err != nil {
					return err
				}
				b, err := os.ReadFile(cpFile)
				if err != nil {
					return usagef("--checkpoint: %v", err)
				}
				vc, err := verify.VerifyCheckpoint(p, b)
				if err != nil {
					return err
				}
				cp = vc.Checkpoint
			default:
				return usagef("give --dir or --checkpoint")
			}
			idx, err := verify.Sample(cp, k)
			if err != nil {
				return usagef("%v", err)
			}
			if c.jsonOut {
				return c.printJSON(map[string]any{"size": cp.Size, "root": cp.Hash, "indices": idx})
			}
			fmt.Fprintf(c.stdout, "sample of %d from size %d, root %s (in draw order)\n", k, cp.Size, cp.Hash)
			for _, i := range idx {
				line := strconv.FormatInt(i, 10)
				if local != nil {
					e := local.Parsed[i]
					line += "\t" + e.Type() + "\t" + e.EntryHeader().EventID
					if cm, _, ok := commitmentOf(e); ok {
						line += "\t" + cm
					}
				}
				fmt.Fprintln(c.stdout, line)
			}
			return nil
		},
	}
	c.dirFlag(cmd, false)
	c.policyFlag(cmd, false)
	cmd.Flags().StringVar(&cpFile, "checkpoint", "", "a signed checkpoint file")
	cmd.Flags().IntVarP(&k, "k", "k", 0, "sample size")
	cmd.MarkFlagRequired("k")
	return cmd
}

func (c *cli) proofCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proof --policy FILE RECEIPT.json",
		Short: "Check a receipt (entry + inclusion proof + checkpoint) offline",
		Long: `Checks a receipt without any network access: the checkpoint's log signature, origin and witness
quorum, that the entry is canonical and in the receipt's pool, and the inclusion proof of the
entry's exact bytes under the checkpoint's root.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := c.readPolicy()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			r, err := verify.ParseReceipt(b)
			if err != nil {
				return &verify.Failure{Kind: "receipt-malformed", Err: err, Evidence: map[string]string{"file": args[0], "receipt": string(b)}}
			}
			cr, err := verify.CheckReceipt(p, r)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.printJSON(map[string]any{"ok": true, "pool": r.Pool, "index": r.Index, "type": cr.Entry.Type(),
					"event_id": cr.Entry.EntryHeader().EventID, "leaf_hash": cr.LeafHash, "size": cr.Checkpoint.Size,
					"root": cr.Checkpoint.Hash, "cosignatures": cr.Checkpoint.Cosignatures})
			}
			fmt.Fprintf(c.stdout, "OK entry %d (%s %s) is in %s at size %d, root %s, cosigned by %d witnesses\n", r.Index, cr.Entry.Type(),
				cr.Entry.EntryHeader().EventID, cr.Checkpoint.Origin, cr.Checkpoint.Size, cr.Checkpoint.Hash, len(cr.Checkpoint.Cosignatures))
			return nil
		},
	}
	c.policyFlag(cmd, true)
	return cmd
}
