package sqldb

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"reclaim/events"
)

// notifyChannel is the PostgreSQL channel that carries live events between app nodes.
const notifyChannel = "reclaim_events"

// Fanout returns the PostgreSQL LISTEN/NOTIFY carrier of live events between app nodes (see
// package events). Publishes are serialised by a transaction-level advisory lock so that event
// ids, taken from a sequence, are delivered in id order on every node. On SQLite (one node) it
// returns nil.
func (d *DB) Fanout(log *slog.Logger) events.Fanout {
	if d.dialect != Postgres {
		return nil
	}
	return &pgFanout{d: d, log: log}
}

type pgFanout struct {
	d   *DB
	log *slog.Logger
}

// fanoutLock is the advisory lock key that orders publishes ("rclmevnt").
const fanoutLock = 0x72636c6d65766e74

func (f *pgFanout) Publish(ctx context.Context, e events.Event) error {
	return f.d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(fanoutLock)); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT nextval('reclaim_event_seq')`).Scan(&id); err != nil {
			return err
		}
		e.ID = uint64(id)
		payload, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify(?, ?)`, notifyChannel, string(payload))
		return err
	})
}

// PublishAll numbers and notifies several events in ONE transaction (one advisory lock, one
// sequence step, the notifications in as few statements) instead of one transaction each: the
// marketplace publishes every accepted bid of a committed batch this way.
func (f *pgFanout) PublishAll(ctx context.Context, es []events.Event) error {
	if len(es) == 0 {
		return nil
	}
	evs := slices.Clone(es)
	return f.d.WriteTx(ctx, func(tx *Tx) error { return notifyEvents(ctx, tx, evs) })
}

func (f *pgFanout) Listen(ctx context.Context, deliver func(events.Event)) error {
	conn, err := f.d.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return pgxConn(ctx, conn, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
		defer c.Exec(context.Background(), "UNLISTEN "+notifyChannel)
		for {
			n, err := c.WaitForNotification(ctx)
			if err != nil {
				return err
			}
			var e events.Event
			if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
				f.log.Warn("dropping a malformed event notification", "err", err)
				continue
			}
			deliver(e)
		}
	})
}
