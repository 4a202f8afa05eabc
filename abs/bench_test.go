package abs

import (
	"context"
	"testing"

	"reclaim/money"
	"reclaim/valuation/pricing"
)

// BenchmarkRun is one recorded run of the 16-period example deal (period table, statement,
// trigger log, analytics).
func BenchmarkRun(b *testing.B) {
	d := loadFile(b, "../docs/examples/deal-npl-2tranche.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Run(Scenario{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMonteCarlo100k simulates 100,000 paths of the 16-period example deal on all cores.
func BenchmarkMonteCarlo100k(b *testing.B) {
	d := loadFile(b, "../docs/examples/deal-npl-2tranche.yaml")
	cfg := pricing.DefaultMonteCarlo()
	cfg.Paths = 100_000
	for b.Loop() {
		if _, err := d.MonteCarlo(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBreakeven solves the senior's break-even haircut for one delay.
func BenchmarkBreakeven(b *testing.B) {
	d := loadFile(b, "../docs/examples/deal-npl-2tranche.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Breakeven([]int{0}, money.Rate{}); err != nil {
			b.Fatal(err)
		}
	}
}
