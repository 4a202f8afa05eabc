package sqldb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"reclaim"
)

// LoansPage returns up to limit loans of a portfolio from offset, in import order, each with its
// borrower's masked personal data, and the portfolio's loan count. Nothing is decrypted.
//
// A page costs the same at any offset when the portfolio's loans have contiguous row ids (every
// import on SQLite, which holds the writer lock throughout; on PostgreSQL unless another import
// ran at the same time): the page is then read from the row id first_loan_id + offset
// (PortfolioStats). Otherwise it falls back to OFFSET, which steps over offset index entries.
func (d *DB) LoansPage(ctx context.Context, portfolioID int64, offset, limit int) ([]reclaim.LoanView, int64, error) {
	p, err := d.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	if offset < 0 {
		offset = 0
	}
	st, err := d.PortfolioStats(ctx, portfolioID)
	if err != nil {
		return nil, 0, err
	}
	if st.FirstLoanID > 0 && st.LastLoanID-st.FirstLoanID+1 == p.LoanCount {
		return d.loansFrom(ctx, p, loanSelectFrom+` AND id >= ? ORDER BY id LIMIT ?`, portfolioID, st.FirstLoanID+int64(offset), limit)
	}
	return d.loansFrom(ctx, p, loanSelect+` LIMIT ? OFFSET ?`, portfolioID, limit, offset)
}

// LoansPageAfter returns up to limit loans of a portfolio that come after the loan with the
// loan_id after, in import order ("" for the first page), with the loan count: keyset paging,
// whose cost does not depend on how far into the portfolio the page is. An after that names no
// loan of the portfolio is EINVALID.
func (d *DB) LoansPageAfter(ctx context.Context, portfolioID int64, after string, limit int) ([]reclaim.LoanView, int64, error) {
	p, err := d.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	if after == "" {
		return d.loansFrom(ctx, p, loanSelect+` LIMIT ?`, portfolioID, limit)
	}
	var id int64
	err = d.r.QueryRowContext(ctx, d.rebind(`SELECT id FROM loans WHERE portfolio_id = ? AND loan_ref = ?`), portfolioID, after).Scan(&id)
	if err == sql.ErrNoRows {
		return nil, 0, &reclaim.Error{Code: reclaim.EINVALID, Message: "after names no loan of this portfolio",
			Fields: map[string]string{"after": "not a loan_id of portfolio " + strconv.FormatInt(portfolioID, 10)}}
	}
	if err != nil {
		return nil, 0, dbError(err, "reading loans")
	}
	return d.loansFrom(ctx, p, loanSelectFrom+` AND id > ? ORDER BY id LIMIT ?`, portfolioID, id, limit)
}

// loanSelectFrom is loanSelect without its ORDER BY, for adding conditions on id.
var loanSelectFrom = strings.TrimSuffix(loanSelect, " ORDER BY id")

// loansFrom runs a loans query of portfolio p and adds the borrowers' masked personal data.
func (d *DB) loansFrom(ctx context.Context, p reclaim.Portfolio, q string, args ...any) ([]reclaim.LoanView, int64, error) {
	portfolioID := p.ID
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, 0, dbError(err, "reading loans")
	}
	defer rows.Close()
	s := newLoanScan()
	var out []reclaim.LoanView
	for rows.Next() {
		if err := rows.Scan(s.dest...); err != nil {
			return nil, 0, dbError(err, "reading loans")
		}
		if err := s.finish(); err != nil {
			return nil, 0, dbError(err, "reading loans")
		}
		s.l.PortfolioRef, s.l.CutOffDate = p.Ref, p.CutOffDate
		out = append(out, reclaim.LoanView{Loan: s.l})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbError(err, "reading loans")
	}
	if len(out) == 0 {
		return out, p.LoanCount, nil
	}
	refs := make([]any, 0, len(out)+1)
	refs = append(refs, portfolioID)
	seen := map[string]bool{}
	for _, v := range out {
		if !seen[v.BorrowerID] {
			seen[v.BorrowerID] = true
			refs = append(refs, v.BorrowerID)
		}
	}
	bq := `SELECT borrower_ref, masked_name, masked_national_id, masked_phone FROM borrowers
		WHERE portfolio_id = ? AND borrower_ref IN (?` + strings.Repeat(", ?", len(refs)-2) + `)`
	brows, err := d.r.QueryContext(ctx, d.rebind(bq), refs...)
	if err != nil {
		return nil, 0, dbError(err, "reading borrowers")
	}
	defer brows.Close()
	masked := map[string]reclaim.Masked{}
	for brows.Next() {
		var ref string
		var m reclaim.Masked
		if err := brows.Scan(&ref, textScan{&m.Name}, textScan{&m.NationalID}, textScan{&m.Phone}); err != nil {
			return nil, 0, dbError(err, "reading borrowers")
		}
		masked[ref] = m
	}
	if err := brows.Err(); err != nil {
		return nil, 0, dbError(err, "reading borrowers")
	}
	for i := range out {
		out[i].Borrower = masked[out[i].BorrowerID]
	}
	return out, p.LoanCount, nil
}
