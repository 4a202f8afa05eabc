package synth

import (
	"context"
	"io"
	"runtime"
	"testing"
)

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Generating a million loans keeps the heap flat: nothing is retained per loan.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1,000,000 loans")
	}
	const n = 1_000_000
	g, err := New(cfgFor(BankMixed, n, 1))
	if err != nil {
		t.Fatal(err)
	}
	before := heapInuse()
	var at100k uint64
	count := 0
	for _, ok := g.Next(); ok; _, ok = g.Next() {
		count++
		if count == 100_000 {
			at100k = heapInuse()
		}
	}
	at1M := heapInuse()
	t.Logf("HeapInuse: start %d KiB, after 100k loans %d KiB, after 1M loans %d KiB; borrowers %d", before>>10, at100k>>10, at1M>>10, g.Borrowers())
	if count != n {
		t.Fatalf("generated %d loans", count)
	}
	if at1M > at100k+4<<20 {
		t.Errorf("heap grew from %d KiB at 100k loans to %d KiB at 1M", at100k>>10, at1M>>10)
	}
}

func BenchmarkNext(b *testing.B) {
	for _, p := range Profiles {
		b.Run(p.String(), func(b *testing.B) {
			g, err := New(cfgFor(p, MaxLoans, 1))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				g.Next()
			}
			b.ReportMetric(float64(heapInuse())/(1<<20), "MiB-heap")
		})
	}
}

func BenchmarkWriteTapeCSV(b *testing.B) {
	cfg := cfgFor(BankMixed, 100_000, 1)
	cfg.Invalid = map[string]float64{RuleClaimSum: 0.01}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WriteTape(context.Background(), cfg, io.Discard, io.Discard, TapeOptions{IncludePersonal: true}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Loans), "loans/op")
}
