package workout

import (
	"time"

	"reclaim/date"
	"reclaim/money"
)

// The records of the workout (stored by sqldb/workout.go, served by httpapi/workout.go).

// Case statuses.
const (
	CaseOpen   = "open"
	CaseClosed = "closed"
)

// Account statuses.
const (
	AccountActive = "active"
	AccountClosed = "closed"
)

// Movement types of a servicing account.
const (
	MoveBoarded    = "boarded"    // the opening balance at boarding
	MovePayment    = "payment"    // a payment (negative amounts)
	MoveReversal   = "reversal"   // a payment reversed (positive amounts)
	MoveFee        = "fee"        // a fee charged (court fee, ...)
	MoveAdjustment = "adjustment" // any other correction
)

// BoardSpec describes the purchase of a portfolio and its boarding into servicing.
type BoardSpec struct {
	PortfolioID int64
	Seller      string       // the assignor named in the notices; default: the portfolio's seller
	Bid         money.Amount // the AMC's bid; absent when unknown
	AwardDate   date.Date    // required: the date the package was awarded (and boarded)
	Price       money.Amount // required: the price paid, in the portfolio's currency
	Buyer       string       // the assignee named in the notices; default "本公司 (the AMC)"
	Actor       string       // who boards, for the record
}

// Acquisition is a recorded purchase.
type Acquisition struct {
	ID          int64        `json:"id"`
	PortfolioID int64        `json:"portfolio_id"`
	Seller      string       `json:"seller"`
	Bid         money.Amount `json:"bid,omitzero"`
	AwardDate   date.Date    `json:"award_date"`
	Price       money.Amount `json:"price"`
	Actor       string       `json:"actor"`
	CreatedAt   time.Time    `json:"created_at"`
}

// BoardResult says what a boarding did.
type BoardResult struct {
	Acquisition Acquisition `json:"acquisition"`
	Accounts    int64       `json:"accounts"`  // loans boarded
	Cases       int64       `json:"cases"`     // cases the loans joined (new or existing)
	NewCases    int64       `json:"new_cases"` // of which new
	Notices     int64       `json:"notices"`   // notices of assignment generated
}

// Case is one debtor's case: all of the debtor's loans across portfolios.
type Case struct {
	ID                  int64        `json:"id"`
	Ref                 string       `json:"ref"`
	Status              string       `json:"status"`
	Assignee            string       `json:"assignee,omitempty"`
	Agency              string       `json:"agency,omitempty"`
	Deceased            bool         `json:"deceased"`
	Bankrupt            bool         `json:"bankrupt"`
	DoNotContact        bool         `json:"do_not_contact"`
	LimitationExpiry    date.Date    `json:"limitation_expiry,omitzero"`
	EnforcementDeadline date.Date    `json:"enforcement_deadline,omitzero"`
	OpenedAt            time.Time    `json:"opened_at"`
	UpdatedAt           time.Time    `json:"updated_at"`
	Loans               int64        `json:"loans"`
	Balance             money.Amount `json:"balance"`
	MaskedName          string       `json:"masked_name,omitempty"`
	MaskedPhone         string       `json:"masked_phone,omitempty"`
}

// Account is a servicing account: one boarded loan's balance of record.
type Account struct {
	LoanID           int64        `json:"loan_id"`
	LoanRef          string       `json:"loan_ref"`
	CaseID           int64        `json:"case_id"`
	PortfolioID      int64        `json:"portfolio_id"`
	BorrowerID       int64        `json:"borrower_id"`
	BorrowerRef      string       `json:"borrower_ref"`
	AcquisitionID    int64        `json:"acquisition_id"`
	Principal        money.Amount `json:"principal"`
	Interest         money.Amount `json:"interest"`
	Fees             money.Amount `json:"fees"`
	Claim            money.Amount `json:"claim"`
	CostBasis        money.Amount `json:"cost_basis"`
	Status           string       `json:"status"`
	BoardedOn        date.Date    `json:"boarded_on"`
	LimitationExpiry date.Date    `json:"limitation_expiry,omitzero"`
}

// Movement is one change of an account's balance.
type Movement struct {
	ID        int64        `json:"id"`
	LoanID    int64        `json:"loan_id"`
	CaseID    int64        `json:"case_id"`
	Type      string       `json:"type"`
	Amount    money.Amount `json:"amount"`
	Principal money.Amount `json:"principal"`
	Interest  money.Amount `json:"interest"`
	Fees      money.Amount `json:"fees"`
	Effective date.Date    `json:"effective"`
	Reference string       `json:"reference"`
	Actor     string       `json:"actor"`
	At        time.Time    `json:"at"`
}

// Action is one thing done on a case: a contact, a legal step, a placement or recall, a
// complaint or its handling, a consent or do-not-contact record, a suppression, a notice
// delivery, an assignment. Every action is on the case timeline.
type Action struct {
	ID           int64        `json:"id"`
	CaseID       int64        `json:"case_id"`
	Kind         string       `json:"kind"`
	Channel      string       `json:"channel"`
	Outcome      string       `json:"outcome"`
	Actor        string       `json:"actor"`
	Agency       string       `json:"agency,omitempty"`
	At           time.Time    `json:"at"`
	Effective    date.Date    `json:"effective,omitzero"`
	RecordingRef string       `json:"recording_ref,omitempty"`
	Amount       money.Amount `json:"amount,omitzero"`
	Note         string       `json:"note"`
	Detail       string       `json:"detail,omitempty"` // a JSON object
}

// Attempt is one recorded contact attempt with the compliance decision it got. Source says
// where it came from: console, api, check (asked before dialling, not a contact), agency.
type Attempt struct {
	ID        int64           `json:"id"`
	CaseID    int64           `json:"case_id"`
	ContactID string          `json:"contact_id"`
	DebtID    string          `json:"debt_id"`
	Channel   string          `json:"channel"`
	Party     string          `json:"party"`
	NumberKey string          `json:"-"` // blind index of the number, never the number
	At        time.Time       `json:"at"`
	LocalAt   string          `json:"local_at"` // RFC 3339 with the debtor's offset
	Outcome   string          `json:"outcome"`
	Consent   string          `json:"consent,omitempty"`
	Agent     string          `json:"agent"`
	Agency    string          `json:"agency,omitempty"`
	Source    string          `json:"source"`
	Pack      string          `json:"pack"`
	Allowed   bool            `json:"allowed"`
	Reasons   []ContactReason `json:"reasons"`
	ActionID  int64           `json:"action_id,omitempty"`
}

// Attempt sources.
const (
	SourceConsole  = "console"  // a collector in the console
	SourceAPI      = "api"      // an API client
	SourceCheck    = "check"    // a pre-dial check: not a contact
	SourceAgency   = "agency"   // reported by an agency (API or file): it happened
	SourceCampaign = "campaign" // sent by a bulk campaign (counts in the limits when allowed)
)

// Happened reports whether the attempt is a contact that took place (and so counts in the
// limits): an allowed console or API contact, or any contact an agency reported.
func (a Attempt) Happened() bool {
	return a.Source == SourceAgency || (a.Allowed && a.Source != SourceCheck)
}

// Placement is a case placed with an external agency (open while RecalledAt is zero).
type Placement struct {
	ID         int64     `json:"id"`
	CaseID     int64     `json:"case_id"`
	Agency     string    `json:"agency"`
	PlacedAt   time.Time `json:"placed_at"`
	PlacedBy   string    `json:"placed_by"`
	RecalledAt time.Time `json:"recalled_at,omitzero"`
	RecalledBy string    `json:"recalled_by,omitempty"`
	Reason     string    `json:"reason"`
}

// Complaint is a complaint about the collection of a case (12378 hotline, 12345, direct, ...).
type Complaint struct {
	ID         int64     `json:"id"`
	CaseID     int64     `json:"case_id"`
	Channel    string    `json:"channel"`
	ReceivedOn date.Date `json:"received_on"`
	Summary    string    `json:"summary"`
	Status     string    `json:"status"` // open, handled
	Actor      string    `json:"actor"`
	CreatedAt  time.Time `json:"created_at"`
	HandledBy  string    `json:"handled_by,omitempty"`
	HandledAt  time.Time `json:"handled_at,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
}

// Consent is a consent, do-not-contact, third-party-stop or inconvenient-time record.
type Consent struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Ref       string    `json:"ref"`
	Actor     string    `json:"actor"`
	At        time.Time `json:"at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Notice is a notice of assignment and its delivery.
type Notice struct {
	ID            int64     `json:"id"`
	CaseID        int64     `json:"case_id"`
	AcquisitionID int64     `json:"acquisition_id"`
	Kind          string    `json:"kind"`
	Text          string    `json:"text"`
	HTML          string    `json:"html"`
	CreatedAt     time.Time `json:"created_at"`
	DeliveredOn   date.Date `json:"delivered_on,omitzero"`
	Channel       string    `json:"channel,omitempty"`
	ProofRef      string    `json:"proof_ref,omitempty"`
	DeliveredBy   string    `json:"delivered_by,omitempty"`
}

// TimelineItem is one row of a case's timeline: an action, a denied contact attempt, a
// balance movement or a notice, in time order.
type TimelineItem struct {
	At       time.Time `json:"at"`
	Type     string    `json:"type"` // action, attempt, movement, notice
	Kind     string    `json:"kind"`
	Actor    string    `json:"actor"`
	Summary  string    `json:"summary"`
	Action   *Action   `json:"action,omitempty"`
	Attempt  *Attempt  `json:"attempt,omitempty"`
	Movement *Movement `json:"movement,omitempty"`
	Notice   *Notice   `json:"notice,omitempty"`
}

// AttemptSummary is one line of the compliance report: the attempts of a day (the debtor's local
// day) by one agent of one agency, and how many were denied or flagged, by rule.
type AttemptSummary struct {
	Day      string         `json:"day"`
	Agent    string         `json:"agent"`
	Agency   string         `json:"agency,omitempty"`
	Attempts int            `json:"attempts"`
	Denied   int            `json:"denied"`
	ByRule   map[string]int `json:"by_rule"`
}

// ContactState is what the compliance decision of a contact on a case needs from storage: the
// case, its live consent records, whether its notice was delivered, and the contacts that
// happened since the history window's start.
type ContactState struct {
	Case            Case
	Consents        []Consent
	NoticeDelivered bool
	FirstContact    time.Time // the first contact that happened, ever (zero: none)
	History         []Attempt
}

// Consent kinds.
const (
	// ConsentLateHours ("late_hours", declared with the contact types): the debtor agreed to
	// contacts outside the daytime window.
	ConsentDoNotContact = "do_not_contact"   // the debtor asked not to be contacted
	ConsentThirdStop    = "third_party_stop" // a third party asked to be left alone (value: the number)
	ConsentInconvenient = "inconvenient"     // a time the debtor marked inconvenient (value: HH:MM-HH:MM)
	ConsentChannel      = "channel"          // consent to a channel (value: email, sms, ...)
)

// ConsentKinds lists the consent kinds.
var ConsentKinds = []string{ConsentLateHours, ConsentDoNotContact, ConsentThirdStop, ConsentInconvenient, ConsentChannel}

// CaseRow is a case in a list, with its limitation warnings at today's date.
type CaseRow struct {
	Case
	LimitationWarning  string `json:"limitation_warning,omitempty"`  // expired, 30d, 90d
	EnforcementWarning string `json:"enforcement_warning,omitempty"` // the same for the enforcement deadline
}

// CaseQuery selects cases.
type CaseQuery struct {
	Mine          bool  // only cases assigned to the viewer (a collector always gets only those)
	ExpiringDays  int   // only cases whose limitation expires within this many days (0: all)
	AfterID       int64 // paging
	Limit         int
	Assignee      string // managers: another collector's queue
	AgencyFilter  string // managers: one agency's placements
	IncludeClosed bool
}

// CasePage is everything a case page shows (personal data masked).
type CasePage struct {
	CaseRow
	Accounts   []Account      `json:"accounts"`
	Timeline   []TimelineItem `json:"timeline"`
	Notices    []Notice       `json:"notices"`
	Complaints []Complaint    `json:"complaints"`
	Consents   []Consent      `json:"consents"`
	Placements []Placement    `json:"placements"`
}

// ContactResult is the answer to a contact: the decision (with its reasons when denied) and
// what was recorded.
type ContactResult struct {
	Allowed bool            `json:"allowed"`
	Reasons []ContactReason `json:"reasons"`
	Attempt Attempt         `json:"attempt"`
	Action  *Action         `json:"action,omitempty"`
}

// FeedResult is what an agency feed recorded.
type FeedResult struct {
	Contacts   int             `json:"contacts"`
	Flagged    int             `json:"flagged"` // contacts that broke a rule (recorded all the same: they happened)
	Violations []FeedViolation `json:"violations"`
	Summary    map[string]int  `json:"by_rule"`
	Attempts   []Attempt       `json:"-"`
}

// FeedViolation is one flagged agency contact.
type FeedViolation struct {
	ContactID string `json:"contact_id"`
	Rule      string `json:"rule"`
	Message   string `json:"message"`
}

// ContactReason is a rule a contact broke, as stored and served: the rule id (CN-1, US-2, DNC, ...) and
// its message.
type ContactReason struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Reasons converts the compliance engine's violations to reasons (never nil).
func Reasons(vs []Violation) []ContactReason {
	out := make([]ContactReason, len(vs))
	for i, v := range vs {
		out[i] = ContactReason{Rule: v.Rule, Message: v.Message}
	}
	return out
}
