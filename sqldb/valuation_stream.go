package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"reclaim"
	"reclaim/money"
)

// Batched reads for the streaming valuation: a portfolio's loans with their repayment histories,
// a batch at a time, in import order, so that memory is bounded by the batch whatever the size of
// the portfolio.

// loanBatchSelect reads the next batch of a portfolio's loans: at most a batch of those whose
// loans.id lies in [lo, hi). The upper bound keeps the read to one range of the loans_portfolio
// index whatever the planner knows: without it, a PostgreSQL table not yet analysed after a bulk
// load was read by a bitmap scan of every later loan and a sort, for every batch (quadratic).
var loanBatchSelect = strings.Replace(strings.Replace(loanSelect, "SELECT loan_ref,", "SELECT id, loan_ref,", 1),
	"ORDER BY id", "AND id >= ? AND id < ? ORDER BY id LIMIT ?", 1)

// repaymentBatchSelect reads the repayment history of the loans of a portfolio whose loans.id
// lies in [from, upTo], by loan and month.
const repaymentBatchSelect = `SELECT loan_ref, month, amount_minor, currency, source, channel
	FROM repayments WHERE portfolio_id = ? AND loan_ref IN
		(SELECT loan_ref FROM loans WHERE portfolio_id = ? AND id >= ? AND id <= ?)
	ORDER BY loan_ref, month`

// StreamLoanBatches calls fn with the portfolio's loans in import order, at most size at a time
// (size <= 0: 50,000; a batch is smaller where the portfolio's ids are sparse), each with its
// repayment history by month when withHistory (history[i] is loans[i]'s; nil for a loan without
// one, and for every loan without withHistory). PortfolioRef and CutOffDate are the portfolio's. Every batch is newly allocated: fn may keep it. Each batch
// is one query on a range of ids (and one more for the histories), so no read stays open between
// calls of fn and no query reads beyond its batch.
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
	var first, last sql.NullInt64
	err = d.r.QueryRowContext(ctx, d.rebind(`SELECT MIN(id), MAX(id) FROM loans WHERE portfolio_id = ?`), portfolioID).Scan(&first, &last)
	if err != nil {
		return dbError(err, "reading loans")
	}
	if !first.Valid {
		return nil
	}
	q := d.rebind(loanBatchSelect)
	// Read the ids [lo, lo+width) a batch at a time. The ids of one portfolio are dense when it
	// was imported alone; where they are sparse (imports interleaved) the window widens so that
	// batches stay near size, and narrows again when a batch is full.
	lo, width := first.Int64, int64(size)
	for lo <= last.Int64 {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := lo + width
		loans, firstID, lastID, err := d.loanBatch(ctx, q, portfolioID, lo, hi, size, p)
		if err != nil {
			return err
		}
		full := len(loans) == size
		switch {
		case full:
			width = max(int64(size), width/2)
		case len(loans) < size/2 && width < int64(size)<<10:
			width *= 2
		}
		if len(loans) > 0 {
			history := make([][]reclaim.Repayment, len(loans))
			if withHistory {
				if err := d.repaymentBatch(ctx, portfolioID, firstID, lastID, loans, history); err != nil {
					return err
				}
			}
			if err := fn(loans, history); err != nil {
				return err
			}
		}
		if full {
			lo = lastID + 1
		} else {
			lo = hi
		}
	}
	return nil
}

// loanBatch reads up to size loans of the portfolio whose loans.id is in [lo, hi), and returns
// them with the ids of the first and the last.
func (d *DB) loanBatch(ctx context.Context, q string, portfolioID, lo, hi int64, size int, p reclaim.Portfolio) ([]reclaim.Loan, int64, int64, error) {
	rows, err := d.r.QueryContext(ctx, q, portfolioID, lo, hi, size)
	if err != nil {
		return nil, 0, 0, dbError(err, "reading loans")
	}
	defer rows.Close()
	s := newLoanScan()
	var id, firstID int64
	dest := append([]any{&id}, s.dest...)
	loans := make([]reclaim.Loan, 0, size)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, 0, dbError(err, "reading loans")
		}
		if err := s.finish(); err != nil {
			return nil, 0, 0, dbError(err, "reading loans")
		}
		s.l.PortfolioRef, s.l.CutOffDate = p.Ref, p.CutOffDate
		if len(loans) == 0 {
			firstID = id
		}
		loans = append(loans, s.l)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, 0, dbError(err, "reading loans")
	}
	return loans, firstID, id, nil
}

// repaymentBatch fills history with the repayments of the loans whose loans.id is in
// [from, upTo] (the batch's loans: a batch is every loan of the portfolio in that range).
func (d *DB) repaymentBatch(ctx context.Context, portfolioID, from, upTo int64, loans []reclaim.Loan, history [][]reclaim.Repayment) error {
	index := make(map[string]int, len(loans))
	for i := range loans {
		index[loans[i].LoanID] = i
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(repaymentBatchSelect), portfolioID, portfolioID, from, upTo)
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
