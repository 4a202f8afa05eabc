package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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

const origin = "reclaim.example/pools/RCL-ABS-2025-1"

type edSigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
}

func (s *edSigner) Name() string                    { return s.name }
func (s *edSigner) KeyHash() uint32                 { return s.hash }
func (s *edSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// logKey returns a note signer and its verifier key for a log.
func logKey(t *testing.T, seed byte) (note.Signer, string) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	vk, err := note.NewEd25519VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(vk)
	return &edSigner{name: origin, hash: v.KeyHash(), priv: priv}, vk
}

// tree is a tiny in-memory log.
type tree struct {
	hashes []tlog.Hash
	n      int64
	salt   string // varies the entries, for a second history
}

func (tr *tree) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = tr.hashes[x]
	}
	return out, nil
}

func (tr *tree) add(t *testing.T, k int) {
	for i := 0; i < k; i++ {
		hs, err := tlog.StoredHashes(tr.n, []byte(fmt.Sprintf("entry %d%s", tr.n, tr.salt)), tr)
		if err != nil {
			t.Fatal(err)
		}
		tr.hashes = append(tr.hashes, hs...)
		tr.n++
	}
}

func (tr *tree) checkpoint(t *testing.T, s note.Signer, n int64) []byte {
	root, err := tlog.TreeHash(n, tr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := note.Sign(&note.Note{Text: string(verify.Checkpoint{Origin: origin, Size: n, Hash: root}.Format())}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (tr *tree) proof(t *testing.T, old, n int64) []tlog.Hash {
	if old == 0 || old == n {
		return nil
	}
	p, err := tlog.ProveTree(n, old, tr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type fixture struct {
	w      *Witness
	url    string
	vkey   string
	state  string
	signer note.Signer
	logVK  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	signer, logVK := logKey(t, 1)
	skey, vkey, err := verify.GenerateCosignatureKey("witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := verify.NewCosignatureSignerFromKey(skey, func() time.Time { return time.Unix(1750000000, 0) })
	if err != nil {
		t.Fatal(err)
	}
	logs, err := ParseLogs([]byte("# logs\nlog " + logVK + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "witness.json")
	w, err := New(cs, logs, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: w}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &fixture{w: w, url: srv.URL, vkey: vkey, state: state, signer: signer, logVK: logVK}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestAddCheckpoint(t *testing.T) {
	f := newFixture(t)
	tr := &tree{}
	tr.add(t, 10)
	cp := tr.checkpoint(t, f.signer, 10)
	lines, err := Request(ctx(t), nil, f.url, 0, nil, cp)
	if err != nil {
		t.Fatal(err)
	}
	// The returned line is a valid cosignature that a quorum check counts.
	merged, err := MergeCosignatures(cp, lines, lines)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := verify.ParsePolicy([]byte(fmt.Sprintf("log %s\nwitness %s\nquorum 1\n", f.logVK, f.vkey)))
	if err != nil {
		t.Fatal(err)
	}
	vc, err := verify.VerifyCheckpoint(pol, merged)
	if err != nil || len(vc.Cosignatures) != 1 || vc.Cosignatures[0].Time.Unix() != 1750000000 {
		t.Fatalf("cosigned checkpoint: %+v %v\n%s", vc, err, merged)
	}
	// Grow with a proof.
	tr.add(t, 300)
	cp2 := tr.checkpoint(t, f.signer, 310)
	if _, err := Request(ctx(t), nil, f.url+"/", 10, tr.proof(t, 10, 310), cp2); err != nil {
		t.Fatal(err)
	}
	// Stale old size: 409 with the witness's size.
	_, err = Request(ctx(t), nil, f.url, 10, tr.proof(t, 10, 310), cp2)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Size != 310 {
		t.Fatalf("want conflict at 310, got %v", err)
	}
	// Same size again: fine (idempotent).
	if _, err := Request(ctx(t), nil, f.url+"/add-checkpoint", 310, nil, cp2); err != nil {
		t.Fatal(err)
	}
	// The state survives a restart.
	b, err := os.ReadFile(f.state)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.Logs[origin].Size != 310 || st.Logs[origin].Checkpoint != string(cp2) {
		t.Fatalf("state %s %v", b, err)
	}
	logs, _ := ParseLogs([]byte("log " + f.logVK))
	w2, err := New(f.w.signer, logs, f.state, nil)
	if err != nil || w2.Sizes()[origin] != 310 {
		t.Fatalf("reloaded: %v %v", w2.Sizes(), err)
	}
}

func post(t *testing.T, url string, body []byte) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

func TestAddCheckpointStatuses(t *testing.T) {
	f := newFixture(t)
	tr := &tree{}
	tr.add(t, 20)
	if _, err := Request(ctx(t), nil, f.url, 0, nil, tr.checkpoint(t, f.signer, 8)); err != nil {
		t.Fatal(err)
	}
	good := tr.checkpoint(t, f.signer, 20)
	otherSigner, _ := logKey(t, 2)
	forged := tr.checkpoint(t, otherSigner, 20)
	// A note with the log's key name and ID but a bad signature.
	bad := bytes.Clone(good)
	bad[len(bad)-5] ^= 1
	if bytes.Equal(bad, good) {
		t.Fatal("no change")
	}
	unknown := []byte(strings.Replace(string(good), origin+"\n", "reclaim.example/other\n", 1))
	proof := tr.proof(t, 8, 20)
	badProof := append([]tlog.Hash(nil), proof...)
	badProof[0][0] ^= 1
	for _, c := range []struct {
		name string
		body []byte
		code int
	}{
		{"wrong old size", FormatAddCheckpoint(7, tr.proof(t, 7, 20), good), 409},
		{"old beyond size", FormatAddCheckpoint(21, nil, good), 400},
		{"unknown origin", FormatAddCheckpoint(8, proof, unknown), 404},
		{"other key", FormatAddCheckpoint(8, proof, forged), 403},
		{"bad signature", FormatAddCheckpoint(8, proof, bad), 403},
		{"bad proof", FormatAddCheckpoint(8, badProof, good), 422},
		{"short proof", FormatAddCheckpoint(8, proof[1:], good), 422},
		{"no old line", []byte("\n" + string(good)), 400},
		{"old with leading zero", []byte("old 08\n\n" + string(good)), 400},
		{"bad proof line", []byte("old 8\nnot-base64\n\n" + string(good)), 400},
		{"no blank line", []byte("old 8\n"), 400},
		{"no checkpoint", []byte("old 8\n\n"), 400},
		{"not a note", []byte("old 8\n\n" + origin + "\nhello\n"), 400},
		{"huge", append([]byte("old 8\n\n"), bytes.Repeat([]byte("a"), MaxRequestSize)...), 400},
	} {
		resp, body := post(t, f.url, c.body)
		if resp.StatusCode != c.code {
			t.Errorf("%s: status %d (%s), want %d", c.name, resp.StatusCode, body, c.code)
		}
		if c.code == 409 && (resp.Header.Get("Content-Type") != SizeContentType || body != "8\n") {
			t.Errorf("%s: 409 with %q %q", c.name, resp.Header.Get("Content-Type"), body)
		}
	}
	if f.w.Sizes()[origin] != 8 {
		t.Fatalf("state changed by rejected requests: %v", f.w.Sizes())
	}
	// Same size, different root: 409 (a fork seen by the witness).
	tr2 := &tree{salt: "x"}
	tr2.add(t, 8)
	resp, body := post(t, f.url, FormatAddCheckpoint(8, nil, tr2.checkpoint(t, f.signer, 8)))
	if resp.StatusCode != 409 || body != "8\n" {
		t.Fatalf("equal size, other root: %d %q", resp.StatusCode, body)
	}
	if resp, _ := http.Get(f.url + "/add-checkpoint"); resp.StatusCode != 405 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	// The client maps errors.
	if _, err := Request(ctx(t), nil, f.url, 8, badProof, good); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("client on 422: %v", err)
	}
	// And the good request still works.
	if _, err := Request(ctx(t), nil, f.url, 8, proof, good); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentRequests checks that the witness never rolls back: concurrent requests for
// growing sizes leave the state at a size that some request was answered 200 for, and every
// answered size is consistent.
func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t)
	tr := &tree{}
	tr.add(t, 40)
	if _, err := Request(ctx(t), nil, f.url, 0, nil, tr.checkpoint(t, f.signer, 1)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	max := int64(1)
	for n := int64(2); n <= 40; n++ {
		wg.Add(1)
		go func(n int64) {
			defer wg.Done()
			old := int64(1)
			for try := 0; try < 50; try++ {
				_, err := Request(ctx(t), nil, f.url, old, tr.proof(t, old, n), tr.checkpoint(t, f.signer, n))
				var ce *ConflictError
				switch {
				case err == nil:
					mu.Lock()
					if n > max {
						max = n
					}
					mu.Unlock()
					return
				case errors.As(err, &ce) && ce.Size <= n:
					old = ce.Size
				case errors.As(err, &ce):
					return // the witness is already past n
				default:
					t.Error(err)
					return
				}
			}
		}(n)
	}
	wg.Wait()
	if got := f.w.Sizes()[origin]; got != max {
		t.Fatalf("state size %d, largest cosigned %d", got, max)
	}
}

func TestParseLogs(t *testing.T) {
	_, vk := logKey(t, 1)
	_, vk2 := logKey(t, 2)
	logs, err := ParseLogs([]byte("log " + vk + "\n# c\n\nlog " + vk2 + " custom origin with spaces\n"))
	if err != nil || len(logs) != 2 || logs[0].Origin != origin || logs[1].Origin != "custom origin with spaces" {
		t.Fatalf("%+v %v", logs, err)
	}
	for _, bad := range []string{"log", "log x", "logs " + vk, "log " + vk + "\nlog " + vk} {
		if _, err := ParseLogs([]byte(bad)); err == nil {
			t.Errorf("ParseLogs(%q) accepted", bad)
		}
	}
}

func FuzzParseAddCheckpoint(f *testing.F) {
	f.Add([]byte("old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\no\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— o AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseAddCheckpoint(b)
		if err != nil {
			return
		}
		if !bytes.Equal(FormatAddCheckpoint(req.OldSize, req.Proof, req.Checkpoint), b) {
			t.Fatalf("accepted non-canonical request %q", b)
		}
	})
}
