package synth

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Profile is the kind of package a seller sells. It fixes the distributions of products,
// balances, days past due, write-off, litigation and borrower age.
type Profile int

// Profiles of personal-NPL packages seen on the Chinese market (market.md).
const (
	// BankCards is a bank's credit-card NPL package: mostly 1-3 years past due, unsecured,
	// balances of a few tens of thousands of yuan.
	BankCards Profile = iota
	// ConsumerFinance is a consumer-finance company's young package: weighted-average DPD about
	// 93-137 days, small balances, younger borrowers, few write-offs or lawsuits.
	ConsumerFinance
	// BankMixed is a bank's retail mix as transferred in 2024: consumer loans 55%, credit cards
	// 29%, personal business loans 15%, about 1% auto loans and mortgages.
	BankMixed
	// Aged is a written-off package more than three years past due, with many judgments and
	// terminated enforcements.
	Aged
)

// Profiles lists every profile.
var Profiles = []Profile{BankCards, ConsumerFinance, BankMixed, Aged}

// String returns the profile's name as ParseProfile reads it.
func (p Profile) String() string {
	switch p {
	case BankCards:
		return "bank_cards"
	case ConsumerFinance:
		return "consumer_finance"
	case BankMixed:
		return "bank_mixed"
	case Aged:
		return "aged"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// ParseProfile returns the profile named s ("bank_cards", "consumer_finance", "bank_mixed",
// "aged"; hyphens and case are ignored).
func ParseProfile(s string) (Profile, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	for _, p := range Profiles {
		if p.String() == n {
			return p, nil
		}
	}
	return 0, fmt.Errorf("synth: unknown profile %q (want bank_cards, consumer_finance, bank_mixed or aged)", s)
}

// Invalid-row rules, named exactly as the tape validator names them.
const (
	RuleRequired          = "required"
	RuleEnum              = "enum"
	RuleDateFormat        = "date_format"
	RuleAmountFormat      = "amount_format"
	RuleNegativeAmount    = "negative_amount"
	RuleClaimSum          = "claim_sum"
	RuleDPDConsistent     = "dpd_consistent"
	RuleDefaultBeforeCut  = "default_before_cutoff"
	RuleLastPaymentBefore = "last_payment_before_cutoff"
	RuleLoanIDUnique      = "loan_id_unique"
	RuleNationalID        = "national_id"
	RuleNationalIDBirth   = "national_id_birth"
	RuleMobile            = "mobile"
	RuleRegionCode        = "region_code"
)

// Rules lists the rule names Config.Invalid accepts, in the order shares are laid out.
var Rules = []string{
	RuleRequired, RuleEnum, RuleDateFormat, RuleAmountFormat, RuleNegativeAmount, RuleClaimSum,
	RuleDPDConsistent, RuleDefaultBeforeCut, RuleLastPaymentBefore, RuleLoanIDUnique,
	RuleNationalID, RuleNationalIDBirth, RuleMobile, RuleRegionCode,
}

// personalRules need the personal columns on the tape.
var personalRules = []string{RuleNationalID, RuleNationalIDBirth, RuleMobile}

// DefaultHistoryMonths is the length of the repayment history when Config.HistoryMonths is 0:
// the 36 months the EBA templates ask for.
const DefaultHistoryMonths = 36

// MaxLoans bounds Config.Loans (loan ids have ten digits; the bound holds on 32-bit platforms).
const MaxLoans = math.MaxInt32

// Config says what to generate.
type Config struct {
	// Seed makes generation deterministic: the same Config yields the same items.
	Seed uint64
	// Loans is the number of loans to generate (at least 1).
	Loans int
	// PortfolioRef is the package id written as portfolio_id; required.
	PortfolioRef string
	// Seller names the selling bank or consumer-finance company (informational).
	Seller string
	// CutOff is the reference date of all balances; required, between 2000 and 2100.
	CutOff date.Date
	// Profile picks the distributions.
	Profile Profile
	// HistoryMonths is how many months of repayments before the cut-off each item carries
	// (0 means DefaultHistoryMonths; at most 240).
	HistoryMonths int
	// Invalid maps a rule name (one of Rules) to the share of rows to corrupt so that they break
	// that rule. Shares are in [0, 1] and sum to at most 1; a row breaks at most one rule.
	Invalid map[string]float64
	// Currency of all amounts; empty means CNY.
	Currency money.Currency
}

func (c Config) withDefaults() Config {
	if c.HistoryMonths == 0 {
		c.HistoryMonths = DefaultHistoryMonths
	}
	if c.Currency == "" {
		c.Currency = money.DefaultCurrency
	}
	return c
}

// Validate reports the first problem with the configuration as a *reclaim.Error with code
// EINVALID naming the field, or nil.
func (c Config) Validate() error {
	bad := func(field, msg string) error {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: "synth: " + msg, Fields: map[string]string{field: msg}}
	}
	switch {
	case c.Loans < 1:
		return bad("loans", fmt.Sprintf("loans must be at least 1, got %d", c.Loans))
	case c.Loans > MaxLoans:
		return bad("loans", fmt.Sprintf("loans must be at most %d, got %d", MaxLoans, c.Loans))
	case strings.TrimSpace(c.PortfolioRef) == "":
		return bad("portfolio_ref", "portfolio ref is required")
	case c.CutOff.IsZero():
		return bad("cut_off", "cut-off date is required")
	case c.CutOff.Year() < 2000 || c.CutOff.Year() > 2100:
		return bad("cut_off", fmt.Sprintf("cut-off date %s is outside 2000-2100", c.CutOff))
	case c.Profile < BankCards || c.Profile > Aged:
		return bad("profile", fmt.Sprintf("unknown profile %d", int(c.Profile)))
	case c.HistoryMonths < 0 || c.HistoryMonths > 240:
		return bad("history_months", fmt.Sprintf("history months must be in 0-240, got %d", c.HistoryMonths))
	case c.Currency != "" && !c.Currency.Valid():
		return bad("currency", fmt.Sprintf("currency %q is not an ISO 4217 code", c.Currency))
	}
	sum := 0.0
	for name, s := range c.Invalid {
		if !slices.Contains(Rules, name) {
			return bad("invalid", fmt.Sprintf("unknown rule %q (want one of %s)", name, strings.Join(Rules, ", ")))
		}
		if math.IsNaN(s) || s < 0 || s > 1 {
			return bad("invalid", fmt.Sprintf("share of rule %q must be in [0, 1], got %v", name, s))
		}
		sum += s
	}
	if sum > 1+1e-9 {
		return bad("invalid", fmt.Sprintf("invalid shares sum to %.4f, more than 1", sum))
	}
	return nil
}
