package auction

import (
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
