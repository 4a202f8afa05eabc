package main

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"reclaim"
	"reclaim/auth"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestUserCommands: issue 9, items 4, 5 and 19 through the CLI, on SQLite and PostgreSQL.
// Operator-set passwords (user add, user passwd) are temporary and follow the policy; user passwd
// and disable advance the credential epoch and revoke tokens; tokens are listed and revoked by id;
// every change is in the account audit log under cli:<OS user>; demo accounts are not temporary.
func TestUserCommands(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		run := func(want int, args ...string) string {
			t.Helper()
			out, errOut, code := cli(t, append(g, args...)...)
			if code != want {
				t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
			}
			return out + errOut
		}
		out := run(exitOK, "user", "add", "alice", "--role", "collector")
		pw := regexp.MustCompile(`Password: (\S+)`).FindStringSubmatch(out)
		if pw == nil || auth.CheckPassword(pw[1], "alice") != nil || !strings.Contains(out, "must change") {
			t.Fatalf("user add: %s", out)
		}
		if out := run(exitOK, "user", "add", "carol", "--role", "credit_committee"); !strings.Contains(out, "Password:") {
			t.Fatalf("user add credit_committee: %s", out)
		}
		run(exitUsage, "user", "add", "dave", "--role", "committee")
		run(exitUsage, "user", "add", "bob", "--role", "analyst", "--password", "password1234")
		run(exitUsage, "user", "add", "bob", "--role", "analyst", "--password", "bob-the-builder-9")
		run(exitFailed, "user", "add", "ALICE", "--role", "analyst")
		if out := run(exitOK, "user", "list"); !strings.Contains(out, "must change password") {
			t.Errorf("user list: %s", out)
		}
		tok := strings.TrimSpace(run(exitOK, "user", "token", "alice", "--name", "ci"))
		if !strings.HasPrefix(tok, auth.TokenPrefix) {
			t.Fatalf("token: %q", tok)
		}
		run(exitOK, "user", "token", "create", "alice", "--name", "ci-2")
		var toks []reclaim.APIToken
		if err := json.Unmarshal([]byte(run(exitOK, "user", "token", "list", "alice", "--json")), &toks); err != nil || len(toks) != 2 {
			t.Fatalf("token list: %v %+v", err, toks)
		}
		run(exitFailed, "user", "token", "revoke", "999999")
		run(exitUsage, "user", "token", "revoke", "abc")
		if out := run(exitOK, "user", "token", "revoke", strconv.FormatInt(toks[0].ID, 10), "--reason", "rotated"); !strings.Contains(out, "revoked") {
			t.Errorf("revoke: %s", out)
		}
		if out := run(exitOK, "user", "token", "list", "alice"); !strings.Contains(out, "rotated") || !strings.Contains(out, "active") {
			t.Errorf("token list after revoke: %s", out)
		}
		db, err := sqldb.Open(context.Background(), dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		before, _ := db.UserByUsername(ctx, "alice")
		out = run(exitOK, "user", "passwd", "alice")
		pw = regexp.MustCompile(`Password: (\S+)`).FindStringSubmatch(out)
		after, _ := db.UserByUsername(ctx, "alice")
		if pw == nil || auth.Verify(pw[1], after.PasswordHash) != nil || !after.MustChangePassword || after.CredentialEpoch <= before.CredentialEpoch {
			t.Errorf("user passwd: %s; %+v", out, after)
		}
		if u, err := db.UserByToken(ctx, auth.TokenHash(tok)); err == nil {
			t.Errorf("token of %s survived user passwd", u.Username)
		}
		run(exitOK, "user", "disable", "alice")
		if u, _ := db.UserByUsername(ctx, "alice"); !u.Disabled || u.CredentialEpoch <= after.CredentialEpoch {
			t.Errorf("disable: %+v", u)
		}
		run(exitOK, "user", "enable", "alice")
		var evs []reclaim.AccountEvent
		if err := json.Unmarshal([]byte(run(exitOK, "user", "audit", "--user", "alice", "--json")), &evs); err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, e := range evs {
			if !strings.HasPrefix(e.Actor, "cli:") {
				t.Errorf("actor %q, want cli:<user>", e.Actor)
			}
			actions[e.Action] = true
		}
		for _, a := range []string{reclaim.AccountCreated, reclaim.AccountTokenCreated, reclaim.AccountTokenRevoked,
			reclaim.AccountPasswordSet, reclaim.AccountDisabled, reclaim.AccountEnabled} {
			if !actions[a] {
				t.Errorf("no %s in the CLI's audit trail: %+v", a, evs)
			}
		}

		// Demo accounts: printed to their user, so not temporary, and within the policy.
		gl := &globals{dataDir: filepath.Join(dir, "data"), dsn: dsn, stdout: io.Discard, stderr: io.Discard}
		a, err := gl.openApp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		rows, err := demoAccounts(ctx, gl, a)
		if err != nil || len(rows) != len(reclaim.Roles) {
			t.Fatalf("demo accounts: %v %v", rows, err)
		}
		for _, r := range rows {
			u, err := db.UserByUsername(ctx, r[0])
			if err != nil || u.MustChangePassword || auth.CheckPassword(r[2], r[0]) != nil || auth.Verify(r[2], u.PasswordHash) != nil {
				t.Errorf("demo account %v: %+v %v", r, u, err)
			}
		}
	})
}
