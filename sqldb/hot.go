package sqldb

import (
	"context"
	"database/sql"
)

// hotRow is readRow with the statement prepared once per database handle (database/sql keeps
// it prepared on each reader connection) and kept in d.hot: for the few constant queries on the
// hot path of a bid (the API token lookup, the bidder's organisation and registration), which
// SQLite otherwise parses again on every call (a third of the server's CPU under load). Callers
// pass only constant queries, so d.hot stays small. If preparing fails it falls back to readRow.
func (d *DB) hotRow(ctx context.Context, query string, args ...any) *sql.Row {
	m := &d.hot
	if st, ok := m.Load(query); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	st, err := d.r.PrepareContext(ctx, d.rebind(query))
	if err != nil {
		return d.readRow(ctx, query, args...)
	}
	if prev, loaded := m.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
}
