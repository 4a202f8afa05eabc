package workout

import (
	"time"

	"reclaim/date"
	"reclaim/money"
)

// The stored records of payments (sqldb writes them, httpapi serves them). Their meaning is
// docs/payments.md's.

// Payment statuses.
const (
	PaymentApplied  = "applied"  // matched and allocated to a case's loans
	PaymentQueued   = "queued"   // waiting in the unmatched queue (QueueReason says why)
	PaymentReversed = "reversed" // a credit undone by a reversal (ReversedBy)
	PaymentReversal = "reversal" // a reversal line (negative amount; ReversesID)
)

// Payment sources.
const (
	PaymentFromStatement = "statement"
	PaymentFromAPI       = "api"
)

// Kinds of payment allocation.
const (
	AllocPayment  = "payment"
	AllocReversal = "reversal"
)

// Payment is one payment line: a credit or a reversal, with what became of it.
type Payment struct {
	ID          int64               `json:"id"`
	TxnID       string              `json:"txn_id"`
	ImportID    int64               `json:"import_id,omitempty"`
	Line        int                 `json:"line,omitempty"`
	Source      string              `json:"source"`
	ValueDate   date.Date           `json:"value_date"`
	Amount      money.Amount        `json:"amount"`
	Reference   string              `json:"reference"`
	PayerMasked string              `json:"payer_masked,omitempty"`
	Status      string              `json:"status"`
	CaseID      int64               `json:"case_id,omitempty"`
	Method      string              `json:"method,omitempty"`
	QueueReason string              `json:"queue_reason,omitempty"`
	QueueDetail string              `json:"queue_detail,omitempty"`
	Credit      money.Amount        `json:"credit"` // an overpayment held in suspense
	ReversesID  int64               `json:"reverses_id,omitempty"`
	ReversedBy  int64               `json:"reversed_by,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	Actor       string              `json:"actor"`
	CreatedAt   time.Time           `json:"created_at"`
	MatchedBy   string              `json:"matched_by,omitempty"`
	MatchedAt   time.Time           `json:"matched_at,omitzero"`
	Allocations []PaymentAllocation `json:"allocations,omitempty"`
}

// PaymentAllocation is what a payment (Kind payment, amounts > 0) or its reversal (Kind
// reversal, amounts < 0) did to one loan; Pool, PoolLoan and PoolEvent name the ledger entry
// written when the loan is in a pool.
type PaymentAllocation struct {
	Kind      string       `json:"kind"`
	LoanID    int64        `json:"loan_id"`
	CaseID    int64        `json:"case_id"`
	Principal money.Amount `json:"principal"`
	Interest  money.Amount `json:"interest"`
	Fees      money.Amount `json:"fees"`
	Pool      string       `json:"pool,omitempty"`
	PoolLoan  string       `json:"pool_loan,omitempty"`
	PoolEvent string       `json:"pool_event,omitempty"`
}

// StatementImport is a stored statement import with its counts.
type StatementImport struct {
	ID         int64        `json:"id"`
	SHA256     string       `json:"sha256"`
	Filename   string       `json:"filename"`
	Mapping    string       `json:"mapping"`
	Lines      int          `json:"lines"`
	Matched    int          `json:"matched"`
	Queued     int          `json:"queued"`
	Reversals  int          `json:"reversals"`
	Applied    money.Amount `json:"applied"` // sum of the credits applied (CNY minor units across currencies)
	Actor      string       `json:"actor"`
	ImportedAt time.Time    `json:"imported_at"`
}

// PaymentInput is one payment posted through the API: a credit, or (Amount < 0 with Reverses)
// the bounce of an earlier credit. CaseID, when set, posts the credit to that case directly
// (method manual) instead of matching it.
type PaymentInput struct {
	TxnID        string       `json:"txn_id"`
	Date         date.Date    `json:"date"`
	Amount       money.Amount `json:"amount"`
	Reference    string       `json:"reference,omitempty"`
	PayerName    string       `json:"payer_name,omitempty"`
	PayerAccount string       `json:"payer_account,omitempty"`
	PayerID      string       `json:"payer_id,omitempty"`
	PayerPhone   string       `json:"payer_phone,omitempty"`
	Reverses     string       `json:"reverses,omitempty"`
	CaseID       int64        `json:"case_id,omitempty"`
}

// PaymentFilter selects payments for ListPayments; zero fields do not filter.
type PaymentFilter struct {
	Status   string // e.g. PaymentQueued: the unmatched queue
	Reason   string // queue reason
	CaseID   int64
	ImportID int64
	AfterID  int64 // keyset paging: ids greater than this
	BeforeID int64 // keyset paging, newest first: ids smaller than this
	Newest   bool  // newest first (descending id) instead of oldest first
	Limit    int   // default 100, at most 1000
}
