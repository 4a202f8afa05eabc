// Package audit re-derives a tlog-tiles log's root hash from its entry
// bundles alone (the "sync and re-hash everything" step of a verifier), as a
// peer figure for Reclaim's own verifier.
package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	f_log "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/mod/sumdb/note"
)

// Result describes one audit.
type Result struct {
	Size    uint64
	Root    []byte
	Bundles uint64
	Bytes   int64
}

// Checkpoint opens a signed checkpoint with v and checks its origin.
func Checkpoint(raw []byte, v note.Verifier, origin string) (*f_log.Checkpoint, error) {
	cp, _, _, err := f_log.ParseCheckpoint(raw, origin, v)
	return cp, err
}

// Dir reads every entry bundle of the tlog-tiles log stored under root (a
// directory laid out as the log is served) for a tree of the given size,
// recomputes every RFC 6962 leaf hash and returns the root hash.
func Dir(root string, size uint64) (Result, error) {
	res := Result{Size: size}
	rng := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	nb := (size + layout.EntryBundleWidth - 1) / layout.EntryBundleWidth
	for i := uint64(0); i < nb; i++ {
		p := layout.PartialTileSize(0, i, size)
		raw, err := os.ReadFile(filepath.Join(root, layout.EntriesPath(i, p)))
		if errors.Is(err, os.ErrNotExist) && p > 0 {
			// Bundle completed since: the full one serves the prefix.
			raw, err = os.ReadFile(filepath.Join(root, layout.EntriesPath(i, 0)))
		}
		if err != nil {
			return res, err
		}
		res.Bundles++
		res.Bytes += int64(len(raw))
		want := uint64(layout.EntryBundleWidth)
		if p > 0 {
			want = uint64(p)
		}
		var got uint64
		for off := 0; off < len(raw) && got < want; got++ {
			if off+2 > len(raw) {
				return res, fmt.Errorf("bundle %d: truncated length at byte %d", i, off)
			}
			n := int(binary.BigEndian.Uint16(raw[off:]))
			off += 2
			if off+n > len(raw) {
				return res, fmt.Errorf("bundle %d: entry %d overruns bundle", i, got)
			}
			if err := rng.Append(rfc6962.DefaultHasher.HashLeaf(raw[off:off+n]), nil); err != nil {
				return res, err
			}
			off += n
		}
		if got != want {
			return res, fmt.Errorf("bundle %d: %d entries, want %d", i, got, want)
		}
	}
	if size == 0 {
		res.Root = rfc6962.DefaultHasher.EmptyRoot()
		return res, nil
	}
	r, err := rng.GetRootHash(nil)
	res.Root = r
	return res, err
}

// Verify audits dir against the checkpoint published in it.
func Verify(dir string, v note.Verifier, origin string) (Result, error) {
	raw, err := os.ReadFile(filepath.Join(dir, layout.CheckpointPath))
	if err != nil {
		return Result{}, err
	}
	cp, err := Checkpoint(raw, v, origin)
	if err != nil {
		return Result{}, err
	}
	res, err := Dir(dir, cp.Size)
	if err != nil {
		return res, err
	}
	if !bytes.Equal(res.Root, cp.Hash) {
		return res, fmt.Errorf("recomputed root %x, checkpoint claims %x", res.Root, cp.Hash)
	}
	return res, nil
}
