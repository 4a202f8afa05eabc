package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// loginGuard slows down password guessing per (account, client address) pair: the first free
// failures of a pair cost nothing, each further failure locks the pair for twice as long as the
// one before (base, 2*base, ... up to max), and a success clears the pair. Only failures count,
// so signing in often never locks anyone, and one address (a proxy, a NAT) failing for one
// account does not lock the other accounts behind it, nor the account from other addresses.
type loginGuard struct {
	mu     sync.Mutex
	free   int
	base   time.Duration
	max    time.Duration
	forget time.Duration // a pair without failures for this long starts afresh
	now    func() time.Time
	pairs  map[string]*failures
}

type failures struct {
	n       int       // consecutive failures
	pending int       // attempts being checked right now
	last    time.Time // of the last failure
	until   time.Time // locked until
}

// maxPairs bounds the guard's memory; beyond it the oldest unlocked pairs are forgotten first.
const maxPairs = 100_000

func newLoginGuard(free int, now func() time.Time) *loginGuard {
	return &loginGuard{free: free, base: 2 * time.Second, max: 15 * time.Minute, forget: 24 * time.Hour, now: now,
		pairs: map[string]*failures{}}
}

func pairKey(username, addr string) string {
	return strings.ToLower(strings.TrimSpace(username)) + "\x00" + addr
}

// begin reserves an attempt for the pair, or reports how long to wait. Reservations bound the
// attempts in flight, so that many concurrent requests cannot all be checked before the first
// failures are counted: at most the free failures left (at least one) run at once.
func (g *loginGuard) begin(key string) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f := g.pairs[key]
	if f == nil {
		if len(g.pairs) >= maxPairs {
			g.sweep(now)
		}
		f = &failures{}
		g.pairs[key] = f
	}
	if now.Before(f.until) {
		return false, f.until.Sub(now)
	}
	if f.pending >= max(1, g.free-f.n) {
		return false, time.Second
	}
	f.pending++
	return true, 0
}

// outcome is how a reserved attempt ended.
type outcome int

const (
	attemptAborted outcome = iota // no answer about the password (a database error): not counted
	attemptFailed
	attemptPassed
)

// end records the outcome of an attempt reserved by begin and returns how long a failure locked
// the pair (0: not locked). A success clears the pair.
func (g *loginGuard) end(key string, o outcome) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f := g.pairs[key]
	if f == nil {
		f = &failures{pending: 1}
		g.pairs[key] = f
	}
	f.pending = max(0, f.pending-1)
	if o == attemptAborted {
		return 0
	}
	if o == attemptPassed {
		f.n, f.until = 0, time.Time{}
		if f.pending == 0 {
			delete(g.pairs, key)
		}
		return 0
	}
	if now.Sub(f.last) > g.forget {
		f.n = 0
	}
	f.n++
	f.last = now
	if f.n < g.free {
		return 0
	}
	lock := g.max
	if shift := f.n - g.free; shift < 30 {
		lock = min(g.base<<shift, g.max)
	}
	f.until = now.Add(lock)
	return lock
}

func (g *loginGuard) sweep(now time.Time) {
	for k, f := range g.pairs {
		if f.pending == 0 && (now.Sub(f.last) > g.forget || (!now.Before(f.until) && f.n < g.free)) {
			delete(g.pairs, k)
		}
	}
	for k, f := range g.pairs { // still full: forget unlocked pairs, then anything
		if len(g.pairs) < maxPairs*9/10 {
			return
		}
		if f.pending == 0 && !now.Before(f.until) {
			delete(g.pairs, k)
		}
	}
	for k := range g.pairs {
		if len(g.pairs) < maxPairs*9/10 {
			return
		}
		delete(g.pairs, k)
	}
}

// ParseTrustedProxies parses CIDRs or single addresses ("10.0.0.0/8", "192.0.2.7", "::1").
func ParseTrustedProxies(specs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the client address of a request: the direct peer, unless the peer is a
// trusted proxy; then X-Forwarded-For is read from the right, skipping trusted proxies, and the
// first address that is not one is the client. A malformed entry stops the walk at the proxy that
// appended it (the entries left of it are the client's to forge). Without trusted proxies
// X-Forwarded-For is ignored: any client can write it.
func ClientAddr(r *http.Request, proxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if len(proxies) == 0 && peer.Is4() {
		return host // what peer.String() would return (ParseAddr takes only the canonical form of IPv4), without a copy
	}
	peer = peer.Unmap()
	if len(proxies) == 0 || !trusted(peer, proxies) {
		return peer.String()
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return client.String()
			}
			client = a.Unmap()
			if !trusted(client, proxies) {
				return client.String()
			}
		}
	}
	return client.String()
}
