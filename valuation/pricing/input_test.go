package pricing

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func validPortfolio() Portfolio {
	return Portfolio{
		Loans: []Loan{
			{ID: "A", Claim: 20_000, PRecovery: 0.2, ExpectedRate: 0.1, Curve: 0, PLitigation: 1, Open: true},
			{ID: "B", Claim: 80_000, PRecovery: 0.1, ExpectedRate: 0.04, Curve: 1},
		},
		Curves: [][]float64{{0.5, 0.3, 0.2}, {0.25, 0.25, 0.25, 0.25}},
	}
}

func TestBadInputNamesTheLoan(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p *Portfolio, a *Assumptions)
		wants []string // substrings of the error
	}{
		{"negative claim", func(p *Portfolio, _ *Assumptions) { p.Loans[1].Claim = -1 }, []string{`loan 1 (ID "B")`, "Claim = -1", "not negative"}},
		{"NaN claim", func(p *Portfolio, _ *Assumptions) { p.Loans[0].Claim = math.NaN() }, []string{`loan 0 (ID "A")`, "Claim = NaN"}},
		{"infinite claim", func(p *Portfolio, _ *Assumptions) { p.Loans[0].Claim = math.Inf(1) }, []string{`(ID "A")`, "Claim = +Inf"}},
		{"p above 1", func(p *Portfolio, _ *Assumptions) { p.Loans[1].PRecovery = 1.2 }, []string{`(ID "B")`, "PRecovery = 1.2", "[0, 1]"}},
		{"p below 0", func(p *Portfolio, _ *Assumptions) { p.Loans[1].PRecovery = -0.1 }, []string{`(ID "B")`, "PRecovery = -0.1"}},
		{"p NaN", func(p *Portfolio, _ *Assumptions) { p.Loans[0].PRecovery = math.NaN() }, []string{`(ID "A")`, "PRecovery = NaN"}},
		{"rate NaN", func(p *Portfolio, _ *Assumptions) { p.Loans[0].ExpectedRate = math.NaN() }, []string{`(ID "A")`, "ExpectedRate = NaN"}},
		{"rate above 1", func(p *Portfolio, _ *Assumptions) { p.Loans[0].ExpectedRate = 1.5 }, []string{`(ID "A")`, "ExpectedRate = 1.5"}},
		{"litigation", func(p *Portfolio, _ *Assumptions) { p.Loans[0].PLitigation = 2 }, []string{`(ID "A")`, "PLitigation = 2"}},
		{"curve index", func(p *Portfolio, _ *Assumptions) { p.Loans[1].Curve = 7 }, []string{`(ID "B")`, "Curve = 7", "2 curves"}},
		{"curve sum", func(p *Portfolio, _ *Assumptions) { p.Curves[1][3] = 0.2 }, []string{"curve 1", "sum of shares = 0.95", "must be 1"}},
		{"curve NaN", func(p *Portfolio, _ *Assumptions) { p.Curves[0][1] = math.NaN() }, []string{"curve 0", "month 2", "NaN"}},
		{"curve negative", func(p *Portfolio, _ *Assumptions) { p.Curves[0][0] = -0.5; p.Curves[0][1] = 1.3 }, []string{"curve 0", "month 1", "-0.5"}},
		{"curve empty", func(p *Portfolio, _ *Assumptions) { p.Curves[0] = nil }, []string{"curve 0", "at least one month"}},
		{"no curves", func(p *Portfolio, _ *Assumptions) { p.Curves = nil; p.Loans = nil }, []string{"Portfolio.Curves"}},
		{"horizon", func(_ *Portfolio, a *Assumptions) { a.Horizon = 0 }, []string{"Assumptions.Horizon = 0"}},
		{"cost rate", func(_ *Portfolio, a *Assumptions) { a.CollectionCostRate = math.NaN() }, []string{"CollectionCostRate = NaN"}},
		{"fee month", func(_ *Portfolio, a *Assumptions) { a.LegalFeeMonth = 61 }, []string{"LegalFeeMonth = 61"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPortfolio()
			for i := range p.Curves {
				p.Curves[i] = append([]float64(nil), p.Curves[i]...)
			}
			a := DefaultAssumptions()
			tt.edit(&p, &a)
			e, err := NewEngine(p, a)
			if err == nil || e != nil {
				t.Fatalf("NewEngine accepted bad input")
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *InputError: %v", err, err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestInputErrorCountsEveryProblem(t *testing.T) {
	p := validPortfolio()
	for i := range 150 {
		p.Loans = append(p.Loans, Loan{ID: "X", Claim: -float64(i + 1)})
	}
	err := Validate(p, DefaultAssumptions())
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatal(err)
	}
	if ie.Total != 150 || len(ie.Problems) != 100 {
		t.Errorf("Total = %d, len(Problems) = %d; want 150, 100", ie.Total, len(ie.Problems))
	}
	if !strings.Contains(err.Error(), "150 problems") {
		t.Errorf("error %q does not count the problems", err)
	}
}

func TestSeverityCap(t *testing.T) {
	// A rate above the probability would need a severity above 100%: it is read as PRecovery.
	if r := EffectiveRate(Loan{PRecovery: 0.1, ExpectedRate: 0.3}); r != 0.1 {
		t.Errorf("EffectiveRate = %v, want 0.1", r)
	}
	if r := EffectiveRate(Loan{PRecovery: 0, ExpectedRate: 0.3}); r != 0 {
		t.Errorf("EffectiveRate = %v, want 0", r)
	}
	if r := EffectiveRate(Loan{PRecovery: 0.4, ExpectedRate: 0.1}); r != 0.1 {
		t.Errorf("EffectiveRate = %v, want 0.1", r)
	}
}
