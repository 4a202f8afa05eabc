package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

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
	var readers *sqliteLoanReaders
	if d.sqliteFile != "" && !driverLoanReads.Load() {
		readers = &sqliteLoanReaders{file: d.sqliteFile, busy: int32(d.sqliteBusy.Milliseconds()), q: q}
		defer readers.close()
	}
	// Read the ids [lo, lo+width) a batch at a time. The ids of one portfolio are dense when it
	// was imported alone; where they are sparse (imports interleaved) the window widens so that
	// batches stay near size, and narrows again when a batch is full.
	lo, width := first.Int64, int64(size)
	for lo <= last.Int64 {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := lo + width
		loans, firstID, lastID, err := d.loanBatch(ctx, readers, q, portfolioID, lo, hi, size, p)
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
// them with the ids of the first and the last. The range is cut into up to readParts parts read
// at once, each on its own connection (a part's rows are the first size of its own range, so the
// parts in order, cut at size, are the first size of the whole range): on a dense portfolio the
// batch is read by as many goroutines as there are parts.
func (d *DB) loanBatch(ctx context.Context, readers *sqliteLoanReaders, q string, portfolioID, lo, hi int64, size int, p reclaim.Portfolio) ([]reclaim.Loan, int64, int64, error) {
	parts := int64(readParts())
	if hi-lo < 2*minPartWidth {
		parts = 1
	}
	parts = min(parts, max(1, (hi-lo)/minPartWidth))
	type part struct {
		loans []reclaim.Loan
		ids   []int64
		err   error
	}
	res := make([]part, parts)
	bound := func(k int64) int64 { return lo + (hi-lo)*k/parts }
	var wg sync.WaitGroup
	for k := int64(1); k < parts; k++ {
		wg.Go(func() {
			r := &res[k]
			r.loans, r.ids, r.err = d.loanRange(ctx, readers, q, portfolioID, bound(k), bound(k+1), size, 0, p)
		})
	}
	r := &res[0]
	r.loans, r.ids, r.err = d.loanRange(ctx, readers, q, portfolioID, lo, bound(1), size, size, p)
	wg.Wait()
	var loans []reclaim.Loan
	var firstID, lastID int64
	for k := range res {
		r := &res[k]
		if r.err != nil {
			return nil, 0, 0, r.err
		}
		take := min(len(r.loans), size-len(loans))
		if take == 0 {
			continue
		}
		if loans == nil {
			loans, firstID = r.loans[:take], r.ids[0]
		} else {
			loans = append(loans, r.loans[:take]...)
		}
		lastID = r.ids[take-1]
	}
	return loans, firstID, lastID, nil
}

// driverLoanReads makes StreamLoanBatches read SQLite through database/sql's driver, as on
// PostgreSQL, instead of its own connections (tests compare the two).
var driverLoanReads atomic.Bool

// minPartWidth is the narrowest range of ids loanBatch reads as a part of its own.
const minPartWidth = 4096

// readParts is the number of parts loanBatch cuts a batch into: one per core, at most 4.
func readParts() int { return min(4, max(1, runtime.GOMAXPROCS(0))) }

// loanRange reads up to size loans of the portfolio whose loans.id is in [lo, hi), in id order,
// with their ids; capacity is the capacity of the slice returned (0: the most the range can
// hold). On SQLite (readers not nil) a reader of the stream's own reads them; otherwise the
// statement runs on the driver's connection and the driver's values are decoded here (into
// newLoanScan's destinations), without database/sql's per-row conversion.
func (d *DB) loanRange(ctx context.Context, readers *sqliteLoanReaders, q string, portfolioID, lo, hi int64, size, capacity int, p reclaim.Portfolio) ([]reclaim.Loan, []int64, error) {
	if capacity <= 0 {
		capacity = int(min(int64(size), hi-lo))
	}
	if readers != nil {
		loans, ids, err := readers.read(ctx, portfolioID, lo, hi, size, capacity, p)
		return loans, ids, dbError(err, "reading loans")
	}
	conn, err := d.r.Conn(ctx)
	if err != nil {
		return nil, nil, dbError(err, "reading loans")
	}
	defer conn.Close()
	var loans []reclaim.Loan
	var ids []int64
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("sqldb: the %s driver cannot run a query on its connection", d.dialect)
		}
		rows, err := qc.QueryContext(ctx, q, []driver.NamedValue{{Ordinal: 1, Value: portfolioID}, {Ordinal: 2, Value: lo},
			{Ordinal: 3, Value: hi}, {Ordinal: 4, Value: int64(size)}})
		if err != nil {
			return err
		}
		defer rows.Close()
		s := newLoanScan()
		vals := make([]driver.Value, 1+len(s.dest))
		if n := len(rows.Columns()); n != len(vals) {
			return fmt.Errorf("sqldb: %d columns read, %d expected", n, len(vals))
		}
		loans = make([]reclaim.Loan, 0, capacity)
		ids = make([]int64, 0, capacity)
		for {
			if err := rows.Next(vals); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			id, ok := vals[0].(int64)
			if !ok {
				return fmt.Errorf("sqldb: loans.id read as %T", vals[0])
			}
			for i, dst := range s.dest {
				if err := assign(dst, vals[i+1]); err != nil {
					return fmt.Errorf("column %d: %w", i+2, err)
				}
			}
			if err := s.finish(); err != nil {
				return err
			}
			s.l.PortfolioRef, s.l.CutOffDate = p.Ref, p.CutOffDate
			loans = append(loans, s.l)
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, nil, dbError(err, "reading loans")
	}
	return loans, ids, nil
}

// assign stores a driver value in one of newLoanScan's destinations, as database/sql's Scan
// does for them: a Scanner scans it, and a *string takes text (NULL and other types are
// errors).
func assign(dst any, v driver.Value) error {
	switch x := dst.(type) {
	case sql.Scanner:
		return x.Scan(v)
	case *string:
		switch t := v.(type) {
		case string:
			*x = t
		case []byte:
			*x = string(t)
		default:
			return fmt.Errorf("sqldb: cannot read %T as text", v)
		}
		return nil
	}
	return fmt.Errorf("sqldb: no decoder for %T", dst)
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
