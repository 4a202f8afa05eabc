package ledger

import (
	"context"
	"encoding/json"
	"time"

	"reclaim/events"
	"reclaim/sqldb"
	"reclaim/tlog"
)

// announcePage is how many entries one announcing transaction sends as live events.
const announcePage = 256

// notify reports whether announcements travel by NOTIFY inside their transaction (PostgreSQL
// with a fanned-out broker) rather than through the local broker after it.
func (s *Service) notify() bool {
	return s.broker != nil && s.broker.HasFanout() && s.db.Dialect() == sqldb.Postgres
}

// announceAll announces every pool's pending ranges: those this node sequenced, and those a
// previous leader sequenced but did not live to announce.
func (s *Service) announceAll(ctx context.Context) {
	lease, ok := s.current()
	if !ok || s.broker == nil {
		return
	}
	pending, err := s.db.PendingAnnouncements(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("ledger announcements", "err", err)
		}
		return
	}
	seen := map[string]bool{}
	for _, a := range pending {
		if !seen[a.Pool] {
			seen[a.Pool] = true
			if !s.announcePool(ctx, lease, a.Pool) {
				return
			}
		}
	}
}

// announcePool sends the pool's pending entries as live "entry" events on ledger.<pool>, a page
// per transaction, whether or not this node has subscribers: followers' subscribers get them
// through the fan-out. A node without a broker (a CLI command) leaves them to the serving leader.
// It reports false when this node was fenced.
func (s *Service) announcePool(ctx context.Context, lease sqldb.Lease, pool string) bool {
	if s.broker == nil {
		return true
	}
	topic := "ledger." + pool
	notify := s.notify()
	encode := func(index int64, entry []byte) events.Event {
		raw, _ := json.Marshal(tlog.NewEntryEvent(index, entry))
		return events.Event{Topic: topic, Type: tlog.EntryEventType, Data: raw, At: time.Now().UTC()}
	}
	for {
		evs, err := s.db.Announce(ctx, lease, pool, announcePage, notify, encode)
		if err != nil {
			if s.fenced(err) {
				return false
			}
			if ctx.Err() == nil {
				s.log.Warn("ledger announcement failed (it stays pending)", "pool", pool, "err", err)
			}
			return true
		}
		if len(evs) == 0 {
			return true
		}
		if !notify {
			for _, e := range evs {
				if err := s.broker.Publish(ctx, topic, e.Type, e.Data); err != nil && ctx.Err() == nil {
					s.log.Warn("live event not published; streams resynchronise from the ledger", "pool", pool, "err", err)
				}
			}
		}
		s.m.announced.Add(float64(len(evs)))
	}
}
