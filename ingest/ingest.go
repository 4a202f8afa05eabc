// Package ingest imports loan tapes into a store without losing anything: every input row ends up
// either imported or reported as rejected with its reasons (the counts always add up), the default
// is all-or-nothing, a re-import of the same bytes is refused, and a crash leaves no partial
// portfolio because the store commits the whole tape in one transaction.
//
// ingest is an application service: it drives the tape engine and talks to storage through the
// Store interface, which cmd/reclaim implements over sqldb.
package ingest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
	"reclaim/msg"
	"reclaim/tape"
	"reclaim/workout"
)

// Meta describes the portfolio an import creates.
type Meta struct {
	SellerName  string
	Ref         string
	Name        string
	CutOffDate  date.Date
	Currency    money.Currency
	SourceFile  string
	ContentHash string
	Salt        []byte
	Actor       string
}

// LoanRow is a validated loan ready to store, with its borrower's personal data already sealed.
type LoanRow struct {
	Loan reclaim.Loan
	// Sealed is the borrower's personal data sealed by the Sealer, nil when the tape carries none
	// for the borrower. The first row of a borrower that carries Sealed supplies the borrower's
	// stored personal data.
	Sealed []byte
	// KeyID names the key Sealed was sealed with (Sealer.KeyID); required with Sealed.
	KeyID string
	// Masked is the borrower's masked personal data, stored in the clear for lists (the first
	// row of a borrower supplies it).
	Masked reclaim.Masked
	// Blind is the borrower's keyed blind index (set when the Sealer is a BlindIndexer and the
	// row's personal data was sealed), stored with the row that supplies Sealed.
	Blind []workout.BlindTerm
}

// Summary is what the store records when an import commits.
type Summary struct {
	LoanCount     int64
	BorrowerCount int64
	TotalClaim    money.Amount
	HeaderJSON    []byte
	ReportJSON    []byte
}

// Store is the storage an import writes to. Begin fails with a reclaim.ECONFLICT error when a tape
// with the same content hash was imported before.
type Store interface {
	FindByHash(ctx context.Context, contentHash string) (id int64, found bool, err error)
	Begin(ctx context.Context, m Meta) (Tx, error)
}

// Tx is one import's transaction. Nothing it wrote is visible, or survives a crash, before Commit.
type Tx interface {
	// AddLoans may return before the rows are stored; an error in storing them (ECONFLICT for a
	// loan id stored twice) is then returned by a later call, at the latest by Commit. It does
	// not retain rows: the import reuses the slice for a later batch once AddLoans returned.
	AddLoans(ctx context.Context, rows []LoanRow) error
	AddRepayments(ctx context.Context, rs []reclaim.Repayment) error
	// HasLoans reports, for each id, whether this transaction added a loan with that loan id.
	HasLoans(ctx context.Context, ids []string) ([]bool, error)
	Commit(ctx context.Context, s Summary) (reclaim.Portfolio, error)
	Rollback() error
}

// Sealer encrypts a borrower's personal data; aad binds the ciphertext to its portfolio and
// borrower so it cannot be moved to another row.
type Sealer interface {
	SealPersonal(p reclaim.PersonalData, aad []byte) ([]byte, error)
	KeyID() string
}

// BlindIndexer is implemented by a Sealer that also computes the keyed blind index of a
// borrower's identifiers (HMAC under a key separate from the sealing key). The index is written
// with the sealed data, so that a debtor is recognised across portfolios without decryption.
type BlindIndexer interface {
	BlindTerms(p reclaim.PersonalData) []workout.BlindTerm
}

// WithBlindIndex returns a Sealer that seals with s and indexes with terms.
func WithBlindIndex(s Sealer, terms func(reclaim.PersonalData) []workout.BlindTerm) Sealer {
	return blindSealer{s, terms}
}

type blindSealer struct {
	Sealer
	terms func(reclaim.PersonalData) []workout.BlindTerm
}

func (b blindSealer) BlindTerms(p reclaim.PersonalData) []workout.BlindTerm { return b.terms(p) }

// Options control an import.
type Options struct {
	// exactOnly skips the optimistic first attempt (tests compare the two).
	exactOnly   bool
	Mapping     *tape.Mapping
	Open        tape.OpenOptions
	SkipInvalid bool   // import the valid rows and report the rest, instead of all-or-nothing
	DryRun      bool   // validate only: nothing is written (tape validate)
	RejectsPath string // write every rejected row with its reasons (CSV, personal cells masked); "" for none
	// Rejects, when set, receives the rejects CSV instead of a file at RejectsPath (an upload's
	// encrypted spill). Run flushes it but does not close it.
	Rejects     io.Writer
	HistoryPath string // optional repayment history file (loan_id, month, amount, source, channel)
	SellerName  string
	Name        string
	Actor       string
	// DisplayName is the tape's name in the report and the portfolio record when path is a
	// temporary file (an upload); default: the base name of path.
	DisplayName string
	// MaxErrors caps the row errors kept in the report (all of them still go to the rejects
	// file); default 1000.
	MaxErrors int
	// Progress, when set, is called about every 10,000 rows with the rows read so far and the
	// work done in bytes of the file's size (for a progress bar). The file is read twice, first
	// its loan ids alone (rows 0, every 65,536 rows), then in full; the progress runs once from 0
	// to size over both, the first pass taking its first tenth.
	Progress func(rows int64, bytesRead, size int64)
	// BatchSize is the number of loans handed to the store at once; default 8,000 (one COPY per
	// table per batch on PostgreSQL: larger batches amortise its round trips).
	BatchSize int
	// AllowMissing names critical fields (canonical names) the tape may lack: the import goes on
	// without them, the report lists them under missing_allowed, and the valuation treats them
	// as unknown. Any other missing critical field rejects the tape.
	AllowMissing []string
}

// Status of an import.
const (
	StatusImported  = "imported"  // every valid row was stored
	StatusRejected  = "rejected"  // nothing was stored because of invalid rows or columns
	StatusValidated = "validated" // dry run: nothing was meant to be stored
)

// Report is the full account of an import: where each input row went and why.
type Report struct {
	File        string `json:"file"`
	Format      string `json:"format"`
	Encoding    string `json:"encoding,omitempty"`
	ContentHash string `json:"content_hash"`
	Status      string `json:"status"`
	Message     string `json:"message,omitempty"`
	// MessageCode and MessageArgs name Message in the catalog of package msg, for a reader's
	// language; Message is their English render.
	MessageCode string            `json:"message_code,omitempty"`
	MessageArgs map[string]string `json:"message_args,omitempty"`

	// Rows = Imported + Rejected, always; and Rows = Valid + Invalid. In an all-or-nothing
	// rejection every row is rejected, valid or not.
	Rows     int64 `json:"rows"`
	Imported int64 `json:"imported"`
	Rejected int64 `json:"rejected"`
	Valid    int64 `json:"valid"`
	Invalid  int64 `json:"invalid"`

	Columns  []ColumnBinding `json:"columns"`
	Unmapped []string        `json:"unmapped_columns,omitempty"`
	Derived  []string        `json:"derived_fields,omitempty"`
	Missing  []string        `json:"missing_critical,omitempty"`
	// MissingAllowed are the critical fields the tape lacks that the import was told to go on
	// without (Options.AllowMissing); the valuation treats them as unknown for every loan.
	MissingAllowed []string `json:"missing_allowed,omitempty"`

	ByRule      []RuleCount     `json:"by_rule"`
	Errors      []tape.RowError `json:"errors"`
	ErrorsShown int             `json:"errors_shown"`
	ErrorsTotal int64           `json:"errors_total"`
	RejectsFile string          `json:"rejects_file,omitempty"`

	History *HistoryReport `json:"history,omitempty"`

	Header      *tape.PoolHeader `json:"header,omitempty"`
	PortfolioID int64            `json:"portfolio_id,omitempty"`
	Seconds     float64          `json:"seconds"`
}

// ColumnBinding reports which column filled which field.
type ColumnBinding struct {
	Field  string `json:"field"`
	Column string `json:"column"` // "" for a constant
	Const  string `json:"constant,omitempty"`
	Unit   string `json:"unit,omitempty"`
	// Fallback is the column read when Column is empty in a row.
	Fallback string `json:"fallback,omitempty"`
}

// RuleCount is how many rows broke a rule.
type RuleCount struct {
	Rule        string `json:"rule"`
	Description string `json:"description"` // in English
	Rows        int64  `json:"rows"`
	// Code names the description in the catalog of package msg ("rule.claim_sum").
	Code string `json:"code"`
}

// HistoryReport accounts for the repayment-history file.
type HistoryReport struct {
	File     string          `json:"file"`
	Rows     int64           `json:"rows"`
	Imported int64           `json:"imported"`
	Rejected int64           `json:"rejected"`
	Errors   []tape.RowError `json:"errors,omitempty"`
}

// setMessage sets the report's message from a catalog code: Message is the English render.
func (r *Report) setMessage(code string, args msg.Args) {
	r.MessageCode, r.MessageArgs = code, args
	r.Message = msg.Render(msg.EN, code, args)
}

// counts returns the row counts as message args, with extra key, value pairs.
func (r *Report) counts(kv ...string) msg.Args {
	a := msg.A(kv...)
	if a == nil {
		a = msg.Args{}
	}
	a["rows"], a["valid"], a["invalid"] = strconv.FormatInt(r.Rows, 10), strconv.FormatInt(r.Valid, 10), strconv.FormatInt(r.Invalid, 10)
	return a
}

// RenderMessage returns the report's message in lang (Message when it has no code).
func (r *Report) RenderMessage(lang msg.Lang) string {
	if r.MessageCode != "" {
		if s := msg.Render(lang, r.MessageCode, r.MessageArgs); s != "" {
			return s
		}
	}
	return r.Message
}

// OK reports whether the import stored the tape (or, for a dry run, whether the tape is valid).
func (r *Report) OK() bool {
	return r.Status == StatusImported || (r.Status == StatusValidated && r.Invalid == 0)
}

// Run imports (or, with DryRun, validates) the tape at path. It returns the report and an error
// for failures that are not about the tape's content (I/O, storage); a tape rejected for its
// content returns a report with Status "rejected" and a *reclaim.Error with code EINVALID.
func Run(ctx context.Context, store Store, sealer Sealer, path string, opts Options) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		display := filepath.Base(path)
		if opts.DisplayName != "" {
			display = opts.DisplayName
		}
		return &Report{File: display, Status: StatusRejected}, reclaim.WrapError(reclaim.ENOTFOUND, err, "cannot read tape %s", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &Report{File: filepath.Base(path), Status: StatusRejected}, reclaim.WrapError(reclaim.ENOTFOUND, err, "cannot read tape %s", path)
	}
	return run(ctx, store, sealer, io.NewSectionReader(f, 0, st.Size()), path, opts)
}

// Input is a tape held other than as a named file: an upload kept in an encrypted spill file.
type Input interface {
	io.ReaderAt
	Size() int64
}

// RunInput is Run for a tape read from in; opts.DisplayName names it in the report and errors.
func RunInput(ctx context.Context, store Store, sealer Sealer, in Input, opts Options) (*Report, error) {
	name := opts.DisplayName
	if name == "" {
		name = "tape"
	}
	return run(ctx, store, sealer, io.NewSectionReader(in, 0, in.Size()), name, opts)
}

func run(ctx context.Context, store Store, sealer Sealer, in *io.SectionReader, path string, opts Options) (rep *Report, err error) {
	defer func() {
		// A cancelled import can fail first in the store (a connection closed under a running
		// COPY): whatever error it returns, it was cancelled, and nothing was imported.
		if err != nil && ctx.Err() != nil && reclaim.ErrorCode(err) != reclaim.ECANCELED {
			err = reclaim.WrapError(reclaim.ECANCELED, ctx.Err(), "import cancelled; nothing was imported")
		}
	}()
	return runImport(ctx, store, sealer, in, path, opts)
}

func runImport(ctx context.Context, store Store, sealer Sealer, in *io.SectionReader, path string, opts Options) (*Report, error) {
	start := time.Now()
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = 1000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 8000
	}
	display := filepath.Base(path)
	if opts.DisplayName != "" {
		display = opts.DisplayName
	}
	rep := &Report{File: display, Status: StatusRejected}
	defer func() {
		rep.Seconds = time.Since(start).Seconds()
		if rep.Status != StatusImported {
			rep.Imported, rep.Rejected = 0, rep.Rows
		}
	}()

	size := in.Size()
	hash, err := hashReader(io.NewSectionReader(in, 0, size))
	if err != nil {
		return rep, reclaim.WrapError(reclaim.EINVALID, err, "cannot read tape %s", path)
	}
	rep.ContentHash = hash
	if !opts.DryRun {
		if id, found, err := store.FindByHash(ctx, hash); err != nil {
			return rep, err
		} else if found {
			rep.PortfolioID = id
			rep.setMessage("report.duplicate", msg.A("hash", hash[:12], "portfolio", strconv.FormatInt(id, 10)))
			return rep, &reclaim.Error{Code: reclaim.ECONFLICT, Message: rep.Message}
		}
	}

	oo := openOptions(opts)
	src, err := tape.OpenReaderAt(in, size, path, oo)
	if err != nil {
		rep.setMessage("report.cannot_open", msg.A("detail", err.Error()))
		if reclaim.ErrorCode(err) == reclaim.ETOOLARGE {
			return rep, reclaim.WrapError(reclaim.ETOOLARGE, err, "cannot open tape %s: %s", display, reclaim.ErrorMessage(err))
		}
		return rep, reclaim.WrapError(reclaim.EINVALID, err, "cannot open tape %s", display)
	}
	defer src.Close()
	info := src.Info()
	rep.Format, rep.Encoding = info.Format, info.Encoding

	layout, err := tape.NewLayout(src.Header(), opts.Mapping)
	if err != nil {
		var le *tape.LayoutError
		if errors.As(err, &le) {
			// Each problem is listed (coded) with the report's errors, and the summary names them.
			rep.setMessage("report.layout_problems", msg.A("detail", le.Render(msg.EN), "detail_zh", le.Render(msg.ZH)))
			rep.Errors = le.Problems[:min(len(le.Problems), opts.MaxErrors)]
			rep.ErrorsShown, rep.ErrorsTotal = len(rep.Errors), int64(len(le.Problems))
		} else {
			rep.setMessage("report.layout", msg.A("detail", err.Error()))
		}
		return rep, reclaim.WrapError(reclaim.EINVALID, err, "the tape's columns cannot be mapped")
	}
	describeLayout(rep, layout)
	// A missing critical column is a finding about the whole tape: it is reported with every
	// row's own errors (the rows are still read and checked), and nothing is stored unless the
	// caller allowed the field to be missing.
	for _, name := range opts.AllowMissing {
		f, ok := tape.FieldByName(name)
		if !ok || !f.Spec().Critical {
			return rep, reclaim.Errorf(reclaim.EINVALID, "allow-missing: %q is not a critical field of the tape schema", name)
		}
	}
	// missing: a critical column is absent and not allowed to be (the report's message names
	// the fields, from rep.Missing).
	missing := false
	if miss := tape.MissingCritical(layout); len(miss) > 0 {
		for _, f := range miss {
			if slices.Contains(opts.AllowMissing, f.String()) {
				rep.MissingAllowed = append(rep.MissingAllowed, f.String())
			} else {
				rep.Missing = append(rep.Missing, f.String())
			}
		}
		missing = len(rep.Missing) > 0
	}

	var rejects *rejectWriter
	if opts.RejectsPath != "" || opts.Rejects != nil {
		if rejects, err = newRejectWriter(opts.RejectsPath, opts.Rejects, src.Header(), layout); err != nil {
			return rep, err
		}
		defer rejects.close()
		if opts.Rejects == nil {
			rep.RejectsFile = opts.RejectsPath
		}
	}

	var tx Tx
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return rep, err
	}
	committed := false
	defer func() {
		if tx != nil && !committed {
			_ = tx.Rollback()
		}
	}()

	// The first attempt is optimistic: it skips the pass over the loan ids, remembers no id, and
	// stops at the first row that breaks a rule. When every row is valid and the store (whose
	// unique index on the portfolio's loan ids sees every row) accepted them all, no id occurs
	// twice, so the result is the one the exact import gives. Otherwise, and for a dry run or a
	// tape that will not be stored, the import runs exactly: the pass over the ids, every rule,
	// every row reported (docs/import.md, "One pass when the tape is clean").
	base := *rep
	if p := opts.Progress; p != nil {
		var last int64 // a retry starts again: the bar waits until it is past where it was
		opts.Progress = func(rows, read, size int64) {
			last = max(last, read)
			p(rows, last, size)
		}
	}
	optimistic := !opts.DryRun && !missing && !opts.exactOnly
	if optimistic {
		r, err := importPass(ctx, store, sealer, in, path, opts, src, layout, info, rep, rejects, hash, salt, display, missing, true, &tx, &committed)
		if err != errRetry {
			return r, err
		}
		if tx != nil {
			_ = tx.Rollback()
			tx = nil
		}
		*rep = base
		if src, err = tape.OpenReaderAt(in, size, path, oo); err != nil {
			return rep, reclaim.WrapError(reclaim.EINVALID, err, "cannot open tape %s", display)
		}
		defer src.Close()
	}
	return importPass(ctx, store, sealer, in, path, opts, src, layout, info, rep, rejects, hash, salt, display, missing, false, &tx, &committed)
}

// errRetry ends an optimistic import pass that cannot prove its result exact.
var errRetry = errors.New("ingest: retry the import exactly")

// importPass reads, checks and (unless dry) stores the rows of src. With optimistic, it
// remembers no loan id and returns errRetry at the first invalid row, at an unreadable tape and
// when the store finds a loan id twice; otherwise it runs the pass over the loan ids first and
// reports every row.
func importPass(ctx context.Context, store Store, sealer Sealer, in *io.SectionReader, path string, opts Options,
	src tape.Source, layout *tape.Layout, info tape.SourceInfo, rep *Report, rejects *rejectWriter, hash string, salt []byte,
	display string, missing, optimistic bool, txp *Tx, committedp *bool) (*Report, error) {
	size := in.Size()
	oo := openOptions(opts)
	tx := *txp
	defer func() { *txp = tx }()
	retry := func(err error) error {
		if optimistic && reclaim.ErrorCode(err) == reclaim.ECONFLICT {
			return errRetry
		}
		return err
	}
	conv := tape.NewConverter(layout, info)
	// The loan_id rule remembers only the ids a first pass over the keys found repeated (or
	// could not rule out): memory that does not grow with the tape (unique.go).
	// Progress runs once from 0 to size over both passes: the pass over the loan ids is the first
	// tenth (it reads only one column), the import the rest.
	if optimistic {
		conv.TrackOnly(map[string]struct{}{}) // remember no id: the store's unique index checks them
	} else {
		var idProgress func(rows, read, size int64)
		if p := opts.Progress; p != nil {
			idProgress = func(_, read, size int64) { p(0, read/10, size) }
			opts.Progress = func(rows, read, size int64) { p(rows, size/10+read-read/10, size) }
		}
		repeated, err := repeatedLoanIDs(ctx, in, path, oo, conv, size, idProgress)
		if err != nil {
			if ctx.Err() != nil {
				return rep, reclaim.WrapError(reclaim.ECANCELED, ctx.Err(), "import cancelled; nothing was imported")
			}
			return rep, reclaim.WrapError(reclaim.EINVALID, err, "cannot read tape %s", display)
		}
		conv.TrackOnly(repeated)
	}
	hb := tape.NewHeaderBuilder()
	defer hb.Close()
	ruleRows := map[string]int64{}
	batch := make([]LoanRow, 0, opts.BatchSize)
	// The first batches are smaller (an eighth of BatchSize, doubling): the store starts writing
	// as soon as a few rows are ready instead of waiting for a whole batch to be converted and
	// sealed (a quarter of a second of an idle PostgreSQL server at 300,000 loans).
	batchLimit := max(1, opts.BatchSize/8)
	wantHistory := opts.HistoryPath != ""
	var ref string
	var cutOff date.Date
	var cur money.Currency

	// Loans are stored by a writer goroutine while this one reads, validates and seals the next
	// batch: the two halves of an import take about the same time, and there are two cores.
	var w *batchWriter
	flush := func() error {
		if len(batch) == 0 || tx == nil {
			batch = batch[:0]
			return nil
		}
		if w == nil {
			w = newBatchWriter(ctx, tx)
		}
		if err := w.send(batch); err != nil {
			return err
		}
		batch = w.spare(opts.BatchSize)
		return nil
	}
	defer func() {
		if w != nil {
			w.close()
		}
	}()

	// Rows are read on one goroutine, converted and sealed on workers (the part of validation that
	// looks at one row only), and put back in tape order here for the rules across rows, the
	// accounting and the batches for the writer goroutine.
	pctx, cancelPipeline := context.WithCancel(ctx)
	seal := sealer != nil && !opts.DryRun
	indexer, _ := sealer.(BlindIndexer)
	chunks, recycle, pipelineDone := convertChunks(pctx, src, conv, func(res *tape.Result, out *sealedRow) {
		// Everything that a stored row needs and that depends on the row alone: its masked
		// forms, its sealed personal data and its blind index.
		if opts.DryRun {
			return
		}
		out.masked = MaskPersonal(res.Personal)
		if !seal || res.Personal.IsEmpty() {
			return
		}
		out.sealed, out.err = sealer.SealPersonal(res.Personal, PersonalAAD(hash, res.Loan.BorrowerID))
		if out.sealed != nil && indexer != nil {
			out.blind = indexer.BlindTerms(res.Personal)
		}
	})
	// Stop the pipeline's goroutines, and wait for them, before the source closes.
	defer func() { cancelPipeline(); pipelineDone() }()
	var nextProgress int64 = 10000
	for ch := range chunks {
		if err := ctx.Err(); err != nil {
			return rep, reclaim.WrapError(reclaim.ECANCELED, err, "import cancelled; nothing was imported")
		}
		for i := range ch.rows {
			rep.Rows++
			row, res := ch.rows[i], &ch.res[i]
			var rowErrs []tape.RowError
			if re := ch.readErrs[i]; re != nil {
				rowErrs = []tape.RowError{*re}
				row = tape.Row{Line: re.Line}
			} else {
				conv.CheckAcross(res)
				rowErrs = res.Errors
				if len(rowErrs) == 0 && ch.sealed[i].err != nil {
					return rep, ch.sealed[i].err
				}
			}
			if len(rowErrs) > 0 {
				if optimistic {
					return rep, errRetry
				}
				rep.Invalid++
				seen := map[string]bool{}
				for _, e := range rowErrs {
					if !seen[e.Rule] {
						ruleRows[e.Rule]++
						seen[e.Rule] = true
					}
					rep.ErrorsTotal++
					if len(rep.Errors) < opts.MaxErrors {
						rep.Errors = append(rep.Errors, e)
					}
				}
				if rejects != nil {
					if err := rejects.write(row, rowErrs); err != nil {
						return rep, err
					}
				}
				continue
			}
			rep.Valid++
			if tx == nil && !opts.DryRun && !missing && (opts.SkipInvalid || rep.Invalid == 0) {
				ref, cutOff, cur = res.Loan.PortfolioRef, res.Loan.CutOffDate, res.Loan.Currency
				name := opts.Name
				if name == "" {
					name = ref
				}
				seller := opts.SellerName
				if seller == "" {
					seller = "Unknown seller"
				}
				var err error
				tx, err = store.Begin(ctx, Meta{SellerName: seller, Ref: ref, Name: name, CutOffDate: cutOff,
					Currency: cur, SourceFile: display, ContentHash: hash, Salt: salt, Actor: opts.Actor})
				if err != nil {
					return rep, err
				}
			}
			hb.Add(&res.Loan)
			if tx == nil || missing || (rep.Invalid > 0 && !opts.SkipInvalid) {
				// All-or-nothing and already doomed, or a dry run: keep validating, store nothing.
				continue
			}
			sr := &ch.sealed[i]
			batch = append(batch, LoanRow{}) // filled in place: a Loan is large, and copied once
			lr := &batch[len(batch)-1]
			lr.Loan, lr.Masked = res.Loan, sr.masked
			if sr.sealed != nil {
				lr.Sealed, lr.KeyID, lr.Blind = sr.sealed, sealer.KeyID(), sr.blind
			}
			if len(batch) >= batchLimit {
				batchLimit = min(2*batchLimit, opts.BatchSize)
				if err := flush(); err != nil {
					return rep, retry(err)
				}
			}
		}
		if opts.Progress != nil && rep.Rows >= nextProgress {
			opts.Progress(rep.Rows, ch.offset, size)
			nextProgress = rep.Rows + 10000
		}
		if ch.fatal != nil {
			if optimistic {
				return rep, errRetry
			}
			rep.setMessage("report.unreadable", msg.A("detail", ch.fatal.Error()))
			if reclaim.ErrorCode(ch.fatal) == reclaim.ETOOLARGE {
				return rep, reclaim.WrapError(reclaim.ETOOLARGE, ch.fatal, "the tape cannot be read past line %d: %s", rep.Rows+1, reclaim.ErrorMessage(ch.fatal))
			}
			return rep, reclaim.WrapError(reclaim.EINVALID, ch.fatal, "the tape cannot be read past line %d", rep.Rows+1)
		}
		recycle(ch) // the stored rows hold copies of what they need from it
	}
	if err := ctx.Err(); err != nil {
		return rep, reclaim.WrapError(reclaim.ECANCELED, err, "import cancelled; nothing was imported")
	}
	if opts.Progress != nil {
		opts.Progress(rep.Rows, size, size)
	}
	rep.ByRule = ruleCounts(ruleRows)
	rep.ErrorsShown = len(rep.Errors)
	h, err := hb.Header()
	if err != nil {
		return rep, reclaim.WrapError(reclaim.EINVALID, err, "the pool's totals overflow")
	}
	if rep.Valid > 0 {
		rep.Header = &h
	}

	switch {
	case opts.DryRun:
		rep.Status = StatusValidated
		rep.setMessage("report.validated", rep.counts())
		if missing {
			rep.setMessage("report.validated_missing", rep.counts("fields", strings.Join(rep.Missing, ", ")))
		}
		if rep.Invalid > 0 || missing {
			return rep, &reclaim.Error{Code: reclaim.EINVALID, Message: rep.Message}
		}
		return rep, nil
	case missing:
		rep.setMessage("report.missing_rejected", rep.counts("fields", strings.Join(rep.Missing, ", ")))
		return rep, &reclaim.Error{Code: reclaim.EINVALID, Message: rep.Message}
	case rep.Rows == 0:
		rep.setMessage("report.no_rows", nil)
		return rep, &reclaim.Error{Code: reclaim.EINVALID, Message: rep.Message}
	case rep.Invalid > 0 && !opts.SkipInvalid:
		rep.setMessage("report.all_or_nothing", rep.counts())
		return rep, &reclaim.Error{Code: reclaim.EINVALID, Message: rep.Message}
	case rep.Valid == 0:
		rep.setMessage("report.no_valid", nil)
		return rep, &reclaim.Error{Code: reclaim.EINVALID, Message: rep.Message}
	}
	if err := flush(); err != nil {
		return rep, retry(err)
	}
	if w != nil {
		if err := w.close(); err != nil {
			return rep, retry(err)
		}
	}
	if wantHistory {
		// History rows are checked against the loans the transaction stored (the tape's valid
		// loans) and stored in batches as they are read; an invalid row under all-or-nothing
		// rolls them back with the rest.
		hr, err := readHistory(opts.HistoryPath,
			func(ids []string) ([]bool, error) { return tx.HasLoans(ctx, ids) },
			func(rs []reclaim.Repayment) error { return tx.AddRepayments(ctx, rs) },
			cur, opts.MaxErrors)
		rep.History = hr
		if err != nil {
			hr.Imported = 0 // rolled back with the rest
			return rep, retry(err)
		}
		if hr.Rejected > 0 && !opts.SkipInvalid {
			hr.Imported = 0
			rep.setMessage("report.history_invalid", msg.A("rejected", strconv.FormatInt(hr.Rejected, 10), "rows", strconv.FormatInt(hr.Rows, 10)))
			return rep, &reclaim.Error{Code: reclaim.EINVALID, Message: rep.Message}
		}
	}
	rep.Imported, rep.Rejected = rep.Valid, rep.Invalid
	rep.Status = StatusImported
	rep.setMessage("report.imported", msg.A("imported", strconv.FormatInt(rep.Imported, 10), "rows", strconv.FormatInt(rep.Rows, 10),
		"rejected", strconv.FormatInt(rep.Rejected, 10)))
	hj, err := json.Marshal(h)
	if err != nil {
		return rep, err
	}
	rj, err := json.Marshal(rep)
	if err != nil {
		return rep, err
	}
	p, err := tx.Commit(ctx, Summary{LoanCount: rep.Imported, BorrowerCount: h.Borrowers, TotalClaim: h.Claim, HeaderJSON: hj, ReportJSON: rj})
	if err != nil && retry(err) == errRetry { // a store may report a repeated loan id as late as this
		return rep, errRetry
	}
	if err != nil {
		rep.Status = StatusRejected
		rep.Imported, rep.Rejected = 0, rep.Rows
		return rep, err
	}
	*committedp = true
	rep.PortfolioID = p.ID
	return rep, nil
}

// MaskPersonal returns the masked forms of personal data that any role seeing the portfolio may
// see: the surname followed by *, the national ID with only its province and prefecture
// (cnid.Mask: nothing of the birth date, sequence number or check character), the mobile number
// with only its first three and last four digits. The birth date is not masked but left out:
// lists show the loan's birth year instead (docs/security-pii.md).
func MaskPersonal(p reclaim.PersonalData) reclaim.Masked {
	var m reclaim.Masked
	if p.Name != "" {
		// The first character and a star for each other, at most three (an invalid byte counts
		// as one character, U+FFFD).
		first, _ := utf8.DecodeRuneInString(p.Name)
		switch n := utf8.RuneCountInString(p.Name); n {
		case 1:
			m.Name = "*"
		default:
			m.Name = string(first) + "***"[:min(n-1, 3)]
		}
	}
	if p.NationalID != "" {
		m.NationalID = cnid.Mask(p.NationalID)
	}
	if p.Phone != "" {
		m.Phone = cnid.MaskPhone(p.Phone)
	}
	return m
}

// chunk is a run of consecutive tape rows on their way through the import pipeline. Its slices
// are reused: once the import loop is done with a chunk, the reader fills it again.
type chunk struct {
	seq      int
	rows     []tape.Row
	readErrs []*tape.RowError // a malformed row, as the reader reported it
	res      []tape.Result    // the row converted, rules across rows not yet applied
	sealed   []sealedRow
	offset   int64    // bytes of the file read when the chunk was cut (-1: unknown)
	fatal    error    // the reader stopped after this chunk
	cells    []string // memory lent to the source for the rows' cells (cellLender), reused
}

// cellLender is a Source that can cut the cells of the rows it reads from memory the caller
// lends (tape's CSV source): the import lends each chunk's, which it reuses once it is done with
// the chunk's rows, instead of allocating every row's cells (some 200 MB at 300,000 loans).
type cellLender interface {
	NextInto(buf []string) (tape.Row, []string, error)
}

// sealedRow is what the converters prepare for storing a valid row: its personal data masked,
// sealed, and blind-indexed.
type sealedRow struct {
	masked reclaim.Masked
	sealed []byte
	blind  []workout.BlindTerm
	err    error // sealing failed
}

const chunkRows = 512

// convertChunks reads src on one goroutine and converts rows on two workers, which call prepare
// for every row that converted without an error. It returns the chunks in tape order; the
// channel closes after the last one (or when ctx ends). recycle hands a chunk the caller is done
// with back to the reader. wait returns once every goroutine of the pipeline has ended (cancel
// ctx first to stop early).
func convertChunks(ctx context.Context, src tape.Source, conv *tape.Converter, prepare func(*tape.Result, *sealedRow)) (_ <-chan *chunk, recycle func(*chunk), wait func()) {
	const workers = 2
	raw := make(chan *chunk, 2*workers)
	done := make(chan *chunk, 2*workers)
	out := make(chan *chunk, 2)
	// Chunks in flight: up to 2*workers in each channel, one at each goroutine, and the ones
	// waiting for their turn; a chunk the free list has no room for is left to the collector.
	free := make(chan *chunk, 6*workers)
	lender, _ := src.(cellLender)
	var all sync.WaitGroup
	all.Add(2)
	go func() { // reader
		defer all.Done()
		defer close(raw)
		for seq := 0; ; seq++ {
			var ch *chunk
			select {
			case ch = <-free:
				*ch = chunk{rows: ch.rows[:0], readErrs: ch.readErrs[:0], res: ch.res, sealed: ch.sealed, cells: ch.cells}
			default:
				ch = &chunk{}
			}
			ch.seq = seq
			var buf []string
			if lender != nil {
				if ch.cells == nil {
					ch.cells = make([]string, chunkRows*(len(src.Header())+1))
				}
				buf = ch.cells
			}
			for len(ch.rows) < chunkRows {
				var row tape.Row
				var err error
				if lender != nil {
					row, buf, err = lender.NextInto(buf)
				} else {
					row, err = src.Next()
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					var re *tape.RowError
					if !errors.As(err, &re) {
						ch.fatal = err
						break
					}
					ch.rows = append(ch.rows, tape.Row{Line: re.Line})
					ch.readErrs = append(ch.readErrs, re)
					continue
				}
				ch.rows = append(ch.rows, row)
				ch.readErrs = append(ch.readErrs, nil)
			}
			ch.offset = sourceOffset(src)
			if len(ch.rows) == 0 && ch.fatal == nil {
				return
			}
			select {
			case raw <- ch:
			case <-ctx.Done():
				return
			}
			if ch.fatal != nil || len(ch.rows) < chunkRows {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() { // converters
			defer wg.Done()
			for ch := range raw {
				n := len(ch.rows)
				if cap(ch.res) < n {
					ch.res = make([]tape.Result, n)
				}
				if cap(ch.sealed) < n {
					ch.sealed = make([]sealedRow, n)
				}
				// A reused Result keeps its Errors array (ConvertRow empties it); a row read in
				// error keeps none of the last use's.
				ch.res, ch.sealed = ch.res[:n], ch.sealed[:n]
				clear(ch.sealed)
				for i := range ch.rows {
					if ch.readErrs[i] != nil {
						ch.res[i] = tape.Result{}
						continue
					}
					conv.ConvertRow(ch.rows[i], &ch.res[i])
					if ch.res[i].OK() {
						prepare(&ch.res[i], &ch.sealed[i])
					}
				}
				select {
				case done <- ch:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	go func() { // back into tape order
		defer all.Done()
		defer close(out)
		pending := map[int]*chunk{}
		next := 0
		for ch := range done {
			pending[ch.seq] = ch
			for c, ok := pending[next]; ok; c, ok = pending[next] {
				delete(pending, next)
				next++
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	recycle = func(ch *chunk) {
		select {
		case free <- ch:
		default:
		}
	}
	return out, recycle, func() { all.Wait(); wg.Wait() }
}

// batchWriter stores batches of loans on its own goroutine, in order. The first error stops it;
// send and close report it. A batch it has stored is emptied and handed back (spare) for a later
// one: a fresh batch of 8,000 loans is some 6 MB of new memory, and filling it cost the loop that
// builds the batches about a third of its time (docs/benchmarks.md, issue 11, h-pgimp2).
type batchWriter struct {
	ch     chan []LoanRow
	free   chan []LoanRow // stored batches, emptied, for reuse
	done   chan struct{}  // closed when the goroutine ends
	failed chan struct{}  // closed at the first error
	err    error          // written before failed or done is closed
	closed bool
}

func newBatchWriter(ctx context.Context, tx Tx) *batchWriter {
	w := &batchWriter{ch: make(chan []LoanRow, 2), free: make(chan []LoanRow, 4), done: make(chan struct{}), failed: make(chan struct{})}
	go func() {
		defer close(w.done)
		for b := range w.ch {
			if err := tx.AddLoans(ctx, b); err != nil {
				w.err = err
				close(w.failed)
				for range w.ch { // drain what the producer already queued
				}
				return
			}
			clear(b) // AddLoans does not retain the rows: drop their references for the collector
			select {
			case w.free <- b[:0]:
			default:
			}
		}
	}()
	return w
}

// spare returns an empty batch with room for n rows, one the writer has stored if there is one.
func (w *batchWriter) spare(n int) []LoanRow {
	select {
	case b := <-w.free:
		if cap(b) >= n {
			return b
		}
	default:
	}
	return make([]LoanRow, 0, n)
}

// send queues a batch, or returns the writer's error if it has failed.
func (w *batchWriter) send(b []LoanRow) error {
	select {
	case <-w.failed:
		return w.err
	case w.ch <- b:
		return nil
	}
}

// close waits for every queued batch to be stored and returns the first error.
func (w *batchWriter) close() error {
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	<-w.done
	return w.err
}

// PersonalAAD is the additional authenticated data that binds a borrower's sealed personal data to
// its tape and borrower key.
func PersonalAAD(contentHash, borrowerID string) []byte {
	const prefix = "reclaim/pii/v1\x00"
	b := make([]byte, 0, len(prefix)+len(contentHash)+1+len(borrowerID)) // one allocation, not two
	return append(append(append(append(b, prefix...), contentHash...), 0), borrowerID...)
}

func hashReader(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sourceOffset returns how far a source has read, when it can tell.
func sourceOffset(src tape.Source) int64 {
	if o, ok := src.(interface{ Offset() int64 }); ok {
		return o.Offset()
	}
	return -1
}

func describeLayout(rep *Report, l *tape.Layout) {
	for i := 0; i < tape.NumFields; i++ {
		b := l.Bindings[i]
		if b == nil {
			continue
		}
		cb := ColumnBinding{Field: tape.Field(i).String(), Column: b.Header, Fallback: b.FallbackHeader}
		if b.Column < 0 {
			cb.Column, cb.Const = "", b.Const
		}
		switch b.Unit {
		case money.Wan:
			cb.Unit = "万元 (x10,000)"
		case money.Thousand:
			cb.Unit = "千元 (x1,000)"
		case money.Yi:
			cb.Unit = "亿元 (x100,000,000)"
		case money.Cent:
			cb.Unit = "分 (x0.01)"
		}
		rep.Columns = append(rep.Columns, cb)
	}
	rep.Unmapped = l.Unmapped
	for i := 0; i < tape.NumFields; i++ {
		f := tape.Field(i)
		if l.Bindings[i] == nil && tape.Fields[i].Critical && tape.Derivation(f) != "" {
			rep.Derived = append(rep.Derived, f.String()+" = "+tape.Derivation(f))
		}
	}
}

func ruleCounts(m map[string]int64) []RuleCount {
	var out []RuleCount
	order := map[string]int{}
	for i, r := range tape.Rules {
		order[r.Name] = i
	}
	for r, n := range m {
		out = append(out, RuleCount{Rule: r, Description: tape.RuleDescription(msg.EN, r), Code: "rule." + r, Rows: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rows != out[j].Rows {
			return out[i].Rows > out[j].Rows
		}
		return order[out[i].Rule] < order[out[j].Rule]
	})
	return out
}

// openOptions are the tape's open options: the caller's, with the mapping's encoding, sheet and
// header row where the caller left them unset.
func openOptions(opts Options) tape.OpenOptions { return opts.Open.WithMapping(opts.Mapping) }
