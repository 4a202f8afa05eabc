package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"reclaim"
	"reclaim/cnid"
)

// The blind index: a keyed hash (HMAC-SHA256) of a normalised identifier, so that the same
// debtor can be recognised across portfolios without decrypting anyone's personal data. Its key
// is not the personal-data key (a leak of one does not give the other) and, like it, never enters
// the database; the database records only its fingerprint (key_ids, purpose 'blind').

// Blind-index kinds (the same strings as package workout's BlindNationalID and BlindPhone).
const (
	BlindNationalID = "nid"
	BlindPhone      = "phone"
)

// BlindEnvVar is the environment variable LoadBlindKey reads.
const BlindEnvVar = "RECLAIM_BLIND_KEY"

// BlindKeyFile is the name of the blind-index key file LoadBlindKey creates in the data directory.
const BlindKeyFile = "blind.key"

// blindTag separates the hash of each kind (and of the fingerprint) from the others.
const blindTag = "reclaim/blind-index/v1/"

// BlindTerm is one blind-index hash of a borrower identifier.
type BlindTerm struct {
	Kind string
	Hash []byte // 32 bytes
}

// BlindKey computes blind-index hashes. It holds the raw key; it is safe for concurrent use.
type BlindKey struct {
	raw    []byte
	fp     string
	source string
	// macs holds HMAC states keyed with raw, for reuse: after its first Reset an HMAC restores
	// the key's padded inner and outer states instead of hashing the key again, and reusing
	// one allocates nothing (an import hashes two or three identifiers per loan).
	macs sync.Pool
}

// NewBlindKey returns the blind-index key for 32 raw bytes (copied).
func NewBlindKey(raw []byte) (*BlindKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: blind-index key must be %d bytes, got %d", ErrKey, KeySize, len(raw))
	}
	k := &BlindKey{raw: append([]byte(nil), raw...), source: "memory"}
	k.macs.New = func() any { return &blindMAC{mac: hmac.New(sha256.New, k.raw)} }
	m := hmac.New(sha256.New, k.raw)
	m.Write([]byte(blindTag + "fingerprint"))
	k.fp = fmt.Sprintf("%x", m.Sum(nil))
	return k, nil
}

// Fingerprint identifies the key without revealing it (recorded in key_ids).
func (k *BlindKey) Fingerprint() string { return k.fp }

// Source says where the key came from ("file:<path>", "env:<VAR>", "dev:<path>", "memory").
func (k *BlindKey) Source() string { return k.source }

// LoadBlindKey loads the blind-index key: from file when set, else from $RECLAIM_BLIND_KEY, else
// the key file BlindKeyFile in dataDir, created (mode 0600, random) on first use. Keep the file:
// hashes written under one key cannot be matched with another.
func LoadBlindKey(file, dataDir string) (*BlindKey, error) {
	var raw []byte
	var source string
	var err error
	switch {
	case file != "":
		raw, err = readRawKeyFile(file)
		source = "file:" + file
	case os.Getenv(BlindEnvVar) != "":
		raw, err = parseRaw(os.Getenv(BlindEnvVar))
		if err != nil {
			err = fmt.Errorf("environment variable %s: %w", BlindEnvVar, err)
		}
		source = "env:" + BlindEnvVar
	case dataDir != "":
		path := filepath.Join(dataDir, BlindKeyFile)
		if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
			if _, err = devKey(path); err != nil {
				return nil, err
			}
		}
		raw, err = readRawKeyFile(path)
		source = "dev:" + path
	default:
		return nil, fmt.Errorf("%w: no blind-index key: set %s or give a data directory", ErrNoKey, BlindEnvVar)
	}
	if err != nil {
		return nil, err
	}
	bk, err := NewBlindKey(raw)
	if err != nil {
		return nil, err
	}
	bk.source = source
	return bk, nil
}

// NormalizeNationalID is the form of a national ID that is hashed: blanks removed, full-width
// characters and a lower-case x made half-width upper case, a 15-digit first-generation ID
// upgraded to 18 digits when it is valid. Empty when nothing is left.
func NormalizeNationalID(id string) string {
	if len(id) != 15 && plainID(id) {
		return id // already in normal form: the usual case, without an allocation
	}
	return normalizeNationalID(id)
}

// normalizeNationalID is NormalizeNationalID for any input.
func normalizeNationalID(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= '０' && r <= '９':
			r = r - '０' + '0'
		case r == 'ｘ' || r == 'Ｘ' || r == 'x':
			r = 'X'
		case r == ' ' || r == '\t' || r == '\u3000' || r == '-':
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) == 15 {
		if up, err := cnid.Upgrade15(s); err == nil {
			s = up
		}
	}
	return s
}

// plainID reports whether id holds only ASCII digits and 'X', which NormalizeNationalID keeps.
func plainID(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && c != 'X' {
			return false
		}
	}
	return true
}

// digitsOnly reports whether s is made of ASCII digits alone (true for "").
func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizePhones splits a phone field on the usual separators (, ; / 、 and white space) and
// returns each number in its normalised mobile form (cnid.NormalizeMobile) or, for a landline,
// its digits; duplicates are dropped, order kept.
func NormalizePhones(field string) []string {
	if digitsOnly(field) {
		// One number without separators (the usual case): what the general path below makes
		// of it, without splitting the field or a set of the numbers seen.
		n := field
		if m, err := cnid.NormalizeMobile(field); err == nil {
			n = m
		}
		if len(n) < 5 {
			return nil
		}
		return []string{n}
	}
	return normalizePhones(field)
}

// normalizePhones is NormalizePhones for any field.
func normalizePhones(field string) []string {
	parts := strings.FieldsFunc(field, func(r rune) bool {
		return r == ',' || r == ';' || r == '/' || r == '、' || r == '，' || r == '；' || r == '|' || r == '\n'
	})
	var out []string
	seen := map[string]bool{}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		n, err := cnid.NormalizeMobile(p)
		if err != nil {
			n = strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, p)
			if m, err := cnid.NormalizeMobile(n); err == nil {
				n = m
			}
		}
		if len(n) < 5 || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// Hash returns the blind-index hash of an already normalised value of a kind.
func (k *BlindKey) Hash(kind, normalized string) []byte {
	return k.appendHash(make([]byte, 0, sha256.Size), kind, normalized)
}

// appendHash appends the blind-index hash of an already normalised value of a kind to dst:
// HMAC-SHA256 under the key of blindTag, kind, a zero byte and the value.
func (k *BlindKey) appendHash(dst []byte, kind, normalized string) []byte {
	m := k.macs.Get().(*blindMAC)
	m.mac.Reset()
	// The message goes through the pooled buffer: a slice of a local array or of the string
	// handed to the hash (an interface) would be allocated on the heap each time.
	msg := append(append(append(append(m.buf[:0], blindTag...), kind...), 0), normalized...)
	m.mac.Write(msg)
	dst = m.mac.Sum(dst)
	clear(msg) // the identifier does not linger in the pool
	k.macs.Put(m)
	return dst
}

// blindMAC is a reusable HMAC keyed with the blind-index key and a buffer for its message.
type blindMAC struct {
	mac hash.Hash
	buf [128]byte
}

// PhoneHash returns the hash of one phone number as typed (normalised first); nil when it
// normalises to nothing.
func (k *BlindKey) PhoneHash(number string) []byte {
	n := NormalizePhones(number)
	if len(n) == 0 {
		return nil
	}
	return k.Hash(BlindPhone, n[0])
}

// Terms returns the blind-index hashes of a borrower's personal data: the national ID (when
// present) and each phone. It never fails and never keeps the data.
func (k *BlindKey) Terms(p reclaim.PersonalData) []BlindTerm {
	id := NormalizeNationalID(p.NationalID)
	phones := NormalizePhones(p.Phone)
	n := len(phones)
	if id != "" {
		n++
	}
	if n == 0 {
		return nil
	}
	// One array holds every hash of the borrower, each term a full slice of its own 32 bytes.
	out := make([]BlindTerm, 0, n)
	hashes := make([]byte, 0, n*sha256.Size)
	add := func(kind, v string) {
		at := len(hashes)
		hashes = k.appendHash(hashes, kind, v)
		out = append(out, BlindTerm{Kind: kind, Hash: hashes[at:len(hashes):len(hashes)]})
	}
	if id != "" {
		add(BlindNationalID, id)
	}
	for _, ph := range phones {
		add(BlindPhone, ph)
	}
	return out
}

// readRawKeyFile reads a key file's 32 raw bytes after checking that group and others cannot
// read it (the same rules as the personal-data key file).
func readRawKeyFile(path string) ([]byte, error) {
	if _, err := readKeyFile(path); err != nil { // permission and format checks
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: key file: %v", ErrKey, err)
	}
	return parseRaw(string(b))
}

// parseRaw decodes a key written as hex or base64 (as ParseKey) to its raw bytes.
func parseRaw(text string) ([]byte, error) {
	s := strings.TrimSpace(text)
	if len(s) == 2*KeySize {
		if raw, err := hex.DecodeString(s); err == nil {
			return raw, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil && len(raw) == KeySize {
			return raw, nil
		}
	}
	return nil, fmt.Errorf("%w: key is neither 64 hex characters nor base64 of %d bytes", ErrKey, KeySize)
}
