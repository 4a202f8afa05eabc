package witness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// StatusError is an unexpected HTTP response from a witness.
type StatusError struct {
	Code int
	Body string
}

// Error returns the status code and the response body.
func (e *StatusError) Error() string {
	return fmt.Sprintf("witness: HTTP %d: %s", e.Code, strings.TrimSpace(e.Body))
}

// Request asks the witness at url to cosign signedCheckpoint, given the size of the last
// checkpoint the caller believes the witness cosigned (oldSize) and the consistency proof from
// that size to the checkpoint's (tlog.ProveTree; empty when oldSize is 0 or equal to the
// checkpoint's size). url is the witness's submission prefix; the request goes to
// url + "/add-checkpoint" (url may also be the full add-checkpoint URL). It returns the response
// body on 200: one or more note signature lines, checked for syntax only (the caller verifies
// them with the witness's key, for example by appending them to the checkpoint and running
// verify.VerifyCheckpoint). On 409 it returns a *ConflictError carrying the witness's size, so
// the caller can retry with a proof from that size; any other status is a *StatusError.
func Request(ctx context.Context, hc *http.Client, url string, oldSize int64, proof []tlog.Hash, signedCheckpoint []byte) (cosignatureLines []byte, err error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if !strings.HasSuffix(url, "/add-checkpoint") {
		url = strings.TrimSuffix(url, "/") + "/add-checkpoint"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(FormatAddCheckpoint(oldSize, proof, signedCheckpoint)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10+1))
	if err != nil {
		return nil, fmt.Errorf("witness: reading the response: %w", err)
	}
	if len(body) > 64<<10 {
		return nil, fmt.Errorf("witness: response larger than 64 KiB")
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := readSigLines(body); err != nil {
			return nil, fmt.Errorf("witness: malformed cosignature response: %w", err)
		}
		return body, nil
	case http.StatusConflict:
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		s := strings.TrimSuffix(string(body), "\n")
		n, perr := strconv.ParseInt(s, 10, 64)
		if ct != SizeContentType || perr != nil || n < 0 || strconv.FormatInt(n, 10) != s {
			return nil, &StatusError{Code: resp.StatusCode, Body: string(body)}
		}
		return nil, &ConflictError{Size: n}
	}
	return nil, &StatusError{Code: resp.StatusCode, Body: string(body)}
}

// MergeCosignatures appends to a signed checkpoint the signature lines (as returned by Request)
// that it does not already carry, and returns the new note. It checks the lines' syntax only;
// verify the result with verify.VerifyCheckpoint.
func MergeCosignatures(signedCheckpoint []byte, lines ...[]byte) ([]byte, error) {
	if !bytes.HasSuffix(signedCheckpoint, []byte("\n")) || !bytes.Contains(signedCheckpoint, []byte("\n\n")) {
		return nil, fmt.Errorf("witness: not a signed note")
	}
	out := bytes.Clone(signedCheckpoint)
	have := map[string]bool{}
	_, sigs, _ := bytes.Cut(signedCheckpoint[bytes.LastIndex(signedCheckpoint, []byte("\n\n")):], []byte("\n\n"))
	for _, l := range strings.SplitAfter(string(sigs), "\n") {
		have[l] = true
	}
	for _, b := range lines {
		if err := readSigLines(b); err != nil {
			return nil, fmt.Errorf("witness: %w", err)
		}
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if l != "" && !have[l] {
				have[l] = true
				out = append(out, l...)
			}
		}
	}
	return out, nil
}
