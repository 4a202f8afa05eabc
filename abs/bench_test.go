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

// BenchmarkMonteCarlo100kCalibrated is BenchmarkMonteCarlo100k with the factor calibrated from
// the LendingClub recovery model's systemic-spread estimate at the deal's payer rate (what
// `reclaim abs mc --model lendingclub` prints: ρ 0.001203, σ_A 0.06815 uncorrelated, no timing
// effects): the peer of the default settings in the same run.
func BenchmarkMonteCarlo100kCalibrated(b *testing.B) {
	d := loadFile(b, "../docs/examples/deal-npl-2tranche.yaml")
	cfg := pricing.DefaultMonteCarlo()
	cfg.Paths = 100_000
	cfg.Rho, cfg.SeverityVol, cfg.SeverityCorrelation, cfg.TimingStretch, cfg.TimingDelay = 0.001203, 0.06815, 0, 0, 0
	for b.Loop() {
		if _, err := d.MonteCarlo(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
