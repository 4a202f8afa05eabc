package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reclaim/sqldb/sqldbtest"
)

// TestPaymentsCLI: a bad allocation policy is a usage error found before any data directory is
// made; a statement with a bad line is refused whole, naming the line, and imports nothing; a
// good statement whose credits match no case leaves every line in the unmatched queue, and the
// same file again is refused. On SQLite and PostgreSQL.
func TestPaymentsCLI(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		dataDir := filepath.Join(dir, "data")
		g := []string{"--data-dir", dataDir, "--dsn", dsn, "-q"}
		write := func(name, body string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		good := write("good.csv", "txn_id,date,amount,payer_name,reference\nB1,2026-11-02,500.00,张三,还款\nB2,2026-11-02,300.00,李四,no reference\n")
		if _, errOut, code := cli(t, append(g, "payments", "import", good, "--order", "fees,fees,principal")...); code != exitUsage || !strings.Contains(errOut, "allocation order") {
			t.Errorf("bad --order: %d %s", code, errOut)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("a usage error made the data directory: %v", err)
		}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		bad := write("bad.csv", "txn_id,date,amount,payer_name,reference\nB3,2026-11-02,500.00,王五,x\nB4,2026-13-45,300.00,赵六,y\n")
		if _, errOut, code := cli(t, append(g, "payments", "import", bad)...); code != exitFailed || !strings.Contains(errOut, "line 3") {
			t.Errorf("bad statement: %d %s", code, errOut)
		}
		out, errOut, code := cli(t, append(g, "payments", "queue")...)
		if code != exitOK || strings.Contains(out, "B3") {
			t.Errorf("the refused file left something in the queue: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := cli(t, append(g, "payments", "import", good)...); code != exitOK {
			t.Fatalf("good statement: %d %s", code, errOut)
		}
		out, errOut, code = cli(t, append(g, "payments", "queue")...)
		if code != exitOK || !strings.Contains(out, "B1") || !strings.Contains(out, "B2") {
			t.Errorf("queue after import: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := cli(t, append(g, "payments", "import", good)...); code == exitOK {
			t.Errorf("the same file imported twice: %s", errOut)
		}
	})
}
