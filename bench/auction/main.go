// Command auction is the marketplace's load and fault test (docs/benchmarks.md, "Auction
// marketplace"): it prepares a database (an admin, N bidder organisations, each approved,
// credited, registered for one of M English auctions with its deposit frozen), starts
// 'reclaim serve' on 127.0.0.1, and runs N simulated bidders for a bounded time, each with an
// SSE subscription to its auction, bidding over the API with idempotency keys (from the freshest
// price it has, the stream's or its last receipt's, plus k increments; while it holds the highest
// bid it waits to be outbid, unless -self-outbid). It reports
// accepted bids/s and the p50/p99 bid latency, then reconciles every acknowledgement against
// the stored history (none lost, none duplicated) and checks every auction's final state
// against a replay of its stored history (auction.Restore) and against the server's answer.
//
// With -kill-after it SIGKILLs the server during the load, restarts it, and carries on: every
// acknowledged bid must survive and the auctions resume with their stored end times.
//
//	go build -o /tmp/reclaim ./cmd/reclaim
//	go run ./bench/auction -bin /tmp/reclaim -duration 60s                 # SQLite
//	go run ./bench/auction -bin /tmp/reclaim -dsn postgres://...           # PostgreSQL
//	go run ./bench/auction -bin /tmp/reclaim -duration 20s -kill-after 8s  # fault test
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/market"
	"reclaim/money"
	"reclaim/sqldb"
)

type config struct {
	bin, dsn, dir       string
	bidders, auctions   int
	duration, killAfter time.Duration
	maxStep             int
	keepData, verbose   bool
	selfOutbid          bool
	serverArgs          string
	cpuProfile          string
	client              string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "", "the reclaim binary to serve (required)")
	flag.StringVar(&c.dsn, "dsn", "", "database (default: SQLite in the work directory); a PostgreSQL DSN gets a fresh schema")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary one)")
	flag.IntVar(&c.bidders, "bidders", 500, "simulated bidders (each its own organisation)")
	flag.IntVar(&c.auctions, "auctions", 20, "auctions (bidder i bids on auction i mod auctions)")
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "how long the bidders bid (at most 10m)")
	flag.DurationVar(&c.killAfter, "kill-after", 0, "SIGKILL the server this long into the load, then restart it (fault test)")
	flag.IntVar(&c.maxStep, "max-step", 20, "a bid is the price + k increments, k random in [1, max-step]")
	flag.BoolVar(&c.selfOutbid, "self-outbid", false, "bid while holding the highest bid too (the load generator before 2026-12-06 evening; real bidders wait to be outbid)")
	flag.BoolVar(&c.keepData, "keep", false, "keep the work directory")
	flag.BoolVar(&c.verbose, "v", false, "print the server's log")
	flag.StringVar(&c.serverArgs, "server-args", "", "more global flags for the server (space-separated, e.g. --cpuprofile=/tmp/cpu.out)")
	flag.StringVar(&c.client, "client", "raw", "the generator's HTTP client: raw (persistent connections, hand-written HTTP/1.1; bench/auction/rawhttp.go) or nethttp (net/http's client, the generator before 2026-12-07)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile (the load only) to this file")
	flag.Parse()
	if c.client != "raw" && c.client != "nethttp" {
		log.Fatal("-client is raw or nethttp")
	}
	if c.bin == "" {
		log.Fatal("-bin is required (go build -o /tmp/reclaim ./cmd/reclaim)")
	}
	c.duration = min(c.duration, 10*time.Minute)
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// bidder is one simulated bidder.
type bidder struct {
	i       int
	token   string
	auction int64
}

type ack struct {
	auction int64
	seq     int64
	key     string
	amount  money.Amount
	ok      bool
	at      time.Time
}

func run(c config) error {
	ctx := context.Background()
	if c.dir == "" {
		d, err := os.MkdirTemp("", "reclaim-auction-bench-")
		if err != nil {
			return err
		}
		c.dir = d
	}
	if !c.keepData {
		defer os.RemoveAll(c.dir)
	}
	dsn := c.dsn
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(c.dir, "reclaim.db")
	} else if strings.HasPrefix(dsn, "postgres") {
		var err error
		var schema string
		if dsn, schema, err = freshSchema(ctx, dsn); err != nil {
			return err
		}
		if !c.keepData {
			base := c.dsn
			defer func() {
				if db, err := sqldb.Open(ctx, base, sqldb.Options{MaxConns: 1}); err == nil {
					db.WriteTx(ctx, func(tx *sqldb.Tx) error { _, err := tx.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); return err })
					db.Close()
				}
			}()
		}
	}
	engine := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		engine = "postgres"
	}
	fmt.Printf("== auction load: %s, %d bidders on %d auctions, %s, client %s", engine, c.bidders, c.auctions, c.duration, c.client)
	if c.killAfter > 0 {
		fmt.Printf(", SIGKILL at %s", c.killAfter)
	}
	fmt.Println()
	bidders, auctions, err := prepare(ctx, c, dsn)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	srv, err := startServer(c, dsn)
	if err != nil {
		return err
	}
	defer func() { srv.stop() }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * c.bidders, MaxIdleConnsPerHost: 4 * c.bidders,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}, Timeout: 30 * time.Second}
	stream := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * c.bidders}}

	// own is each bidder's acknowledgements, latencies and refusals during the load.
	type records struct {
		acks     []ack
		lat      []time.Duration
		refusals map[string]int
	}
	own := make([]records, len(bidders))
	var (
		acks      []ack
		lat       []time.Duration
		errs      atomic.Int64
		sseEvents atomic.Int64
		prices    = make([]atomic.Int64, c.auctions)
		moved     = make([]priceSignal, c.auctions) // closed when an auction's price moves
		refusals  = map[string]int{}                // refused bids by rule
		waits     atomic.Int64                      // times a leading bidder waited to be outbid
	)
	for i := range moved {
		moved[i].ch = make(chan struct{})
	}
	raise := func(i int, minor int64) {
		p := &prices[i]
		for {
			cur := p.Load()
			if minor <= cur {
				return
			}
			if p.CompareAndSwap(cur, minor) {
				moved[i].signal()
				return
			}
		}
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	cpu0, gen0 := srv.cpuTime(), selfCPU()
	m0 := scrapeMetrics(srv.url())
	b0, r0 := m0["reclaim_market_batches_total"], m0["reclaim_market_records_total"]
	start := time.Now()
	deadline := start.Add(c.duration)
	runCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	for _, b := range bidders {
		// The SSE subscription: keeps the bidder's view of its auction's price current.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				onEvent := func(minor int64) {
					sseEvents.Add(1)
					raise(b.i%c.auctions, minor)
				}
				if c.client == "raw" {
					rawSubscribe(runCtx, srv.addr, b, onEvent)
				} else {
					subscribe(runCtx, stream, srv.url(), b, onEvent)
				}
				sleep(runCtx, 200*time.Millisecond)
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(b.i), 7))
			p := &prices[b.i%c.auctions]
			inc := int64(1_000_00)
			var mine int64 // the amount of this bidder's last accepted bid
			conn := &rawConn{addr: srv.addr}
			defer conn.close()
			for n := 0; runCtx.Err() == nil; n++ {
				if !c.selfOutbid {
					// A real bidder holding the highest bid waits to be outbid (the SSE stream
					// says when) instead of raising its own bid.
					for w := moved[b.i%c.auctions].wait(); mine != 0 && p.Load() == mine && runCtx.Err() == nil; w = moved[b.i%c.auctions].wait() {
						waits.Add(1)
						select {
						case <-w:
						case <-runCtx.Done():
						case <-time.After(2 * time.Second):
						}
					}
					if runCtx.Err() != nil {
						break
					}
				}
				cur := p.Load()
				amount := cur + inc*int64(1+rng.IntN(c.maxStep))
				if cur == 0 {
					amount = 1_000_000_00 + inc*int64(rng.IntN(c.maxStep))
				}
				key := "b" + strconv.Itoa(b.i) + "-" + strconv.Itoa(n)
				for attempt := 0; runCtx.Err() == nil; attempt++ {
					t0 := time.Now()
					var rc receipt
					var status int
					var err error
					if c.client == "raw" {
						rc, status, err = rawBid(runCtx, conn, b, amount, key)
					} else {
						rc, status, err = placeBid(runCtx, client, srv.url(), b, amount, key)
					}
					if err != nil || status != 200 {
						if runCtx.Err() != nil {
							break
						}
						if n := errs.Add(1); n <= 5 && c.verbose {
							log.Printf("bid failed (status %d): %v", status, err)
						}
						sleep(runCtx, time.Duration(50+rng.IntN(200))*time.Millisecond) // the server is restarting or busy: same key again
						continue
					}
					d := time.Since(t0)
					// This bidder's own records (merged after the load): no lock shared by 500
					// bidders, and no copying of one ever-growing slice while holding it.
					rec := &own[b.i]
					rec.acks = append(rec.acks, ack{auction: b.auction, seq: rc.Seq, key: key, amount: money.New(amount, money.CNY), ok: rc.Accepted, at: time.Now()})
					rec.lat = append(rec.lat, d)
					if !rc.Accepted {
						if rec.refusals == nil {
							rec.refusals = map[string]int{}
						}
						rec.refusals[rc.Rule]++
					}
					if rc.Accepted {
						mine = amount
					}
					if !rc.Price.IsAbsent() {
						raise(b.i%c.auctions, rc.Price.Minor())
					}
					break
				}
			}
		}()
	}
	var restarted atomic.Int64
	if c.killAfter > 0 {
		go func() {
			sleep(runCtx, c.killAfter)
			if runCtx.Err() != nil {
				return
			}
			fmt.Printf("   SIGKILL server at %s\n", time.Since(start).Round(time.Millisecond))
			srv.kill()
			sleep(ctx, time.Second)
			if err := srv.restart(); err != nil {
				log.Printf("restart: %v", err)
				return
			}
			restarted.Store(time.Now().UnixNano())
			fmt.Printf("   server restarted at %s\n", time.Since(start).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	cpu, gen := srv.cpuTime()-cpu0, selfCPU()-gen0
	for _, o := range own {
		acks = append(acks, o.acks...)
		lat = append(lat, o.lat...)
		for r, n := range o.refusals {
			refusals[r] += n
		}
	}

	accepted := 0
	for _, a := range acks {
		if a.ok {
			accepted++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("   bids acknowledged: %d (%.0f/s), accepted: %d (%.0f/s); latency p50 %s, p99 %s, max %s; failed requests retried: %d; SSE events received: %d\n",
		len(acks), float64(len(acks))/elapsed.Seconds(), accepted, float64(accepted)/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(time.Millisecond), errs.Load(), sseEvents.Load())
	if len(refusals) > 0 || waits.Load() > 0 {
		fmt.Printf("   refused by rule: %v; a leading bidder waited to be outbid %d times (-self-outbid=%v)\n", refusals, waits.Load(), c.selfOutbid)
	}
	if len(acks) > 0 && accepted > 0 {
		fmt.Printf("   server CPU per accepted bid: %s\n", (cpu / time.Duration(accepted)).Round(time.Microsecond))
	}
	if len(acks) > 0 {
		fmt.Printf("   server CPU: %s in %s (%.2f cores), %s per acknowledged bid (SSE fan-out included)\n", cpu.Round(10*time.Millisecond),
			elapsed.Round(time.Millisecond), cpu.Seconds()/elapsed.Seconds(), (cpu / time.Duration(len(acks))).Round(time.Microsecond))
	}
	if len(acks) > 0 {
		fmt.Printf("   load generator CPU: %s (%.2f cores), %s per acknowledged bid\n", gen.Round(10*time.Millisecond),
			gen.Seconds()/elapsed.Seconds(), (gen / time.Duration(len(acks))).Round(time.Microsecond))
	}
	m1 := scrapeMetrics(srv.url())
	if b1, r1 := m1["reclaim_market_batches_total"], m1["reclaim_market_records_total"]; restarted.Load() == 0 && b1 > b0 {
		fmt.Printf("   group commit: %.0f records in %.0f transactions (%.1f per transaction)\n", r1-r0, b1-b0, (r1-r0)/(b1-b0))
		fmt.Printf("   tail: %s\n", tail(m0, m1, lat))
	}
	if r := restarted.Load(); r > 0 {
		after, afterOK := 0, 0
		for _, a := range acks {
			if a.at.UnixNano() > r {
				after++
				if a.ok {
					afterOK++
				}
			}
		}
		fmt.Printf("   after the restart: %d bids acknowledged, %d accepted (the auctions resumed)\n", after, afterOK)
		if afterOK == 0 {
			return errors.New("FAILED: no bid was accepted after the restart")
		}
	}
	// Requests cut off by the deadline may still be in the server's batcher: their records
	// commit (or fail) within a batch; let them settle before comparing.
	time.Sleep(time.Second)
	return verify(ctx, srv, dsn, auctions, bidders, acks)
}

// selfCPU returns the CPU time (user + system) this process (the load generator) used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// priceSignal broadcasts "the price moved": wait returns a channel closed at the next move.
type priceSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *priceSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *priceSignal) signal() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}

// scrapeMetrics reads the server's /metrics: sample (name and labels as written) -> value.
func scrapeMetrics(base string) map[string]float64 {
	out := map[string]float64{}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// tail compares where the bid latency goes: the share of bids answered within 50, 100 and
// 250 ms as the server's handler measured them (reclaim_http_request_duration_seconds of the
// bid route, from its entry to its return: apply, the batcher's queue and commit, the answer
// written to the socket's buffer) and as the generator measured them (request written to answer
// read: adds the socket, the server's and the generator's scheduling); and the server's GC.
func tail(before, after map[string]float64, lat []time.Duration) string {
	les := []string{"0.05", "0.1", "0.25"}
	var srv [3]float64
	var total float64
	for k, v := range after {
		if !strings.HasPrefix(k, "reclaim_http_request_duration_seconds_") || !strings.Contains(k, "/bids") {
			continue
		}
		d := v - before[k]
		if strings.HasPrefix(k, "reclaim_http_request_duration_seconds_count") {
			total += d
		}
		for i, le := range les {
			if strings.HasPrefix(k, "reclaim_http_request_duration_seconds_bucket") && strings.Contains(k, `le="`+le+`"`) {
				srv[i] += d
			}
		}
	}
	var cli [3]int
	for _, d := range lat {
		for i, lim := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond} {
			if d <= lim {
				cli[i]++
			}
		}
	}
	pc := func(a, b float64) string {
		if b == 0 {
			return "?"
		}
		return strconv.FormatFloat(100*a/b, 'f', 1, 64) + "%"
	}
	n := float64(len(lat))
	gcs := after["go_gc_duration_seconds_count"] - before["go_gc_duration_seconds_count"]
	pause := after["go_gc_duration_seconds_sum"] - before["go_gc_duration_seconds_sum"]
	return fmt.Sprintf("bids answered within 50 / 100 / 250 ms: server handler %s / %s / %s of %.0f, generator %s / %s / %s; server GC: %.0f cycles, %.1f ms of pauses in all, longest recent pause %.2f ms",
		pc(srv[0], total), pc(srv[1], total), pc(srv[2], total), total, pc(float64(cli[0]), n), pc(float64(cli[1]), n), pc(float64(cli[2]), n),
		gcs, 1000*pause, 1000*after[`go_gc_duration_seconds{quantile="1"}`])
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// freshSchema creates a schema for this run and returns a DSN using it.
func freshSchema(ctx context.Context, base string) (string, string, error) {
	db, err := sqldb.Open(ctx, base, sqldb.Options{MaxConns: 1})
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	schema := fmt.Sprintf("bench_auction_%d", time.Now().UnixNano())
	if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, "CREATE SCHEMA "+schema)
		return err
	}); err != nil {
		return "", "", err
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, schema, nil
}

// prepare stores the accounts, organisations and auctions, and freezes every deposit, before
// the server starts (so that it restores every auction from the database). Each auction ends 3
// minutes from now under the marketplace pack, whose anti-sniping window is 3 minutes: every
// accepted bid moves its end, so the end times the fault test checks keep changing.
func prepare(ctx context.Context, c config, dsn string) ([]bidder, []int64, error) {
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true})
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	m := db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
	defer m.Close()
	hash, err := auth.HashWith("Bench-Harbour-Lemon-7319", auth.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16})
	if err != nil {
		return nil, nil, err
	}
	adminU, err := db.CreateUser(reclaim.WithActor(ctx, "bench"), reclaim.User{Username: "bench-admin", Role: reclaim.RoleAdmin, PasswordHash: hash})
	if err != nil {
		return nil, nil, err
	}
	admin := reclaim.WithUser(ctx, &adminU)
	now := time.Now().UTC()
	var ids []int64
	for i := 0; i < c.auctions; i++ {
		a, err := m.CreateAuction(admin, market.ListingSpec{Title: fmt.Sprintf("Bench lot %d", i+1), Pack: "marketplace", Format: "english", Kind: "movable",
			StartPrice: money.New(1_000_000_00, money.CNY), Increment: money.New(1_000_00, money.CNY), Deposit: money.New(50_000_00, money.CNY),
			NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(-time.Hour), End: now.Add(3 * time.Minute)})
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, a.ID)
	}
	bidders := make([]bidder, c.bidders)
	for i := range bidders {
		u, err := db.CreateUser(reclaim.WithActor(ctx, "bench"), reclaim.User{Username: fmt.Sprintf("bench-bidder-%d", i), Role: reclaim.RoleBidder, PasswordHash: hash})
		if err != nil {
			return nil, nil, err
		}
		tok, th, err := auth.NewToken()
		if err != nil {
			return nil, nil, err
		}
		if _, err := db.CreateToken(ctx, u.ID, "bench", th); err != nil {
			return nil, nil, err
		}
		uctx := reclaim.WithUser(ctx, &u)
		o, err := m.RegisterOrg(uctx, market.OrgSpec{Name: fmt.Sprintf("Bench AMC %d", i), LicenceType: "amc_local"})
		if err != nil {
			return nil, nil, err
		}
		if _, err := m.DecideOrg(admin, o.ID, true, ""); err != nil {
			return nil, nil, err
		}
		if _, err := m.CreditDeposit(admin, o.ID, money.New(100_000_00, money.CNY), "bench"); err != nil {
			return nil, nil, err
		}
		aid := ids[i%c.auctions]
		if err := m.Register(uctx, aid); err != nil {
			return nil, nil, err
		}
		if rc, err := m.FreezeDeposit(uctx, aid); err != nil || !rc.Accepted {
			return nil, nil, fmt.Errorf("deposit: %+v %v", rc, err)
		}
		bidders[i] = bidder{i: i, token: tok, auction: aid}
	}
	return bidders, ids, nil
}

// server is the 'reclaim serve' process under test.
type server struct {
	c    config
	dsn  string
	addr string
	cmd  *exec.Cmd
	mu   sync.Mutex
	cpu  time.Duration // CPU time of the server processes that have ended
}

// cpuTime returns the CPU time (user + system) the server processes used so far.
func (s *server) cpuTime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := s.cpu
	if s.cmd != nil && s.cmd.ProcessState == nil {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
		if err == nil {
			f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				k, _ := strconv.ParseInt(f[12], 10, 64)
				total += time.Duration(u+k) * 10 * time.Millisecond // USER_HZ = 100
			}
		}
	}
	return total
}

func (s *server) url() string { return "http://" + s.addr }

func startServer(c config, dsn string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{c: c, dsn: dsn, addr: addr}
	return s, s.restart()
}

func (s *server) restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := append(strings.Fields(s.c.serverArgs), "--data-dir", s.c.dir, "--dsn", s.dsn, "serve", "--addr", s.addr, "--log-level", "error")
	cmd := exec.Command(s.c.bin, args...)
	key := make([]byte, 32)
	cmd.Env = append(os.Environ(), "RECLAIM_PII_KEY="+base64.StdEncoding.EncodeToString(key))
	if s.c.verbose {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	for i := 0; i < 300; i++ {
		res, err := http.Get(s.url() + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the server did not become ready")
}

func (s *server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	s.cpu += s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
}

func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
	}
}

// receipt is the part of a bid's answer (market.BidReceipt) the generator uses.
type receipt struct {
	Seq      int64        `json:"seq"`
	Accepted bool         `json:"accepted"`
	Rule     string       `json:"rule"`
	Price    money.Amount `json:"price"`
}

func placeBid(ctx context.Context, c *http.Client, base string, b bidder, amount int64, key string) (receipt, int, error) {
	body := `{"amount":"` + money.New(amount, money.CNY).String() + `"}`
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/market/auctions/"+strconv.FormatInt(b.auction, 10)+"/bids", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := c.Do(req)
	if err != nil {
		return receipt{}, 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return receipt{}, 0, err
	}
	var rc receipt
	if res.StatusCode == 200 {
		if err := json.Unmarshal(data, &rc); err != nil {
			return rc, 0, err
		}
	}
	return rc, res.StatusCode, nil
}

// subscribe follows the auction's stream and calls fn with the amount of every accepted bid
// ("event" records carrying an amount); it reads only that field of each record.
func subscribe(ctx context.Context, c *http.Client, base string, b bidder, fn func(minor int64)) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream?topic=auction."+strconv.FormatInt(b.auction, 10), nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	res, err := c.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return
	}
	readSSE(res.Body, fn)
}

// amountOf reads the "amount" of a market.Event's JSON (a decimal string, as the API writes
// amounts) without decoding the rest; ok is false when it is absent (null) or unreadable.
func amountOf(data []byte) (int64, bool) {
	_, rest, found := bytes.Cut(data, []byte(`"amount":"`))
	if !found {
		return 0, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return 0, false
	}
	return parseMinor(rest[:end])
}

// parseMinor reads a CNY amount as the server writes it ("1234.56": digits, a point, two
// decimals) into minor units without a string; anything else goes to money.Parse.
func parseMinor(b []byte) (int64, bool) {
	if n := len(b); n >= 4 && n <= 18 && b[n-3] == '.' {
		var v int64
		for i, c := range b {
			if i == n-3 {
				continue
			}
			if c < '0' || c > '9' {
				v = -1
				break
			}
			v = v*10 + int64(c-'0')
		}
		if v >= 0 {
			return v, true
		}
	}
	a, err := money.Parse(string(b), money.CNY)
	if err != nil {
		return 0, false
	}
	return a.Minor(), true
}

// verify reconciles the acknowledgements with the stored history and checks each auction's
// state against a replay of its stored history and the server's answer.
func verify(ctx context.Context, srv *server, dsn string, auctions []int64, bidders []bidder, acks []ack) error {
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	type row struct {
		key      string
		amount   int64
		accepted bool
	}
	stored := map[[2]int64]row{}
	keys := map[string]int{}
	err = db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		rows, err := tx.Query(ctx, `SELECT auction_id, seq, COALESCE(idem_key, ''), COALESCE(amount_minor, 0), accepted FROM market_events`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a, s int64
			var r row
			var acc any
			if err := rows.Scan(&a, &s, &r.key, &r.amount, &acc); err != nil {
				return err
			}
			switch v := acc.(type) {
			case bool:
				r.accepted = v
			case int64:
				r.accepted = v != 0
			}
			stored[[2]int64{a, s}] = r
			if r.key != "" {
				keys[fmt.Sprint(a, "/", r.key)]++
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	lost, mismatched, dup := 0, 0, 0
	for _, a := range acks {
		r, ok := stored[[2]int64{a.auction, a.seq}]
		switch {
		case !ok:
			lost++
		case r.key != a.key || r.amount != a.amount.Minor() || r.accepted != a.ok:
			mismatched++
		}
	}
	for _, n := range keys {
		if n > 1 {
			dup++
		}
	}
	fmt.Printf("   reconcile: %d acknowledgements, %d stored events; lost %d, mismatched %d, duplicated keys %d\n", len(acks), len(stored), lost, mismatched, dup)

	m := db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
	defer m.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	byAuction := map[int64]bidder{}
	for _, b := range bidders {
		byAuction[b.auction] = b
	}
	bad := 0
	for _, id := range auctions {
		eng, err := m.RestoreAuction(ctx, id) // fails if a stored answer differs from the replay's
		if err != nil {
			fmt.Printf("   auction %d: replay of the stored history failed: %v\n", id, err)
			bad++
			continue
		}
		st := eng.State()
		a, err := m.Auction(ctx, id)
		if err != nil {
			return err
		}
		if !a.End.Equal(st.End) {
			fmt.Printf("   auction %d: stored end %s, replay's %s\n", id, a.End, st.End)
			bad++
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/market/auctions/%d", srv.url(), id), nil)
		req.Header.Set("Authorization", "Bearer "+byAuction[id].token)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		var view market.State
		json.NewDecoder(res.Body).Decode(&view)
		res.Body.Close()
		price, leader := eng.Standing()
		if !view.View.End.Equal(st.End) || view.View.Price != price || view.View.Leader != leader || view.Auction.Seq != int64(st.Events) {
			fmt.Printf("   auction %d: server says end %s price %s leader %s seq %d; replay says end %s price %s leader %s events %d\n",
				id, view.View.End, view.View.Price, view.View.Leader, view.Auction.Seq, st.End, price, leader, st.Events)
			bad++
		}
	}
	fmt.Printf("   replay: %d of %d auctions' final states equal the replay of their stored history\n", len(auctions)-bad, len(auctions))
	if lost+mismatched+dup+bad > 0 {
		return fmt.Errorf("FAILED: lost %d, mismatched %d, duplicated %d, auctions differing from their replay %d", lost, mismatched, dup, bad)
	}
	fmt.Println("   OK")
	return nil
}
