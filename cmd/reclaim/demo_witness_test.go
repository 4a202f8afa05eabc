package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog"
	"reclaim/tlog/verify"
	"reclaim/tlog/witness"
)

// `reclaim demo` runs with a local witness by default: the demo pool's checkpoint carries the
// witness's cosignature and verifies under the demo's policy file (quorum 1); a second run
// reuses the witness key; and the witness, with its state kept in the data directory, refuses a
// rolled-back or forked checkpoint signed with the real log key, so the default set-up resists a
// full rollback of the log. On SQLite and PostgreSQL.
func TestDemoRunsWithAWitness(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := filepath.Join(t.TempDir(), "data")
		g := []string{"--data-dir", dir, "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		out, errOut, code := cli(t, append(g, "demo", "--loans", "600", "--no-serve")...)
		if code != exitOK {
			t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(out, "Local witness "+demoWitnessName) || !strings.Contains(out, "quorum 1") {
			t.Fatalf("the demo does not announce its witness:\n%s", out)
		}
		key1, err := os.ReadFile(filepath.Join(dir, demoWitnessKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, demoWitnessKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("witness key mode: %v %v", fi.Mode(), err)
		}
		vkey := strings.TrimSpace(readFile(t, filepath.Join(dir, demoWitnessVKeyFile)))

		// The policy file lists the witness with quorum 1, and the published checkpoint meets it.
		polText := readFile(t, filepath.Join(dir, "demo-pool.policy"))
		pol, err := verify.ParsePolicy([]byte(polText))
		if err != nil {
			t.Fatalf("policy: %v\n%s", err, polText)
		}
		if pol.Quorum != 1 || len(pol.Witnesses) != 1 || pol.Witnesses[0].Key != vkey {
			t.Fatalf("policy: quorum %d, witnesses %+v; want the demo witness %s", pol.Quorum, pol.Witnesses, vkey)
		}
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cp, err := db.LatestCheckpoint(ctx, demoPoolID)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Cosigners != 1 {
			t.Fatalf("the demo checkpoint has %d cosigners", cp.Cosigners)
		}
		if _, err := verify.VerifyCheckpoint(pol, []byte(cp.Note)); err != nil {
			t.Fatalf("the demo checkpoint does not meet the demo policy: %v\n%s", err, cp.Note)
		}

		// A second run serves the same data with the same witness key.
		out, errOut, code = cli(t, append(g, "demo", "--no-serve")...)
		if code != exitOK || !strings.Contains(out, "Local witness") {
			t.Fatalf("second demo run: %d\n%s\n%s", code, out, errOut)
		}
		if key2, _ := os.ReadFile(filepath.Join(dir, demoWitnessKeyFile)); string(key2) != string(key1) {
			t.Fatal("the second run replaced the witness key")
		}

		// The witness remembers the checkpoint it cosigned. Signed with the real log key, a
		// shorter log and another log of the same size are refused; the real one is accepted.
		logVKey := strings.TrimSpace(readFile(t, filepath.Join(dir, "ledger.key.pub")))
		dw, err := startDemoWitness(dir, logVKey, strings.TrimSuffix(pol.Origin, "/"+demoPoolID))
		if err != nil {
			t.Fatal(err)
		}
		defer dw.Close()
		if dw.VKey != vkey {
			t.Fatalf("restarted witness key %s, want %s", dw.VKey, vkey)
		}
		signer, err := tlog.LoadSigner(filepath.Join(dir, "ledger.key"))
		if err != nil {
			t.Fatal(err)
		}
		sign := func(size int64, root []byte) []byte {
			text := fmt.Sprintf("%s\n%d\n%s\n", pol.Origin, size, base64.StdEncoding.EncodeToString(root))
			b, err := note.Sign(&note.Note{Text: text}, signer)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		body, _, _ := strings.Cut(cp.Note, "\n\n")
		c, err := verify.ParseCheckpoint([]byte(body + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		forged := c.Hash
		forged[0] ^= 1
		for _, tc := range []struct {
			name string
			old  int64
			note []byte
		}{
			{"rollback from its size", c.Size, sign(c.Size-1, c.Hash[:])},
			{"rollback as a first checkpoint", 0, sign(c.Size-1, c.Hash[:])},
			{"fork at the same size", c.Size, sign(c.Size, forged[:])},
		} {
			if _, err := witness.Request(ctx, nil, dw.URL, tc.old, nil, tc.note); err == nil {
				t.Errorf("%s: the demo witness cosigned", tc.name)
			}
		}
		sigs, err := witness.Request(ctx, nil, dw.URL, c.Size, nil, sign(c.Size, c.Hash[:]))
		if err != nil || !strings.HasPrefix(string(sigs), "— "+demoWitnessName+" ") {
			t.Fatalf("the real checkpoint again: %q %v", sigs, err)
		}
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
