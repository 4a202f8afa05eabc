package auth

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// The password policy (docs/security.md): at least MinPasswordLen characters, at most
// MaxPasswordBytes bytes, not a common password or one built from common words with digits and
// symbols around them, not mostly repeats, sequences or keyboard walks, and not containing the
// user name. It follows NIST SP 800-63B: length and a block list, no composition rules.

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 12

// MaxPasswordBytes is the longest password accepted, in bytes (argon2 hashes any length; the
// limit only bounds request work).
const MaxPasswordBytes = 1024

// minEffective is how many "surprising" characters a password must keep once repeats,
// sequences and keyboard walks are discounted; minLeftover is the same after removing common
// words and the user name.
const (
	minEffective = 8
	minLeftover  = 6
)

//go:embed common-passwords.txt
var commonText string

var common = sync.OnceValues(func() (map[string]bool, []string) {
	set := map[string]bool{}
	var stems []string // words of four or more letters, longest first
	for _, line := range strings.Split(commonText, "\n") {
		w := strings.TrimSpace(line)
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		set[w] = true
		if utf8.RuneCountInString(w) >= 4 {
			stems = append(stems, w)
		}
	}
	sort.SliceStable(stems, func(i, j int) bool { return len(stems[i]) > len(stems[j]) })
	return set, stems
})

// WeakPasswordError says why a password was refused; errors.Is(err, ErrWeakPassword) holds.
type WeakPasswordError struct{ Reason string }

func (e *WeakPasswordError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrWeakPassword) true.
func (e *WeakPasswordError) Is(target error) bool { return target == ErrWeakPassword }

func weak(reason string) error { return &WeakPasswordError{Reason: reason} }

// CheckPassword applies the password policy to pw for the account named username (may be
// empty). It returns nil or a *WeakPasswordError whose message is safe to show to the user.
func CheckPassword(pw, username string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return weak("a password needs at least 12 characters")
	}
	if len(pw) > MaxPasswordBytes {
		return weak("a password may have at most 1024 bytes")
	}
	if !utf8.ValidString(pw) || strings.ContainsRune(pw, 0) {
		return weak("a password must be valid text")
	}
	lower := strings.ToLower(pw)
	plain := unleet(lower)
	name := strings.ToLower(strings.TrimSpace(username))
	if utf8.RuneCountInString(name) >= 3 {
		for _, s := range []string{lower, plain} {
			if strings.Contains(s, name) || strings.Contains(s, reverse(name)) {
				return weak("a password must not contain the user name")
			}
		}
	}
	set, stems := common()
	for _, s := range []string{lower, plain, strings.Trim(lower, nonLetters), strings.Trim(plain, nonLetters), lettersOnly(plain)} {
		if set[s] {
			return weak("this password is too common; choose another")
		}
	}
	if effective(lower) < minEffective {
		return weak("this password is too simple (repeated characters, sequences or keyboard patterns)")
	}
	for _, s := range []string{lower, plain} {
		left := s
		for _, w := range stems {
			left = strings.ReplaceAll(left, w, "")
		}
		if len(name) >= 3 {
			left = strings.ReplaceAll(left, name, "")
		}
		if left != s && effective(left) < minLeftover {
			return weak("this password is built from common words; add more of your own")
		}
	}
	return nil
}

// CheckStrength applies the password policy without a user name.
//
// Deprecated: use CheckPassword, which also checks the user name.
func CheckStrength(pw string) error { return CheckPassword(pw, "") }

const nonLetters = "0123456789!@#$%^&*()_+-=[]{};':\",./<>?\\|`~ "

func lettersOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unleet undoes the usual letter-for-symbol swaps (p@ssw0rd -> password).
func unleet(s string) string {
	return strings.NewReplacer("@", "a", "4", "a", "0", "o", "1", "i", "!", "i", "3", "e", "$", "s", "5", "s", "7", "t", "+", "t", "|", "l").Replace(s)
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// keyboard rows and columns (US layout), both directions are checked.
var walks = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/"}

func adjacent(a, b rune) bool {
	if a == b || a+1 == b || a == b+1 {
		return true
	}
	if a == '9' && b == '0' || a == '0' && b == '9' {
		return true
	}
	for _, w := range walks {
		i := strings.IndexRune(w, a)
		if i < 0 {
			continue
		}
		j := strings.IndexRune(w, b)
		if j >= 0 && (j == i+1 || j == i-1) {
			return true
		}
	}
	return false
}

// effective counts the characters of s that neither repeat nor continue a sequence or keyboard
// walk from the character before, nor repeat a block seen just before ("abcabc" counts 3), and
// that add to a set of at least a few distinct characters.
func effective(s string) int {
	r := []rune(s)
	n := 0
	for i := range r {
		if i > 0 && adjacent(r[i-1], r[i]) {
			continue
		}
		repeat := false
		for k := 2; k <= 6 && !repeat; k++ { // a block of k characters repeated right after itself
			if i >= k && i+k <= len(r) && string(r[i-k:i]) == string(r[i:i+k]) {
				repeat = true
			}
			if i >= k && i+k > len(r) && i-k >= 0 && string(r[i:]) == string(r[i-k:i-k+len(r)-i]) {
				repeat = true
			}
		}
		if !repeat {
			n++
		}
	}
	distinct := map[rune]bool{}
	for _, c := range r {
		distinct[c] = true
	}
	return min(n, 2*len(distinct))
}

// GeneratePassword returns a random password of n characters (n >= MinPasswordLen) from an
// alphabet without look-alikes that passes CheckPassword for username.
func GeneratePassword(n int, username string) string {
	n = max(n, MinPasswordLen)
	for {
		pw := RandomPassword(n)
		if CheckPassword(pw, username) == nil {
			return pw
		}
	}
}
