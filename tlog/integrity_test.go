package tlog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim/tlog"
)

// auditStore is a log in memory whose stored hashes wrap tlog.ErrBadStoredHash when missing,
// as sqldb's do.
type auditStore struct {
	hashes  map[int64]tlog.Hash
	entries map[int64][]byte
	size    int64
	root    tlog.Hash
}

func (a *auditStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		h, ok := a.hashes[x]
		if !ok {
			return nil, fmt.Errorf("%w: hash %d", tlog.ErrBadStoredHash, x)
		}
		out[i] = h
	}
	return out, nil
}

func (a *auditStore) read(ctx context.Context, from, to int64) ([]tlog.IndexedEntry, error) {
	var out []tlog.IndexedEntry
	for i := from; i < to; i++ {
		if e, ok := a.entries[i]; ok {
			out = append(out, tlog.IndexedEntry{Index: i, Entry: e})
		}
	}
	return out, nil
}

func (a *auditStore) grow(t *testing.T, n int) {
	t.Helper()
	var batch [][]byte
	for i := 0; i < n; i++ {
		batch = append(batch, fmt.Appendf(nil, `{"i":%d}`, a.size+int64(i)))
	}
	app, err := tlog.Append(a.size, batch, a)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range app.Hashes {
		a.hashes[app.FirstHashIndex+int64(i)] = h
	}
	for i, e := range batch {
		a.entries[a.size+int64(i)] = e
	}
	a.size, a.root = app.Size, app.Root
}

func newAuditStore(t *testing.T, n int) *auditStore {
	a := &auditStore{hashes: map[int64]tlog.Hash{}, entries: map[int64][]byte{}, root: tlog.EmptyRoot}
	for n > 0 { // grown in uneven batches, as the sequencer does
		k := min(n, 97)
		a.grow(t, k)
		n -= k
	}
	return a
}

func (a *auditStore) head() tlog.Head { return tlog.Head{Origin: "o", Size: a.size, Root: a.root} }

func TestRightEdgeMatchesTreeHash(t *testing.T) {
	a := newAuditStore(t, 1000)
	for _, n := range []int64{1, 2, 3, 4, 5, 7, 8, 255, 256, 257, 511, 512, 999, 1000} {
		hs, err := a.ReadHashes(tlog.RightEdge(n))
		if err != nil {
			t.Fatal(err)
		}
		want, err := sumtlog.TreeHash(n, a)
		if err != nil {
			t.Fatal(err)
		}
		c, mm, err := tlog.StartCursor(n, a, &tlog.Anchor{Size: n, Root: want})
		if err != nil || len(mm) != 0 || !slices.Equal(c.Edge, hs) {
			t.Fatalf("size %d: %v %v", n, mm, err)
		}
	}
}

// TestAuditFindsExactlyTheDamage: each kind of damage an operator with database access can do
// is found by a full audit, reported with its index and both hashes, and nothing else is
// reported; an incremental audit in small steps finds the same.
func TestAuditFindsExactlyTheDamage(t *testing.T) {
	ctx := context.Background()
	const n = 1000
	x := sumtlog.StoredHashIndex(3, 17) // an interior hash: level 3, node 17 (entries 136..143)
	cases := []struct {
		name    string
		damage  func(a *auditStore)
		want    tlog.Mismatch
		extra   bool // later mismatches may follow (a deleted tail also loses its root)
		changed string
	}{
		{"leaf", func(a *auditStore) { a.entries[400] = []byte(`{"i":4000}`) },
			tlog.Mismatch{Kind: "leaf-hash", Index: 400, HashIndex: sumtlog.StoredHashIndex(0, 400), Level: 0, N: 400}, false, "entry"},
		{"leaf hash", func(a *auditStore) { a.hashes[sumtlog.StoredHashIndex(0, 7)] = tlog.Hash{1} },
			tlog.Mismatch{Kind: "leaf-hash", Index: 7, HashIndex: sumtlog.StoredHashIndex(0, 7), Level: 0, N: 7, Stored: tlog.Hash{1}.String()}, false, "leaf hash"},
		{"interior hash", func(a *auditStore) { a.hashes[x] = tlog.Hash{2} },
			tlog.Mismatch{Kind: "interior-hash", Index: -1, HashIndex: x, Level: 3, N: 17, Stored: tlog.Hash{2}.String()}, false, ""},
		{"last leaves deleted", func(a *auditStore) { delete(a.entries, n-1); delete(a.entries, n-2) },
			tlog.Mismatch{Kind: "entry-missing", Index: n - 2, HashIndex: -1}, true, ""},
		{"hash deleted", func(a *auditStore) { delete(a.hashes, sumtlog.StoredHashIndex(1, 100)) },
			tlog.Mismatch{Kind: "hash-missing", Index: -1, HashIndex: sumtlog.StoredHashIndex(1, 100), Level: 1, N: 100}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAuditStore(t, n)
			if err := tlog.AuditRange(ctx, "P", 0, a.head(), 4096, a.read, a, nil); err != nil {
				t.Fatalf("clean store: %v", err)
			}
			c.damage(a)
			for _, step := range []int64{4096, 64, 1} {
				err := tlog.AuditRange(ctx, "P", 0, a.head(), step, a.read, a, nil)
				var ie *tlog.IntegrityError
				if !errors.As(err, &ie) || !errors.Is(err, tlog.ErrDamaged) {
					t.Fatalf("step %d: %v", step, err)
				}
				got := ie.Mismatches[0]
				if c.want.Stored == "" {
					c.want.Stored = got.Stored
				}
				// The recomputed hash is what the true entries give.
				if got.Kind != "entry-missing" && (got.Recomputed == "" || got.Recomputed == got.Stored) {
					t.Fatalf("step %d: no evidence in %+v", step, got)
				}
				if step == 4096 && got.Changed != c.changed {
					t.Fatalf("changed %q, want %q", got.Changed, c.changed)
				}
				got.Recomputed, got.Changed = "", ""
				if got != c.want || (!c.extra && len(ie.Mismatches) != 1) {
					t.Fatalf("step %d: got %+v (of %d), want %+v", step, ie.Mismatches[0], len(ie.Mismatches), c.want)
				}
			}
		})
	}
}

// TestAuditCursorResumes: an audit driven step by step, its cursor saved and reloaded between
// steps (as the server does), reaches the end on a clean store, and a tamper behind the cursor is
// found by the next pass, not trusted because an earlier pass saw it clean.
func TestAuditCursorResumes(t *testing.T) {
	ctx := context.Background()
	a := newAuditStore(t, 700)
	var c tlog.AuditCursor
	steps := 0
	for c.Next < a.size {
		next, mm, err := tlog.AuditStep(ctx, c, a.head(), 100, a.read, a, nil)
		if err != nil || len(mm) != 0 {
			t.Fatalf("step %d: %v %v", steps, mm, err)
		}
		c = tlog.AuditCursor{Next: next.Next, Edge: slices.Clone(next.Edge)}
		steps++
	}
	if steps != 7 {
		t.Fatalf("%d steps", steps)
	}
	// The store grows; the cursor continues from where it was without rereading.
	a.grow(t, 50)
	next, mm, err := tlog.AuditStep(ctx, c, a.head(), 100, a.read, a, nil)
	if err != nil || len(mm) != 0 || next.Next != 750 {
		t.Fatalf("after growth: %+v %v %v", next, mm, err)
	}
	// Damage behind the cursor: a stored hash of the right edge the cursor depends on. The
	// cursor carries its own recomputed edge, so the step still succeeds...
	edge := tlog.RightEdge(750)
	a.hashes[edge[0]] = tlog.Hash{9}
	a.grow(t, 1)
	if _, mm, err := tlog.AuditStep(ctx, next, a.head(), 100, a.read, a, nil); err != nil || len(mm) == 0 || mm[0].Kind != "root" {
		// ...and the stored root (grown over the damaged edge) no longer matches.
		t.Fatalf("grown over a damaged edge: %v %v", mm, err)
	}
	// ...and the next full pass names the hash.
	err = tlog.AuditRange(ctx, "P", 0, a.head(), 128, a.read, a, nil)
	var ie *tlog.IntegrityError
	if !errors.As(err, &ie) || ie.Mismatches[0].HashIndex != edge[0] {
		t.Fatalf("full pass: %v", err)
	}
}

// TestPublisherRefusesDamagedBatch: the publisher recomputes each new batch from its entries
// before signing; a changed entry, leaf hash, interior hash or a missing tail entry in the new
// batch, or a changed hash under the last signed checkpoint, stops the signing.
func TestPublisherRefusesDamagedBatch(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		damage func(src *memSource)
	}{
		{"entry", func(src *memSource) { src.entries[12] = []byte("tampered") }},
		{"leaf hash", func(src *memSource) { src.store.hashes[sumtlog.StoredHashIndex(0, 11)] = tlog.Hash{1} }},
		{"interior hash", func(src *memSource) { src.store.hashes[sumtlog.StoredHashIndex(1, 6)] = tlog.Hash{1} }},
		{"last entries deleted", func(src *memSource) { src.entries = src.entries[:len(src.entries)-2] }},
		{"signed prefix edge", func(src *memSource) { src.store.hashes[sumtlog.StoredHashIndex(3, 0)] = tlog.Hash{1} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			signer, _ := newSigner(t, "test.example/ledger")
			src := &memSource{origin: "test.example/ledger/P1", store: &memStore{}, root: tlog.EmptyRoot}
			p := &tlog.Publisher{Signer: signer, Source: src, State: &tlog.FileState{Path: filepath.Join(t.TempDir(), "state.json")}}
			for i := 0; i < 10; i++ {
				src.add(t, fmt.Sprint("e", i))
			}
			if _, err := p.Publish(ctx, "P1"); err != nil {
				t.Fatal(err)
			}
			for i := 10; i < 16; i++ {
				src.add(t, fmt.Sprint("e", i))
			}
			c.damage(src)
			_, err := p.Publish(ctx, "P1")
			if !errors.Is(err, tlog.ErrDamaged) && !errors.Is(err, tlog.ErrFork) {
				t.Fatalf("signed over damage: %v", err)
			}
			if len(src.saved) != 1 {
				t.Fatalf("%d checkpoints stored", len(src.saved))
			}
		})
	}
}
