package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/abs"
	"reclaim/money"
	"reclaim/valuation/pricing"
)

// newABSCmd is `reclaim abs`: validate, run, stress and simulate NPL ABS deal documents. It needs
// no database.
func newABSCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "abs",
		Short: "Validate, run, stress and simulate NPL ABS deals (no database needed)",
		Long: `A deal document (YAML, docs/abs-deal.md) describes an NPL securitisation: dates, the pool's
projected recoveries, accounts, fees, tranches, triggers and the waterfall of each deal status.
These commands read one and run the waterfall engine (docs/abs.md). Exit codes: 0 success,
1 an invalid deal or collections file (every problem is printed with its path or line),
2 a usage error.`,
	}
	c.PersistentFlags().BoolVar(&g.jsonOut, "json", false, "print JSON (amounts as decimal strings)")
	c.AddCommand(newABSValidateCmd(g), newABSRunCmd(g), newABSBreakevenCmd(g), newABSGridCmd(g), newABSMCCmd(g))
	addABSLiveCmds(g, c) // live deals: report, pool, deal (abs_live.go)
	return c
}

// loadDeal reads and compiles a deal document; a forecast_file is read beside it.
func loadDeal(g *globals, path string) (*abs.Deal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EINVALID, err, "cannot read the deal document")
	}
	d, err := abs.Load(b, abs.Options{Files: os.DirFS(filepath.Dir(path))})
	if err != nil {
		return nil, g.printProblems(path, err)
	}
	return d, nil
}

// printProblems prints every problem of an invalid document or file, one a line, and returns a
// silent failure; other errors pass through.
func (g *globals) printProblems(path string, err error) error {
	var ve *abs.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	if g.jsonOut {
		if werr := writeJSON(g.stdout, map[string]any{"file": path, "valid": false, "problems": ve.Problems}); werr != nil {
			return werr
		}
		return silentError{err}
	}
	fmt.Fprintf(g.stdout, "%s: INVALID, %d problems\n", path, len(ve.Problems))
	for _, p := range ve.Problems {
		fmt.Fprintf(g.stdout, "  %s\n", p)
	}
	return silentError{err}
}

func newABSValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate DEAL.yaml",
		Short: "Check a deal document and print its hash",
		Long: `Checks every rule of the deal document and prints each problem with the path to the offending
element (tranches[1].coupon: 1.5 is above 100%). A valid deal prints its SHA-256 hash (of the
canonical document, the forecast file inlined), which fixes the deal at pool opening. Exit code 1
when the document is invalid.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadDeal(g, args[0])
			if err != nil {
				return err
			}
			pay := d.PaymentDates()
			if g.jsonOut {
				return writeJSON(g.stdout, map[string]any{"file": args[0], "valid": true, "name": d.Name(), "hash": d.Hash(),
					"payment_dates": len(pay), "first_payment": pay[0], "legal_maturity": pay[len(pay)-1], "tranches": d.TrancheNames()})
			}
			fmt.Fprintf(g.stdout, "%s: valid\n  deal %s\n  hash %s\n  %d payment dates, %s to %s; tranches %s\n", args[0], d.Name(), d.Hash(),
				len(pay), pay[0], pay[len(pay)-1], strings.Join(d.TrancheNames(), ", "))
			return nil
		},
	}
}

// rateFlag parses a rate flag ("20%", "0.2", "1/5").
func rateFlag(name, s string) (money.Rate, error) {
	if s == "" {
		return money.Rate{}, nil
	}
	r, err := money.ParseRate(s)
	if err != nil {
		return money.Rate{}, usagef("--%s %q: not a rate such as 20%% or 0.2", name, s)
	}
	return r, nil
}

type scenarioFlags struct {
	collections, haircut, stretch string
	delay                         int
}

func (f *scenarioFlags) register(c *cobra.Command, withCollections bool) {
	fl := c.Flags()
	if withCollections {
		fl.StringVar(&f.collections, "collections", "", "CSV of date,amount (yuan) replacing the deal's projected pool flows")
		fl.StringVar(&f.haircut, "haircut", "", "share of each period's collections lost: 20%, 0.2 or 20 (a bare number above 1 is a percentage)")
		fl.IntVar(&f.delay, "delay", 0, "delay every collection by N whole payment periods")
	}
	fl.StringVar(&f.stretch, "stretch", "", "stretch recovery timing: a flow tau days after the cut-off moves to F x tau (e.g. 1.5)")
}

func (f *scenarioFlags) scenario(g *globals, d *abs.Deal) (abs.Scenario, error) {
	var s abs.Scenario
	var err error
	if s.Haircut, err = rateFlag("haircut", f.haircut); err != nil {
		return s, err
	}
	// A bare number above 1 (--haircut 30) can only mean a percentage.
	if !strings.Contains(f.haircut, "%") && s.Haircut.Cmp(money.MustRate(1, 1)) > 0 && s.Haircut.Cmp(money.MustRate(100, 1)) <= 0 {
		s.Haircut, _ = s.Haircut.Mul(money.MustRate(1, 100))
	}
	if s.Haircut.Sign() < 0 || s.Haircut.Cmp(money.MustRate(1, 1)) > 0 {
		return s, usagef("--haircut %s: must be between 0%% and 100%%", f.haircut)
	}
	if s.Stretch, err = rateFlag("stretch", f.stretch); err != nil {
		return s, err
	}
	if f.stretch != "" && (s.Stretch.Sign() <= 0 || s.Stretch.Cmp(money.MustRate(10, 1)) > 0) {
		return s, usagef("--stretch %s: must be above 0 and at most 10", f.stretch)
	}
	if f.delay < 0 {
		return s, usagef("--delay %d: must not be negative", f.delay)
	}
	s.Delay = f.delay
	if f.collections != "" {
		file, err := os.Open(f.collections)
		if err != nil {
			return s, reclaim.WrapError(reclaim.EINVALID, err, "cannot read the collections file")
		}
		defer file.Close()
		flows, err := abs.ParseFlowsCSV(file, d.Currency())
		if err != nil {
			return s, g.printProblems(f.collections, err)
		}
		if err := d.CheckCollections(flows); err != nil {
			return s, g.printProblems(f.collections, err)
		}
		s.Collections = flows
	}
	return s, nil
}

// absRunJSON is the JSON of `abs run`: the run's full record (periods with, per tranche, interest
// paid, principal paid and closing balance; tranches with WAL and IRR at the issue price).
type absRunJSON struct {
	*abs.Result
}

func newABSRunCmd(g *globals) *cobra.Command {
	var f scenarioFlags
	var statement bool
	c := &cobra.Command{
		Use:   "run DEAL.yaml",
		Short: "Run the waterfall and print the period table",
		Long: `Runs the deal's waterfall on every payment date and prints, per tranche, the totals, WAL and IRR
at the issue price, then the period table (collections, status, each tranche's interest and
principal and balance, each fee, each account), the status changes and the triggers hit.
--collections replaces the projected pool flows with a CSV of date,amount (yuan); --haircut,
--delay and --stretch stress them. --json prints the full record: periods, tranches, status
changes, the trigger log and every statement line.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := loadDeal(g, args[0])
			if err != nil {
				return err
			}
			s, err := f.scenario(g, d)
			if err != nil {
				return err
			}
			res, err := d.Run(s)
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, absRunJSON{res})
			}
			if err := res.WriteTable(g.stdout); err != nil {
				return err
			}
			if statement {
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "\nStatement\nperiod\tdate\tfrom\tto\tamount\tmemo")
				for _, l := range res.Statement {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", l.Period, l.Date, l.From, l.To, l.Amount, l.Memo)
				}
				return tw.Flush()
			}
			return nil
		},
	}
	f.register(c, true)
	c.Flags().BoolVar(&statement, "statement", false, "also print every statement line (date, from, to, amount, memo)")
	return c
}

func intList(name, s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, usagef("--%s %q: not a comma-separated list of whole numbers", name, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func newABSBreakevenCmd(g *globals) *cobra.Command {
	var f scenarioFlags
	var delays string
	c := &cobra.Command{
		Use:   "breakeven DEAL.yaml",
		Short: "Solve the senior tranche's break-even haircut per delay",
		Long: `For each delay (whole payment periods), solves the largest haircut of the pool's collections at
which the senior tranche (the first in the document) still gets its interest on every payment date
and its principal by the legal maturity. The solve is a bisection to one fen of collections.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ds, err := intList("delays", delays)
			if err != nil {
				return err
			}
			d, err := loadDeal(g, args[0])
			if err != nil {
				return err
			}
			s, err := f.scenario(g, d)
			if err != nil {
				return err
			}
			bs, err := d.Breakeven(ds, s.Stretch)
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, map[string]any{"deal": d.Name(), "senior": d.TrancheNames()[0], "breakeven": bs})
			}
			fmt.Fprintf(g.stdout, "Break-even haircut of the senior tranche %s (%s)\n", d.TrancheNames()[0], d.Name())
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "delay\thaircut\tcollections\tkept\truns\t")
			for _, b := range bs {
				h := b.Percent
				if !b.PassesBase {
					h = "fails at 0%"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t\n", b.Delay, h, b.Collections, b.Kept, b.Steps)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&delays, "delays", "0,1,2,4", "delays to solve for, in whole payment periods")
	f.register(c, false)
	return c
}

func newABSGridCmd(g *globals) *cobra.Command {
	var f scenarioFlags
	var haircuts, delays string
	c := &cobra.Command{
		Use:   "grid DEAL.yaml",
		Short: "Rating-style grid: senior pass/fail and tranche losses by haircut and delay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ds, err := intList("delays", delays)
			if err != nil {
				return err
			}
			var hs []money.Rate
			for _, p := range strings.Split(haircuts, ",") {
				r, err := rateFlag("haircuts", strings.TrimSpace(p))
				if err != nil {
					return err
				}
				hs = append(hs, r)
			}
			d, err := loadDeal(g, args[0])
			if err != nil {
				return err
			}
			s, err := f.scenario(g, d)
			if err != nil {
				return err
			}
			cells, err := d.Grid(hs, ds, s.Stretch)
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, map[string]any{"deal": d.Name(), "tranches": d.TrancheNames(), "cells": cells})
			}
			names := d.TrancheNames()
			fmt.Fprintf(g.stdout, "Grid for %s: senior %s pass/fail, then each tranche's loss\n", d.Name(), names[0])
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
			head := "haircut\tdelay\tsenior"
			for _, n := range names {
				head += "\t" + n + " loss"
			}
			fmt.Fprintln(tw, head+"\t")
			for _, c := range cells {
				pass := "FAIL"
				if c.SeniorPass {
					pass = "pass"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s", c.Haircut, c.Delay, pass)
				for _, l := range c.Loss {
					fmt.Fprintf(tw, "\t%.2f%%", l*100)
				}
				fmt.Fprintln(tw, "\t")
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&haircuts, "haircuts", "0%,10%,20%,30%,40%,50%", "haircuts, comma-separated")
	c.Flags().StringVar(&delays, "delays", "0,1,2,4", "delays in whole payment periods, comma-separated")
	f.register(c, false)
	return c
}

func newABSMCCmd(g *globals) *cobra.Command {
	cfg := pricing.DefaultMonteCarlo()
	var model string
	c := &cobra.Command{
		Use:   "mc DEAL.yaml [--model NAME|FILE]",
		Short: "Monte Carlo of recovery amount and timing: each tranche's expected loss, probability of loss and quantiles",
		Long: `Simulates the pool's recoveries with the pricing engine's systemic factor (one draw per path moves
the amount and the timing of every flow; docs/abs.md) and runs the waterfall on every path.
Deterministic in --seed whatever the number of workers.

The factor's settings are the pricing engine's defaults unless --model names the recovery model
the pool was valued with (a registry name, or a model file from 'reclaim model export'): then
they are calibrated from that model's own estimate of the systemic spread (its cohorts'
dispersion, docs/valuation.md "Uncertainty"), with ρ solved at the deal's payer rate
(docs/abs.md "Calibration"). --rho, --severity-vol, --timing-stretch and --timing-delay, when
given, override either.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Paths < 1 || cfg.Paths > 1_000_000 {
				return usagef("--paths %d: must be between 1 and 1000000", cfg.Paths)
			}
			d, err := loadDeal(g, args[0])
			if err != nil {
				return err
			}
			run := cfg
			source := "the pricing engine's defaults (pricing.DefaultMonteCarlo)"
			if model != "" {
				m, label, err := loadModelArg(cmd.Context(), g, model)
				if err != nil {
					return err
				}
				u := m.Summary.Uncertainty
				if u == nil || u.Method == "" {
					return reclaim.Errorf(reclaim.EINVALID, "model %s has no estimate of the systemic spread (trained before it existed): retrain it", label)
				}
				run = u.PoolMonteCarlo(cfg, d.PayerRate())
				fl := cmd.Flags()
				for name, v := range map[string]*float64{"rho": &run.Rho, "severity-vol": &run.SeverityVol, "timing-stretch": &run.TimingStretch,
					"timing-delay": &run.TimingDelay} {
					if fl.Changed(name) {
						*v, _ = fl.GetFloat64(name)
					}
				}
				source = fmt.Sprintf("model %s (systemic spread %.3f over %d %s cohorts, count %.3f, amount %.3f, timing stretch %.3f)",
					label, u.TotalVol, u.Cohorts, u.Grouping, u.CountVol, u.AmountVol, u.TimingStretch)
			}
			res, err := d.MonteCarlo(cmd.Context(), run)
			var ie *pricing.InputError
			if errors.As(err, &ie) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, res)
			}
			st := res.Settings
			fmt.Fprintf(g.stdout, "Monte Carlo of %s: %d paths, seed %d, %d workers\n", d.Name(), res.Paths, res.Seed, res.Workers)
			fmt.Fprintf(g.stdout, "Factor: %s\n  payer rate %.4g, rho %.4g, severity vol %.4g (correlation %.2g), timing stretch %.4g, delay %.4g months per sd\n",
				source, st.PayerRate, st.Rho, st.SeverityVol, st.SeverityCorrelation, st.TimingStretch, st.TimingDelay)
			q := res.Collections
			fmt.Fprintf(g.stdout, "Collections within the deal (yuan): mean %.0f, p5 %.0f, p50 %.0f, p95 %.0f\n", q.Mean, q.P05, q.P50, q.P95)
			tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "tranche\texpected loss\tP(loss)\tP(interest shortfall)\tloss p95\tloss p99\tIRR p5\tIRR p50\tIRR p95\tWAL p5\tWAL p50\tWAL p95\t")
			for _, t := range res.Tranches {
				fmt.Fprintf(tw, "%s\t%.4f%%\t%.4f%%\t%.4f%%\t%.4f%%\t%.4f%%\t%.2f%%\t%.2f%%\t%.2f%%\t%.2f\t%.2f\t%.2f\t\n", t.Name, t.ExpectedLoss*100, t.ProbLoss*100,
					t.ProbShortfall*100, t.Loss.P95*100, t.Loss.P99*100, t.IRR.P05*100, t.IRR.P50*100, t.IRR.P95*100, t.WAL.P05, t.WAL.P50, t.WAL.P95)
			}
			return tw.Flush()
		},
	}
	fl := c.Flags()
	fl.IntVar(&cfg.Paths, "paths", 10_000, "number of simulated paths")
	fl.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	fl.IntVar(&cfg.Workers, "workers", 0, "goroutines (0: all cores)")
	fl.StringVar(&model, "model", "", "calibrate the factor from this recovery model's systemic-spread estimate (registry NAME or a model file)")
	fl.Float64Var(&cfg.Rho, "rho", cfg.Rho, "asset correlation of the systemic factor")
	fl.Float64Var(&cfg.SeverityVol, "severity-vol", cfg.SeverityVol, "volatility of the systemic recovery-amount scale")
	fl.Float64Var(&cfg.TimingDelay, "timing-delay", cfg.TimingDelay, "months of delay per standard deviation of bad factor")
	fl.Float64Var(&cfg.TimingStretch, "timing-stretch", cfg.TimingStretch, "timing stretch per standard deviation of the factor")
	return c
}
