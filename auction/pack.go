package auction

import (
	"strconv"
	"time"
)

// Rule numbers. Every pack numbers its rules the same way, after the judicial pack (the Supreme
// People's Court's Provisions on Online Judicial Auctions, 2016, see
// ../shared/design/auction-rules.md); Pack.Code turns a number into the pack's code ("JA-6",
// "YD-6", "MP-6").
const (
	RuleStart      = 1 // the starting price (and reserve) against the appraisal
	RuleSale       = 2 // one bid at or above the start is enough to sell
	RuleNotice     = 3 // notice period before the start
	RuleDeposit    = 4 // deposit bounds; a bid needs a deposit first (or an exemption)
	RuleCodes      = 5 // bidder codes while bidding runs
	RuleBidding    = 6 // increments, bidding window, duration, anti-sniping extension
	RulePreemption = 7 // pre-emption holders win ties
	RuleDefault    = 8 // a winner who does not pay forfeits the deposit and is barred
	RuleFailed     = 9 // failed auction, re-listing bounds, sell-off
)

// Pack is a rule pack: the numbers that configure the state machine for one kind of sale. The
// packs are Judicial, Yindeng and Marketplace; Packs finds one by name.
type Pack struct {
	// Name is the pack's name in an auction file ("judicial", "yindeng", "marketplace").
	Name string
	// Prefix starts every rule code of the pack ("JA" gives "JA-1" .. "JA-9").
	Prefix string
	// Extension is the anti-sniping window E: an accepted bid at t with end - t <= E moves the
	// end to t + E.
	Extension time.Duration
	// MinStartPct is the lowest starting price in percent of the appraisal; 0 means the pack
	// needs no appraisal.
	MinStartPct int64
	// DepositMinPct and DepositMaxPct bound the deposit in percent of the starting price.
	DepositMinPct, DepositMaxPct int64
	// NoticeDaysMovable and NoticeDaysOther are the least days from notice to start, for
	// movables and for everything else (real estate, property rights, NPL packages).
	NoticeDaysMovable, NoticeDaysOther int
	// RelistNoticeMovable and RelistNoticeOther are the same for a re-auction after a failure.
	RelistNoticeMovable, RelistNoticeOther int
	// RelistPct is the lowest starting price of a re-auction in percent of the failed one's.
	RelistPct int64
	// RelistWithinDays is the longest time from a failure to the re-auction's start.
	RelistWithinDays int
	// MinDuration is the shortest bidding period (end - start of the listing).
	MinDuration time.Duration
	// SellOffWindow is how long a sell-off (变卖) stays open for a first bid; SellOffBidding is
	// the bidding period a first bid opens.
	SellOffWindow, SellOffBidding time.Duration
	// Formats lists the formats the pack allows.
	Formats []Format
}

// Code returns the pack's code for rule number n ("JA-6").
func (p Pack) Code(n int) string { return p.Prefix + "-" + strconv.Itoa(n) }

// Allows reports whether the pack offers format f.
func (p Pack) Allows(f Format) bool {
	for _, g := range p.Formats {
		if g == f {
			return true
		}
	}
	return false
}

// noticeDays returns the notice the pack asks for an asset kind, for a first listing or a
// re-auction.
func (p Pack) noticeDays(k AssetKind, relist bool) int {
	switch {
	case relist && k == Movable:
		return p.RelistNoticeMovable
	case relist:
		return p.RelistNoticeOther
	case k == Movable:
		return p.NoticeDaysMovable
	}
	return p.NoticeDaysOther
}

const day = 24 * time.Hour

var allFormats = []Format{English, Sealed, Dutch, MultiRound}

// Judicial is the rule pack of the Supreme People's Court's online judicial auctions (JA-1 ..
// JA-9 of auction-rules.md): start >= 70% of the appraisal, notice 15/30 days, deposit 5%-20%,
// ascending bidding for at least 24 hours with a 5-minute extension, re-auction at >= 80% with
// 7/15 days' notice within 30 days, sell-off for 60 days after a second failure.
var Judicial = Pack{
	Name: "judicial", Prefix: "JA", Extension: 5 * time.Minute,
	MinStartPct: 70, DepositMinPct: 5, DepositMaxPct: 20,
	NoticeDaysMovable: 15, NoticeDaysOther: 30, RelistNoticeMovable: 7, RelistNoticeOther: 15,
	RelistPct: 80, RelistWithinDays: 30, MinDuration: day,
	SellOffWindow: 60 * day, SellOffBidding: day,
	Formats: []Format{English},
}

// Yindeng is Reclaim's pack for NPL package sales in 银登 practice: no appraisal floor, deposit
// 0%-20% (often none), 7 days' notice (the registration period), at least one hour of bidding,
// a 5-minute extension, and all four formats (multi-round being the usual one). These numbers are
// Reclaim's choices, not a regulation; docs/auction.md lists them.
var Yindeng = Pack{
	Name: "yindeng", Prefix: "YD", Extension: 5 * time.Minute,
	MinStartPct: 0, DepositMinPct: 0, DepositMaxPct: 20,
	NoticeDaysMovable: 7, NoticeDaysOther: 7, RelistNoticeMovable: 7, RelistNoticeOther: 7,
	RelistPct: 80, RelistWithinDays: 30, MinDuration: time.Hour,
	SellOffWindow: 60 * day, SellOffBidding: day,
	Formats: allFormats,
}

// Marketplace is Reclaim's pack for ordinary sales on the marketplace (Debitos style): no
// appraisal floor, deposit 0%-20%, one day's notice, at least one hour of bidding, a 3-minute
// extension, all four formats. Reclaim's choices; docs/auction.md lists them.
var Marketplace = Pack{
	Name: "marketplace", Prefix: "MP", Extension: 3 * time.Minute,
	MinStartPct: 0, DepositMinPct: 0, DepositMaxPct: 20,
	NoticeDaysMovable: 1, NoticeDaysOther: 1, RelistNoticeMovable: 1, RelistNoticeOther: 1,
	RelistPct: 80, RelistWithinDays: 30, MinDuration: time.Hour,
	SellOffWindow: 60 * day, SellOffBidding: day,
	Formats: allFormats,
}

// Packs returns the pack of that name and whether it exists.
func Packs(name string) (Pack, bool) {
	switch name {
	case Judicial.Name:
		return Judicial, true
	case Yindeng.Name:
		return Yindeng, true
	case Marketplace.Name:
		return Marketplace, true
	}
	return Pack{}, false
}
