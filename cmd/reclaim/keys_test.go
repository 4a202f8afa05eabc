package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reclaim/ingest"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

func writeKeyFile(t *testing.T, path string) *pii.Key {
	t.Helper()
	raw := make([]byte, pii.KeySize)
	rand.Read(raw)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(raw)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := pii.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPIIKeyIsBoundAndRotates (issue 9 item 6): a command started with another personal-data key
// than the one the database's data is sealed under is refused (before it can seal anything under
// it); 'pii rotate-key' re-seals every record, resumes an interrupted rotation, and switches the
// recorded key, after which only the new key is accepted and every record opens with it.
func TestPIIKeyIsBoundAndRotates(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
		a, b := writeKeyFile(t, keyA), writeKeyFile(t, keyB)
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		withKey := func(k string, args ...string) []string {
			return append(append(append([]string{}, g...), "--pii-key-file", k), args...)
		}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "60", "--seed", "3", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if out, errOut, code := cli(t, withKey(keyA, "tape", "import", tp, "--seller", "Bank K")...); code != exitOK {
			t.Fatalf("import: %s %s", out, errOut)
		}
		// Another key, or none (a fresh development key), is refused.
		for _, args := range [][]string{withKey(keyB, "tape", "import", tp, "--seller", "Bank K2"), withKey(keyB, "portfolio", "list"),
			append(append([]string{}, g...), "portfolio", "list")} {
			_, errOut, code := cli(t, args...)
			if code != exitFailed || !strings.Contains(errOut, "is not the key this database's personal data is sealed under") {
				t.Fatalf("%v: exit %d, %s", args, code, errOut)
			}
		}
		// An interrupted rotation: a few records re-sealed, then the process died.
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		both, _ := pii.NewKeyring(b, a)
		reseal := func(sealed, aad []byte) ([]byte, error) {
			pt, err := both.Open(sealed, aad)
			if err != nil {
				return nil, err
			}
			return both.Seal(pt, aad)
		}
		if err := db.BeginPIIRotation(ctx, a.Fingerprint(), b.Fingerprint()); err != nil {
			t.Fatal(err)
		}
		done, left, err := db.ResealPII(ctx, b.ID(), 5, reseal)
		if err != nil || done != 5 || left == 0 {
			t.Fatalf("partial reseal: %d %d %v", done, left, err)
		}
		db.Close()
		for _, k := range []string{keyA, keyB} {
			if _, errOut, code := cli(t, withKey(k, "portfolio", "list")...); code != exitFailed || !strings.Contains(errOut, "rotation is in progress") {
				t.Fatalf("during a rotation: exit %d %s", code, errOut)
			}
		}
		// The same command resumes and finishes.
		out, errOut, code := cli(t, withKey(keyA, "pii", "rotate-key", "--new-key-file", keyB, "--batch", "7")...)
		if code != exitOK || !strings.Contains(out, "re-sealed") {
			t.Fatalf("rotate-key: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := cli(t, withKey(keyA, "portfolio", "list")...); code != exitFailed || !strings.Contains(errOut, "is not the key") {
			t.Fatalf("old key after rotation: exit %d %s", code, errOut)
		}
		if _, errOut, code := cli(t, withKey(keyB, "portfolio", "list")...); code != exitOK {
			t.Fatalf("new key after rotation: %s", errOut)
		}
		// Every record is under the new key and opens with it alone.
		db, err = sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		onlyB, _ := pii.NewKeyring(b)
		var n int
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			n = 0
			rows, err := tx.Query(ctx, `SELECT p.key_id, p.sealed, b.borrower_ref, f.content_hash FROM borrower_pii p
				JOIN borrowers b ON b.id = p.borrower_id JOIN portfolios f ON f.id = b.portfolio_id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, ref, ch string
				var sealed []byte
				if err := rows.Scan(&id, &sealed, &ref, &ch); err != nil {
					return err
				}
				if id != b.ID() {
					t.Errorf("record %s under key %s", ref, id)
				}
				if _, err := onlyB.OpenPersonal(sealed, ingest.PersonalAAD(ch, ref)); err != nil {
					t.Errorf("record %s: %v", ref, err)
				}
				n++
			}
			return rows.Err()
		})
		if err != nil || n < 10 {
			t.Fatalf("records %d: %v", n, err)
		}
		if st, _ := db.PIIKeyState(ctx); st.Current != b.Fingerprint() || st.Pending != "" {
			t.Fatalf("key state %+v", st)
		}
	})
}

// TestLedgerFsckAndKeyCLI: 'ledger fsck' exits 0 on a clean store and 1 with the report on a
// damaged one (after which 'ledger publish' refuses to sign); a deleted ledger key is not
// replaced by a new one while the pool exists.
func TestLedgerFsckAndKeyCLI(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		g := []string{"--data-dir", data, "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "20", "--seed", "4", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank F")...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		if out, errOut, code := cli(t, append(g, "ledger", "open", "--pool", "PF", "--portfolio", "1", "--effective", "2025-07-01")...); code != exitOK {
			t.Fatalf("ledger open: %s %s", out, errOut)
		}
		if out, errOut, code := cli(t, append(g, "ledger", "fsck", "PF")...); code != exitOK || !strings.Contains(out, "matches its entries") {
			t.Fatalf("fsck clean: %d %s %s", code, out, errOut)
		}
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			stmts := []string{"DROP TRIGGER IF EXISTS ledger_leaves_no_delete"}
			if db.Dialect() == sqldb.Postgres {
				stmts = []string{"ALTER TABLE ledger_leaves DISABLE TRIGGER USER"}
			}
			stmts = append(stmts, `DELETE FROM ledger_leaves WHERE pool = 'PF' AND idx = 20`)
			for _, q := range stmts {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		out, _, code := cli(t, append(g, "ledger", "fsck", "PF")...)
		if code != exitFailed || !strings.Contains(out, "DAMAGED") || !strings.Contains(out, "entry 20 is missing") {
			t.Fatalf("fsck damaged: %d %s", code, out)
		}
		if _, errOut, code := cli(t, append(g, "ledger", "publish")...); code != exitFailed || !strings.Contains(errOut, "damaged") {
			t.Fatalf("publish over damage: %d %s", code, errOut)
		}
		// The key file deleted: refused, and no new key appears.
		key := filepath.Join(data, "ledger.key")
		os.Remove(key)
		os.Remove(key + ".pub")
		if _, errOut, code := cli(t, append(g, "ledger", "publish")...); code != exitFailed || !strings.Contains(errOut, "does not exist") {
			t.Fatalf("publish without the key: %d %s", code, errOut)
		}
		if _, err := os.Stat(key); err == nil {
			t.Fatal("a new ledger key was created for an existing pool")
		}
	})
}
