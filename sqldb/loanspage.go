package sqldb

import (
	"context"
	"strings"

	"reclaim"
)

// LoansPage returns up to limit loans of a portfolio from offset, in import order, each with its
// borrower's masked personal data, and the portfolio's loan count. Nothing is decrypted.
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
	rows, err := d.r.QueryContext(ctx, d.rebind(loanSelect+` LIMIT ? OFFSET ?`), portfolioID, limit, offset)
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
	q := `SELECT borrower_ref, masked_name, masked_national_id, masked_phone FROM borrowers
		WHERE portfolio_id = ? AND borrower_ref IN (?` + strings.Repeat(", ?", len(refs)-2) + `)`
	brows, err := d.r.QueryContext(ctx, d.rebind(q), refs...)
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
