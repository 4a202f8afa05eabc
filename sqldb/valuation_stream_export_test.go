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

// SetDriverLoanReadsForTest makes StreamLoanBatches read SQLite through database/sql's driver
// (true) or through its own connections (false, the default); it returns the previous setting.
func SetDriverLoanReadsForTest(on bool) bool {
	return driverLoanReads.Swap(on)
}

// ExecForTest runs a statement on the writer (tests that store what the API never would).
func ExecForTest(ctx context.Context, d *DB, query string, args ...any) error {
	_, err := d.w.ExecContext(ctx, d.rebind(query), args...)
	return err
}

// ReadPartsForTest is the number of parts a batch is read in.
func ReadPartsForTest() int { return readParts() }
