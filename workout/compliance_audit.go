package workout

import (
	"cmp"
	"slices"
)

// Audit re-applies the pack rules of Decide to a finished contact log (collection-rules.md, "The
// contact log and the audit"): it walks the log in time order (ties in log order) and, for each
// contact, asks the same rule function as Decide with the zero DebtorState and every earlier
// contact as history; a flagged contact still counts for the contacts after it (it happened).
// It returns one Flag per rule broken, ordered by the contacts' positions in log (file order),
// and within a contact by rule (CN-1..CN-4, US-1, US-2). log is not modified.
//
// Audit keeps running indexes (per debtor and day, per number and day, per debtor, per debt), so
// it costs about O(n log n) for the sort plus O(1) a contact on realistic logs.
func Audit(pack Pack, log []Contact) []Flag {
	order := TimeOrder(log)
	ix := newAuditIndex()
	var flags []Flag
	var st DebtorState
	for _, i := range order {
		c := &log[i]
		s := stampOf(c.At)
		f := ix.facts(pack, c, s)
		for _, v := range evaluate(pack, &st, c, s, &f) {
			flags = append(flags, Flag{Index: i, ContactID: c.ID, Rule: v.Rule, Message: v.Message})
		}
		ix.add(pack, c, s)
	}
	// Back to log order; flags of one contact keep their rule order.
	slices.SortStableFunc(flags, func(a, b Flag) int { return cmp.Compare(a.Index, b.Index) })
	return flags
}

// TimeOrder returns the indexes of log sorted by the instant of each contact, ties in log order:
// the order in which Audit walks a log.
func TimeOrder(log []Contact) []int {
	order := make([]int, len(log))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return log[a].At.Compare(log[b].At) })
	return order
}

type dayKey struct {
	key string
	day int64
}

type debtorRun struct {
	n       int     // debtor contacts so far, capped at 3
	failed  [3]bool // the last 3 debtor contacts' failure, ring indexed by total%3
	total   int
	invalid bool // a debtor contact had outcome invalid_number
}

type debtCalls struct {
	days    []int64 // local day of each call about the debt, in time order
	conv    int64   // latest local day of a conversation about the debt
	hasConv bool
}

// auditIndex is the running state of an audit: exactly the facts the rules read.
type auditIndex struct {
	answered   map[dayKey]int // CN-2: (debtor, day) -> answered calls to the debtor
	unanswered map[dayKey]int // CN-3: (number, day) -> no_answer/busy calls
	debtors    map[string]*debtorRun
	debts      map[string]*debtCalls
}

func newAuditIndex() *auditIndex {
	return &auditIndex{answered: map[dayKey]int{}, unanswered: map[dayKey]int{},
		debtors: map[string]*debtorRun{}, debts: map[string]*debtCalls{}}
}

// facts returns what the rules need to know about the contacts indexed so far.
func (ix *auditIndex) facts(pack Pack, c *Contact, s stamp) facts {
	var f facts
	switch pack {
	case PackCN:
		if needCN2(c) {
			f.answeredToday = ix.answered[dayKey{c.DebtorID, s.day}]
		}
		if needCN3(c) {
			f.unansweredToday = ix.unanswered[dayKey{c.Number, s.day}]
		}
		if needCN4(c) {
			f.lastFailed = true
			if r := ix.debtors[c.DebtorID]; r != nil {
				f.debtorContacts, f.invalidNumber = r.n, r.invalid
				for k := range r.n {
					f.lastFailed = f.lastFailed && r.failed[(r.total-1-k)%3]
				}
			}
		}
	case PackUS:
		if needUS1(c) {
			if dc := ix.debts[c.DebtID]; dc != nil {
				// Earlier than a call on a day < d-8, every call is on a day < d-6 (see historyFacts).
				for k := len(dc.days) - 1; k >= 0 && f.debtCalls < usCallsMax; k-- {
					hd := dc.days[k]
					if hd < s.day-(usDays+1) {
						break
					}
					if hd >= s.day-(usDays-1) {
						f.debtCalls++
					}
				}
				if dc.hasConv && dc.conv >= s.day-(usDays-1) {
					f.convDay, f.hasConv = dc.conv, true
				}
			}
		}
	}
	return f
}

// add indexes contact c (it happened, whether or not it was flagged).
func (ix *auditIndex) add(pack Pack, c *Contact, s stamp) {
	switch pack {
	case PackCN:
		if c.Channel == ChannelCall {
			if c.Party == PartyDebtor && c.Outcome == OutcomeAnswered {
				ix.answered[dayKey{c.DebtorID, s.day}]++
			}
			if c.Number != "" && c.Outcome.Unanswered() {
				ix.unanswered[dayKey{c.Number, s.day}]++
			}
		}
		if c.Party == PartyDebtor {
			r := ix.debtors[c.DebtorID]
			if r == nil {
				r = &debtorRun{}
				ix.debtors[c.DebtorID] = r
			}
			r.failed[r.total%3] = c.Outcome.Failed()
			r.total++
			r.n = min(r.n+1, cnFailedRun)
			r.invalid = r.invalid || c.Outcome == OutcomeInvalidNumber
		}
	case PackUS:
		if c.Channel == ChannelCall && c.DebtID != "" {
			dc := ix.debts[c.DebtID]
			if dc == nil {
				dc = &debtCalls{}
				ix.debts[c.DebtID] = dc
			}
			dc.days = append(dc.days, s.day)
			if c.Outcome == OutcomeAnswered && (!dc.hasConv || s.day > dc.conv) {
				dc.conv, dc.hasConv = s.day, true
			}
		}
	}
}

// AuditViolation is one flag in the audit's JSON document.
type AuditViolation struct {
	ContactID string `json:"contact_id"`
	Rule      string `json:"rule"`
	Message   string `json:"message"`
}

// AuditResult is the audit's JSON document (collection-rules.md): the number of contacts in the
// log and one violation per rule broken, in log order. Violations is never nil, so it encodes
// as [] when the log is clean.
type AuditResult struct {
	Contacts   int              `json:"contacts"`
	Violations []AuditViolation `json:"violations"`
}

// NewAuditResult builds the audit's JSON document for a log of n contacts and its flags.
func NewAuditResult(n int, flags []Flag) AuditResult {
	r := AuditResult{Contacts: n, Violations: make([]AuditViolation, 0, len(flags))}
	for _, f := range flags {
		r.Violations = append(r.Violations, AuditViolation{ContactID: f.ContactID, Rule: f.Rule, Message: f.Message})
	}
	return r
}
