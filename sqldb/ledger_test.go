package sqldb_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog"
)

func newLedger(t *testing.T, db *sqldb.DB, pool string) {
	t.Helper()
	err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		return tx.CreateLedger(context.Background(), sqldb.LedgerPool{Pool: pool, Origin: "test.example/ledger/" + pool,
			Name: pool, Currency: "CNY", Cutoff: mustDate("2026-06-30")})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func enqueue(t *testing.T, db *sqldb.DB, pool string, from, n int) [][]byte {
	t.Helper()
	var out [][]byte
	err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		out = out[:0]
		for i := from; i < from+n; i++ {
			e := []byte(fmt.Sprintf(`{"v":1,"pool":%q,"event_id":"e%d"}`, pool, i))
			if err := tx.Enqueue(context.Background(), pool, fmt.Sprintf("e%d", i), e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// memoryTree recomputes a tree from its entries with sumdb's reference code, independently of
// the stored hashes.
func memoryTree(t *testing.T, entries [][]byte) (tlog.Hash, sumtlog.HashReader) {
	t.Helper()
	var stored []tlog.Hash
	r := sumtlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := sumtlog.StoredHashes(int64(i), e, r)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	root, err := sumtlog.TreeHash(int64(len(entries)), r)
	if err != nil {
		t.Fatal(err)
	}
	return root, r
}

func TestLedgerSequence(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		newLedger(t, db, "P1")
		newLedger(t, db, "P2")
		var all [][]byte
		// Batches of awkward sizes, sequenced with a small max so that batches straddle tiles.
		for _, n := range []int{1, 2, 5, 250, 300, 17} {
			all = append(all, enqueue(t, db, "P1", len(all), n)...)
		}
		enqueue(t, db, "P2", 0, 3)
		pending, err := db.PendingPools(ctx)
		if err != nil || len(pending) != 2 {
			t.Fatalf("pending pools %v, %v", pending, err)
		}
		total := 0
		for {
			n, err := db.Sequence(ctx, "P1", 97)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			total += n
		}
		if total != len(all) {
			t.Fatalf("sequenced %d of %d", total, len(all))
		}
		head, err := db.LedgerHead(ctx, "P1")
		if err != nil {
			t.Fatal(err)
		}
		want, mem := memoryTree(t, all)
		if head.Size != int64(len(all)) || head.Root != want {
			t.Fatalf("head %d %v, want %d %v", head.Size, head.Root, len(all), want)
		}
		// The other pool is untouched.
		p2, err := db.LedgerPool(ctx, "P2")
		if err != nil || p2.Size != 0 || p2.Pending != 3 || p2.Root != tlog.EmptyRoot {
			t.Fatalf("P2 = %+v, %v", p2, err)
		}
		// Stored entries come back byte for byte; proofs from stored hashes check.
		got, err := db.LedgerEntries(ctx, "P1", 0, head.Size)
		if err != nil {
			t.Fatal(err)
		}
		for i := range all {
			if string(got[i]) != string(all[i]) {
				t.Fatalf("entry %d = %s, want %s", i, got[i], all[i])
			}
		}
		r := db.LedgerHashes(ctx, "P1")
		for _, i := range []int64{0, 1, 255, 256, 300, head.Size - 1} {
			p, err := tlog.InclusionProof(head.Size, i, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := sumtlog.CheckRecord(p, head.Size, head.Root, i, sumtlog.RecordHash(all[i])); err != nil {
				t.Fatalf("inclusion %d: %v", i, err)
			}
		}
		for _, old := range []int64{1, 8, 256, 257, head.Size} {
			p, err := tlog.ConsistencyProof(head.Size, old, r)
			if err != nil {
				t.Fatal(err)
			}
			oldRoot, err := sumtlog.TreeHash(old, mem)
			if err != nil {
				t.Fatal(err)
			}
			if err := sumtlog.CheckTree(p, head.Size, head.Root, old, oldRoot); err != nil {
				t.Fatalf("consistency %d: %v", old, err)
			}
		}
		// Tiles served from stored hashes equal sumdb's tiles over the in-memory tree.
		for _, tile := range sumtlog.NewTiles(tlog.TileHeight, 0, head.Size) {
			a, err := tlog.TileData(head.Size, tile, r)
			if err != nil {
				t.Fatal(err)
			}
			b, err := sumtlog.ReadTileData(tile, mem)
			if err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Fatalf("tile %+v differs", tile)
			}
		}
		if _, err := tlog.TileData(head.Size, sumtlog.Tile{H: 8, L: 0, N: 2, W: 256}, r); err == nil {
			t.Fatal("a tile wider than the tree was served")
		}
		// A duplicate event id is refused, queued or sequenced.
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error { return tx.Enqueue(ctx, "P1", "e3", []byte("x")) })
		if reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("duplicate event: %v", err)
		}
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error { return tx.Enqueue(ctx, "nope", "e1", []byte("x")) })
		if reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("unknown pool: %v", err)
		}
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			return tx.Enqueue(ctx, "P1", "big", []byte(strings.Repeat("x", tlog.MaxEntrySize+1)))
		})
		if reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("oversize entry: %v", err)
		}
		leaves, err := db.LedgerLeaves(ctx, "P1", 0, 3)
		if err != nil || len(leaves) != 3 || leaves[0].Index != head.Size-1 || leaves[0].SequencedAt.Before(leaves[0].QueuedAt) {
			t.Fatalf("leaves %+v, %v", leaves, err)
		}
		l, err := db.LedgerLeafByEvent(ctx, "P1", "e300")
		if err != nil || l.Index != 300 {
			t.Fatalf("leaf by event: %+v %v", l, err)
		}
	})
}

// Leaves, hashes and checkpoints are insert-only: the database itself refuses changes.
func TestLedgerInsertOnly(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		newLedger(t, db, "P")
		enqueue(t, db, "P", 0, 3)
		if _, err := db.Sequence(ctx, "P", 0); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveCheckpoint(ctx, "P", tlog.Published{Size: 3, Note: []byte("n")}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`UPDATE ledger_leaves SET entry = ? WHERE pool = 'P'`,
			`DELETE FROM ledger_leaves WHERE pool = 'P' AND entry <> ?`,
			`UPDATE ledger_hashes SET hash = ? WHERE pool = 'P'`,
			`DELETE FROM ledger_hashes WHERE hash <> ?`,
			`UPDATE ledger_checkpoints SET note = ?`,
			`DELETE FROM ledger_checkpoints WHERE root <> ?`,
		} {
			err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.Exec(ctx, q, []byte("tampered"))
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "insert-only") {
				t.Errorf("%s: %v", q, err)
			}
		}
		if db.Dialect() == sqldb.Postgres {
			err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.Exec(ctx, `TRUNCATE ledger_leaves`)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "insert-only") {
				t.Errorf("truncate: %v", err)
			}
		}
	})
}

// Concurrent writers and sequencers: every entry gets exactly one index, in no particular order,
// and the tree equals the one recomputed from the stored entries.
func TestLedgerConcurrentSequencers(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		newLedger(t, db, "C")
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for b := 0; b < 5; b++ {
					enqueue(t, db, "C", w*1000+b*20, 20)
				}
			}()
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if _, err := db.Sequence(ctx, "C", 33); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for {
			n, err := db.Sequence(ctx, "C", 0)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		head, err := db.LedgerHead(ctx, "C")
		if err != nil || head.Size != 400 {
			t.Fatalf("head %+v %v", head, err)
		}
		entries, err := db.LedgerEntries(ctx, "C", 0, 400)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[[32]byte]bool{}
		for _, e := range entries {
			seen[sha256.Sum256(e)] = true
		}
		if len(seen) != 400 {
			t.Fatalf("%d distinct entries", len(seen))
		}
		if root, _ := memoryTree(t, entries); root != head.Root {
			t.Fatal("stored root differs from the recomputed tree")
		}
	})
}

func mustDate(s string) date.Date {
	d, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}
