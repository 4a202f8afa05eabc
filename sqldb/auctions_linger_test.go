package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// The batcher's linger (MarketOptions.Linger): after a small batch a bid is committed at once;
// after a batch of LingerAfter records or more the next batch waits for more records, and is
// committed as soon as it is full (MaxBatch) or the market closes, with nothing lost. Linger is
// an hour here: a batch that waited when it should not have would hold its bid past the test's
// bound (each bid's context ends after a minute).
func TestMarketBatcherLinger(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixtureOpts(t, db, 3, englishSpec(), sqldb.MarketOptions{Linger: time.Hour, MaxBatch: 3})
		id := f.auction.ID
		amount := 700_000
		bid := func(i int, key string) (market.BidReceipt, error) {
			ctx, cancel := context.WithTimeout(f.bidders[i], time.Minute)
			defer cancel()
			amount += 10_000
			return f.m.PlaceBid(ctx, id, market.BidRequest{Amount: yuan(int64(amount)), Key: key})
		}

		// 1. Small batches: each lone bid is committed on its own, at once.
		sqldb.SetLastBatchForTest(f.m, 0)
		s0 := f.m.Stats()
		for i := 0; i < 3; i++ {
			if rc, err := bid(i, fmt.Sprintf("lone-%d", i)); err != nil || !rc.Accepted {
				t.Fatalf("lone bid %d: %+v %v", i, rc, err)
			}
		}
		if s := f.m.Stats(); s.Batches-s0.Batches != 3 || s.Records-s0.Records != 3 {
			t.Fatalf("three lone bids: %d batches of %d records, want 3 of 3", s.Batches-s0.Batches, s.Records-s0.Records)
		}

		// 2. After a large batch the next one waits until it is full: three bids, one commit.
		sqldb.SetLastBatchForTest(f.m, sqldb.LingerAfter)
		s0 = f.m.Stats()
		type answer struct {
			rc  market.BidReceipt
			err error
		}
		answers := make(chan answer, 3)
		for i := 0; i < 3; i++ {
			ctx, cancel := context.WithTimeout(f.bidders[i], time.Minute)
			defer cancel()
			req := market.BidRequest{Amount: yuan(int64(800_000 + 10_000*i)), Key: fmt.Sprintf("burst-%d", i)}
			go func() {
				rc, err := f.m.PlaceBid(ctx, id, req)
				answers <- answer{rc, err}
			}()
		}
		for i := 0; i < 3; i++ {
			if a := <-answers; a.err != nil {
				t.Fatalf("burst bid: %v", a.err)
			}
		}
		if s := f.m.Stats(); s.Batches-s0.Batches != 1 || s.Records-s0.Records != 3 {
			t.Fatalf("a full lingering batch: %d batches of %d records, want 1 of 3", s.Batches-s0.Batches, s.Records-s0.Records)
		}

		// 3. A lingering batch that never fills is written when the market closes.
		sqldb.SetLastBatchForTest(f.m, sqldb.LingerAfter)
		amount = 900_000 // above the burst's
		last := make(chan answer, 1)
		go func() {
			rc, err := bid(0, "closing")
			last <- answer{rc, err}
		}()
		for deadline := time.Now().Add(time.Minute); sqldb.LingeringForTest(f.m) != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the bid after a large batch did not linger")
			}
		}
		select {
		case a := <-last:
			t.Fatalf("a lingering bid was answered before its batch was full or the market closed: %+v %v", a.rc, a.err)
		default:
		}
		f.m.Close()
		a := <-last
		if a.err != nil || !a.rc.Accepted {
			t.Fatalf("the lingering bid at close: %+v %v", a.rc, a.err)
		}
		m2 := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		defer m2.Close()
		evs, err := m2.Events(f.admin, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || e.Seq == a.rc.Seq && e.Accepted && e.Amount.Cmp(a.rc.Amount) == 0
		}
		if !found {
			t.Fatalf("the bid written at close (seq %d) is not stored: %d events", a.rc.Seq, len(evs))
		}
	})
}
