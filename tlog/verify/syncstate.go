package verify

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
)

// syncState is what Sync keeps in memory while it checks a log: the tree's hashes, an index of
// the event_ids, and where to find any entry again; the entries themselves stay in files.
type syncState struct {
	from      int64      // the number of entries in the stored copy
	keep      int64      // the length of the part of the entries file that holds them
	hashes    *hashStore // the stored copy's hashes
	pool0     string     // the pool of the stored entry 0
	events    *eventSet
	tailStart int64        // the index of the first stored entry of the last, partial, bundle
	tail      [][]byte     // the stored entries from tailStart on, to compare with that bundle
	stored    entryLocator // the stored entries
	spool     *spool       // the new entries
}

// visitStored indexes one entry of the stored copy while Local.scan re-checks it.
func (st *syncState) visitStored(n, off int64, e []byte, pe Entry) error {
	st.stored.note(n, off)
	h := pe.EntryHeader()
	if n == 0 {
		st.pool0 = h.Pool
	}
	if n >= st.tailStart {
		st.tail = append(st.tail, bytes.Clone(e))
	}
	// Sync never stores a repeated event_id; if the file has one anyway, the first one counts.
	_, _, err := st.events.add(h.EventID, n)
	return err
}

// eventIDOf re-reads entry idx (a stored or a new one) and returns its event_id.
func (st *syncState) eventIDOf(idx int64) (string, error) {
	var e []byte
	var err error
	if idx < st.from {
		e, err = st.stored.read(idx)
	} else {
		e, err = st.spool.read(idx - st.from)
	}
	if err != nil {
		return "", fmt.Errorf("re-reading entry %d: %w", idx, err)
	}
	pe, err := ParseEntry(e)
	if err != nil {
		return "", fmt.Errorf("re-reading entry %d: %w", idx, err)
	}
	return pe.EntryHeader().EventID, nil
}

func (st *syncState) close() { st.stored.close() }

// eventSet is a set of event_ids: a map from a 64-bit hash of each event_id (hash/maphash, with
// a random seed per set) to the index of its entry, so about 20 bytes an entry instead of the
// strings. When a new event_id's hash is already in the map, the entry there is re-read to
// tell a repeated event_id from a hash collision; event_ids that collide with another one
// (which in practice never happens) are kept as strings in more.
type eventSet struct {
	seed  maphash.Seed
	first map[uint64]int64
	more  map[string]int64
	idOf  func(idx int64) (string, error)
}

// eventHash hashes an event_id for an eventSet (a variable so that tests can force collisions).
var eventHash = func(seed maphash.Seed, id string) uint64 { return maphash.String(seed, id) }

func newEventSet(hint int64, idOf func(int64) (string, error)) *eventSet {
	return &eventSet{seed: maphash.MakeSeed(), first: make(map[uint64]int64, min(hint, 1<<21)), idOf: idOf}
}

// add adds the event_id id of entry idx. If id is already in the set it returns the index of
// the entry that has it and true, and leaves the set as it is.
func (s *eventSet) add(id string, idx int64) (int64, bool, error) {
	h := eventHash(s.seed, id)
	j, taken := s.first[h]
	if !taken {
		s.first[h] = idx
		return 0, false, nil
	}
	other, err := s.idOf(j)
	if err != nil {
		return 0, false, err
	}
	if other == id {
		return j, true, nil
	}
	if k, dup := s.more[id]; dup {
		return k, true, nil
	}
	if s.more == nil {
		s.more = map[string]int64{}
	}
	s.more[id] = idx
	return 0, false, nil
}

// entryLocator reads single entries back from a file of length-prefixed entries (the entries
// file encoding), knowing the offset of every TileWidth-th one.
type entryLocator struct {
	name string   // the file to open on the first read, when f is nil
	f    *os.File //
	offs []int64  // offs[k] is the offset of entry k*TileWidth
}

// note records that entry n starts at offset off; it must be called for every entry, in order.
func (l *entryLocator) note(n, off int64) {
	if n%TileWidth == 0 {
		l.offs = append(l.offs, off)
	}
}

// read returns a copy of entry n.
func (l *entryLocator) read(n int64) ([]byte, error) {
	if n < 0 || n/TileWidth >= int64(len(l.offs)) {
		return nil, fmt.Errorf("entry %d is not in the file", n)
	}
	if l.f == nil {
		f, err := os.Open(l.name)
		if err != nil {
			return nil, err
		}
		l.f = f
	}
	off := l.offs[n/TileWidth]
	var p [2]byte
	for i := n - n%TileWidth; ; i++ {
		if _, err := l.f.ReadAt(p[:], off); err != nil {
			return nil, err
		}
		ln := int64(binary.BigEndian.Uint16(p[:]))
		if i == n {
			e := make([]byte, ln)
			if _, err := l.f.ReadAt(e, off+2); err != nil {
				return nil, err
			}
			return e, nil
		}
		off += 2 + ln
	}
}

// close closes the file if read opened it.
func (l *entryLocator) close() {
	if l.f != nil && l.name != "" {
		l.f.Close()
		l.f = nil
	}
}

// spool is a temporary file in the local copy's directory that receives the new entries, in
// the entries file encoding, while Sync checks them. Only when everything has been checked does
// commit make them part of the entries file; otherwise discard removes it.
type spool struct {
	f    *os.File
	w    *bufio.Writer
	loc  entryLocator
	n    int64 // entries written
	size int64 // bytes written
	done bool  // renamed into place
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "."+EntriesFile+".new*")
	if err != nil {
		return nil, err
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20), loc: entryLocator{f: f}}, nil
}

// append adds an entry (of at most MaxBundleEntry bytes: it came from a bundle).
func (s *spool) append(e []byte) error {
	if len(e) > MaxBundleEntry {
		return fmt.Errorf("entry of %d bytes", len(e))
	}
	s.loc.note(s.n, s.size)
	s.w.WriteByte(byte(len(e) >> 8))
	s.w.WriteByte(byte(len(e)))
	_, err := s.w.Write(e)
	s.n++
	s.size += 2 + int64(len(e))
	return err
}

// read returns a copy of the n-th spooled entry.
func (s *spool) read(n int64) ([]byte, error) {
	if err := s.w.Flush(); err != nil {
		return nil, err
	}
	return s.loc.read(n)
}

// commit makes the spooled entries the entries file's content from byte keep on (the end of
// the stored entries; whatever an interrupted sync left after it is overwritten) and fsyncs
// it. With nothing to keep, the spool file is renamed into place.
func (s *spool) commit(path string, keep int64) error {
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		return err
	}
	if keep == 0 {
		if err := s.f.Chmod(0o644); err != nil {
			return err
		}
		if err := s.f.Close(); err != nil {
			return err
		}
		if err := os.Rename(s.f.Name(), path); err != nil {
			return err
		}
		s.done = true
		syncDir(filepath.Dir(path))
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(keep)
	if err == nil {
		_, err = f.Seek(keep, io.SeekStart)
	}
	if err == nil {
		_, err = s.f.Seek(0, io.SeekStart)
	}
	if err == nil {
		_, err = io.Copy(f, s.f)
	}
	if err == nil {
		err = f.Sync()
	}
	if err2 := f.Close(); err == nil {
		err = err2
	}
	return err
}

// discard removes the spool file unless commit renamed it into place.
func (s *spool) discard() {
	if s != nil && !s.done {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

// syncDir fsyncs a directory (after a rename in it), ignoring errors: not every system can.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
