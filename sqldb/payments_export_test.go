package sqldb

import "context"

// SetCaseStatusForTest sets a case's status (there is no closing workflow yet).
func SetCaseStatusForTest(ctx context.Context, d *DB, caseID int64, status string) error {
	return d.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cases SET status = ? WHERE id = ?`, status, caseID)
		return err
	})
}

// CountRowsForTest counts a table's rows.
func CountRowsForTest(ctx context.Context, d *DB, table string) (n int64, err error) {
	err = d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n)
	return n, err
}
