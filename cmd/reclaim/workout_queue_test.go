package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestPlanDayCLI: 'workout plan-day' plans a boarded portfolio's day within capacity, a second
// run replaces the plan with the same one, and a bad --day is a usage error.
func TestPlanDayCLI(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		t.Setenv("RECLAIM_BLIND_KEY", "")
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "40", "--seed", "5", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		out, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank Q", "--json")...)
		var rep struct {
			PortfolioID int64 `json:"portfolio_id"`
		}
		if json.Unmarshal([]byte(out), &rep); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "workout", "board", strconv.FormatInt(rep.PortfolioID, 10), "--price", "1000.00", "--date", "2026-03-02")...); code != exitOK {
			t.Fatalf("board: %s", errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "plan-day", "--day", "11/03/2026")...); code == exitOK {
			t.Fatal("a bad --day was accepted")
		}
		var plans [2]workout.DayPlan
		for i := range plans {
			out, errOut, code := cli(t, append(g, "workout", "plan-day", "--day", "2026-03-11", "--json")...)
			if code != exitOK {
				t.Fatalf("plan-day: %s", errOut)
			}
			if err := json.Unmarshal([]byte(out), &plans[i]); err != nil {
				t.Fatal(err)
			}
		}
		p := plans[0]
		if p.Planned == 0 || p.Planned != len(p.Items) || plans[1].Planned != p.Planned {
			t.Fatalf("plans: %d then %d (%d items)", p.Planned, plans[1].Planned, len(p.Items))
		}
		for team, n := range p.PerTeam {
			if n > p.Capacity[team] {
				t.Fatalf("%s: %d over capacity %d", team, n, p.Capacity[team])
			}
		}
		out, _, code = cli(t, append(g, "workout", "plan-day", "--day", "2026-03-11")...)
		if code != exitOK || !strings.Contains(out, "contact(s) planned") || !strings.Contains(out, "valued by rules (no model)") {
			t.Fatalf("text output: %s", out)
		}
		// train-contact: no contacts yet, so nothing to train on; the error says how many were
		// found and needed; bad flags are usage errors.
		_, errOut, code = cli(t, append(g, "workout", "train-contact", "--min-rows", "150")...)
		if code != exitFailed || !strings.Contains(errOut, "has 0 usable contacts") || !strings.Contains(errOut, "at least 150") {
			t.Fatalf("train-contact on an empty log: %d %s", code, errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "train-contact", "--min-rows", "-1")...); code != exitUsage {
			t.Fatalf("negative --min-rows: exit %d", code)
		}
	})
}
