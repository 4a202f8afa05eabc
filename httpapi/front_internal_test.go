package httpapi

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The bid route's fast path in front of the middleware makes the body limit's check itself: a
// body over MaxBodyBytes goes to the chain, which refuses it (413) before any handler.
func TestFrontBodyLimit(t *testing.T) {
	addr, tok, _, s := benchServerWith(t, Config{MaxBodyBytes: 16})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, c0 := range []struct {
		body   string
		status int
		fast   int64
	}{
		{`{"amount":"1"}`, 200, 1},               // 14 bytes: within the limit
		{`{"amount":"1000.00"}`, 413, 0},         // 20 bytes
		{`{ "amount" : "10" }`, 413, 0},          // 19 bytes
		{`{"amount":"10"}   `, 413, 0},           // 18 bytes
		{`{"amount":"12.5"}`, 413, 0},            // 17 bytes
		{`{"amount":"99.5"}`[:16] + "}", 413, 0}, // 17 bytes
	} {
		n0 := s.FastBids()
		req := "POST /api/v1/market/auctions/3/bids HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
			"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(c0.body)) + "\r\n\r\n" + c0.body
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c0.status || s.FastBids()-n0 != c0.fast {
			t.Errorf("%q: status %d, %d served fast; want %d, %d", c0.body, res.StatusCode, s.FastBids()-n0, c0.status, c0.fast)
		}
		if res.Close {
			c.Close()
			if c, err = net.Dial("tcp", addr); err != nil {
				t.Fatal(err)
			}
			r = bufio.NewReader(c)
		}
	}
}

// The shared values of the security headers are never written into: a handler that adds to
// every one of them gets its own copies.
func TestSharedHeaderValuesStayPut(t *testing.T) {
	all := append(slices.Clone(secHeaders), noStore, jsonType, varyCookie)
	want := map[string]string{}
	for _, kv := range all {
		want[kv.k] = strings.Join(kv.v, "|")
	}
	h := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range all {
			w.Header()[kv.k] = kv.v
			w.Header().Add(kv.k, "more")
		}
	}), true)
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
		if got := rec.Header().Values("Cache-Control"); !slices.Equal(got, []string{"no-store", "more"}) {
			t.Errorf("Cache-Control: %q", got)
		}
	}
	for _, kv := range all {
		if got := strings.Join(kv.v, "|"); got != want[kv.k] || len(kv.v) != 1 {
			t.Errorf("%s changed: %q", kv.k, kv.v)
		}
	}
}

// ClientAddr's shortcut for IPv4 peers returns what the full path returns.
func FuzzClientAddrPeer(f *testing.F) {
	for _, s := range []string{"127.0.0.1:5", "[::1]:80", "[::ffff:10.0.0.1]:1", "10.0.0.01:2", "garbage", "1.2.3.4", "[fe80::1%eth0]:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, remote string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		want := host
		if peer, err := netip.ParseAddr(host); err == nil {
			want = peer.Unmap().String()
		}
		if got := ClientAddr(r, nil); got != want {
			t.Fatalf("ClientAddr(%q) = %q, want %q", remote, got, want)
		}
	})
}
