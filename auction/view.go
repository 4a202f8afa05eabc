package auction

import (
	"time"

	"reclaim/money"
)

// View is what every bidder and visitor may see of an auction (JA-5): while bidding runs, bidders
// appear by their codes ("B001", given in the order of first deposit or bid) and never by name;
// sealed bids and the quotes of a multi-round auction are not shown (only counted), except each
// closed round's best. After the
// close the names are revealed.
type View struct {
	Format  Format       `json:"format"`
	Status  Status       `json:"status"`
	End     time.Time    `json:"end"`
	Price   money.Amount `json:"price"`            // the standing price (absent for sealed bids)
	Leader  string       `json:"leader,omitempty"` // a code while bidding runs
	Reserve money.Amount `json:"reserve"`          // shown only when public
	// DutchPrice is the current price of an open Dutch auction.
	DutchPrice money.Amount `json:"dutch_price"`
	// Bids is the accepted bids, in order, that may be shown.
	Bids []BidView `json:"bids"`
	// Rounds is the published best quote of each closed round (absent amount: no quote).
	Rounds []BidView `json:"rounds,omitempty"`
	// Hidden counts sealed bids or quotes not shown yet.
	Hidden int       `json:"hidden"`
	Winner string    `json:"winner,omitempty"`
	Now    time.Time `json:"now"`
}

// PublicView returns the public view of the auction as of the last event.
func (a *Auction) PublicView() View {
	v := View{Format: a.l.Format, Status: a.out.Status, End: a.end, Now: a.now, Bids: []BidView{}}
	name := func(b string) string {
		if a.closed || b == "" {
			return b
		}
		if c, ok := a.codes[b]; ok {
			return c
		}
		return "?"
	}
	if a.closed {
		v.End = a.out.End
		v.Winner = a.out.Winner
	}
	if a.l.ReservePublic {
		v.Reserve = a.l.Reserve
	}
	if a.l.Format == Dutch && !a.closed {
		v.DutchPrice = a.l.DutchPrice(a.now)
	}
	sealedOpen := a.l.Format == Sealed && !a.closed
	if a.lead != nil && !sealedOpen {
		v.Price, v.Leader = a.lead.Amount, name(a.lead.Bidder)
	}
	if a.out.Status == Sold {
		v.Price, v.Leader = a.out.Price, a.out.Winner
	}
	for _, b := range a.bids {
		hidden := sealedOpen || (b.Round >= 0 && !a.closed)
		if hidden {
			v.Hidden++
			continue
		}
		v.Bids = append(v.Bids, BidView{Bidder: name(b.Bidder), Amount: b.Amount, At: b.At})
	}
	for _, b := range a.published {
		v.Rounds = append(v.Rounds, BidView{Bidder: name(b.Bidder), Amount: b.Amount, At: b.At})
	}
	return v
}
