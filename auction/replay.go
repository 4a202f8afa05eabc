package auction

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the result of replaying an auction file, in the JSON shape of
// ../shared/design/auction-rules.md ("Replaying an auction"). Winner and Price appear only when
// sold, Relist only when failed. SellOff (after a failed second auction), Paid, Defaulted,
// ForfeitedDeposit and Barred are Reclaim's additions and appear only when they apply.
type Report struct {
	Valid      bool          `json:"valid"`
	Violations []Violation   `json:"violations"`
	Events     []EventReport `json:"events"`
	End        string        `json:"end"`
	Outcome    string        `json:"outcome"`
	Winner     string        `json:"winner,omitempty"`
	Price      string        `json:"price,omitempty"`
	Relist     *Relist       `json:"relist,omitempty"`
	SellOff    *SellOffTerms `json:"selloff,omitempty"`
	Paid       bool          `json:"paid,omitempty"`
	Defaulted  bool          `json:"defaulted,omitempty"`
	Forfeited  string        `json:"forfeited_deposit,omitempty"`
	Barred     []string      `json:"barred,omitempty"`
}

// EventReport is the fate of one event of the file; Index is its position in "events".
type EventReport struct {
	Index    int    `json:"index"`
	Accepted bool   `json:"accepted"`
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
}

// Outcomes of a replay.
const (
	OutcomeSold    = "sold"
	OutcomeFailed  = "failed"
	OutcomeInvalid = "invalid"
)

// Replay runs an auction file through the engine: the listing is checked, every event applied at
// its receipt time, and the auction closed at its (extended) end, or at the last event when that
// is later. For an invalid listing no event is applied: each is reported rejected, under the first
// failing rule, with a reason naming all of them; the end is the listing's, the outcome "invalid".
func Replay(f *File) Report {
	r := Report{Violations: f.Listing.Check(), Events: make([]EventReport, 0, len(f.Events))}
	if r.Violations == nil {
		r.Violations = []Violation{}
	}
	if len(r.Violations) > 0 {
		var codes []string
		for _, v := range r.Violations {
			if len(codes) == 0 || codes[len(codes)-1] != v.Rule {
				codes = append(codes, v.Rule)
			}
		}
		for i := range f.Events {
			r.Events = append(r.Events, EventReport{Index: i, Rule: r.Violations[0].Rule,
				Reason: "not applied: the listing is invalid (" + strings.Join(codes, ", ") + ")"})
		}
		r.End, r.Outcome = stamp(f.Listing.End), OutcomeInvalid
		return r
	}
	r.Valid = true
	a := newAuction(f.Listing)
	for i, te := range f.Events {
		res := a.Apply(te.Event, te.At)
		er := EventReport{Index: i, Accepted: res.Accepted, Rule: res.Rule, Reason: res.Reason}
		if res.Repeat {
			er.Reason += fmt.Sprintf(" (repeat of events[%d], key %q: answered as before, not placed again)", res.Of, te.Event.Key)
		}
		r.Events = append(r.Events, er)
	}
	closeAt := a.End()
	if len(f.Events) > 0 {
		if last := f.Events[len(f.Events)-1].At; last.After(closeAt) {
			closeAt = last
		}
	}
	o, _ := a.Close(closeAt)
	r.End = stamp(o.End.In(f.Listing.End.Location())) // in the listing's offset, whatever the events'
	switch o.Status {
	case Sold:
		r.Outcome, r.Winner, r.Price = OutcomeSold, o.Winner, o.Price.String()
	default:
		r.Outcome, r.Relist, r.SellOff = OutcomeFailed, o.Relist, o.SellOff
	}
	r.Paid, r.Defaulted, r.Barred = o.Paid, o.Defaulted, o.Barred
	if !o.Forfeited.IsAbsent() {
		r.Forfeited = o.Forfeited.String()
	}
	return r
}

// WriteText prints the report for a person: the listing's verdict, one line per event, the end,
// the outcome and, for a failed auction, the re-listing bounds.
func (r Report) WriteText(w io.Writer, f *File) {
	l := f.Listing
	fmt.Fprintf(w, "Listing: %s pack, %s format, %s, start %s", l.Pack.Name, l.Format, l.Kind, l.StartPrice)
	if !l.Increment.IsAbsent() {
		fmt.Fprintf(w, ", increment %s", l.Increment)
	}
	if !l.Deposit.IsAbsent() {
		fmt.Fprintf(w, ", deposit %s", l.Deposit)
	}
	fmt.Fprintf(w, "\nBidding: %s to %s\n", stamp(l.Start), stamp(l.End))
	if r.Valid {
		fmt.Fprintln(w, "Listing valid.")
	} else {
		fmt.Fprintln(w, "Listing INVALID:")
		for _, v := range r.Violations {
			fmt.Fprintf(w, "  %s  %s\n", v.Rule, v.Message)
		}
	}
	if len(r.Events) > 0 {
		fmt.Fprintln(w, "Events:")
	}
	for _, e := range r.Events {
		te := f.Events[e.Index]
		what := string(te.Event.Type)
		if te.Event.Bidder != "" {
			what += " " + te.Event.Bidder
		}
		if !te.Event.Amount.IsAbsent() {
			what += " " + te.Event.Amount.String()
		}
		verdict := "rejected"
		if e.Accepted {
			verdict = "accepted"
		}
		rule := e.Rule
		if rule == "" {
			rule = "-"
		}
		fmt.Fprintf(w, "  [%d] %s  %-28s %s  %-5s %s\n", e.Index, te.At.Format(time.RFC3339Nano), what, verdict, rule, e.Reason)
	}
	fmt.Fprintf(w, "End: %s\n", r.End)
	switch r.Outcome {
	case OutcomeSold:
		fmt.Fprintf(w, "Outcome: sold to %s at %s\n", r.Winner, r.Price)
	case OutcomeFailed:
		fmt.Fprintln(w, "Outcome: failed (no accepted bid, or the reserve was not met)")
	default:
		fmt.Fprintln(w, "Outcome: invalid (the listing breaks its rules; nothing was applied)")
	}
	if r.Relist != nil {
		fmt.Fprintf(w, "Re-listing: start >= %s, notice >= %d days\n", r.Relist.MinStartPrice, r.Relist.MinNoticeDays)
	}
	if r.SellOff != nil {
		fmt.Fprintf(w, "Sell-off (变卖): %d days at %s; a bid opens %d hours of bidding\n", r.SellOff.WindowDays, r.SellOff.Price, r.SellOff.BiddingHours)
	}
	if r.Paid {
		fmt.Fprintln(w, "Paid: the winner paid.")
	}
	if r.Defaulted {
		fmt.Fprintf(w, "Default: the winner did not pay; deposit forfeited: %s; barred: %s\n", orNone(r.Forfeited), strings.Join(r.Barred, ", "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
