package spill

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, dir string, data []byte) *File {
	t.Helper()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Uneven writes cross chunk boundaries.
	for p := data; len(p) > 0; {
		k := min(len(p), 1+rand.IntN(100_000))
		if _, err := w.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	f, err := w.Seal()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRoundTrip writes plaintexts of sizes around the chunk boundaries and reads them back whole
// and at random offsets; the file on disk never holds the plaintext.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 17, 5 * chunkSize} {
		line := []byte("张三,110101199003077777,13800138000;")
		data := bytes.Repeat(line, size/len(line)+1)[:size]
		f := write(t, dir, data)
		if f.Size() != int64(size) {
			t.Fatalf("size %d, want %d", f.Size(), size)
		}
		got, err := io.ReadAll(f.Reader())
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, err %v", size, len(got), err)
		}
		for range 50 {
			if size == 0 {
				break
			}
			off := rand.IntN(size)
			n := rand.IntN(size-off) + 1
			buf := make([]byte, n)
			if k, err := f.ReadAt(buf, int64(off)); k != n || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[off:off+n]) {
				t.Fatalf("ReadAt(%d, %d): %d %v", off, n, k, err)
			}
		}
		raw, err := os.ReadFile(f.Path())
		if err != nil {
			t.Fatal(err)
		}
		if size > 0 && bytes.Contains(raw, []byte("110101199003077777")) {
			t.Fatal("the spill file holds the plaintext")
		}
		if st, _ := os.Stat(f.Path()); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
		if err := f.Remove(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(f.Path()); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("removed file still there: %v", err)
		}
		if _, err := f.ReadAt(make([]byte, 1), 0); err == nil && size > 0 {
			t.Fatal("read after Remove")
		}
	}
}

// TestTamper: a changed byte or a cut-off last chunk is an error, never different plaintext.
func TestTamper(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("x"), 2*chunkSize+100)
	f := write(t, dir, data)
	defer f.Remove()
	raw, _ := os.ReadFile(f.Path())
	raw[chunkSize+tagSize+5] ^= 1
	os.WriteFile(f.Path(), raw, 0o600)
	if _, err := io.ReadAll(f.Reader()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("flipped byte: %v, want ErrCorrupt", err)
	}
	g := write(t, dir, data)
	defer g.Remove()
	raw, _ = os.ReadFile(g.Path())
	os.WriteFile(g.Path(), raw[:2*sealedLen], 0o600) // the last (partial) chunk is gone
	if _, err := io.ReadAll(g.Reader()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: %v, want ErrCorrupt", err)
	}
}

func TestDiscardAndSweep(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("secret"))
	w.Discard()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Discard left %d files", len(ents))
	}
	// Leftovers of a crashed process, and clear-text spools of earlier versions, go; other files stay.
	stale := []string{"reclaim-0123456789abcdef01234567" + Suffix, "reclaim-upload-0011223344556677.csv", "reclaim-rejects-0011223344556677.csv"}
	for _, n := range append(stale, "keep.txt", "reclaim.db") {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	n, err := Sweep(dir)
	if err != nil || n != len(stale) {
		t.Fatalf("Sweep: %d %v", n, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("left %v", ents)
	}
	if n, err := Sweep(filepath.Join(dir, "missing")); n != 0 || err != nil {
		t.Fatalf("missing dir: %d %v", n, err)
	}
}
