package sqldb_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestMarketDutchRoom: what the auction room needs of a Dutch auction. The state carries the
// schedule, the server's clock, the price at that clock (not as of the last event) and the next
// step; the first acceptance wins at the scheduled price and the closer closes the auction at
// once (not at the listed end), releasing the other deposits; a later acceptance is rejected.
// Reserved idempotency keys are refused.
func TestMarketDutchRoom(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		spec := englishSpec()
		spec.Format, spec.Increment = "dutch", yuan(0)
		spec.Dutch = &market.DutchSpec{Step: yuan(10_000), EverySeconds: 600, Floor: yuan(650_000)}
		f := newMarketFixture(t, db, 2, spec)
		id := f.auction.ID
		st, err := f.m.State(f.bidders[0], id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.Auction.Dutch, spec.Dutch) || !st.Now.Equal(t0.Add(time.Minute)) {
			t.Fatalf("state: schedule %+v now %v", st.Auction.Dutch, st.Now)
		}
		if st.View.DutchPrice != yuan(700_000) || st.DutchNext == nil || !st.DutchNext.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("at +1 min: price %s next %v", st.View.DutchPrice, st.DutchNext)
		}
		// 25 minutes in, with no event since the deposits: the price at the server's clock.
		f.clock.Set(t0.Add(25 * time.Minute))
		if st, err = f.m.State(f.bidders[1], id); err != nil || st.View.DutchPrice != yuan(680_000) || !st.DutchNext.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("at +25 min: %s next %v (%v)", st.View.DutchPrice, st.DutchNext, err)
		}
		// At the floor there is no next step.
		f.clock.Set(t0.Add(90 * time.Minute))
		if st, err = f.m.State(f.admin, id); err != nil || st.View.DutchPrice != yuan(650_000) || st.DutchNext != nil {
			t.Fatalf("at the floor: %s next %v (%v)", st.View.DutchPrice, st.DutchNext, err)
		}
		f.clock.Set(t0.Add(25 * time.Minute))
		// Teasers show no schedule (prices need a registration).
		teasers, err := f.m.Teasers(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, tz := range teasers {
			if tz.Dutch != nil || tz.Rounds != nil {
				t.Fatalf("a teaser shows the schedule: %+v", tz)
			}
		}
		// Reserved keys: a bidder may not take the marketplace's own keys.
		for _, k := range []string{"deposit:O1", "round-close:1"} {
			if _, err := f.m.PlaceBid(f.bidders[1], id, market.BidRequest{Type: "accept", Key: k}); reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Fatalf("key %q: %v", k, err)
			}
		}
		rc, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Type: "accept", Key: "take"})
		if err != nil || !rc.Accepted || rc.Price != yuan(680_000) || !rc.End.Equal(t0.Add(25*time.Minute)) {
			t.Fatalf("accept: %+v %v", rc, err)
		}
		f.clock.Add(time.Second)
		late, err := f.m.PlaceBid(f.bidders[1], id, market.BidRequest{Type: "accept", Key: "too-late"})
		if err != nil || late.Accepted {
			t.Fatalf("a second acceptance: %+v %v", late, err)
		}
		// Engine closed: the view says sold before the closer ran.
		if st, err = f.m.State(f.bidders[1], id); err != nil || st.View.Status != "sold" || st.View.Price != yuan(680_000) || st.DutchNext != nil {
			t.Fatalf("view after the acceptance: %+v %v", st.View, err)
		}
		if n, err := f.m.CloseDue(f.admin); err != nil || n != 1 {
			t.Fatalf("the closer closed %d (%v): the acceptance should close the auction now, not at %v", n, err, spec.End)
		}
		a, err := f.m.Auction(f.admin, id)
		if err != nil || a.Status != market.StatusSold || a.Outcome == nil || a.Outcome.WinnerOrg != f.orgs[0] || a.Outcome.Price != yuan(680_000) ||
			!a.Outcome.End.Equal(t0.Add(25*time.Minute)) || a.Outcome.WinnerCode != rc.Code {
			t.Fatalf("closed: %+v %+v %v", a, a.Outcome, err)
		}
		if acc, err := f.m.Account(f.admin, f.orgs[1]); err != nil || !acc.Frozen.IsZero() {
			t.Fatalf("the other deposit is still frozen: %+v %v", acc, err)
		}
		res, err := f.m.Result(f.bidders[1], id)
		if err != nil || len(res.Bids) != 1 || res.Bids[0].Amount != yuan(680_000) || res.Bids[0].Code != rc.Code {
			t.Fatalf("result: %+v %v", res, err)
		}
	})
}

// TestMarketRoundsTick: a sealed round whose deadline passes with no event is closed by the
// closer's tick, which publishes the round's best and is announced live; two nodes ticking the
// same round store one tick; the quotes stay sealed (a bidder sees its own amount only) and the
// history restores to the same state.
func TestMarketRoundsTick(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		r1, r2 := t0.Add(30*time.Minute), t0.Add(60*time.Minute)
		spec := englishSpec()
		spec.Format, spec.Rounds = "multi_round", []time.Time{r1, r2}
		f := newMarketFixture(t, db, 2, spec)
		id := f.auction.ID
		var mu sync.Mutex
		var notes []market.Event
		node2 := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1, Notify: func(aid int64, typ string, data any) {
			if e, ok := data.(market.Event); ok && aid == id && typ == "event" {
				mu.Lock()
				notes = append(notes, e)
				mu.Unlock()
			}
		}})
		t.Cleanup(node2.Close)
		for i, amt := range []int64{720_000, 750_000} {
			if rc, err := f.m.PlaceBid(f.bidders[i], id, market.BidRequest{Type: "quote", Amount: yuan(amt), Key: fmt.Sprintf("q1-%d", i)}); err != nil || !rc.Accepted {
				t.Fatalf("quote %d: %+v %v", i, rc, err)
			}
		}
		st, err := node2.State(f.bidders[0], id) // node 2 now holds the auction
		if err != nil || !reflect.DeepEqual(st.Auction.Rounds, []time.Time{r1, r2}) || st.View.Hidden != 2 || len(st.View.Rounds) != 0 {
			t.Fatalf("state in round 1: rounds %v view %+v %v", st.Auction.Rounds, st.View, err)
		}
		f.clock.Set(r1.Add(-time.Second))
		if n, err := node2.TickRounds(f.admin); n != 0 || err != nil {
			t.Fatalf("ticked %d before the deadline (%v)", n, err)
		}
		f.clock.Set(r1.Add(time.Second))
		if n, err := node2.TickRounds(f.admin); n != 1 || err != nil {
			t.Fatalf("node 2 ticked %d (%v)", n, err)
		}
		if _, err := f.m.State(f.admin, id); err != nil { // node 1 holds it too (reloaded: stale)
			t.Fatal(err)
		}
		if n, err := f.m.TickRounds(f.admin); n != 0 || err != nil {
			t.Fatalf("node 1 ticked the closed round again: %d (%v)", n, err)
		}
		// The batcher announces a committed batch after it has answered the callers, so the note
		// may come a moment after TickRounds returns: wait for it (never holding mu in Fatalf, which
		// would block the batcher's Notify and so the cleanup's Close).
		var got []market.Event
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			got = slices.Clone(notes)
			mu.Unlock()
			if len(got) > 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(got) != 1 || got[0].Type != "tick" || !got[0].Accepted {
			t.Fatalf("announced: %+v", got)
		}
		st, err = f.m.State(f.bidders[0], id)
		if err != nil || len(st.View.Rounds) != 1 || st.View.Rounds[0].Amount != yuan(750_000) || st.View.Price != yuan(750_000) ||
			st.View.Rounds[0].Bidder == "" || strings.HasPrefix(st.View.Rounds[0].Bidder, "O") {
			t.Fatalf("round 1 published: %+v %v", st.View, err)
		}
		// Round 2: a quote below the published best is rejected; one above it is taken.
		if rc, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Type: "quote", Amount: yuan(740_000), Key: "q2-low"}); err != nil || rc.Accepted {
			t.Fatalf("low quote: %+v %v", rc, err)
		}
		if rc, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Type: "quote", Amount: yuan(760_000), Key: "q2"}); err != nil || !rc.Accepted {
			t.Fatalf("round 2 quote: %+v %v", rc, err)
		}
		// Sealed: the other bidder's quote shows without its amount; the caller's own with it.
		evs, err := f.m.Events(f.bidders[1], id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var mine, others int
		for _, e := range evs {
			if e.Type != "quote" || !e.Accepted {
				continue
			}
			switch {
			case e.Mine && e.Amount == yuan(750_000):
				mine++
			case !e.Mine && e.Amount.IsAbsent():
				others++
			default:
				t.Fatalf("a quote shows wrongly: %+v", e)
			}
		}
		if mine != 1 || others != 2 {
			t.Fatalf("quotes seen by bidder 2: %d own, %d others", mine, others)
		}
		f.clock.Set(r2)
		if n, err := f.m.TickRounds(f.admin); n != 1 || err != nil {
			t.Fatalf("round 2 tick: %d %v", n, err)
		}
		st, err = f.m.State(f.bidders[1], id)
		if err != nil || len(st.View.Rounds) != 2 || st.View.Rounds[1].Amount != yuan(760_000) {
			t.Fatalf("round 2 published: %+v %v", st.View, err)
		}
		if rc, err := f.m.PlaceBid(f.bidders[1], id, market.BidRequest{Amount: yuan(770_000), Key: "final"}); err != nil || !rc.Accepted {
			t.Fatalf("final phase bid: %+v %v", rc, err)
		}
		live, err := f.m.LiveState(f.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		restored, err := f.m.RestoreAuction(f.admin, id)
		if err != nil || !reflect.DeepEqual(restored.State(), live) {
			t.Fatalf("restore differs: %v\n%+v\n%+v", err, restored.State(), live)
		}
	})
}
