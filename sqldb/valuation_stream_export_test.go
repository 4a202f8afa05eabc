package sqldb

import "context"

// ThinLoansForTest deletes the portfolio's loans whose id is not a multiple of keep, so that its
// ids are sparse (as when two imports interleave); it returns the number deleted.
func ThinLoansForTest(ctx context.Context, d *DB, portfolioID int64, keep int64) (int64, error) {
	res, err := d.w.ExecContext(ctx, d.rebind(`DELETE FROM loans WHERE portfolio_id = ? AND id % ? <> 0`), portfolioID, keep)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
