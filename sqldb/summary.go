package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"reclaim"
	"reclaim/date"
)

// PortfolioStats are the figures about a portfolio's loans and repayment history that requests
// need and that would otherwise take a scan of its rows: the range of its loans' row ids and
// the span of its repayment history. They are stored by the import's commit (table
// portfolio_stats, migration 00023) and never change afterwards, as the loans and repayments of
// a portfolio do not.
type PortfolioStats struct {
	// FirstLoanID and LastLoanID are the smallest and largest row id of the portfolio's loans
	// (0 when it has none).
	FirstLoanID, LastLoanID int64
	// RepaymentFirst and RepaymentLast are the first and last month of the repayment history
	// (zero without history); RepaymentRows counts its rows.
	RepaymentFirst, RepaymentLast date.Date
	RepaymentRows                 int64
}

// portfolioStatsQuery computes one portfolio's stats from its rows (one argument: the id). The
// loan bounds are read from the index loans(portfolio_id, id); the repayment figures scan the
// portfolio's repayments (repayments_loan), which only the import's commit and the migration
// that created the table pay for.
const portfolioStatsQuery = `SELECT
	(SELECT MIN(l.id) FROM loans l WHERE l.portfolio_id = p.id),
	(SELECT MAX(l.id) FROM loans l WHERE l.portfolio_id = p.id),
	(SELECT MIN(r.month) FROM repayments r WHERE r.portfolio_id = p.id),
	(SELECT MAX(r.month) FROM repayments r WHERE r.portfolio_id = p.id),
	(SELECT COUNT(*) FROM repayments r WHERE r.portfolio_id = p.id)
	FROM portfolios p WHERE p.id = ?`

// storePortfolioStats computes and stores the stats of a portfolio whose loans and repayments
// have all been written, inside the import's transaction (so they commit with the portfolio).
func storePortfolioStats(ctx context.Context, ex execer, d *DB, portfolioID int64) error {
	_, err := ex.ExecContext(ctx, d.rebind(`INSERT INTO portfolio_stats
		(portfolio_id, first_loan_id, last_loan_id, repayment_first, repayment_last, repayment_rows)
		`+strings.Replace(portfolioStatsQuery, "SELECT", "SELECT p.id,", 1)), portfolioID)
	return err
}

func scanStats(row rowScanner) (PortfolioStats, error) {
	var s PortfolioStats
	var first, last sql.NullInt64
	err := row.Scan(&first, &last, dateScan{&s.RepaymentFirst}, dateScan{&s.RepaymentLast}, &s.RepaymentRows)
	s.FirstLoanID, s.LastLoanID = first.Int64, last.Int64
	return s, err
}

// PortfolioStats returns the stored stats of a portfolio, or ENOTFOUND for an unknown
// portfolio. A portfolio without a stored row (which the import and migration 00023 leave none
// of) has its stats computed from its rows.
func (d *DB) PortfolioStats(ctx context.Context, portfolioID int64) (PortfolioStats, error) {
	s, err := scanStats(d.r.QueryRowContext(ctx, d.rebind(`SELECT first_loan_id, last_loan_id, repayment_first, repayment_last, repayment_rows
		FROM portfolio_stats WHERE portfolio_id = ?`), portfolioID))
	if err == sql.ErrNoRows {
		return d.ComputePortfolioStats(ctx, portfolioID)
	}
	return s, dbError(err, "reading portfolio stats")
}

// ComputePortfolioStats computes a portfolio's stats from its loans and repayments (a scan of
// its repayment history), without the stored row: the reference the stored stats are tested
// against. ENOTFOUND for an unknown portfolio.
func (d *DB) ComputePortfolioStats(ctx context.Context, portfolioID int64) (PortfolioStats, error) {
	s, err := scanStats(d.r.QueryRowContext(ctx, d.rebind(portfolioStatsQuery), portfolioID))
	if err == sql.ErrNoRows {
		return s, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", portfolioID)
	}
	return s, dbError(err, "computing portfolio stats")
}

// LastRepaymentCollected returns the latest month from `from` on in which the portfolio's
// repayment history records a positive amount (the zero date when none does). It reads the
// history's months and amounts, not its loans: the back-test's first, cheap pass.
func (d *DB) LastRepaymentCollected(ctx context.Context, portfolioID int64, from date.Date) (date.Date, error) {
	var last date.Date
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT MAX(month) FROM repayments WHERE portfolio_id = ? AND month >= ? AND amount_minor > 0`),
		portfolioID, dateArg(from)).Scan(dateScan{&last})
	return last, dbError(err, "reading repayments")
}
