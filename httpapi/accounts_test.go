package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

const newPassword = "Umbrella-Kettle-Quartz-58"

func (f *fixture) login(username, password string) (*client, *http.Response, []byte) {
	f.t.Helper()
	c := f.anon()
	res, b := c.do("POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q}`, username, password))
	return c, res, b
}

func accountEvents(t *testing.T, c *client, query string) []reclaim.AccountEvent {
	t.Helper()
	res, b := c.do("GET", "/api/v1/audit/accounts?"+query, "")
	if res.StatusCode != 200 {
		t.Fatalf("account audit: %d %s", res.StatusCode, b)
	}
	var evs []reclaim.AccountEvent
	if err := json.Unmarshal(b, &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

func hasEvent(evs []reclaim.AccountEvent, actor, action, username string) bool {
	for _, e := range evs {
		if e.Actor == actor && e.Action == action && e.Username == username {
			return true
		}
	}
	return false
}

// TestAdminSetPasswordIsTemporary: issue 9, item 4. An admin who creates a collector, or resets
// a collector's password, knows that password only until the user's first sign-in: every route
// but me, logout and change-password answers 403 password_change_required, personal data
// included. The change itself, the reset and the creation are in the account audit log that
// admins and auditors search, under the admin's name.
func TestAdminSetPasswordIsTemporary(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		res, b := admin.do("POST", "/api/v1/users", `{"username":"col2","display_name":"Col Two","role":"collector","password":"Temporary-Lantern-71"}`)
		var created reclaim.User
		json.Unmarshal(b, &created)
		if res.StatusCode != 201 || !created.MustChangePassword {
			t.Fatalf("create: %d %s", res.StatusCode, b)
		}
		col, res, b := f.login("col2", "Temporary-Lantern-71")
		if res.StatusCode != 200 || !strings.Contains(string(b), `"must_change_password":true`) {
			t.Fatalf("first sign-in: %d %s", res.StatusCode, b)
		}
		f.assignBorrowers(t, "col2", f.borrower) // personal data: only of the collector's own cases
		personal := fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", f.portfolio, f.borrower)
		const purpose = `{"purpose": "collection call"}`
		if res, b := col.do("POST", personal, purpose); res.StatusCode != 403 || errorCode(b) != httpapi.CodePasswordChangeRequired {
			t.Errorf("personal data before the change: %d %s", res.StatusCode, b)
		}
		for _, p := range []string{"/api/v1/portfolios", "/api/v1/stream?topic=upload.0123456789abcdef"} {
			if res, b := col.do("GET", p, ""); res.StatusCode != 403 || errorCode(b) != httpapi.CodePasswordChangeRequired {
				t.Errorf("%s before the change: %d %s", p, res.StatusCode, b)
			}
		}
		if res, b := col.do("GET", "/api/v1/auth/me", ""); res.StatusCode != 200 {
			t.Errorf("me before the change: %d %s", res.StatusCode, b)
		}
		// Wrong current password, weak or unchanged new passwords are refused.
		for _, body := range []string{
			`{"current_password":"wrong-one-entirely","new_password":"` + newPassword + `"}`,
			`{"current_password":"Temporary-Lantern-71","new_password":"password1234"}`,
			`{"current_password":"Temporary-Lantern-71","new_password":"col2-col2-col2-x"}`,
			`{"current_password":"Temporary-Lantern-71","new_password":"Temporary-Lantern-71"}`,
		} {
			if res, b := col.do("POST", "/api/v1/auth/password", body); res.StatusCode != 400 {
				t.Errorf("change %s: %d %s", body, res.StatusCode, b)
			}
		}
		res, b = col.do("POST", "/api/v1/auth/password", `{"current_password":"Temporary-Lantern-71","new_password":"`+newPassword+`"}`)
		if res.StatusCode != 200 || strings.Contains(string(b), `"must_change_password":true`) {
			t.Fatalf("change: %d %s", res.StatusCode, b)
		}
		if res, b := col.do("POST", personal, purpose); res.StatusCode != 200 {
			t.Errorf("personal data after the change (same session): %d %s", res.StatusCode, b)
		}
		// A reset of an existing collector: temporary again, old sessions and tokens end.
		oldSession := f.as(reclaim.RoleCollector)
		tok := f.tokenFor(reclaim.RoleCollector)
		id := f.users[reclaim.RoleCollector].ID
		if res, b := admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", id), `{"password":"Reset-By-Admin-2291"}`); res.StatusCode != 200 {
			t.Fatalf("reset: %d %s", res.StatusCode, b)
		}
		if res, _ := oldSession.do("GET", "/api/v1/auth/me", ""); res.StatusCode != 401 {
			t.Errorf("old session after reset: %d", res.StatusCode)
		}
		if res, _ := f.anon().do("GET", "/api/v1/auth/me", "", "Authorization", "Bearer "+tok); res.StatusCode != 401 {
			t.Errorf("old token after reset: %d", res.StatusCode)
		}
		c2, res, _ := f.login("collector1", "Reset-By-Admin-2291")
		if res.StatusCode != 200 {
			t.Fatalf("sign in after reset: %d", res.StatusCode)
		}
		if res, b := c2.do("POST", personal, purpose); res.StatusCode != 403 || errorCode(b) != httpapi.CodePasswordChangeRequired {
			t.Errorf("personal data with the admin's password: %d %s", res.StatusCode, b)
		}
		// An admin cannot give themselves a password without the current one.
		if res, b := admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", f.users[reclaim.RoleAdmin].ID), `{"password":"Another-Admin-Pass-9"}`); res.StatusCode != 400 {
			t.Errorf("admin sets own password by PATCH: %d %s", res.StatusCode, b)
		}
		// The audit log shows who did what to whom; auditors read it, analysts do not.
		aud := f.as(reclaim.RoleAuditor)
		evs := accountEvents(t, aud, "")
		for _, want := range [][3]string{
			{"user:admin1", reclaim.AccountCreated, "col2"},
			{"user:col2", reclaim.AccountPasswordChanged, "col2"},
			{"user:admin1", reclaim.AccountPasswordSet, "collector1"},
			{"user:admin1", reclaim.AccountTokenRevoked, "collector1"},
		} {
			if !hasEvent(evs, want[0], want[1], want[2]) {
				t.Errorf("no %v in the account audit log: %+v", want, evs)
			}
		}
		for _, e := range evs {
			if strings.Contains(e.Detail, "Reset-By-Admin") || strings.Contains(e.Detail, "argon2") || strings.Contains(e.Detail, "Temporary-Lantern") {
				t.Errorf("a password in the audit log: %+v", e)
			}
		}
		if evs := accountEvents(t, aud, "username=COLLECTOR1&actor=user:admin1"); len(evs) == 0 || evs[0].Username != "collector1" {
			t.Errorf("filtered account audit: %+v", evs)
		}
		if res, _ := f.as(reclaim.RoleAnalyst).do("GET", "/api/v1/audit/accounts", ""); res.StatusCode != 403 {
			t.Errorf("analyst reads the account audit: %d", res.StatusCode)
		}
	})
}

// TestSessionsEndOnAccountChanges: issue 9, item 5. A password reset, disabling and a role
// change end the user's sessions and tokens, also when made outside this server (CLI, another
// node); enabling again does not revive them; tokens are listed and revoked through the API; a
// user's own password change ends their other sessions but keeps the current one.
func TestSessionsEndOnAccountChanges(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		admin := f.as(reclaim.RoleAdmin)
		analyst := f.users[reclaim.RoleAnalyst]
		patch := func(id int64, body string) {
			t.Helper()
			if res, b := admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", id), body); res.StatusCode != 200 {
				t.Fatalf("patch %s: %d %s", body, res.StatusCode, b)
			}
		}
		alive := func(c *client, tok string) bool {
			t.Helper()
			var res *http.Response
			if tok != "" {
				res, _ = f.anon().do("GET", "/api/v1/auth/me", "", "Authorization", "Bearer "+tok)
			} else {
				res, _ = c.do("GET", "/api/v1/auth/me", "")
			}
			return res.StatusCode == 200
		}
		// Disable, then enable: the old cookie stays dead.
		sess, tok := f.as(reclaim.RoleAnalyst), f.tokenFor(reclaim.RoleAnalyst)
		if !alive(sess, "") || !alive(nil, tok) {
			t.Fatal("fresh session or token refused")
		}
		patch(analyst.ID, `{"disabled":true}`)
		if alive(sess, "") || alive(nil, tok) {
			t.Error("session or token alive while disabled")
		}
		patch(analyst.ID, `{"disabled":false}`)
		if alive(sess, "") || alive(nil, tok) {
			t.Error("enabling revived an old session or token")
		}
		// Role change.
		sess, tok = f.as(reclaim.RoleAnalyst), f.tokenFor(reclaim.RoleAnalyst)
		patch(analyst.ID, `{"role":"auditor"}`)
		if alive(sess, "") || alive(nil, tok) {
			t.Error("session or token alive after a role change")
		}
		patch(analyst.ID, `{"role":"analyst"}`)
		// A change written by another process (the CLI, another node) ends the session too.
		sess = f.as(reclaim.RoleAnalyst)
		u, _ := db.UserByID(ctx, analyst.ID)
		u.PasswordHash, _ = auth.HashWith("Someone-Elses-Pass-44", cheap)
		u.MustChangePassword = true
		if _, err := db.UpdateUser(reclaim.WithActor(ctx, "cli:root"), u); err != nil {
			t.Fatal(err)
		}
		if alive(sess, "") {
			t.Error("session alive after a password reset in the database")
		}
		// Token list and revoke through the API.
		bid := f.users[reclaim.RoleBidder]
		tok = f.tokenFor(reclaim.RoleBidder)
		res, b := admin.do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", bid.ID), "")
		var toks []reclaim.APIToken
		json.Unmarshal(b, &toks)
		if res.StatusCode != 200 || len(toks) != 1 || toks[0].Revoked || strings.Contains(string(b), "rcl_") {
			t.Fatalf("token list: %d %s", res.StatusCode, b)
		}
		if res, _ := admin.do("DELETE", fmt.Sprintf("/api/v1/users/%d/tokens/%d", analyst.ID, toks[0].ID), ""); res.StatusCode != 404 {
			t.Errorf("revoke through the wrong user: %d", res.StatusCode)
		}
		if !alive(nil, tok) {
			t.Fatal("token refused before revocation")
		}
		res, b = admin.do("DELETE", fmt.Sprintf("/api/v1/users/%d/tokens/%d?reason=leaked", bid.ID, toks[0].ID), "")
		if res.StatusCode != 200 || !strings.Contains(string(b), `"revoked":true`) {
			t.Fatalf("revoke: %d %s", res.StatusCode, b)
		}
		if alive(nil, tok) {
			t.Error("revoked token still works")
		}
		if !hasEvent(accountEvents(t, admin, "username=bidder1"), "user:admin1", reclaim.AccountTokenRevoked, "bidder1") {
			t.Error("token revocation not audited")
		}
		// Own password change: this session continues, the other one ends.
		a, b1 := f.as(reclaim.RoleTrustee), f.as(reclaim.RoleTrustee)
		res, b = a.do("POST", "/api/v1/auth/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`)
		if res.StatusCode != 200 {
			t.Fatalf("change: %d %s", res.StatusCode, b)
		}
		if !alive(a, "") || alive(b1, "") {
			t.Errorf("after own change: this session %v (want true), other %v (want false)", alive(a, ""), alive(b1, ""))
		}
	})
}

// TestStreamEndsWhenUserDisabled: issue 9, item 5. An open SSE stream stops delivering when its
// user is disabled: at once when the change goes through this server, within the re-check
// interval when another process makes it.
func TestStreamEndsWhenUserDisabled(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, err := httpapi.New(httpapi.Config{Logger: log, Ledger: f.ledger, StreamRecheck: 300 * time.Millisecond},
			sqldb.KeyedDB{DB: db}, nil, f.broker)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		f2 := *f
		f2.ts = ts
		for _, how := range []string{"api", "database"} {
			t.Run(how, func(t *testing.T) {
				c := f2.as(reclaim.RoleAnalyst)
				req, _ := http.NewRequest("GET", ts.URL+"/api/v1/stream?topic=ledger.P1", nil)
				res, err := c.c.Do(req)
				if err != nil || res.StatusCode != 200 {
					t.Fatalf("stream: %v %v", err, errString(err, res))
				}
				defer res.Body.Close()
				lines := make(chan string, 100)
				go func() {
					sc := bufio.NewScanner(res.Body)
					for sc.Scan() {
						lines <- sc.Text()
					}
					close(lines)
				}()
				time.Sleep(100 * time.Millisecond)
				id := f.users[reclaim.RoleAnalyst].ID
				start := time.Now()
				if how == "api" {
					if res, b := f2.as(reclaim.RoleAdmin).do("PATCH", fmt.Sprintf("/api/v1/users/%d", id), `{"disabled":true}`); res.StatusCode != 200 {
						t.Fatalf("disable: %d %s", res.StatusCode, b)
					}
				} else {
					u, _ := db.UserByID(context.Background(), id)
					u.Disabled = true
					if _, err := db.UpdateUser(context.Background(), u); err != nil {
						t.Fatal(err)
					}
				}
				sawEnd := false
				timeout := time.After(10 * time.Second)
			read:
				for {
					select {
					case l, ok := <-lines:
						if !ok {
							break read
						}
						sawEnd = sawEnd || l == "event: signed_out"
					case <-timeout:
						t.Fatal("the stream of a disabled user is still open after 10 s")
					}
				}
				if !sawEnd {
					t.Error("stream closed without a signed_out event")
				}
				t.Logf("%s: stream ended %v after the disable", how, time.Since(start).Round(time.Millisecond))
				u, _ := db.UserByID(context.Background(), id)
				u.Disabled = false
				db.UpdateUser(context.Background(), u)
			})
		}
	})
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestLoginBackoff: issue 9, item 9. Failures are counted per (account, address) with
// exponential backoff; successes are not counted and reset the pair; another account behind the
// same address and the same account from another address are not locked; X-Forwarded-For is
// believed only from a trusted proxy.
func TestLoginBackoff(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		h, _ := auth.HashWith(testPassword, cheap)
		for _, n := range []string{"alice", "bob"} {
			if _, err := db.CreateUser(ctx, reclaim.User{Username: n, Role: reclaim.RoleAnalyst, PasswordHash: h}); err != nil {
				t.Fatal(err)
			}
		}
		clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
		newServer := func(proxies []netip.Prefix) *httptest.Server {
			srv, err := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.now,
				TrustedProxies: proxies}, sqldb.KeyedDB{DB: db}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)
			return ts
		}
		login := func(ts *httptest.Server, user, pw, xff string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("POST", ts.URL+"/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
			req.Header.Set("Content-Type", "application/json")
			if xff != "" {
				req.Header.Set("X-Forwarded-For", xff)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		expect := func(res *http.Response, want int, what string) {
			t.Helper()
			if res.StatusCode != want {
				t.Errorf("%s: %d, want %d", what, res.StatusCode, want)
			}
		}
		direct := newServer(nil)
		// Good sign-ins never lock anyone.
		for i := 0; i < 25; i++ {
			expect(login(direct, "bob", testPassword, ""), 200, "repeated good sign-in")
		}
		// Five failures for alice: the fifth locks her pair for 2 s, even with the right password
		// and whatever X-Forwarded-For says (the direct peer is no trusted proxy).
		for i := 0; i < 5; i++ {
			expect(login(direct, "alice", "wrong-password-x", ""), 401, "failure")
		}
		res := login(direct, "Alice", testPassword, "198.51.100.7")
		expect(res, 429, "locked pair, right password, spoofed X-Forwarded-For")
		if res.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q, want 2", res.Header.Get("Retry-After"))
		}
		// Bob, behind the same address, is not locked.
		expect(login(direct, "bob", testPassword, ""), 200, "another account from the locked address")
		// The lock doubles with each further failure: 2 s, 4 s, 8 s.
		clk.add(2 * time.Second)
		expect(login(direct, "alice", "wrong-password-x", ""), 401, "failure after the first lock")
		clk.add(3 * time.Second)
		expect(login(direct, "alice", testPassword, ""), 429, "inside the 4 s lock")
		clk.add(time.Second)
		expect(login(direct, "alice", "wrong-password-x", ""), 401, "failure after the second lock")
		clk.add(7 * time.Second)
		expect(login(direct, "alice", testPassword, ""), 429, "inside the 8 s lock")
		clk.add(time.Second)
		// A success resets the pair: four more failures lock nothing.
		expect(login(direct, "alice", testPassword, ""), 200, "after the lock")
		for i := 0; i < 4; i++ {
			expect(login(direct, "alice", "wrong-password-x", ""), 401, "failure after a reset")
		}
		expect(login(direct, "alice", testPassword, ""), 200, "four failures after a reset")

		// Many guesses at once get no more than the free attempts: attempts are reserved before
		// the password is checked (carol's hash is slow enough for the guesses to overlap).
		slow, _ := auth.HashWith(testPassword, auth.Params{Memory: 4096, Time: 40, Threads: 1, KeyLen: 32, SaltLen: 16})
		if _, err := db.CreateUser(ctx, reclaim.User{Username: "carol", Role: reclaim.RoleAnalyst, PasswordHash: slow}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", direct.URL+"/api/v1/auth/login", strings.NewReader(`{"username":"carol","password":"wrong-password-x"}`))
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				mu.Lock()
				codes[res.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[401] > 5 || codes[401]+codes[429] != 40 {
			t.Errorf("40 concurrent guesses: %v, want at most 5 checked (401) and the rest refused (429)", codes)
		}

		// Behind a trusted proxy the client address comes from X-Forwarded-For: a lock for one
		// client address does not lock the same account from another.
		proxied := newServer([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
		for i := 0; i < 5; i++ {
			expect(login(proxied, "alice", "wrong-password-x", "203.0.113.9"), 401, "failure via proxy")
		}
		expect(login(proxied, "alice", testPassword, "203.0.113.9"), 429, "locked client via proxy")
		expect(login(proxied, "alice", testPassword, "203.0.113.9, 127.0.0.1"), 429, "locked client behind two trusted proxies")
		expect(login(proxied, "alice", testPassword, "198.51.100.7"), 200, "same account, other client via proxy")
		// A client cannot escape its lock by prepending a forged address: the proxy appends the
		// real one, and the rightmost untrusted entry counts.
		for i := 0; i < 5; i++ {
			expect(login(proxied, "bob", "wrong-password-x", "203.0.113.10"), 401, "failure via proxy")
		}
		expect(login(proxied, "bob", testPassword, "192.0.2.1, 203.0.113.10"), 429, "forged leftmost X-Forwarded-For")
	})
}

func TestClientAddr(t *testing.T) {
	proxies, err := httpapi.ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.7", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpapi.ParseTrustedProxies([]string{"not-a-cidr"}); err == nil {
		t.Error("bad CIDR accepted")
	}
	for _, tc := range []struct {
		peer, xff string
		proxies   bool
		want      string
	}{
		{"203.0.113.5:4000", "198.51.100.1", true, "203.0.113.5"}, // untrusted peer: header ignored
		{"10.1.2.3:4000", "", true, "10.1.2.3"},
		{"10.1.2.3:4000", "198.51.100.1", true, "198.51.100.1"},
		{"10.1.2.3:4000", "198.51.100.1, 10.9.9.9", true, "198.51.100.1"},
		{"10.1.2.3:4000", "6.6.6.6, 198.51.100.1", true, "198.51.100.1"},
		{"10.1.2.3:4000", "garbage, 198.51.100.1", true, "198.51.100.1"},
		{"10.1.2.3:4000", "198.51.100.1, garbage", true, "10.1.2.3"},
		{"10.1.2.3:4000", "10.4.4.4, 10.5.5.5", true, "10.4.4.4"},
		{"192.0.2.7:1", "2001:db8::1", true, "2001:db8::1"},
		{"[::1]:1", "::ffff:198.51.100.2", true, "198.51.100.2"},
		{"10.1.2.3:4000", "198.51.100.1", false, "10.1.2.3"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		p := proxies
		if !tc.proxies {
			p = nil
		}
		if got := httpapi.ClientAddr(r, p); got != tc.want {
			t.Errorf("peer %s xff %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

// FuzzClientAddr: any X-Forwarded-For yields the peer or an address the header names, never a
// panic, and never anything from an untrusted peer's header.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "a, b, c", "", ",,,", "::1, 10.0.0.1", "1.2.3.4:80", "fe80::1%eth0"} {
		f.Add(s, true)
	}
	proxies, _ := httpapi.ParseTrustedProxies([]string{"10.0.0.0/8"})
	f.Fuzz(func(t *testing.T, xff string, trustedPeer bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "203.0.113.5:1"
		if trustedPeer {
			r.RemoteAddr = "10.0.0.1:1"
		}
		r.Header.Set("X-Forwarded-For", xff)
		got := httpapi.ClientAddr(r, proxies)
		if !trustedPeer && got != "203.0.113.5" {
			t.Fatalf("untrusted peer's header believed: %q", got)
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("not an address: %q", got)
		}
	})
}

// TestPasswordPolicyOnAPI: issue 9, item 19, through the API: weak passwords and passwords holding
// the user name are refused with a field error; user names are unique regardless of case and
// sign-in accepts any case.
func TestPasswordPolicyOnAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		for _, pw := range []string{"short-pw", "password1234", "P@ssw0rd2024!", "aaaaaaaaaaaaaa", "zed-in-zed-out-1"} {
			res, b := admin.do("POST", "/api/v1/users", `{"username":"zed","display_name":"Zed","role":"analyst","password":"`+pw+`"}`)
			var e httpapi.ErrorBody
			json.Unmarshal(b, &e)
			if res.StatusCode != 400 || e.Fields["password"] == "" {
				t.Errorf("password %q: %d %s", pw, res.StatusCode, b)
			}
		}
		if res, b := admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", f.users[reclaim.RoleBidder].ID), `{"password":"qwertyuiopasdf"}`); res.StatusCode != 400 {
			t.Errorf("weak reset: %d %s", res.StatusCode, b)
		}
		if res, b := admin.do("POST", "/api/v1/users", `{"username":"ANALYST1","display_name":"A","role":"collector","password":"`+newPassword+`"}`); res.StatusCode != 409 {
			t.Errorf("ANALYST1 beside analyst1: %d %s", res.StatusCode, b)
		}
		if _, res, b := f.login("ANALYST1", testPassword); res.StatusCode != 200 || !strings.Contains(string(b), `"username":"analyst1"`) {
			t.Errorf("sign in as ANALYST1: %d %s", res.StatusCode, b)
		}
	})
}
