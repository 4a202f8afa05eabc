package tlog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim/tlog"
)

// memSource is one pool's log in memory.
type memSource struct {
	origin  string
	store   *memStore
	root    tlog.Hash
	saved   []tlog.Published
	entries [][]byte
}

func (s *memSource) LeafEntries(ctx context.Context, pool string, from, to int64) ([]tlog.IndexedEntry, error) {
	var out []tlog.IndexedEntry
	for i := from; i < to && i < int64(len(s.entries)); i++ {
		if s.entries[i] != nil {
			out = append(out, tlog.IndexedEntry{Index: i, Entry: s.entries[i]})
		}
	}
	return out, nil
}

func (s *memSource) Head(ctx context.Context, pool string) (tlog.Head, error) {
	return tlog.Head{Origin: s.origin, Size: s.store.size, Root: s.root}, nil
}
func (s *memSource) Hashes(ctx context.Context, pool string) sumtlog.HashReader { return s.store }
func (s *memSource) SaveCheckpoint(ctx context.Context, pool string, c tlog.Published) error {
	s.saved = append(s.saved, c)
	return nil
}

func (s *memSource) add(t *testing.T, entries ...string) {
	var b [][]byte
	for _, e := range entries {
		b = append(b, []byte(e))
	}
	a := s.store.append(t, b)
	s.entries = append(s.entries, b...)
	s.root = a.Root
}

func newSigner(t *testing.T, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// fakeWitness signs what it is sent with its own note key, after checking the proof from the size
// it holds, like a real witness; down makes it fail.
type fakeWitness struct {
	name   string
	signer note.Signer
	logV   note.Verifier
	size   int64
	root   tlog.Hash
	down   bool
	calls  int
}

func (w *fakeWitness) Name() string { return w.name }

func (w *fakeWitness) AddCheckpoint(ctx context.Context, old int64, proof []tlog.Hash, signed []byte) ([]byte, error) {
	w.calls++
	if w.down {
		return nil, errors.New("connection refused")
	}
	if old != w.size {
		return nil, &tlog.SizeConflict{Size: w.size}
	}
	n, err := note.Open(signed, note.VerifierList(w.logV))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(n.Text, "\n")
	var size int64
	fmt.Sscan(lines[1], &size)
	var root tlog.Hash
	h, err := sumtlog.ParseHash(lines[2])
	if err != nil {
		return nil, err
	}
	root = h
	if old > 0 && old < size {
		if err := sumtlog.CheckTree(proof, size, root, old, w.root); err != nil {
			return nil, err
		}
	}
	w.size, w.root = size, root
	cs, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, err
	}
	_, sig, _ := tlog.Split(cs)
	return sig, nil
}

func TestPublisher(t *testing.T) {
	ctx := context.Background()
	signer, verifier := newSigner(t, "test.example/ledger")
	src := &memSource{origin: "test.example/ledger/P1", store: &memStore{}, root: tlog.EmptyRoot}
	state := &tlog.FileState{Path: filepath.Join(t.TempDir(), "publisher.json")}
	p := &tlog.Publisher{Signer: signer, Source: src, State: state}

	src.add(t, "a", "b", "c")
	pub, err := p.Publish(ctx, "P1")
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(pub.Note, note.VerifierList(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if want := string(tlog.Body(src.origin, 3, src.root)); n.Text != want {
		t.Fatalf("checkpoint body %q, want %q", n.Text, want)
	}
	again, err := p.Publish(ctx, "P1")
	if err != nil || string(again.Note) != string(pub.Note) {
		t.Fatalf("unchanged tree re-signed: %v", err)
	}
	src.add(t, "d")
	if pub, err = p.Publish(ctx, "P1"); err != nil || pub.Size != 4 {
		t.Fatalf("grown tree: %+v %v", pub, err)
	}
	if len(src.saved) != 2 {
		t.Fatalf("%d checkpoints stored, want 2", len(src.saved))
	}

	// A restored backup: the database holds fewer entries than the published checkpoint.
	restored := &memSource{origin: src.origin, store: &memStore{}, root: tlog.EmptyRoot}
	restored.add(t, "a", "b", "c")
	p2 := &tlog.Publisher{Signer: signer, Source: restored, State: state}
	if _, err := p2.Publish(ctx, "P1"); !errors.Is(err, tlog.ErrRollback) {
		t.Fatalf("rollback: %v", err)
	}
	// A fork of the same size, and a longer tree that does not extend the published one.
	restored.add(t, "x")
	if _, err := p2.Publish(ctx, "P1"); !errors.Is(err, tlog.ErrFork) {
		t.Fatalf("fork at the same size: %v", err)
	}
	restored.add(t, "y")
	if _, err := p2.Publish(ctx, "P1"); !errors.Is(err, tlog.ErrFork) {
		t.Fatalf("longer fork: %v", err)
	}
	// A stored root that the stored hashes do not give.
	src.add(t, "e")
	src.root[0] ^= 1
	if _, err := p.Publish(ctx, "P1"); !errors.Is(err, tlog.ErrFork) {
		t.Fatalf("tampered root: %v", err)
	}
	if len(src.saved) != 2 {
		t.Fatal("a refused checkpoint was stored")
	}
}

func TestPublisherWitnesses(t *testing.T) {
	ctx := context.Background()
	signer, verifier := newSigner(t, "test.example/ledger")
	var ws []*fakeWitness
	var vs []note.Verifier
	for _, name := range []string{"trustee", "rating-agency", "investors"} {
		s, v := newSigner(t, name)
		ws = append(ws, &fakeWitness{name: name, signer: s, logV: verifier, root: tlog.EmptyRoot})
		vs = append(vs, v)
	}
	src := &memSource{origin: "test.example/ledger/P1", store: &memStore{}, root: tlog.EmptyRoot}
	p := &tlog.Publisher{Signer: signer, Source: src, State: &tlog.FileState{Path: filepath.Join(t.TempDir(), "s.json")}, Quorum: 2,
		Witnesses: []tlog.Witness{ws[0], ws[1], ws[2]}}
	src.add(t, "a", "b")
	ws[2].down = true
	pub, err := p.Publish(ctx, "P1")
	if err != nil {
		t.Fatal(err)
	}
	if pub.Cosigners != 2 {
		t.Fatalf("%d cosigners", pub.Cosigners)
	}
	n, err := note.Open(pub.Note, note.VerifierList(append(vs, verifier)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Sigs) != 3 {
		t.Fatalf("%d verified signatures, want log + 2 witnesses", len(n.Sigs))
	}
	// The third witness comes back knowing nothing (size 0): the publisher sends a proof from 0.
	ws[2].down = false
	src.add(t, "c", "d", "e")
	pub, err = p.Publish(ctx, "P1")
	if err != nil || pub.Cosigners != 3 {
		t.Fatalf("all witnesses: %+v %v", pub.Cosigners, err)
	}
	// A witness that lost its state answers 409; the publisher retries from its size.
	ws[1].size = 2
	ws[1].root = rootAt(t, src.store, 2)
	src.add(t, "f")
	if pub, err = p.Publish(ctx, "P1"); err != nil || pub.Cosigners != 3 {
		t.Fatalf("after a size conflict: %d %v", pub.Cosigners, err)
	}
	// Below quorum: signed, remembered, but not published.
	ws[0].down, ws[1].down = true, true
	src.add(t, "g")
	before := len(src.saved)
	if _, err := p.Publish(ctx, "P1"); !errors.Is(err, tlog.ErrQuorum) {
		t.Fatalf("below quorum: %v", err)
	}
	if len(src.saved) != before {
		t.Fatal("a checkpoint below quorum was stored")
	}
}

func rootAt(t *testing.T, m *memStore, size int64) tlog.Hash {
	h, err := sumtlog.TreeHash(size, m)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.key")
	vkey, err := tlog.GenerateKey("test.example/ledger", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.GenerateKey("other", path); err == nil {
		t.Fatal("an existing key was overwritten")
	}
	s, err := tlog.LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.KeyHash() != s.KeyHash() || v.Name() != "test.example/ledger" {
		t.Fatalf("verifier %v %v", v, err)
	}
}
