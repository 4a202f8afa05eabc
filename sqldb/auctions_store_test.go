package sqldb_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// Tests of how market_events is stored (migration 00038: no unique index on idempotency keys).

// storedKeyDups lists the (auction, key) pairs stored more than once.
func storedKeyDups(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	var out []string
	err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
		rows, err := tx.Query(context.Background(), `SELECT auction_id, idem_key, COUNT(*) FROM market_events WHERE idem_key IS NOT NULL
			GROUP BY auction_id, idem_key HAVING COUNT(*) > 1`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, n int64
			var k string
			if err := rows.Scan(&id, &k, &n); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("auction %d key %q: %d times", id, k, n))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMarketIdemKeysTwoNodes: with no unique index on (auction_id, idem_key), a key is still
// stored at most once per auction when two nodes take bids for the same auction, each with an
// engine that is stale half of the time: a client that retries a key on the other node gets
// the original answer, and keys sent to both nodes at once (a client retrying before the first
// answer came) are stored once, both answers naming the same record.
func TestMarketIdemKeysTwoNodes(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 4, englishSpec())
		m2 := f.db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		defer m2.Close()
		nodes := []*sqldb.Market{f.m, m2}
		id := f.auction.ID
		// Both nodes load the auction at the same seq.
		for _, n := range nodes {
			if _, err := n.State(f.bidders[0], id); err != nil {
				t.Fatal(err)
			}
		}
		// Node 0 stores key K; node 1's engine has not seen it (its copy is stale) when the
		// same bidder retries K there: the answer is node 0's record, nothing is stored.
		rc, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Amount: yuan(700_000), Key: "K"})
		if err != nil || !rc.Accepted {
			t.Fatalf("first bid: %+v %v", rc, err)
		}
		again, err := placeRetrying(f.bidders[0], m2, id, market.BidRequest{Amount: yuan(720_000), Key: "K"}, 5)
		if err != nil || !again.Repeat || again.Seq != rc.Seq {
			t.Fatalf("K again on the stale node: %+v %v (first %+v)", again, err, rc)
		}
		// Another bidder's K on either node is refused.
		for _, n := range nodes {
			if _, err := placeRetrying(f.bidders[1], n, id, market.BidRequest{Amount: yuan(730_000), Key: "K"}, 5); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
				t.Fatalf("another bidder's K: %v", err)
			}
		}
		// A stale node with a record of its own queued behind the key: node 1 takes a new key
		// (its copy is current), node 0 (stale) takes another new key and then node 1's key.
		r1, err := placeRetrying(f.bidders[2], m2, id, market.BidRequest{Amount: yuan(740_000), Key: "L"}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := placeRetrying(f.bidders[3], f.m, id, market.BidRequest{Amount: yuan(750_000), Key: "M"}, 5); err != nil {
			t.Fatal(err)
		}
		if r, err := placeRetrying(f.bidders[2], f.m, id, market.BidRequest{Amount: yuan(760_000), Key: "L"}, 5); err != nil || !r.Repeat || r.Seq != r1.Seq {
			t.Fatalf("L on node 0: %+v %v (first %+v)", r, err, r1)
		}
		// Every key sent to both nodes at once, by four bidders, 25 keys each.
		type answer struct {
			seq    int64
			repeat bool
		}
		var mu sync.Mutex
		got := map[string][]answer{}
		var wg sync.WaitGroup
		for b := 0; b < 4; b++ {
			for k := 0; k < 25; k++ {
				key := fmt.Sprintf("both-%d-%d", b, k)
				amount := yuan(int64(800_000 + 10_000*(4*k+b)))
				for _, n := range nodes {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := placeRetrying(f.bidders[b], n, id, market.BidRequest{Amount: amount, Key: key}, 50)
						if err != nil {
							t.Errorf("%s: %v", key, err)
							return
						}
						mu.Lock()
						got[key] = append(got[key], answer{r.Seq, r.Repeat})
						mu.Unlock()
					}()
				}
			}
		}
		wg.Wait()
		for key, as := range got {
			if len(as) != 2 || as[0].seq != as[1].seq {
				t.Errorf("key %s: answers %+v name different records", key, as)
			}
		}
		if d := storedKeyDups(t, db); len(d) > 0 {
			t.Fatalf("keys stored twice: %v", d)
		}
		if last, replayed, _ := lastSeqAndReplay(t, f, id); replayed != last {
			t.Fatalf("stored %d events, last_seq %d", replayed, last)
		}
	})
}

// storedEvents returns every column of an auction's records, as text with each value's SQL
// type on SQLite (what the raw path binds must be what the driver binds).
func storedEventRows(t *testing.T, db *sqldb.DB, id int64) [][]string {
	t.Helper()
	var out [][]string
	q := `SELECT seq, at, type, bidder, COALESCE(CAST(amount_minor AS TEXT), 'NULL'), COALESCE(idem_key, 'NULL'), CAST(accepted AS TEXT), rule, reason, actor FROM market_events WHERE auction_id = ? ORDER BY seq`
	if db.Dialect() == sqldb.SQLite {
		q = `SELECT seq, typeof(seq) || ' ' || at || ' ' || typeof(at), type || ' ' || typeof(type), bidder || ' ' || typeof(bidder),
			COALESCE(amount_minor, '') || ' ' || typeof(amount_minor), COALESCE(idem_key, '') || ' ' || typeof(idem_key),
			accepted || ' ' || typeof(accepted), rule || ' ' || typeof(rule), reason || ' ' || typeof(reason), actor || ' ' || typeof(actor)
			FROM market_events WHERE auction_id = ? ORDER BY seq`
	}
	err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
		rows, err := tx.Query(context.Background(), q, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := make([]string, 10)
			ptrs := make([]any, 10)
			for i := range r {
				ptrs[i] = &r[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// marketEventsKeyIndex reports whether the unique index on (auction_id, idem_key) exists.
func marketEventsKeyIndex(t *testing.T, db *sqldb.DB) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'market_events_key'`
	if db.Dialect() == sqldb.Postgres {
		q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'market_events_key'`
	}
	var n int
	if err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error { return tx.QueryRow(context.Background(), q).Scan(&n) }); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// Migration 00038 on a store with market events: every record kept, the key index gone, bidding
// and the replay go on (a key stored before is still answered as a repeat); down again, the
// index is back.
func TestMigration00038(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openMigratedTo(t, dsn, 35)
		f := newMarketFixture(t, db, 3, englishSpec())
		id := f.auction.ID
		for i := 0; i < 12; i++ {
			if _, err := f.m.PlaceBid(f.bidders[i%3], id, market.BidRequest{Amount: yuan(int64(700_000 + 10_000*(i/2))), Key: fmt.Sprintf("m-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		f.m.Close()
		before := storedEventRows(t, db, id)
		if len(before) != 3+12 || !marketEventsKeyIndex(t, db) {
			t.Fatalf("before: %d records, key index %v", len(before), marketEventsKeyIndex(t, db))
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if after := storedEventRows(t, db, id); !reflect.DeepEqual(before, after) {
			t.Fatalf("records changed:\nbefore %q\nafter  %q", before, after)
		}
		if marketEventsKeyIndex(t, db) {
			t.Error("market_events_key still exists")
		}
		m := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		if r, err := m.PlaceBid(f.bidders[0], id, market.BidRequest{Amount: yuan(700_000), Key: "m-0"}); err != nil || !r.Repeat || r.Seq != 4 {
			t.Fatalf("a key stored before the migration: %+v %v", r, err)
		}
		if r, err := m.PlaceBid(f.bidders[1], id, market.BidRequest{Amount: yuan(800_000), Key: "m-new"}); err != nil || !r.Accepted || r.Seq != 16 {
			t.Fatalf("a bid after the migration: %+v %v", r, err)
		}
		if eng, err := m.RestoreAuction(f.admin, id); err != nil || eng.State().Events != 16 {
			t.Fatalf("replay after the migration: %v", err)
		}
		m.Close()
		all := storedEventRows(t, db, id)
		if err := sqldb.MigrateDownToForTest(ctx, db, 35); err != nil {
			t.Fatal(err)
		}
		if down := storedEventRows(t, db, id); !reflect.DeepEqual(all, down) || !marketEventsKeyIndex(t, db) {
			t.Fatalf("down again: records equal %v, key index %v", reflect.DeepEqual(all, down), marketEventsKeyIndex(t, db))
		}
	})
}
