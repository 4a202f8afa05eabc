package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"reclaim/abs/live"
	"reclaim/ingest"
	"reclaim/sqldb/sqldbtest"
)

// TestABSLiveCommands drives a live deal through the CLI on both engines: pool select, deal
// create, a cost, a servicer file, the report as a preview, close, the stored report in every
// format, monitor, loan-level data and the deal list.
func TestABSLiveCommands(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "80", "--seed", "7", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		out, errOut, code := cli(t, append(g, "tape", "import", tp, "--skip-invalid", "--json")...)
		var rep ingest.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK {
			t.Fatalf("import: %d %s %s", code, out, errOut)
		}
		pid := strconv.FormatInt(rep.PortfolioID, 10)
		// Selection preview: the disclosure tables (no model registered: no forecast, said so).
		out, errOut, code = cli(t, append(g, "abs", "pool", "select", "--portfolios", pid, "--limit", "40", "--as-of", "2016-04-30", "--json")...)
		var sel struct {
			Loans        int    `json:"loans"`
			ForecastNote string `json:"forecast_note"`
			Disclosure   struct {
				Header struct {
					Loans     int64 `json:"loans"`
					ByProduct []any `json:"by_product"`
				} `json:"header"`
			} `json:"disclosure"`
		}
		if err := json.Unmarshal([]byte(out), &sel); err != nil || code != exitOK || sel.Loans != 40 || sel.Disclosure.Header.Loans != 40 ||
			len(sel.Disclosure.Header.ByProduct) == 0 || sel.ForecastNote == "" {
			t.Fatalf("pool select: %d %s %s", code, out, errOut)
		}
		out, errOut, code = cli(t, append(g, "abs", "pool", "select", "--portfolios", pid, "--as-of", "2016-04-30", "--deal", exampleDeal)...)
		if code != exitOK || !strings.Contains(out, "sizing: issue 218000000.00") || !strings.Contains(out, "OUTSIDE") {
			t.Fatalf("pool select --deal: %d %s %s", code, out, errOut)
		}
		// Open the deal with the document's own forecast.
		var lg []string // the default signing key, created in the data directory
		out, errOut, code = cli(t, append(append(g, "abs", "deal", "create", exampleDeal, "--pool", "D1", "--portfolios", pid, "--limit", "40",
			"--effective", "2016-05-01", "--as-of", "2016-04-30", "--use-document-forecast"), lg...)...)
		if code != exitOK || !strings.Contains(out, "deal D1 opened") {
			t.Fatalf("deal create: %d %s %s", code, out, errOut)
		}
		// The same loans cannot go into a second pool.
		_, errOut, code = cli(t, append(append(g, "abs", "deal", "create", exampleDeal, "--pool", "D2", "--portfolios", pid, "--limit", "100",
			"--effective", "2016-05-01", "--as-of", "2016-04-30", "--use-document-forecast"), lg...)...)
		if code != exitOK {
			t.Fatalf("second deal on the remaining loans: %d %s", code, errOut)
		}
		out, _, _ = cli(t, append(g, "abs", "deal", "loans", "D2")...)
		if n := strings.Count(out, "\n") - 1; n != 40 {
			t.Fatalf("the second deal has %d loans, want the 40 left", n)
		}
		if _, errOut, code := cli(t, append(append(g, "abs", "deal", "cost", "D1", "--kind", "cost", "--amount", "100.00", "--date", "2016-06-01",
			"--channel", "court", "--memo", "court fee"), lg...)...); code != exitOK {
			t.Fatalf("cost: %s", errOut)
		}
		file := filepath.Join(dir, "servicer.csv")
		os.WriteFile(file, []byte("date,amount\n2016-05-31,5000.00\n2016-06-30,2500.50\n"), 0o644)
		if out, errOut, code := cli(t, append(append(g, "abs", "deal", "import-collections", "D1", file), lg...)...); code != exitOK || !strings.Contains(out, "2 rows") {
			t.Fatalf("import-collections: %d %s %s", code, out, errOut)
		}
		// Before closing: a preview, said so.
		out, errOut, code = cli(t, append(g, "abs", "report", "D1", "--period", "1")...)
		if code != exitOK || !strings.Contains(out, "PREVIEW") || !strings.Contains(errOut, "preview") || !strings.Contains(out, "7500.50") {
			t.Fatalf("preview: %d %s %s", code, out, errOut)
		}
		out, errOut, code = cli(t, append(append(g, "abs", "deal", "close", "D1", "--period", "1"), lg...)...)
		if code != exitOK || !strings.Contains(out, "period 1 of D1 closed") {
			t.Fatalf("close: %d %s %s", code, out, errOut)
		}
		doc, _, code := cli(t, append(g, "abs", "report", "D1", "--period", "1", "--json")...)
		var r live.Report
		if err := json.Unmarshal([]byte(doc), &r); err != nil || code != exitOK || r.Preview || r.PoolCash.Net.String() != "7400.50" {
			t.Fatalf("report --json: %d %s", code, doc)
		}
		out, _, _ = cli(t, append(g, "abs", "report", "D1", "--period", "1")...)
		if !strings.Contains(out, "closed") || !strings.Contains(out, live.Hash([]byte(strings.TrimSuffix(doc, "\n")))) {
			t.Errorf("report text does not name the stored document's hash:\n%s", out)
		}
		if again, _, _ := cli(t, append(g, "abs", "report", "D1", "--period", "2016-07-26", "--json")...); again != doc {
			t.Errorf("--period by date differs from --period 1")
		}
		if _, _, code := cli(t, append(g, "abs", "report", "D1", "--period", "2016-07-27")...); code == exitOK {
			t.Error("a date that is not a payment date")
		}
		out, _, code = cli(t, append(g, "abs", "report", "D1", "--period", "1", "--csv")...)
		if code != exitOK || !strings.HasPrefix(out, "section,row,field,value") || !strings.Contains(out, "pool,,collections_net,7400.50") {
			t.Errorf("report --csv: %d %.300s", code, out)
		}
		out, _, code = cli(t, append(g, "abs", "report", "D1", "--period", "1", "--html")...)
		if code != exitOK || !strings.Contains(out, "<svg") {
			t.Errorf("report --html: %d", code)
		}
		if _, _, code := cli(t, append(append(g, "abs", "deal", "close", "D1", "--period", "1"), lg...)...); code == exitOK {
			t.Error("period 1 closed twice")
		}
		out, _, code = cli(t, append(g, "abs", "deal", "monitor", "D1", "--as-of", "2016-08-01")...)
		if code != exitOK || !strings.Contains(out, "ALERT") || !strings.Contains(out, "tranche A") {
			t.Errorf("monitor: %d %s", code, out)
		}
		out, _, code = cli(t, append(g, "abs", "deal", "list")...)
		if code != exitOK || !strings.Contains(out, "D1") || !strings.Contains(out, "D2") {
			t.Errorf("list: %d %s", code, out)
		}
		if _, _, code := cli(t, append(g, "abs", "report", "NOPE", "--period", "1")...); code == exitOK {
			t.Error("a report of an unknown deal")
		}
	})
}
