package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the origin line, the tree size, the root
// hash and optional extension lines.
type Checkpoint struct {
	Origin     string
	Size       int64
	Hash       tlog.Hash
	Extensions []string
}

// MaxCheckpointSize bounds a signed checkpoint note in bytes (body and all signature lines).
const MaxCheckpointSize = 64 << 10

// Format returns the checkpoint body: origin, size and base64 root hash, then any extension
// lines, each ending in a newline. It is the note text that the log signs.
func (c Checkpoint) Format() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Hash[:]))
	b.WriteByte('\n')
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body (the note text, without signatures). It requires a
// non-empty origin, a decimal size without sign or leading zeros, a canonical standard-base64
// root of exactly 32 bytes, non-empty extension lines, a final newline, valid UTF-8 and no
// control characters other than newline; anything else is an error naming the line.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	if len(text) > MaxCheckpointSize {
		return Checkpoint{}, fmt.Errorf("checkpoint: %d bytes, more than %d", len(text), MaxCheckpointSize)
	}
	if !utf8.Valid(text) {
		return Checkpoint{}, errors.New("checkpoint: not valid UTF-8")
	}
	for _, c := range text {
		if c < 0x20 && c != '\n' {
			return Checkpoint{}, fmt.Errorf("checkpoint: control character 0x%02x", c)
		}
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return Checkpoint{}, errors.New("checkpoint: does not end in a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("checkpoint: %d lines, want at least 3 (origin, size, root)", len(lines))
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return Checkpoint{}, errors.New("checkpoint: line 1: empty origin")
	}
	size, ok := parseDecimal(lines[1])
	if !ok {
		return Checkpoint{}, fmt.Errorf("checkpoint: line 2: size %q is not a decimal without leading zeros", lines[1])
	}
	c.Size = size
	h, err := decodeHash(lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: line 3: root: %v", err)
	}
	c.Hash = h
	for i, e := range lines[3:] {
		if e == "" {
			return Checkpoint{}, fmt.Errorf("checkpoint: line %d: empty extension line", i+4)
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// parseDecimal parses a non-negative int64 in decimal with no sign and no leading zeros.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// decodeHash decodes a canonical standard-base64 32-byte hash.
func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != tlog.HashSize || base64.StdEncoding.EncodeToString(b) != s {
		return h, fmt.Errorf("%q is not a base64 32-byte hash", s)
	}
	copy(h[:], b)
	return h, nil
}

// Cosignature key algorithm byte (C2SP signed-note signature type 0x04: timestamped Ed25519
// witness cosignatures, C2SP tlog-cosignature).
const algCosignatureV1 = 0x04

// CosignatureKeyID returns the key ID of an Ed25519 cosigner: the first four bytes, big-endian,
// of SHA-256(name || 0x0A || 0x04 || public key).
func CosignatureKeyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// cosignedMessage returns what a cosignature/v1 signs: "cosignature/v1\ntime <ts>\n" followed
// by the checkpoint body.
func cosignedMessage(ts uint64, body []byte) []byte {
	m := make([]byte, 0, 40+len(body))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, body...)
}

func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

type cosigVerifier struct {
	name string
	id   uint32
	pub  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.id }

// Verify checks a cosignature/v1 signature: sig is an 8-byte big-endian timestamp (at most
// 2^63-1) followed by the 64-byte Ed25519 signature of the cosigned message.
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > 1<<63-1 {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(ts, msg), sig[8:])
}

// NewCosignatureVerifier returns a note.Verifier for a witness's cosignature/v1 verifier key
// "<name>+<key ID, 8 hex digits>+<base64 of 0x04 || 32-byte Ed25519 public key>" (the vkey
// GenerateCosignatureKey prints). Verify accepts a signature of exactly 8 + 64 bytes whose
// Ed25519 signature covers "cosignature/v1\ntime <timestamp>\n" + note text. It fails for a
// malformed key, another algorithm byte, or a key ID that does not match the name and key.
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	id16, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validKeyName(name) || len(id16) != 8 {
		return nil, fmt.Errorf("malformed cosignature verifier key %q: want name+keyid+base64", vkey)
	}
	id, err := strconv.ParseUint(id16, 16, 32)
	if err != nil || strings.ToLower(id16) != id16 {
		return nil, fmt.Errorf("malformed cosignature verifier key %q: bad key ID", vkey)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize {
		return nil, fmt.Errorf("malformed cosignature verifier key %q: want base64 of 33 bytes", vkey)
	}
	if key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("cosignature verifier key %q has algorithm 0x%02x, want 0x04 (cosignature/v1)", vkey, key[0])
	}
	pub := ed25519.PublicKey(bytes.Clone(key[1:]))
	if CosignatureKeyID(name, pub) != uint32(id) {
		return nil, fmt.Errorf("cosignature verifier key %q: key ID does not match name and key", vkey)
	}
	return &cosigVerifier{name: name, id: uint32(id), pub: pub}, nil
}

// CosignatureVerifierKey returns the vkey string of an Ed25519 cosigner:
// "<name>+<key ID hex>+<base64(0x04 || public key)>".
func CosignatureVerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validKeyName(name) {
		return "", fmt.Errorf("invalid key name %q: must be non-empty UTF-8 without spaces or '+'", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	return fmt.Sprintf("%s+%08x+%s", name, CosignatureKeyID(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...))), nil
}

type cosigSigner struct {
	name string
	id   uint32
	priv ed25519.PrivateKey
	now  func() time.Time
}

func (s *cosigSigner) Name() string    { return s.name }
func (s *cosigSigner) KeyHash() uint32 { return s.id }

// Sign returns the 8-byte big-endian timestamp (now, in seconds) followed by the Ed25519
// signature of the cosigned message.
func (s *cosigSigner) Sign(msg []byte) ([]byte, error) {
	t := s.now().Unix()
	if t < 0 {
		return nil, fmt.Errorf("cosignature: clock before 1970 (%d)", t)
	}
	sig := binary.BigEndian.AppendUint64(nil, uint64(t))
	return append(sig, ed25519.Sign(s.priv, cosignedMessage(uint64(t), msg))...), nil
}

// NewCosignatureSigner returns a note.Signer that makes C2SP tlog-cosignature cosignature/v1
// signatures with priv under name, timestamped with now (time.Now when nil). note.Sign with it
// produces the line "— <name> base64(key ID || timestamp || signature)".
func NewCosignatureSigner(name string, priv ed25519.PrivateKey, now func() time.Time) (note.Signer, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("invalid key name %q: must be non-empty UTF-8 without spaces or '+'", name)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if now == nil {
		now = time.Now
	}
	pub := priv.Public().(ed25519.PublicKey)
	return &cosigSigner{name: name, id: CosignatureKeyID(name, pub), priv: priv, now: now}, nil
}

// GenerateCosignatureKey makes a new witness key named name and returns its secret key
// "PRIVATE+KEY+<name>+<key ID hex>+<base64(0x04 || 32-byte Ed25519 seed)>" (keep it secret; see
// NewCosignatureSignerFromKey) and its verifier key (see NewCosignatureVerifier), mirroring the
// sumdb/note key formats with algorithm byte 0x04.
func GenerateCosignatureKey(name string) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("invalid key name %q: must be non-empty UTF-8 without spaces or '+'", name)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	vkey, err = CosignatureVerifierKey(name, pub)
	if err != nil {
		return "", "", err
	}
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, CosignatureKeyID(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, priv.Seed()...)))
	return skey, vkey, nil
}

// NewCosignatureSignerFromKey returns the cosignature signer for a secret key written by
// GenerateCosignatureKey (surrounding whitespace is ignored), timestamped with now (time.Now
// when nil). It fails for a malformed key or a key ID that does not match.
func NewCosignatureSignerFromKey(skey string, now func() time.Time) (note.Signer, error) {
	skey = strings.TrimSpace(skey)
	f := strings.SplitN(skey, "+", 5)
	if len(f) != 5 || f[0] != "PRIVATE" || f[1] != "KEY" || !validKeyName(f[2]) || len(f[3]) != 8 {
		return nil, errors.New("malformed cosignature secret key: want PRIVATE+KEY+name+keyid+base64")
	}
	id, err := strconv.ParseUint(f[3], 16, 32)
	if err != nil {
		return nil, errors.New("malformed cosignature secret key: bad key ID")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(f[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != algCosignatureV1 {
		return nil, errors.New("malformed cosignature secret key: want base64 of 0x04 and a 32-byte seed")
	}
	priv := ed25519.NewKeyFromSeed(key[1:])
	s, err := NewCosignatureSigner(f[2], priv, now)
	if err != nil {
		return nil, err
	}
	if s.KeyHash() != uint32(id) {
		return nil, errors.New("cosignature secret key: key ID does not match name and key")
	}
	return s, nil
}

// Cosignature is one valid witness cosignature on a checkpoint.
type Cosignature struct {
	Name  string    `json:"name"`
	KeyID string    `json:"key_id"`
	Time  time.Time `json:"time"`
}

// VerifiedCheckpoint is a checkpoint whose log signature and witness quorum have been checked.
type VerifiedCheckpoint struct {
	Checkpoint
	// Signed is the complete signed note as received.
	Signed []byte
	// Cosignatures lists one valid cosignature per policy witness that signed.
	Cosignatures []Cosignature
	// Ignored lists the signature lines that were not counted (unknown keys, invalid or
	// duplicate cosignatures), each with the reason.
	Ignored []string
}

// ErrQuorum is wrapped by the Failure that VerifyCheckpoint returns when too few policy
// witnesses cosigned.
var ErrQuorum = errors.New("witness quorum not met")

// ErrNotSignedByLogKey is wrapped by the Failure that VerifyCheckpoint returns when a checkpoint
// carries no signature by the policy's log key (as opposed to a forged one): after a key
// rotation, Sync then looks for the rotation.
var ErrNotSignedByLogKey = errors.New("checkpoint is not signed by the log key")

// CheckpointEvidence is the evidence of a checkpoint that failed verification.
type CheckpointEvidence struct {
	Checkpoint   string        `json:"checkpoint"`
	Origin       string        `json:"origin,omitempty"`
	WantOrigin   string        `json:"want_origin,omitempty"`
	LogKey       string        `json:"log_key"`
	Quorum       int           `json:"quorum"`
	Cosignatures []Cosignature `json:"cosignatures"`
	Ignored      []string      `json:"ignored,omitempty"`
}

// VerifyCheckpoint checks a signed checkpoint note against the policy, entirely offline: the
// note must be well formed and at most MaxCheckpointSize bytes, carry a valid signature by the
// policy's log key, have a well-formed body whose origin is the policy's origin, and carry valid
// cosignature/v1 signatures from at least Quorum distinct policy witnesses. Several signatures
// by one witness count once; signatures by unknown keys are ignored; an invalid signature by a
// policy witness is not counted and is listed in Ignored. Every failure is a *Failure whose
// Evidence is a *CheckpointEvidence.
func VerifyCheckpoint(p *Policy, signed []byte) (*VerifiedCheckpoint, error) {
	if p == nil || p.Log == nil {
		return nil, errors.New("verify: no policy (or a policy without a log key)")
	}
	ev := &CheckpointEvidence{Checkpoint: string(signed), LogKey: p.LogKey, WantOrigin: p.Origin, Quorum: p.Quorum,
		Cosignatures: []Cosignature{}}
	fail := func(kind string, err error) (*VerifiedCheckpoint, error) {
		return nil, &Failure{Kind: kind, Err: err, Evidence: ev}
	}
	if len(signed) > MaxCheckpointSize {
		return fail("checkpoint-malformed", fmt.Errorf("signed checkpoint is %d bytes, more than %d", len(signed), MaxCheckpointSize))
	}
	n, err := note.Open(signed, note.VerifierList(p.Log))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return fail("checkpoint-signature", fmt.Errorf("%w %s+%08x", ErrNotSignedByLogKey, p.Log.Name(), p.Log.KeyHash()))
		case errors.As(err, &invalid):
			return fail("checkpoint-signature", fmt.Errorf("checkpoint has an invalid (forged) signature for the log key %s+%08x", invalid.Name, invalid.Hash))
		}
		return fail("checkpoint-malformed", fmt.Errorf("checkpoint is not a well-formed signed note: %v", err))
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return fail("checkpoint-malformed", err)
	}
	ev.Origin = c.Origin
	if c.Origin != p.Origin {
		return fail("checkpoint-origin", fmt.Errorf("checkpoint origin %q is not the policy's origin %q", c.Origin, p.Origin))
	}
	vc := &VerifiedCheckpoint{Checkpoint: c, Signed: bytes.Clone(signed)}
	counted := make(map[int]bool)
	for _, s := range n.UnverifiedSigs {
		wi := -1
		for i, w := range p.Witnesses {
			if w.Verifier.Name() == s.Name && w.Verifier.KeyHash() == s.Hash {
				wi = i
				break
			}
		}
		label := fmt.Sprintf("%s+%08x", s.Name, s.Hash)
		if wi < 0 {
			vc.Ignored = append(vc.Ignored, label+": not a policy witness")
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(s.Base64)
		if err != nil || len(raw) < 4 || !p.Witnesses[wi].Verifier.Verify([]byte(n.Text), raw[4:]) {
			vc.Ignored = append(vc.Ignored, label+": INVALID cosignature from a policy witness")
			continue
		}
		if counted[wi] {
			vc.Ignored = append(vc.Ignored, label+": another cosignature from the same witness (counted once)")
			continue
		}
		counted[wi] = true
		ts := int64(binary.BigEndian.Uint64(raw[4:]))
		vc.Cosignatures = append(vc.Cosignatures, Cosignature{Name: s.Name, KeyID: fmt.Sprintf("%08x", s.Hash), Time: time.Unix(ts, 0).UTC()})
	}
	ev.Cosignatures = vc.Cosignatures
	ev.Ignored = vc.Ignored
	if len(vc.Cosignatures) < p.Quorum {
		return fail("checkpoint-quorum", fmt.Errorf("%w: %d of the %d required witness cosignatures", ErrQuorum, len(vc.Cosignatures), p.Quorum))
	}
	return vc, nil
}
