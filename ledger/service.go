// Package ledger runs the pool ledgers of a Reclaim node: it wires package tlog's sequencer and
// publisher to the database (sqldb), the witnesses (tlog/witness, over HTTP) and the live-event
// broker, and implements the API's httpapi.LedgerService.
package ledger

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/date"
	"reclaim/events"
	"reclaim/sqldb"
	"reclaim/tlog"
	"reclaim/tlog/verify"
	"reclaim/tlog/witness"
)

// httpWitness is a configured witness reached over HTTP (C2SP tlog-witness).
type httpWitness struct {
	name, url, vkey string
	hc              *http.Client
}

func (w *httpWitness) Name() string { return w.name }

func (w *httpWitness) AddCheckpoint(ctx context.Context, old int64, proof []tlog.Hash, signed []byte) ([]byte, error) {
	sig, err := witness.Request(ctx, w.hc, w.url, old, proof, signed)
	var ce *witness.ConflictError
	if errors.As(err, &ce) {
		return nil, &tlog.SizeConflict{Size: ce.Size}
	}
	return sig, err
}

func readWitnesses(path string) ([]*httpWitness, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("witness list: %w", err)
	}
	defer f.Close()
	var out []*httpWitness
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) != 3 {
			return nil, fmt.Errorf("witness list %s line %d: want '<name> <url> <vkey>'", path, n)
		}
		if _, err := verify.NewCosignatureVerifier(parts[2]); err != nil {
			return nil, fmt.Errorf("witness list %s line %d: %v", path, n, err)
		}
		out = append(out, &httpWitness{name: parts[0], url: parts[1], vkey: parts[2], hc: &http.Client{Timeout: 10 * time.Second}})
	}
	return out, sc.Err()
}

// Service runs the sequencer and publisher over the database and serves the API's ledger
// routes.
type Service struct {
	db        *sqldb.DB
	broker    *events.Broker
	log       *slog.Logger
	pub       *tlog.Publisher
	vkey      string
	origin    string
	witnesses []*httpWitness
	kick      chan struct{}
	interval  time.Duration

	mu        sync.Mutex
	published map[string]int64 // pool -> size of the last checkpoint published by this node

	lead leadership // this node's lease on the ledger role (leader.go)
	m    *metrics
}

// Config configures a Service.
type Config struct {
	// KeyFile holds the checkpoint signing key (note signer key; never in the database); its
	// verifier key is KeyFile + ".pub".
	KeyFile string
	// CreateKey generates KeyFile (named Origin) when it does not exist.
	CreateKey bool
	// Origin is the origin prefix: a pool's checkpoint origin is Origin + "/" + pool.
	Origin string
	// WitnessFile lists witnesses, one "<name> <add-checkpoint URL> <cosignature vkey>" per line.
	WitnessFile string
	// Quorum is how many witness cosignatures a checkpoint needs to be published.
	Quorum int
	// Interval is how often grown logs get a new checkpoint (default 5s).
	Interval time.Duration
	// Created, when set, is told the verifier key of a key it generated.
	Created func(path, vkey string)
	// Node names this node in the leader lease and the logs (default: host name, process id and
	// a random suffix; it must differ between nodes).
	Node string
	// LeaseTTL is how long the leader's lease lasts without renewal: the failover time after a
	// leader dies (default 5s).
	LeaseTTL time.Duration
	// StateFile is the publisher's memory of what it signed (default KeyFile + ".state.json").
	StateFile string
	// Signed, when set, is told of every checkpoint signature this node makes (audit, tests).
	Signed func(node, origin string, size int64)
}

// New opens the signing key and the witness list.
func New(db *sqldb.DB, broker *events.Broker, log *slog.Logger, f Config) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	path := f.KeyFile
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && f.CreateKey {
		vkey, err := tlog.GenerateKey(f.Origin, path)
		if err != nil {
			return nil, err
		}
		if f.Created != nil {
			f.Created(path, vkey)
		}
	}
	signer, err := tlog.LoadSigner(path)
	if err != nil {
		return nil, err
	}
	vkeyBytes, err := os.ReadFile(path + ".pub")
	if err != nil {
		return nil, fmt.Errorf("ledger verifier key %s.pub: %w", path, err)
	}
	vkey := strings.TrimSpace(string(vkeyBytes))
	if v, err := note.NewVerifier(vkey); err != nil || v.KeyHash() != signer.KeyHash() || v.Name() != signer.Name() {
		return nil, fmt.Errorf("ledger verifier key %s.pub does not match the signing key", path)
	}
	ws, err := readWitnesses(f.WitnessFile)
	if err != nil {
		return nil, err
	}
	if f.Quorum > len(ws) {
		return nil, reclaim.Errorf(reclaim.EINVALID, "witness quorum %d is more than the %d configured witnesses", f.Quorum, len(ws))
	}
	tw := make([]tlog.Witness, len(ws))
	for i, w := range ws {
		tw[i] = w
	}
	if f.Interval <= 0 {
		f.Interval = 5 * time.Second
	}
	if f.StateFile == "" {
		f.StateFile = path + ".state.json"
	}
	s := &Service{db: db, broker: broker, log: log, vkey: vkey, origin: f.Origin, witnesses: ws,
		kick: make(chan struct{}, 1), interval: f.Interval, published: map[string]int64{}}
	s.initLeadership(f)
	s.pub = &tlog.Publisher{Signer: s.auditSigner(signer, f.Signed), Source: sqldb.LedgerSource{DB: db}, Witnesses: tw, Quorum: f.Quorum,
		State: &tlog.FileState{Path: f.StateFile}, Claim: s.claim}
	return s, nil
}

// Kick wakes the sequencer (after a local business change queued entries).
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) publishAll(ctx context.Context) {
	pools, err := s.db.LedgerPools(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("checkpoints not published: cannot list pools", "err", err)
		}
		return
	}
	for _, p := range pools {
		s.mu.Lock()
		last, seen := s.published[p.Pool]
		s.mu.Unlock()
		if seen && last == p.Size {
			continue
		}
		if _, err := s.Publish(ctx, p.Pool); err != nil && ctx.Err() == nil {
			if errors.Is(err, sqldb.ErrSignedElsewhere) {
				// Another node signed this size (a previous leader): wait for the tree to grow.
				s.mu.Lock()
				s.published[p.Pool] = p.Size
				s.mu.Unlock()
			}
			s.log.Error("checkpoint not published", "node", s.lead.node, "pool", p.Pool, "err", err)
		}
	}
}

// Publish signs a checkpoint of the pool now (httpapi.LedgerService).
// Only the leader signs: a node that does not lead takes the lease for the call when no node
// holds it, and otherwise refuses (ECONFLICT wrapping sqldb.ErrNotLeader).
func (s *Service) Publish(ctx context.Context, pool string) (tlog.Published, error) {
	release, err := s.leadOnce(ctx)
	if err != nil {
		return tlog.Published{}, err
	}
	defer release()
	pub, err := s.pub.Publish(ctx, pool)
	if err != nil {
		if errors.Is(err, tlog.ErrFork) || errors.Is(err, tlog.ErrRollback) {
			return pub, reclaim.WrapError(reclaim.ECONFLICT, err, "refusing to sign: %v", err)
		}
		if errors.Is(err, tlog.ErrQuorum) {
			return pub, reclaim.WrapError(reclaim.EUNAVAILABLE, err, "%v", err)
		}
		return pub, err
	}
	s.mu.Lock()
	s.published[pool] = pub.Size
	s.mu.Unlock()
	if s.broker != nil {
		s.broker.Publish(ctx, "ledger."+pool, "checkpoint", map[string]any{"size": pub.Size, "root": pub.Root, "cosigners": pub.Cosigners})
	}
	return pub, nil
}

func (s *Service) Pools(ctx context.Context) ([]tlog.Pool, error) { return s.db.LedgerPools(ctx) }
func (s *Service) Pool(ctx context.Context, pool string) (tlog.Pool, error) {
	return s.db.LedgerPool(ctx, pool)
}
func (s *Service) Head(ctx context.Context, pool string) (tlog.Head, error) {
	return s.db.LedgerHead(ctx, pool)
}
func (s *Service) LatestCheckpoint(ctx context.Context, pool string) (tlog.StoredCheckpoint, error) {
	return s.db.LatestCheckpoint(ctx, pool)
}
func (s *Service) Leaves(ctx context.Context, pool string, before int64, limit int) ([]tlog.Leaf, error) {
	return s.db.LedgerLeaves(ctx, pool, before, limit)
}
func (s *Service) LeafByEvent(ctx context.Context, pool, eventID string) (tlog.Leaf, error) {
	return s.db.LedgerLeafByEvent(ctx, pool, eventID)
}
func (s *Service) Entries(ctx context.Context, pool string, from, to int64) ([][]byte, error) {
	return s.db.LedgerEntries(ctx, pool, from, to)
}
func (s *Service) Hashes(ctx context.Context, pool string) sumtlog.HashReader {
	return s.db.LedgerHashes(ctx, pool)
}
func (s *Service) Reports(ctx context.Context, pool string) ([]tlog.PeriodReport, error) {
	return s.db.PeriodReports(ctx, pool)
}
func (s *Service) PostCollection(ctx context.Context, c tlog.Collection) (string, error) {
	id, err := s.db.PostCollection(ctx, c)
	if err == nil {
		s.Kick()
	}
	return id, err
}
func (s *Service) ClosePeriod(ctx context.Context, pool string, start, end date.Date) (tlog.PeriodReport, error) {
	r, err := s.db.ClosePeriod(ctx, pool, start, end, end)
	if err == nil {
		s.Kick()
	}
	return r, err
}
func (s *Service) RecordCashStatement(ctx context.Context, st tlog.CashStatement) (string, error) {
	id, err := s.db.RecordCashStatement(ctx, st)
	if err == nil {
		s.Kick()
	}
	return id, err
}
func (s *Service) VerifierKey() string { return s.vkey }
func (s *Service) Quorum() int         { return s.pub.Quorum }
func (s *Service) Witnesses() []tlog.WitnessInfo {
	out := []tlog.WitnessInfo{}
	for _, w := range s.witnesses {
		out = append(out, tlog.WitnessInfo{Name: w.name, VKey: w.vkey})
	}
	return out
}

// SequenceAndPublish drains the outbox and publishes a checkpoint of every pool (CLI commands).
// It takes the leader lease for the duration; when a running node leads, that node does the work
// and SequenceAndPublish returns an error wrapping sqldb.ErrNotLeader.
func (s *Service) SequenceAndPublish(ctx context.Context) error {
	release, err := s.leadOnce(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.sequenceAll(ctx)
	pools, err := s.db.LedgerPools(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range pools {
		if _, err := s.Publish(ctx, p.Pool); err != nil {
			errs = append(errs, fmt.Errorf("pool %s: %w", p.Pool, err))
		}
	}
	return errors.Join(errs...)
}

// Origin is the origin prefix; a pool's origin is Origin() + "/" + pool.
func (s *Service) Origin() string { return s.origin }

// PolicyFile returns the investors' policy file for a pool served at base (the server's URL).
func (s *Service) PolicyFile(p tlog.Pool, base string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# reclaim-verify policy for pool %s\nlog %s\norigin %s\nurl %s/ledger/%s/\n", p.Pool, s.vkey, p.Origin, strings.TrimSuffix(base, "/"), p.Pool)
	for _, w := range s.witnesses {
		fmt.Fprintf(&b, "witness %s\n", w.vkey)
	}
	fmt.Fprintf(&b, "quorum %d\n", s.pub.Quorum)
	return b.String()
}
