package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
)

// TestValueCancelled: value and price stopped by Ctrl-C (the command's context cancelled, as
// main's signal.NotifyContext does) while scoring or simulating exit 130 with "valuation
// cancelled; nothing was stored", on SQLite and PostgreSQL; the next run values the portfolio.
func TestValueCancelled(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		if _, errOut, code := cli(t, append(g, "model", "train", "--synthetic", "1500", "--months", "12", "--trees", "10", "--name", "t1")...); code != exitOK {
			t.Fatalf("train: %s", errOut)
		}
		tp, hp := filepath.Join(dir, "tape.csv"), filepath.Join(dir, "h.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "300", "--seed", "3", "--out", tp, "--history", hp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "tape", "import", tp, "--history", hp)...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		t.Cleanup(func() { valuationProgressHook = nil })
		for _, c := range []struct{ cmd, stage string }{{"value", "scoring"}, {"price", "simulating"}} {
			ctx, cancel := context.WithCancel(context.Background())
			var stages []string
			valuationProgressHook = func(stage string, done, total int) {
				if len(stages) == 0 || stages[len(stages)-1] != stage {
					stages = append(stages, stage)
				}
				if stage == c.stage && done > 0 {
					cancel() // Ctrl-C
				}
			}
			var out, errOut bytes.Buffer
			code := run(ctx, append(g, c.cmd, "1", "--paths", "20000"), &out, &errOut)
			cancel()
			if code != exitCancelled || !strings.Contains(errOut.String(), "valuation cancelled; nothing was stored") || out.Len() != 0 {
				t.Errorf("%s cancelled while %s: exit %d, stdout %q, stderr %q", c.cmd, c.stage, code, out.String(), errOut.String())
			}
			if len(stages) == 0 || stages[len(stages)-1] != c.stage {
				t.Errorf("%s: stages %v, want the last to be %s", c.cmd, stages, c.stage)
			}
		}
		valuationProgressHook = nil
		if out, errOut, code := cli(t, append(g, "value", "1", "--paths", "50")...); code != exitOK || !strings.Contains(out, "valued with t1@1") {
			t.Errorf("value after the cancellations: %d %s %s", code, out, errOut)
		}
	})
}
