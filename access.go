package reclaim

import "time"

// Access says who reads personal data and why; every read is recorded with it.
type Access struct {
	Actor   string // "user:alice"
	Purpose string // required: why the data is needed ("call about settlement offer")
}

// PIIAccess is one audited read of a borrower's personal data.
type PIIAccess struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Purpose     string    `json:"purpose"`
	PortfolioID int64     `json:"portfolio_id"`
	BorrowerRef string    `json:"borrower_ref"`
	Fields      []string  `json:"fields"` // which personal fields were returned
}

// PIIAccessFilter selects access-log rows; zero fields do not filter.
type PIIAccessFilter struct {
	PortfolioID int64
	Actor       string
	BorrowerRef string
	Since       time.Time // inclusive
	Until       time.Time // exclusive
	Limit       int       // at most this many rows, newest first; <= 0 means 1000
}

// Masked is the masked form of a borrower's personal data, safe for any role that may see the
// portfolio: 张*, 1101**************, 138****5678 (cnid.Mask shows no digit of the birth date,
// sequence number or check character; docs/security-pii.md).
type Masked struct {
	Name       string `json:"name,omitempty"`
	NationalID string `json:"national_id,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// LoanView is a loan as lists show it: the loan record and its borrower's masked personal data.
type LoanView struct {
	Loan
	Borrower Masked `json:"borrower"`
}

// PIIRefusal is one refused personal-data reveal (docs/security-pii.md): who asked, through
// which route, for what, and why it was refused. It holds no personal value.
type PIIRefusal struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Role        string    `json:"role"`
	Route       string    `json:"route"` // "portfolio" (/portfolios/{id}/borrowers/{ref}/personal) or "case" (/cases/{id}/personal)
	PortfolioID int64     `json:"portfolio_id,omitempty"`
	BorrowerRef string    `json:"borrower_ref,omitempty"`
	CaseID      int64     `json:"case_id,omitempty"`
	Purpose     string    `json:"purpose"`
	Reason      string    `json:"reason"` // not_in_scope, not_found
}

// Refusal reasons of a PIIRefusal.
const (
	RefusedNotInScope = "not_in_scope" // the borrower exists but is in none of the caller's cases
	RefusedNotFound   = "not_found"    // no such portfolio, borrower or case
)

// PIIRefusalFilter selects refusals; zero fields do not filter.
type PIIRefusalFilter struct {
	Actor string
	Since time.Time // inclusive
	Until time.Time // exclusive
	Limit int       // at most this many rows, newest first; <= 0 means 1000
}
