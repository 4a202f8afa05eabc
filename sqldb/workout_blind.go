package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
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
// personal data but no blind-index terms (imported before the index existed, or without its
// key), in id order after the borrower id afterID, with the last id returned.
func (d *DB) BorrowersWithoutBlindIndex(ctx context.Context, portfolioID, afterID int64, limit int) (refs []string, lastID int64, err error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT b.id, b.borrower_ref FROM borrowers b JOIN borrower_pii p ON p.borrower_id = b.id
		WHERE b.portfolio_id = ? AND b.id > ? AND p.blind IS NULL
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

// AddBlindIndex writes the blind-index terms of a portfolio's borrowers (by borrower ref), in one
// transaction, beside their sealed personal data; terms already present are kept (a resumed
// backfill). ENOTFOUND for an unknown ref, or for a borrower without sealed personal data.
func (d *DB) AddBlindIndex(ctx context.Context, portfolioID int64, terms map[string][]workout.BlindTerm) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		for ref, ts := range terms {
			var id int64
			var have []byte
			var sealed bool
			err := tx.QueryRow(ctx, `SELECT b.id, p.blind, p.borrower_id IS NOT NULL FROM borrowers b
				LEFT JOIN borrower_pii p ON p.borrower_id = b.id WHERE b.portfolio_id = ? AND b.borrower_ref = ?`, portfolioID, ref).Scan(&id, &have, &sealed)
			switch {
			case err == sql.ErrNoRows:
				return reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q not found in portfolio %d", ref, portfolioID)
			case err != nil:
				return err
			case !sealed:
				return reclaim.Errorf(reclaim.ENOTFOUND, "borrower %q of portfolio %d has no sealed personal data to index", ref, portfolioID)
			}
			old, err := decodeBlindTerms(have)
			if err != nil {
				return fmt.Errorf("borrower %q: %w", ref, err)
			}
			enc := encodeBlindTerms(append(old, ts...))
			if enc == nil || bytes.Equal(enc, have) {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE borrower_pii SET blind = ? WHERE borrower_id = ?`, enc, id); err != nil {
				return err
			}
		}
		return nil
	})
	return dbError(err, "writing the blind index")
}

// BlindIndexCount returns how many borrowers of a portfolio have blind-index terms and how many
// have sealed personal data.
func (d *DB) BlindIndexCount(ctx context.Context, portfolioID int64) (indexed, sealed int64, err error) {
	err = d.r.QueryRowContext(ctx, d.rebind(strings.TrimSpace(`SELECT
		(SELECT COUNT(*) FROM borrower_pii x JOIN borrowers b ON b.id = x.borrower_id WHERE b.portfolio_id = ? AND x.blind IS NOT NULL),
		(SELECT COUNT(*) FROM borrower_pii p JOIN borrowers b ON b.id = p.borrower_id WHERE b.portfolio_id = ?)`)), portfolioID, portfolioID).Scan(&indexed, &sealed)
	return indexed, sealed, dbError(err, "counting the blind index")
}
