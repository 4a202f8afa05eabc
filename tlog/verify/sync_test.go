package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

var testNow = func() time.Time { return time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC) }

func syncOnce(t *testing.T, p *Policy, dir string, token string) (*SyncResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Sync(ctx, p, dir, nil, SyncOptions{Token: token, Now: testNow})
}

func wantFailure(t *testing.T, err error, kind string) *Failure {
	t.Helper()
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("want a %s failure, got %T %v", kind, err, err)
	}
	if f.Kind != kind {
		t.Fatalf("want failure kind %s, got %s: %v", kind, f.Kind, err)
	}
	return f
}

func evidenceFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, EvidenceDir, "*.json"))
	return m
}

func TestSyncGrowsAndChecksConsistency(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	l.token = "s3cret"
	p := keys.policy(t, l.url(), 2)
	dir := t.TempDir()

	fillLog(t, l, 150) // 301 entries: one full and one partial bundle
	l.publish()
	res, err := syncOnce(t, p, dir, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if res.OldSize != 0 || res.Size != 301 || res.NewEntries != 301 {
		t.Fatalf("first sync: %+v", res)
	}
	// Without the token the tiles are refused, and nothing changes.
	l.add(collection(t, 1000, "L1", 5))
	l.publish()
	if _, err := syncOnce(t, p, dir, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("sync without token: %v", err)
	}
	for _, grow := range []int{0, 1, 255, 256, 3} {
		for i := 0; i < grow; i++ {
			l.add(collection(t, 2000+len(l.entries), "L2", 1))
		}
		l.publish()
		old := res.Size
		res, err = syncOnce(t, p, dir, "s3cret")
		if err != nil {
			t.Fatalf("grow by %d: %v", grow, err)
		}
		if res.OldSize != old || res.Size != int64(len(l.entries)) || res.Size-res.OldSize != res.NewEntries {
			t.Fatalf("grow by %d: %+v", grow, res)
		}
	}
	loc, err := LoadLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(loc.Entries)) != res.Size || loc.Checkpoint.Hash != res.Root {
		t.Fatalf("local copy: %d entries, root %s", len(loc.Entries), loc.Checkpoint.Hash)
	}
	if len(evidenceFiles(t, dir)) != 0 {
		t.Fatalf("evidence written on success: %v", evidenceFiles(t, dir))
	}
}

func TestSyncForkSameSize(t *testing.T) {
	keys := newTestKeys(t, 1)
	a := newTestLog(t, keys)
	p := keys.policy(t, a.url(), 2)
	dir := t.TempDir()
	fillLog(t, a, 3)
	a.publish()
	if _, err := syncOnce(t, p, dir, ""); err != nil {
		t.Fatal(err)
	}
	// Same key, same size, the last entry different: two checkpoints of one size.
	b := newTestLog(t, keys)
	b.add(a.entries[:len(a.entries)-1]...)
	b.add(collection(t, 77, "L0", 1))
	a.served = b.checkpoint(int64(len(a.entries)), 0, 1)
	_, err := syncOnce(t, p, dir, "")
	f := wantFailure(t, err, "log-fork")
	checkForkEvidence(t, dir, f)
}

func TestSyncForkGrown(t *testing.T) {
	keys := newTestKeys(t, 1)
	a := newTestLog(t, keys)
	p := keys.policy(t, a.url(), 2)
	dir := t.TempDir()
	fillLog(t, a, 200)
	a.publish()
	if _, err := syncOnce(t, p, dir, ""); err != nil {
		t.Fatal(err)
	}
	old := a.served
	// Another history under the same key: entry 5 differs, then the log grows.
	b := newTestLog(t, keys)
	b.add(a.entries[:5]...)
	b.add(collection(t, 9999, "L0", 1))
	b.add(a.entries[6:]...)
	b.add(collection(t, 10000, "L1", 1))
	b.publish()
	p2 := keys.policy(t, b.url(), 2)
	_, err := syncOnce(t, p2, dir, "")
	f := wantFailure(t, err, "log-fork")
	ev := checkForkEvidence(t, dir, f)
	if ev.OldCheckpoint != string(old) || ev.NewCheckpoint != string(b.served) || ev.RecomputedRoot == nil || len(ev.Proof) == 0 {
		t.Fatalf("evidence incomplete: %+v", ev)
	}
	// Anyone can re-check: the proof built from the new log's tiles does not reach the old root.
	if tlog.CheckTree(ev.Proof, ev.NewSize, ev.NewRoot, ev.OldSize, ev.OldRoot) == nil {
		t.Fatal("the fork evidence's proof verifies")
	}
	if tlog.CheckTree(ev.Proof, ev.NewSize, ev.NewRoot, ev.OldSize, *ev.RecomputedRoot) != nil {
		t.Fatal("the proof does not tie the new root to the recomputed old root")
	}
	// The local copy is unchanged.
	loc, err := LoadLocal(dir)
	if err != nil || string(loc.Signed) != string(old) {
		t.Fatalf("local copy changed: %v", err)
	}
}

func checkForkEvidence(t *testing.T, dir string, f *Failure) *ForkEvidence {
	t.Helper()
	files := evidenceFiles(t, dir)
	if len(files) != 1 || f.File != files[0] {
		t.Fatalf("evidence files %v, failure says %q", files, f.File)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind     string        `json:"kind"`
		Error    string        `json:"error"`
		Evidence *ForkEvidence `json:"evidence"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "log-fork" || doc.Evidence == nil || doc.Evidence.OldCheckpoint == "" || doc.Evidence.NewCheckpoint == "" ||
		doc.Evidence.OldCheckpoint == doc.Evidence.NewCheckpoint {
		t.Fatalf("evidence file: %s", b)
	}
	return doc.Evidence
}

func TestSyncRollback(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	p := keys.policy(t, l.url(), 2)
	dir := t.TempDir()
	fillLog(t, l, 5)
	small := l.checkpoint(4, 0, 1)
	l.publish()
	if _, err := syncOnce(t, p, dir, ""); err != nil {
		t.Fatal(err)
	}
	l.served = small
	_, err := syncOnce(t, p, dir, "")
	f := wantFailure(t, err, "log-rollback")
	if f.File == "" {
		t.Fatal("no evidence written")
	}
}

func TestSyncRejects(t *testing.T) {
	keys := newTestKeys(t, 1)
	other := newTestKeys(t, 9)
	cases := []struct {
		name   string
		setup  func(l *testLog)
		quorum int
		kind   string
		msg    string
	}{
		{"wrong log key", func(l *testLog) {
			l.keys = other
			l.publish()
			l.keys = keys
		}, 2, "checkpoint-signature", "not signed by the log key"},
		{"forged log signature", func(l *testLog) {
			// A signature line with the log's name and key ID but a made-up signature.
			sig := binary.BigEndian.AppendUint32(nil, keys.logSigner.KeyHash())
			sig = append(sig, bytes.Repeat([]byte{0x5a}, 64)...)
			body := l.checkpoint(int64(len(l.entries)))
			text := body[:bytes.LastIndex(body, []byte("\n\n"))+2]
			l.served = append(append([]byte(nil), text...), "— "+testOrigin+" "+base64.StdEncoding.EncodeToString(sig)+"\n"...)
		}, 0, "checkpoint-signature", "forged"},
		{"insufficient quorum", func(l *testLog) { l.served = l.checkpoint(int64(len(l.entries)), 0) }, 2, "checkpoint-quorum", "1 of the 2"},
		{"duplicate cosignatures count once", func(l *testLog) {
			a := l.checkpoint(int64(len(l.entries)), 0)
			// A second cosignature by witness 0, at another time.
			w0 := keys.witnesses[0].(*cosigSigner)
			later := *w0
			later.now = func() time.Time { return time.Unix(1760000000, 0) }
			keys.witnesses[0] = &later
			b := l.checkpoint(int64(len(l.entries)), 0)
			keys.witnesses[0] = w0
			l.served = append(a, b[strings.LastIndex(string(b), "— witness1"):]...)
		}, 2, "checkpoint-quorum", "1 of the 2"},
		{"truncated tile", func(l *testLog) {
			l.publish()
			l.tamper = func(path string, b []byte) []byte {
				if strings.HasPrefix(path, "tile/0/") {
					return b[:len(b)-1]
				}
				return b
			}
		}, 2, "tiles-invalid", "bytes, want"},
		{"padded tile", func(l *testLog) {
			l.publish()
			l.tamper = func(path string, b []byte) []byte {
				if strings.HasPrefix(path, "tile/0/") {
					return append(b, 0)
				}
				return b
			}
		}, 2, "tiles-invalid", "bytes, want"},
		{"wrong tile hash", func(l *testLog) {
			l.publish()
			l.tamper = func(path string, b []byte) []byte {
				if strings.HasPrefix(path, "tile/0/") {
					b = append([]byte(nil), b...)
					b[0] ^= 1
				}
				return b
			}
		}, 2, "tiles-invalid", "inconsistent"},
		{"tampered entry", func(l *testLog) {
			l.publish()
			l.tamper = func(path string, b []byte) []byte {
				if strings.HasPrefix(path, "tile/entries/") {
					// Still a canonical entry of the same length, but not the logged one.
					i := strings.LastIndex(string(b), `"channel":"online"`)
					return []byte(string(b[:i]) + `"channel":"agency"` + string(b[i+len(`"channel":"online"`):]))
				}
				return b
			}
		}, 2, "entry-invalid", "verified tile says"},
		{"truncated bundle", func(l *testLog) {
			l.publish()
			l.tamper = func(path string, b []byte) []byte {
				if strings.HasPrefix(path, "tile/entries/") {
					return b[:len(b)-3]
				}
				return b
			}
		}, 2, "entry-invalid", "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newTestLog(t, keys)
			p := keys.policy(t, l.url(), c.quorum)
			dir := t.TempDir()
			fillLog(t, l, 3)
			l.publish()
			if _, err := syncOnce(t, p, dir, ""); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
			l.add(collection(t, 50, "L0", 5), collection(t, 51, "L1", 5))
			c.setup(l)
			_, err := syncOnce(t, p, dir, "")
			f := wantFailure(t, err, c.kind)
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
			if f.File == "" {
				t.Fatal("no evidence file")
			}
			after, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
			if string(before) != string(after) {
				t.Fatal("checkpoint stored despite the failure")
			}
			if _, err := LoadLocal(dir); err != nil {
				t.Fatalf("local copy damaged: %v", err)
			}
		})
	}
}

func TestSyncRejectsBadEntries(t *testing.T) {
	keys := newTestKeys(t, 1)
	for _, c := range []struct {
		name  string
		entry []byte
		want  string
	}{
		{"non-canonical", []byte(`{"v":1, "pool":"RCL-ABS-2025-1"}`), "whitespace"},
		{"other pool", mustEncode(t, LoanStatus{Header: Header{Pool: "OTHER", EventID: "s1", Effective: "2025-01-01"}, Loan: "L0", Status: StatusOpen}), "pool"},
		{"duplicate event", mustEncode(t, LoanStatus{Header: hdr("pool-1", "2025-01-01"), Loan: "L0", Status: StatusOpen}), "event_id"},
		{"report index", mustEncode(t, PeriodReport{Header: hdr("r", "2025-01-31"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", ToIndex: 3, ReportHash: hx('a')}), "to_index"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newTestLog(t, keys)
			p := keys.policy(t, l.url(), 2)
			dir := t.TempDir()
			fillLog(t, l, 2)
			l.add(c.entry)
			l.publish()
			_, err := syncOnce(t, p, dir, "")
			wantFailure(t, err, "entry-invalid")
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v does not mention %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
				t.Fatal("checkpoint stored")
			}
		})
	}
}

func TestLocalCopyTampered(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	p := keys.policy(t, l.url(), 2)
	dir := t.TempDir()
	fillLog(t, l, 3)
	l.publish()
	if _, err := syncOnce(t, p, dir, ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, EntriesFile)
	b, _ := os.ReadFile(path)
	b2 := []byte(strings.Replace(string(b), `"amount":"1000"`, `"amount":"1001"`, 1))
	b2 = []byte(strings.Replace(string(b2), `"principal":"1000"`, `"principal":"1001"`, 1))
	if string(b2) == string(b) {
		t.Fatal("no change made")
	}
	os.WriteFile(path, b2, 0o644)
	_, err := LoadLocal(dir)
	wantFailure(t, err, "local-copy")
	_, err = syncOnce(t, p, dir, "")
	wantFailure(t, err, "local-copy")
	// A crash that left extra bytes after the entries is harmless.
	os.WriteFile(path, append(b, 0, 9, 'x'), 0o644)
	if _, err := LoadLocal(dir); err != nil {
		t.Fatal(err)
	}
	l.add(collection(t, 60, "L0", 5))
	l.publish()
	if _, err := syncOnce(t, p, dir, ""); err != nil {
		t.Fatal(err)
	}
	if loc, err := LoadLocal(dir); err != nil || len(loc.Entries) != len(l.entries) {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestSyncOriginMismatch(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	fillLog(t, l, 1)
	l.publish()
	p := keys.policy(t, l.url(), 2)
	p.Origin = "reclaim.example/pools/OTHER"
	_, err := syncOnce(t, p, t.TempDir(), "")
	wantFailure(t, err, "checkpoint-origin")
}

func ExampleSample() {
	c := Checkpoint{Origin: "example", Size: 1000}
	s, _ := Sample(c, 5)
	fmt.Println(len(s))
	// Output: 5
}

func TestHashStoreMatchesTlog(t *testing.T) {
	var s hashStore
	for n := int64(0); n < 1100; n++ {
		e := []byte(fmt.Sprintf("entry %d", n))
		want, err := tlog.StoredHashes(n, e, &s)
		if err != nil {
			t.Fatal(err)
		}
		before := len(s.h)
		if err := s.add(n, e); err != nil {
			t.Fatal(err)
		}
		if got := s.h[before:]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("entry %d: stored hashes %v, tlog.StoredHashes %v", n, got, want)
		}
	}
	if err := s.add(5, []byte("x")); err == nil {
		t.Fatal("added an entry out of order")
	}
}

// setTamper sets l.tamper while the server may be serving.
func (l *testLog) setTamper(f func(path string, body []byte) []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tamper = f
}

// dirNames lists a local copy's directory.
func dirNames(t *testing.T, dir string) string {
	t.Helper()
	ds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name())
	}
	return strings.Join(names, " ")
}

// TestSyncEventIDCollisions forces every event_id hash to collide (and then to collide in
// groups), so that the event_id check must re-read entries from the stored copy and from the
// new entries' temporary file.
func TestSyncEventIDCollisions(t *testing.T) {
	saved := eventHash
	t.Cleanup(func() { eventHash = saved })
	for name, h := range map[string]func(maphash.Seed, string) uint64{
		"all":       func(maphash.Seed, string) uint64 { return 7 },
		"by length": func(_ maphash.Seed, id string) uint64 { return uint64(len(id)) },
	} {
		t.Run(name, func(t *testing.T) {
			eventHash = h
			keys := newTestKeys(t, 1)
			l := newTestLog(t, keys)
			p := keys.policy(t, l.url(), 2)
			dir := t.TempDir()
			fillLog(t, l, 150) // 301 entries
			l.publish()
			if _, err := syncOnce(t, p, dir, ""); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 300; i++ {
				l.add(collection(t, 1000+i, "L1", 1))
			}
			l.publish()
			if res, err := syncOnce(t, p, dir, ""); err != nil || res.NewEntries != 300 {
				t.Fatalf("%+v %v", res, err)
			}
			// A repeat of a stored event_id, and of one that is new in the same sync.
			for _, c := range []struct {
				repeat []byte
				want   string
			}{
				{collection(t, 5, "L5", 1), `entry 602: event_id "coll-5" was already used by entry 156`},
				{collection(t, 2000, "L1", 1), `entry 602: event_id "coll-2000" was already used by entry 601`},
			} {
				l2 := newTestLog(t, keys)
				l2.add(l.entries...)
				l2.add(collection(t, 2000, "L1", 1), c.repeat)
				l2.publish()
				d2 := t.TempDir()
				if err := os.CopyFS(d2, os.DirFS(dir)); err != nil {
					t.Fatal(err)
				}
				_, err := syncOnce(t, keys.policy(t, l2.url(), 2), d2, "")
				wantFailure(t, err, "entry-invalid")
				if !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v does not mention %q", err, c.want)
				}
				if got := dirNames(t, d2); got != "checkpoint entries evidence" {
					t.Fatalf("directory after a failed sync: %s", got)
				}
			}
			loc, err := LoadLocal(dir)
			if err != nil || len(loc.Entries) != 601 {
				t.Fatalf("local copy: %v", err)
			}
		})
	}
}

// TestSyncOrderedFetches serves entry bundles and tiles with delays that make later responses
// arrive first: Sync must still store exactly the log and report the first bad bundle.
func TestSyncOrderedFetches(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	fillLog(t, l, 700) // 1401 entries, 6 bundles
	l.publish()
	delayed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, err := ParseTilePath(r.URL.Path); err == nil {
			time.Sleep(time.Duration(10-t.N%10) * 3 * time.Millisecond)
		}
		l.ServeHTTP(w, r)
	}))
	t.Cleanup(delayed.Close)
	p := keys.policy(t, delayed.URL+"/", 2)
	dir := t.TempDir()
	if _, err := syncOnce(t, p, dir, ""); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, e := range l.entries {
		want, _ = AppendEntryBundle(want, e)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, EntriesFile)); !bytes.Equal(got, want) {
		t.Fatal("the entries file is not the log")
	}
	if got := dirNames(t, dir); got != "checkpoint entries" {
		t.Fatalf("directory after sync: %s", got)
	}
	// Grow the log, then damage bundles 7 and 9: the error names bundle 7, every time.
	for i := 0; i < 1200; i++ {
		l.add(collection(t, 5000+i, fmt.Sprintf("L%d", i%700), 1))
	}
	l.publish()
	l.setTamper(func(path string, b []byte) []byte {
		if path == "tile/entries/007" || path == "tile/entries/009" {
			return b[:len(b)-1]
		}
		return b
	})
	for range 3 {
		_, err := syncOnce(t, p, dir, "")
		wantFailure(t, err, "entry-invalid")
		if !strings.Contains(err.Error(), "entry 1792: entry bundle tile/entries/007") {
			t.Fatalf("error %v is not about the first bad bundle", err)
		}
	}
	// A changed entry (still canonical) is found through the verified tiles, and the evidence
	// holds the served entry, read back from the temporary file.
	bad := 2000
	l.setTamper(func(path string, b []byte) []byte {
		if path == "tile/entries/007" {
			return bytes.Replace(b, []byte(`"event_id":"coll-`+fmt.Sprint(5000+bad-1401)+`"`), []byte(`"event_id":"coll-`+fmt.Sprint(6000+bad-1401)+`"`), 1)
		}
		return b
	})
	_, err := syncOnce(t, p, dir, "")
	f := wantFailure(t, err, "entry-invalid")
	ev := f.Evidence.(*EntryEvidence)
	served, _ := base64.StdEncoding.DecodeString(ev.Entry)
	if ev.Index != int64(bad) || !strings.Contains(string(served), fmt.Sprintf(`"coll-%d"`, 6000+bad-1401)) || !strings.Contains(err.Error(), "verified tile says") {
		t.Fatalf("evidence %+v for %v", ev, err)
	}
	l.setTamper(nil)
	if res, err := syncOnce(t, p, dir, ""); err != nil || res.NewEntries != 1200 {
		t.Fatalf("%+v %v", res, err)
	}
	want = want[:0]
	for _, e := range l.entries {
		want, _ = AppendEntryBundle(want, e)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, EntriesFile)); !bytes.Equal(got, want) {
		t.Fatal("the entries file is not the log")
	}
	if got := dirNames(t, dir); got != "checkpoint entries evidence" {
		t.Fatalf("directory after sync: %s", got)
	}
}

// BenchmarkSync syncs a log of 20,000 loan.collection entries from scratch (the in-process test
// server's work is included).
func BenchmarkSync(b *testing.B) {
	keys := newTestKeys(b, 1)
	l := newTestLog(b, keys)
	for i := 0; i < 20000; i++ {
		l.add(collection(b, i, "L0", 1))
	}
	l.publish()
	p := keys.policy(b, l.url(), 2)
	b.ReportAllocs()
	for b.Loop() {
		dir := b.TempDir()
		if _, err := Sync(context.Background(), p, dir, nil, SyncOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
