package sqldb

import (
	"context"
	"strings"

	"reclaim"
	"reclaim/money"
)

// Batched reads for the streaming valuation: a portfolio's loans with their repayment histories,
// a batch at a time, in import order, so that memory is bounded by the batch whatever the size of
// the portfolio.

// loanBatchSelect reads the next batch of a portfolio's loans after a loans.id (keyset paging on
// the loans_portfolio index).
var loanBatchSelect = strings.Replace(strings.Replace(loanSelect, "SELECT loan_ref,", "SELECT id, loan_ref,", 1),
	"ORDER BY id", "AND id > ? ORDER BY id LIMIT ?", 1)

// repaymentBatchSelect reads the repayment history of the loans of a portfolio whose loans.id
// lies in (after, upTo], by loan and month.
const repaymentBatchSelect = `SELECT loan_ref, month, amount_minor, currency, source, channel
	FROM repayments WHERE portfolio_id = ? AND loan_ref IN
		(SELECT loan_ref FROM loans WHERE portfolio_id = ? AND id > ? AND id <= ?)
	ORDER BY loan_ref, month`

// StreamLoanBatches calls fn with the portfolio's loans in import order, size at a time (size
// <= 0: 50,000), each with its repayment history by month when withHistory (history[i] is
// loans[i]'s; nil for a loan without one, and for every loan without withHistory). PortfolioRef
// and CutOffDate are the portfolio's. Every batch is newly allocated: fn may keep it. Each batch
// is one query (and one more for the histories), so no read stays open between calls of fn.
// It returns ENOTFOUND for an unknown portfolio, and fn's first error unchanged, which stops
// the stream; ctx is checked before every batch.
func (d *DB) StreamLoanBatches(ctx context.Context, portfolioID int64, size int, withHistory bool,
	fn func(loans []reclaim.Loan, history [][]reclaim.Repayment) error) error {
	if size <= 0 {
		size = 50_000
	}
	p, err := d.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return err
	}
	q := d.rebind(loanBatchSelect)
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		loans, last, err := d.loanBatch(ctx, q, portfolioID, after, size, p)
		if err != nil {
			return err
		}
		if len(loans) == 0 {
			return nil
		}
		history := make([][]reclaim.Repayment, len(loans))
		if withHistory {
			if err := d.repaymentBatch(ctx, portfolioID, after, last, loans, history); err != nil {
				return err
			}
		}
		if err := fn(loans, history); err != nil {
			return err
		}
		if len(loans) < size {
			return nil
		}
		after = last
	}
}

// loanBatch reads up to size loans of the portfolio after the loans.id after, and returns them
// with the id of the last.
func (d *DB) loanBatch(ctx context.Context, q string, portfolioID, after int64, size int, p reclaim.Portfolio) ([]reclaim.Loan, int64, error) {
	rows, err := d.r.QueryContext(ctx, q, portfolioID, after, size)
	if err != nil {
		return nil, 0, dbError(err, "reading loans")
	}
	defer rows.Close()
	s := newLoanScan()
	var id int64
	dest := append([]any{&id}, s.dest...)
	loans := make([]reclaim.Loan, 0, size)
	last := after
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, dbError(err, "reading loans")
		}
		if err := s.finish(); err != nil {
			return nil, 0, dbError(err, "reading loans")
		}
		s.l.PortfolioRef, s.l.CutOffDate = p.Ref, p.CutOffDate
		loans = append(loans, s.l)
		last = id
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbError(err, "reading loans")
	}
	return loans, last, nil
}

// repaymentBatch fills history with the repayments of the loans whose loans.id is in
// (after, upTo].
func (d *DB) repaymentBatch(ctx context.Context, portfolioID, after, upTo int64, loans []reclaim.Loan, history [][]reclaim.Repayment) error {
	index := make(map[string]int, len(loans))
	for i := range loans {
		index[loans[i].LoanID] = i
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(repaymentBatchSelect), portfolioID, portfolioID, after, upTo)
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
		if i, ok := index[r.LoanID]; ok {
			history[i] = append(history[i], r)
		}
	}
	return dbError(rows.Err(), "reading repayments")
}
