package auth

import (
	"errors"
	"strings"
	"testing"
)

var cheap = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashVerify(t *testing.T) {
	h, err := HashWith("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if err := Verify("correct horse battery", h); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := Verify("correct horse batterY", h); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashWith("correct horse battery", cheap)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	good, _ := HashWith("password123", cheap)
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		good[:len(good)-30]} {
		if err := Verify("password123", h); !errors.Is(err, ErrBadHash) && !errors.Is(err, ErrMismatch) {
			t.Errorf("%q: %v", h, err)
		}
	}
}

// fuzzHash is a fixed hash of "password123" under the cheap parameters.
const fuzzHash = "$argon2id$v=19$m=64,t=1,p=1$VJJU//388WUAWonIFSuYVA$ochMMbGGkJaUBTj0Plj6DQahORSUAVlSJ/P70jY/6eQ"

// FuzzVerify: Verify never panics, and accepts only the one password for the one hash that was
// made for it.
func FuzzVerify(f *testing.F) {
	f.Add("password123", fuzzHash)
	f.Add("x", "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("password123", strings.Replace(fuzzHash, "m=64", "m=65", 1))
	f.Fuzz(func(t *testing.T, pw, hash string) {
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
			// Other costs are parsed (and bounded) by parse; keep the fuzzer off expensive ones.
			if _, _, _, err := parse(hash); err == nil {
				return
			}
		}
		err := Verify(pw, hash)
		if err == nil && (pw != "password123" || hash != fuzzHash) {
			t.Fatalf("accepted %q for %q", pw, hash)
		}
		if pw == "password123" && hash == fuzzHash && err != nil {
			t.Fatalf("rejected the right password: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	tok, h, err := NewToken()
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q %v", tok, err)
	}
	if string(TokenHash(tok)) != string(h) {
		t.Error("TokenHash disagrees with NewToken")
	}
	if CheckStrength("short") == nil || CheckStrength("long enough pw") != nil {
		t.Error("CheckStrength")
	}
	if p := GeneratePassword(16, "alice"); len(p) != 16 || CheckPassword(p, "alice") != nil {
		t.Errorf("GeneratePassword %q", p)
	}
}
