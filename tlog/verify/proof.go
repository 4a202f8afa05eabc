package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"
)

// MaxProofHashes bounds the number of hashes in a proof: 63 suffice for any tree of at most
// 2^63 leaves (inclusion) and 2*63 for consistency; more is malformed.
const MaxProofHashes = 126

// MaxProofJSON bounds a proof or receipt document in bytes.
const MaxProofJSON = 256 << 10

// InclusionProof is the JSON document {"index":I,"size":N,"proof":["<b64 hash>",...]}: the
// RFC 6962 inclusion proof of leaf I in the tree of size N, hashes in standard base64 in the
// order sumdb/tlog.ProveRecord returns them.
type InclusionProof struct {
	Index int64       `json:"index"`
	Size  int64       `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// ConsistencyProof is the JSON document {"old":M,"size":N,"proof":["<b64 hash>",...]}: the RFC
// 6962 consistency proof from the tree of size M to the tree of size N, hashes in standard
// base64 in the order sumdb/tlog.ProveTree returns them.
type ConsistencyProof struct {
	Old   int64       `json:"old"`
	Size  int64       `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// Receipt is the JSON document {"pool":"P","index":I,"entry":"<b64 entry>","proof":[...],
// "checkpoint":"<signed note>"}: everything needed to check offline that the entry (its exact
// bytes, standard base64) is leaf I of the log whose signed and cosigned checkpoint is given.
// The proof is the inclusion proof of I in the checkpoint's tree.
type Receipt struct {
	Pool       string      `json:"pool"`
	Index      int64       `json:"index"`
	Entry      []byte      `json:"entry"`
	Proof      []tlog.Hash `json:"proof"`
	Checkpoint string      `json:"checkpoint"`
}

// wire forms with hashes as strings, so that decoding is strict about them.
type inclusionWire struct {
	Index *int64   `json:"index"`
	Size  *int64   `json:"size"`
	Proof []string `json:"proof"`
}

type consistencyWire struct {
	Old   *int64   `json:"old"`
	Size  *int64   `json:"size"`
	Proof []string `json:"proof"`
}

type receiptWire struct {
	// Schema is the "$schema" link that huma-based APIs add to JSON bodies; it is ignored.
	Schema     *string  `json:"$schema"`
	Pool       *string  `json:"pool"`
	Index      *int64   `json:"index"`
	Entry      *string  `json:"entry"`
	Proof      []string `json:"proof"`
	Checkpoint *string  `json:"checkpoint"`
}

// decodeStrict decodes one JSON object into v, rejecting unknown keys, trailing data and
// oversize input.
func decodeStrict(b []byte, v any) error {
	if len(b) > MaxProofJSON {
		return fmt.Errorf("%d bytes, more than %d", len(b), MaxProofJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func decodeHashes(list []string) ([]tlog.Hash, error) {
	if list == nil {
		return nil, errors.New(`missing "proof"`)
	}
	if len(list) > MaxProofHashes {
		return nil, fmt.Errorf("proof has %d hashes, more than %d", len(list), MaxProofHashes)
	}
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := decodeHash(s)
		if err != nil {
			return nil, fmt.Errorf("proof[%d]: %v", i, err)
		}
		out[i] = h
	}
	return out, nil
}

// ParseInclusionProof decodes an InclusionProof document strictly: all keys present, no
// others, 0 <= index < size, each hash canonical base64 of 32 bytes, at most MaxProofHashes.
func ParseInclusionProof(b []byte) (*InclusionProof, error) {
	var w inclusionWire
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("inclusion proof: %v", err)
	}
	if w.Index == nil || w.Size == nil {
		return nil, errors.New(`inclusion proof: missing "index" or "size"`)
	}
	if *w.Index < 0 || *w.Index >= *w.Size {
		return nil, fmt.Errorf("inclusion proof: index %d is not in a tree of size %d", *w.Index, *w.Size)
	}
	hs, err := decodeHashes(w.Proof)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %v", err)
	}
	return &InclusionProof{Index: *w.Index, Size: *w.Size, Proof: hs}, nil
}

// ParseConsistencyProof decodes a ConsistencyProof document strictly: all keys present, no
// others, 0 <= old <= size, each hash canonical base64 of 32 bytes, at most MaxProofHashes.
func ParseConsistencyProof(b []byte) (*ConsistencyProof, error) {
	var w consistencyWire
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("consistency proof: %v", err)
	}
	if w.Old == nil || w.Size == nil {
		return nil, errors.New(`consistency proof: missing "old" or "size"`)
	}
	if *w.Old < 0 || *w.Old > *w.Size {
		return nil, fmt.Errorf("consistency proof: old size %d is not in 0..%d", *w.Old, *w.Size)
	}
	hs, err := decodeHashes(w.Proof)
	if err != nil {
		return nil, fmt.Errorf("consistency proof: %v", err)
	}
	return &ConsistencyProof{Old: *w.Old, Size: *w.Size, Proof: hs}, nil
}

// ParseReceipt decodes a Receipt document strictly: all keys present, no others (except an
// ignored "$schema" link, which some JSON APIs add), index >= 0,
// entry canonical standard base64 of 1 to MaxEntrySize bytes, hashes as for proofs. It does not
// check the receipt; see CheckReceipt.
func ParseReceipt(b []byte) (*Receipt, error) {
	var w receiptWire
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("receipt: %v", err)
	}
	if w.Pool == nil || w.Index == nil || w.Entry == nil || w.Checkpoint == nil {
		return nil, errors.New(`receipt: missing one of "pool", "index", "entry", "checkpoint"`)
	}
	if *w.Index < 0 {
		return nil, fmt.Errorf("receipt: negative index %d", *w.Index)
	}
	entry, err := base64.StdEncoding.Strict().DecodeString(*w.Entry)
	if err != nil || base64.StdEncoding.EncodeToString(entry) != *w.Entry {
		return nil, errors.New("receipt: entry is not canonical standard base64")
	}
	if len(entry) == 0 || len(entry) > MaxEntrySize {
		return nil, fmt.Errorf("receipt: entry is %d bytes (1 to %d allowed)", len(entry), MaxEntrySize)
	}
	hs, err := decodeHashes(w.Proof)
	if err != nil {
		return nil, fmt.Errorf("receipt: %v", err)
	}
	return &Receipt{Pool: *w.Pool, Index: *w.Index, Entry: entry, Proof: hs, Checkpoint: *w.Checkpoint}, nil
}

// ReceiptEvidence is the evidence of a receipt that failed CheckReceipt.
type ReceiptEvidence struct {
	Receipt  *Receipt  `json:"receipt"`
	LeafHash tlog.Hash `json:"leaf_hash"`
	Size     int64     `json:"size,omitempty"`
	Root     tlog.Hash `json:"root,omitempty"`
	Problem  string    `json:"problem"`
}

// CheckedReceipt is a receipt that passed CheckReceipt.
type CheckedReceipt struct {
	Entry      Entry
	LeafHash   tlog.Hash
	Checkpoint *VerifiedCheckpoint
}

// CheckReceipt verifies a receipt fully offline against the policy: the checkpoint's log
// signature, origin and witness quorum (VerifyCheckpoint); that the index is inside the
// checkpoint's tree; that the entry is in canonical form (ParseEntry) and carries the receipt's
// pool (and the policy's pool, if set); and the inclusion proof of the entry's leaf hash at the
// index under the checkpoint's root (tlog.CheckRecord). Any failure is a *Failure with
// evidence.
func CheckReceipt(p *Policy, r *Receipt) (*CheckedReceipt, error) {
	if r == nil {
		return nil, errors.New("nil receipt")
	}
	vc, err := VerifyCheckpoint(p, []byte(r.Checkpoint))
	if err != nil {
		return nil, err
	}
	leaf := tlog.RecordHash(r.Entry)
	ev := &ReceiptEvidence{Receipt: r, LeafHash: leaf, Size: vc.Size, Root: vc.Hash}
	fail := func(kind, format string, args ...any) (*CheckedReceipt, error) {
		ev.Problem = fmt.Sprintf(format, args...)
		return nil, &Failure{Kind: kind, Err: errors.New(ev.Problem), Evidence: ev}
	}
	if r.Index < 0 || r.Index >= vc.Size {
		return fail("receipt-index", "index %d is beyond the checkpoint's tree of size %d", r.Index, vc.Size)
	}
	e, err := ParseEntry(r.Entry)
	if err != nil {
		return fail("receipt-entry", "entry at index %d is not a canonical entry: %v", r.Index, err)
	}
	if e.EntryHeader().Pool != r.Pool {
		return fail("receipt-entry", "entry's pool %q is not the receipt's pool %q", e.EntryHeader().Pool, r.Pool)
	}
	if p.Pool != "" && r.Pool != p.Pool {
		return fail("receipt-entry", "receipt's pool %q is not the policy's pool %q", r.Pool, p.Pool)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(r.Proof), vc.Size, vc.Hash, r.Index, leaf); err != nil {
		return fail("receipt-proof", "inclusion proof of leaf %d (hash %s) does not lead to root %s at size %d", r.Index, leaf, vc.Hash, vc.Size)
	}
	return &CheckedReceipt{Entry: e, LeafHash: leaf, Checkpoint: vc}, nil
}

// CheckInclusion checks an inclusion proof of the leaf hash under a verified checkpoint: the
// proof's size must be the checkpoint's size.
func CheckInclusion(c Checkpoint, pr *InclusionProof, leaf tlog.Hash) error {
	if pr.Size != c.Size {
		return fmt.Errorf("inclusion proof is for size %d, checkpoint has size %d", pr.Size, c.Size)
	}
	if pr.Index < 0 || pr.Index >= c.Size {
		return fmt.Errorf("index %d is beyond the tree of size %d", pr.Index, c.Size)
	}
	return tlog.CheckRecord(tlog.RecordProof(pr.Proof), c.Size, c.Hash, pr.Index, leaf)
}

// CheckConsistency checks a consistency proof between two checkpoints of the same log (old no
// larger than new): the proof's sizes must be theirs and it must tie the two roots together.
func CheckConsistency(old, new Checkpoint, pr *ConsistencyProof) error {
	if pr.Old != old.Size || pr.Size != new.Size {
		return fmt.Errorf("consistency proof is for %d..%d, checkpoints are %d..%d", pr.Old, pr.Size, old.Size, new.Size)
	}
	if old.Size > new.Size {
		return fmt.Errorf("old size %d is larger than new size %d", old.Size, new.Size)
	}
	if old.Size == 0 {
		if len(pr.Proof) != 0 {
			return errors.New("consistency proof from the empty tree must be empty")
		}
		return nil
	}
	return tlog.CheckTree(tlog.TreeProof(pr.Proof), new.Size, new.Hash, old.Size, old.Hash)
}
