// Package market holds the shapes the auction marketplace's store (package sqldb) and API
// (package httpapi) share, so that neither imports the other: organisations and their deposit
// accounts, auctions as listed and as seen, bid receipts, stored events and settlements. The
// rules themselves are package auction's; docs/marketplace.md describes the marketplace.
package market

import (
	"encoding/json"
	"time"

	"reclaim/auction"
	"reclaim/money"
)

// Organisation statuses: registered and waiting for an administrator, approved (qualified to
// bid), rejected.
const (
	OrgPending  = "pending"
	OrgApproved = "approved"
	OrgRejected = "rejected"
)

// Licence types an organisation may hold (the qualification of 银登 practice).
var LicenceTypes = []string{"amc_national", "amc_local", "bank", "consumer_finance", "trust", "other"}

// Org is a bidding organisation.
type Org struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	LicenceType  string     `json:"licence_type"`
	Documents    []string   `json:"documents"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason"`
	Barred       bool       `json:"barred"`
	BarredReason string     `json:"barred_reason"`
	CreatedAt    time.Time  `json:"created_at"`
	CreatedBy    string     `json:"created_by"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecidedBy    string     `json:"decided_by,omitempty"`
}

// OrgSpec registers an organisation: its name, licence type (one of LicenceTypes) and the
// names or references of its qualification documents.
type OrgSpec struct {
	Name        string   `json:"name" minLength:"1" maxLength:"200"`
	LicenceType string   `json:"licence_type" enum:"amc_national,amc_local,bank,consumer_finance,trust,other"`
	Documents   []string `json:"documents,omitempty" maxItems:"50"`
}

// Deposit movement kinds. Credit adds money to the account; Freeze sets some of it aside for an
// auction (before bidding, JA-4); Release returns a frozen deposit; Apply uses it towards the
// price at settlement; Forfeit takes it after a default (JA-8).
const (
	MoveCredit  = "credit"
	MoveFreeze  = "freeze"
	MoveRelease = "release"
	MoveApply   = "apply"
	MoveForfeit = "forfeit"
)

// Movement is one movement of a deposit account (amounts are positive; the kind gives the sign).
type Movement struct {
	ID        int64        `json:"id"`
	OrgID     int64        `json:"org_id"`
	AuctionID int64        `json:"auction_id,omitempty"`
	Kind      string       `json:"kind"`
	Amount    money.Amount `json:"amount"`
	At        time.Time    `json:"at"`
	Actor     string       `json:"actor"`
	Note      string       `json:"note"`
}

// Account is an organisation's deposit account: the balance (credits less what was applied or
// forfeited), what is frozen for auctions, and what is available (balance less frozen).
type Account struct {
	OrgID     int64        `json:"org_id"`
	Balance   money.Amount `json:"balance"`
	Frozen    money.Amount `json:"frozen"`
	Available money.Amount `json:"available"`
	Movements []Movement   `json:"movements"`
}

// Auction statuses: open (listed; bidding may run), sold or failed (closed by the engine),
// settled (sold and transferred), defaulted (the winner did not pay, JA-8).
const (
	StatusOpen      = "open"
	StatusSold      = "sold"
	StatusFailed    = "failed"
	StatusSettled   = "settled"
	StatusDefaulted = "defaulted"
)

// ListingSpec lists an auction. Pack, Format, Kind and Stage take the engine's names
// (auction-rules.md). An NPL package names its portfolio (and optionally a selection of loan
// ids); collateral names none. Amounts are CNY decimal strings. External marks a court auction
// held on an outside platform (recorded and checked, never bid here), with its case number.
type ListingSpec struct {
	Title         string       `json:"title" minLength:"1" maxLength:"200"`
	Description   string       `json:"description,omitempty" maxLength:"4000"`
	Pack          string       `json:"pack" enum:"judicial,yindeng,marketplace"`
	Format        string       `json:"format" enum:"english,sealed,dutch,multi_round"`
	Kind          string       `json:"kind" enum:"movable,real_estate,property_right,npl_package"`
	Stage         string       `json:"stage,omitempty" enum:"first,second,selloff,"`
	PortfolioID   int64        `json:"portfolio_id,omitempty"`
	LoanKeys      []string     `json:"loans,omitempty" maxItems:"100000"`
	Appraisal     money.Amount `json:"appraisal"`
	StartPrice    money.Amount `json:"start_price"`
	Increment     money.Amount `json:"increment"`
	Deposit       money.Amount `json:"deposit"`
	Reserve       money.Amount `json:"reserve"`
	ReservePublic bool         `json:"reserve_public,omitempty"`
	NoticeAt      time.Time    `json:"notice_at"`
	Start         time.Time    `json:"start"`
	End           time.Time    `json:"end"`
	PreviousID    int64        `json:"previous_id,omitempty" doc:"the failed auction this one re-lists (second stage or sell-off)"`
	Rounds        []time.Time  `json:"rounds,omitempty" maxItems:"20"`
	// Dutch is the price schedule of a Dutch auction (format dutch only).
	Dutch *DutchSpec `json:"dutch,omitempty"`
	// DepositExempt lists organisations that need no deposit (a creditor-applicant, JA-4);
	// Preemption the holders of pre-emption rights with their rank, 1 the highest (JA-7).
	DepositExempt []int64      `json:"deposit_exempt,omitempty" maxItems:"100"`
	Preemption    []Preemption `json:"preemption,omitempty" maxItems:"100"`
	External      bool         `json:"external,omitempty"`
	CaseNumber    string       `json:"case_number,omitempty" maxLength:"200"`
	Platform      string       `json:"platform,omitempty" maxLength:"200"`
}

// Preemption is an organisation holding a pre-emption right (JA-7) and its rank (1 highest).
type Preemption struct {
	Org  int64 `json:"org" minimum:"1"`
	Rank int   `json:"rank" minimum:"1"`
}

// Auction is an auction as stored: what was listed, where it stands, and (after the close) the
// outcome with names revealed.
type Auction struct {
	ID          int64           `json:"id"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Pack        string          `json:"pack"`
	Format      string          `json:"format"`
	Kind        string          `json:"kind"`
	Stage       string          `json:"stage"`
	PortfolioID int64           `json:"portfolio_id,omitempty"`
	Loans       int             `json:"loans"`
	External    bool            `json:"external"`
	CaseNumber  string          `json:"case_number,omitempty"`
	Platform    string          `json:"platform,omitempty"`
	PreviousID  int64           `json:"previous_id,omitempty"`
	Status      string          `json:"status"`
	NoticeAt    time.Time       `json:"notice_at"`
	Start       time.Time       `json:"start"`
	End         time.Time       `json:"end"`
	Appraisal   money.Amount    `json:"appraisal"`
	StartPrice  money.Amount    `json:"start_price"`
	Increment   money.Amount    `json:"increment"`
	Deposit     money.Amount    `json:"deposit"`
	Teaser      json.RawMessage `json:"teaser"`
	// Rounds is a multi-round auction's sealed-round deadlines and Dutch a Dutch auction's
	// price schedule, as listed (the room shows them; absent in public teasers).
	Rounds    []time.Time `json:"rounds,omitempty"`
	Dutch     *DutchSpec  `json:"dutch,omitempty"`
	Seq       int64       `json:"seq" doc:"events stored so far"`
	CreatedAt time.Time   `json:"created_at"`
	CreatedBy string      `json:"created_by"`
	ClosedAt  *time.Time  `json:"closed_at,omitempty"`
	Outcome   *Outcome    `json:"outcome,omitempty"`
}

// Outcome is a closed auction's result: sold to the winner (an organisation, named once bidding
// has ended) at the price, or failed with the re-listing bounds.
type Outcome struct {
	Status     string                `json:"status"`
	End        time.Time             `json:"end"`
	WinnerOrg  int64                 `json:"winner_org,omitempty"`
	WinnerName string                `json:"winner_name,omitempty"`
	WinnerCode string                `json:"winner_code,omitempty"`
	Price      money.Amount          `json:"price"`
	Reason     string                `json:"reason,omitempty"`
	Relist     *auction.Relist       `json:"relist,omitempty"`
	SellOff    *auction.SellOffTerms `json:"selloff,omitempty"`
}

// State is an auction as one caller sees it now: the stored auction, the engine's public view
// (bidder codes while bidding runs, JA-5) and the caller's own standing.
type State struct {
	Auction    Auction      `json:"auction"`
	View       auction.View `json:"view"`
	Registered bool         `json:"registered"`
	NDA        bool         `json:"nda"`
	Deposited  bool         `json:"deposited"`
	MyCode     string       `json:"my_code,omitempty"`
	// Now is the server's clock when the state was read: a Dutch auction's View.DutchPrice is
	// the price at Now, and a client counts down to the next step and deadlines from it.
	Now time.Time `json:"now"`
	// DutchNext is when an open Dutch auction's price falls next (absent at the floor).
	DutchNext *time.Time `json:"dutch_next,omitempty"`
}

// Event is one stored event of an auction (for resynchronisation and the published history):
// Seq counts from 1; the bidder is a code while bidding runs and the organisation's name after.
type Event struct {
	AuctionID int64        `json:"auction_id,omitempty" doc:"set in lists spanning auctions (GET /market/me)"`
	Seq       int64        `json:"seq"`
	At        time.Time    `json:"at"`
	Type      string       `json:"type"`
	Bidder    string       `json:"bidder"`
	Amount    money.Amount `json:"amount"`
	Accepted  bool         `json:"accepted"`
	Rule      string       `json:"rule"`
	Reason    string       `json:"reason"`
	Mine      bool         `json:"mine,omitempty"`
}

// DutchSpec is a Dutch auction's price schedule: from the start price the price falls by Step
// every EverySeconds, never below Floor (absent: zero).
type DutchSpec struct {
	Step         money.Amount `json:"step"`
	EverySeconds int64        `json:"every_seconds" minimum:"1" maximum:"2592000"`
	Floor        money.Amount `json:"floor"`
}

// Schedule is the engine's schedule for d (nil for nil).
func (d *DutchSpec) Schedule() *auction.DutchSchedule {
	if d == nil {
		return nil
	}
	return &auction.DutchSchedule{Step: d.Step, Every: time.Duration(d.EverySeconds) * time.Second, Floor: d.Floor}
}

// BidRequest places a bid (or a Dutch acceptance, or a sealed quote: Type "bid" by default).
// An acceptance needs no amount (the price at the server's receipt applies).
type BidRequest struct {
	Amount money.Amount `json:"amount,omitempty" doc:"the bid or quote in yuan; omitted or null for a Dutch acceptance"`
	Key    string       `json:"key,omitempty" maxLength:"128" doc:"idempotency key: a retry with the same key gets the original answer"`
	Type   string       `json:"type,omitempty" enum:"bid,quote,accept,"`
}

// BidReceipt is the answer to a bid, given once the event is durable. Repeat marks the answer
// to a retry (the original answer, nothing placed twice).
type BidReceipt struct {
	AuctionID int64        `json:"auction_id"`
	Seq       int64        `json:"seq"`
	At        time.Time    `json:"at"`
	Accepted  bool         `json:"accepted"`
	Rule      string       `json:"rule"`
	Reason    string       `json:"reason"`
	Repeat    bool         `json:"repeat"`
	Amount    money.Amount `json:"amount"`
	Price     money.Amount `json:"price"`
	End       time.Time    `json:"end"`
	Code      string       `json:"code"`
}

// Settlement statuses.
const (
	SettleAwarded   = "awarded"
	SettlePaid      = "paid"
	SettleSettled   = "settled"
	SettleDefaulted = "defaulted"
)

// Settlement is what follows a sale: award, payment, transfer and its documents, and the ledger
// entry (for loans in a pool) with the bid count and the SHA-256 of the canonical bid history
// (verify.BidHistoryHash).
type Settlement struct {
	AuctionID    int64        `json:"auction_id"`
	WinnerOrg    int64        `json:"winner_org"`
	WinnerName   string       `json:"winner_name"`
	Price        money.Amount `json:"price"`
	Status       string       `json:"status"`
	AwardedAt    time.Time    `json:"awarded_at"`
	PaidAt       *time.Time   `json:"paid_at,omitempty"`
	SettledAt    *time.Time   `json:"settled_at,omitempty"`
	Bids         int64        `json:"bids"`
	HistoryHash  string       `json:"history_hash"`
	LedgerPool   string       `json:"ledger_pool,omitempty"`
	LedgerEvent  string       `json:"ledger_event,omitempty"`
	Agreement    string       `json:"agreement,omitempty"`
	Notification string       `json:"notification,omitempty"`
}

// Public is the settlement as a bidder other than the buyer sees it: without the transfer
// agreement and the debtor-notification list, which name every loan sold by its tape id, its
// borrower's ref and its claim (what the masked tape hides).
func (s Settlement) Public() Settlement {
	s.Agreement, s.Notification = "", ""
	return s
}

// Result is a closed auction's public result: the outcome, the full accepted-bid history (codes
// and, after the close, names), its canonical hash and the settlement so far.
type Result struct {
	Auction     Auction      `json:"auction"`
	Bids        []HistoryBid `json:"bids"`
	HistoryHash string       `json:"history_hash"`
	Settlement  *Settlement  `json:"settlement,omitempty"`
}

// HistoryBid is one accepted bid of the published history, in the order of
// verify.BidHistoryHash's canonical encoding.
type HistoryBid struct {
	N      int64        `json:"n"`
	At     time.Time    `json:"at"`
	Code   string       `json:"code"`
	Name   string       `json:"name,omitempty"`
	Amount money.Amount `json:"amount"`
}

// Outside is the record of a court auction held on an outside platform: its result as the court
// published it. Sold with a price books the proceeds to the loan (LoanKey of the listing's
// portfolio); failed gives the re-listing bounds.
type Outside struct {
	Status  string       `json:"status" enum:"sold,failed"`
	At      time.Time    `json:"at"`
	Price   money.Amount `json:"price"`
	Buyer   string       `json:"buyer,omitempty" maxLength:"200"`
	LoanKey string       `json:"loan,omitempty" maxLength:"200"`
	Pool    string       `json:"pool,omitempty" maxLength:"128"`
	TxnID   string       `json:"txn_id,omitempty" maxLength:"128"`
}

// RefusedAttempt is a refused request, for the record.
type RefusedAttempt struct {
	ID        int64     `json:"id"`
	AuctionID int64     `json:"auction_id,omitempty"`
	OrgID     int64     `json:"org_id,omitempty"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// Download is one logged tape download.
type Download struct {
	Watermark string    `json:"watermark"`
	AuctionID int64     `json:"auction_id"`
	OrgID     int64     `json:"org_id,omitempty"`
	Actor     string    `json:"actor"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
}

// MaxFileBytes is the largest listing file (a photo or a PDF) an auction takes: the store refuses
// a larger one, and the API lets a request body of that size through to the upload route.
const MaxFileBytes = 8 << 20

// BlobInfo describes a stored listing file.
type BlobInfo struct {
	ID          int64     `json:"id"`
	AuctionID   int64     `json:"auction_id"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	At          time.Time `json:"at"`
}
