// Package witness is a transparency-log witness per C2SP tlog-witness: it accepts a pool log's
// new checkpoint with a consistency proof from the last checkpoint it cosigned for that log,
// checks the log's signature and the proof, records the new size and root durably, and returns
// its C2SP tlog-cosignature (cosignature/v1, Ed25519) on the checkpoint. It also has the client
// call that a log's publisher makes (Request).
//
// A witness is run by a party independent of the issuer (the trustee, the rating agency, an
// investor representative); investors require a quorum of their cosignatures (see tlog/verify).
package witness

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"reclaim/tlog/verify"
)

// Log is a log the witness is configured to witness: its checkpoint origin and the verifier of
// the log's note key.
type Log struct {
	Origin   string
	Key      string
	Verifier note.Verifier
}

// ParseLogs parses a witness's logs file: one log per line as "log <note verifier key>
// [<origin>]" (the origin, which may contain spaces, defaults to the key's name); blank lines
// and lines starting with '#' are ignored. A malformed line, bad key or repeated origin is an
// error naming the line.
func ParseLogs(text []byte) ([]Log, error) {
	var out []Log
	seen := map[string]int{}
	for i, line := range strings.Split(string(text), "\n") {
		ln := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "log" {
			return nil, fmt.Errorf("logs line %d: want \"log <note verifier key> [<origin>]\"", ln)
		}
		v, err := note.NewVerifier(f[1])
		if err != nil {
			return nil, fmt.Errorf("logs line %d: bad note verifier key %q: %v", ln, f[1], err)
		}
		origin := v.Name()
		if len(f) > 2 {
			origin = strings.TrimSpace(line[strings.Index(line, f[1])+len(f[1]):])
		}
		if prev, dup := seen[origin]; dup {
			return nil, fmt.Errorf("logs line %d: origin %q already configured on line %d", ln, origin, prev)
		}
		seen[origin] = ln
		out = append(out, Log{Origin: origin, Key: f[1], Verifier: v})
	}
	return out, nil
}

// LogState is what the witness remembers about one log: the last checkpoint it cosigned.
type LogState struct {
	Size       int64     `json:"size"`
	Root       tlog.Hash `json:"root"`
	Checkpoint string    `json:"checkpoint"`
}

// State is the witness's persistent state, stored as JSON.
type State struct {
	Logs map[string]LogState `json:"logs"`
}

// Witness is an HTTP handler for POST .../add-checkpoint. It is safe for concurrent use: checking
// a request against the stored state and persisting the new state happen under one lock.
type Witness struct {
	signer    note.Signer
	logs      map[string]Log
	statePath string
	log       *slog.Logger

	mu    sync.Mutex
	state State
}

// New returns a witness that cosigns with signer (a verify.NewCosignatureSigner) for the given
// logs, keeping its state in the JSON file statePath (created on the first cosignature; loaded
// now if it exists). logger may be nil.
func New(signer note.Signer, logs []Log, statePath string, logger *slog.Logger) (*Witness, error) {
	if signer == nil {
		return nil, errors.New("witness: no signer")
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &Witness{signer: signer, logs: map[string]Log{}, statePath: statePath, log: logger, state: State{Logs: map[string]LogState{}}}
	for _, l := range logs {
		if _, dup := w.logs[l.Origin]; dup {
			return nil, fmt.Errorf("witness: origin %q configured twice", l.Origin)
		}
		w.logs[l.Origin] = l
	}
	b, err := os.ReadFile(statePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &w.state); err != nil {
			return nil, fmt.Errorf("witness: state file %s: %v", statePath, err)
		}
		if w.state.Logs == nil {
			w.state.Logs = map[string]LogState{}
		}
	}
	return w, nil
}

// Sizes returns a copy of the stored size for each witnessed origin.
func (w *Witness) Sizes() map[string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int64, len(w.state.Logs))
	for o, s := range w.state.Logs {
		out[o] = s.Size
	}
	return out
}

// MaxRequestSize bounds an add-checkpoint request body in bytes.
const MaxRequestSize = 128 << 10

// MaxProofLines is the most consistency proof lines a request may carry (C2SP tlog-witness).
const MaxProofLines = 63

// SizeContentType is the Content-Type of a 409 response carrying the witness's size.
const SizeContentType = "text/x.tlog.size"

// AddCheckpointRequest is a parsed add-checkpoint request body.
type AddCheckpointRequest struct {
	OldSize    int64
	Proof      []tlog.Hash
	Checkpoint []byte // the signed checkpoint note
}

// FormatAddCheckpoint returns the add-checkpoint request body: "old <size>\n", one standard
// base64 proof hash per line, an empty line, then the signed checkpoint.
func FormatAddCheckpoint(oldSize int64, proof []tlog.Hash, signedCheckpoint []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", oldSize)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(signedCheckpoint)
	return b.Bytes()
}

// ParseAddCheckpoint parses an add-checkpoint request body strictly: an "old <size>" line (a
// decimal without leading zeros), at most MaxProofLines canonical base64 32-byte hashes, an
// empty line, and a non-empty checkpoint.
func ParseAddCheckpoint(body []byte) (*AddCheckpointRequest, error) {
	if len(body) > MaxRequestSize {
		return nil, fmt.Errorf("request of %d bytes, more than %d", len(body), MaxRequestSize)
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok || !bytes.HasPrefix(line, []byte("old ")) {
		return nil, errors.New(`first line must be "old <size>"`)
	}
	old, err := strconv.ParseInt(string(line[4:]), 10, 64)
	if err != nil || old < 0 || strconv.FormatInt(old, 10) != string(line[4:]) {
		return nil, fmt.Errorf("bad old size %q", line[4:])
	}
	req := &AddCheckpointRequest{OldSize: old}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, errors.New("missing the empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(req.Proof) == MaxProofLines {
			return nil, fmt.Errorf("more than %d proof lines", MaxProofLines)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(b) != tlog.HashSize || base64.StdEncoding.EncodeToString(b) != string(line) {
			return nil, fmt.Errorf("proof line %d is not a base64 32-byte hash", len(req.Proof)+1)
		}
		req.Proof = append(req.Proof, tlog.Hash(b))
	}
	if len(rest) == 0 {
		return nil, errors.New("missing checkpoint")
	}
	req.Checkpoint = rest
	return req, nil
}

// httpError is a response status with a message.
type httpError struct {
	code int
	msg  string
}

func (w *Witness) fail(rw http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.log.Info("witness: rejected checkpoint", "status", code, "reason", msg)
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.WriteHeader(code)
	io.WriteString(rw, msg+"\n")
}

// ServeHTTP serves POST <prefix>/add-checkpoint (any path ending in /add-checkpoint) per C2SP
// tlog-witness: 200 with the cosignature line ("— <name> <base64>\n") on success; 400 for a
// malformed request or an old size larger than the checkpoint's; 404 for an unknown origin;
// 403 when no signature by the log's key verifies; 409 (Content-Type text/x.tlog.size, body
// "<size>\n") when the old size is not the size the witness last cosigned, or the sizes are
// equal but the roots differ; 422 when the consistency proof does not verify; 405 for other
// methods and 404 for other paths.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/add-checkpoint") {
		http.NotFound(rw, r)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		w.fail(rw, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestSize+1))
	if err != nil {
		w.fail(rw, http.StatusBadRequest, "reading the request: %v", err)
		return
	}
	cosig, herr := w.add(body)
	if herr != nil && herr.code == http.StatusConflict {
		w.log.Info("witness: conflict", "size", herr.msg)
		rw.Header().Set("Content-Type", SizeContentType)
		rw.WriteHeader(http.StatusConflict)
		io.WriteString(rw, herr.msg+"\n")
		return
	}
	if herr != nil {
		w.fail(rw, herr.code, "%s", herr.msg)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.WriteHeader(http.StatusOK)
	rw.Write(cosig)
}

// ConflictError is the outcome of a request whose old size does not match the witness's stored
// size for the log (or whose equal-size root differs): Size is the witness's size.
type ConflictError struct {
	Size int64
}

// Error reports the witness's size.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("witness: conflict: the witness's latest cosigned size is %d", e.Size)
}

// add processes a request body; it returns the cosignature line(s) or the error response.
func (w *Witness) add(body []byte) ([]byte, *httpError) {
	req, err := ParseAddCheckpoint(body)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "malformed request: " + err.Error()}
	}
	// Find the origin before verifying: the first line of the note.
	origin, _, _ := bytes.Cut(req.Checkpoint, []byte("\n"))
	lg, ok := w.logs[string(origin)]
	if !ok {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("unknown log origin %q", origin)}
	}
	n, err := note.Open(req.Checkpoint, note.VerifierList(lg.Verifier))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return nil, &httpError{http.StatusForbidden, "the checkpoint has no valid signature by the log's key"}
		}
		return nil, &httpError{http.StatusBadRequest, "malformed checkpoint note: " + err.Error()}
	}
	c, err := verify.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, err.Error()}
	}
	if c.Origin != lg.Origin {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("unknown log origin %q", c.Origin)}
	}
	if req.OldSize > c.Size {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("old size %d is larger than the checkpoint's size %d", req.OldSize, c.Size)}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state.Logs[c.Origin]
	if req.OldSize != st.Size {
		return nil, &httpError{http.StatusConflict, strconv.FormatInt(st.Size, 10)}
	}
	switch {
	case req.OldSize == c.Size:
		if st.Size > 0 && st.Root != c.Hash {
			return nil, &httpError{http.StatusConflict, strconv.FormatInt(st.Size, 10)}
		}
		if len(req.Proof) != 0 {
			return nil, &httpError{http.StatusUnprocessableEntity, "the consistency proof between equal sizes must be empty"}
		}
	case req.OldSize == 0:
		if len(req.Proof) != 0 {
			return nil, &httpError{http.StatusUnprocessableEntity, "the consistency proof from size 0 must be empty"}
		}
	default:
		if err := tlog.CheckTree(tlog.TreeProof(req.Proof), c.Size, c.Hash, req.OldSize, st.Root); err != nil {
			w.log.Warn("witness: consistency proof failed (possible log misbehaviour)", "origin", c.Origin,
				"old_size", req.OldSize, "old_root", st.Root.String(), "checkpoint", string(req.Checkpoint))
			return nil, &httpError{http.StatusUnprocessableEntity, fmt.Sprintf("the consistency proof from %d to %d does not verify", req.OldSize, c.Size)}
		}
	}
	// Sign before persisting, so that a signing failure leaves the state unchanged.
	signed, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, &httpError{http.StatusInternalServerError, "signing failed"}
	}
	_, sigs, _ := bytes.Cut(signed, []byte("\n\n"))
	next := State{Logs: make(map[string]LogState, len(w.state.Logs)+1)}
	for o, s := range w.state.Logs {
		next.Logs[o] = s
	}
	next.Logs[c.Origin] = LogState{Size: c.Size, Root: c.Hash, Checkpoint: string(req.Checkpoint)}
	if err := w.persist(next); err != nil {
		w.log.Error("witness: cannot persist state", "err", err)
		return nil, &httpError{http.StatusInternalServerError, "cannot persist the witness state"}
	}
	w.state = next
	w.log.Info("witness: cosigned", "origin", c.Origin, "size", c.Size)
	return sigs, nil
}

// persist writes the state as JSON to a temporary file, fsyncs it, renames it over the state
// file and fsyncs the directory.
func (w *Witness) persist(s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(w.statePath)
	f, err := os.CreateTemp(dir, "."+filepath.Base(w.statePath)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err == nil {
		err = os.Rename(tmp, w.statePath)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readSigLines checks that b is one or more note signature lines ("— <name> <base64>\n").
func readSigLines(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty response")
	}
	if b[len(b)-1] != '\n' {
		return errors.New("response does not end in a newline")
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "— ")
		name, sig, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || name == "" || sig == "" {
			return fmt.Errorf("not a signature line: %q", line)
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(sig); err != nil {
			return fmt.Errorf("signature line %q: %v", line, err)
		}
	}
	return sc.Err()
}
