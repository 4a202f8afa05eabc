package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"reclaim/events"
)

// queueAnnouncement records, in the sequencing transaction, that indices [from, to) of the pool
// still have to be announced as live events.
func (t *Tx) queueAnnouncement(ctx context.Context, pool string, from, to int64, at any) error {
	if to <= from {
		return nil
	}
	_, err := t.Exec(ctx, `INSERT INTO ledger_announcements (pool, from_idx, next_idx, to_idx, sequenced_at) VALUES (?, ?, ?, ?, ?)`,
		pool, from, from, to, at)
	return err
}

// Announcement is an index range of a pool sequenced but not yet (fully) announced: [Next, To)
// remains.
type Announcement struct {
	Pool           string
	From, Next, To int64
}

// PendingAnnouncements lists the ranges still to be announced, oldest first per pool.
func (d *DB) PendingAnnouncements(ctx context.Context) ([]Announcement, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT pool, from_idx, next_idx, to_idx FROM ledger_announcements ORDER BY pool, from_idx`)
	if err != nil {
		return nil, dbError(err, "reading pending announcements")
	}
	defer rows.Close()
	var out []Announcement
	for rows.Next() {
		var a Announcement
		if err := rows.Scan(&a.Pool, &a.From, &a.Next, &a.To); err != nil {
			return nil, dbError(err, "reading pending announcements")
		}
		out = append(out, a)
	}
	return out, dbError(rows.Err(), "reading pending announcements")
}

// Announce takes the next page (at most max entries) of the pool's oldest pending announcement,
// turns each entry into a live event with encode, and records the page as announced, in one
// fenced transaction. With notify (PostgreSQL with LISTEN/NOTIFY fan-out) the events are
// numbered from the event sequence and sent with NOTIFY inside that transaction, so they reach
// every node exactly when the progress commits: a crash before the commit leaves the page pending
// for the next leader, and a commit never loses it. Without notify the caller publishes the
// returned events locally after the commit. It returns the page's events (none when nothing is
// pending).
func (d *DB) Announce(ctx context.Context, lease Lease, pool string, max int, notify bool, encode func(index int64, entry []byte) events.Event) ([]events.Event, error) {
	if max <= 0 {
		max = 256
	}
	if notify && d.dialect != Postgres {
		notify = false
	}
	var evs []events.Event
	err := d.WriteTx(ctx, func(tx *Tx) error {
		evs = nil
		if err := tx.fence(ctx, lease, LedgerRole); err != nil {
			return err
		}
		q := `SELECT from_idx, next_idx, to_idx FROM ledger_announcements WHERE pool = ? ORDER BY from_idx LIMIT 1`
		if d.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		var a Announcement
		err := tx.QueryRow(ctx, q, pool).Scan(&a.From, &a.Next, &a.To)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		end := min(a.To, a.Next+int64(max))
		rows, err := tx.Query(ctx, `SELECT idx, entry FROM ledger_leaves WHERE pool = ? AND idx >= ? AND idx < ? ORDER BY idx`, pool, a.Next, end)
		if err != nil {
			return err
		}
		for rows.Next() {
			var i int64
			var e []byte
			if err := rows.Scan(&i, &e); err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, encode(i, e))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if int64(len(evs)) != end-a.Next {
			return errors.New("ledger leaves missing for a pending announcement")
		}
		if notify && len(evs) > 0 {
			if err := notifyEvents(ctx, tx, evs); err != nil {
				return err
			}
		}
		if end == a.To {
			_, err = tx.Exec(ctx, `DELETE FROM ledger_announcements WHERE pool = ? AND from_idx = ?`, pool, a.From)
		} else {
			_, err = tx.Exec(ctx, `UPDATE ledger_announcements SET next_idx = ? WHERE pool = ? AND from_idx = ?`, end, pool, a.From)
		}
		return err
	})
	if err != nil {
		return nil, dbError(err, "announcing pool "+pool)
	}
	return evs, nil
}

// notifyEvents numbers evs from the event sequence (under the fan-out lock, so ids are
// consecutive and in commit order with every other publish) and sends them with NOTIFY in tx.
func notifyEvents(ctx context.Context, tx *Tx, evs []events.Event) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(fanoutLock)); err != nil {
		return err
	}
	var last int64
	if err := tx.QueryRow(ctx, `SELECT setval('reclaim_event_seq', nextval('reclaim_event_seq') + ? - 1)`, int64(len(evs))).Scan(&last); err != nil {
		return err
	}
	first := last - int64(len(evs)) + 1
	const per = 100
	for start := 0; start < len(evs); start += per {
		end := min(len(evs), start+per)
		var b strings.Builder
		b.WriteString("SELECT ")
		args := make([]any, 0, 2*(end-start))
		for i := start; i < end; i++ {
			evs[i].ID = uint64(first + int64(i))
			payload, err := json.Marshal(evs[i])
			if err != nil {
				return err
			}
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("pg_notify(?, ?)")
			args = append(args, notifyChannel, string(payload))
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
