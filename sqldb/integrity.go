package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"reclaim"
	"reclaim/tlog"
)

// The ledger store's self-audit state (package tlog does the recomputing; see tlog/integrity.go).

// LedgerLeafEntries returns the stored entries of the pool with indices in [from, to) that
// exist, in index order; a missing one is absent (the audit reports it).
func (d *DB) LedgerLeafEntries(ctx context.Context, pool string, from, to int64) ([]tlog.IndexedEntry, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT idx, entry FROM ledger_leaves WHERE pool = ? AND idx >= ? AND idx < ? ORDER BY idx`), pool, from, to)
	if err != nil {
		return nil, dbError(err, "reading ledger entries")
	}
	defer rows.Close()
	var out []tlog.IndexedEntry
	for rows.Next() {
		var e tlog.IndexedEntry
		if err := rows.Scan(&e.Index, &e.Entry); err != nil {
			return nil, dbError(err, "reading ledger entries")
		}
		out = append(out, e)
	}
	return out, dbError(rows.Err(), "reading ledger entries")
}

// LeafEntries implements tlog.Source.
func (s LedgerSource) LeafEntries(ctx context.Context, pool string, from, to int64) ([]tlog.IndexedEntry, error) {
	return s.DB.LedgerLeafEntries(ctx, pool, from, to)
}

// AuditCursor returns the pool's scheduled-audit cursor and when its current pass started
// (zero values before the first).
func (d *DB) AuditCursor(ctx context.Context, pool string) (tlog.AuditCursor, time.Time, error) {
	var c tlog.AuditCursor
	var edge []byte
	var started time.Time
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT audit_next, audit_edge, pass_started_at FROM ledger_integrity WHERE pool = ?`), pool).
		Scan(&c.Next, &edge, instantScan{&started})
	if err == sql.ErrNoRows {
		return tlog.AuditCursor{}, time.Time{}, nil
	}
	if err != nil {
		return c, started, dbError(err, "reading the audit cursor")
	}
	if len(edge)%len(tlog.Hash{}) != 0 || int64(len(edge)/len(tlog.Hash{})) != int64(len(tlog.RightEdge(c.Next))) {
		// A cursor that does not fit its size is restarted rather than trusted.
		return tlog.AuditCursor{}, time.Time{}, nil
	}
	for i := 0; i < len(edge); i += len(tlog.Hash{}) {
		c.Edge = append(c.Edge, tlog.Hash(edge[i:i+len(tlog.Hash{})]))
	}
	return c, started, nil
}

// SaveAuditCursor stores the pool's audit cursor; passStarted is when the current pass began,
// and clean, when set, records that a full pass just found the store clean at that time.
func (d *DB) SaveAuditCursor(ctx context.Context, pool string, c tlog.AuditCursor, passStarted time.Time, clean *time.Time) error {
	edge := make([]byte, 0, len(c.Edge)*len(tlog.Hash{}))
	for _, h := range c.Edge {
		edge = append(edge, h[:]...)
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if err := ensureIntegrityRow(ctx, tx, pool); err != nil {
			return err
		}
		var ps any
		if !passStarted.IsZero() {
			ps = d.instant(passStarted)
		}
		if clean != nil {
			_, err := tx.Exec(ctx, `UPDATE ledger_integrity SET audit_next = ?, audit_edge = ?, pass_started_at = ?, last_clean_at = ? WHERE pool = ?`,
				c.Next, edge, ps, d.instant(*clean), pool)
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE ledger_integrity SET audit_next = ?, audit_edge = ?, pass_started_at = ? WHERE pool = ?`, c.Next, edge, ps, pool)
		return err
	})
	return dbError(err, "storing the audit cursor")
}

func ensureIntegrityRow(ctx context.Context, tx *Tx, pool string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM ledger_pools WHERE pool = ?`, pool).Scan(&one)
	if err == sql.ErrNoRows {
		return reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
	}
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `SELECT 1 FROM ledger_integrity WHERE pool = ?`, pool).Scan(&one)
	if err == sql.ErrNoRows {
		_, err = tx.Exec(ctx, `INSERT INTO ledger_integrity (pool, audit_next) VALUES (?, 0)`, pool)
	}
	return err
}

// MarkDamaged records that the pool's store does not match its entries (the first detection
// time is kept; the report is the latest). The publisher refuses to sign a damaged pool.
func (d *DB) MarkDamaged(ctx context.Context, pool string, report *tlog.IntegrityError) error {
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		if err := ensureIntegrityRow(ctx, tx, pool); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE ledger_integrity SET report = ?, damaged_at = COALESCE(damaged_at, ?) WHERE pool = ?`,
			string(b), d.instant(d.nowUTC()), pool)
		return err
	})
	return dbError(err, "recording a damaged ledger")
}

// MarkClean records that a full audit ('reclaim ledger fsck') found the pool's store clean: it
// clears the damage report, records the time, and restarts the scheduled audit.
func (d *DB) MarkClean(ctx context.Context, pool string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if err := ensureIntegrityRow(ctx, tx, pool); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE ledger_integrity SET report = NULL, damaged_at = NULL, audit_next = 0, audit_edge = NULL,
			pass_started_at = NULL, last_clean_at = ? WHERE pool = ?`, d.instant(d.nowUTC()), pool)
		return err
	})
	return dbError(err, "recording a clean ledger")
}

// LedgerIntegrity returns every pool's self-audit status, by pool id.
func (d *DB) LedgerIntegrity(ctx context.Context) ([]tlog.Integrity, error) {
	return d.integrity(ctx, "")
}

// PoolIntegrity returns one pool's self-audit status.
func (d *DB) PoolIntegrity(ctx context.Context, pool string) (tlog.Integrity, error) {
	out, err := d.integrity(ctx, pool)
	if err != nil {
		return tlog.Integrity{}, err
	}
	if len(out) == 0 {
		return tlog.Integrity{}, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
	}
	return out[0], nil
}

func (d *DB) integrity(ctx context.Context, pool string) ([]tlog.Integrity, error) {
	q := `SELECT p.pool, i.audit_next, i.last_clean_at, i.damaged_at, i.report FROM ledger_pools p
		LEFT JOIN ledger_integrity i ON i.pool = p.pool`
	var args []any
	if pool != "" {
		q += ` WHERE p.pool = ?`
		args = append(args, pool)
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(q+` ORDER BY p.pool`), args...)
	if err != nil {
		return nil, dbError(err, "reading the ledger audit")
	}
	defer rows.Close()
	out := []tlog.Integrity{}
	for rows.Next() {
		var in tlog.Integrity
		var next sql.NullInt64
		var clean, damaged time.Time
		var report sql.NullString
		if err := rows.Scan(&in.Pool, &next, instantScan{&clean}, instantScan{&damaged}, &report); err != nil {
			return nil, dbError(err, "reading the ledger audit")
		}
		in.AuditedTo = next.Int64
		if !clean.IsZero() {
			in.LastCleanAt = &clean
		}
		if !damaged.IsZero() {
			in.Damaged, in.DetectedAt = true, &damaged
			in.Report = &tlog.IntegrityError{Pool: in.Pool}
			if report.Valid {
				if err := json.Unmarshal([]byte(report.String), in.Report); err != nil {
					in.Report.Mismatches = []tlog.Mismatch{{Kind: "report-unreadable", Index: -1, HashIndex: -1}}
				}
			}
		}
		out = append(out, in)
	}
	return out, dbError(rows.Err(), "reading the ledger audit")
}
