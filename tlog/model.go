package tlog

import (
	"time"

	"reclaim/date"
	"reclaim/money"
)

// The shapes of a pool's ledger as the database stores them and the API serves them.

// Pool is a pool's transparency log as stored.
type Pool struct {
	Pool        string     `json:"pool"`
	Origin      string     `json:"origin"`
	Name        string     `json:"name"`
	PortfolioID int64      `json:"portfolio_id,omitempty"`
	Currency    string     `json:"currency"`
	Cutoff      date.Date  `json:"cutoff"`
	Size        int64      `json:"size"`
	Root        Hash       `json:"root"`
	Pending     int64      `json:"pending"` // entries in the outbox, not yet sequenced
	CreatedAt   time.Time  `json:"created_at"`
	FrozenAt    *time.Time `json:"frozen_at,omitempty"`
}

// Leaf is one sequenced entry.
type Leaf struct {
	Index       int64     `json:"index"`
	EventID     string    `json:"event_id"`
	Entry       []byte    `json:"entry"`
	QueuedAt    time.Time `json:"queued_at"`
	SequencedAt time.Time `json:"sequenced_at"`
}

// StoredCheckpoint is a published checkpoint as stored.
type StoredCheckpoint struct {
	Size        int64     `json:"size"`
	Root        Hash      `json:"root"`
	Note        string    `json:"note"`
	Cosigners   int       `json:"cosigners"`
	PublishedAt time.Time `json:"published_at"`
}

// PoolLoan is a loan of a pool under its per-pool reference.
type PoolLoan struct {
	Ref       string       `json:"ref"`
	LoanKey   string       `json:"loan_key"` // the seller's loan id (internal; never on the ledger)
	Claim     money.Amount `json:"claim"`
	Principal money.Amount `json:"principal"`
	Interest  money.Amount `json:"interest"`
	Fees      money.Amount `json:"fees"`
	Balance   money.Amount `json:"balance"`
	Status    string       `json:"status"`
}

// PeriodReport is the full period report whose SHA-256 the period.report entry carries. Its
// figures count the movements sequenced before ToIndex whose effective date is in
// [PeriodStart, PeriodEnd] (periods are cut by effective date: see Place and verify.PeriodReport).
type PeriodReport struct {
	Pool               string           `json:"pool"`
	EventID            string           `json:"event_id"`
	PeriodStart        string           `json:"period_start"`
	PeriodEnd          string           `json:"period_end"`
	FromIndex          int64            `json:"from_index"`
	ToIndex            int64            `json:"to_index"`
	LoansBoarded       int64            `json:"loans_boarded"`
	LoansRemoved       int64            `json:"loans_removed"`
	CollectionsCount   int64            `json:"collections_count"`
	Collections        string           `json:"collections"`
	PrincipalCollected string           `json:"principal_collected"`
	OpeningBalance     string           `json:"opening_balance"`
	BoardedBalance     string           `json:"boarded_balance"`
	RemovedBalance     string           `json:"removed_balance"`
	ClosingBalance     string           `json:"closing_balance"`
	ByChannel          map[string]int64 `json:"collections_by_channel_minor"`
	StatusChanges      map[string]int64 `json:"status_changes"`
	// ReversalsCount and Reversals (canonical amount) are the loan.collection_reversal entries
	// dated in the period; Collections and PrincipalCollected are net of them, ByChannel is
	// gross. Absent (zero) when there were none, so older reports hash as before.
	ReversalsCount int64  `json:"reversals_count,omitempty"`
	Reversals      string `json:"reversals,omitempty"`
	// WaiversCount and Waived (canonical amount) are the loan.waiver entries dated in the
	// period; ClosingBalance is net of them. Absent when there were none.
	WaiversCount int64  `json:"waivers_count,omitempty"`
	Waived       string `json:"waived,omitempty"`
}

// Collection is money received on a loan of a pool.
type Collection struct {
	Pool      string
	LoanRef   string
	Amount    money.Amount // positive, CNY, at most the loan's balance
	Channel   string       // one of verify's Channel* constants
	TxnID     string       // the bank transaction id (unique per pool; committed, not logged)
	Effective date.Date
	PostedBy  string
}

// WitnessInfo names a configured witness and its cosignature verifier key.
type WitnessInfo struct {
	Name string `json:"name"`
	VKey string `json:"vkey"`
}

// CashStatement is the trustee's statement of the pool's collection account for a period.
type CashStatement struct {
	Pool        string
	Account     string // the account number (committed with a fresh salt; never logged)
	PeriodStart date.Date
	PeriodEnd   date.Date
	Opening     money.Amount
	Credits     money.Amount
	Debits      money.Amount
	Closing     money.Amount
	Document    []byte // the statement file as received; its SHA-256 goes on the log
	Effective   date.Date
}

// Integrity is a pool's store self-audit status.
type Integrity struct {
	Pool string `json:"pool"`
	// Damaged is set when the audit or the publisher found the store not matching its entries;
	// the pool is not signed until 'reclaim ledger fsck' finds it clean.
	Damaged    bool            `json:"damaged"`
	DetectedAt *time.Time      `json:"detected_at,omitempty"`
	Report     *IntegrityError `json:"report,omitempty"`
	// AuditedTo is the scheduled audit's cursor: entries [0, AuditedTo) were recomputed in the
	// current pass.
	AuditedTo int64 `json:"audited_to"`
	// LastCleanAt is when the last full pass (or fsck) found the store clean.
	LastCleanAt *time.Time `json:"last_clean_at,omitempty"`
}
