package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// The RFC 6962 / Certificate Transparency known-answer vectors, carried over as data from
// github.com/transparency-dev/merkle (testonly/constants.go and proof/verify_test.go).
var (
	ctLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	ctLevel0 = []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
		"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
	}
	// ctRoots[n] is the root of the tree of the first n leaves.
	ctRoots = []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	// Inclusion proofs: leaf index (0-based), tree size, proof.
	ctInclusion = []struct {
		index, size int64
		proof       []string
	}{
		{0, 1, nil},
		{0, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{5, 8, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 3, []string{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
		{1, 5, []string{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	}
	ctConsistency = []struct {
		old, size int64
		proof     []string
	}{
		{1, 1, nil},
		{1, 8, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{6, 8, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
		{2, 5, []string{"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
		{6, 7, []string{"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	}
)

func hexHash(t *testing.T, s string) tlog.Hash {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hash %q", s)
	}
	return tlog.Hash(b)
}

func hexHashes(t *testing.T, list []string) []tlog.Hash {
	out := []tlog.Hash{}
	for _, s := range list {
		out = append(out, hexHash(t, s))
	}
	return out
}

func TestRFC6962Vectors(t *testing.T) {
	var hs hashStore
	for i, l := range ctLeaves {
		b, _ := hex.DecodeString(l)
		if got := LeafHash(b); got != hexHash(t, ctLevel0[i]) {
			t.Errorf("leaf %d hash %x, want %s", i, got[:], ctLevel0[i])
		}
		if err := hs.add(int64(i), b); err != nil {
			t.Fatal(err)
		}
	}
	for n, want := range ctRoots {
		got, err := tlog.TreeHash(int64(n), &hs)
		if err != nil || got != hexHash(t, want) {
			t.Errorf("root of %d leaves %x (%v), want %s", n, got[:], err, want)
		}
	}
	for _, v := range ctInclusion {
		got, err := tlog.ProveRecord(v.size, v.index, &hs)
		if err != nil || !reflect.DeepEqual([]tlog.Hash(got), hexHashes(t, v.proof)) {
			t.Errorf("inclusion %d in %d: %v %v", v.index, v.size, got, err)
		}
		c := Checkpoint{Size: v.size, Hash: hexHash(t, ctRoots[v.size])}
		pr := &InclusionProof{Index: v.index, Size: v.size, Proof: hexHashes(t, v.proof)}
		leaf := hexHash(t, ctLevel0[v.index])
		if err := CheckInclusion(c, pr, leaf); err != nil {
			t.Errorf("inclusion %d in %d does not verify: %v", v.index, v.size, err)
		}
		// Corruptions: wrong index, wrong leaf, each proof hash flipped, truncated, extended.
		bad := []*InclusionProof{{Index: v.index ^ 1, Size: v.size, Proof: pr.Proof}, {Index: v.index, Size: v.size, Proof: append(append([]tlog.Hash{}, pr.Proof...), leaf)}}
		if len(pr.Proof) > 0 {
			bad = append(bad, &InclusionProof{Index: v.index, Size: v.size, Proof: pr.Proof[:len(pr.Proof)-1]})
		}
		for i := range pr.Proof {
			p := append([]tlog.Hash{}, pr.Proof...)
			p[i][0] ^= 8
			bad = append(bad, &InclusionProof{Index: v.index, Size: v.size, Proof: p})
		}
		for _, b := range bad {
			if b.Index < b.Size && CheckInclusion(c, b, leaf) == nil {
				t.Errorf("corrupted inclusion proof %+v verifies", b)
			}
		}
		if CheckInclusion(c, pr, hexHash(t, ctRoots[0])) == nil {
			t.Error("wrong leaf verifies")
		}
	}
	for _, v := range ctConsistency {
		got, err := tlog.ProveTree(v.size, v.old, &hs)
		if err != nil || !reflect.DeepEqual([]tlog.Hash(got), hexHashes(t, v.proof)) {
			t.Errorf("consistency %d..%d: %v %v", v.old, v.size, got, err)
		}
		o := Checkpoint{Size: v.old, Hash: hexHash(t, ctRoots[v.old])}
		n := Checkpoint{Size: v.size, Hash: hexHash(t, ctRoots[v.size])}
		pr := &ConsistencyProof{Old: v.old, Size: v.size, Proof: hexHashes(t, v.proof)}
		if err := CheckConsistency(o, n, pr); err != nil {
			t.Errorf("consistency %d..%d does not verify: %v", v.old, v.size, err)
		}
		for i := range pr.Proof {
			p := append([]tlog.Hash{}, pr.Proof...)
			p[i][0] ^= 16
			if CheckConsistency(o, n, &ConsistencyProof{Old: v.old, Size: v.size, Proof: p}) == nil {
				t.Errorf("consistency %d..%d with proof[%d] flipped verifies", v.old, v.size, i)
			}
		}
		if v.old != v.size && CheckConsistency(n, o, &ConsistencyProof{Old: v.size, Size: v.old, Proof: pr.Proof}) == nil {
			t.Error("time travel verifies")
		}
	}
}

func TestTilePaths(t *testing.T) {
	for _, c := range []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 2, N: 1000, W: 7}, "tile/2/x001/000.p/7"},
		{tlog.Tile{H: 8, L: -1, N: 5, W: 255}, "tile/entries/005.p/255"},
		{tlog.Tile{H: 8, L: -1, N: 999, W: 256}, "tile/entries/999"},
		{tlog.Tile{H: 8, L: 63, N: 1, W: 1}, "tile/63/001.p/1"},
	} {
		if got := TilePath(c.tile); got != c.path {
			t.Errorf("TilePath(%+v) = %q, want %q", c.tile, got, c.path)
		}
		got, err := ParseTilePath(c.path)
		if err != nil || got != c.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v", c.path, got, err)
		}
	}
	for _, p := range []string{"", "tile", "tile/0", "tile/0/", "tile/00/000", "tile/64/000", "tile/-1/000", "tile/data/000",
		"tile/8/0/000", "tile/0/0", "tile/0/1", "tile/0/0000", "tile/0/x000/001", "tile/0/001/002", "tile/0/x001",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/", "tile/0/000.p", "tile/0/000/.p/1",
		"tile/entries/x1/000", "tile/0/x9999999/000", "tile/0/x001/x002/x003/x004/x005/x006/x007/000", "tile/0/+01",
		"tile/0/00a", "tile/entries/000.p/-1", "tile/0/000.p/1/2", "tiles/0/000"} {
		if tile, err := ParseTilePath(p); err == nil {
			t.Errorf("ParseTilePath(%q) accepted as %+v", p, tile)
		}
	}
	for _, bad := range []tlog.Tile{{H: 4, W: 16}, {H: 8, L: -2, W: 1}, {H: 8, W: 0}, {H: 8, W: 257}, {H: 8, N: -1, W: 1}} {
		if p := TilePath(bad); p != "" {
			t.Errorf("TilePath(%+v) = %q", bad, p)
		}
	}
}

func TestBundlesAndHashTiles(t *testing.T) {
	var b []byte
	entries := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte{'x'}, 300)}
	for _, e := range entries {
		var err error
		if b, err = AppendEntryBundle(b, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ParseEntryBundle(b, 3)
	if err != nil || len(got) != 3 || string(got[2]) != string(entries[2]) || len(got[1]) != 0 {
		t.Fatalf("ParseEntryBundle: %q %v", got, err)
	}
	for name, c := range map[string]struct {
		data  []byte
		width int
	}{
		"truncated entry":  {b[:len(b)-1], 3},
		"truncated length": {b[:len(b)-301], 3},
		"padded":           {append(bytes.Clone(b), 0), 3},
		"extra entry":      {append(bytes.Clone(b), 0, 0), 3},
		"too few":          {b, 4},
		"width 0":          {b, 0},
		"width 257":        {b, 257},
		"empty":            {nil, 1},
	} {
		if _, err := ParseEntryBundle(c.data, c.width); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := AppendEntryBundle(nil, make([]byte, 1<<16)); err == nil {
		t.Error("oversize entry accepted")
	}
	tile := tlog.Tile{H: 8, L: 0, N: 0, W: 2}
	if hs, err := ParseHashTile(tile, make([]byte, 64)); err != nil || len(hs) != 2 {
		t.Fatal(err)
	}
	for _, n := range []int{0, 63, 65, 96} {
		if _, err := ParseHashTile(tile, make([]byte, n)); err == nil {
			t.Errorf("hash tile of %d bytes accepted", n)
		}
	}
}

func TestCheckpointFormat(t *testing.T) {
	c := Checkpoint{Origin: "example.com/log", Size: 20852163, Hash: tlog.Hash{1, 2, 3}, Extensions: []string{"ext one"}}
	b := c.Format()
	got, err := ParseCheckpoint(b)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, bad := range []string{"", "o\n1\n" + root, "o\n1\n", "\n1\n" + root + "\n", "o\n01\n" + root + "\n", "o\n-1\n" + root + "\n",
		"o\n+1\n" + root + "\n", "o\n1 \n" + root + "\n", "o\n99999999999999999999\n" + root + "\n", "o\n1\n" + root[:40] + "\n",
		"o\n1\n" + strings.TrimSuffix(root, "=") + "\n", "o\n1\n" + root + "\n\n", "o\n1\n" + root + "\nx\n\n", "o\r\n1\n" + root + "\n",
		"o\n1\n" + base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n"} {
		if c, err := ParseCheckpoint([]byte(bad)); err == nil {
			t.Errorf("ParseCheckpoint(%q) accepted as %+v", bad, c)
		}
	}
}

func TestCosignatureKeys(t *testing.T) {
	skey, vkey, err := GenerateCosignatureKey("witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1679315147, 0)
	s, err := NewCosignatureSignerFromKey(skey+"\n", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		t.Fatal("signer and verifier disagree")
	}
	body := Checkpoint{Origin: "example.com/behind-the-sofa", Size: 20852163, Hash: tlog.Hash{9}}.Format()
	sig, err := s.Sign(body)
	if err != nil || len(sig) != 72 || !v.Verify(body, sig) {
		t.Fatalf("sign/verify: %v %d", err, len(sig))
	}
	// The signature covers "cosignature/v1\ntime <ts>\n" + body, per C2SP tlog-cosignature.
	pub := v.(*cosigVerifier).pub
	if !ed25519.Verify(pub, []byte("cosignature/v1\ntime 1679315147\n"+string(body)), sig[8:]) {
		t.Fatal("signed message is not the C2SP cosigned message")
	}
	for name, bad := range map[string][]byte{
		"other body":  append([]byte("x"), body...),
		"other time":  append([]byte{0, 0, 0, 0, 0, 0, 0, 1}, sig[8:]...),
		"short":       sig[:71],
		"long":        append(bytes.Clone(sig), 0),
		"time > 2^63": append([]byte{0x80, 0, 0, 0, 0, 0, 0, 0}, sig[8:]...),
	} {
		msg := body
		if name == "other body" {
			msg, bad = bad, sig
		}
		if v.Verify(msg, bad) {
			t.Errorf("%s: verifies", name)
		}
	}
	// Key ID per the spec: SHA-256(name || 0x0A || 0x04 || key)[:4].
	if CosignatureKeyID("n", pub) == 0 {
		t.Log("zero key ID (possible but unlikely)")
	}
	for _, bad := range []string{"", "name", "name+00000000+", vkey + "x", strings.Replace(vkey, "witness", "Witness", 1),
		// An Ed25519 note key (algorithm 0x01) is not a cosignature key.
		testVKey(t, "witness.example/w1", 3)} {
		if _, err := NewCosignatureVerifier(bad); err == nil {
			t.Errorf("NewCosignatureVerifier(%q) accepted", bad)
		}
	}
	if _, err := NewCosignatureSignerFromKey(strings.Replace(skey, "PRIVATE", "PUBLIC", 1), nil); err == nil {
		t.Error("bad skey accepted")
	}
	if _, _, err := GenerateCosignatureKey("bad name"); err == nil {
		t.Error("name with a space accepted")
	}
}

func TestVerifyCheckpoint(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	fillLog(t, l, 1)
	p := keys.policy(t, "", 2)
	all := l.checkpoint(int64(len(l.entries)), 0, 1, 2)
	vc, err := VerifyCheckpoint(p, all)
	if err != nil || len(vc.Cosignatures) != 3 || vc.Size != 3 {
		t.Fatalf("%+v %v", vc, err)
	}
	// An invalid cosignature from a policy witness is not counted but does not sink the note.
	text := all[:bytes.LastIndex(all, []byte("\n\n"))+2]
	lines := strings.SplitAfter(string(all[len(text):]), "\n")
	w2 := lines[3]
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(w2[strings.LastIndex(w2, " "):]))
	raw[len(raw)-1] ^= 1
	forged := strings.Join(lines[:3], "") + w2[:strings.LastIndex(w2, " ")+1] + base64.StdEncoding.EncodeToString(raw) + "\n"
	vc, err = VerifyCheckpoint(p, append(bytes.Clone(text), forged...))
	if err != nil || len(vc.Cosignatures) != 2 || len(vc.Ignored) != 1 || !strings.Contains(vc.Ignored[0], "INVALID") {
		t.Fatalf("forged witness cosignature: %+v %v", vc, err)
	}
	p3 := keys.policy(t, "", 3)
	_, err = VerifyCheckpoint(p3, append(bytes.Clone(text), forged...))
	if !errors.Is(err, ErrQuorum) {
		t.Fatalf("quorum 3 with a forged cosignature: %v", err)
	}
	// Unknown keys are ignored.
	other := newTestKeys(t, 7)
	ol := newTestLog(t, other)
	ol.add(l.entries...)
	osig := ol.checkpoint(int64(len(l.entries)), 0)
	withUnknown := append(bytes.Clone(all), osig[bytes.LastIndex(osig, []byte("— witness1")):]...)
	if vc, err := VerifyCheckpoint(p, withUnknown); err != nil || len(vc.Ignored) != 1 {
		t.Fatalf("unknown witness: %+v %v", vc, err)
	}
	// Malformed notes.
	for _, bad := range [][]byte{nil, []byte("x"), text, append(bytes.Clone(all), 0), bytes.Repeat([]byte("a"), MaxCheckpointSize+1)} {
		if _, err := VerifyCheckpoint(p, bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestPolicy(t *testing.T) {
	keys := newTestKeys(t, 1)
	good := fmt.Sprintf("# investor policy\nlog %s\norigin %s\nurl https://reclaim.example/log/RCL/\npool RCL-ABS-2025-1\n\nwitness %s\nwitness\t%s\nwitness %s\nquorum 2\n",
		keys.logVKey, testOrigin, keys.wvkeys[0], keys.wvkeys[1], keys.wvkeys[2])
	p, err := ParsePolicy([]byte(good))
	if err != nil || p.Quorum != 2 || len(p.Witnesses) != 3 || p.Origin != testOrigin || p.Pool != "RCL-ABS-2025-1" {
		t.Fatalf("%+v %v", p, err)
	}
	noOrigin, err := ParsePolicy([]byte("log " + keys.logVKey + "\n"))
	if err != nil || noOrigin.Origin != testOrigin || noOrigin.Quorum != 0 {
		t.Fatalf("defaults: %+v %v", noOrigin, err)
	}
	for _, c := range []struct{ text, want string }{
		{"", "no log"},
		{"log " + keys.logVKey + "\nlog " + keys.logVKey, "line 2: log: repeated"},
		{"log nonsense", "line 1: log: bad note verifier key"},
		{"log " + keys.logVKey + "\nfrobnicate 1", `line 2: unknown directive "frobnicate"`},
		{"log " + keys.logVKey + "\nwitness " + keys.wvkeys[0] + "\nquorum 2", "line 3: quorum: 2 is more than the 1 witnesses"},
		{"log " + keys.logVKey + "\nwitness " + keys.wvkeys[0], "no quorum"},
		{"log " + keys.logVKey + "\nwitness " + keys.wvkeys[0] + "\nwitness " + keys.wvkeys[0] + "\nquorum 1", "line 3: witness: witness witness1.example/w listed twice"},
		{"log " + keys.logVKey + "\nwitness " + keys.logVKey + "\nquorum 1", "line 2: witness"},
		{"log " + keys.logVKey + "\nquorum -1", "line 2: quorum"},
		{"log " + keys.logVKey + "\nquorum 01", "line 2: quorum"},
		{"log " + keys.logVKey + "\nurl ftp://x/", "line 2: url"},
		{"log " + keys.logVKey + "\nurl https://x/log", "line 2: url"},
		{"log " + keys.logVKey + "\nurl", "line 2: url: missing value"},
		{"log " + keys.logVKey + " extra", "line 1: log: want a single value"},
		{"log " + keys.logVKey + "\npool bad pool", "line 2: pool"},
	} {
		_, err := ParsePolicy([]byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePolicy(%q) = %v, want error containing %q", c.text, err, c.want)
		}
	}
}

// makeReceipt returns a receipt for entry index of the test log at its full size.
func makeReceipt(t *testing.T, l *testLog, index int64) *Receipt {
	t.Helper()
	n := int64(len(l.entries))
	proof, err := tlog.ProveRecord(n, index, &l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	return &Receipt{Pool: "RCL-ABS-2025-1", Index: index, Entry: l.entries[index], Proof: proof, Checkpoint: string(l.checkpoint(n, 0, 1))}
}

func TestReceipts(t *testing.T) {
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	fillLog(t, l, 6)
	p := keys.policy(t, "", 2)
	r := makeReceipt(t, l, 7)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ParseReceipt(b)
	if err != nil || !reflect.DeepEqual(r, r2) {
		t.Fatalf("receipt JSON round trip: %v\n%s", err, b)
	}
	cr, err := CheckReceipt(p, r2)
	if err != nil || cr.Entry.Type() != TypeLoanCollection {
		t.Fatalf("good receipt: %v", err)
	}
	tamper := map[string]func(r *Receipt){
		"entry byte": func(r *Receipt) {
			r.Entry = []byte(strings.Replace(string(r.Entry), `"channel":"online"`, `"channel":"agency"`, 1))
		},
		"index":         func(r *Receipt) { r.Index = 8 },
		"beyond tree":   func(r *Receipt) { r.Index = 13 },
		"proof hash":    func(r *Receipt) { r.Proof[0][3] ^= 1 },
		"proof short":   func(r *Receipt) { r.Proof = r.Proof[1:] },
		"pool":          func(r *Receipt) { r.Pool = "OTHER" },
		"non-canonical": func(r *Receipt) { r.Entry = append(bytes.Clone(r.Entry[:len(r.Entry)-1]), ' ', '}') },
		"checkpoint root": func(r *Receipt) {
			r.Checkpoint = strings.Replace(r.Checkpoint, "\n"+fmt.Sprint(len(l.entries))+"\n", "\n12\n", 1)
		},
		"quorum":     func(r *Receipt) { r.Checkpoint = string(l.checkpoint(int64(len(l.entries)), 0)) },
		"not a note": func(r *Receipt) { r.Checkpoint = "hello" },
		"other log key": func(r *Receipt) {
			other := newTestLog(t, newTestKeys(t, 5))
			other.add(l.entries...)
			r.Checkpoint = string(other.checkpoint(13, 0, 1))
		},
	}
	for name, f := range tamper {
		r3 := makeReceipt(t, l, 7)
		f(r3)
		if _, err := CheckReceipt(p, r3); err == nil {
			t.Errorf("%s: tampered receipt accepted", name)
		} else if !errors.As(err, new(*Failure)) {
			t.Errorf("%s: error %T without evidence", name, err)
		}
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"pool":"p","index":0,"entry":"eA==","proof":[],"checkpoint":"x","extra":1}`,
		`{"pool":"p","index":-1,"entry":"eA==","proof":[],"checkpoint":"x"}`, `{"pool":"p","index":0,"entry":"eA=","proof":[],"checkpoint":"x"}`,
		`{"pool":"p","index":0,"entry":"eA==","proof":["AAAA"],"checkpoint":"x"}`, `{"pool":"p","index":0,"entry":"eA==","checkpoint":"x"}`,
		`{"pool":"p","index":0,"entry":"","proof":[],"checkpoint":"x"}`, `{"pool":"p","index":0,"entry":"eA==","proof":[],"checkpoint":"x"} {}`,
		`{"pool":"p","index":1.5,"entry":"eA==","proof":[],"checkpoint":"x"}`} {
		if _, err := ParseReceipt([]byte(bad)); err == nil {
			t.Errorf("ParseReceipt(%s) accepted", bad)
		}
	}
}

func TestProofJSON(t *testing.T) {
	ip := &InclusionProof{Index: 1, Size: 5, Proof: []tlog.Hash{{1}, {2}}}
	b, _ := json.Marshal(ip)
	if !strings.HasPrefix(string(b), `{"index":1,"size":5,"proof":["AQAA`) {
		t.Fatalf("inclusion JSON %s", b)
	}
	got, err := ParseInclusionProof(b)
	if err != nil || !reflect.DeepEqual(got, ip) {
		t.Fatalf("%+v %v", got, err)
	}
	cp := &ConsistencyProof{Old: 2, Size: 5, Proof: []tlog.Hash{{3}}}
	b, _ = json.Marshal(cp)
	if got, err := ParseConsistencyProof(b); err != nil || !reflect.DeepEqual(got, cp) {
		t.Fatalf("%s: %+v %v", b, got, err)
	}
	for _, bad := range []string{`{"index":5,"size":5,"proof":[]}`, `{"index":-1,"size":5,"proof":[]}`, `{"index":0,"size":5}`, `{"size":5,"proof":[]}`,
		`{"index":0,"size":5,"proof":[],"x":1}`, `{"index":0,"size":5,"proof":["` + strings.Repeat("A", 43) + `"]}`} {
		if _, err := ParseInclusionProof([]byte(bad)); err == nil {
			t.Errorf("ParseInclusionProof(%s) accepted", bad)
		}
	}
	for _, bad := range []string{`{"old":6,"size":5,"proof":[]}`, `{"old":-1,"size":5,"proof":[]}`, `{"old":1,"size":5}`} {
		if _, err := ParseConsistencyProof([]byte(bad)); err == nil {
			t.Errorf("ParseConsistencyProof(%s) accepted", bad)
		}
	}
}

func TestSampleKnownAnswers(t *testing.T) {
	// Computed with an independent Python implementation of the documented algorithm.
	for _, c := range []struct {
		root [32]byte
		size int64
		k    int
		want []int64
	}{
		{[32]byte(bytes.Repeat([]byte{1}, 32)), 1000, 8, []int64{827, 577, 795, 552, 159, 611, 879, 148}},
		{[32]byte(bytes.Repeat([]byte{2}, 32)), 3, 3, []int64{2, 1, 0}},
		{[32]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}, 1, 1, []int64{0}},
	} {
		got, err := Sample(Checkpoint{Size: c.size, Hash: c.root}, c.k)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Sample(size %d, k %d) = %v %v, want %v", c.size, c.k, got, err, c.want)
		}
	}
	if _, err := Sample(Checkpoint{Size: 3}, 4); err == nil {
		t.Error("k > size accepted")
	}
	if _, err := Sample(Checkpoint{Size: 3}, -1); err == nil {
		t.Error("negative k accepted")
	}
	s, _ := Sample(Checkpoint{Size: 1 << 40, Hash: tlog.Hash{7}}, 100)
	s2, _ := Sample(Checkpoint{Size: 1 << 40, Hash: tlog.Hash{7}}, 101)
	if !reflect.DeepEqual(s, s2[:100]) {
		t.Error("Sample(k) is not a prefix of Sample(k+1)")
	}
}

func TestOpen(t *testing.T) {
	salt := bytes.Repeat([]byte{9}, 32)
	rec := []byte(`{"name":"张三"}`)
	c := Commit(salt, TagLoanRecord, rec)
	if err := Open(c, rec, hex.EncodeToString(salt), TagLoanRecord); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"other record": Open(c, append(rec, ' '), hex.EncodeToString(salt), TagLoanRecord),
		"other tag":    Open(c, rec, hex.EncodeToString(salt), TagBidder),
		"other salt":   Open(c, rec, strings.Repeat("00", 32), TagLoanRecord),
		"short salt":   Open(c, rec, "0909", TagLoanRecord),
		"bad hex":      Open(c, rec, "zz", TagLoanRecord),
		"bad commit":   Open(strings.ToUpper(c), rec, hex.EncodeToString(salt), TagLoanRecord),
	} {
		if err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

// auditLog builds and syncs a small pool with two period reports.
func auditLog(t *testing.T, mutate func(entries []Entry) []Entry) (dir string) {
	t.Helper()
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	salt := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 32) }
	coll := func(id, eff string, i int, loan string, amt, prin Amount) Entry {
		return LoanCollection{Header: hdr(id, eff), Loan: loan, Amount: amt, Principal: prin, Interest: amt - prin, Channel: ChannelBankTransfer,
			BankTxn: Commit(salt(i), TagBankTxn, BankTxnRecord(fmt.Sprintf("T%d", i)))}
	}
	es := []Entry{
		PoolOpened{Header: hdr("open", "2025-01-01"), Name: "P", Cutoff: "2024-12-31", Currency: "CNY"},
		LoanBoarded{Header: hdr("b1", "2025-01-02"), Loan: "A", Claim: 10000, Principal: 8000, Interest: 2000, Commitment: hx('1')},
		LoanBoarded{Header: hdr("b2", "2025-01-02"), Loan: "B", Claim: 5000, Principal: 5000, Commitment: hx('2')},
		coll("c1", "2025-01-10", 1, "A", 1500, 1000),
		LoanStatus{Header: hdr("s1", "2025-01-20"), Loan: "B", Status: StatusContacted},
		// index 5: the first report covers [0, 5).
		PeriodReport{Header: hdr("r1", "2025-01-31"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", FromIndex: 0, ToIndex: 5, LoansBoarded: 2,
			CollectionsCount: 1, Collections: 1500, PrincipalCollected: 1000, BoardedBalance: 15000, ClosingBalance: 13500, ReportHash: hx('a')},
		coll("c2", "2025-02-10", 2, "B", 2000, 2000),
		LoanRemoved{Header: hdr("rm1", "2025-02-15"), Loan: "B", Reason: RemovalSold, Balance: 3000, Price: 1000},
		LoanBoarded{Header: hdr("b3", "2025-02-16"), Loan: "C", Claim: 700, Principal: 700, Commitment: hx('3')},
		// index 9: the second report covers [5, 9).
		PeriodReport{Header: hdr("r2", "2025-02-28"), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", FromIndex: 5, ToIndex: 9, LoansBoarded: 1, LoansRemoved: 1,
			CollectionsCount: 1, Collections: 2000, PrincipalCollected: 2000, OpeningBalance: 13500, BoardedBalance: 700, RemovedBalance: 3000,
			ClosingBalance: 9200, ReportHash: hx('b')},
	}
	if mutate != nil {
		es = mutate(es)
	}
	for _, e := range es {
		l.add(mustEncode(t, e))
	}
	l.publish()
	dir = t.TempDir()
	if _, err := syncOnce(t, keys.policy(t, l.url(), 2), dir, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReport(t *testing.T) {
	dir := auditLog(t, nil)
	for _, idx := range []int64{5, 9} {
		res, err := Report(dir, idx)
		if err != nil {
			t.Fatalf("report %d: %v %+v", idx, err, res)
		}
	}
	if _, err := Report(dir, 4); err == nil {
		t.Error("a loan.status accepted as a report")
	}
	if _, err := Report(dir, 10); err == nil {
		t.Error("index beyond the copy accepted")
	}
	// A report whose figures are consistent with each other but not with the log.
	bad := auditLog(t, func(es []Entry) []Entry {
		r := es[9].(PeriodReport)
		r.Collections, r.PrincipalCollected, r.ClosingBalance = 2500, 2000, 8700
		es[9] = r
		rm := es[7].(LoanRemoved)
		rm.Balance, r.RemovedBalance = 2900, 2900
		es[7] = rm
		return es
	})
	res, err := Report(bad, 9)
	f := wantFailure(t, err, "report-mismatch")
	fields := map[string]bool{}
	for _, m := range res.Mismatches {
		fields[m.Field] = true
	}
	for _, want := range []string{"collections", "closing_balance", "removed_balance"} {
		if !fields[want] {
			t.Errorf("mismatch on %s not reported: %+v", want, res.Mismatches)
		}
	}
	if _, err := MarshalEvidence(f, testNow()); err != nil {
		t.Fatal(err)
	}
}

func TestReconcile(t *testing.T) {
	dir := auditLog(t, nil)
	hexSalt := func(i int) string { return hex.EncodeToString(bytes.Repeat([]byte{byte(i)}, 32)) }
	stmt := "txn_id,date,amount\nT1,2025-01-10,15.00\nT2,2025-02-10,20\nFEE,2025-02-11,-3.50\n"
	opens := fmt.Sprintf("event_id,salt_hex,txn_id\nc1,%s,T1\nc2,%s,T2\n", hexSalt(1), hexSalt(2))
	res, err := Reconcile(dir, strings.NewReader(stmt), strings.NewReader(opens))
	if err != nil || res.Matched != 2 || res.Credits != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	// An unlogged credit, a wrong amount, and a salt that does not open.
	stmt2 := "T1,2025-01-10,15.01\nT2,2025-02-10,20.00\nT9,2025-02-12,99.00\n"
	opens2 := fmt.Sprintf("c1,%s,T1\nc2,%s,T2\n", hexSalt(1), hexSalt(3))
	res, err = Reconcile(dir, strings.NewReader(stmt2), strings.NewReader(opens2))
	wantFailure(t, err, "reconcile-unmatched")
	if len(res.UnmatchedCollections) != 2 || len(res.UnmatchedCredits) != 3 {
		t.Fatalf("%+v", res)
	}
	if !strings.Contains(res.UnmatchedCollections[0].Reason, "credits 15.01") || !strings.Contains(res.UnmatchedCollections[1].Reason, "does not open") {
		t.Fatalf("%+v", res.UnmatchedCollections)
	}
	for _, bad := range []string{"T1,2025-13-01,1.00\n", "T1,2025-01-01,1.001\n", "T1,2025-01-01\n", ",2025-01-01,1.00\n", "T1,2025-01-01,1.00\nT1,2025-01-02,2.00\n"} {
		if _, err := Reconcile(dir, strings.NewReader(bad), strings.NewReader(opens)); err == nil || errors.As(err, new(*Failure)) {
			t.Errorf("statement %q: %v", bad, err)
		}
	}
}

func TestEvidenceFilesNeverOverwrite(t *testing.T) {
	dir := t.TempDir()
	f := &Failure{Kind: "x", Err: errors.New("boom"), Evidence: map[string]int{"a": 1}}
	p1, err1 := WriteEvidence(dir, f, testNow())
	p2, err2 := WriteEvidence(dir, f, testNow())
	if err1 != nil || err2 != nil || p1 == p2 {
		t.Fatalf("%s %s %v %v", p1, p2, err1, err2)
	}
	if b, _ := os.ReadFile(filepath.Join(p1)); !strings.Contains(string(b), `"kind": "x"`) {
		t.Fatalf("%s", b)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add(Checkpoint{Origin: "o", Size: 5, Hash: tlog.Hash{1}, Extensions: []string{"e"}}.Format())
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Format(), b) {
			t.Fatalf("accepted non-canonical checkpoint %q", b)
		}
	})
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/entries/x001/234.p/5", "tile/63/x999/999.p/255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tile, err := ParseTilePath(s)
		if err != nil {
			return
		}
		if TilePath(tile) != strings.TrimPrefix(s, "/") || tile.W < 1 || tile.W > 256 || tile.L < -1 || tile.L > 63 || tile.N < 0 {
			t.Fatalf("accepted %q as %+v", s, tile)
		}
	})
}

func FuzzParseEntryBundle(f *testing.F) {
	b, _ := AppendEntryBundle(nil, []byte("hello"))
	b, _ = AppendEntryBundle(b, nil)
	f.Add(b, 2)
	f.Fuzz(func(t *testing.T, data []byte, width int) {
		es, err := ParseEntryBundle(data, width)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range es {
			again, _ = AppendEntryBundle(again, e)
		}
		if !bytes.Equal(again, data) || len(es) != width {
			t.Fatalf("accepted %q width %d", data, width)
		}
	})
}

func FuzzParseHashTile(f *testing.F) {
	f.Add(make([]byte, 64), 2, 0)
	f.Fuzz(func(t *testing.T, data []byte, w, l int) {
		hs, err := ParseHashTile(tlog.Tile{H: 8, L: l, W: w}, data)
		if err == nil && len(hs)*32 != len(data) {
			t.Fatalf("accepted %d bytes as %d hashes", len(data), len(hs))
		}
	})
}

func FuzzParseProofs(f *testing.F) {
	f.Add([]byte(`{"index":1,"size":5,"proof":["AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}`))
	f.Add([]byte(`{"old":1,"size":5,"proof":[]}`))
	f.Add([]byte(`{"pool":"p","index":0,"entry":"eA==","proof":[],"checkpoint":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseInclusionProof(b); err == nil && (p.Index < 0 || p.Index >= p.Size) {
			t.Fatalf("inclusion %+v", p)
		}
		if p, err := ParseConsistencyProof(b); err == nil && (p.Old < 0 || p.Old > p.Size) {
			t.Fatalf("consistency %+v", p)
		}
		if r, err := ParseReceipt(b); err == nil {
			if len(r.Entry) == 0 || r.Index < 0 {
				t.Fatalf("receipt %+v", r)
			}
			keys := newTestKeys(t, 1)
			if _, err := CheckReceipt(keys.policy(t, "", 0), r); err == nil {
				t.Fatalf("fuzzed receipt verified: %q", b)
			}
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	keys := newTestKeys(f, 1)
	f.Add([]byte("log " + keys.logVKey + "\nwitness " + keys.wvkeys[0] + "\nquorum 1\nurl https://x/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		if p.Log == nil || p.Quorum < 0 || p.Quorum > len(p.Witnesses) || p.Origin == "" {
			t.Fatalf("accepted %q as %+v", b, p)
		}
	})
}
