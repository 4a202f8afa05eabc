package auction

import (
	"reflect"
	"testing"
	"time"

	"reclaim/money"
)

func TestEnglishReserve(t *testing.T) {
	l := Listing{Pack: Marketplace, Format: English, Kind: Movable, StartPrice: y(1000), Increment: y(100),
		Reserve: y(1500), NoticeAt: t0.Add(-day), Start: t0, End: t0.Add(2 * time.Hour)}
	a := play(t, l, []step{{time.Minute, bidOf("A", y(1000)), true, ""}, {2 * time.Minute, bidOf("B", y(1400)), true, ""}})
	if v := a.PublicView(); !v.Reserve.IsAbsent() {
		t.Fatalf("a hidden reserve shows: %+v", v)
	}
	if o := closeAt(t, a); o.Status != Failed || o.Relist == nil {
		t.Fatalf("reserve not met: %+v", o)
	}
	l.ReservePublic = true
	a = play(t, l, []step{{time.Minute, bidOf("A", y(1500)), true, ""}})
	if v := a.PublicView(); v.Reserve != y(1500) {
		t.Fatalf("a public reserve is hidden: %+v", v)
	}
	if o := closeAt(t, a); o.Status != Sold || o.Price != y(1500) {
		t.Fatalf("reserve met: %+v", o)
	}
}

func TestSealedBid(t *testing.T) {
	l := Listing{Pack: Yindeng, Format: Sealed, Kind: NPLPackage, StartPrice: y(1_000_000), Increment: y(1000),
		Deposit: y(100_000), NoticeAt: t0.Add(-7 * day), Start: t0, End: t0.Add(3 * time.Hour)}
	end := 3 * time.Hour
	a := play(t, l, []step{
		{0, dep("A"), true, "YD-4"}, {0, dep("B"), true, ""}, {0, dep("C"), true, ""},
		{time.Hour, bidOf("A", y(1_200_000)), true, "YD-6"},
		{time.Hour, bidOf("A", y(1_300_000)), false, "YD-6"}, // one sealed bid each
		{time.Hour, bidOf("B", y(999_000)), false, "YD-6"},   // below the start
		{time.Hour, bidOf("B", y(1_000_500)), false, "YD-6"}, // off the increment
		{2 * time.Hour, bidOf("B", y(1_250_000)), true, ""},
		{end - time.Minute, bidOf("C", y(1_250_000)), true, ""}, // a tie goes to the earlier bid
	})
	if !a.End().Equal(t0.Add(end)) {
		t.Fatalf("a sealed auction was extended: %v", a.End())
	}
	v := a.PublicView()
	if len(v.Bids) != 0 || v.Hidden != 3 || !v.Price.IsAbsent() || v.Leader != "" {
		t.Fatalf("sealed bids show before the close: %+v", v)
	}
	if r := a.Apply(bidOf("A", y(2_000_000)), t0.Add(end)); r.Accepted {
		t.Fatalf("a sealed bid at the end: %+v", r)
	}
	o := a.Outcome()
	if o.Status != Sold || o.Winner != "B" || o.Price != y(1_250_000) {
		t.Fatalf("outcome %+v", o)
	}
	if v := a.PublicView(); len(v.Bids) != 3 || v.Winner != "B" || v.Bids[0].Bidder != "A" {
		t.Fatalf("view after the close %+v", v)
	}
}

func TestDutch(t *testing.T) {
	l := Listing{Pack: Marketplace, Format: Dutch, Kind: Movable, StartPrice: y(10_000), NoticeAt: t0.Add(-day),
		Start: t0, End: t0.Add(3 * time.Hour), Dutch: &DutchSchedule{Step: y(500), Every: 10 * time.Minute, Floor: y(8_000)}}
	for _, c := range []struct {
		at   time.Duration
		want money.Amount
	}{{0, y(10_000)}, {10*time.Minute - time.Nanosecond, y(10_000)}, {10 * time.Minute, y(9_500)}, {35 * time.Minute, y(8_500)},
		{40 * time.Minute, y(8_000)}, {2 * time.Hour, y(8_000)}} {
		if got := l.DutchPrice(t0.Add(c.at)); got != c.want {
			t.Errorf("price at +%v: %s, want %s", c.at, got, c.want)
		}
	}
	a := play(t, l, []step{
		{5 * time.Minute, bidOf("A", y(10_000)), false, ""},                                    // a Dutch auction takes acceptances
		{15 * time.Minute, Event{Type: Accept, Bidder: "A", Amount: y(10_000)}, false, "MP-6"}, // not the current price
		{25 * time.Minute, Event{Type: Accept, Bidder: "B"}, true, "MP-2"},
		{26 * time.Minute, Event{Type: Accept, Bidder: "A"}, false, "MP-6"}, // first acceptance won
	})
	o := a.Outcome()
	if o.Status != Sold || o.Winner != "B" || o.Price != y(9_000) || !o.End.Equal(t0.Add(25*time.Minute)) {
		t.Fatalf("outcome %+v", o)
	}
	a, _ = New(l)
	if o, _ := a.Close(l.End); o.Status != Failed {
		t.Fatalf("no acceptance: %+v", o)
	}
}

// TestDutchStepAgainstStart: without a floor (absent or zero) the price stops at one step, so a
// step above the start price is refused (the price would open above the start); a step equal to
// the start, or any step with a floor, is a valid listing whose price never exceeds the start.
func TestDutchStepAgainstStart(t *testing.T) {
	for _, c := range []struct {
		step, floor money.Amount
		want        string
	}{
		{fen(9_999), money.Amount{}, ""},
		{y(100), money.Amount{}, ""},
		{fen(10_001), money.Amount{}, "MP-6"},
		{fen(10_001), money.Zero(money.CNY), "MP-6"},
		{y(500), y(50), ""},
	} {
		l := Listing{Pack: Marketplace, Format: Dutch, Kind: Movable, StartPrice: y(100), NoticeAt: t0.Add(-day),
			Start: t0, End: t0.Add(2 * time.Hour), Dutch: &DutchSchedule{Step: c.step, Every: time.Minute, Floor: c.floor}}
		if got := rules(l.Check()); got != c.want {
			t.Errorf("step %s floor %s: %q, want %q", c.step, c.floor, got, c.want)
		}
		if c.want == "" {
			for _, at := range []time.Duration{0, time.Minute, time.Hour} {
				if p := l.DutchPrice(t0.Add(at)); p.Cmp(l.StartPrice) > 0 || (at == 0 && p != l.StartPrice) {
					t.Errorf("step %s floor %s: price %s at +%v (start %s)", c.step, c.floor, p, at, l.StartPrice)
				}
			}
		}
	}
}

func TestMultiRound(t *testing.T) {
	r1, r2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	l := Listing{Pack: Yindeng, Format: MultiRound, Kind: NPLPackage, StartPrice: y(1_000_000), Increment: y(10_000),
		NoticeAt: t0.Add(-7 * day), Start: t0, End: t0.Add(3 * time.Hour), Rounds: []time.Time{r1, r2}}
	a := play(t, l, []step{
		{time.Minute, Event{Type: Quote, Bidder: "A", Amount: y(1_100_000)}, true, "YD-6"},
		{2 * time.Minute, Event{Type: Quote, Bidder: "B", Amount: y(1_150_000)}, true, ""},
		{3 * time.Minute, Event{Type: Quote, Bidder: "B", Amount: y(1_200_000)}, false, ""}, // once per round
		{4 * time.Minute, Event{Type: Quote, Bidder: "C", Amount: y(900_000)}, false, ""},   // below the start
		{5 * time.Minute, bidOf("A", y(1_200_000)), false, "YD-6"},                          // rounds take quotes
	})
	v := a.PublicView()
	if v.Hidden != 2 || len(v.Rounds) != 0 {
		t.Fatalf("quotes show during the round: %+v", v)
	}
	a.Apply(Event{Type: Tick}, r1)
	v = a.PublicView()
	if len(v.Rounds) != 1 || v.Rounds[0].Amount != y(1_150_000) || v.Rounds[0].Bidder != "B002" || v.Price != y(1_150_000) {
		t.Fatalf("round 1's best is not published: %+v", v)
	}
	for _, s := range []step{
		{time.Hour + time.Minute, Event{Type: Quote, Bidder: "A", Amount: y(1_140_000)}, false, ""}, // below the published best
		{time.Hour + 2*time.Minute, Event{Type: Quote, Bidder: "A", Amount: y(1_160_000)}, true, ""},
		{2 * time.Hour, bidOf("C", y(1_200_000)), false, "YD-6"}, // did not quote
		{2 * time.Hour, Event{Type: Quote, Bidder: "A", Amount: y(1_300_000)}, false, ""},
		{2 * time.Hour, bidOf("B", y(1_160_000)), false, "YD-6"}, // not above the best quote
		{2*time.Hour + time.Minute, bidOf("B", y(1_170_000)), true, ""},
		{3*time.Hour - time.Minute, bidOf("A", y(1_180_000)), true, ""}, // extends by 5 minutes
	} {
		r := a.Apply(s.ev, t0.Add(s.at))
		if r.Accepted != s.ok || (s.rule != "" && r.Rule != s.rule) {
			t.Fatalf("%+v: %+v", s, r)
		}
	}
	if want := t0.Add(3*time.Hour + 4*time.Minute); !a.End().Equal(want) {
		t.Fatalf("end %v, want %v", a.End(), want)
	}
	if o := closeAt(t, a); o.Winner != "A" || o.Price != y(1_180_000) {
		t.Fatalf("outcome %+v", o)
	}
	// Without final bids the best quote wins.
	a = play(t, l, []step{{time.Minute, Event{Type: Quote, Bidder: "A", Amount: y(1_000_000)}, true, ""}})
	if o := closeAt(t, a); o.Winner != "A" || o.Price != y(1_000_000) {
		t.Fatalf("outcome %+v", o)
	}
}

func TestPackFormats(t *testing.T) {
	for _, p := range []Pack{Judicial, Yindeng, Marketplace} {
		got, ok := Packs(p.Name)
		if !ok || got.Name != p.Name {
			t.Fatalf("Packs(%q)", p.Name)
		}
		if !p.Allows(English) {
			t.Errorf("%s does not allow english", p.Name)
		}
	}
	if Judicial.Allows(Sealed) || !Yindeng.Allows(MultiRound) || Marketplace.Extension != 3*time.Minute || Judicial.Extension != 5*time.Minute {
		t.Fatal("pack settings")
	}
	if _, ok := Packs("nope"); ok {
		t.Fatal("unknown pack found")
	}
}

// TestDutchEndAndNextStep: an acceptance ends bidding at its receipt time (ClosesAt moves there,
// so the store closes the auction at once; End, which never moves back, stays), and DutchNextStep names the next step until the floor.
func TestDutchEndAndNextStep(t *testing.T) {
	l := Listing{Pack: Marketplace, Format: Dutch, Kind: Movable, StartPrice: y(10_000), NoticeAt: t0.Add(-day),
		Start: t0, End: t0.Add(3 * time.Hour), Dutch: &DutchSchedule{Step: y(500), Every: 10 * time.Minute, Floor: y(8_000)}}
	for _, c := range []struct {
		at   time.Duration
		next time.Duration
		ok   bool
	}{{-time.Hour, 10 * time.Minute, true}, {0, 10 * time.Minute, true}, {10*time.Minute - time.Nanosecond, 10 * time.Minute, true},
		{10 * time.Minute, 20 * time.Minute, true}, {35 * time.Minute, 40 * time.Minute, true}, {40 * time.Minute, 0, false}, {2 * time.Hour, 0, false}} {
		next, ok := l.DutchNextStep(t0.Add(c.at))
		if ok != c.ok || (ok && !next.Equal(t0.Add(c.next))) {
			t.Errorf("next step after +%v: %v %v, want +%v %v", c.at, next, ok, c.next, c.ok)
		}
		if ok && l.DutchPrice(next).Cmp(l.DutchPrice(t0.Add(c.at))) >= 0 {
			t.Errorf("the price does not fall at the next step after +%v", c.at)
		}
	}
	if _, ok := (Listing{Start: t0, StartPrice: y(1)}).DutchNextStep(t0); ok {
		t.Error("a listing without a schedule has a next step")
	}
	a, _ := New(l)
	if r := a.Apply(Event{Type: Accept, Bidder: "A"}, t0.Add(25*time.Minute)); !r.Accepted {
		t.Fatalf("accept: %+v", r)
	}
	if !a.ClosesAt().Equal(t0.Add(25*time.Minute)) || !a.Closed() || !a.End().Equal(l.End) {
		t.Fatalf("after the acceptance: closes at %v (end %v) closed %v", a.ClosesAt(), a.End(), a.Closed())
	}
	if v := a.PublicView(); v.Status != Sold || !v.End.Equal(t0.Add(25*time.Minute)) || v.Price != y(9_000) {
		t.Fatalf("view after the acceptance: %+v", v)
	}
	// The record names the price taken, and replays to the same state.
	h := a.History()
	if got := h[len(h)-1].Event.Amount; got != y(9_000) {
		t.Fatalf("the acceptance is recorded with amount %s", got)
	}
	if b, err := Restore(l, h); err != nil || !reflect.DeepEqual(b.State(), a.State()) {
		t.Fatalf("restore: %v", err)
	}
}

// TestRoundDue: a round whose deadline passed without an event is due for a tick; the tick
// publishes its best and the next round is not due before its own deadline.
func TestRoundDue(t *testing.T) {
	r1, r2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	l := Listing{Pack: Yindeng, Format: MultiRound, Kind: NPLPackage, StartPrice: y(1_000_000), Increment: y(10_000),
		NoticeAt: t0.Add(-7 * day), Start: t0, End: t0.Add(3 * time.Hour), Rounds: []time.Time{r1, r2}}
	a, err := New(l)
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(Event{Type: Quote, Bidder: "A", Amount: y(1_050_000)}, t0.Add(time.Minute))
	if a.RoundDue(r1.Add(-time.Nanosecond)) || !a.RoundDue(r1) || a.Round() != 0 {
		t.Fatal("round 1 due before its deadline, or not at it")
	}
	a.Apply(Event{Type: Tick}, r1)
	if a.RoundDue(r1.Add(time.Minute)) || a.Round() != 1 || len(a.PublicView().Rounds) != 1 {
		t.Fatalf("after the tick: round %d, view %+v", a.Round(), a.PublicView())
	}
	if !a.RoundDue(r2) {
		t.Fatal("round 2 not due at its deadline")
	}
	a.Apply(Event{Type: Tick}, r2)
	if a.RoundDue(r2.Add(time.Hour)) {
		t.Fatal("the final phase is due for a round")
	}
	e, _ := New(Listing{Pack: Marketplace, Format: English, Kind: Movable, StartPrice: y(1), Increment: y(1), NoticeAt: t0.Add(-day), Start: t0, End: t0.Add(3 * time.Hour)})
	if e == nil || e.RoundDue(t0.Add(time.Hour)) {
		t.Fatal("an English auction has rounds due")
	}
}
