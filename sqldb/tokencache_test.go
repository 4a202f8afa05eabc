package sqldb_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// fakeClock is a settable clock for a token cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestTokenCacheRevocationBound: two app nodes (two handles on one database) that both have a
// token cached. Revoked on node 1, the token stops working on node 1 at once; node 2 trusts its
// cached answer until it next reads auth_epoch (every 250 ms, well inside the cache's TTL) and
// then refuses it too. The same for a role change and a disabled account (which revoke every
// token of the user).
func TestTokenCacheRevocationBound(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		const ttl = 30 * time.Second
		open := func() (*sqldb.DB, *fakeClock) {
			db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true, TokenCacheTTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			c := &fakeClock{t: time.Unix(1_000_000, 0)}
			sqldb.SetTokenClockForTest(db, c.Now)
			return db, c
		}
		node1, _ := open()
		node2, clock2 := open()

		cases := []struct {
			name   string
			revoke func(u reclaim.User, tokenID int64) error
		}{
			{"revoked", func(u reclaim.User, id int64) error {
				_, err := node1.RevokeToken(ctx, u.ID, id, "lost laptop")
				return err
			}},
			{"role changed", func(u reclaim.User, _ int64) error {
				u.Role = reclaim.RoleAnalyst
				_, err := node1.UpdateUser(ctx, u)
				return err
			}},
			{"disabled", func(u reclaim.User, _ int64) error { u.Disabled = true; _, err := node1.UpdateUser(ctx, u); return err }},
		}
		for _, tc := range cases {
			u, err := node1.CreateUser(ctx, reclaim.User{Username: "bidder-" + tc.name[:4], Role: reclaim.RoleBidder, PasswordHash: "x"})
			if err != nil {
				t.Fatal(err)
			}
			tok, h, err := auth.NewToken()
			if err != nil {
				t.Fatal(err)
			}
			id, err := node1.CreateToken(ctx, u.ID, "bench", h)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []*sqldb.DB{node1, node2} {
				if got, err := n.UserByToken(ctx, auth.TokenHash(tok)); err != nil || got.ID != u.ID || got.Role != reclaim.RoleBidder {
					t.Fatalf("%s: a live token: %+v %v", tc.name, got, err)
				}
			}
			if err := tc.revoke(u, id); err != nil {
				t.Fatal(err)
			}
			// The node that made the change refuses the token at once.
			if _, err := node1.UserByToken(ctx, auth.TokenHash(tok)); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
				t.Fatalf("%s: node 1 still accepts the token: %v", tc.name, err)
			}
			// The other node answered from its cache before its next read of auth_epoch (so
			// the cache is real) ...
			clock2.Add(sqldb.TokenEpochEvery - time.Millisecond)
			if got, err := node2.UserByToken(ctx, auth.TokenHash(tok)); err != nil || got.ID != u.ID {
				t.Fatalf("%s: node 2 before its epoch read: %+v %v (the cache should answer)", tc.name, got, err)
			}
			// ... and refuses it at that read, long before the TTL.
			clock2.Add(time.Millisecond)
			if _, err := node2.UserByToken(ctx, auth.TokenHash(tok)); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
				t.Fatalf("%s: node 2 accepts the token after reading auth_epoch: %v", tc.name, err)
			}
		}
		// An unknown token is never cached as known, nor a known one as unknown.
		if _, err := node2.UserByToken(ctx, auth.TokenHash("rcl_unknown")); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("unknown token: %v", err)
		}
	})
}

// TestTokenCacheOff: a negative TTL turns the cache off; a revocation on another node is then
// seen by the next request.
func TestTokenCacheOff(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var nodes [2]*sqldb.DB
		for i := range nodes {
			db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true, TokenCacheTTL: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			nodes[i] = db
		}
		u, err := nodes[0].CreateUser(ctx, reclaim.User{Username: "nocache", Role: reclaim.RoleBidder, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		tok, h, _ := auth.NewToken()
		id, err := nodes[0].CreateToken(ctx, u.ID, "t", h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].UserByToken(ctx, auth.TokenHash(tok)); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[0].RevokeToken(ctx, 0, id, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].UserByToken(ctx, auth.TokenHash(tok)); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("without a cache the revocation must be seen at once: %v", err)
		}
	})
}

// TestTokenCacheTTLSafetyNet: without any change counted in auth_epoch (here a revocation
// written straight to the table, as no code path of Reclaim does), a node still re-reads a
// cached token once the TTL has passed.
func TestTokenCacheTTLSafetyNet(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		const ttl = 2 * time.Second
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true, TokenCacheTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		clock := &fakeClock{t: time.Unix(1_000_000, 0)}
		sqldb.SetTokenClockForTest(db, clock.Now)
		u, err := db.CreateUser(ctx, reclaim.User{Username: "safety-net", Role: reclaim.RoleBidder, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		tok, h, _ := auth.NewToken()
		id, err := db.CreateToken(ctx, u.ID, "t", h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.UserByToken(ctx, auth.TokenHash(tok)); err != nil {
			t.Fatal(err)
		}
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked = ? WHERE id = ?`, true, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		clock.Add(ttl - time.Millisecond)
		if _, err := db.UserByToken(ctx, auth.TokenHash(tok)); err != nil {
			t.Fatalf("inside the TTL, with auth_epoch unmoved, the cache answers: %v", err)
		}
		clock.Add(time.Millisecond)
		if _, err := db.UserByToken(ctx, auth.TokenHash(tok)); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("after the TTL the token is read again and refused: %v", err)
		}
	})
}
