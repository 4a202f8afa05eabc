package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/tlog"
)

// The ledger's stored shapes are package tlog's (httpapi shares them without importing sqldb).
type (
	LedgerPool       = tlog.Pool
	LedgerLeaf       = tlog.Leaf
	StoredCheckpoint = tlog.StoredCheckpoint
)

// Enqueue writes a log entry to the pool's outbox inside the caller's transaction, so that the
// business change and its entry commit together. The sequencer later gives it the next index.
// An event id already queued or sequenced for the pool is ECONFLICT; a frozen or unknown pool is
// EINVALID / ENOTFOUND.
func (t *Tx) Enqueue(ctx context.Context, pool, eventID string, entry []byte) error {
	if len(entry) == 0 || len(entry) > tlog.MaxEntrySize {
		return reclaim.Errorf(reclaim.EINVALID, "ledger entry of %d bytes (1 to %d allowed)", len(entry), tlog.MaxEntrySize)
	}
	var frozen sql.NullString
	q := `SELECT CAST(frozen_at AS TEXT) FROM ledger_pools WHERE pool = ?`
	if t.db.dialect == Postgres {
		// A period report locks the pool row FOR UPDATE while it reads the outbox; this share
		// lock orders every enqueue before or after it.
		q += ` FOR SHARE`
	}
	err := t.QueryRow(ctx, q, pool).Scan(&frozen)
	if err == sql.ErrNoRows {
		return reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
	}
	if err != nil {
		return dbError(err, "queueing a ledger entry")
	}
	if frozen.Valid {
		return reclaim.Errorf(reclaim.EINVALID, "pool %q is frozen (matured); its ledger takes no entries", pool)
	}
	var one int
	err = t.QueryRow(ctx, `SELECT 1 FROM ledger_leaves WHERE pool = ? AND event_id = ?`, pool, eventID).Scan(&one)
	if err == nil {
		return reclaim.Errorf(reclaim.ECONFLICT, "event %q is already on pool %q's ledger", eventID, pool)
	}
	if err != sql.ErrNoRows {
		return dbError(err, "queueing a ledger entry")
	}
	_, err = t.Exec(ctx, `INSERT INTO ledger_outbox (pool, event_id, entry, queued_at) VALUES (?, ?, ?, ?)`,
		pool, eventID, entry, t.db.instant(t.db.nowUTC()))
	return dbError(err, "queueing ledger event "+eventID)
}

// CreateLedger creates an empty log for a pool (the pool row the business operations hang off).
func (t *Tx) CreateLedger(ctx context.Context, p LedgerPool) error {
	if p.Pool == "" || p.Origin == "" {
		return reclaim.Errorf(reclaim.EINVALID, "a ledger needs a pool id and an origin")
	}
	_, err := t.Exec(ctx, `INSERT INTO ledger_pools (pool, origin, name, portfolio_id, currency, cutoff, tree_size, root, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`, p.Pool, p.Origin, p.Name, nullID(p.PortfolioID), p.Currency, dateArg(p.Cutoff),
		tlog.EmptyRoot[:], t.db.instant(t.db.nowUTC()))
	return dbError(err, "creating pool "+p.Pool)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Sequence moves up to max entries (oldest first) from the pool's outbox onto its log: it gives
// them the next indices, stores the leaves and the tree's new stored hashes, and updates the tree
// size and root, all in one transaction. On PostgreSQL a transaction-scoped advisory lock per pool
// makes concurrent sequencers take turns. It returns how many entries it sequenced (0 when the
// outbox is empty).
func (d *DB) Sequence(ctx context.Context, pool string, max int) (int, error) {
	if max <= 0 {
		max = 4096
	}
	var n int
	err := d.WriteTx(ctx, func(tx *Tx) error {
		n = 0
		if d.dialect == Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, ledgerLockKey(pool)); err != nil {
				return err
			}
		}
		var size int64
		var root []byte
		// FOR UPDATE: under SERIALIZABLE a sequencer whose snapshot predates another's commit
		// fails here with a serialization error and is retried on a fresh snapshot.
		q := `SELECT tree_size, root FROM ledger_pools WHERE pool = ?`
		if d.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		err := tx.QueryRow(ctx, q, pool).Scan(&size, &root)
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, event_id, entry, queued_at FROM ledger_outbox WHERE pool = ? ORDER BY id LIMIT ?`, pool, max)
		if err != nil {
			return err
		}
		type queued struct {
			id      int64
			eventID string
			entry   []byte
			queued  any
		}
		var batch []queued
		for rows.Next() {
			var q queued
			var at time.Time
			if err := rows.Scan(&q.id, &q.eventID, &q.entry, instantScan{&at}); err != nil {
				rows.Close()
				return err
			}
			q.queued = d.instant(at)
			batch = append(batch, q)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		entries := make([][]byte, len(batch))
		for i, q := range batch {
			entries[i] = q.entry
		}
		app, err := tlog.Append(size, entries, txHashReader{ctx: ctx, tx: tx, pool: pool})
		if err != nil {
			return err
		}
		now := d.instant(d.nowUTC())
		if err := insertRows(ctx, tx, `INSERT INTO ledger_leaves (pool, idx, event_id, entry, queued_at, sequenced_at) VALUES `, 6, len(batch),
			func(i int, args []any) []any {
				q := batch[i]
				return append(args, pool, size+int64(i), q.eventID, q.entry, q.queued, now)
			}); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO ledger_hashes (pool, hidx, hash) VALUES `, 3, len(app.Hashes),
			func(i int, args []any) []any {
				return append(args, pool, app.FirstHashIndex+int64(i), app.Hashes[i][:])
			}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM ledger_outbox WHERE pool = ? AND id <= ?`, pool, batch[len(batch)-1].id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE ledger_pools SET tree_size = ?, root = ? WHERE pool = ? AND tree_size = ?`, app.Size, app.Root[:], pool, size)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return reclaim.Errorf(reclaim.ECONFLICT, "pool %q changed size while sequencing", pool)
		}
		n = len(batch)
		return nil
	})
	return n, dbError(err, "sequencing pool "+pool)
}

// ledgerLockKey is the advisory-lock key of a pool's sequencer.
func ledgerLockKey(pool string) int64 {
	h := fnv.New64a()
	h.Write([]byte("reclaim/ledger/" + pool))
	return int64(h.Sum64() & 0x7fffffffffffffff)
}

// insertRows inserts n rows with multi-row INSERT statements (at most 500 rows each).
func insertRows(ctx context.Context, tx *Tx, prefix string, cols, n int, row func(i int, args []any) []any) error {
	const per = 500
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		var b strings.Builder
		b.WriteString(prefix)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c := 0; c < cols; c++ {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('?')
			}
			b.WriteByte(')')
			args = row(i, args)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// txHashReader reads stored hashes inside a transaction.
type txHashReader struct {
	ctx  context.Context
	tx   *Tx
	pool string
}

func (r txHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return readHashes(r.ctx, r.tx.Query, r.pool, indexes)
}

type queryFunc func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

func readHashes(ctx context.Context, q queryFunc, pool string, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	const per = 500
	for start := 0; start < len(indexes); start += per {
		part := indexes[start:min(len(indexes), start+per)]
		var b strings.Builder
		b.WriteString(`SELECT hidx, hash FROM ledger_hashes WHERE pool = ? AND hidx IN (`)
		args := []any{pool}
		for i, x := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
			args = append(args, x)
		}
		b.WriteByte(')')
		rows, err := q(ctx, b.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var x int64
			var h []byte
			if err := rows.Scan(&x, &h); err != nil {
				rows.Close()
				return nil, err
			}
			if len(h) != len(tlog.Hash{}) {
				rows.Close()
				return nil, fmt.Errorf("%w: stored hash %d of pool %s is %d bytes", tlog.ErrBadStoredHash, x, pool, len(h))
			}
			found[x] = tlog.Hash(h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("%w: stored hash %d of pool %s is missing", tlog.ErrBadStoredHash, x, pool)
		}
		out[i] = h
	}
	return out, nil
}

// LedgerHashes returns a reader of the pool's stored hashes (each call one read query).
func (d *DB) LedgerHashes(ctx context.Context, pool string) sumtlog.HashReader {
	return tlog.HashFunc(func(indexes []int64) ([]tlog.Hash, error) {
		q := func(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
			return d.r.QueryContext(ctx, d.rebind(query), args...)
		}
		hs, err := readHashes(ctx, q, pool, indexes)
		return hs, dbError(err, "reading ledger hashes")
	})
}

// LedgerHead returns the pool's current tree: one primary-key read (the hot path of tile and
// proof requests and of the publisher; LedgerPool also counts the outbox).
func (d *DB) LedgerHead(ctx context.Context, pool string) (tlog.Head, error) {
	var h tlog.Head
	var root []byte
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT origin, tree_size, root FROM ledger_pools WHERE pool = ?`), pool).Scan(&h.Origin, &h.Size, &root)
	if err == sql.ErrNoRows {
		return h, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
	}
	if err != nil {
		return h, dbError(err, "reading pool "+pool)
	}
	if len(root) != len(h.Root) {
		return h, reclaim.Errorf(reclaim.EINTERNAL, "pool %s: stored root is %d bytes", pool, len(root))
	}
	copy(h.Root[:], root)
	return h, nil
}

const ledgerPoolSelect = `SELECT p.pool, p.origin, p.name, p.portfolio_id, p.currency, p.cutoff, p.tree_size, p.root, p.created_at, p.frozen_at,
	(SELECT COUNT(*) FROM ledger_outbox o WHERE o.pool = p.pool) FROM ledger_pools p`

func scanLedgerPool(sc interface{ Scan(...any) error }) (LedgerPool, error) {
	var p LedgerPool
	var pid sql.NullInt64
	var root []byte
	var frozen time.Time
	if err := sc.Scan(&p.Pool, &p.Origin, &p.Name, &pid, &p.Currency, dateScan{&p.Cutoff}, &p.Size, &root,
		instantScan{&p.CreatedAt}, instantScan{&frozen}, &p.Pending); err != nil {
		return p, err
	}
	p.PortfolioID = pid.Int64
	copy(p.Root[:], root)
	if !frozen.IsZero() {
		p.FrozenAt = &frozen
	}
	return p, nil
}

// LedgerPool returns one pool's log (ENOTFOUND when it has none).
func (d *DB) LedgerPool(ctx context.Context, pool string) (LedgerPool, error) {
	p, err := scanLedgerPool(d.r.QueryRowContext(ctx, d.rebind(ledgerPoolSelect+` WHERE p.pool = ?`), pool))
	if err == sql.ErrNoRows {
		return p, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
	}
	return p, dbError(err, "reading pool "+pool)
}

// LedgerPools lists every pool's log, by pool id.
func (d *DB) LedgerPools(ctx context.Context) ([]LedgerPool, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(ledgerPoolSelect+` ORDER BY p.pool`))
	if err != nil {
		return nil, dbError(err, "listing pools")
	}
	defer rows.Close()
	out := []LedgerPool{}
	for rows.Next() {
		p, err := scanLedgerPool(rows)
		if err != nil {
			return nil, dbError(err, "listing pools")
		}
		out = append(out, p)
	}
	return out, dbError(rows.Err(), "listing pools")
}

// PendingPools lists the pools with entries waiting in the outbox.
func (d *DB) PendingPools(ctx context.Context) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT DISTINCT pool FROM ledger_outbox`)
	if err != nil {
		return nil, dbError(err, "reading the ledger outbox")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, dbError(err, "reading the ledger outbox")
		}
		out = append(out, p)
	}
	return out, dbError(rows.Err(), "reading the ledger outbox")
}

// LedgerEntries returns the entries with indices in [from, to), in index order. It fails if any
// of them is missing.
func (d *DB) LedgerEntries(ctx context.Context, pool string, from, to int64) ([][]byte, error) {
	if from < 0 || to < from {
		return nil, reclaim.Errorf(reclaim.EINVALID, "bad entry range [%d, %d)", from, to)
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT idx, entry FROM ledger_leaves WHERE pool = ? AND idx >= ? AND idx < ? ORDER BY idx`), pool, from, to)
	if err != nil {
		return nil, dbError(err, "reading ledger entries")
	}
	defer rows.Close()
	out := make([][]byte, 0, to-from)
	for rows.Next() {
		var i int64
		var e []byte
		if err := rows.Scan(&i, &e); err != nil {
			return nil, dbError(err, "reading ledger entries")
		}
		if i != from+int64(len(out)) {
			return nil, reclaim.Errorf(reclaim.EINTERNAL, "ledger entry %d of pool %s is missing", from+int64(len(out)), pool)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "reading ledger entries")
	}
	if int64(len(out)) != to-from {
		return nil, reclaim.Errorf(reclaim.EINTERNAL, "ledger entry %d of pool %s is missing", from+int64(len(out)), pool)
	}
	return out, nil
}

// LedgerLeaves returns sequenced entries, newest first, for browsing: up to limit leaves with
// index < before (before <= 0 means from the newest).
func (d *DB) LedgerLeaves(ctx context.Context, pool string, before int64, limit int) ([]LedgerLeaf, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT idx, event_id, entry, queued_at, sequenced_at FROM ledger_leaves WHERE pool = ?`
	args := []any{pool}
	if before > 0 {
		q += ` AND idx < ?`
		args = append(args, before)
	}
	q += ` ORDER BY idx DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "reading ledger leaves")
	}
	defer rows.Close()
	out := []LedgerLeaf{}
	for rows.Next() {
		var l LedgerLeaf
		if err := rows.Scan(&l.Index, &l.EventID, &l.Entry, instantScan{&l.QueuedAt}, instantScan{&l.SequencedAt}); err != nil {
			return nil, dbError(err, "reading ledger leaves")
		}
		out = append(out, l)
	}
	return out, dbError(rows.Err(), "reading ledger leaves")
}

// LedgerLeafByEvent finds a sequenced entry by its event id (ENOTFOUND when it is not on the log
// yet).
func (d *DB) LedgerLeafByEvent(ctx context.Context, pool, eventID string) (LedgerLeaf, error) {
	var l LedgerLeaf
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT idx, event_id, entry, queued_at, sequenced_at FROM ledger_leaves WHERE pool = ? AND event_id = ?`),
		pool, eventID).Scan(&l.Index, &l.EventID, &l.Entry, instantScan{&l.QueuedAt}, instantScan{&l.SequencedAt})
	if err == sql.ErrNoRows {
		return l, reclaim.Errorf(reclaim.ENOTFOUND, "event %q is not on pool %q's ledger", eventID, pool)
	}
	return l, dbError(err, "reading a ledger leaf")
}

// SaveCheckpoint stores a published checkpoint. Storing the same size twice keeps the first.
func (d *DB) SaveCheckpoint(ctx context.Context, pool string, c tlog.Published) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM ledger_checkpoints WHERE pool = ? AND tree_size = ?`, pool, c.Size).Scan(&one)
		if err == nil {
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO ledger_checkpoints (pool, tree_size, root, note, cosigners, published_at) VALUES (?, ?, ?, ?, ?, ?)`,
			pool, c.Size, c.Root[:], string(c.Note), c.Cosigners, d.instant(d.nowUTC()))
		return err
	})
	return dbError(err, "storing a checkpoint")
}

// LatestCheckpoint returns the pool's largest published checkpoint (ENOTFOUND before the first).
func (d *DB) LatestCheckpoint(ctx context.Context, pool string) (StoredCheckpoint, error) {
	var c StoredCheckpoint
	var root []byte
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT tree_size, root, note, cosigners, published_at FROM ledger_checkpoints
		WHERE pool = ? ORDER BY tree_size DESC LIMIT 1`), pool).Scan(&c.Size, &root, &c.Note, &c.Cosigners, instantScan{&c.PublishedAt})
	if err == sql.ErrNoRows {
		return c, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no published checkpoint yet", pool)
	}
	copy(c.Root[:], root)
	return c, dbError(err, "reading the checkpoint")
}

// LedgerSource adapts a DB to the publisher's tlog.Source.
type LedgerSource struct{ DB *DB }

// Head returns the pool's current tree.
func (s LedgerSource) Head(ctx context.Context, pool string) (tlog.Head, error) {
	return s.DB.LedgerHead(ctx, pool)
}

// Hashes reads the pool's stored hashes.
func (s LedgerSource) Hashes(ctx context.Context, pool string) sumtlog.HashReader {
	return s.DB.LedgerHashes(ctx, pool)
}

// SaveCheckpoint stores a published checkpoint.
func (s LedgerSource) SaveCheckpoint(ctx context.Context, pool string, c tlog.Published) error {
	return s.DB.SaveCheckpoint(ctx, pool, c)
}

// TryLeader tries to become the one node that runs a background role (the ledger sequencer):
// on PostgreSQL it takes a session-level advisory lock on a dedicated connection, held until
// release is called or the connection dies; on SQLite, where one process holds the writer, it
// always succeeds. ok is false when another node holds the role.
func (d *DB) TryLeader(ctx context.Context, role string) (release func(), ok bool, err error) {
	if d.dialect != Postgres {
		return func() {}, true, nil
	}
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return nil, false, dbError(err, "leader election")
	}
	key := ledgerLockKey("leader:" + role)
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, dbError(err, "leader election")
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, true, nil
}
