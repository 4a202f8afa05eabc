// Command ledgerbench measures the pool ledger on one engine: sustained durable appends per
// second (writers commit batches of entries to the outbox while the sequencer runs), the time
// from commit to sequenced (p50/p99), inclusion and consistency proof generation from the
// database, and the CPU time of a full independent audit (reclaim-verify sync of the whole log
// over HTTP on 127.0.0.1, in its own process). It prints one JSON object. bench/ledger/run.sh
// runs it on SQLite and PostgreSQL beside Tessera's POSIX driver.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
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
	"reclaim/ledger"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-wrap" {
		os.Exit(wrap(os.Args[2], os.Args[3:]))
	}
	dsn := flag.String("dsn", "", "database (default: a new SQLite file in a temporary directory)")
	n := flag.Int("n", 200000, "entries to append")
	batch := flag.Int("batch", 200, "entries per writer transaction")
	writers := flag.Int("writers", 4, "concurrent writers")
	verifier := flag.String("verifier", "", "path of the reclaim-verify binary (empty: skip the audit)")
	flag.IntVar(&paceRate, "rate", 1000, "entries/s of the paced latency phase (0: skip it)")
	flag.DurationVar(&paceFor, "pace-for", 10*time.Second, "length of the paced latency phase")
	flag.Parse()
	if err := run(*dsn, *n, *batch, *writers, *verifier); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerbench:", err)
		os.Exit(1)
	}
}

// entry is a realistic ~300-byte loan.collection entry.
func entry(pool string, i int) []byte {
	e := verify.LoanCollection{Header: verify.Header{Pool: pool, EventID: fmt.Sprintf("col-%012d", i), Effective: "2026-11-28"},
		Loan: fmt.Sprintf("L%020x", uint64(i)*2654435761), Amount: 123456, Principal: 100000, Interest: 20000, Fees: 3456,
		Channel: verify.ChannelBankTransfer, BankTxn: verify.Commit([]byte("benchmark-salt-benchmark-salt-32"), verify.TagBankTxn, fmt.Appendf(nil, "T%d", i))}
	b, err := e.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

var (
	paceRate int
	paceFor  time.Duration
)

type result struct {
	PacedRate       int     `json:"paced_rate,omitempty"`
	PacedP50ms      float64 `json:"paced_commit_to_sequenced_p50_ms,omitempty"`
	PacedP99ms      float64 `json:"paced_commit_to_sequenced_p99_ms,omitempty"`
	Engine          string  `json:"engine"`
	Entries         int     `json:"entries"`
	Batch           int     `json:"batch"`
	Writers         int     `json:"writers"`
	Seconds         float64 `json:"seconds"`
	AppendsPerS     float64 `json:"appends_per_s"`
	SequencedP50ms  float64 `json:"commit_to_sequenced_p50_ms"`
	SequencedP99ms  float64 `json:"commit_to_sequenced_p99_ms"`
	InclusionP50us  float64 `json:"inclusion_proof_p50_us"`
	InclusionP99us  float64 `json:"inclusion_proof_p99_us"`
	ConsistP99us    float64 `json:"consistency_proof_p99_us"`
	AuditWallS      float64 `json:"audit_wall_s,omitempty"`
	AuditCPUS       float64 `json:"audit_cpu_s,omitempty"`
	AuditMaxRSSMB   float64 `json:"audit_max_rss_mb,omitempty"`
	AuditedEntries  int64   `json:"audited_entries,omitempty"`
	BytesPerEntry   int     `json:"bytes_per_entry"`
	SequencerRounds int64   `json:"sequencer_rounds"`
}

func run(dsn string, n, batch, writers int, verifier string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ledgerbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: true})
	if err != nil {
		return err
	}
	defer db.Close()
	pool := fmt.Sprintf("BENCH-%d", time.Now().UnixNano())
	if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.CreateLedger(ctx, sqldb.LedgerPool{Pool: pool, Origin: "bench.example/ledger/" + pool, Name: pool, Currency: "CNY", Cutoff: date.Of(2026, 11, 1)})
	}); err != nil {
		return err
	}
	res := result{Engine: db.Dialect(), Entries: n, Batch: batch, Writers: writers, BytesPerEntry: len(entry(pool, 0))}

	// Writers and the sequencer run together; the clock stops when the last entry is sequenced.
	var next atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	errc := make(chan error, writers+1)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(int64(batch))) - batch
				if from >= n {
					return
				}
				to := min(n, from+batch)
				err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
					for i := from; i < to; i++ {
						if err := tx.Enqueue(ctx, pool, fmt.Sprintf("col-%012d", i), entry(pool, i)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	seqDone := make(chan struct{})
	go func() {
		defer close(seqDone)
		for {
			k, err := db.Sequence(ctx, pool, 4096)
			if err != nil {
				errc <- err
				return
			}
			if k > 0 {
				res.SequencerRounds++
				continue
			}
			if done.Load() {
				p, err := db.LedgerPool(ctx, pool)
				if err == nil && p.Pending == 0 {
					return
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	wg.Wait()
	done.Store(true)
	<-seqDone
	select {
	case err := <-errc:
		return err
	default:
	}
	res.Seconds = time.Since(start).Seconds()
	res.AppendsPerS = float64(n) / res.Seconds
	head, err := db.LedgerHead(ctx, pool)
	if err != nil {
		return err
	}
	if head.Size != int64(n) {
		return fmt.Errorf("sequenced %d of %d", head.Size, n)
	}

	// Commit-to-sequenced latency from the stored timestamps.
	lat, err := latencies(ctx, db, pool)
	if err != nil {
		return err
	}
	res.SequencedP50ms, res.SequencedP99ms = pct(lat, 0.50), pct(lat, 0.99)

	// Proofs from the database.
	rng := rand.New(rand.NewPCG(1, 2))
	r := db.LedgerHashes(ctx, pool)
	var inc, con []float64
	for i := 0; i < 1000; i++ {
		t0 := time.Now()
		if _, err := tlog.InclusionProof(head.Size, rng.Int64N(head.Size), r); err != nil {
			return err
		}
		inc = append(inc, float64(time.Since(t0).Microseconds()))
		t0 = time.Now()
		if _, err := tlog.ConsistencyProof(head.Size, 1+rng.Int64N(head.Size), r); err != nil {
			return err
		}
		con = append(con, float64(time.Since(t0).Microseconds()))
	}
	slices.Sort(inc)
	slices.Sort(con)
	res.InclusionP50us, res.InclusionP99us, res.ConsistP99us = pct(inc, 0.5), pct(inc, 0.99), pct(con, 0.99)

	if paceRate > 0 {
		if err := paced(ctx, db, &res); err != nil {
			return err
		}
	}
	if verifier != "" {
		if err := audit(ctx, db, dir, pool, verifier, &res); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(res)
}

func pct(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// audit publishes a checkpoint, serves the log on 127.0.0.1 and times reclaim-verify sync of the
// whole log in its own process.
func audit(ctx context.Context, db *sqldb.DB, dir, pool, verifier string, res *result) error {
	log := slog.New(slog.DiscardHandler)
	svc, err := ledger.New(db, nil, log, ledger.Config{KeyFile: filepath.Join(dir, "ledger.key"), CreateKey: true, Origin: "bench.example/ledger"})
	if err != nil {
		return err
	}
	if _, err := svc.Publish(ctx, pool); err != nil {
		return err
	}
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
	if err != nil {
		return err
	}
	broker := events.New(events.Options{})
	defer broker.Close()
	srv, err := httpapi.New(httpapi.Config{Logger: log, UploadDir: dir, Ledger: svc}, sqldb.KeyedDB{DB: db, Keys: keys}, keys, broker)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	u, err := db.CreateUser(ctx, reclaim.User{Username: "auditor-" + pool, Role: reclaim.RoleInvestor, PasswordHash: "x"})
	if err != nil {
		return err
	}
	tok, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	if _, err := db.CreateToken(ctx, u.ID, "bench", hash); err != nil {
		return err
	}
	p, err := db.LedgerPool(ctx, pool)
	if err != nil {
		return err
	}
	policy := filepath.Join(dir, "policy.txt")
	if err := os.WriteFile(policy, []byte(svc.PolicyFile(p, "http://"+ln.Addr().String())), 0o644); err != nil {
		return err
	}
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
		return err
	}
	// The verifier runs under a small wrapper process (this binary with -wrap): a child's peak
	// RSS on Linux is floored at its parent's size at fork, and this process is large.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	usage := filepath.Join(dir, "usage.json")
	cmd := exec.CommandContext(ctx, self, "-wrap", usage, verifier, "sync", "--policy", policy, "--dir", filepath.Join(dir, "mirror"), "--token-file", tokFile)
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("reclaim-verify sync: %v\n%s", err, out)
	}
	res.AuditWallS = time.Since(t0).Seconds()
	var usg struct{ CPU, RSS float64 }
	b, err := os.ReadFile(usage)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &usg); err != nil {
		return err
	}
	res.AuditCPUS, res.AuditMaxRSSMB = usg.CPU, usg.RSS
	res.AuditedEntries = p.Size
	return nil
}

// paced appends at a steady rate (batches of 10 every 10 ms at 1000/s) with the sequencer
// polling as 'reclaim serve' does, and measures commit-to-sequenced latency below saturation.
func paced(ctx context.Context, db *sqldb.DB, res *result) error {
	pool := fmt.Sprintf("PACED-%d", time.Now().UnixNano())
	if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.CreateLedger(ctx, sqldb.LedgerPool{Pool: pool, Origin: "bench.example/ledger/" + pool, Name: pool, Currency: "CNY", Cutoff: date.Of(2026, 11, 1)})
	}); err != nil {
		return err
	}
	const per = 10
	interval := time.Duration(float64(time.Second) * per / float64(paceRate))
	stop := make(chan struct{})
	seqErr := make(chan error, 1)
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				seqErr <- nil
				return
			case <-t.C:
			}
			for {
				k, err := db.Sequence(ctx, pool, 4096)
				if err != nil {
					seqErr <- err
					return
				}
				if k == 0 {
					break
				}
			}
		}
	}()
	tick := time.NewTicker(interval)
	end := time.Now().Add(paceFor)
	i := 0
	for time.Now().Before(end) {
		<-tick.C
		from := i
		i += per
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for j := from; j < from+per; j++ {
				if err := tx.Enqueue(ctx, pool, fmt.Sprintf("col-%012d", j), entry(pool, j)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	tick.Stop()
	for {
		p, err := db.LedgerPool(ctx, pool)
		if err != nil {
			return err
		}
		if p.Pending == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	if err := <-seqErr; err != nil {
		return err
	}
	lat, err := latencies(ctx, db, pool)
	if err != nil {
		return err
	}
	res.PacedRate = paceRate
	res.PacedP50ms, res.PacedP99ms = pct(lat, 0.5), pct(lat, 0.99)
	return nil
}

// wrap runs a command as its child and writes the child's CPU seconds and peak RSS (MB) to the
// file out as JSON; it returns the child's exit code.
func wrap(out string, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	st := cmd.ProcessState
	if st == nil {
		fmt.Fprintln(os.Stderr, "ledgerbench -wrap:", err)
		return 1
	}
	rss, _ := sysRSS(st)
	b, _ := json.Marshal(map[string]float64{"CPU": (st.UserTime() + st.SystemTime()).Seconds(), "RSS": rss})
	os.WriteFile(out, b, 0o644)
	return st.ExitCode()
}

// latencies returns every leaf's commit-to-sequenced time in ms, sorted.
func latencies(ctx context.Context, db *sqldb.DB, pool string) ([]float64, error) {
	var lat []float64
	for before := int64(0); ; {
		ls, err := db.LedgerLeaves(ctx, pool, before, 1000)
		if err != nil {
			return nil, err
		}
		if len(ls) == 0 {
			break
		}
		for _, l := range ls {
			lat = append(lat, float64(l.SequencedAt.Sub(l.QueuedAt).Microseconds())/1000)
		}
		before = ls[len(ls)-1].Index
		if before == 0 {
			break
		}
	}
	slices.Sort(lat)
	return lat, nil
}
