package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"reclaim"
	"reclaim/bloom"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/workout"
)

// ImportMeta describes the tape a bulk import comes from.
type ImportMeta struct {
	SellerName  string         // created on first use
	Ref         string         // the seller's package id; loans' PortfolioRef must be empty or equal
	Name        string         // display name; defaults to Ref
	CutOffDate  date.Date      // required; loans' CutOffDate must be zero or equal
	Currency    money.Currency // required, ISO 4217
	SourceFile  string         // the tape's file name, for the record
	ContentHash string         // SHA-256 of the tape bytes (hex); a second import of it is ECONFLICT
	Salt        []byte         // the portfolio's commitment salt (pii.NewSalt); required
	Actor       string         // who imports, for the tape.imported event
}

// LoanRow is one loan to import with its borrower's sealed personal data: ingest's row type, so
// that a batch from an import passes to the session as it is, without a copy of every loan on the
// path between the client's conversion and the COPY (docs/benchmarks.md, issue 11, h-pgimp2). The
// first row of a borrower that carries Sealed supplies the borrower's stored PII; KeyID is
// required with Sealed; the first row of a borrower supplies its Masked forms; Blind is stored
// with the row that supplies Sealed.
type LoanRow = ingest.LoanRow

// ImportSummary is what the caller computed over the whole tape, written by Commit.
type ImportSummary struct {
	// LoanCount and BorrowerCount must equal what the import added, or be zero to take those.
	LoanCount     int64
	BorrowerCount int64
	// TotalClaim must equal the sum of the loans' TotalClaim in the portfolio currency, or be
	// absent to take that sum.
	TotalClaim money.Amount
	// HeaderJSON is the pool header and ReportJSON the import report; both are opaque JSON
	// documents (nil stores NULL).
	HeaderJSON []byte
	ReportJSON []byte
}

// Import is a bulk import session: one database transaction holding a new portfolio, its
// borrowers, their sealed PII, its loans and repayments. Nothing is visible to other sessions
// until Commit; Rollback, a failed call, DB.Close or a crash leaves nothing behind. Its methods
// must be called from one goroutine. On SQLite the session holds the single writer connection, so
// other writes wait until it ends.
type Import struct {
	db   *DB
	meta ImportMeta
	conn *sql.Conn
	tx   *sql.Tx
	done bool
	err  error // sticky: after a failed call only Rollback is useful

	portfolioID int64
	sellerID    int64
	// borrowers and older hold the borrowers of the recent chunks, in two generations (each
	// bounded by recentBorrowers); seenRefs answers "certainly new" for most other borrowers, and
	// the rest are looked up in the transaction (resolveBorrowers), so memory does not grow with
	// the tape.
	borrowers    map[string]borrowerState
	older        map[string]borrowerState // the generation before borrowers (resolveBorrowers)
	olderUpTo    int64                    // older holds borrowers of chunks up to this one
	dropped      int64                    // the generation dropped last held borrowers of chunks up to this one
	lookups      int                      // chunks whose borrowers were looked up in the transaction
	lookupDrains int                      // ... of which waited for every queued chunk first
	seenRefs     *bloom.Growing
	nBorrowers   int64
	nextBorrow   int64  // SQLite: next borrowers.id to assign
	borrowSeq    string // PostgreSQL: the borrowers.id sequence
	loans        int64
	claim        int64

	pg      *pgBufs                 // PostgreSQL: the COPY buffers (addLoansPG)
	pipe    *importPipe             // after Pipeline: the goroutine that stores the chunks
	stmts   map[stmtKey]driver.Stmt // SQLite multi-row INSERTs by table and row count, on the driver
	nv      []driver.NamedValue     // SQLite: reused arguments, ordinals preset
	raw     *sqliteWriter           // SQLite: the INSERTs below database/sql (sqlite_importwrite.go), nil through the driver
	rawMode int8                    // SQLite: 0 undecided, 1 raw, 2 through the driver
	spare   chan *sqliteChunk       // SQLite, raw: chunks stored and reset, for reuse
	dates   map[date.Date]any       // SQLite: boxed 'YYYY-MM-DD' strings, so each distinct date allocates once
	args    []any
	brows   []borrowerRow
	prows   []borrowerRow
}

type borrowerState struct {
	id     int64
	hasPII bool
}

type borrowerRow struct {
	id     int64
	ref    string
	keyID  string
	sealed []byte
	masked reclaim.Masked
	blind  []workout.BlindTerm
}

type stmtKey struct {
	table string
	rows  int
}

// sqliteBatch is the number of rows per multi-row INSERT on SQLite (36 loan columns x 500 rows
// stays under SQLite's 32766 bound variables).
const sqliteBatch = 500

// pgChunk is the number of loans per round of COPY on PostgreSQL.
const pgChunk = 20000

// BeginImport opens an import session and creates the (still invisible) portfolio and, if new,
// the seller. It fails with EINVALID for incomplete meta and with ECONFLICT, naming the existing
// portfolio, when ContentHash was imported before.
func (d *DB) BeginImport(ctx context.Context, meta ImportMeta) (_ *Import, err error) {
	meta.SellerName = strings.TrimSpace(meta.SellerName)
	if meta.Name == "" {
		meta.Name = meta.Ref
	}
	switch {
	case meta.SellerName == "":
		return nil, reclaim.Errorf(reclaim.EINVALID, "import needs a seller name")
	case meta.ContentHash == "":
		return nil, reclaim.Errorf(reclaim.EINVALID, "import needs the tape's content hash")
	case meta.CutOffDate.IsZero():
		return nil, reclaim.Errorf(reclaim.EINVALID, "import needs a cut-off date")
	case !meta.Currency.Valid():
		return nil, reclaim.Errorf(reclaim.EINVALID, "import needs an ISO 4217 currency, got %q", meta.Currency)
	case len(meta.Salt) == 0:
		return nil, reclaim.Errorf(reclaim.EINVALID, "import needs a portfolio salt")
	}
	imp := &Import{db: d, meta: meta, borrowers: map[string]borrowerState{}, older: map[string]borrowerState{}, seenRefs: bloom.NewGrowing(seenRefsBits, 64<<20), stmts: map[stmtKey]driver.Stmt{},
		dates: map[date.Date]any{}}
	imp.conn, err = d.w.Conn(ctx)
	if err != nil {
		return nil, dbError(err, "import: connecting")
	}
	defer func() {
		if err != nil {
			imp.release()
		}
	}()
	imp.tx, err = imp.conn.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE; PostgreSQL: READ COMMITTED
	if err != nil {
		return nil, dbError(err, "import: beginning transaction")
	}
	var existing int64
	err = imp.tx.QueryRowContext(ctx, d.rebind(`SELECT id FROM portfolios WHERE content_hash = ?`), meta.ContentHash).Scan(&existing)
	switch {
	case err == nil:
		return nil, reclaim.Errorf(reclaim.ECONFLICT, "this tape (content hash %s) was already imported as portfolio %d", meta.ContentHash, existing)
	case err != sql.ErrNoRows:
		return nil, dbError(err, "import: checking content hash")
	}
	now := d.nowUTC()
	if imp.sellerID, err = upsertSeller(ctx, imp.exec(), d, meta.SellerName, now); err != nil {
		return nil, err
	}
	err = imp.tx.QueryRowContext(ctx, d.rebind(`INSERT INTO portfolios
		(seller_id, ref, name, cut_off_date, currency, status, source_file, content_hash, salt, imported_at)
		VALUES (?, ?, ?, ?, ?, 'importing', ?, ?, ?, ?) RETURNING id`),
		imp.sellerID, meta.Ref, meta.Name, dateArg(meta.CutOffDate), string(meta.Currency), meta.SourceFile,
		meta.ContentHash, meta.Salt, d.instant(now)).Scan(&imp.portfolioID)
	if err != nil {
		if isUniqueViolation(err) { // a concurrent import of the same tape committed first
			return nil, reclaim.WrapError(reclaim.ECONFLICT, err, "this tape (content hash %s) was already imported", meta.ContentHash)
		}
		return nil, dbError(err, "import: creating portfolio")
	}
	if d.dialect == SQLite {
		// The writer lock (BEGIN IMMEDIATE) is held, so ids past the maximum are ours.
		if err := imp.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM borrowers`).Scan(&imp.nextBorrow); err != nil {
			return nil, dbError(err, "import: reading borrower ids")
		}
	} else {
		if err := imp.tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence('borrowers', 'id')`).Scan(&imp.borrowSeq); err != nil {
			return nil, dbError(err, "import: finding borrower id sequence")
		}
	}
	d.mu.Lock()
	d.imports[imp] = struct{}{}
	d.mu.Unlock()
	return imp, nil
}

// PortfolioID returns the id the portfolio will have once committed.
func (imp *Import) PortfolioID() int64 { return imp.portfolioID }

// execer is what upsertSeller needs from a *sql.Tx or a *Tx.
type execer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (imp *Import) exec() execer { return imp.tx }

func (imp *Import) check() error {
	if imp.done {
		return reclaim.Errorf(reclaim.EINVALID, "import session already ended")
	}
	return imp.err
}

func (imp *Import) fail(err error, what string) error {
	imp.err = dbError(err, "import: "+what)
	return imp.err
}

// AddLoans adds loans to the portfolio, creating each borrower (by BorrowerID) on first sight and
// storing the sealed PII of the first of its rows that has any. Rows are validated: LoanID and
// BorrowerID are required, PortfolioRef and CutOffDate must be empty or the portfolio's, Currency
// must be the portfolio's and every present amount in it, Sealed needs a KeyID. A duplicate LoanID is
// ECONFLICT. After an error the session can only be rolled back. Pass rows in batches of a few
// thousand for speed; the slice is not retained.
func (imp *Import) AddLoans(ctx context.Context, rows []LoanRow) error {
	if err := imp.check(); err != nil {
		return err
	}
	if imp.pipe != nil {
		if err := imp.pipe.failed(); err != nil {
			imp.err = err
			return err
		}
	}
	for i := range rows {
		if err := imp.validate(&rows[i]); err != nil {
			imp.err = err
			return err
		}
	}
	var err error
	if imp.db.dialect == Postgres {
		err = imp.addLoansPG(ctx, rows)
	} else {
		err = imp.addLoansSQLite(ctx, rows)
	}
	if err != nil {
		if imp.err == nil {
			imp.err = err
			if _, ok := err.(*reclaim.Error); !ok {
				imp.err = imp.wrapAddErr(err)
			}
		}
		return imp.err
	}
	return nil
}

func (imp *Import) validate(r *LoanRow) error {
	l := &r.Loan
	bad := func(format string, args ...any) error {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf(format, args...),
			Fields: map[string]string{"loan_id": l.LoanID}}
	}
	if l.LoanID == "" {
		return bad("loan without a loan id")
	}
	if l.BorrowerID == "" {
		return bad("loan %s has no borrower id", l.LoanID)
	}
	if l.PortfolioRef != "" && l.PortfolioRef != imp.meta.Ref {
		return bad("loan %s belongs to package %q, not %q", l.LoanID, l.PortfolioRef, imp.meta.Ref)
	}
	if !l.CutOffDate.IsZero() && l.CutOffDate != imp.meta.CutOffDate {
		return bad("loan %s has cut-off date %s, not the portfolio's %s", l.LoanID, l.CutOffDate, imp.meta.CutOffDate)
	}
	if l.Currency != imp.meta.Currency {
		return bad("loan %s is in %q, the portfolio in %q", l.LoanID, l.Currency, imp.meta.Currency)
	}
	for _, a := range [...]money.Amount{l.OriginalAmount, l.PrincipalOutstanding, l.InterestOutstanding,
		l.FeesOutstanding, l.TotalClaim, l.LastPaymentAmount} {
		if !a.IsAbsent() && a.Currency() != l.Currency {
			return bad("loan %s has an amount in %q but its currency is %q", l.LoanID, a.Currency(), l.Currency)
		}
	}
	if len(r.Sealed) > 0 && r.KeyID == "" {
		return bad("loan %s has sealed personal data without a key id", l.LoanID)
	}
	m := l.TotalClaim.Minor()
	s := imp.claim + m
	if (m > 0 && s < imp.claim) || (m < 0 && s > imp.claim) {
		return bad("total claim of the portfolio overflows at loan %s", l.LoanID)
	}
	imp.claim = s
	return nil
}

// seenRefsBits is the bits per borrower of the import's Bloom filter of borrower refs: 28 bits
// (19 probes) answer "maybe" for about one new borrower in 200,000 over the filter's chain, so
// that a chunk of a few thousand borrowers needs a look-up about once in 30 chunks; at 16 bits
// (11 probes) it was about one in 700, several in every chunk, and each look-up of a pipelined
// session waits for the chunk being stored (resolveBorrowers).
const seenRefsBits = 28

// recentBorrowers bounds the borrowers of each of the two generations an import keeps in memory
// (Import.borrowers and Import.older), so that memory does not grow with the tape. The borrowers
// of the chunks a pipelined session may still be storing (pgPipeBatches+1 chunks) can outnumber
// them: a look-up then waits for those chunks (resolveBorrowers), which the Bloom filter makes
// rare (about once an import of 300,000 loans).
var recentBorrowers = 1 << 13

// known returns what the import remembers of the borrower ref.
func (imp *Import) known(ref string) (borrowerState, bool) {
	if st, ok := imp.borrowers[ref]; ok {
		return st, true
	}
	st, ok := imp.older[ref]
	return st, ok
}

// resolveBorrowers makes the import remember every borrower of rows that an earlier chunk
// stored: the recent ones are in memory; the Bloom filter proves most others new, and those it
// cannot are looked up in the transaction. Every borrower of rows the import does not remember
// afterwards is new. Call it at the start of a chunk, before borrower.
//
// A pipelined session looks them up between two of its goroutine's chunks, without waiting for
// the chunks still queued: the borrowers of those are in memory, since the generation dropped
// last holds only borrowers of chunks already stored (checked: stored >= dropped; otherwise it
// waits for them all). Waiting for every chunk at each look-up, as it did, emptied the queue at
// almost every chunk (the bloom filter's false positives and the borrowers across a chunk's edge
// made a look-up of a few refs in most chunks) and left the server idle while the next was built.
func (imp *Import) resolveBorrowers(ctx context.Context, rows []LoanRow) error {
	if len(imp.borrowers) > recentBorrowers {
		// The current generation becomes the older one; the older one is dropped, its map kept
		// for its room (no rehash as the new generation grows).
		imp.borrowers, imp.older = imp.older, imp.borrowers
		clear(imp.borrowers)
		imp.dropped = imp.olderUpTo
		if imp.pipe != nil {
			imp.olderUpTo = imp.pipe.sent
		}
	}
	var ask []string
	asked := map[string]bool{}
	for i := range rows {
		ref := rows[i].Loan.BorrowerID
		if _, ok := imp.known(ref); ok || asked[ref] || !imp.seenRefs.Has(ref) {
			continue
		}
		asked[ref] = true
		ask = append(ask, ref)
	}
	if len(ask) == 0 {
		return nil
	}
	imp.lookups++
	if p := imp.pipe; p != nil {
		p.conn.Lock() // the goroutine is between two chunks
		p.settle(imp) // the connection must owe no reply before the look-up's statement
		if p.stored.Load() < imp.dropped {
			imp.lookupDrains++
			p.conn.Unlock()
			if err := imp.drain(); err != nil {
				return err
			}
			p.conn.Lock()
		}
		defer p.conn.Unlock()
		if err := p.failed(); err != nil {
			imp.err = err
			return err
		}
	}
	for len(ask) > 0 {
		part := ask[:min(len(ask), sqliteBatch)]
		ask = ask[len(part):]
		q := `SELECT b.borrower_ref, b.id, p.borrower_id IS NOT NULL FROM borrowers b
			LEFT JOIN borrower_pii p ON p.borrower_id = b.id WHERE b.portfolio_id = ? AND b.borrower_ref `
		q, args := imp.db.inList(q, []any{imp.portfolioID}, part)
		rs, err := imp.tx.QueryContext(ctx, imp.db.rebind(q), args...)
		if err != nil {
			return err
		}
		for rs.Next() {
			var ref string
			var st borrowerState
			if err := rs.Scan(&ref, &st.id, &st.hasPII); err != nil {
				rs.Close()
				return err
			}
			imp.borrowers[ref] = st
		}
		if err := rs.Err(); err != nil {
			rs.Close()
			return err
		}
		if err := rs.Close(); err != nil {
			return err
		}
	}
	return nil
}

// borrower returns the borrower id for ref, recording a new borrower and its PII for insertion.
// resolveBorrowers must have run for the chunk that holds r.
func (imp *Import) borrower(r *LoanRow, newID func() int64) int64 {
	ref := r.Loan.BorrowerID
	st, ok := imp.known(ref)
	if !ok {
		st.id = newID()
		imp.seenRefs.Add(ref)
		imp.nBorrowers++
		imp.brows = append(imp.brows, borrowerRow{id: st.id, ref: ref, masked: r.Masked})
	}
	if !st.hasPII && len(r.Sealed) > 0 {
		st.hasPII = true
		imp.prows = append(imp.prows, borrowerRow{id: st.id, keyID: r.KeyID, sealed: r.Sealed, blind: r.Blind})
	}
	if cur, inCur := imp.borrowers[ref]; !inCur || cur != st {
		imp.borrowers[ref] = st // a borrower of the older generation is recent again
	}
	return st.id
}

func extrasJSON(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// loanColumns lists the loans columns an import writes, in argument order.
const loanColumns = `portfolio_id, borrower_id, loan_ref, borrower_ref, product_type, origination_date,
	original_amount_minor, currency, principal_minor, interest_minor, fees_minor, total_claim_minor,
	default_date, days_past_due, five_category, written_off, write_off_date, security_type,
	last_payment_date, last_payment_amount_minor, legal_status, legal_start_date, court,
	limitation_expiry_date, birth_year, age, region_code, deceased, bankrupt, phone_available,
	last_contact_date, forbearance_count, repayment_plan_active, agency_placements, complaint_flag,
	extras_json`

const nLoanColumns = 36

// dateValue returns dateArg(t) on SQLite and dateCopy(t) on PostgreSQL, boxed once per distinct
// date of the import (tapes hold few distinct dates, and boxing each would allocate).
func (imp *Import) dateValue(t date.Date) any {
	if t.IsZero() {
		return nil
	}
	if v, ok := imp.dates[t]; ok {
		return v
	}
	v := dateArg(t)
	if imp.db.dialect == Postgres {
		v = dateCopy(t)
	}
	if len(imp.dates) < 1<<16 {
		imp.dates[t] = v
	}
	return v
}

// appendLoan appends the loan's column values; dates are text for SQLite and time.Time for
// PostgreSQL's binary COPY.
func (imp *Import) appendLoan(dst []any, pid, bid int64, l *reclaim.Loan) ([]any, error) {
	dt := imp.dateValue
	extras, err := extrasJSON(l.Extras)
	if err != nil {
		return dst, err
	}
	by, age := imp.storedBirth(l)
	var birthYear any
	if by > 0 {
		birthYear = int64(by)
	}
	return append(dst,
		pid, bid, l.LoanID, l.BorrowerID, textArg(string(l.ProductType)), dt(l.OriginationDate),
		minorArg(l.OriginalAmount), string(l.Currency), minorArg(l.PrincipalOutstanding),
		minorArg(l.InterestOutstanding), minorArg(l.FeesOutstanding), minorArg(l.TotalClaim),
		dt(l.DefaultDate), int64(l.DaysPastDue), textArg(string(l.FiveCategory)), l.WrittenOff,
		dt(l.WriteOffDate), textArg(string(l.SecurityType)),
		dt(l.LastPaymentDate), minorArg(l.LastPaymentAmount), textArg(string(l.LegalStatus)),
		dt(l.LegalStartDate), textArg(l.Court),
		dt(l.LimitationExpiryDate), birthYear, countArg(age), textArg(l.RegionCode),
		l.Deceased, l.Bankrupt, l.PhoneAvailable,
		dt(l.LastContactDate), countArg(l.ForbearanceCount), l.RepaymentPlanActive,
		int64(l.AgencyPlacements), l.ComplaintFlag,
		extras), nil
}

// storedBirth returns what a loans row keeps of the borrower's birth: the birth year (0 when
// unknown) and the age, which is then the cut-off year minus that year. The birth date itself is
// personal data (sealed with the rest by the caller) and is never written to the row, so that
// nothing in clear narrows it below a year (docs/security-pii.md). All three writers (appendLoan,
// appendLoanVals, copyLoan) use it.
func (imp *Import) storedBirth(l *reclaim.Loan) (year, age int) {
	year, age = l.BirthYear, l.Age
	if year <= 0 && !l.BirthDate.IsZero() {
		year = l.BirthDate.Year()
	}
	if year > 0 {
		age = imp.meta.CutOffDate.Year() - year
	}
	return max(year, 0), age
}

// multiInsertSQL returns INSERT OR FAIL INTO table (cols) VALUES (?,...), ... for n rows. OR
// FAIL (stop at the failing row, keep the statement's earlier rows) spares SQLite the statement
// journal that a multi-row INSERT would otherwise keep to undo a partial statement; an import
// that fails is rolled back whole anyway.
func multiInsertSQL(table, cols string, ncols, n int) string {
	var b strings.Builder
	b.Grow(len(cols) + n*(2*ncols+4) + 64)
	b.WriteString("INSERT OR FAIL INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(cols)
	b.WriteString(") VALUES ")
	row := "(" + strings.Repeat("?,", ncols-1) + "?)"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// flushRows inserts rows of ncols values held in args, sqliteBatch rows per statement. It talks
// to the SQLite driver directly (inside the session's transaction, on its connection) with
// cached statements and a reused argument slice, which spares database/sql's per-call copy and
// conversion of some 18,000 arguments.
func (imp *Import) flushRows(ctx context.Context, table, cols string, ncols int, args []any) error {
	return imp.conn.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("sqldb: SQLite driver connection %T cannot prepare", dc)
		}
		for len(args) > 0 {
			n := min(len(args)/ncols, sqliteBatch)
			k := stmtKey{table, n}
			st, ok := imp.stmts[k]
			if !ok {
				var err error
				if st, err = pc.PrepareContext(ctx, multiInsertSQL(table, cols, ncols, n)); err != nil {
					return err
				}
				imp.stmts[k] = st
			}
			ex, ok := st.(driver.StmtExecContext)
			if !ok {
				return fmt.Errorf("sqldb: SQLite statement %T cannot execute with a context", st)
			}
			for len(imp.nv) < n*ncols {
				imp.nv = append(imp.nv, driver.NamedValue{Ordinal: len(imp.nv) + 1})
			}
			nv := imp.nv[:n*ncols]
			for i := range nv {
				nv[i].Value = args[i]
			}
			_, err := ex.ExecContext(ctx, nv)
			for i := range nv {
				nv[i].Value = nil
			}
			if err != nil {
				return err
			}
			args = args[n*ncols:]
		}
		return nil
	})
}

// sqliteChunk holds the values of one chunk of rows for the three tables an import writes on
// SQLite, in the order they are inserted.
type sqliteChunk struct {
	ctx                      context.Context
	borrowers, pii, loanArgs []any // through the driver
	// The raw path (Import.raw): the borrowers', borrower_pii's and loans' values.
	vb, vp, vl sqliteVals
	blind      []byte // scratch: a borrower's blind-index terms
}

// useRaw decides, at the first chunk, whether the session's INSERTs go below database/sql.
func (imp *Import) useRaw() bool {
	if imp.rawMode == 0 {
		imp.rawMode = 2
		if !importDriverBind {
			imp.conn.Raw(func(dc any) error { imp.raw = openSQLiteWriter(dc); return nil })
		}
		if imp.raw != nil {
			imp.rawMode = 1
			imp.spare = make(chan *sqliteChunk, 8)
		}
	}
	return imp.rawMode == 1
}

// importDriverBind makes imports bind through the driver (tests compare the two paths).
var importDriverBind bool

// rawChunk returns a chunk for the raw path, reused when one is spare.
func (imp *Import) rawChunk(ctx context.Context) *sqliteChunk {
	select {
	case c := <-imp.spare:
		c.ctx = ctx
		return c
	default:
		return &sqliteChunk{ctx: ctx}
	}
}

// recycle resets a stored raw chunk and keeps it for reuse.
func (imp *Import) recycle(c *sqliteChunk) {
	c.ctx = nil
	c.vb.reset()
	c.vp.reset()
	c.vl.reset()
	c.blind = c.blind[:0]
	select {
	case imp.spare <- c:
	default:
	}
}

// addChunkRaw builds a chunk's values for the raw path.
func (imp *Import) addChunkRaw(ctx context.Context, chunk []LoanRow, newID func() int64) (*sqliteChunk, error) {
	c := imp.rawChunk(ctx)
	for i := range chunk {
		bid := imp.borrower(&chunk[i], newID)
		if err := imp.appendLoanVals(&c.vl, imp.portfolioID, bid, &chunk[i].Loan); err != nil {
			imp.recycle(c)
			return nil, err
		}
	}
	for _, r := range imp.brows {
		c.vb.int(r.id)
		c.vb.int(imp.portfolioID)
		c.vb.text(r.ref)
		c.vb.textOrNull(r.masked.Name)
		c.vb.textOrNull(r.masked.NationalID)
		c.vb.textOrNull(r.masked.Phone)
	}
	for _, r := range imp.prows {
		c.vp.int(r.id)
		c.vp.text(r.keyID)
		c.vp.blob(r.sealed)
		var kept bool
		if c.blind, kept = appendBlindTerms(c.blind[:0], r.blind); kept {
			c.vp.blob(c.blind) // copied
		} else {
			c.vp.null()
		}
	}
	return c, nil
}

// insertVals runs the raw INSERTs of s on the session's connection.
func (imp *Import) insertVals(ctx context.Context, table, cols string, ncols int, s *sqliteVals) error {
	if s.len() == 0 {
		return nil
	}
	return imp.conn.Raw(func(any) error { return imp.raw.insert(ctx, table, cols, ncols, s) })
}

func (imp *Import) addLoansSQLite(ctx context.Context, rows []LoanRow) error {
	newID := func() int64 { id := imp.nextBorrow; imp.nextBorrow++; return id }
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), sqliteBatch)]
		rows = rows[len(chunk):]
		if err := imp.resolveBorrowers(ctx, chunk); err != nil {
			return err
		}
		imp.brows, imp.prows = imp.brows[:0], imp.prows[:0]
		if imp.useRaw() {
			c, err := imp.addChunkRaw(ctx, chunk, newID)
			if err != nil {
				return err
			}
			imp.loans += int64(len(chunk))
			if imp.pipe == nil {
				err := imp.execChunk(c)
				imp.recycle(c)
				if err != nil {
					return err
				}
			} else if err := imp.pipe.send(c); err != nil {
				imp.recycle(c)
				return err
			}
			continue
		}
		c := &sqliteChunk{ctx: ctx}
		if imp.pipe == nil {
			c.loanArgs = imp.args[:0] // executed before the next chunk is built: reuse
		} else {
			c.loanArgs = make([]any, 0, len(chunk)*nLoanColumns)
		}
		var err error
		for i := range chunk {
			bid := imp.borrower(&chunk[i], newID)
			if c.loanArgs, err = imp.appendLoan(c.loanArgs, imp.portfolioID, bid, &chunk[i].Loan); err != nil {
				return err
			}
		}
		if len(imp.brows) > 0 {
			c.borrowers = make([]any, 0, 6*len(imp.brows))
			for _, r := range imp.brows {
				c.borrowers = append(c.borrowers, r.id, imp.portfolioID, r.ref, textArg(r.masked.Name), textArg(r.masked.NationalID), textArg(r.masked.Phone))
			}
		}
		if len(imp.prows) > 0 {
			c.pii = make([]any, 0, 4*len(imp.prows))
			for _, r := range imp.prows {
				c.pii = append(c.pii, r.id, r.keyID, r.sealed, encodeBlindTerms(r.blind))
			}
		}
		imp.loans += int64(len(chunk))
		if imp.pipe == nil {
			err := imp.execChunk(c)
			imp.args = c.loanArgs[:0]
			clear(c.loanArgs) // drop references to the caller's strings and blobs
			if err != nil {
				return err
			}
			continue
		}
		if err := imp.pipe.send(c); err != nil {
			return err
		}
	}
	return nil
}

// execChunk inserts a chunk's rows.
func (imp *Import) execChunk(c *sqliteChunk) error {
	if imp.raw != nil {
		if err := imp.insertVals(c.ctx, "borrowers", borrowerColumns, 6, &c.vb); err != nil {
			return err
		}
		if err := imp.insertVals(c.ctx, "borrower_pii", piiColumns, 4, &c.vp); err != nil {
			return err
		}
		return imp.insertVals(c.ctx, "loans", loanColumns, nLoanColumns, &c.vl)
	}
	if len(c.borrowers) > 0 {
		if err := imp.flushRows(c.ctx, "borrowers", borrowerColumns, 6, c.borrowers); err != nil {
			return err
		}
	}
	if len(c.pii) > 0 {
		if err := imp.flushRows(c.ctx, "borrower_pii", piiColumns, 4, c.pii); err != nil {
			return err
		}
	}
	return imp.flushRows(c.ctx, "loans", loanColumns, nLoanColumns, c.loanArgs)
}

// The columns of the borrowers and borrower_pii rows an import on SQLite writes.
const (
	borrowerColumns = "id, portfolio_id, borrower_ref, masked_name, masked_national_id, masked_phone"
	piiColumns      = "borrower_id, key_id, sealed, blind"
)

// Pipeline makes AddLoans return once its rows are prepared (borrower ids assigned, values or
// COPY rows built) and store them on a goroutine of the session, so that the caller prepares the
// next rows while the database stores these: the Go half and the database half of storing a loan
// overlap on two cores. An error the goroutine meets (ECONFLICT for a loan id stored twice) is
// returned by a later AddLoans, HasLoans, AddRepayments or Commit, and the session can then only
// be rolled back. Call it before the first AddLoans. On PostgreSQL it needs a pool of two
// connections or more (the session's, and one to reserve borrower ids on while it sends rows);
// with one it changes nothing.
func (imp *Import) Pipeline() {
	if imp.pipe != nil || (imp.db.dialect == Postgres && imp.db.pgConns < 2) {
		return // PostgreSQL reserves borrower ids on a second connection while the first sends
	}
	queue := 4
	if imp.db.dialect == Postgres {
		queue = pgPipeBatches
	}
	p := &importPipe{ch: make(chan pipeJob, queue), done: make(chan struct{})}
	imp.pipe = p
	go func() {
		defer close(p.done)
		for j := range p.ch {
			if pipeStoreDelay > 0 {
				time.Sleep(pipeStoreDelay)
			}
			p.conn.Lock()
			if p.failed() == nil && !p.stop.Load() {
				if err := j.store(imp); err != nil {
					p.setErr(imp.wrapAddErr(err))
				}
			}
			// The chunk before this one is confirmed only now, so that the server had this
			// one's rows to work on while its replies were on their way (copyWire). With
			// nothing queued, this one is confirmed at once: the connection owes no reply
			// while the goroutine waits.
			p.settle(imp)
			p.pending = j
			if _, sqlite := j.(*sqliteChunk); sqlite || len(p.ch) == 0 {
				p.settle(imp)
			}
			p.conn.Unlock()
		}
		p.conn.Lock()
		p.settle(imp)
		p.conn.Unlock()
	}()
}

// pipeStoreDelay slows a pipelined session's goroutine down before each chunk, so that a test
// finds chunks queued (SetPipeStoreDelayForTest); zero outside tests.
var pipeStoreDelay time.Duration

// pipeJob is one chunk queued for a pipelined session's goroutine: store writes it (on
// PostgreSQL it only sends it), confirm waits for the database's replies to what store sent,
// release returns its memory for reuse (after confirm, or instead of store and confirm once the
// session has failed).
type pipeJob interface {
	store(imp *Import) error
	confirm(imp *Import) error
	release(imp *Import)
}

func (c *sqliteChunk) store(imp *Import) error { return imp.execChunk(c) }
func (c *sqliteChunk) confirm(*Import) error   { return nil }

func (c *sqliteChunk) release(imp *Import) {
	clear(c.loanArgs)
	if imp.raw != nil {
		imp.recycle(c)
	}
}

func (b *pgBatch) store(imp *Import) error   { return imp.sendBatch(b) }
func (b *pgBatch) confirm(imp *Import) error { return imp.confirmBatch(b) }
func (b *pgBatch) release(imp *Import)       { imp.recyclePG(b) }

// importPipe is the goroutine of a pipelined import and what it owes its caller.
type importPipe struct {
	ch       chan pipeJob
	done     chan struct{}
	inflight sync.WaitGroup
	conn     sync.Mutex   // held while a chunk is stored or confirmed, and by resolveBorrowers' look-ups
	pending  pipeJob      // the chunk stored last and not yet confirmed (guarded by conn)
	sent     int64        // chunks sent (by the session's caller)
	stored   atomic.Int64 // chunks stored and confirmed (or skipped after an error), in the order sent
	stop     atomic.Bool  // set by release: skip what is still queued
	mu       sync.Mutex
	err      error
	closed   bool
}

func (p *importPipe) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *importPipe) setErr(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

func (p *importPipe) send(j pipeJob) error {
	if err := p.failed(); err != nil {
		return err
	}
	p.inflight.Add(1)
	p.sent++
	p.ch <- j
	return nil
}

// settle confirms the pending chunk, if any, and returns its memory. The connection is then
// free for another statement. Call it with conn held.
func (p *importPipe) settle(imp *Import) {
	j := p.pending
	if j == nil {
		return
	}
	p.pending = nil
	if err := j.confirm(imp); err != nil {
		p.setErr(imp.wrapAddErr(err))
	}
	p.stored.Add(1)
	j.release(imp)
	p.inflight.Done()
}

// wait returns once every chunk sent has been stored (or skipped after an error), with the
// first error.
func (p *importPipe) wait() error {
	p.inflight.Wait()
	return p.failed()
}

// close stops the goroutine; chunks still queued are skipped.
func (p *importPipe) close() {
	if p.closed {
		return
	}
	p.closed = true
	p.stop.Store(true)
	close(p.ch)
	<-p.done
}

// drain waits for a pipelined import's INSERTs, recording their error as the session's.
func (imp *Import) drain() error {
	if imp.pipe == nil {
		return nil
	}
	if err := imp.pipe.wait(); err != nil {
		if imp.err == nil {
			imp.err = err
		}
		return imp.err
	}
	return nil
}

func (imp *Import) wrapAddErr(err error) error {
	if isUniqueViolation(err) {
		return reclaim.WrapError(reclaim.ECONFLICT, err, "import: a loan id occurs twice in the portfolio")
	}
	return dbError(err, "import: adding loans")
}

// copySource feeds pgx.CopyFrom from a flat slice of values, ncols per row, reusing no memory
// the caller still needs.
type copySource struct {
	vals  []any
	ncols int
	i     int
}

func (s *copySource) Next() bool                      { s.i++; return s.i*s.ncols <= len(s.vals) }
func (s *copySource) Values() ([]any, error)          { return s.vals[(s.i-1)*s.ncols : s.i*s.ncols], nil }
func (s *copySource) Err() error                      { return nil }
func newCopySource(vals []any, ncols int) *copySource { return &copySource{vals: vals, ncols: ncols} }

// copyLoan writes the loan's row of loansCopy, with the values appendLoan gives SQLite.
func (imp *Import) copyLoan(c *copyBuf, bid int64, l *reclaim.Loan) error {
	extras, err := extrasJSON(l.Extras)
	if err != nil {
		return err
	}
	c.row(nLoanColumns)
	c.int8(imp.portfolioID)
	c.int8(bid)
	c.text(l.LoanID)
	c.text(l.BorrowerID)
	c.textOrNull(string(l.ProductType))
	c.date(l.OriginationDate)
	c.minor(l.OriginalAmount)
	c.text(string(l.Currency))
	c.minor(l.PrincipalOutstanding)
	c.minor(l.InterestOutstanding)
	c.minor(l.FeesOutstanding)
	c.minor(l.TotalClaim)
	c.date(l.DefaultDate)
	c.int4(int64(l.DaysPastDue))
	c.textOrNull(string(l.FiveCategory))
	c.bool(l.WrittenOff)
	c.date(l.WriteOffDate)
	c.textOrNull(string(l.SecurityType))
	c.date(l.LastPaymentDate)
	c.minor(l.LastPaymentAmount)
	c.textOrNull(string(l.LegalStatus))
	c.date(l.LegalStartDate)
	c.textOrNull(l.Court)
	c.date(l.LimitationExpiryDate)
	by, age := imp.storedBirth(l) // the birth year, never the birth date
	if by > 0 {
		c.int4(int64(by))
	} else {
		c.null()
	}
	c.count(age)
	c.textOrNull(l.RegionCode)
	c.bool(l.Deceased)
	c.bool(l.Bankrupt)
	c.bool(l.PhoneAvailable)
	c.date(l.LastContactDate)
	c.count(l.ForbearanceCount)
	c.bool(l.RepaymentPlanActive)
	c.int4(int64(l.AgencyPlacements))
	c.bool(l.ComplaintFlag)
	if extras == nil {
		c.null()
	} else {
		c.text(extras.(string))
	}
	return c.err
}

// pgBatch is one chunk's rows in binary COPY format for the three tables an import fills on
// PostgreSQL, built whole before any is sent (encodeBatch), so that a pipelined session's
// goroutine sends one chunk while the caller builds the next.
type pgBatch struct {
	ctx                   context.Context
	loans, borrowers, pii copyBuf
	wire                  copyWire // the three COPY statements as sent, and the replies owed
	blind                 []byte   // scratch: a borrower's blind-index terms
}

// pgBufs is what an import on PostgreSQL reuses from chunk to chunk.
type pgBufs struct {
	free chan *pgBatch       // batches sent, kept for reuse
	bids []int64             // the chunk's borrower ids, row by row
	seen map[string]struct{} // the chunk's new borrowers, counted before their ids are reserved
}

// pgPipeBatches is how many encoded chunks a pipelined import on PostgreSQL queues for its
// goroutine: one being sent and one waiting keeps the server busy while the next is built.
const pgPipeBatches = 2

func (imp *Import) addLoansPG(ctx context.Context, rows []LoanRow) error {
	if imp.pg == nil {
		imp.pg = &pgBufs{free: make(chan *pgBatch, pgPipeBatches+2)}
	}
	bufs := imp.pg
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), pgChunk)]
		rows = rows[len(chunk):]
		if err := imp.resolveBorrowers(ctx, chunk); err != nil {
			return err
		}
		// Count the new borrowers, then reserve their ids from the sequence in one round trip.
		fresh := 0
		if bufs.seen == nil {
			bufs.seen = make(map[string]struct{}, len(chunk))
		}
		seen := bufs.seen
		clear(seen) // reused from chunk to chunk: a new map rehashed as it grew
		for i := range chunk {
			ref := chunk[i].Loan.BorrowerID
			if _, ok := imp.known(ref); !ok {
				if _, dup := seen[ref]; !dup {
					seen[ref] = struct{}{}
					fresh++
				}
			}
		}
		ids, err := imp.reserveBorrowerIDs(ctx, fresh)
		if err != nil {
			return err
		}
		next := 0
		newID := func() int64 { id := ids[next]; next++; return id }
		imp.brows, imp.prows = imp.brows[:0], imp.prows[:0]
		bids := bufs.bids[:0]
		for i := range chunk {
			bids = append(bids, imp.borrower(&chunk[i], newID))
		}
		bufs.bids = bids
		var b *pgBatch
		select {
		case b = <-bufs.free:
		default:
			b = &pgBatch{}
		}
		b.ctx = ctx
		err = imp.encodeBatch(b, chunk, bids)
		clear(imp.prows) // drop references to the caller's sealed data
		clear(imp.brows)
		if err != nil {
			imp.recyclePG(b)
			return err
		}
		imp.loans += int64(len(chunk))
		if imp.pipe == nil {
			err := imp.sendBatch(b)
			if err == nil {
				err = imp.confirmBatch(b)
			}
			imp.recyclePG(b)
			if err != nil {
				return err
			}
		} else if err := imp.pipe.send(b); err != nil {
			imp.recyclePG(b)
			return err
		}
	}
	return nil
}

// recyclePG keeps a sent batch for reuse.
func (imp *Import) recyclePG(b *pgBatch) {
	b.ctx = nil
	b.wire.reset()
	select {
	case imp.pg.free <- b:
	default:
	}
}

// sendBatch sends a batch's rows, one COPY per table, on the session's connection, without
// waiting for the replies (confirmBatch reads them).
func (imp *Import) sendBatch(b *pgBatch) error {
	b.wire.reset()
	for _, t := range [...]struct {
		t *copyTable
		b *copyBuf
	}{{loansCopy, &b.loans}, {borrowersCopy, &b.borrowers}, {piiCopy, &b.pii}} {
		if t.b.rows() {
			b.wire.add(t.t, t.b.finish())
		}
	}
	return pgxConn(b.ctx, imp.conn, func(c *pgx.Conn) error { return b.wire.send(b.ctx, c.PgConn()) })
}

// confirmBatch reads the replies to what sendBatch sent and returns the first error.
func (imp *Import) confirmBatch(b *pgBatch) error {
	if b.wire.owed == 0 {
		return nil
	}
	return pgxConn(b.ctx, imp.conn, func(c *pgx.Conn) error { return b.wire.confirm(b.ctx, c.PgConn()) })
}

// encodeBatch writes the binary COPY rows of chunk's loans (bids[i] is row i's borrower id) and
// of the chunk's new borrowers and their PII with its blind-index terms (imp.brows, imp.prows)
// into b.
func (imp *Import) encodeBatch(b *pgBatch, chunk []LoanRow, bids []int64) error {
	c := &b.loans
	c.start()
	for i := range chunk {
		if err := imp.copyLoan(c, bids[i], &chunk[i].Loan); err != nil {
			return err
		}
	}
	c = &b.borrowers
	c.start()
	for _, r := range imp.brows {
		c.row(6)
		c.int8(r.id)
		c.int8(imp.portfolioID)
		c.text(r.ref)
		c.textOrNull(r.masked.Name)
		c.textOrNull(r.masked.NationalID)
		c.textOrNull(r.masked.Phone)
	}
	c = &b.pii
	c.start()
	for _, r := range imp.prows {
		c.row(4)
		c.int8(r.id)
		c.text(r.keyID)
		c.bytea(r.sealed)
		var kept bool
		if b.blind, kept = appendBlindTerms(b.blind[:0], r.blind); kept {
			c.bytea(b.blind)
		} else {
			c.null()
		}
	}
	return nil
}

// reserveBorrowerIDs takes n ids from the borrowers.id sequence in one round trip, as one array
// (a row per id cost the client a database/sql scan each, a quarter of a second in a 300,000-loan
// import). A pipelined session takes them on another of the pool's connections, as its own may be
// sending a chunk: a sequence's values are not transactional, so ids taken there are the
// session's all the same.
func (imp *Import) reserveBorrowerIDs(ctx context.Context, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	conn := imp.conn
	if imp.pipe != nil {
		c, err := imp.db.w.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		conn = c
	}
	const reserve = `SELECT array_agg(nextval($1::regclass)) FROM generate_series(1, $2)`
	var ids []int64
	err := pgxConn(ctx, conn, func(c *pgx.Conn) error {
		if imp.pipe == nil {
			return c.QueryRow(ctx, reserve, imp.borrowSeq, n).Scan(&ids) // in the session's transaction
		}
		// On its own connection nextval gives the statement's transaction an id, so that its
		// commit flushes the sequence's WAL: as an autocommit statement that was a WAL sync per
		// chunk, in the middle of the session's COPY (which waited for the WAL write lock
		// meanwhile). It commits asynchronously instead: the session's own commit flushes the
		// WAL past these records, so an id stored by a committed import is never handed out
		// again after a crash, and ids an uncommitted import took may be, harmlessly.
		var b pgx.Batch
		b.Queue(`BEGIN`)
		b.Queue(`SET LOCAL synchronous_commit TO OFF`)
		b.Queue(reserve, imp.borrowSeq, n).QueryRow(func(row pgx.Row) error { return row.Scan(&ids) })
		b.Queue(`COMMIT`)
		return c.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("sqldb: reserved %d borrower ids, wanted %d", len(ids), n)
	}
	return ids, nil
}

// HasLoans reports, for each id, whether the import added a loan with that loan id.
func (imp *Import) HasLoans(ctx context.Context, ids []string) ([]bool, error) {
	if err := imp.check(); err != nil {
		return nil, err
	}
	if err := imp.drain(); err != nil {
		return nil, err
	}
	found := make(map[string]bool, min(len(ids), sqliteBatch))
	out := make([]bool, len(ids))
	for start := 0; start < len(ids); start += sqliteBatch {
		part := ids[start:min(start+sqliteBatch, len(ids))]
		clear(found)
		q := `SELECT loan_ref FROM loans WHERE portfolio_id = ? AND loan_ref `
		q, args := imp.db.inList(q, []any{imp.portfolioID}, part)
		rs, err := imp.tx.QueryContext(ctx, imp.db.rebind(q), args...)
		if err != nil {
			return nil, imp.fail(err, "looking up loans")
		}
		for rs.Next() {
			var ref string
			if err := rs.Scan(&ref); err != nil {
				rs.Close()
				return nil, imp.fail(err, "looking up loans")
			}
			found[ref] = true
		}
		if err := rs.Err(); err != nil {
			rs.Close()
			return nil, imp.fail(err, "looking up loans")
		}
		rs.Close()
		for i, id := range part {
			out[start+i] = found[id]
		}
	}
	return out, nil
}

// repaymentColumns lists the repayments columns an import writes.
const repaymentColumns = "portfolio_id, loan_ref, month, amount_minor, currency, source, channel"

// AddRepayments adds monthly repayment history rows. LoanID and Month are required and Amount
// must be present; the loan need not have been added yet (history is keyed by loan id).
func (imp *Import) AddRepayments(ctx context.Context, reps []reclaim.Repayment) error {
	if err := imp.check(); err != nil {
		return err
	}
	if err := imp.drain(); err != nil {
		return err
	}
	pg := imp.db.dialect == Postgres
	vals := make([]any, 0, 7*min(len(reps), pgChunk))
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		var err error
		if pg {
			err = pgxConn(ctx, imp.conn, func(c *pgx.Conn) error {
				_, err := c.CopyFrom(ctx, pgx.Identifier{"repayments"}, strings.Split(strings.ReplaceAll(repaymentColumns, " ", ""), ","), newCopySource(vals, 7))
				return err
			})
		} else {
			err = imp.flushRows(ctx, "repayments", repaymentColumns, 7, vals)
		}
		vals = vals[:0]
		return err
	}
	for i := range reps {
		r := &reps[i]
		if r.LoanID == "" || r.Month.IsZero() || r.Amount.IsAbsent() {
			imp.err = &reclaim.Error{Code: reclaim.EINVALID, Message: "repayment needs a loan id, a month and an amount",
				Fields: map[string]string{"loan_id": r.LoanID, "month": r.Month.String()}}
			return imp.err
		}
		month := dateArg(r.Month)
		if pg {
			month = dateCopy(r.Month)
		}
		vals = append(vals, imp.portfolioID, r.LoanID, month, r.Amount.Minor(), string(r.Amount.Currency()), r.Source, r.Channel)
		if len(vals) >= 7*pgChunk {
			if err := flush(); err != nil {
				return imp.fail(err, "adding repayments")
			}
		}
	}
	if err := flush(); err != nil {
		return imp.fail(err, "adding repayments")
	}
	return nil
}

// Commit finishes the import: it checks the summary against what was added, stores the counts,
// total claim, header and report, marks the portfolio active, records a tape.imported event and
// commits. It returns the portfolio as stored. After an error the session is still open and must
// be rolled back (a failed commit has already rolled back).
func (imp *Import) Commit(ctx context.Context, sum ImportSummary) (reclaim.Portfolio, error) {
	if err := imp.check(); err != nil {
		return reclaim.Portfolio{}, err
	}
	if err := imp.drain(); err != nil {
		return reclaim.Portfolio{}, err
	}
	nb := imp.nBorrowers
	switch {
	case sum.LoanCount != 0 && sum.LoanCount != imp.loans:
		return reclaim.Portfolio{}, reclaim.Errorf(reclaim.EINVALID, "import summary counts %d loans, but %d were added", sum.LoanCount, imp.loans)
	case sum.BorrowerCount != 0 && sum.BorrowerCount != nb:
		return reclaim.Portfolio{}, reclaim.Errorf(reclaim.EINVALID, "import summary counts %d borrowers, but %d were added", sum.BorrowerCount, nb)
	case !sum.TotalClaim.IsAbsent() && sum.TotalClaim.Currency() != imp.meta.Currency:
		return reclaim.Portfolio{}, reclaim.Errorf(reclaim.EINVALID, "import summary total claim is in %s, the portfolio in %s", sum.TotalClaim.Currency(), imp.meta.Currency)
	case !sum.TotalClaim.IsAbsent() && sum.TotalClaim.Minor() != imp.claim:
		return reclaim.Portfolio{}, reclaim.Errorf(reclaim.EINVALID, "import summary total claim is %s, but the loans sum to %s",
			sum.TotalClaim, money.New(imp.claim, imp.meta.Currency))
	}
	for _, j := range [][]byte{sum.HeaderJSON, sum.ReportJSON} {
		if j != nil && !json.Valid(j) {
			return reclaim.Portfolio{}, reclaim.Errorf(reclaim.EINVALID, "import header and report must be valid JSON")
		}
	}
	d := imp.db
	_, err := imp.tx.ExecContext(ctx, d.rebind(`UPDATE portfolios SET status = ?, loan_count = ?, borrower_count = ?,
		total_claim_minor = ?, header_json = ?, report_json = ? WHERE id = ?`),
		reclaim.PortfolioActive, imp.loans, nb, imp.claim, nullJSON(sum.HeaderJSON), nullJSON(sum.ReportJSON), imp.portfolioID)
	if err != nil {
		return reclaim.Portfolio{}, imp.fail(err, "finishing portfolio")
	}
	// The figures requests read without scanning the loans (summary.go; issue 17 item 3).
	if err := storePortfolioStats(ctx, imp.tx, d, imp.portfolioID); err != nil {
		return reclaim.Portfolio{}, imp.fail(err, "storing portfolio stats")
	}
	detail, _ := json.Marshal(map[string]any{
		"portfolio_id": imp.portfolioID, "content_hash": imp.meta.ContentHash, "source_file": imp.meta.SourceFile,
		"loans": imp.loans, "borrowers": nb, "total_claim": money.New(imp.claim, imp.meta.Currency),
	})
	ev := reclaim.Event{PortfolioID: imp.portfolioID, Type: reclaim.EventTapeImported, Actor: imp.meta.Actor, Detail: string(detail)}
	if _, err := insertEvent(ctx, imp.tx, d, ev); err != nil {
		return reclaim.Portfolio{}, imp.fail(err, "recording event")
	}
	var p reclaim.Portfolio
	if err := scanPortfolio(imp.tx.QueryRowContext(ctx, d.rebind(portfolioSelect+` WHERE p.id = ?`), imp.portfolioID), &p); err != nil {
		return reclaim.Portfolio{}, imp.fail(err, "reading portfolio")
	}
	if err := imp.tx.Commit(); err != nil {
		imp.release()
		return reclaim.Portfolio{}, dbError(err, "import: commit")
	}
	imp.release()
	return p, nil
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// Rollback abandons the import: nothing it added remains. It is safe to call more than once and
// after Commit (then it does nothing).
func (imp *Import) Rollback() error {
	if imp.done {
		return nil
	}
	if imp.pipe != nil {
		// Stop the INSERTs first: one that ran after the rollback would run outside the
		// transaction and stay.
		imp.pipe.close()
	}
	var err error
	if imp.tx != nil {
		err = imp.tx.Rollback()
		if err == sql.ErrTxDone {
			err = nil
		}
	}
	imp.release()
	return dbError(err, "import: rollback")
}

// release returns the connection and forgets the session.
func (imp *Import) release() {
	if imp.done {
		return
	}
	imp.done = true
	if imp.pipe != nil {
		imp.pipe.close() // before the statements close and the transaction ends
	}
	if imp.raw != nil && imp.conn != nil {
		imp.conn.Raw(func(any) error { imp.raw.close(); return nil })
		imp.raw = nil
	}
	if len(imp.stmts) > 0 && imp.conn != nil {
		imp.conn.Raw(func(any) error {
			for _, s := range imp.stmts {
				s.Close()
			}
			return nil
		})
	}
	if imp.tx != nil {
		imp.tx.Rollback() // no-op after Commit
	}
	if imp.conn != nil {
		imp.conn.Close()
	}
	imp.db.mu.Lock()
	delete(imp.db.imports, imp)
	imp.db.mu.Unlock()
	imp.borrowers, imp.older, imp.args, imp.seenRefs, imp.pg = nil, nil, nil, nil, nil
}

// inList ends q, which ends in a column name, with a membership test for the values of part
// (non-empty): "= ANY(?)" with one array argument on PostgreSQL, "IN (?, ...)" on SQLite.
func (d *DB) inList(q string, args []any, part []string) (string, []any) {
	if d.dialect == Postgres {
		return q + `= ANY(?)`, append(args, part)
	}
	q += `IN (` + strings.Repeat("?,", len(part)-1) + `?)`
	for _, v := range part {
		args = append(args, v)
	}
	return q, args
}

// blindKept reports whether terms[i] is a blind-index term stored: it has a kind and a hash and
// is not a repeat of an earlier term.
func blindKept(terms []workout.BlindTerm, i int) bool {
	t := terms[i]
	if t.Kind == "" || len(t.Hash) == 0 {
		return false
	}
	for _, u := range terms[:i] {
		if workout.SameTerms(t, u) {
			return false
		}
	}
	return true
}
