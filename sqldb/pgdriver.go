package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file is a small database/sql driver over a native *pgx.Conn. pgx's own stdlib adapter
// would do, but it imports pgxpool and with it github.com/jackc/puddle/v2, which this module does
// not carry. The adapter is deliberately minimal: arguments pass to pgx untouched (pgx encodes Go
// values itself), results come back as the driver.Value types database/sql scans.

// pgConnector opens pgx connections for sql.OpenDB.
type pgConnector struct{ cfg *pgx.ConnConfig }

func newPGConnector(dsn string) (*pgConnector, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return &pgConnector{cfg: cfg}, nil
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.cfg.Copy())
	if err != nil {
		return nil, err
	}
	return &pgConn{c: conn}, nil
}

func (c *pgConnector) Driver() driver.Driver { return pgDriver{} }

type pgDriver struct{}

func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("sqldb: open PostgreSQL through sqldb.Open")
}

// pgConn is one PostgreSQL session.
type pgConn struct {
	c  *pgx.Conn
	tx pgx.Tx
}

var (
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
)

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	sd, err := c.c.Prepare(ctx, "", query)
	if err != nil {
		return nil, err
	}
	return &pgStmt{c: c, query: query, n: len(sd.ParamOIDs)}, nil
}

func (c *pgConn) Close() error { return c.c.Close(context.Background()) }

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, errors.New("sqldb: transaction already open on this connection")
	}
	var o pgx.TxOptions
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		o.IsoLevel = pgx.ReadUncommitted
	case sql.LevelReadCommitted:
		o.IsoLevel = pgx.ReadCommitted
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		o.IsoLevel = pgx.RepeatableRead
	case sql.LevelSerializable:
		o.IsoLevel = pgx.Serializable
	default:
		return nil, fmt.Errorf("sqldb: unsupported isolation level %d", opts.Isolation)
	}
	if opts.ReadOnly {
		o.AccessMode = pgx.ReadOnly
	}
	tx, err := c.c.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	c.tx = tx
	return pgTx{c}, nil
}

type pgTx struct{ c *pgConn }

func (t pgTx) Commit() error {
	tx := t.c.tx
	t.c.tx = nil
	if tx == nil {
		return errors.New("sqldb: no transaction")
	}
	return tx.Commit(context.Background())
}

func (t pgTx) Rollback() error {
	tx := t.c.tx
	t.c.tx = nil
	if tx == nil {
		return errors.New("sqldb: no transaction")
	}
	return tx.Rollback(context.Background())
}

func (c *pgConn) CheckNamedValue(*driver.NamedValue) error { return nil }

func args(named []driver.NamedValue) []any {
	a := make([]any, len(named))
	for i, v := range named {
		a[i] = v.Value
	}
	return a
}

func (c *pgConn) ExecContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Result, error) {
	tag, err := c.c.Exec(ctx, query, args(named)...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.c.Query(ctx, query, args(named)...)
	if err != nil {
		return nil, err
	}
	return &pgRows{rows: rows}, nil
}

func (c *pgConn) Ping(ctx context.Context) error { return c.c.Ping(ctx) }

func (c *pgConn) ResetSession(context.Context) error {
	if c.c.IsClosed() {
		return driver.ErrBadConn
	}
	return nil
}

func (c *pgConn) IsValid() bool { return !c.c.IsClosed() }

type pgStmt struct {
	c     *pgConn
	query string
	n     int
}

func (s *pgStmt) Close() error  { return nil }
func (s *pgStmt) NumInput() int { return s.n }
func (s *pgStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("sqldb: use ExecContext")
}
func (s *pgStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("sqldb: use QueryContext")
}
func (s *pgStmt) ExecContext(ctx context.Context, named []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, named)
}
func (s *pgStmt) QueryContext(ctx context.Context, named []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, named)
}
func (s *pgStmt) CheckNamedValue(*driver.NamedValue) error { return nil }

type pgRows struct {
	rows pgx.Rows
	cols []string
}

func (r *pgRows) Columns() []string {
	if r.cols == nil {
		fds := r.rows.FieldDescriptions()
		r.cols = make([]string, len(fds))
		for i, fd := range fds {
			r.cols[i] = fd.Name
		}
	}
	return r.cols
}

func (r *pgRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

func (r *pgRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.rows.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		dv, err := toDriverValue(v)
		if err != nil {
			return fmt.Errorf("sqldb: column %s: %w", r.Columns()[i], err)
		}
		dest[i] = dv
	}
	return nil
}

func toDriverValue(v any) (driver.Value, error) {
	switch x := v.(type) {
	case nil, int64, float64, bool, []byte, string:
		return x, nil
	case time.Time:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case driver.Valuer:
		return x.Value()
	case fmt.Stringer:
		return x.String(), nil
	}
	return nil, fmt.Errorf("unsupported PostgreSQL value of type %T", v)
}

// pgxConn returns the native connection under a *sql.Conn of a PostgreSQL DB and runs fn with
// it. fn must not keep the connection.
func pgxConn(ctx context.Context, conn *sql.Conn, fn func(*pgx.Conn) error) error {
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("sqldb: not a PostgreSQL connection (%T)", dc)
		}
		return fn(pc.c)
	})
}
