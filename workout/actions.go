package workout

import (
	"slices"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Action kinds.
const (
	KindCall        = "call"
	KindSMS         = "sms"
	KindLetter      = "letter"
	KindEmail       = "email"
	KindVisit       = "visit"
	KindLegal       = "legal"
	KindPlacement   = "placement"
	KindRecall      = "recall"
	KindComplaint   = "complaint"
	KindHandled     = "complaint_handled"
	KindConsent     = "consent"
	KindSuppression = "suppression"
	KindNotice      = "notice_delivered"
	KindAssign      = "assign"
	KindNote        = "note"
	// KindCaseClosed is written by the system when a case closes (a settlement paid in full
	// closed its last active account; outcome "settled").
	KindCaseClosed = "case_closed"
)

// ContactKinds are the action kinds that contact someone and so ask the compliance engine first.
var ContactKinds = []string{KindCall, KindSMS, KindLetter, KindEmail, KindVisit}

// Call outcomes as a collector records them.
const (
	CallNoAnswer      = "no_answer"
	CallBusy          = "busy"
	CallInvalidNumber = "invalid_number"
	CallAnswered      = "answered"
	CallWrongParty    = "wrong_party"
	CallPromiseToPay  = "promise_to_pay"
	CallRefusal       = "refusal"
)

// Outcomes allowed per contact kind. A call's outcome maps onto the contact log's outcomes
// (collection-rules.md) by ContactOutcome.
var kindOutcomes = map[string][]string{
	KindCall:   {CallNoAnswer, CallBusy, CallInvalidNumber, CallAnswered, CallWrongParty, CallPromiseToPay, CallRefusal},
	KindSMS:    {"delivered", "failed"},
	KindLetter: {"delivered", "failed"},
	KindEmail:  {"delivered", "failed"},
	KindVisit:  {"visited", "not_found"},
}

// ActionOutcomes lists the outcomes a contact kind accepts (nil for a kind that is not a contact).
func ActionOutcomes(kind string) []string { return kindOutcomes[kind] }

// ContactOutcome maps a recorded outcome onto the contact log's vocabulary: a conversation
// (answered, promise to pay, refusal) is answered; a wrong party is failed (the call connected
// but not to the debtor: neither a conversation with the debtor nor an unanswered dial).
func ContactOutcome(kind, outcome string) Outcome {
	if kind == KindCall {
		switch outcome {
		case CallAnswered, CallPromiseToPay, CallRefusal:
			return "answered"
		case CallWrongParty:
			return "failed"
		}
	}
	return Outcome(outcome)
}

// Legal steps.
const (
	LegalFiling      = "filing"                 // suit filed (interrupts the limitation period; court fee)
	LegalJudgment    = "judgment"               // judgment (starts the 2-year enforcement deadline)
	LegalEnforcement = "enforcement"            // enforcement applied for
	LegalTerminated  = "enforcement_terminated" // 终本: enforcement terminated for lack of assets
	LegalRestored    = "enforcement_restored"   // enforcement restored (恢复执行)
)

// LegalSteps lists the legal steps.
var LegalSteps = []string{LegalFiling, LegalJudgment, LegalEnforcement, LegalTerminated, LegalRestored}

// LegalLimitationKind returns the limitation event a legal step records ("" for none).
func LegalLimitationKind(step string) LimitationKind {
	switch step {
	case LegalFiling:
		return LimSuit
	case LegalJudgment:
		return LimJudgment
	case LegalEnforcement, LegalRestored:
		return LimEnforcementFiled
	}
	return ""
}

// ActionInput is a request to record an action on a case.
type ActionInput struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome,omitempty"`
	// Party is debtor (default) or third_party, for contacts.
	Party string `json:"party,omitempty"`
	// Number is the number dialled or texted (calls and SMS); only its blind index is stored.
	Number string `json:"number,omitempty"`
	// At is when the contact happened or will happen, with the debtor's UTC offset; zero: now.
	At           time.Time    `json:"at,omitzero"`
	Consent      string       `json:"consent,omitempty"` // "" or late_hours
	RecordingRef string       `json:"recording_ref,omitempty"`
	LegalStep    string       `json:"legal_step,omitempty"`
	Effective    date.Date    `json:"effective,omitzero"`
	Claim        money.Amount `json:"claim,omitzero"` // a filing's claim, for the court fee
	Simplified   bool         `json:"simplified,omitempty"`
	Court        string       `json:"court,omitempty"`
	Note         string       `json:"note,omitempty"`
	// DebtID names the loan the contact is about (a loan ref of the case); default: the case.
	DebtID string `json:"debt_id,omitempty"`
}

func actionInvalid(field, value, rule, format string, args ...any) error {
	e := reclaim.Errorf(reclaim.EINVALID, format, args...)
	e.Fields = map[string]string{"field": field, "value": value, "rule": rule}
	return e
}

// RuleNotFuture is the rule of a date recorded as having happened that is later than the
// latest day allowed (CheckHappened).
const RuleNotFuture = "not_future"

// CheckHappened refuses on, the date of something recorded as having happened (a contact, a
// notice's delivery, a legal step other than a judgment, whose date is when performance falls
// due, a debtor's acceptance, a promise made) or the day the commitments job is run for, when
// it is after latest: the caller passes tomorrow in the debtors' zone (a day's slack for time
// zones and clocks). Such dates interrupt the limitation period, date payments' counting or
// break commitments, so a future one would move a case's limitation expiry years ahead or
// break promises not yet due. A zero date passes (the caller's default applies). The error is
// EINVALID naming the field, the value and the rule not_future.
func CheckHappened(field string, on, latest date.Date) error {
	if on.IsZero() || !on.After(latest) {
		return nil
	}
	return actionInvalid(field, on.String(), RuleNotFuture, "%s %s is after %s: it cannot have happened yet", field, on, latest)
}

// ValidateAction checks an action request: a known kind; for a contact a known outcome of its
// kind, a party debtor or third_party, a number for calls and SMS, a consent "" or late_hours,
// and for a field visit a recording reference (CN-6: visits are recorded in full); for a legal
// step a known step and its effective date, and for a filing a positive claim. Errors are
// EINVALID naming the field, the value and the rule.
func ValidateAction(in ActionInput) error {
	if !in.At.IsZero() && (in.At.Year() < 1900 || in.At.Year() > 2200) {
		return actionInvalid("at", in.At.Format(time.RFC3339), "range", "at %s is not a plausible time (years 1900-2200)", in.At.Format(time.RFC3339))
	}
	switch in.Kind {
	case KindCall, KindSMS, KindLetter, KindEmail, KindVisit:
		if !slices.Contains(kindOutcomes[in.Kind], in.Outcome) {
			return actionInvalid("outcome", in.Outcome, "outcome", "outcome %q is not one of %s for a %s", in.Outcome, strings.Join(kindOutcomes[in.Kind], ", "), in.Kind)
		}
		if in.Party != "" && in.Party != "debtor" && in.Party != "third_party" {
			return actionInvalid("party", in.Party, "party", "party %q is neither debtor nor third_party", in.Party)
		}
		if (in.Kind == KindCall || in.Kind == KindSMS) && strings.TrimSpace(in.Number) == "" {
			return actionInvalid("number", "", "required", "a %s needs the number dialled or texted", in.Kind)
		}
		if in.Consent != "" && in.Consent != "late_hours" {
			return actionInvalid("consent", in.Consent, "consent", "consent %q is neither empty nor late_hours", in.Consent)
		}
		if in.Kind == KindVisit && strings.TrimSpace(in.RecordingRef) == "" {
			return actionInvalid("recording_ref", "", "CN-6", "a field visit needs the reference of its audio and video recording (CN-6)")
		}
	case KindLegal:
		if !slices.Contains(LegalSteps, in.LegalStep) {
			return actionInvalid("legal_step", in.LegalStep, "legal_step", "legal step %q is not one of %s", in.LegalStep, strings.Join(LegalSteps, ", "))
		}
		if in.Effective.IsZero() {
			return actionInvalid("effective", "", "required", "a legal step needs its effective date")
		}
		if in.LegalStep == LegalFiling && (in.Claim.IsAbsent() || in.Claim.Sign() <= 0) {
			return actionInvalid("claim", in.Claim.String(), "positive", "a filing needs the claim amount (positive) for the court fee")
		}
	case KindNote:
		if strings.TrimSpace(in.Note) == "" {
			return actionInvalid("note", "", "required", "a note needs text")
		}
	default:
		return actionInvalid("kind", in.Kind, "kind", "action kind %q is not one of call, sms, letter, email, visit, legal, note", in.Kind)
	}
	return nil
}

// IsContact reports whether kind contacts someone.
func IsContact(kind string) bool { return slices.Contains(ContactKinds, kind) }

// ContactChannel is the compliance channel of a contact kind.
func ContactChannel(kind string) Channel { return Channel(kind) }

// Suppression returns the violations that stop any contact regardless of the rule pack: a
// do-not-contact record, a deceased or a bankrupt debtor. Every channel is suppressed: such a
// case goes to legal staff (estate or bankruptcy administrator), not to collectors.
func Suppression(st DebtorState) []Violation {
	var v []Violation
	if st.DoNotContact {
		v = append(v, Violation{Rule: "DNC", Message: "the debtor asked not to be contacted (do-not-contact record)"})
	}
	if st.Deceased {
		v = append(v, Violation{Rule: "DECEASED", Message: "the debtor is deceased: contacts are suppressed"})
	}
	if st.Bankrupt {
		v = append(v, Violation{Rule: "BANKRUPT", Message: "the debtor is bankrupt: contacts are suppressed"})
	}
	return v
}
