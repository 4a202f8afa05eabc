package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// SyncOptions are the optional inputs of Sync.
type SyncOptions struct {
	// Token, when set, is sent as "Authorization: Bearer <token>" with every request to the
	// policy's URL (tiles and entry bundles need it; the checkpoint is public).
	Token string
	// Now is the clock used to name evidence files; time.Now when nil.
	Now func() time.Time
}

// SyncResult describes a successful Sync.
type SyncResult struct {
	OldSize    int64
	Size       int64
	Root       tlog.Hash
	NewEntries int64
	// Checkpoint is the new verified checkpoint, now stored in the directory.
	Checkpoint *VerifiedCheckpoint
	// ConsistencyProof is the proof from OldSize to Size computed from verified tiles (empty
	// when OldSize is 0 or equals Size).
	ConsistencyProof []tlog.Hash
	// Rotations are the key rotations this Sync followed (see Sync), oldest first.
	Rotations []FollowedRotation
	// LogKey is the log key the new checkpoint is signed by: the policy's, or the last key a
	// followed rotation moved to.
	LogKey string
}

// RotationsFile is the file of the local copy that records the key rotations Sync followed, as
// a JSON array of FollowedRotation: the policy's log key, followed through it, gives the key the
// log signs with now.
const RotationsFile = "rotations.json"

// FollowedRotation is a key.rotation entry that Sync followed.
type FollowedRotation struct {
	// Index is the key.rotation entry's index in the log.
	Index  int64  `json:"index"`
	OldKey string `json:"old_key"`
	NewKey string `json:"new_key"`
	// Checkpoint is the checkpoint, signed by OldKey (with the witness quorum), that covers the
	// entry: the proof that the old key announced the new one.
	Checkpoint string `json:"checkpoint"`
}

// maxRotations bounds how many rotations one Sync follows.
const maxRotations = 16

// ForkEvidence is the evidence of a log that signed two checkpoints that cannot both be views of
// one append-only log (or that went back to a smaller tree). Both signed checkpoints are
// included, so anyone can check the signatures and repeat the computation.
type ForkEvidence struct {
	OldCheckpoint string    `json:"old_checkpoint"`
	NewCheckpoint string    `json:"new_checkpoint"`
	OldSize       int64     `json:"old_size"`
	NewSize       int64     `json:"new_size"`
	OldRoot       tlog.Hash `json:"old_root"`
	NewRoot       tlog.Hash `json:"new_root"`
	// RecomputedRoot is the root of the first min(OldSize, NewSize) leaves of the larger tree:
	// computed from tiles verified against NewRoot when the log grew, or from the locally
	// stored entries when it shrank. It differs from the smaller tree's signed root on a fork.
	RecomputedRoot *tlog.Hash `json:"recomputed_root,omitempty"`
	// Proof is the consistency proof from OldSize to NewSize built from the verified tiles;
	// tlog.CheckTree(Proof, NewSize, NewRoot, OldSize, OldRoot) fails on it.
	Proof       []tlog.Hash `json:"proof,omitempty"`
	Explanation string      `json:"explanation"`
}

// EntryEvidence is the evidence of a downloaded entry that failed a check.
type EntryEvidence struct {
	Checkpoint string     `json:"checkpoint"`
	Index      int64      `json:"index"`
	Entry      string     `json:"entry_base64,omitempty"`
	LeafHash   *tlog.Hash `json:"leaf_hash,omitempty"`
	TileHash   *tlog.Hash `json:"tile_hash,omitempty"`
	Problem    string     `json:"problem"`
}

// TileEvidence is the evidence of tiles that do not match the checkpoint they were fetched for.
type TileEvidence struct {
	Checkpoint string `json:"checkpoint"`
	Problem    string `json:"problem"`
	// Tile, Served and Expected (base64) are set when a served hash tile differs from the one
	// recomputed from the verified entries.
	Tile     string `json:"tile,omitempty"`
	Served   string `json:"served,omitempty"`
	Expected string `json:"expected,omitempty"`
}

// Sync brings the local copy of the log in dir (created if needed) up to the log's current
// checkpoint, checking everything before it stores anything:
//
//  1. the stored copy, if any, still matches its checkpoint (LoadLocal);
//  2. <url>checkpoint is signed by the log key, has the policy's origin and a witness quorum
//     (VerifyCheckpoint);
//  3. it is not smaller than the stored checkpoint (rollback), a checkpoint of the same size
//     has the same root, and a larger one is consistent with the stored one: the root of the
//     first old-size leaves, computed from hash tiles that sumdb's TileHashReader verifies
//     against the new root, must equal the stored root (and a consistency proof built from
//     those tiles is checked with tlog.CheckTree);
//  4. the new entry bundles parse, every entry is canonical (ParseEntry), carries the pool of
//     the log (and of the policy, if set), has an event_id not used before, and a period.report
//     has to_index equal to its own index;
//  5. the tree of all entries has the new checkpoint's root, and the served hash tiles of the
//     grown part are the ones the entries give.
//
// Only then are the new entries appended to dir/entries and the checkpoint stored in
// dir/checkpoint (fsync, then atomic rename).
//
// Sync streams: the stored copy is re-checked as it is read, entry bundles are fetched a few at
// a time and checked in log order as they arrive, and the new entries wait in a temporary file
// in dir until everything has been checked. What it keeps in memory is the tree's hashes and an
// index of the event_ids (a 64-bit hash of each, re-reading an entry on a hash collision), not
// the entries. Any failed check is returned as a *Failure whose
// evidence Sync has written as a JSON file in dir/evidence (a fork, a rollback, a wrong origin,
// bad signatures or quorum, tiles or entries that do not match); network and file errors are
// returned as they are.
func Sync(ctx context.Context, p *Policy, dir string, hc *http.Client, opt SyncOptions) (*SyncResult, error) {
	if p.URL == "" {
		return nil, errors.New("sync: the policy has no url directive")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &syncer{ctx: ctx, p: p, hc: hc, token: opt.Token}
	res, err := s.follow(dir)
	var f *Failure
	if errors.As(err, &f) && f.File == "" {
		if _, werr := WriteEvidence(filepath.Join(dir, EvidenceDir), f, now()); werr != nil {
			return nil, fmt.Errorf("%w (and writing the evidence failed: %v)", err, werr)
		}
	}
	return res, err
}

type syncer struct {
	ctx   context.Context
	p     *Policy
	hc    *http.Client
	token string
}

// fetchError is a network or HTTP failure, as opposed to bad data.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// get fetches the policy URL + path, reading at most limit bytes.
func (s *syncer) get(path string, limit int64) ([]byte, error) {
	return s.getInto(s.ctx, path, limit, nil)
}

// getInto is get with its own context, reading the body into buf's storage when it is large
// enough.
func (s *syncer) getInto(ctx context.Context, path string, limit int64, buf []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.p.URL+path, nil)
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, &fetchError{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &fetchError{fmt.Errorf("GET %s: %s: %s", s.p.URL+path, resp.Status, msg)}
	}
	b, err := readAllInto(io.LimitReader(resp.Body, limit+1), buf, min(resp.ContentLength, limit))
	if err != nil {
		return nil, &fetchError{fmt.Errorf("GET %s: %v", s.p.URL+path, err)}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", s.p.URL+path, limit)
	}
	return b, nil
}

// readAllInto reads r to its end into buf's storage (growing it as needed); sizeHint, when not
// negative, is the expected size.
func readAllInto(r io.Reader, buf []byte, sizeHint int64) ([]byte, error) {
	if sizeHint >= 0 && int64(cap(buf)) <= sizeHint {
		buf = make([]byte, 0, sizeHint+1) // +1: the read that sees EOF needs room
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// fetchWindow is how many requests for entry bundles or hash tiles Sync keeps in flight.
const fetchWindow = 4

// fetchResult is the outcome of one request of a fetcher.
type fetchResult struct {
	data []byte
	err  error
}

// fetcher fetches a sequence of paths, up to fetchWindow at a time, and hands the responses back
// in order, so that what is checked, and which error is reported first, does not depend on
// the order in which the responses arrive.
type fetcher struct {
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pending chan chan fetchResult // in request order
	free    chan []byte           // response buffers to reuse
}

// fetchInOrder starts fetching the n paths req(0), ..., req(n-1) (each with its size limit).
// The caller must call stop when done.
func (s *syncer) fetchInOrder(n int, req func(i int) (path string, limit int64)) *fetcher {
	ctx, cancel := context.WithCancel(s.ctx)
	f := &fetcher{ctx: ctx, cancel: cancel, pending: make(chan chan fetchResult, fetchWindow-1), free: make(chan []byte, fetchWindow+1)}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(f.pending)
		for i := 0; i < n; i++ {
			out := make(chan fetchResult, 1)
			select {
			case f.pending <- out:
			case <-ctx.Done():
				return
			}
			path, limit := req(i)
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				var buf []byte
				select {
				case buf = <-f.free:
				default:
				}
				data, err := s.getInto(ctx, path, limit, buf)
				out <- fetchResult{data, err}
			}()
		}
	}()
	return f
}

// next waits for the next response in order.
func (f *fetcher) next() fetchResult {
	out, ok := <-f.pending
	if !ok {
		return fetchResult{err: &fetchError{f.ctx.Err()}}
	}
	return <-out
}

// stop cancels the requests still in flight and waits for them to end.
func (f *fetcher) stop() {
	f.cancel()
	f.wg.Wait()
}

// recycle hands a response's buffer back for reuse; the caller must not use it any more.
func (f *fetcher) recycle(b []byte) {
	select {
	case f.free <- b:
	default:
	}
}

// tileReader is a tlog.TileReader over the log's hash tiles. It rejects tiles of the wrong
// length; tlog.TileHashReader checks their hashes against the tree.
type tileReader struct {
	s        *syncer
	fetchErr error
	cache    map[tlog.Tile][]byte
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if d, ok := r.cache[t]; ok {
			out[i] = d
			continue
		}
		path := TilePath(t)
		if path == "" || t.L < 0 {
			return nil, fmt.Errorf("cannot fetch tile %+v", t)
		}
		d, err := r.s.get(path, TileWidth*tlog.HashSize)
		if err != nil {
			var fe *fetchError
			if errors.As(err, &fe) {
				r.fetchErr = err
			}
			return nil, err
		}
		if _, err := ParseHashTile(t, d); err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		r.cache[t] = data[i]
	}
}

// follow runs the sync under the current log key (the policy's, followed through the rotations
// recorded in the local copy). When the log's checkpoint is not signed by that key, it asks the
// log for the checkpoint, signed by that key, that covers a key.rotation entry
// (key-rotation/<key hash>), syncs to it with every usual check (signature and witness quorum
// under the old key, consistency with the local copy, every entry), finds the key.rotation
// entry naming the old key in the verified entries, records it in RotationsFile, and syncs on
// under the new key. A new key is therefore accepted only through an entry validly in the log
// under a checkpoint signed by the key it replaces.
func (s *syncer) follow(dir string) (*SyncResult, error) {
	policy := *s.p
	followed, err := readRotations(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range followed {
		if r.OldKey == policy.LogKey {
			if err := setLogKey(&policy, r.NewKey); err != nil {
				return nil, fmt.Errorf("%s: %v", filepath.Join(dir, RotationsFile), err)
			}
		}
	}
	s.p = &policy
	var now []FollowedRotation
	for i := 0; ; i++ {
		res, err := s.run(dir, nil)
		if err == nil {
			res.Rotations, res.LogKey = now, policy.LogKey
			return res, nil
		}
		if !errors.Is(err, ErrNotSignedByLogKey) || i == maxRotations {
			return nil, err
		}
		v := policy.Log
		signed, ferr := s.get(fmt.Sprintf("key-rotation/%08x", v.KeyHash()), MaxCheckpointSize)
		if ferr != nil {
			// No rotation offered: the unknown signature stands.
			return nil, err
		}
		if _, err := s.run(dir, signed); err != nil {
			return nil, err
		}
		rot, err := findRotation(dir, policy.LogKey)
		if err != nil {
			return nil, &Failure{Kind: "key-rotation-invalid", Err: err, Evidence: &CheckpointEvidence{Checkpoint: string(signed), LogKey: policy.LogKey,
				Cosignatures: []Cosignature{}}}
		}
		rot.Checkpoint = string(signed)
		if err := setLogKey(&policy, rot.NewKey); err != nil {
			return nil, &Failure{Kind: "key-rotation-invalid", Err: err, Evidence: &CheckpointEvidence{Checkpoint: string(signed), LogKey: policy.LogKey,
				Cosignatures: []Cosignature{}}}
		}
		followed = append(followed, rot)
		now = append(now, rot)
		b, err := json.MarshalIndent(followed, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(filepath.Join(dir, RotationsFile), b, 0o644); err != nil {
			return nil, err
		}
	}
}

// setLogKey makes vkey the policy's log key.
func setLogKey(p *Policy, vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("the new log key %q: %v", vkey, err)
	}
	p.LogKey, p.Log = vkey, v
	return nil
}

// readRotations reads RotationsFile (none: no rotations).
func readRotations(dir string) ([]FollowedRotation, error) {
	b, err := os.ReadFile(filepath.Join(dir, RotationsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rs []FollowedRotation
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, RotationsFile), err)
	}
	return rs, nil
}

// findRotation returns the last key.rotation entry of the (verified) local copy whose old_key
// is oldKey.
func findRotation(dir, oldKey string) (FollowedRotation, error) {
	l, err := openLocal(dir)
	if err != nil {
		return FollowedRotation{}, err
	}
	var found *FollowedRotation
	err = l.scan(func(n, off int64, e []byte, pe Entry) error {
		if r, ok := pe.(KeyRotation); ok && r.OldKey == oldKey {
			found = &FollowedRotation{Index: n, OldKey: r.OldKey, NewKey: r.NewKey}
		}
		return nil
	})
	if err != nil {
		return FollowedRotation{}, err
	}
	if found == nil {
		return FollowedRotation{}, fmt.Errorf("the log offered a key rotation, but its checkpoint of size %d signed by the old key covers no key.rotation entry naming that key", l.Checkpoint.Size)
	}
	return *found, nil
}

func (s *syncer) run(dir string, signed []byte) (*SyncResult, error) {
	// Re-check the stored copy, streaming it: keep its hashes and an index of its event_ids,
	// not its entries.
	st := &syncState{}
	defer st.close()
	local, err := openLocal(dir)
	switch {
	case err == nil:
		st.from, st.hashes = local.Checkpoint.Size, local.hashes
		st.stored.name = filepath.Join(dir, EntriesFile)
		st.tailStart = local.Checkpoint.Size / TileWidth * TileWidth
		st.events = newEventSet(local.Checkpoint.Size, st.eventIDOf)
		if err := local.scan(st.visitStored); err != nil {
			return nil, err
		}
		st.keep = local.entryBytes
	case errors.Is(err, fs.ErrNotExist):
		local = nil
	default:
		return nil, err
	}
	if signed == nil {
		if signed, err = s.get("checkpoint", MaxCheckpointSize); err != nil {
			return nil, err
		}
	}
	vc, err := VerifyCheckpoint(s.p, signed)
	if err != nil {
		return nil, err
	}
	res := &SyncResult{Size: vc.Size, Root: vc.Hash, Checkpoint: vc}
	var old Checkpoint
	if local != nil {
		old = local.Checkpoint
		res.OldSize = old.Size
		if old.Origin != vc.Origin {
			return nil, &Failure{Kind: "checkpoint-origin", Err: fmt.Errorf("the stored copy is of origin %q, the log now serves %q", old.Origin, vc.Origin),
				Evidence: &ForkEvidence{OldCheckpoint: string(local.Signed), NewCheckpoint: string(signed), OldSize: old.Size, NewSize: vc.Size,
					OldRoot: old.Hash, NewRoot: vc.Hash, Explanation: "the stored checkpoint and the served checkpoint name different logs"}}
		}
	}
	ev := &ForkEvidence{NewCheckpoint: string(signed), OldSize: old.Size, NewSize: vc.Size, OldRoot: old.Hash, NewRoot: vc.Hash}
	if local != nil {
		ev.OldCheckpoint = string(local.Signed)
	}
	tr := &tileReader{s: s, cache: map[tlog.Tile][]byte{}}
	hr := tlog.TileHashReader(tlog.Tree{N: vc.Size, Hash: vc.Hash}, tr)
	tileFailure := func(what string, err error) error {
		if tr.fetchErr != nil {
			return fmt.Errorf("%s: %w", what, tr.fetchErr)
		}
		te := &TileEvidence{Checkpoint: string(signed), Problem: fmt.Sprintf("%s: %v", what, err)}
		return &Failure{Kind: "tiles-invalid", Err: fmt.Errorf("the log's tiles do not match its checkpoint of size %d: %s: %v", vc.Size, what, err), Evidence: te}
	}
	switch {
	case local == nil || old.Size == 0:
	case vc.Size < old.Size:
		ev.Explanation = fmt.Sprintf("the log served a checkpoint of size %d after one of size %d: a log never shrinks", vc.Size, old.Size)
		if vc.Size > 0 {
			r, err := tlog.TreeHash(vc.Size, local.hashes)
			if err != nil {
				return nil, err
			}
			ev.RecomputedRoot = &r
			if r == vc.Hash {
				ev.Explanation += "; its root matches the first entries of the stored copy (a rollback to an older state)"
			} else {
				ev.Explanation += "; its root does not match the first entries of the stored copy either (a fork)"
			}
		}
		kind := "log-rollback"
		if ev.RecomputedRoot != nil && *ev.RecomputedRoot != vc.Hash {
			kind = "log-fork"
		}
		return nil, &Failure{Kind: kind, Err: errors.New(ev.Explanation), Evidence: ev}
	case vc.Size == old.Size:
		if vc.Hash != old.Hash {
			ev.Explanation = fmt.Sprintf("two checkpoints of size %d with different roots (%s, %s): the log forked", vc.Size, old.Hash, vc.Hash)
			return nil, &Failure{Kind: "log-fork", Err: errors.New(ev.Explanation), Evidence: ev}
		}
	default:
		r, err := tlog.TreeHash(old.Size, hr)
		if err != nil {
			return nil, tileFailure(fmt.Sprintf("computing the root of size %d", old.Size), err)
		}
		proof, err := tlog.ProveTree(vc.Size, old.Size, hr)
		if err != nil {
			return nil, tileFailure(fmt.Sprintf("proving %d..%d", old.Size, vc.Size), err)
		}
		ev.RecomputedRoot, ev.Proof = &r, proof
		if r != old.Hash || tlog.CheckTree(proof, vc.Size, vc.Hash, old.Size, old.Hash) != nil {
			ev.Explanation = fmt.Sprintf("the new tree of size %d (root %s) does not contain the stored tree of size %d (root %s): "+
				"its first %d leaves have root %s; the log forked", vc.Size, vc.Hash, old.Size, old.Hash, old.Size, r)
			return nil, &Failure{Kind: "log-fork", Err: errors.New(ev.Explanation), Evidence: ev}
		}
		res.ConsistencyProof = proof
	}
	// Download and check the new entries, one bundle at a time as they arrive.
	hashes := &hashStore{}
	if local != nil {
		hashes = st.hashes
	}
	hashes.reserve(min(vc.Size, 1<<22)) // (a bigger log grows it as it goes)
	if st.events == nil {
		st.events = newEventSet(vc.Size, st.eventIDOf)
	}
	from := st.from
	pool := s.p.Pool
	if pool == "" {
		pool = st.pool0
	}
	entryFail := func(idx int64, e []byte, format string, args ...any) error {
		ee := &EntryEvidence{Checkpoint: string(signed), Index: idx, Problem: fmt.Sprintf(format, args...)}
		if e != nil {
			ee.Entry = base64.StdEncoding.EncodeToString(e)
		}
		return &Failure{Kind: "entry-invalid", Err: fmt.Errorf("entry %d: %s", idx, ee.Problem), Evidence: ee}
	}
	if from < vc.Size {
		// New entries go to a temporary file until everything is checked.
		if st.spool, err = newSpool(dir); err != nil {
			return nil, err
		}
		defer st.spool.discard()
		first := from / TileWidth
		bundleTile := func(k int64) tlog.Tile {
			return tlog.Tile{H: TileHeight, L: -1, N: k, W: int(min(TileWidth, vc.Size-k*TileWidth))}
		}
		nb := (vc.Size+TileWidth-1)/TileWidth - first
		fb := s.fetchInOrder(int(nb), func(i int) (string, int64) {
			return TilePath(bundleTile(first + int64(i))), int64(TileWidth) * (2 + MaxBundleEntry)
		})
		defer fb.stop()
		for k := first; k < first+nb; k++ {
			t := bundleTile(k)
			r := fb.next()
			if r.err != nil {
				return nil, r.err
			}
			bundle, err := ParseEntryBundle(r.data, t.W)
			if err != nil {
				return nil, entryFail(k*TileWidth, nil, "entry bundle %s: %v", TilePath(t), err)
			}
			for j, e := range bundle {
				idx := k*TileWidth + int64(j)
				if idx < from {
					if string(e) != string(st.tail[j]) {
						return nil, entryFail(idx, e, "bundle %s serves a different entry %d than the stored (verified) copy", TilePath(t), idx)
					}
					continue
				}
				pe, err := ParseEntry(e)
				if err != nil {
					return nil, entryFail(idx, e, "%v", err)
				}
				h := pe.EntryHeader()
				if pool == "" {
					pool = h.Pool
				}
				if h.Pool != pool {
					return nil, entryFail(idx, e, "pool %q, but the log is of pool %q", h.Pool, pool)
				}
				prev, dup, err := st.events.add(h.EventID, idx)
				if err != nil {
					return nil, err
				}
				if dup {
					return nil, entryFail(idx, e, "event_id %q was already used by entry %d", h.EventID, prev)
				}
				if r, ok := pe.(PeriodReport); ok && r.ToIndex != idx {
					return nil, entryFail(idx, e, "period.report has to_index %d, but it is entry %d", r.ToIndex, idx)
				}
				if err := hashes.add(idx, e); err != nil {
					return nil, err
				}
				if err := st.spool.append(e); err != nil {
					return nil, err
				}
			}
			fb.recycle(r.data)
		}
		fb.stop()
	}
	root, err := tlog.TreeHash(vc.Size, hashes)
	if err != nil {
		return nil, err
	}
	if root != vc.Hash {
		// Find the first leaf that differs from the verified level-0 tiles.
		for i := from; i < vc.Size; i++ {
			th, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
			if err != nil {
				return nil, tileFailure("reading leaf hashes", err)
			}
			if lh := hashes.h[tlog.StoredHashIndex(0, i)]; th[0] != lh {
				e, err := st.spool.read(i - from)
				if err != nil {
					return nil, err
				}
				return nil, entryFail(i, e, "the served entry hashes to %s, the log's verified tile says %s", lh, th[0])
			}
		}
		return nil, entryFail(from, nil, "the entries hash to root %s, the checkpoint says %s", root, vc.Hash)
	}
	// The served hash tiles of the grown part must be the ones the entries give: a stored hash
	// altered on the server (which would falsify proofs served to others) is caught here even
	// though the entries themselves are intact.
	if from < vc.Size {
		tiles := tlog.NewTiles(TileHeight, from, vc.Size)
		ft := s.fetchInOrder(len(tiles), func(i int) (string, int64) {
			return TilePath(tiles[i]), int64(tiles[i].W*tlog.HashSize) + 1
		})
		defer ft.stop()
		for _, t := range tiles {
			want, err := tlog.ReadTileData(t, hashes)
			if err != nil {
				return nil, err
			}
			r := ft.next()
			if r.err != nil {
				return nil, r.err
			}
			if !bytes.Equal(r.data, want) {
				te := &TileEvidence{Checkpoint: string(signed), Tile: TilePath(t), Served: base64.StdEncoding.EncodeToString(r.data),
					Expected: base64.StdEncoding.EncodeToString(want),
					Problem:  fmt.Sprintf("hash tile %s differs from the tile the log's own (verified) entries give", TilePath(t))}
				return nil, &Failure{Kind: "tiles-invalid", Err: fmt.Errorf("the log serves a hash tile %s that its entries do not give: a stored hash was altered", TilePath(t)), Evidence: te}
			}
			ft.recycle(r.data)
		}
		ft.stop()
	}
	// Everything checked: store the entries, then the checkpoint.
	if from < vc.Size {
		if err := st.spool.commit(filepath.Join(dir, EntriesFile), st.keep); err != nil {
			return nil, err
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, CheckpointFile), signed, 0o644); err != nil {
		return nil, err
	}
	res.NewEntries = vc.Size - from
	return res, nil
}
