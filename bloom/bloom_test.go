package bloom

import (
	"strconv"
	"testing"
)

// No false negatives, ever; and a false-positive rate near the theory for the size.
func TestNoFalseNegativesAndRate(t *testing.T) {
	const n = 200000
	f := ForKeys(n, 12)
	for i := 0; i < n; i++ {
		if f.Add("LN" + strconv.Itoa(i)) {
			// a false positive on a new key is allowed, but must be rare (checked below)
			continue
		}
	}
	for i := 0; i < n; i++ {
		if !f.Has("LN" + strconv.Itoa(i)) {
			t.Fatalf("key %d added but not found", i)
		}
		if !f.Add("LN" + strconv.Itoa(i)) {
			t.Fatalf("key %d added twice but Add said new", i)
		}
	}
	fp := 0
	for i := n; i < 2*n; i++ {
		if f.Has("LN" + strconv.Itoa(i)) {
			fp++
		}
	}
	// 12 bits per key rounded up to a power of two: well under 1%.
	if rate := float64(fp) / n; rate > 0.01 {
		t.Fatalf("false-positive rate %.4f", rate)
	}
}

func TestSizeBounded(t *testing.T) {
	if b := ForKeys(1<<40, 16).Bytes(); b != MaxBits/8 {
		t.Fatalf("filter for 2^40 keys takes %d bytes, want the cap %d", b, MaxBits/8)
	}
}

// A growing filter never forgets a key, keeps a low false-positive rate as it grows, and its
// memory follows the number of keys up to its cap.
func TestGrowing(t *testing.T) {
	g := NewGrowing(16, 8<<20)
	small := g.Bytes()
	const n = 300000
	for i := 0; i < n; i++ {
		g.Add("B" + strconv.Itoa(i))
	}
	for i := 0; i < n; i++ {
		if !g.Has("B" + strconv.Itoa(i)) {
			t.Fatalf("key %d lost", i)
		}
	}
	fp := 0
	for i := n; i < 2*n; i++ {
		if g.Has("B" + strconv.Itoa(i)) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.01 {
		t.Fatalf("false-positive rate %.4f", rate)
	}
	if b := g.Bytes(); b <= small || b > 8<<20 {
		t.Fatalf("%d bytes for %d keys (started at %d, cap 8 MiB)", b, n, small)
	}
	for i := 0; i < 4*n; i++ { // past the cap: still no false negatives
		g.Add("C" + strconv.Itoa(i))
	}
	if b := g.Bytes(); b > 8<<20 {
		t.Fatalf("%d bytes past the 8 MiB cap", b)
	}
	if !g.Has("B0") || !g.Has("C0") {
		t.Fatal("keys lost past the cap")
	}
}
