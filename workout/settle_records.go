package workout

import (
	"time"

	"reclaim/date"
	"reclaim/money"
)

// Records of settlements, plans, promises and waivers as stored (sqldb/workout_settle.go) and
// served (docs/workout-api.md).

// MoveWaiver is the account movement of a waiver: the part of a loan's balance a settlement paid
// in full forgave (negative amounts, like a payment, but no cash).
const MoveWaiver = "waiver"

// Plan statuses.
const (
	PlanActive   = "active"
	PlanComplete = "complete"
	PlanBroken   = "broken"
)

// SettlementOffer is a stored offer (statuses: the Offer* constants).
type SettlementOffer struct {
	ID                int64        `json:"id"`
	CaseID            int64        `json:"case_id"`
	Claim             money.Amount `json:"claim"`
	Amount            money.Amount `json:"amount"`
	Waived            money.Amount `json:"waived"`
	Discount          float64      `json:"discount"`
	SuggestedDiscount float64      `json:"suggested_discount"`
	Status            string       `json:"status"`
	Maker             string       `json:"maker"`
	MakerRole         string       `json:"maker_role"`
	CheckerRole       string       `json:"checker_role,omitempty"` // "" when the maker's limits cover it
	Checker           string       `json:"checker,omitempty"`
	DecidedAt         time.Time    `json:"decided_at,omitzero"`
	DecisionNote      string       `json:"decision_note,omitempty"`
	ExpiresOn         date.Date    `json:"expires_on"`
	PayBy             date.Date    `json:"pay_by"`
	GraceDays         int          `json:"grace_days"`
	AcceptedOn        date.Date    `json:"accepted_on,omitzero"`
	ClosedOn          date.Date    `json:"closed_on,omitzero"`
	Received          money.Amount `json:"received"`
	Note              string       `json:"note,omitempty"`
	CreatedAt         time.Time    `json:"created_at"`
	UpdatedAt         time.Time    `json:"updated_at"`
	// Plan is the offer's instalment plan, when it is paid in instalments.
	Plan *StoredPlan `json:"plan,omitempty"`
}

// Offer returns the engine's view of the stored offer.
func (o SettlementOffer) Offer() Offer {
	return Offer{Discount: o.Discount, Amount: o.Amount, Waived: o.Waived}
}

// StoredPlan is a stored instalment plan with its standing at the last check.
type StoredPlan struct {
	ID        int64        `json:"id"`
	OfferID   int64        `json:"offer_id,omitempty"`
	Plan                   // case_id, total, instalments
	GraceDays int          `json:"grace_days"`
	StartOn   date.Date    `json:"start_on"`
	Status    string       `json:"status"`
	Paid      money.Amount `json:"paid"`
	MissedSeq int          `json:"missed_seq,omitempty"`
	Shortfall money.Amount `json:"shortfall"`
	ClosedOn  date.Date    `json:"closed_on,omitzero"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
}

// StoredPromise is a stored promise to pay (statuses: the Promise* constants).
type StoredPromise struct {
	ID       int64        `json:"id"`
	CaseID   int64        `json:"case_id"`
	ActionID int64        `json:"action_id,omitempty"` // the promise_to_pay call it came from
	Made     date.Date    `json:"made"`
	Due      date.Date    `json:"due"`
	Amount   money.Amount `json:"amount"`
	Grace    int          `json:"grace_days"`
	Status   string       `json:"status"`
	Received money.Amount `json:"received"`
	ClosedOn date.Date    `json:"closed_on,omitzero"`
	Actor    string       `json:"actor"`
	Created  time.Time    `json:"created_at"`
}

// WaiverLoan is one loan's share of a stored waiver; Pool, PoolLoan and PoolEvent name its
// loan.waiver ledger entry when the loan is in a pool.
type WaiverLoan struct {
	LoanID    int64        `json:"loan_id"`
	Principal money.Amount `json:"principal"`
	Interest  money.Amount `json:"interest"`
	Fees      money.Amount `json:"fees"`
	Pool      string       `json:"pool,omitempty"`
	PoolLoan  string       `json:"pool_loan,omitempty"`
	PoolEvent string       `json:"pool_event,omitempty"`
}

// StoredWaiver is a stored waiver with its loans.
type StoredWaiver struct {
	ID      int64 `json:"id"`
	OfferID int64 `json:"offer_id"`
	Waiver
	Loans     []WaiverLoan `json:"loans"`
	CreatedAt time.Time    `json:"created_at"`
}

// CommitmentCheck is what a run of the broken-promise job decided (DB.CheckCommitments).
type CommitmentCheck struct {
	AsOf           date.Date `json:"as_of"`
	OffersExpired  []int64   `json:"offers_expired"`
	OffersPaid     []int64   `json:"offers_paid"`
	OffersBroken   []int64   `json:"offers_broken"`
	PlansComplete  []int64   `json:"plans_complete"`
	PlansBroken    []int64   `json:"plans_broken"`
	PromisesKept   []int64   `json:"promises_kept"`
	PromisesBroken []int64   `json:"promises_broken"`
	Waivers        []int64   `json:"waivers"`
	// CasesClosed are the cases a settlement paid in full closed (no active account left).
	CasesClosed []int64 `json:"cases_closed"`
	// Errors lists the items that could not be settled (each in its own transaction: one
	// failure leaves the others done), "offer 7: ...".
	Errors []string `json:"errors"`
}

// SettlementPage is a case's settlement page: the claim, the suggested offer and who would have to
// approve it if the viewer made it, the viewer's own limits, and the case's offers (newest
// first), plans, promises and waivers.
type SettlementPage struct {
	CaseID     int64             `json:"case_id"`
	Claim      money.Amount      `json:"claim"`
	Suggestion *Offer            `json:"suggestion,omitempty"`
	Curve      []DiscountPoint   `json:"curve,omitempty"` // the expected NPV by discount the suggestion maximises
	Approval   *Approval         `json:"approval,omitempty"`
	Limit      *RoleLimit        `json:"limit,omitempty"`
	Offers     []SettlementOffer `json:"offers"`
	Plans      []StoredPlan      `json:"plans"`
	Promises   []StoredPromise   `json:"promises"`
	Waivers    []StoredWaiver    `json:"waivers"`
}

// OfferRequest is a settlement offer as a maker proposes it: Amount or Discount (exactly one).
type OfferRequest struct {
	Amount    money.Amount // absent: use Discount
	Discount  *float64
	ExpiresOn date.Date // zero: today + ExpiryDays
	PayBy     date.Date // zero: acceptance deadline + PayDays
	GraceDays *int
	Note      string
}

// PlanRequest is an instalment plan as a request gives it: either Instalments written out, or
// Months (with First and an optional DownPayment) for NewPlan to schedule.
type PlanRequest struct {
	Total       money.Amount
	First       date.Date
	Months      int
	DownPayment money.Amount
	Instalments []Instalment
}

// Build returns the plan of total the request describes (ValidatePlan checks written-out
// instalments when the plan is stored).
func (p PlanRequest) Build(total money.Amount) (Plan, error) {
	if len(p.Instalments) > 0 {
		return Plan{Total: total, Instalments: p.Instalments}, nil
	}
	return NewPlan("", total, p.First, p.Months, p.DownPayment)
}
