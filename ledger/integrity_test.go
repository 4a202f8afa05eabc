package ledger_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog"
)

// TestStoreSelfAudit (issue 9 item 7): with a leaf, a leaf hash or an interior hash changed in the
// database, or the last leaves deleted (insert-only triggers disabled, as an operator with
// database access can), the server stops signing the pool: the publisher's check of the new batch
// or the scheduled audit finds the damage, no new checkpoint is stored, /readyz is not ready and
// names the pool, /metrics shows the gauge, and fsck reports exactly what differs. Once the
// damage is repaired, fsck finds the store clean and signing resumes.
func TestStoreSelfAudit(t *testing.T) {
	type tc struct {
		name string
		// damage returns the SQL that does the damage and the SQL that repairs it (nil: none).
		damage func(e *env, head tlog.Head) (do, undo []string)
		// viaAudit: the damage is under the last checkpoint, so only the scheduled audit sees it;
		// otherwise it is in the new batch and the publisher sees it first.
		viaAudit bool
		want     []tlog.Mismatch // Kind, Index, HashIndex compared
	}
	hashCopy := func(e *env, to int64) string {
		return fmt.Sprintf(`UPDATE ledger_hashes SET hash = (SELECT hash FROM ledger_hashes h2 WHERE h2.pool = 'P1' AND h2.hidx = 0)
			WHERE pool = 'P1' AND hidx = %d`, to)
	}
	restoreHash := func(e *env, to int64) string {
		var orig []byte
		ctx := context.Background()
		if err := e.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT hash FROM ledger_hashes WHERE pool = 'P1' AND hidx = ?`, to).Scan(&orig)
		}); err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf(`UPDATE ledger_hashes SET hash = %s WHERE pool = 'P1' AND hidx = %d`, e.bytesLiteral(orig), to)
	}
	cases := []tc{
		{"leaf", func(e *env, head tlog.Head) ([]string, []string) {
			return []string{e.replaceEntry(65, `"amount":"100"`, `"amount":"900"`)}, []string{e.replaceEntry(65, `"amount":"900"`, `"amount":"100"`)}
		}, true, []tlog.Mismatch{{Kind: "leaf-hash", Index: 65, HashIndex: sumtlog.StoredHashIndex(0, 65)}}},
		{"leaf hash", func(e *env, head tlog.Head) ([]string, []string) {
			x := sumtlog.StoredHashIndex(0, 2)
			undo := restoreHash(e, x)
			return []string{hashCopy(e, x)}, []string{undo}
		}, true, []tlog.Mismatch{{Kind: "leaf-hash", Index: 2, HashIndex: sumtlog.StoredHashIndex(0, 2)}}},
		{"interior hash", func(e *env, head tlog.Head) ([]string, []string) {
			x := sumtlog.StoredHashIndex(2, 1)
			undo := restoreHash(e, x)
			return []string{hashCopy(e, x)}, []string{undo}
		}, true, []tlog.Mismatch{{Kind: "interior-hash", Index: -1, HashIndex: sumtlog.StoredHashIndex(2, 1)}}},
		{"interior hash deleted", func(e *env, head tlog.Head) ([]string, []string) {
			x := sumtlog.StoredHashIndex(1, 3)
			undo := strings.Replace(restoreHash(e, x), "UPDATE ledger_hashes SET hash = ", "INSERT INTO ledger_hashes (pool, hidx, hash) VALUES ('P1', "+fmt.Sprint(x)+", ", 1)
			undo = undo[:strings.Index(undo, " WHERE")] + ")"
			return []string{fmt.Sprintf(`DELETE FROM ledger_hashes WHERE pool = 'P1' AND hidx = %d`, x)}, []string{undo}
		}, true, []tlog.Mismatch{{Kind: "hash-missing", Index: -1, HashIndex: sumtlog.StoredHashIndex(1, 3)}}},
		{"leaf in the new batch", func(e *env, head tlog.Head) ([]string, []string) {
			i := int(head.Size) - 2
			return []string{e.replaceEntry(i, `"amount":"100"`, `"amount":"900"`)}, []string{e.replaceEntry(i, `"amount":"900"`, `"amount":"100"`)}
		}, false, nil},
		{"last leaves deleted", func(e *env, head tlog.Head) ([]string, []string) {
			return []string{fmt.Sprintf(`DELETE FROM ledger_leaves WHERE pool = 'P1' AND idx >= %d`, head.Size-2)}, nil
		}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
				ctx := context.Background()
				e := newEnv(t, db, 60)
				e.collect(10) // entries 61..70, published
				published, err := db.LatestCheckpoint(ctx, "P1")
				if err != nil {
					t.Fatal(err)
				}
				e.collect0(5) // entries 71..75, sequenced, not yet signed
				head, err := db.LedgerHead(ctx, "P1")
				if err != nil {
					t.Fatal(err)
				}
				if ie, err := e.svc.Fsck(ctx, "P1"); err != nil || ie != nil {
					t.Fatalf("fsck of an honest store: %v %v", ie, err)
				}
				do, undo := c.damage(e, head)
				e.tamper(do...)
				want := c.want
				if want == nil { // new-batch cases: derived from the head
					if c.name == "last leaves deleted" {
						want = []tlog.Mismatch{{Kind: "entry-missing", Index: head.Size - 2, HashIndex: -1}, {Kind: "entry-missing", Index: head.Size - 1, HashIndex: -1}}
					} else {
						want = []tlog.Mismatch{{Kind: "leaf-hash", Index: head.Size - 2, HashIndex: sumtlog.StoredHashIndex(0, head.Size-2)}}
					}
				}
				if c.viaAudit {
					// The new batch is clean, so only the audit can see this damage: run it
					// (a rate-limited tick of it, as serve does every second).
					for i := 0; i < 3; i++ {
						e.svc.AuditTick(ctx, 50)
					}
				}
				_, err = e.svc.Publish(ctx, "P1")
				if reclaim.ErrorCode(err) != reclaim.ECONFLICT || !strings.Contains(err.Error(), "damaged") {
					t.Fatalf("signed over a damaged store: %v", err)
				}
				if cp, _ := db.LatestCheckpoint(ctx, "P1"); cp.Size != published.Size {
					t.Fatalf("a checkpoint of size %d was stored over a damaged store", cp.Size)
				}
				// /readyz names the pool; /metrics has the gauge; the pool view carries the report.
				res, err := http.Get(e.ts.URL + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "pool P1") {
					t.Fatalf("readyz %d %s", res.StatusCode, body)
				}
				_, metrics := e.get("/metrics")
				if !strings.Contains(string(metrics), `reclaim_ledger_store_damaged{pool="P1"} 1`) {
					t.Fatalf("metrics lack the damaged gauge")
				}
				code, view := e.get("/api/v1/pools/P1")
				if code != 200 || !strings.Contains(string(view), `"damaged":true`) {
					t.Fatalf("pool view %d %s", code, view)
				}
				// fsck finds exactly that.
				ie, err := e.svc.Fsck(ctx, "P1")
				if err != nil || ie == nil {
					t.Fatalf("fsck: %v %v", ie, err)
				}
				if len(ie.Mismatches) != len(want) {
					t.Fatalf("fsck found %v, want %v", ie.Mismatches, want)
				}
				for i, m := range ie.Mismatches {
					if m.Kind != want[i].Kind || m.Index != want[i].Index || m.HashIndex != want[i].HashIndex {
						t.Fatalf("fsck mismatch %d: %+v, want %+v", i, m, want[i])
					}
					if m.Kind != "entry-missing" && m.Kind != "hash-missing" && (m.Stored == "" || m.Recomputed == "" || m.Stored == m.Recomputed) {
						t.Fatalf("fsck mismatch without both hashes: %+v", m)
					}
				}
				t.Logf("fsck: %v", ie)
				if undo == nil {
					return
				}
				// Repaired: fsck is clean, readiness returns and the publisher signs again.
				e.tamper(undo...)
				if ie, err := e.svc.Fsck(ctx, "P1"); err != nil || ie != nil {
					t.Fatalf("fsck after repair: %v %v", ie, err)
				}
				if _, err := e.svc.Publish(ctx, "P1"); err != nil {
					t.Fatalf("publish after repair: %v", err)
				}
				res, err = http.Get(e.ts.URL + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("readyz after repair: %d", res.StatusCode)
				}
			})
		})
	}
}
