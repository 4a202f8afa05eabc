package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPasswordPolicy: issue 9, item 19. At least 12 characters; common passwords (also with
// leetspeak, case and digits or symbols around them), repeats, sequences, keyboard walks and the
// user name are refused; ordinary long passwords and passphrases pass.
func TestPasswordPolicy(t *testing.T) {
	refused := map[string]string{
		"short":                   "12 characters",
		"elevenchars":             "12 characters",
		"password1234":            "common",
		"Password1234":            "common",
		"P@ssw0rd2024!":           "common",
		"Summer2024!!":            "common",
		"woaini5201314":           "common",
		"qwerty123456":            "common",
		"aaaaaaaaaaaa":            "simple",
		"abcdefghijkl":            "simple",
		"123456789012":            "simple",
		"987654321098":            "simple",
		"qwertyuiopas":            "simple",
		"1qaz2wsx3edc":            "simple",
		"zaq12wsxcde3":            "simple",
		"abcabcabcabc":            "simple",
		"abababababab":            "simple",
		"monkeymonkey12":          "common words",
		"iloveyoubeijing":         "common words",
		"admin1-secret!":          "common words",
		"alice-2024-summer-x":     "user name",
		"ALICE.in.wonderland":     "user name",
		"ecila-backwards-name":    "user name",
		"@lice-hides-in-here":     "user name",
		strings.Repeat("x", 1025): "1024 bytes",
	}
	for pw, why := range refused {
		err := CheckPassword(pw, "alice")
		if err == nil || !errors.Is(err, ErrWeakPassword) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want refused for %q", pw, err, why)
		}
	}
	for _, pw := range []string{"correct-horse-battery", "k7Fp2xQm9rTb", "Tr0ub4dor&3xyz", "my cat eats green tea",
		"long enough pw", "风吹草低见牛羊天苍苍野茫茫", "Reclaim-ops: 7 Koi, 3 Tuna"} {
		if err := CheckPassword(pw, "alice"); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
	// The user name only counts from three characters (a two-letter name is in many words).
	if err := CheckPassword("correct-horse-battery", "co"); err != nil {
		t.Errorf("two-letter user name: %v", err)
	}
	// Generated passwords pass for every demo account name.
	for _, u := range []string{"demo-admin", "demo-collector", "alice"} {
		for i := 0; i < 200; i++ {
			if pw := GeneratePassword(14, u); CheckPassword(pw, u) != nil || len(pw) != 14 {
				t.Fatalf("generated %q for %s", pw, u)
			}
		}
	}
}

// TestCommonListLoaded guards the embedded list: hundreds of entries, lower case, no blanks.
func TestCommonListLoaded(t *testing.T) {
	set, stems := common()
	if len(set) < 400 || len(stems) < 300 {
		t.Fatalf("common list: %d words, %d stems", len(set), len(stems))
	}
	for w := range set {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Errorf("list entry %q", w)
		}
	}
}

// FuzzCheckPassword: the policy never panics, is deterministic, and never accepts fewer than 12
// characters, more than 1024 bytes or a password holding the user name.
func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"password1234", "correct-horse-battery", "", "\x00\xff", "ééééééééééééé", "1qaz2wsx3edc"} {
		f.Add(s, "alice")
	}
	f.Fuzz(func(t *testing.T, pw, user string) {
		err := CheckPassword(pw, user)
		if (err == nil) != (CheckPassword(pw, user) == nil) {
			t.Fatal("not deterministic")
		}
		if err != nil {
			if !errors.Is(err, ErrWeakPassword) || err.Error() == "" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if utf8.RuneCountInString(pw) < MinPasswordLen || len(pw) > MaxPasswordBytes {
			t.Fatalf("accepted %q", pw)
		}
		if u := strings.ToLower(strings.TrimSpace(user)); utf8.RuneCountInString(u) >= 3 && strings.Contains(strings.ToLower(pw), u) {
			t.Fatalf("accepted %q holding user name %q", pw, user)
		}
	})
}
