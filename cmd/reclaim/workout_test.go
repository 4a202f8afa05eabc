package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestWorkoutCLI: a tape imported through the CLI carries the blind index; 'workout board'
// boards it (usage errors exit 2); a blind-index backfill over it finds nothing left to do; a
// second import with the same debtors joins their cases.
func TestWorkoutCLI(t *testing.T) {
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
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "80", "--seed", "9", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		out, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank W", "--json")...)
		if code != exitOK {
			t.Fatalf("import: %d %s %s", code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "blind.key")); err != nil {
			t.Fatalf("no blind-index key created: %v", err)
		}
		var rep struct {
			PortfolioID int64 `json:"portfolio_id"`
		}
		json.Unmarshal([]byte(out), &rep)
		id := strconv.FormatInt(rep.PortfolioID, 10)
		for _, bad := range [][]string{{"workout", "board", id}, {"workout", "board", id, "--price", "x", "--date", "2026-03-02"},
			{"workout", "board", id, "--price", "100", "--date", "March"}, {"workout", "board", "abc", "--price", "1", "--date", "2026-03-02"}} {
			if _, errOut, code := cli(t, append(g, bad...)...); code != exitUsage {
				t.Errorf("%v: exit %d %s", bad, code, errOut)
			}
		}
		out, errOut, code = cli(t, append(g, "workout", "board", id, "--price", "12345.67", "--date", "2026-03-02", "--json")...)
		var res workout.BoardResult
		if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || res.Accounts != 80 || res.Notices != res.Cases {
			t.Fatalf("board: %d %s %s", code, out, errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "board", id, "--price", "1", "--date", "2026-03-02")...); code == exitOK {
			t.Fatal("boarded twice")
		}
		out, errOut, code = cli(t, append(g, "workout", "backfill-blind-index", id, "--purpose", "test backfill")...)
		if code != exitOK || !strings.Contains(out, "indexed 0 borrowers now") {
			t.Fatalf("backfill: %d %s %s", code, out, errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "backfill-blind-index", id)...); code != exitUsage {
			t.Fatalf("backfill without purpose: %d", code)
		}
		if _, errOut, code := cli(t, append(g, "workout", "assign", "C1", "alice")...); code != exitOK {
			t.Fatalf("assign: %s", errOut)
		}
	})
}
