package auction

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"reclaim/money"

	"pgregory.net/rapid"
)

var cst = time.FixedZone("CST", 8*3600)

// t0 is the start of the test listings.
var t0 = time.Date(2026, 2, 1, 10, 0, 0, 0, cst)

func y(n int64) money.Amount { return money.Yuan(n) }

func fen(n int64) money.Amount { return money.New(n, money.CNY) }

// judicial returns the worked example's listing: appraisal 1,000,000, start 700,000, increment
// 10,000, deposit 70,000, real estate with 31 days' notice, 24 hours of bidding.
func judicial() Listing {
	return Listing{Pack: Judicial, Format: English, Kind: RealEstate, Appraisal: y(1_000_000),
		StartPrice: y(700_000), Increment: y(10_000), Deposit: y(70_000),
		NoticeAt: t0.Add(-31 * day), Start: t0, End: t0.Add(day),
		Preemption: map[string]int{}, DepositExempt: map[string]bool{}}
}

// step is one event at t0 + at, and what the engine should answer (rule "" is not checked).
type step struct {
	at   time.Duration
	ev   Event
	ok   bool
	rule string
}

func dep(b string) Event                        { return Event{Type: Deposit, Bidder: b} }
func bidOf(b string, amount money.Amount) Event { return Event{Type: Bid, Bidder: b, Amount: amount} }

// play applies the steps to a new auction and checks every answer.
func play(t *testing.T, l Listing, steps []step) *Auction {
	t.Helper()
	a, err := New(l)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for i, s := range steps {
		r := a.Apply(s.ev, t0.Add(s.at))
		if r.Accepted != s.ok || (s.rule != "" && r.Rule != s.rule) {
			t.Fatalf("step %d %+v at t0+%v: got accepted=%v rule=%q (%s); want accepted=%v rule=%q",
				i, s.ev, s.at, r.Accepted, r.Rule, r.Reason, s.ok, s.rule)
		}
	}
	return a
}

func closeAt(t *testing.T, a *Auction) Outcome {
	t.Helper()
	o, err := a.Close(a.End())
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return o
}

func rules(vs []Violation) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Rule)
	}
	return strings.Join(s, ",")
}

func TestJA1_StartAtLeast70PercentOfAppraisal(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Listing)
		want string
	}{
		{"exactly 70%", func(l *Listing) {}, ""},
		{"one fen above 70%", func(l *Listing) { l.StartPrice = fen(70_000_001) }, ""},
		{"one fen below 70%", func(l *Listing) {
			l.StartPrice = fen(69_999_999)
			l.Deposit = y(35_000)
		}, "JA-1"},
		{"no appraisal", func(l *Listing) { l.Appraisal = money.Amount{} }, "JA-1"},
		{"reserve differs from start", func(l *Listing) { l.Reserve = y(800_000) }, "JA-1"},
		{"reserve equals start", func(l *Listing) { l.Reserve = y(700_000) }, ""},
		{"negative start", func(l *Listing) { l.StartPrice = y(-1) }, "JA-1"},
	} {
		l := judicial()
		c.edit(&l)
		if got := rules(l.Check()); !strings.Contains(got, c.want) || (c.want == "" && got != "") {
			t.Errorf("%s: violations %q (%v), want %q", c.name, got, l.Check(), c.want)
		}
	}
}

func TestJA2_OneBidderAtStartSells(t *testing.T) {
	a := play(t, judicial(), []step{{-time.Hour, dep("A"), true, "JA-4"}, {time.Hour, bidOf("A", y(700_000)), true, "JA-6"}})
	o := closeAt(t, a)
	if o.Status != Sold || o.Winner != "A" || o.Price != y(700_000) || !o.End.Equal(t0.Add(day)) {
		t.Fatalf("outcome %+v", o)
	}
}

func TestJA3_NoticeBeforeStart(t *testing.T) {
	for _, c := range []struct {
		kind   AssetKind
		notice time.Duration
		want   string
	}{
		{Movable, 15 * day, ""}, {Movable, 15*day - time.Second, "JA-3"},
		{RealEstate, 30 * day, ""}, {RealEstate, 29 * day, "JA-3"},
		{PropertyRight, 29 * day, "JA-3"}, {NPLPackage, 30 * day, ""},
		{Movable, 15*day + time.Second, ""}, {RealEstate, 30*day - time.Second, "JA-3"},
		{PropertyRight, 30 * day, ""}, {NPLPackage, 30*day - time.Second, "JA-3"},
		{Movable, -time.Second, "JA-3"}, // notice after the start
	} {
		l := judicial()
		l.Kind, l.NoticeAt = c.kind, t0.Add(-c.notice)
		if got := rules(l.Check()); got != c.want {
			t.Errorf("%s with %v notice: %q, want %q", c.kind, c.notice, got, c.want)
		}
	}
}

func TestJA4_DepositBoundsAndDepositBeforeBid(t *testing.T) {
	for _, c := range []struct {
		dep  money.Amount
		want string
	}{{y(35_000), ""}, {fen(3_499_999), "JA-4"}, {fen(3_500_001), ""}, {y(140_000), ""}, {fen(13_999_999), ""},
		{fen(14_000_001), "JA-4"}, {money.Amount{}, "JA-4"}, {money.Zero(money.CNY), "JA-4"}} {
		l := judicial()
		l.Deposit = c.dep
		if got := rules(l.Check()); got != c.want {
			t.Errorf("deposit %s: %q, want %q", c.dep, got, c.want)
		}
	}
	l := judicial()
	l.DepositExempt = map[string]bool{"C": true}
	play(t, l, []step{
		{time.Hour, bidOf("A", y(700_000)), false, "JA-4"},                          // no deposit
		{time.Hour, dep("A"), true, "JA-4"},                                         // same instant, later in order: counts from now on
		{time.Hour, bidOf("A", y(700_000)), true, "JA-6"},                           // the deposit came earlier
		{time.Hour, bidOf("C", y(710_000)), true, "JA-6"},                           // creditor-applicant: exempt
		{time.Hour, dep("A"), false, "JA-4"},                                        // twice
		{time.Hour, Event{Type: Deposit, Bidder: "D", Amount: y(1)}, false, "JA-4"}, // too small
	})
}

func TestJA5_BidderCodesWhileBiddingRuns(t *testing.T) {
	a := play(t, judicial(), []step{{0, dep("Alice"), true, ""}, {0, dep("Bob"), true, ""},
		{time.Hour, bidOf("Bob", y(700_000)), true, ""}, {2 * time.Hour, bidOf("Alice", y(710_000)), true, ""}})
	v := a.PublicView()
	if v.Leader != "B001" || len(v.Bids) != 2 || v.Bids[0].Bidder != "B002" || v.Bids[1].Bidder != "B001" {
		t.Fatalf("view while bidding runs: %+v", v)
	}
	for _, b := range v.Bids {
		if b.Bidder == "Alice" || b.Bidder == "Bob" {
			t.Fatalf("a name shows before the close: %+v", v)
		}
	}
	closeAt(t, a)
	v = a.PublicView()
	if v.Winner != "Alice" || v.Bids[0].Bidder != "Bob" || v.Status != Sold {
		t.Fatalf("view after the close: %+v", v)
	}
}

func TestJA6_AscendingIncrementsWindowAndExtension(t *testing.T) {
	l := judicial()
	l.End = t0.Add(day - time.Minute)
	if got := rules(l.Check()); got != "JA-6" {
		t.Errorf("23h59m of bidding: %q", got)
	}
	l = judicial()
	l.Increment = money.Amount{}
	if got := rules(l.Check()); got != "JA-6" {
		t.Errorf("no increment: %q", got)
	}
	l = judicial()
	l.Format = Dutch
	if got := rules(l.Check()); !strings.Contains(got, "JA-6") {
		t.Errorf("a judicial dutch auction: %q", got)
	}
	end := day
	a := play(t, judicial(), []step{
		{-time.Hour, dep("A"), true, ""}, {-time.Hour, dep("B"), true, ""},
		{-time.Millisecond, bidOf("A", y(700_000)), false, "JA-6"},                     // before the start
		{0, bidOf("A", y(690_000)), false, "JA-6"},                                     // below the start
		{0, bidOf("A", y(705_000)), false, "JA-6"},                                     // off the increment
		{0, bidOf("A", y(720_000)), true, "JA-6"},                                      // start + 2 increments
		{0, bidOf("B", y(720_000)), false, "JA-6"},                                     // not above
		{0, bidOf("B", y(725_000)), false, "JA-6"},                                     // off the increment from the current price
		{end - 5*time.Minute - time.Millisecond, bidOf("B", y(730_000)), true, "JA-6"}, // just outside the window
	})
	if !a.End().Equal(t0.Add(end)) {
		t.Fatalf("a bid 5 min + 1 ms before the end extended it to %v", a.End())
	}
	// At exactly end - 5 min the window is inclusive, but t + 5 min is the same end.
	a.Apply(bidOf("A", y(740_000)), t0.Add(end-5*time.Minute))
	if !a.End().Equal(t0.Add(end)) {
		t.Fatalf("end %v", a.End())
	}
	// Extension chain: end - 3 min, then at the new end - 1 min, then at the new end - 1 ms.
	r := a.Apply(bidOf("B", y(750_000)), t0.Add(end-3*time.Minute))
	e1 := t0.Add(end + 2*time.Minute)
	if !r.Accepted || !a.End().Equal(e1) || !strings.Contains(r.Reason, "extended") {
		t.Fatalf("end-3min: %+v, end %v, want %v", r, a.End(), e1)
	}
	a.Apply(bidOf("A", y(760_000)), e1.Add(-time.Minute))
	e2 := e1.Add(4 * time.Minute)
	if !a.End().Equal(e2) {
		t.Fatalf("new end - 1 min: end %v, want %v", a.End(), e2)
	}
	a.Apply(bidOf("B", y(770_000)), e2.Add(-time.Millisecond))
	e3 := e2.Add(5*time.Minute - time.Millisecond)
	if !a.End().Equal(e3) {
		t.Fatalf("new end - 1 ms: end %v, want %v", a.End(), e3)
	}
	if r := a.Apply(bidOf("A", y(780_000)), e3); r.Accepted || r.Rule != "JA-6" {
		t.Fatalf("a bid exactly at the end: %+v", r)
	}
	if r := a.Apply(bidOf("A", y(790_000)), e3.Add(time.Millisecond)); r.Accepted || r.Rule != "JA-6" {
		t.Fatalf("a bid 1 ms after the close: %+v", r)
	}
	o := a.Outcome()
	if o.Status != Sold || o.Winner != "B" || o.Price != y(770_000) || !o.End.Equal(e3) {
		t.Fatalf("outcome %+v", o)
	}
}

func TestJA7_PreemptionHolderWinsTies(t *testing.T) {
	l := judicial()
	l.Preemption = map[string]int{"P1": 1, "P2": 2, "Q2": 2}
	l.DepositExempt = map[string]bool{"A": true, "P1": true, "P2": true, "Q2": true}
	a := play(t, l, []step{
		{time.Hour, bidOf("A", y(700_000)), true, "JA-6"},
		{time.Hour, bidOf("P2", y(700_000)), true, "JA-7"},  // holder takes the lead at the same price
		{time.Hour, bidOf("A", y(700_000)), false, "JA-6"},  // a non-holder may not tie
		{time.Hour, bidOf("Q2", y(700_000)), false, "JA-7"}, // same rank, later bid: P2 keeps the lead
		{time.Hour, bidOf("P1", y(700_000)), true, "JA-7"},  // higher rank wins the tie
		{time.Hour, bidOf("P2", y(700_000)), false, "JA-7"}, // lower rank cannot take it back
		{time.Hour, bidOf("P1", y(700_000)), false, "JA-7"}, // the leader does not tie itself
	})
	if o := closeAt(t, a); o.Winner != "P1" || o.Price != y(700_000) {
		t.Fatalf("outcome %+v", o)
	}
	// Sealed bids: the holder wins a tie even when later.
	s := Listing{Pack: Marketplace, Format: Sealed, Kind: Movable, StartPrice: y(100), NoticeAt: t0.Add(-2 * day), Start: t0,
		End: t0.Add(2 * time.Hour), Preemption: map[string]int{"H": 1}}
	a = play(t, s, []step{{time.Minute, bidOf("X", y(150)), true, "MP-6"}, {2 * time.Minute, bidOf("H", y(150)), true, "MP-6"}})
	if o := closeAt(t, a); o.Winner != "H" {
		t.Fatalf("sealed tie with a holder: %+v", o)
	}
}

func TestJA8_DefaultForfeitsDepositAndBarsTheWinner(t *testing.T) {
	l := judicial()
	l.Barred = map[string]bool{"X": true}
	a := play(t, l, []step{
		{0, dep("X"), false, "JA-8"},
		{0, dep("A"), true, ""},
		{time.Hour, bidOf("X", y(700_000)), false, "JA-8"},
		{time.Hour, bidOf("A", y(700_000)), true, ""},
		{2 * time.Hour, Event{Type: Default}, false, "JA-8"}, // bidding runs
		{day + time.Hour, Event{Type: Default, Bidder: "B"}, false, "JA-8"},
		{day + time.Hour, Event{Type: Default, Bidder: "A"}, true, "JA-8"},
		{day + 2*time.Hour, Event{Type: Payment, Bidder: "A"}, false, "JA-8"},
		{day + 2*time.Hour, Event{Type: Default}, false, "JA-8"},
	})
	o := a.Outcome()
	if o.Status != Sold || !o.Defaulted || o.Forfeited != y(70_000) || len(o.Barred) != 1 || o.Barred[0] != "A" {
		t.Fatalf("outcome %+v", o)
	}
	if st := a.State(); len(st.Barred) != 2 {
		t.Fatalf("barred %v", st.Barred)
	}
	// A paid sale cannot default.
	a = play(t, judicial(), []step{{0, dep("A"), true, ""}, {time.Hour, bidOf("A", y(700_000)), true, ""},
		{day, Event{Type: Payment, Bidder: "A", Amount: y(700_000)}, true, ""}, {day, Event{Type: Default}, false, "JA-8"}})
	if o := a.Outcome(); !o.Paid || o.Defaulted {
		t.Fatalf("paid outcome %+v", o)
	}
}

func TestJA9_FailedAuctionRelistAndSellOff(t *testing.T) {
	a := play(t, judicial(), []step{{0, dep("A"), true, ""}})
	o := closeAt(t, a)
	if o.Status != Failed || o.Relist == nil || o.Relist.MinStartPrice != y(560_000) || o.Relist.MinNoticeDays != 15 || o.SellOff != nil {
		t.Fatalf("failed outcome %+v %+v", o, o.Relist)
	}
	for _, c := range []struct {
		kind  AssetKind
		start money.Amount
		price money.Amount
		days  int
	}{
		{Movable, y(700_000), y(560_000), 7},
		{RealEstate, fen(70_000_003), fen(56_000_003), 15},    // 560000.024 rounded up: 560000.02 is below 80%
		{PropertyRight, fen(70_000_007), fen(56_000_006), 15}, // 560000.056 rounded up
	} {
		l := judicial()
		l.Kind, l.StartPrice, l.Appraisal = c.kind, c.start, c.start
		a, err := New(l)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := a.Close(l.End)
		if o.Relist.MinStartPrice != c.price || o.Relist.MinNoticeDays != c.days {
			t.Errorf("%s start %s: relist %+v", c.kind, c.start, o.Relist)
		}
	}
	// The re-auction: start >= 80% of the failed one, notice 15 days, within 30 days.
	second := func(start money.Amount, notice, after time.Duration) Listing {
		l := judicial()
		l.Stage, l.StartPrice, l.Deposit = Second, start, y(56_000)
		l.Previous = &Previous{StartPrice: y(700_000), End: t0.Add(-after)}
		l.NoticeAt = t0.Add(-notice)
		return l
	}
	for _, c := range []struct {
		l    Listing
		want string
	}{
		{second(y(560_000), 15*day, 20*day), ""},
		{second(fen(55_999_999), 15*day, 20*day), "JA-9"},
		{second(y(560_000), 14*day, 20*day), "JA-9"},
		{second(y(560_000), 15*day, 31*day), "JA-9"},
	} {
		if got := rules(c.l.Check()); got != c.want {
			t.Errorf("re-auction %s: %q, want %q (%v)", c.l.StartPrice, got, c.want, c.l.Check())
		}
	}
	// A second failure offers the sell-off at the second start.
	a, err := New(second(y(560_000), 15*day, 20*day))
	if err != nil {
		t.Fatal(err)
	}
	o, _ = a.Close(t0.Add(day))
	if o.Status != Failed || o.SellOff == nil || o.SellOff.Price != y(560_000) || o.SellOff.WindowDays != 60 || o.SellOff.BiddingHours != 24 {
		t.Fatalf("second failure: %+v %+v", o, o.SellOff)
	}
	// The sell-off: 60 days at 560,000; a bid opens 24 hours of bidding with the 5-minute extension.
	l := judicial()
	l.Stage, l.StartPrice, l.Deposit = SellOff, y(560_000), y(56_000)
	l.Previous = &Previous{StartPrice: y(560_000)}
	l.End = t0.Add(60 * day)
	if got := rules(l.Check()); got != "" {
		t.Fatalf("sell-off listing: %v", l.Check())
	}
	a = play(t, l, []step{{0, dep("A"), true, ""}, {0, dep("B"), true, ""},
		{10 * day, bidOf("A", y(560_000)), true, "JA-6"}})
	if want := t0.Add(11 * day); !a.End().Equal(want) {
		t.Fatalf("sell-off end after the first bid %v, want %v", a.End(), want)
	}
	a.Apply(bidOf("B", y(570_000)), t0.Add(11*day-time.Minute))
	if want := t0.Add(11*day + 4*time.Minute); !a.End().Equal(want) {
		t.Fatalf("sell-off extension: %v, want %v", a.End(), want)
	}
	if o := closeAt(t, a); o.Winner != "B" || o.Price != y(570_000) {
		t.Fatalf("sell-off outcome %+v", o)
	}
	l.End = t0.Add(61 * day)
	if got := rules(l.Check()); got != "JA-9" {
		t.Fatalf("61-day sell-off: %q", got)
	}
}

// TestWorkedExample is the worked example of auction-rules.md: appraisal 1,000,000 -> start >=
// 700,000 -> deposit 35,000-140,000 -> second start >= 560,000; a bid at end - 3 min moves the end
// to the bid's time + 5 min.
func TestWorkedExample(t *testing.T) {
	l := judicial()
	l.StartPrice = fen(69_999_999)
	if rules(l.Check()) != "JA-1" {
		t.Fatal("699,999.99 passes JA-1")
	}
	for _, d := range []money.Amount{y(35_000), y(140_000)} {
		l = judicial()
		l.Deposit = d
		if vs := l.Check(); len(vs) != 0 {
			t.Fatalf("deposit %s: %v", d, vs)
		}
	}
	a := play(t, judicial(), []step{{0, dep("A"), true, ""}, {day - 3*time.Minute, bidOf("A", y(700_000)), true, "JA-6"}})
	if want := t0.Add(day + 2*time.Minute); !a.End().Equal(want) {
		t.Fatalf("end %v, want %v", a.End(), want)
	}
	a, _ = New(judicial())
	if o, _ := a.Close(t0.Add(day)); o.Relist.MinStartPrice != y(560_000) {
		t.Fatalf("relist %+v", o.Relist)
	}
}

func TestEqualSimultaneousBids(t *testing.T) {
	l := judicial()
	l.DepositExempt = map[string]bool{"A": true, "B": true}
	at := time.Hour
	a := play(t, l, []step{{at, bidOf("A", y(710_000)), true, ""}, {at, bidOf("B", y(710_000)), false, "JA-6"}})
	if st := a.State(); st.Leader != "A" {
		t.Fatalf("leader %q: the earlier of two equal simultaneous bids leads", st.Leader)
	}
	s := Listing{Pack: Yindeng, Format: Sealed, Kind: NPLPackage, StartPrice: y(100), NoticeAt: t0.Add(-8 * day), Start: t0, End: t0.Add(2 * time.Hour)}
	a = play(t, s, []step{{at, bidOf("B", y(150)), true, ""}, {at, bidOf("A", y(150)), true, ""}})
	if o := closeAt(t, a); o.Winner != "B" {
		t.Fatalf("sealed equal simultaneous bids: %+v", o)
	}
}

func TestMarketplaceExtensionIsThreeMinutes(t *testing.T) {
	l := Listing{Pack: Marketplace, Format: English, Kind: Movable, StartPrice: y(1000), Increment: y(10),
		NoticeAt: t0.Add(-day), Start: t0, End: t0.Add(2 * time.Hour)}
	a := play(t, l, []step{{2*time.Hour - 4*time.Minute, bidOf("A", y(1000)), true, "MP-6"}})
	if !a.End().Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("a bid 4 min before the end moved it: %v", a.End())
	}
	a.Apply(bidOf("B", y(1010)), t0.Add(2*time.Hour-2*time.Minute))
	if want := t0.Add(2*time.Hour + time.Minute); !a.End().Equal(want) {
		t.Fatalf("end %v, want %v", a.End(), want)
	}
}

func TestIdempotencyKey(t *testing.T) {
	a := play(t, judicial(), []step{{0, dep("A"), true, ""}, {0, dep("B"), true, ""}})
	k := func(b string, amt int64, key string) Event {
		return Event{Type: Bid, Bidder: b, Amount: y(amt), Key: key}
	}
	r1 := a.Apply(k("A", 700_000, "a-1"), t0.Add(time.Hour))
	r2 := a.Apply(k("A", 700_000, "a-1"), t0.Add(time.Hour+time.Second))
	if !r1.Accepted || !r2.Accepted || !r2.Repeat || r2.Of != 2 || r2.Reason != r1.Reason {
		t.Fatalf("retry: %+v then %+v", r1, r2)
	}
	// The retry with a different amount is still the same bid.
	if r := a.Apply(k("A", 900_000, "a-1"), t0.Add(2*time.Hour)); !r.Repeat {
		t.Fatalf("%+v", r)
	}
	if st := a.State(); len(st.Bids) != 1 || st.Price != y(700_000) {
		t.Fatalf("a retry placed a second bid: %+v", st.Bids)
	}
	// A rejected bid's retry stays rejected, even when it would now pass.
	r3 := a.Apply(k("B", 705_000, "b-1"), t0.Add(3*time.Hour))
	r4 := a.Apply(k("B", 705_000, "b-1"), t0.Add(3*time.Hour))
	if r3.Accepted || r4.Accepted || !r4.Repeat || r4.Reason != r3.Reason {
		t.Fatalf("rejected retry: %+v %+v", r3, r4)
	}
	// Keys belong to a bidder: B's "a-1" is a new bid.
	if r := a.Apply(k("B", 710_000, "a-1"), t0.Add(4*time.Hour)); !r.Accepted || r.Repeat {
		t.Fatalf("another bidder's key: %+v", r)
	}
}

func TestClockNeverGoesBackwards(t *testing.T) {
	a := play(t, judicial(), []step{{0, dep("A"), true, ""}, {2 * time.Hour, Event{Type: Tick}, true, ""}})
	if r := a.Apply(bidOf("A", y(700_000)), t0.Add(time.Hour)); r.Accepted || !strings.Contains(r.Reason, "before the previous") {
		t.Fatalf("%+v", r)
	}
}

func TestBadAmountsRejected(t *testing.T) {
	play(t, judicial(), []step{{0, dep("A"), true, ""},
		{time.Hour, bidOf("A", y(-700_000)), false, "JA-6"},
		{time.Hour, bidOf("A", money.Zero(money.CNY)), false, "JA-6"},
		{time.Hour, bidOf("A", money.New(1<<62, money.CNY)), false, "JA-6"},
		{time.Hour, Event{Type: Bid, Bidder: "A"}, false, "JA-6"},
		{time.Hour, bidOf("", y(700_000)), false, ""},
		{time.Hour, Event{Type: "frob", Bidder: "A"}, false, ""},
		{time.Hour, Event{Type: Quote, Bidder: "A", Amount: y(700_000)}, false, ""},
	})
}

func TestCloseBeforeEndRefused(t *testing.T) {
	a, _ := New(judicial())
	if _, err := a.Close(t0.Add(time.Hour)); err == nil {
		t.Fatal("closed an auction before its end")
	}
	if o := a.Outcome(); o.Status != Open {
		t.Fatalf("%+v", o)
	}
	if _, err := New(Listing{Pack: Judicial}); err == nil {
		t.Fatal("New accepted an empty listing")
	}
}

// TestOtherPackListingChecks covers the yindeng and marketplace packs' own numbers (docs/auction.md).
func TestOtherPackListingChecks(t *testing.T) {
	base := func(p Pack) Listing {
		return Listing{Pack: p, Format: English, Kind: NPLPackage, StartPrice: y(1_000_000), Increment: y(10_000),
			NoticeAt: t0.Add(-7 * day), Start: t0, End: t0.Add(time.Hour)}
	}
	for _, c := range []struct {
		name string
		p    Pack
		edit func(*Listing)
		want string
	}{
		{"yindeng ok without deposit or appraisal", Yindeng, func(l *Listing) {}, ""},
		{"yindeng notice 6 days", Yindeng, func(l *Listing) { l.NoticeAt = t0.Add(-6 * day) }, "YD-3"},
		{"yindeng deposit 25%", Yindeng, func(l *Listing) { l.Deposit = y(250_000) }, "YD-4"},
		{"yindeng 59 minutes", Yindeng, func(l *Listing) { l.End = t0.Add(59 * time.Minute) }, "YD-6"},
		{"yindeng multi-round without rounds", Yindeng, func(l *Listing) { l.Format = MultiRound }, "YD-6"},
		{"yindeng rounds out of order", Yindeng, func(l *Listing) {
			l.Format, l.Rounds = MultiRound, []time.Time{t0.Add(30 * time.Minute), t0.Add(20 * time.Minute)}
		}, "YD-6"},
		{"marketplace notice 1 day", Marketplace, func(l *Listing) { l.NoticeAt = t0.Add(-day) }, ""},
		{"marketplace notice 23 hours", Marketplace, func(l *Listing) { l.NoticeAt = t0.Add(-23 * time.Hour) }, "MP-3"},
		{"marketplace dutch without schedule", Marketplace, func(l *Listing) { l.Format = Dutch }, "MP-6"},
		{"marketplace reserve on sealed", Marketplace, func(l *Listing) { l.Format, l.Reserve = Sealed, y(2_000_000) }, "MP-1"},
		{"marketplace no increment", Marketplace, func(l *Listing) { l.Increment = money.Amount{} }, "MP-6"},
		{"unknown kind", Marketplace, func(l *Listing) { l.Kind = "ship" }, "MP-3"},
		{"unknown stage", Marketplace, func(l *Listing) { l.Stage = "third" }, "MP-9"},
	} {
		l := base(c.p)
		c.edit(&l)
		if got := rules(l.Check()); got != c.want {
			t.Errorf("%s: %q (%v), want %q", c.name, got, l.Check(), c.want)
		}
	}
	if vs := (Listing{}).Check(); len(vs) != 1 || !strings.Contains(vs[0].Message, "no rule pack") {
		t.Errorf("a listing without a pack: %v", vs)
	}
}

// TestBelowPriceReason: the concatenated reason of a bid below the current price is the text
// fmt writes for it (stored reasons are compared on replay, so it must never change).
func TestBelowPriceReason(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := money.New(rapid.Int64().Draw(t, "x"), money.CNY)
		cur := money.New(rapid.Int64().Draw(t, "cur"), money.CNY)
		if got, want := belowPrice(x, cur), fmt.Sprintf("bid %s is below the current price %s", x, cur); got != want {
			t.Fatalf("%q, want %q", got, want)
		}
	})
}

// TestJA9_RelistBoundPassesTheReauction: the re-listing bound a failure reports is the least
// price the re-auction's own JA-9 check accepts: a re-auction at the bound passes, one fen
// below it fails, one fen above passes, whether 80% of the failed start is a whole fen, falls
// below half a fen or above it.
func TestJA9_RelistBoundPassesTheReauction(t *testing.T) {
	for _, c := range []struct {
		start, min money.Amount
	}{
		{y(700_000), y(560_000)},           // exact
		{fen(7_000_003), fen(5_600_003)},   // 5600002.4 fen: up, not half up
		{fen(7_000_007), fen(5_600_006)},   // 5600005.6 fen
		{fen(21), fen(17)},                 // 16.8 fen
		{fen(70_000_006), fen(56_000_005)}, // 56000004.8 fen
	} {
		l := judicial()
		l.Kind, l.StartPrice, l.Appraisal, l.Deposit = Movable, c.start, c.start, PctCeil(c.start, 10)
		a, err := New(l)
		if err != nil {
			t.Fatalf("start %s: %v", c.start, err)
		}
		o, _ := a.Close(l.End)
		if o.Relist == nil || o.Relist.MinStartPrice != c.min {
			t.Fatalf("start %s: relist %+v, want min %s", c.start, o.Relist, c.min)
		}
		for _, d := range []struct {
			delta int64
			want  string
		}{{-1, "JA-9"}, {0, ""}, {1, ""}} {
			s := judicial()
			s.Kind, s.Stage = Movable, Second
			s.StartPrice = fen(c.min.Minor() + d.delta)
			s.Deposit = PctCeil(s.StartPrice, 10)
			s.Previous = &Previous{StartPrice: c.start, End: l.End}
			s.Start, s.End = o.Relist.LatestStart, o.Relist.LatestStart.Add(day)
			s.NoticeAt = s.Start.Add(-time.Duration(o.Relist.MinNoticeDays) * day)
			if got := rules(s.Check()); got != d.want {
				t.Errorf("start %s, re-auction at bound %+d fen (%s): %q, want %q (%v)", c.start, d.delta, s.StartPrice, got, d.want, s.Check())
			}
		}
	}
}

// TestBoundsInMessagesPass: the threshold a violation message names in brackets is itself on
// the passing side of the rule (rounded up for a minimum, down for a maximum), so a seller who
// copies it gets a valid listing.
func TestBoundsInMessagesPass(t *testing.T) {
	l := judicial()
	l.Appraisal, l.StartPrice, l.Increment, l.Deposit = fen(10_003), fen(7_002), fen(100), fen(701) // 70% is 70.021
	vs := l.Check()
	if len(vs) != 1 || vs[0].Rule != "JA-1" || !strings.Contains(vs[0].Message, "(70.03)") {
		t.Fatalf("start 70.02 of appraisal 100.03: %v", vs)
	}
	l.StartPrice = fen(7_003)
	if vs := l.Check(); len(vs) != 0 {
		t.Fatalf("start 70.03, the bound named: %v", vs)
	}
	l = judicial()
	l.StartPrice, l.Appraisal, l.Increment = fen(10_003), fen(10_003), fen(100) // 5% is 5.0015, 20% is 20.006
	for _, c := range []struct {
		dep  money.Amount
		want string
	}{{fen(500), "JA-4"}, {fen(501), ""}, {fen(2_000), ""}, {fen(2_001), "JA-4"}} {
		l.Deposit = c.dep
		vs := l.Check()
		if got := rules(vs); got != c.want {
			t.Errorf("deposit %s of start 100.03: %q, want %q", c.dep, got, c.want)
		}
		if c.want != "" && !strings.Contains(vs[0].Message, "(5.01-20.00)") {
			t.Errorf("deposit %s: message %q does not name the passing bounds 5.01-20.00", c.dep, vs[0].Message)
		}
	}
	s := judicial()
	s.Stage, s.StartPrice, s.Deposit = Second, fen(5_600_002), fen(560_001)
	s.NoticeAt = t0.Add(-15 * day)
	s.Previous = &Previous{StartPrice: fen(7_000_003), End: t0.Add(-10 * day)}
	if vs := s.Check(); len(vs) != 1 || vs[0].Rule != "JA-9" || !strings.Contains(vs[0].Message, "(56000.03)") {
		t.Fatalf("re-auction at 56000.02 after 70000.03: %v", vs)
	}
}

// TestJA6_BoundaryTable checks every edge JA-6 names, one fen or one nanosecond on each side:
// the bidding period (>= 24 hours), the first bid (start + k x increment, k >= 0), later bids
// (current + k x increment, k >= 1), the window (at or after the start, strictly before the
// end) and the extension (end - t <= E moves the end to t + E) under both extension lengths.
func TestJA6_BoundaryTable(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{day - time.Nanosecond, "JA-6"}, {day, ""}, {day + time.Second, ""}} {
		l := judicial()
		l.End = t0.Add(c.d)
		if got := rules(l.Check()); got != c.want {
			t.Errorf("bidding for %v: %q, want %q", c.d, got, c.want)
		}
	}
	exempt := func() Listing {
		l := judicial()
		l.DepositExempt = map[string]bool{"A": true, "B": true}
		return l
	}
	// The first bid: start 700,000.00, increment 10,000.00.
	for _, c := range []struct {
		amount money.Amount
		ok     bool
	}{
		{fen(69_999_999), false}, {y(700_000), true}, {fen(70_000_001), false},
		{fen(70_999_999), false}, {y(710_000), true}, {fen(71_000_001), false}, {y(750_000), true},
	} {
		a, _ := New(exempt())
		if r := a.Apply(bidOf("A", c.amount), t0); r.Accepted != c.ok || r.Rule != "JA-6" {
			t.Errorf("first bid %s: %+v, want accepted=%v under JA-6", c.amount, r, c.ok)
		}
	}
	// A later bid over A's 720,000.00.
	for _, c := range []struct {
		amount money.Amount
		ok     bool
	}{
		{fen(71_999_999), false}, {y(720_000), false}, {fen(72_000_001), false}, {fen(72_999_999), false},
		{y(730_000), true}, {fen(73_000_001), false}, {y(740_000), true},
	} {
		a := play(t, exempt(), []step{{0, bidOf("A", y(720_000)), true, "JA-6"}})
		if r := a.Apply(bidOf("B", c.amount), t0.Add(time.Hour)); r.Accepted != c.ok || r.Rule != "JA-6" {
			t.Errorf("bid %s over 720000.00: %+v, want accepted=%v under JA-6", c.amount, r, c.ok)
		}
	}
	// The window: at or after the start, strictly before the end.
	for _, c := range []struct {
		at time.Duration
		ok bool
	}{{-time.Nanosecond, false}, {0, true}, {day - time.Nanosecond, true}, {day, false}, {day + time.Nanosecond, false}} {
		a, _ := New(exempt())
		if r := a.Apply(bidOf("A", y(700_000)), t0.Add(c.at)); r.Accepted != c.ok || r.Rule != "JA-6" {
			t.Errorf("bid at start%+v: %+v, want accepted=%v under JA-6", c.at, r, c.ok)
		}
	}
	// The extension: E = 5 minutes (judicial, yindeng), 3 minutes (marketplace).
	for _, pe := range []struct {
		p Pack
		e time.Duration // E as auction-rules.md states it, not read from the pack
	}{{Judicial, 5 * time.Minute}, {Yindeng, 5 * time.Minute}, {Marketplace, 3 * time.Minute}} {
		p, e := pe.p, pe.e
		for _, c := range []struct {
			before time.Duration // end - t
			end    time.Duration // the end after the bid, from t0
		}{
			{e + time.Nanosecond, day}, // outside the window
			{e, day},                   // inside, but t + E is the end itself
			{e - time.Nanosecond, day + time.Nanosecond}, // t + E is later
			{time.Nanosecond, day - time.Nanosecond + e}, // the last instant
			{3 * time.Minute, day + e - 3*time.Minute},   // the worked example's end - 3 min
		} {
			l := exempt()
			if p.Name != Judicial.Name {
				l.Pack, l.Kind, l.Appraisal, l.Deposit = p, NPLPackage, money.Amount{}, money.Amount{}
				l.NoticeAt = t0.Add(-7 * day)
			}
			a, err := New(l)
			if err != nil {
				t.Fatal(err)
			}
			r := a.Apply(bidOf("A", y(700_000)), t0.Add(day-c.before))
			if !r.Accepted || !a.End().Equal(t0.Add(c.end)) {
				t.Errorf("%s: bid at end - %v: %+v, end %v, want %v", p.Name, c.before, r, a.End(), t0.Add(c.end))
			}
		}
	}
}

// TestJA8_DefaultAndPaymentAfterTheEnd: a default (or a payment) is judged only once bidding has
// ended: one nanosecond before the end it is refused, at the end (the auction closes at that
// instant, before the event is judged) it is taken; an extended end counts.
func TestJA8_DefaultAndPaymentAfterTheEnd(t *testing.T) {
	for _, typ := range []EventType{Default, Payment} {
		for _, c := range []struct {
			at time.Duration
			ok bool
		}{{day + 2*time.Minute - time.Nanosecond, false}, {day + 2*time.Minute, true}, {day + 3*time.Minute, true}} {
			a := play(t, judicial(), []step{{0, dep("A"), true, ""}, {day - 3*time.Minute, bidOf("A", y(700_000)), true, "JA-6"}})
			// The bid at end - 3 min moved the end to t0 + 1 day + 2 min.
			if r := a.Apply(Event{Type: typ, Bidder: "A"}, t0.Add(c.at)); r.Accepted != c.ok {
				t.Errorf("%s at t0+%v (end t0+%v): %+v, want accepted=%v", typ, c.at, day+2*time.Minute, r, c.ok)
			}
		}
	}
	// A defaulting winner without a deposit (exempt) forfeits nothing but is barred.
	l := judicial()
	l.DepositExempt = map[string]bool{"C": true}
	a := play(t, l, []step{{time.Hour, bidOf("C", y(700_000)), true, "JA-6"}, {day, Event{Type: Default}, true, "JA-8"}})
	if o := a.Outcome(); !o.Defaulted || !o.Forfeited.IsAbsent() || len(o.Barred) != 1 || o.Barred[0] != "C" {
		t.Fatalf("exempt winner's default: %+v", o)
	}
}

// TestJA9_BoundaryTable checks the re-auction's edges one unit on each side: start >= 80% of the
// failed start, notice >= 7 days (movables) / 15 days (otherwise), start within 30 days of the
// failure; and the sell-off's: a window of at most 60 days at exactly the second start, a first
// bid opening 24 hours of bidding.
func TestJA9_BoundaryTable(t *testing.T) {
	second := func(kind AssetKind, start money.Amount, notice, after time.Duration) Listing {
		l := judicial()
		l.Kind, l.Stage, l.StartPrice, l.Deposit = kind, Second, start, y(56_000)
		l.Previous = &Previous{StartPrice: y(700_000), End: t0.Add(-after)}
		l.NoticeAt = t0.Add(-notice)
		return l
	}
	for _, c := range []struct {
		name string
		l    Listing
		want string
	}{
		{"start 80% - 1 fen", second(RealEstate, fen(55_999_999), 15*day, 20*day), "JA-9"},
		{"start 80%", second(RealEstate, y(560_000), 15*day, 20*day), ""},
		{"start 80% + 1 fen", second(RealEstate, fen(56_000_001), 15*day, 20*day), ""},
		{"movable notice 7 days - 1 s", second(Movable, y(560_000), 7*day-time.Second, 20*day), "JA-9"},
		{"movable notice 7 days", second(Movable, y(560_000), 7*day, 20*day), ""},
		{"movable notice 8 days", second(Movable, y(560_000), 8*day, 20*day), ""},
		{"real estate notice 15 days - 1 s", second(RealEstate, y(560_000), 15*day-time.Second, 20*day), "JA-9"},
		{"property right notice 15 days", second(PropertyRight, y(560_000), 15*day, 20*day), ""},
		{"npl package notice 14 days", second(NPLPackage, y(560_000), 14*day, 20*day), "JA-9"},
		{"29 days after the failure", second(RealEstate, y(560_000), 15*day, 29*day), ""},
		{"30 days after the failure", second(RealEstate, y(560_000), 15*day, 30*day), ""},
		{"30 days + 1 s after the failure", second(RealEstate, y(560_000), 15*day, 30*day+time.Second), "JA-9"},
	} {
		if got := rules(c.l.Check()); got != c.want {
			t.Errorf("re-auction, %s: %q, want %q (%v)", c.name, got, c.want, c.l.Check())
		}
	}
	selloff := func(price money.Amount, window time.Duration) Listing {
		l := judicial()
		l.Stage, l.StartPrice, l.Deposit = SellOff, price, y(56_000)
		l.Previous = &Previous{StartPrice: y(560_000)}
		l.End = t0.Add(window)
		return l
	}
	for _, c := range []struct {
		name string
		l    Listing
		want string
	}{
		{"window 60 days", selloff(y(560_000), 60*day), ""},
		{"window 60 days + 1 s", selloff(y(560_000), 60*day+time.Second), "JA-9"},
		{"window 1 hour", selloff(y(560_000), time.Hour), ""},
		{"price 1 fen below the second start", selloff(fen(55_999_999), 60*day), "JA-9"},
		{"price 1 fen above the second start", selloff(fen(56_000_001), 60*day), "JA-9"},
	} {
		if got := rules(c.l.Check()); got != c.want {
			t.Errorf("sell-off, %s: %q, want %q (%v)", c.name, got, c.want, c.l.Check())
		}
	}
	// A first bid at t opens bidding until exactly t + 24 hours; a bid one nanosecond before
	// that end is accepted and extends it by 5 minutes, a bid at it is refused.
	for _, c := range []struct {
		at  time.Duration // after the first bid
		ok  bool
		end time.Duration // the end after the bid, from the first bid
	}{{day - time.Nanosecond, true, day - time.Nanosecond + 5*time.Minute}, {day, false, day}} {
		l := selloff(y(560_000), 60*day)
		l.DepositExempt = map[string]bool{"A": true, "B": true}
		first := 59*day + 23*time.Hour // an hour before the window closes
		a := play(t, l, []step{{first, bidOf("A", y(560_000)), true, "JA-6"}})
		if want := t0.Add(first + day); !a.End().Equal(want) {
			t.Fatalf("sell-off end after the first bid %v, want %v", a.End(), want)
		}
		r := a.Apply(bidOf("B", y(570_000)), t0.Add(first+c.at))
		if r.Accepted != c.ok || !a.Outcome().End.Equal(t0.Add(first+c.end)) {
			t.Errorf("sell-off bid at first + %v: %+v, end %v, want accepted=%v end %v", c.at, r, a.Outcome().End, c.ok, t0.Add(first+c.end))
		}
	}
}
