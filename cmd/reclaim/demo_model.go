package main

import (
	"context"
	"fmt"

	"reclaim/date"
	"reclaim/synth"
	"reclaim/valuation"
	"reclaim/valuation/service"
)

// demoModelName is the model the demo trains when the registry is empty.
const demoModelName = "recovery-demo"

// demoModel trains and registers a small default recovery model when the registry has none, so
// that the console's valuation pages have a model: a seasoned synthetic portfolio of 20,000 loans
// (the demo market's mixed bank profile) with 24 months of collections, at most 150 trees per
// model. It takes a few seconds.
func demoModel(ctx context.Context, g *globals, a *app) error {
	svc := service.New(a.db, service.Options{Logger: g.log})
	cards, err := svc.Models(ctx)
	if err != nil || len(cards) > 0 {
		return err
	}
	const loans, months = 20000, 24
	cfg := synth.Config{Seed: 2024, Loans: loans, PortfolioRef: "SEASONED-DEMO", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}
	s, err := synth.NewSeasoned(cfg, months)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "\nTraining the demo recovery model on a seasoned synthetic portfolio (%d loans, %d months of collections)...\n", loans, months)
	t, err := valuation.BuildSeasoned(s, valuation.CN(), valuation.TableOptions{})
	if err != nil {
		return err
	}
	tb := &trainBar{g: g}
	m, err := valuation.TrainRecoveryModel(ctx, t, valuation.TrainOptions{Trees: 150, MaxDepth: 4, LearningRate: 0.05,
		Source: fmt.Sprintf("seasoned synthetic portfolio: %d loans, profile %s, seed %d, %d months of collections", loans, cfg.Profile, cfg.Seed, months)}, tb.report)
	tb.bar.done()
	if err != nil {
		return err
	}
	c, err := svc.SaveModel(ctx, demoModelName, "demo", m)
	if err != nil {
		return err
	}
	mt := c.Metrics
	fmt.Fprintf(g.stdout, "Registered %s version %d: held-out AUC %.3f (material recovery), %.3f (rate >= 10%%) against the static pool's %.3f and %.3f.\n",
		c.Name, c.Version, mt.AUCMaterial, mt.AUCRate10, mt.BaselineAUCMaterial, mt.BaselineAUCRate10)
	return nil
}
