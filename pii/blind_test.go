package pii

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"reclaim"
)

func TestNormalizeNationalID(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002X":      "11010519491231002X",
		"11010519491231002x":      "11010519491231002X",
		" 110105 1949 1231 002X ": "11010519491231002X",
		"１１０１０５１９４９１２３１００２Ｘ": "11010519491231002X",
		"":                "",
		"110105491231002": "11010519491231002X", // 15 digits upgraded (check digit computed)
	} {
		if got := NormalizeNationalID(in); got != want {
			t.Errorf("NormalizeNationalID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizePhones(t *testing.T) {
	got := NormalizePhones("+86 138-0013-8000; 13800138000/010-6552 9988、139 0000 0000,12")
	want := []string{"13800138000", "01065529988", "13900000000"}
	if !slices.Equal(got, want) {
		t.Fatalf("NormalizePhones = %q, want %q", got, want)
	}
	if NormalizePhones("") != nil {
		t.Fatal("empty field")
	}
}

func TestBlindTerms(t *testing.T) {
	k, err := NewBlindKey(bytes.Repeat([]byte{3}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewBlindKey(bytes.Repeat([]byte{4}, KeySize))
	p := reclaim.PersonalData{NationalID: "11010519491231002x", Phone: "13800138000"}
	q := reclaim.PersonalData{NationalID: "１１０１０５１９４９１２３１００２Ｘ", Phone: "+86 138 0013 8000"}
	a, b := k.Terms(p), k.Terms(q)
	if len(a) != 2 || len(b) != 2 || a[0].Kind != BlindNationalID || a[1].Kind != BlindPhone {
		t.Fatalf("terms %v %v", a, b)
	}
	for i := range a {
		if !bytes.Equal(a[i].Hash, b[i].Hash) {
			t.Fatalf("the same identifier written differently hashes differently (%s)", a[i].Kind)
		}
	}
	if bytes.Equal(other.Terms(p)[0].Hash, a[0].Hash) {
		t.Fatal("another key gives the same hash")
	}
	// The same digits as an ID and as a phone must not collide.
	if bytes.Equal(k.Hash(BlindNationalID, "13800138000"), k.Hash(BlindPhone, "13800138000")) {
		t.Fatal("kinds are not separated")
	}
	if len(k.Terms(reclaim.PersonalData{Name: "张三"})) != 0 {
		t.Fatal("a name alone has no terms")
	}
	if k.Fingerprint() == other.Fingerprint() || len(k.Fingerprint()) != 64 {
		t.Fatal("fingerprints")
	}
	if _, err := NewBlindKey([]byte{1}); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestLoadBlindKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(BlindEnvVar, "")
	k1, err := LoadBlindKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, BlindKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	k2, err := LoadBlindKey("", dir)
	if err != nil || k2.Fingerprint() != k1.Fingerprint() {
		t.Fatalf("reloaded key differs: %v", err)
	}
	// The personal-data key file in the same directory is a different key.
	pk, err := LoadKey(KeyOptions{DevDir: dir, AllowDev: true})
	if err != nil || pk.Fingerprint() == k1.Fingerprint() {
		t.Fatalf("blind key is the personal-data key: %v", err)
	}
	t.Setenv(BlindEnvVar, "0101010101010101010101010101010101010101010101010101010101010101")
	k3, err := LoadBlindKey("", dir)
	if err != nil || k3.Fingerprint() == k1.Fingerprint() || k3.Source() != "env:"+BlindEnvVar {
		t.Fatalf("env key: %v %s", err, k3.Source())
	}
	t.Setenv(BlindEnvVar, "nonsense")
	if _, err := LoadBlindKey("", dir); err == nil {
		t.Fatal("bad env key accepted")
	}
	t.Setenv(BlindEnvVar, "")
	if _, err := LoadBlindKey("", ""); err == nil {
		t.Fatal("no source accepted")
	}
}

func FuzzNormalizePhones(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138 0013 8000;010-1234", "、、", "８６１３８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := NormalizePhones(s)
		seen := map[string]bool{}
		for _, n := range out {
			if len(n) < 5 || seen[n] {
				t.Fatalf("NormalizePhones(%q) = %q", s, out)
			}
			seen[n] = true
			if again := NormalizePhones(n); len(again) != 1 || again[0] != n {
				t.Fatalf("not idempotent: %q -> %q", n, again)
			}
		}
	})
}

// hmacReference is the blind-index hash as first written: a fresh HMAC per hash.
func hmacReference(raw []byte, kind, v string) []byte {
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(blindTag + kind + "\x00"))
	m.Write([]byte(v))
	return m.Sum(nil)
}

// The reused HMAC states give the hashes a fresh HMAC gives, from any goroutine, and each term
// owns its bytes (appending to one does not change the next).
func TestBlindHashReuseMatchesFreshHMAC(t *testing.T) {
	raw := make([]byte, KeySize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	k, err := NewBlindKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"", "11010519491231002X", "13800138000", strings.Repeat("长", 200)}
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.IntN(300))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		values = append(values, string(b))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(values))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, v := range values {
				for _, kind := range []string{BlindNationalID, BlindPhone, strings.Repeat("k", 70)} {
					if got, want := k.Hash(kind, v), hmacReference(raw, kind, v); !bytes.Equal(got, want) {
						errs <- fmt.Sprintf("Hash(%q, %q) = %x, want %x", kind, v, got, want)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	p := reclaim.PersonalData{NationalID: "11010519491231002x", Phone: "13800138000; 13900000000"}
	terms := k.Terms(p)
	want := []BlindTerm{
		{BlindNationalID, hmacReference(raw, BlindNationalID, "11010519491231002X")},
		{BlindPhone, hmacReference(raw, BlindPhone, "13800138000")},
		{BlindPhone, hmacReference(raw, BlindPhone, "13900000000")},
	}
	if len(terms) != len(want) {
		t.Fatalf("Terms = %d terms, want %d", len(terms), len(want))
	}
	for i := range want {
		if terms[i].Kind != want[i].Kind || !bytes.Equal(terms[i].Hash, want[i].Hash) {
			t.Fatalf("term %d = %s %x, want %s %x", i, terms[i].Kind, terms[i].Hash, want[i].Kind, want[i].Hash)
		}
	}
	_ = append(terms[0].Hash, 0xFF)
	if !bytes.Equal(terms[1].Hash, want[1].Hash) {
		t.Fatal("appending to one term's hash overwrote the next")
	}
}

// The shortcuts for an identifier already in normal form and for a phone field of digits alone
// give what the general normalisation gives.
func FuzzNormalizeShortcuts(f *testing.F) {
	for _, s := range []string{"", "13800138000", "11010519491231002X", "110105491231002", "1234", "8613800138000",
		"008613800138000", "123456789012345678901", "X", "+86 138 0013 8000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := NormalizeNationalID(s), normalizeNationalID(s); got != want {
			t.Fatalf("NormalizeNationalID(%q) = %q, want %q", s, got, want)
		}
		if got, want := NormalizePhones(s), normalizePhones(s); !slices.Equal(got, want) {
			t.Fatalf("NormalizePhones(%q) = %q, want %q", s, got, want)
		}
	})
}
