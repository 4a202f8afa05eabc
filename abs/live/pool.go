package live

import (
	"fmt"
	"slices"

	"reclaim"
	"reclaim/abs"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tape"
	"reclaim/valuation"
)

// Selected is one loan a selection took: its portfolio and its tape record.
type Selected struct {
	PortfolioID int64
	Loan        *reclaim.Loan
}

// PortfolioShare is what one portfolio contributes to a pool.
type PortfolioShare struct {
	Portfolio int64        `json:"portfolio"`
	Loans     int64        `json:"loans"`
	Claim     money.Amount `json:"claim"`
}

// Disclosure is a deal pool's disclosure: the 银登-style pool header with its stratification
// tables (../shared/design/tape.md "Pool header", the tables abs.md's reports break down by), the
// portfolios it was selected from, and the forecast recoveries with their rate on 本息费 (the
// published recovery rate of ../shared/design/abs.md).
type Disclosure struct {
	Header             tape.PoolHeader  `json:"header"`
	Portfolios         []PortfolioShare `json:"portfolios"`
	ForecastRecoveries money.Amount     `json:"forecast_recoveries"`
	// ForecastRate is ForecastRecoveries / Header.Claim as a percentage with two decimals.
	ForecastRate string     `json:"forecast_rate"`
	Forecast     []abs.Flow `json:"forecast"`
	// Sizing is the deal's sizing against this pool, when a deal document was given.
	Sizing *Sizing `json:"sizing,omitempty"`
}

// Disclose builds the disclosure of the selected loans and their forecast (ForecastFromCurve).
// Borrower keys are qualified by portfolio, so that two portfolios' borrower "C1" are two
// borrowers.
func Disclose(loans []Selected, cutoff date.Date, forecast []abs.Flow) (*Disclosure, error) {
	if len(loans) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "the selection is empty: no loan meets the criteria")
	}
	b := tape.NewHeaderBuilder()
	defer b.Close()
	shares := map[int64]*PortfolioShare{}
	for _, s := range loans {
		l := *s.Loan
		l.BorrowerID = fmt.Sprintf("%d/%s", s.PortfolioID, l.BorrowerID)
		l.CutOffDate = cutoff
		b.Add(&l)
		sh := shares[s.PortfolioID]
		if sh == nil {
			sh = &PortfolioShare{Portfolio: s.PortfolioID, Claim: money.Zero("CNY")}
			shares[s.PortfolioID] = sh
		}
		sh.Loans++
		sh.Claim = money.New(sh.Claim.Minor()+l.TotalClaim.Minor(), "CNY")
	}
	h, err := b.Header()
	if err != nil {
		return nil, err
	}
	h.PortfolioRef = "pool"
	d := &Disclosure{Header: h, Forecast: forecast, ForecastRecoveries: money.Zero("CNY")}
	for _, sh := range shares {
		d.Portfolios = append(d.Portfolios, *sh)
	}
	slices.SortFunc(d.Portfolios, func(a, b PortfolioShare) int { return int(a.Portfolio - b.Portfolio) })
	var f int64
	for _, x := range forecast {
		f += x.Amount.Minor()
	}
	d.ForecastRecoveries = money.New(f, "CNY")
	d.ForecastRate = pct(f, h.Claim.Minor())
	return d, nil
}

// pct writes a/b as a percentage with two decimals ("11.50%"), "n/a" when b is 0.
func pct(a, b int64) string {
	if b == 0 {
		return "n/a"
	}
	r, err := money.New(a, "CNY").MulDiv(10000, b, money.HalfUp) // hundredths of a percent
	if err != nil {
		return "n/a"
	}
	return r.String() + "%"
}

// ForecastFromCurve turns a valuation's monthly collection curve (valuation.Valuation.Curve,
// Totals, as of asOf) into the pool's forecast of net recoveries: month k's flow is dated the
// last day of the k-th month after asOf's month, and the projection's net total (gross less
// collection, legal and servicing costs) is spread over the months in proportion to their
// expected gross (largest remainder, so the flows sum to the net total exactly). This is the
// valuation model's own projection, not a second forecast.
func ForecastFromCurve(curve []valuation.CurvePoint, totals valuation.ProjectionTotals, asOf date.Date) ([]abs.Flow, error) {
	if len(curve) == 0 || totals.Net.Minor() <= 0 {
		return nil, nil
	}
	weights := make([]int64, len(curve))
	var sum int64
	for i, p := range curve {
		weights[i] = max(p.Expected.Minor(), 0)
		sum += weights[i]
	}
	if sum == 0 {
		return nil, nil
	}
	parts, err := money.New(totals.Net.Minor(), "CNY").Allocate(weights...)
	if err != nil {
		return nil, err
	}
	start := asOf.StartOfMonth()
	var out []abs.Flow
	for i, p := range curve {
		if parts[i].IsZero() {
			continue
		}
		out = append(out, abs.Flow{Date: start.AddMonths(p.Month).EndOfMonth(), Amount: parts[i]})
	}
	return out, nil
}

// MergeFlows sums flows by date (several portfolios' forecasts into one pool's), in date order.
func MergeFlows(sets ...[]abs.Flow) []abs.Flow {
	by := map[date.Date]int64{}
	for _, s := range sets {
		for _, f := range s {
			by[f.Date] += f.Amount.Minor()
		}
	}
	out := make([]abs.Flow, 0, len(by))
	for d, a := range by {
		out = append(out, abs.Flow{Date: d, Amount: money.New(a, "CNY")})
	}
	slices.SortFunc(out, func(a, b abs.Flow) int { return a.Date.Compare(b.Date) })
	return out
}

// WithForecast returns a copy of the deal document whose pool claim, principal, borrowers and
// forecast are the selection's (the forecast inlined, so the document's hash covers it).
func WithForecast(doc *abs.Document, d *Disclosure) *abs.Document {
	c := *doc
	c.Pool.Claim = d.Header.Claim.String()
	c.Pool.Principal = d.Header.Principal.String()
	c.Pool.Borrowers = int(d.Header.Borrowers)
	c.Pool.ForecastFile = ""
	c.Pool.Forecast = nil
	for _, f := range d.Forecast {
		c.Pool.Forecast = append(c.Pool.Forecast, abs.FlowSpec{Date: f.Date.String(), Amount: f.Amount.String()})
	}
	return &c
}

// Sizing is the deal's sizing against its pool, as ../shared/design/abs.md describes Chinese NPL
// ABS practice: the senior tranche as a share of forecast recoveries (typically 49%-78%), the
// issue size as a share of 本息费 (typically 5%-14% for unsecured pools), and each tranche as a
// share of the issue. Shares are percentages with two decimals; Typical says whether both
// headline ratios are inside the ranges seen in practice (a warning, not a rule).
type Sizing struct {
	Issue              money.Amount   `json:"issue"`
	SeniorOfForecast   string         `json:"senior_of_forecast"`
	IssueOfClaim       string         `json:"issue_of_claim"`
	Tranches           []TrancheShare `json:"tranches"`
	Typical            bool           `json:"typical"`
	SeniorTypicalRange string         `json:"senior_typical_range"`
	IssueTypicalRange  string         `json:"issue_typical_range"`
}

// TrancheShare is a tranche's share of the issue.
type TrancheShare struct {
	Name    string       `json:"name"`
	Balance money.Amount `json:"balance"`
	Share   string       `json:"share"`
}

// SizeDeal sizes a deal document's tranches against a disclosed pool (the first tranche is the
// senior). A tranche balance that does not parse is an EINVALID error naming it.
func SizeDeal(doc *abs.Document, d *Disclosure) (*Sizing, error) {
	if len(doc.Tranches) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "the deal has no tranche")
	}
	s := &Sizing{SeniorTypicalRange: "49%-78%", IssueTypicalRange: "5%-14%"}
	var issue int64
	bal := make([]int64, len(doc.Tranches))
	for i, t := range doc.Tranches {
		a, err := money.Parse(t.Balance, "CNY")
		if err != nil {
			return nil, reclaim.Errorf(reclaim.EINVALID, "tranches[%d].balance: %q is not an amount", i, t.Balance)
		}
		bal[i] = a.Minor()
		issue += a.Minor()
	}
	s.Issue = money.New(issue, "CNY")
	for i, t := range doc.Tranches {
		s.Tranches = append(s.Tranches, TrancheShare{Name: t.Name, Balance: money.New(bal[i], "CNY"), Share: pct(bal[i], issue)})
	}
	fc, claim := d.ForecastRecoveries.Minor(), d.Header.Claim.Minor()
	s.SeniorOfForecast, s.IssueOfClaim = pct(bal[0], fc), pct(issue, claim)
	s.Typical = fc > 0 && claim > 0 && bal[0]*100 >= fc*49 && bal[0]*100 <= fc*78 && issue*100 >= claim*5 && issue*100 <= claim*14
	return s, nil
}
