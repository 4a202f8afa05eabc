package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

type sseEvent struct{ id, typ, data string }

// sseStream reads server-sent events from a response body.
type sseStream struct {
	res *http.Response
	ch  chan sseEvent
}

func openStream(t *testing.T, base, token, topic, lastID string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/stream?topic="+topic, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("stream: %d %s", res.StatusCode, b)
	}
	s := &sseStream{res: res, ch: make(chan sseEvent, 1000)}
	t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(s.ch)
		sc := bufio.NewScanner(res.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			case line == "":
				if e.typ != "" {
					s.ch <- e
				}
				e = sseEvent{}
			}
		}
	}()
	return s
}

func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case e, ok := <-s.ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return sseEvent{}
}

// expectEntries reads entry events for indices [from, to), in order, each with its position as id.
func (s *sseStream) expectEntries(t *testing.T, db *sqldb.DB, from, to int64) {
	t.Helper()
	want, err := db.LedgerEntries(context.Background(), "P1", from, to)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		e := s.next(t)
		var ev tlog.EntryEvent
		if e.typ != "entry" || json.Unmarshal([]byte(e.data), &ev) != nil || ev.Index != i || e.id != fmt.Sprint(i+1) || ev.Entry != string(want[i-from]) {
			t.Fatalf("want entry %d, got %+v", i, e)
		}
	}
}

// A node with an empty event buffer (just restarted) resumes a ledger stream from the client's
// Last-Event-ID out of the database; a position too far back gets `gap`; a live event that skips
// ahead (lost or capped announcements) is preceded by the entries it skipped; an entry already
// sent is not sent again.
func TestLedgerStreamResumesFromTheLedger(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		token := f.tokenFor(reclaim.RoleInvestor)
		// The restarted node: the same database and ledger, a brand-new broker (no replay ring,
		// and no fan-out, so the events this test publishes stay on it).
		keys, err := pii.LoadKey(pii.KeyOptions{DevDir: f.dir, AllowDev: true})
		if err != nil {
			t.Fatal(err)
		}
		broker := events.New(events.Options{})
		t.Cleanup(broker.Close)
		srv, err := httpapi.New(httpapi.Config{UploadDir: f.dir, Ledger: f.ledger}, sqldb.KeyedDB{DB: db, Keys: keys}, keys, broker)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)
		head, err := db.LedgerHead(ctx, "P1")
		if err != nil || head.Size != 301 {
			t.Fatalf("head %+v %v", head, err)
		}

		// Resume at 290: entries 290..300 come from the database, then the latest checkpoint.
		s := openStream(t, ts.URL, token, "ledger.P1", "290")
		s.expectEntries(t, db, 290, 301)
		if e := s.next(t); e.typ != "checkpoint" || e.id != "301" || !strings.Contains(e.data, `"size":301`) {
			t.Fatalf("want the checkpoint, got %+v", e)
		}

		// Too far back: gap (the console reloads), then the stream goes on from the head.
		old := httpapi.MaxResync
		httpapi.MaxResync = 100
		defer func() { httpapi.MaxResync = old }()
		g := openStream(t, ts.URL, token, "ledger.P1", "10")
		if e := g.next(t); e.typ != "gap" || e.id != "301" || e.data != `{"from":10,"to":301}` {
			t.Fatalf("want gap, got %+v", e)
		}
		// A position this log never reached (another deployment, a pre-upgrade event id): gap.
		h := openStream(t, ts.URL, token, "ledger.P1", "99999")
		if e := h.next(t); e.typ != "gap" || e.id != "301" {
			t.Fatalf("want gap, got %+v", e)
		}

		// Three more entries, of which only the last is announced on this node: the stream
		// sends the two it missed from the database first. A repeated announcement is dropped.
		loans, _, err := db.PoolLoans(ctx, "P1", 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range loans {
			if _, err := db.PostCollection(ctx, tlog.Collection{Pool: "P1", LoanRef: l.Ref, Amount: money.New(100, "CNY"), Channel: verify.ChannelOnline,
				TxnID: fmt.Sprintf("RS-%d", i), Effective: date.Of(2025, 8, 1), PostedBy: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.ledger.SequenceAndPublish(ctx); err != nil {
			t.Fatal(err)
		}
		entries, err := db.LedgerEntries(ctx, "P1", 301, 304)
		if err != nil {
			t.Fatal(err)
		}
		live := openStream(t, ts.URL, token, "ledger.P1", "")
		time.Sleep(100 * time.Millisecond) // subscribed
		// The stream started at the head (304): an announcement of 303 is old news.
		broker.Publish(ctx, "ledger.P1", tlog.EntryEventType, tlog.NewEntryEvent(303, entries[2]))
		// Resume at 301 on a second stream, then announce only 303 (and 303 again).
		r := openStream(t, ts.URL, token, "ledger.P1", "301")
		s2 := r
		s2.expectEntries(t, db, 301, 304)
		if e := s2.next(t); e.typ != "checkpoint" {
			t.Fatalf("want the checkpoint, got %+v", e)
		}
		broker.Publish(ctx, "ledger.P1", tlog.EntryEventType, tlog.NewEntryEvent(303, entries[2]))
		// Now a gap on the live stream: 304 and 305 are posted, only 305 announced.
		for i, l := range loans[:2] {
			if _, err := db.PostCollection(ctx, tlog.Collection{Pool: "P1", LoanRef: l.Ref, Amount: money.New(100, "CNY"), Channel: verify.ChannelOnline,
				TxnID: fmt.Sprintf("RS2-%d", i), Effective: date.Of(2025, 8, 1), PostedBy: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.ledger.SequenceAndPublish(ctx); err != nil {
			t.Fatal(err)
		}
		more, err := db.LedgerEntries(ctx, "P1", 304, 306)
		if err != nil {
			t.Fatal(err)
		}
		broker.Publish(ctx, "ledger.P1", tlog.EntryEventType, tlog.NewEntryEvent(305, more[1]))
		broker.Publish(ctx, "ledger.P1", tlog.EntryEventType, tlog.NewEntryEvent(305, more[1]))
		broker.Publish(ctx, "ledger.P1", "checkpoint", map[string]int{"size": 306})
		for _, st := range []*sseStream{live, s2} {
			st.expectEntries(t, db, 304, 306)
			if e := st.next(t); e.typ != "checkpoint" || e.id != "306" {
				t.Fatalf("want the checkpoint after 305 (the repeats dropped), got %+v", e)
			}
		}
	})
}
