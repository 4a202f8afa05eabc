package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/user"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/ingest"
	"reclaim/msg"
	"reclaim/tape"
)

func newTapeCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "tape",
		Short: "Validate, import and export loan tapes",
		Long: `A loan tape is a seller's file with one row per loan: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030)
or XLSX, with English or Chinese headers. Headers are matched to Reclaim's canonical schema
(shared/design/tape.md) through known aliases; for other headers pass a mapping file
(docs/tape-mapping.md).`,
	}
	c.AddCommand(newTapeValidateCmd(g), newTapeImportCmd(g), newTapeExportCmd(g))
	return c
}

type tapeFlags struct {
	allowMissing []string
	mapping      string
	encoding     string
	sheet        string
	rejects      string
	report       string
	jsonOut      bool
	maxShown     int
}

func (f *tapeFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.mapping, "mapping", "", "mapping file (YAML or JSON) for tapes whose headers are not known")
	fl.StringVar(&f.encoding, "encoding", "", "CSV encoding: utf-8, gbk or gb18030 (default: detect)")
	fl.StringVar(&f.sheet, "sheet", "", "XLSX sheet name (default: the first)")
	fl.StringVar(&f.rejects, "rejects", "", "write every invalid row, unchanged, with its reasons to this CSV file")
	fl.StringVar(&f.report, "report", "", "also write the full report to this file (.json or .csv)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the report as JSON")
	fl.IntVar(&f.maxShown, "show", 20, "row errors to print in the terminal report")
	fl.StringSliceVar(&f.allowMissing, "allow-missing", nil, "a critical FIELD the tape may lack (repeat, or comma-separate); the valuation treats it as unknown")
}

func (f *tapeFlags) options() (ingest.Options, error) {
	var o ingest.Options
	if f.mapping != "" {
		m, err := tape.LoadMapping(f.mapping)
		if err != nil {
			return o, usageError{err}
		}
		o.Mapping = m
	}
	if f.rejects != "" {
		if err := checkOutPath(f.rejects); err != nil {
			return o, err
		}
	}
	if f.report != "" {
		if err := checkOutPath(f.report); err != nil {
			return o, err
		}
	}
	o.Open = tape.OpenOptions{Encoding: f.encoding, Sheet: f.sheet}
	o.RejectsPath = f.rejects
	for _, name := range f.allowMissing {
		fld, ok := tape.FieldByName(strings.TrimSpace(name))
		if !ok || !fld.Spec().Critical {
			return o, usagef("--allow-missing: %q is not a critical field of the tape schema (see shared/design/tape.md)", name)
		}
		o.AllowMissing = append(o.AllowMissing, fld.String())
	}
	return o, nil
}

func newTapeValidateCmd(g *globals) *cobra.Command {
	var f tapeFlags
	c := &cobra.Command{
		Use:   "validate TAPE",
		Short: "Check a tape against every rule without importing it",
		Long: `Reads the whole tape, checks every row against every rule of the canonical schema, and
reports the result by rule and by row. Nothing is stored. Exit code 1 when any row is invalid.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			o.DryRun = true
			return runTape(cmd.Context(), g, nil, args[0], o, &f)
		},
	}
	f.register(c)
	return c
}

func newTapeImportCmd(g *globals) *cobra.Command {
	var f tapeFlags
	var seller, name, history string
	var skip bool
	c := &cobra.Command{
		Use:   "import TAPE",
		Short: "Import a tape as a new portfolio",
		Long: `Imports a tape as one portfolio, in one transaction: all or nothing. By default one invalid row
rejects the whole tape (the report lists every problem); --skip-invalid imports the valid rows and
reports the rest (write them with --rejects). Imported + rejected always equals the rows read.
Importing the same file twice is refused (the file's SHA-256 is recorded). Personal data is
encrypted before it is stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			o.SkipInvalid, o.SellerName, o.Name, o.HistoryPath = skip, seller, name, history
			o.Actor = "cli:" + osUser()
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			return runTape(cmd.Context(), g, a, args[0], o, &f)
		},
	}
	f.register(c)
	c.Flags().StringVar(&seller, "seller", "", "the seller's name (created if new)")
	c.Flags().StringVar(&name, "name", "", "display name of the portfolio (default: its portfolio_id)")
	c.Flags().StringVar(&history, "history", "", "repayment history file (loan_id, month, amount, source, channel)")
	c.Flags().BoolVar(&skip, "skip-invalid", false, "import the valid rows and report the invalid ones instead of rejecting the tape")
	return c
}

// osUser names the operating-system user running the command, for audit records ("cli:alice"):
// $USER, else $LOGNAME, else the account of the process's uid.
func osUser() string {
	for _, v := range []string{"USER", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid-" + strconv.Itoa(os.Getuid())
}

// importMemoryLimit is the Go heap's soft limit during an import unless GOMEMLIMIT says
// otherwise: the collector then works harder instead of letting a million-loan tape's
// bookkeeping double the heap (the import stays under 500 MB).
const importMemoryLimit = 320 << 20

func runTape(ctx context.Context, g *globals, a *app, path string, o ingest.Options, f *tapeFlags) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(importMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		// The import's live heap is small and flat (no per-loan maps), so the default GOGC would
		// collect every few tens of megabytes; the soft limit above still caps the heap.
		debug.SetGCPercent(400)
	}
	st, err := os.Stat(path)
	if err != nil {
		return usagef("cannot read %s: %v", path, err)
	}
	bar := g.newProgress("reading "+st.Name(), st.Size())
	o.Progress = func(rows, read, size int64) {
		if read >= 0 {
			bar.set(read)
		}
	}
	var s ingest.Store = nullStore{}
	var sealer ingest.Sealer
	if a != nil {
		s = a.db.IngestStore()
		var err error
		if sealer, err = g.sealer(ctx, a); err != nil {
			return err
		}
	}
	rep, err := ingest.Run(ctx, s, sealer, path, o)
	bar.done()
	if f.report != "" && rep != nil {
		if werr := writeReportFile(f.report, rep); werr != nil {
			return werr
		}
	}
	if f.jsonOut {
		if rep != nil {
			if werr := writeJSON(g.stdout, rep); werr != nil {
				return werr
			}
		}
	} else if rep != nil {
		printReport(g.stdout, rep, f.maxShown, g.msgLang())
	}
	if err != nil {
		if rep != nil && rep.Message != "" && reclaim.ErrorCode(err) != reclaim.EINTERNAL {
			if !f.jsonOut {
				return silentError{err}
			}
		}
		return err
	}
	return nil
}

// nullStore serves validation runs, which never write.
type nullStore struct{}

func (nullStore) FindByHash(context.Context, string) (int64, bool, error) { return 0, false, nil }
func (nullStore) Begin(context.Context, ingest.Meta) (ingest.Tx, error) {
	return nil, reclaim.Errorf(reclaim.EINTERNAL, "validation does not write")
}

// printReport prints an import or validation report for a person, in lang: the summary, the
// rule descriptions and the row problems come from their catalog codes (package msg).
func printReport(w io.Writer, r *ingest.Report, maxShown int, lang msg.Lang) {
	T := func(code string, kv ...string) string { return msg.Render(lang, code, msg.A(kv...)) }
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	format := r.Format
	if r.Encoding != "" {
		format += ", " + r.Encoding
	}
	fmt.Fprintln(w, T("cli.tape", "file", r.File, "format", format))
	fmt.Fprintln(w, T("cli.sha256", "hash", r.ContentHash))
	status := T("cli.status." + r.Status)
	if status == "" {
		status = strings.ToUpper(r.Status)
	}
	fmt.Fprintln(w, T("cli.status", "status", status))
	counts := []string{"rows", n(r.Rows), "valid", n(r.Valid), "invalid", n(r.Invalid)}
	if r.Status == ingest.StatusValidated {
		fmt.Fprintln(w, T("cli.rows_validated", counts...))
	} else {
		fmt.Fprintln(w, T("cli.rows_imported", append(counts, "imported", n(r.Imported), "rejected", n(r.Rejected))...))
	}
	if r.PortfolioID != 0 {
		fmt.Fprintln(w, T("cli.portfolio", "id", n(r.PortfolioID)))
	}
	if len(r.Missing) > 0 {
		fmt.Fprintln(w, T("cli.missing", "fields", strings.Join(r.Missing, ", ")))
	}
	if len(r.MissingAllowed) > 0 {
		fmt.Fprintln(w, T("cli.missing_allowed", "fields", strings.Join(r.MissingAllowed, ", ")))
	}
	if len(r.Derived) > 0 {
		fmt.Fprintln(w, T("cli.derived", "detail", strings.Join(r.Derived, "; ")))
	}
	if len(r.Unmapped) > 0 {
		fmt.Fprintln(w, T("cli.unmapped", "columns", strings.Join(r.Unmapped, ", ")))
	}
	if len(r.ByRule) > 0 {
		fmt.Fprintln(w, "\n"+T("cli.by_rule"))
		var rows [][]string
		for _, rc := range r.ByRule {
			rows = append(rows, []string{rc.Rule, strconv.FormatInt(rc.Rows, 10), tape.RuleDescription(lang, rc.Rule)})
		}
		table(w, []string{T("cli.col_rule"), T("cli.col_rows"), T("cli.col_check")}, rows)
	}
	if len(r.Errors) > 0 && maxShown > 0 {
		fmt.Fprintln(w, "\n"+T("cli.first_errors", "shown", strconv.Itoa(min(maxShown, len(r.Errors))), "total", n(r.ErrorsTotal)))
		var rows [][]string
		for i, e := range r.Errors {
			if i >= maxShown {
				break
			}
			col := e.Column
			if col == "" {
				col = e.Field
			}
			line := "-" // a finding about the whole tape (its header)
			if e.Line > 0 {
				line = strconv.Itoa(e.Line)
			}
			rows = append(rows, []string{line, col, truncate(e.Value, 24), e.Rule, e.Render(lang)})
		}
		table(w, []string{T("cli.col_line"), T("cli.col_column"), T("cli.col_value"), T("cli.col_rule"), T("cli.col_message")}, rows)
	}
	if r.History != nil {
		fmt.Fprintln(w, "\n"+T("cli.history", "rows", n(r.History.Rows), "imported", n(r.History.Imported), "rejected", n(r.History.Rejected)))
	}
	if r.RejectsFile != "" && r.Invalid > 0 {
		fmt.Fprintln(w, "\n"+T("cli.rejects_file", "path", r.RejectsFile))
	}
	if r.Header != nil && r.Status == ingest.StatusImported {
		fmt.Fprintln(w)
		printHeaderSummary(w, r.Header, lang == msg.ZH)
	}
	if m := r.RenderMessage(lang); m != "" {
		fmt.Fprintf(w, "\n%s\n", m)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeReportFile writes the report as JSON, or as CSV of its row errors when the name ends .csv.
func writeReportFile(path string, r *ingest.Report) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		w := newCSV(f)
		_ = w.Write([]string{"line", "column", "field", "value", "rule", "message"})
		for _, e := range r.Errors {
			_ = w.Write([]string{strconv.Itoa(e.Line), e.Column, e.Field, e.Value, e.Rule, e.Message})
		}
		w.Flush()
		return w.Error()
	}
	return writeJSON(f, r)
}

func newTapeExportCmd(g *globals) *cobra.Command {
	var out, recipient, format string
	var k int
	var noSuppress, jsonOut bool
	var maxSmall float64
	c := &cobra.Command{
		Use:   "export PORTFOLIO --out FILE",
		Short: "Export a masked tape for registered bidders",
		Long: `Writes the bidder tape of tiered disclosure (shared/design/tape.md): salted-hash ids that are
stable within the portfolio, no personal fields, an age band instead of the birth date, the
prefecture instead of the address, exact balances, dates and legal status, and a per-row
watermark tied to this download. The k-anonymity of (age band, prefecture, balance band,
origination month) is checked; the quasi-identifier is generalised step by step until at most
--max-small of the rows sit in classes smaller than --k, and the rows still in smaller classes are
left out. With --no-suppress they are kept, and a tape that then fails the check is refused (exit 1,
nothing written). Every export is logged as an event with its recipient.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("PORTFOLIO must be a portfolio id (see 'reclaim portfolio list'), got %q", args[0])
			}
			if out == "" {
				return usagef("--out is required")
			}
			if recipient == "" {
				return usagef("--recipient is required: every bidder-tape download is logged against its recipient")
			}
			if err := checkOutPath(out); err != nil {
				return err
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			res, err := exportMasked(cmd.Context(), g, a, id, out, recipient, format, tape.MaskOptions{K: k, Suppress: !noSuppress, MaxSmallShare: maxSmall})
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, res)
			}
			ka := res.KAnonymity
			fmt.Fprintf(g.stdout, "Wrote %d rows to %s (download %s for %s)\n", res.Rows, out, res.DownloadID, recipient)
			fmt.Fprintf(g.stdout, "k-anonymity (k=%d) on %s: %d classes, smallest %d, %d rows (%.2f%%) in classes below k",
				ka.K, ka.LevelName, ka.Classes, ka.MinClassSize, ka.RowsInSmall, 100*ka.ShareInSmall)
			if ka.Suppressed > 0 {
				fmt.Fprintf(g.stdout, ", left out")
			}
			fmt.Fprintln(g.stdout)
			fmt.Fprintln(g.stdout, "The written tape satisfies k-anonymity.")
			return nil
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "", "output file (.csv or .xlsx)")
	c.Flags().StringVar(&recipient, "recipient", "", "who receives the tape (bidder name or id); logged and watermarked")
	c.Flags().StringVar(&format, "format", "", "csv or xlsx (default: from the file name)")
	c.Flags().IntVar(&k, "k", 5, "k-anonymity threshold")
	c.Flags().Float64Var(&maxSmall, "max-small", 0.01, "largest share of rows allowed in classes below k before generalising further")
	c.Flags().BoolVar(&noSuppress, "no-suppress", false, "keep rows whose class is smaller than k (the export is then refused unless the tape still satisfies k-anonymity)")
	c.Flags().Bool("suppress", true, "leave out rows whose class is smaller than k (the default)")
	_ = c.Flags().MarkDeprecated("suppress", "suppression is the default; --no-suppress turns it off")
	c.Flags().BoolVar(&jsonOut, "json", false, "print the result as JSON")
	return c
}

type exportResult struct {
	PortfolioID int64           `json:"portfolio_id"`
	File        string          `json:"file"`
	Recipient   string          `json:"recipient"`
	DownloadID  string          `json:"download_id"`
	Rows        int64           `json:"rows"`
	KAnonymity  tape.KAnonymity `json:"k_anonymity"`
}

func exportMasked(ctx context.Context, g *globals, a *app, id int64, out, recipient, format string, mo tape.MaskOptions) (*exportResult, error) {
	p, err := a.db.GetPortfolio(ctx, id)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	mo.Salt, mo.DownloadID = p.Salt, hex.EncodeToString(b[:])
	if format == "" {
		format = "csv"
		if strings.HasSuffix(strings.ToLower(out), ".xlsx") {
			format = "xlsx"
		}
	}
	enc := "utf-8-bom"
	if format == "xlsx" {
		enc = ""
	}
	tmp := out + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	bar := g.newProgress("exporting", p.LoanCount*2)
	stream := func(ctx context.Context, fn func(*reclaim.Loan) error) error { return a.db.StreamLoans(ctx, id, fn) }
	me, err := tape.ExportMasked(ctx, stream, f, tape.WriterOptions{Format: format, Encoding: enc}, mo, bar.set)
	bar.done()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	rows, ka := me.Rows, me.KAnonymity
	// Log the download before the file appears under its name: no unlogged tape leaves.
	res := &exportResult{PortfolioID: id, File: out, Recipient: recipient, DownloadID: mo.DownloadID, Rows: rows, KAnonymity: ka}
	detail, err := jsonString(res)
	if err != nil {
		return nil, err
	}
	if _, err := a.db.AddEvent(ctx, reclaim.Event{PortfolioID: id, Type: reclaim.EventMaskedExported, Actor: "cli:" + osUser(), Detail: detail}); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return res, nil
}
