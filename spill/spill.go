// Package spill keeps a temporary copy of sensitive bytes (an uploaded loan tape, the rows an
// import rejected) on disk without ever writing them in clear. Every file is sealed with
// AES-256-GCM under its own random key, which lives only in this process's memory: when the
// process ends, a spill file left behind is unreadable ciphertext, and Sweep deletes it at the next
// start.
//
// The plaintext is cut into 64 KiB chunks, each sealed on its own (nonce: the chunk's index; the
// additional data marks the last chunk, so a truncated file does not read as a shorter one). A
// sealed File is an io.ReaderAt: a ZIP (XLSX) reader can seek in it without a clear copy.
package spill

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Suffix ends the name of every spill file; Sweep removes files with this suffix.
const Suffix = ".spill"

const (
	chunkSize = 64 << 10
	tagSize   = 16
	sealedLen = chunkSize + tagSize
)

// Writer writes a new spill file. It is not safe for concurrent use.
type Writer struct {
	f    *os.File
	path string
	aead cipher.AEAD
	buf  []byte // plaintext of the chunk being filled
	out  []byte // sealed chunk
	n    int64  // chunks written
	size int64
	err  error
}

// Create makes a new spill file in dir (mode 0600, a random name ending in Suffix).
func Create(dir string) (*Writer, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	clear(key)
	var b [12]byte
	rand.Read(b[:])
	path := filepath.Join(dir, "reclaim-"+hex.EncodeToString(b[:])+Suffix)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &Writer{f: f, path: path, aead: aead, buf: make([]byte, 0, chunkSize), out: make([]byte, 0, sealedLen)}, nil
}

// Path is where the file is.
func (w *Writer) Path() string { return w.path }

// Write encrypts p into the file.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == chunkSize {
			if err := w.flush(false); err != nil {
				return n, err
			}
		}
		k := copy(w.buf[len(w.buf):chunkSize], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		n += k
		w.size += int64(k)
	}
	return n, nil
}

func (w *Writer) flush(last bool) error {
	w.out = w.aead.Seal(w.out[:0], nonce(w.n), w.buf, aad(last))
	if _, err := w.f.Write(w.out); err != nil {
		w.err = fmt.Errorf("spill: %w", err)
		return w.err
	}
	w.n++
	w.buf = w.buf[:0]
	return nil
}

// Seal writes the last chunk and returns the file for reading. The Writer is done either way; on
// an error the file is removed.
func (w *Writer) Seal() (*File, error) {
	if w.f == nil {
		return nil, errors.New("spill: writer already closed")
	}
	err := w.err
	if err == nil {
		err = w.flush(true)
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("spill: %w", cerr)
	}
	w.f = nil
	if err != nil {
		os.Remove(w.path)
		return nil, err
	}
	f, err := os.Open(w.path)
	if err != nil {
		os.Remove(w.path)
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &File{f: f, path: w.path, aead: w.aead, size: w.size, chunks: w.n, cached: -1}, nil
}

// Discard closes and removes the file. It is safe to call after Seal (it does nothing then).
func (w *Writer) Discard() {
	if w.f == nil {
		return
	}
	w.f.Close()
	w.f = nil
	os.Remove(w.path)
}

// File is a sealed spill file. Its ReadAt is safe for concurrent use.
type File struct {
	f      *os.File
	path   string
	aead   cipher.AEAD
	size   int64
	chunks int64

	mu     sync.Mutex
	cached int64 // index of the chunk in plain, -1 for none
	plain  []byte
	sealed []byte
	closed bool
}

// Size is the plaintext length.
func (f *File) Size() int64 { return f.size }

// Path is where the file is.
func (f *File) Path() string { return f.path }

// ErrCorrupt is returned when a chunk does not decrypt: the file was changed or cut on disk.
var ErrCorrupt = errors.New("spill: the file was changed on disk")

// ReadAt implements io.ReaderAt over the plaintext.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("spill: negative offset")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	n := 0
	for len(p) > 0 {
		if off >= f.size {
			return n, io.EOF
		}
		idx := off / chunkSize
		if err := f.load(idx); err != nil {
			return n, err
		}
		k := copy(p, f.plain[off-idx*chunkSize:])
		p, off, n = p[k:], off+int64(k), n+k
	}
	return n, nil
}

func (f *File) load(idx int64) error {
	if f.cached == idx {
		return nil
	}
	f.cached = -1
	want := sealedLen
	if idx == f.chunks-1 {
		want = int(f.size-idx*chunkSize) + tagSize
	}
	if cap(f.sealed) < want {
		f.sealed = make([]byte, sealedLen)
	}
	buf := f.sealed[:want]
	if _, err := f.f.ReadAt(buf, idx*sealedLen); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrCorrupt
		}
		return fmt.Errorf("spill: %w", err)
	}
	plain, err := f.aead.Open(f.plain[:0], nonce(idx), buf, aad(idx == f.chunks-1))
	if err != nil {
		return ErrCorrupt
	}
	f.plain, f.cached = plain, idx
	return nil
}

// Reader returns a reader of the whole plaintext from the start.
func (f *File) Reader() io.Reader { return io.NewSectionReader(f, 0, f.size) }

// Remove closes and deletes the file. It may be called more than once.
func (f *File) Remove() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	clear(f.plain[:cap(f.plain)])
	f.f.Close()
	if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spill: %w", err)
	}
	return nil
}

func nonce(idx int64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], uint64(idx))
	return n[:]
}

func aad(last bool) []byte {
	if last {
		return []byte("reclaim/spill/v1 last")
	}
	return []byte("reclaim/spill/v1")
}

// Sweep removes the spill files in dir: at start, every one of them is left over from a process
// that ended without cleaning up, and its key is gone. It also removes the clear-text spool
// files of earlier versions (reclaim-upload-*, reclaim-rejects-*). It returns how many it removed.
// A missing dir is not an error.
func Sweep(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("spill: %w", err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if !(strings.HasPrefix(name, "reclaim-") && strings.HasSuffix(name, Suffix)) &&
			!strings.HasPrefix(name, "reclaim-upload-") && !strings.HasPrefix(name, "reclaim-rejects-") {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("spill: %w", err)
		}
		n++
	}
	return n, nil
}
