package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"reclaim"
)

// ErrNotLeader is wrapped by the errors of a fenced operation that this node may not do: it does
// not hold the role's lease (any more), or another node signed the checkpoint size.
var ErrNotLeader = errors.New("not the ledger leader")

// ErrSignedElsewhere is wrapped by ClaimSigning's error when another node, or an earlier lease,
// already signed the checkpoint size: this node must not sign it (one signer per size), but it
// still leads.
var ErrSignedElsewhere = errors.New("checkpoint size signed by another node")

// Lease is a node's hold on a background role (the ledger sequencer and publisher). Epoch grows
// by one every time the role changes hands; a fenced transaction proceeds only while the lease
// row still names Node with Epoch and has not expired. On SQLite, where one process holds the
// writer, a node is trivially the leader and Epoch is 0 (no row, nothing to fence).
type Lease struct {
	Role  string
	Node  string
	Epoch int64
}

// Holder describes who holds a role's lease.
type Holder struct {
	Node    string
	Epoch   int64
	Expires time.Time
	Live    bool
}

// AcquireLease tries to take the role's lease for node for ttl. On PostgreSQL it succeeds when no
// node holds the lease or the holder's lease has expired (by the database's clock), and the new
// lease gets the next epoch; ok is false, with the live holder, when another node holds it. On
// SQLite it always succeeds with epoch 0.
func (d *DB) AcquireLease(ctx context.Context, role, node string, ttl time.Duration) (l Lease, h Holder, ok bool, err error) {
	l = Lease{Role: role, Node: node}
	if d.dialect != Postgres {
		return l, Holder{Node: node, Live: true}, true, nil
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		ok = false
		h, err = leaseHolder(ctx, tx, role, true)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_leases (role, node, epoch, acquired_at) VALUES (?, ?, 1, clock_timestamp())`, role, node); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_lease_beats (role, expires_at) VALUES (?, clock_timestamp() + make_interval(secs => ?))`,
				role, ttl.Seconds()); err != nil {
				return err
			}
			l.Epoch, ok = 1, true
			h = Holder{Node: node, Epoch: 1, Live: true}
			return nil
		}
		if err != nil {
			return err
		}
		if h.Live {
			return nil // held: by another node, or by an earlier lease of this one, which must lapse first
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger_leases SET node = ?, epoch = epoch + 1, acquired_at = clock_timestamp() WHERE role = ? AND epoch = ?`,
			node, role, h.Epoch); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger_lease_beats SET expires_at = clock_timestamp() + make_interval(secs => ?) WHERE role = ?`,
			ttl.Seconds(), role); err != nil {
			return err
		}
		l.Epoch, ok = h.Epoch+1, true
		h = Holder{Node: node, Epoch: l.Epoch, Live: true}
		return nil
	})
	if err != nil && isUniqueViolation(err) {
		return l, h, false, nil // another node inserted the first lease at the same moment
	}
	return l, h, ok, dbError(err, "leader election")
}

// RenewLease extends a held, unexpired lease by ttl. It fails with ErrNotLeader when the lease
// has expired or another node has taken it: the caller must stop leading at once.
func (d *DB) RenewLease(ctx context.Context, l Lease, ttl time.Duration) error {
	if d.dialect != Postgres {
		return nil
	}
	var n int64
	err := d.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE ledger_lease_beats SET expires_at = clock_timestamp() + make_interval(secs => ?)
			WHERE role = ? AND expires_at > clock_timestamp()
			AND EXISTS (SELECT 1 FROM ledger_leases WHERE role = ? AND node = ? AND epoch = ?)`, ttl.Seconds(), l.Role, l.Role, l.Node, l.Epoch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return dbError(err, "renewing the leader lease")
	}
	if n != 1 {
		return reclaim.WrapError(reclaim.ECONFLICT, ErrNotLeader, "node %s lost the %s lease of epoch %d", l.Node, l.Role, l.Epoch)
	}
	return nil
}

// ReleaseLease gives the lease up (it expires at once), so that another node takes over without
// waiting for the lease to run out. Releasing a lease no longer held does nothing.
func (d *DB) ReleaseLease(ctx context.Context, l Lease) error {
	if d.dialect != Postgres {
		return nil
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE ledger_lease_beats SET expires_at = clock_timestamp()
			WHERE role = ? AND EXISTS (SELECT 1 FROM ledger_leases WHERE role = ? AND node = ? AND epoch = ?)`, l.Role, l.Role, l.Node, l.Epoch)
		return err
	})
	return dbError(err, "releasing the leader lease")
}

// LeaseHolder returns the role's current lease holder (ENOTFOUND when no node ever held it).
func (d *DB) LeaseHolder(ctx context.Context, role string) (Holder, error) {
	if d.dialect != Postgres {
		return Holder{Live: true}, nil
	}
	var h Holder
	err := d.ReadTx(ctx, func(tx *Tx) error {
		var err error
		h, err = leaseHolder(ctx, tx, role, false)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return h, reclaim.Errorf(reclaim.ENOTFOUND, "no node has held the %s lease", role)
	}
	return h, dbError(err, "reading the leader lease")
}

func leaseHolder(ctx context.Context, tx *Tx, role string, lock bool) (Holder, error) {
	q := `SELECT l.node, l.epoch, b.expires_at, b.expires_at > clock_timestamp() FROM ledger_leases l JOIN ledger_lease_beats b ON b.role = l.role WHERE l.role = ?`
	if lock {
		q += ` FOR UPDATE OF l`
	}
	var h Holder
	err := tx.QueryRow(ctx, q, role).Scan(&h.Node, &h.Epoch, &h.Expires, &h.Live)
	return h, err
}

// fence checks, inside a write transaction, that l is still the live lease of its role, and
// locks the lease row (FOR SHARE) until the transaction ends, so that a takeover waits for the
// transaction and the transaction commits before it or not at all. The zero Lease (Epoch 0) is an
// unfenced caller (a CLI command, a test): it may proceed only while no node holds a live lease
// of role. On SQLite it always passes.
func (t *Tx) fence(ctx context.Context, l Lease, role string) error {
	if t.db.dialect != Postgres {
		return nil
	}
	if l.Role != "" {
		role = l.Role
	}
	var h Holder
	// The lease row changes only when the role changes hands, so holding it FOR SHARE makes a
	// takeover wait for this transaction without conflicting with renewals (which write
	// ledger_lease_beats; the expiry is read from this transaction's snapshot: a lease that
	// expires after it can only be taken once this transaction has ended).
	err := t.QueryRow(ctx, `SELECT l.node, l.epoch, b.expires_at > clock_timestamp() FROM ledger_leases l JOIN ledger_lease_beats b ON b.role = l.role
		WHERE l.role = ? FOR SHARE OF l`, role).
		Scan(&h.Node, &h.Epoch, &h.Live)
	if errors.Is(err, sql.ErrNoRows) {
		if l.Epoch == 0 {
			return nil
		}
		return reclaim.WrapError(reclaim.ECONFLICT, ErrNotLeader, "node %s holds no %s lease", l.Node, role)
	}
	if err != nil {
		return err
	}
	if l.Epoch == 0 {
		if h.Live {
			return reclaim.WrapError(reclaim.ECONFLICT, ErrNotLeader, "node %s leads the %s role (epoch %d); it does this work", h.Node, role, h.Epoch)
		}
		return nil
	}
	if h.Node != l.Node || h.Epoch != l.Epoch || !h.Live {
		return reclaim.WrapError(reclaim.ECONFLICT, ErrNotLeader, "fenced: node %s's %s lease of epoch %d is no longer valid (held by %s, epoch %d, live %v)",
			l.Node, role, l.Epoch, h.Node, h.Epoch, h.Live)
	}
	return nil
}

// LedgerRole is the lease role of the ledger sequencer and publisher.
const LedgerRole = "ledger"

// ClaimSigning records, in a fenced transaction, that l's node signs the pool's checkpoint of the
// given size. It fails with ErrNotLeader when the lease is no longer valid, and with
// ErrSignedElsewhere when another node (or an earlier epoch) claimed that size: one signer per
// checkpoint size. A node may claim a size it
// claimed before (a retry after a witness failure). On SQLite (one node) it records nothing.
func (d *DB) ClaimSigning(ctx context.Context, l Lease, pool string, size int64) error {
	if d.dialect != Postgres {
		return nil
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.fence(ctx, l, LedgerRole); err != nil {
			return err
		}
		var node string
		var epoch int64
		err := tx.QueryRow(ctx, `SELECT node, epoch FROM ledger_signers WHERE pool = ? AND tree_size = ?`, pool, size).Scan(&node, &epoch)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO ledger_signers (pool, tree_size, node, epoch, claimed_at) VALUES (?, ?, ?, ?, ?)`,
				pool, size, l.Node, l.Epoch, d.instant(d.nowUTC()))
			return err
		}
		if err != nil {
			return err
		}
		if node != l.Node || epoch != l.Epoch {
			return reclaim.WrapError(reclaim.ECONFLICT, ErrSignedElsewhere, "pool %s size %d was signed by node %s (epoch %d)", pool, size, node, epoch)
		}
		return nil
	})
	return dbError(err, "claiming a checkpoint signature")
}

// Signer is one row of ledger_signers.
type Signer struct {
	Pool  string
	Size  int64
	Node  string
	Epoch int64
}

// Signers lists who signed each checkpoint size of a pool, by size (PostgreSQL; empty on SQLite).
func (d *DB) Signers(ctx context.Context, pool string) ([]Signer, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT pool, tree_size, node, epoch FROM ledger_signers WHERE pool = ? ORDER BY tree_size`), pool)
	if err != nil {
		return nil, dbError(err, "listing signers")
	}
	defer rows.Close()
	var out []Signer
	for rows.Next() {
		var s Signer
		if err := rows.Scan(&s.Pool, &s.Size, &s.Node, &s.Epoch); err != nil {
			return nil, dbError(err, "listing signers")
		}
		out = append(out, s)
	}
	return out, dbError(rows.Err(), "listing signers")
}

// TxStats counts transactions re-run after transient conflicts (see WriteTx).
type TxStats struct {
	// Serialization counts PostgreSQL serialization failures (SQLSTATE 40001).
	Serialization uint64
	// Deadlock counts PostgreSQL deadlocks (40P01).
	Deadlock uint64
	// Busy counts SQLite SQLITE_BUSY / SQLITE_LOCKED.
	Busy uint64
	// GaveUp counts transactions that still failed after the last retry.
	GaveUp uint64
}

type txCounters struct{ serialization, deadlock, busy, gaveUp atomic.Uint64 }

// TxStats returns the retry counters since Open.
func (d *DB) TxStats() TxStats {
	return TxStats{Serialization: d.txc.serialization.Load(), Deadlock: d.txc.deadlock.Load(), Busy: d.txc.busy.Load(), GaveUp: d.txc.gaveUp.Load()}
}

func (d *DB) countRetry(err error, gaveUp bool) {
	if gaveUp {
		d.txc.gaveUp.Add(1)
		return
	}
	switch retryCode(err) {
	case "40001":
		d.txc.serialization.Add(1)
	case "40P01":
		d.txc.deadlock.Add(1)
	default:
		d.txc.busy.Add(1)
	}
}

// retryCode is the SQLSTATE of a PostgreSQL error ("" for others).
func retryCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// awaitDrained waits until the pool's outbox is empty (the leader sequenced it), up to wait.
func (d *DB) awaitDrained(ctx context.Context, pool string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var n int64
		if err := d.r.QueryRowContext(ctx, d.rebind(`SELECT COUNT(*) FROM ledger_outbox WHERE pool = ?`), pool).Scan(&n); err != nil {
			return dbError(err, "reading the ledger outbox")
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return reclaim.Errorf(reclaim.EUNAVAILABLE, "the leader has not sequenced pool %s's %d queued entries; retry", pool, n)
		}
		select {
		case <-ctx.Done():
			return dbError(ctx.Err(), "waiting for the sequencer")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sequenceTx runs a sequencing transaction: WriteTx, but at REPEATABLE READ on PostgreSQL (see
// SequenceFenced), retried like WriteTx.
func (d *DB) sequenceTx(ctx context.Context, fn func(*Tx) error) error {
	if d.dialect != Postgres {
		return d.WriteTx(ctx, fn)
	}
	return d.runTx(ctx, d.w, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, fn)
}
