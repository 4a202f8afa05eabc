package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestCampaignCLI: 'workout campaign run' sends a due campaign (every case decided by the
// compliance engine) and a second run finds nothing; 'workout campaign list' shows the result.
func TestCampaignCLI(t *testing.T) {
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
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "30", "--seed", "4", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		out, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank C", "--json")...)
		var rep struct {
			PortfolioID int64 `json:"portfolio_id"`
		}
		if json.Unmarshal([]byte(out), &rep); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "workout", "board", strconv.FormatInt(rep.PortfolioID, 10), "--price", "1000.00", "--date", "2026-03-02")...); code != exitOK {
			t.Fatalf("board: %s", errOut)
		}
		db := sqldbtest.Open(t, dsn)
		spec := workout.CampaignSpec{Key: "cli", Name: "cli", Channel: "letter", Template: "t1", Selection: workout.CampaignSelection{PortfolioID: rep.PortfolioID},
			ScheduledAt: time.Now().Add(-time.Minute)}
		if err := workout.ValidateCampaign(&spec); err != nil {
			t.Fatal(err)
		}
		c, _, err := db.CreateCampaign(context.Background(), spec, "mgr")
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		if out, errOut, code := cli(t, append(g, "workout", "campaign", "run")...); code != exitOK || !strings.Contains(out, "1 campaign(s) sent") {
			t.Fatalf("run: %d %s %s", code, out, errOut)
		}
		if out, _, _ := cli(t, append(g, "workout", "campaign", "run")...); !strings.Contains(out, "0 campaign(s) sent") {
			t.Fatalf("second run: %s", out)
		}
		out, errOut, code = cli(t, append(g, "workout", "campaign", "list")...)
		if code != exitOK || !strings.Contains(out, strconv.FormatInt(c.ID, 10)+"\tdone\tletter\tcli\t") || !strings.Contains(out, "sent ") {
			t.Fatalf("list: %d %s %s", code, out, errOut)
		}
	})
}
