package sqldb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestSessionTokensHashed: the sessions table holds the SHA-256 of a session token, never the
// token (issue 9, item 16); the store still finds, renews and deletes sessions by the token.
func TestSessionTokensHashed(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		const tok = "session-token-value-in-the-cookie"
		exp := time.Now().Add(time.Hour)
		if err := db.Commit(tok, []byte("data"), exp); err != nil {
			t.Fatal(err)
		}
		var stored []string
		if err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
			rows, err := tx.Query(context.Background(), `SELECT token FROM sessions`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					return err
				}
				stored = append(stored, s)
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(tok))
		if len(stored) != 1 || stored[0] != hex.EncodeToString(h[:]) || strings.Contains(stored[0], tok) {
			t.Fatalf("stored session keys %q, want only the SHA-256 of the token", stored)
		}
		if data, ok, err := db.Find(tok); err != nil || !ok || string(data) != "data" {
			t.Fatalf("find: %q %v %v", data, ok, err)
		}
		if _, ok, _ := db.Find(stored[0]); ok {
			t.Fatal("the stored hash works as a session token")
		}
		if err := db.Delete(tok); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := db.Find(tok); ok {
			t.Fatal("deleted session still found")
		}
	})
}

// TestSQLiteFileMode: the database, -wal and -shm files are created 0600 whatever the umask, and
// an existing world-readable database is narrowed to 0600 when opened (issue 9, item 16).
func TestSQLiteFileMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "reclaim.db")
	db := sqldbtest.Open(t, "sqlite:"+path)
	if _, err := db.CreateUser(context.Background(), reclaim.User{Username: "mode-check", Role: reclaim.RoleAnalyst, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), m)
		}
	}
	db.Close()
	// An older database left readable by others is narrowed on open.
	path2 := filepath.Join(dir, "old.db")
	if err := os.WriteFile(path2, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path2, 0o644)
	db2 := sqldbtest.Open(t, "sqlite:"+path2)
	defer db2.Close()
	if st, _ := os.Stat(path2); st.Mode().Perm() != 0o600 {
		t.Errorf("existing database left at mode %o", st.Mode().Perm())
	}
}

// TestUsernamesUniqueIgnoringCase: "Alice" and "alice" cannot both exist, by the service's check
// and by the database's own constraint (issue 9, item 19); sign-in finds the account in any case.
func TestUsernamesUniqueIgnoringCase(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, err := db.CreateUser(ctx, reclaim.User{Username: "Alice", Role: reclaim.RoleAnalyst, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, reclaim.User{Username: "aLICE", Role: reclaim.RoleCollector, PasswordHash: "x"}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("second Alice: %v, want conflict", err)
		}
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash, disabled, created_at)
				VALUES ('ALICE', 'x', 'admin', 'x', ?, ?)`, false, time.Now().UTC().Format(time.RFC3339Nano))
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "users_username_ci") {
			t.Fatalf("raw insert of ALICE: %v, want the unique constraint to refuse it", err)
		}
		for _, name := range []string{"alice", "ALICE", "Alice"} {
			if u, err := db.UserByUsername(ctx, name); err != nil || u.ID != a.ID {
				t.Errorf("UserByUsername(%q): %v %v", name, u.ID, err)
			}
		}
		for _, bad := range []string{"a", "bob smith", "bob\x00", "Ａlice", "béa", strings.Repeat("x", 65)} {
			if _, err := db.CreateUser(ctx, reclaim.User{Username: bad, Role: reclaim.RoleAnalyst, PasswordHash: "x"}); reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Errorf("username %q: %v, want invalid", bad, err)
			}
			if _, err := db.UserByUsername(ctx, bad); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
				t.Errorf("lookup %q: %v", bad, err)
			}
		}
	})
}

// TestAccountChangesAudited: every account change is an account event with who, whom, what and
// when, written with the change; a password reset, a role change and disabling advance the
// credential epoch and revoke the user's tokens (issue 9, items 4 and 5); the log is append-only.
func TestAccountChangesAudited(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		admin := reclaim.User{ID: 999, Username: "boss", Role: reclaim.RoleAdmin}
		ctx := reclaim.WithUser(context.Background(), &admin)
		u, err := db.CreateUser(ctx, reclaim.User{Username: "carol", Role: reclaim.RoleAnalyst, PasswordHash: "h1", MustChangePassword: true})
		if err != nil {
			t.Fatal(err)
		}
		if u.CredentialEpoch != 1 || !u.MustChangePassword {
			t.Fatalf("new user: %+v", u)
		}
		tokID := func(name string) int64 {
			sum := sha256.Sum256([]byte(name + time.Now().String()))
			id, err := db.CreateToken(ctx, u.ID, name, sum[:])
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		t1 := tokID("ci")
		epoch := u.CredentialEpoch
		step := func(what string, change func(*reclaim.User), wantBump bool) {
			t.Helper()
			cur, _ := db.UserByID(ctx, u.ID)
			change(&cur)
			got, err := db.UpdateUser(ctx, cur)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if bumped := got.CredentialEpoch > epoch; bumped != wantBump {
				t.Errorf("%s: epoch %d -> %d, want bump %v", what, epoch, got.CredentialEpoch, wantBump)
			}
			epoch = got.CredentialEpoch
		}
		step("rename", func(x *reclaim.User) { x.DisplayName = "Carol C." }, false)
		step("reset password", func(x *reclaim.User) { x.PasswordHash, x.MustChangePassword = "h2", true }, true)
		toks, _ := db.ListTokens(ctx, u.ID)
		if len(toks) != 1 || !toks[0].Revoked || toks[0].RevokedReason != "password reset" || toks[0].RevokedAt == nil {
			t.Errorf("token after password reset: %+v", toks)
		}
		t2 := tokID("ci-2")
		step("role", func(x *reclaim.User) { x.Role = reclaim.RoleCollector }, true)
		t3 := tokID("ci-3")
		step("disable", func(x *reclaim.User) { x.Disabled = true }, true)
		step("enable", func(x *reclaim.User) { x.Disabled = false }, true)
		self := ctx
		cur, _ := db.UserByID(ctx, u.ID)
		self = reclaim.WithUser(context.Background(), &cur)
		cur.PasswordHash, cur.MustChangePassword = "h3", false
		if _, err := db.UpdateUser(self, cur); err != nil {
			t.Fatal(err)
		}
		t4 := tokID("ci-4")
		if _, err := db.RevokeToken(ctx, u.ID+1, t4, "x"); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("revoke through another user: %v", err)
		}
		if tk, err := db.RevokeToken(ctx, u.ID, t4, "leaked in a log"); err != nil || !tk.Revoked {
			t.Fatalf("revoke: %+v %v", tk, err)
		}
		if _, err := db.RevokeToken(ctx, 0, t4, "again"); err != nil {
			t.Fatalf("revoke twice: %v", err)
		}
		toks, _ = db.ListTokens(ctx, u.ID)
		reasons := map[int64]string{}
		for _, tk := range toks {
			if !tk.Revoked {
				t.Errorf("token %d still live", tk.ID)
			}
			reasons[tk.ID] = tk.RevokedReason
		}
		if len(toks) != 4 || reasons[t1] != "password reset" || reasons[t2] != "role changed" || reasons[t3] != "account disabled" || reasons[t4] != "leaked in a log" {
			t.Errorf("revocation reasons %v", reasons)
		}
		evs, err := db.ListAccountEvents(ctx, reclaim.AccountEventFilter{Username: "CAROL"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(evs) - 1; i >= 0; i-- {
			e := evs[i]
			var d map[string]any
			if e.UserID != u.ID || e.Username != "carol" || e.At.IsZero() || json.Unmarshal([]byte(e.Detail), &d) != nil {
				t.Errorf("event %+v", e)
			}
			if strings.Contains(e.Detail, "h1") || strings.Contains(e.Detail, "h2") || strings.Contains(e.Detail, "h3") {
				t.Errorf("event holds a password hash: %+v", e)
			}
			got = append(got, e.Actor+" "+e.Action)
		}
		want := []string{
			"user:boss account.created", "user:boss account.token_created", "user:boss account.renamed",
			"user:boss account.token_revoked", "user:boss account.password_set", "user:boss account.token_created",
			"user:boss account.token_revoked", "user:boss account.role_changed", "user:boss account.token_created",
			"user:boss account.token_revoked", "user:boss account.disabled", "user:boss account.enabled",
			"user:carol account.password_changed", "user:boss account.token_created", "user:boss account.token_revoked",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("account events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if evs, _ := db.ListAccountEvents(ctx, reclaim.AccountEventFilter{Actor: "user:carol"}); len(evs) != 1 {
			t.Errorf("actor filter: %d events", len(evs))
		}
		// The operator's CLI is named as such.
		cli := reclaim.WithActor(context.Background(), "cli:root")
		if _, err := db.CreateUser(cli, reclaim.User{Username: "dave", Role: reclaim.RoleAuditor, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		if evs, _ := db.ListAccountEvents(ctx, reclaim.AccountEventFilter{Username: "dave"}); len(evs) != 1 || evs[0].Actor != "cli:root" {
			t.Errorf("cli actor: %+v", evs)
		}
		// Append-only: no update, no delete.
		for _, q := range []string{`UPDATE account_events SET actor = 'nobody'`, `DELETE FROM account_events`} {
			if err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
				_, err := tx.Exec(context.Background(), q)
				return err
			}); err == nil {
				t.Errorf("%s succeeded", q)
			}
		}
		// Text PostgreSQL cannot store is refused on both engines with invalid, never a 500.
		if _, err := db.RevokeToken(ctx, 0, t1, "bad\x00reason"); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("NUL reason: %v", err)
		}
		if _, err := db.ListAccountEvents(ctx, reclaim.AccountEventFilter{Username: "a\xffb"}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("invalid UTF-8 filter: %v", err)
		}
		if _, err := db.CreateUser(ctx, reclaim.User{Username: "erin", DisplayName: "E\x00", Role: reclaim.RoleAnalyst, PasswordHash: "x"}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("NUL display name: %v", err)
		}
		// A username cannot be changed through UpdateUser (the audit trail names accounts).
		cur, _ = db.UserByID(ctx, u.ID)
		cur.Username = "mallory"
		if _, err := db.UpdateUser(ctx, cur); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("rename username: %v", err)
		}
	})
}
