package sqldb

import (
	"context"
	"database/sql"
	"fmt"

	"reclaim"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/tlog/verify"
)

// Key ids: the database records which keys its data is under (fingerprints, never keys), so that a
// node started with another key is refused instead of sealing or signing with it.

// ErrWrongKey is the code of the errors that refuse a key the database does not hold.
const ErrWrongKey = reclaim.ECONFLICT

// PIIKeyState is what the database records about the personal-data key.
type PIIKeyState struct {
	// Current is the fingerprint of the key the personal data is sealed under ("" before the
	// first use).
	Current string
	// Pending is the new key's fingerprint while 'reclaim pii rotate-key' runs ("" otherwise).
	Pending string
}

// PIIKeyState returns the recorded personal-data key fingerprints.
func (d *DB) PIIKeyState(ctx context.Context) (PIIKeyState, error) {
	var st PIIKeyState
	var pending sql.NullString
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT key_id, pending_key_id FROM key_ids WHERE purpose = 'pii'`)).Scan(&st.Current, &pending)
	if err == sql.ErrNoRows {
		return PIIKeyState{}, nil
	}
	st.Pending = pending.String
	return st, dbError(err, "reading the personal-data key id")
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	return fp
}

// BindPIIKey checks that the personal-data key with this fingerprint (and blob key id, the 8
// hex characters its sealed blobs carry) is the one the database's personal data is under, and
// records it on first use. It refuses (ErrWrongKey) a different key, a rotation in progress,
// and, on a database that has sealed data but no recorded key (one made before key ids were
// recorded), a key whose id is not the one every stored blob names.
func (d *DB) BindPIIKey(ctx context.Context, fingerprint, blobID string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var cur string
		var pending sql.NullString
		err := tx.QueryRow(ctx, `SELECT key_id, pending_key_id FROM key_ids WHERE purpose = 'pii'`).Scan(&cur, &pending)
		switch {
		case err == sql.ErrNoRows:
			var other string
			err := tx.QueryRow(ctx, `SELECT key_id FROM borrower_pii WHERE key_id <> ? LIMIT 1`, blobID).Scan(&other)
			if err == nil {
				return reclaim.Errorf(ErrWrongKey, "the personal data in this database is sealed under key id %s, not under the given key (id %s): "+
					"start with the key the data was sealed with (--key-file or $RECLAIM_PII_KEY)", other, blobID)
			}
			if err != sql.ErrNoRows {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO key_ids (purpose, key_id, updated_at) VALUES ('pii', ?, ?)`, fingerprint, d.instant(d.nowUTC()))
			return err
		case err != nil:
			return err
		case pending.Valid && pending.String != "":
			return reclaim.Errorf(ErrWrongKey, "a personal-data key rotation is in progress (from key %s to key %s): finish it with "+
				"'reclaim pii rotate-key --new-key-file <the new key>' (with the old key as the current key) before anything else uses personal data",
				short(cur), short(pending.String))
		case cur != fingerprint:
			return reclaim.Errorf(ErrWrongKey, "the personal-data key given (fingerprint %s) is not the key this database's personal data is sealed under "+
				"(fingerprint %s): start with the right key (--key-file or $RECLAIM_PII_KEY); to change the key run "+
				"'reclaim pii rotate-key --new-key-file FILE' with the current key", short(fingerprint), short(cur))
		}
		return nil
	})
	return dbError(err, "checking the personal-data key")
}

// BeginPIIRotation records that the personal data is being re-sealed from the key with
// fingerprint oldFP to newFP. It is idempotent for the same pair (a resumed rotation) and
// refuses when the database is under another key or rotating to another key.
func (d *DB) BeginPIIRotation(ctx context.Context, oldFP, newFP string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var cur string
		var pending sql.NullString
		err := tx.QueryRow(ctx, `SELECT key_id, pending_key_id FROM key_ids WHERE purpose = 'pii'`).Scan(&cur, &pending)
		if err == sql.ErrNoRows {
			return reclaim.Errorf(ErrWrongKey, "no personal-data key is recorded yet; start the server once with the current key")
		}
		if err != nil {
			return err
		}
		switch {
		case cur != oldFP:
			return reclaim.Errorf(ErrWrongKey, "the current key given (fingerprint %s) is not the database's (fingerprint %s)", short(oldFP), short(cur))
		case pending.Valid && pending.String != "" && pending.String != newFP:
			return reclaim.Errorf(ErrWrongKey, "a rotation to another key (fingerprint %s) is in progress; finish it with that key file", short(pending.String))
		case oldFP == newFP:
			return reclaim.Errorf(reclaim.EINVALID, "the new key is the current key")
		}
		_, err = tx.Exec(ctx, `UPDATE key_ids SET pending_key_id = ?, updated_at = ? WHERE purpose = 'pii'`, newFP, d.instant(d.nowUTC()))
		return err
	})
	return dbError(err, "starting a personal-data key rotation")
}

// Resealer re-seals one sealed blob (opening it with the old or new key, sealing it under the
// new one); aad is the blob's additional data.
type Resealer func(sealed, aad []byte) ([]byte, error)

// ResealPII re-seals up to limit borrower_pii records not yet under the key with blob id newID,
// in one transaction, and returns how many it re-sealed and how many remain. Each record's
// key_id column says which key it is under, so an interrupted rotation resumes where it stopped.
func (d *DB) ResealPII(ctx context.Context, newID string, limit int, reseal Resealer) (done, remaining int64, err error) {
	err = d.WriteTx(ctx, func(tx *Tx) error {
		done = 0
		rows, err := tx.Query(ctx, `SELECT p.borrower_id, p.sealed, b.borrower_ref, f.content_hash FROM borrower_pii p
			JOIN borrowers b ON b.id = p.borrower_id JOIN portfolios f ON f.id = b.portfolio_id
			WHERE p.key_id <> ? ORDER BY p.borrower_id LIMIT ?`, newID, limit)
		if err != nil {
			return err
		}
		type rec struct {
			id         int64
			sealed     []byte
			ref, chash string
		}
		var recs []rec
		for rows.Next() {
			var r rec
			if err := rows.Scan(&r.id, &r.sealed, &r.ref, &r.chash); err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range recs {
			blob, err := reseal(r.sealed, ingest.PersonalAAD(r.chash, r.ref))
			if err != nil {
				return fmt.Errorf("re-sealing borrower %d: %w", r.id, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE borrower_pii SET key_id = ?, sealed = ? WHERE borrower_id = ?`, newID, blob, r.id); err != nil {
				return err
			}
			done++
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_pii WHERE key_id <> ?`, newID).Scan(&remaining)
	})
	return done, remaining, dbError(err, "re-sealing personal data")
}

// FinishPIIRotation switches the recorded key to newFP once no record remains under another key
// than newID (checked in the same transaction).
func (d *DB) FinishPIIRotation(ctx context.Context, newFP, newID string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var left int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_pii WHERE key_id <> ?`, newID).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			return reclaim.Errorf(reclaim.ECONFLICT, "%d records are still under the old key (is a server still running with it?); run the rotation again", left)
		}
		res, err := tx.Exec(ctx, `UPDATE key_ids SET key_id = ?, pending_key_id = NULL, updated_at = ? WHERE purpose = 'pii' AND pending_key_id = ?`,
			newFP, d.instant(d.nowUTC()), newFP)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reclaim.Errorf(reclaim.ECONFLICT, "no rotation to this key is in progress")
		}
		return nil
	})
	return dbError(err, "finishing a personal-data key rotation")
}

// LogKey is the note verifier key that signs a pool's checkpoints of size greater than
// SinceSize (the first key has SinceSize 0 and signs every checkpoint until the next; a later
// key's SinceSize is the size of the checkpoint, signed by the previous key, that covers the
// key.rotation entry naming it).
type LogKey struct {
	SinceSize int64  `json:"since_size"`
	VKey      string `json:"vkey"`
}

func (t *Tx) addLogKey(ctx context.Context, pool string, since int64, vkey string) error {
	var have string
	err := t.QueryRow(ctx, `SELECT vkey FROM ledger_keys WHERE pool = ? AND since_size = ?`, pool, since).Scan(&have)
	switch {
	case err == nil && have == vkey:
		return nil
	case err == nil:
		return reclaim.Errorf(ErrWrongKey, "pool %s already records key %s from size %d", pool, have, since)
	case err != sql.ErrNoRows:
		return err
	}
	var last sql.NullInt64
	if err := t.QueryRow(ctx, `SELECT MAX(since_size) FROM ledger_keys WHERE pool = ?`, pool).Scan(&last); err != nil {
		return err
	}
	if last.Valid && last.Int64 >= since {
		return reclaim.Errorf(ErrWrongKey, "pool %s already has a key from size %d", pool, last.Int64)
	}
	_, err = t.Exec(ctx, `INSERT INTO ledger_keys (pool, since_size, vkey, created_at) VALUES (?, ?, ?, ?)`, pool, since, vkey, t.db.instant(t.db.nowUTC()))
	return err
}

// AddPoolLogKey records that the pool's checkpoints of size greater than since are signed by
// vkey (since 0 for the first key). Recording the same key again is a no-op; an earlier or
// conflicting record is ErrWrongKey.
func (d *DB) AddPoolLogKey(ctx context.Context, pool string, since int64, vkey string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM ledger_pools WHERE pool = ?`, pool).Scan(&one); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
		} else if err != nil {
			return err
		}
		return tx.addLogKey(ctx, pool, since, vkey)
	})
	return dbError(err, "recording a ledger key")
}

// PoolLogKeys returns the pool's signing keys in order (empty for a pool opened before keys
// were recorded).
func (d *DB) PoolLogKeys(ctx context.Context, pool string) ([]LogKey, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT since_size, vkey FROM ledger_keys WHERE pool = ? ORDER BY since_size`), pool)
	if err != nil {
		return nil, dbError(err, "reading ledger keys")
	}
	defer rows.Close()
	var out []LogKey
	for rows.Next() {
		var k LogKey
		if err := rows.Scan(&k.SinceSize, &k.VKey); err != nil {
			return nil, dbError(err, "reading ledger keys")
		}
		out = append(out, k)
	}
	return out, dbError(rows.Err(), "reading ledger keys")
}

// CheckpointAt returns the pool's published checkpoint of exactly this size.
func (d *DB) CheckpointAt(ctx context.Context, pool string, size int64) (StoredCheckpoint, error) {
	var c StoredCheckpoint
	var root []byte
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT tree_size, root, note, cosigners, published_at FROM ledger_checkpoints
		WHERE pool = ? AND tree_size = ?`), pool, size).Scan(&c.Size, &root, &c.Note, &c.Cosigners, instantScan{&c.PublishedAt})
	if err == sql.ErrNoRows {
		return c, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no checkpoint of size %d", pool, size)
	}
	copy(c.Root[:], root)
	return c, dbError(err, "reading a checkpoint")
}

// QueueKeyRotation queues the pool's key.rotation entry (event id eventID) naming oldKey and
// newKey; queuing an event already queued or on the log is a no-op (a resumed rotation).
func (d *DB) QueueKeyRotation(ctx context.Context, pool, eventID string, eff date.Date, oldKey, newKey string) error {
	entry, err := verify.KeyRotation{Header: hdr(pool, eventID, eff), OldKey: oldKey, NewKey: newKey}.Encode()
	if err != nil {
		return entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM ledger_outbox WHERE pool = ? AND event_id = ?`, pool, eventID).Scan(&one)
		if err == nil {
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT 1 FROM ledger_leaves WHERE pool = ? AND event_id = ?`, pool, eventID).Scan(&one)
		if err == nil {
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		return tx.Enqueue(ctx, pool, eventID, entry)
	})
	return dbError(err, "queueing a key rotation")
}
