package sqldb

import "time"

// auditWindow appends the clauses every audit listing shares to q (which ends in a WHERE clause):
// since (inclusive) and until (exclusive) on the column at when set, newest first, and at most
// limit rows (1000 when limit <= 0).
func (d *DB) auditWindow(q string, args []any, since, until time.Time, limit int) (string, []any) {
	if !since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, d.instant(since))
	}
	if !until.IsZero() {
		q += ` AND at < ?`
		args = append(args, d.instant(until))
	}
	if limit <= 0 {
		limit = 1000
	}
	return q + ` ORDER BY id DESC LIMIT ?`, append(args, limit)
}
