package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"reclaim"
	"reclaim/textnorm"
)

// Access, PIIAccess and PIIAccessFilter are the domain's types (package reclaim).
type (
	Access          = reclaim.Access
	PIIAccess       = reclaim.PIIAccess
	PIIAccessFilter = reclaim.PIIAccessFilter
)

// ReadPersonalData decrypts the personal data of the named borrowers of a portfolio. For each
// borrower it reads the sealed blob, calls open (which holds the key; sqldb never does), and
// writes a pii_access_log row naming the actor, purpose and fields, all in one transaction: if
// any open or log write fails, nothing is returned and nothing is logged. Borrowers without stored
// personal data are absent from the result and not logged. Actor and Purpose are required
// (EINVALID), judged after trimming white space and format characters (textnorm.Trim), and must
// be acceptable text (textnorm.Check); an unknown portfolio or borrower is ENOTFOUND. open may be called more than once for
// a borrower if the transaction is retried.
func (d *DB) ReadPersonalData(ctx context.Context, acc Access, portfolioID int64, borrowerRefs []string,
	open func(sealed []byte, keyID string, borrowerRef string) (reclaim.PersonalData, error)) (map[string]reclaim.PersonalData, error) {
	return d.readPersonalData(ctx, acc, portfolioID, borrowerRefs, open, nil)
}

// readPersonalData is ReadPersonalData with a scope check run first in the read's own
// transaction (nil: none): when it fails, nothing is decrypted or logged.
func (d *DB) readPersonalData(ctx context.Context, acc Access, portfolioID int64, borrowerRefs []string,
	open func(sealed []byte, keyID string, borrowerRef string) (reclaim.PersonalData, error), check func(tx *Tx) error) (map[string]reclaim.PersonalData, error) {
	acc.Actor, acc.Purpose = textnorm.Trim(acc.Actor), textnorm.Trim(acc.Purpose)
	for name, v := range map[string]string{"actor": acc.Actor, "purpose": acc.Purpose} {
		if err := textnorm.Check(v); err != nil {
			return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "reading personal data: the " + name + " " + err.Error(),
				Fields: map[string]string{name: err.Error()}}
		}
	}
	if acc.Purpose == "" {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "reading personal data needs a purpose",
			Fields: map[string]string{"purpose": "required"}}
	}
	if acc.Actor == "" {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "reading personal data needs an actor",
			Fields: map[string]string{"actor": "required"}}
	}
	var out map[string]reclaim.PersonalData
	err := d.WriteTx(ctx, func(tx *Tx) error {
		out = make(map[string]reclaim.PersonalData, len(borrowerRefs))
		if err := portfolioExists(ctx, tx, portfolioID); err != nil {
			return err
		}
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		type sealedRow struct {
			ref, keyID string
			sealed     []byte
		}
		var found []sealedRow
		seen := make(map[string]bool, len(borrowerRefs))
		for start := 0; start < len(borrowerRefs); start += 500 {
			chunk := borrowerRefs[start:min(start+500, len(borrowerRefs))]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, portfolioID)
			for _, r := range chunk {
				args = append(args, r)
			}
			rows, err := tx.Query(ctx, `SELECT b.borrower_ref, p.key_id, p.sealed FROM borrowers b
				LEFT JOIN borrower_pii p ON p.borrower_id = b.id
				WHERE b.portfolio_id = ? AND b.borrower_ref IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var r sealedRow
				var key sql.NullString
				if err := rows.Scan(&r.ref, &key, &r.sealed); err != nil {
					rows.Close()
					return err
				}
				seen[r.ref] = true
				if key.Valid {
					r.keyID = key.String
					found = append(found, r)
				}
			}
			if err := rows.Err(); err != nil {
				rows.Close()
				return err
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		for _, ref := range borrowerRefs {
			if !seen[ref] {
				return reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q not found in portfolio %d", ref, portfolioID)
			}
		}
		at := d.instant(d.nowUTC())
		for _, r := range found {
			if _, dup := out[r.ref]; dup {
				continue
			}
			pd, err := open(r.sealed, r.keyID, r.ref)
			if err != nil {
				return err
			}
			fields, _ := json.Marshal(personalFields(pd))
			if _, err := tx.Exec(ctx, `INSERT INTO pii_access_log (at, actor, purpose, portfolio_id, borrower_ref, fields)
				VALUES (?, ?, ?, ?, ?, ?)`, at, acc.Actor, acc.Purpose, portfolioID, r.ref, string(fields)); err != nil {
				return err
			}
			out[r.ref] = pd
		}
		return nil
	})
	if err != nil {
		return nil, dbError(err, "reading personal data")
	}
	return out, nil
}

// personalFields names the non-empty fields of p, in a fixed order.
func personalFields(p reclaim.PersonalData) []string {
	f := []string{}
	for _, kv := range []struct{ name, v string }{{"name", p.Name}, {"national_id", p.NationalID}, {"phone", p.Phone},
		{"address", p.Address}, {"employer", p.Employer}, {"bank_card", p.BankCard}, {"contacts", p.Contacts}} {
		if kv.v != "" {
			f = append(f, kv.name)
		}
	}
	if !p.BirthDate.IsZero() {
		f = append(f, "birth_date")
	}
	return f
}

// ListPIIAccess returns access-log rows matching the filter, newest first.
func (d *DB) ListPIIAccess(ctx context.Context, f PIIAccessFilter) ([]PIIAccess, error) {
	q := `SELECT id, at, actor, purpose, portfolio_id, borrower_ref, fields FROM pii_access_log WHERE 1 = 1`
	var args []any
	if f.PortfolioID != 0 {
		q += ` AND portfolio_id = ?`
		args = append(args, f.PortfolioID)
	}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.BorrowerRef != "" {
		q += ` AND borrower_ref = ?`
		args = append(args, f.BorrowerRef)
	}
	q, args = d.auditWindow(q, args, f.Since, f.Until, f.Limit)
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing personal-data access")
	}
	defer rows.Close()
	out := []PIIAccess{}
	for rows.Next() {
		var a PIIAccess
		var fields string
		if err := rows.Scan(&a.ID, instantScan{&a.At}, &a.Actor, &a.Purpose, &a.PortfolioID, &a.BorrowerRef, &fields); err != nil {
			return nil, dbError(err, "listing personal-data access")
		}
		if err := json.Unmarshal([]byte(fields), &a.Fields); err != nil {
			return nil, dbError(err, "listing personal-data access")
		}
		out = append(out, a)
	}
	return out, dbError(rows.Err(), "listing personal-data access")
}
