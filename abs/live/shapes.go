package live

import (
	"time"

	"reclaim/date"
	"reclaim/money"
)

// The stored shapes of live deals, shared by sqldb (which stores them) and httpapi (which serves
// them) without either importing the other.

// DealRecord is a stored deal: its pool, the document in force (Doc) and its hash, the hash it was
// opened with, and the selection criteria (JSON).
type DealRecord struct {
	Pool       string    `json:"pool"`
	Name       string    `json:"name"`
	Origin     string    `json:"origin"`
	Hash       string    `json:"hash"`
	OpenedHash string    `json:"opened_hash"`
	Criteria   string    `json:"criteria"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	Doc        []byte    `json:"-"`
}

// ReportInfo lists a stored report.
type ReportInfo struct {
	Period      int       `json:"period"`
	PaymentDate date.Date `json:"payment_date"`
	EventID     string    `json:"event_id"`
	Hash        string    `json:"hash"`
	CreatedAt   time.Time `json:"created_at"`
}

// DealLoanRow is a pool loan without personal data: its random per-pool reference, its boarding
// attributes (the region cut to its prefecture) and its balance now.
type DealLoanRow struct {
	Ref        string       `json:"ref"`
	Product    string       `json:"product"`
	Prefecture string       `json:"prefecture"`
	Grade      string       `json:"grade"`
	DPD        int64        `json:"dpd_at_boarding"`
	Claim      money.Amount `json:"claim_at_boarding"`
	Balance    money.Amount `json:"balance"`
	Status     string       `json:"status"`
}

// Investor is an investor organisation.
type Investor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Holding is an investor's holding of a deal's tranche.
type Holding struct {
	Investor string       `json:"investor"`
	Pool     string       `json:"pool"`
	Tranche  string       `json:"tranche"`
	Amount   money.Amount `json:"amount"`
}
