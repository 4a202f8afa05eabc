package live

import (
	"slices"

	"reclaim"
	"reclaim/date"
	"reclaim/tlog/verify"
)

// Member is a loan of the deal's pool as it was boarded (a loan.boarded entry in version 2).
type Member struct {
	Ref     string `json:"ref"`
	Product string `json:"product"`
	Region  string `json:"region"`
	Grade   string `json:"grade"`
	DPD     int64  `json:"dpd"`
	Claim   int64  `json:"claim"` // minor units
}

// Cash is one amount of pool cash from servicing: a loan's collection (Loan set) or a servicer
// file's row (Loan empty, Channel "servicer"). A reversal of a loan's collection (a bounced
// payment, loan.collection_reversal) is Cash with a negative Amount, the loan and the channel
// of the collection it reverses, dated when it was posted.
type Cash struct {
	Index   int64
	Date    date.Date
	Amount  int64
	Channel string
	Loan    string
}

// Cost is a cost (paid from collections) or a waiver (claim forgiven) from servicing: a
// deal.cost entry, or a settlement's loan.waiver (Kind verify.CostWaiver, Memo the settlement).
type Cost struct {
	Index   int64
	Date    date.Date
	Kind    string
	Loan    string
	Channel string
	Amount  int64
	Memo    string
}

// Removal is a loan leaving the pool with its remaining balance.
type Removal struct {
	Date    date.Date
	Loan    string
	Balance int64
}

// State is what the log of a deal's pool says, read in log order: the loans boarded with their
// attributes, the cash collected, costs and waivers, removals, the deal hash in force and the
// deal reports already logged. It is the one input Build needs besides the deal; the verifier
// (tlog/verify.DealReports) reads the same entries the same way.
type State struct {
	Pool        string
	Opened      date.Date
	DealHash    string
	Size        int64 // entries read
	Members     map[string]Member
	Collections []Cash
	Costs       []Cost
	Removals    []Removal
	Reports     []verify.DealReport
}

// StateFromEntries reads a pool's log (every entry, in log order).
func StateFromEntries(entries []verify.Entry) (*State, error) {
	s := &State{Members: map[string]Member{}}
	channels := map[string]string{} // event id of each loan.collection -> its channel
	for i, e := range entries {
		h := e.EntryHeader()
		eff, err := date.ParseStrict(h.Effective)
		if err != nil {
			return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "ledger entry %d has a bad date", i)
		}
		switch e := e.(type) {
		case verify.PoolOpened:
			s.Pool, s.Opened, s.DealHash = h.Pool, eff, e.WaterfallHash
		case verify.DealAmended:
			s.DealHash = e.DealHash
		case verify.LoanBoarded:
			s.Members[e.Loan] = Member{Ref: e.Loan, Product: e.Product, Region: e.Region, Grade: e.Grade, DPD: e.DPD, Claim: int64(e.Claim)}
		case verify.LoanCollection:
			s.Collections = append(s.Collections, Cash{Index: int64(i), Date: eff, Amount: int64(e.Amount), Channel: e.Channel, Loan: e.Loan})
			channels[e.EventID] = e.Channel
		case verify.LoanCollectionReversal:
			s.Collections = append(s.Collections, Cash{Index: int64(i), Date: eff, Amount: -int64(e.Amount), Channel: channels[e.Reverses], Loan: e.Loan})
		case verify.LoanWaiver:
			s.Costs = append(s.Costs, Cost{Index: int64(i), Date: eff, Kind: verify.CostWaiver, Loan: e.Loan, Amount: int64(e.Amount), Memo: e.Settlement})
		case verify.DealCollections:
			s.Collections = append(s.Collections, Cash{Index: int64(i), Date: eff, Amount: int64(e.Amount), Channel: "servicer"})
		case verify.DealCost:
			s.Costs = append(s.Costs, Cost{Index: int64(i), Date: eff, Kind: e.Kind, Loan: e.Loan, Channel: e.Channel, Amount: int64(e.Amount), Memo: e.Memo})
		case verify.LoanRemoved:
			s.Removals = append(s.Removals, Removal{Date: eff, Loan: e.Loan, Balance: int64(e.Balance)})
		case verify.DealReport:
			s.Reports = append(s.Reports, e)
		}
	}
	s.Size = int64(len(entries))
	return s, nil
}

// Window is one collection period's cash as the deal counts it (see verify.DealReport): gross
// collections dated in [Start, End] net of the reversals dated there, the costs applied against
// them (those of the window plus the carried ones, at most the gross), the costs carried on, and
// the net that the waterfall distributes. Reversals beyond the window's collections (a bounce of
// cash that an earlier window already distributed) leave a gross of zero and are carried on with
// the costs, to be recovered from the next windows' collections. Waivers are the deal.cost
// waivers and the settlements' loan.waiver entries dated in the window (claim forgiven, no cash).
type Window struct {
	Start, End   date.Date
	Gross        int64
	CostsApplied int64
	CostsCarried int64
	Net          int64
	WindowCosts  int64
	Waivers      int64
}

// Window computes a collection window's cash, given the costs carried into it.
func (s *State) Window(start, end date.Date, carriedIn int64) Window {
	w := Window{Start: start, End: end}
	in := func(d date.Date) bool { return !d.Before(start) && !d.After(end) }
	for _, c := range s.Collections {
		if in(c.Date) {
			w.Gross += c.Amount
		}
	}
	for _, c := range s.Costs {
		if !in(c.Date) {
			continue
		}
		if c.Kind == verify.CostDisposal {
			w.WindowCosts += c.Amount
		} else {
			w.Waivers += c.Amount
		}
	}
	var excess int64
	if w.Gross < 0 {
		excess, w.Gross = -w.Gross, 0
	}
	due := carriedIn + w.WindowCosts + excess
	w.CostsApplied = min(due, w.Gross)
	w.CostsCarried = due - w.CostsApplied
	w.Net = w.Gross - w.CostsApplied
	return w
}

// ClaimAt is the pool's claim (本息费) at the end of day d: the boarded claims less the
// collections (net of their reversals), waivers and removal balances dated on or before d.
func (s *State) ClaimAt(d date.Date) int64 {
	var c int64
	for _, m := range s.Members {
		c += m.Claim
	}
	for _, x := range s.Collections {
		if x.Loan != "" && !x.Date.After(d) {
			c -= x.Amount
		}
	}
	for _, x := range s.Costs {
		if x.Kind == verify.CostWaiver && !x.Date.After(d) {
			c -= x.Amount
		}
	}
	for _, x := range s.Removals {
		if !x.Date.After(d) {
			c -= x.Balance
		}
	}
	return c
}

// LastReported is the period of the last deal report logged (0 when none).
func (s *State) LastReported() int {
	if len(s.Reports) == 0 {
		return 0
	}
	return int(s.Reports[len(s.Reports)-1].Period)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
