package valuation_test

import (
	"math"
	"testing"

	"reclaim/abs"
	"reclaim/date"
	"reclaim/valuation"
)

// benchPurchase is a purchase five years into a 60-month forecast with a payment every day.
func benchPurchase() (valuation.PerformanceInput, date.Date) {
	f := &valuation.Forecast{CollectionCostRate: 0.3}
	for k := range 60 {
		f.Months = append(f.Months, valuation.ForecastMonth{Gross: 200000 * math.Pow(0.95, float64(k)), FixedCost: 3000})
	}
	bought := date.Of(2021, 1, 10)
	var cs []valuation.Collection
	for d := range 5 * 365 {
		cs = append(cs, valuation.Collection{On: bought.AddDays(d + 1), Amount: 6000 * math.Pow(0.95, float64(d)/30)})
	}
	return valuation.PerformanceInput{Key: "b", Price: 2e6, Purchased: bought, Forecast: f, Collections: cs}, bought.AddDays(5*365 + 1)
}

// BenchmarkPerformanceOf reports one purchase (three IRRs, 1,825 collections, 60 months).
func BenchmarkPerformanceOf(b *testing.B) {
	in, asOf := benchPurchase()
	for b.Loop() {
		if _, err := valuation.PerformanceOf(in, asOf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeerXIRR is the peer: abs.XIRR (Excel's convention) of the same purchase's price and
// daily collections, one IRR from dated flows.
func BenchmarkPeerXIRR(b *testing.B) {
	in, _ := benchPurchase()
	flows := []abs.CashFlow{{Date: in.Purchased, Amount: -in.Price}}
	for _, c := range in.Collections {
		flows = append(flows, abs.CashFlow{Date: c.On, Amount: c.Amount * 0.7})
	}
	for b.Loop() {
		if _, err := abs.XIRR(flows); err != nil {
			b.Fatal(err)
		}
	}
}
