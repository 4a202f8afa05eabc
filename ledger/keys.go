package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/tlog"
)

// The log keys of the pools: each pool's checkpoints are signed by the key the database records
// for it (ledger_keys); a node refuses to start without it, and a key changes only by a
// key.rotation entry signed under the old key (RotateKey).

// loadKey reads a note signing key file and its verifier key (path + ".pub"), which must match.
func loadKey(path string) (note.Signer, string, error) {
	signer, err := tlog.LoadSigner(path)
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		return nil, "", fmt.Errorf("ledger verifier key %s.pub: %w", path, err)
	}
	vkey := strings.TrimSpace(string(b))
	if v, err := note.NewVerifier(vkey); err != nil || v.KeyHash() != signer.KeyHash() || v.Name() != signer.Name() {
		return nil, "", fmt.Errorf("ledger verifier key %s.pub does not match the signing key", path)
	}
	return signer, vkey, nil
}

func poolNames(ps []tlog.Pool) string {
	var names []string
	for i, p := range ps {
		if i == 5 {
			names = append(names, "...")
			break
		}
		names = append(names, p.Pool)
	}
	return strings.Join(names, ", ")
}

// keyLabel is how a verifier key is named in messages: name+keyhash.
func keyLabel(vkey string) string {
	if v, err := note.NewVerifier(vkey); err == nil {
		return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())
	}
	return vkey
}

// checkKeys checks every pool's recorded key against the loaded keys, recording the key of a
// pool that has none yet (a pool opened before keys were recorded: its latest checkpoint must
// verify with the key; a pool without checkpoints gets the primary key).
func (s *Service) checkKeys(ctx context.Context) error {
	pools, err := s.db.LedgerPools(ctx)
	if err != nil {
		return err
	}
	for _, p := range pools {
		if _, _, err := s.poolKey(ctx, p.Pool); err != nil {
			return err
		}
	}
	return nil
}

// poolKey returns the pool's current verifier key and its signer, binding a pool without a
// recorded key as checkKeys says.
func (s *Service) poolKey(ctx context.Context, pool string) (string, note.Signer, error) {
	ks, err := s.db.PoolLogKeys(ctx, pool)
	if err != nil {
		return "", nil, err
	}
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if len(ks) == 0 {
		bind := s.vkey
		if cp, err := s.db.LatestCheckpoint(ctx, pool); err == nil {
			bind = ""
			for vk := range s.keys {
				v, err := note.NewVerifier(vk)
				if err != nil {
					continue
				}
				if _, err := note.Open([]byte(cp.Note), note.VerifierList(v)); err == nil {
					bind = vk
					break
				}
			}
			if bind == "" {
				return "", nil, reclaim.Errorf(sqldb.ErrWrongKey, "pool %s's published checkpoints are not signed by the ledger key given (%s): "+
					"give the key that signed them with --ledger-key", pool, s.loadedKeysLocked())
			}
		} else if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			return "", nil, err
		}
		if err := s.db.AddPoolLogKey(ctx, pool, 0, bind); err != nil {
			return "", nil, err
		}
		ks = []sqldb.LogKey{{SinceSize: 0, VKey: bind}}
	}
	cur := ks[len(ks)-1].VKey
	sg, ok := s.keys[cur]
	if !ok {
		return "", nil, reclaim.Errorf(sqldb.ErrWrongKey, "pool %s is signed by the key %s (recorded in the database), but the ledger key file given "+
			"(%s: %s) is not that key: give its file with --ledger-key (or --ledger-extra-key); a pool's key changes only with "+
			"'reclaim ledger rotate-key', signed by the old key", pool, keyLabel(cur), s.keyFile, s.loadedKeysLocked())
	}
	return cur, sg, nil
}

func (s *Service) loadedKeysLocked() string {
	var l []string
	for vk := range s.keys {
		l = append(l, keyLabel(vk))
	}
	return strings.Join(l, ", ")
}

// signerFor is the publisher's choice of signer: the pool's recorded key, read at every
// signing, so a rotation done by another process is honoured (or refused when this node does
// not hold the new key).
func (s *Service) signerFor(ctx context.Context, pool string) (note.Signer, error) {
	_, sg, err := s.poolKey(ctx, pool)
	return sg, err
}

// PoolVerifierKey returns the verifier key that signs the pool's checkpoints now.
func (s *Service) PoolVerifierKey(ctx context.Context, pool string) (string, error) {
	ks, err := s.db.PoolLogKeys(ctx, pool)
	if err != nil {
		return "", err
	}
	if len(ks) == 0 {
		return s.vkey, nil
	}
	return ks[len(ks)-1].VKey, nil
}

// Rotation is the result of RotateKey.
type Rotation struct {
	Pool   string `json:"pool"`
	OldKey string `json:"old_key"`
	NewKey string `json:"new_key"`
	// Index is the key.rotation entry's index; Size the size of the checkpoint, signed by the
	// old key, that covers it. Checkpoints of larger trees are signed by the new key.
	Index int64 `json:"index"`
	Size  int64 `json:"size"`
}

// RotationEventID is the event id of the key.rotation entry that moves a pool to newKey.
func RotationEventID(newKey string) string {
	h := sha256.Sum256([]byte(newKey))
	return "key-rotation-" + hex.EncodeToString(h[:8])
}

// RotateKey moves the pool to the signing key in newKeyFile (with its .pub): it queues a
// key.rotation entry naming the old and new verifier keys, sequences it, publishes a checkpoint
// covering it signed by the old key (with the witness quorum), and only then records the new key
// for the pool, so every later checkpoint is signed by it. An interrupted rotation is finished
// by running it again. The pool's store must not be damaged.
func (s *Service) RotateKey(ctx context.Context, pool, newKeyFile string, eff date.Date) (Rotation, error) {
	newSigner, newVKey, err := loadKey(newKeyFile)
	if err != nil {
		return Rotation{}, err
	}
	cur, _, err := s.poolKey(ctx, pool)
	if err != nil {
		return Rotation{}, err
	}
	r := Rotation{Pool: pool, OldKey: cur, NewKey: newVKey}
	if cur == newVKey {
		return r, reclaim.Errorf(reclaim.EINVALID, "pool %s is already signed by %s", pool, keyLabel(newVKey))
	}
	eventID := RotationEventID(newVKey)
	if err := s.db.QueueKeyRotation(ctx, pool, eventID, eff, cur, newVKey); err != nil {
		return r, err
	}
	for {
		if _, err := s.db.LedgerLeafByEvent(ctx, pool, eventID); err == nil {
			break
		} else if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			return r, err
		}
		n, err := s.db.Sequence(ctx, pool, 0)
		if err != nil {
			return r, err
		}
		if n == 0 {
			return r, reclaim.Errorf(reclaim.EINTERNAL, "the key.rotation entry of pool %s was not sequenced", pool)
		}
	}
	leaf, err := s.db.LedgerLeafByEvent(ctx, pool, eventID)
	if err != nil {
		return r, err
	}
	r.Index = leaf.Index
	pub, err := s.Publish(ctx, pool)
	if err != nil {
		return r, fmt.Errorf("publishing the checkpoint that covers the rotation (signed by the old key): %w; run the rotation again", err)
	}
	if pub.Size <= leaf.Index {
		return r, reclaim.Errorf(reclaim.EINTERNAL, "the checkpoint of size %d does not cover the rotation entry %d", pub.Size, leaf.Index)
	}
	if _, err := s.db.CheckpointAt(ctx, pool, pub.Size); err != nil {
		return r, err
	}
	r.Size = pub.Size
	s.keysMu.Lock()
	s.keys[newVKey] = newSigner
	s.keysMu.Unlock()
	if err := s.db.AddPoolLogKey(ctx, pool, pub.Size, newVKey); err != nil {
		return r, err
	}
	return r, nil
}

// KeyRotationCheckpoint returns the signed checkpoint, signed by the key whose note key hash is
// keyHash (8 hex digits), that covers the key.rotation entry moving the pool off that key: what
// a verifier holding the old key needs to follow the rotation (GET
// /ledger/{pool}/key-rotation/{keyhash}).
func (s *Service) KeyRotationCheckpoint(ctx context.Context, pool, keyHash string) ([]byte, error) {
	ks, err := s.db.PoolLogKeys(ctx, pool)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(ks); i++ {
		v, err := note.NewVerifier(ks[i].VKey)
		if err != nil || fmt.Sprintf("%08x", v.KeyHash()) != strings.ToLower(keyHash) {
			continue
		}
		cp, err := s.db.CheckpointAt(ctx, pool, ks[i+1].SinceSize)
		if err != nil {
			return nil, err
		}
		return []byte(cp.Note), nil
	}
	return nil, reclaim.Errorf(reclaim.ENOTFOUND, "pool %s has no rotation away from key %s", pool, keyHash)
}

// multiState is the publisher's memory when several key files are given: each key file keeps a
// state file beside it; Last is the largest checkpoint any of them remembers (so switching the
// primary key after a rotation keeps the memory), Save writes the primary's.
type multiState struct {
	primary *tlog.FileState
	others  []*tlog.FileState
}

func (m *multiState) Last(pool string) (tlog.Published, bool, error) {
	best, ok, err := m.primary.Last(pool)
	if err != nil {
		return best, ok, err
	}
	for _, o := range m.others {
		p, found, err := o.Last(pool)
		if err != nil {
			return p, found, err
		}
		if found && (!ok || p.Size > best.Size) {
			best, ok = p, true
		}
	}
	return best, ok, nil
}

func (m *multiState) Save(pool string, p tlog.Published) error { return m.primary.Save(pool, p) }
