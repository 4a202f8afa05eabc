package sqldb

import (
	"context"
	"database/sql"

	"reclaim"
	"reclaim/cnid"
	"reclaim/ingest"
	"reclaim/workout"
)

// PIIRefusal and PIIRefusalFilter are the domain's types (package reclaim).
type (
	PIIRefusal       = reclaim.PIIRefusal
	PIIRefusalFilter = reclaim.PIIRefusalFilter
)

// Refusal reasons.
const (
	RefusedNotInScope = reclaim.RefusedNotInScope
	RefusedNotFound   = reclaim.RefusedNotFound
)

// borrowerCases loads the cases holding the loans of one borrower of a portfolio (the scope
// facts only: id, status, assignee, agency).
func (t *Tx) borrowerCases(ctx context.Context, portfolioID int64, ref string) ([]Case, error) {
	rows, err := t.Query(ctx, `SELECT c.id, c.status, c.assignee, c.agency FROM cases c WHERE c.id IN (
		SELECT a.case_id FROM accounts a JOIN borrowers b ON b.id = a.borrower_id WHERE a.portfolio_id = ? AND b.borrower_ref = ?)
		ORDER BY c.id`, portfolioID, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		var c Case
		if err := rows.Scan(&c.ID, &c.Status, textScan{&c.Assignee}, textScan{&c.Agency}); err != nil {
			return nil, err
		}
		c.Ref = workout.CaseRef(c.ID)
		out = append(out, c)
	}
	return out, rows.Err()
}

// BorrowerCases returns the cases holding the loans of one borrower of a portfolio (id, status,
// assignee and agency only), in id order; none when the borrower is not boarded.
func (d *DB) BorrowerCases(ctx context.Context, portfolioID int64, ref string) ([]Case, error) {
	var out []Case
	err := d.ReadTx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.borrowerCases(ctx, portfolioID, ref)
		return err
	})
	return out, dbError(err, "loading a borrower's cases")
}

// ReadPersonalAs is the scoped personal-data read every API route uses: in one transaction it
// loads the cases that hold the borrower's loans, applies workout.MayReadPersonal for viewer v
// (a collector: a case assigned to it; an agency user: a case placed with its agency and not
// recalled; legal: any case; no other role), and only then decrypts and writes the access-log
// row. A refusal is ENOTFOUND, the same answer as for a borrower or portfolio that does not
// exist, so existence does not leak; it changes nothing but is recorded in pii_refusals (route
// names the API address for that record). Actor and purpose are checked as in
// ReadPersonalData.
func (k KeyedDB) ReadPersonalAs(ctx context.Context, acc reclaim.Access, v workout.Viewer, route string, caseID, portfolioID int64, ref string) (reclaim.PersonalData, error) {
	refused := ""
	pd, err := k.readPersonal(ctx, acc, portfolioID, ref, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrowers WHERE portfolio_id = ? AND borrower_ref = ?`, portfolioID, ref).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q not found in portfolio %d", ref, portfolioID)
		}
		cases, err := tx.borrowerCases(ctx, portfolioID, ref)
		if err != nil {
			return err
		}
		if !workout.MayReadPersonal(v, cases) {
			refused = RefusedNotInScope
			return reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q not found in portfolio %d", ref, portfolioID)
		}
		return nil
	})
	if err != nil && reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
		if refused == "" {
			refused = RefusedNotFound
		}
		if rerr := k.RecordPIIRefusal(ctx, PIIRefusal{Actor: acc.Actor, Role: string(v.Role), Route: route, PortfolioID: portfolioID,
			BorrowerRef: ref, CaseID: caseID, Purpose: acc.Purpose, Reason: refused}); rerr != nil {
			return reclaim.PersonalData{}, rerr
		}
		// One message whatever the cause.
		return reclaim.PersonalData{}, reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q not found in portfolio %d", ref, portfolioID)
	}
	return pd, err
}

// RecordPIIRefusal appends a refused reveal to pii_refusals. The text fields are cut to their
// API limits and must be acceptable text (the edge has checked them already).
func (d *DB) RecordPIIRefusal(ctx context.Context, r PIIRefusal) error {
	cut := func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	}
	r.BorrowerRef, r.Purpose = cut(r.BorrowerRef, 200), cut(r.Purpose, 600)
	var pid, cid any
	if r.PortfolioID > 0 {
		pid = r.PortfolioID
	}
	if r.CaseID > 0 {
		cid = r.CaseID
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO pii_refusals (at, actor, role, route, portfolio_id, borrower_ref, case_id, purpose, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.instant(d.nowUTC()), r.Actor, r.Role, r.Route, pid, r.BorrowerRef, cid, r.Purpose, r.Reason)
		return err
	})
	return dbError(err, "recording a refused personal-data read")
}

// ListPIIRefusals returns refused reveals, newest first.
func (d *DB) ListPIIRefusals(ctx context.Context, f PIIRefusalFilter) ([]PIIRefusal, error) {
	q := `SELECT id, at, actor, role, route, portfolio_id, borrower_ref, case_id, purpose, reason FROM pii_refusals WHERE 1 = 1`
	var args []any
	if f.Actor != "" {
		q, args = q+` AND actor = ?`, append(args, f.Actor)
	}
	q, args = d.auditWindow(q, args, f.Since, f.Until, f.Limit)
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing refused personal-data reads")
	}
	defer rows.Close()
	out := []PIIRefusal{}
	for rows.Next() {
		var r PIIRefusal
		var pid, cid sql.NullInt64
		if err := rows.Scan(&r.ID, instantScan{&r.At}, &r.Actor, &r.Role, &r.Route, &pid, &r.BorrowerRef, &cid, &r.Purpose, &r.Reason); err != nil {
			return nil, dbError(err, "listing refused personal-data reads")
		}
		r.PortfolioID, r.CaseID = pid.Int64, cid.Int64
		out = append(out, r)
	}
	return out, dbError(rows.Err(), "listing refused personal-data reads")
}

// readPersonal is ReadPersonal with a scope check inside the read's transaction.
func (k KeyedDB) readPersonal(ctx context.Context, acc reclaim.Access, portfolioID int64, ref string, check func(tx *Tx) error) (reclaim.PersonalData, error) {
	p, err := k.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return reclaim.PersonalData{}, err
	}
	got, err := k.readPersonalData(ctx, acc, portfolioID, []string{ref},
		func(sealed []byte, _ string, borrowerRef string) (reclaim.PersonalData, error) {
			pd, err := k.Keys.OpenPersonal(sealed, ingest.PersonalAAD(p.ContentHash, borrowerRef))
			if err == nil && pd.BirthDate.IsZero() && pd.NationalID != "" {
				// Sealed before birth dates were sealed too (migration 00006 took them out of the
				// loans table): the national ID holds the date.
				if info, verr := cnid.Validate(pd.NationalID); verr == nil {
					pd.BirthDate = info.Birth
				}
			}
			return pd, err
		}, check)
	if err != nil {
		return reclaim.PersonalData{}, err
	}
	pd, ok := got[ref]
	if !ok {
		return pd, reclaim.Errorf(reclaim.ENOTFOUND, "no personal data stored for borrower %s", ref)
	}
	return pd, nil
}
