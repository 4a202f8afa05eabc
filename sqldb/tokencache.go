package sqldb

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"reclaim"
)

// DefaultTokenCacheTTL is how long a verified API token is trusted at most without asking the
// database again (Options.TokenCacheTTL): a safety net. What bounds how long a token revoked on
// another app node (or by the CLI, another process) keeps working on this one is
// tokenEpochEvery: every change that can end a token adds one to auth_epoch in its transaction,
// and each node reads that row every tokenEpochEvery and empties its cache when it moved. On the
// node that revokes a token, or changes the owner's role, password or disabled flag, it stops
// at once.
const DefaultTokenCacheTTL = 30 * time.Second

// tokenEpochEvery is how often a node reads auth_epoch (the cross-node staleness bound of the
// token cache). Before auth_epoch (migration 00031) every cached token was re-read from the
// database every 2 s: 250 queries a second for 500 bidders, whatever they did.
const tokenEpochEvery = 250 * time.Millisecond

// tokenCacheMax bounds the cache: when full, expired entries are dropped, and if none has
// expired, everything is (the next lookups go to the database).
const tokenCacheMax = 10_000

// tokenCache remembers API tokens verified against the database: the SHA-256 of the token ->
// its owner as read then, for ttl. Only live tokens of enabled users are kept (unknown, revoked
// and disabled answers always go to the database). gen guards against a lookup that read the
// database before an invalidation storing its now stale answer after it.
type tokenCache struct {
	ttl time.Duration
	now func() time.Time // monotonic clock (tests replace it)

	mu      sync.Mutex
	gen     uint64
	entries map[[32]byte]tokenEntry

	epochAt atomic.Int64 // when auth_epoch was last read (c.now(), UnixNano; 0: never)
	epochN  atomic.Int64 // its value then
}

type tokenEntry struct {
	user    reclaim.User
	expires time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	if ttl == 0 {
		ttl = DefaultTokenCacheTTL
	}
	if ttl < 0 {
		return nil
	}
	return &tokenCache{ttl: ttl, now: time.Now, entries: map[[32]byte]tokenEntry{}}
}

// get returns the cached owner of a token, and the generation to pass to put after a miss.
func (c *tokenCache) get(h [32]byte) (reclaim.User, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if ok && c.now().Before(e.expires) {
		return e.user, true, c.gen
	}
	if ok {
		delete(c.entries, h)
	}
	return reclaim.User{}, false, c.gen
}

// put stores a verified owner, unless the cache was invalidated since gen was read.
func (c *tokenCache) put(h [32]byte, u reclaim.User, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	now := c.now()
	if len(c.entries) >= tokenCacheMax {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= tokenCacheMax {
			clear(c.entries)
		}
	}
	c.entries[h] = tokenEntry{user: u, expires: now.Add(c.ttl)}
}

// invalidate forgets every cached token (a token was revoked or a user changed).
func (c *tokenCache) invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// checkEpoch reads auth_epoch when tokenEpochEvery has passed since the last read (one caller
// at a time; the others go on with the cache as it is) and empties the cache when the counter
// moved or cannot be read.
func (c *tokenCache) checkEpoch(ctx context.Context, read func(context.Context) (int64, error)) {
	now := c.clock().UnixNano()
	last := c.epochAt.Load()
	if last != 0 && now-last < int64(tokenEpochEvery) || !c.epochAt.CompareAndSwap(last, now) {
		return
	}
	n, err := read(ctx)
	if err != nil {
		c.invalidate()
		c.epochAt.Store(0) // read again next time
		return
	}
	if c.epochN.Swap(n) != n {
		c.invalidate()
	}
}

func (c *tokenCache) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}
