package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Reads for valuation and back-testing: one loan by reference, a portfolio's repayment history in
// bulk, and a pool's collections.

var loanByRefSelect = strings.Replace(loanSelect, "ORDER BY id", "AND loan_ref = ?", 1)

// LoanByRef returns one loan of the portfolio by its loan_id (PortfolioRef and CutOffDate are the
// portfolio's), or ENOTFOUND.
func (d *DB) LoanByRef(ctx context.Context, portfolioID int64, loanRef string) (reclaim.Loan, error) {
	p, err := d.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return reclaim.Loan{}, err
	}
	s := newLoanScan()
	err = d.r.QueryRowContext(ctx, d.rebind(loanByRefSelect), portfolioID, loanRef).Scan(s.dest...)
	if err == sql.ErrNoRows {
		return reclaim.Loan{}, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d has no loan %q", portfolioID, loanRef)
	}
	if err != nil {
		return reclaim.Loan{}, dbError(err, "reading a loan")
	}
	if err := s.finish(); err != nil {
		return reclaim.Loan{}, dbError(err, "reading a loan")
	}
	s.l.PortfolioRef, s.l.CutOffDate = p.Ref, p.CutOffDate
	return s.l, nil
}

// StreamRepayments calls fn for every repayment-history row of the portfolio, ordered by loan and
// month. The *Repayment is reused for the next row: fn must copy what it keeps. fn's first error
// stops the stream and is returned unchanged.
func (d *DB) StreamRepayments(ctx context.Context, portfolioID int64, fn func(*reclaim.Repayment) error) error {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT loan_ref, month, amount_minor, currency, source, channel
		FROM repayments WHERE portfolio_id = ? ORDER BY loan_ref, month`), portfolioID)
	if err != nil {
		return dbError(err, "reading repayments")
	}
	defer rows.Close()
	var r reclaim.Repayment
	var minor int64
	var cur string
	for rows.Next() {
		if err := rows.Scan(&r.LoanID, dateScan{&r.Month}, &minor, &cur, &r.Source, &r.Channel); err != nil {
			return dbError(err, "reading repayments")
		}
		r.Amount = money.New(minor, money.Currency(cur))
		if err := fn(&r); err != nil {
			return err
		}
	}
	return dbError(rows.Err(), "reading repayments")
}

// RepaymentMonths returns the first and last month of the portfolio's repayment history and its
// number of rows (zero dates and 0 when it has none), from the stats stored at import
// (PortfolioStats): no scan of the history.
func (d *DB) RepaymentMonths(ctx context.Context, portfolioID int64) (first, last date.Date, rows int64, err error) {
	s, err := d.PortfolioStats(ctx, portfolioID)
	if err != nil {
		if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
			return first, last, 0, nil
		}
		return first, last, 0, err
	}
	return s.RepaymentFirst, s.RepaymentLast, s.RepaymentRows, nil
}

// PoolCollectionRow is one collection posted to a pool, with the loan's tape key.
type PoolCollectionRow struct {
	// LoanRef is the loan's per-pool reference and LoanKey its loan_id in the portfolio.
	LoanRef, LoanKey string
	// Amount is the amount collected (CNY) and Effective its value date.
	Amount    money.Amount
	Effective date.Date
}

// StreamPoolCollections calls fn for every collection posted to the pool, by value date. fn's
// first error stops the stream and is returned unchanged.
func (d *DB) StreamPoolCollections(ctx context.Context, pool string, fn func(PoolCollectionRow) error) error {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT c.loan_ref, l.loan_key, c.amount_minor, c.effective
		FROM pool_collections c JOIN pool_loans l ON l.pool = c.pool AND l.loan_ref = c.loan_ref
		WHERE c.pool = ? ORDER BY c.effective, c.event_id`), pool)
	if err != nil {
		return dbError(err, "reading pool collections")
	}
	defer rows.Close()
	for rows.Next() {
		var c PoolCollectionRow
		var minor int64
		if err := rows.Scan(&c.LoanRef, &c.LoanKey, &minor, dateScan{&c.Effective}); err != nil {
			return dbError(err, "reading pool collections")
		}
		c.Amount = money.New(minor, "CNY")
		if err := fn(c); err != nil {
			return err
		}
	}
	return dbError(rows.Err(), "reading pool collections")
}
