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

func FuzzVerify(f *testing.F) {
	good, _ := HashWith("password123", cheap)
	f.Add("password123", good)
	f.Add("x", "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, pw, hash string) {
		if strings.Contains(hash, "m=") && !strings.HasPrefix(hash, good[:28]) {
			return // avoid fuzzing into huge memory costs; parse still bounds them
		}
		if err := Verify(pw, hash); err == nil && hash != good {
			t.Fatalf("accepted a hash that was never made: %q", hash)
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
	if p := RandomPassword(16); len(p) != 16 || CheckStrength(p) != nil {
		t.Errorf("RandomPassword %q", p)
	}
}
