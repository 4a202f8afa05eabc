// Package sqldb is Reclaim's only database code: one API over SQLite (modernc.org/sqlite, pure
// Go) and PostgreSQL (pgx v5), with embedded goose migrations and one conformance suite
// (sqldbtest) that holds both engines to the same contract.
//
// # Storage conventions
//
//   - Money is BIGINT minor units; the currency is stored once per row (loans.currency,
//     repayments.currency, portfolios.currency) and every amount of the row is in it.
//   - Civil dates (date.Date) are TEXT 'YYYY-MM-DD' on SQLite and DATE on PostgreSQL. The
//     conversion lives here; package date knows nothing of database/sql.
//   - Instants are UTC with microsecond precision: TEXT '2006-01-02T15:04:05.000000Z' on SQLite
//     (fixed width, so text order is time order) and TIMESTAMPTZ on PostgreSQL.
//   - Booleans are INTEGER 0/1 on SQLite and BOOLEAN on PostgreSQL.
//   - Absent optional values are NULL: the zero date.Date, the absent money.Amount, a count of -1,
//     an empty optional text, an empty Extras map.
//   - The bulk tables (borrowers, borrower_pii, loans, repayments) have no FOREIGN KEY clauses:
//     only an import session writes them, in the transaction that creates their portfolio and
//     assigns their borrower ids, and the conformance suite checks the links. Per-row foreign-key
//     checks would more than double a PostgreSQL bulk load. The small tables keep theirs.
//   - Personal data is stored only sealed (ciphertext from package pii) in borrower_pii; this
//     package never sees a key.
//
// # Engines
//
// Open picks the engine from the DSN. SQLite runs in WAL mode with one writer connection (a
// separate *sql.DB limited to one connection, whose transactions begin IMMEDIATE) and a pool of
// read-only reader connections. PostgreSQL uses one pool through a small database/sql adapter over
// native pgx connections (pgdriver.go), and pgx's CopyFrom (reached through (*sql.Conn).Raw) for bulk loads.
//
// Queries are written once with ? placeholders and rebound to $1, $2, ... for PostgreSQL.
// Migrations are per dialect (migrations/sqlite and migrations/postgres, same version numbers),
// because the first one, the schema, differs in types; later migrations that are portable are
// still written once per folder so that each folder is a complete, reviewable history.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"reclaim"
)

// Dialect names returned by DB.Dialect.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options tunes Open. The zero value is usable.
type Options struct {
	// Migrate applies all pending migrations before Open returns.
	Migrate bool
	// Now is the clock for created_at / imported_at / at columns; nil means time.Now.
	Now func() time.Time
	// BusyTimeout is SQLite's busy_timeout; zero means 5s.
	BusyTimeout time.Duration
	// MaxReaders bounds SQLite's reader pool; zero means max(4, GOMAXPROCS).
	MaxReaders int
	// MaxConns bounds PostgreSQL's pool; zero means 20.
	MaxConns int
	// MaxRetries bounds how many times ReadTx and WriteTx re-run a transaction that failed with
	// SQLITE_BUSY, a serialization failure or a deadlock; zero means 8.
	MaxRetries int
	// TokenCacheTTL is how long a verified API token is trusted before the database is asked
	// again: the bound on how long a token revoked by another node or process keeps working
	// here. Zero means DefaultTokenCacheTTL (2s); negative turns the cache off.
	TokenCacheTTL time.Duration
}

// DB is a handle on a Reclaim database. It is safe for concurrent use.
type DB struct {
	dialect string
	w       *sql.DB // SQLite: the single writer; PostgreSQL: the pool
	r       *sql.DB // SQLite: the reader pool; PostgreSQL: same as w
	// sqliteFile is the SQLite database's file when it was opened without DSN parameters (""
	// otherwise, and on PostgreSQL): readLoansSQLite opens its own connections to it.
	sqliteFile string
	sqliteBusy time.Duration
	now        func() time.Time
	retries    int

	rebound sync.Map // query -> rebound query (PostgreSQL)
	txc     txCounters
	tokens  *tokenCache // verified API tokens (nil: off)
	hot     sync.Map    // query -> *sql.Stmt (hotRow)

	pgConns int // PostgreSQL: the pool's size

	mu      sync.Mutex
	imports map[*Import]struct{} // open import sessions, rolled back by Close
}

// Open connects to the database named by dsn: "postgres://..." or "postgresql://..." is
// PostgreSQL; "sqlite:<path>", "file:<path>" or a plain path is SQLite (created if missing; an
// optional "?query" part is passed to the driver). It pings the database and, when opts.Migrate is
// set, applies pending migrations. Errors are *reclaim.Error with code EUNAVAILABLE (cannot
// connect) or EINTERNAL.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	d := &DB{now: opts.Now, retries: opts.MaxRetries, imports: map[*Import]struct{}{}, tokens: newTokenCache(opts.TokenCacheTTL)}
	if d.now == nil {
		d.now = time.Now
	}
	if d.retries <= 0 {
		d.retries = 8
	}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = d.openPostgres(ctx, dsn, opts)
	} else {
		err = d.openSQLite(ctx, dsn, opts)
	}
	if err != nil {
		return nil, err
	}
	if opts.Migrate {
		if err := d.Migrate(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

func (d *DB) openPostgres(ctx context.Context, dsn string, opts Options) error {
	d.dialect = Postgres
	connector, err := newPGConnector(dsn)
	if err != nil {
		return reclaim.WrapError(reclaim.EINVALID, err, "invalid PostgreSQL DSN")
	}
	db := sql.OpenDB(connector)
	n := opts.MaxConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	d.pgConns = n
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot connect to PostgreSQL")
	}
	d.w, d.r = db, db
	return nil
}

func (d *DB) openSQLite(ctx context.Context, dsn string, opts Options) error {
	d.dialect = SQLite
	path := dsn
	switch {
	case strings.HasPrefix(path, "sqlite://"):
		path = strings.TrimPrefix(path, "sqlite://")
	case strings.HasPrefix(path, "sqlite:"):
		path = strings.TrimPrefix(path, "sqlite:")
	case strings.HasPrefix(path, "file:"):
		path = strings.TrimPrefix(path, "file:")
	}
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" || path == ":memory:" {
		return reclaim.Errorf(reclaim.EINVALID, "SQLite needs a file path (an in-memory database cannot be shared by the writer and the readers)")
	}
	if err := privateFiles(path); err != nil {
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot open SQLite database %s", path)
	}
	if err := newSQLitePages(ctx, path); err != nil {
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot create SQLite database %s", path)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busy.Milliseconds())
	if query != "" {
		common += "&" + query
	}
	// The writer: WAL, a large page cache and in-memory temporaries for bulk imports, and
	// synchronous FULL: every commit is fsynced before it returns, so a committed ledger entry, a
	// sequenced batch or an audit record survives a power cut (imports commit rarely, so the
	// fsyncs cost them nothing measurable).
	// journal_size_limit: one import is one transaction, so the WAL grows to the size of all it
	// wrote (about 8 GB at 10 million loans); once checkpointed, the file is cut back to this
	// limit when the next write starts it again, instead of staying at its largest until every
	// connection closes.
	wdsn := "file:" + path + "?_pragma=journal_mode(WAL)&_txlock=immediate&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)&_pragma=synchronous(FULL)&" +
		fmt.Sprintf("_pragma=journal_size_limit(%d)&", walSizeLimit) + common
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return reclaim.WrapError(reclaim.EINVALID, err, "invalid SQLite DSN")
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot open SQLite database %s", path)
	}
	rdsn := "file:" + path + "?_pragma=query_only(1)&_pragma=cache_size(-32768)&_pragma=synchronous(NORMAL)&" + common
	r, err := sql.Open("sqlite", rdsn)
	if err != nil {
		w.Close()
		return reclaim.WrapError(reclaim.EINVALID, err, "invalid SQLite DSN")
	}
	n := opts.MaxReaders
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot open SQLite database %s", path)
	}
	d.w, d.r = w, r
	if query == "" {
		d.sqliteFile, d.sqliteBusy = path, busy
	}
	return nil
}

// sqlitePageSize is the page size of a new SQLite store. An import is one transaction, and
// SQLite looks each page it writes up among all the frames the transaction has written to the
// WAL so far (walFindFrame, one hash table per 4,096 frames): that cost grows with the square of
// the frames, 9% of a 10-million-loan import with 4 KiB pages, and halving the frames quarters
// it (docs/benchmarks.md, "Quiet re-measurements ... 2026-12-07").
const sqlitePageSize = 8192

// newSQLitePages gives a new (empty) SQLite file its page size and WAL mode. The page size can
// only be set before the file's first page is written, and the driver runs a DSN's pragmas in
// alphabetical order (journal_mode, which writes the first page, before page_size), so this is
// its own connection, before the pools open. An existing store keeps its page size.
func newSQLitePages(ctx context.Context, path string) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() > 0 {
		return nil // missing (the pools create it) or existing: nothing to do here
	}
	db, err := sql.Open("sqlite", "file:"+path+fmt.Sprintf("?_pragma=page_size(%d)", sqlitePageSize))
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	return db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
}

// walSizeLimit is the size, in bytes, the writer cuts the SQLite WAL file back to when it starts
// it again after a checkpoint (PRAGMA journal_size_limit).
var walSizeLimit int64 = 64 << 20

// privateFiles creates the SQLite database file with mode 0600 when it is missing and narrows an
// existing one (and its -wal and -shm files) to 0600. SQLite creates the -wal and -shm files with
// the mode of the database file, so none of the three is readable by other local users: the
// database holds password hashes, session and audit data and sealed personal data.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Dialect returns SQLite ("sqlite") or Postgres ("postgres").
func (d *DB) Dialect() string { return d.dialect }

// Close rolls back any import session still open, then closes every connection. A DB must not be
// used after Close.
func (d *DB) Close() error {
	d.mu.Lock()
	open := make([]*Import, 0, len(d.imports))
	for imp := range d.imports {
		open = append(open, imp)
	}
	d.mu.Unlock()
	for _, imp := range open {
		imp.Rollback()
	}
	err := d.w.Close()
	if d.r != d.w {
		err = errors.Join(err, d.r.Close())
	}
	return err
}

// Tx is a transaction handed to ReadTx and WriteTx callbacks. Its methods take queries with ?
// placeholders and rebind them for the engine. A Tx must not be used after its callback returns.
type Tx struct {
	tx *sql.Tx
	db *DB
	// conn is the connection the transaction runs on when it was begun by writeTxConn (nil
	// otherwise): Tx.raw reaches its driver for bulk writes.
	conn *sql.Conn
}

// Dialect returns the engine of the transaction's database.
func (t *Tx) Dialect() string { return t.db.dialect }

// Exec runs a statement that returns no rows. A string argument that is not valid UTF-8 or holds
// a NUL is EINVALID on both engines (see checkArgs).
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, t.db.rebind(query), args...)
}

// Query runs a statement that returns rows; the caller closes them. String arguments are checked
// like Exec's.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(ctx, t.db.rebind(query), args...)
}

// QueryRow runs a statement expected to return at most one row.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.db.rebind(query), args...)
}

// ReadTx runs fn in a read-only transaction (a consistent snapshot: SQLite's deferred read
// transaction on a reader connection, PostgreSQL REPEATABLE READ READ ONLY). fn may run more than
// once: the transaction is retried, with backoff, up to Options.MaxRetries times when it fails
// with SQLITE_BUSY, a serialization failure (40001) or a deadlock (40P01). fn's own errors are
// returned unchanged; database errors as *reclaim.Error.
func (d *DB) ReadTx(ctx context.Context, fn func(*Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return d.runTx(ctx, d.r, opts, fn)
}

// WriteTx runs fn in a read-write transaction (SQLite: BEGIN IMMEDIATE on the single writer;
// PostgreSQL: SERIALIZABLE) and commits when fn returns nil. Like ReadTx it retries fn on busy,
// serialization and deadlock errors, so fn must have no side effects outside the transaction
// that would be wrong to repeat.
func (d *DB) WriteTx(ctx context.Context, fn func(*Tx) error) error {
	opts := &sql.TxOptions{}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelSerializable
	}
	return d.runTx(ctx, d.w, opts, fn)
}

func (d *DB) runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*Tx) error) error {
	return d.retryTx(ctx, func() (bool, error) { return d.runTxOnce(ctx, db, opts, fn) })
}

// writeTxConn is WriteTx on a connection held for the whole transaction, so that fn may reach
// the driver underneath (Tx.raw) for bulk writes: prepared multi-row inserts on SQLite, COPY on
// PostgreSQL, inside the same transaction.
func (d *DB) writeTxConn(ctx context.Context, fn func(*Tx) error) error {
	opts := &sql.TxOptions{}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelSerializable
	}
	return d.retryTx(ctx, func() (bool, error) {
		conn, err := d.w.Conn(ctx)
		if err != nil {
			return false, err
		}
		defer conn.Close()
		tx, err := conn.BeginTx(ctx, opts)
		if err != nil {
			return false, err
		}
		if err := fn(&Tx{tx: tx, db: d, conn: conn}); err != nil {
			tx.Rollback()
			return true, err
		}
		return false, tx.Commit()
	})
}

// retryTx runs once until it succeeds, fails with an error that is not transient, or has been
// retried Options.MaxRetries times; once reports whether its error is fn's own.
func (d *DB) retryTx(ctx context.Context, once func() (bool, error)) error {
	backoff := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		fromFn, err := once()
		if err == nil {
			return nil
		}
		if retryable(err) {
			d.countRetry(err, attempt >= d.retries)
		}
		if !retryable(err) || attempt >= d.retries {
			if fromFn {
				return err
			}
			return dbError(err, "transaction failed")
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return dbError(ctx.Err(), "transaction canceled")
		case <-t.C:
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// runTxOnce runs fn in one transaction; fromFn reports that the error is fn's own.
func (d *DB) runTxOnce(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*Tx) error) (fromFn bool, err error) {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return false, err
	}
	if err := fn(&Tx{tx: tx, db: d}); err != nil {
		tx.Rollback()
		return true, err
	}
	return false, tx.Commit()
}

// retryable reports whether err is a transient conflict worth running the transaction again for.
func retryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	var re *sqliteStepError // an import's INSERT below database/sql
	if errors.As(err, &re) {
		c := re.Code() & 0xff
		return c == 5 || c == 6
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555 // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
	}
	var re *sqliteStepError // an import's INSERT below database/sql
	if errors.As(err, &re) {
		return re.Code() == 2067 || re.Code() == 1555
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// dbError turns err into a *reclaim.Error: an existing *reclaim.Error passes unchanged, a
// cancelled context becomes ECANCELED, a uniqueness violation ECONFLICT, text PostgreSQL cannot
// store (NUL, invalid UTF-8) EINVALID, anything else EINTERNAL.
func dbError(err error, what string) error {
	if err == nil {
		return nil
	}
	var re *reclaim.Error
	switch {
	case errors.As(err, &re):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return reclaim.WrapError(reclaim.ECANCELED, err, "%s: canceled", what)
	case isUniqueViolation(err):
		return reclaim.WrapError(reclaim.ECONFLICT, err, "%s: already exists", what)
	case retryable(err):
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "%s: database busy, retry later", what)
	case isBadText(err):
		return &reclaim.Error{Code: reclaim.EINVALID, Message: what + ": text must be valid UTF-8 without NUL characters", Err: err}
	}
	return reclaim.WrapError(reclaim.EINTERNAL, err, "%s", what)
}

// rebind returns query with ? placeholders rewritten for the engine (cached per query string).
func (d *DB) rebind(query string) string {
	if d.dialect != Postgres {
		return query
	}
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	q := Rebind(Postgres, query)
	d.rebound.Store(query, q)
	return q
}

// Rebind rewrites the ? placeholders of query as $1, $2, ... when dialect is Postgres and
// returns query unchanged otherwise. A ? inside a string literal ('...', E'...'), a quoted
// identifier ("..."), a dollar-quoted string ($tag$...$tag$) or a comment (-- and /* */) is
// left alone, as is the ?? escape, which becomes a single ?.
func Rebind(dialect, query string) string {
	if dialect != Postgres || strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'':
			escapes := i > 0 && (query[i-1] == 'E' || query[i-1] == 'e') && (i < 2 || !isIdentByte(query[i-2]))
			j := i + 1
			for j < len(query) {
				if escapes && query[j] == '\\' {
					j += 2
					continue
				}
				if query[j] == '\'' {
					if j+1 < len(query) && query[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(query))
			b.WriteString(query[i:j])
			i = j
		case c == '"':
			j := i + 1
			for j < len(query) && query[j] != '"' {
				j++
			}
			j = min(j+1, len(query))
			b.WriteString(query[i:j])
			i = j
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query)
			} else {
				j += i
			}
			b.WriteString(query[i:j])
			i = j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				j = len(query)
			} else {
				j += i + 4
			}
			b.WriteString(query[i:j])
			i = j
		case c == '$' && (i == 0 || !isIdentByte(query[i-1])):
			// A dollar-quote tag: $$ or $name$. $1 (a positional parameter) is not a tag.
			k := i + 1
			for k < len(query) && isIdentByte(query[k]) && !(k == i+1 && query[k] >= '0' && query[k] <= '9') {
				k++
			}
			if k < len(query) && query[k] == '$' {
				tag := query[i : k+1]
				end := strings.Index(query[k+1:], tag)
				j := len(query)
				if end >= 0 {
					j = k + 1 + end + len(tag)
				}
				b.WriteString(query[i:j])
				i = j
				continue
			}
			b.WriteByte(c)
			i++
		case c == '?':
			if i+1 < len(query) && query[i+1] == '?' {
				b.WriteByte('?')
				i += 2
				continue
			}
			n++
			b.WriteByte('$')
			b.WriteString(itoa(n))
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return fmt.Sprint(n)
}
