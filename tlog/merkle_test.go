package tlog_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim/tlog"
)

// memStore is an in-memory stored-hash table that appends through tlog.Append, as the database
// sequencer does.
type memStore struct {
	hashes []tlog.Hash
	size   int64
	reads  int
}

func (m *memStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	m.reads++
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memStore) append(t testing.TB, entries [][]byte) tlog.Appended {
	t.Helper()
	a, err := tlog.Append(m.size, entries, m)
	if err != nil {
		t.Fatal(err)
	}
	if a.FirstHashIndex != int64(len(m.hashes)) {
		t.Fatalf("first hash index %d, have %d hashes", a.FirstHashIndex, len(m.hashes))
	}
	m.hashes = append(m.hashes, a.Hashes...)
	m.size = a.Size
	return a
}

// The RFC 6962 / Certificate Transparency known answers (transparency-dev/merkle's test data).
func TestKnownAnswers(t *testing.T) {
	if !bytes.Equal(tlog.EmptyRoot[:], testonly.EmptyRootHash()) {
		t.Fatalf("empty root %x", tlog.EmptyRoot)
	}
	leaves, roots := testonly.LeafInputs(), testonly.RootHashes()
	m := &memStore{}
	for i, leaf := range leaves {
		a := m.append(t, [][]byte{leaf})
		if !bytes.Equal(a.Root[:], roots[i+1]) {
			t.Errorf("root of %d leaves = %x, want %x", i+1, a.Root[:], roots[i+1])
		}
	}
	// The same vectors with sumdb's own hashing, empty leaf included.
	var stored []tlog.Hash
	r := sumtlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, leaf := range leaves {
		hs, err := sumtlog.StoredHashes(int64(i), leaf, r)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		root, err := sumtlog.TreeHash(int64(i+1), r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root[:], roots[i+1]) {
			t.Errorf("sumdb root of %d leaves = %x, want %x", i+1, root[:], roots[i+1])
		}
	}
}

// Roots and proofs agree with transparency-dev/merkle's reference tree over random trees up to
// 100,000 leaves grown in random batches.
func TestDifferentialMerkle(t *testing.T) {
	limit := 100_000
	if testing.Short() {
		limit = 5_000
	}
	rng := rand.New(rand.NewPCG(6962, 1))
	ref := testonly.New(rfc6962.DefaultHasher)
	m := &memStore{}
	checks := 0
	for m.size < int64(limit) {
		n := 1 + rng.IntN(min(5000, limit-int(m.size)))
		if rng.IntN(4) == 0 {
			n = 1 + rng.IntN(3)
		}
		batch := make([][]byte, n)
		for i := range batch {
			batch[i] = make([]byte, 1+rng.IntN(64))
			for j := range batch[i] {
				batch[i][j] = byte(rng.Uint32())
			}
		}
		readsBefore := m.reads
		a := m.append(t, batch)
		if m.reads-readsBefore > 2 {
			t.Fatalf("appending %d entries read the store %d times", n, m.reads-readsBefore)
		}
		ref.AppendData(batch...)
		if !bytes.Equal(a.Root[:], ref.Hash()) {
			t.Fatalf("root at %d differs", a.Size)
		}
		for k := 0; k < 5; k++ {
			size := 1 + rng.Int64N(m.size)
			index := rng.Int64N(size)
			got, err := tlog.InclusionProof(size, index, m)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.InclusionProof(uint64(index), uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			if !sameProof(got, want) {
				t.Fatalf("inclusion proof %d in %d differs", index, size)
			}
			old := 1 + rng.Int64N(size)
			gotc, err := tlog.ConsistencyProof(size, old, m)
			if err != nil {
				t.Fatal(err)
			}
			wantc, err := ref.ConsistencyProof(uint64(old), uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			if !sameProof(gotc, wantc) {
				t.Fatalf("consistency proof %d -> %d differs", old, size)
			}
			checks++
		}
	}
	if _, err := tlog.InclusionProof(m.size, m.size, m); err == nil {
		t.Fatal("proof for an index beyond the tree")
	}
	if _, err := tlog.ConsistencyProof(10, 11, m); err == nil {
		t.Fatal("consistency proof from a larger tree")
	}
	t.Logf("%d leaves, %d proof pairs compared", m.size, checks)
}

func sameProof(got []tlog.Hash, want [][]byte) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i][:], want[i]) {
			return false
		}
	}
	return true
}

func TestAppendRejects(t *testing.T) {
	m := &memStore{}
	if _, err := tlog.Append(0, [][]byte{make([]byte, tlog.MaxEntrySize+1)}, m); err == nil {
		t.Error("oversize entry accepted")
	}
	if _, err := tlog.Append(-1, nil, m); err == nil {
		t.Error("negative size accepted")
	}
	// A store missing the right edge is an error, not a wrong root.
	if _, err := tlog.Append(5, [][]byte{{1}}, m); err == nil {
		t.Error("append to a tree whose hashes are missing")
	}
}

func TestTileWidth(t *testing.T) {
	for _, c := range []struct {
		size  int64
		level int
		n     int64
		want  int64
	}{
		{0, 0, 0, 0}, {1, 0, 0, 1}, {256, 0, 0, 256}, {257, 0, 1, 1}, {257, 1, 0, 1}, {65536, 1, 0, 256},
		{65535, 1, 0, 255}, {600, -1, 2, 88}, {600, -1, 3, 0}, {600, 2, 0, 0},
	} {
		if got := tlog.TileWidth(c.size, c.level, c.n); got != c.want {
			t.Errorf("TileWidth(%d, %d, %d) = %d, want %d", c.size, c.level, c.n, got, c.want)
		}
	}
}
