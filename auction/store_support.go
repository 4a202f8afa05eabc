package auction

import (
	"time"

	"reclaim/money"
)

// This file holds small read-only accessors the marketplace store (sqldb/auctions.go) needs on
// its hot path, where PublicView (which copies every bid) would cost O(bids) per bid.

// Code returns the bidder's code (JA-5: "B001", given at the first deposit or bid), or "" when
// the bidder has none yet.
func (a *Auction) Code(bidder string) string { return a.codes[bidder] }

// Standing returns the standing price and the leader's code as the public view shows them
// while bidding runs (absent and "" for a sealed auction still open, or before a first bid).
func (a *Auction) Standing() (price money.Amount, leaderCode string) {
	if a.l.Format == Sealed && !a.closed {
		return money.Amount{}, ""
	}
	if a.out.Status == Sold {
		return a.out.Price, a.codes[a.out.Winner]
	}
	if a.lead != nil {
		return a.lead.Amount, a.codes[a.lead.Bidder]
	}
	return money.Amount{}, ""
}

// Closed reports whether bidding has ended (the clock reached the end, or a Dutch acceptance).
func (a *Auction) Closed() bool { return a.closed }

// RoundDue reports whether a multi-round auction has a sealed round whose deadline is at or
// before now and that no event has closed yet: a tick at now would publish that round's best.
func (a *Auction) RoundDue(now time.Time) bool {
	return !a.closed && a.l.Format == MultiRound && a.round < len(a.l.Rounds) && !now.Before(a.l.Rounds[a.round])
}

// Round returns the index of the sealed round running (len of the listing's rounds in the final
// phase) as of the last event.
func (a *Auction) Round() int { return a.round }

// ClosesAt returns when bidding ends: End while it runs, the close once closed (a Dutch
// acceptance closes the auction before End). A store closes the auction at this instant.
func (a *Auction) ClosesAt() time.Time {
	if a.closed {
		return a.out.End
	}
	return a.end
}
