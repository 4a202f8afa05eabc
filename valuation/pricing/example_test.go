package pricing_test

import (
	"context"
	"fmt"

	"reclaim/valuation/pricing"
)

func Example() {
	p := pricing.Portfolio{
		Curves: [][]float64{{0.4, 0.3, 0.2, 0.1}},
		Loans: []pricing.Loan{
			{ID: "A", Claim: 50_000, PRecovery: 0.2, ExpectedRate: 0.08, PLitigation: 1, Open: true},
			{ID: "B", Claim: 30_000, PRecovery: 0.3, ExpectedRate: 0.15, Open: true},
		},
	}
	a := pricing.DefaultAssumptions()
	a.Horizon = 12
	e, err := pricing.NewEngine(p, a)
	if err != nil {
		fmt.Println(err)
		return
	}
	proj := e.Projection()
	price, err := proj.PriceForIRR(0.20)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("gross %.2f, court fee %.2f, net %.2f\n", proj.Total.Gross, proj.Total.Legal, proj.Total.Net)
	fmt.Printf("price for a 20%% IRR: %.2f yuan\n", price)

	cfg := pricing.DefaultMonteCarlo()
	cfg.Paths = 200
	sim, err := e.Simulate(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := sim.Outcome(price, 0.15)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(o.IRR.Percentiles), "IRR percentiles")

	_, err = pricing.Project(pricing.Portfolio{Curves: p.Curves, Loans: []pricing.Loan{{ID: "C", Claim: -1}}}, a)
	fmt.Println(err)
	// Output:
	// gross 8500.00, court fee 1050.00, net 4888.00
	// price for a 20% IRR: 4757.68 yuan
	// 9 IRR percentiles
	// pricing: invalid input: loan 0 (ID "C"): Claim = -1: must be finite and not negative
}
