package workout

// This file is a stand-in, replaced by h-compliance's contact.go at merge (the lead deletes it).
// It holds exactly the types of the compliance engine's API that the workout service is coded
// against, so that the service compiles before the engine lands.

import "time"

// Pack names a rule pack: "cn" or "us".
type Pack string

// Channel is how a contact is made: call, sms, visit, letter, email.
type Channel string

// Party is who is contacted: debtor or third_party.
type Party string

// Outcome is the result of a contact attempt (answered, no_answer, busy, ...).
type Outcome string

// Window is a span of local time the debtor marked inconvenient.
type Window struct{ From, To string }

// Violation is one broken rule.
type Violation struct{ Rule, Message string }

// Contact is one contact attempt.
type Contact struct {
	ID, DebtorID, DebtID string
	Channel              Channel
	Party                Party
	Number               string
	At                   time.Time
	Outcome              Outcome
	Consent              string
	Agent, Agency        string
}

// DebtorState is what the engine knows of the debtor besides the contact history.
type DebtorState struct {
	DoNotContact, Deceased, Bankrupt bool
	ThirdPartyStopped                []string
	Inconvenient                     []Window
	ValidationNoticeSent             bool
	FirstCommunication               time.Time
	TimeBarred                       bool
	Purpose                          string
}

// Decision is the engine's answer.
type Decision struct {
	Allowed    bool
	Violations []Violation
}
