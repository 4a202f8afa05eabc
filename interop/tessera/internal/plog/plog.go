// Package plog wraps the parts of Tessera's POSIX driver that mklog and
// posixbench share: key generation, opening an appender on a directory, and
// waiting for a published checkpoint to cover a given tree size.
package plog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"time"

	f_log "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// NewKey generates an Ed25519 signed-note key pair whose key name is name.
// With an empty seed the key is random; otherwise it is derived from the seed
// (useful for reproducible fixtures, never for real logs).
func NewKey(name, seed string) (skey, vkey string, err error) {
	var r io.Reader = rand.Reader
	if seed != "" {
		r = mrand.NewChaCha8(sha256.Sum256([]byte("reclaim-interop-key:" + seed)))
	}
	return note.GenerateKey(r, name)
}

// Options configures a Tessera POSIX appender.
type Options struct {
	Dir                string
	Signer             note.Signer
	BatchMaxSize       uint
	BatchMaxAge        time.Duration
	CheckpointInterval time.Duration
	// GCInterval is Tessera's partial-tile garbage collection interval;
	// zero keeps Tessera's default (1 minute), negative disables it.
	GCInterval time.Duration
}

// Open creates (or reopens) a Tessera POSIX log in o.Dir and returns its
// appender, shutdown function and reader.
func Open(ctx context.Context, o Options) (*tessera.Appender, func(context.Context) error, tessera.LogReader, error) {
	if o.Signer == nil {
		return nil, nil, nil, errors.New("plog: no signer")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	drv, err := posix.New(ctx, posix.Config{Path: o.Dir})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("posix.New: %w", err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(o.Signer).
		WithBatching(o.BatchMaxSize, o.BatchMaxAge).
		WithCheckpointInterval(o.CheckpointInterval)
	switch {
	case o.GCInterval < 0:
		opts = opts.WithGarbageCollectionInterval(0)
	case o.GCInterval > 0:
		opts = opts.WithGarbageCollectionInterval(o.GCInterval)
	}
	return tessera.NewAppender(ctx, drv, opts)
}

// CheckpointSize parses the size line of a serialised checkpoint without
// verifying its signature.
func CheckpointSize(raw []byte) (uint64, error) {
	var cp f_log.Checkpoint
	if _, err := cp.Unmarshal(raw); err != nil {
		return 0, err
	}
	return cp.Size, nil
}

// WaitForSize polls read until the published checkpoint commits to at least
// want entries, and returns that checkpoint.
func WaitForSize(ctx context.Context, read func(context.Context) ([]byte, error), want uint64, poll time.Duration) ([]byte, error) {
	for {
		raw, err := read(ctx)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if err == nil {
			size, err := CheckpointSize(raw)
			if err != nil {
				return nil, fmt.Errorf("published checkpoint: %w", err)
			}
			if size >= want {
				return raw, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}
