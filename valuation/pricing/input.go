package pricing

import (
	"fmt"
	"math"
	"strings"
)

// Loan is one loan as the recovery model scores it. Amounts are in yuan.
type Loan struct {
	// ID names the loan in error messages. It need not be unique, but errors are easier to read
	// when it is.
	ID string
	// Claim is the loan's exposure in yuan (principal + interest + fees outstanding). It must be
	// finite and not negative.
	Claim float64
	// PRecovery is the probability, in [0, 1], of any material recovery (at least 1% of the claim)
	// within the horizon.
	PRecovery float64
	// ExpectedRate is the expected recovery as a share of Claim, unconditional (it already
	// includes the chance of recovering nothing), in [0, 1]. The severity given a recovery is
	// ExpectedRate/PRecovery capped at 1 (nobody pays more than the whole claim), so a rate above
	// PRecovery is read as PRecovery; a loan with PRecovery 0 recovers nothing.
	ExpectedRate float64
	// Curve is the index in Portfolio.Curves of the loan's timing curve.
	Curve int
	// PLitigation is the probability, in [0, 1], that the buyer sues on the claim and so pays the
	// court fee: 1 for a claim it will litigate, 0 for one it will not, in between for an
	// expectation over a segment.
	PLitigation float64
	// Open says whether the account is open for servicing. Open accounts cost
	// Assumptions.ServicingCost a month while they survive (see Engine.Projection).
	Open bool
}

// Portfolio is the set of loans to value and the timing curves they share.
type Portfolio struct {
	// Loans are the scored loans.
	Loans []Loan
	// Curves are timing curves: Curves[c][m-1] is the share of a loan's lifetime recovery collected
	// in month m. Each curve must be non-empty, have finite non-negative shares and sum to 1
	// within CurveTolerance. Months past Assumptions.Horizon are not valued (their collections fall
	// outside the projection).
	Curves [][]float64
}

// CurveTolerance is how far from 1 the shares of a timing curve may sum.
const CurveTolerance = 1e-6

// MaxHorizon is the longest projection horizon, in months, that Assumptions may ask for.
const MaxHorizon = 600

// Assumptions are the portfolio-wide parameters of the projection. Start from
// DefaultAssumptions: a zero field means zero (no cost), not "the default".
type Assumptions struct {
	// Horizon is the number of months projected, in [1, MaxHorizon].
	Horizon int
	// CollectionCostRate is the cost of collecting (agency commission, staff, calls) as a share of
	// gross cash collected, in [0, 1].
	CollectionCostRate float64
	// ServicingCost is the monthly cost, in yuan, of keeping one open account on the books
	// (systems, data, notices). Not negative.
	ServicingCost float64
	// LegalFeeMonth is the month, in [1, Horizon], in which court fees are paid (when the suit is
	// filed).
	LegalFeeMonth int
	// SimplifiedShare is the share, in [0, 1], of litigated claims heard under the simplified
	// procedure (简易程序), whose court fee is halved.
	SimplifiedShare float64
	// LegalCostPerCase is any further cost in yuan of one litigated claim (lawyer, service of
	// process), paid with the court fee. Not negative.
	LegalCostPerCase float64
}

// DefaultAssumptions returns the defaults: a 60-month horizon, collection cost 30% of cash,
// servicing 3 yuan per open account a month [estimate], court fees paid in month 3 under the
// ordinary procedure (the conservative choice) and no other legal cost.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		Horizon:            60,
		CollectionCostRate: 0.30,
		ServicingCost:      3,
		LegalFeeMonth:      3,
		SimplifiedShare:    0,
		LegalCostPerCase:   0,
	}
}

// Problem is one broken rule in the input. Exactly one of Loan and Curve is >= 0 when the problem
// belongs to a loan or a curve; both are -1 for a problem with the assumptions or settings.
type Problem struct {
	// Loan is the index of the offending loan in Portfolio.Loans, or -1.
	Loan int
	// LoanID is that loan's ID ("" when Loan is -1).
	LoanID string
	// Curve is the index of the offending curve in Portfolio.Curves, or -1.
	Curve int
	// Field names the offending field, as spelled in the Go struct.
	Field string
	// Value is the offending value.
	Value float64
	// Rule says what the value must be.
	Rule string
}

// String renders the problem as "loan 3 (ID "L-3"): PRecovery = 1.2: must be in [0, 1]".
func (p Problem) String() string {
	var where string
	switch {
	case p.Loan >= 0:
		where = fmt.Sprintf("loan %d (ID %q): ", p.Loan, p.LoanID)
	case p.Curve >= 0:
		where = fmt.Sprintf("curve %d: ", p.Curve)
	}
	return fmt.Sprintf("%s%s = %v: %s", where, p.Field, p.Value, p.Rule)
}

// maxProblems bounds the problems an InputError lists.
const maxProblems = 100

// InputError is returned for invalid input. It lists up to 100 problems in input order and counts
// all of them; nothing is computed from input that has any.
type InputError struct {
	// Problems are the first problems found (at most 100).
	Problems []Problem
	// Total is the number of problems found, which may exceed len(Problems).
	Total int
}

// Error names the first problems and how many there are in all.
func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString("pricing: invalid input: ")
	for i, p := range e.Problems {
		if i == 5 {
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if e.Total > 1 {
		fmt.Fprintf(&b, " (%d problems in all)", e.Total)
	}
	return b.String()
}

type problems struct{ e InputError }

func (ps *problems) add(p Problem) {
	ps.e.Total++
	if len(ps.e.Problems) < maxProblems {
		ps.e.Problems = append(ps.e.Problems, p)
	}
}

func (ps *problems) setting(field string, v float64, rule string) {
	ps.add(Problem{Loan: -1, Curve: -1, Field: field, Value: v, Rule: rule})
}

func (ps *problems) err() error {
	if ps.e.Total == 0 {
		return nil
	}
	e := ps.e
	return &e
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func in01(x float64) bool { return x >= 0 && x <= 1 } // false for NaN

func (a Assumptions) check(ps *problems) {
	if a.Horizon < 1 || a.Horizon > MaxHorizon {
		ps.setting("Assumptions.Horizon", float64(a.Horizon), fmt.Sprintf("must be in [1, %d]", MaxHorizon))
	}
	if !in01(a.CollectionCostRate) {
		ps.setting("Assumptions.CollectionCostRate", a.CollectionCostRate, "must be in [0, 1]")
	}
	if !finite(a.ServicingCost) || a.ServicingCost < 0 {
		ps.setting("Assumptions.ServicingCost", a.ServicingCost, "must be finite and not negative")
	}
	if a.LegalFeeMonth < 1 || a.LegalFeeMonth > max(a.Horizon, 1) {
		ps.setting("Assumptions.LegalFeeMonth", float64(a.LegalFeeMonth), "must be in [1, Horizon]")
	}
	if !in01(a.SimplifiedShare) {
		ps.setting("Assumptions.SimplifiedShare", a.SimplifiedShare, "must be in [0, 1]")
	}
	if !finite(a.LegalCostPerCase) || a.LegalCostPerCase < 0 {
		ps.setting("Assumptions.LegalCostPerCase", a.LegalCostPerCase, "must be finite and not negative")
	}
}

func checkCurve(ps *problems, c int, shares []float64) {
	if len(shares) == 0 {
		ps.add(Problem{Loan: -1, Curve: c, Field: "len(Curve)", Value: 0, Rule: "must have at least one month"})
		return
	}
	sum := 0.0
	for m, s := range shares {
		if !finite(s) || s < 0 {
			ps.add(Problem{Loan: -1, Curve: c, Field: fmt.Sprintf("Curve[%d] (month %d)", m, m+1), Value: s,
				Rule: "must be finite and not negative"})
			return
		}
		sum += s
	}
	if math.Abs(sum-1) > CurveTolerance {
		ps.add(Problem{Loan: -1, Curve: c, Field: "sum of shares", Value: sum,
			Rule: fmt.Sprintf("must be 1 within %g", CurveTolerance)})
	}
}

func checkLoan(ps *problems, i int, l *Loan, curves int) {
	bad := func(field string, v float64, rule string) {
		ps.add(Problem{Loan: i, LoanID: l.ID, Curve: -1, Field: field, Value: v, Rule: rule})
	}
	if !finite(l.Claim) || l.Claim < 0 {
		bad("Claim", l.Claim, "must be finite and not negative")
	}
	if !in01(l.PRecovery) {
		bad("PRecovery", l.PRecovery, "must be in [0, 1]")
	}
	if !in01(l.ExpectedRate) {
		bad("ExpectedRate", l.ExpectedRate, "must be in [0, 1]")
	}
	if l.Curve < 0 || l.Curve >= curves {
		bad("Curve", float64(l.Curve), fmt.Sprintf("must index one of the %d curves", curves))
	}
	if !in01(l.PLitigation) {
		bad("PLitigation", l.PLitigation, "must be in [0, 1]")
	}
}

// Validate checks the portfolio and the assumptions and returns an *InputError listing every
// broken rule, or nil.
func Validate(p Portfolio, a Assumptions) error {
	var ps problems
	a.check(&ps)
	if len(p.Curves) == 0 {
		ps.setting("len(Portfolio.Curves)", 0, "must have at least one timing curve")
	}
	for c, s := range p.Curves {
		checkCurve(&ps, c, s)
	}
	for i := range p.Loans {
		checkLoan(&ps, i, &p.Loans[i], len(p.Curves))
	}
	return ps.err()
}

// severity returns the conditional severity (recovery given recovery, as a share of the claim) and
// the effective unconditional expected rate PRecovery × severity of a valid loan.
func severity(l *Loan) (sev, rate float64) {
	if l.PRecovery <= 0 {
		return 0, 0
	}
	sev = min(l.ExpectedRate/l.PRecovery, 1)
	return sev, l.PRecovery * sev
}

// EffectiveRate returns the expected recovery rate the engine uses for l: ExpectedRate, or
// PRecovery when ExpectedRate exceeds it (severity is capped at the whole claim), and 0 when
// PRecovery is 0. It does not validate l.
func EffectiveRate(l Loan) float64 {
	_, r := severity(&l)
	return r
}
