package sim

import (
	"context"

	"reclaim"
	"reclaim/workout"
)

// LearnConfig says how to produce the optimiser's models: an Explore run on a training portfolio
// of other debtors (the same profile and cut-off, seed Seed) with the strategy's capacity scaled
// to its size, whose contact outcomes and offers train the models.
type LearnConfig struct {
	Seed   uint64
	Loans  int // default 20,000
	Months int // default 6
	Params workout.ModelParams
}

// Learn runs the exploration for base's portfolio and strategy and trains the models. base.Loans
// sizes the capacity scaling; its writers, forecast and mode are not used.
func Learn(ctx context.Context, base Config, lc LearnConfig) (*Models, *Result, error) {
	if lc.Loans == 0 {
		lc.Loans = 20_000
	}
	if lc.Months == 0 {
		lc.Months = 6
	}
	if base.Loans < 1 {
		return nil, nil, reclaim.Errorf(reclaim.EINVALID, "learn: the portfolio's size is required")
	}
	s := base.Strategy
	if s == nil {
		s = workout.DefaultStrategy()
	}
	t := &Training{}
	cfg := Config{Seed: lc.Seed, Loans: lc.Loans, Months: lc.Months, CutOff: base.CutOff, Profile: base.Profile,
		Strategy: s.Scaled(float64(lc.Loans) / float64(base.Loans)), Mode: Explore, Training: t}
	res, err := Run(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	p := lc.Params
	if p.Seed == 0 {
		p.Seed = lc.Seed
	}
	m, err := TrainModels(ctx, t, p)
	if err != nil {
		return nil, nil, err
	}
	return m, res, nil
}
