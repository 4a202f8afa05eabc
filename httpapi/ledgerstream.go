package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/tlog"
)

// MaxResync is how many entries a resumed ledger stream is resent from the database at most; when
// more are missing it sends `gap` (the console reloads) and continues from there.
var MaxResync int64 = 2000

// ledgerStream serves the topic ledger.<pool> as a tail of the log by index. The SSE id of an
// entry is the number of entries the client has then seen (index + 1), so Last-Event-ID is a
// position in the ledger, the same on every node and across restarts. A resumed stream is resent
// the entries after that position from the database (the ledger is the source of truth), then
// gets live events; a live event that skips ahead (a capped or lost announcement, a slow reader)
// is preceded by the missing entries read from the database, and an event already sent is never
// sent twice. Without Last-Event-ID the stream starts at the current tree size.
func (s *Server) ledgerStream(ctx context.Context, pool string, in *StreamInput) (*huma.StreamResponse, error) {
	l := s.cfg.Ledger
	next, resumed := int64(0), in.LastEventID != ""
	if resumed {
		n, err := strconv.ParseInt(in.LastEventID, 10, 64)
		if err != nil || n < 0 {
			return nil, reclaim.Errorf(reclaim.EINVALID, "Last-Event-ID must be a number")
		}
		next = n
	}
	// Subscribe before reading the head: every entry announced from now on arrives live, every
	// one announced before is below the head and read from the database.
	sub, _, _, err := s.broker.Subscribe("ledger."+pool, 0)
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot subscribe")
	}
	head, err := l.Head(ctx, pool)
	if err != nil {
		sub.Close()
		return nil, err
	}
	if !resumed {
		next = head.Size
	}
	me := *reclaim.UserFrom(ctx)
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		defer sub.Close()
		// Like every stream, it ends when its caller's credentials do (disabled, password reset,
		// role changed, token revoked, signed out).
		ss := s.startSSE(hc, me)
		defer ss.stop()
		kicked, recheck, r, rc := ss.kicked, ss.recheck, ss.r, ss.rc
		st := &ledgerCursor{w: hc.BodyWriter(), l: l, pool: pool, next: next}
		rctx := hc.Context()
		fmt.Fprintf(st.w, "retry: 2000\n\n")
		if resumed {
			if st.next > head.Size {
				st.gap(head.Size) // a position this log never had (another deployment, an old id)
			} else if !st.fill(rctx, head.Size) {
				return
			}
			if c, err := l.LatestCheckpoint(rctx, pool); err == nil {
				st.other("checkpoint", map[string]any{"size": c.Size, "root": c.Root, "cosigners": c.Cosigners})
			}
		}
		if st.err != nil {
			return
		}
		rc.Flush()
		tick := time.NewTicker(Heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
				if _, err := fmt.Fprint(st.w, ": ping\n\n"); err != nil {
					return
				}
			case <-recheck.C:
				if s.streamOver(ctx, r, me, "ledger."+pool, st.w, rc) {
					return
				}
			case <-kicked:
				if s.streamOver(ctx, r, me, "ledger."+pool, st.w, rc) {
					return
				}
			case e, ok := <-sub.C:
				if !ok {
					return // slow reader or shutdown: the client resumes from its position
				}
				if e.Type != tlog.EntryEventType {
					st.other(e.Type, e.Data)
				} else {
					var ev tlog.EntryEvent
					if json.Unmarshal(e.Data, &ev) != nil || ev.Index < st.next {
						continue // already sent (from the database or a repeated announcement)
					}
					if !st.fill(rctx, ev.Index) {
						return
					}
					if st.next > ev.Index {
						continue // the gap jumped past it
					}
					if ev.Entry == "" && !st.fill(rctx, ev.Index+1) { // too large for an event: read it
						return
					} else if ev.Entry != "" {
						st.entry(ev)
					}
				}
			}
			if st.err != nil {
				return
			}
			rc.Flush()
		}
	}}, nil
}

// ledgerCursor writes one ledger stream: next is the index of the next entry the client needs.
type ledgerCursor struct {
	w    io.Writer
	l    LedgerService
	pool string
	next int64
	err  error
}

func (c *ledgerCursor) write(id, typ string, data any) {
	if c.err != nil {
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		c.err = err
		return
	}
	_, c.err = fmt.Fprintf(c.w, "id: %s\nevent: %s\ndata: %s\n\n", id, typ, b)
}

func (c *ledgerCursor) entry(ev tlog.EntryEvent) {
	c.write(tlog.Cursor(ev.Index), tlog.EntryEventType, ev)
	c.next = ev.Index + 1
}

// other passes a non-entry event (a checkpoint) on, keeping the position as its id.
func (c *ledgerCursor) other(typ string, data any) {
	if raw, ok := data.(json.RawMessage); ok {
		data = raw
	}
	c.write(strconv.FormatInt(c.next, 10), typ, data)
}

// gap tells the client that entries [next, to) will not be sent (it reloads), and moves on.
func (c *ledgerCursor) gap(to int64) {
	c.write(strconv.FormatInt(to, 10), "gap", map[string]int64{"from": c.next, "to": to})
	c.next = to
}

// fill sends entries [next, to) from the database, or a gap when there are more than MaxResync.
// It reports false when the stream must end (a write or read failed; the client resumes).
func (c *ledgerCursor) fill(ctx context.Context, to int64) bool {
	if to-c.next > MaxResync {
		c.gap(to)
		return c.err == nil
	}
	for c.next < to && c.err == nil {
		end := min(to, c.next+500)
		entries, err := c.l.Entries(ctx, c.pool, c.next, end)
		if err != nil {
			return false
		}
		for _, e := range entries {
			ev := tlog.NewEntryEvent(c.next, e)
			ev.Entry = string(e)
			c.entry(ev)
		}
	}
	return c.err == nil
}
