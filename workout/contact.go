package workout

import (
	"time"

	"reclaim"
)

// Channel is how a contact is made.
type Channel string

// Channels of a contact (collection-rules.md, "The contact log and the audit").
const (
	ChannelCall   Channel = "call"
	ChannelSMS    Channel = "sms"
	ChannelVisit  Channel = "visit"
	ChannelLetter Channel = "letter"
	ChannelEmail  Channel = "email"
)

// Valid reports whether ch is one of the Channel constants.
func (ch Channel) Valid() bool {
	switch ch {
	case ChannelCall, ChannelSMS, ChannelVisit, ChannelLetter, ChannelEmail:
		return true
	}
	return false
}

// Party is who a contact reaches: the debtor, or a third party (a relative, a colleague, ...).
type Party string

// Parties of a contact.
const (
	PartyDebtor     Party = "debtor"
	PartyThirdParty Party = "third_party"
)

// Valid reports whether p is one of the Party constants.
func (p Party) Valid() bool { return p == PartyDebtor || p == PartyThirdParty }

// Outcome is what a contact attempt achieved. A call's OutcomeAnswered is a conversation.
type Outcome string

// Outcomes of a contact attempt.
const (
	OutcomeAnswered      Outcome = "answered"
	OutcomeNoAnswer      Outcome = "no_answer"
	OutcomeBusy          Outcome = "busy"
	OutcomeInvalidNumber Outcome = "invalid_number"
	OutcomeDelivered     Outcome = "delivered"
	OutcomeFailed        Outcome = "failed"
	OutcomeVisited       Outcome = "visited"
	OutcomeNotFound      Outcome = "not_found"
)

// Valid reports whether o is one of the Outcome constants (the empty outcome of a contact not yet
// made is not valid in a log).
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeAnswered, OutcomeNoAnswer, OutcomeBusy, OutcomeInvalidNumber, OutcomeDelivered,
		OutcomeFailed, OutcomeVisited, OutcomeNotFound:
		return true
	}
	return false
}

// Unanswered reports whether o is an unanswered dial for CN-3: no_answer or busy.
func (o Outcome) Unanswered() bool { return o == OutcomeNoAnswer || o == OutcomeBusy }

// Failed reports whether o is a failed contact for CN-4's "3 consecutive failed contacts":
// no_answer, busy, invalid_number, failed or not_found.
func (o Outcome) Failed() bool {
	switch o {
	case OutcomeNoAnswer, OutcomeBusy, OutcomeInvalidNumber, OutcomeFailed, OutcomeNotFound:
		return true
	}
	return false
}

// ConsentLateHours is the only consent a contact log knows: the debtor agreed to be contacted
// outside the daytime window (CN-1, US-2) for this contact.
const ConsentLateHours = "late_hours"

// Pack is a rule pack: the set of conduct rules a portfolio is worked under.
type Pack string

// Rule packs (collection-rules.md). PackCN is the default.
const (
	PackCN Pack = "cn"
	PackUS Pack = "us"
)

// ParsePack returns the pack named s ("cn" or "us"), or an EINVALID error.
func ParsePack(s string) (Pack, error) {
	switch Pack(s) {
	case PackCN, PackUS:
		return Pack(s), nil
	}
	return "", &reclaim.Error{Code: reclaim.EINVALID, Message: "unknown rule pack " + quote(s) + ": want cn or us",
		Fields: map[string]string{"pack": s}}
}

// Contact is one contact attempt (made, or about to be made) with a debtor or a third party about
// a debt.
type Contact struct {
	ID       string // contact_id: unique within a log
	DebtorID string // the debtor (CN-2, CN-4 count per debtor)
	DebtID   string // the debt the contact is about (US-1 counts per debt)
	Channel  Channel
	Party    Party
	Number   string // the number dialled or texted (CN-3 counts per number); for visits, optionally a place id
	// At is the instant of the contact, carrying the UTC offset of the debtor's location: the
	// debtor's local day and time of day are read from it (its own offset, contact by contact).
	At      time.Time
	Outcome Outcome // empty for a contact not yet made (a live decision); Decide ignores c's own outcome
	Consent string  // "" or ConsentLateHours
	Agent   string  // who made it (optional; for the compliance report)
	Agency  string  // the external agency that made it, "" for the AMC itself (optional)
	// OptOutMissing is set by the live path when an SMS or email carries no opt-out notice
	// (US-4-OPTOUT). The contact log has no such column, so the audit never sets it.
	OptOutMissing bool
	// ValidationNotice marks a contact that carries the US validation notice itself (US-3): it is
	// never refused for a late notice.
	ValidationNotice bool
}

// Violation is one rule a contact breaks.
type Violation struct {
	Rule    string // a Rule* constant: "CN-1".."CN-4", "US-1", "US-2", or a live-only code
	Message string // what broke the rule, for a person; never carries personal data (numbers, names)
}

// Window is a time (and optionally a channel or number/place) the consumer marked inconvenient
// (US-2-INCONVENIENT). A contact falls in the window when its local time of day is in
// [Start, End) (End <= Start wraps past midnight; Start == End is the whole day), on one of Days
// (empty: every day), by one of Channels (empty: any channel but letter), to Number ("": any
// number; for a visit, the place id the caller puts in Contact.Number).
type Window struct {
	Start, End time.Duration // local time of day since midnight
	Days       []time.Weekday
	Channels   []Channel
	Number     string
}

// DebtorState is what the live path knows beyond the contact history: the facts behind the
// live-only rules. The zero value knows nothing and so adds no rule (the audit uses it).
type DebtorState struct {
	DoNotContact         bool      // DNC: the debtor (or a court, or the AMC) stopped all contact
	Deceased             bool      // DECEASED: suppressed
	Bankrupt             bool      // BANKRUPT: suppressed
	ThirdPartyStopped    []string  // CN-4-STOP: numbers of third parties who asked to stop
	Inconvenient         []Window  // US-2-INCONVENIENT: times/places the consumer marked inconvenient
	ValidationNoticeSent bool      // US-3: the validation notice has been sent
	FirstCommunication   time.Time // US-3: the first communication with the consumer (zero: none yet); its day is read at the decided contact's offset
	TimeBarred           bool      // US-4-SUIT: the debt is time-barred: no suit, no threat of suit
	Purpose              string    // what the contact is for: PurposeCollection ("" means the same) or PurposeSuit
	// CallConsent is when the consumer last gave direct consent to calls about the debt; it lifts
	// US-1 for 7 days (Regulation F). Zero: none.
	CallConsent time.Time
}

// Purposes of a live contact (DebtorState.Purpose).
const (
	PurposeCollection = "collection" // ordinary collection
	PurposeSuit       = "suit"       // a suit, or a communication that threatens one (US-4-SUIT on a time-barred debt)
)

// Decision answers "may this contact happen now": Allowed is true exactly when Violations is empty.
type Decision struct {
	Allowed    bool
	Violations []Violation
}

// Flag is one rule one logged contact broke, found by Audit. Index is the contact's position in
// the log as given (file order).
type Flag struct {
	Index     int
	ContactID string
	Rule      string
	Message   string
}

func quote(s string) string {
	const max = 40
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max]) + "..."
	}
	return `"` + s + `"`
}
