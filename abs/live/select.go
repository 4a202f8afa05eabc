// Package live is the pure side of a live NPL ABS deal (docs/abs-live.md): which owned loans a
// pool selection takes (Criteria), the pool's disclosure tables (Disclose), the forecast from the
// valuation model's collection curve (ForecastFromCurve), the deal's cash by collection window
// from servicing (Actuals, Windows, Scenario), the trustee/servicer report of a payment date
// (Build, with JSON, CSV and HTML renderings) and the monitoring snapshot investors watch
// (Monitor). It reads no database and calls no clock: callers load the state and pass asOf.
package live

import (
	"fmt"
	"slices"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Criteria select owned loans into a deal pool. A zero field does not restrict. Every set field
// must hold for a loan to be selected.
type Criteria struct {
	// Portfolios lists the portfolios to select from (empty: every portfolio).
	Portfolios []int64 `json:"portfolios,omitempty"`
	// Products are product types (tape.md: credit_card, consumer_loan, ...).
	Products []string `json:"products,omitempty"`
	// MinDPD and MaxDPD bound days past due at the loan's cut-off (MaxDPD 0: no upper bound).
	MinDPD int `json:"min_dpd,omitempty"`
	MaxDPD int `json:"max_dpd,omitempty"`
	// Regions are GB/T 2260 code prefixes: "44" (a province), "4403" (a prefecture) or a full code.
	Regions []string `json:"regions,omitempty"`
	// MinClaim and MaxClaim bound the loan's total claim in yuan ("" : no bound).
	MinClaim string `json:"min_claim,omitempty"`
	MaxClaim string `json:"max_claim,omitempty"`
	// LegalStatuses are legal statuses (not_sued, in_litigation, judgment, ...).
	LegalStatuses []string `json:"legal_statuses,omitempty"`
	// MinLimitationDays is the least headroom, in days from AsOf, before the limitation period
	// expires; a loan without a limitation expiry date is not selected when it is set.
	MinLimitationDays int `json:"min_limitation_days,omitempty"`
	// Limit is the most loans selected (0: no limit), taken in portfolio and import order.
	Limit int `json:"limit,omitempty"`
}

// Matcher is a checked Criteria, ready to test loans.
type Matcher struct {
	c                  Criteria
	minClaim, maxClaim int64
	hasMin, hasMax     bool
	asOf               date.Date
}

// Compile checks the criteria and returns a Matcher for loans as of asOf (the date the
// limitation headroom is measured from). A problem is a *reclaim.Error EINVALID naming the
// field.
func (c Criteria) Compile(asOf date.Date) (*Matcher, error) {
	m := &Matcher{c: c, asOf: asOf}
	bad := func(field, format string, args ...any) error {
		e := reclaim.Errorf(reclaim.EINVALID, "criteria: %s: %s", field, fmt.Sprintf(format, args...))
		e.Fields = map[string]string{field: fmt.Sprintf(format, args...)}
		return e
	}
	if c.MinDPD < 0 || c.MaxDPD < 0 || (c.MaxDPD > 0 && c.MaxDPD < c.MinDPD) {
		return nil, bad("max_dpd", "days past due bounds %d..%d are not a range", c.MinDPD, c.MaxDPD)
	}
	if c.MinClaim != "" {
		a, err := money.Parse(c.MinClaim, "CNY")
		if err != nil || a.Minor() < 0 {
			return nil, bad("min_claim", "%q is not an amount >= 0", c.MinClaim)
		}
		m.minClaim, m.hasMin = a.Minor(), true
	}
	if c.MaxClaim != "" {
		a, err := money.Parse(c.MaxClaim, "CNY")
		if err != nil || a.Minor() < 0 {
			return nil, bad("max_claim", "%q is not an amount >= 0", c.MaxClaim)
		}
		m.maxClaim, m.hasMax = a.Minor(), true
		if m.hasMin && m.maxClaim < m.minClaim {
			return nil, bad("max_claim", "%s is below min_claim %s", c.MaxClaim, c.MinClaim)
		}
	}
	for _, r := range c.Regions {
		if r == "" || len(r) > 6 || strings.Trim(r, "0123456789") != "" {
			return nil, bad("regions", "%q is not a GB/T 2260 code prefix", r)
		}
	}
	if c.MinLimitationDays < 0 || c.Limit < 0 {
		return nil, bad("min_limitation_days", "must not be negative")
	}
	if c.MinLimitationDays > 0 && asOf.IsZero() {
		return nil, bad("as_of", "limitation headroom needs the date it is measured from")
	}
	return m, nil
}

// Match reports whether the loan meets every criterion (the portfolio list is the caller's to
// apply: it decides which loans are read at all).
func (m *Matcher) Match(l *reclaim.Loan) bool {
	c := m.c
	if len(c.Products) > 0 && !slices.Contains(c.Products, string(l.ProductType)) {
		return false
	}
	if l.DaysPastDue < c.MinDPD || (c.MaxDPD > 0 && l.DaysPastDue > c.MaxDPD) {
		return false
	}
	if len(c.Regions) > 0 && !slices.ContainsFunc(c.Regions, func(p string) bool { return strings.HasPrefix(l.RegionCode, p) }) {
		return false
	}
	claim := l.TotalClaim.Minor()
	if (m.hasMin && claim < m.minClaim) || (m.hasMax && claim > m.maxClaim) {
		return false
	}
	if len(c.LegalStatuses) > 0 && !slices.Contains(c.LegalStatuses, string(l.LegalStatus)) {
		return false
	}
	if c.MinLimitationDays > 0 {
		if l.LimitationExpiryDate.IsZero() || l.LimitationExpiryDate.Sub(m.asOf) < c.MinLimitationDays {
			return false
		}
	}
	return true
}

// Limit returns the most loans to select (0: no limit).
func (m *Matcher) Limit() int { return m.c.Limit }

// PoolKey is the key a selected loan has in its pool (pool_loans.loan_key): the portfolio id and
// the seller's loan id, so that loans of different portfolios with the same seller key cannot
// collide.
func PoolKey(portfolioID int64, loanID string) string {
	return fmt.Sprintf("%d/%s", portfolioID, loanID)
}
