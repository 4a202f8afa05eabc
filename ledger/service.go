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
	state     tlog.State
	auditRate int64
	auditGap  time.Duration
	now       func() time.Time
	keyFile   string
	keysMu    sync.Mutex
	keys      map[string]note.Signer // verifier key -> signer

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
	// ExtraKeyFiles are more signing keys (each with its .pub): pools whose recorded key is one
	// of them are signed with it (pools not yet moved to KeyFile's key by a rotation).
	ExtraKeyFiles []string
	// AuditRate is how many entries per second the scheduled store audit recomputes (default
	// 2,000; negative disables the scheduled audit).
	AuditRate int64
	// AuditEvery is how often a full audit pass starts over from entry 0 (default 1h); between
	// passes the audit follows the log's growth.
	AuditEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
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
	ctx := context.Background()
	path := f.KeyFile
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// A key is created only for a database without pools: a pool's log is signed by the
		// key recorded for it, and a new key would sign checkpoints no investor accepts.
		pools, err := db.LedgerPools(ctx)
		if err != nil {
			return nil, err
		}
		if len(pools) > 0 {
			return nil, reclaim.Errorf(sqldb.ErrWrongKey, "the ledger signing key %s does not exist, but this database holds %d pool ledgers (%s) signed with a key: "+
				"restore the key file (and its .pub) from its backup and give it with --ledger-key; a new key is never created for existing pools, "+
				"and a pool's key changes only with 'reclaim ledger rotate-key', signed by the old key", path, len(pools), poolNames(pools))
		}
		if !f.CreateKey {
			return nil, reclaim.Errorf(reclaim.EINVALID, "the ledger signing key %s does not exist", path)
		}
		vkey, err := tlog.GenerateKey(f.Origin, path)
		if err != nil {
			return nil, err
		}
		if f.Created != nil {
			f.Created(path, vkey)
		}
	}
	signer, vkey, err := loadKey(path)
	if err != nil {
		return nil, err
	}
	keys := map[string]note.Signer{vkey: signer}
	for _, extra := range f.ExtraKeyFiles {
		sg, vk, err := loadKey(extra)
		if err != nil {
			return nil, err
		}
		keys[vk] = sg
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
	if f.AuditRate == 0 {
		f.AuditRate = 2000
	}
	if f.AuditEvery <= 0 {
		f.AuditEvery = time.Hour
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	if f.StateFile == "" {
		f.StateFile = path + ".state.json"
	}
	state := &multiState{primary: &tlog.FileState{Path: f.StateFile}}
	for _, extra := range f.ExtraKeyFiles {
		state.others = append(state.others, &tlog.FileState{Path: extra + ".state.json"})
	}
	s := &Service{db: db, broker: broker, log: log, vkey: vkey, origin: f.Origin, witnesses: ws,
		kick: make(chan struct{}, 1), interval: f.Interval, published: map[string]int64{},
		state: state, auditRate: f.AuditRate, auditGap: f.AuditEvery, now: f.Now, keys: keys, keyFile: path}
	s.initLeadership(f)
	s.pub = &tlog.Publisher{Signer: s.auditSigner(signer, f.Signed), Source: sqldb.LedgerSource{DB: db}, Witnesses: tw, Quorum: f.Quorum,
		State: state, Claim: s.claim,
		SignerFor: func(ctx context.Context, pool string) (note.Signer, error) {
			sg, err := s.signerFor(ctx, pool)
			if err != nil {
				return nil, err
			}
			return s.auditSigner(sg, f.Signed), nil
		}}
	if err := s.checkKeys(ctx); err != nil {
		return nil, err
	}
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

// Publish signs a checkpoint of the pool now (httpapi.LedgerService). Only the leader signs: a
// node that does not lead takes the lease for the call when no node holds it, and otherwise
// refuses (ECONFLICT wrapping sqldb.ErrNotLeader). A pool whose store was found damaged (by the
// audit, fsck or the publisher's own check of the new batch) is not signed until 'reclaim ledger
// fsck' finds it clean. Entries queued before the call are sequenced first, so the checkpoint
// covers everything posted before it was asked for.
func (s *Service) Publish(ctx context.Context, pool string) (tlog.Published, error) {
	release, err := s.leadOnce(ctx)
	if err != nil {
		return tlog.Published{}, err
	}
	defer release()
	s.sequenceAll(ctx)
	in, err := s.db.PoolIntegrity(ctx, pool)
	if err != nil {
		return tlog.Published{}, err
	}
	if in.Damaged {
		return tlog.Published{}, reclaim.WrapError(reclaim.ECONFLICT, in.Report,
			"refusing to sign pool %s: its stored log is damaged (%v); repair it and run 'reclaim ledger fsck %s'", pool, in.Report, pool)
	}
	pub, err := s.pub.Publish(ctx, pool)
	var ie *tlog.IntegrityError
	if errors.As(err, &ie) {
		s.damaged(ctx, ie)
		return pub, reclaim.WrapError(reclaim.ECONFLICT, err, "refusing to sign: %v", err)
	}
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

// PoolLoans pages through a pool's loans in reference order (ENOTFOUND for an unknown pool).
func (s *Service) PoolLoans(ctx context.Context, pool string, offset, limit int) ([]tlog.PoolLoan, int64, error) {
	if _, err := s.db.LedgerPool(ctx, pool); err != nil {
		return nil, 0, err
	}
	return s.db.PoolLoans(ctx, pool, offset, limit)
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
	vkey := s.vkey
	if k, err := s.PoolVerifierKey(context.Background(), p.Pool); err == nil {
		vkey = k // the pool's current key (after a rotation, the new one)
	}
	fmt.Fprintf(&b, "# reclaim-verify policy for pool %s\nlog %s\norigin %s\nurl %s/ledger/%s/\n", p.Pool, vkey, p.Origin, strings.TrimSuffix(base, "/"), p.Pool)
	for _, w := range s.witnesses {
		fmt.Fprintf(&b, "witness %s\n", w.vkey)
	}
	fmt.Fprintf(&b, "quorum %d\n", s.pub.Quorum)
	return b.String()
}

// damaged records and reports a damaged pool store.
func (s *Service) damaged(ctx context.Context, ie *tlog.IntegrityError) {
	s.log.Error("ledger store damaged: signing stopped", "pool", ie.Pool, "mismatches", len(ie.Mismatches), "report", ie.Error())
	if err := s.db.MarkDamaged(ctx, ie.Pool, ie); err != nil {
		s.log.Error("recording a damaged ledger failed", "pool", ie.Pool, "err", err)
	}
	if s.broker != nil {
		s.broker.Publish(ctx, "ledger."+ie.Pool, "integrity", ie)
	}
}

// anchor returns the last checkpoint this node's publisher signed for the pool (from its own
// state file, not the database), which the recomputed tree must reproduce.
func (s *Service) anchor(pool string) (*tlog.Anchor, error) {
	last, ok, err := s.state.Last(pool)
	if err != nil || !ok {
		return nil, err
	}
	return &tlog.Anchor{Size: last.Size, Root: last.Root}, nil
}

// AuditTick runs one rate-limited step of the scheduled store audit: at most budget entries in
// all, spread over the pools in turn. Each pool's cursor is stored, so the audit resumes where it
// stopped after a restart; a pass that reached the end of a log follows its growth, and starts
// over from entry 0 once AuditEvery has passed since it began. A mismatch marks the pool damaged.
func (s *Service) AuditTick(ctx context.Context, budget int64) {
	pools, err := s.db.LedgerIntegrity(ctx)
	if err != nil {
		return
	}
	for _, in := range pools {
		if budget <= 0 || ctx.Err() != nil {
			return
		}
		if in.Damaged {
			continue
		}
		n, err := s.auditPool(ctx, in.Pool, budget)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("ledger audit step failed", "pool", in.Pool, "err", err)
		}
		budget -= n
	}
}

// auditPool runs one audit step on a pool and returns how many entries it recomputed.
func (s *Service) auditPool(ctx context.Context, pool string, limit int64) (int64, error) {
	c, started, err := s.db.AuditCursor(ctx, pool)
	if err != nil {
		return 0, err
	}
	head, err := s.db.LedgerHead(ctx, pool)
	if err != nil {
		return 0, err
	}
	now := s.now().UTC()
	if started.IsZero() || (c.Next >= head.Size && now.Sub(started) >= s.auditGap) || c.Next > head.Size {
		c, started = tlog.AuditCursor{}, now // a new pass from entry 0
	}
	anchor, err := s.anchor(pool)
	if err != nil {
		return 0, err
	}
	if anchor != nil && anchor.Size > head.Size {
		s.damaged(ctx, &tlog.IntegrityError{Pool: pool, Mismatches: []tlog.Mismatch{{Kind: "checkpoint-root", Index: anchor.Size, HashIndex: -1,
			Stored: anchor.Root.String(), Recomputed: fmt.Sprintf("the stored tree has only %d entries", head.Size)}}})
		return 0, nil
	}
	if c.Next == head.Size && c.Next > 0 {
		return 0, nil // caught up; wait for growth or the next pass
	}
	entries := func(ctx context.Context, a, b int64) ([]tlog.IndexedEntry, error) {
		return s.db.LedgerLeafEntries(ctx, pool, a, b)
	}
	next, mm, err := tlog.AuditStep(ctx, c, head, limit, entries, s.db.LedgerHashes(ctx, pool), anchor)
	if err != nil {
		return 0, err
	}
	if len(mm) > 0 {
		s.damaged(ctx, &tlog.IntegrityError{Pool: pool, Mismatches: mm})
		return next.Next - c.Next, nil
	}
	var clean *time.Time
	if next.Next == head.Size {
		clean = &now
	}
	return next.Next - c.Next, s.db.SaveAuditCursor(ctx, pool, next, started, clean)
}

// Fsck audits the whole of a pool's store now, the same recomputation as the scheduled audit
// from entry 0, anchored to the last checkpoint this node signed. It returns nil when the store
// is clean (and clears a recorded damage), or the *tlog.IntegrityError that says what differs
// (and records it, so the publisher stops signing the pool).
func (s *Service) Fsck(ctx context.Context, pool string) (*tlog.IntegrityError, error) {
	head, err := s.db.LedgerHead(ctx, pool)
	if err != nil {
		return nil, err
	}
	anchor, err := s.anchor(pool)
	if err != nil {
		return nil, err
	}
	var ie *tlog.IntegrityError
	if anchor != nil && anchor.Size > head.Size {
		ie = &tlog.IntegrityError{Pool: pool, Mismatches: []tlog.Mismatch{{Kind: "checkpoint-root", Index: anchor.Size, HashIndex: -1,
			Stored: anchor.Root.String(), Recomputed: fmt.Sprintf("the stored tree has only %d entries", head.Size)}}}
	} else {
		entries := func(ctx context.Context, a, b int64) ([]tlog.IndexedEntry, error) {
			return s.db.LedgerLeafEntries(ctx, pool, a, b)
		}
		err := tlog.AuditRange(ctx, pool, 0, head, 4096, entries, s.db.LedgerHashes(ctx, pool), anchor)
		if !errors.As(err, &ie) && err != nil {
			return nil, err
		}
	}
	if ie != nil {
		s.damaged(ctx, ie)
		return ie, nil
	}
	return nil, s.db.MarkClean(ctx, pool)
}

// Integrity returns every pool's store audit status (for /readyz, /metrics and the console).
func (s *Service) Integrity(ctx context.Context) ([]tlog.Integrity, error) {
	return s.db.LedgerIntegrity(ctx)
}
