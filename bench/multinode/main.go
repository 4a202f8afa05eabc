// Command multinodebench compares one app node with two on one PostgreSQL database: clients post
// collections over HTTP on 127.0.0.1 to the nodes in turn (paced at -rate posts/s, or as fast as
// -clients closed-loop clients manage with -rate 0), the leader sequences, announces and signs.
// It prints one JSON object: acknowledged collections/s and the commit-to-sequenced latency
// (p50/p99, from each entry's queued_at and sequenced_at) of the entries posted in the run.
// bench/multinode/run.sh runs the four cases; results go to docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/ingest"
	"reclaim/ledger"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/synth"
)

type result struct {
	Nodes        int     `json:"nodes"`
	Rate         int     `json:"target_rate"`
	Clients      int     `json:"clients"`
	Seconds      float64 `json:"seconds"`
	Acked        int64   `json:"acknowledged"`
	Failed       int64   `json:"failed"`
	PerSecond    float64 `json:"collections_per_s"`
	PostP99ms    float64 `json:"post_p99_ms"`
	LagP50ms     float64 `json:"commit_to_sequenced_p50_ms"`
	LagP99ms     float64 `json:"commit_to_sequenced_p99_ms"`
	Checkpoints  int     `json:"checkpoints"`
	SerialRetry  uint64  `json:"serialization_retries"`
	LeaderEpochs int64   `json:"leader_epoch"`
}

func main() {
	dsn := flag.String("dsn", os.Getenv("RECLAIM_TEST_POSTGRES_DSN"), "PostgreSQL database (a schema is created in it and dropped)")
	nodes := flag.Int("nodes", 1, "app nodes")
	rate := flag.Int("rate", 1000, "posts per second (0: saturation)")
	clients := flag.Int("clients", 32, "concurrent HTTP clients")
	dur := flag.Duration("for", 10*time.Second, "measured duration")
	flag.Parse()
	r, err := run(*dsn, *nodes, *rate, *clients, *dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "multinodebench:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func run(dsn string, nodes, rate, clients int, dur time.Duration) (*result, error) {
	ctx := context.Background()
	if dsn == "" {
		return nil, fmt.Errorf("-dsn (PostgreSQL) is required")
	}
	admin, err := sqldb.Open(ctx, dsn, sqldb.Options{MaxConns: 1})
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	var rb [5]byte
	rand.Read(rb[:])
	schema := "bench_" + hex.EncodeToString(rb[:])
	exec := func(q string) error {
		return admin.WriteTx(ctx, func(tx *sqldb.Tx) error { _, err := tx.Exec(ctx, q); return err })
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		return nil, err
	}
	defer exec("DROP SCHEMA " + schema + " CASCADE")
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn = u.String()

	dir, err := os.MkdirTemp("", "multinodebench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db0, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true, MaxConns: 4})
	if err != nil {
		return nil, err
	}
	defer db0.Close()
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
	if err != nil {
		return nil, err
	}
	tape := filepath.Join(dir, "tape.csv")
	f, err := os.Create(tape)
	if err != nil {
		return nil, err
	}
	if _, err := synth.WriteTape(ctx, synth.Config{Seed: 9, Loans: 200, PortfolioRef: "B", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed},
		f, nil, synth.TapeOptions{}, nil); err != nil {
		return nil, err
	}
	f.Close()
	rep, err := ingest.Run(ctx, db0.IngestStore(), keys, tape, ingest.Options{SellerName: "B"})
	if err != nil {
		return nil, err
	}
	pool := "BENCH" + hex.EncodeToString(rb[:])
	if _, err := db0.OpenPool(ctx, sqldb.PoolSpec{Pool: pool, Origin: "bench.example/ledger/" + pool, PortfolioID: rep.PortfolioID, Effective: date.Of(2025, 7, 1)}); err != nil {
		return nil, err
	}
	loans, _, err := db0.PoolLoans(ctx, pool, 0, 1000)
	if err != nil {
		return nil, err
	}
	user, err := db0.CreateUser(ctx, reclaim.User{Username: "bench", Role: reclaim.RoleAdmin, PasswordHash: "x"})
	if err != nil {
		return nil, err
	}
	token, hash, err := auth.NewToken()
	if err != nil {
		return nil, err
	}
	if _, err := db0.CreateToken(ctx, user.ID, "bench", hash); err != nil {
		return nil, err
	}

	log := slog.New(slog.DiscardHandler)
	var urls []string
	var svcs []*ledger.Service
	var dbs []*sqldb.DB
	var retries0 uint64
	nctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for i := 0; i < nodes; i++ {
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{MaxConns: 20})
		if err != nil {
			return nil, err
		}
		defer db.Close()
		dbs = append(dbs, db)
		broker := events.New(events.Options{Fanout: db.Fanout(log)})
		defer broker.Close()
		svc, err := ledger.New(db, broker, log, ledger.Config{KeyFile: filepath.Join(dir, "ledger.key"), CreateKey: true, Origin: "bench.example/ledger",
			Node: fmt.Sprintf("node-%d", i), StateFile: filepath.Join(dir, fmt.Sprintf("node-%d.state.json", i)), Interval: time.Second})
		if err != nil {
			return nil, err
		}
		srv, err := httpapi.New(httpapi.Config{Logger: log, UploadDir: dir, Ledger: svc}, sqldb.KeyedDB{DB: db, Keys: keys}, keys, broker)
		if err != nil {
			return nil, err
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		urls = append(urls, ts.URL)
		svcs = append(svcs, svc)
		wg.Add(1)
		go func() { defer wg.Done(); svc.Run(nctx) }()
	}
	defer func() { stop(); wg.Wait() }()
	// Wait for the boarding entries to be sequenced.
	for {
		p, err := db0.LedgerPool(ctx, pool)
		if err == nil && p.Pending == 0 && p.Size > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	start, err := db0.LedgerHead(ctx, pool)
	if err != nil {
		return nil, err
	}
	for _, db := range dbs {
		retries0 += db.TxStats().Serialization
	}

	var acked, failed atomic.Int64
	var lmu sync.Mutex
	var postLat []float64
	// Paced: a post is due every 1/rate s; a due post no client is free to take within 1 s is
	// dropped from the schedule (the achieved rate says so). Saturation: closed loop.
	tokens := make(chan struct{}, rate+1)
	end := time.Now().Add(dur)
	go func() {
		defer close(tokens)
		if rate <= 0 {
			for time.Now().Before(end) {
				tokens <- struct{}{}
			}
			return
		}
		t0 := time.Now()
		sent := 0
		for now := time.Now(); now.Before(end); now = time.Now() {
			due := int(now.Sub(t0).Seconds() * float64(rate))
			for ; sent < due; sent++ {
				select {
				case tokens <- struct{}{}:
				default: // the clients are behind: the post is dropped from the schedule
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var cw sync.WaitGroup
	var seq atomic.Int64
	t0 := time.Now()
	for c := 0; c < clients; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			hc := &http.Client{Timeout: 30 * time.Second}
			var mine []float64
			for range tokens {
				if time.Now().After(end) {
					break
				}
				i := seq.Add(1)
				body, _ := json.Marshal(map[string]string{"loan": loans[int(i)%len(loans)].Ref, "amount": "1.00", "channel": "online",
					"txn_id": fmt.Sprintf("BT-%d", i), "effective": "2025-08-01"})
				req, _ := http.NewRequest("POST", urls[int(i)%len(urls)]+"/api/v1/pools/"+pool+"/collections", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				s := time.Now()
				res, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(s).Seconds()*1000)
				acked.Add(1)
			}
			lmu.Lock()
			postLat = append(postLat, mine...)
			lmu.Unlock()
		}()
	}
	cw.Wait()
	elapsed := time.Since(t0)
	// Let the sequencer catch up, then read every posted entry's lag.
	for {
		p, err := db0.LedgerPool(ctx, pool)
		if err == nil && p.Pending == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var lags []float64
	err = db0.ReadTx(ctx, func(tx *sqldb.Tx) error {
		rows, err := tx.Query(ctx, `SELECT EXTRACT(EPOCH FROM sequenced_at - queued_at) * 1000 FROM ledger_leaves WHERE pool = ? AND idx >= ?`, pool, start.Size)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ms float64
			if err := rows.Scan(&ms); err != nil {
				return err
			}
			lags = append(lags, ms)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	var cps int
	admin.ReadTx(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+schema+`.ledger_checkpoints WHERE pool = ?`, pool).Scan(&cps)
	})
	var retries uint64
	for _, db := range dbs {
		retries += db.TxStats().Serialization
	}
	var epoch int64
	for _, s := range svcs {
		if role, _, e := s.Leadership(); role == "leader" {
			epoch = e
		}
	}
	return &result{Nodes: nodes, Rate: rate, Clients: clients, Seconds: elapsed.Seconds(), Acked: acked.Load(), Failed: failed.Load(),
		PerSecond: float64(acked.Load()) / elapsed.Seconds(), PostP99ms: pct(postLat, 99), LagP50ms: pct(lags, 50), LagP99ms: pct(lags, 99),
		Checkpoints: cps, SerialRetry: retries - retries0, LeaderEpochs: epoch}, nil
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}
