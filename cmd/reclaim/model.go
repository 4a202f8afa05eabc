package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/synth"
	"reclaim/tape"
	"reclaim/valuation"
	"reclaim/valuation/gbdt"
	"reclaim/valuation/service"
)

func newModelCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "model",
		Short: "Train, evaluate, list, export and apply recovery models",
		Long: `The recovery model scores every loan: the probability of a material recovery (>= 1% of the
claim), the expected recovery as a share of the claim, and the timing of collections (the static
pool's curve of the loan's segment). Models are trained on seasoned synthetic portfolios or on a
file with outcomes (the LendingClub charged-off file), stored in the database's model registry
with their metrics, and used by 'reclaim value', 'reclaim price' and the API (docs/valuation.md).`,
	}
	c.AddCommand(newModelTrainCmd(g), newModelEvaluateCmd(g), newModelListCmd(g), newModelPredictCmd(g), newModelExportCmd(g))
	return c
}

// dataFlags pick training or evaluation data: a seasoned synthetic portfolio or a data file with
// outcomes read through a mapping.
type dataFlags struct {
	synthetic int
	months    int
	seed      uint64
	profile   string
	data      string
	mapping   string
	features  string
	portfolio int64
	cmd       *cobra.Command // the command the flags are registered on (to see which were given)
}

func (f *dataFlags) register(c *cobra.Command, seed uint64) {
	f.cmd = c
	fl := c.Flags()
	fl.IntVar(&f.synthetic, "synthetic", 0, "use a seasoned synthetic portfolio of N loans")
	fl.IntVar(&f.months, "months", 24, "months of collections observed after the purchase (synthetic; with --portfolio, at most what its history observes)")
	fl.Uint64Var(&f.seed, "seed", seed, "seed of the synthetic portfolio")
	fl.StringVar(&f.profile, "profile", "bank_mixed", "profile of the synthetic portfolio: bank_cards, consumer_finance, bank_mixed, aged")
	fl.StringVar(&f.data, "data", "", "a loan file with outcomes (its recoveries in the extra column 'recoveries'), e.g. the LendingClub file")
	fl.StringVar(&f.mapping, "mapping", "", "mapping file of --data (e.g. mappings/lendingclub.yaml)")
	fl.Int64Var(&f.portfolio, "portfolio", 0, "an imported seasoned tape: portfolio ID whose repayment history runs past its cut-off (the collections of --months months after it are the outcome; 0 months: all that are observed)")
	fl.StringVar(&f.features, "features", "", "feature set: cn-v1 or lendingclub-v1 (default: lendingclub-v1 for the lendingclub mapping, else cn-v1)")
}

func (f *dataFlags) given() bool { return f.synthetic != 0 || f.data != "" || f.portfolio != 0 }

// table builds the table the flags name; source describes it.
func (f *dataFlags) table(g *globals, fs *valuation.FeatureSet) (t *valuation.Table, source string, err error) {
	sources := 0
	for _, on := range []bool{f.synthetic != 0, f.data != "", f.portfolio != 0} {
		if on {
			sources++
		}
	}
	switch {
	case sources > 1:
		return nil, "", usagef("give one of --synthetic, --data and --portfolio")
	case f.portfolio < 0:
		return nil, "", usagef("--portfolio must be a portfolio ID, got %d", f.portfolio)
	case f.portfolio > 0:
		return f.portfolioTable(g, fs)
	case f.synthetic < 0 || f.synthetic > 10_000_000:
		return nil, "", usagef("--synthetic must be between 1 and 10000000, got %d", f.synthetic)
	case f.synthetic > 0:
		prof, err := synth.ParseProfile(f.profile)
		if err != nil {
			return nil, "", usageError{err}
		}
		if f.months < 1 || f.months > synth.MaxSeasonedMonths {
			return nil, "", usagef("--months must be between 1 and %d", synth.MaxSeasonedMonths)
		}
		if fs == nil {
			fs = valuation.CN()
		}
		if fs.Name() != valuation.CNV1 {
			return nil, "", usagef("synthetic portfolios have the cn-v1 features, not %s", fs.Name())
		}
		cfg := synth.Config{Seed: f.seed, Loans: f.synthetic, PortfolioRef: fmt.Sprintf("SEASONED-%d", f.seed), CutOff: date.Of(2024, 6, 30), Profile: prof}
		s, err := synth.NewSeasoned(cfg, f.months)
		if err != nil {
			return nil, "", usageError{err}
		}
		bar := g.newProgress("building the table", int64(f.synthetic))
		b := valuation.NewTableBuilder(fs, valuation.TableOptions{Horizon: f.months})
		var ex valuation.Example
		for n := 1; ; n++ {
			it, ok := s.Next()
			if !ok {
				break
			}
			valuation.SeasonedExample(&it, &ex)
			if err := b.Add(&ex); err != nil {
				return nil, "", err
			}
			if n%4096 == 0 {
				bar.set(int64(n))
			}
		}
		bar.done()
		return b.Table(), fmt.Sprintf("seasoned synthetic portfolio: %d loans, profile %s, seed %d, %d months of collections", f.synthetic, prof, f.seed, f.months), nil
	case f.data != "":
		if f.mapping == "" {
			return nil, "", usagef("--data needs --mapping (the file's outcome must be mapped as the extra column 'recoveries')")
		}
		if _, err := os.Stat(f.data); err != nil {
			return nil, "", usagef("cannot read %s: %v", f.data, err)
		}
		m, err := tape.LoadMapping(f.mapping)
		if err != nil {
			return nil, "", usageError{err}
		}
		if fs == nil {
			name := f.features
			if name == "" {
				name = valuation.CNV1
				if strings.EqualFold(m.Name, "lendingclub") {
					name = valuation.LendingClubV1
				}
			}
			var ok bool
			if fs, ok = valuation.FeatureSetByName(name); !ok {
				return nil, "", usagef("unknown feature set %q (cn-v1 or lendingclub-v1)", name)
			}
		}
		t, err := valuation.BuildLendingClub(f.data, f.mapping, fs, valuation.TableOptions{})
		if err != nil {
			return nil, "", err
		}
		return t, fmt.Sprintf("%s (mapping %s): %d loans", f.data, m.Name, t.Rows()), nil
	}
	return nil, "", usagef("give --synthetic N or --data FILE --mapping MAP")
}

// trainBar shows one progress bar per training stage.
type trainBar struct {
	g     *globals
	stage string
	bar   *progress
}

func (b *trainBar) report(p valuation.TrainProgress) {
	if p.Stage != b.stage {
		b.bar.done()
		b.stage = p.Stage
		b.bar = b.g.newProgress("training "+p.Stage, int64(p.Trees))
	}
	b.bar.set(int64(p.Iteration))
}

func newModelTrainCmd(g *globals) *cobra.Command {
	var df dataFlags
	var name, objective, out string
	var trees, depth, fold int
	var lr float64
	var jsonOut bool
	c := &cobra.Command{
		Use:   "train (--synthetic N [--months M] | --data FILE --mapping MAP) --name NAME",
		Short: "Train a recovery model, evaluate it on a held-out fold and register it",
		Long: `Builds the training table and trains P(material recovery) and the severity (the expected rate of
a loan that recovers) on four folds: each of them is predicted by models trained on the other three
(early stopping on it), those predictions calibrate the expected amounts by exposure decile and
score quintile so that they add up, and the final models train on all four. The fifth fold
(--valid-fold) is held out for the metrics only. Prints the metrics next to the static-pool
baseline, the portfolio error of every fold and by exposure decile, the calibration table
(deciles of P(material)), and stores the model in the registry as a new active version of NAME.`,
		Example: `  reclaim model train --synthetic 50000 --months 24 --name recovery
  reclaim model train --data ../shared/data/lendingclub/chargedoff_dev.csv --mapping mappings/lendingclub.yaml --name lendingclub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !sqldb.ValidModelName(name) {
				return usagef("--name must be 1-64 letters, digits, '.', '_' or '-'")
			}
			obj := gbdt.Objective("")
			switch objective {
			case "auto", "":
			case "squared":
				obj = gbdt.Squared
			case "tweedie":
				obj = gbdt.Tweedie
			default:
				return usagef("--objective must be auto, squared or tweedie")
			}
			if out != "" {
				if err := checkOutPath(out); err != nil {
					return err
				}
			}
			t, source, err := df.table(g, nil)
			if err != nil {
				return err
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			tb := &trainBar{g: g}
			m, err := valuation.TrainRecoveryModel(cmd.Context(), t, valuation.TrainOptions{Trees: trees, MaxDepth: depth, LearningRate: lr,
				ValidFold: fold, SeverityObjective: obj, Source: source}, tb.report)
			tb.bar.done()
			if err != nil {
				return err
			}
			svc := service.New(a.db, service.Options{Logger: g.log})
			card, err := svc.SaveModel(cmd.Context(), name, "cli:"+osUser(), m)
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeModelFile(out, m); err != nil {
					return err
				}
			}
			if jsonOut {
				return writeJSON(g.stdout, card)
			}
			fmt.Fprintf(g.stdout, "Trained %s version %d (%s) on %s.\n", card.Name, card.Version, card.FeatureSet, source)
			printCard(g.stdout, card)
			if out != "" {
				fmt.Fprintf(g.stdout, "\nModel file written to %s.\n", out)
			}
			return nil
		},
	}
	df.register(c, 1)
	fl := c.Flags()
	fl.StringVar(&name, "name", "", "registry name of the model (required)")
	fl.IntVar(&trees, "trees", 300, "most boosting rounds per model (early stopping keeps fewer)")
	fl.IntVar(&depth, "depth", 4, "tree depth")
	fl.Float64Var(&lr, "learning-rate", 0.05, "learning rate")
	fl.IntVar(&fold, "valid-fold", 0, "fold (of 5) held out of training, for the metrics only")
	fl.StringVar(&objective, "objective", "auto", "severity model objective: auto (the recipe's: squared error), squared or tweedie")
	fl.StringVar(&out, "out", "", "also write the model file here")
	fl.BoolVar(&jsonOut, "json", false, "print the model card as JSON")
	c.MarkFlagRequired("name")
	return c
}

func writeModelFile(path string, m *valuation.RecoveryModel) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func f4(x valuation.Num) string {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return "-"
	}
	return strconv.FormatFloat(float64(x), 'f', 4, 64)
}

func pct2(x valuation.Num) string {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return "-"
	}
	return fmt.Sprintf("%+.2f%%", float64(x))
}

// printMetrics prints the model's and the baseline's metrics side by side.
func printMetrics(w io.Writer, mt valuation.RecoveryMetrics) {
	table(w, []string{"METRIC (" + strconv.Itoa(mt.Rows) + " held-out loans)", "MODEL", "STATIC POOL"}, [][]string{
		{"AUC, material recovery (>= 1%)", f4(mt.AUCMaterial), f4(mt.BaselineAUCMaterial)},
		{"AUC, rate >= 10%", f4(mt.AUCRate10), f4(mt.BaselineAUCRate10)},
		{"log-loss, material", f4(mt.LogLoss), f4(mt.BaselineLogLoss)},
		{"MAE of the rate", f4(mt.MAE), f4(mt.BaselineMAE)},
		{"RMSE of the rate", f4(mt.RMSE), f4(mt.BaselineRMSE)},
		{"Spearman(pred, rate)", f4(mt.Spearman), f4(mt.BaselineSpearman)},
		{"portfolio error", pct2(mt.PortfolioErrorPct), pct2(mt.BaselinePortfolioErrorPct)},
	})
}

func printCalibration(w io.Writer, title string, rows []valuation.CalibrationRow) {
	fmt.Fprintf(w, "\n%s\n", title)
	var out [][]string
	for _, r := range rows {
		out = append(out, []string{strconv.Itoa(r.Bin), strconv.Itoa(r.Count), fmt.Sprintf("%.4f", r.Predicted), fmt.Sprintf("%.4f", r.Observed)})
	}
	table(w, []string{"DECILE", "LOANS", "PREDICTED", "OBSERVED"}, out)
}

// printFoldErrors prints the portfolio error of every fold and by exposure decile, next to the
// static pool's.
func printFoldErrors(w io.Writer, folds []valuation.FoldError, deciles []valuation.ExposureDecileError) {
	if len(folds) > 0 {
		fmt.Fprintln(w, "\nPortfolio error by fold (each fold scored by models fitted without it; noise: the standard deviation a model right in expectation would show):")
		var rows [][]string
		for _, f := range folds {
			name := strconv.Itoa(f.Fold)
			if f.Held {
				name += " (held out)"
			}
			rows = append(rows, []string{name, strconv.Itoa(f.Loans), fmt.Sprintf("%.0f", f.Recovered), fmt.Sprintf("%.0f", f.Predicted),
				pct2(f.ErrorPct), pct2(f.BaselineErrorPct), fmt.Sprintf("%.2f%%", float64(f.NoisePct))})
		}
		table(w, []string{"FOLD", "LOANS", "RECOVERED", "PREDICTED", "MODEL", "STATIC POOL", "NOISE"}, rows)
	}
	if len(deciles) > 0 {
		fmt.Fprintln(w, "\nPortfolio error by exposure decile (held-out predictions):")
		var rows [][]string
		for _, d := range deciles {
			rows = append(rows, []string{strconv.Itoa(d.Decile), fmt.Sprintf("%.0f-%.0f", d.Lo, d.Hi), strconv.Itoa(d.Loans),
				fmt.Sprintf("%.0f", d.Recovered), pct2(d.ErrorPct), pct2(d.BaselineErrorPct)})
		}
		table(w, []string{"DECILE", "EXPOSURE", "LOANS", "RECOVERED", "MODEL", "STATIC POOL"}, rows)
	}
}

func printCard(w io.Writer, c valuation.ModelCard) {
	in := c.Info
	weighted := "unweighted"
	if in.SeverityWeighted {
		weighted = "exposure-weighted"
	}
	fmt.Fprintf(w, "Trees: P(material) %d, severity %d (%s, %s; cross-fitted on folds %v, amounts calibrated by exposure and score). Rows:",
		in.MaterialTrees, in.SeverityTrees, in.SeverityObjective, weighted, in.CrossFitFolds)
	fmt.Fprintf(w, " %d train, %d held out (fold %d of %d). Exposure: %s. Timing: ", in.TrainRows, in.ValidRows, in.ValidFold, in.Folds, in.Exposure)
	if in.Horizon > 0 {
		fmt.Fprintf(w, "%d-month static-pool curves.\n\n", in.Horizon)
	} else {
		fmt.Fprintf(w, "none in the data (market timing, 60 months).\n\n")
	}
	printMetrics(w, c.Metrics)
	printFoldErrors(w, c.FoldErrors, c.ExposureDeciles)
	printCalibration(w, "Calibration of P(material), held-out deciles:", c.Calibration)
	if len(c.Importance) > 0 {
		fmt.Fprintln(w, "\nTop features of the severity model (share of gain):")
		var rows [][]string
		for _, f := range c.Importance[:min(8, len(c.Importance))] {
			rows = append(rows, []string{f.Feature, fmt.Sprintf("%.1f%%", 100*f.Gain)})
		}
		table(w, []string{"FEATURE", "GAIN"}, rows)
	}
}

func newModelEvaluateCmd(g *globals) *cobra.Command {
	var df dataFlags
	var name string
	var jsonOut bool
	c := &cobra.Command{
		Use:   "evaluate --name NAME[@VERSION] [--synthetic N | --data FILE --mapping MAP]",
		Short: "Show a registered model's metrics, or evaluate it on new data",
		Long: `Without data flags, prints the metrics and calibration the model was registered with (its held-out
fold). With --synthetic (a seasoned portfolio drawn with another seed: default 2) or --data, scores
every loan of that data and compares with the outcomes, next to the model's static pool.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			svc := service.New(a.db, service.Options{Logger: g.log})
			m, ref, err := svc.Model(cmd.Context(), name)
			if err != nil {
				return err
			}
			if !df.given() {
				cards, err := svc.Models(cmd.Context())
				if err != nil {
					return err
				}
				for _, c := range cards {
					if c.Name == ref.Name && c.Version == ref.Version {
						if jsonOut {
							return writeJSON(g.stdout, c)
						}
						fmt.Fprintf(g.stdout, "%s version %d (%s), trained on %s.\n", c.Name, c.Version, c.FeatureSet, c.Info.Source)
						printCard(g.stdout, c)
						return nil
					}
				}
				return reclaim.Errorf(reclaim.ENOTFOUND, "model %s vanished", service.ModelRef(ref))
			}
			t, source, err := df.table(g, m.FeatureSetOf())
			if err != nil {
				return err
			}
			ev, err := m.Evaluate(t)
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, ev)
			}
			fmt.Fprintf(g.stdout, "%s evaluated on %s.\n\n", service.ModelRef(ref), source)
			printMetrics(g.stdout, ev.Metrics)
			printFoldErrors(g.stdout, nil, ev.ExposureDeciles)
			printCalibration(g.stdout, "Calibration of P(material) by decile:", ev.Calibration)
			printCalibration(g.stdout, "Calibration of the expected rate by decile:", ev.RateCalibration)
			printMissing(g.stdout, ev.Missing, t.Rows())
			return nil
		}),
	}
	df.register(c, 2)
	c.Flags().StringVar(&name, "name", "", "model name, or NAME@VERSION (required)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	c.MarkFlagRequired("name")
	return c
}

// historyFeatures names the features of fs that read the repayment history.
func historyFeatures(fs *valuation.FeatureSet) []string {
	var out []string
	if fs == nil {
		return nil
	}
	for _, sp := range fs.Specs() {
		if slices.Contains(sp.Sources, "history") {
			out = append(out, sp.Name)
		}
	}
	return out
}

func printMissing(w io.Writer, missing map[string]int, rows int) {
	if len(missing) == 0 {
		return
	}
	names := make([]string, 0, len(missing))
	for k := range missing {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if missing[a] != missing[b] {
			return missing[b] - missing[a]
		}
		return strings.Compare(a, b)
	})
	fmt.Fprintln(w, "\nMissing features (scored as missing values):")
	var out [][]string
	for _, n := range names {
		out = append(out, []string{n, strconv.Itoa(missing[n]), fmt.Sprintf("%.1f%%", 100*float64(missing[n])/float64(max(rows, 1)))})
	}
	table(w, []string{"FEATURE", "LOANS", "SHARE"}, out)
}

func newModelListCmd(g *globals) *cobra.Command {
	var jsonOut bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List registered models with their headline metrics",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			cards, err := service.New(a.db, service.Options{Logger: g.log}).Models(cmd.Context())
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, cards)
			}
			if len(cards) == 0 {
				fmt.Fprintln(g.stdout, "No models yet. Train one with 'reclaim model train --synthetic 20000 --name recovery'.")
				return nil
			}
			var rows [][]string
			for _, c := range cards {
				act := ""
				if c.Active {
					act = "*"
				}
				mt := c.Metrics
				rows = append(rows, []string{c.Name, strconv.Itoa(c.Version), act, c.FeatureSet, c.CreatedAt.UTC().Format("2006-01-02 15:04"), c.CreatedBy,
					f4(mt.AUCMaterial), f4(mt.AUCRate10), f4(mt.MAE), pct2(mt.PortfolioErrorPct)})
			}
			table(g.stdout, []string{"NAME", "VERSION", "ACTIVE", "FEATURES", "CREATED (UTC)", "BY", "AUC MATERIAL", "AUC RATE>=10%", "MAE", "PORTFOLIO ERR"}, rows)
			return nil
		}),
	}
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return c
}

// loadModelArg loads a model from a file when spec names one, else from the registry.
func loadModelArg(ctx context.Context, g *globals, spec string) (*valuation.RecoveryModel, string, error) {
	if st, err := os.Stat(spec); err == nil && st.Mode().IsRegular() {
		f, err := os.Open(spec)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		m, err := valuation.LoadRecoveryModel(f)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", spec, err)
		}
		return m, spec, nil
	}
	if strings.ContainsAny(spec, `/\`) {
		return nil, "", usagef("model file %s does not exist", spec)
	}
	a, err := g.openApp(ctx)
	if err != nil {
		return nil, "", err
	}
	defer a.Close()
	m, ref, err := service.New(a.db, service.Options{Logger: g.log}).Model(ctx, spec)
	if err != nil {
		return nil, "", err
	}
	return m, service.ModelRef(ref), nil
}

// predictSummary is what 'model predict' reports.
type predictSummary struct {
	Model            string         `json:"model"`
	Rows             int            `json:"rows"`
	Scored           int            `json:"scored"`
	Skipped          int            `json:"skipped"`
	Invalid          int            `json:"invalid"`
	Problems         []string       `json:"problems,omitempty"`
	Exposure         float64        `json:"exposure"`
	ExpectedRecovery float64        `json:"expected_recovery"`
	ExpectedRate     float64        `json:"expected_rate"`
	MeanPRecovery    float64        `json:"mean_p_recovery"`
	Missing          map[string]int `json:"missing_features"`
	Out              string         `json:"out"`
}

func newModelPredictCmd(g *globals) *cobra.Command {
	var model, data, mapping, history, out, encoding string
	var reasons int
	var jsonOut bool
	c := &cobra.Command{
		Use:   "predict --model NAME|FILE --data TAPE [--mapping MAP] [--history FILE] --out preds.csv",
		Short: "Score every loan of a tape and write one row per loan",
		Long: `Reads a tape (any format 'reclaim tape' reads, with a mapping for unknown headers), computes each
loan's features as of the tape's cut-off, and writes loan_id, p_recovery (P(material recovery)),
severity (the expected rate if it recovers), expected_recovery_rate (p_recovery x severity: a share
of the loan's exposure as mapped: the total claim for cn-v1 models, the principal for
lendingclub-v1 models), expected_recovery, exposure, segment and the missing features, plus the
top reason codes with --reasons (contributions to the expected recovery, in the exposure's
currency, and the bias: the expected recovery at the models' base values). Features whose columns the tape lacks are scored as missing and
counted per feature in the summary. Rows that break a tape rule are still scored when they have a
loan id and an exposure, and counted; rows without them are skipped and reported.

--model takes a registry name (NAME or NAME@VERSION) or a model file ('reclaim model export'); a
file of another format version or with a bad checksum is refused with the reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutPath(out); err != nil {
				return err
			}
			if _, err := os.Stat(data); err != nil {
				return usagef("cannot read %s: %v", data, err)
			}
			if reasons < 0 || reasons > 50 {
				return usagef("--reasons must be between 0 and 50")
			}
			m, label, err := loadModelArg(cmd.Context(), g, model)
			if err != nil {
				return err
			}
			ins, sum, err := readScoringTape(data, mapping, history, encoding)
			if err != nil {
				return err
			}
			if history == "" {
				if hf := historyFeatures(m.FeatureSetOf()); len(hf) > 0 {
					fmt.Fprintf(g.stderr, "warning: no --history: %d features of %s read the repayment history and are scored as missing for every loan: %s. Give the history with --history FILE (loan_id, month, amount).\n",
						len(hf), label, strings.Join(hf, ", "))
				}
			}
			sum.Model, sum.Out = label, out
			bar := g.newProgress("scoring", int64(len(ins)))
			scores, err := m.Score(cmd.Context(), ins, valuation.ScoreOptions{Reasons: reasons, Progress: func(n int) { bar.set(int64(n)) }})
			bar.done()
			if err != nil {
				return err
			}
			if err := writePredictions(out, scores, reasons); err != nil {
				return err
			}
			sum.Scored = len(scores)
			sum.Missing = map[string]int{}
			for _, s := range scores {
				sum.Exposure += s.Exposure
				sum.ExpectedRecovery += s.ExpectedRecovery
				sum.MeanPRecovery += s.PRecovery
				for _, f := range s.Missing {
					sum.Missing[f]++
				}
			}
			if sum.Scored > 0 {
				sum.MeanPRecovery /= float64(sum.Scored)
			}
			if sum.Exposure > 0 {
				sum.ExpectedRate = sum.ExpectedRecovery / sum.Exposure
			}
			if jsonOut {
				return writeJSON(g.stdout, sum)
			}
			fmt.Fprintf(g.stdout, "Scored %d of %d loans with %s into %s.\n", sum.Scored, sum.Rows, label, out)
			fmt.Fprintf(g.stdout, "Exposure %s, expected recovery %s (%.2f%%), mean P(material recovery) %.2f%%.\n",
				grouped(sum.Exposure), grouped(sum.ExpectedRecovery), 100*sum.ExpectedRate, 100*sum.MeanPRecovery)
			if sum.Invalid > 0 || sum.Skipped > 0 {
				fmt.Fprintf(g.stdout, "%d rows break a tape rule (scored anyway); %d rows were skipped (no loan id or exposure):\n", sum.Invalid, sum.Skipped)
				for _, p := range sum.Problems {
					fmt.Fprintln(g.stdout, "  "+p)
				}
			}
			printMissing(g.stdout, sum.Missing, sum.Scored)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&model, "model", "", "registered model (NAME or NAME@VERSION) or model file (required)")
	fl.StringVar(&data, "data", "", "the tape to score (required)")
	fl.StringVar(&mapping, "mapping", "", "mapping file for the tape's headers")
	fl.StringVar(&history, "history", "", "repayment history file (loan_id, month, amount)")
	fl.StringVar(&encoding, "encoding", "", "CSV encoding: utf-8, gbk or gb18030 (default: detect)")
	fl.StringVar(&out, "out", "", "predictions CSV to write (required)")
	fl.IntVar(&reasons, "reasons", 0, "add the top N reason codes of every loan")
	fl.BoolVar(&jsonOut, "json", false, "print the summary as JSON")
	c.MarkFlagRequired("model")
	c.MarkFlagRequired("data")
	c.MarkFlagRequired("out")
	return c
}

func grouped(x float64) string {
	a, err := money.FromFloat(x, money.CNY, money.HalfUp)
	if err != nil {
		return "-"
	}
	return a.Grouped()
}

// readScoringTape reads a tape (and optionally its history) into scoring inputs.
func readScoringTape(path, mappingPath, historyPath, encoding string) ([]valuation.Input, predictSummary, error) {
	var sum predictSummary
	opts := tape.OpenOptions{Encoding: encoding}
	var m *tape.Mapping
	if mappingPath != "" {
		var err error
		if m, err = tape.LoadMapping(mappingPath); err != nil {
			return nil, sum, usageError{err}
		}
		opts = opts.WithMapping(m)
		if encoding != "" {
			opts.Encoding = encoding
		}
	}
	src, err := tape.Open(path, opts)
	if err != nil {
		return nil, sum, err
	}
	defer src.Close()
	layout, err := tape.NewLayout(src.Header(), m)
	if err != nil {
		return nil, sum, err
	}
	conv := tape.NewConverter(layout, src.Info())
	var res tape.Result
	var ins []valuation.Input
	problem := func(s string) {
		if len(sum.Problems) < 20 {
			sum.Problems = append(sum.Problems, s)
		}
	}
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		sum.Rows++
		if err != nil {
			var re *tape.RowError
			if errors.As(err, &re) {
				sum.Skipped++
				problem(re.Error())
				continue
			}
			return nil, sum, err
		}
		conv.Convert(row, &res)
		l := res.Loan
		if !res.OK() {
			sum.Invalid++
			problem(res.Errors[0].Error())
		}
		if l.LoanID == "" {
			sum.Skipped++
			problem(fmt.Sprintf("line %d: no loan id: not scored", row.Line))
			continue
		}
		ins = append(ins, valuation.Input{Loan: &l, AsOf: l.CutOffDate})
	}
	if historyPath != "" {
		if err := readScoringHistory(historyPath, ins); err != nil {
			return nil, sum, err
		}
	}
	return ins, sum, nil
}

// readScoringHistory reads a repayment-history CSV (loan_id, month, amount; English or Chinese
// headers as 'tape import --history' reads them) into the inputs' histories. Its first month is
// every loan's HistoryStart.
func readScoringHistory(path string, ins []valuation.Input) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("cannot read %s: %v", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		switch n := tape.NormalizeHeader(strings.TrimPrefix(h, "\ufeff")); n {
		case "loanid", "借据号", "贷款编号":
			col["loan"] = i
		case "month", "月份", "还款月份":
			col["month"] = i
		case "amount", "还款金额", "金额":
			col["amount"] = i
		}
	}
	for _, k := range []string{"loan", "month", "amount"} {
		if _, ok := col[k]; !ok {
			return fmt.Errorf("%s: the history needs loan_id, month and amount columns", path)
		}
	}
	index := make(map[string]int, len(ins))
	for i, in := range ins {
		index[in.Loan.LoanID] = i
	}
	var first date.Date
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		cell := func(k string) string {
			if c := col[k]; c < len(rec) {
				return strings.TrimSpace(rec[c])
			}
			return ""
		}
		i, ok := index[cell("loan")]
		if !ok {
			continue
		}
		ms := cell("month")
		if len(ms) == 7 {
			ms += "-01"
		}
		month, err := date.Parse(ms)
		if err != nil {
			return fmt.Errorf("%s: line %d: month %q: %v", path, line, cell("month"), err)
		}
		cur := ins[i].Loan.Currency
		if cur == "" {
			cur = money.CNY
		}
		amt, err := money.Parse(cell("amount"), cur)
		if err != nil {
			return fmt.Errorf("%s: line %d: amount %q: %v", path, line, cell("amount"), err)
		}
		month = month.StartOfMonth()
		ins[i].History = append(ins[i].History, reclaim.Repayment{LoanID: ins[i].Loan.LoanID, Month: month, Amount: amt})
		if first.IsZero() || month.Before(first) {
			first = month
		}
	}
	for i := range ins {
		ins[i].HistoryStart = first
	}
	return nil
}

func writePredictions(path string, scores []valuation.LoanScore, reasons int) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := newCSV(f)
	head := []string{"loan_id", "p_recovery", "severity", "expected_recovery_rate", "expected_recovery", "exposure", "segment", "missing"}
	for k := 1; k <= reasons; k++ {
		head = append(head, fmt.Sprintf("reason_%d", k), fmt.Sprintf("contribution_%d", k))
	}
	if reasons > 0 {
		head = append(head, "bias")
	}
	w.Write(head)
	ff := func(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	for _, s := range scores {
		exp := ""
		if s.ExposureKnown {
			exp = ff(s.Exposure, 2)
		}
		rec := []string{s.LoanID, ff(s.PRecovery, 6), ff(s.Severity, 6), ff(s.ExpectedRate, 6), ff(s.ExpectedRecovery, 2), exp, s.Segment, strings.Join(s.Missing, ";")}
		if reasons > 0 {
			for k := 0; k < reasons; k++ {
				if s.Explanation != nil && k < len(s.Explanation.Reasons) {
					r := s.Explanation.Reasons[k]
					rec = append(rec, r.Feature, ff(r.Contribution, 6))
				} else {
					rec = append(rec, "", "")
				}
			}
			rec = append(rec, ff(s.Explanation.Bias, 6))
		}
		w.Write(rec)
	}
	w.Flush()
	return w.Error()
}

func newModelExportCmd(g *globals) *cobra.Command {
	var name, out string
	c := &cobra.Command{
		Use:   "export --name NAME[@VERSION] --out FILE",
		Short: "Write a registered model's file (checksummed; 'model predict --model FILE' reads it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutPath(out); err != nil {
				return err
			}
			n, v, err := service.ParseModelSpec(name)
			if err != nil {
				return usageError{err}
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			rec, err := a.db.GetModel(cmd.Context(), n, v)
			if err != nil {
				return err
			}
			if _, err := valuation.LoadRecoveryModel(bytes.NewReader(rec.File)); err != nil {
				return fmt.Errorf("model %s version %d: %w", rec.Name, rec.Version, err)
			}
			if err := os.WriteFile(out, rec.File, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Wrote %s version %d (%d bytes, SHA-256 %s) to %s.\n", rec.Name, rec.Version, len(rec.File), rec.SHA256, out)
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "model name, or NAME@VERSION (required)")
	c.Flags().StringVar(&out, "out", "", "file to write (required)")
	c.MarkFlagRequired("name")
	c.MarkFlagRequired("out")
	return c
}

// portfolioTable builds the training table of an imported seasoned tape (portfolio f.portfolio):
// features as of each loan's cut-off, and as the outcome its repayments in the --months months
// after the cut-off's month (all the months the history observes when --months was not given).
func (f *dataFlags) portfolioTable(g *globals, fs *valuation.FeatureSet) (*valuation.Table, string, error) {
	if fs == nil {
		fs = valuation.CN()
	}
	if fs.Name() != valuation.CNV1 {
		return nil, "", usagef("an imported tape has the cn-v1 features, not %s", fs.Name())
	}
	ctx := context.Background()
	a, err := g.openApp(ctx)
	if err != nil {
		return nil, "", err
	}
	defer a.Close()
	svc := service.New(a.db, service.Options{Logger: g.log})
	p, err := svc.LoadPortfolio(ctx, f.portfolio)
	if err != nil {
		return nil, "", err
	}
	observed := valuation.ObservedMonths(p.Inputs)
	if observed < 1 {
		return nil, "", reclaim.Errorf(reclaim.EINVALID, "portfolio %d has no repayment history after its cut-off %s: import the tape with a history file that runs past the cut-off (a seasoned tape: 'reclaim synth --seasoned-months 24 --history FILE')", f.portfolio, p.CutOffDate)
	}
	months := observed
	if f.cmd != nil && f.cmd.Flags().Changed("months") {
		if f.months < 1 || f.months > min(observed, valuation.MaxHorizonMonths) {
			return nil, "", usagef("--months must be between 1 and %d: portfolio %d's history observes %d months after its cut-off", min(observed, valuation.MaxHorizonMonths), f.portfolio, observed)
		}
		months = f.months
	}
	months = min(months, valuation.MaxHorizonMonths)
	b := valuation.NewTableBuilder(fs, valuation.TableOptions{Horizon: months})
	var ex valuation.Example
	skipped := 0
	for _, in := range p.Inputs {
		if !valuation.PortfolioExample(in, months, &ex) {
			skipped++
			continue
		}
		if err := b.Add(&ex); err != nil {
			return nil, "", err
		}
	}
	if skipped > 0 {
		fmt.Fprintf(g.stderr, "%d loans without a positive claim are left out of the training table.\n", skipped)
	}
	return b.Table(), fmt.Sprintf("imported seasoned tape: portfolio %d (%s), %d loans, %d months of collections after the cut-off %s", f.portfolio, p.Name, len(p.Inputs)-skipped, months, p.CutOffDate), nil
}
