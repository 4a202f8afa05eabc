package sqldb_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"reclaim/date"
	"reclaim/events"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog"
)

// expireLease ends the ledger lease now, as if its holder had been paused past its TTL.
func expireLease(t *testing.T, db *sqldb.DB) {
	t.Helper()
	err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE ledger_lease_beats SET expires_at = clock_timestamp() - interval '1 second'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A node whose lease was taken over cannot sequence, renew or sign any more, even though it
// still believes it leads; the new holder can. Without the fence in the sequencing transaction,
// node A's Sequence below would grow the tree (two sequencers, two announcers).
func TestLeaseFencing(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		newLedger(t, db, "F")
		a, _, ok, err := db.AcquireLease(ctx, sqldb.LedgerRole, "node-a", 10*time.Second)
		if err != nil || !ok {
			t.Fatalf("A acquire: %v %v", ok, err)
		}
		if db.Dialect() == sqldb.SQLite {
			// One process holds SQLite's writer: every node is the leader, nothing to fence.
			if a.Epoch != 0 {
				t.Fatalf("SQLite lease epoch %d", a.Epoch)
			}
			enqueue(t, db, "F", 0, 3)
			if b, err := db.SequenceFenced(ctx, a, "F", 0); err != nil || b.To != 3 {
				t.Fatalf("sequence: %+v %v", b, err)
			}
			return
		}
		if a.Epoch != 1 {
			t.Fatalf("first epoch %d", a.Epoch)
		}
		if _, h, ok, err := db.AcquireLease(ctx, sqldb.LedgerRole, "node-b", 10*time.Second); err != nil || ok || h.Node != "node-a" || !h.Live {
			t.Fatalf("B took a live lease: ok=%v holder=%+v err=%v", ok, h, err)
		}
		enqueue(t, db, "F", 0, 3)
		if b, err := db.SequenceFenced(ctx, a, "F", 0); err != nil || b.From != 0 || b.To != 3 || len(b.Queued) != 3 {
			t.Fatalf("A sequences: %+v %v", b, err)
		}
		// An unfenced sequencer (a CLI command) defers to the live leader.
		enqueue(t, db, "F", 3, 2)
		if _, err := db.Sequence(ctx, "F", 0); !errors.Is(err, sqldb.ErrNotLeader) {
			t.Fatalf("unfenced Sequence under a live lease: %v", err)
		}
		if err := db.ClaimSigning(ctx, a, "F", 3); err != nil {
			t.Fatal(err)
		}
		// A is paused past its lease; B takes over with the next epoch.
		expireLease(t, db)
		b, _, ok, err := db.AcquireLease(ctx, sqldb.LedgerRole, "node-b", 10*time.Second)
		if err != nil || !ok || b.Epoch != 2 {
			t.Fatalf("B acquire: %+v %v %v", b, ok, err)
		}
		// A wakes up and carries on as if it led: every write is refused.
		if _, err := db.SequenceFenced(ctx, a, "F", 0); !errors.Is(err, sqldb.ErrNotLeader) {
			t.Fatalf("fenced-out A sequenced: %v", err)
		}
		if head, _ := db.LedgerHead(ctx, "F"); head.Size != 3 {
			t.Fatalf("tree grew to %d under a stale lease", head.Size)
		}
		if err := db.RenewLease(ctx, a, time.Second); !errors.Is(err, sqldb.ErrNotLeader) {
			t.Fatalf("A renewed a lease B holds: %v", err)
		}
		if err := db.ClaimSigning(ctx, a, "F", 5); !errors.Is(err, sqldb.ErrNotLeader) {
			t.Fatalf("A claimed a signature: %v", err)
		}
		if _, err := db.Announce(ctx, a, "F", 10, false, func(int64, []byte) events.Event { return events.Event{} }); !errors.Is(err, sqldb.ErrNotLeader) {
			t.Fatalf("A announced: %v", err)
		}
		if bt, err := db.SequenceFenced(ctx, b, "F", 0); err != nil || bt.From != 3 || bt.To != 5 {
			t.Fatalf("B sequences: %+v %v", bt, err)
		}
		// One signer per size: size 3 is A's (epoch 1) for good; B signs 5.
		if err := db.ClaimSigning(ctx, b, "F", 3); !errors.Is(err, sqldb.ErrSignedElsewhere) {
			t.Fatalf("B re-signed A's size: %v", err)
		}
		if err := db.ClaimSigning(ctx, b, "F", 5); err != nil {
			t.Fatal(err)
		}
		if err := db.ClaimSigning(ctx, b, "F", 5); err != nil {
			t.Fatalf("the signer's own retry: %v", err)
		}
		signers, err := db.Signers(ctx, "F")
		if err != nil || len(signers) != 2 || signers[0].Node != "node-a" || signers[0].Epoch != 1 || signers[1].Node != "node-b" || signers[1].Epoch != 2 {
			t.Fatalf("signers %+v %v", signers, err)
		}
		// A graceful release hands over at once; the next holder gets a new epoch.
		if err := db.ReleaseLease(ctx, b); err != nil {
			t.Fatal(err)
		}
		if a2, _, ok, err := db.AcquireLease(ctx, sqldb.LedgerRole, "node-a", 10*time.Second); err != nil || !ok || a2.Epoch != 3 {
			t.Fatalf("re-acquire after release: %+v %v %v", a2, ok, err)
		}
	})
}

// Two nodes racing for a free lease: exactly one wins.
func TestLeaseRace(t *testing.T) {
	db := sqldbtest.OpenPostgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, ok, err := db.AcquireLease(ctx, sqldb.LedgerRole, "node-"+string(rune('a'+i)), 10*time.Second)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d nodes won the lease", won)
	}
}

// Sequencing writes its announcement in the same transaction; announcing pages through it and
// deletes it when done, so a leader that dies between the two leaves it for the next.
func TestAnnouncementsAreDurable(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		newLedger(t, db, "A")
		enqueue(t, db, "A", 0, 7)
		if _, err := db.Sequence(ctx, "A", 0); err != nil {
			t.Fatal(err)
		}
		// The node "dies" here: nothing was announced. The pending range survives.
		p, err := db.PendingAnnouncements(ctx)
		if err != nil || len(p) != 1 || p[0] != (sqldb.Announcement{Pool: "A", From: 0, Next: 0, To: 7}) {
			t.Fatalf("pending %+v %v", p, err)
		}
		var got []int64
		encode := func(i int64, e []byte) events.Event {
			raw, _ := json.Marshal(tlog.NewEntryEvent(i, e))
			return events.Event{Topic: "ledger.A", Type: "entry", Data: raw}
		}
		for {
			evs, err := db.Announce(ctx, sqldb.Lease{}, "A", 3, false, encode)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			if len(evs) > 3 {
				t.Fatalf("page of %d", len(evs))
			}
			for _, e := range evs {
				var ee tlog.EntryEvent
				json.Unmarshal(e.Data, &ee)
				got = append(got, ee.Index)
			}
		}
		if len(got) != 7 {
			t.Fatalf("announced %v", got)
		}
		for i, x := range got {
			if x != int64(i) {
				t.Fatalf("announced %v", got)
			}
		}
		if p, _ := db.PendingAnnouncements(ctx); len(p) != 0 {
			t.Fatalf("still pending: %+v", p)
		}
	})
}

// On PostgreSQL the events of a page are numbered and sent with NOTIFY in the transaction that
// marks the page done: every node's broker receives them, in order, with consecutive ids.
func TestAnnounceNotifiesEveryNode(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	db := sqldbtest.Open(t, dsn)
	other := sqldbtest.Open(t, dsn)
	ctx := context.Background()
	pool := "N" + time.Now().Format("150405.000000") // channel names are per database, not schema
	newLedger(t, db, pool)
	b1 := events.New(events.Options{Fanout: db.Fanout(nil)})
	defer b1.Close()
	b2 := events.New(events.Options{Fanout: other.Fanout(nil)})
	defer b2.Close()
	s1, _, _, _ := b1.Subscribe("ledger."+pool, 0)
	s2, _, _, _ := b2.Subscribe("ledger."+pool, 0)
	time.Sleep(300 * time.Millisecond) // both LISTENs are up
	enqueue(t, db, pool, 0, 5)
	if _, err := db.Sequence(ctx, pool, 0); err != nil {
		t.Fatal(err)
	}
	encode := func(i int64, e []byte) events.Event {
		raw, _ := json.Marshal(tlog.NewEntryEvent(i, e))
		return events.Event{Topic: "ledger." + pool, Type: "entry", Data: raw}
	}
	for {
		evs, err := db.Announce(ctx, sqldb.Lease{}, pool, 2, true, encode)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
	}
	for n, s := range []*events.Subscription{s1, s2} {
		var prev uint64
		for i := int64(0); i < 5; i++ {
			select {
			case e := <-s.C:
				var ee tlog.EntryEvent
				json.Unmarshal(e.Data, &ee)
				if ee.Index != i || (prev != 0 && e.ID != prev+1) {
					t.Fatalf("node %d: event %d is index %d id %d after %d", n, i, ee.Index, e.ID, prev)
				}
				prev = e.ID
			case <-time.After(5 * time.Second):
				t.Fatalf("node %d got %d of 5 events", n, i)
			}
		}
	}
}

// A serialization failure (SQLSTATE 40001) is retried with backoff and counted.
func TestSerializationRetriesCounted(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		if db.Dialect() != sqldb.Postgres {
			t.Skip("SQLite serialises writers; it has no serialization failures")
		}
		ctx := context.Background()
		newLedger(t, db, "R")
		before := db.TxStats().Serialization
		var ready sync.WaitGroup
		ready.Add(2)
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := true
				err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
					var n int64
					if err := tx.QueryRow(ctx, `SELECT tree_size FROM ledger_pools WHERE pool = 'R'`).Scan(&n); err != nil {
						return err
					}
					if first { // both read before either writes: one must fail to serialise
						first = false
						ready.Done()
						ready.Wait()
					}
					_, err := tx.Exec(ctx, `UPDATE ledger_pools SET name = ? WHERE pool = 'R'`, "w"+string(rune('0'+w)))
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got := db.TxStats().Serialization - before; got < 1 {
			t.Fatalf("%d serialization retries counted", got)
		}
	})
}

// A period report closed on a node that does not lead waits for the leader to drain the outbox
// (it may not sequence itself), then lands at the right index.
func TestClosePeriodUnderAnotherLeader(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "close-under-leader", mixedLoans(10), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "CL", Origin: "test.example/ledger/CL", PortfolioID: p.ID, Effective: date.Of(2026, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		lease, _, ok, err := db.AcquireLease(ctx, sqldb.LedgerRole, "the-leader", 10*time.Second)
		if err != nil || !ok {
			t.Fatalf("acquire: %v %v", ok, err)
		}
		done := make(chan struct{})
		go func() { // the leader sequences a little later
			defer close(done)
			time.Sleep(300 * time.Millisecond)
			for {
				b, err := db.SequenceFenced(ctx, lease, "CL", 0)
				if err != nil {
					t.Error(err)
					return
				}
				if b.To == b.From {
					return
				}
			}
		}()
		rep, err := db.ClosePeriod(ctx, "CL", date.Of(2026, 7, 1), date.Of(2026, 7, 31), date.Of(2026, 7, 31))
		<-done
		if err != nil {
			t.Fatalf("close period: %v", err)
		}
		if rep.ToIndex != 11 {
			t.Fatalf("report to index %d, want 11 (pool.opened + 10 boardings)", rep.ToIndex)
		}
	})
}

// PublishAll on PostgreSQL numbers a batch of events in one transaction and every node's
// broker receives them, in order, with consecutive ids.
func TestFanoutPublishAll(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	db := sqldbtest.Open(t, dsn)
	other := sqldbtest.Open(t, dsn)
	topic := "auction.pa" + time.Now().Format("150405000000")
	b1 := events.New(events.Options{Fanout: db.Fanout(nil)})
	defer b1.Close()
	b2 := events.New(events.Options{Fanout: other.Fanout(nil)})
	defer b2.Close()
	s1, _, _, _ := b1.Subscribe(topic, 0)
	s2, _, _, _ := b2.Subscribe(topic, 0)
	time.Sleep(300 * time.Millisecond) // both LISTENs are up
	var msgs []events.Message
	for i := 0; i < 150; i++ { // more than one NOTIFY statement's worth
		msgs = append(msgs, events.Message{Topic: topic, Type: "event", Data: i})
	}
	if err := b1.PublishAll(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	for n, s := range []*events.Subscription{s1, s2} {
		var prev uint64
		for i := 0; i < len(msgs); i++ {
			select {
			case e := <-s.C:
				if string(e.Data) != strconv.Itoa(i) || (prev != 0 && e.ID != prev+1) {
					t.Fatalf("node %d: event %d is %s id %d after %d", n, i, e.Data, e.ID, prev)
				}
				prev = e.ID
			case <-time.After(5 * time.Second):
				t.Fatalf("node %d got %d of %d events", n, i, len(msgs))
			}
		}
	}
}
