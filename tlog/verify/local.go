package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
type hashStore struct{ h []tlog.Hash }

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

// add appends the leaf for entry n (which must be the next one).
func (s *hashStore) add(n int64, entry []byte) error {
	hs, err := tlog.StoredHashes(n, entry, s)
	if err != nil {
		return err
	}
	s.h = append(s.h, hs...)
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
func LoadLocal(dir string) (*Local, error) {
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
	l := &Local{Dir: dir, Signed: signed, Checkpoint: c, hashes: &hashStore{}}
	ev := &LocalEvidence{Checkpoint: string(signed)}
	fail := func(format string, args ...any) (*Local, error) {
		ev.Problem = fmt.Sprintf(format, args...)
		return nil, &Failure{Kind: "local-copy", Err: fmt.Errorf("local copy in %s: %s", dir, ev.Problem), Evidence: ev}
	}
	data, err := os.ReadFile(filepath.Join(dir, EntriesFile))
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && c.Size == 0) {
		return nil, err
	}
	off := 0
	for n := int64(0); n < c.Size; n++ {
		if off+2 > len(data) {
			ev.Entries = n
			return fail("the entries file holds %d entries, the checkpoint has %d", n, c.Size)
		}
		ln := int(binary.BigEndian.Uint16(data[off:]))
		if off+2+ln > len(data) {
			ev.Entries = n
			return fail("the entries file is truncated in entry %d", n)
		}
		e := data[off+2 : off+2+ln : off+2+ln]
		off += 2 + ln
		pe, err := ParseEntry(e)
		if err != nil {
			ev.Entries = n
			return fail("entry %d: %v", n, err)
		}
		if err := l.hashes.add(n, e); err != nil {
			return nil, err
		}
		l.Entries = append(l.Entries, e)
		l.Parsed = append(l.Parsed, pe)
	}
	l.entryBytes = int64(off)
	root, err := tlog.TreeHash(c.Size, l.hashes)
	if err != nil {
		return nil, err
	}
	ev.Entries, ev.Computed = c.Size, root
	if root != c.Hash {
		return fail("the %d stored entries have root %s, the stored checkpoint says %s", c.Size, root, c.Hash)
	}
	return l, nil
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
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
