package ledger_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"reclaim"
	"reclaim/date"
	"reclaim/ledger"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

func opensWith(t *testing.T, signed, vkey string) bool {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = note.Open([]byte(signed), note.VerifierList(v))
	return err == nil
}

// TestLedgerKeyBindingAndRotation (issue 9 item 6, ledger): the database records each pool's log
// key; a node without it (the key file deleted, or another key given) refuses to start instead
// of creating or using another key; 'rotate-key' logs a key.rotation entry covered by a checkpoint
// signed by the old key, later checkpoints are signed by the new key, and reclaim-verify sync
// follows the rotation from the old policy, while a key switched without a rotation entry is
// refused by the verifier.
func TestLedgerKeyBindingAndRotation(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 40)
		e.collect(5)
		keyA := filepath.Join(e.dir, "ledger.key")
		pubA, _ := os.ReadFile(keyA + ".pub")
		vkeyA := strings.TrimSpace(string(pubA))
		mirror := filepath.Join(e.dir, "investor")
		if _, err := e.sync(mirror); err != nil {
			t.Fatal(err)
		}
		quiet := slog.New(slog.DiscardHandler)

		// Another key file is refused, naming the pool and the recorded key.
		keyC := filepath.Join(e.dir, "other.key")
		if _, err := tlog.GenerateKey("test.example/ledger", keyC); err != nil {
			t.Fatal(err)
		}
		_, err := ledger.New(db, nil, quiet, ledger.Config{KeyFile: keyC, Origin: "test.example/ledger"})
		if reclaim.ErrorCode(err) != sqldb.ErrWrongKey || !strings.Contains(err.Error(), "pool P1 is signed by the key") {
			t.Fatalf("another key: %v", err)
		}
		// A missing key file is never replaced by a new key while pools exist.
		missing := filepath.Join(e.dir, "gone", "ledger.key")
		_, err = ledger.New(db, nil, quiet, ledger.Config{KeyFile: missing, CreateKey: true, Origin: "test.example/ledger"})
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "restore") {
			t.Fatalf("missing key: %v", err)
		}
		if _, serr := os.Stat(missing); serr == nil {
			t.Fatal("a new key was created for existing pools")
		}

		// Rotate to key B.
		keyB := filepath.Join(e.dir, "ledger-b.key")
		vkeyB, err := tlog.GenerateKey("test.example/ledger", keyB)
		if err != nil {
			t.Fatal(err)
		}
		rot, err := e.svc.RotateKey(ctx, "P1", keyB, date.Of(2025, 9, 1))
		if err != nil {
			t.Fatal(err)
		}
		if rot.OldKey != vkeyA || rot.NewKey != vkeyB || rot.Size != rot.Index+1 {
			t.Fatalf("rotation %+v", rot)
		}
		leaf, err := db.LedgerLeafByEvent(ctx, "P1", ledger.RotationEventID(vkeyB))
		if err != nil {
			t.Fatal(err)
		}
		pe, err := verify.ParseEntry(leaf.Entry)
		if kr, ok := pe.(verify.KeyRotation); err != nil || !ok || kr.OldKey != vkeyA || kr.NewKey != vkeyB || leaf.Index != rot.Index {
			t.Fatalf("rotation entry %s: %v", leaf.Entry, err)
		}
		cpRot, err := db.CheckpointAt(ctx, "P1", rot.Size)
		if err != nil || !opensWith(t, cpRot.Note, vkeyA) || opensWith(t, cpRot.Note, vkeyB) {
			t.Fatalf("the checkpoint covering the rotation is not signed by the old key alone: %v", err)
		}
		// Running it again is a no-op refusal, not a second rotation.
		if _, err := e.svc.RotateKey(ctx, "P1", keyB, date.Of(2025, 9, 1)); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("second rotation: %v", err)
		}
		e.collect(5)
		latest, err := db.LatestCheckpoint(ctx, "P1")
		if err != nil || latest.Size <= rot.Size || !opensWith(t, latest.Note, vkeyB) || opensWith(t, latest.Note, vkeyA) {
			t.Fatalf("checkpoint after the rotation (size %d) not signed by the new key alone: %v", latest.Size, err)
		}
		// The old key alone no longer starts a node; the new key (with the old one for other
		// pools) does.
		if _, err := ledger.New(db, nil, quiet, ledger.Config{KeyFile: keyA, Origin: "test.example/ledger"}); reclaim.ErrorCode(err) != sqldb.ErrWrongKey {
			t.Fatalf("old key after rotation: %v", err)
		}
		if _, err := ledger.New(db, nil, quiet, ledger.Config{KeyFile: keyB, ExtraKeyFiles: []string{keyA}, Origin: "test.example/ledger"}); err != nil {
			t.Fatalf("new key: %v", err)
		}

		// The investor with the old policy follows the rotation, incrementally and from scratch.
		for _, dir := range []string{mirror, filepath.Join(e.dir, "fresh")} {
			res, err := e.sync(dir)
			if err != nil {
				t.Fatalf("sync %s: %v", dir, err)
			}
			now, _ := db.LatestCheckpoint(ctx, "P1")
			if res.Size != now.Size || res.LogKey != vkeyB || len(res.Rotations) != 1 || res.Rotations[0].Index != rot.Index || res.Rotations[0].NewKey != vkeyB {
				t.Fatalf("sync %s: %+v", dir, res)
			}
			// And keeps following it on the next sync without asking again.
			e.collect(1)
			res, err = e.sync(dir)
			if err != nil || len(res.Rotations) != 0 || res.LogKey != vkeyB {
				t.Fatalf("sync after: %+v %v", res, err)
			}
		}

		// A key switched without a key.rotation entry (recorded straight into the database and
		// signed with): the verifier refuses it.
		head, _ := db.LedgerHead(ctx, "P1")
		if err := db.AddPoolLogKey(ctx, "P1", head.Size, mustVKey(t, keyC)); err != nil {
			t.Fatal(err)
		}
		rogue, err := ledger.New(db, nil, quiet, ledger.Config{KeyFile: keyC, ExtraKeyFiles: []string{keyB}, Origin: "test.example/ledger"})
		if err != nil {
			t.Fatal(err)
		}
		e.collect0(3)
		if _, err := rogue.Publish(ctx, "P1"); err != nil {
			t.Fatal(err)
		}
		_, err = e.sync(mirror)
		if err == nil {
			t.Fatal("the verifier accepted a key switched without a key.rotation entry")
		}
		t.Logf("unannounced key: %s: %v", failureKind(err), err)
	})
}

func mustVKey(t *testing.T, key string) string {
	b, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
