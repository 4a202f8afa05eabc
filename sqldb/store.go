package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"reclaim"
	"reclaim/money"
)

type rowScanner interface{ Scan(dest ...any) error }

func upsertSeller(ctx context.Context, ex execer, d *DB, name string, now time.Time) (int64, error) {
	if _, err := ex.ExecContext(ctx, d.rebind(`INSERT INTO sellers (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		name, d.instant(now)); err != nil {
		return 0, dbError(err, "creating seller")
	}
	var id int64
	if err := ex.QueryRowContext(ctx, d.rebind(`SELECT id FROM sellers WHERE name = ?`), name).Scan(&id); err != nil {
		return 0, dbError(err, "reading seller")
	}
	return id, nil
}

// UpsertSeller returns the seller with this name (surrounding space trimmed), creating it if
// needed. An empty name is EINVALID.
func (d *DB) UpsertSeller(ctx context.Context, name string) (reclaim.Seller, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return reclaim.Seller{}, reclaim.Errorf(reclaim.EINVALID, "seller name is required")
	}
	var s reclaim.Seller
	err := d.WriteTx(ctx, func(tx *Tx) error {
		id, err := upsertSeller(ctx, tx.tx, d, name, d.nowUTC())
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id, name, created_at FROM sellers WHERE id = ?`, id).
			Scan(&s.ID, &s.Name, instantScan{&s.CreatedAt})
	})
	return s, dbError(err, "upserting seller")
}

// ListSellers returns all sellers ordered by name.
func (d *DB) ListSellers(ctx context.Context) ([]reclaim.Seller, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, name, created_at FROM sellers ORDER BY name`)
	if err != nil {
		return nil, dbError(err, "listing sellers")
	}
	defer rows.Close()
	var out []reclaim.Seller
	for rows.Next() {
		var s reclaim.Seller
		if err := rows.Scan(&s.ID, &s.Name, instantScan{&s.CreatedAt}); err != nil {
			return nil, dbError(err, "listing sellers")
		}
		out = append(out, s)
	}
	return out, dbError(rows.Err(), "listing sellers")
}

// portfolioSelect reads the columns scanPortfolio expects. Only committed imports are visible
// outside their own transaction, so no status filter is needed.
const portfolioSelect = `SELECT p.id, p.seller_id, s.name, p.ref, p.name, p.cut_off_date, p.currency, p.status,
	p.loan_count, p.total_claim_minor, p.source_file, p.content_hash, p.salt, p.imported_at
	FROM portfolios p JOIN sellers s ON s.id = p.seller_id`

func scanPortfolio(row rowScanner, p *reclaim.Portfolio) error {
	var cur string
	var claim int64
	if err := row.Scan(&p.ID, &p.SellerID, &p.SellerName, &p.Ref, &p.Name, dateScan{&p.CutOffDate}, &cur, &p.Status,
		&p.LoanCount, &claim, &p.SourceFile, &p.ContentHash, &p.Salt, instantScan{&p.ImportedAt}); err != nil {
		return err
	}
	p.Currency = money.Currency(cur)
	p.TotalClaim = money.New(claim, p.Currency)
	return nil
}

// ListPortfolios returns every committed portfolio, oldest first.
func (d *DB) ListPortfolios(ctx context.Context) ([]reclaim.Portfolio, error) {
	rows, err := d.r.QueryContext(ctx, portfolioSelect+` ORDER BY p.id`)
	if err != nil {
		return nil, dbError(err, "listing portfolios")
	}
	defer rows.Close()
	var out []reclaim.Portfolio
	for rows.Next() {
		var p reclaim.Portfolio
		if err := scanPortfolio(rows, &p); err != nil {
			return nil, dbError(err, "listing portfolios")
		}
		out = append(out, p)
	}
	return out, dbError(rows.Err(), "listing portfolios")
}

// GetPortfolio returns the portfolio with this id, or ENOTFOUND.
func (d *DB) GetPortfolio(ctx context.Context, id int64) (reclaim.Portfolio, error) {
	var p reclaim.Portfolio
	err := scanPortfolio(d.r.QueryRowContext(ctx, d.rebind(portfolioSelect+` WHERE p.id = ?`), id), &p)
	if err == sql.ErrNoRows {
		return p, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", id)
	}
	return p, dbError(err, "reading portfolio")
}

func (d *DB) portfolioText(ctx context.Context, id int64, column string) ([]byte, error) {
	var s sql.NullString
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT `+column+` FROM portfolios WHERE id = ?`), id).Scan(&s)
	if err == sql.ErrNoRows {
		return nil, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", id)
	}
	if err != nil || !s.Valid {
		return nil, dbError(err, "reading portfolio")
	}
	return []byte(s.String), nil
}

// PortfolioHeaderJSON returns the pool header stored at import (nil if none was given), or
// ENOTFOUND.
func (d *DB) PortfolioHeaderJSON(ctx context.Context, id int64) ([]byte, error) {
	return d.portfolioText(ctx, id, "header_json")
}

// PortfolioReportJSON returns the import report stored at import (nil if none was given), or
// ENOTFOUND.
func (d *DB) PortfolioReportJSON(ctx context.Context, id int64) ([]byte, error) {
	return d.portfolioText(ctx, id, "report_json")
}

const loanSelect = `SELECT loan_ref, borrower_ref, product_type, origination_date, original_amount_minor, currency,
	principal_minor, interest_minor, fees_minor, total_claim_minor, default_date, days_past_due,
	five_category, written_off, write_off_date, security_type, last_payment_date,
	last_payment_amount_minor, legal_status, legal_start_date, court, limitation_expiry_date,
	birth_year, age, region_code, deceased, bankrupt, phone_available, last_contact_date,
	forbearance_count, repayment_plan_active, agency_placements, complaint_flag, extras_json
	FROM loans WHERE portfolio_id = ? ORDER BY id`

// loanScan holds the scan destinations of one loans row, reused across rows.
type loanScan struct {
	l                                         reclaim.Loan
	product, five, security, legal, cur, extr string
	orig, prin, intr, fees, claim, lastPay    amountScan
	dest                                      []any
}

func newLoanScan() *loanScan {
	s := &loanScan{}
	l := &s.l
	s.dest = []any{&l.LoanID, &l.BorrowerID, textScan{&s.product}, dateScan{&l.OriginationDate}, &s.orig, &s.cur,
		&s.prin, &s.intr, &s.fees, &s.claim, dateScan{&l.DefaultDate}, intScan{&l.DaysPastDue, 0},
		textScan{&s.five}, boolScan{&l.WrittenOff}, dateScan{&l.WriteOffDate}, textScan{&s.security}, dateScan{&l.LastPaymentDate},
		&s.lastPay, textScan{&s.legal}, dateScan{&l.LegalStartDate}, textScan{&l.Court}, dateScan{&l.LimitationExpiryDate},
		intScan{&l.BirthYear, 0}, intScan{&l.Age, -1}, textScan{&l.RegionCode}, boolScan{&l.Deceased}, boolScan{&l.Bankrupt},
		boolScan{&l.PhoneAvailable}, dateScan{&l.LastContactDate},
		intScan{&l.ForbearanceCount, -1}, boolScan{&l.RepaymentPlanActive}, intScan{&l.AgencyPlacements, 0},
		boolScan{&l.ComplaintFlag}, textScan{&s.extr}}
	return s
}

func (s *loanScan) finish() error {
	l := &s.l
	c := money.Currency(s.cur)
	l.Currency = c
	l.ProductType = reclaim.ProductType(s.product)
	l.FiveCategory = reclaim.FiveCategory(s.five)
	l.SecurityType = reclaim.SecurityType(s.security)
	l.LegalStatus = reclaim.LegalStatus(s.legal)
	l.OriginalAmount = s.orig.amount(c)
	l.PrincipalOutstanding = s.prin.amount(c)
	l.InterestOutstanding = s.intr.amount(c)
	l.FeesOutstanding = s.fees.amount(c)
	l.TotalClaim = s.claim.amount(c)
	l.LastPaymentAmount = s.lastPay.amount(c)
	l.Extras = nil
	if s.extr != "" {
		if err := json.Unmarshal([]byte(s.extr), &l.Extras); err != nil {
			return err
		}
	}
	return nil
}

// StreamLoans calls fn for every loan of the portfolio in import order, reading rows as it goes
// (memory does not grow with the portfolio). The *Loan passed to fn is reused for the next row:
// fn must copy what it keeps. PortfolioRef and CutOffDate are the portfolio's. It returns
// ENOTFOUND for an unknown portfolio, and fn's first error unchanged, which stops the stream.
func (d *DB) StreamLoans(ctx context.Context, portfolioID int64, fn func(*reclaim.Loan) error) error {
	p, err := d.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return err
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(loanSelect), portfolioID)
	if err != nil {
		return dbError(err, "reading loans")
	}
	defer rows.Close()
	s := newLoanScan()
	for rows.Next() {
		if err := rows.Scan(s.dest...); err != nil {
			return dbError(err, "reading loans")
		}
		if err := s.finish(); err != nil {
			return dbError(err, "reading loans")
		}
		s.l.PortfolioRef, s.l.CutOffDate = p.Ref, p.CutOffDate
		if err := fn(&s.l); err != nil {
			return err
		}
	}
	return dbError(rows.Err(), "reading loans")
}

// Repayments returns the repayment history of one loan of the portfolio, by month (an empty
// slice when it has none).
func (d *DB) Repayments(ctx context.Context, portfolioID int64, loanRef string) ([]reclaim.Repayment, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT loan_ref, month, amount_minor, currency, source, channel
		FROM repayments WHERE portfolio_id = ? AND loan_ref = ? ORDER BY month`), portfolioID, loanRef)
	if err != nil {
		return nil, dbError(err, "reading repayments")
	}
	defer rows.Close()
	out := []reclaim.Repayment{}
	for rows.Next() {
		var r reclaim.Repayment
		var minor int64
		var cur string
		if err := rows.Scan(&r.LoanID, dateScan{&r.Month}, &minor, &cur, &r.Source, &r.Channel); err != nil {
			return nil, dbError(err, "reading repayments")
		}
		r.Amount = money.New(minor, money.Currency(cur))
		out = append(out, r)
	}
	return out, dbError(rows.Err(), "reading repayments")
}

func insertEvent(ctx context.Context, ex execer, d *DB, e reclaim.Event) (reclaim.Event, error) {
	if e.At.IsZero() {
		e.At = d.nowUTC()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if e.Detail == "" {
		e.Detail = "{}"
	}
	var pid any
	if e.PortfolioID != 0 {
		pid = e.PortfolioID
	}
	err := ex.QueryRowContext(ctx, d.rebind(`INSERT INTO events (portfolio_id, type, actor, detail, at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		pid, e.Type, e.Actor, e.Detail, d.instant(e.At)).Scan(&e.ID)
	return e, err
}

// AddEvent records an event and returns it with its ID and, when At was zero, the time it was
// recorded (UTC, microseconds). Type is required and Detail must be JSON (empty means {}); an
// unknown PortfolioID is EINVALID.
func (d *DB) AddEvent(ctx context.Context, e reclaim.Event) (reclaim.Event, error) {
	if e.Type == "" {
		return e, reclaim.Errorf(reclaim.EINVALID, "event type is required")
	}
	if e.Detail != "" && !json.Valid([]byte(e.Detail)) {
		return e, reclaim.Errorf(reclaim.EINVALID, "event detail must be JSON")
	}
	var out reclaim.Event
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if e.PortfolioID != 0 {
			if err := portfolioExists(ctx, tx, e.PortfolioID); err != nil {
				return err
			}
		}
		var err error
		out, err = insertEvent(ctx, tx.tx, d, e)
		return err
	})
	return out, dbError(err, "recording event")
}

func portfolioExists(ctx context.Context, tx *Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM portfolios WHERE id = ?`, id).Scan(&one)
	if err == sql.ErrNoRows {
		return reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", id)
	}
	return err
}

// ListEvents returns up to limit events (100 when limit <= 0), newest first; portfolioID 0 means
// events of every portfolio and none.
func (d *DB) ListEvents(ctx context.Context, portfolioID int64, limit int) ([]reclaim.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, portfolio_id, type, actor, detail, at FROM events`
	args := []any{}
	if portfolioID != 0 {
		q += ` WHERE portfolio_id = ?`
		args = append(args, portfolioID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing events")
	}
	defer rows.Close()
	out := []reclaim.Event{}
	for rows.Next() {
		var e reclaim.Event
		var pid sql.NullInt64
		if err := rows.Scan(&e.ID, &pid, &e.Type, &e.Actor, &e.Detail, instantScan{&e.At}); err != nil {
			return nil, dbError(err, "listing events")
		}
		e.PortfolioID = pid.Int64
		out = append(out, e)
	}
	return out, dbError(rows.Err(), "listing events")
}
