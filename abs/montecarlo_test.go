package abs

import (
	"context"
	"math"
	"reflect"
	"testing"

	"reclaim/valuation/pricing"
)

// TestMonteCarlo: the simulation is deterministic in the seed whatever the number of workers,
// the senior is safer than the subordinated tranche, and with the timing effects off the mean
// collections equal the forecast collected within the deal (the factor's multiplier has mean 1).
func TestMonteCarlo(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	cfg := pricing.DefaultMonteCarlo()
	cfg.Paths, cfg.Seed = 4000, 7
	cfg.Workers = 1
	a, err := d.MonteCarlo(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workers = 3
	b, err := d.MonteCarlo(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.Workers = a.Workers
	if !reflect.DeepEqual(a, b) {
		t.Errorf("1 and 3 workers differ:\n%+v\n%+v", a, b)
	}
	sen, sub := a.Tranches[0], a.Tranches[1]
	if sen.ExpectedLoss > sub.ExpectedLoss || sen.ProbLoss > sub.ProbLoss || sen.ProbLoss <= 0 || sub.ProbLoss >= 1 {
		t.Errorf("senior %+v\nsub %+v", sen, sub)
	}
	if sen.Loss.P50 != 0 || sen.Loss.P99 <= 0 {
		t.Errorf("senior loss quantiles %+v", sen.Loss)
	}
	cfg.TimingDelay, cfg.TimingStretch, cfg.Paths = 0, 0, 20000
	c, err := d.MonteCarlo(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := 240_350_000.0 // the forecast within the last collection period
	if m := c.Collections.Mean; m < want*0.99 || m > want*1.01 {
		t.Errorf("mean collections %.0f, want about %.0f", m, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.MonteCarlo(ctx, cfg); err == nil {
		t.Error("a cancelled run returned a result")
	}
	cfg.Rho = 2
	if _, err := d.MonteCarlo(context.Background(), cfg); err == nil {
		t.Error("rho 2 accepted")
	}
}

// TestMonteCarloWAL: with no systemic spread every path is the base case, so each tranche's WAL
// distribution collapses on the run's WAL; with spread, the senior's WAL spreads around it.
func TestMonteCarloWAL(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	base, err := d.Run(Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pricing.DefaultMonteCarlo()
	cfg.Paths, cfg.Rho, cfg.SeverityVol, cfg.TimingStretch, cfg.TimingDelay = 50, 0, 0, 0, 0
	res, err := d.MonteCarlo(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, tm := range res.Tranches {
		w := base.Tranches[i].WAL
		if tm.WALPaths != cfg.Paths || math.Abs(tm.WAL.P01-w) > 1e-9 || math.Abs(tm.WAL.P99-w) > 1e-9 || tm.ExpectedLoss != base.Tranches[i].LossRate {
			t.Errorf("%s: WAL %+v over %d paths, loss %v; the run's WAL %v, loss %v", tm.Name, tm.WAL, tm.WALPaths, tm.ExpectedLoss, w, base.Tranches[i].LossRate)
		}
	}
	cfg = pricing.DefaultMonteCarlo()
	cfg.Paths = 2000
	res, err = d.MonteCarlo(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sen := res.Tranches[0]
	if !(sen.WAL.P05 < sen.WAL.P50 && sen.WAL.P50 < sen.WAL.P95) || sen.WALPaths > cfg.Paths || sen.WALPaths < cfg.Paths*9/10 {
		t.Errorf("senior WAL %+v over %d paths", sen.WAL, sen.WALPaths)
	}
}
