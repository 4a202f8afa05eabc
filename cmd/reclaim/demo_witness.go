package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"reclaim/tlog/verify"
	"reclaim/tlog/witness"
)

// demoWitnessName is the key name of the demo's local witness (a cosignature/v1 key).
const demoWitnessName = "demo-witness.reclaim.local"

// Files of the demo witness in the data directory. The secret key is created once (mode 0600)
// and reused by every later run; the state file is the witness's memory of the last checkpoint
// it cosigned for each pool; the list file is what the ledger service reads (--witnesses).
const (
	demoWitnessKeyFile   = "demo-witness.key"
	demoWitnessVKeyFile  = "demo-witness.vkey"
	demoWitnessStateFile = "demo-witness.state.json"
	demoWitnessListFile  = "demo-witnesses.txt"
)

// demoWitness is a C2SP tlog-witness run inside the demo process on a loopback port. It is a
// stand-in for the trustee's or an investor representative's witness: it has its own key, keeps
// its own state, and cosigns a pool checkpoint only after checking the log's signature and a
// consistency proof from the last checkpoint it cosigned, so the default demo already resists
// a full rollback of its log.
type demoWitness struct {
	VKey     string // the witness's cosignature verifier key (for investors' policy files)
	URL      string // its add-checkpoint URL on 127.0.0.1
	ListFile string // the witness list file naming it, for ledger.Config.WitnessFile
	srv      *http.Server
	done     chan error
}

// loadDemoWitnessKey returns the demo witness's secret and verifier key, generating them in dir
// on the first run (the secret key file is created with O_EXCL and mode 0600, never replaced).
func loadDemoWitnessKey(dir string) (skey, vkey string, err error) {
	kp, vp := filepath.Join(dir, demoWitnessKeyFile), filepath.Join(dir, demoWitnessVKeyFile)
	b, err := os.ReadFile(kp)
	if errors.Is(err, os.ErrNotExist) {
		skey, vkey, err := verify.GenerateCosignatureKey(demoWitnessName)
		if err != nil {
			return "", "", err
		}
		if err := writeNewFile(kp, skey+"\n", 0o600); err != nil {
			return "", "", fmt.Errorf("demo witness key: %w", err)
		}
		if err := os.WriteFile(vp, []byte(vkey+"\n"), 0o644); err != nil {
			return "", "", fmt.Errorf("demo witness key: %w", err)
		}
		return skey, vkey, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("demo witness key: %w", err)
	}
	skey = strings.TrimSpace(string(b))
	vb, err := os.ReadFile(vp)
	if err != nil {
		return "", "", fmt.Errorf("demo witness verifier key: %w", err)
	}
	vkey = strings.TrimSpace(string(vb))
	// The two files must belong together: a signature by the secret key verifies under vkey.
	signer, err := verify.NewCosignatureSignerFromKey(skey, time.Now)
	if err != nil {
		return "", "", fmt.Errorf("demo witness key %s: %v", kp, err)
	}
	v, err := verify.NewCosignatureVerifier(vkey)
	if err != nil || v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() {
		return "", "", fmt.Errorf("demo witness verifier key %s does not match the secret key %s", vp, kp)
	}
	return skey, vkey, nil
}

func writeNewFile(path, content string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err2 := f.Sync(); err == nil {
		err = err2
	}
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// startDemoWitness starts the demo witness for the logs signed by logVKey whose origins start
// with originPrefix + "/" (every pool of this node, including pools opened after it started),
// listening on 127.0.0.1 on a free port, and writes the witness list file naming it. Stop it
// with Close.
func startDemoWitness(dataDir, logVKey, originPrefix string) (*demoWitness, error) {
	skey, vkey, err := loadDemoWitnessKey(dataDir)
	if err != nil {
		return nil, err
	}
	signer, err := verify.NewCosignatureSignerFromKey(skey, time.Now)
	if err != nil {
		return nil, err
	}
	logV, err := note.NewVerifier(logVKey)
	if err != nil {
		return nil, fmt.Errorf("demo witness: the log key: %v", err)
	}
	h := &prefixWitness{signer: signer, logKey: logVKey, logV: logV, prefix: originPrefix + "/",
		state: filepath.Join(dataDir, demoWitnessStateFile), known: map[string]bool{}}
	if err := h.rebuild(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo witness: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /add-checkpoint", h)
	d := &demoWitness{VKey: vkey, URL: "http://" + ln.Addr().String() + "/add-checkpoint", ListFile: filepath.Join(dataDir, demoWitnessListFile),
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second},
		done: make(chan error, 1)}
	list := fmt.Sprintf("# written by 'reclaim demo': the demo's local witness (its key is %s)\n%s %s %s\n",
		demoWitnessKeyFile, demoWitnessName, d.URL, vkey)
	if err := os.WriteFile(d.ListFile, []byte(list), 0o644); err != nil {
		ln.Close()
		return nil, err
	}
	go func() { d.done <- d.srv.Serve(ln) }()
	return d, nil
}

// Close stops the witness server.
func (d *demoWitness) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	if e := <-d.done; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// prefixWitness is a witness.Witness for every origin under prefix signed by the one log key: a
// request for an origin it does not know yet (a pool opened after the witness started) adds
// that origin, reloading the witness from its state file. Requests are served one at a time.
type prefixWitness struct {
	mu     sync.Mutex
	w      *witness.Witness
	signer note.Signer
	logKey string
	logV   note.Verifier
	prefix string
	state  string
	known  map[string]bool
}

func (p *prefixWitness) rebuild() error {
	var logs []witness.Log
	for o := range p.known {
		logs = append(logs, witness.Log{Origin: o, Key: p.logKey, Verifier: p.logV})
	}
	w, err := witness.New(p.signer, logs, p.state, nil)
	if err != nil {
		return err
	}
	p.w = w
	return nil
}

func (p *prefixWitness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(rw, "cannot read the request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if req, err := witness.ParseAddCheckpoint(body); err == nil {
		origin, _, _ := bytes.Cut(req.Checkpoint, []byte("\n"))
		o := string(origin)
		if strings.HasPrefix(o, p.prefix) && len(o) > len(p.prefix) && !p.known[o] {
			p.known[o] = true
			if err := p.rebuild(); err != nil {
				delete(p.known, o)
				http.Error(rw, "witness unavailable", http.StatusServiceUnavailable)
				return
			}
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.w.ServeHTTP(rw, r)
}

// useDemoWitness starts the demo witness for this node's ledger key and points f at it with a
// quorum of 1 (at least), unless f already names witnesses (then it returns nil). The ledger
// key is created here when it does not exist yet, as the ledger service would.
func useDemoWitness(g *globals, a *app, f *ledgerFlags) (*demoWitness, error) {
	if f.witnesses != "" {
		return nil, nil
	}
	boot := *f
	boot.quorum = 0
	s, err := newLedgerService(g, a, boot, nil, g.log)
	if err != nil {
		return nil, err
	}
	d, err := startDemoWitness(g.dataDir, s.VerifierKey(), s.Origin())
	if err != nil {
		return nil, err
	}
	f.witnesses = d.ListFile
	f.quorum = max(f.quorum, 1)
	return d, nil
}
