package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
	"reclaim/workout/dash"
)

// TestPerformanceCLI: boarding without a model leaves the portfolio without a forecast (and says
// so) but draws its cases' arms; 'workout forecast' backfills it once a model exists, and a second
// run is refused; 'workout performance' reports it per portfolio and vintage (text and JSON);
// usage errors exit 2. On SQLite and PostgreSQL.
func TestPerformanceCLI(t *testing.T) {
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
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "120", "--seed", "4", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		out, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank P", "--json")...)
		if code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		var rep struct {
			PortfolioID int64 `json:"portfolio_id"`
		}
		json.Unmarshal([]byte(out), &rep)
		id := strconv.FormatInt(rep.PortfolioID, 10)
		out, errOut, code = cli(t, append(g, "workout", "board", id, "--price", "20000.00", "--date", "2026-01-15")...)
		if code != exitOK || !strings.Contains(out, "no forecast at purchase") || !strings.Contains(out, "drew the arm of") {
			t.Fatalf("board: %d %s %s", code, out, errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "forecast", id)...); code == exitOK {
			t.Fatal("a forecast without any model")
		}
		out, _, code = cli(t, append(g, "workout", "performance", "--as-of", "2026-06-30")...)
		if code != exitOK || !strings.Contains(out, "has no forecast at purchase") || !strings.Contains(out, "2026-01") {
			t.Fatalf("performance without a forecast: %d %s", code, out)
		}
		if _, errOut, code := cli(t, append(g, "model", "train", "--synthetic", "2000", "--months", "12", "--trees", "20", "--name", "p1")...); code != exitOK {
			t.Fatalf("train: %s", errOut)
		}
		out, errOut, code = cli(t, append(g, "workout", "forecast", id, "--target-irr", "0.2")...)
		if code != exitOK || !strings.Contains(out, "froze the forecast of portfolio "+id) || !strings.Contains(out, "p1@1") {
			t.Fatalf("forecast: %d %s %s", code, out, errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "forecast", id)...); code == exitOK {
			t.Fatal("a frozen forecast was replaced")
		}
		out, errOut, code = cli(t, append(g, "workout", "performance", "--portfolio", id, "--as-of", "2026-06-30", "--json")...)
		var r dash.PerformanceReport
		if err := json.Unmarshal([]byte(out), &r); code != exitOK || err != nil {
			t.Fatalf("performance --json: %d %v %s %s", code, err, out, errOut)
		}
		if len(r.Portfolios) != 1 || !r.Portfolios[0].HasForecast || r.Portfolios[0].UnderwrittenIRR == nil || len(r.Vintages) != 1 ||
			r.Vintages[0].Key != "2026-01" || len(r.Portfolios[0].Months) != 5 || len(r.Origination) == 0 {
			t.Fatalf("report %+v", r)
		}
		out, _, code = cli(t, append(g, "workout", "performance", "--portfolio", id, "--as-of", "2026-06-30")...)
		if code != exitOK || !strings.Contains(out, "by month") || !strings.Contains(out, "By origination year") {
			t.Fatalf("performance text: %s", out)
		}
		if out, _, code := cli(t, append(g, "workout", "arms")...); code != exitOK || !strings.Contains(out, "drew the arm of 0 cases") {
			t.Fatalf("arms again: %d %s", code, out)
		}
		for _, bad := range [][]string{{"workout", "performance", "--as-of", "June"}, {"workout", "arms", "--share", "2"},
			{"workout", "forecast", id, "--target-irr", "-3"}, {"workout", "forecast", "abc"}} {
			if _, errOut, code := cli(t, append(g, bad...)...); code != exitUsage {
				t.Errorf("%v: exit %d %s", bad, code, errOut)
			}
		}
		if _, _, code := cli(t, append(g, "workout", "performance", "--portfolio", "999")...); code == exitOK || code == exitUsage {
			t.Errorf("unknown portfolio: exit %d", code)
		}
	})
}
