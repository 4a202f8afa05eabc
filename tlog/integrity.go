package tlog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// The store's self-audit: recompute every stored hash of a log from its entries alone and
// compare. It runs in three places with the same code: the publisher over each new batch before it
// signs, the server's scheduled incremental audit, and 'reclaim ledger fsck'.

// ErrDamaged: the stored log does not match its own entries (a leaf, a leaf hash or an interior
// hash was changed, or entries are missing). Errors wrapping it are *IntegrityError.
var ErrDamaged = errors.New("tlog: the stored log is damaged")

// ErrBadStoredHash is wrapped by a HashReader's error when a stored hash is missing or malformed
// (not 32 bytes): the audit reports that hash as "hash-missing" instead of failing.
var ErrBadStoredHash = errors.New("stored hash missing or malformed")

// Mismatch is one difference between the store and what its entries recompute to.
type Mismatch struct {
	// Kind is "entry-missing", "leaf-hash" (an entry's leaf hash, i.e. the entry or its stored
	// leaf hash was changed), "interior-hash", "hash-missing", "root" (the pool's stored root)
	// or "checkpoint-root" (the root of the last signed checkpoint).
	Kind string `json:"kind"`
	// Index is the entry index (for "entry-missing" and "leaf-hash"), or the tree size (for the
	// root kinds); -1 otherwise.
	Index int64 `json:"index"`
	// HashIndex is the stored-hash index (sumdb/tlog numbering), -1 when not a stored hash.
	HashIndex int64 `json:"hash_index"`
	// Level and N name the tree node of a stored hash: it covers entries [N<<Level, (N+1)<<Level).
	Level int   `json:"level"`
	N     int64 `json:"n"`
	// Stored is what the database holds, Recomputed what the entries give (hash strings as
	// sumdb/tlog prints them, base64); empty when absent.
	Stored     string `json:"stored,omitempty"`
	Recomputed string `json:"recomputed,omitempty"`
	// Changed says, for a "leaf-hash" mismatch, which was changed when the tree above shows it:
	// "entry" or "leaf hash"; empty when it cannot tell.
	Changed string `json:"changed,omitempty"`
}

// String describes the mismatch in one line.
func (m Mismatch) String() string {
	switch m.Kind {
	case "entry-missing":
		return fmt.Sprintf("entry %d is missing", m.Index)
	case "leaf-hash":
		s := fmt.Sprintf("entry %d: stored leaf hash %s (hash %d), the entry hashes to %s", m.Index, m.Stored, m.HashIndex, m.Recomputed)
		if m.Changed != "" {
			s += " (the " + m.Changed + " was changed)"
		}
		return s
	case "interior-hash":
		return fmt.Sprintf("interior hash %d (level %d, node %d, entries %d to %d): stored %s, recomputed %s",
			m.HashIndex, m.Level, m.N, m.N<<m.Level, (m.N+1)<<m.Level-1, m.Stored, m.Recomputed)
	case "hash-missing":
		return fmt.Sprintf("stored hash %d (level %d, node %d) is missing or malformed; recomputed %s", m.HashIndex, m.Level, m.N, m.Recomputed)
	case "root":
		return fmt.Sprintf("root of size %d: stored %s, recomputed %s", m.Index, m.Stored, m.Recomputed)
	case "checkpoint-root":
		return fmt.Sprintf("the signed checkpoint of size %d has root %s, the entries give %s", m.Index, m.Stored, m.Recomputed)
	}
	return m.Kind
}

// IntegrityError reports what differs in a pool's store. It wraps ErrDamaged.
type IntegrityError struct {
	Pool       string     `json:"pool"`
	Mismatches []Mismatch `json:"mismatches"`
}

func (e *IntegrityError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %s: the stored log is damaged: ", e.Pool)
	for i, m := range e.Mismatches {
		if i == 8 {
			fmt.Fprintf(&b, "; and %d more", len(e.Mismatches)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(m.String())
	}
	return b.String()
}

// Unwrap returns ErrDamaged.
func (e *IntegrityError) Unwrap() error { return ErrDamaged }

// IndexedEntry is a stored entry with its index.
type IndexedEntry struct {
	Index int64
	Entry []byte
}

// EntryReader returns the stored entries with indices in [from, to) that exist, in index order;
// a missing one is simply absent (the audit reports it).
type EntryReader func(ctx context.Context, from, to int64) ([]IndexedEntry, error)

// AuditCursor is how far an incremental audit has got: the entries [0, Next) were recomputed,
// and Edge holds the recomputed roots of the complete subtrees of the tree of size Next (the
// hashes RightEdge names), so the audit resumes without trusting any stored hash.
type AuditCursor struct {
	Next int64
	Edge []Hash
}

// Anchor is a (size, root) the recomputed tree must reproduce: the last checkpoint signed.
type Anchor struct {
	Size int64
	Root Hash
}

// RightEdge lists the stored-hash indices of the complete subtrees that make up a tree of size
// n, from the largest (leftmost) down: all a verifier needs to extend the tree or hash its root.
func RightEdge(n int64) []int64 {
	var idx []int64
	for level := 63; level >= 0; level-- {
		if n>>uint(level)&1 == 1 {
			// The subtree covering entries [(n>>(level+1))<<(level+1), ...) is node
			// (n>>level)-1 at this level.
			idx = append(idx, sumtlog.StoredHashIndex(level, (n>>uint(level))-1))
		}
	}
	return idx
}

// edgeReader serves the stored-hash indices of RightEdge(size) from edge, and nothing else.
type edgeReader struct {
	size int64
	edge []Hash
}

func (e edgeReader) ReadHashes(indexes []int64) ([]Hash, error) {
	want := RightEdge(e.size)
	if len(want) != len(e.edge) {
		return nil, fmt.Errorf("tlog: audit cursor at %d holds %d edge hashes, want %d", e.size, len(e.edge), len(want))
	}
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		found := false
		for j, w := range want {
			if w == x {
				out[i], found = e.edge[j], true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("tlog: hash %d is not on the right edge of a tree of size %d", x, e.size)
		}
	}
	return out, nil
}

// StartCursor returns the cursor at size n with its edge read from the stored hashes, after
// checking that they reproduce the anchor's root when n is the anchor's size (the publisher
// starts each batch check from the last checkpoint it signed). n = 0 needs no hashes.
func StartCursor(n int64, stored sumtlog.HashReader, anchor *Anchor) (AuditCursor, []Mismatch, error) {
	if n == 0 {
		return AuditCursor{}, nil, nil
	}
	idx := RightEdge(n)
	hs, err := stored.ReadHashes(idx)
	if err != nil {
		return AuditCursor{}, nil, err
	}
	c := AuditCursor{Next: n, Edge: hs}
	if anchor != nil && anchor.Size == n {
		root, err := sumtlog.TreeHash(n, edgeReader{n, hs})
		if err != nil {
			return AuditCursor{}, nil, err
		}
		if root != anchor.Root {
			return c, []Mismatch{{Kind: "checkpoint-root", Index: n, HashIndex: -1, Stored: anchor.Root.String(), Recomputed: root.String()}}, nil
		}
	}
	return c, nil, nil
}

// AuditStep recomputes the entries [c.Next, min(c.Next+limit, head.Size)) from their bytes and
// compares every stored hash they produce (leaf and interior) with the database's. The range is
// cut at anchor.Size so that the recomputed root at the anchor is compared with it, and at the
// end of the tree the recomputed root is compared with head.Root. It returns the next cursor
// (unchanged when something differs) and the mismatches (nil when clean); err is for I/O
// failures only.
func AuditStep(ctx context.Context, c AuditCursor, head Head, limit int64, entries EntryReader, stored sumtlog.HashReader, anchor *Anchor) (AuditCursor, []Mismatch, error) {
	if limit <= 0 {
		limit = 4096
	}
	if c.Next > head.Size {
		return c, []Mismatch{{Kind: "root", Index: head.Size, HashIndex: -1, Stored: fmt.Sprintf("tree size %d", head.Size),
			Recomputed: fmt.Sprintf("%d entries audited before", c.Next)}}, nil
	}
	from := c.Next
	to := min(from+limit, head.Size)
	if anchor != nil && from < anchor.Size && anchor.Size < to {
		to = anchor.Size
	}
	var mm []Mismatch
	var list [][]byte
	if to > from {
		es, err := entries(ctx, from, to)
		if err != nil {
			return c, nil, err
		}
		next := from
		for _, e := range es {
			if e.Index < next || e.Index >= to {
				return c, nil, fmt.Errorf("tlog: entry reader returned index %d for [%d, %d)", e.Index, next, to)
			}
			for ; next < e.Index; next++ {
				mm = append(mm, Mismatch{Kind: "entry-missing", Index: next, HashIndex: -1})
			}
			list = append(list, e.Entry)
			next++
		}
		for ; next < to; next++ {
			mm = append(mm, Mismatch{Kind: "entry-missing", Index: next, HashIndex: -1})
		}
		if len(mm) > 0 {
			return c, mm, nil
		}
	}
	app, err := Append(from, list, edgeReader{from, c.Edge})
	if err != nil {
		return c, nil, err
	}
	if len(app.Hashes) > 0 {
		idx := make([]int64, len(app.Hashes))
		for i := range idx {
			idx[i] = app.FirstHashIndex + int64(i)
		}
		got, err := readTolerant(stored, idx)
		if err != nil {
			return c, nil, err
		}
		// A changed entry changes every hash recomputed above it; a changed stored hash differs
		// alone. Report only the lowest hash of each chain of differences (one whose children
		// all match), which is where the damage is.
		differs := map[int64]bool{}
		for i, h := range app.Hashes {
			if got[i] == nil || *got[i] != h {
				differs[idx[i]] = true
			}
		}
		for i, h := range app.Hashes {
			x := idx[i]
			if !differs[x] {
				continue
			}
			level, n := sumtlog.SplitStoredHashIndex(x)
			if level > 0 && (differs[sumtlog.StoredHashIndex(level-1, 2*n)] || differs[sumtlog.StoredHashIndex(level-1, 2*n+1)]) {
				continue
			}
			m := Mismatch{Kind: "interior-hash", Index: -1, HashIndex: x, Level: level, N: n, Recomputed: h.String()}
			if level == 0 {
				m.Kind, m.Index = "leaf-hash", n
				// Which of the two changed shows one level up, when this batch recomputed it:
				// the stored parent still matching the entries means the stored leaf hash was
				// changed; the stored parent differing too means the entry was.
				parent := sumtlog.StoredHashIndex(1, n/2)
				if parent >= app.FirstHashIndex && parent < app.FirstHashIndex+int64(len(app.Hashes)) {
					if differs[parent] {
						m.Changed = "entry"
					} else {
						m.Changed = "leaf hash"
					}
				}
			}
			if got[i] == nil {
				m.Kind = "hash-missing"
			} else {
				m.Stored = got[i].String()
			}
			mm = append(mm, m)
		}
	}
	// The new edge, from the recomputed hashes (never the stored ones).
	all := func(x int64) (Hash, bool) {
		if x >= app.FirstHashIndex && x < app.FirstHashIndex+int64(len(app.Hashes)) {
			return app.Hashes[x-app.FirstHashIndex], true
		}
		for j, w := range RightEdge(from) {
			if w == x && j < len(c.Edge) {
				return c.Edge[j], true
			}
		}
		return Hash{}, false
	}
	nc := AuditCursor{Next: to}
	for _, x := range RightEdge(to) {
		h, ok := all(x)
		if !ok {
			return c, nil, fmt.Errorf("tlog: audit lost edge hash %d at size %d", x, to)
		}
		nc.Edge = append(nc.Edge, h)
	}
	if len(mm) > 0 {
		// The roots then differ too; the hashes above say where.
		return c, mm, nil
	}
	root := EmptyRoot
	if to > 0 {
		root, err = sumtlog.TreeHash(to, edgeReader{to, nc.Edge})
		if err != nil {
			return c, nil, err
		}
	}
	if anchor != nil && to == anchor.Size && root != anchor.Root {
		mm = append(mm, Mismatch{Kind: "checkpoint-root", Index: to, HashIndex: -1, Stored: anchor.Root.String(), Recomputed: root.String()})
	}
	if to == head.Size && root != head.Root {
		mm = append(mm, Mismatch{Kind: "root", Index: to, HashIndex: -1, Stored: head.Root.String(), Recomputed: root.String()})
	}
	if len(mm) > 0 {
		return c, mm, nil
	}
	return nc, nil, nil
}

// readTolerant reads stored hashes, returning nil for the ones the store does not have.
func readTolerant(r sumtlog.HashReader, idx []int64) ([]*Hash, error) {
	out := make([]*Hash, len(idx))
	hs, err := r.ReadHashes(idx)
	if err == nil && len(hs) == len(idx) {
		for i := range hs {
			out[i] = &hs[i]
		}
		return out, nil
	}
	// Find which are missing, one at a time (only on a damaged store).
	for i, x := range idx {
		h, err := r.ReadHashes([]int64{x})
		if err != nil {
			if !errors.Is(err, ErrBadStoredHash) {
				return nil, err
			}
			continue
		}
		if len(h) != 1 {
			return nil, fmt.Errorf("tlog: read %d hashes, asked for 1", len(h))
		}
		out[i] = &h[0]
	}
	return out, nil
}

// AuditRange recomputes [from, head.Size) in steps of at most step entries, starting from the
// stored right edge at from (checked against anchor when anchor.Size == from). It is the
// publisher's check of a new batch and, with from = 0, a full audit ('reclaim ledger fsck').
// It returns nil when everything matches, an *IntegrityError when something differs, or an I/O
// error.
func AuditRange(ctx context.Context, pool string, from int64, head Head, step int64, entries EntryReader, stored sumtlog.HashReader, anchor *Anchor) error {
	c, mm, err := StartCursor(from, stored, anchor)
	if err != nil {
		return err
	}
	for len(mm) == 0 && (c.Next < head.Size || (head.Size == 0 && c.Next == 0)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, mm, err = AuditStep(ctx, c, head, step, entries, stored, anchor)
		if err != nil {
			return err
		}
		if head.Size == 0 {
			break
		}
	}
	if len(mm) > 0 {
		return &IntegrityError{Pool: pool, Mismatches: mm}
	}
	return nil
}
