package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"reclaim/tlog/verify"
)

const origin = "reclaim.example/pools/P1"

type edSigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
}

func (s *edSigner) Name() string                    { return s.name }
func (s *edSigner) KeyHash() uint32                 { return s.hash }
func (s *edSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// server is a minimal tlog-tiles log for the command's end-to-end tests.
type server struct {
	mu      sync.Mutex
	entries [][]byte
	hashes  []tlog.Hash
	served  []byte
	signers []note.Signer
}

func (s *server) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(s.hashes)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = s.hashes[x]
	}
	return out, nil
}

func (s *server) add(t *testing.T, e verify.Entry) {
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := tlog.StoredHashes(int64(len(s.entries)), b, s)
	if err != nil {
		t.Fatal(err)
	}
	s.hashes = append(s.hashes, hs...)
	s.entries = append(s.entries, b)
}

func (s *server) publish(t *testing.T) {
	n := int64(len(s.entries))
	root, err := tlog.TreeHash(n, s)
	if err != nil {
		t.Fatal(err)
	}
	s.served, err = note.Sign(&note.Note{Text: string(verify.Checkpoint{Origin: origin, Size: n, Hash: root}.Format())}, s.signers...)
	if err != nil {
		t.Fatal(err)
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "checkpoint" {
		w.Write(s.served)
		return
	}
	if r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	t, err := verify.ParseTilePath(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if t.L == -1 {
		var b []byte
		for _, e := range s.entries[t.N*256 : t.N*256+int64(t.W)] {
			b, _ = verify.AppendEntryBundle(b, e)
		}
		w.Write(b)
		return
	}
	b, err := tlog.ReadTileData(t, s)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

type env struct {
	t      *testing.T
	srv    *server
	url    string
	dir    string
	policy string
	salt   []byte
}

func newEnv(t *testing.T) *env {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	vk, _ := note.NewEd25519VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	v, _ := note.NewVerifier(vk)
	s := &server{signers: []note.Signer{&edSigner{origin, v.KeyHash(), priv}}}
	var wkeys []string
	for i := 0; i < 2; i++ {
		wp := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(10 + i)}, 32))
		name := fmt.Sprintf("w%d.example/witness", i)
		cs, _ := verify.NewCosignatureSigner(name, wp, func() time.Time { return time.Unix(1750000000, 0) })
		wk, _ := verify.CosignatureVerifierKey(name, wp.Public().(ed25519.PublicKey))
		s.signers = append(s.signers, cs)
		wkeys = append(wkeys, wk)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: s, url: hs.URL + "/", dir: filepath.Join(t.TempDir(), "copy"), salt: bytes.Repeat([]byte{7}, 32)}
	e.policy = filepath.Join(t.TempDir(), "pool.policy")
	os.WriteFile(e.policy, []byte(fmt.Sprintf("log %s\nurl %s\nwitness %s\nwitness %s\nquorum 2\n", vk, e.url, wkeys[0], wkeys[1])), 0o644)
	h := func(id string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: "2025-01-10"} }
	s.add(t, verify.PoolOpened{Header: h("open"), Name: "Pool one", Cutoff: "2024-12-31", Currency: "CNY"})
	s.add(t, verify.LoanBoarded{Header: h("b1"), Loan: "A", Claim: 10000, Principal: 10000, Commitment: verify.Commit(e.salt, verify.TagLoanRecord, []byte("record A"))})
	s.add(t, verify.LoanCollection{Header: h("c1"), Loan: "A", Amount: 2500, Principal: 2500, Channel: verify.ChannelBankTransfer,
		BankTxn: verify.Commit(e.salt, verify.TagBankTxn, verify.BankTxnRecord("T1"))})
	s.add(t, verify.PeriodReport{Header: h("r1"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", ToIndex: 3, LoansBoarded: 1,
		CollectionsCount: 1, Collections: 2500, PrincipalCollected: 2500, BoardedBalance: 10000, ClosingBalance: 7500, ReportHash: strings.Repeat("a", 64)})
	s.publish(t)
	return e
}

func (e *env) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, &out, &errb, func() time.Time { return time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC) })
	return code, out.String(), errb.String()
}

func (e *env) file(name, content string) string {
	p := filepath.Join(e.t.TempDir(), name)
	os.WriteFile(p, []byte(content), 0o644)
	return p
}

func TestCommands(t *testing.T) {
	e := newEnv(t)
	t.Setenv(tokenEnv, "tok")
	code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir)
	if code != 0 || !strings.Contains(out, "OK "+origin+": size 4") {
		t.Fatalf("sync: %d %s %s", code, out, errs)
	}
	if code, out, errs := e.run("report", "--dir", e.dir); code != 0 || !strings.Contains(out, "OK report at 3") {
		t.Fatalf("report: %d %s %s", code, out, errs)
	}
	stmt := e.file("stmt.csv", "txn_id,date,amount\nT1,2025-01-10,25.00\n")
	opens := e.file("open.csv", "event_id,salt_hex,txn_id\nc1,"+hex.EncodeToString(e.salt)+",T1\n")
	if code, out, errs := e.run("reconcile", "--dir", e.dir, "--statement", stmt, "--openings", opens); code != 0 || !strings.Contains(out, "1 matched") {
		t.Fatalf("reconcile: %d %s %s", code, out, errs)
	}
	rec := e.file("rec", "record A")
	if code, out, errs := e.run("open", "--dir", e.dir, "--index", "1", "--record", rec, "--salt", hex.EncodeToString(e.salt)); code != 0 {
		t.Fatalf("open: %d %s %s", code, out, errs)
	}
	if code, out, errs := e.run("sample", "--dir", e.dir, "-k", "2", "--json"); code != 0 || !strings.Contains(out, `"indices"`) {
		t.Fatalf("sample: %d %s %s", code, out, errs)
	}
	cp := e.file("cp", string(e.srv.served))
	if code, out, errs := e.run("sample", "--policy", e.policy, "--checkpoint", cp, "-k", "4"); code != 0 {
		t.Fatalf("sample --checkpoint: %d %s %s", code, out, errs)
	}
	// A receipt, checked offline.
	proof, _ := tlog.ProveRecord(4, 2, e.srv)
	rb, _ := json.Marshal(verify.Receipt{Pool: "P1", Index: 2, Entry: e.srv.entries[2], Proof: proof, Checkpoint: string(e.srv.served)})
	receipt := e.file("receipt.json", string(rb))
	if code, out, errs := e.run("proof", "--policy", e.policy, receipt); code != 0 || !strings.Contains(out, "OK entry 2") {
		t.Fatalf("proof: %d %s %s", code, out, errs)
	}

	// Failures exit 1 with evidence printed and written.
	evDir := filepath.Join(t.TempDir(), "ev")
	bad := e.file("bad.json", strings.Replace(string(rb), `"index":2`, `"index":1`, 1))
	code, _, errs = e.run("proof", "--policy", e.policy, "--evidence-dir", evDir, bad)
	if code != 1 || !strings.Contains(errs, "receipt-proof") || !strings.Contains(errs, `"evidence"`) {
		t.Fatalf("tampered receipt: %d %s", code, errs)
	}
	if m, _ := filepath.Glob(filepath.Join(evDir, "*.json")); len(m) != 1 {
		t.Fatalf("evidence files %v", m)
	}
	if code, _, errs := e.run("open", "--dir", e.dir, "--index", "1", "--record", e.file("r2", "record B"), "--salt", hex.EncodeToString(e.salt)); code != 1 ||
		!strings.Contains(errs, "does not open") {
		t.Fatalf("open wrong record: %d %s", code, errs)
	}
	// Fork: the log rewrites entry 2 and grows.
	e.srv.entries, e.srv.hashes = nil, nil
	h := func(id string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: "2025-01-10"} }
	e.srv.add(t, verify.PoolOpened{Header: h("open"), Name: "Pool one", Cutoff: "2024-12-31", Currency: "CNY"})
	e.srv.add(t, verify.LoanBoarded{Header: h("b1"), Loan: "A", Claim: 10000, Principal: 10000, Commitment: verify.Commit(e.salt, verify.TagLoanRecord, []byte("record A"))})
	e.srv.add(t, verify.LoanStatus{Header: h("s1"), Loan: "A", Status: verify.StatusOpen})
	e.srv.add(t, verify.LoanStatus{Header: h("s2"), Loan: "A", Status: verify.StatusPlan})
	e.srv.add(t, verify.LoanStatus{Header: h("s3"), Loan: "A", Status: verify.StatusPromise})
	e.srv.publish(t)
	code, _, errs = e.run("sync", "--policy", e.policy, "--dir", e.dir)
	if code != 1 || !strings.Contains(errs, "log-fork") || !strings.Contains(errs, "old_checkpoint") {
		t.Fatalf("fork: %d %s", code, errs)
	}
	t.Logf("fork output:\n%s", errs)
	if m, _ := filepath.Glob(filepath.Join(e.dir, "evidence", "*-log-fork.json")); len(m) != 1 {
		t.Fatalf("fork evidence files %v", m)
	}
}

// TestReportPeriods: the report command says how periods are cut and catches a server that books
// a collection into a closed period (dated in January, sequenced after January's report), naming
// the entry, with evidence; the same log with the collection dated in the open period passes.
func TestReportPeriods(t *testing.T) {
	t.Setenv(tokenEnv, "tok")
	for _, c := range []struct {
		eff  string
		code int
	}{{"2025-02-01", 0}, {"2025-01-31", 1}} {
		e := newEnv(t)
		h := verify.Header{Pool: "P1", EventID: "late", Effective: c.eff}
		e.srv.add(t, verify.LoanCollection{Header: h, Loan: "A", Amount: 100, Principal: 100, Channel: verify.ChannelBankTransfer,
			BankTxn: verify.Commit(e.salt, verify.TagBankTxn, verify.BankTxnRecord("T2"))})
		e.srv.publish(t)
		if code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir); code != 0 {
			t.Fatalf("sync: %d %s %s", code, out, errs)
		}
		code, out, errs := e.run("report", "--dir", e.dir)
		if code != c.code || !strings.Contains(out, "periods (cut by effective date): 3 movements") {
			t.Fatalf("dated %s: %d %s %s", c.eff, code, out, errs)
		}
		if c.code == 0 {
			if !strings.Contains(out, "OK periods") || !strings.Contains(out, "1 in the open period") {
				t.Fatalf("open period: %s", out)
			}
			continue
		}
		if !strings.Contains(out, "MISPLACED periods") || !strings.Contains(out, "entry 4 (loan.collection late, dated 2025-01-31)") ||
			!strings.Contains(errs, "period-coverage") || !strings.Contains(errs, `"report": 3`) {
			t.Fatalf("booked into a closed period: %s\n%s", out, errs)
		}
		if m, _ := filepath.Glob(filepath.Join(e.dir, "evidence", "*-period-coverage.json")); len(m) != 1 {
			t.Fatalf("evidence files %v", m)
		}
	}
}

func TestUsage(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"sync"},
		{"sync", "--policy", e.policy},
		{"sync", "--policy", "/nonexistent", "--dir", e.dir},
		{"report", "--bogus"},
		{"proof", "--policy", e.policy},
		{"open", "--record", e.policy, "--salt", "00"},
		{"sample", "-k", "1"},
	} {
		code, _, _ := e.run(args...)
		want := exitUsage
		if len(args) == 0 {
			want = exitOK // prints help
		}
		if code != want {
			t.Errorf("%v: exit %d, want %d", args, code, want)
		}
	}
}

// TestReportReversal: report knows loan.collection_reversal: February's report counts its
// collections net of the reversal of January's collection and the roll-forward holds; a reversal
// with other figures than its collection fails.
func TestReportReversal(t *testing.T) {
	t.Setenv(tokenEnv, "tok")
	for _, c := range []struct {
		amount verify.Amount
		code   int
	}{{2500, 0}, {2400, 1}} {
		e := newEnv(t)
		h := func(id, eff string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: eff} }
		e.srv.add(t, verify.LoanCollection{Header: h("c2", "2025-02-03"), Loan: "A", Amount: 3000, Principal: 3000, Channel: verify.ChannelBankTransfer,
			BankTxn: verify.Commit(e.salt, verify.TagBankTxn, verify.BankTxnRecord("T2"))})
		e.srv.add(t, verify.LoanCollectionReversal{Header: h("rv1", "2025-02-05"), Loan: "A", Amount: c.amount, Principal: c.amount,
			Reverses: "c1", Reason: "bounced"})
		e.srv.add(t, verify.PeriodReport{Header: h("r2", "2025-02-28"), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", FromIndex: 3, ToIndex: 6,
			CollectionsCount: 1, Collections: 3000 - c.amount, PrincipalCollected: 3000 - c.amount, OpeningBalance: 7500,
			ClosingBalance: 7500 - 3000 + c.amount, ReportHash: strings.Repeat("b", 64)})
		e.srv.publish(t)
		if code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir); code != 0 {
			t.Fatalf("sync: %d %s %s", code, out, errs)
		}
		code, out, errs := e.run("report", "--dir", e.dir)
		if code != c.code {
			t.Fatalf("reversal of %s: %d %s %s", c.amount, code, out, errs)
		}
		if c.code == 0 && !strings.Contains(out, "OK report at 6") {
			t.Fatalf("report: %s", out)
		}
		if c.code == 1 && !strings.Contains(out+errs, "with other figures") {
			t.Fatalf("a reversal with other figures: %s %s", out, errs)
		}
	}
}

// TestReportWaiver: report knows loan.waiver: February's version-2 report rolls the balance
// forward net of the waiver (7500 - 3000 collected - 4500 waived = 0); a report that leaves the
// waiver out of its closing balance fails naming waived.
func TestReportWaiver(t *testing.T) {
	t.Setenv(tokenEnv, "tok")
	for _, c := range []struct {
		waived verify.Amount
		code   int
	}{{4500, 0}, {0, 1}} {
		e := newEnv(t)
		h := func(id, eff string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: eff} }
		h2 := func(id, eff string) verify.Header { x := h(id, eff); x.V = verify.EntryVersion2; return x }
		e.srv.add(t, verify.LoanCollection{Header: h("c2", "2025-02-03"), Loan: "A", Amount: 3000, Principal: 3000, Channel: verify.ChannelBankTransfer,
			BankTxn: verify.Commit(e.salt, verify.TagBankTxn, verify.BankTxnRecord("T2"))})
		e.srv.add(t, verify.LoanWaiver{Header: h("w1", "2025-02-05"), Loan: "A", Amount: 4500, Principal: 4500, Settlement: "offer-1",
			Reason: "settlement paid in full"})
		e.srv.add(t, verify.PeriodReport{Header: h2("r2", "2025-02-28"), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", FromIndex: 3, ToIndex: 6,
			CollectionsCount: 1, Collections: 3000, PrincipalCollected: 3000, OpeningBalance: 7500, WaiversCount: 1, Waived: c.waived,
			ClosingBalance: 7500 - 3000 - c.waived, ReportHash: strings.Repeat("b", 64)})
		e.srv.publish(t)
		if code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir); code != 0 {
			t.Fatalf("sync: %d %s %s", code, out, errs)
		}
		code, out, errs := e.run("report", "--dir", e.dir)
		if code != c.code {
			t.Fatalf("waived %s: %d %s %s", c.waived, code, out, errs)
		}
		if c.code == 0 && !strings.Contains(out, "OK report at 6") {
			t.Fatalf("report: %s", out)
		}
		if c.code == 1 && !strings.Contains(out+errs, "waived") {
			t.Fatalf("a report without its waiver: %s %s", out, errs)
		}
	}
}
