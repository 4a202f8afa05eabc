// Package tlog is the server side of Reclaim's pool ledger: one append-only RFC 6962 Merkle tree
// per pool (trust), hashed with golang.org/x/mod/sumdb/tlog, served as C2SP tlog-tiles and
// committed to by checkpoints in the C2SP signed-note format (golang.org/x/mod/sumdb/note,
// Ed25519) that witnesses cosign. The design, the entry format and the privacy rules are in
// ../shared/design/ledger.md; the canonical entry encoding and everything an investor needs to
// check the log are in the dependency-light package tlog/verify.
//
// This package is pure: storage reaches it through sumdb's HashReader and the small interfaces
// below; package sqldb keeps the leaves, stored hashes, outbox and checkpoints, and cmd/reclaim
// wires the sequencer and publisher loops.
package tlog

import (
	"errors"
	"fmt"
	"slices"

	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the tile height of every Reclaim log: tiles are 2^8 = 256 hashes or entries
// wide, as C2SP tlog-tiles requires.
const TileHeight = 8

// MaxEntrySize bounds one entry's encoding in bytes (the verifier enforces the same bound).
const MaxEntrySize = 8192

// Hash is a SHA-256 Merkle tree hash.
type Hash = sumtlog.Hash

// EmptyRoot is the root of the empty tree: SHA-256 of the empty string (RFC 6962 section 2.1).
var EmptyRoot = func() Hash {
	h, _ := sumtlog.TreeHash(0, nil)
	return h
}()

// Appended is the result of appending a batch of entries to a tree of size OldSize: the new
// stored hashes, which occupy the contiguous stored-hash indices starting at FirstHashIndex, and
// the new tree's size and root.
type Appended struct {
	OldSize        int64
	Size           int64
	Root           Hash
	FirstHashIndex int64
	Hashes         []Hash
}

// Append computes what appending entries (in order) to a tree of size oldSize stores. r must
// return the stored hashes of the existing tree; Append asks it only for the few hashes on the
// tree's right edge (the roots of the complete subtrees), in as few calls as it can. It rejects
// an oversize entry (the outbox never holds an empty one).
func Append(oldSize int64, entries [][]byte, r sumtlog.HashReader) (Appended, error) {
	if oldSize < 0 {
		return Appended{}, fmt.Errorf("tlog: negative tree size %d", oldSize)
	}
	for i, e := range entries {
		if len(e) > MaxEntrySize {
			return Appended{}, fmt.Errorf("tlog: entry %d is %d bytes (at most %d allowed)", i, len(e), MaxEntrySize)
		}
	}
	first := sumtlog.StoredHashIndex(0, oldSize)
	ov := &overlay{base: r, first: first}
	if err := ov.prefetch(oldSize); err != nil {
		return Appended{}, err
	}
	for i, e := range entries {
		hs, err := sumtlog.StoredHashes(oldSize+int64(i), e, ov)
		if err != nil {
			return Appended{}, fmt.Errorf("tlog: hashing entry %d: %w", oldSize+int64(i), err)
		}
		ov.pending = append(ov.pending, hs...)
	}
	size := oldSize + int64(len(entries))
	root, err := sumtlog.TreeHash(size, ov)
	if err != nil {
		return Appended{}, fmt.Errorf("tlog: tree hash at %d: %w", size, err)
	}
	return Appended{OldSize: oldSize, Size: size, Root: root, FirstHashIndex: first, Hashes: ov.pending}, nil
}

// overlay reads pending hashes (indices >= first) from memory and older ones from base, caching
// what it has read.
type overlay struct {
	base    sumtlog.HashReader
	first   int64
	pending []Hash
	cache   map[int64]Hash
}

// prefetch reads, in one call, the stored hashes that appending to a tree of size n and hashing
// its root will need: the roots of the complete subtrees that make up the tree.
func (o *overlay) prefetch(n int64) error {
	o.cache = map[int64]Hash{}
	var idx []int64
	for level, size := 0, n; size > 0; level, size = level+1, size>>1 {
		if size&1 == 1 {
			// The complete subtree at this level: node index size-1 at this level.
			idx = append(idx, sumtlog.StoredHashIndex(level, size-1))
		}
	}
	if len(idx) == 0 {
		return nil
	}
	hs, err := o.base.ReadHashes(idx)
	if err != nil {
		return fmt.Errorf("tlog: reading the tree's right edge: %w", err)
	}
	if len(hs) != len(idx) {
		return fmt.Errorf("tlog: read %d hashes, asked for %d", len(hs), len(idx))
	}
	for i, h := range hs {
		o.cache[idx[i]] = h
	}
	return nil
}

func (o *overlay) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		switch {
		case x >= o.first && x < o.first+int64(len(o.pending)):
			out[i] = o.pending[x-o.first]
		case x >= o.first:
			return nil, fmt.Errorf("tlog: hash %d is not stored yet", x)
		default:
			if h, ok := o.cache[x]; ok {
				out[i] = h
			} else {
				missing = append(missing, x)
			}
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	hs, err := o.base.ReadHashes(missing)
	if err != nil {
		return nil, err
	}
	if len(hs) != len(missing) {
		return nil, errors.New("tlog: short hash read")
	}
	for i, h := range hs {
		o.cache[missing[i]] = h
	}
	for i, x := range indexes {
		if x < o.first {
			out[i] = o.cache[x]
		}
	}
	return out, nil
}

// HashFunc adapts a function to sumdb's HashReader.
type HashFunc func(indexes []int64) ([]Hash, error)

// ReadHashes calls f.
func (f HashFunc) ReadHashes(indexes []int64) ([]Hash, error) { return f(indexes) }

// InclusionProof proves that the entry at index is in the tree of the given size.
func InclusionProof(size, index int64, r sumtlog.HashReader) (sumtlog.RecordProof, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("tlog: index %d is not in a tree of size %d", index, size)
	}
	return sumtlog.ProveRecord(size, index, r)
}

// ConsistencyProof proves that the tree of size old is a prefix of the tree of size size.
func ConsistencyProof(size, old int64, r sumtlog.HashReader) (sumtlog.TreeProof, error) {
	if old < 0 || old > size {
		return nil, fmt.Errorf("tlog: cannot prove a tree of size %d consistent with one of size %d", size, old)
	}
	return sumtlog.ProveTree(size, old, r)
}

// TileData returns the hashes of hash tile t (concatenated 32-byte hashes) of a tree of the given
// size. A partial tile is served only as wide as the tree makes it; asking for a tile (or a width)
// beyond the tree is an error.
func TileData(size int64, t sumtlog.Tile, r sumtlog.HashReader) ([]byte, error) {
	if t.H != TileHeight || t.L < 0 || t.N < 0 || t.W < 1 || t.W > 1<<TileHeight {
		return nil, fmt.Errorf("tlog: bad tile %+v", t)
	}
	if max := TileWidth(size, t.L, t.N); int64(t.W) > max {
		return nil, fmt.Errorf("tlog: tile %d/%d is %d wide in a tree of size %d, not %d", t.L, t.N, max, size, t.W)
	}
	return sumtlog.ReadTileData(t, r)
}

// TileWidth is how many hashes wide tile (level, n) is in a tree of the given size (0 when the
// tile does not exist yet; 256 when it is full). Level -1 means the entry bundles.
func TileWidth(size int64, level int, n int64) int64 {
	if level < -1 || n < 0 {
		return 0
	}
	l := level
	if l < 0 {
		l = 0
	}
	// Number of nodes at level l*8 in a tree of this size.
	nodes := size >> (uint(l) * TileHeight)
	w := nodes - n<<TileHeight
	if w <= 0 {
		return 0
	}
	return min(w, 1<<TileHeight)
}
