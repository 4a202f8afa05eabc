// Command posixbench measures Tessera v1.0.4's POSIX driver as a peer figure
// for Reclaim's sequencer: it appends N deterministic entries of S bytes to a
// fresh log in a temporary directory, with Tessera's normal durable writes
// (every file written O_SYNC to a temp name, renamed, parent directory
// fsynced) and checkpoint publishing, and prints one JSON line:
//
//	{"entries":N,"seconds":...,"appends_per_s":...,"p99_ms":...,"batch":...,...}
//
// seconds runs from the first Add to the moment every future has resolved AND
// a published checkpoint covers all N entries. p99_ms is the 99th percentile
// of Add-to-index-assigned latency (the time from just before NewEntry+Add to
// the entry's future resolving; with the POSIX driver a resolved future means
// the entry is sequenced, its bundle and the tiles are written and the tree
// state is updated, but not that a checkpoint is published yet).
//
// One goroutine calls Add in a loop, as fast as Tessera accepts entries (Add
// blocks once one batch is being integrated and another is queued), and a
// second goroutine resolves the futures in order.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"reclaim.example/interop/tessera/internal/audit"
	"reclaim.example/interop/tessera/internal/gen"
	"reclaim.example/interop/tessera/internal/plog"
)

type report struct {
	Entries     uint64  `json:"entries"`
	Seconds     float64 `json:"seconds"`
	AppendsPerS float64 `json:"appends_per_s"`
	P99ms       float64 `json:"p99_ms"`
	Batch       uint    `json:"batch"`

	EntryBytes           int     `json:"entry_bytes"`
	BatchMaxAgeMs        float64 `json:"batch_max_age_ms"`
	CheckpointIntervalMs float64 `json:"checkpoint_interval_ms"`
	IntegratedSeconds    float64 `json:"integrated_seconds"`
	P50ms                float64 `json:"p50_ms"`
	P999ms               float64 `json:"p999_ms"`
	P99FullBatchesMs     float64 `json:"p99_full_batches_ms"`
	MaxMs                float64 `json:"max_ms"`
	AuditSeconds         float64 `json:"audit_seconds,omitempty"`
	AuditBundles         uint64  `json:"audit_bundles,omitempty"`
	AuditMiBPerS         float64 `json:"audit_mib_per_s,omitempty"`
	Dir                  string  `json:"dir,omitempty"`
	CPUSeconds           float64 `json:"cpu_seconds"`
	EntriesPerCPUSecond  float64 `json:"entries_per_cpu_s"`
	LoadAvgBefore        string  `json:"loadavg_before"`
	GoMaxProcs           int     `json:"gomaxprocs"`
}

func main() {
	n := flag.Uint64("n", 100_000, "entries to append")
	size := flag.Int("size", 300, "bytes per entry")
	batch := flag.Uint("batch", 1024, "Tessera batch max size (WithBatching maxSize)")
	age := flag.Duration("age", 100*time.Millisecond, "Tessera batch max age (WithBatching maxAge)")
	cpInterval := flag.Duration("checkpoint-interval", 100*time.Millisecond, "Tessera checkpoint interval (minimum 100ms)")
	dir := flag.String("dir", "", "log directory (must not exist or be empty); default a fresh temp dir")
	keep := flag.Bool("keep", false, "keep the log directory and write DIR.vkey (e.g. to fsck it)")
	doAudit := flag.Bool("audit", true, "also time a full re-hash audit of the finished log")
	latFile := flag.String("latency-file", "", "optionally write 'index start_ms latency_ms' per entry here")
	timeout := flag.Duration("timeout", 15*time.Minute, "abort after this long")
	klog.InitFlags(nil)
	flag.Parse()
	r, err := run(*n, *size, *batch, *age, *cpInterval, *dir, *keep, *doAudit, *latFile, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "posixbench:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

type pending struct {
	start time.Duration
	f     tessera.IndexFuture
}

func run(n uint64, size int, batch uint, age, cpInterval time.Duration, dir string, keep, doAudit bool, latFile string, timeout time.Duration) (*report, error) {
	if n == 0 || batch == 0 {
		return nil, fmt.Errorf("-n and -batch must be positive")
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "posixbench-")
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(d, "log")
		if !keep {
			defer os.RemoveAll(d)
		}
	} else if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s is not empty", dir)
	}
	const origin = "reclaim.example/interop/posixbench"
	skey, vkey, err := plog.NewKey(origin, "posixbench")
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}

	// Generate the entry bytes up front so the timed loop measures Tessera
	// (NewEntry's two SHA-256 and Add), not the generator.
	slab := make([]byte, 0, n*uint64(size))
	for i := uint64(0); i < n; i++ {
		slab = append(slab, gen.Entry("POOL-BENCH", i, size)...)
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	app, shutdown, reader, err := plog.Open(ctx, plog.Options{
		Dir:                dir,
		Signer:             signer,
		BatchMaxSize:       batch,
		BatchMaxAge:        age,
		CheckpointInterval: cpInterval,
		// GC of obsolete partial tiles: Tessera's default (1 minute).
	})
	if err != nil {
		return nil, err
	}

	load := loadavg()
	cpu0 := cpuTime()
	lat := make([]time.Duration, n)
	starts := make([]time.Duration, n)
	ch := make(chan pending, min(n, 1<<20))
	done := make(chan error, 1)
	var lastResolved time.Duration
	t0 := time.Now()
	go func() {
		var i uint64
		for p := range ch {
			idx, err := p.f()
			now := time.Since(t0)
			if err != nil {
				done <- fmt.Errorf("entry %d: %w", i, err)
				return
			}
			if idx.Index != i {
				done <- fmt.Errorf("entry %d assigned index %d", i, idx.Index)
				return
			}
			lat[i] = now - p.start
			starts[i] = p.start
			lastResolved = now
			i++
		}
		done <- nil
	}()
	for i := uint64(0); i < n; i++ {
		start := time.Since(t0)
		data := slab[i*uint64(size) : (i+1)*uint64(size) : (i+1)*uint64(size)]
		ch <- pending{start: start, f: app.Add(ctx, tessera.NewEntry(data))}
	}
	close(ch)
	if err := <-done; err != nil {
		return nil, err
	}
	if _, err := plog.WaitForSize(ctx, reader.ReadCheckpoint, n, time.Millisecond); err != nil {
		return nil, fmt.Errorf("waiting for checkpoint: %w", err)
	}
	total := time.Since(t0)
	cpu := cpuTime() - cpu0
	if err := shutdown(ctx); err != nil {
		return nil, fmt.Errorf("shutdown: %w", err)
	}
	cancel()

	if latFile != "" {
		var b []byte
		for i := range lat {
			b = fmt.Appendf(b, "%d %.3f %.3f\n", i, ms(starts[i]), ms(lat[i]))
		}
		if err := os.WriteFile(latFile, b, 0o644); err != nil {
			return nil, err
		}
	}
	// The last n%batch entries form a partial batch that is only flushed when
	// its max age expires; report p99 without them as well.
	full := slices.Clone(lat[:n-n%uint64(batch)])
	slices.Sort(full)
	slices.Sort(lat)
	pctOf := func(s []time.Duration, p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return ms(s[int(p*float64(len(s)-1))])
	}
	pct := func(p float64) float64 { return pctOf(lat, p) }
	r := &report{
		Entries:              n,
		Seconds:              total.Seconds(),
		AppendsPerS:          float64(n) / total.Seconds(),
		P99ms:                pct(0.99),
		Batch:                batch,
		EntryBytes:           size,
		BatchMaxAgeMs:        ms(age),
		CheckpointIntervalMs: ms(cpInterval),
		IntegratedSeconds:    lastResolved.Seconds(),
		P50ms:                pct(0.50),
		P999ms:               pct(0.999),
		P99FullBatchesMs:     pctOf(full, 0.99),
		MaxMs:                ms(lat[len(lat)-1]),
		CPUSeconds:           cpu.Seconds(),
		EntriesPerCPUSecond:  float64(n) / cpu.Seconds(),
		LoadAvgBefore:        load,
		GoMaxProcs:           runtime.GOMAXPROCS(0),
	}
	if keep {
		r.Dir = dir
		if err := os.WriteFile(filepath.Clean(dir)+".vkey", []byte(vkey+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	if doAudit {
		a0 := time.Now()
		res, err := audit.Verify(dir, verifier, origin)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		if res.Size != n {
			return nil, fmt.Errorf("audit: checkpoint size %d, want %d", res.Size, n)
		}
		r.AuditSeconds = time.Since(a0).Seconds()
		r.AuditBundles = res.Bundles
		r.AuditMiBPerS = float64(res.Bytes) / (1 << 20) / r.AuditSeconds
	}
	return r, nil
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadavg returns the 1-minute load average (the machine is shared).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Fields(string(b))[0]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
