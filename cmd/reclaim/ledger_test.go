package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
)

// TestLedgerCLIWithoutDeadEnds walks the path a new user takes: open a pool, find a loan with
// 'ledger loans', post a collection by the tape's loan id, and read the period report in yuan.
func TestLedgerCLIWithoutDeadEnds(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "50", "--seed", "9", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank L")...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		if out, errOut, code := cli(t, append(g, "ledger", "open", "--pool", "CLI-1", "--portfolio", "1", "--effective", "2026-01-05")...); code != exitOK {
			t.Fatalf("open: %s %s", out, errOut)
		}
		out, errOut, code := cli(t, append(g, "ledger", "loans", "CLI-1", "--limit", "5")...)
		if code != exitOK || !strings.Contains(out, "LOAN ID") || !strings.Contains(out, "of 50 loans") {
			t.Fatalf("loans: %d %s %s", code, out, errOut)
		}
		out, _, code = cli(t, append(g, "ledger", "loans", "CLI-1", "--limit", "1", "--json")...)
		var page struct {
			Total int64
			Loans []struct {
				Ref     string `json:"ref"`
				LoanKey string `json:"loan_key"`
				Balance string `json:"balance"`
			}
		}
		if err := json.Unmarshal([]byte(out), &page); err != nil || code != exitOK || page.Total != 50 || len(page.Loans) != 1 {
			t.Fatalf("loans --json: %d %v %s", code, err, out)
		}
		loan := page.Loans[0]
		if _, errOut, code := cli(t, append(g, "ledger", "collect", "--pool", "CLI-1", "--loan", loan.LoanKey, "--amount", "12.34",
			"--txn", "BANK-CLI-1", "--effective", "2026-01-10")...); code != exitOK {
			t.Fatalf("collect by loan id: %s", errOut)
		}
		out, _, _ = cli(t, append(g, "ledger", "loans", "CLI-1", "--limit", "1")...)
		if !regexp.MustCompile(loan.Ref + `\s+` + loan.LoanKey + `\s+\S+\s+12\.34\s`).MatchString(out) {
			t.Errorf("collected amount not shown:\n%s", out)
		}
		out, errOut, code = cli(t, append(g, "ledger", "report", "--pool", "CLI-1", "--from", "2026-01-01", "--to", "2026-01-31")...)
		if code != exitOK || !strings.Contains(out, "closing balance") || !regexp.MustCompile(`collected \(1 collections\)\s+12\.34`).MatchString(out) {
			t.Fatalf("report: %d %s %s", code, out, errOut)
		}
		if strings.Contains(out, "{") {
			t.Errorf("report prints JSON without --json:\n%s", out)
		}
		if !strings.Contains(out, "Cut by effective (value) date, not log position") || !strings.Contains(out, "dated 2026-01-01 to 2026-01-31") {
			t.Errorf("report does not say how the period was cut:\n%s", out)
		}
		// January is closed: a collection dated in it is refused, naming the first open day.
		_, errOut, code = cli(t, append(g, "ledger", "collect", "--pool", "CLI-1", "--loan", loan.LoanKey, "--amount", "1.00",
			"--txn", "BANK-CLI-2", "--effective", "2026-01-31")...)
		if code == exitOK || !strings.Contains(errOut, "closed period") || !strings.Contains(errOut, "2026-02-01") {
			t.Errorf("collection dated in a closed period: %d %s", code, errOut)
		}
	})
}
