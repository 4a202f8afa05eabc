package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Policy is an investor's trust input: which log key signs the pool's checkpoints, which
// witnesses must cosign them and how many, and where the log is served.
type Policy struct {
	// LogKey is the log's sumdb/note verifier key as written in the policy; Log verifies it.
	LogKey string
	Log    note.Verifier
	// Origin is the checkpoint origin line the log must use (default: the log key's name).
	Origin string
	// URL is the log's base URL, ending in "/"; "" when the policy has none (offline use).
	URL string
	// Pool, when set, is the pool identifier every entry must carry.
	Pool string
	// Witnesses are the trusted witnesses; Quorum of them must cosign a checkpoint.
	Witnesses []Witness
	Quorum    int
}

// Witness is one trusted witness: its cosignature verifier key and the verifier built from it.
type Witness struct {
	Key      string
	Verifier note.Verifier
}

// MaxPolicySize bounds a policy file in bytes.
const MaxPolicySize = 64 << 10

// ParsePolicy parses a policy file. Each line holds one directive; blank lines and lines
// starting with '#' are ignored:
//
//	log <note verifier key>          required, exactly once
//	origin <origin line>             optional, at most once; default: the log key's name
//	url <base URL ending with />     optional (sync needs it), at most once; http or https
//	pool <pool id>                   optional, at most once: entries must carry this pool
//	witness <cosignature vkey>       repeatable, each witness once
//	quorum <n>                       required when there are witnesses; 0 <= n <= witnesses
//
// Any other directive, a repeated log, origin, url, pool or quorum, a bad key, a duplicate
// witness, or a quorum above the number of witnesses is an error naming the line.
func ParsePolicy(text []byte) (*Policy, error) {
	if len(text) > MaxPolicySize {
		return nil, fmt.Errorf("policy: %d bytes, more than %d", len(text), MaxPolicySize)
	}
	p := &Policy{Quorum: -1}
	seen := map[string]int{}
	quorumLine := 0
	for i, line := range strings.Split(string(text), "\n") {
		ln := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		dir, arg := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			dir, arg = line[:i], strings.TrimSpace(line[i+1:])
		}
		errf := func(format string, args ...any) error {
			return fmt.Errorf("policy line %d: %s: %s", ln, dir, fmt.Sprintf(format, args...))
		}
		if arg == "" {
			return nil, errf("missing value")
		}
		if dir != "origin" && strings.ContainsAny(arg, " \t") {
			return nil, errf("want a single value, got %q", arg)
		}
		if prev, ok := seen[dir]; ok && dir != "witness" {
			return nil, errf("repeated (first on line %d)", prev)
		}
		seen[dir] = ln
		switch dir {
		case "log":
			v, err := note.NewVerifier(arg)
			if err != nil {
				return nil, errf("bad note verifier key %q: %v", arg, err)
			}
			p.LogKey, p.Log = arg, v
		case "origin":
			if strings.ContainsAny(arg, "\x00\r") {
				return nil, errf("bad origin %q", arg)
			}
			p.Origin = arg
		case "url":
			u, err := url.Parse(arg)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(arg, "/") ||
				u.RawQuery != "" || u.Fragment != "" {
				return nil, errf("want an http(s) base URL ending with /, got %q", arg)
			}
			p.URL = arg
		case "pool":
			if err := checkString("pool", rulePool, arg); err != nil {
				return nil, errf("%v", err)
			}
			p.Pool = arg
		case "witness":
			v, err := NewCosignatureVerifier(arg)
			if err != nil {
				return nil, errf("%v", err)
			}
			for _, w := range p.Witnesses {
				if w.Verifier.Name() == v.Name() && w.Verifier.KeyHash() == v.KeyHash() {
					return nil, errf("witness %s listed twice", v.Name())
				}
			}
			p.Witnesses = append(p.Witnesses, Witness{Key: arg, Verifier: v})
		case "quorum":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 0 || strconv.Itoa(n) != arg {
				return nil, errf("want a non-negative integer, got %q", arg)
			}
			p.Quorum, quorumLine = n, ln
		default:
			return nil, fmt.Errorf("policy line %d: unknown directive %q (want log, origin, url, pool, witness or quorum)", ln, dir)
		}
	}
	if p.Log == nil {
		return nil, fmt.Errorf("policy: no log directive")
	}
	if p.Origin == "" {
		p.Origin = p.Log.Name()
	}
	for _, w := range p.Witnesses {
		if w.Verifier.Name() == p.Log.Name() && w.Verifier.KeyHash() == p.Log.KeyHash() {
			return nil, fmt.Errorf("policy: witness %s has the log key's name and key ID", w.Verifier.Name())
		}
	}
	switch {
	case p.Quorum < 0 && len(p.Witnesses) > 0:
		return nil, fmt.Errorf("policy: %d witnesses but no quorum directive", len(p.Witnesses))
	case p.Quorum < 0:
		p.Quorum = 0
	case p.Quorum > len(p.Witnesses):
		return nil, fmt.Errorf("policy line %d: quorum: %d is more than the %d witnesses", quorumLine, p.Quorum, len(p.Witnesses))
	}
	return p, nil
}

// ReadPolicy reads and parses a policy file (see ParsePolicy).
func ReadPolicy(file string) (*Policy, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// Failure is a failed verification check. Kind names the check (for example "log-fork",
// "checkpoint-signature", "entry-noncanonical", "report-mismatch"), Err says what failed, and
// Evidence holds the data that lets anyone re-check the finding; it marshals to JSON.
type Failure struct {
	Kind     string
	Err      error
	Evidence any
	// File is the evidence file the failure was written to, if any (see WriteEvidence).
	File string
}

// Error returns "<kind>: <error>", followed by the evidence file when one was written.
func (f *Failure) Error() string {
	s := f.Kind + ": " + f.Err.Error()
	if f.File != "" {
		s += " (evidence: " + f.File + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// EvidenceDocument is the JSON document WriteEvidence writes.
type EvidenceDocument struct {
	Kind     string    `json:"kind"`
	Error    string    `json:"error"`
	Time     time.Time `json:"time"`
	Evidence any       `json:"evidence"`
}

// MarshalEvidence returns the indented JSON evidence document for f at time now.
func MarshalEvidence(f *Failure, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(EvidenceDocument{Kind: f.Kind, Error: f.Err.Error(), Time: now.UTC(), Evidence: f.Evidence}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteEvidence writes f as a new JSON file in dir (created if needed), named
// "<UTC time>-<kind>.json" (with a counter if that name exists), sets f.File and returns the
// path. It never overwrites an existing file.
func WriteEvidence(dir string, f *Failure, now time.Time) (string, error) {
	b, err := MarshalEvidence(f, now)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := now.UTC().Format("20060102T150405Z") + "-" + f.Kind
	for i := 0; i < 1000; i++ {
		name := base + ".json"
		if i > 0 {
			name = fmt.Sprintf("%s-%d.json", base, i)
		}
		path := filepath.Join(dir, name)
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = fh.Write(b)
		if err2 := fh.Sync(); err == nil {
			err = err2
		}
		if err2 := fh.Close(); err == nil {
			err = err2
		}
		if err != nil {
			return "", err
		}
		f.File = path
		return path, nil
	}
	return "", fmt.Errorf("cannot name an evidence file in %s", dir)
}
