package pricing

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenPortfolio is a small fixed portfolio: eight loans on two curves, one of them longer than
// the 48-month horizon, with litigated, open and closed accounts and a rate above its probability.
func goldenPortfolio() (Portfolio, Assumptions) {
	p := Portfolio{
		Curves: [][]float64{
			marketCurve(0.93),                // 60 months: the tail past month 48 is not valued
			marketCurve(0.85, 0.6, 0.3, 0.1), // 36 months
		},
		Loans: []Loan{
			{ID: "G1", Claim: 8_000, PRecovery: 0.30, ExpectedRate: 0.12, Curve: 0, Open: true},
			{ID: "G2", Claim: 50_000, PRecovery: 0.15, ExpectedRate: 0.06, Curve: 0, PLitigation: 1, Open: true},
			{ID: "G3", Claim: 120_000, PRecovery: 0.15, ExpectedRate: 0.08, Curve: 1, PLitigation: 1, Open: true},
			{ID: "G4", Claim: 35_500.55, PRecovery: 0.22, ExpectedRate: 0.08, Curve: 1, PLitigation: 0.5},
			{ID: "G5", Claim: 2_600, PRecovery: 0.05, ExpectedRate: 0.09, Curve: 0, Open: true}, // rate capped at 0.05
			{ID: "G6", Claim: 640_000, PRecovery: 0.12, ExpectedRate: 0.07, Curve: 1, PLitigation: 1, Open: true},
			{ID: "G7", Claim: 15_000, PRecovery: 0, ExpectedRate: 0, Curve: 0, Open: true},
			{ID: "G8", Claim: 27_300, PRecovery: 1, ExpectedRate: 0.4, Curve: 1},
		},
	}
	a := DefaultAssumptions()
	a.Horizon = 48
	a.SimplifiedShare = 0.5
	a.LegalCostPerCase = 300
	return p, a
}

func writeGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range max(len(gl), len(wl)) {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

func TestGoldenProjectionAndPricing(t *testing.T) {
	p, a := goldenPortfolio()
	e, err := NewEngine(p, a)
	if err != nil {
		t.Fatal(err)
	}
	proj := e.Projection()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %d loans, claim %.2f yuan, horizon %d months; amounts in yuan\n", proj.Loans, proj.Claim, proj.Horizon)
	fmt.Fprintf(&b, "%5s %14s %14s %14s %14s %14s\n", "month", "gross", "collection", "legal", "servicing", "net")
	for m := range proj.Horizon {
		fmt.Fprintf(&b, "%5d %14.4f %14.4f %14.4f %14.4f %14.4f\n", m+1, proj.Gross[m],
			proj.Costs.Collection[m], proj.Costs.Legal[m], proj.Costs.Servicing[m], proj.Net[m])
	}
	tot := proj.Total
	fmt.Fprintf(&b, "%5s %14.4f %14.4f %14.4f %14.4f %14.4f\n", "total", tot.Gross, tot.Collection, tot.Legal, tot.Servicing, tot.Net)
	fmt.Fprintf(&b, "total costs %.4f\n", tot.Costs)

	for _, r := range []float64{0, 0.10, 0.15, 0.25} {
		fmt.Fprintf(&b, "PV of net at %.0f%%: %.4f\n", 100*r, PV(proj.Net, r))
	}
	for _, target := range []float64{0.15, 0.20, 0.25} {
		price, err := proj.PriceForIRR(target)
		if err != nil {
			t.Fatal(err)
		}
		irr, err := proj.IRR(price)
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := proj.Payback(price)
		fmt.Fprintf(&b, "price for IRR %.0f%%: %.4f (%.4f%% of claim), IRR back %.8f, payback month %d\n",
			100*target, price, 100*price/proj.Claim, irr, pb)
	}
	gm, err := proj.PriceForGrossMultiple(2)
	if err != nil {
		t.Fatal(err)
	}
	nm, err := proj.PriceForNetMultiple(1.5)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "price for gross multiple 2.0x: %.4f; for net multiple 1.5x: %.4f\n", gm, nm)
	fmt.Fprintf(&b, "NPV at price 5%% of claim, 20%%: %.4f\n", proj.NPV(0.05*proj.Claim, 0.20))

	fmt.Fprintf(&b, "%8s %14s %12s %10s %10s %8s\n", "price%", "price", "irr", "net_x", "gross_x", "payback")
	for _, row := range proj.PriceTable(nil) {
		irr := "none"
		if row.IRR != nil {
			irr = fmt.Sprintf("%.6f", *row.IRR)
		}
		fmt.Fprintf(&b, "%8.2f %14.4f %12s %10.4f %10.4f %8d\n", row.PricePct, row.Price, irr, row.NetMultiple, row.GrossMultiple, row.PaybackMonth)
	}
	fmt.Fprintf(&b, "%4s %12s %12s %12s %12s %12s\n", "loan", "gross", "collection", "legal", "servicing", "net")
	for i := range e.Loans() {
		lp, err := e.LoanProjection(i)
		if err != nil {
			t.Fatal(err)
		}
		lt := lp.Total
		fmt.Fprintf(&b, "%4s %12.4f %12.4f %12.4f %12.4f %12.4f\n", p.Loans[i].ID, lt.Gross, lt.Collection, lt.Legal, lt.Servicing, lt.Net)
	}
	writeGolden(t, "projection.golden", b.Bytes())
}

// TestLoanProjectionsAddUp checks that the loans' projections sum to the portfolio's, month by
// month, and the hand-computable parts of the golden portfolio.
func TestLoanProjectionsAddUp(t *testing.T) {
	p, a := goldenPortfolio()
	e, err := NewEngine(p, a)
	if err != nil {
		t.Fatal(err)
	}
	proj := e.Projection()
	sum := newProjection(a.Horizon)
	for i := range e.Loans() {
		lp, _ := e.LoanProjection(i)
		for m := range a.Horizon {
			sum.Gross[m] += lp.Gross[m]
			sum.Costs.Legal[m] += lp.Costs.Legal[m]
			sum.Costs.Servicing[m] += lp.Costs.Servicing[m]
			sum.Net[m] += lp.Net[m]
		}
	}
	for m := range a.Horizon {
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"gross", sum.Gross[m], proj.Gross[m]},
			{"legal", sum.Costs.Legal[m], proj.Costs.Legal[m]},
			{"servicing", sum.Costs.Servicing[m], proj.Costs.Servicing[m]},
			{"net", sum.Net[m], proj.Net[m]},
		} {
			if math.Abs(c.got-c.want) > 1e-9*(1+math.Abs(c.want)) {
				t.Errorf("month %d %s: loans sum to %v, portfolio %v", m+1, c.name, c.got, c.want)
			}
		}
	}
	// Legal: G2 50,000 (1,050), G3 120,000 (2,700), G4 35,500.55 × 0.5 (937.51375), G6 640,000
	// (10,200), each at 3/4 of the fee (half the cases simplified) plus 300 a case.
	wantLegal := 0.75*(1050+2700+0.5*(50+0.025*25_500.55)+10200) + 300*3.5
	if got := proj.Total.Legal; math.Abs(got-wantLegal) > 1e-9 {
		t.Errorf("legal = %v, want %v", got, wantLegal)
	}
	if proj.Costs.Legal[a.LegalFeeMonth-1] != proj.Total.Legal {
		t.Errorf("legal cost is not all in month %d", a.LegalFeeMonth)
	}
	// Servicing in month 1: every open account (G1, G2, G3, G5, G6, G7) at 3 yuan.
	if got := proj.Costs.Servicing[0]; math.Abs(got-18) > 1e-12 {
		t.Errorf("servicing in month 1 = %v, want 18", got)
	}
	if _, err := e.LoanProjection(8); err == nil {
		t.Error("LoanProjection(8) accepted")
	}
}

// TestGrossSumsToExpectedRecovery: when every curve fits within the horizon, total gross is
// Σ Claim × ExpectedRate.
func TestGrossSumsToExpectedRecovery(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := rapid.IntRange(1, 120).Draw(t, "horizon")
		nc := rapid.IntRange(1, 4).Draw(t, "curves")
		curves := make([][]float64, nc)
		for c := range curves {
			w := rapid.SliceOfN(rapid.Float64Range(0, 1), 1, h).Draw(t, "weights")
			w[0] += 0.01
			s := 0.0
			for _, x := range w {
				s += x
			}
			for m := range w {
				w[m] /= s
			}
			curves[c] = w
		}
		n := rapid.IntRange(0, 50).Draw(t, "loans")
		loans := make([]Loan, n)
		want := 0.0
		for i := range loans {
			pr := rapid.Float64Range(0, 1).Draw(t, "p")
			l := Loan{
				ID:           fmt.Sprint(i),
				Claim:        rapid.Float64Range(0, 1e6).Draw(t, "claim"),
				PRecovery:    pr,
				ExpectedRate: pr * rapid.Float64Range(0, 1).Draw(t, "severity"),
				Curve:        rapid.IntRange(0, nc-1).Draw(t, "curve"),
				PLitigation:  rapid.Float64Range(0, 1).Draw(t, "lit"),
				Open:         rapid.Bool().Draw(t, "open"),
			}
			loans[i] = l
			want += l.Claim * l.ExpectedRate
		}
		a := DefaultAssumptions()
		a.Horizon = h
		a.LegalFeeMonth = 1
		proj, err := Project(Portfolio{Loans: loans, Curves: curves}, a)
		if err != nil {
			t.Fatal(err)
		}
		if got := proj.Total.Gross; math.Abs(got-want) > 1e-9*(1+want) {
			t.Fatalf("total gross %v, want %v", got, want)
		}
		if got := proj.Total.Net; math.Abs(got-(proj.Total.Gross-proj.Total.Costs)) > 1e-6 {
			t.Fatalf("net %v != gross − costs", got)
		}
	})
}
