package abs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"reclaim"
)

// Document is a deal document as written (docs/abs-deal.md describes every field). Amounts, rates
// and dates are kept as the strings the author wrote; Compile checks and converts them. A
// Document is produced by Parse and is never run directly.
type Document struct {
	Name          string            `yaml:"name" json:"name"`
	Currency      string            `yaml:"currency,omitempty" json:"currency,omitempty"`
	Dates         Dates             `yaml:"dates" json:"dates"`
	Pool          Pool              `yaml:"pool" json:"pool"`
	Accounts      []Account         `yaml:"accounts" json:"accounts"`
	Fees          []Fee             `yaml:"fees,omitempty" json:"fees,omitempty"`
	Tranches      []Tranche         `yaml:"tranches" json:"tranches"`
	Triggers      []Trigger         `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	InitialStatus string            `yaml:"initial_status,omitempty" json:"initial_status,omitempty"`
	Waterfalls    map[string][]Step `yaml:"waterfalls" json:"waterfalls"`
	CleanUpCall   *CleanUpCall      `yaml:"clean_up_call,omitempty" json:"clean_up_call,omitempty"`
}

// Dates are the deal's dates and schedules. Payment dates are FirstPayment stepped by Frequency
// from the anchor (end-of-month clipping) up to LegalMaturity, which is always the last payment
// date; each collection period ends CollectionLagDays before its payment date. Schedule, when
// given, replaces the generated schedule.
type Dates struct {
	Cutoff            string       `yaml:"cutoff" json:"cutoff"`
	Closing           string       `yaml:"closing" json:"closing"`
	FirstPayment      string       `yaml:"first_payment" json:"first_payment"`
	Frequency         string       `yaml:"frequency" json:"frequency"`
	CollectionLagDays int          `yaml:"collection_lag_days,omitempty" json:"collection_lag_days,omitempty"`
	LegalMaturity     string       `yaml:"legal_maturity" json:"legal_maturity"`
	Pricing           string       `yaml:"pricing,omitempty" json:"pricing,omitempty"`
	Schedule          []SchedEntry `yaml:"schedule,omitempty" json:"schedule,omitempty"`
}

// SchedEntry is one payment date of an explicit schedule and the end of its collection period.
type SchedEntry struct {
	Payment       string `yaml:"payment" json:"payment"`
	CollectionEnd string `yaml:"collection_end" json:"collection_end"`
}

// Pool describes the asset pool: its claim (本息费) at the cut-off and its projected net
// recoveries by date, inline (Forecast) or in a CSV file of date,amount named by ForecastFile.
type Pool struct {
	Claim        string     `yaml:"claim" json:"claim"`
	Principal    string     `yaml:"principal,omitempty" json:"principal,omitempty"`
	Borrowers    int        `yaml:"borrowers,omitempty" json:"borrowers,omitempty"`
	PayerRate    string     `yaml:"payer_rate,omitempty" json:"payer_rate,omitempty"`
	Forecast     []FlowSpec `yaml:"forecast,omitempty" json:"forecast,omitempty"`
	ForecastFile string     `yaml:"forecast_file,omitempty" json:"forecast_file,omitempty"`
}

// FlowSpec is one projected (or actual) recovery: a date and an amount in yuan.
type FlowSpec struct {
	Date   string `yaml:"date" json:"date"`
	Amount string `yaml:"amount" json:"amount"`
}

// Account is a trust account. Kind is collection (exactly one) or reserve; a reserve may be
// funded at closing (Initial) and has a target.
type Account struct {
	Name    string         `yaml:"name" json:"name"`
	Kind    string         `yaml:"kind" json:"kind"`
	Initial string         `yaml:"initial,omitempty" json:"initial,omitempty"`
	Target  *ReserveTarget `yaml:"target,omitempty" json:"target,omitempty"`
}

// ReserveTarget is a reserve's required balance: a Fixed amount, or Multiple × (next period's
// interest on Tranches + next period's fixed and annual Fees), zero once Tranches are repaid.
type ReserveTarget struct {
	Fixed    string   `yaml:"fixed,omitempty" json:"fixed,omitempty"`
	Multiple string   `yaml:"multiple,omitempty" json:"multiple,omitempty"`
	Tranches []string `yaml:"tranches,omitempty" json:"tranches,omitempty"`
	Fees     []string `yaml:"fees,omitempty" json:"fees,omitempty"`
}

// Fee is a fee or expense of the trust. Basis is collections (Rate × the period's collections),
// annual (Amount a year, accrued by DayCount), fixed (Amount each payment date) or residual (paid
// only by split_residual, such as the servicer's incentive fee). Deferred is the part of each
// accrual set aside until a pay_deferred_fee step.
type Fee struct {
	Name     string `yaml:"name" json:"name"`
	Basis    string `yaml:"basis" json:"basis"`
	Rate     string `yaml:"rate,omitempty" json:"rate,omitempty"`
	Amount   string `yaml:"amount,omitempty" json:"amount,omitempty"`
	DayCount string `yaml:"day_count,omitempty" json:"day_count,omitempty"`
	Deferred string `yaml:"deferred,omitempty" json:"deferred,omitempty"`
}

// Tranche is a class of securities. Coupon 0 means no coupon (a subordinated tranche). IssuePrice
// is per 100 of face; Retained is the originator's share (at least 5%).
type Tranche struct {
	Name       string `yaml:"name" json:"name"`
	Balance    string `yaml:"balance" json:"balance"`
	Coupon     string `yaml:"coupon,omitempty" json:"coupon,omitempty"`
	DayCount   string `yaml:"day_count,omitempty" json:"day_count,omitempty"`
	IssuePrice string `yaml:"issue_price,omitempty" json:"issue_price,omitempty"`
	Retained   string `yaml:"retained" json:"retained"`
	Rating     string `yaml:"rating,omitempty" json:"rating,omitempty"`
}

// Trigger is a test run on payment dates. Kinds: interest_shortfall (Tranche's interest due is
// unpaid after distribution), principal_at_maturity (Tranche has a balance after the last
// distribution), cumulative_recovery (cumulative collections / cumulative forecast below
// Threshold), reserve_below (Account's balance below Threshold × its target), date (from Date
// on), any / all (of other triggers, named in Of). Test is before or after distribution. A hit
// trigger stays hit unless Curable. Status, when set, is the deal status a hit switches to.
type Trigger struct {
	Name      string   `yaml:"name" json:"name"`
	Kind      string   `yaml:"kind" json:"kind"`
	Tranche   string   `yaml:"tranche,omitempty" json:"tranche,omitempty"`
	Account   string   `yaml:"account,omitempty" json:"account,omitempty"`
	Threshold string   `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	Date      string   `yaml:"date,omitempty" json:"date,omitempty"`
	Of        []string `yaml:"of,omitempty" json:"of,omitempty"`
	Test      string   `yaml:"test,omitempty" json:"test,omitempty"`
	Curable   bool     `yaml:"curable,omitempty" json:"curable,omitempty"`
	Status    string   `yaml:"status,omitempty" json:"status,omitempty"`
}

// Step is one step of a waterfall; Action names it and the other fields are its arguments (see
// docs/abs-deal.md for which action takes which).
type Step struct {
	Action   string   `yaml:"action" json:"action"`
	From     []string `yaml:"from,omitempty" json:"from,omitempty"`
	To       string   `yaml:"to,omitempty" json:"to,omitempty"`
	Account  string   `yaml:"account,omitempty" json:"account,omitempty"`
	Fees     []string `yaml:"fees,omitempty" json:"fees,omitempty"`
	Tranches []string `yaml:"tranches,omitempty" json:"tranches,omitempty"`
	Mode     string   `yaml:"mode,omitempty" json:"mode,omitempty"`
	Limit    string   `yaml:"limit,omitempty" json:"limit,omitempty"`
	Shares   []Share  `yaml:"shares,omitempty" json:"shares,omitempty"`
	If       *Cond    `yaml:"if,omitempty" json:"if,omitempty"`
	Then     []Step   `yaml:"then,omitempty" json:"then,omitempty"`
	Else     []Step   `yaml:"else,omitempty" json:"else,omitempty"`
	Status   string   `yaml:"status,omitempty" json:"status,omitempty"`
	Reason   string   `yaml:"reason,omitempty" json:"reason,omitempty"`
	Trigger  string   `yaml:"trigger,omitempty" json:"trigger,omitempty"`
}

// Share is one part of a residual split: a fee (an incentive) or a tranche (its holders' excess
// return), and its percentage.
type Share struct {
	Fee     string `yaml:"fee,omitempty" json:"fee,omitempty"`
	Tranche string `yaml:"tranche,omitempty" json:"tranche,omitempty"`
	Pct     string `yaml:"pct" json:"pct"`
}

// Cond is the test of a conditional block: a trigger is hit, a tranche is paid off, or the deal is
// in a status; Not negates it. Exactly one of Trigger, PaidOff and Status is set.
type Cond struct {
	Trigger string `yaml:"trigger,omitempty" json:"trigger,omitempty"`
	PaidOff string `yaml:"paid_off,omitempty" json:"paid_off,omitempty"`
	Status  string `yaml:"status,omitempty" json:"status,omitempty"`
	Not     bool   `yaml:"not,omitempty" json:"not,omitempty"`
}

// CleanUpCall is the originator's option to buy the pool back when the tranches' outstanding
// balance is at most Threshold of their issued balance; Exercise says whether a run assumes it is
// exercised (at the first date it may be).
type CleanUpCall struct {
	Threshold string `yaml:"threshold" json:"threshold"`
	Exercise  bool   `yaml:"exercise" json:"exercise"`
}

// maxDocument bounds the size of a deal document.
const maxDocument = 4 << 20

// Parse reads a deal document in YAML (JSON is YAML too). Unknown fields, several documents in
// one file, and syntax errors are *reclaim.Error EINVALID naming the line. Parse checks only the
// syntax; Compile checks the meaning.
func Parse(data []byte) (*Document, error) {
	if len(data) > maxDocument {
		return nil, reclaim.Errorf(reclaim.ETOOLARGE, "deal document is %d bytes; the limit is %d", len(data), maxDocument)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var d Document
	if err := decodeSafe(dec, &d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, reclaim.Errorf(reclaim.EINVALID, "deal document is empty")
		}
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "deal document is not valid YAML for a deal", Err: err}
	}
	var extra yaml.Node
	if err := decodeSafe(dec, &extra); !errors.Is(err, io.EOF) {
		return nil, reclaim.Errorf(reclaim.EINVALID, "deal document holds more than one YAML document")
	}
	return &d, nil
}

// decodeSafe decodes, turning a panic of the YAML library on hostile input into an error.
func decodeSafe(dec *yaml.Decoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(v)
}

// canonicalPrefix versions the canonical encoding hashed by Hash.
const canonicalPrefix = "reclaim-abs-deal-v1\n"

// Canonical returns the canonical encoding of the document: a version line, then the document as
// JSON with the struct's field order, map keys sorted, empty optional fields omitted and no
// insignificant space. Two documents that differ only in YAML layout, comments or key order
// encode the same.
func (d *Document) Canonical() ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return append([]byte(canonicalPrefix), b...), nil
}

// Hash returns the lowercase hex SHA-256 of Canonical: the value that fixes the deal at pool
// opening (the pool.opened ledger entry carries it).
func (d *Document) Hash() (string, error) {
	b, err := d.Canonical()
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}
