package tlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"
)

// Head is a log's current tree as the database holds it.
type Head struct {
	Origin string
	Size   int64
	Root   Hash
}

// Source is the publisher's view of the stored logs.
type Source interface {
	// Head returns the pool's current tree.
	Head(ctx context.Context, pool string) (Head, error)
	// Hashes returns a reader of the pool's stored hashes.
	Hashes(ctx context.Context, pool string) sumtlog.HashReader
	// SaveCheckpoint stores a published checkpoint (insert-only).
	SaveCheckpoint(ctx context.Context, pool string, c Published) error
	// LeafEntries returns the stored entries with indices in [from, to) that exist, in index
	// order (a missing entry is absent, not an error).
	LeafEntries(ctx context.Context, pool string, from, to int64) ([]IndexedEntry, error)
}

// Published is a checkpoint the publisher signed, with the witness cosignatures it gathered.
type Published struct {
	Size      int64  `json:"size"`
	Root      Hash   `json:"root"`
	Note      []byte `json:"note"`      // the signed note: body, blank line, signature lines
	Cosigners int    `json:"cosigners"` // witness cosignatures on Note
	// Witnesses maps each witness's name to the tree size it last cosigned (the "old" size of
	// the next request to it).
	Witnesses map[string]int64 `json:"witnesses,omitempty"`
}

// Witness is one configured witness (C2SP tlog-witness). AddCheckpoint sends the signed
// checkpoint with a consistency proof from oldSize and returns the witness's cosignature lines
// (signature lines of the note format). A witness that holds a different size answers with a
// *SizeConflict.
type Witness interface {
	Name() string
	AddCheckpoint(ctx context.Context, oldSize int64, proof []Hash, signed []byte) ([]byte, error)
}

// SizeConflict is a witness's answer when the old size of a request is not the size it holds.
type SizeConflict struct{ Size int64 }

func (e *SizeConflict) Error() string {
	return "witness holds tree size " + strconv.FormatInt(e.Size, 10)
}

// Errors the publisher returns instead of signing.
var (
	// ErrRollback: the stored tree is smaller than the last checkpoint this publisher signed
	// (the database was restored from a backup, or rows were removed).
	ErrRollback = errors.New("tlog: the stored tree is smaller than the last published checkpoint")
	// ErrFork: the stored tree is not an extension of the last published checkpoint.
	ErrFork = errors.New("tlog: the stored tree is inconsistent with the last published checkpoint")
	// ErrQuorum: fewer witnesses cosigned than the policy requires; the checkpoint was signed
	// (and is remembered) but not published.
	ErrQuorum = errors.New("tlog: witness quorum not reached")
)

// Publisher signs checkpoints of the stored logs after checking that each extends the last one it
// signed, collects witness cosignatures, and stores the result. Its memory of what it signed is
// its own State (a file beside the key, not the database), so a database restored from a backup
// cannot make it sign a fork. Publish is safe for concurrent use.
type Publisher struct {
	Signer note.Signer
	// SignerFor, when set, chooses the signer of each pool instead of Signer (pools whose key
	// was rotated are signed by their own key); an error refuses to sign.
	SignerFor func(ctx context.Context, pool string) (note.Signer, error)
	Source    Source
	State     State
	Witnesses []Witness
	// Quorum is how many witness cosignatures a checkpoint needs to be published.
	Quorum int

	mu sync.Mutex
}

// State remembers the last checkpoint signed per pool.
type State interface {
	Last(pool string) (Published, bool, error)
	Save(pool string, p Published) error
}

// Body formats a C2SP checkpoint body: origin, decimal tree size and base64 root hash, one per line.
func Body(origin string, size int64, root Hash) []byte {
	return []byte(origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n")
}

// Publish signs a checkpoint of the pool's current tree, or returns the last one unchanged when
// the tree has not grown. It never signs a tree smaller than, or inconsistent with, the last one
// it signed, and it re-derives the root from the stored hashes rather than trusting the stored
// root. With witnesses configured it publishes only when Quorum of them cosigned.
func (p *Publisher) Publish(ctx context.Context, pool string) (Published, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	head, err := p.Source.Head(ctx, pool)
	if err != nil {
		return Published{}, err
	}
	r := p.Source.Hashes(ctx, pool)
	root, err := sumtlog.TreeHash(head.Size, r)
	if err != nil {
		return Published{}, fmt.Errorf("tlog: hashing pool %s at size %d: %w", pool, head.Size, err)
	}
	if root != head.Root {
		return Published{}, fmt.Errorf("%w: stored root %s but the stored hashes give %s", ErrFork, head.Root, root)
	}
	last, ok, err := p.State.Last(pool)
	if err != nil {
		return Published{}, err
	}
	if ok {
		switch {
		case head.Size < last.Size:
			return Published{}, fmt.Errorf("%w: pool %s has %d entries, checkpoint %d was published", ErrRollback, pool, head.Size, last.Size)
		case head.Size == last.Size && head.Root != last.Root:
			return Published{}, fmt.Errorf("%w: pool %s at size %d has root %s, published %s", ErrFork, pool, head.Size, head.Root, last.Root)
		case head.Size == last.Size && last.Cosigners >= p.Quorum:
			return last, nil
		case head.Size > last.Size:
			proof, err := sumtlog.ProveTree(head.Size, last.Size, r)
			if err == nil {
				err = sumtlog.CheckTree(proof, head.Size, head.Root, last.Size, last.Root)
			}
			if err != nil {
				return Published{}, fmt.Errorf("%w: pool %s size %d does not extend published size %d: %v", ErrFork, pool, head.Size, last.Size, err)
			}
		}
	}
	// Recompute every hash the entries added since the last signed checkpoint produce, from the
	// entries themselves, starting from the stored right edge of that checkpoint (which must
	// still give its root): a changed entry, leaf hash or interior hash, or a missing entry, in
	// the new batch stops the signing.
	var from int64
	var anchor *Anchor
	if ok && last.Size <= head.Size {
		from, anchor = last.Size, &Anchor{Size: last.Size, Root: last.Root}
	}
	entries := func(ctx context.Context, a, b int64) ([]IndexedEntry, error) {
		return p.Source.LeafEntries(ctx, pool, a, b)
	}
	if err := AuditRange(ctx, pool, from, head, 4096, entries, r, anchor); err != nil {
		return Published{}, err
	}
	signer := p.Signer
	if p.SignerFor != nil {
		if signer, err = p.SignerFor(ctx, pool); err != nil {
			return Published{}, err
		}
	}
	signed, err := note.Sign(&note.Note{Text: string(Body(head.Origin, head.Size, head.Root))}, signer)
	if err != nil {
		return Published{}, fmt.Errorf("tlog: signing: %w", err)
	}
	pub := Published{Size: head.Size, Root: head.Root, Note: signed, Witnesses: map[string]int64{}}
	for k, v := range last.Witnesses {
		pub.Witnesses[k] = v
	}
	// Remember what was signed before anyone sees it.
	if err := p.State.Save(pool, pub); err != nil {
		return Published{}, err
	}
	var cosigs [][]byte
	var errs []error
	for _, w := range p.Witnesses {
		sig, size, err := p.cosign(ctx, w, pub.Witnesses[w.Name()], head, r, signed)
		if err != nil {
			errs = append(errs, fmt.Errorf("witness %s: %w", w.Name(), err))
			continue
		}
		pub.Witnesses[w.Name()] = size
		cosigs = append(cosigs, sig)
	}
	pub.Cosigners = len(cosigs)
	for _, c := range cosigs {
		pub.Note = append(pub.Note, c...)
		if len(c) > 0 && c[len(c)-1] != '\n' {
			pub.Note = append(pub.Note, '\n')
		}
	}
	if err := p.State.Save(pool, pub); err != nil {
		return Published{}, err
	}
	if pub.Cosigners < p.Quorum {
		return pub, fmt.Errorf("%w: %d of %d required cosignatures (%v)", ErrQuorum, pub.Cosigners, p.Quorum, errors.Join(errs...))
	}
	if err := p.Source.SaveCheckpoint(ctx, pool, pub); err != nil {
		return Published{}, err
	}
	return pub, nil
}

// cosign asks one witness, retrying once from the size it says it holds.
func (p *Publisher) cosign(ctx context.Context, w Witness, old int64, head Head, r sumtlog.HashReader, signed []byte) ([]byte, int64, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if old > head.Size {
			return nil, 0, fmt.Errorf("witness holds size %d, larger than the log's %d", old, head.Size)
		}
		var proof []Hash
		if old > 0 && old < head.Size {
			tp, err := sumtlog.ProveTree(head.Size, old, r)
			if err != nil {
				return nil, 0, err
			}
			proof = tp
		}
		sig, err := w.AddCheckpoint(ctx, old, proof, signed)
		var sc *SizeConflict
		if errors.As(err, &sc) && attempt == 0 {
			old = sc.Size
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		return sig, head.Size, nil
	}
	return nil, 0, errors.New("witness size conflict persists")
}

// FileState keeps the publisher's memory in a JSON file, replaced atomically (write, fsync,
// rename) on every save.
type FileState struct {
	Path string
	mu   sync.Mutex
}

func (f *FileState) load() (map[string]Published, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Published{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tlog: publisher state: %w", err)
	}
	m := map[string]Published{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tlog: publisher state %s is corrupt: %w", f.Path, err)
	}
	return m, nil
}

// Last returns the last checkpoint saved for pool.
func (f *FileState) Last(pool string) (Published, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return Published{}, false, err
	}
	p, ok := m[pool]
	return p, ok, nil
}

// Save records p as the last checkpoint signed for pool.
func (f *FileState) Save(pool string, p Published) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return err
	}
	m[pool] = p
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(f.Path, b)
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LoadSigner reads a note signer key (the "PRIVATE+KEY+name+hash+key" string that
// GenerateKey writes) from a file that only its owner may read.
func LoadSigner(path string) (note.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tlog: signing key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("tlog: signing key %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlog: signing key: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("tlog: signing key %s: %w", path, err)
	}
	return s, nil
}

// GenerateKey writes a new Ed25519 note signing key named name to path (mode 0600, refusing to
// overwrite) and returns its verifier key, the string investors put in their policy file.
func GenerateKey(name, path string) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(nil, name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("tlog: writing signing key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return "", err
	}
	return vkey, nil
}

// Split separates a signed note into its text and its signature lines.
func Split(signed []byte) (text, sigs []byte, ok bool) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil, nil, false
	}
	return signed[:i+1], signed[i+2:], true
}
