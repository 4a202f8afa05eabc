// Package pii encrypts borrowers' personal data at rest with AES-256-GCM under a key that never
// enters the database, and computes the salted commitments that stand in for personal data on the
// transparency ledger.
//
// A sealed blob is self-describing:
//
//	version (1 byte, 0x01) | key id (4 bytes) | nonce (12 bytes) | ciphertext and GCM tag (16 bytes)
//
// The version byte and the key id are authenticated together with the caller's additional data
// (AAD), so a blob cannot be moved to another row (when the AAD names the row) nor relabelled with
// another key id without Open failing. A Keyring holds one encryption key and any number of older
// keys that still decrypt, which is how keys are rotated.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"reclaim"
)

// Version is the format version byte of blobs written by Seal.
const Version byte = 1

// Blob layout sizes.
const (
	KeySize   = 32 // AES-256 key bytes
	idSize    = 4  // key id bytes in a blob (8 hex characters)
	nonceSize = 12
	tagSize   = 16
	// Overhead is the number of bytes Seal adds to a plaintext.
	Overhead = 1 + idSize + nonceSize + tagSize
)

// DefaultEnvVar is the environment variable LoadKey reads when KeyOptions.EnvVar is empty.
const DefaultEnvVar = "RECLAIM_PII_KEY"

// DevKeyFile is the name of the development key file LoadKey creates inside KeyOptions.DevDir.
const DevKeyFile = "pii.key"

// Errors returned by this package; test with errors.Is.
var (
	// ErrTruncated: the blob is shorter than a header and a tag.
	ErrTruncated = errors.New("pii: sealed blob truncated")
	// ErrVersion: the blob's version byte is not one this package reads.
	ErrVersion = errors.New("pii: unknown sealed blob version")
	// ErrUnknownKey: no key in the keyring has the blob's key id.
	ErrUnknownKey = errors.New("pii: blob sealed under a key not in the keyring")
	// ErrAuth: the blob or its additional data was altered, or the key is wrong.
	ErrAuth = errors.New("pii: sealed blob failed authentication (tampered, or wrong additional data)")
	// ErrKey: a key is malformed (wrong length or encoding) or its file is unsafe.
	ErrKey = errors.New("pii: invalid key")
	// ErrNoKey: no key source is configured.
	ErrNoKey = errors.New("pii: no key configured")
)

// Key is one AES-256 key and its id. The raw key bytes are not exported.
type Key struct {
	id    string // first 8 hex characters of SHA-256(key)
	idRaw [idSize]byte
	aead  cipher.AEAD
	fp    string // Fingerprint
}

// FingerprintTag is the HMAC message of a key's fingerprint.
const FingerprintTag = "reclaim/pii/key-fingerprint/v1"

// NewKey returns the key for 32 raw bytes; any other length is ErrKey. The caller may reuse raw
// afterwards.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: key must be %d bytes, got %d", ErrKey, KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	sum := sha256.Sum256(raw)
	k := &Key{aead: aead}
	copy(k.idRaw[:], sum[:idSize])
	k.id = hex.EncodeToString(k.idRaw[:])
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(FingerprintTag))
	k.fp = hex.EncodeToString(m.Sum(nil))
	return k, nil
}

// Fingerprint returns HMAC-SHA256(key, FingerprintTag) in hex: the key's identity as the
// database stores it (key_ids), so that a server started with another key can be refused. It
// reveals nothing about the key, and unlike ID it is long enough that no two keys share it.
func (k *Key) Fingerprint() string { return k.fp }

// LoadKeyFile reads a key file (hex or base64, not readable by group or others).
func LoadKeyFile(path string) (*Key, error) { return readKeyFile(path) }

// ParseKey decodes a key written as 64 hex characters or as standard or URL-safe base64 (with or
// without padding) of 32 bytes; surrounding white space is ignored.
func ParseKey(text string) (*Key, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, fmt.Errorf("%w: empty key", ErrKey)
	}
	if len(s) == 2*KeySize {
		if raw, err := hex.DecodeString(s); err == nil {
			return NewKey(raw)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			return NewKey(raw)
		}
	}
	return nil, fmt.Errorf("%w: key is neither 64 hex characters nor base64 of %d bytes", ErrKey, KeySize)
}

// ID returns the key id: the first 8 hex characters of the SHA-256 of the key. It identifies the
// key in blobs and in the database without revealing it.
func (k *Key) ID() string { return k.id }

// Keyring holds the key that seals and the keys that may open. It is safe for concurrent use.
type Keyring struct {
	keys   []*Key // keys[0] seals
	source string
}

// NewKeyring returns a keyring whose first key seals and all of whose keys open. It fails with
// ErrKey when no key is given or two keys share an id.
func NewKeyring(keys ...*Key) (*Keyring, error) {
	if len(keys) == 0 || keys[0] == nil {
		return nil, fmt.Errorf("%w: a keyring needs at least one key", ErrKey)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("%w: nil key", ErrKey)
		}
		if seen[k.id] {
			return nil, fmt.Errorf("%w: duplicate key id %s", ErrKey, k.id)
		}
		seen[k.id] = true
	}
	return &Keyring{keys: append([]*Key(nil), keys...), source: "memory"}, nil
}

// KeyID returns the id of the key that seals.
func (r *Keyring) KeyID() string { return r.keys[0].id }

// SealingKey returns the key that seals.
func (r *Keyring) SealingKey() *Key { return r.keys[0] }

// Fingerprint returns the fingerprint of the key that seals (Key.Fingerprint).
func (r *Keyring) Fingerprint() string { return r.keys[0].fp }

// Source says where the sealing key came from: "file:<path>", "env:<VAR>", "dev:<path>" (a
// development key created or reused by LoadKey), or "memory" (NewKeyring).
func (r *Keyring) Source() string { return r.source }

// KeyOptions says where LoadKey finds the key. Precedence: File, then EnvVar, then the
// development key in DevDir (only when AllowDev is set).
type KeyOptions struct {
	// EnvVar names the environment variable holding the key as hex or base64; empty means
	// DefaultEnvVar.
	EnvVar string
	// File is the path of a file holding the key as hex or base64. It must not be readable by
	// group or others.
	File string
	// DevDir is the data directory where a development key lives (DevKeyFile). When neither File
	// nor the environment variable is set and AllowDev is true, LoadKey creates the file with mode
	// 0600 on first run and reuses it afterwards.
	DevDir string
	// AllowDev permits the development key. Production deployments leave it false so that a
	// missing key is an error rather than a fresh key nobody backed up.
	AllowDev bool
	// Previous holds retired keys (hex or base64) that still open old blobs; they never seal.
	Previous []string
}

// LoadKey returns a keyring with the key found as KeyOptions describes, followed by the Previous
// keys. Errors wrap ErrKey (malformed key, unsafe file permissions) or ErrNoKey (nothing set).
func LoadKey(opts KeyOptions) (*Keyring, error) {
	envVar := opts.EnvVar
	if envVar == "" {
		envVar = DefaultEnvVar
	}
	var (
		key    *Key
		source string
		err    error
	)
	switch {
	case opts.File != "":
		key, err = readKeyFile(opts.File)
		source = "file:" + opts.File
	case os.Getenv(envVar) != "":
		key, err = ParseKey(os.Getenv(envVar))
		if err != nil {
			err = fmt.Errorf("environment variable %s: %w", envVar, err)
		}
		source = "env:" + envVar
	case opts.AllowDev && opts.DevDir != "":
		path := filepath.Join(opts.DevDir, DevKeyFile)
		key, err = devKey(path)
		source = "dev:" + path
	default:
		return nil, fmt.Errorf("%w: set %s, or give a key file, or allow a development key", ErrNoKey, envVar)
	}
	if err != nil {
		return nil, err
	}
	keys := []*Key{key}
	for i, p := range opts.Previous {
		k, err := ParseKey(p)
		if err != nil {
			return nil, fmt.Errorf("previous key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	r, err := NewKeyring(keys...)
	if err != nil {
		return nil, err
	}
	r.source = source
	return r, nil
}

// readKeyFile reads a key file after checking that group and others cannot read it.
func readKeyFile(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: key file: %v", ErrKey, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: key file %s has mode %04o; it must not be accessible to group or others (chmod 600 %s)",
			ErrKey, path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: key file: %v", ErrKey, err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// devKey reuses the development key at path or creates it (mode 0600) when absent.
func devKey(path string) (*Key, error) {
	if _, err := os.Stat(path); err == nil {
		return readKeyFile(path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: key file: %v", ErrKey, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: creating key directory: %v", ErrKey, err)
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // created concurrently: use that one
		return readKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: creating key file: %v", ErrKey, err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("%w: writing key file: %v", ErrKey, err)
	}
	return NewKey(raw)
}

// header writes the version and key id into dst[:1+idSize].
func (k *Key) header(dst []byte) {
	dst[0] = Version
	copy(dst[1:1+idSize], k.idRaw[:])
}

// fullAAD binds the blob header to the caller's additional data.
func fullAAD(header, aad []byte) []byte {
	b := make([]byte, 0, len(header)+len(aad))
	return append(append(b, header...), aad...)
}

// Seal encrypts plaintext under the keyring's first key with a fresh random nonce and returns the
// versioned blob. aad (which may be nil) is authenticated but not stored: Open needs the same aad.
func (r *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	k := r.keys[0]
	hlen := 1 + idSize
	out := make([]byte, hlen+nonceSize, len(plaintext)+Overhead)
	k.header(out)
	if _, err := rand.Read(out[hlen : hlen+nonceSize]); err != nil {
		return nil, err
	}
	nonce := out[hlen : hlen+nonceSize]
	// fullAAD's bytes, in a recycled buffer: the AEAD does not keep them.
	ap := aadBuffers.Get().(*[]byte)
	full := append(append((*ap)[:0], out[:hlen]...), aad...)
	sealed := k.aead.Seal(out, nonce, plaintext, full)
	*ap = full[:0]
	aadBuffers.Put(ap)
	return sealed, nil
}

// aadBuffers recycles the buffers Seal writes the full additional data into.
var aadBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Open decrypts a blob made by Seal with any key of the keyring, given the same aad. It returns
// ErrTruncated, ErrVersion, ErrUnknownKey (naming the blob's key id) or ErrAuth; it never returns
// plaintext that did not authenticate.
func (r *Keyring) Open(blob, aad []byte) ([]byte, error) {
	hlen := 1 + idSize
	if len(blob) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrTruncated, len(blob), Overhead)
	}
	if blob[0] != Version {
		return nil, fmt.Errorf("%w: %d", ErrVersion, blob[0])
	}
	var k *Key
	for _, c := range r.keys {
		if string(c.idRaw[:]) == string(blob[1:hlen]) {
			k = c
			break
		}
	}
	if k == nil {
		return nil, fmt.Errorf("%w: key id %x", ErrUnknownKey, blob[1:hlen])
	}
	nonce := blob[hlen : hlen+nonceSize]
	pt, err := k.aead.Open(nil, nonce, blob[hlen+nonceSize:], fullAAD(blob[:hlen], aad))
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

// BlobKeyID returns the key id (8 hex characters) a blob names, or an error when the blob is too
// short or of an unknown version. It does not authenticate the blob.
func BlobKeyID(blob []byte) (string, error) {
	if len(blob) < Overhead {
		return "", ErrTruncated
	}
	if blob[0] != Version {
		return "", ErrVersion
	}
	return hex.EncodeToString(blob[1 : 1+idSize]), nil
}

// SealPersonal seals the JSON encoding of p. Callers should pass an aad that names the record
// (for example "portfolio:<content hash>/borrower:<ref>") so that a blob cannot be swapped
// between borrowers.
func (r *Keyring) SealPersonal(p reclaim.PersonalData, aad []byte) ([]byte, error) {
	bp := plaintexts.Get().(*[]byte)
	b, err := appendPersonalJSON((*bp)[:0], &p)
	if err != nil {
		return nil, err
	}
	sealed, err := r.Seal(b, aad)
	clear(b) // the plaintext does not linger in the pool
	*bp = b[:0]
	plaintexts.Put(bp)
	return sealed, err
}

// OpenPersonal opens a blob made by SealPersonal with the same aad.
func (r *Keyring) OpenPersonal(blob, aad []byte) (reclaim.PersonalData, error) {
	b, err := r.Open(blob, aad)
	if err != nil {
		return reclaim.PersonalData{}, err
	}
	var p reclaim.PersonalData
	if err := json.Unmarshal(b, &p); err != nil {
		return reclaim.PersonalData{}, fmt.Errorf("pii: sealed personal data is not valid JSON: %w", err)
	}
	return p, nil
}

// Commit returns HMAC-SHA256 keyed by salt over domainTag followed by data: a salted commitment
// that reveals nothing about data without the salt, and that the holder of the salt can open by
// disclosing data. The domain tag separates uses (for example "reclaim/borrower/v1\x00"); it
// should be a fixed string that ends with a separator byte, because tag and data are concatenated
// without a length prefix.
func Commit(salt, domainTag, data []byte) [32]byte {
	m := hmac.New(sha256.New, salt)
	m.Write(domainTag)
	m.Write(data)
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// NewSalt returns 32 random bytes for Commit (a portfolio's salt).
func NewSalt() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("pii: crypto/rand failed: " + err.Error())
	}
	return b
}
