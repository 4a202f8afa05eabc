package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"reclaim"
	"reclaim/sqldb"
)

// seqBatch is the most entries one sequencing transaction takes.
const seqBatch = 4096

// leadership is this node's view of the ledger lease. Only the leader sequences, announces and
// signs; every one of those transactions is fenced by the lease's epoch in the database, so a
// node that lost the lease (expired while it was paused, or taken over) cannot write even if it
// has not noticed yet.
type leadership struct {
	node string
	ttl  time.Duration

	mu      sync.Mutex
	lease   sqldb.Lease
	leader  bool
	renewed time.Time // local time the lease was last acquired or renewed
	holder  sqldb.Holder
}

func (s *Service) initLeadership(f Config) {
	node := f.Node
	if node == "" {
		host, _ := os.Hostname()
		var b [3]byte
		rand.Read(b[:])
		node = strings.Join([]string{host, strconv.Itoa(os.Getpid()), hex.EncodeToString(b[:])}, "-")
	}
	ttl := f.LeaseTTL
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	s.lead = leadership{node: node, ttl: ttl}
	s.m = newMetrics(s.db)
}

// Node is this node's id in the lease and the logs.
func (s *Service) Node() string { return s.lead.node }

// Leadership reports this node's role ("leader" or "follower"), its node id, and the epoch of
// the lease it holds (the current holder's epoch, as last seen, when it follows).
func (s *Service) Leadership() (role, node string, epoch int64) {
	s.lead.mu.Lock()
	defer s.lead.mu.Unlock()
	if s.lead.leader {
		return "leader", s.lead.node, s.lead.lease.Epoch
	}
	return "follower", s.lead.node, s.lead.holder.Epoch
}

// current returns the lease while this node leads.
func (s *Service) current() (sqldb.Lease, bool) {
	s.lead.mu.Lock()
	defer s.lead.mu.Unlock()
	if !s.lead.leader {
		return sqldb.Lease{}, false
	}
	// A lease not renewed within its TTL may have been taken: stop before the database says so.
	if s.db.Dialect() == sqldb.Postgres && time.Since(s.lead.renewed) > s.lead.ttl {
		s.stepDownLocked("lease not renewed within its TTL")
		return sqldb.Lease{}, false
	}
	return s.lead.lease, true
}

// stepDown stops leading at once (the lease was lost or a fenced transaction was refused).
func (s *Service) stepDown(reason string) {
	s.lead.mu.Lock()
	defer s.lead.mu.Unlock()
	s.stepDownLocked(reason)
}

func (s *Service) stepDownLocked(reason string) {
	if !s.lead.leader {
		return
	}
	s.lead.leader = false
	s.m.isLeader.Set(0)
	s.m.changes.Inc()
	lvl := slog.LevelWarn
	if reason == released {
		lvl = slog.LevelInfo // a graceful hand-over (a stopping server, a finished CLI command)
	}
	s.log.Log(context.Background(), lvl, "ledger leadership lost", "node", s.lead.node, "epoch", s.lead.lease.Epoch, "reason", reason)
}

// released is the step-down reason of a lease given up on purpose.
const released = "released"

// fenced reports whether err is the database refusing work to a node that no longer leads, and
// if so steps down.
func (s *Service) fenced(err error) bool {
	if errors.Is(err, sqldb.ErrNotLeader) {
		s.m.fenced.Inc()
		s.stepDown(err.Error())
		return true
	}
	return false
}

// keepLease runs leaderRound every TTL/4 until ctx ends, apart from the work loop, so that a long
// round (a large batch, a slow witness) never lets the lease lapse.
func (s *Service) keepLease(ctx context.Context) {
	t := time.NewTicker(s.lead.ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.leaderRound(ctx)
		}
	}
}

// leaderRound acquires the lease when this node follows and renews it when it leads. Every fenced
// transaction re-checks the lease anyway; renewal only keeps it.
func (s *Service) leaderRound(ctx context.Context) {
	s.lead.mu.Lock()
	leader, lease := s.lead.leader, s.lead.lease
	s.lead.mu.Unlock()
	if leader {
		start := time.Now()
		err := s.db.RenewLease(ctx, lease, s.lead.ttl)
		switch {
		case err == nil:
			s.lead.mu.Lock()
			if s.lead.leader && s.lead.lease == lease {
				s.lead.renewed = start
			}
			s.lead.mu.Unlock()
		case s.fenced(err):
		case ctx.Err() == nil:
			s.log.Warn("ledger lease renewal failed", "node", s.lead.node, "err", err)
		}
		s.current() // steps down once the lease has run out unrenewed
		return
	}
	start := time.Now()
	l, h, ok, err := s.db.AcquireLease(ctx, sqldb.LedgerRole, s.lead.node, s.lead.ttl)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("ledger leader election failed", "node", s.lead.node, "err", err)
		}
		return
	}
	s.lead.mu.Lock()
	defer s.lead.mu.Unlock()
	s.lead.holder = h
	if !ok {
		return
	}
	s.lead.lease, s.lead.leader, s.lead.renewed = l, true, start
	s.m.isLeader.Set(1)
	s.m.epoch.Set(float64(l.Epoch))
	s.m.changes.Inc()
	s.log.Info("ledger leadership acquired", "node", s.lead.node, "epoch", l.Epoch)
}

// release gives the lease up on a graceful stop, so the next node takes over at once.
func (s *Service) release() {
	s.lead.mu.Lock()
	leader, lease := s.lead.leader, s.lead.lease
	s.lead.mu.Unlock()
	if !leader {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.db.ReleaseLease(ctx, lease); err != nil {
		s.log.Warn("ledger lease not released", "node", s.lead.node, "err", err)
	}
	s.stepDown(released)
}

// leadOnce makes this node the leader for one CLI operation: it reuses a lease Run holds, or
// takes one and returns a release. When another node leads, it fails with ErrNotLeader.
func (s *Service) leadOnce(ctx context.Context) (func(), error) {
	if _, ok := s.current(); ok {
		return func() {}, nil
	}
	s.leaderRound(ctx)
	if _, ok := s.current(); ok {
		return s.release, nil
	}
	s.lead.mu.Lock()
	h := s.lead.holder
	s.lead.mu.Unlock()
	return nil, reclaim.WrapError(reclaim.ECONFLICT, sqldb.ErrNotLeader,
		"node %s leads the ledger (epoch %d): it sequences and publishes; try again on it or let it work", h.Node, h.Epoch)
}

// Run leads or follows until ctx ends. The leader sequences queued entries, announces them as live
// events and publishes checkpoints; a follower tries to take the lease every round and takes over
// within the lease TTL of the leader's death. On SQLite the node is always the leader.
func (s *Service) Run(ctx context.Context) {
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	defer s.release()
	s.leaderRound(ctx)
	var keeper sync.WaitGroup
	keeper.Add(1)
	go func() {
		defer keeper.Done()
		s.keepLease(ctx)
	}()
	defer keeper.Wait()
	lastPublish, lastAudit := time.Now(), time.Now()
	for {
		if _, ok := s.current(); ok {
			s.sequenceAll(ctx)
			s.announceAll(ctx)
			if time.Since(lastPublish) >= s.interval {
				s.publishAll(ctx)
				lastPublish = time.Now()
			}
			// The scheduled store audit: about a second's worth of entries a second.
			if s.auditRate > 0 && time.Since(lastAudit) >= time.Second {
				s.AuditTick(ctx, s.auditRate)
				lastAudit = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-poll.C:
		}
	}
}

// SequenceAll moves every pool's queued entries onto its log, in fenced transactions, and
// announces them. A node that does not lead takes the lease for the call when no node holds it,
// and otherwise leaves the work to the leader.
func (s *Service) SequenceAll(ctx context.Context) {
	release, err := s.leadOnce(ctx)
	if err != nil {
		return
	}
	defer release()
	s.sequenceAll(ctx)
}

func (s *Service) sequenceAll(ctx context.Context) {
	lease, ok := s.current()
	if !ok {
		return
	}
	pools, err := s.db.PendingPools(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("ledger outbox", "err", err)
		}
		return
	}
	for _, p := range pools {
		for {
			b, err := s.db.SequenceFenced(ctx, lease, p, seqBatch)
			if err != nil {
				if s.fenced(err) {
					return
				}
				if ctx.Err() == nil {
					s.m.seqErrors.Inc()
					s.log.Error("ledger sequencing failed", "node", s.lead.node, "pool", p, "err", err)
				}
				break
			}
			if b.To == b.From {
				break
			}
			s.observeBatch(b)
			s.announcePool(ctx, lease, p)
			if b.To-b.From < seqBatch {
				break // drained as of this batch; the next round takes what arrived since
			}
		}
	}
}

// claim is the publisher's fence: this node must lead, and no other node may have signed the
// size (tlog.Publisher.Claim).
func (s *Service) claim(ctx context.Context, pool string, size int64) error {
	lease, ok := s.current()
	if !ok {
		s.lead.mu.Lock()
		h := s.lead.holder
		s.lead.mu.Unlock()
		return reclaim.WrapError(reclaim.ECONFLICT, sqldb.ErrNotLeader, "this node (%s) does not lead the ledger; node %s signs checkpoints", s.lead.node, h.Node)
	}
	err := s.db.ClaimSigning(ctx, lease, pool, size)
	if err != nil {
		s.fenced(err)
	}
	return err
}

// auditSigner counts (and reports to signed) every checkpoint signature.
func (s *Service) auditSigner(sg note.Signer, signed func(node, origin string, size int64)) note.Signer {
	return &countingSigner{Signer: sg, s: s, signed: signed}
}

type countingSigner struct {
	note.Signer
	s      *Service
	signed func(node, origin string, size int64)
}

func (c *countingSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := c.Signer.Sign(msg)
	if err == nil {
		c.s.m.signed.Inc()
		if c.signed != nil {
			lines := strings.SplitN(string(msg), "\n", 3)
			if len(lines) == 3 {
				size, _ := strconv.ParseInt(lines[1], 10, 64)
				c.signed(c.s.lead.node, lines[0], size)
			}
		}
	}
	return sig, err
}
