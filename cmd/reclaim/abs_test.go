package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exampleDeal = "../../docs/examples/deal-npl-2tranche.yaml"

// TestABSCommands drives `reclaim abs` end to end: validate (valid and invalid), run (table,
// JSON, actual collections, stress flags), breakeven, grid and mc, with their exit codes. No
// database is involved.
func TestABSCommands(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := cli(t, "abs", "validate", exampleDeal)
	if code != exitOK || !strings.Contains(out, "valid") || !strings.Contains(out, "16 payment dates") {
		t.Fatalf("validate: %d %s %s", code, out, errOut)
	}
	out, _, code = cli(t, "abs", "validate", exampleDeal, "--json")
	var v struct {
		Valid bool   `json:"valid"`
		Hash  string `json:"hash"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitOK || !v.Valid || len(v.Hash) != 64 {
		t.Fatalf("validate --json: %d %s", code, out)
	}

	// An invalid deal: exit 1, every problem with its path.
	src, err := os.ReadFile(exampleDeal)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), `coupon: "3.00%"`, `coupon: "1.5"`, 1)
	bad = strings.Replace(bad, "fees: [taxes, trustee]\n      from: [collection, reserve]", "fees: [taxes, trustee]\n      from: [collection, cash]", 1)
	badPath := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badPath, []byte(bad), 0o644)
	out, _, code = cli(t, "abs", "validate", badPath)
	if code != exitFailed || !strings.Contains(out, "tranches[0].coupon: 1.5 is above 100%") || !strings.Contains(out, `waterfalls.normal[0].from[1]: "cash" is not defined`) {
		t.Fatalf("invalid deal: exit %d\n%s", code, out)
	}
	out, _, code = cli(t, "abs", "validate", badPath, "--json")
	var inv struct {
		Valid    bool `json:"valid"`
		Problems []struct{ Path, Rule string }
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil || code != exitFailed || inv.Valid || len(inv.Problems) != 2 {
		t.Fatalf("invalid --json: %d %s", code, out)
	}
	if _, _, code = cli(t, "abs", "run", badPath); code != exitFailed {
		t.Errorf("run of an invalid deal: exit %d", code)
	}

	// run: readable table and JSON.
	out, _, code = cli(t, "abs", "run", exampleDeal)
	if code != exitOK || !strings.Contains(out, "Periods") || !strings.Contains(out, "942575.34") {
		t.Fatalf("run: %d\n%s", code, out)
	}
	out, _, code = cli(t, "abs", "run", exampleDeal, "--json")
	var run struct {
		Periods []struct {
			Period   int `json:"period"`
			Tranches []struct {
				Name           string `json:"name"`
				InterestPaid   string `json:"interest_paid"`
				PrincipalPaid  string `json:"principal_paid"`
				ClosingBalance string `json:"closing_balance"`
			} `json:"tranches"`
		} `json:"periods"`
		Tranches []struct {
			Name string   `json:"name"`
			WAL  float64  `json:"wal"`
			IRR  *float64 `json:"irr"`
		} `json:"tranches"`
		Statement []struct {
			From, To, Amount, Memo string
		} `json:"statement"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || code != exitOK {
		t.Fatalf("run --json: %d %v", code, err)
	}
	if len(run.Periods) != 16 || run.Periods[0].Tranches[0].InterestPaid != "942575.34" || run.Periods[15].Tranches[1].ClosingBalance != "0.00" ||
		run.Tranches[0].WAL <= 0 || run.Tranches[0].IRR == nil || len(run.Statement) == 0 {
		t.Fatalf("run --json content: %+v", run.Periods[0])
	}

	// Actual collections from a CSV, and stress flags.
	coll := filepath.Join(dir, "coll.csv")
	os.WriteFile(coll, []byte("date,amount\n2016-05-31,30000000\n2016-08-31,25000000.50\n2017-01-31,200000000\n"), 0o644)
	out, _, code = cli(t, "abs", "run", exampleDeal, "--collections", coll, "--json")
	if err := json.Unmarshal([]byte(out), &run); err != nil || code != exitOK {
		t.Fatalf("run --collections: %d %s", code, out)
	}
	badColl := filepath.Join(dir, "badcoll.csv")
	os.WriteFile(badColl, []byte("date,amount\n2016-05-31,1\n2016-05-31,x\n"), 0o644)
	out, _, code = cli(t, "abs", "run", exampleDeal, "--collections", badColl)
	if code != exitFailed || !strings.Contains(out, "line 3") {
		t.Fatalf("bad collections: %d %s", code, out)
	}
	// Collections the deal could never count (on the cut-off, after its last collection period)
	// are refused by position, not dropped.
	outside := filepath.Join(dir, "outside.csv")
	os.WriteFile(outside, []byte("date,amount\n2016-04-30,5\n2016-05-31,1\n2030-01-31,7\n"), 0o644)
	out, _, code = cli(t, "abs", "run", exampleDeal, "--collections", outside)
	if code != exitFailed || !strings.Contains(out, "collections[0]") || !strings.Contains(out, "cut-off") ||
		!strings.Contains(out, "collections[2]") || !strings.Contains(out, "last collection period") || strings.Contains(out, "collections[1]") {
		t.Fatalf("collections outside the deal's window: %d %s", code, out)
	}
	out, _, code = cli(t, "abs", "run", exampleDeal, "--haircut", "30%", "--delay", "3", "--stretch", "1.2")
	if code != exitOK || !strings.Contains(out, "post_default") {
		t.Fatalf("stressed run: %d\n%s", code, out)
	}
	for _, h := range []string{"30%", "0.3", "30"} {
		out, _, code = cli(t, "abs", "run", exampleDeal, "--haircut", h, "--json")
		if code != exitOK || !strings.Contains(out, `"scenario": "haircut 30.0000%"`) {
			t.Errorf("--haircut %s: exit %d", h, code)
		}
	}
	for _, args := range [][]string{{"--haircut", "abc"}, {"--haircut", "150%"}, {"--haircut", "150"}, {"--delay", "-1"}, {"--stretch", "0"}, {"--delay", "x"}} {
		if _, errOut, code := cli(t, append([]string{"abs", "run", exampleDeal}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}

	// breakeven, grid, mc.
	out, _, code = cli(t, "abs", "breakeven", exampleDeal, "--delays", "0,1", "--json")
	var be struct {
		Breakeven []struct {
			Delay   int    `json:"delay"`
			Haircut string `json:"haircut"`
		} `json:"breakeven"`
	}
	if err := json.Unmarshal([]byte(out), &be); err != nil || code != exitOK || len(be.Breakeven) != 2 || be.Breakeven[0].Haircut != "16.506241%" {
		t.Fatalf("breakeven: %d %s", code, out)
	}
	if out, _, code = cli(t, "abs", "grid", exampleDeal, "--haircuts", "0,30%", "--delays", "0"); code != exitOK || !strings.Contains(out, "FAIL") {
		t.Fatalf("grid: %d %s", code, out)
	}
	out, _, code = cli(t, "abs", "mc", exampleDeal, "--paths", "2000", "--json")
	var mc struct {
		Paths    int `json:"paths"`
		Tranches []struct {
			ExpectedLoss float64 `json:"expected_loss"`
			ProbLoss     float64 `json:"probability_of_loss"`
		} `json:"tranches"`
	}
	if err := json.Unmarshal([]byte(out), &mc); err != nil || code != exitOK || mc.Paths != 2000 || len(mc.Tranches) != 2 {
		t.Fatalf("mc: %d %s", code, out)
	}
	if _, _, code = cli(t, "abs", "mc", exampleDeal, "--paths", "0"); code != exitUsage {
		t.Errorf("mc --paths 0: exit %d", code)
	}
	if _, _, code = cli(t, "abs", "mc", exampleDeal, "--rho", "1.5"); code != exitUsage {
		t.Errorf("mc --rho 1.5: exit %d", code)
	}
	if _, _, code = cli(t, "abs", "validate"); code != exitUsage {
		t.Errorf("validate without a file: exit %d", code)
	}
	if _, _, code = cli(t, "abs", "validate", filepath.Join(dir, "missing.yaml")); code != exitFailed {
		t.Errorf("missing file: exit %d", code)
	}
	for _, c := range []string{"validate", "run", "breakeven", "grid", "mc"} {
		if out, _, code := cli(t, "abs", c, "--help"); code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("abs %s --help: %d", c, code)
		}
	}
}

// TestABSMCModelCalibration: `abs mc --model FILE` draws the factor from the model's own
// systemic-spread estimate at the deal's payer rate (no timing delay, amounts uncorrelated with
// the count), a flag given overrides it, and the senior's expected loss falls from the defaults'.
func TestABSMCModelCalibration(t *testing.T) {
	dir := t.TempDir()
	mf := filepath.Join(dir, "m.model")
	g := []string{"--data-dir", filepath.Join(dir, "data"), "-q"}
	if _, errOut, code := cli(t, append(g, "model", "train", "--synthetic", "3000", "--months", "12", "--trees", "30", "--name", "m", "--out", mf)...); code != exitOK {
		t.Fatalf("train: %s", errOut)
	}
	type mcOut struct {
		Settings struct {
			PayerRate           float64 `json:"payer_rate"`
			Rho                 float64 `json:"rho"`
			SeverityCorrelation float64 `json:"severity_correlation"`
			TimingDelay         float64 `json:"timing_delay"`
		} `json:"settings"`
		Tranches []struct {
			ExpectedLoss float64 `json:"expected_loss"`
			WALPaths     int     `json:"wal_paths"`
		} `json:"tranches"`
	}
	mc := func(args ...string) mcOut {
		t.Helper()
		out, errOut, code := cli(t, append([]string{"abs", "mc", exampleDeal, "--paths", "3000", "--json"}, args...)...)
		var r mcOut
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
			t.Fatalf("mc %v: %d %v %s %s", args, code, err, out, errOut)
		}
		return r
	}
	def, cal, over := mc(), mc("--model", mf), mc("--model", mf, "--rho", "0.05")
	if def.Settings.Rho != 0.1 || def.Settings.TimingDelay != 1 || def.Settings.PayerRate != 0.2 {
		t.Errorf("default settings %+v", def.Settings)
	}
	if cal.Settings.Rho == 0.1 || cal.Settings.SeverityCorrelation != 0 || cal.Settings.TimingDelay != 0 || over.Settings.Rho != 0.05 {
		t.Errorf("calibrated %+v, overridden %+v", cal.Settings, over.Settings)
	}
	if !(cal.Tranches[0].ExpectedLoss < def.Tranches[0].ExpectedLoss/2) || cal.Tranches[0].WALPaths == 0 {
		t.Errorf("senior expected loss %v calibrated, %v with the defaults", cal.Tranches[0].ExpectedLoss, def.Tranches[0].ExpectedLoss)
	}
	if out, errOut, code := cli(t, "abs", "mc", exampleDeal, "--model", filepath.Join(dir, "no", "such.model")); code == exitOK {
		t.Errorf("a missing model file: %s %s", out, errOut)
	}
	if out, _, code := cli(t, "abs", "mc", exampleDeal, "--paths", "500", "--model", mf); code != exitOK || !strings.Contains(out, "Factor: model "+mf) || !strings.Contains(out, "WAL p50") {
		t.Errorf("text output: %d %s", code, out)
	}
}
