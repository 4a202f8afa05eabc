package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/money"
	"reclaim/textnorm"
	"reclaim/tlog/verify"
)

// Live ABS deals (docs/abs-live.md). A deal is a pool: its ledger (ledger_pools, pool_loans)
// plus its deal document, fixed at opening by its hash (the pool.opened entry's waterfall_hash is
// the abs document hash). The rules (which loans a selection takes, what a report says, what a
// waterfall pays) are package abs and abs/live's; this file loads what they need, stores what
// they decided and logs it, each change with its entries in one transaction.

// Shared shapes (package abs/live, which httpapi reads without importing sqldb).
type (
	Deal           = live.DealRecord
	DealReportInfo = live.ReportInfo
	DealLoanRow    = live.DealLoanRow
	Investor       = live.Investor
	Holding        = live.Holding
)

// DealLoan is a loan selected into a deal pool.
type DealLoan struct {
	PortfolioID int64
	Loan        *reclaim.Loan
}

// DealSpec opens a deal: a pool from loans selected across portfolios, with its document.
type DealSpec struct {
	Pool      string    // the pool (and deal) id, e.g. "RCL-ABS-2026-1"
	Name      string    // display name (default: the document's name)
	Origin    string    // the checkpoint origin of the pool's log
	Doc       []byte    // the deal document (YAML or JSON), its pool forecast inlined
	Effective date.Date // the boarding date
	Loans     []DealLoan
	Criteria  string // the selection criteria as JSON, kept with the deal
	CreatedBy string
	LogKey    string // the note verifier key that will sign the pool's checkpoints, or empty
}

// leftPool are the pool_loans statuses of a loan that has left its pool.
const leftPool = `('removed', 'repurchased', 'sold')`

// dealGrade maps a tape grade to the v2 boarding entry's grade (empty when unknown).
func dealGrade(s string) string {
	switch s {
	case "substandard", "doubtful", "loss":
		return s
	}
	return ""
}

func dealProduct(s string) string {
	switch s {
	case "credit_card", "consumer_loan", "business_loan", "auto_loan", "mortgage":
		return s
	}
	return ""
}

func dealRegion(s string) string {
	if len(s) == 6 && strings.Trim(s, "0123456789") == "" {
		return s
	}
	return ""
}

// CandidateLoans streams the loans of the given portfolios (every portfolio when none is given)
// that are in no pool now (neither a deal pool nor a pool opened from their whole portfolio) (a loan whose pool loan has left its pool is free again), in
// portfolio and import order, until fn returns an error or errStop.
func (d *DB) CandidateLoans(ctx context.Context, portfolios []int64, fn func(portfolioID int64, l *reclaim.Loan) error) error {
	if len(portfolios) == 0 {
		ps, err := d.ListPortfolios(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			portfolios = append(portfolios, p.ID)
		}
	}
	busy := map[string]bool{}
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT m.portfolio_id, m.loan_id FROM deal_members m JOIN pool_loans pl ON pl.pool = m.pool AND pl.loan_ref = m.loan_ref
		WHERE pl.status NOT IN `+leftPool))
	if err != nil {
		return dbError(err, "reading deal memberships")
	}
	for rows.Next() {
		var pid int64
		var id string
		if err := rows.Scan(&pid, &id); err != nil {
			rows.Close()
			return dbError(err, "reading deal memberships")
		}
		busy[fmt.Sprintf("%d/%s", pid, id)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbError(err, "reading deal memberships")
	}
	// Pools opened from a whole portfolio (OpenPool) hold their loans under the seller's key.
	rows, err = d.r.QueryContext(ctx, d.rebind(`SELECT lp.portfolio_id, pl.loan_key FROM pool_loans pl JOIN ledger_pools lp ON lp.pool = pl.pool
		WHERE lp.portfolio_id IS NOT NULL AND pl.status NOT IN `+leftPool))
	if err != nil {
		return dbError(err, "reading pool memberships")
	}
	for rows.Next() {
		var pid int64
		var id string
		if err := rows.Scan(&pid, &id); err != nil {
			rows.Close()
			return dbError(err, "reading pool memberships")
		}
		busy[fmt.Sprintf("%d/%s", pid, id)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbError(err, "reading pool memberships")
	}
	for _, pid := range portfolios {
		err := d.StreamLoans(ctx, pid, func(l *reclaim.Loan) error {
			if busy[fmt.Sprintf("%d/%s", pid, l.LoanID)] {
				return nil
			}
			c := *l // StreamLoans reuses its loan; callers may keep this one
			return fn(pid, &c)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateDeal validates the deal document (package abs: nothing is stored from an invalid one),
// creates the pool's ledger and boards the selected loans, all in one transaction: the pool.opened
// entry carries the document's hash; each loan gets a random per-pool reference, its pool key
// (portfolio/loan id, so that loans of different portfolios cannot collide) and a version-2
// loan.boarded entry with its product, region and grade. A loan already in another pool is
// ECONFLICT: deal_members' primary key holds each loan in one deal pool at a time, and a loan of
// a pool opened from its whole portfolio (OpenPool, which predates deals) is refused too.
func (d *DB) CreateDeal(ctx context.Context, spec DealSpec) (Deal, error) {
	deal, err := abs.Load(spec.Doc, abs.Options{})
	if err != nil {
		return Deal{}, err
	}
	if spec.Effective.IsZero() {
		return Deal{}, reclaim.Errorf(reclaim.EINVALID, "a deal needs its boarding date")
	}
	if len(spec.Loans) == 0 {
		return Deal{}, reclaim.Errorf(reclaim.EINVALID, "a deal pool needs at least one loan")
	}
	if deal.Currency() != "CNY" {
		return Deal{}, reclaim.Errorf(reclaim.EUNSUPPORTED, "deal %s is in %s; pools are CNY", deal.Name(), deal.Currency())
	}
	if spec.Name == "" {
		spec.Name = deal.Name()
	}
	if spec.Criteria == "" {
		spec.Criteria = "{}"
	}
	cutoff, err := date.ParseStrict(deal.Document().Dates.Cutoff)
	if err != nil {
		return Deal{}, reclaim.WrapError(reclaim.EINVALID, err, "deal cut-off: %v", err)
	}
	type boarding struct {
		pid     int64
		loanID  string
		loan    PoolLoan
		product string
		region  string
		grade   string
		dpd     int64
		eventID string
		salt    []byte
		entry   []byte
	}
	seen := map[string]bool{}
	loans := make([]boarding, 0, len(spec.Loans))
	for _, sl := range spec.Loans {
		l := sl.Loan
		if l.Currency != "" && l.Currency != "CNY" {
			return Deal{}, reclaim.Errorf(reclaim.EUNSUPPORTED, "loan %s of portfolio %d is in %s; pools are CNY", l.LoanID, sl.PortfolioID, l.Currency)
		}
		key := fmt.Sprintf("%d/%s", sl.PortfolioID, l.LoanID)
		if seen[key] {
			return Deal{}, reclaim.Errorf(reclaim.EINVALID, "loan %s is selected twice", key)
		}
		seen[key] = true
		rec, err := loanRecord(l)
		if err != nil {
			return Deal{}, err
		}
		b := boarding{pid: sl.PortfolioID, loanID: l.LoanID, product: dealProduct(string(l.ProductType)), region: dealRegion(l.RegionCode),
			grade: dealGrade(string(l.FiveCategory)), dpd: int64(max(l.DaysPastDue, 0)), eventID: newID("board-", 8), salt: newSalt(),
			loan: PoolLoan{Ref: newID("L", 10), LoanKey: key, Claim: l.TotalClaim, Principal: l.PrincipalOutstanding,
				Interest: orZero(l.InterestOutstanding), Fees: orZero(l.FeesOutstanding), Balance: l.TotalClaim, Status: verify.StatusOpen}}
		e := verify.LoanBoarded{Header: verify.Header{Pool: spec.Pool, EventID: b.eventID, Effective: spec.Effective.String(), V: verify.EntryVersion2},
			Loan: b.loan.Ref, Claim: verify.Amount(b.loan.Claim.Minor()), Principal: verify.Amount(b.loan.Principal.Minor()),
			Interest: verify.Amount(b.loan.Interest.Minor()), Fees: verify.Amount(b.loan.Fees.Minor()), DPD: b.dpd,
			Commitment: verify.Commit(b.salt, verify.TagLoanRecord, rec), Product: b.product, Region: b.region, Grade: b.grade}
		if b.entry, err = e.Encode(); err != nil {
			return Deal{}, reclaim.WrapError(reclaim.EINVALID, err, "loan %s cannot be boarded: %v", key, err)
		}
		loans = append(loans, b)
	}
	opened, err := verify.PoolOpened{Header: hdr(spec.Pool, "open", spec.Effective), Name: spec.Name,
		Cutoff: cutoff.String(), Currency: "CNY", WaterfallHash: deal.Hash()}.Encode()
	if err != nil {
		return Deal{}, entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.CreateLedger(ctx, LedgerPool{Pool: spec.Pool, Origin: spec.Origin, Name: spec.Name, Currency: "CNY", Cutoff: cutoff}); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, spec.Pool, "open", opened); err != nil {
			return err
		}
		if spec.LogKey != "" {
			if err := tx.addLogKey(ctx, spec.Pool, 0, spec.LogKey); err != nil {
				return err
			}
		}
		// Release the memberships of loans that have left their pools.
		if _, err := tx.Exec(ctx, `DELETE FROM deal_members WHERE EXISTS (SELECT 1 FROM pool_loans pl
			WHERE pl.pool = deal_members.pool AND pl.loan_ref = deal_members.loan_ref AND pl.status IN `+leftPool+`)`); err != nil {
			return err
		}
		// Name a loan another pool holds (the primary key below is what guarantees it, also
		// against a concurrent selection).
		pids := map[int64]bool{}
		for _, b := range loans {
			pids[b.pid] = true
		}
		for pid := range pids {
			held := map[string]string{}
			rows, err := tx.Query(ctx, `SELECT loan_id, pool FROM deal_members WHERE portfolio_id = ?
				UNION ALL SELECT pl.loan_key, pl.pool FROM pool_loans pl JOIN ledger_pools lp ON lp.pool = pl.pool
				WHERE lp.portfolio_id = ? AND pl.status NOT IN `+leftPool, pid, pid)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id, other string
				if err := rows.Scan(&id, &other); err != nil {
					rows.Close()
					return err
				}
				held[id] = other
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, b := range loans {
				if other, ok := held[b.loanID]; ok && b.pid == pid {
					e := reclaim.Errorf(reclaim.ECONFLICT, "loan %s of portfolio %d is already in pool %s: a loan is in one pool at a time", b.loanID, pid, other)
					e.Fields = map[string]string{"loan": fmt.Sprintf("%d/%s", pid, b.loanID), "pool": other}
					return e
				}
			}
		}
		if err := insertRows(ctx, tx, `INSERT INTO deal_members (portfolio_id, loan_id, pool, loan_ref, product, region, grade, dpd, claim_minor) VALUES `,
			9, len(loans), func(i int, a []any) []any {
				b := loans[i]
				return append(a, b.pid, b.loanID, spec.Pool, b.loan.Ref, b.product, b.region, b.grade, b.dpd, b.loan.Claim.Minor())
			}); err != nil {
			if isUniqueViolation(err) {
				return reclaim.Errorf(reclaim.ECONFLICT, "a selected loan is already in another pool: a loan is in one pool at a time")
			}
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO pool_loans (pool, loan_ref, loan_key, claim_minor, principal_minor, interest_minor, fees_minor,
			balance_minor, status, boarded_event) VALUES `, 10, len(loans), func(i int, a []any) []any {
			l := loans[i].loan
			return append(a, spec.Pool, l.Ref, l.LoanKey, l.Claim.Minor(), l.Principal.Minor(), l.Interest.Minor(), l.Fees.Minor(),
				l.Balance.Minor(), l.Status, loans[i].eventID)
		}); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO ledger_salts (pool, event_id, tag, loan_ref, salt) VALUES `, 5, len(loans), func(i int, a []any) []any {
			return append(a, spec.Pool, loans[i].eventID, verify.TagLoanRecord, loans[i].loan.Ref, loans[i].salt)
		}); err != nil {
			return err
		}
		now := d.instant(d.nowUTC())
		if err := insertRows(ctx, tx, `INSERT INTO ledger_outbox (pool, event_id, entry, queued_at) VALUES `, 4, len(loans), func(i int, a []any) []any {
			return append(a, spec.Pool, loans[i].eventID, loans[i].entry, now)
		}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO deals (pool, name, doc, hash, opened_hash, criteria, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			spec.Pool, spec.Name, spec.Doc, deal.Hash(), deal.Hash(), spec.Criteria, spec.CreatedBy, now)
		return err
	})
	if err != nil {
		return Deal{}, dbError(err, "opening deal "+spec.Pool)
	}
	return d.GetDeal(ctx, spec.Pool)
}

const dealSelect = `SELECT d.pool, d.name, p.origin, d.hash, d.opened_hash, d.criteria, d.created_by, d.created_at, d.doc FROM deals d JOIN ledger_pools p ON p.pool = d.pool`

func scanDeal(r rowScanner) (Deal, error) {
	var x Deal
	err := r.Scan(&x.Pool, &x.Name, &x.Origin, &x.Hash, &x.OpenedHash, &x.Criteria, &x.CreatedBy, instantScan{&x.CreatedAt}, &x.Doc)
	return x, err
}

// GetDeal reads a deal (ENOTFOUND when there is none).
func (d *DB) GetDeal(ctx context.Context, pool string) (Deal, error) {
	x, err := scanDeal(d.r.QueryRowContext(ctx, d.rebind(dealSelect+` WHERE d.pool = ?`), pool))
	if err == sql.ErrNoRows {
		return Deal{}, reclaim.Errorf(reclaim.ENOTFOUND, "no deal %q", pool)
	}
	return x, dbError(err, "reading deal "+pool)
}

// ListDeals lists the deals, by pool id; a non-nil only keeps those pools.
func (d *DB) ListDeals(ctx context.Context, only map[string]bool) ([]Deal, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(dealSelect+` ORDER BY d.pool`))
	if err != nil {
		return nil, dbError(err, "listing deals")
	}
	defer rows.Close()
	out := []Deal{}
	for rows.Next() {
		x, err := scanDeal(rows)
		if err != nil {
			return nil, dbError(err, "listing deals")
		}
		if only == nil || only[x.Pool] {
			out = append(out, x)
		}
	}
	return out, dbError(rows.Err(), "listing deals")
}

// AmendDeal replaces the deal document (validated by package abs) and logs deal.amended with the
// new and previous hashes. An amendment that changes nothing is EINVALID.
func (d *DB) AmendDeal(ctx context.Context, pool string, doc []byte, reason string, eff date.Date) (Deal, error) {
	deal, err := abs.Load(doc, abs.Options{})
	if err != nil {
		return Deal{}, err
	}
	if strings.TrimSpace(reason) == "" || textnorm.Check(reason) != nil {
		return Deal{}, reclaim.Errorf(reclaim.EINVALID, "an amendment needs its reason (printable text)")
	}
	eventID := newID("amend-", 8)
	err = d.WriteTx(ctx, func(tx *Tx) error {
		var prev string
		if err := tx.QueryRow(ctx, `SELECT hash FROM deals WHERE pool = ?`, pool).Scan(&prev); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no deal %q", pool)
		} else if err != nil {
			return err
		}
		if prev == deal.Hash() {
			return reclaim.Errorf(reclaim.EINVALID, "the amended document is the deal in force (hash %s)", prev)
		}
		e, err := verify.DealAmended{Header: hdr(pool, eventID, eff), DealHash: deal.Hash(), PreviousHash: prev, Reason: truncRunes(reason, 200)}.Encode()
		if err != nil {
			return entryErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deal_amendments (pool, event_id, hash, prev_hash, doc, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			pool, eventID, deal.Hash(), prev, doc, reason, d.instant(d.nowUTC())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deals SET doc = ?, hash = ? WHERE pool = ?`, doc, deal.Hash(), pool); err != nil {
			return err
		}
		return tx.Enqueue(ctx, pool, eventID, e)
	})
	if err != nil {
		return Deal{}, dbError(err, "amending deal "+pool)
	}
	return d.GetDeal(ctx, pool)
}

func truncRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// DealCostSpec is a cost or waiver from servicing.
type DealCostSpec struct {
	Pool      string
	Kind      string // verify.CostDisposal or verify.CostWaiver
	Loan      string // the loan's per-pool reference or pool key; required for a waiver
	Channel   string // a collection channel, or empty
	Amount    money.Amount
	Effective date.Date
	Memo      string
	PostedBy  string
}

// lastDealWindowEnd is the end of the collection window of the pool's last deal report (zero
// when none): cash, costs and waivers dated on or before it would change a closed report.
func lastDealWindowEnd(ctx context.Context, tx *Tx, pool string) (date.Date, error) {
	var end date.Date
	err := tx.QueryRow(ctx, `SELECT collection_end FROM deal_reports WHERE pool = ? ORDER BY period DESC LIMIT 1`, pool).Scan(dateScan{&end})
	if err == sql.ErrNoRows {
		return date.Date{}, nil
	}
	return end, err
}

func checkDealDate(ctx context.Context, tx *Tx, pool string, eff date.Date) error {
	end, err := lastDealWindowEnd(ctx, tx, pool)
	if err != nil {
		return err
	}
	return dealDateOpen(end, eff)
}

// dealDateOpen refuses a date on or before end, the last reported deal window's end (zero: none).
func dealDateOpen(end, eff date.Date) error {
	if !end.IsZero() && !eff.After(end) {
		e := reclaim.Errorf(reclaim.EINVALID, "%s is in a collection period already reported (through %s): date it in the open period", eff, end)
		e.Fields = map[string]string{"rule": "deal_period_closed"}
		return e
	}
	return nil
}

// RecordDealCost logs a cost (paid out of collections) or a waiver (claim forgiven on a loan of
// the pool, at most its balance) as deal.cost and stores it.
func (d *DB) RecordDealCost(ctx context.Context, c DealCostSpec) (string, error) {
	if c.Kind != verify.CostDisposal && c.Kind != verify.CostWaiver {
		return "", reclaim.Errorf(reclaim.EINVALID, "a deal cost's kind is %q or %q, not %q", verify.CostDisposal, verify.CostWaiver, c.Kind)
	}
	if c.Amount.IsAbsent() || c.Amount.Currency() != "CNY" || c.Amount.Minor() <= 0 {
		return "", reclaim.Errorf(reclaim.EINVALID, "a deal cost is a positive CNY amount")
	}
	if c.Effective.IsZero() {
		return "", reclaim.Errorf(reclaim.EINVALID, "a deal cost needs its date")
	}
	for name, v := range map[string]string{"memo": c.Memo, "posted_by": c.PostedBy, "loan": c.Loan, "channel": c.Channel} {
		if err := textnorm.Check(v); err != nil {
			return "", &reclaim.Error{Code: reclaim.EINVALID, Message: "deal cost: " + name + " " + err.Error(), Fields: map[string]string{name: err.Error()}}
		}
	}
	eventID := newID("cost-", 8)
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM deals WHERE pool = ?`, c.Pool).Scan(&one); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no deal %q", c.Pool)
		} else if err != nil {
			return err
		}
		ref := ""
		if c.Loan != "" || c.Kind == verify.CostWaiver {
			l, err := lockPoolLoanBy(ctx, tx, c.Pool, c.Loan, "loan_key")
			if err != nil {
				return err
			}
			ref = l.Ref
			if c.Kind == verify.CostWaiver && c.Amount.Minor() > l.Balance.Minor() {
				return reclaim.Errorf(reclaim.EINVALID, "waiver %s exceeds loan %s's balance %s", c.Amount, l.Ref, l.Balance)
			}
		}
		if err := checkDealDate(ctx, tx, c.Pool, c.Effective); err != nil {
			return err
		}
		e, err := verify.DealCost{Header: hdr(c.Pool, eventID, c.Effective), Kind: c.Kind, Loan: ref, Channel: c.Channel,
			Amount: verify.Amount(c.Amount.Minor()), Memo: truncRunes(c.Memo, 200)}.Encode()
		if err != nil {
			return entryErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deal_costs (pool, event_id, kind, loan_ref, channel, amount_minor, effective, memo, posted_by, posted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Pool, eventID, c.Kind, ref, c.Channel, c.Amount.Minor(), dateArg(c.Effective), c.Memo,
			c.PostedBy, d.instant(d.nowUTC())); err != nil {
			return err
		}
		return tx.Enqueue(ctx, c.Pool, eventID, e)
	})
	return eventID, dbError(err, "recording a deal cost")
}

// ImportServicerFile imports a servicer's collections file (live.ParseServicerFile), once per
// file (its SHA-256; a second import is ECONFLICT). A per-loan file (with a loan column) is
// allocated to its loans by live.AllocateServicerRows and each row is posted like a collection:
// the loan's parts fall, a pool_collections row and a loan.collection entry (by the loan's
// per-pool reference; the row's txn_id, or "servicer FILEHASH12 line N", committed as its bank
// transaction). An older date,amount file logs one deal.collections entry per row (pool cash
// without a loan). A row dated in a reported collection period, a loan not in the pool, an
// amount above what the loan owes or a transaction already posted is EINVALID or ECONFLICT naming
// the line; nothing is stored from a refused file. It returns the number of entries logged.
func (d *DB) ImportServicerFile(ctx context.Context, pool string, file []byte) (int, error) {
	sf, err := live.ParseServicerFile(file)
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256(file)
	fh := hex.EncodeToString(sum[:])
	n := 0
	err = d.WriteTx(ctx, func(tx *Tx) error {
		n = 0
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM deals WHERE pool = ?`, pool).Scan(&one); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no deal %q", pool)
		} else if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT 1 FROM deal_servicer_flows WHERE pool = ? AND file_hash = ? LIMIT 1`, pool, fh).Scan(&one); err == nil {
			return reclaim.Errorf(reclaim.ECONFLICT, "servicer file %s is already imported into pool %s", fh[:12], pool)
		} else if err != sql.ErrNoRows {
			return err
		}
		if sf.Rows != nil {
			var err error
			n, err = d.importServicerLoans(ctx, tx, pool, fh, sf.Rows)
			return err
		}
		for i, f := range sf.Flows {
			if f.Amount.Minor() == 0 {
				continue
			}
			if err := checkDealDate(ctx, tx, pool, f.Date); err != nil {
				return err
			}
			id := fmt.Sprintf("svc-%s-%d", fh[:12], i+1)
			e, err := verify.DealCollections{Header: hdr(pool, id, f.Date), Amount: verify.Amount(f.Amount.Minor()), Line: int64(i + 1), FileHash: fh}.Encode()
			if err != nil {
				return entryErr(err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO deal_servicer_flows (pool, event_id, file_hash, line, effective, amount_minor) VALUES (?, ?, ?, ?, ?, ?)`,
				pool, id, fh, i+1, dateArg(f.Date), f.Amount.Minor()); err != nil {
				return err
			}
			if err := tx.Enqueue(ctx, pool, id, e); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, dbError(err, "importing a servicer file")
}

// servicerPoster is who posts a servicer file's collections (pool_collections.posted_by).
const servicerPoster = "servicer-file"

// importServicerLoans posts a per-loan servicer file's rows inside the import's transaction: it
// loads the balances of the loans the rows name, lets live.AllocateServicerRows decide each row's
// parts, and stores each as a loan's collection (postLoanCollectionTx) with its
// deal_servicer_flows row (the file is imported once).
func (d *DB) importServicerLoans(ctx context.Context, tx *Tx, pool, fh string, rows []live.ServicerRow) (int, error) {
	loans := map[string]live.LoanBalance{}
	for _, r := range rows {
		if _, ok := loans[r.Loan]; ok {
			continue
		}
		l, err := lockPoolLoanBy(ctx, tx, pool, r.Loan, "loan_key")
		if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
			continue // the allocation names the line
		} else if err != nil {
			return 0, err
		}
		loans[r.Loan] = live.LoanBalance{Ref: l.Ref, Fees: l.Fees.Minor(), Interest: l.Interest.Minor(), Principal: l.Principal.Minor()}
	}
	posts, err := live.AllocateServicerRows(rows, loans)
	if err != nil {
		return 0, err
	}
	for _, p := range posts {
		line := func(err error) error {
			var re *reclaim.Error
			if errors.As(err, &re) {
				return &reclaim.Error{Code: re.Code, Message: fmt.Sprintf("line %d: %s", p.Row.Line, re.Message), Fields: map[string]string{fmt.Sprintf("line %d", p.Row.Line): re.Message}}
			}
			return err
		}
		if err := checkOpenPeriod(ctx, tx, pool, p.Row.Date); err != nil {
			return 0, line(err)
		}
		if err := checkDealDate(ctx, tx, pool, p.Row.Date); err != nil {
			return 0, line(err)
		}
		txn := p.Row.TxnID
		if txn == "" {
			txn = fmt.Sprintf("servicer %s line %d", fh[:12], p.Row.Line)
		}
		id, err := d.postLoanCollectionTx(ctx, tx, pool, p.Ref, p.Fees, p.Interest, p.Principal, p.Row.Channel, txn, p.Row.Date, servicerPoster)
		if err != nil {
			return 0, line(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO deal_servicer_flows (pool, event_id, file_hash, line, effective, amount_minor) VALUES (?, ?, ?, ?, ?, ?)`,
			pool, id, fh, p.Row.Line, dateArg(p.Row.Date), p.Row.Amount.Minor()); err != nil {
			return 0, err
		}
	}
	return len(posts), nil
}

// postLoanCollectionTx stores a collection already allocated to a pool loan's parts: the
// pool_collections row (the transaction id is unique per pool: ECONFLICT), the loan's lower
// parts and balance, the bank transaction's commitment salt, and the loan.collection entry. It
// returns the entry's event id.
func (d *DB) postLoanCollectionTx(ctx context.Context, tx *Tx, pool, ref string, fees, interest, principal int64, channel, txnID string,
	eff date.Date, postedBy string) (string, error) {
	amt := fees + interest + principal
	eventID := newID("col-", 8)
	salt := newSalt()
	entry, err := verify.LoanCollection{Header: hdr(pool, eventID, eff), Loan: ref, Amount: verify.Amount(amt), Principal: verify.Amount(principal),
		Interest: verify.Amount(interest), Fees: verify.Amount(fees), Channel: channel,
		BankTxn: verify.Commit(salt, verify.TagBankTxn, verify.BankTxnRecord(txnID))}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO pool_collections (pool, event_id, loan_ref, amount_minor, channel, txn_id, txn_key, effective, posted_by, posted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, pool, eventID, ref, amt, channel, txnID, textnorm.TxnKey(txnID), dateArg(eff), postedBy,
		d.instant(d.nowUTC())); err != nil {
		if isUniqueViolation(err) {
			return "", reclaim.Errorf(reclaim.ECONFLICT, "transaction %q is already posted to pool %q", txnID, pool)
		}
		return "", err
	}
	if _, err := tx.Exec(ctx, `UPDATE pool_loans SET fees_minor = fees_minor - ?, interest_minor = interest_minor - ?,
		principal_minor = principal_minor - ?, balance_minor = balance_minor - ? WHERE pool = ? AND loan_ref = ?`,
		fees, interest, principal, amt, pool, ref); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_salts (pool, event_id, tag, loan_ref, salt) VALUES (?, ?, ?, ?, ?)`,
		pool, eventID, verify.TagBankTxn, ref, salt); err != nil {
		return "", err
	}
	return eventID, tx.Enqueue(ctx, pool, eventID, entry)
}

// DealLog returns a pool's log entries, parsed, in log order: the sequenced leaves, then (when
// withQueued) the entries still waiting in the outbox, in queue order.
func (d *DB) DealLog(ctx context.Context, pool string, withQueued bool) ([]verify.Entry, error) {
	var out []verify.Entry
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = out[:0]
		var err error
		out, err = readDealLog(ctx, tx, pool, withQueued)
		return err
	})
	return out, dbError(err, "reading the log of "+pool)
}

func readDealLog(ctx context.Context, tx *Tx, pool string, withQueued bool) ([]verify.Entry, error) {
	var out []verify.Entry
	q := []string{`SELECT entry FROM ledger_leaves WHERE pool = ? ORDER BY idx`}
	if withQueued {
		q = append(q, `SELECT entry FROM ledger_outbox WHERE pool = ? ORDER BY id`)
	}
	for _, s := range q {
		rows, err := tx.Query(ctx, s, pool)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			e, err := verify.ParseEntry(b)
			if err != nil {
				rows.Close()
				return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "an entry of pool %s does not parse: %v", pool, err)
			}
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DealReportBuild computes a period's report from the pool's log (its entries in order and its
// size, with nothing waiting to be sequenced) and returns the report document and the entries
// that checkpoint it (their last is the deal.report).
type DealReportBuild func(log []verify.Entry, size int64) (doc []byte, entries []verify.Entry, err error)

// CloseDealPeriod closes payment date period of a deal: it sequences the pool's outbox, then,
// with the outbox empty and the pool row locked, calls build on the log and queues the entries
// it returns (the distribution lines, trigger tests and the deal.report, which therefore land
// right after the log's current end) and stores the report document, in one transaction.
// Periods close in order: a period other than the next one is EINVALID (ECONFLICT when already
// closed). A pool whose outbox keeps refilling is EUNAVAILABLE (retry).
func (d *DB) CloseDealPeriod(ctx context.Context, pool string, period int, build DealReportBuild) ([]byte, error) {
	for attempt := 0; attempt < 5; attempt++ {
		for {
			n, err := d.Sequence(ctx, pool, 0)
			if errors.Is(err, ErrNotLeader) {
				err = d.awaitDrained(ctx, pool, 15*time.Second)
				n = 0
			}
			if err != nil {
				return nil, err
			}
			if n == 0 {
				break
			}
		}
		var doc []byte
		busy := false
		err := d.WriteTx(ctx, func(tx *Tx) error {
			busy = false
			size, queued, err := d.lockPoolTree(ctx, tx, pool)
			if err != nil {
				return err
			}
			if busy = queued; busy {
				return nil
			}
			var last sql.NullInt64
			if err := tx.QueryRow(ctx, `SELECT MAX(period) FROM deal_reports WHERE pool = ?`, pool).Scan(&last); err != nil {
				return err
			}
			switch next := int(last.Int64) + 1; {
			case period < next:
				return reclaim.Errorf(reclaim.ECONFLICT, "period %d of deal %s is already reported", period, pool)
			case period > next:
				return reclaim.Errorf(reclaim.EINVALID, "period %d of deal %s cannot be reported before period %d", period, pool, next)
			}
			log, err := readDealLog(ctx, tx, pool, false)
			if err != nil {
				return err
			}
			body, entries, err := build(log, size)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				return reclaim.Errorf(reclaim.EINTERNAL, "a deal report without its entries")
			}
			rep, ok := entries[len(entries)-1].(verify.DealReport)
			if !ok || int(rep.Period) != period {
				return reclaim.Errorf(reclaim.EINTERNAL, "the report's last entry is not period %d's deal.report", period)
			}
			for _, e := range entries {
				b, err := e.Encode()
				if err != nil {
					return entryErr(err)
				}
				if err := tx.Enqueue(ctx, pool, e.EntryHeader().EventID, b); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO deal_reports (pool, period, payment_date, collection_end, event_id, hash, doc, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				pool, period, rep.PaymentDate, rep.CollectionEnd, rep.EventID, rep.ReportHash, body, d.instant(d.nowUTC())); err != nil {
				if isUniqueViolation(err) {
					return reclaim.Errorf(reclaim.ECONFLICT, "period %d of deal %s is already reported", period, pool)
				}
				return err
			}
			doc = body
			return nil
		})
		if err != nil {
			return nil, dbError(err, "closing a deal period")
		}
		if !busy {
			return doc, nil
		}
	}
	return nil, reclaim.Errorf(reclaim.EUNAVAILABLE, "pool %s keeps receiving entries; retry the report", pool)
}

// DealReports lists a deal's reports, by period.
func (d *DB) DealReports(ctx context.Context, pool string) ([]DealReportInfo, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT period, payment_date, event_id, hash, created_at FROM deal_reports WHERE pool = ? ORDER BY period`), pool)
	if err != nil {
		return nil, dbError(err, "listing deal reports")
	}
	defer rows.Close()
	out := []DealReportInfo{}
	for rows.Next() {
		var r DealReportInfo
		if err := rows.Scan(&r.Period, dateScan{&r.PaymentDate}, &r.EventID, &r.Hash, instantScan{&r.CreatedAt}); err != nil {
			return nil, dbError(err, "listing deal reports")
		}
		out = append(out, r)
	}
	return out, dbError(rows.Err(), "listing deal reports")
}

// DealReportDoc returns a stored report's document (the exact bytes its hash covers), or
// ENOTFOUND.
func (d *DB) DealReportDoc(ctx context.Context, pool string, period int) ([]byte, error) {
	var b []byte
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT doc FROM deal_reports WHERE pool = ? AND period = ?`), pool, period).Scan(&b)
	if err == sql.ErrNoRows {
		return nil, reclaim.Errorf(reclaim.ENOTFOUND, "deal %s has no report for period %d", pool, period)
	}
	return b, dbError(err, "reading a deal report")
}

// DealLoans lists a deal pool's loans without personal data (no seller keys, no names or ids),
// by reference.
func (d *DB) DealLoans(ctx context.Context, pool string) ([]DealLoanRow, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT m.loan_ref, m.product, m.region, m.grade, m.dpd, m.claim_minor, pl.balance_minor, pl.status
		FROM deal_members m JOIN pool_loans pl ON pl.pool = m.pool AND pl.loan_ref = m.loan_ref WHERE m.pool = ? ORDER BY m.loan_ref`), pool)
	if err != nil {
		return nil, dbError(err, "reading deal loans")
	}
	defer rows.Close()
	out := []DealLoanRow{}
	for rows.Next() {
		var r DealLoanRow
		var region string
		var claim, bal int64
		if err := rows.Scan(&r.Ref, &r.Product, &region, &r.Grade, &r.DPD, &claim, &bal, &r.Status); err != nil {
			return nil, dbError(err, "reading deal loans")
		}
		if len(region) == 6 {
			r.Prefecture = region[:4] + "00"
		}
		r.Claim, r.Balance = money.New(claim, "CNY"), money.New(bal, "CNY")
		out = append(out, r)
	}
	return out, dbError(rows.Err(), "reading deal loans")
}

// CreateInvestor creates an investor organisation (ECONFLICT when the id or name is taken).
func (d *DB) CreateInvestor(ctx context.Context, inv Investor) error {
	if inv.ID == "" || inv.Name == "" || textnorm.Check(inv.ID) != nil || textnorm.Check(inv.Name) != nil {
		return reclaim.Errorf(reclaim.EINVALID, "an investor needs an id and a name")
	}
	_, err := d.w.ExecContext(ctx, d.rebind(`INSERT INTO investors (id, name, created_at) VALUES (?, ?, ?)`), inv.ID, inv.Name, d.instant(d.nowUTC()))
	if isUniqueViolation(err) {
		return reclaim.Errorf(reclaim.ECONFLICT, "investor %q or its name already exists", inv.ID)
	}
	return dbError(err, "creating an investor")
}

// Investors lists the investor organisations by id.
func (d *DB) Investors(ctx context.Context) ([]Investor, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT id, name FROM investors ORDER BY id`))
	if err != nil {
		return nil, dbError(err, "listing investors")
	}
	defer rows.Close()
	out := []Investor{}
	for rows.Next() {
		var i Investor
		if err := rows.Scan(&i.ID, &i.Name); err != nil {
			return nil, dbError(err, "listing investors")
		}
		out = append(out, i)
	}
	return out, dbError(rows.Err(), "listing investors")
}

// SetInvestorUser makes a user a member of an investor organisation (a user belongs to one).
func (d *DB) SetInvestorUser(ctx context.Context, investor string, userID int64) error {
	return dbError(d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM investors WHERE id = ?`, investor).Scan(&one); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no investor %q", investor)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM investor_users WHERE user_id = ?`, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO investor_users (user_id, investor) VALUES (?, ?)`, userID, investor)
		return err
	}), "setting an investor's user")
}

// SetHolding records an investor's holding of a deal's tranche (replacing the previous amount;
// zero removes it). The tranche must be one of the deal document's.
func (d *DB) SetHolding(ctx context.Context, h Holding) error {
	if h.Amount.IsAbsent() || h.Amount.Currency() != "CNY" || h.Amount.Minor() < 0 {
		return reclaim.Errorf(reclaim.EINVALID, "a holding is a CNY amount >= 0")
	}
	x, err := d.GetDeal(ctx, h.Pool)
	if err != nil {
		return err
	}
	doc, err := abs.Parse(x.Doc)
	if err != nil {
		return err
	}
	found := false
	for _, t := range doc.Tranches {
		found = found || t.Name == h.Tranche
	}
	if !found {
		return reclaim.Errorf(reclaim.EINVALID, "deal %s has no tranche %q", h.Pool, h.Tranche)
	}
	return dbError(d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM investors WHERE id = ?`, h.Investor).Scan(&one); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no investor %q", h.Investor)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM deal_holdings WHERE investor = ? AND pool = ? AND tranche = ?`, h.Investor, h.Pool, h.Tranche); err != nil {
			return err
		}
		if h.Amount.Minor() == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO deal_holdings (investor, pool, tranche, amount_minor) VALUES (?, ?, ?, ?)`, h.Investor, h.Pool, h.Tranche, h.Amount.Minor())
		return err
	}), "recording a holding")
}

// UserInvestor returns the investor organisation of a user ("" when it belongs to none).
func (d *DB) UserInvestor(ctx context.Context, userID int64) (string, error) {
	var inv string
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT investor FROM investor_users WHERE user_id = ?`), userID).Scan(&inv)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return inv, dbError(err, "reading a user's investor")
}

// Holdings lists an investor's holdings (every investor's when investor is empty), by pool and
// tranche.
func (d *DB) Holdings(ctx context.Context, investor string) ([]Holding, error) {
	q, args := `SELECT investor, pool, tranche, amount_minor FROM deal_holdings`, []any{}
	if investor != "" {
		q += ` WHERE investor = ?`
		args = append(args, investor)
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(q+` ORDER BY pool, tranche, investor`), args...)
	if err != nil {
		return nil, dbError(err, "reading holdings")
	}
	defer rows.Close()
	out := []Holding{}
	for rows.Next() {
		var h Holding
		var a int64
		if err := rows.Scan(&h.Investor, &h.Pool, &h.Tranche, &a); err != nil {
			return nil, dbError(err, "reading holdings")
		}
		h.Amount = money.New(a, "CNY")
		out = append(out, h)
	}
	return out, dbError(rows.Err(), "reading holdings")
}

// UserPools returns the pools a user's investor organisation holds a tranche of (empty when the
// user belongs to no investor).
func (d *DB) UserPools(ctx context.Context, userID int64) (map[string]bool, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT DISTINCT h.pool FROM investor_users u JOIN deal_holdings h ON h.investor = u.investor
		WHERE u.user_id = ? AND h.amount_minor > 0`), userID)
	if err != nil {
		return nil, dbError(err, "reading a user's pools")
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, dbError(err, "reading a user's pools")
		}
		out[p] = true
	}
	return out, dbError(rows.Err(), "reading a user's pools")
}
