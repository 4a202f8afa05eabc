package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reclaim/pii"
	"reclaim/sqldb/sqldbtest"
)

// migrate needs only the database: it neither reads nor creates the personal-data key.
func TestMigrateCreatesNoPersonalDataKey(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		data := filepath.Join(t.TempDir(), "data")
		if out, errOut, code := cli(t, "--data-dir", data, "--dsn", dsn, "migrate"); code != exitOK || !strings.Contains(out, "00011") {
			t.Fatalf("migrate: %d %s %s", code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(data, pii.DevKeyFile)); !os.IsNotExist(err) {
			t.Fatalf("migrate created a personal-data key: %v", err)
		}
	})
}

// A command on a PostgreSQL database that was never migrated says what to do, instead of failing
// on a missing relation; the demo migrates it itself, and creates a missing --ledger-key file
// before it does any work.
func TestFreshPostgresAndDemoKey(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if strings.HasPrefix(dsn, "postgres") {
			_, errOut, code := cli(t, "--data-dir", data, "--dsn", dsn, "portfolio", "list")
			if code != exitFailed || !strings.Contains(errOut, "reclaim migrate") {
				t.Fatalf("portfolio list on a fresh database: %d %s", code, errOut)
			}
		}
		key := filepath.Join(dir, "keys", "pool-signing.key")
		out, errOut, code := cli(t, "--data-dir", data, "--dsn", dsn, "-q", "demo", "--loans", "400", "--no-serve", "--ledger-key", key)
		if code != exitOK {
			t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
		}
		if _, err := os.Stat(key); err != nil {
			t.Fatalf("the demo did not create --ledger-key: %v", err)
		}
		if strings.HasPrefix(dsn, "postgres") && !strings.Contains(errOut, "pending PostgreSQL migrations") {
			t.Errorf("the demo did not say it migrated: %s", errOut)
		}
		// An unusable key fails before any work: nothing is generated.
		bad := filepath.Join(dir, "bad.key")
		if err := os.WriteFile(bad, []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		data2 := filepath.Join(dir, "data2")
		// The same database, so the same personal-data key (the database refuses another one).
		_, errOut, code = cli(t, "--data-dir", data2, "--dsn", dsn, "--pii-key-file", filepath.Join(data, "pii.key"), "-q", "demo", "--loans", "400", "--no-serve", "--ledger-key", bad)
		if code != exitFailed || !strings.Contains(errOut, "ledger key") {
			t.Fatalf("demo with a bad key: %d %s", code, errOut)
		}
		if ents, _ := os.ReadDir(filepath.Join(data2, "tapes")); len(ents) != 0 {
			t.Fatalf("the demo generated %d tapes before checking its key", len(ents))
		}
	})
}
