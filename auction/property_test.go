package auction

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"reclaim/money"
)

// genListing draws a valid listing of any pack and format.
func genListing(t *rapid.T) Listing {
	format := rapid.SampledFrom([]Format{English, English, Sealed, Dutch, MultiRound}).Draw(t, "format")
	pack := rapid.SampledFrom([]Pack{Judicial, Yindeng, Marketplace}).Draw(t, "pack")
	if format != English {
		pack = rapid.SampledFrom([]Pack{Yindeng, Marketplace}).Draw(t, "pack2")
	}
	start := y(rapid.Int64Range(1, 1_000_000).Draw(t, "start"))
	l := Listing{Pack: pack, Format: format, Kind: RealEstate, Appraisal: start, StartPrice: start,
		Increment: y(rapid.Int64Range(1, 1000).Draw(t, "inc")), NoticeAt: t0.Add(-40 * day), Start: t0,
		End:        t0.Add(time.Duration(rapid.IntRange(24, 30).Draw(t, "hours")) * time.Hour),
		Preemption: map[string]int{}, DepositExempt: map[string]bool{}, Barred: map[string]bool{}}
	if pack.Name == Judicial.Name || rapid.Bool().Draw(t, "deposit") {
		l.Deposit = PctCeil(start, 10)
	}
	if rapid.Bool().Draw(t, "preemption") {
		l.Preemption["P1"] = rapid.IntRange(1, 2).Draw(t, "rankP1")
		l.Preemption["P2"] = rapid.IntRange(1, 2).Draw(t, "rankP2")
	}
	if rapid.Bool().Draw(t, "exempt") {
		l.DepositExempt["A"] = true
	}
	if rapid.Bool().Draw(t, "barred") {
		l.Barred["C"] = true
	}
	switch format {
	case Dutch:
		step := l.Increment
		if step.Cmp(start) > 0 { // without a floor the step may not exceed the start
			step = start
		}
		l.Dutch = &DutchSchedule{Step: step, Every: time.Duration(rapid.IntRange(1, 120).Draw(t, "every")) * time.Minute}
	case MultiRound:
		n := rapid.IntRange(1, 3).Draw(t, "rounds")
		for i := 1; i <= n; i++ {
			l.Rounds = append(l.Rounds, t0.Add(time.Duration(i)*3*time.Hour))
		}
	}
	return l
}

// genEvents draws a stream of events around the bidding window, in receipt order.
func genEvents(t *rapid.T, l Listing, a *Auction) {
	n := rapid.IntRange(5, 80).Draw(t, "n")
	at := l.Start.Add(-time.Duration(rapid.IntRange(0, 120).Draw(t, "lead")) * time.Minute)
	bidders := []string{"A", "B", "C", "P1", "P2"}
	span := l.End.Sub(l.Start)
	for _, b := range bidders {
		if b != "B" || rapid.Bool().Draw(t, "B deposits early") {
			a.Apply(Event{Type: Deposit, Bidder: b}, at)
		}
	}
	main := map[Format]EventType{English: Bid, Sealed: Bid, Dutch: Accept, MultiRound: Quote}[l.Format]
	offs := rapid.SliceOfN(rapid.Int64Range(-int64(time.Hour), int64(span+10*time.Minute)), n, n).Draw(t, "offsets")
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	for i := 0; i < n; i++ {
		at = maxTime(l.Start.Add(time.Duration(offs[i])), a.now)
		if rapid.IntRange(0, 9).Draw(t, "late") == 0 { // aim at the last minutes
			at = maxTime(a.End().Add(-time.Duration(rapid.Int64Range(-int64(time.Minute), int64(6*time.Minute)).Draw(t, "beforeEnd"))), a.now)
		}
		ev := Event{Type: rapid.SampledFrom([]EventType{Deposit, main, main, main, main, main, Bid, Quote, Accept, Payment, Default, Tick}).Draw(t, "type"),
			Bidder: rapid.SampledFrom(bidders).Draw(t, "bidder")}
		base := l.StartPrice
		if st := a.State(); !st.Price.IsAbsent() {
			base = st.Price
		}
		k := rapid.Int64Range(-1, 3).Draw(t, "k")
		ev.Amount = money.New(base.Minor()+k*l.Increment.Minor()+rapid.SampledFrom([]int64{0, 0, 0, 1}).Draw(t, "off"), money.CNY)
		if rapid.IntRange(0, 4).Draw(t, "keyed") == 0 {
			ev.Key = rapid.SampledFrom([]string{"k1", "k2"}).Draw(t, "key")
		}
		a.Apply(ev, at)
	}
}

func TestPropertyStreams(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := genListing(t)
		if vs := l.Check(); len(vs) > 0 {
			t.Fatalf("generated an invalid listing: %v", vs)
		}
		a := newAuction(l)
		genEvents(t, l, a)
		// Walk the history again, checking the invariants after every event.
		b := newAuction(l)
		prevEnd, prevPrice := b.End(), money.Amount{}
		for i, r := range a.History() {
			got := b.Apply(r.Event, r.At)
			if got != r.Result {
				t.Fatalf("event %d answered %+v live and %+v in replay", i, r.Result, got)
			}
			if b.End().Before(prevEnd) {
				t.Fatalf("event %d moved the end back from %v to %v", i, prevEnd, b.End())
			}
			prevEnd = b.End()
			st := b.State()
			if l.Format == English && !prevPrice.IsAbsent() && st.Price.Cmp(prevPrice) < 0 {
				t.Fatalf("event %d lowered the price from %s to %s", i, prevPrice, st.Price)
			}
			prevPrice = st.Price
			if r.Result.Accepted && !r.Result.Repeat && (r.Event.Type == Bid || r.Event.Type == Quote || r.Event.Type == Accept) {
				if st.Barred != nil && l.Barred[r.Event.Bidder] {
					t.Fatalf("event %d: barred bidder %s accepted", i, r.Event.Bidder)
				}
				if l.Deposit.Sign() > 0 && !l.DepositExempt[r.Event.Bidder] && !contains(st.Deposited, r.Event.Bidder) {
					t.Fatalf("event %d: bid without a deposit accepted", i)
				}
				if r.At.Before(l.Start) {
					t.Fatalf("event %d: bid before the start accepted", i)
				}
				if r.Event.Type == Accept && r.Event.Amount.Cmp(l.StartPrice) > 0 {
					t.Fatalf("event %d: a dutch acceptance at %s, above the start %s", i, r.Event.Amount, l.StartPrice)
				}
			}
		}
		o, err := b.Close(maxTime(b.End(), b.now))
		if err != nil {
			t.Fatal(err)
		}
		switch o.Status {
		case Sold:
			n := 0
			for _, bv := range b.State().Bids {
				if bv.Amount.Cmp(o.Price) > 0 {
					t.Fatalf("winner %s at %s but a bid of %s exists", o.Winner, o.Price, bv.Amount)
				}
				if bv.Bidder == o.Winner && bv.Amount == o.Price {
					n++
				}
			}
			if o.Winner == "" || n == 0 || o.Relist != nil {
				t.Fatalf("sold outcome %+v has no winning bid", o)
			}
		case Failed:
			if o.Winner != "" || o.Relist == nil {
				t.Fatalf("failed outcome %+v", o)
			}
		default:
			t.Fatalf("closed auction is %s", o.Status)
		}
		// The state rebuilt from the stored history equals the live state.
		a.Close(maxTime(a.End(), a.now))
		r, err := Restore(l, a.History())
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(a.State(), r.State()); d != "" {
			t.Fatalf("restored state differs (-live +restored):\n%s", d)
		}
	})
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestRestoreFromJSONHistory stores a history as JSON, reads it back and restores the auction:
// what a database holding the records does after a restart.
func TestRestoreFromJSONHistory(t *testing.T) {
	l := judicial()
	l.Preemption = map[string]int{"P": 1}
	a := play(t, l, []step{{0, dep("A"), true, ""}, {0, dep("P"), true, ""},
		{time.Hour, Event{Type: Bid, Bidder: "A", Amount: y(700_000), Key: "k"}, true, ""},
		{time.Hour, Event{Type: Bid, Bidder: "A", Amount: y(700_000), Key: "k"}, true, ""},
		{day - time.Minute, bidOf("P", y(700_000)), true, "JA-7"},
		{day + time.Hour, Event{Type: Default}, true, "JA-8"}})
	data, err := json.Marshal(a.History())
	if err != nil {
		t.Fatal(err)
	}
	var h []Record
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(l, h)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a.State(), r.State()); d != "" {
		t.Fatalf("restored from JSON (-live +restored):\n%s", d)
	}
	if o := r.Outcome(); o.Winner != "P" || !o.Defaulted || o.Forfeited != y(70_000) {
		t.Fatalf("outcome %+v", o)
	}
	// A history that does not match the rules is refused.
	h[2].Result.Accepted = false
	if _, err := Restore(l, h); err == nil {
		t.Fatal("Restore accepted a history with a wrong answer")
	}
}
