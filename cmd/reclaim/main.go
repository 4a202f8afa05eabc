// Command reclaim is Reclaim's single binary: the CLI for tapes, portfolios and synthetic data, and
// (from the server issue on) the API and console server. It wires adapters (sqldb, pii) to engines
// (tape, synth) and nothing deeper than this package knows both.
//
// Exit codes: 0 success, 1 failure (including a rejected tape), 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/msg"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	envDataDir  = "RECLAIM_DATA_DIR"
	envDSN      = "RECLAIM_DSN"
	envKeyFile  = "RECLAIM_PII_KEY_FILE"
	defaultData = "data"
)

// exitCancelled is the shell's code for a command stopped by SIGINT (128+2): a run cancelled by
// Ctrl-C (or SIGTERM) that stopped cleanly (ECANCELED), storing nothing.
const exitCancelled = 130

// usageError marks errors in how the command was called.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// globals are the flags every command shares.
type globals struct {
	dataDir string
	dsn     string
	keyFile string
	jsonOut bool
	quiet   bool
	cpuProf string
	memProf string
	lang    string // --lang: "zh" or "en"; "" means the environment's locale
	stdout  io.Writer
	stderr  io.Writer
	log     *slog.Logger
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI with args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce codedError
	if errors.As(err, &ce) {
		fmt.Fprintln(stderr, "error:", ce.Error())
		return ce.ExitCode()
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "error:", err)
		fmt.Fprintln(stderr, "Run 'reclaim --help' for usage.")
		return exitUsage
	}
	var silent silentError
	if !errors.As(err, &silent) {
		fmt.Fprintln(stderr, "error:", describe(err))
	}
	if reclaim.ErrorCode(err) == reclaim.ECANCELED {
		return exitCancelled
	}
	return exitFailed
}

// silentError is a failure whose details the command already printed.
type silentError struct{ error }

// describe renders an error for a person: a reclaim.Error's safe message, or the error text for
// local CLI failures (the CLI user is the operator, so details help).
func describe(err error) string {
	var re *reclaim.Error
	if errors.As(err, &re) {
		if re.Err != nil && re.Code != reclaim.EINTERNAL {
			return re.Message + ": " + re.Err.Error()
		}
		return re.Error()
	}
	return err.Error()
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

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "reclaim",
		Short: "Reclaim: value, work out and dispose of personal non-performing loan portfolios",
		Long: `Reclaim loads sellers' loan tapes, checks them, stores portfolios, and (in later releases)
values, collects, auctions and securitises them.

Data lives in --data-dir (default ./data, or $RECLAIM_DATA_DIR): a SQLite database and, for
development, the key that encrypts personal data. Point --dsn (or $RECLAIM_DSN) at
postgres://... to use PostgreSQL instead.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			g.log = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			if _, err := g.language(); err != nil {
				return err
			}
			return g.startProfiles()
		},
		PersistentPostRunE: func(cmd *cobra.Command, args []string) error { return g.stopProfiles() },
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data-dir", envOr(envDataDir, defaultData), "directory for the SQLite database and the development key ($"+envDataDir+")")
	pf.StringVar(&g.dsn, "dsn", os.Getenv(envDSN), "database: postgres://user@host/db, or sqlite:PATH (default sqlite:<data-dir>/reclaim.db) ($"+envDSN+")")
	pf.StringVar(&g.keyFile, "pii-key-file", os.Getenv(envKeyFile), "file holding the 32-byte personal-data key, base64 or hex ($"+envKeyFile+"; or the key itself in $RECLAIM_PII_KEY)")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "no progress bars")
	pf.StringVar(&g.lang, "lang", "", "language of reports and messages: zh or en (default from $LC_ALL, $LC_MESSAGES or $LANG: zh* is zh, anything else en)")
	pf.StringVar(&g.cpuProf, "cpuprofile", "", "write a CPU profile to this file")
	pf.StringVar(&g.memProf, "memprofile", "", "write a heap profile to this file when the command ends")
	pf.MarkHidden("cpuprofile")
	pf.MarkHidden("memprofile")
	root.AddCommand(
		newVersionCmd(g),
		newMigrateCmd(g),
		newSynthCmd(g),
		newTapeCmd(g),
		newPortfolioCmd(g),
		newDemoCmd(g),
		newServeCmd(g),
		newUserCmd(g),
		newLedgerCmd(g),
		newPIICmd(g),
		newWitnessCmd(),
		newModelCmd(g), newValueCmd(g), newPriceCmd(g), newBacktestCmd(g),
		newAuctionCmd(g),
		newComplianceCmd(g),
		newABSCmd(g),
		newMarketCmd(g),
	)
	return root
}

var cpuProfFile *os.File

func (g *globals) startProfiles() error {
	if g.cpuProf == "" {
		return nil
	}
	f, err := os.Create(g.cpuProf)
	if err != nil {
		return err
	}
	cpuProfFile = f
	return pprof.StartCPUProfile(f)
}

func (g *globals) stopProfiles() error {
	if cpuProfFile != nil {
		pprof.StopCPUProfile()
		cpuProfFile.Close()
	}
	if g.memProf != "" {
		f, err := os.Create(g.memProf)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

// language returns the language of messages: --lang, or the environment's locale.
func (g *globals) language() (msg.Lang, error) {
	switch strings.ToLower(g.lang) {
	case "":
		return msg.FromEnv(os.Getenv), nil
	case "zh", "zh-cn", "zh_cn", "cn":
		return msg.ZH, nil
	case "en", "en-us", "en_us":
		return msg.EN, nil
	}
	return msg.EN, usagef("--lang %q: want zh or en", g.lang)
}

// msgLang returns the language of messages (English when --lang is invalid, which the root
// command has already refused).
func (g *globals) msgLang() msg.Lang {
	l, _ := g.language()
	return l
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// resolvedDSN returns the DSN to open: the flag, or the SQLite file in the data directory.
func (g *globals) resolvedDSN() string {
	if g.dsn != "" {
		return g.dsn
	}
	return "sqlite:" + filepath.Join(g.dataDir, "reclaim.db")
}

func newVersionCmd(g *globals) *cobra.Command {
	var jsonOut bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if jsonOut {
				return writeJSON(g.stdout, map[string]string{"version": Version})
			}
			fmt.Fprintln(g.stdout, "reclaim", Version)
			return nil
		},
	}
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return c
}
