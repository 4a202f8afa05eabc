package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// EntryVersion is the value of the "v" key of every entry this package reads and writes.
const EntryVersion = 1

// MaxEntrySize is the largest encoded entry, in bytes, that Encode produces and ParseEntry
// accepts.
const MaxEntrySize = 8192

// The entry types. Each is the value of an entry's "type" key and has one Go struct below.
const (
	TypePoolOpened        = "pool.opened"
	TypeLoanBoarded       = "loan.boarded"
	TypeLoanCollection    = "loan.collection"
	TypeLoanStatus        = "loan.status"
	TypeLoanRemoved       = "loan.removed"
	TypeLoanRecordUpdated = "loan.record_updated"
	TypeCashStatement     = "cash.statement"
	TypePeriodReport      = "period.report"
	TypeAuctionResult     = "auction.result"
	TypeKeyRotation       = "key.rotation"
	// TypeLoanCollectionReversal undoes a loan.collection whose payment bounced (see
	// LoanCollectionReversal).
	TypeLoanCollectionReversal = "loan.collection_reversal"
	// TypeLoanWaiver forgives part of a loan's claim in a settlement (see LoanWaiver).
	TypeLoanWaiver = "loan.waiver"
)

// Collection channels: the allowed values of LoanCollection.Channel.
const (
	ChannelBankTransfer = "bank_transfer"
	ChannelOnline       = "online"
	ChannelCash         = "cash"
	ChannelCourt        = "court"
	ChannelAgency       = "agency"
	ChannelSale         = "sale"
)

// Loan statuses: the allowed values of LoanStatus.Status.
const (
	StatusOpen       = "open"
	StatusContacted  = "contacted"
	StatusPromise    = "promise"
	StatusPlan       = "plan"
	StatusSettled    = "settled"
	StatusLitigation = "litigation"
	StatusJudgment   = "judgment"
	StatusWrittenOff = "written_off"
	StatusClosed     = "closed"
)

// Removal reasons: the allowed values of LoanRemoved.Reason.
const (
	RemovalRemoved     = "removed"
	RemovalRepurchased = "repurchased"
	RemovalSold        = "sold"
)

var (
	channels = []string{ChannelBankTransfer, ChannelOnline, ChannelCash, ChannelCourt, ChannelAgency, ChannelSale}
	statuses = []string{StatusOpen, StatusContacted, StatusPromise, StatusPlan, StatusSettled, StatusLitigation,
		StatusJudgment, StatusWrittenOff, StatusClosed}
	removalReasons = []string{RemovalRemoved, RemovalRepurchased, RemovalSold}
)

// MaxJSONInt is the largest integer an entry carries (2^53-1), so that every integer survives a
// round trip through a JavaScript or other float64-based JSON reader.
const MaxJSONInt = 1<<53 - 1

// Header is the common start of every entry: after "v" (always EntryVersion) come "pool",
// "event_id", "type" (implied by the Go type that embeds the Header) and "effective".
//
// Pool is 1 to 128 characters of [A-Za-z0-9._:/-]; EventID is 1 to 64 characters of
// [A-Za-z0-9._:-] and is unique within the log; Effective is the business date YYYY-MM-DD.
type Header struct {
	Pool      string
	EventID   string
	Effective string
	// V is the entry schema version the entry is written in: 0 (the default) and 1 mean version
	// 1; 2 means version 2 (entry_v2.go), which adds the deal entry types and the boarding
	// attributes of loan.boarded. The deal.* types are always version 2, whatever V says.
	V int64
}

// EntryHeader returns the entry's common header.
func (h Header) EntryHeader() Header { return h }

// Entry is one decoded log entry: one of PoolOpened, LoanBoarded, LoanCollection,
// LoanCollectionReversal, LoanStatus, LoanRemoved, LoanRecordUpdated, CashStatement,
// PeriodReport, AuctionResult or KeyRotation
// (the values, not pointers). ParseEntry returns an Entry; a type switch gets the body.
type Entry interface {
	// EntryHeader returns the common header.
	EntryHeader() Header
	// Type returns the entry type, one of the Type* constants.
	Type() string
	// Validate checks every field and cross-field rule; it returns an *EntryError naming the
	// first problem, or nil.
	Validate() error
	// Encode validates the entry and returns its canonical encoding (the exact bytes that are
	// hashed into the log), or an *EntryError.
	Encode() ([]byte, error)
}

// EntryError is a problem with an entry: Key names the JSON key at fault ("" for the entry as a
// whole) and Problem says what is wrong.
type EntryError struct {
	Key     string
	Problem string
}

// Error returns "entry: <key>: <problem>" (or "entry: <problem>" without a key).
func (e *EntryError) Error() string {
	if e.Key == "" {
		return "entry: " + e.Problem
	}
	return "entry: " + e.Key + ": " + e.Problem
}

func entryErr(key, format string, args ...any) error {
	return &EntryError{Key: key, Problem: fmt.Sprintf(format, args...)}
}

// PoolOpened (type "pool.opened") opens a pool: its name, the cut-off date of the balances, its
// currency (three upper-case letters, e.g. CNY) and the hex SHA-256 of its waterfall definition
// (empty when there is none yet).
type PoolOpened struct {
	Header
	Name          string
	Cutoff        string
	Currency      string
	WaterfallHash string
}

// LoanBoarded (type "loan.boarded") adds a loan to the pool under its random per-pool reference
// Loan. Claim = Principal + Interest + Fees is its opening balance; DPD is days past due at
// boarding; Commitment is Commit(salt, TagLoanRecord, record) of the loan's record.
type LoanBoarded struct {
	Header
	Loan       string
	Claim      Amount
	Principal  Amount
	Interest   Amount
	Fees       Amount
	DPD        int64
	Commitment string
	// Product, Region and Grade are written only in version 2 (Header.V = 2): the loan's product
	// type, its GB/T 2260 region code (six digits) and its five-category grade at boarding, each
	// empty when the tape did not say (see entry_v2.go for the allowed values).
	Product string
	Region  string
	Grade   string
}

// LoanCollection (type "loan.collection") is money collected on a loan: Amount (positive) is
// split into Principal + Interest + Fees, arrived through Channel (one of the Channel* constants)
// and BankTxn is Commit(salt, TagBankTxn, BankTxnRecord(txnID)) of the bank transaction. It
// reduces the loan's balance by Amount.
type LoanCollection struct {
	Header
	Loan      string
	Amount    Amount
	Principal Amount
	Interest  Amount
	Fees      Amount
	Channel   string
	BankTxn   string
}

// LoanCollectionReversal (type "loan.collection_reversal") undoes the loan.collection whose
// event_id is Reverses, because its payment bounced or was returned: Amount, Principal, Interest
// and Fees are exactly the collection's (Amount positive, the sum of the three), and the loan's
// balance goes back up by Amount. Reason is free text of at most 200 characters ("bounced").
// A collection is reversed at most once; a period report's collections and principal_collected
// are net of the reversals dated in the period (see ReportEntries).
type LoanCollectionReversal struct {
	Header
	Loan      string
	Amount    Amount
	Principal Amount
	Interest  Amount
	Fees      Amount
	Reverses  string
	Reason    string
}

// LoanWaiver (type "loan.waiver") records the part of a loan's claim forgiven when a settlement
// was paid in full: no cash moves, the loan's balance falls by Amount (positive, the sum of
// Principal, Interest and Fees, and at most the loan's balance). Settlement names the settlement
// (an opaque reference such as "offer-12", 1 to 64 characters of an event id); Reason is free
// text of at most 200 characters. A period report counts the waivers dated in the period in its
// roll-forward: closing = opening + boarded - collections - removed - waived (a report of a
// period with waivers is written in version 2, which carries waivers_count and waived).
type LoanWaiver struct {
	Header
	Loan       string
	Amount     Amount
	Principal  Amount
	Interest   Amount
	Fees       Amount
	Settlement string
	Reason     string
}

// LoanStatus (type "loan.status") records a workout status change (one of the Status*
// constants) with an optional free-text Reason of at most 200 characters.
type LoanStatus struct {
	Header
	Loan   string
	Status string
	Reason string
}

// LoanRemoved (type "loan.removed") takes a loan out of the pool for Reason (one of the Removal*
// constants). Balance is the loan's remaining balance, which leaves the pool; Price is what was
// paid for it (0.00 when nothing was).
type LoanRemoved struct {
	Header
	Loan    string
	Reason  string
	Balance Amount
	Price   Amount
}

// LoanRecordUpdated (type "loan.record_updated") commits to a new version of a loan's record:
// Commitment is Commit(freshSalt, TagLoanRecord, newRecord) and Fields lists the names of the
// fields that changed (1 to 64 characters of [a-z0-9_.] each, at least one, distinct, sorted).
type LoanRecordUpdated struct {
	Header
	Loan       string
	Commitment string
	Fields     []string
}

// CashStatement (type "cash.statement") is the trustee's statement of the pool's collection
// account (Account is Commit(salt, TagBankAccount, accountNumber)) for PeriodStart..PeriodEnd:
// Opening + Credits - Debits = Closing. StatementHash is the hex SHA-256 of the statement file.
type CashStatement struct {
	Header
	Account       string
	PeriodStart   string
	PeriodEnd     string
	Opening       Amount
	Credits       Amount
	Debits        Amount
	Closing       Amount
	StatementHash string
}

// PeriodReport (type "period.report") is the servicer's report for PeriodStart..PeriodEnd (both
// inclusive). Periods are cut by effective date, not log position (see IsMovement): the counts
// and sums are over the movements sequenced before the report (index < ToIndex, the index of the
// report entry itself) whose effective date lies in the period; a movement dated after
// PeriodEnd counts in the period of its date. FromIndex is the smallest index of a counted
// movement, or the previous report's ToIndex (0 for the first) if that is smaller, so
// [FromIndex, ToIndex) holds every counted movement. PeriodStart is the day after the previous
// report's PeriodEnd. OpeningBalance is the previous report's ClosingBalance (0.00 for the first) and
// ClosingBalance = OpeningBalance + BoardedBalance - Collections - RemovedBalance (- Waived in
// version 2).
// ReportHash is the hex SHA-256 of the full report document.
type PeriodReport struct {
	Header
	PeriodStart        string
	PeriodEnd          string
	FromIndex          int64
	ToIndex            int64
	LoansBoarded       int64
	LoansRemoved       int64
	CollectionsCount   int64
	Collections        Amount
	PrincipalCollected Amount
	OpeningBalance     Amount
	BoardedBalance     Amount
	RemovedBalance     Amount
	ClosingBalance     Amount
	ReportHash         string
	// WaiversCount and Waived (version 2 only, Header.V = 2) count the loan.waiver entries
	// dated in the period; ClosingBalance is then also net of Waived. A period with waivers is
	// reported in version 2; one without may be reported in either.
	WaiversCount int64
	Waived       Amount
}

// AuctionResult (type "auction.result") is the result of an auction of pool loans, written at
// settlement: the auction and lot identifiers (1 to 200 characters each), how many loans the lot
// held, the price, the winner as Commit(salt, TagBidder, bidderID), how many bids were accepted
// and BidHistory, the SHA-256 (64 lower-case hex) of the canonical encoding of the accepted-bid
// history (BidHistoryHash), so that anyone holding the published history can check it against
// the log.
type AuctionResult struct {
	Header
	Auction    string
	Lot        string
	Loans      int64
	Price      Amount
	Winner     string
	Bids       int64
	BidHistory string
}

// KeyRotation (type "key.rotation") announces that the log's checkpoints will from now on be
// signed with NewKey instead of OldKey (both sumdb/note verifier keys, and different).
type KeyRotation struct {
	Header
	OldKey string
	NewKey string
}

// Type returns TypePoolOpened.
func (PoolOpened) Type() string { return TypePoolOpened }

// Type returns TypeLoanBoarded.
func (LoanBoarded) Type() string { return TypeLoanBoarded }

// Type returns TypeLoanCollection.
func (LoanCollection) Type() string { return TypeLoanCollection }

// Type returns TypeLoanCollectionReversal.
func (LoanCollectionReversal) Type() string { return TypeLoanCollectionReversal }

// Validate checks the entry; see Entry.
func (e LoanCollectionReversal) Validate() error { return validate(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanCollectionReversal) Encode() ([]byte, error) { return encode(&e) }

// Type returns TypeLoanWaiver.
func (LoanWaiver) Type() string { return TypeLoanWaiver }

// Validate checks the entry; see Entry.
func (e LoanWaiver) Validate() error { return validate(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanWaiver) Encode() ([]byte, error) { return encode(&e) }

// Type returns TypeLoanStatus.
func (LoanStatus) Type() string { return TypeLoanStatus }

// Type returns TypeLoanRemoved.
func (LoanRemoved) Type() string { return TypeLoanRemoved }

// Type returns TypeLoanRecordUpdated.
func (LoanRecordUpdated) Type() string { return TypeLoanRecordUpdated }

// Type returns TypeCashStatement.
func (CashStatement) Type() string { return TypeCashStatement }

// Type returns TypePeriodReport.
func (PeriodReport) Type() string { return TypePeriodReport }

// Type returns TypeAuctionResult.
func (AuctionResult) Type() string { return TypeAuctionResult }

// Type returns TypeKeyRotation.
func (KeyRotation) Type() string { return TypeKeyRotation }

// Validate checks the entry; see Entry.
func (e PoolOpened) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e LoanBoarded) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e LoanCollection) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e LoanStatus) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e LoanRemoved) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e LoanRecordUpdated) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e CashStatement) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e PeriodReport) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e AuctionResult) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e KeyRotation) Validate() error { return validate(&e) }

// Encode returns the canonical encoding; see Entry.
func (e PoolOpened) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanBoarded) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanCollection) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanStatus) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanRemoved) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e LoanRecordUpdated) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e CashStatement) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e PeriodReport) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e AuctionResult) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding; see Entry.
func (e KeyRotation) Encode() ([]byte, error) { return encode(&e) }

// rule is a per-field value constraint.
type rule int

const (
	ruleNone rule = iota
	rulePool
	ruleEventID
	ruleDate
	ruleLoan
	ruleHex      // 64 lower-case hex digits
	ruleHexEmpty // 64 lower-case hex digits or empty
	ruleCurrency
	ruleName     // 1..200 characters
	ruleText     // 0..200 characters
	ruleChannel  // one of channels
	ruleStatus   // one of statuses
	ruleRemoval  // one of removalReasons
	ruleVKey     // note verifier key
	ruleFields   // field names: non-empty, distinct, sorted
	ruleAmount   // non-negative canonical amount
	ruleInt      // 0..MaxJSONInt
	rulePositive // amount > 0
)

// field binds one JSON key of an entry body to the Go field that holds it. Exactly one of s, a,
// n, l is set.
type field struct {
	key  string
	rule rule
	s    *string
	a    *Amount
	n    *int64
	l    *[]string
}

func fStr(key string, r rule, p *string) field    { return field{key: key, rule: r, s: p} }
func fAmt(key string, p *Amount) field            { return field{key: key, rule: ruleAmount, a: p} }
func fPos(key string, p *Amount) field            { return field{key: key, rule: rulePositive, a: p} }
func fInt(key string, p *int64) field             { return field{key: key, rule: ruleInt, n: p} }
func fList(key string, r rule, p *[]string) field { return field{key: key, rule: r, l: p} }

// body is implemented by pointers to the entry structs.
type body interface {
	Entry
	header() *Header
	fields() []field
	check() error
}

func (h *Header) header() *Header { return h }

func (e *PoolOpened) fields() []field {
	return []field{fStr("name", ruleName, &e.Name), fStr("cutoff", ruleDate, &e.Cutoff),
		fStr("currency", ruleCurrency, &e.Currency), fStr("waterfall_hash", ruleHexEmpty, &e.WaterfallHash)}
}

func (e *LoanBoarded) fields() []field {
	fs := []field{fStr("loan", ruleLoan, &e.Loan), fAmt("claim", &e.Claim), fAmt("principal", &e.Principal),
		fAmt("interest", &e.Interest), fAmt("fees", &e.Fees), fInt("dpd", &e.DPD),
		fStr("commitment", ruleHex, &e.Commitment)}
	if e.V == EntryVersion2 {
		fs = append(fs, fStr("product", ruleProduct, &e.Product), fStr("region", ruleRegion, &e.Region),
			fStr("grade", ruleGrade, &e.Grade))
	}
	return fs
}

func (e *LoanCollection) fields() []field {
	return []field{fStr("loan", ruleLoan, &e.Loan), fPos("amount", &e.Amount), fAmt("principal", &e.Principal),
		fAmt("interest", &e.Interest), fAmt("fees", &e.Fees), fStr("channel", ruleChannel, &e.Channel),
		fStr("bank_txn", ruleHex, &e.BankTxn)}
}

func (e *LoanCollectionReversal) fields() []field {
	return []field{fStr("loan", ruleLoan, &e.Loan), fPos("amount", &e.Amount), fAmt("principal", &e.Principal),
		fAmt("interest", &e.Interest), fAmt("fees", &e.Fees), fStr("reverses", ruleEventID, &e.Reverses),
		fStr("reason", ruleText, &e.Reason)}
}

func (e *LoanWaiver) fields() []field {
	return []field{fStr("loan", ruleLoan, &e.Loan), fPos("amount", &e.Amount), fAmt("principal", &e.Principal),
		fAmt("interest", &e.Interest), fAmt("fees", &e.Fees), fStr("settlement", ruleEventID, &e.Settlement),
		fStr("reason", ruleText, &e.Reason)}
}

func (e *LoanStatus) fields() []field {
	return []field{fStr("loan", ruleLoan, &e.Loan), fStr("status", ruleStatus, &e.Status),
		fStr("reason", ruleText, &e.Reason)}
}

func (e *LoanRemoved) fields() []field {
	return []field{fStr("loan", ruleLoan, &e.Loan), fStr("reason", ruleRemoval, &e.Reason),
		fAmt("balance", &e.Balance), fAmt("price", &e.Price)}
}

func (e *LoanRecordUpdated) fields() []field {
	return []field{fStr("loan", ruleLoan, &e.Loan), fStr("commitment", ruleHex, &e.Commitment),
		fList("fields", ruleFields, &e.Fields)}
}

func (e *CashStatement) fields() []field {
	return []field{fStr("account", ruleHex, &e.Account), fStr("period_start", ruleDate, &e.PeriodStart),
		fStr("period_end", ruleDate, &e.PeriodEnd), fAmt("opening", &e.Opening), fAmt("credits", &e.Credits),
		fAmt("debits", &e.Debits), fAmt("closing", &e.Closing), fStr("statement_hash", ruleHex, &e.StatementHash)}
}

func (e *PeriodReport) fields() []field {
	fs := []field{fStr("period_start", ruleDate, &e.PeriodStart), fStr("period_end", ruleDate, &e.PeriodEnd),
		fInt("from_index", &e.FromIndex), fInt("to_index", &e.ToIndex), fInt("loans_boarded", &e.LoansBoarded),
		fInt("loans_removed", &e.LoansRemoved), fInt("collections_count", &e.CollectionsCount),
		fAmt("collections", &e.Collections), fAmt("principal_collected", &e.PrincipalCollected),
		fAmt("opening_balance", &e.OpeningBalance), fAmt("boarded_balance", &e.BoardedBalance),
		fAmt("removed_balance", &e.RemovedBalance), fAmt("closing_balance", &e.ClosingBalance),
		fStr("report_hash", ruleHex, &e.ReportHash)}
	if e.V == EntryVersion2 {
		fs = append(fs, fInt("waivers_count", &e.WaiversCount), fAmt("waived", &e.Waived))
	}
	return fs
}

func (e *AuctionResult) fields() []field {
	return []field{fStr("auction", ruleName, &e.Auction), fStr("lot", ruleName, &e.Lot), fInt("loans", &e.Loans),
		fAmt("price", &e.Price), fStr("winner", ruleHex, &e.Winner), fInt("bids", &e.Bids),
		fStr("bid_history", ruleHex, &e.BidHistory)}
}

func (e *KeyRotation) fields() []field {
	return []field{fStr("old_key", ruleVKey, &e.OldKey), fStr("new_key", ruleVKey, &e.NewKey)}
}

func (e *PoolOpened) check() error { return nil }

func (e *LoanBoarded) check() error {
	return sumCheck("claim", e.Claim, e.Principal, e.Interest, e.Fees)
}

func (e *LoanCollection) check() error {
	return sumCheck("amount", e.Amount, e.Principal, e.Interest, e.Fees)
}

func (e *LoanCollectionReversal) check() error {
	if e.Reverses == e.EventID {
		return entryErr("reverses", "an entry cannot reverse itself")
	}
	return sumCheck("amount", e.Amount, e.Principal, e.Interest, e.Fees)
}

func (e *LoanWaiver) check() error {
	return sumCheck("amount", e.Amount, e.Principal, e.Interest, e.Fees)
}

func (e *LoanStatus) check() error { return nil }

func (e *LoanRemoved) check() error { return nil }

func (e *LoanRecordUpdated) check() error { return nil }

func (e *CashStatement) check() error {
	if e.PeriodEnd < e.PeriodStart {
		return entryErr("period_end", "%s is before period_start %s", e.PeriodEnd, e.PeriodStart)
	}
	in, ok := e.Opening.Add(e.Credits)
	if !ok || in < e.Debits || in-e.Debits != e.Closing {
		return entryErr("closing", "%s is not opening %s + credits %s - debits %s", e.Closing, e.Opening, e.Credits, e.Debits)
	}
	return nil
}

func (e *PeriodReport) check() error {
	if e.PeriodEnd < e.PeriodStart {
		return entryErr("period_end", "%s is before period_start %s", e.PeriodEnd, e.PeriodStart)
	}
	if e.ToIndex < e.FromIndex {
		return entryErr("to_index", "%d is below from_index %d", e.ToIndex, e.FromIndex)
	}
	if e.PrincipalCollected > e.Collections {
		return entryErr("principal_collected", "%s exceeds collections %s", e.PrincipalCollected, e.Collections)
	}
	if e.V != EntryVersion2 && (e.WaiversCount != 0 || e.Waived != 0) {
		return entryErr("waived", "waivers are reported in version %d", EntryVersion2)
	}
	if e.WaiversCount < 0 {
		return entryErr("waivers_count", "%d is negative", e.WaiversCount)
	}
	in, ok := e.OpeningBalance.Add(e.BoardedBalance)
	out, ok2 := e.Collections.Add(e.RemovedBalance)
	out, ok3 := out.Add(e.Waived)
	if !ok || !ok2 || !ok3 || in < out || in-out != e.ClosingBalance {
		return entryErr("closing_balance", "%s is not opening_balance %s + boarded_balance %s - collections %s - removed_balance %s - waived %s",
			e.ClosingBalance, e.OpeningBalance, e.BoardedBalance, e.Collections, e.RemovedBalance, e.Waived)
	}
	return nil
}

func (e *AuctionResult) check() error { return nil }

func (e *KeyRotation) check() error {
	if e.OldKey == e.NewKey {
		return entryErr("new_key", "equals old_key")
	}
	return nil
}

// sumCheck reports whether total = a + b + c.
func sumCheck(key string, total, a, b, c Amount) error {
	s, ok := a.Add(b)
	if ok {
		s, ok = s.Add(c)
	}
	if !ok || s != total {
		return entryErr(key, "%s is not the sum of principal %s, interest %s and fees %s", total, a, b, c)
	}
	return nil
}

// newBody returns a zero entry of type t, or nil for an unknown type.
func newBody(t string) body {
	switch t {
	case TypePoolOpened:
		return &PoolOpened{}
	case TypeLoanBoarded:
		return &LoanBoarded{}
	case TypeLoanCollection:
		return &LoanCollection{}
	case TypeLoanStatus:
		return &LoanStatus{}
	case TypeLoanRemoved:
		return &LoanRemoved{}
	case TypeLoanRecordUpdated:
		return &LoanRecordUpdated{}
	case TypeCashStatement:
		return &CashStatement{}
	case TypePeriodReport:
		return &PeriodReport{}
	case TypeAuctionResult:
		return &AuctionResult{}
	case TypeKeyRotation:
		return &KeyRotation{}
	case TypeLoanCollectionReversal:
		return &LoanCollectionReversal{}
	case TypeLoanWaiver:
		return &LoanWaiver{}
	}
	return newBodyV2(t)
}

// value returns the Entry value held by the pointer b.
func value(b body) Entry {
	switch e := b.(type) {
	case *PoolOpened:
		return *e
	case *LoanBoarded:
		return *e
	case *LoanCollection:
		return *e
	case *LoanStatus:
		return *e
	case *LoanRemoved:
		return *e
	case *LoanRecordUpdated:
		return *e
	case *CashStatement:
		return *e
	case *PeriodReport:
		return *e
	case *AuctionResult:
		return *e
	case *KeyRotation:
		return *e
	case *LoanCollectionReversal:
		return *e
	case *LoanWaiver:
		return *e
	}
	return valueV2(b)
}

// EntryKeys returns the keys of an entry of type t in their required order (header first), or
// nil for an unknown type.
func EntryKeys(t string) []string {
	b := newBody(t)
	if b == nil {
		return nil
	}
	return keysOf(b)
}

// keysOf returns the keys of b's encoding in their required order (header first).
func keysOf(b body) []string {
	keys := []string{"v", "pool", "event_id", "type", "effective"}
	for _, f := range b.fields() {
		keys = append(keys, f.key)
	}
	return keys
}

func validate(b body) error {
	h := b.header()
	if h.V < 0 || h.V > EntryVersion2 {
		return entryErr("v", "unsupported version %d (this verifier reads versions %d and %d)", h.V, EntryVersion, EntryVersion2)
	}
	if err := checkString("pool", rulePool, h.Pool); err != nil {
		return err
	}
	if err := checkString("event_id", ruleEventID, h.EventID); err != nil {
		return err
	}
	if err := checkString("effective", ruleDate, h.Effective); err != nil {
		return err
	}
	for _, f := range b.fields() {
		var err error
		switch {
		case f.s != nil:
			err = checkString(f.key, f.rule, *f.s)
		case f.a != nil:
			err = checkAmount(f.key, *f.a, f.rule == rulePositive)
		case f.n != nil:
			if *f.n < 0 || *f.n > MaxJSONInt {
				err = entryErr(f.key, "%d is out of range 0..%d", *f.n, int64(MaxJSONInt))
			}
		case f.l != nil:
			err = checkList(f.key, *f.l)
		}
		if err != nil {
			return err
		}
	}
	return b.check()
}

func encode(b body) ([]byte, error) {
	if err := validate(b); err != nil {
		return nil, err
	}
	out := encodeUnchecked(b)
	if len(out) > MaxEntrySize {
		return nil, entryErr("", "encoding is %d bytes, more than the %d allowed", len(out), MaxEntrySize)
	}
	return out, nil
}

// encodeUnchecked writes the canonical form of b without validating it.
func encodeUnchecked(b body) []byte {
	h := b.header()
	out := make([]byte, 0, 512)
	out = append(out, `{"v":`...)
	out = strconv.AppendInt(out, versionOf(b), 10)
	out = append(out, `,"pool":`...)
	out = appendJSONString(out, h.Pool)
	out = append(out, `,"event_id":`...)
	out = appendJSONString(out, h.EventID)
	out = append(out, `,"type":`...)
	out = appendJSONString(out, b.Type())
	out = append(out, `,"effective":`...)
	out = appendJSONString(out, h.Effective)
	for _, f := range b.fields() {
		out = append(out, ',')
		out = appendJSONString(out, f.key)
		out = append(out, ':')
		switch {
		case f.s != nil:
			out = appendJSONString(out, *f.s)
		case f.a != nil:
			out = append(out, '"')
			out = f.a.append(out)
			out = append(out, '"')
		case f.n != nil:
			out = strconv.AppendInt(out, *f.n, 10)
		case f.l != nil:
			out = append(out, '[')
			for i, s := range *f.l {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendJSONString(out, s)
			}
			out = append(out, ']')
		}
	}
	return append(out, '}')
}

// appendJSONString appends s as a JSON string exactly as encoding/json does with
// SetEscapeHTML(false): '"' and '\' are backslash-escaped; \b \f \n \r \t use their short forms;
// other bytes below 0x20 become \u00xx (lower-case hex); U+2028 and U+2029 become \u2028 and
// \u2029; everything else is copied as UTF-8. s must be valid UTF-8 (the validators ensure it).
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\b':
			dst = append(dst, '\\', 'b')
		case r == '\f':
			dst = append(dst, '\\', 'f')
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}

func isIDChar(c byte, extra string) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || bytes.IndexByte([]byte(extra), c) >= 0
}

func checkID(key, s string, maxLen int, extra string) error {
	if len(s) == 0 || len(s) > maxLen {
		return entryErr(key, "%q must be 1 to %d characters", s, maxLen)
	}
	for i := 0; i < len(s); i++ {
		if !isIDChar(s[i], extra) {
			return entryErr(key, "%q has a character outside [A-Za-z0-9%s]", s, extra)
		}
	}
	return nil
}

// isHex64 reports whether s is 64 lower-case hex digits.
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validDate reports whether s is a calendar date written YYYY-MM-DD (year 0001 to 9999).
func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s && t.Year() >= 1
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

func checkString(key string, r rule, s string) error {
	if !utf8.ValidString(s) {
		return entryErr(key, "is not valid UTF-8")
	}
	switch r {
	case rulePool:
		return checkID(key, s, 128, "._:/-")
	case ruleEventID:
		return checkID(key, s, 64, "._:-")
	case ruleLoan:
		return checkID(key, s, 64, "_-")
	case ruleDate:
		if !validDate(s) {
			return entryErr(key, "%q is not a date YYYY-MM-DD", s)
		}
	case ruleHex:
		if !isHex64(s) {
			return entryErr(key, "%q is not 64 lower-case hex digits", s)
		}
	case ruleHexEmpty:
		if s != "" && !isHex64(s) {
			return entryErr(key, "%q is not empty or 64 lower-case hex digits", s)
		}
	case ruleCurrency:
		if len(s) != 3 || !isUpper(s[0]) || !isUpper(s[1]) || !isUpper(s[2]) {
			return entryErr(key, "%q is not three upper-case letters", s)
		}
	case ruleName:
		if n := utf8.RuneCountInString(s); n == 0 || n > 200 {
			return entryErr(key, "must be 1 to 200 characters, not %d", n)
		}
	case ruleText:
		if n := utf8.RuneCountInString(s); n > 200 {
			return entryErr(key, "must be at most 200 characters, not %d", n)
		}
	case ruleChannel:
		if !oneOf(s, channels) {
			return entryErr(key, "%q is not one of %v", s, channels)
		}
	case ruleStatus:
		if !oneOf(s, statuses) {
			return entryErr(key, "%q is not one of %v", s, statuses)
		}
	case ruleRemoval:
		if !oneOf(s, removalReasons) {
			return entryErr(key, "%q is not one of %v", s, removalReasons)
		}
	case ruleVKey:
		if _, err := note.NewVerifier(s); err != nil {
			return entryErr(key, "%q is not a note verifier key: %v", s, err)
		}
	default:
		return checkStringV2(key, r, s)
	}
	return nil
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func checkList(key string, l []string) error {
	if len(l) == 0 {
		return entryErr(key, "must list at least one field")
	}
	for i, s := range l {
		if len(s) == 0 || len(s) > 64 {
			return entryErr(key, "field name %q must be 1 to 64 characters", s)
		}
		for j := 0; j < len(s); j++ {
			c := s[j]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
				return entryErr(key, "field name %q has a character outside [a-z0-9_.]", s)
			}
		}
		if i > 0 && l[i-1] >= s {
			if l[i-1] == s {
				return entryErr(key, "field name %q is listed twice", s)
			}
			return entryErr(key, "field names are not sorted: %q before %q", l[i-1], s)
		}
	}
	return nil
}

func checkAmount(key string, a Amount, positive bool) error {
	if a < 0 || a > MaxAmount {
		return entryErr(key, "%s is out of range 0.00..%s", a, MaxAmount)
	}
	if positive && a == 0 {
		return entryErr(key, "must be more than 0.00")
	}
	return nil
}

// ParseEntry decodes one entry strictly. It accepts exactly the bytes that Encode would produce
// for the decoded value and returns an *EntryError naming the problem for anything else: an
// oversize entry, invalid UTF-8, whitespace outside strings, a float, exponent, negative or
// leading-zero number, an unknown type, an unknown, missing, duplicate or out-of-order key, a
// value of the wrong kind, a field that breaks its rule (non-canonical amount, bad date, bad
// hex, unknown channel...), a cross-field rule (claim = principal + interest + fees...), or any
// remaining difference from the canonical form (such as an unnecessary \u escape).
//
// A canonical entry is accepted in one pass by a scanner that matches the canonical form as it
// reads (see scanEntry in entryscan.go); anything that scanner does not accept is handed to the
// general decoder below, which names the problem.
func ParseEntry(b []byte) (Entry, error) {
	var sc entryScan
	if scanEntry(b, &sc) {
		if e := sc.entry(b); e != nil {
			return e, nil
		}
	}
	return parseEntrySlow(b)
}

// parseEntrySlow is the general decoder: it decodes any JSON object of the entry subset,
// validates it, re-encodes it and requires the same bytes, and returns an *EntryError naming the
// first problem. ParseEntry uses it for whatever its canonical scanner does not accept, so that
// it alone decides which error a rejected entry gets.
func parseEntrySlow(b []byte) (Entry, error) {
	if len(b) > MaxEntrySize {
		return nil, entryErr("", "%d bytes, more than the %d allowed", len(b), MaxEntrySize)
	}
	if !utf8.Valid(b) {
		return nil, entryErr("", "not valid UTF-8")
	}
	members, err := scanObject(b)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]int, len(members))
	for _, m := range members {
		if _, dup := seen[m.key]; dup {
			return nil, entryErr(m.key, "duplicate key at byte %d", m.off)
		}
		seen[m.key] = m.off
	}
	// The type decides which keys follow the header.
	ti, ok := seen["type"]
	if !ok {
		return nil, entryErr("type", "missing")
	}
	var typ string
	for _, m := range members {
		if m.key == "type" {
			if m.kind != kindString {
				return nil, entryErr("type", "want a string, got %s (byte %d)", m.kind, ti)
			}
			typ = m.s
		}
	}
	bd := newBody(typ)
	if bd == nil {
		return nil, entryErr("type", "unknown entry type %q", typ)
	}
	// The version decides the keys of a type that version 2 extends (entry_v2.go).
	ver, err := entryVersion(members, typ)
	if err != nil {
		return nil, err
	}
	if ver == EntryVersion2 {
		bd.header().V = EntryVersion2
	}
	keys := keysOf(bd)
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	for i, m := range members {
		if !want[m.key] {
			return nil, entryErr(m.key, "unknown key for type %s (byte %d)", typ, m.off)
		}
		if m.key != keys[i] {
			if _, present := seen[keys[i]]; !present {
				return nil, entryErr(keys[i], "missing (type %s)", typ)
			}
			return nil, entryErr(m.key, "out of order at byte %d: key %d must be %q", m.off, i+1, keys[i])
		}
	}
	if len(members) < len(keys) {
		return nil, entryErr(keys[len(members)], "missing (type %s)", typ)
	}
	// Assign the values.
	byKey := make(map[string]*member, len(members))
	for i := range members {
		byKey[members[i].key] = &members[i]
	}
	h := bd.header()
	for _, hk := range []struct {
		key string
		p   *string
	}{{"pool", &h.Pool}, {"event_id", &h.EventID}, {"effective", &h.Effective}} {
		m := byKey[hk.key]
		if m.kind != kindString {
			return nil, entryErr(hk.key, "want a string, got %s (byte %d)", m.kind, m.off)
		}
		*hk.p = m.s
	}
	for _, f := range bd.fields() {
		m := byKey[f.key]
		switch {
		case f.s != nil:
			if m.kind != kindString {
				return nil, entryErr(f.key, "want a string, got %s (byte %d)", m.kind, m.off)
			}
			*f.s = m.s
		case f.a != nil:
			if m.kind != kindString {
				return nil, entryErr(f.key, "want an amount as a string such as \"12.30\", got %s (byte %d)", m.kind, m.off)
			}
			a, err := ParseAmount(m.s)
			if err != nil {
				return nil, entryErr(f.key, "%v", err)
			}
			*f.a = a
		case f.n != nil:
			if m.kind != kindInt {
				return nil, entryErr(f.key, "want an integer, got %s (byte %d)", m.kind, m.off)
			}
			*f.n = m.n
		case f.l != nil:
			if m.kind != kindList {
				return nil, entryErr(f.key, "want an array of strings, got %s (byte %d)", m.kind, m.off)
			}
			*f.l = m.l
		}
	}
	if err := validate(bd); err != nil {
		return nil, err
	}
	canon := encodeUnchecked(bd)
	if !bytes.Equal(canon, b) {
		i := 0
		for i < len(canon) && i < len(b) && canon[i] == b[i] {
			i++
		}
		return nil, entryErr("", "not in canonical form: differs from the canonical encoding at byte %d", i)
	}
	return value(bd), nil
}

// Commitment domain tags: the tag argument of Commit for each kind of committed record.
const (
	TagLoanRecord  = "reclaim/loan-record/v1"
	TagBankTxn     = "reclaim/bank-txn/v1"
	TagBankAccount = "reclaim/bank-account/v1"
	TagBidder      = "reclaim/bidder/v1"
)

// SaltSize is the size in bytes of the fresh random salt behind each commitment.
const SaltSize = 32

// Commit returns the commitment to record under the domain tag: the lower-case hex of
// HMAC-SHA256 with key salt over tag || 0x00 || record. The salt must be SaltSize fresh random
// bytes, never reused (Open rejects other sizes); destroying it makes the commitment unopenable.
func Commit(salt []byte, tag string, record []byte) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(tag))
	m.Write([]byte{0})
	m.Write(record)
	return hex.EncodeToString(m.Sum(nil))
}

// BankTxnRecord returns the record committed to by a collection's bank_txn: the bank's
// transaction identifier as UTF-8 bytes. Commit(salt, TagBankTxn, BankTxnRecord(id)) is the
// value of LoanCollection.BankTxn.
func BankTxnRecord(txnID string) []byte { return []byte(txnID) }
