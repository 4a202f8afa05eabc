package pricing

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMonteCarlo1M simulates 1,000 paths of a 1,000,000-loan portfolio with the default
// settings (the target: under 30 s on 2 cores) and summarises them at one price (IRR and
// multiple distributions, fan). It reports the wall time of Simulate alone (sim-s), of the
// summaries (outcome-s) and the CPU time of the whole operation summed over cores (cpu-s). Run it
// alone:
//
//	go test ./valuation/pricing -run '^$' -bench MonteCarlo1M -benchtime 1x
func BenchmarkMonteCarlo1M(b *testing.B) {
	e, err := NewEngine(synthPortfolio(1_000_000, 7), DefaultAssumptions())
	if err != nil {
		b.Fatal(err)
	}
	price, err := e.Projection().PriceForIRR(0.2)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultMonteCarlo()
	b.ResetTimer()
	cpu := cpuTime()
	var simWall, outWall time.Duration
	for range b.N {
		t0 := time.Now()
		sim, err := e.Simulate(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := sim.Outcome(price, 0.15); err != nil {
			b.Fatal(err)
		}
		if _, err := sim.PriceAtConfidence(0.2, 0.9); err != nil {
			b.Fatal(err)
		}
		_ = sim.Fan()
		simWall += t1.Sub(t0)
		outWall += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(simWall.Seconds()/n, "sim-s")
	b.ReportMetric(outWall.Seconds()/n, "outcome-s")
	b.ReportMetric((cpuTime()-cpu).Seconds()/n, "cpu-s")
	b.ReportMetric(float64(cfg.Paths)*1e6*n/simWall.Seconds()/1e6, "Mloan-paths/s")
}

// BenchmarkMonteCarloPaths runs the fast simulator and its loan-level reference (Exact) side by
// side on 100,000 loans × 100 paths, reporting CPU and wall nanoseconds per loan-path.
func BenchmarkMonteCarloPaths(b *testing.B) {
	e, err := NewEngine(synthPortfolio(100_000, 7), DefaultAssumptions())
	if err != nil {
		b.Fatal(err)
	}
	for _, exact := range []bool{false, true} {
		name := "fast"
		if exact {
			name = "exact"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultMonteCarlo()
			cfg.Paths = 100
			cfg.Exact = exact
			cpu := cpuTime()
			for range b.N {
				if _, err := e.Simulate(context.Background(), cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e7, "cpu-ns/loan-path")
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/1e7, "ns/loan-path")
		})
	}
}

// BenchmarkProjection1M builds the engine for 1,000,000 loans and projects the portfolio.
func BenchmarkProjection1M(b *testing.B) {
	p := synthPortfolio(1_000_000, 7)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e, err := NewEngine(p, DefaultAssumptions())
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Projection()
	}
}
