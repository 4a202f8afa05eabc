// Package auction is Reclaim's auction engine: the rules that decide whether a bid is accepted,
// when an auction ends and who wins, for the marketplace's four formats (English, sealed bid,
// Dutch, multi-round 银登 style) under three rule packs (judicial, yindeng, marketplace). See
// ../shared/design/auction-rules.md for the rules and docs/auction.md for this package.
//
// The engine is pure: one Auction is a state machine driven by events (deposit, bid, quote,
// accept, payment, default, tick) and by the receipt time its caller passes in; it never reads a
// clock, a database or the network. The caller (the marketplace store) serialises the events of
// one auction, stores each Record that Apply appended, and rebuilds the live state after a restart
// with Restore, which replays the stored history through the same code.
package auction

import (
	"fmt"
	"sort"
	"time"

	"reclaim"
	"reclaim/money"
)

// EventType is the kind of an event.
type EventType string

// Event types. Deposit, Bid, Payment and Default are the auction file's; Quote (a sealed quote
// in a round of a multi-round auction), Accept (taking a Dutch auction's current price) and Tick
// (the clock advanced, nothing else) serve the other formats and the live clock.
const (
	Deposit EventType = "deposit"
	Bid     EventType = "bid"
	Quote   EventType = "quote"
	Accept  EventType = "accept"
	Payment EventType = "payment"
	Default EventType = "default"
	Tick    EventType = "tick"
)

// Event is one thing that happens to an auction. Amount is absent when the event carries none.
// Key is the client's idempotency key (optional): a second event of the same bidder with the same
// key is answered with the first one's Result and changes nothing.
type Event struct {
	Type   EventType    `json:"type"`
	Bidder string       `json:"bidder,omitempty"`
	Amount money.Amount `json:"amount"`
	Key    string       `json:"key,omitempty"`
}

// Result is the engine's answer to one event: accepted or rejected, the rule that decided (a
// pack code such as "JA-6"; empty where no rule of the pack applies) and a reason for a person.
// Repeat is set on the answer to an idempotent retry, Of then being the index in the history of
// the event first answered.
type Result struct {
	Accepted bool   `json:"accepted"`
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
	Repeat   bool   `json:"repeat,omitempty"`
	Of       int    `json:"of,omitempty"`
}

// Record is one event as applied: its receipt time, the event and the answer. History returns
// them in order; Restore rebuilds an Auction from them. Records round-trip through JSON (amounts
// as decimal strings, times in RFC 3339 with nanoseconds), which is how a store may keep them.
type Record struct {
	At     time.Time `json:"at"`
	Event  Event     `json:"event"`
	Result Result    `json:"result"`
}

// Status is where an auction stands.
type Status string

// Statuses: bidding may still run (Open), the asset is sold, or the auction failed.
const (
	Open   Status = "open"
	Sold   Status = "sold"
	Failed Status = "failed"
)

// Relist is the bounds of the re-auction after a failure (JA-9): the lowest starting price (the
// least amount in fen at or above the percentage of this start, so that a re-auction listed at
// exactly MinStartPrice passes Listing.Check), the least notice in days, and the latest start.
type Relist struct {
	MinStartPrice money.Amount `json:"min_start_price"`
	MinNoticeDays int          `json:"min_notice_days"`
	LatestStart   time.Time    `json:"-"`
}

// SellOffTerms are the terms of the sell-off (变卖) that may follow a second failure (JA-9): a
// window of WindowDays at Price, a first bid opening BiddingHours of bidding with the usual
// extension.
type SellOffTerms struct {
	Price        money.Amount `json:"price"`
	WindowDays   int          `json:"window_days"`
	BiddingHours int          `json:"bidding_hours"`
}

// Outcome is the result of an auction. End is the instant it closed (the final end after
// extensions, or the acceptance of a Dutch auction); Winner and Price are set when Sold, Relist
// (and after a second failure SellOff) when Failed. Paid, Defaulted, Forfeited and Barred record
// what happened after the close (JA-8).
type Outcome struct {
	Status    Status
	End       time.Time
	Winner    string
	Price     money.Amount
	Reason    string
	Relist    *Relist
	SellOff   *SellOffTerms
	Paid      bool
	Defaulted bool
	Forfeited money.Amount
	Barred    []string
}

// bid is an accepted bid, quote or acceptance.
type bid struct {
	Bidder string
	Amount money.Amount
	At     time.Time
	Seq    int // index in the history
	Round  int // for quotes: the round (0-based); -1 otherwise
}

type keyID struct{ bidder, key string }

// Auction is the live state of one auction. It is not safe for concurrent use: the caller
// serialises the events of one auction (the marketplace does, per auction).
type Auction struct {
	l         Listing
	now       time.Time
	end       time.Time
	closed    bool
	hist      []Record
	keys      map[keyID]int
	deposited map[string]bool
	barred    map[string]bool
	codes     map[string]string
	lead      *bid // the standing best (ascending phases, published quotes, Dutch acceptance)
	bids      []bid
	sealedBy  map[string]bool
	round     int // multi-round: index of the running round; len(Rounds) in the final phase
	published []bid
	quoted    map[string]bool // multi-round: bidders who quoted in any round
	opened    bool            // sell-off: a first bid opened the bidding period
	out       Outcome
}

// New returns an auction for a listing that passes Check, or an EINVALID error whose Fields name
// every failing rule.
func New(l Listing) (*Auction, error) {
	if vs := l.Check(); len(vs) > 0 {
		e := reclaim.Errorf(reclaim.EINVALID, "the listing breaks %d rule(s) of the %s pack", len(vs), l.Pack.Name)
		e.Fields = map[string]string{}
		for _, v := range vs {
			if old, ok := e.Fields[v.Rule]; ok {
				e.Fields[v.Rule] = old + "; " + v.Message
			} else {
				e.Fields[v.Rule] = v.Message
			}
		}
		return nil, e
	}
	return newAuction(l), nil
}

func newAuction(l Listing) *Auction {
	if l.Stage == "" {
		l.Stage = First
	}
	a := &Auction{l: l, end: l.End, keys: map[keyID]int{}, deposited: map[string]bool{}, barred: map[string]bool{},
		codes: map[string]string{}, sealedBy: map[string]bool{}, quoted: map[string]bool{}}
	for b, ok := range l.Barred {
		if ok {
			a.barred[b] = true
		}
	}
	a.out.Status = Open
	return a
}

// Listing returns the auction's listing.
func (a *Auction) Listing() Listing { return a.l }

// End returns the current end of bidding (after extensions; for an open sell-off, the end of the
// window until a first bid opens the bidding period).
func (a *Auction) End() time.Time { return a.end }

// History returns the records applied so far, in order. The slice is the caller's.
func (a *Auction) History() []Record { return append([]Record(nil), a.hist...) }

// Outcome returns the outcome so far (Status Open while bidding may run).
func (a *Auction) Outcome() Outcome {
	o := a.out
	o.Barred = append([]string(nil), o.Barred...)
	if o.Status == Open {
		o.End = a.end
	}
	return o
}

// Apply applies one event received at now (server receipt time, which must not go backwards)
// and returns the answer. A rejected event changes nothing but the clock; every event, accepted,
// rejected or repeated, is appended to the history (an accepted Dutch acceptance with the price
// it took as its amount). Reaching the end (now at or after it) closes
// the auction before the event is judged, so a bid at the end is rejected.
func (a *Auction) Apply(ev Event, now time.Time) Result {
	r := a.apply(ev, now)
	if ev.Type == Accept && r.Accepted && !r.Repeat && ev.Amount.IsAbsent() && a.lead != nil {
		ev.Amount = a.lead.Amount // the record names the price the acceptance took
	}
	a.hist = append(a.hist, Record{At: now, Event: ev, Result: r})
	return r
}

func (a *Auction) apply(ev Event, now time.Time) Result {
	p := a.l.Pack
	if ev.Key != "" {
		if i, ok := a.keys[keyID{ev.Bidder, ev.Key}]; ok {
			if now.After(a.now) {
				a.advance(now)
			}
			r := a.hist[i].Result
			r.Repeat, r.Of = true, i
			return r
		}
		a.keys[keyID{ev.Bidder, ev.Key}] = len(a.hist)
	}
	if !a.now.IsZero() && now.Before(a.now) {
		return reject("", "receipt time %s is before the previous event's %s", stamp(now), stamp(a.now))
	}
	a.advance(now)
	switch ev.Type {
	case Tick:
		return accept("", "clock at %s", stamp(now))
	case Deposit:
		return a.deposit(ev)
	case Bid, Quote, Accept:
		if r, ok := a.admit(ev, now); !ok {
			return r
		}
		switch {
		case ev.Type == Accept && a.l.Format == Dutch:
			return a.acceptDutch(ev, now)
		case ev.Type == Quote && a.l.Format == MultiRound:
			return a.quote(ev, now)
		case ev.Type == Bid && a.l.Format == Sealed:
			return a.sealedBid(ev, now)
		case ev.Type == Bid && a.l.Format == English:
			return a.ascending(ev, now)
		case ev.Type == Bid && a.l.Format == MultiRound:
			if a.round < len(a.l.Rounds) {
				return reject(p.Code(RuleBidding), "sealed round %d runs until %s: send a quote", a.round+1, stamp(a.l.Rounds[a.round]))
			}
			if len(a.quoted) > 0 && !a.quoted[ev.Bidder] {
				return reject(p.Code(RuleBidding), "only bidders who quoted in the sealed rounds bid in the final phase")
			}
			return a.ascending(ev, now)
		}
		return reject("", "the %s format takes no %s events", a.l.Format, ev.Type)
	case Payment:
		return a.payment(ev)
	case Default:
		return a.defaulted(ev)
	}
	return reject("", "unknown event type %q", ev.Type)
}

// Close closes the auction at now, which must be at or after the end, and returns the outcome.
// Closing is recorded in the history as a tick at now (or at the last event's time when that is
// later), so that Restore rebuilds a closed auction closed. Closing an auction that has closed
// returns the same outcome and records nothing.
func (a *Auction) Close(now time.Time) (Outcome, error) {
	if !a.closed {
		if now.Before(a.end) {
			return a.Outcome(), reclaim.Errorf(reclaim.ECONFLICT, "bidding runs until %s", stamp(a.end))
		}
		if now.Before(a.now) {
			now = a.now
		}
		a.Apply(Event{Type: Tick}, now)
	}
	return a.Outcome(), nil
}

// advance moves the clock to now: closes the sealed rounds that ended (publishing each round's
// best) and closes the auction when now reaches the end.
func (a *Auction) advance(now time.Time) {
	if now.After(a.now) {
		a.now = now
	}
	if a.closed {
		return
	}
	for a.l.Format == MultiRound && a.round < len(a.l.Rounds) && !now.Before(a.l.Rounds[a.round]) {
		var best *bid
		for i := range a.bids {
			if b := &a.bids[i]; b.Round == a.round && (best == nil || a.beats(*b, *best)) {
				best = b
			}
		}
		if best != nil {
			a.published = append(a.published, *best)
			if a.lead == nil || a.beats(*best, *a.lead) {
				c := *best
				a.lead = &c
			}
		} else {
			a.published = append(a.published, bid{Round: a.round})
		}
		a.round++
	}
	if !now.Before(a.end) {
		a.close(a.end)
	}
}

// close decides the outcome at the end.
func (a *Auction) close(at time.Time) {
	a.closed = true
	a.out.End = at
	win := a.lead
	if a.l.Format == Sealed {
		for i := range a.bids {
			if win == nil || a.beats(a.bids[i], *win) {
				win = &a.bids[i]
			}
		}
	}
	p := a.l.Pack
	switch {
	case win != nil && !a.l.Reserve.IsAbsent() && win.Amount.Cmp(a.l.Reserve) < 0:
		a.fail(fmt.Sprintf("the best bid %s is below the reserve", win.Amount))
	case win != nil:
		a.out.Status, a.out.Winner, a.out.Price = Sold, win.Bidder, win.Amount
		a.out.Reason = fmt.Sprintf("%s: sold to the best bid", p.Code(RuleSale))
	default:
		a.fail("no bid")
	}
}

func (a *Auction) fail(why string) {
	p := a.l.Pack
	a.out.Status = Failed
	a.out.Reason = fmt.Sprintf("%s: failed (%s)", p.Code(RuleFailed), why)
	a.out.Relist = &Relist{
		MinStartPrice: PctCeil(a.l.StartPrice, p.RelistPct), // the least price JA-9's check accepts
		MinNoticeDays: p.noticeDays(a.l.Kind, true),
		LatestStart:   a.out.End.Add(days(p.RelistWithinDays)),
	}
	if a.l.Stage == Second {
		a.out.SellOff = &SellOffTerms{Price: a.l.StartPrice, WindowDays: int(p.SellOffWindow / day),
			BiddingHours: int(p.SellOffBidding / time.Hour)}
	}
}

// admit runs the checks every bid, quote and acceptance passes first: a bidder, the bidding
// window, not barred (JA-8), a deposit or an exemption (JA-4), a sane amount.
func (a *Auction) admit(ev Event, now time.Time) (Result, bool) {
	p := a.l.Pack
	switch {
	case ev.Bidder == "":
		return reject("", "a %s needs a bidder", ev.Type), false
	case now.Before(a.l.Start):
		return reject(p.Code(RuleBidding), "received %s, before the start %s", stamp(now), stamp(a.l.Start)), false
	case a.closed:
		return reject(p.Code(RuleBidding), "received %s, not strictly before the end %s", stamp(now), stamp(a.out.End)), false
	case a.barred[ev.Bidder]:
		return reject(p.Code(RuleDefault), "bidder %s is barred (defaulted on an earlier sale)", ev.Bidder), false
	case !a.deposited[ev.Bidder] && !a.l.DepositExempt[ev.Bidder] && a.l.Deposit.Sign() > 0:
		return reject(p.Code(RuleDeposit), "bidder %s has no deposit before this %s", ev.Bidder, ev.Type), false
	case ev.Type == Accept && ev.Amount.IsAbsent():
		return Result{}, true // an acceptance takes the scheduled price
	case ev.Amount.IsAbsent():
		return reject(p.Code(RuleBidding), "a %s needs an amount", ev.Type), false
	case ev.Amount.Sign() <= 0:
		return reject(p.Code(RuleBidding), "amount %s is not positive", ev.Amount), false
	case ev.Amount.Cmp(MaxAmount) > 0:
		return reject(p.Code(RuleBidding), "amount %s is absurd (above %s)", ev.Amount, MaxAmount), false
	}
	return Result{}, true
}

// holder returns a bidder's pre-emption rank and whether it holds the right.
func (a *Auction) holder(b string) (int, bool) {
	r, ok := a.l.Preemption[b]
	return r, ok
}

// beats reports whether x ranks before y: the higher amount; at the same amount a pre-emption
// holder before a non-holder, between holders the higher rank (1 first), then the earlier event
// (JA-7; ties without holders go to the earlier bid).
func (a *Auction) beats(x, y bid) bool {
	if c := x.Amount.Cmp(y.Amount); c != 0 {
		return c > 0
	}
	rx, hx := a.holder(x.Bidder)
	ry, hy := a.holder(y.Bidder)
	switch {
	case hx && !hy:
		return true
	case hy && !hx:
		return false
	case hx && hy && rx != ry:
		return rx < ry
	}
	return x.Seq < y.Seq
}

// onGrid reports whether x = base + k*inc for some k >= 0.
func onGrid(x, base, inc money.Amount) bool {
	d := x.Minor() - base.Minor()
	return d >= 0 && (inc.Minor() <= 0 || d%inc.Minor() == 0)
}

func (a *Auction) newBid(ev Event, now time.Time, amount money.Amount, round int) bid {
	return bid{Bidder: ev.Bidder, Amount: amount, At: now, Seq: len(a.hist), Round: round}
}

// ascending judges a bid of an English auction, a sell-off or a multi-round final phase.
func (a *Auction) ascending(ev Event, now time.Time) Result {
	p := a.l.Pack
	x, inc := ev.Amount, a.l.Increment
	nb := a.newBid(ev, now, x, -1)
	rule, why := p.Code(RuleBidding), ""
	if a.lead == nil {
		switch {
		case x.Cmp(a.l.StartPrice) < 0:
			return reject(rule, "bid %s is below the start price %s", x, a.l.StartPrice)
		case !onGrid(x, a.l.StartPrice, inc):
			return reject(rule, "bid %s is not the start price %s plus a multiple of the increment %s", x, a.l.StartPrice, inc)
		}
		why = fmt.Sprintf("%s leads at %s", ev.Bidder, x)
	} else {
		cur := a.lead.Amount
		switch c := x.Cmp(cur); {
		case c < 0:
			// Most refusals under load (racing bidders on the same price): the reason is
			// concatenated, not formatted (the same text: TestBelowPriceReason).
			return Result{Rule: rule, Reason: belowPrice(x, cur)}
		case c == 0:
			rank, ok := a.holder(ev.Bidder)
			if !ok {
				return reject(rule, "bid %s must exceed the current price %s by a multiple of the increment %s", x, cur, inc)
			}
			if ev.Bidder == a.lead.Bidder || !a.beats(nb, *a.lead) {
				return reject(p.Code(RulePreemption), "pre-emption holder %s (rank %d) at the current price %s does not beat the leader (higher rank, then the earlier bid)", ev.Bidder, rank, cur)
			}
			rule = p.Code(RulePreemption)
			why = fmt.Sprintf("pre-emption holder %s (rank %d) leads at the current price %s", ev.Bidder, rank, x)
		case !onGrid(x, cur, inc):
			return reject(rule, "bid %s is not the current price %s plus a multiple of the increment %s", x, cur, inc)
		default:
			why = fmt.Sprintf("%s leads at %s", ev.Bidder, x)
		}
	}
	a.lead = &nb
	a.bids = append(a.bids, nb)
	a.code(ev.Bidder)
	switch {
	case a.l.Stage == SellOff && !a.opened:
		a.opened = true
		a.end = now.Add(p.SellOffBidding)
		why += fmt.Sprintf("; the first bid opens bidding until %s", stamp(a.end))
	case a.end.Sub(now) <= p.Extension:
		if ne := now.Add(p.Extension); ne.After(a.end) {
			a.end = ne
			why += fmt.Sprintf("; end extended to %s", stamp(a.end))
		}
	}
	return accept(rule, "%s", why)
}

// sealedBid records one sealed bid per bidder, at or above the start (on the increment grid when
// the listing has one).
func (a *Auction) sealedBid(ev Event, now time.Time) Result {
	p := a.l.Pack
	rule := p.Code(RuleBidding)
	switch {
	case a.sealedBy[ev.Bidder]:
		return reject(rule, "bidder %s has already sent its sealed bid", ev.Bidder)
	case ev.Amount.Cmp(a.l.StartPrice) < 0:
		return reject(rule, "bid %s is below the start price %s", ev.Amount, a.l.StartPrice)
	case !onGrid(ev.Amount, a.l.StartPrice, a.l.Increment):
		return reject(rule, "bid %s is not the start price %s plus a multiple of the increment %s", ev.Amount, a.l.StartPrice, a.l.Increment)
	}
	a.sealedBy[ev.Bidder] = true
	a.bids = append(a.bids, a.newBid(ev, now, ev.Amount, -1))
	a.code(ev.Bidder)
	return accept(rule, "sealed bid recorded; hidden until %s", stamp(a.end))
}

// quote records one sealed quote per bidder and round, at or above the start and the best
// published so far.
func (a *Auction) quote(ev Event, now time.Time) Result {
	p := a.l.Pack
	rule := p.Code(RuleBidding)
	if a.round >= len(a.l.Rounds) {
		return reject(rule, "the sealed rounds are over: the final phase takes bids")
	}
	floor := a.l.StartPrice
	if a.lead != nil {
		floor = a.lead.Amount
	}
	for _, b := range a.bids {
		if b.Round == a.round && b.Bidder == ev.Bidder {
			return reject(rule, "bidder %s has already quoted in round %d", ev.Bidder, a.round+1)
		}
	}
	if ev.Amount.Cmp(floor) < 0 {
		return reject(rule, "quote %s is below %s (the start price or the best published quote)", ev.Amount, floor)
	}
	a.bids = append(a.bids, a.newBid(ev, now, ev.Amount, a.round))
	a.quoted[ev.Bidder] = true
	a.code(ev.Bidder)
	return accept(rule, "quote recorded in round %d; sealed until %s", a.round+1, stamp(a.l.Rounds[a.round]))
}

// DutchPrice returns the price of a Dutch auction at t: the start price less one step for each
// full interval since the start, never below the floor (nor below one step).
func (l Listing) DutchPrice(t time.Time) money.Amount {
	d := l.Dutch
	if d == nil || d.Every <= 0 || t.Before(l.Start) {
		return l.StartPrice
	}
	n := int64(t.Sub(l.Start) / d.Every)
	floor := d.Floor.Minor()
	if floor <= 0 {
		floor = d.Step.Minor()
	}
	p := l.StartPrice.Minor()
	if d.Step.Minor() > 0 && n > (p-floor)/d.Step.Minor() {
		return money.New(floor, money.CNY)
	}
	p -= n * d.Step.Minor()
	if p < floor {
		p = floor
	}
	return money.New(p, money.CNY)
}

// DutchNextStep returns the instant of the next price step after t of a Dutch auction, and false
// when the price will not fall again (no schedule, or the floor reached at t).
func (l Listing) DutchNextStep(t time.Time) (time.Time, bool) {
	d := l.Dutch
	if d == nil || d.Every <= 0 || d.Step.Minor() <= 0 {
		return time.Time{}, false
	}
	if t.Before(l.Start) {
		return l.Start.Add(d.Every), l.DutchPrice(l.Start.Add(d.Every)) != l.StartPrice
	}
	n := int64(t.Sub(l.Start)/d.Every) + 1
	next := l.Start.Add(time.Duration(n) * d.Every)
	if l.DutchPrice(next) == l.DutchPrice(t) {
		return time.Time{}, false
	}
	return next, true
}

// acceptDutch gives a Dutch auction to the first acceptance, at the scheduled price.
func (a *Auction) acceptDutch(ev Event, now time.Time) Result {
	p := a.l.Pack
	price := a.l.DutchPrice(now)
	if !ev.Amount.IsAbsent() && ev.Amount.Cmp(price) != 0 {
		return reject(p.Code(RuleBidding), "the price at %s is %s, not %s", stamp(now), price, ev.Amount)
	}
	nb := a.newBid(ev, now, price, -1)
	a.lead = &nb
	a.bids = append(a.bids, nb)
	a.code(ev.Bidder)
	a.close(now)
	return accept(p.Code(RuleSale), "%s accepts at %s and wins", ev.Bidder, price)
}

// deposit records a bidder's deposit (JA-4).
func (a *Auction) deposit(ev Event) Result {
	p := a.l.Pack
	rule := p.Code(RuleDeposit)
	switch {
	case ev.Bidder == "":
		return reject("", "a deposit needs a bidder")
	case a.closed:
		return reject(rule, "bidding has ended")
	case a.barred[ev.Bidder]:
		return reject(p.Code(RuleDefault), "bidder %s is barred (defaulted on an earlier sale)", ev.Bidder)
	case a.deposited[ev.Bidder]:
		return reject(rule, "bidder %s has already paid the deposit", ev.Bidder)
	case !ev.Amount.IsAbsent() && ev.Amount.Sign() <= 0:
		return reject(rule, "deposit %s is not positive", ev.Amount)
	case !ev.Amount.IsAbsent() && ev.Amount.Cmp(a.l.Deposit) < 0:
		return reject(rule, "deposit %s is below the required %s", ev.Amount, a.l.Deposit)
	}
	a.deposited[ev.Bidder] = true
	a.code(ev.Bidder)
	return accept(rule, "deposit of %s recorded and frozen", ev.Bidder)
}

// payment records the winner's payment.
func (a *Auction) payment(ev Event) Result {
	switch {
	case !a.closed:
		return reject("", "bidding has not ended")
	case a.out.Status != Sold:
		return reject("", "the auction did not sell")
	case ev.Bidder != "" && ev.Bidder != a.out.Winner:
		return reject("", "%s is not the winner", ev.Bidder)
	case a.out.Defaulted:
		return reject(a.l.Pack.Code(RuleDefault), "the winner has defaulted")
	case a.out.Paid:
		return reject("", "the winner has already paid")
	case !ev.Amount.IsAbsent() && ev.Amount.Cmp(a.out.Price) != 0:
		return reject("", "payment %s differs from the price %s", ev.Amount, a.out.Price)
	}
	a.out.Paid = true
	return accept("", "%s paid %s", a.out.Winner, a.out.Price)
}

// defaulted records that the winner did not pay: the deposit is forfeited and the winner barred
// from the re-auction (JA-8).
func (a *Auction) defaulted(ev Event) Result {
	rule := a.l.Pack.Code(RuleDefault)
	switch {
	case !a.closed:
		return reject(rule, "bidding has not ended")
	case a.out.Status != Sold:
		return reject(rule, "the auction did not sell")
	case ev.Bidder != "" && ev.Bidder != a.out.Winner:
		return reject(rule, "%s is not the winner", ev.Bidder)
	case a.out.Paid:
		return reject(rule, "the winner has paid")
	case a.out.Defaulted:
		return reject(rule, "the winner has already defaulted")
	}
	w := a.out.Winner
	a.out.Defaulted = true
	a.barred[w] = true
	a.out.Barred = append(a.out.Barred, w)
	if a.deposited[w] && a.l.Deposit.Sign() > 0 {
		a.out.Forfeited = a.l.Deposit
		return accept(rule, "%s defaulted: deposit %s forfeited, barred from the re-auction", w, a.l.Deposit)
	}
	return accept(rule, "%s defaulted (no deposit held): barred from the re-auction", w)
}

// code gives a bidder its bidder code (JA-5) the first time it deposits or bids.
func (a *Auction) code(b string) {
	if _, ok := a.codes[b]; !ok {
		a.codes[b] = fmt.Sprintf("B%03d", len(a.codes)+1)
	}
}

func accept(rule, format string, args ...any) Result {
	return Result{Accepted: true, Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// belowPrice is the reason of a bid below the current price: "bid %s is below the current
// price %s" without fmt.
func belowPrice(x, cur money.Amount) string {
	return "bid " + x.String() + " is below the current price " + cur.String()
}

func reject(rule, format string, args ...any) Result {
	return Result{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// stamp formats an instant as RFC 3339 (with fractional seconds when there are any).
func stamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

// Restore rebuilds an auction from its listing and stored history by applying every recorded
// event again at its recorded time. It fails (EINVALID) when the listing is invalid or when a
// replayed answer differs from the recorded one (the history does not belong to these rules).
func Restore(l Listing, hist []Record) (*Auction, error) {
	a, err := New(l)
	if err != nil {
		return nil, err
	}
	for i, r := range hist {
		got := a.Apply(r.Event, r.At)
		if got != r.Result {
			return nil, reclaim.Errorf(reclaim.EINVALID, "history[%d]: replay answers %+v, the record says %+v", i, got, r.Result)
		}
	}
	return a, nil
}

// State is a comparable summary of an auction's state: two auctions in the same State decide
// every future event the same way. The property tests compare a live auction's State with the
// State of its Restore.
type State struct {
	Now       time.Time
	End       time.Time
	Closed    bool
	Round     int
	Leader    string
	Price     money.Amount
	Bids      []BidView
	Deposited []string
	Barred    []string
	Codes     map[string]string
	Keys      int
	Events    int
	Outcome   Outcome
}

// BidView is one accepted bid as shown: the bidder (a name, or a code while bidding runs), the
// amount and the receipt time.
type BidView struct {
	Bidder string       `json:"bidder"`
	Amount money.Amount `json:"amount"`
	At     time.Time    `json:"at"`
}

// State returns the auction's state summary.
func (a *Auction) State() State {
	s := State{Now: a.now, End: a.end, Closed: a.closed, Round: a.round, Keys: len(a.keys), Events: len(a.hist),
		Outcome: a.Outcome(), Codes: map[string]string{}}
	if a.lead != nil {
		s.Leader, s.Price = a.lead.Bidder, a.lead.Amount
	}
	for _, b := range a.bids {
		s.Bids = append(s.Bids, BidView{Bidder: b.Bidder, Amount: b.Amount, At: b.At})
	}
	s.Deposited = sortedKeys(a.deposited)
	s.Barred = sortedKeys(a.barred)
	for k, v := range a.codes {
		s.Codes[k] = v
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
