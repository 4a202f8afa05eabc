package verify

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const testOrigin = "reclaim.example/pools/RCL-ABS-2025-1"

// testKeys are deterministic keys for tests: the log key and three witnesses.
type testKeys struct {
	logSigner note.Signer
	logVKey   string
	witnesses []note.Signer
	wvkeys    []string
}

func newTestKeys(t testing.TB, seed byte) *testKeys {
	t.Helper()
	k := &testKeys{}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	vk, err := note.NewEd25519VerifierKey(testOrigin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	k.logVKey = vk
	// note has no constructor from an ed25519 key for signers; build the skey string.
	k.logSigner = ed25519NoteSigner(t, testOrigin, priv)
	clock := func() time.Time { return time.Unix(1750000000, 0) }
	for i := 0; i < 3; i++ {
		wp := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x40 + 4*seed + byte(i)}, 32))
		name := fmt.Sprintf("witness%d.example/w", i+1)
		s, err := NewCosignatureSigner(name, wp, clock)
		if err != nil {
			t.Fatal(err)
		}
		wv, err := CosignatureVerifierKey(name, wp.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		k.witnesses = append(k.witnesses, s)
		k.wvkeys = append(k.wvkeys, wv)
	}
	return k
}

type edSigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
}

func (s *edSigner) Name() string                    { return s.name }
func (s *edSigner) KeyHash() uint32                 { return s.hash }
func (s *edSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

func ed25519NoteSigner(t testing.TB, name string, priv ed25519.PrivateKey) note.Signer {
	vk, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vk)
	if err != nil {
		t.Fatal(err)
	}
	return &edSigner{name: name, hash: v.KeyHash(), priv: priv}
}

func (k *testKeys) policy(t testing.TB, url string, quorum int) *Policy {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# test policy\nlog %s\n", k.logVKey)
	if url != "" {
		fmt.Fprintf(&b, "url %s\n", url)
	}
	for _, w := range k.wvkeys {
		fmt.Fprintf(&b, "witness %s\n", w)
	}
	fmt.Fprintf(&b, "quorum %d\n", quorum)
	p, err := ParsePolicy([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testLog is an in-memory log that serves C2SP tlog-tiles over HTTP.
type testLog struct {
	t       testing.TB
	keys    *testKeys
	mu      sync.Mutex
	entries [][]byte
	hashes  hashStore
	served  []byte // the signed checkpoint served at /checkpoint
	token   string
	// tamper, when set, may change a response body for a path.
	tamper func(path string, body []byte) []byte
	srv    *httptest.Server
}

func newTestLog(t testing.TB, keys *testKeys) *testLog {
	l := &testLog{t: t, keys: keys}
	l.srv = httptest.NewServer(l)
	t.Cleanup(l.srv.Close)
	return l
}

func (l *testLog) url() string { return l.srv.URL + "/" }

func (l *testLog) add(entries ...[]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entries {
		if err := l.hashes.add(int64(len(l.entries)), e); err != nil {
			l.t.Fatal(err)
		}
		l.entries = append(l.entries, e)
	}
}

// checkpoint signs the checkpoint of the first n entries with the log key and the given
// witnesses (indices into keys.witnesses).
func (l *testLog) checkpoint(n int64, witnesses ...int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	root, err := tlog.TreeHash(n, &l.hashes)
	if err != nil {
		l.t.Fatal(err)
	}
	c := Checkpoint{Origin: testOrigin, Size: n, Hash: root}
	signers := []note.Signer{l.keys.logSigner}
	for _, w := range witnesses {
		signers = append(signers, l.keys.witnesses[w])
	}
	signed, err := note.Sign(&note.Note{Text: string(c.Format())}, signers...)
	if err != nil {
		l.t.Fatal(err)
	}
	return signed
}

// publish serves the checkpoint of the whole log, cosigned by witnesses 0 and 1.
func (l *testLog) publish() []byte {
	l.served = l.checkpoint(int64(len(l.entries)), 0, 1)
	return l.served
}

func (l *testLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/")
	var body []byte
	switch {
	case path == "checkpoint":
		body = l.served
	default:
		if l.token != "" && r.Header.Get("Authorization") != "Bearer "+l.token {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		t, err := ParseTilePath(path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if t.L == -1 {
			start := t.N * TileWidth
			if start+int64(t.W) > int64(len(l.entries)) {
				http.NotFound(w, r)
				return
			}
			for _, e := range l.entries[start : start+int64(t.W)] {
				body, _ = AppendEntryBundle(body, e)
			}
		} else {
			body, err = tlog.ReadTileData(t, &l.hashes)
			if err != nil {
				http.NotFound(w, r)
				return
			}
		}
	}
	if l.tamper != nil {
		body = l.tamper(path, body)
	}
	w.Write(body)
}

// collection returns a canonical loan.collection entry.
func collection(t testing.TB, i int, loan string, amount Amount) []byte {
	e := LoanCollection{Header: hdr(fmt.Sprintf("coll-%d", i), "2025-02-03"), Loan: loan, Amount: amount, Principal: amount,
		Channel: ChannelOnline, BankTxn: Commit(bytes.Repeat([]byte{byte(i)}, 32), TagBankTxn, BankTxnRecord(fmt.Sprintf("TXN-%d", i)))}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func boarded(t testing.TB, loan string, claim Amount) []byte {
	e := LoanBoarded{Header: hdr("board-"+loan, "2025-01-15"), Loan: loan, Claim: claim, Principal: claim, DPD: 100, Commitment: hx('b')}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEncode(t testing.TB, e Entry) []byte {
	t.Helper()
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fillLog adds pool.opened, n boarded loans and n collections.
func fillLog(t testing.TB, l *testLog, n int) {
	l.add(mustEncode(t, PoolOpened{Header: hdr("pool-1", "2025-01-15"), Name: "Pool", Cutoff: "2024-12-31", Currency: "CNY"}))
	for i := 0; i < n; i++ {
		l.add(boarded(t, fmt.Sprintf("L%d", i), 100000))
	}
	for i := 0; i < n; i++ {
		l.add(collection(t, i, fmt.Sprintf("L%d", i), 1000))
	}
}
