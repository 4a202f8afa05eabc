// Package bloom is a fixed-size Bloom filter over strings: a set that answers "certainly not
// added" or "maybe added" in a bounded amount of memory whatever the number of keys. The import
// uses it to prove most keys new without holding them, and checks the "maybe" answers exactly.
package bloom

import (
	"hash/maphash"
	"math/bits"
)

// Filter is a Bloom filter. Its zero value is not usable; call New.
type Filter struct {
	words []uint64
	mask  uint64 // number of bits - 1 (a power of two)
	k     int
	seed  maphash.Seed
}

// MaxBits is the largest filter New makes: 2^29 bits, 64 MiB.
const MaxBits = 1 << 29

// New returns a filter of at least nbits bits (rounded up to a power of two, between 2^12 and
// MaxBits) probed k times per key.
func New(nbits uint64, k int) *Filter {
	if k < 1 {
		k = 1
	}
	n := uint64(1 << 12)
	for n < nbits && n < MaxBits {
		n <<= 1
	}
	return &Filter{words: make([]uint64, n/64), mask: n - 1, k: k, seed: maphash.MakeSeed()}
}

// ForKeys returns a filter sized for about n keys at bitsPerKey bits each (k = 0.69 x bits per
// key), capped at MaxBits: past the cap the filter answers "maybe" more often, never wrongly
// "not added".
func ForKeys(n int64, bitsPerKey int) *Filter {
	if n < 1 {
		n = 1
	}
	k := bitsPerKey * 69 / 100
	return New(uint64(n)*uint64(bitsPerKey), max(k, 1))
}

// Bytes returns the filter's size in bytes.
func (f *Filter) Bytes() int { return 8 * len(f.words) }

func (f *Filter) probes(s string) (h1, h2 uint64) {
	h := maphash.String(f.seed, s)
	return h, bits.RotateLeft64(h*0x9e3779b97f4a7c15, 31) | 1
}

// Add adds s and reports whether it may have been added before (false: certainly not).
func (f *Filter) Add(s string) (maybePresent bool) {
	h1, h2 := f.probes(s)
	maybePresent = true
	for i := 0; i < f.k; i++ {
		b := (h1 + uint64(i)*h2) & f.mask
		w, m := &f.words[b>>6], uint64(1)<<(b&63)
		if *w&m == 0 {
			maybePresent = false
			*w |= m
		}
	}
	return maybePresent
}

// Has reports whether s may have been added (false: certainly not).
func (f *Filter) Has(s string) bool {
	h1, h2 := f.probes(s)
	for i := 0; i < f.k; i++ {
		b := (h1 + uint64(i)*h2) & f.mask
		if f.words[b>>6]&(uint64(1)<<(b&63)) == 0 {
			return false
		}
	}
	return true
}

// Growing is a Bloom filter for a number of keys not known in advance: a chain of filters, each
// twice the size of the one before, a new one started when the last has taken its share of keys
// (bitsPerKey bits each). Its memory follows the keys (about bitsPerKey/8 bytes each) up to
// maxBytes; past that the last filter takes every key and answers "maybe" more often, never
// wrongly "not added".
type Growing struct {
	fs         []*Filter
	room       int64 // keys the last filter takes before the next is started
	bitsPerKey int
	left       int64 // bytes still allowed
}

// NewGrowing returns an empty growing filter.
func NewGrowing(bitsPerKey int, maxBytes int64) *Growing {
	g := &Growing{bitsPerKey: bitsPerKey, left: maxBytes}
	g.grow(1 << 16)
	return g
}

func (g *Growing) grow(bits uint64) {
	f := New(bits, bits2k(g.bitsPerKey))
	g.fs = append(g.fs, f)
	g.left -= int64(f.Bytes())
	g.room = int64(8*f.Bytes()) / int64(g.bitsPerKey)
}

func bits2k(bitsPerKey int) int { return max(1, bitsPerKey*69/100) }

// Has reports whether s may have been added (false: certainly not).
func (g *Growing) Has(s string) bool {
	for _, f := range g.fs {
		if f.Has(s) {
			return true
		}
	}
	return false
}

// Add adds s (the caller has checked Has, or does not care whether it was there).
func (g *Growing) Add(s string) {
	if g.room <= 0 {
		next := uint64(16 * g.fs[len(g.fs)-1].Bytes())
		if int64(next/8) <= g.left && next <= MaxBits {
			g.grow(next)
		}
	}
	g.fs[len(g.fs)-1].Add(s)
	g.room--
}

// Bytes returns the memory the filters take.
func (g *Growing) Bytes() int {
	n := 0
	for _, f := range g.fs {
		n += f.Bytes()
	}
	return n
}
