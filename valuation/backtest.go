package valuation

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

// BackTestLoan is one loan's prediction for a back-test.
type BackTestLoan struct {
	// LoanID matches the keys of the actual collections.
	LoanID string
	// Segment is the loan's static-pool segment.
	Segment string
	// Vintage is the loan's origination year (0 when unknown).
	Vintage int
	// Exposure is the loan's exposure in major units.
	Exposure float64
	// Predicted holds the expected collections of months 1, 2, ... after the as-of date, in major
	// units.
	Predicted []float64
}

// PredictedCollections returns the loan's expected collections in each of months 1..months after
// the as-of date: ExpectedRecovery × the timing curve's share of the month (zero past the curve).
func (s *LoanScore) PredictedCollections(months int) []float64 {
	out := make([]float64, max(months, 0))
	for k := range out {
		if k < len(s.Timing) {
			out[k] = s.ExpectedRecovery * s.Timing[k]
		}
	}
	return out
}

// BackTestLoans turns scores and their inputs (same order) into back-test predictions over the
// given months, with the vintage taken from each loan's origination date.
func BackTestLoans(scores []LoanScore, inputs []Input, months int) []BackTestLoan {
	out := make([]BackTestLoan, len(scores))
	for i := range scores {
		s := &scores[i]
		out[i] = BackTestLoan{LoanID: s.LoanID, Segment: s.Segment, Exposure: s.Exposure, Predicted: s.PredictedCollections(months)}
		if i < len(inputs) && inputs[i].Loan != nil && !inputs[i].Loan.OriginationDate.IsZero() {
			out[i].Vintage = inputs[i].Loan.OriginationDate.Year()
		}
	}
	return out
}

// BackTestRow compares predicted and actual collections for a group of loans over the back-test's
// months.
type BackTestRow struct {
	// Key names the group (a segment, a vintage year, "unknown", or "all").
	Key string `json:"key"`
	// Loans and Exposure are the group's loans and their total exposure.
	Loans    int     `json:"loans"`
	Exposure float64 `json:"exposure"`
	// Predicted and Actual are the group's collections over the months.
	Predicted float64 `json:"predicted"`
	Actual    float64 `json:"actual"`
	// ErrorPct is 100 × (Predicted − Actual) / Actual (null when nothing was collected).
	ErrorPct Num `json:"error_pct"`
}

// BackTestMonth compares one month's predicted and actual collections over every loan.
type BackTestMonth struct {
	Month        int     `json:"month"`
	Predicted    float64 `json:"predicted"`
	Actual       float64 `json:"actual"`
	CumPredicted float64 `json:"cum_predicted"`
	CumActual    float64 `json:"cum_actual"`
}

// BackTestReport is actual against predicted collections, by month, by segment and by vintage.
type BackTestReport struct {
	// Months is the number of months compared (months 1..Months after the as-of date).
	Months int `json:"months"`
	// Total is every loan.
	Total BackTestRow `json:"total"`
	// ByMonth has one row per month.
	ByMonth []BackTestMonth `json:"by_month"`
	// BySegment has one row per static-pool segment, largest exposure first.
	BySegment []BackTestRow `json:"by_segment"`
	// ByVintage has one row per origination year, oldest first ("unknown" last).
	ByVintage []BackTestRow `json:"by_vintage"`
	// UnmatchedLoans and UnmatchedAmount count actual collections of loans that have no
	// prediction; they are left out of every row.
	UnmatchedLoans  int     `json:"unmatched_loans"`
	UnmatchedAmount float64 `json:"unmatched_amount"`
}

// BackTest compares the predicted collections of loans with the actual collections (by loan id:
// the amounts collected in months 1, 2, ... after the as-of date, in major units) over months
// months. Predictions or actuals shorter than months count as zero for the missing months; longer
// ones are cut. It is BackTestAccumulator over loans held in memory: actual collections of loan
// ids no loan has are counted as unmatched, in the order of their ids.
func BackTest(loans []BackTestLoan, actual map[string][]float64, months int) *BackTestReport {
	acc := NewBackTestAccumulator(months)
	known := make(map[string]bool, len(loans))
	for i := range loans {
		known[loans[i].LoanID] = true
		acc.Add(&loans[i], actual[loans[i].LoanID])
	}
	ids := make([]string, 0, len(actual))
	for id := range actual {
		if !known[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		acc.Unmatched(actual[id])
	}
	return acc.Report()
}

// BackTestAccumulator builds a back-test loan by loan, so that a portfolio can be back-tested in
// batches without holding it (its memory is the groups', not the loans'). The report does not
// depend on how the loans are cut into batches: it is the same as BackTest's for the same loans
// in the same order.
type BackTestAccumulator struct {
	r        *BackTestReport
	months   int
	seg, vin map[string]*BackTestRow
}

// NewBackTestAccumulator starts a back-test over months months (see BackTest).
func NewBackTestAccumulator(months int) *BackTestAccumulator {
	months = max(months, 0)
	r := &BackTestReport{Months: months, ByMonth: make([]BackTestMonth, months)}
	for k := range r.ByMonth {
		r.ByMonth[k].Month = k + 1
	}
	r.Total.Key = "all"
	return &BackTestAccumulator{r: r, months: months, seg: map[string]*BackTestRow{}, vin: map[string]*BackTestRow{}}
}

// Add adds one loan's prediction and its actual collections (nil when nothing was collected).
func (b *BackTestAccumulator) Add(l *BackTestLoan, act []float64) {
	r := b.r
	add := func(m map[string]*BackTestRow, key string, p, a float64) {
		row, ok := m[key]
		if !ok {
			row = &BackTestRow{Key: key}
			m[key] = row
		}
		row.Loans++
		row.Exposure += l.Exposure
		row.Predicted += p
		row.Actual += a
	}
	var p, a float64
	for k := range b.months {
		var pk, ak float64
		if k < len(l.Predicted) {
			pk = l.Predicted[k]
		}
		if k < len(act) {
			ak = act[k]
		}
		r.ByMonth[k].Predicted += pk
		r.ByMonth[k].Actual += ak
		p += pk
		a += ak
	}
	r.Total.Loans++
	r.Total.Exposure += l.Exposure
	r.Total.Predicted += p
	r.Total.Actual += a
	add(b.seg, l.Segment, p, a)
	vk := "unknown"
	if l.Vintage > 0 {
		vk = strconv.Itoa(l.Vintage)
	}
	add(b.vin, vk, p, a)
}

// Unmatched counts the actual collections of a loan that has no prediction: they are left out
// of every row.
func (b *BackTestAccumulator) Unmatched(act []float64) {
	b.r.UnmatchedLoans++
	for k := 0; k < b.months && k < len(act); k++ {
		b.r.UnmatchedAmount += act[k]
	}
}

// Report finishes the back-test: cumulative months, errors, and the groups in order. The
// accumulator must not be used afterwards.
func (b *BackTestAccumulator) Report() *BackTestReport {
	r := b.r
	var cp, ca float64
	for k := range r.ByMonth {
		cp += r.ByMonth[k].Predicted
		ca += r.ByMonth[k].Actual
		r.ByMonth[k].CumPredicted, r.ByMonth[k].CumActual = cp, ca
	}
	errPct := func(row *BackTestRow) {
		row.ErrorPct = Num(math.NaN())
		if row.Actual > 0 {
			row.ErrorPct = Num(100 * (row.Predicted - row.Actual) / row.Actual)
		}
	}
	errPct(&r.Total)
	flatten := func(m map[string]*BackTestRow) []BackTestRow {
		out := make([]BackTestRow, 0, len(m))
		for _, row := range m {
			errPct(row)
			out = append(out, *row)
		}
		return out
	}
	r.BySegment = flatten(b.seg)
	slices.SortFunc(r.BySegment, func(a, b BackTestRow) int {
		if c := cmp.Compare(b.Exposure, a.Exposure); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	r.ByVintage = flatten(b.vin)
	slices.SortFunc(r.ByVintage, func(a, b BackTestRow) int {
		if (a.Key == "unknown") != (b.Key == "unknown") {
			if a.Key == "unknown" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return r
}
