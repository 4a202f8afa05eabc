package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/ingest"
	"reclaim/ledger"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// env is a served pool ledger on 127.0.0.1.
type env struct {
	t      *testing.T
	db     *sqldb.DB
	dir    string
	svc    *ledger.Service
	ts     *httptest.Server
	token  string
	policy *verify.Policy
	keyPub string
	loans  []tlog.PoolLoan
	txn    int
}

func newEnv(t *testing.T, db *sqldb.DB, loans int) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, dir: t.TempDir()}
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: e.dir, AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	tape := filepath.Join(e.dir, "tape.csv")
	f, err := os.Create(tape)
	if err != nil {
		t.Fatal(err)
	}
	cfg := synth.Config{Seed: 11, Loans: loans, PortfolioRef: "PKG-L", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed}
	if _, err := synth.WriteTape(ctx, cfg, f, nil, synth.TapeOptions{IncludePersonal: true}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := ingest.Run(ctx, db.IngestStore(), keys, tape, ingest.Options{SellerName: "Bank L"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	broker := events.New(events.Options{})
	t.Cleanup(broker.Close)
	e.svc = e.service(log, broker)
	if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P1", Origin: "test.example/ledger/P1", PortfolioID: rep.PortfolioID, Effective: date.Of(2025, 7, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SequenceAndPublish(ctx); err != nil {
		t.Fatal(err)
	}
	e.loans, _, err = db.PoolLoans(ctx, "P1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Config{Logger: log, UploadDir: e.dir, Ledger: e.svc}, sqldb.KeyedDB{DB: db, Keys: keys}, keys, broker)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	u, err := db.CreateUser(ctx, reclaim.User{Username: "investor", Role: reclaim.RoleInvestor, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	tok, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateToken(ctx, u.ID, "verifier", hash); err != nil {
		t.Fatal(err)
	}
	e.token = tok
	p, err := db.LedgerPool(ctx, "P1")
	if err != nil {
		t.Fatal(err)
	}
	if e.policy, err = verify.ParsePolicy([]byte(e.svc.PolicyFile(p, e.ts.URL))); err != nil {
		t.Fatal(err)
	}
	e.keyPub = filepath.Join(e.dir, "ledger.key.pub")
	return e
}

func (e *env) service(log *slog.Logger, broker *events.Broker) *ledger.Service {
	s, err := ledger.New(e.db, broker, log, ledger.Config{KeyFile: filepath.Join(e.dir, "ledger.key"), CreateKey: true, Origin: "test.example/ledger"})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// collect posts n collections and publishes a checkpoint covering them.
func (e *env) collect(n int) {
	e.t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		e.txn++
		l := e.loans[e.txn%len(e.loans)]
		if _, err := e.db.PostCollection(ctx, tlog.Collection{Pool: "P1", LoanRef: l.Ref, Amount: money.New(100, "CNY"), Channel: verify.ChannelOnline,
			TxnID: fmt.Sprintf("T-%d", e.txn), Effective: date.Of(2025, 8, 1), PostedBy: "test"}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.svc.SequenceAndPublish(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) get(path string) (int, []byte) {
	req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (e *env) sync(dir string) (*verify.SyncResult, error) {
	return verify.Sync(context.Background(), e.policy, dir, &http.Client{Timeout: 30 * time.Second}, verify.SyncOptions{Token: e.token})
}

// exec runs SQL with the insert-only triggers out of the way: what an attacker with database
// access (or a bad restore) can do.
func (e *env) tamper(stmts ...string) {
	e.t.Helper()
	ctx := context.Background()
	err := e.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var pre, post []string
		if e.db.Dialect() == sqldb.Postgres {
			for _, tb := range []string{"ledger_leaves", "ledger_hashes", "ledger_checkpoints"} {
				pre = append(pre, "ALTER TABLE "+tb+" DISABLE TRIGGER USER")
				post = append(post, "ALTER TABLE "+tb+" ENABLE TRIGGER USER")
			}
		} else {
			for _, tr := range []string{"ledger_leaves_no_update", "ledger_leaves_no_delete", "ledger_hashes_no_update", "ledger_hashes_no_delete",
				"ledger_checkpoints_no_update", "ledger_checkpoints_no_delete"} {
				pre = append(pre, "DROP TRIGGER IF EXISTS "+tr)
			}
		}
		for _, q := range append(append(pre, stmts...), post...) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func failureKind(err error) string {
	var f *verify.Failure
	if errors.As(err, &f) {
		return f.Kind
	}
	return ""
}

// fsck runs Tessera's fsck v1.0.4 (interop/tessera/fsck.sh builds it once) against the served log.
func (e *env) fsck() (string, error) {
	e.t.Helper()
	script, err := filepath.Abs("../interop/tessera/fsck.sh")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, e.ts.URL+"/ledger/P1/", e.keyPub, "test.example/ledger/P1", e.token)
	// Never build (and so never reach the network) inside a test: make test builds fsck first.
	cmd.Env = append(os.Environ(), "FSCK_TIMEOUT=120", "FSCK_NO_BUILD=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Serve a log on 127.0.0.1 and check it with code nobody here wrote (Tessera's fsck), then with
// the investors' verifier: growth is accepted; altered leaves, hashes and checkpoints, a rollback
// past a published checkpoint and a forked checkpoint are each detected, with evidence.
func TestVerifyServedLog(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 300)
		e.collect(40)
		if out, err := e.fsck(); err != nil {
			t.Fatalf("fsck rejected an honest log: %v\n%s", err, out)
		}
		mirror := filepath.Join(e.dir, "investor")
		res, err := e.sync(mirror)
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		if res.Size != 341 || res.NewEntries != 341 {
			t.Fatalf("synced %+v", res)
		}
		e.collect(25)
		if res, err = e.sync(mirror); err != nil || res.OldSize != 341 || res.Size != 366 {
			t.Fatalf("incremental sync: %+v %v", res, err)
		}

		// An altered leaf: a fresh verifier re-hashes every entry and fails; fsck fails too.
		e.tamper(e.replaceEntry(350, `"amount":"100"`, `"amount":"900"`))
		if _, err := e.sync(filepath.Join(e.dir, "fresh1")); err == nil {
			t.Fatal("a verifier accepted an altered leaf")
		} else {
			t.Logf("altered leaf: %s: %v", failureKind(err), err)
		}
		if out, err := e.fsck(); err == nil {
			t.Fatalf("fsck accepted an altered leaf:\n%s", out)
		}
		e.tamper(e.replaceEntry(350, `"amount":"900"`, `"amount":"100"`))
		if _, err := e.sync(filepath.Join(e.dir, "fresh2")); err != nil {
			t.Fatalf("restored leaf: %v", err)
		}

		// An altered stored leaf hash (it is served in tile 0/000): the verifier recomputes the tiles
		// from the entries and finds the served one altered; fsck fails too.
		e.tamper(fmt.Sprintf(`UPDATE ledger_hashes SET hash = (SELECT hash FROM ledger_hashes h2 WHERE h2.pool = 'P1' AND h2.hidx = 0)
			WHERE pool = 'P1' AND hidx = %d`, sumtlog.StoredHashIndex(0, 2)))
		if _, err := e.sync(filepath.Join(e.dir, "fresh3")); failureKind(err) != "tiles-invalid" {
			t.Fatalf("altered leaf hash: %v", err)
		} else {
			t.Logf("altered leaf hash: %v", err)
		}
		if out, err := e.fsck(); err == nil {
			t.Fatalf("fsck accepted an altered stored hash:\n%s", out)
		}
		// An altered interior hash (levels 1-7 are not in tiles) falsifies the proofs the server
		// builds: a receipt that uses it fails offline.
		e.tamper(fmt.Sprintf(`UPDATE ledger_hashes SET hash = (SELECT hash FROM ledger_hashes h2 WHERE h2.pool = 'P1' AND h2.hidx = 0)
			WHERE pool = 'P1' AND hidx = %d`, sumtlog.StoredHashIndex(1, 1)))
		code, body := e.get("/ledger/P1/receipt/0")
		if code != 200 {
			t.Fatalf("receipt: %d %s", code, body)
		}
		rc, err := verify.ParseReceipt(body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verify.CheckReceipt(e.policy, rc); err == nil {
			t.Fatal("a receipt built on an altered interior hash checked")
		}
		// The publisher re-derives the root from the stored right edge of the tree and refuses to
		// sign when the stored root column was altered.
		e.collect0(1)
		e.tamper(`UPDATE ledger_pools SET root = (SELECT hash FROM ledger_hashes h2 WHERE h2.pool = 'P1' AND h2.hidx = 0) WHERE pool = 'P1'`)
		if _, err := e.svc.Publish(context.Background(), "P1"); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("publisher signed over an altered root: %v", err)
		}
	})
}

// replaceEntry is SQL that edits the stored bytes of entry idx.
func (e *env) replaceEntry(idx int, old, new string) string {
	if e.db.Dialect() == sqldb.Postgres {
		return fmt.Sprintf(`UPDATE ledger_leaves SET entry = convert_to(replace(convert_from(entry, 'UTF8'), '%s', '%s'), 'UTF8') WHERE pool = 'P1' AND idx = %d`, old, new, idx)
	}
	return fmt.Sprintf(`UPDATE ledger_leaves SET entry = CAST(REPLACE(CAST(entry AS TEXT), '%s', '%s') AS BLOB) WHERE pool = 'P1' AND idx = %d`, old, new, idx)
}

// bytesLiteral is a byte-string literal in the engine's syntax.
func (e *env) bytesLiteral(b []byte) string {
	if e.db.Dialect() == sqldb.Postgres {
		return fmt.Sprintf(`'\x%x'::bytea`, b)
	}
	return fmt.Sprintf(`X'%x'`, b)
}

// collect0 posts collections without publishing.
func (e *env) collect0(n int) {
	e.t.Helper()
	for i := 0; i < n; i++ {
		e.txn++
		l := e.loans[e.txn%len(e.loans)]
		if _, err := e.db.PostCollection(context.Background(), tlog.Collection{Pool: "P1", LoanRef: l.Ref, Amount: money.New(100, "CNY"),
			Channel: verify.ChannelOnline, TxnID: fmt.Sprintf("T-%d", e.txn), Effective: date.Of(2025, 8, 1), PostedBy: "test"}); err != nil {
			e.t.Fatal(err)
		}
	}
	e.svc.SequenceAll(context.Background())
}

func TestVerifyDetectsCheckpointTampering(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 100)
		e.collect(10)
		e.tamper(`UPDATE ledger_checkpoints SET note = REPLACE(note, 'test.example/ledger/P1', 'test.example/ledger/P9') WHERE pool = 'P1'`)
		_, err := e.sync(filepath.Join(e.dir, "v"))
		if err == nil || failureKind(err) == "" {
			t.Fatalf("a checkpoint with a broken signature was accepted: %v", err)
		}
		t.Logf("altered checkpoint: %s: %v", failureKind(err), err)
	})
}

// A database restored from a backup taken before the last published checkpoint: the publisher
// refuses to sign; if the operator signs anyway (a publisher without its memory), a verifier that
// saw the later checkpoint reports the rollback, and a re-grown different history is a fork with
// evidence on disk.
func TestRollbackAndFork(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 100)
		e.collect(10)
		before, err := db.LedgerHead(ctx, "P1")
		if err != nil {
			t.Fatal(err)
		}
		var beforeHashes int64
		db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_hashes WHERE pool = 'P1'`).Scan(&beforeHashes)
		})
		e.collect(15)
		mirror := filepath.Join(e.dir, "investor")
		if _, err := e.sync(mirror); err != nil {
			t.Fatal(err)
		}
		// "Restore the backup": the log, its hashes, checkpoints and business rows of the later
		// 15 collections disappear.
		e.tamper(
			fmt.Sprintf(`DELETE FROM ledger_leaves WHERE pool = 'P1' AND idx >= %d`, before.Size),
			fmt.Sprintf(`DELETE FROM ledger_hashes WHERE pool = 'P1' AND hidx >= %d`, beforeHashes),
			fmt.Sprintf(`DELETE FROM ledger_checkpoints WHERE pool = 'P1' AND tree_size > %d`, before.Size),
			fmt.Sprintf(`UPDATE ledger_pools SET tree_size = %d, root = %s WHERE pool = 'P1'`, before.Size, e.bytesLiteral(before.Root[:])),
		)
		e.collect0(3)
		if _, err := e.svc.Publish(ctx, "P1"); reclaim.ErrorCode(err) != reclaim.ECONFLICT || !strings.Contains(err.Error(), "inconsistent") && !strings.Contains(err.Error(), "smaller") {
			t.Fatalf("publisher signed after a rollback: %v", err)
		}
		// A publisher that lost its memory signs the restored (and re-grown) tree.
		os.Remove(filepath.Join(e.dir, "ledger.key.state.json"))
		amnesiac := e.service(slog.New(slog.DiscardHandler), nil)
		if _, err := amnesiac.Publish(ctx, "P1"); err != nil {
			t.Fatal(err)
		}
		_, err = e.sync(mirror)
		if err == nil {
			t.Fatal("a verifier accepted a rolled-back log")
		}
		t.Logf("rolled back: %s: %v", failureKind(err), err)
		// Grow the forked history past the size the investor holds: a fork of a larger tree.
		e.collect0(20)
		if _, err := amnesiac.Publish(ctx, "P1"); err != nil {
			t.Fatal(err)
		}
		_, err = e.sync(mirror)
		if err == nil || failureKind(err) == "" {
			t.Fatalf("a verifier accepted a forked log: %v", err)
		}
		t.Logf("forked: %s: %v", failureKind(err), err)
		ev, _ := filepath.Glob(filepath.Join(mirror, "evidence", "*"))
		if len(ev) == 0 {
			t.Fatal("no evidence file written")
		}
		b, _ := os.ReadFile(ev[len(ev)-1])
		if !strings.Contains(string(b), "test.example/ledger/P1") {
			t.Fatalf("evidence does not hold the checkpoints: %s", b)
		}
	})
}

func firstLoan(t *testing.T, db *sqldb.DB, pool string) string {
	t.Helper()
	ls, _, err := db.PoolLoans(context.Background(), pool, 0, 1)
	if err != nil || len(ls) == 0 {
		t.Fatalf("pool loans: %v", err)
	}
	return ls[0].Ref
}

func collection(pool, ref string) tlog.Collection {
	return tlog.Collection{Pool: pool, LoanRef: ref, Amount: money.New(100, "CNY"), Channel: verify.ChannelOnline,
		TxnID: "W-" + ref, Effective: date.Of(2025, 8, 1), PostedBy: "test"}
}
