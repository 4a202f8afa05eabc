package workout

import "reclaim/date"

// LimitationKind is what a limitation event is.
type LimitationKind string

// Limitation events. Default starts the period; the interruptions restart it (Civil Code arts.
// 188, 195); Judgment starts the 2-year deadline to apply for enforcement (Civil Procedure Law
// art. 250), which an application for enforcement meets; StatedExpiry is an expiry date the
// seller's tape states (taken when later: the seller may know of demands the tape does not show).
const (
	LimDefault          LimitationKind = "default"             // the claim fell due (start of the period)
	LimDemand           LimitationKind = "demand"              // a demand; counts only with proof of delivery
	LimAcknowledgement  LimitationKind = "acknowledgement"     // the debtor acknowledged the debt
	LimPartPayment      LimitationKind = "part_payment"        // the debtor paid part of it
	LimSuit             LimitationKind = "suit"                // a suit or arbitration was filed
	LimNoticeDelivered  LimitationKind = "notice_delivered"    // the notice of assignment was delivered (CN-7)
	LimJudgment         LimitationKind = "judgment"            // an enforceable judgment (performance due date)
	LimEnforcementFiled LimitationKind = "enforcement_applied" // enforcement was applied for
	LimStatedExpiry     LimitationKind = "stated_expiry"       // the seller's stated expiry date
)

// LimitationKinds lists every kind, for validation.
var LimitationKinds = []LimitationKind{LimDefault, LimDemand, LimAcknowledgement, LimPartPayment, LimSuit,
	LimNoticeDelivered, LimJudgment, LimEnforcementFiled, LimStatedExpiry}

// Valid reports whether k is a known kind.
func (k LimitationKind) Valid() bool {
	for _, x := range LimitationKinds {
		if x == k {
			return true
		}
	}
	return false
}

// LimitationEvent is one dated event of a loan (or of every loan of a case).
type LimitationEvent struct {
	Kind LimitationKind
	On   date.Date
	// Delivered is set when a demand's delivery is proven; a demand without it does not
	// interrupt the period (the creditor must be able to prove the debtor received it).
	Delivered bool
}

// Limitation is what LimitationExpiry derives.
type Limitation struct {
	// Expiry is the last day of the 3-year period: 3 years after the last interruption (or the
	// default), month stepping with end-of-month clipping (29 Feb 2024 + 3 years = 28 Feb 2027),
	// or the stated expiry when later. Zero when no event starts a period.
	Expiry date.Date
	// From is the date the period runs from (the last interruption or the default).
	From date.Date
	// Basis is the kind of the event Expiry comes from.
	Basis LimitationKind
	// EnforcementDeadline is the last day to apply for enforcement: 2 years after the latest
	// judgment, zero when there is no judgment or enforcement was applied for on or after it.
	EnforcementDeadline date.Date
}

// LimitationExpiry is the one limitation rule: it folds a loan's events (in any order; events
// with a zero date are ignored) into the expiry of the 3-year period and the enforcement
// deadline. Callers drop events they do not know at their as-of date.
func LimitationExpiry(events []LimitationEvent) Limitation {
	var out Limitation
	var stated, judgment, applied date.Date
	for _, e := range events {
		if e.On.IsZero() {
			continue
		}
		switch e.Kind {
		case LimDefault, LimAcknowledgement, LimPartPayment, LimSuit, LimNoticeDelivered:
		case LimDemand:
			if !e.Delivered {
				continue
			}
		case LimStatedExpiry:
			if e.On.After(stated) {
				stated = e.On
			}
			continue
		case LimJudgment:
			if e.On.After(judgment) {
				judgment = e.On
			}
			continue
		case LimEnforcementFiled:
			if e.On.After(applied) {
				applied = e.On
			}
			continue
		default:
			continue
		}
		if e.On.After(out.From) || (e.On == out.From && limRank(e.Kind) > limRank(out.Basis)) {
			out.From, out.Basis = e.On, e.Kind
		}
	}
	if !out.From.IsZero() {
		out.Expiry = out.From.AddYears(3)
	}
	if stated.After(out.Expiry) {
		out.Expiry, out.Basis = stated, LimStatedExpiry
	}
	if !judgment.IsZero() && applied.Before(judgment) {
		out.EnforcementDeadline = judgment.AddYears(2)
	}
	return out
}

// limRank orders the kinds that fall on the same day, so that Basis does not depend on the
// order of the events: a suit, then an acknowledgement, a part-payment, a demand, a notice, the
// default.
func limRank(k LimitationKind) int {
	switch k {
	case LimSuit:
		return 6
	case LimAcknowledgement:
		return 5
	case LimPartPayment:
		return 4
	case LimDemand:
		return 3
	case LimNoticeDelivered:
		return 2
	case LimDefault:
		return 1
	}
	return 0
}

// Warning levels before a limitation expiry or an enforcement deadline.
const (
	WarnNone    = ""
	WarnExpired = "expired"
	Warn30      = "30d" // expires within 30 days
	Warn90      = "90d" // expires within 90 days
)

// LimitationWarning returns the warning for a deadline seen at asOf: expired when it is before
// asOf, 30d when it is at most 30 days away, 90d at most 90, else none (also for a zero deadline).
func LimitationWarning(deadline, asOf date.Date) string {
	if deadline.IsZero() {
		return WarnNone
	}
	left := deadline.Sub(asOf)
	switch {
	case left < 0:
		return WarnExpired
	case left <= 30:
		return Warn30
	case left <= 90:
		return Warn90
	}
	return WarnNone
}

// ContactLimitationEvent returns the limitation event a contact that took place records, or nil:
// a letter, SMS or email delivered with a proof reference is a demand with proof of delivery; a
// call in which the debtor promised to pay, with its recording reference, is an acknowledgement
// of the debt. Anything else interrupts nothing. on is the contact's local date.
func ContactLimitationEvent(kind, outcome, proofRef string, on date.Date) *LimitationEvent {
	if proofRef == "" || on.IsZero() {
		return nil
	}
	switch {
	case (kind == "letter" || kind == "sms" || kind == "email") && outcome == "delivered":
		return &LimitationEvent{Kind: LimDemand, On: on, Delivered: true}
	case kind == "call" && outcome == "promise_to_pay":
		return &LimitationEvent{Kind: LimAcknowledgement, On: on, Delivered: true}
	}
	return nil
}
