// Command apiload measures API latency on 127.0.0.1 against the same reads made directly on the
// database, in one run: GET /api/v1/portfolios and GET /api/v1/portfolios/{id}/header through
// the server (with a signed-in session, C concurrent clients, N requests each endpoint) versus
// sqldb.ListPortfolios and sqldb.PortfolioHeaderJSON called in-process with the same
// concurrency. It prints p50/p90/p99 and the ratio of the p99s. Loopback only, bounded in count.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"reclaim/sqldb"
)

// target is one route measured: its path, and the same read made directly on the database (nil:
// none).
type target struct {
	name   string
	http   string
	direct func() error
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server (must be on 127.0.0.1)")
	user := flag.String("user", "", "username")
	pass := flag.String("pass", "", "password")
	dsn := flag.String("dsn", "", "the server's database, for the direct comparison")
	id := flag.Int64("portfolio", 1, "portfolio id for the header")
	n := flag.Int("n", 2000, "requests per endpoint")
	c := flag.Int("c", 8, "concurrent clients")
	scale := flag.Bool("scale", false, "also the portfolio page's other routes (issue 17 item 3): the portfolio, its report and pools, "+
		"loans pages at the first, middle and last offset and by keyset, the valuation (default parameters) and one loan's valuation")
	noVal := flag.Bool("no-valuation", false, "with -scale: leave out the valuation routes (no model needed, nothing computed)")
	valTimeout := flag.Duration("valuation-timeout", 30*time.Minute, "how long the first (possibly computing) valuation request may take")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		fail("apiload targets 127.0.0.1 only")
	}
	if *n > 100000 || *c > 256 {
		fail("bounded: n <= 100000, c <= 256")
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *c}}
	res, err := hc.Post(*base+"/api/v1/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, *user, *pass)))
	if err != nil || res.StatusCode != 200 {
		fail(fmt.Sprintf("login: %v %v", err, status(res)))
	}
	res.Body.Close()
	var db *sqldb.DB
	if *dsn != "" {
		if db, err = sqldb.Open(context.Background(), *dsn, sqldb.Options{}); err != nil {
			fail(err.Error())
		}
		defer db.Close()
	}
	ctx := context.Background()
	targets := []target{
		{"portfolio list", "/api/v1/portfolios", func() error { _, err := db.ListPortfolios(ctx); return err }},
		{"portfolio header", fmt.Sprintf("/api/v1/portfolios/%d/header", *id), func() error { _, err := db.PortfolioHeaderJSON(ctx, *id); return err }},
	}
	if *scale {
		targets = append(targets, scaleTargets(ctx, hc, *base, db, *id, *valTimeout, !*noVal)...)
	}
	fmt.Printf("%-22s %-8s %9s %9s %9s %9s\n", "endpoint", "via", "p50 ms", "p90 ms", "p99 ms", "req/s")
	for _, t := range targets {
		h := run(*n, *c, func() error {
			res, err := hc.Get(*base + t.http)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				return fmt.Errorf("%s: %s", t.http, res.Status)
			}
			return nil
		})
		report(t.name, "http", h)
		if db != nil && t.direct != nil {
			d := run(*n, *c, t.direct)
			report(t.name, "direct", d)
			fmt.Printf("%-22s p99 ratio http/direct = %.2f\n", t.name, pct(h.lat, 0.99)/pct(d.lat, 0.99))
		}
	}
}

type result struct {
	lat  []time.Duration
	wall time.Duration
}

func run(n, c int, fn func() error) result {
	lat := make([]time.Duration, n)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := fn(); err != nil {
					fail(err.Error())
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	return result{lat: lat, wall: time.Since(start)}
}

func pct(l []time.Duration, p float64) float64 {
	s := slices.Clone(l)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
}

func report(name, via string, r result) {
	fmt.Printf("%-22s %-8s %9.2f %9.2f %9.2f %9.0f\n", name, via, pct(r.lat, .5), pct(r.lat, .9), pct(r.lat, .99),
		float64(len(r.lat))/r.wall.Seconds())
}

func status(r *http.Response) string {
	if r == nil {
		return ""
	}
	return r.Status
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "apiload:", msg)
	os.Exit(1)
}
