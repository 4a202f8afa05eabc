package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"reclaim/sqldb/sqldbtest"
	"reclaim/valuation"
)

// TestTrainOnImportedSeasonedTape writes a seasoned tape (its history runs 12 months past the
// cut-off), imports it, and trains on it with 'model train --portfolio': the table is the one the
// same seasoned synthetic portfolio gives directly, so every metric of the two model cards is
// equal. Bad uses fail with the reason: a portfolio without collections after its cut-off, more
// months than the history observes, two sources at once.
func TestTrainOnImportedSeasonedTape(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp, hp := filepath.Join(dir, "seasoned.csv"), filepath.Join(dir, "seasoned-history.csv")
		if _, errOut, code := cli(t, "-q", "synth", "--loans", "2000", "--seed", "5", "--cut-off", "2024-06-30", "--portfolio-id", "SEASONED-5",
			"--seasoned-months", "12", "--out", tp, "--history", hp); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if _, errOut, code := cli(t, "-q", "synth", "--loans", "10", "--seasoned-months", "12", "--out", filepath.Join(dir, "x.csv")); code != exitUsage || !strings.Contains(errOut, "--history") {
			t.Errorf("--seasoned-months without --history: %d %s", code, errOut)
		}
		if _, errOut, code := cli(t, append(g, "tape", "import", tp, "--history", hp)...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		train := func(args ...string) valuation.ModelCard {
			t.Helper()
			out, errOut, code := cli(t, append(append(g, "model", "train", "--trees", "20", "--json"), args...)...)
			if code != exitOK {
				t.Fatalf("train %v: %d %s", args, code, errOut)
			}
			var c valuation.ModelCard
			if err := json.Unmarshal([]byte(out), &c); err != nil {
				t.Fatalf("train %v: %v %s", args, err, out)
			}
			return c
		}
		imp := train("--portfolio", "1", "--months", "12", "--name", "imported")
		syn := train("--synthetic", "2000", "--seed", "5", "--months", "12", "--name", "synthetic")
		if !strings.Contains(imp.Info.Source, "imported seasoned tape: portfolio 1") {
			t.Errorf("source: %q", imp.Info.Source)
		}
		if d := cmp.Diff(syn.Metrics, imp.Metrics); d != "" {
			t.Errorf("metrics of the imported tape differ from the seasoned portfolio's (-synthetic +imported):\n%s", d)
		}
		if d := cmp.Diff(syn.FoldErrors, imp.FoldErrors); d != "" {
			t.Errorf("fold errors differ (-synthetic +imported):\n%s", d)
		}
		if all := train("--portfolio", "1", "--name", "all"); all.Info.Horizon != 12 {
			t.Errorf("without --months the horizon is what the history observes (12), got %d", all.Info.Horizon)
		}
		if _, errOut, code := cli(t, append(g, "model", "train", "--portfolio", "1", "--months", "13", "--name", "x")...); code != exitUsage || !strings.Contains(errOut, "observes 12 months") {
			t.Errorf("--months beyond the history: %d %s", code, errOut)
		}
		if _, errOut, code := cli(t, append(g, "model", "train", "--portfolio", "1", "--synthetic", "100", "--name", "x")...); code != exitUsage || !strings.Contains(errOut, "one of") {
			t.Errorf("two sources: %d %s", code, errOut)
		}
		plain := filepath.Join(dir, "plain.csv")
		if _, errOut, code := cli(t, "-q", "synth", "--loans", "50", "--seed", "9", "--out", plain, "--history", filepath.Join(dir, "plain-history.csv")); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "tape", "import", plain, "--history", filepath.Join(dir, "plain-history.csv"))...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "model", "train", "--portfolio", "2", "--name", "x")...); code != exitFailed || !strings.Contains(errOut, "no repayment history after its cut-off") {
			t.Errorf("a tape without collections after the cut-off: %d %s", code, errOut)
		}
	})
}
