// Command mklog writes a Tessera (v1.0.4) POSIX-driver log of N deterministic
// entries into a directory, signs its checkpoints with a freshly generated
// Ed25519 signed-note key, and writes the verifier key (the string fsck's
// --public_key file must contain) to a file. It is the positive-control
// fixture for fsck.sh.
//
//	mklog -dir /tmp/ctl/log -vkey /tmp/ctl/log.vkey -n 1000
//
// On success it prints one JSON line describing the log.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"

	"reclaim.example/interop/tessera/internal/audit"
	"reclaim.example/interop/tessera/internal/gen"
	"reclaim.example/interop/tessera/internal/plog"
)

func main() {
	dir := flag.String("dir", "", "directory to create the log in (must not exist or be empty)")
	vkeyPath := flag.String("vkey", "", "file to write the note verifier key to (default DIR.vkey)")
	skeyPath := flag.String("skey", "", "optional file to write the note signer key to")
	n := flag.Uint64("n", 1000, "number of entries")
	size := flag.Int("size", 300, "bytes per entry")
	origin := flag.String("origin", "reclaim.example/interop/control", "checkpoint origin = note key name")
	pool := flag.String("pool", "POOL-CONTROL", "pool id written into the entries")
	seed := flag.String("key-seed", "", "derive the key from this seed (reproducible fixtures); default random")
	batch := flag.Uint("batch", 256, "Tessera batch max size")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*dir, *vkeyPath, *skeyPath, *n, *size, *origin, *pool, *seed, *batch, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "mklog:", err)
		os.Exit(1)
	}
}

func run(dir, vkeyPath, skeyPath string, n uint64, size int, origin, pool, seed string, batch uint, timeout time.Duration) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	if vkeyPath == "" {
		vkeyPath = filepath.Clean(dir) + ".vkey"
	}
	if batch == 0 {
		batch = 1
	}
	skey, vkey, err := plog.NewKey(origin, seed)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	app, shutdown, reader, err := plog.Open(ctx, plog.Options{
		Dir:                dir,
		Signer:             signer,
		BatchMaxSize:       batch,
		BatchMaxAge:        50 * time.Millisecond,
		CheckpointInterval: 100 * time.Millisecond,
		GCInterval:         -1, // keep every partial tile/bundle Tessera wrote
	})
	if err != nil {
		return err
	}
	futures := make([]tessera.IndexFuture, 0, n)
	for i := uint64(0); i < n; i++ {
		futures = append(futures, app.Add(ctx, tessera.NewEntry(gen.Entry(pool, i, size))))
	}
	for i, f := range futures {
		idx, err := f()
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if idx.Index != uint64(i) {
			return fmt.Errorf("entry %d got index %d", i, idx.Index)
		}
	}
	if _, err := plog.WaitForSize(ctx, reader.ReadCheckpoint, n, 10*time.Millisecond); err != nil {
		return fmt.Errorf("waiting for checkpoint: %w", err)
	}
	if err := shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	cancel()

	if err := os.WriteFile(vkeyPath, []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	if skeyPath != "" {
		if err := os.WriteFile(skeyPath, []byte(skey+"\n"), 0o600); err != nil {
			return err
		}
	}
	// Self-check with an implementation independent of fsck.
	res, err := audit.Verify(dir, verifier, origin)
	if err != nil {
		return fmt.Errorf("self-audit: %w", err)
	}
	if res.Size != n {
		// A checkpoint larger than n is impossible for a fresh directory.
		return fmt.Errorf("published size %d, want %d", res.Size, n)
	}
	out, _ := json.Marshal(map[string]any{
		"dir": dir, "vkey_file": vkeyPath, "vkey": vkey, "origin": origin,
		"size": res.Size, "root": base64.StdEncoding.EncodeToString(res.Root), "bundles": res.Bundles,
	})
	fmt.Println(string(out))
	return nil
}
