package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"reclaim"
	"reclaim/workout"
)

// BindBlindKey checks that the blind-index key with this fingerprint is the one the database's
// blind index was written with, and records it on first use (key_ids, purpose 'blind'). A
// different key is ErrWrongKey: hashes under two keys never match, so debtors would silently stop
// being recognised across portfolios.
func (d *DB) BindBlindKey(ctx context.Context, fingerprint string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT key_id FROM key_ids WHERE purpose = 'blind'`).Scan(&cur)
		switch {
		case err == sql.ErrNoRows:
			_, err = tx.Exec(ctx, `INSERT INTO key_ids (purpose, key_id, updated_at) VALUES ('blind', ?, ?)`, fingerprint, d.instant(d.nowUTC()))
			return err
		case err != nil:
			return err
		case cur != fingerprint:
			return reclaim.Errorf(ErrWrongKey, "the blind-index key given (fingerprint %s) is not the key this database's blind index was written with "+
				"(fingerprint %s): start with the right key ($RECLAIM_BLIND_KEY or blind.key in the data directory)", short(fingerprint), short(cur))
		}
		return nil
	})
	return dbError(err, "checking the blind-index key")
}

// BorrowersWithoutBlindIndex returns up to limit borrower refs of a portfolio that have sealed
// personal data but no blind-index rows (imported before the index existed), in id order after
// the borrower id afterID, with the last id returned.
func (d *DB) BorrowersWithoutBlindIndex(ctx context.Context, portfolioID, afterID int64, limit int) (refs []string, lastID int64, err error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT b.id, b.borrower_ref FROM borrowers b JOIN borrower_pii p ON p.borrower_id = b.id
		WHERE b.portfolio_id = ? AND b.id > ? AND NOT EXISTS (SELECT 1 FROM borrower_blind x WHERE x.borrower_id = b.id)
		ORDER BY b.id LIMIT ?`), portfolioID, afterID, limit)
	if err != nil {
		return nil, 0, dbError(err, "finding borrowers without a blind index")
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&lastID, &ref); err != nil {
			return nil, 0, dbError(err, "finding borrowers without a blind index")
		}
		refs = append(refs, ref)
	}
	return refs, lastID, dbError(rows.Err(), "finding borrowers without a blind index")
}

// AddBlindIndex writes the blind-index rows of a portfolio's borrowers (by borrower ref), in one
// transaction; rows already present are kept (a resumed backfill). ENOTFOUND for an unknown ref.
func (d *DB) AddBlindIndex(ctx context.Context, portfolioID int64, terms map[string][]workout.BlindTerm) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		for ref, ts := range terms {
			var id int64
			if err := tx.QueryRow(ctx, `SELECT id FROM borrowers WHERE portfolio_id = ? AND borrower_ref = ?`, portfolioID, ref).Scan(&id); err == sql.ErrNoRows {
				return reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q not found in portfolio %d", ref, portfolioID)
			} else if err != nil {
				return err
			}
			for _, t := range ts {
				if t.Kind == "" || len(t.Hash) == 0 {
					continue
				}
				if _, err := tx.Exec(ctx, `INSERT INTO borrower_blind (borrower_id, kind, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
					id, t.Kind, t.Hash); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return dbError(err, "writing the blind index")
}

// BlindIndexCount returns how many borrowers of a portfolio have blind-index rows and how many
// have sealed personal data.
func (d *DB) BlindIndexCount(ctx context.Context, portfolioID int64) (indexed, sealed int64, err error) {
	err = d.r.QueryRowContext(ctx, d.rebind(strings.TrimSpace(`SELECT
		(SELECT COUNT(DISTINCT x.borrower_id) FROM borrower_blind x JOIN borrowers b ON b.id = x.borrower_id WHERE b.portfolio_id = ?),
		(SELECT COUNT(*) FROM borrower_pii p JOIN borrowers b ON b.id = p.borrower_id WHERE b.portfolio_id = ?)`)), portfolioID, portfolioID).Scan(&indexed, &sealed)
	return indexed, sealed, dbError(err, "counting the blind index")
}
