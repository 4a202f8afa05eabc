package auction

import "reclaim/money"

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
