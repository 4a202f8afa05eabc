package pii

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reclaim"
)

func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testRing(t testing.TB, keys ...*Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	r := testRing(t, testKey(t, 1))
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("张三 110101199003077777"), bytes.Repeat([]byte("a"), 10000)} {
		blob, err := r.Seal(pt, []byte("aad"))
		if err != nil {
			t.Fatal(err)
		}
		if len(blob) != len(pt)+Overhead {
			t.Errorf("blob length %d, want %d", len(blob), len(pt)+Overhead)
		}
		got, err := r.Open(blob, []byte("aad"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("got %q, want %q", got, pt)
		}
		if id, err := BlobKeyID(blob); err != nil || id != r.KeyID() {
			t.Errorf("BlobKeyID = %q, %v; want %q", id, err, r.KeyID())
		}
	}
}

func TestNoncesDiffer(t *testing.T) {
	r := testRing(t, testKey(t, 1))
	a, _ := r.Seal([]byte("same"), nil)
	b, _ := r.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestAADMismatch(t *testing.T) {
	r := testRing(t, testKey(t, 1))
	blob, _ := r.Seal([]byte("secret"), []byte("borrower:1"))
	for _, aad := range [][]byte{nil, []byte("borrower:2"), []byte("borrower:1 ")} {
		if _, err := r.Open(blob, aad); !errors.Is(err, ErrAuth) {
			t.Errorf("Open with aad %q: err = %v, want ErrAuth", aad, err)
		}
	}
}

func TestTamperEveryByte(t *testing.T) {
	r := testRing(t, testKey(t, 1), testKey(t, 2))
	blob, _ := r.Seal([]byte("张三, 13800138000"), []byte("aad"))
	for i := range blob {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(blob)
			bad[i] ^= flip
			if pt, err := r.Open(bad, []byte("aad")); err == nil {
				t.Fatalf("byte %d ^ %#x: accepted, plaintext %q", i, flip, pt)
			}
		}
	}
	for n := 0; n < len(blob); n++ {
		if _, err := r.Open(blob[:n], []byte("aad")); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		} else if n < Overhead && !errors.Is(err, ErrTruncated) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrTruncated", n, err)
		}
	}
	if _, err := r.Open(append(bytes.Clone(blob), 0), []byte("aad")); err == nil {
		t.Fatal("extended blob accepted")
	}
}

func TestWrongKeyAndRotation(t *testing.T) {
	old := testRing(t, testKey(t, 1))
	blob, _ := old.Seal([]byte("old data"), nil)

	other := testRing(t, testKey(t, 2))
	_, err := other.Open(blob, nil)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), old.KeyID()) {
		t.Fatalf("err = %v, want ErrUnknownKey naming %s", err, old.KeyID())
	}

	rotated := testRing(t, testKey(t, 2), testKey(t, 1))
	got, err := rotated.Open(blob, nil)
	if err != nil || string(got) != "old data" {
		t.Fatalf("rotated keyring: %q, %v", got, err)
	}
	fresh, _ := rotated.Seal([]byte("new"), nil)
	if id, _ := BlobKeyID(fresh); id != testKey(t, 2).ID() {
		t.Fatalf("new blobs sealed under %s, want the first key %s", id, testKey(t, 2).ID())
	}
	if _, err := old.Open(fresh, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old keyring opened a blob of the new key: %v", err)
	}
	bad := bytes.Clone(blob)
	bad[0] = 9
	if _, err := rotated.Open(bad, nil); !errors.Is(err, ErrVersion) {
		t.Fatalf("err = %v, want ErrVersion", err)
	}
	if _, err := NewKeyring(testKey(t, 1), testKey(t, 1)); !errors.Is(err, ErrKey) {
		t.Fatalf("duplicate key ids: err = %v", err)
	}
	if _, err := NewKeyring(); !errors.Is(err, ErrKey) {
		t.Fatalf("empty keyring: err = %v", err)
	}
}

func TestKeyID(t *testing.T) {
	k := testKey(t, 0)
	// SHA-256 of 32 zero bytes is 66687aadf862bd77...
	if k.ID() != "66687aad" {
		t.Fatalf("ID = %s, want 66687aad", k.ID())
	}
}

func TestBadKeyLengths(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := NewKey(make([]byte, n)); !errors.Is(err, ErrKey) {
			t.Errorf("NewKey(%d bytes): err = %v, want ErrKey", n, err)
		}
		if n == 0 {
			continue
		}
		for _, s := range []string{hex.EncodeToString(make([]byte, n)), base64.StdEncoding.EncodeToString(make([]byte, n))} {
			if _, err := ParseKey(s); !errors.Is(err, ErrKey) {
				t.Errorf("ParseKey(%q): err = %v, want ErrKey", s, err)
			}
		}
	}
	for _, s := range []string{"", "   ", "not a key", strings.Repeat("g", 64)} {
		if _, err := ParseKey(s); !errors.Is(err, ErrKey) {
			t.Errorf("ParseKey(%q): err = %v, want ErrKey", s, err)
		}
	}
	raw := bytes.Repeat([]byte{7}, KeySize)
	want := testKey(t, 7).ID()
	for _, s := range []string{
		hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)) + "\n",
		base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
	} {
		k, err := ParseKey(s)
		if err != nil || k.ID() != want {
			t.Errorf("ParseKey(%q) = %v, %v", s, k, err)
		}
	}
}

func TestDevKeyCreatedAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("RECLAIM_TEST_UNSET_KEY", "")
	opts := KeyOptions{EnvVar: "RECLAIM_TEST_UNSET_KEY", DevDir: dir, AllowDev: true}
	r1, err := LoadKey(opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DevKeyFile)
	if r1.Source() != "dev:"+path {
		t.Errorf("Source = %q", r1.Source())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	r2, err := LoadKey(opts)
	if err != nil {
		t.Fatal(err)
	}
	if r1.KeyID() != r2.KeyID() {
		t.Errorf("second load made a new key: %s != %s", r1.KeyID(), r2.KeyID())
	}
	blob, _ := r1.Seal([]byte("x"), nil)
	if _, err := r2.Open(blob, nil); err != nil {
		t.Error(err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(opts); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: err = %v, want ErrKey with advice", err)
	}

	if _, err := LoadKey(KeyOptions{EnvVar: "RECLAIM_TEST_UNSET_KEY", DevDir: dir}); !errors.Is(err, ErrNoKey) {
		t.Errorf("AllowDev false: err = %v, want ErrNoKey", err)
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	fileKey := bytes.Repeat([]byte{1}, KeySize)
	envKey := bytes.Repeat([]byte{2}, KeySize)
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(fileKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RECLAIM_TEST_KEY", hex.EncodeToString(envKey))
	idFile, idEnv := testKey(t, 1).ID(), testKey(t, 2).ID()

	r, err := LoadKey(KeyOptions{EnvVar: "RECLAIM_TEST_KEY", File: file, DevDir: dir, AllowDev: true})
	if err != nil || r.KeyID() != idFile || r.Source() != "file:"+file {
		t.Fatalf("file first: %v %v", r, err)
	}
	r, err = LoadKey(KeyOptions{EnvVar: "RECLAIM_TEST_KEY", DevDir: dir, AllowDev: true})
	if err != nil || r.KeyID() != idEnv || r.Source() != "env:RECLAIM_TEST_KEY" {
		t.Fatalf("env second: %v %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(dir, DevKeyFile)); err == nil {
		t.Fatal("dev key created although a key was configured")
	}
	t.Setenv(DefaultEnvVar, hex.EncodeToString(envKey))
	r, err = LoadKey(KeyOptions{})
	if err != nil || r.Source() != "env:"+DefaultEnvVar {
		t.Fatalf("default env var: %v %v", r, err)
	}
	t.Setenv("RECLAIM_TEST_KEY", "too short")
	if _, err := LoadKey(KeyOptions{EnvVar: "RECLAIM_TEST_KEY"}); !errors.Is(err, ErrKey) {
		t.Fatalf("bad env key: %v", err)
	}
	r, err = LoadKey(KeyOptions{File: file, Previous: []string{hex.EncodeToString(envKey)}})
	if err != nil {
		t.Fatal(err)
	}
	old := testRing(t, testKey(t, 2))
	blob, _ := old.Seal([]byte("p"), nil)
	if _, err := r.Open(blob, nil); err != nil {
		t.Fatalf("previous key does not open: %v", err)
	}
}

func TestPersonal(t *testing.T) {
	r := testRing(t, testKey(t, 3))
	p := reclaim.PersonalData{Name: "张三", NationalID: "11010519491231002X", Phone: "13800138000",
		Address: "北京市朝阳区", Employer: "某公司", BankCard: "6222020200112233445", Contacts: "李四 13900139000"}
	blob, err := r.SealPersonal(p, []byte("b1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, []byte("13800138000")) || bytes.Contains(blob, []byte("张三")) {
		t.Fatal("plaintext visible in blob")
	}
	got, err := r.OpenPersonal(blob, []byte("b1"))
	if err != nil || got != p {
		t.Fatalf("OpenPersonal: %v", err)
	}
	if _, err := r.OpenPersonal(blob, []byte("b2")); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong aad: %v", err)
	}
	notJSON, _ := r.Seal([]byte("{"), nil)
	if _, err := r.OpenPersonal(notJSON, nil); err == nil {
		t.Fatal("non-JSON accepted")
	}
}

func TestCommit(t *testing.T) {
	salt := NewSalt()
	if len(salt) != 32 || bytes.Equal(salt, NewSalt()) {
		t.Fatal("NewSalt not 32 random bytes")
	}
	a := Commit(salt, []byte("t\x00"), []byte("data"))
	if a != Commit(salt, []byte("t\x00"), []byte("data")) {
		t.Fatal("not deterministic")
	}
	if a == Commit(NewSalt(), []byte("t\x00"), []byte("data")) || a == Commit(salt, []byte("u\x00"), []byte("data")) ||
		a == Commit(salt, []byte("t\x00"), []byte("datb")) {
		t.Fatal("commitment ignores an input")
	}
	// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	got := Commit([]byte("Jefe"), []byte("what do ya want "), []byte("for nothing?"))
	if hex.EncodeToString(got[:]) != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("HMAC mismatch: %x", got)
	}
}

func FuzzOpen(f *testing.F) {
	r := testRing(f, testKey(f, 5), testKey(f, 6))
	// A fixed nonce makes the genuine blob the same in every fuzz worker process.
	k := r.keys[0]
	good := make([]byte, 1+idSize+nonceSize)
	k.header(good)
	good = k.aead.Seal(good, good[1+idSize:], []byte("hello"), fullAAD(good[:1+idSize], []byte("aad")))
	f.Add(good, []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 0}, []byte("aad"))
	f.Add(bytes.Repeat([]byte{1}, Overhead), []byte(nil))
	f.Fuzz(func(t *testing.T, blob, aad []byte) {
		pt, err := r.Open(blob, aad)
		if err != nil {
			return
		}
		// Only the genuine blob with its aad may open.
		if !bytes.Equal(blob, good) || !bytes.Equal(aad, []byte("aad")) || string(pt) != "hello" {
			t.Fatalf("forgery accepted: blob %x aad %q -> %q", blob, aad, pt)
		}
	})
}

// The fingerprint the database stores is a keyed hash: stable for a key, different across keys,
// and not derivable without the key (it is not the plain SHA-256 the blob id comes from).
func TestFingerprint(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KeySize)
	k1, _ := NewKey(raw)
	k2, _ := NewKey(raw)
	other, _ := NewKey(bytes.Repeat([]byte{8}, KeySize))
	if k1.Fingerprint() != k2.Fingerprint() || k1.Fingerprint() == other.Fingerprint() || len(k1.Fingerprint()) != 64 {
		t.Fatalf("fingerprints %s %s %s", k1.Fingerprint(), k2.Fingerprint(), other.Fingerprint())
	}
	plain := sha256.Sum256(raw)
	if k1.Fingerprint() == hex.EncodeToString(plain[:]) || strings.Contains(k1.Fingerprint(), hex.EncodeToString(raw)) {
		t.Fatal("the fingerprint is an unkeyed hash of the key")
	}
	r, _ := NewKeyring(k1, other)
	if r.Fingerprint() != k1.Fingerprint() || r.SealingKey() != k1 {
		t.Fatal("keyring fingerprint is not its sealing key's")
	}
}
