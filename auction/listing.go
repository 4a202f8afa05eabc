package auction

import (
	"fmt"
	"sort"
	"time"

	"reclaim/money"
)

// Format is an auction format.
type Format string

// The four formats of the marketplace.
const (
	// English is ascending bidding in fixed increments with an anti-sniping extension.
	English Format = "english"
	// Sealed is a first-price sealed bid: bids are hidden until the close, the highest wins and
	// ties go to the earlier bid (or a pre-emption holder).
	Sealed Format = "sealed"
	// Dutch is descending: the price steps down on a schedule and the first acceptance wins.
	Dutch Format = "dutch"
	// MultiRound is 银登 style: sealed rounds of quotes, each round's best published, then a
	// final ascending phase with extensions.
	MultiRound Format = "multi_round"
)

// AssetKind is what is sold; it sets the notice periods.
type AssetKind string

// Asset kinds of an auction file.
const (
	Movable       AssetKind = "movable"
	RealEstate    AssetKind = "real_estate"
	PropertyRight AssetKind = "property_right"
	NPLPackage    AssetKind = "npl_package"
)

// Valid reports whether k is one of the four kinds.
func (k AssetKind) Valid() bool {
	switch k {
	case Movable, RealEstate, PropertyRight, NPLPackage:
		return true
	}
	return false
}

// Stage says which attempt to sell an asset a listing is.
type Stage string

// Stages: a first auction, the re-auction after a failure, and the sell-off (变卖) after a
// second failure.
const (
	First   Stage = "first"
	Second  Stage = "second"
	SellOff Stage = "selloff"
)

// Previous describes the failed auction a re-auction or sell-off follows (optional; when given,
// the JA-9 bounds are checked against it).
type Previous struct {
	StartPrice money.Amount // the failed auction's starting price
	End        time.Time    // when it failed
}

// DutchSchedule is the price schedule of a Dutch auction: from the starting price the price
// falls by Step every Every, never below Floor.
type DutchSchedule struct {
	Step  money.Amount
	Every time.Duration
	Floor money.Amount
}

// Listing is an auction as its seller lists it. Times are instants (server time); amounts are
// CNY.
type Listing struct {
	Pack      Pack
	Format    Format
	Kind      AssetKind
	Appraisal money.Amount // absent when the pack needs none
	// StartPrice is the starting price (the reserve, under the judicial pack).
	StartPrice money.Amount
	Increment  money.Amount
	Deposit    money.Amount // absent or zero: no deposit asked
	// Reserve is an optional reserve price (English); ReservePublic shows it to bidders.
	Reserve       money.Amount
	ReservePublic bool
	NoticeAt      time.Time
	Start, End    time.Time
	// Preemption maps holders of pre-emption rights to their rank (1 is the highest).
	Preemption map[string]int
	// DepositExempt lists bidders who need no deposit (a creditor-applicant, JA-4).
	DepositExempt map[string]bool
	// Barred lists bidders who may not bid (defaulters of an earlier attempt, JA-8).
	Barred   map[string]bool
	Stage    Stage     // "" counts as First
	Previous *Previous // the failed auction before a Second or SellOff stage
	Dutch    *DutchSchedule
	// Rounds are the end times of the sealed rounds of a multi-round auction; the first round
	// runs from Start, the final ascending phase from the last round's end to End.
	Rounds []time.Time
}

// Violation is a listing rule that fails.
type Violation struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// MaxAmount is the largest amount the engine accepts anywhere (one trillion yuan): larger
// amounts are absurd and refused, and every product the rules form stays within int64.
var MaxAmount = money.New(100_000_000_000_000, money.CNY)

// atLeastPct reports whether a*100 >= b*p (a is at least p% of b), exactly.
func atLeastPct(a, b money.Amount, p int64) bool { return a.Minor()*100 >= b.Minor()*p }

// atMostPct reports whether a is at most p% of b, exactly.
func atMostPct(a, b money.Amount, p int64) bool { return a.Minor()*100 <= b.Minor()*p }

// PctCeil returns the least amount in fen that is at least p% of a (a >= 0): the lowest price
// an "at least p%" rule accepts. It rounds up, not half up, because the rules compare exactly
// (atLeastPct): 80% of 70000.03 is 56000.024, and 56000.02 would be refused by the very rule
// that named it as the bound.
func PctCeil(a money.Amount, p int64) money.Amount {
	return money.New((a.Minor()*p+99)/100, money.CNY)
}

// PctFloor returns the greatest amount in fen that is at most p% of a (a >= 0): the highest
// amount an "at most p%" rule accepts (rounded down for the same reason as PctCeil).
func PctFloor(a money.Amount, p int64) money.Amount {
	return money.New(a.Minor()*p/100, money.CNY)
}

func inRange(a money.Amount) bool { return a.Sign() > 0 && a.Cmp(MaxAmount) <= 0 }

func days(d int) time.Duration { return time.Duration(d) * day }

// Check returns every rule the listing breaks under its pack, in rule order; none means the
// auction may run. The judicial pack checks JA-1 (start >= 70% of the appraisal, the reserve is the
// start), JA-3 (notice), JA-4 (deposit 5%-20% of the start), JA-6 (English only, positive increment,
// at least 24 hours) and, for a re-auction or sell-off, JA-9; the other packs check the same rules
// with their own numbers (see Pack).
func (l Listing) Check() []Violation {
	p := l.Pack
	if p.Prefix == "" {
		return []Violation{{Rule: "", Message: "the listing names no rule pack (judicial, yindeng, marketplace)"}}
	}
	var vs []Violation
	add := func(rule int, format string, args ...any) {
		vs = append(vs, Violation{Rule: p.Code(rule), Message: fmt.Sprintf(format, args...)})
	}
	if !l.Kind.Valid() {
		add(RuleNotice, "asset kind %q is not movable, real_estate, property_right or npl_package", l.Kind)
	}
	stage := l.Stage
	if stage == "" {
		stage = First
	}
	// Rule 1: the starting price.
	switch {
	case !inRange(l.StartPrice):
		add(RuleStart, "start price %s must be positive and at most %s", l.StartPrice, MaxAmount)
	case p.MinStartPct > 0 && stage == First && l.Appraisal.IsAbsent():
		add(RuleStart, "the %s pack needs an appraisal", p.Name)
	case p.MinStartPct > 0 && stage == First && !inRange(l.Appraisal):
		add(RuleStart, "appraisal %s must be positive and at most %s", l.Appraisal, MaxAmount)
	case p.MinStartPct > 0 && stage == First && !atLeastPct(l.StartPrice, l.Appraisal, p.MinStartPct):
		add(RuleStart, "start price %s is below %d%% of the appraisal %s (%s)", l.StartPrice, p.MinStartPct,
			l.Appraisal, PctCeil(l.Appraisal, p.MinStartPct))
	}
	if !l.Reserve.IsAbsent() {
		switch {
		case p.Name == Judicial.Name && l.Reserve.Cmp(l.StartPrice) != 0:
			add(RuleStart, "the reserve is the starting price: reserve %s differs from start %s", l.Reserve, l.StartPrice)
		case !inRange(l.Reserve):
			add(RuleStart, "reserve %s must be positive and at most %s", l.Reserve, MaxAmount)
		case l.Format != English:
			add(RuleStart, "a reserve applies to the english format only")
		}
	}
	// Rule 3 (or 9 for a re-auction): notice.
	if stage == First {
		need := p.noticeDays(l.Kind, false)
		if got := l.Start.Sub(l.NoticeAt); got < days(need) {
			add(RuleNotice, "notice %s before the start is less than %d days (%s)", fmtDur(got), need, l.Kind)
		}
	}
	// Rule 4: deposit.
	if !l.Deposit.IsAbsent() && l.Deposit.Sign() < 0 {
		add(RuleDeposit, "deposit %s is negative", l.Deposit)
	} else if l.StartPrice.Sign() > 0 && l.StartPrice.Cmp(MaxAmount) <= 0 {
		d := l.Deposit
		if d.IsAbsent() {
			d = money.Zero(money.CNY)
		}
		if !atLeastPct(d, l.StartPrice, p.DepositMinPct) || !atMostPct(d, l.StartPrice, p.DepositMaxPct) {
			add(RuleDeposit, "deposit %s is outside %d%%-%d%% of the start price %s (%s-%s)", d, p.DepositMinPct,
				p.DepositMaxPct, l.StartPrice, PctCeil(l.StartPrice, p.DepositMinPct), PctFloor(l.StartPrice, p.DepositMaxPct))
		}
	}
	// Rule 6: format, increment, window.
	if !p.Allows(l.Format) {
		add(RuleBidding, "the %s pack does not offer the %s format (judicial auctions are ascending)", p.Name, l.Format)
	}
	if stage != First && l.Format != English {
		add(RuleBidding, "a %s stage runs in the english format", stage)
	}
	needInc := l.Format == English || l.Format == MultiRound
	switch {
	case needInc && !inRange(l.Increment):
		add(RuleBidding, "increment %s must be positive and at most %s", l.Increment, MaxAmount)
	case !needInc && !l.Increment.IsAbsent() && l.Increment.Sign() < 0:
		add(RuleBidding, "increment %s is negative", l.Increment)
	}
	switch {
	case !l.End.After(l.Start):
		add(RuleBidding, "end %s is not after start %s", l.End.Format(time.RFC3339), l.Start.Format(time.RFC3339))
	case stage == SellOff && l.End.Sub(l.Start) > p.SellOffWindow:
		add(RuleFailed, "a sell-off window lasts at most %d days, not %s", int(p.SellOffWindow/day), fmtDur(l.End.Sub(l.Start)))
	case stage != SellOff && l.End.Sub(l.Start) < p.MinDuration:
		add(RuleBidding, "bidding lasts %s, less than %s", fmtDur(l.End.Sub(l.Start)), fmtDur(p.MinDuration))
	}
	if l.Format == Dutch {
		switch d := l.Dutch; {
		case d == nil:
			add(RuleBidding, "a dutch auction needs a price schedule")
		case !inRange(d.Step) || d.Every <= 0:
			add(RuleBidding, "the dutch schedule needs a positive step and interval")
		case !d.Floor.IsAbsent() && (d.Floor.Sign() < 0 || d.Floor.Cmp(l.StartPrice) > 0):
			add(RuleBidding, "dutch floor %s must be between 0 and the start price %s", d.Floor, l.StartPrice)
		case d.Floor.Sign() <= 0 && d.Step.Cmp(l.StartPrice) > 0:
			// Without a floor the price never falls below one step (DutchPrice); a step above
			// the start would make that floor the price from the first instant, above the start
			// of a descending auction.
			add(RuleBidding, "dutch step %s exceeds the start price %s: without a floor the price stops at one step", d.Step, l.StartPrice)
		}
	}
	if l.Format == MultiRound {
		prev := l.Start
		if len(l.Rounds) == 0 {
			add(RuleBidding, "a multi-round auction needs at least one sealed round")
		}
		for i, r := range l.Rounds {
			if !r.After(prev) || !r.Before(l.End) {
				add(RuleBidding, "round %d ends at %s, not between the previous round's end and the auction's end", i+1, r.Format(time.RFC3339))
				break
			}
			prev = r
		}
	}
	// Rule 7: ranks.
	for b, r := range l.Preemption {
		if r < 1 {
			add(RulePreemption, "pre-emption holder %s has rank %d; ranks start at 1", b, r)
		}
	}
	// Rule 9: a re-auction or sell-off after a failure.
	if stage != First && stage != Second && stage != SellOff {
		add(RuleFailed, "unknown stage %q", stage)
	}
	if stage == Second {
		need := p.noticeDays(l.Kind, true)
		if got := l.Start.Sub(l.NoticeAt); got < days(need) {
			add(RuleFailed, "re-auction notice %s before the start is less than %d days (%s)", fmtDur(got), need, l.Kind)
		}
		if pv := l.Previous; pv != nil {
			if !atLeastPct(l.StartPrice, pv.StartPrice, p.RelistPct) {
				add(RuleFailed, "re-auction start %s is below %d%% of the failed start %s (%s)", l.StartPrice, p.RelistPct,
					pv.StartPrice, PctCeil(pv.StartPrice, p.RelistPct))
			}
			if !pv.End.IsZero() && l.Start.Sub(pv.End) > days(p.RelistWithinDays) {
				add(RuleFailed, "re-auction starts %s after the failure, later than %d days", fmtDur(l.Start.Sub(pv.End)), p.RelistWithinDays)
			}
		}
	}
	if stage == SellOff && l.Previous != nil && l.StartPrice.Cmp(l.Previous.StartPrice) != 0 {
		add(RuleFailed, "a sell-off is at the second auction's start price %s, not %s", l.Previous.StartPrice, l.StartPrice)
	}
	sort.SliceStable(vs, func(i, j int) bool { return ruleNum(vs[i].Rule) < ruleNum(vs[j].Rule) })
	return vs
}

// ruleNum returns the number in a rule code ("JA-6" gives 6).
func ruleNum(code string) int {
	n := 0
	for i := 0; i < len(code); i++ {
		if code[i] >= '0' && code[i] <= '9' {
			n = n*10 + int(code[i]-'0')
		}
	}
	return n
}

// fmtDur renders a duration for a person: days and hours and minutes.
func fmtDur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	dd := d / day
	h := (d % day) / time.Hour
	m := (d % time.Hour) / time.Minute
	s := ""
	switch {
	case d > 0 && d%day == 0:
		s = plural(int64(dd), "day")
	case d > 0 && d%time.Hour == 0:
		s = plural(int64(d/time.Hour), "hour")
	case dd > 0:
		s = fmt.Sprintf("%dd%dh%dm", dd, h, m)
	case h > 0:
		s = fmt.Sprintf("%dh%dm", h, m)
	default:
		s = (d.Round(time.Millisecond)).String()
	}
	if neg {
		s = "-" + s
	}
	return s
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
