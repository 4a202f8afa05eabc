package reclaim

import (
	"log/slog"
	"time"

	"reclaim/date"
	"reclaim/money"
)

// ProductType is the kind of credit product (tape field product_type).
type ProductType string

// Product types of the canonical tape schema.
const (
	CreditCard     ProductType = "credit_card"
	ConsumerLoan   ProductType = "consumer_loan"
	BusinessLoan   ProductType = "business_loan"
	AutoLoan       ProductType = "auto_loan"
	MortgageLoan   ProductType = "mortgage"
	UnknownProduct ProductType = ""
)

// ProductTypes lists the valid product types in display order.
var ProductTypes = []ProductType{CreditCard, ConsumerLoan, BusinessLoan, AutoLoan, MortgageLoan}

// FiveCategory is the Chinese regulatory loan grade (五级分类) of a non-performing loan.
type FiveCategory string

// Non-performing grades: 次级, 可疑, 损失.
const (
	Substandard FiveCategory = "substandard"
	Doubtful    FiveCategory = "doubtful"
	Loss        FiveCategory = "loss"
)

// FiveCategories lists the valid grades in order of severity.
var FiveCategories = []FiveCategory{Substandard, Doubtful, Loss}

// SecurityType is how a loan is secured (担保方式).
type SecurityType string

// Security types.
const (
	Unsecured  SecurityType = "unsecured"
	Guaranteed SecurityType = "guaranteed"
	Mortgaged  SecurityType = "mortgage"
	Pledged    SecurityType = "pledge"
)

// SecurityTypes lists the valid security types.
var SecurityTypes = []SecurityType{Unsecured, Guaranteed, Mortgaged, Pledged}

// LegalStatus is where a loan stands in the courts (诉讼状态).
type LegalStatus string

// Legal statuses in the order a case moves through them.
const (
	NotSued               LegalStatus = "not_sued"
	InLitigation          LegalStatus = "in_litigation"
	Mediated              LegalStatus = "mediated"
	Judgment              LegalStatus = "judgment"
	Enforcement           LegalStatus = "enforcement"
	EnforcementTerminated LegalStatus = "enforcement_terminated"
	Closed                LegalStatus = "closed"
)

// LegalStatuses lists the valid legal statuses.
var LegalStatuses = []LegalStatus{NotSued, InLitigation, Mediated, Judgment, Enforcement, EnforcementTerminated, Closed}

// Loan is one row of a loan tape in the canonical schema (design/tape.md), without the borrower's
// personal data. Optional dates are the zero date.Date when absent, optional amounts the absent
// money.Amount, and optional counts -1.
type Loan struct {
	PortfolioRef string      `json:"portfolio_id"` // portfolio_id: the seller's package id
	CutOffDate   date.Date   `json:"cut_off_date"` // cut_off_date: the reference date of all balances
	LoanID       string      `json:"loan_id"`      // loan_id: the seller's loan key, unique in the portfolio
	BorrowerID   string      `json:"borrower_id"`  // borrower_id: the seller's debtor key
	ProductType  ProductType `json:"product_type"`

	OriginationDate date.Date      `json:"origination_date"`
	OriginalAmount  money.Amount   `json:"original_amount"` // original principal or credit line
	Currency        money.Currency `json:"currency"`

	PrincipalOutstanding money.Amount `json:"principal_outstanding"`
	InterestOutstanding  money.Amount `json:"interest_outstanding"` // accrued and penalty interest, on and off book
	FeesOutstanding      money.Amount `json:"fees_outstanding"`
	TotalClaim           money.Amount `json:"total_claim"` // principal + interest + fees, to the cent

	DefaultDate  date.Date    `json:"default_date"`  // start of arrears
	DaysPastDue  int          `json:"days_past_due"` // cut_off_date - default_date
	FiveCategory FiveCategory `json:"five_category"`
	WrittenOff   bool         `json:"written_off"`
	WriteOffDate date.Date    `json:"write_off_date"`
	SecurityType SecurityType `json:"security_type"`

	LastPaymentDate   date.Date    `json:"last_payment_date"`
	LastPaymentAmount money.Amount `json:"last_payment_amount"`

	LegalStatus          LegalStatus `json:"legal_status"`
	LegalStartDate       date.Date   `json:"legal_start_date"`
	Court                string      `json:"court,omitempty"`
	LimitationExpiryDate date.Date   `json:"limitation_expiry_date"` // 3 years from the last interruption (Civil Code arts. 188, 195)

	// BirthDate is the borrower's birth date as a tape gives it (or as the national ID implies). It
	// is personal data: it is never serialised (json "-"), never stored in the loans table (an
	// import seals it into PersonalData.BirthDate) and zero on every loan read from the store.
	BirthDate date.Date `json:"-"`
	// BirthYear is the borrower's year of birth, 0 when unknown: what lists and features see
	// instead of the birth date (docs/security-pii.md explains why the year, not the date or the
	// exact age, may stand beside a masked national ID).
	BirthYear int `json:"birth_year,omitempty"`
	// Age is the age in years at the cut-off as a tape gives it; -1 when unknown. On a loan read
	// from the store whose birth year is known it is cut-off year - birth year (the age reached in
	// the cut-off year, one more than the exact age before the birthday), so that it adds nothing
	// to the birth year.
	Age        int    `json:"age"`
	RegionCode string `json:"region_code"` // GB/T 2260 six-digit code (CNY tapes); free text elsewhere
	Deceased   bool   `json:"deceased"`
	Bankrupt   bool   `json:"bankrupt"`

	PhoneAvailable      bool      `json:"phone_available"`
	LastContactDate     date.Date `json:"last_contact_date"`
	ForbearanceCount    int       `json:"forbearance_count"` // -1 when unknown
	RepaymentPlanActive bool      `json:"repayment_plan_active"`
	AgencyPlacements    int       `json:"agency_placements"`
	ComplaintFlag       bool      `json:"complaint_flag"`

	// Extras keeps columns a mapping file asked to carry along (for example LendingClub's grade),
	// by column name.
	Extras map[string]string `json:"extras,omitempty"`
}

// Claim returns principal + interest + fees, checked.
func (l *Loan) Claim() (money.Amount, error) {
	return money.Sum(l.PrincipalOutstanding, l.InterestOutstanding, l.FeesOutstanding)
}

// PersonalData is a borrower's personal information. It is stored only encrypted, is never logged
// (LogValue redacts it), never leaves in a bidder tape, and every decrypted read is audited.
type PersonalData struct {
	Name       string `json:"name,omitempty"`
	NationalID string `json:"national_id,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Address    string `json:"address,omitempty"`
	Employer   string `json:"employer,omitempty"`
	BankCard   string `json:"bank_card,omitempty"`
	Contacts   string `json:"contacts,omitempty"`
	// BirthDate is the borrower's birth date: sealed with the rest, never in a loan list (which
	// shows the birth year only).
	BirthDate date.Date `json:"birth_date,omitzero"`
}

// IsEmpty reports whether no personal field is set.
func (p PersonalData) IsEmpty() bool { return p == PersonalData{} }

// LogValue implements slog.LogValuer: personal data never reaches a log.
func (p PersonalData) LogValue() slog.Value { return slog.StringValue("[personal data redacted]") }

// String redacts, so that fmt never prints personal data either.
func (p PersonalData) String() string { return "[personal data redacted]" }

// GoString redacts for %#v.
func (p PersonalData) GoString() string { return "[personal data redacted]" }

// Seller is a bank or consumer-finance company that sells loan packages.
type Seller struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Portfolio is a package of loans imported from one tape.
type Portfolio struct {
	ID          int64          `json:"id"`
	SellerID    int64          `json:"seller_id"`
	SellerName  string         `json:"seller_name"`
	Ref         string         `json:"ref"`  // the seller's package id (portfolio_id on the tape)
	Name        string         `json:"name"` // a display name
	CutOffDate  date.Date      `json:"cut_off_date"`
	Currency    money.Currency `json:"currency"`
	Status      string         `json:"status"` // "active" once imported
	LoanCount   int64          `json:"loan_count"`
	TotalClaim  money.Amount   `json:"total_claim"`
	SourceFile  string         `json:"source_file"`
	ContentHash string         `json:"content_hash"` // SHA-256 of the tape bytes, hex
	ImportedAt  time.Time      `json:"imported_at"`
	// Salt keys the masked identifiers of bidder tapes; it never leaves the server.
	Salt []byte `json:"-"`
}

// PortfolioStatus values.
const (
	PortfolioActive = "active"
)

// Repayment is one month of a loan's repayment history (the repayments table of design/tape.md).
type Repayment struct {
	LoanID  string       `json:"loan_id"`
	Month   date.Date    `json:"month"` // the first day of the month
	Amount  money.Amount `json:"amount"`
	Source  string       `json:"source"`  // debtor, guarantor, collateral, court
	Channel string       `json:"channel"` // internal, agency, legal
}

// Repayment sources and channels.
const (
	SourceDebtor     = "debtor"
	SourceGuarantor  = "guarantor"
	SourceCollateral = "collateral"
	SourceCourt      = "court"

	ChannelInternal = "internal"
	ChannelAgency   = "agency"
	ChannelLegal    = "legal"
)

// Event is a fact recorded about a portfolio: an import, an export, a status change.
type Event struct {
	ID          int64     `json:"id"`
	PortfolioID int64     `json:"portfolio_id,omitempty"`
	Type        string    `json:"type"`
	Actor       string    `json:"actor"`
	Detail      string    `json:"detail"` // JSON
	At          time.Time `json:"at"`
}

// Event types.
const (
	EventTapeImported   = "tape.imported"
	EventTapeExported   = "tape.exported"
	EventMaskedExported = "tape.masked_exported"
)
