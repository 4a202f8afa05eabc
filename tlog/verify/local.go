package verify

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// Files of a local copy of a log (see Sync).
const (
	// CheckpointFile holds the latest verified signed checkpoint, exactly as the log served it.
	CheckpointFile = "checkpoint"
	// EntriesFile holds the entries, in log order, each as a big-endian uint16 length and the
	// entry's bytes (the entry bundle encoding). Only the first checkpoint-size entries count;
	// bytes after them (left by an interrupted sync) are ignored and overwritten.
	EntriesFile = "entries"
	// EvidenceDir is the directory of evidence files written on failures.
	EvidenceDir = "evidence"
)

// Local is a local copy of a log, as Sync stores it, loaded and re-checked by LoadLocal.
type Local struct {
	Dir        string
	Signed     []byte     // the stored signed checkpoint
	Checkpoint Checkpoint // its body
	Entries    [][]byte   // the first Checkpoint.Size entries
	Parsed     []Entry    // Entries decoded with ParseEntry
	hashes     *hashStore // the stored hashes of the tree of the entries
	entryBytes int64      // length of the entries file that holds Entries
}

// hashStore is an in-memory sumdb/tlog hash storage.
type hashStore struct {
	h   []tlog.Hash
	buf []byte // 0x00 || entry, for the leaf hash
}

func (s *hashStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(s.h)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = s.h[x]
	}
	return out, nil
}

// reserve makes room for the hashes of a tree of size n.
func (s *hashStore) reserve(n int64) {
	if want := tlog.StoredHashCount(n); want > int64(cap(s.h)) {
		s.h = slices.Grow(s.h, int(want)-len(s.h))
	}
}

// add appends the stored hashes for entry n (which must be the next one): its leaf hash and
// the interior hashes it completes, exactly as tlog.StoredHashes computes them, without
// allocating.
func (s *hashStore) add(n int64, entry []byte) error {
	if n < 0 || tlog.StoredHashIndex(0, n) != int64(len(s.h)) {
		return fmt.Errorf("hash store of %d hashes: entry %d is not the next one", len(s.h), n)
	}
	s.buf = append(append(s.buf[:0], 0), entry...)
	h := tlog.Hash(sha256.Sum256(s.buf)) // tlog.RecordHash(entry)
	s.h = append(s.h, h)
	// Entry n completes one subtree per trailing 1 bit of n: hash in the left siblings.
	for l := 0; n>>l&1 == 1; l++ {
		h = tlog.NodeHash(s.h[tlog.StoredHashIndex(l, n>>l-1)], h)
		s.h = append(s.h, h)
	}
	return nil
}

// noteText returns the text of a signed note (up to and including the newline before the blank
// line that precedes the signatures), without checking any signature.
func noteText(signed []byte) ([]byte, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("not a signed note: no blank line before the signatures")
	}
	return signed[:i+1], nil
}

// LocalEvidence is the evidence of a local copy that does not match its stored checkpoint.
type LocalEvidence struct {
	Checkpoint string    `json:"checkpoint"`
	Entries    int64     `json:"entries"`
	Computed   tlog.Hash `json:"computed_root"`
	Problem    string    `json:"problem"`
}

// LoadLocal loads the local copy in dir and re-checks it: the stored checkpoint must be well
// formed, the entries file must hold at least its size of entries, every entry must parse
// canonically, and their tree must have the checkpoint's root. (The checkpoint's signatures were
// checked by Sync when it was stored; LoadLocal has no policy and does not re-check them.) It
// returns an error wrapping fs.ErrNotExist when dir has no checkpoint, and a *Failure of kind
// "local-copy" when the copy does not match its checkpoint.
//
// LoadLocal keeps every entry and its decoded form in memory (Entries, Parsed). Sync does the
// same checks while streaming the file and keeps neither.
func LoadLocal(dir string) (*Local, error) {
	l, err := openLocal(dir)
	if err != nil {
		return nil, err
	}
	var arena []byte // entries are copied into shared chunks, not one allocation each
	err = l.scan(func(n, off int64, e []byte, pe Entry) error {
		if cap(arena)-len(arena) < len(e) {
			arena = make([]byte, 0, max(1<<20, len(e)))
		}
		arena = append(arena, e...)
		l.Entries = append(l.Entries, arena[len(arena)-len(e):len(arena):len(arena)])
		l.Parsed = append(l.Parsed, pe)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// openLocal reads the stored checkpoint of the local copy in dir (an error wrapping
// fs.ErrNotExist when there is none). Its entries are checked by scan.
func openLocal(dir string) (*Local, error) {
	signed, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	text, err := noteText(signed)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, CheckpointFile), err)
	}
	c, err := ParseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, CheckpointFile), err)
	}
	return &Local{Dir: dir, Signed: signed, Checkpoint: c, hashes: &hashStore{}}, nil
}

// scan reads the first Checkpoint.Size entries of the entries file in order, checks that each
// parses canonically, stores their hashes and checks the tree's root against the checkpoint,
// returning a *Failure of kind "local-copy" when the copy does not match. It streams the file:
// visit (when not nil) sees each entry's index, the offset of its length prefix in the file,
// its bytes (valid only during the call) and its decoded form; an error from visit stops the
// scan and is returned.
func (l *Local) scan(visit func(n, off int64, e []byte, pe Entry) error) error {
	c := l.Checkpoint
	ev := &LocalEvidence{Checkpoint: string(l.Signed)}
	fail := func(format string, args ...any) error {
		ev.Problem = fmt.Sprintf(format, args...)
		return &Failure{Kind: "local-copy", Err: fmt.Errorf("local copy in %s: %s", l.Dir, ev.Problem), Evidence: ev}
	}
	var r *bufio.Reader
	f, err := os.Open(filepath.Join(l.Dir, EntriesFile))
	switch {
	case err == nil:
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			l.hashes.reserve(min(c.Size, fi.Size()/2)) // at most the entries the file can hold
		}
		r = bufio.NewReaderSize(f, 1<<20)
	case errors.Is(err, fs.ErrNotExist) && c.Size == 0:
	default:
		return err
	}
	off := int64(0)
	for n := int64(0); n < c.Size; n++ {
		ev.Entries = n
		p, err := r.Peek(2)
		if len(p) < 2 {
			if err != io.EOF {
				return err
			}
			return fail("the entries file holds %d entries, the checkpoint has %d", n, c.Size)
		}
		ln := 2 + int(binary.BigEndian.Uint16(p))
		p, err = r.Peek(ln)
		if len(p) < ln {
			if err != io.EOF {
				return err
			}
			return fail("the entries file is truncated in entry %d", n)
		}
		e := p[2:ln:ln]
		pe, err := ParseEntry(e)
		if err != nil {
			return fail("entry %d: %v", n, err)
		}
		if err := l.hashes.add(n, e); err != nil {
			return err
		}
		if visit != nil {
			if err := visit(n, off, e, pe); err != nil {
				return err
			}
		}
		r.Discard(ln)
		off += int64(ln)
	}
	l.entryBytes = off
	root, err := tlog.TreeHash(c.Size, l.hashes)
	if err != nil {
		return err
	}
	ev.Entries, ev.Computed = c.Size, root
	if root != c.Hash {
		return fail("the %d stored entries have root %s, the stored checkpoint says %s", c.Size, root, c.Hash)
	}
	return nil
}

// writeFileAtomic writes data to path via a temporary file in the same directory, fsyncs it,
// renames it over path and fsyncs the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}
