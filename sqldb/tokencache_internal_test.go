package sqldb

import (
	"testing"
	"time"

	"reclaim"
)

// TestTokenCacheGeneration: an answer read from the database before an invalidation is not
// cached after it (the lookup raced a revocation), and the cache stays bounded.
func TestTokenCacheGeneration(t *testing.T) {
	c := newTokenCache(time.Minute)
	var h [32]byte
	h[0] = 1
	_, ok, gen := c.get(h)
	if ok {
		t.Fatal("empty cache answered")
	}
	c.invalidate() // a revocation commits while the lookup reads the old row
	c.put(h, reclaim.User{ID: 7}, gen)
	if _, ok, _ := c.get(h); ok {
		t.Fatal("a lookup that began before the invalidation was cached")
	}
	_, _, gen = c.get(h)
	c.put(h, reclaim.User{ID: 7}, gen)
	if u, ok, _ := c.get(h); !ok || u.ID != 7 {
		t.Fatalf("a fresh lookup was not cached: %+v %v", u, ok)
	}
	for i := 0; i < 3*tokenCacheMax; i++ {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		_, _, g := c.get(k)
		c.put(k, reclaim.User{ID: int64(i)}, g)
		if len(c.entries) > tokenCacheMax {
			t.Fatalf("cache grew to %d entries (bound %d)", len(c.entries), tokenCacheMax)
		}
	}
	if newTokenCache(-1) != nil {
		t.Fatal("a negative TTL must turn the cache off")
	}
}
