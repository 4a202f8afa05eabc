package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
	"reclaim/tape"
	"reclaim/valuation"
)

// TestModelWorkflow drives model train -> list -> evaluate -> predict (registry and file, a tape
// missing a column, corrupted and foreign-version files) -> export -> value -> price (reachable
// and not) -> backtest through the CLI, on SQLite and PostgreSQL.
func TestModelWorkflow(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		out, _, code := cli(t, append(g, "model", "list")...)
		if code != exitOK || !strings.Contains(out, "No models yet") {
			t.Fatalf("empty list: %d %s", code, out)
		}
		// Bad training data: a negative outcome, an unmapped outcome; an error naming the column,
		// nothing stored.
		badData, badMapping := badLendingClub(t, dir)
		for _, c := range []struct{ mapping, want string }{{badMapping, "recoveries -5 is negative"}, {badMapping + ".nooutcome", "no 'recoveries' column"}} {
			_, errOut, code := cli(t, append(g, "model", "train", "--data", badData, "--mapping", c.mapping, "--name", "bad")...)
			if code != exitFailed || !strings.Contains(errOut, c.want) {
				t.Errorf("train on bad data: %d %s (want %q)", code, errOut, c.want)
			}
		}
		if out, _, _ := cli(t, append(g, "model", "list")...); !strings.Contains(out, "No models yet") {
			t.Fatalf("a failed training stored a model: %s", out)
		}
		out, errOut, code := cli(t, append(g, "model", "train", "--synthetic", "3000", "--months", "12", "--trees", "30", "--name", "t1")...)
		if code != exitOK || !strings.Contains(out, "Trained t1 version 1") || !strings.Contains(out, "Calibration of P(material)") ||
			!strings.Contains(out, "AUC, rate >= 10%") || !strings.Contains(out, "Portfolio error by fold") || !strings.Contains(out, "0 (held out)") ||
			!strings.Contains(out, "Portfolio error by exposure decile") {
			t.Fatalf("train: %d %s %s", code, out, errOut)
		}
		out, _, _ = cli(t, append(g, "model", "list", "--json")...)
		var cards []valuation.ModelCard
		if err := json.Unmarshal([]byte(out), &cards); err != nil || len(cards) != 1 || cards[0].Name != "t1" || !cards[0].Active || len(cards[0].Calibration) != 10 ||
			len(cards[0].FoldErrors) != 5 || len(cards[0].ExposureDeciles) != 10 || cards[0].Uncertainty == nil || cards[0].Uncertainty.Method == "" {
			t.Fatalf("list --json: %v %s", err, out)
		}
		out, _, code = cli(t, append(g, "model", "evaluate", "--name", "t1")...)
		if code != exitOK || !strings.Contains(out, "trained on seasoned synthetic portfolio") {
			t.Errorf("evaluate (stored): %d %s", code, out)
		}
		out, _, code = cli(t, append(g, "model", "evaluate", "--name", "t1@1", "--synthetic", "1000", "--months", "12")...)
		if code != exitOK || !strings.Contains(out, "Calibration of the expected rate") || !strings.Contains(out, "1000 held-out loans") {
			t.Errorf("evaluate (new data): %d %s", code, out)
		}

		// A tape with its history, imported, and the same tape without one column.
		tp, hp := filepath.Join(dir, "tape.csv"), filepath.Join(dir, "h.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "400", "--seed", "3", "--out", tp, "--history", hp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		preds := filepath.Join(dir, "preds.csv")
		out, errOut, code = cli(t, append(g, "model", "predict", "--model", "t1", "--data", tp, "--history", hp, "--out", preds, "--reasons", "2")...)
		if code != exitOK || !strings.Contains(out, "Scored 400 of 400 loans with t1@1") {
			t.Fatalf("predict: %d %s %s", code, out, errOut)
		}
		rows := readCSV(t, preds)
		if len(rows) != 401 || strings.Join(rows[0][:5], ",") != "loan_id,p_recovery,severity,expected_recovery_rate,expected_recovery" || rows[0][8] != "reason_1" {
			t.Fatalf("predictions: %d rows, header %v", len(rows), rows[0])
		}
		noContact := dropColumn(t, tp, "last_contact_date", filepath.Join(dir, "no-contact.csv"))
		out, _, code = cli(t, append(g, "model", "predict", "--model", "t1", "--data", noContact, "--out", preds, "--json")...)
		var sum predictSummary
		if err := json.Unmarshal([]byte(out), &sum); err != nil || code != exitOK || sum.Scored != 400 || sum.Missing["months_since_contact"] != 400 ||
			sum.Missing["pay_months_36m"] != 400 {
			t.Fatalf("predict without a column: %d %v %s", code, err, out)
		}

		// Files: exported, corrupted, another version.
		mf := filepath.Join(dir, "t1.model")
		if out, errOut, code := cli(t, append(g, "model", "export", "--name", "t1", "--out", mf)...); code != exitOK || !strings.Contains(out, "SHA-256") {
			t.Fatalf("export: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := cli(t, append(g, "model", "predict", "--model", mf, "--data", tp, "--out", preds)...); code != exitOK {
			t.Fatalf("predict with a file: %s", errOut)
		} else if !strings.Contains(errOut, "warning: no --history") || !strings.Contains(errOut, "pay_months_12m") {
			t.Errorf("predict without --history does not name the history features it scores as missing: %q", errOut)
		}
		b, _ := os.ReadFile(mf)
		bad := bytes.Clone(b)
		bad[bytes.IndexByte(bad, '\n')+50] ^= 1
		os.WriteFile(mf+".bad", bad, 0o644)
		if _, errOut, code := cli(t, append(g, "model", "predict", "--model", mf+".bad", "--data", tp, "--out", preds)...); code != exitFailed || !strings.Contains(errOut, "checksum") {
			t.Errorf("corrupted file: %d %s", code, errOut)
		}
		os.WriteFile(mf+".v9", bytes.Replace(b, fmt.Appendf(nil, "RECLAIM-RECOVERY %d ", valuation.RecoveryFormatVersion), []byte("RECLAIM-RECOVERY 9 "), 1), 0o644)
		if _, errOut, code := cli(t, append(g, "model", "predict", "--model", mf+".v9", "--data", tp, "--out", preds)...); code != exitFailed ||
			!strings.Contains(errOut, "version 9") || !strings.Contains(errOut, fmt.Sprintf("reads version %d", valuation.RecoveryFormatVersion)) {
			t.Errorf("foreign version: %d %s", code, errOut)
		}
		if _, errOut, code := cli(t, append(g, "model", "predict", "--model", "no-such-model", "--data", tp, "--out", preds)...); code != exitFailed || !strings.Contains(errOut, "no model named") {
			t.Errorf("unknown model: %d %s", code, errOut)
		}

		// Value and price the imported portfolio.
		if _, errOut, code := cli(t, append(g, "tape", "import", tp, "--history", hp)...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		out, errOut, code = cli(t, append(g, "value", "1", "--paths", "100")...)
		if code != exitOK || !strings.Contains(out, "valued with t1@1") || !strings.Contains(out, "Price for a 18.00% IRR: ") || !strings.Contains(out, "Price table") ||
			!strings.Contains(out, "Monte Carlo paths; the price meeting it in half of them (the median path) is ") {
			t.Fatalf("value: %d %s %s", code, out, errOut)
		}
		out, _, code = cli(t, append(g, "price", "1", "--target-irr", "0.25", "--paths", "100", "--confidence", "0.8", "--json")...)
		var v valuation.Valuation
		if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitOK || v.Price.TargetIRR != 0.25 || v.Price.Confidence != 0.8 ||
			v.Price.Price.IsAbsent() || v.IRRDistribution == nil || v.IRRDistribution.Paths != 100 || v.Price.HurdleProbability == nil ||
			math.Abs(v.IRRDistribution.ExpectedFlowIRR-0.25) > 1e-6 {
			t.Fatalf("price --json: %d %v %.400s", code, err, out)
		}
		// Beyond the training horizon: the tail, stated apart; the months within it unchanged.
		out, _, code = cli(t, append(g, "value", "1", "--horizon", "60", "--paths", "0", "--json")...)
		var lv valuation.Valuation
		if err := json.Unmarshal([]byte(out), &lv); err != nil || code != exitOK || lv.Horizon != 60 || lv.Tail == nil ||
			lv.Tail.Method != valuation.TailMethod || lv.Tail.TrainingHorizon >= 60 || !(lv.Tail.Amount.Float() > 0) ||
			!lv.Tail.Within.Equal(v.ExpectedRecovery) || len(lv.Curve) != 60 || !lv.Curve[59].Tail || lv.Curve[0].Tail {
			t.Fatalf("value --horizon 60 --json: %d %v %.600s", code, err, out)
		}
		out, _, code = cli(t, append(g, "value", "1", "--horizon", "60", "--paths", "0")...)
		if code != exitOK || !strings.Contains(out, "tail, months ") || !strings.Contains(out, valuation.TailMethod) {
			t.Errorf("value --horizon 60: %d %s", code, out)
		}
		out, _, code = cli(t, append(g, "price", "1", "--collection-cost", "1", "--paths", "50")...)
		if code != exitOK || !strings.Contains(out, "Price for a 18.00% IRR: none. no positive price reaches the target") {
			t.Errorf("unreachable target: %d %s", code, out)
		}
		out, _, code = cli(t, append(g, "backtest", "1")...)
		if code != exitOK || !strings.Contains(out, "nothing to compare yet") {
			t.Errorf("backtest: %d %s", code, out)
		}
		for _, args := range [][]string{{"value", "abc"}, {"price", "1", "--confidence", "2"}, {"value", "1", "--horizon", "-1"}, {"price", "1", "--horizon", "601"}, {"model", "train", "--name", "x"},
			{"model", "train", "--name", "bad name", "--synthetic", "10"}, {"model", "train", "--name", "x", "--synthetic", "10", "--data", tp},
			{"model", "predict", "--model", "t1", "--data", filepath.Join(dir, "missing.csv"), "--out", preds}} {
			if _, errOut, code := cli(t, append(g, args...)...); code != exitUsage {
				t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
			}
		}
	})
}

// TestModelLendingClub trains on the real LendingClub file and scores it (skipped when the file is
// absent).
func TestModelLendingClub(t *testing.T) {
	const data, mapping = "../../../shared/data/lendingclub/chargedoff_dev.csv", "../../mappings/lendingclub.yaml"
	if _, err := os.Stat(data); err != nil {
		t.Skip("shared/data/lendingclub/chargedoff_dev.csv is not present")
	}
	dir := t.TempDir()
	g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", sqldbtest.SQLiteDSN(t), "-q"}
	out, errOut, code := cli(t, append(g, "model", "train", "--data", data, "--mapping", mapping, "--trees", "100", "--name", "lc")...)
	if code != exitOK || !strings.Contains(out, "(lendingclub-v1)") || !strings.Contains(out, "principal_outstanding") {
		t.Fatalf("train: %d %s %s", code, out, errOut)
	}
	preds := filepath.Join(dir, "lc.csv")
	out, errOut, code = cli(t, append(g, "model", "predict", "--model", "lc", "--data", data, "--mapping", mapping, "--out", preds)...)
	if code != exitOK || !strings.Contains(out, "Scored 4481 of 4481 loans") {
		t.Fatalf("predict: %d %s %s", code, out, errOut)
	}
	rows := readCSV(t, preds)
	if len(rows) != 4482 || rows[1][0] == "" || rows[1][4] == "" {
		t.Fatalf("%d rows; first %v", len(rows), rows[1])
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// dropColumn writes a copy of a CSV tape without the named column.
func dropColumn(t *testing.T, src, column, dst string) string {
	t.Helper()
	rows := readCSV(t, src)
	col := -1
	for i, h := range rows[0] {
		if strings.TrimPrefix(h, "\ufeff") == column {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s has no column %s: %v", src, column, rows[0])
	}
	f, _ := os.Create(dst)
	defer f.Close()
	w := csv.NewWriter(f)
	for _, r := range rows {
		w.Write(append(r[:col:col], r[col+1:]...))
	}
	w.Flush()
	return dst
}

func TestModelCommandsHelp(t *testing.T) {
	for _, cmd := range [][]string{{"model"}, {"model", "train"}, {"model", "evaluate"}, {"model", "list"}, {"model", "predict"},
		{"model", "export"}, {"value"}, {"price"}, {"backtest"}} {
		out, _, code := cli(t, append(cmd, "--help")...)
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("%v --help: %d", cmd, code)
		}
	}
}

// badLendingClub writes a three-loan file with every column mappings/lendingclub.yaml reads, one
// of them with negative recoveries, its mapping, and (MAPPING.nooutcome) the mapping without
// the outcome among its extras.
func badLendingClub(t *testing.T, dir string) (data, mapping string) {
	t.Helper()
	const lc = "../../mappings/lendingclub.yaml"
	m, err := tape.LoadMapping(lc)
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	for c := range m.Columns {
		header = append(header, c)
	}
	header = append(header, m.Extras...)
	slices.Sort(header)
	header = slices.Compact(header)
	vals := map[string]string{"issue_d": "2011-03-01", "ead_principal": "6000", "last_pymnt_d": "2012-05-01", "addr_state": "CA",
		"earliest_cr_line": "2001-04-01", "term": " 36 months", "grade": "B", "sub_grade": "B3", "home_ownership": "RENT"}
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for i, rec := range []string{"10", "-5", "0"} {
		row := make([]string, len(header))
		for j, h := range header {
			v, ok := vals[h]
			if !ok {
				v = "1"
			}
			switch h {
			case "id":
				v = fmt.Sprint(2000 + i)
			case "recoveries":
				v = rec
			}
			row[j] = v
		}
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	data, mapping = filepath.Join(dir, "bad.csv"), filepath.Join(dir, "bad.yaml")
	y, err := os.ReadFile(lc)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(data, []byte(b.String()), 0o644)
	os.WriteFile(mapping, y, 0o644)
	os.WriteFile(mapping+".nooutcome", []byte(strings.Replace(string(y), "  - recoveries ", "  # - recoveries ", 1)), 0o644)
	return data, mapping
}
