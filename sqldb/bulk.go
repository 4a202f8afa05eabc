package sqldb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"reclaim/date"
)

// Bulk writes and set-based loads inside one transaction begun by writeTxConn (statement
// matching, docs/payments.md). On SQLite, rows go to a multi-row INSERT prepared once on the
// driver connection (database/sql's per-argument conversion and locking cost as much as
// SQLite's own work at this volume); on PostgreSQL they stream with COPY, and look-ups and
// updates take their keys as one array parameter: one round trip each instead of one per 500
// keys. Every text value is checked as Tx.Exec checks it (checkArgs).

// raw runs fn with the driver connection of a transaction begun by writeTxConn.
func (t *Tx) raw(fn func(dc any) error) error {
	if t.conn == nil {
		return fmt.Errorf("sqldb: bulk write outside a connection transaction")
	}
	return t.conn.Raw(fn)
}

// bulkInsert inserts n rows into table; row appends row i's values (in cols order) to args and
// returns it. On PostgreSQL a DATE column takes dateCopy's value and a TIMESTAMPTZ a time.Time
// (see Tx.dateValue); on SQLite the values are those Tx.Exec takes.
func (t *Tx) bulkInsert(ctx context.Context, table string, cols []string, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	if t.db.dialect == Postgres {
		src := &rowSource{n: n, row: row}
		err := t.raw(func(dc any) error {
			pc, ok := dc.(*pgConn)
			if !ok {
				return fmt.Errorf("sqldb: not a PostgreSQL connection (%T)", dc)
			}
			_, err := pc.c.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
			return err
		})
		if src.err != nil {
			return src.err
		}
		return err
	}
	ncols := len(cols)
	per := min(500, 30000/ncols)
	return t.raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("sqldb: driver connection %T cannot prepare", dc)
		}
		var full driver.Stmt
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		nv := make([]driver.NamedValue, per*ncols)
		for i := range nv {
			nv[i].Ordinal = i + 1
		}
		args := make([]any, 0, per*ncols)
		for start := 0; start < n; start += per {
			end := min(n, start+per)
			args = args[:0]
			for i := start; i < end; i++ {
				args = row(i, args)
			}
			if len(args) != (end-start)*ncols {
				return fmt.Errorf("sqldb: %s: %d values for %d rows of %d columns", table, len(args), end-start, ncols)
			}
			if err := checkArgs(args); err != nil {
				return err
			}
			st := full
			if end-start == per && full == nil {
				var err error
				if full, err = pc.PrepareContext(ctx, multiInsertSQL(table, strings.Join(cols, ", "), ncols, per)); err != nil {
					return err
				}
				st = full
			} else if end-start < per {
				var err error
				if st, err = pc.PrepareContext(ctx, multiInsertSQL(table, strings.Join(cols, ", "), ncols, end-start)); err != nil {
					return err
				}
			}
			err := execStmt(ctx, st, nv[:len(args)], args)
			if st != full {
				st.Close()
			}
			if err != nil {
				return err
			}
		}
		clear(args[:cap(args)])
		return nil
	})
}

// execStmt executes a prepared driver statement with args, leaving nv holding no values.
func execStmt(ctx context.Context, st driver.Stmt, nv []driver.NamedValue, args []any) error {
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		return fmt.Errorf("sqldb: statement %T cannot execute with a context", st)
	}
	for i := range nv {
		nv[i].Value = args[i]
	}
	_, err := ex.ExecContext(ctx, nv)
	for i := range nv {
		nv[i].Value = nil
	}
	return err
}

// rowSource feeds pgx.CopyFrom n rows, built one at a time into one reused buffer.
type rowSource struct {
	n, i int
	row  func(i int, args []any) []any
	buf  []any
	err  error
}

func (s *rowSource) Next() bool {
	if s.err != nil || s.i >= s.n {
		return false
	}
	s.buf = s.row(s.i, s.buf[:0])
	s.i++
	s.err = checkArgs(s.buf)
	return s.err == nil
}

func (s *rowSource) Values() ([]any, error) { return s.buf, nil }
func (s *rowSource) Err() error             { return s.err }

// bulkUpdate sets cols of table's rows from vals (the key, then one value per column, row after
// row), and each column of also to its one value (the same for every row). types are the
// PostgreSQL types of cols: BIGINT (int64 values) or DATE (dateArg's values: text or nil).
// PostgreSQL: one UPDATE ... FROM unnest(arrays); SQLite: UPDATE ... FROM (VALUES ...) 500 rows
// a statement, the full-size statement prepared once.
func (t *Tx) bulkUpdate(ctx context.Context, table, key string, cols, types []string, vals []any, also map[string]any) error {
	per := 1 + len(cols)
	n := len(vals) / per
	if n == 0 {
		return nil
	}
	if err := checkArgs(vals); err != nil {
		return err
	}
	var extra []string
	var extraArgs []any
	for c, v := range also {
		extra = append(extra, c+" = ?")
		extraArgs = append(extraArgs, v)
	}
	if t.db.dialect == Postgres {
		arrays := make([]any, per)
		keys := make([]int64, n)
		for r := 0; r < n; r++ {
			keys[r] = vals[r*per].(int64)
		}
		arrays[0] = keys
		var b strings.Builder
		b.WriteString("UPDATE " + table + " SET ")
		for ci, typ := range types {
			if ci > 0 {
				b.WriteString(", ")
			}
			switch typ {
			case "BIGINT":
				col := make([]int64, n)
				for r := 0; r < n; r++ {
					col[r] = vals[r*per+1+ci].(int64)
				}
				arrays[1+ci] = col
				fmt.Fprintf(&b, "%s = v.c%d", cols[ci], ci)
			case "DATE":
				col := make([]*string, n)
				for r := 0; r < n; r++ {
					if s, ok := vals[r*per+1+ci].(string); ok {
						col[r] = &s
					}
				}
				arrays[1+ci] = col
				fmt.Fprintf(&b, "%s = CAST(v.c%d AS DATE)", cols[ci], ci)
			default:
				return fmt.Errorf("sqldb: bulkUpdate: unsupported type %s", typ)
			}
		}
		for _, e := range extra {
			b.WriteString(", " + e)
		}
		b.WriteString(" FROM unnest(CAST(? AS BIGINT[])")
		for _, typ := range types {
			if typ == "DATE" {
				typ = "TEXT"
			}
			b.WriteString(", CAST(? AS " + typ + "[])")
		}
		b.WriteString(") AS v(k")
		for ci := range cols {
			fmt.Fprintf(&b, ", c%d", ci)
		}
		b.WriteString(") WHERE " + table + "." + key + " = v.k")
		// The SET's constants come before the arrays in the statement.
		_, err := t.tx.ExecContext(ctx, t.db.rebind(b.String()), append(extraArgs, arrays...)...)
		return err
	}
	text := func(rows int) string {
		var b strings.Builder
		b.WriteString("WITH v(k")
		for i := range cols {
			fmt.Fprintf(&b, ", c%d", i)
		}
		b.WriteString(") AS (VALUES ")
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", per), ",") + ")"
		for r := 0; r < rows; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteString(one)
		}
		b.WriteString(") UPDATE " + table + " SET ")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = v.c%d", c, i)
		}
		for _, e := range extra {
			b.WriteString(", " + e)
		}
		b.WriteString(" FROM v WHERE " + table + "." + key + " = v.k")
		return b.String()
	}
	const rows = 500
	return t.raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("sqldb: driver connection %T cannot prepare", dc)
		}
		var full driver.Stmt
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		nv := make([]driver.NamedValue, rows*per+len(extraArgs))
		for i := range nv {
			nv[i].Ordinal = i + 1
		}
		args := make([]any, 0, len(nv))
		for start := 0; start < n; start += rows {
			end := min(n, start+rows)
			args = append(append(args[:0], vals[start*per:end*per]...), extraArgs...)
			st := full
			var err error
			if end-start == rows && full == nil {
				if full, err = pc.PrepareContext(ctx, text(rows)); err != nil {
					return err
				}
				st = full
			} else if end-start < rows {
				if st, err = pc.PrepareContext(ctx, text(end-start)); err != nil {
					return err
				}
			}
			err = execStmt(ctx, st, nv[:len(args)], args)
			if st != full {
				st.Close()
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// dateValue is a civil-date column's value for bulkInsert: dateArg's on SQLite, dateCopy's on
// PostgreSQL.
func (t *Tx) dateValue(d date.Date) any {
	if t.db.dialect == Postgres {
		return dateCopy(d)
	}
	return dateArg(d)
}
