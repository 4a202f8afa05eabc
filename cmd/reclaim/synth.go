package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"reclaim/date"
	"reclaim/money"
	"reclaim/synth"
)

type synthFlags struct {
	loans     int
	seed      uint64
	profile   string
	ref       string
	seller    string
	cutOff    string
	out       string
	history   string
	format    string
	encoding  string
	lang      string
	unit      string
	dateStyle string
	personal  bool
	invalid   string
	months    int
	seasoned  int
}

func newSynthCmd(g *globals) *cobra.Command {
	var f synthFlags
	c := &cobra.Command{
		Use:   "synth --out FILE",
		Short: "Generate a realistic synthetic portfolio tape",
		Long: `Generates a personal-NPL portfolio calibrated to the market facts of shared/design/market.md
(docs/synth-calibration.md), deterministic by --seed, streaming (10 million loans need no more
memory than ten), optionally with a share of invalid rows of chosen kinds to exercise validation.

Profiles: bank_cards, consumer_finance, bank_mixed, aged.
Invalid rows: --invalid rule=share,... with rules ` + strings.Join(synth.Rules, ", ") + `
(for example --invalid claim_sum=0.01,national_id=0.005).`,
		Example: `  reclaim synth --loans 100000 --profile bank_mixed --out tape.csv --history history.csv
  reclaim synth --loans 5000 --lang zh --encoding gbk --unit wan --out 资产包.csv
  reclaim synth --loans 2000 --format xlsx --invalid claim_sum=0.02,mobile=0.01 --out tape.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, opts, err := f.config()
			if err != nil {
				return err
			}
			if f.out == "" {
				return usagef("--out is required")
			}
			if err := checkOutPath(f.out); err != nil {
				return err
			}
			st, err := writeSynth(cmd, g, cfg, opts, f.out, f.history)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Wrote %d loans of %d borrowers to %s (total claim %s %s)\n", st.Rows, st.Borrowers, f.out, st.TotalClaim.Grouped(), st.TotalClaim.Currency())
			if f.history != "" {
				fmt.Fprintf(g.stdout, "Wrote %d repayment-history rows to %s\n", st.HistoryRows, f.history)
			}
			if len(st.Corrupted) > 0 {
				keys := make([]string, 0, len(st.Corrupted))
				for k := range st.Corrupted {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, fmt.Sprintf("%s=%d", k, st.Corrupted[k]))
				}
				fmt.Fprintf(g.stdout, "Invalid rows injected: %s\n", strings.Join(parts, ", "))
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.IntVar(&f.loans, "loans", 10000, "number of loans")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed gives the same portfolio")
	fl.StringVar(&f.profile, "profile", "bank_mixed", "package profile: bank_cards, consumer_finance, bank_mixed, aged")
	fl.StringVar(&f.ref, "portfolio-id", "", "portfolio_id written on the tape (default SYN-<profile>-<seed>)")
	fl.StringVar(&f.seller, "seller", "Synthetic Bank", "seller name")
	fl.StringVar(&f.cutOff, "cut-off", "2025-06-30", "cut-off date")
	fl.StringVarP(&f.out, "out", "o", "", "tape file to write (.csv or .xlsx)")
	fl.StringVar(&f.history, "history", "", "also write the 36-month repayment history to this CSV file")
	fl.StringVar(&f.format, "format", "", "csv or xlsx (default: from --out)")
	fl.StringVar(&f.encoding, "encoding", "utf-8", "CSV encoding: utf-8, utf-8-bom, gbk, gb18030")
	fl.StringVar(&f.lang, "lang", "en", "header language: en or zh")
	fl.StringVar(&f.unit, "unit", "yuan", "money columns in yuan or wan (万元)")
	fl.StringVar(&f.dateStyle, "date-style", "iso", "date format: iso, slash or chinese")
	fl.BoolVar(&f.personal, "personal", true, "include the personal columns (name, national_id, phone, ...)")
	fl.StringVar(&f.invalid, "invalid", "", "share of invalid rows by rule: rule=share,...")
	fl.IntVar(&f.months, "history-months", synth.DefaultHistoryMonths, "months of repayment history")
	fl.IntVar(&f.seasoned, "seasoned-months", 0, "a seasoned tape: the history file also holds the collections of this many months after the cut-off (training data for 'model train --portfolio')")
	return c
}

func (f *synthFlags) config() (synth.Config, synth.TapeOptions, error) {
	var cfg synth.Config
	var opts synth.TapeOptions
	prof, err := synth.ParseProfile(f.profile)
	if err != nil {
		return cfg, opts, usageError{err}
	}
	cut, err := date.Parse(f.cutOff)
	if err != nil {
		return cfg, opts, usagef("--cut-off: %v", err)
	}
	inv, err := parseShares(f.invalid)
	if err != nil {
		return cfg, opts, err
	}
	ref := f.ref
	if ref == "" {
		ref = fmt.Sprintf("SYN-%s-%d", prof, f.seed)
	}
	cfg = synth.Config{Seed: f.seed, Loans: f.loans, PortfolioRef: ref, Seller: f.seller, CutOff: cut, Profile: prof,
		HistoryMonths: f.months, Invalid: inv}
	if err := cfg.Validate(); err != nil {
		return cfg, opts, usageError{err}
	}
	format := f.format
	if format == "" {
		format = "csv"
		if strings.HasSuffix(strings.ToLower(f.out), ".xlsx") {
			format = "xlsx"
		}
	}
	if format != "csv" && format != "xlsx" {
		return cfg, opts, usagef("--format must be csv or xlsx")
	}
	var unit money.Unit
	switch f.unit {
	case "yuan", "":
	case "wan":
		unit = money.Wan
	default:
		return cfg, opts, usagef("--unit must be yuan or wan")
	}
	if f.lang != "en" && f.lang != "zh" {
		return cfg, opts, usagef("--lang must be en or zh")
	}
	opts = synth.TapeOptions{Format: format, Encoding: f.encoding, Chinese: f.lang == "zh", Unit: unit,
		DateStyle: f.dateStyle, IncludePersonal: f.personal, SeasonedMonths: f.seasoned}
	if f.seasoned != 0 && f.history == "" {
		return cfg, opts, usagef("--seasoned-months writes the collections after the cut-off to the history file: give --history")
	}
	if f.seasoned != 0 && len(inv) > 0 {
		return cfg, opts, usagef("--seasoned-months makes training data: it cannot be combined with --invalid")
	}
	return cfg, opts, nil
}

func parseShares(s string) (map[string]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, usagef("--invalid: %q is not rule=share", part)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || x > 1 {
			return nil, usagef("--invalid: share for %s must be a number in [0, 1], got %q", k, v)
		}
		m[k] = x
	}
	return m, nil
}

// writeSynth writes a tape (and history) atomically: to temporary files renamed at the end.
func writeSynth(cmd *cobra.Command, g *globals, cfg synth.Config, opts synth.TapeOptions, out, history string) (synth.Stats, error) {
	tf, err := os.CreateTemp(dirOf(out), ".synth-*")
	if err != nil {
		return synth.Stats{}, err
	}
	defer os.Remove(tf.Name())
	var hf *os.File
	if history != "" {
		if hf, err = os.CreateTemp(dirOf(history), ".synth-history-*"); err != nil {
			tf.Close()
			return synth.Stats{}, err
		}
		defer os.Remove(hf.Name())
	}
	bar := g.newProgress("generating", int64(cfg.Loans))
	var hw io.Writer
	if hf != nil {
		hw = hf
	}
	st, err := synth.WriteTape(cmd.Context(), cfg, tf, hw, opts, func(n int) { bar.set(int64(n)) })
	bar.done()
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if hf != nil {
		if cerr := hf.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return st, err
	}
	if err := os.Rename(tf.Name(), out); err != nil {
		return st, err
	}
	if hf != nil {
		if err := os.Rename(hf.Name(), history); err != nil {
			return st, err
		}
	}
	return st, nil
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return "."
}
