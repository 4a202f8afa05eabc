package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"reclaim"
	"reclaim/auction"
	"reclaim/market"
	"reclaim/money"
	"reclaim/textnorm"
)

// The auction marketplace's store (docs/marketplace.md). The rules are package auction's: this
// file loads the state the engine needs, serialises the events of each auction, stores every
// record the engine appended and what follows from it (deposit movements, the close, the
// settlement and its ledger entry).
//
// Bids. One in-memory engine per auction (a liveAuction) judges events under the auction's
// mutex, at the server's receipt time, and hands the record to one batcher per Market, which
// writes every record queued meanwhile, for every auction, in ONE transaction (group commit:
// one fsync on SQLite, one commit on PostgreSQL for many bids), and only then acknowledges them.
// The database is the arbiter between nodes: a batch advances an auction's last_seq with
// UPDATE ... WHERE last_seq = <the seq it was built on>, so a node whose copy is stale loses,
// drops its copy and answers EUNAVAILABLE (the client retries with its idempotency key and the
// node reloads the auction from the database). The close is one conditional UPDATE ... WHERE
// status = 'open': it happens once however many nodes run the closer.
//
// Idempotency keys. A key is stored at most once per auction, and no index enforces it
// (migration 00038 dropped market_events_key: with the clients' scattered keys it cost one B-tree
// page written per bid). It follows from three things: (1) only the batcher (writeGroups) writes
// market_events; (2) an engine is built from the whole stored history (restore), keys included,
// and judges a key against that history plus the records it queued since (apply), answering a
// known key with its record; (3) a batch commits only if market_auctions.last_seq still equals
// the seq its records follow (and the primary key (auction_id, seq) refuses a seq stored twice),
// so the history an engine extends is exactly the stored one: a node that missed another node's
// records fails its batch, drops its engine and reloads them, keys included, before it stores
// anything. TestMarketIdemKeysTwoNodes checks it on both engines.

// MarketOptions tunes a Market. The zero value is usable.
type MarketOptions struct {
	// Now is the receipt clock; nil means time.Now.
	Now func() time.Time
	// Notify, when set, is called after each committed batch for every accepted event it stored
	// (type "event", a market.Event, bidder by code) and after each close (type "closed", the
	// market.Auction), for the live topic auction.<id>. It must not block.
	Notify func(auctionID int64, typ string, data any)
	// NotifyAll, when set, is used instead of Notify: it is called once per committed batch
	// with all the batch's notes (so that a publisher can send them in one round, one
	// transaction on PostgreSQL, instead of one each) and once per close, from one goroutine
	// of its own, in commit order. The batcher does not wait for it: it hands the notes over
	// (up to 256 batches queued) and goes on to the next batch.
	NotifyAll func(notes []Note)
	// MaxBatch bounds the records one transaction writes (default 2048).
	MaxBatch int
	// Linger is how long the batcher waits for more records before it commits a batch, when
	// the batch before it held LingerAfter records or more (under load: bids keep coming while
	// a commit runs); a lone bid is committed at once. Default 1 ms; negative: never wait.
	Linger time.Duration
	// Keys open sealed personal data for the buyer's full tape (FullTape); nil: no full tapes.
	Keys PersonalOpener
	// CloseEvery is how often the closer looks for auctions past their end (default 250 ms;
	// negative: no closer goroutine, call CloseDue yourself).
	CloseEvery time.Duration
}

// Note is one live event for the topic auction.<AuctionID>: Type "event" with a market.Event
// (the bidder by code), or "closed" with the market.Auction.
type Note struct {
	AuctionID int64
	Type      string
	Data      any
}

// Market is the marketplace service over a DB. It is safe for concurrent use. Close stops its
// batcher and closer.
type Market struct {
	db     *DB
	now    func() time.Time
	notify func(int64, string, any)

	notifyAll   func([]Note)
	notes       chan []Note // to the notifier goroutine (NotifyAll)
	notesMu     sync.Mutex  // guards sending on notes against its close
	notesClosed bool
	notifier    sync.WaitGroup
	maxBatch    int
	linger      time.Duration
	advance     [65]string // advanceSQL's statements by number of auctions (up to 64 cached)
	keys        PersonalOpener

	mu   sync.Mutex
	live map[int64]*liveAuction
	orgs sync.Map // org id -> *sync.Mutex (deposit freezes)

	// who caches what bidder() read for a (user, auction), for at most bidderTTL: the hot path
	// of a bid does not read the organisation and its registration. Every change made through
	// this node clears it at once; every change made anywhere adds one to market_epoch in its
	// transaction, and the node reads that one row every epochEvery (not each bidder's rows) and
	// clears the cache when it moved: a change made on another node shows within epochEvery.
	whoMu    sync.Mutex
	who      map[[2]int64]cachedBidder
	whoEpoch int64
	epochAt  atomic.Int64 // when market_epoch was last read (UnixNano)
	epochN   atomic.Int64 // what it said

	queue  chan *pendingEvent
	ew     *sqliteWriter // the batcher's prepared INSERT on SQLite (batcher goroutine only)
	evVals sqliteVals    // the batch's values for ew (batcher goroutine only)
	stats  struct{ batches, records atomic.Int64 }
	prev   atomic.Int64 // the records of the batcher's last batch (its linger decision)
	held   atomic.Int64 // the records of a batch that lingers, while it does (tests)
	stop   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
}

// liveAuction is one auction's engine and what the store keeps beside it.
type liveAuction struct {
	id   int64
	spec storedListing
	mu   sync.Mutex // serialises Apply (and the receipt clock) for this auction
	a    *auction.Auction
	seq  int64 // records applied (committed or queued)
	last time.Time
	keys map[string]keyRef

	committed atomic.Int64
	inflight  atomic.Int64
	broken    atomic.Bool
	pmu       sync.Mutex
	pending   map[int64]*pendingEvent
}

type keyRef struct {
	bidder string
	seq    int64
}

// pendingEvent is a record waiting for the batcher.
type pendingEvent struct {
	la    *liveAuction
	seq   int64
	rec   auction.Record
	end   time.Time
	code  string // the bidder's code after the event
	seal  bool   // the amount stays hidden until the close (sealed bids, quotes)
	actor string
	extra func(ctx context.Context, tx *Tx) error
	done  chan struct{}
	err   error
}

// storedListing is what market_auctions.listing holds: the seller's spec and the bidders the
// engine bars (the defaulter of the failed auction a re-listing follows, JA-8).
type storedListing struct {
	Spec   market.ListingSpec `json:"spec"`
	Barred []string           `json:"barred,omitempty"`
}

// ErrStale is returned (as EUNAVAILABLE) when another node advanced an auction first; retry.
var ErrStale = errors.New("the auction changed on another node")

// NewMarket starts the marketplace service: its batcher and (unless CloseEvery < 0) its closer.
func (d *DB) NewMarket(opts MarketOptions) *Market {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 2048
	}
	if opts.CloseEvery == 0 {
		opts.CloseEvery = 250 * time.Millisecond
	}
	if opts.Linger == 0 {
		opts.Linger = DefaultLinger
	}
	m := &Market{db: d, now: opts.Now, notify: opts.Notify, maxBatch: opts.MaxBatch, linger: opts.Linger, keys: opts.Keys, live: map[int64]*liveAuction{},
		queue: make(chan *pendingEvent, 1<<16), stop: make(chan struct{})}
	if opts.NotifyAll != nil {
		m.notifyAll, m.notes = opts.NotifyAll, make(chan []Note, 256)
		m.notifier.Add(1)
		go func() {
			defer m.notifier.Done()
			for ns := range m.notes {
				m.notifyAll(ns)
			}
		}()
	}
	m.wg.Add(1)
	go m.batcher()
	if opts.CloseEvery > 0 {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			t := time.NewTicker(opts.CloseEvery)
			defer t.Stop()
			for {
				select {
				case <-m.stop:
					return
				case <-t.C:
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					_, _ = m.TickRounds(ctx)
					_, _ = m.CloseDue(ctx)
					cancel()
				}
			}
		}()
	}
	return m
}

// MarketStats counts the batcher's work: committed transactions and the records they wrote
// (records / batches is the group-commit factor).
type MarketStats struct {
	Batches, Records int64
}

// Stats returns the batcher's counts so far.
func (m *Market) Stats() MarketStats {
	return MarketStats{Batches: m.stats.batches.Load(), Records: m.stats.records.Load()}
}

// Close stops the batcher (after writing what is queued) and the closer.
func (m *Market) Close() {
	if m.closed.Swap(true) {
		return
	}
	close(m.stop)
	m.wg.Wait()
	m.closeEventWriter()
	if m.notes != nil {
		m.notesMu.Lock()
		m.notesClosed = true
		close(m.notes)
		m.notesMu.Unlock()
		m.notifier.Wait()
	}
}

// announce hands notes to NotifyAll's goroutine, or calls Notify for each.
func (m *Market) announce(ns []Note) {
	if len(ns) == 0 {
		return
	}
	if m.notes != nil {
		m.notesMu.Lock()
		if !m.notesClosed {
			m.notes <- ns
		}
		m.notesMu.Unlock()
		return
	}
	if m.notify != nil {
		for _, n := range ns {
			m.notify(n.AuctionID, n.Type, n.Data)
		}
	}
}

// notifying reports whether anyone listens for notes.
func (m *Market) notifying() bool { return m.notify != nil || m.notes != nil }

// readRow is QueryRowContext on the reader pool with the query rebound.
func (d *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	return d.r.QueryRowContext(ctx, d.rebind(query), args...)
}

func (m *Market) clock() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

// ---- organisations and deposits ----------------------------------------------------------

func marketErr(code, rule, format string, args ...any) *reclaim.Error {
	e := reclaim.Errorf(code, format, args...)
	if rule != "" {
		e.Fields = map[string]string{"rule": rule}
	}
	return e
}

// RegisterOrg registers an organisation (pending an administrator's decision) and links the
// calling user to it when that user is a bidder.
func (m *Market) RegisterOrg(ctx context.Context, spec market.OrgSpec) (market.Org, error) {
	defer m.forget()
	name := textnorm.Trim(spec.Name)
	if name == "" || len(name) > 200 {
		return market.Org{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "an organisation needs a name (1 to 200 characters)", Fields: map[string]string{"name": "required"}}
	}
	if !slices.Contains(market.LicenceTypes, spec.LicenceType) {
		return market.Org{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("licence_type %q is not one of %s", spec.LicenceType, strings.Join(market.LicenceTypes, ", ")),
			Fields: map[string]string{"licence_type": "unknown"}}
	}
	for _, doc := range spec.Documents {
		if err := textnorm.Check(doc); err != nil || len(doc) > 500 {
			return market.Org{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "documents: each is a name or reference of at most 500 characters", Fields: map[string]string{"documents": "invalid"}}
		}
	}
	if spec.Documents == nil {
		spec.Documents = []string{}
	}
	docs, _ := json.Marshal(spec.Documents)
	u := reclaim.UserFrom(ctx)
	var id int64
	now := m.clock()
	err := m.db.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO market_orgs (name, licence_type, documents, status, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			name, spec.LicenceType, string(docs), market.OrgPending, m.db.instant(now), reclaim.Actor(ctx)).Scan(&id); err != nil {
			if isUniqueViolation(err) {
				return reclaim.Errorf(reclaim.ECONFLICT, "an organisation named %q is already registered", name)
			}
			return err
		}
		if u != nil && u.Role == reclaim.RoleBidder {
			return linkUser(ctx, tx, m.db, u.ID, id, now)
		}
		return nil
	})
	if err != nil {
		return market.Org{}, dbError(err, "registering an organisation")
	}
	return m.Org(ctx, id)
}

func linkUser(ctx context.Context, tx *Tx, d *DB, userID, orgID int64, now time.Time) error {
	var other int64
	err := tx.QueryRow(ctx, `SELECT org_id FROM market_org_users WHERE user_id = ?`, userID).Scan(&other)
	if err == nil {
		if other == orgID {
			return nil
		}
		return reclaim.Errorf(reclaim.ECONFLICT, "user %d already acts for organisation %d", userID, other)
	}
	if err != sql.ErrNoRows {
		return err
	}
	if _, err = tx.Exec(ctx, `INSERT INTO market_org_users (user_id, org_id, linked_at) VALUES (?, ?, ?)`, userID, orgID, d.instant(now)); err != nil {
		return err
	}
	return bumpMarketEpoch(ctx, tx)
}

// bumpMarketEpoch counts a change to what a bidder's qualification rests on (migration 00030),
// in the transaction that makes it: every node's bidder cache is dropped within epochEvery.
func bumpMarketEpoch(ctx context.Context, tx *Tx) error {
	_, err := tx.Exec(ctx, `UPDATE market_epoch SET n = n + 1 WHERE id = 1`)
	return err
}

// LinkUser makes a bidder-role user act for an organisation (a user acts for one at most).
func (m *Market) LinkUser(ctx context.Context, orgID, userID int64) error {
	defer m.forget()
	err := m.db.WriteTx(ctx, func(tx *Tx) error {
		var role string
		if err := tx.QueryRow(ctx, `SELECT role FROM users WHERE id = ?`, userID).Scan(&role); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "user %d not found", userID)
		} else if err != nil {
			return err
		}
		if reclaim.Role(role) != reclaim.RoleBidder {
			return reclaim.Errorf(reclaim.EINVALID, "only bidder accounts act for an organisation (user %d is %s)", userID, role)
		}
		if err := orgExists(ctx, tx, orgID); err != nil {
			return err
		}
		return linkUser(ctx, tx, m.db, userID, orgID, m.clock())
	})
	return dbError(err, "linking a user")
}

func orgExists(ctx context.Context, tx *Tx, orgID int64) error {
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM market_orgs WHERE id = ?`, orgID).Scan(&one); err == sql.ErrNoRows {
		return reclaim.Errorf(reclaim.ENOTFOUND, "organisation %d not found", orgID)
	} else if err != nil {
		return err
	}
	return nil
}

// DecideOrg approves or rejects an organisation's qualification (with a reason).
func (m *Market) DecideOrg(ctx context.Context, orgID int64, approve bool, reason string) (market.Org, error) {
	defer m.forget()
	status := market.OrgRejected
	if approve {
		status = market.OrgApproved
	}
	reason = textnorm.Trim(reason)
	if !approve && reason == "" {
		return market.Org{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "a rejection needs a reason", Fields: map[string]string{"reason": "required"}}
	}
	err := m.db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE market_orgs SET status = ?, reason = ?, decided_at = ?, decided_by = ? WHERE id = ?`,
			status, reason, m.db.instant(m.clock()), reclaim.Actor(ctx), orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reclaim.Errorf(reclaim.ENOTFOUND, "organisation %d not found", orgID)
		}
		return bumpMarketEpoch(ctx, tx)
	})
	if err != nil {
		return market.Org{}, dbError(err, "deciding an organisation")
	}
	return m.Org(ctx, orgID)
}

const orgSelect = `SELECT id, name, licence_type, documents, status, reason, barred, barred_reason, created_at, created_by, decided_at, decided_by FROM market_orgs`

func scanOrg(sc rowScanner) (market.Org, error) { return scanOrgWith(sc) }

// scanOrgWith scans an organisation's columns followed by more.
func scanOrgWith(sc rowScanner, more ...any) (market.Org, error) {
	var o market.Org
	var docs string
	var decided time.Time
	if err := sc.Scan(append([]any{&o.ID, &o.Name, &o.LicenceType, &docs, &o.Status, &o.Reason, boolScan{&o.Barred}, &o.BarredReason,
		instantScan{&o.CreatedAt}, &o.CreatedBy, instantScan{&decided}, &o.DecidedBy}, more...)...); err != nil {
		return o, err
	}
	_ = json.Unmarshal([]byte(docs), &o.Documents)
	if o.Documents == nil {
		o.Documents = []string{}
	}
	if !decided.IsZero() {
		o.DecidedAt = &decided
	}
	return o, nil
}

// Org returns one organisation (ENOTFOUND).
func (m *Market) Org(ctx context.Context, id int64) (market.Org, error) {
	o, err := scanOrg(m.db.r.QueryRowContext(ctx, m.db.rebind(orgSelect+` WHERE id = ?`), id))
	if err == sql.ErrNoRows {
		return o, reclaim.Errorf(reclaim.ENOTFOUND, "organisation %d not found", id)
	}
	return o, dbError(err, "reading an organisation")
}

// Orgs lists organisations by id.
func (m *Market) Orgs(ctx context.Context) ([]market.Org, error) {
	rows, err := m.db.r.QueryContext(ctx, orgSelect+` ORDER BY id`)
	if err != nil {
		return nil, dbError(err, "listing organisations")
	}
	defer rows.Close()
	out := []market.Org{}
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, dbError(err, "listing organisations")
		}
		out = append(out, o)
	}
	return out, dbError(rows.Err(), "listing organisations")
}

// OrgOfUser returns the organisation a user acts for (ENOTFOUND when none).
func (m *Market) OrgOfUser(ctx context.Context, userID int64) (market.Org, error) {
	o, err := scanOrg(m.db.r.QueryRowContext(ctx, m.db.rebind(`SELECT o.id, o.name, o.licence_type, o.documents, o.status, o.reason, o.barred,
		o.barred_reason, o.created_at, o.created_by, o.decided_at, o.decided_by FROM market_orgs o JOIN market_org_users u ON u.org_id = o.id WHERE u.user_id = ?`), userID))
	if err == sql.ErrNoRows {
		return o, reclaim.Errorf(reclaim.ENOTFOUND, "your account does not act for an organisation: register one (POST /api/v1/market/orgs) or ask an administrator to link you")
	}
	return o, dbError(err, "reading an organisation")
}

// CreditDeposit credits an organisation's deposit account (money received).
func (m *Market) CreditDeposit(ctx context.Context, orgID int64, amount money.Amount, note string) (market.Account, error) {
	if amount.IsAbsent() || amount.Currency() != money.CNY || amount.Sign() <= 0 || amount.Cmp(auction.MaxAmount) > 0 {
		return market.Account{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "a credit is a positive CNY amount of at most one trillion yuan", Fields: map[string]string{"amount": "out of range"}}
	}
	err := m.db.WriteTx(ctx, func(tx *Tx) error {
		if err := orgExists(ctx, tx, orgID); err != nil {
			return err
		}
		return addMovement(ctx, tx, m.db, orgID, 0, market.MoveCredit, amount.Minor(), m.clock(), reclaim.Actor(ctx), textnorm.Trim(note))
	})
	if err != nil {
		return market.Account{}, dbError(err, "crediting a deposit account")
	}
	return m.Account(ctx, orgID)
}

// errNoDeposit marks a freeze refused by the account row: the deposit is not available (any
// more). It is not a stale engine: the request is not retried.
var errNoDeposit = errors.New("the deposit is not available in the account")

// addMovement records one movement of an organisation's deposit account and moves the
// account's row (market_accounts) with it, in the caller's transaction. A freeze is a
// conditional UPDATE ... WHERE balance - frozen >= amount whose row count decides: of two
// transactions freezing the same account at once (two app nodes), the second either sees the
// first's row (SQLite's single writer; PostgreSQL's READ COMMITTED re-check) or fails to
// serialise and is retried (REPEATABLE READ, SERIALIZABLE), and then finds too little.
func addMovement(ctx context.Context, tx *Tx, d *DB, orgID, auctionID int64, kind string, minor int64, at time.Time, actor, note string) error {
	if minor <= 0 {
		return reclaim.Errorf(reclaim.EINTERNAL, "deposit movement %s of %d minor units", kind, minor)
	}
	var q string
	switch kind {
	case market.MoveCredit:
		q = `INSERT INTO market_accounts (org_id, balance_minor, frozen_minor) VALUES (?, ?, 0)
			ON CONFLICT (org_id) DO UPDATE SET balance_minor = market_accounts.balance_minor + excluded.balance_minor`
	case market.MoveFreeze:
		q = `UPDATE market_accounts SET frozen_minor = frozen_minor + ? WHERE org_id = ? AND balance_minor - frozen_minor >= ?`
	case market.MoveRelease:
		q = `UPDATE market_accounts SET frozen_minor = frozen_minor - ? WHERE org_id = ? AND frozen_minor >= ?`
	case market.MoveApply, market.MoveForfeit:
		q = `UPDATE market_accounts SET balance_minor = balance_minor - ?, frozen_minor = frozen_minor - ? WHERE org_id = ? AND frozen_minor >= ?`
	default:
		return reclaim.Errorf(reclaim.EINTERNAL, "unknown deposit movement %q", kind)
	}
	var args []any
	switch kind {
	case market.MoveCredit:
		args = []any{orgID, minor}
	case market.MoveApply, market.MoveForfeit:
		args = []any{minor, minor, orgID, minor}
	default:
		args = []any{minor, orgID, minor}
	}
	res, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		if kind == market.MoveFreeze {
			return errNoDeposit
		}
		return reclaim.Errorf(reclaim.EINTERNAL, "deposit movement %s of %d for organisation %d exceeds its frozen amount", kind, minor, orgID)
	}
	_, err = tx.Exec(ctx, `INSERT INTO market_deposits (org_id, auction_id, kind, amount_minor, at, actor, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		orgID, nullID(auctionID), kind, minor, d.instant(at), actor, note)
	return err
}

// balances returns an organisation's balance and frozen amount (minor units) from its account
// row; an organisation never credited has none (0, 0).
func balances(ctx context.Context, q func(ctx context.Context, query string, args ...any) *sql.Row, orgID int64) (bal, frozen int64, err error) {
	err = q(ctx, `SELECT balance_minor, frozen_minor FROM market_accounts WHERE org_id = ?`, orgID).Scan(&bal, &frozen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return bal, frozen, err
}

// frozenFor returns what an organisation has frozen for one auction (minor units).
func frozenFor(ctx context.Context, tx *Tx, orgID, auctionID int64) (int64, error) {
	var f int64
	err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(CASE kind WHEN 'freeze' THEN amount_minor WHEN 'release' THEN -amount_minor
		WHEN 'apply' THEN -amount_minor WHEN 'forfeit' THEN -amount_minor ELSE 0 END), 0) FROM market_deposits WHERE org_id = ? AND auction_id = ?`,
		orgID, auctionID).Scan(&f)
	return f, err
}

// Account returns an organisation's deposit account with every movement, oldest first.
func (m *Market) Account(ctx context.Context, orgID int64) (market.Account, error) {
	acc := market.Account{OrgID: orgID, Movements: []market.Movement{}}
	err := m.db.ReadTx(ctx, func(tx *Tx) error {
		acc.Movements = acc.Movements[:0]
		if err := orgExists(ctx, tx, orgID); err != nil {
			return err
		}
		bal, frozen, err := balances(ctx, tx.QueryRow, orgID)
		if err != nil {
			return err
		}
		acc.Balance, acc.Frozen, acc.Available = money.New(bal, money.CNY), money.New(frozen, money.CNY), money.New(bal-frozen, money.CNY)
		rows, err := tx.Query(ctx, `SELECT id, auction_id, kind, amount_minor, at, actor, note FROM market_deposits WHERE org_id = ? ORDER BY id`, orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var mv market.Movement
			var aid sql.NullInt64
			var amt int64
			if err := rows.Scan(&mv.ID, &aid, &mv.Kind, &amt, instantScan{&mv.At}, &mv.Actor, &mv.Note); err != nil {
				return err
			}
			mv.OrgID, mv.AuctionID, mv.Amount = orgID, aid.Int64, money.New(amt, money.CNY)
			acc.Movements = append(acc.Movements, mv)
		}
		return rows.Err()
	})
	return acc, dbError(err, "reading a deposit account")
}

// recordAttempt stores a refused request that never reached the engine. Its own failure is
// not the caller's: the refusal stands.
func (m *Market) recordAttempt(ctx context.Context, auctionID, orgID int64, action, reason string) {
	_ = m.db.WriteTx(context.WithoutCancel(ctx), func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO market_attempts (auction_id, org_id, actor, action, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
			nullID(auctionID), nullID(orgID), reclaim.Actor(ctx), action, truncate(reason, 500), m.db.instant(m.clock()))
		return err
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Attempt is market.RefusedAttempt.
type Attempt = market.RefusedAttempt

// Attempts lists the refused requests recorded for an auction (0: all), newest first.
func (m *Market) Attempts(ctx context.Context, auctionID int64, limit int) ([]Attempt, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT id, auction_id, org_id, actor, action, reason, at FROM market_attempts`
	args := []any{}
	if auctionID > 0 {
		q += ` WHERE auction_id = ?`
		args = append(args, auctionID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := m.db.r.QueryContext(ctx, m.db.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "reading attempts")
	}
	defer rows.Close()
	out := []Attempt{}
	for rows.Next() {
		var a Attempt
		var aid, oid sql.NullInt64
		if err := rows.Scan(&a.ID, &aid, &oid, &a.Actor, &a.Action, &a.Reason, instantScan{&a.At}); err != nil {
			return nil, dbError(err, "reading attempts")
		}
		a.AuctionID, a.OrgID = aid.Int64, oid.Int64
		out = append(out, a)
	}
	return out, dbError(rows.Err(), "reading attempts")
}

// ---- listings -------------------------------------------------------------------------------

// engineName is the engine's name of an organisation as a bidder.
func engineName(orgID int64) string { return "O" + strconv.FormatInt(orgID, 10) }

func orgOfEngineName(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimPrefix(s, "O"), 10, 64)
	return n
}

// engineListing turns a stored listing into the engine's.
func engineListing(sl storedListing) (auction.Listing, error) {
	s := sl.Spec
	pack, ok := auction.Packs(s.Pack)
	if !ok {
		return auction.Listing{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("pack %q is not judicial, yindeng or marketplace", s.Pack), Fields: map[string]string{"pack": "unknown"}}
	}
	kind := auction.AssetKind(s.Kind)
	if !kind.Valid() {
		return auction.Listing{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("kind %q is not movable, real_estate, property_right or npl_package", s.Kind), Fields: map[string]string{"kind": "unknown"}}
	}
	l := auction.Listing{Pack: pack, Format: auction.Format(s.Format), Kind: kind, Appraisal: s.Appraisal, StartPrice: s.StartPrice,
		Increment: s.Increment, Deposit: s.Deposit, Reserve: s.Reserve, ReservePublic: s.ReservePublic,
		NoticeAt: s.NoticeAt.UTC(), Start: s.Start.UTC(), End: s.End.UTC(), Stage: auction.Stage(s.Stage), Dutch: s.Dutch.Schedule()}
	for _, r := range s.Rounds {
		l.Rounds = append(l.Rounds, r.UTC())
	}
	for _, o := range s.DepositExempt {
		if l.DepositExempt == nil {
			l.DepositExempt = map[string]bool{}
		}
		l.DepositExempt[engineName(o)] = true
	}
	for _, p := range s.Preemption {
		if p.Org <= 0 || p.Rank <= 0 {
			return l, &reclaim.Error{Code: reclaim.EINVALID, Message: "a pre-emption right names an organisation and a rank >= 1", Fields: map[string]string{"preemption": "invalid"}}
		}
		if l.Preemption == nil {
			l.Preemption = map[string]int{}
		}
		l.Preemption[engineName(p.Org)] = p.Rank
	}
	if len(sl.Barred) > 0 {
		l.Barred = map[string]bool{}
		for _, b := range sl.Barred {
			l.Barred[b] = true
		}
	}
	amounts := []money.Amount{l.Appraisal, l.StartPrice, l.Increment, l.Deposit, l.Reserve}
	if s.Dutch != nil {
		if s.Format != string(auction.Dutch) {
			return l, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("a price schedule (dutch) is for the dutch format, not %s", s.Format), Fields: map[string]string{"dutch": "only for the dutch format"}}
		}
		amounts = append(amounts, s.Dutch.Step, s.Dutch.Floor)
	}
	for _, a := range amounts {
		if !a.IsAbsent() && (a.Currency() != money.CNY || a.Sign() < 0 || a.Cmp(auction.MaxAmount) > 0) {
			return l, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("amount %s is out of range (0 to one trillion yuan)", a), Fields: map[string]string{"amount": "out of range"}}
		}
	}
	return l, nil
}

// teaserHidden are the pool-header keys a public teaser leaves out: the figures that, with the
// portfolio reference, would identify the seller's book or a single large debtor
// (../shared/design/tape.md, tiered disclosure: the teaser is aggregates only).
var teaserHidden = []string{"portfolio_ref", "largest_borrower_claim", "by_province"}

// Teaser returns a portfolio's public teaser: its pool header without the restricted keys.
func Teaser(header []byte) (json.RawMessage, error) {
	if len(header) == 0 {
		return json.RawMessage(`{}`), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(header, &m); err != nil {
		return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "stored pool header unreadable")
	}
	for _, k := range teaserHidden {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	return b, err
}

// CreateAuction lists an auction. The listing must pass its pack (every failing rule is named,
// EINVALID, nothing stored). An NPL package names its portfolio, which must not be one the AMC
// bought (portfolios.acquired: the buyer's no-resale promise), and optionally a selection of
// its loans (each must exist). A re-listing (previous_id) bars the defaulter of the previous
// auction (JA-8) and is checked against its bounds (JA-9).
func (m *Market) CreateAuction(ctx context.Context, spec market.ListingSpec) (market.Auction, error) {
	spec.Title = textnorm.Trim(spec.Title)
	if spec.Title == "" {
		return market.Auction{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "a listing needs a title", Fields: map[string]string{"title": "required"}}
	}
	for name, v := range map[string]string{"title": spec.Title, "description": spec.Description, "case_number": spec.CaseNumber, "platform": spec.Platform} {
		if err := textnorm.Check(v); err != nil {
			return market.Auction{}, &reclaim.Error{Code: reclaim.EINVALID, Message: name + ": " + err.Error(), Fields: map[string]string{name: err.Error()}}
		}
	}
	if spec.Stage == "" {
		spec.Stage = string(auction.First)
	}
	sl := storedListing{Spec: spec}
	var teaser json.RawMessage = json.RawMessage(`{}`)
	err := m.db.ReadTx(ctx, func(tx *Tx) error {
		if spec.Kind == string(auction.NPLPackage) {
			if spec.PortfolioID <= 0 {
				return &reclaim.Error{Code: reclaim.EINVALID, Message: "an NPL package names its portfolio", Fields: map[string]string{"portfolio_id": "required"}}
			}
			var acquired bool
			var header sql.NullString
			err := tx.QueryRow(ctx, `SELECT acquired, header_json FROM portfolios WHERE id = ?`, spec.PortfolioID).Scan(boolScan{&acquired}, &header)
			if err == sql.ErrNoRows {
				return reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", spec.PortfolioID)
			} else if err != nil {
				return err
			}
			if acquired {
				return marketErr(reclaim.EINVALID, "no_resale", "portfolio %d is a personal-NPL package the AMC bought: it may not be relisted (the buyer's no-resale promise)", spec.PortfolioID)
			}
			t, err := Teaser([]byte(header.String))
			if err != nil {
				return err
			}
			teaser = t
			if len(spec.LoanKeys) > 0 {
				var n int64
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM loans WHERE portfolio_id = ?`, spec.PortfolioID).Scan(&n); err != nil {
					return err
				}
				seen := map[string]bool{}
				for _, k := range spec.LoanKeys {
					if seen[k] {
						return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("loan %q is selected twice", k), Fields: map[string]string{"loans": k}}
					}
					seen[k] = true
					var one int
					if err := tx.QueryRow(ctx, `SELECT 1 FROM loans WHERE portfolio_id = ? AND loan_ref = ?`, spec.PortfolioID, k).Scan(&one); err == sql.ErrNoRows {
						return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("loan %q is not in portfolio %d", k, spec.PortfolioID), Fields: map[string]string{"loans": k}}
					} else if err != nil {
						return err
					}
				}
			}
		} else if spec.PortfolioID != 0 || len(spec.LoanKeys) > 0 {
			return &reclaim.Error{Code: reclaim.EINVALID, Message: "only an NPL package names a portfolio or loans", Fields: map[string]string{"portfolio_id": "not allowed"}}
		}
		for _, o := range spec.DepositExempt {
			if err := orgExists(ctx, tx, o); err != nil {
				return err
			}
		}
		for _, p := range spec.Preemption {
			if err := orgExists(ctx, tx, p.Org); err != nil {
				return err
			}
		}
		if spec.PreviousID > 0 {
			prev, err := m.auctionRow(ctx, tx, spec.PreviousID)
			if err != nil {
				return err
			}
			if prev.Outcome == nil || (prev.Status != market.StatusFailed && prev.Status != market.StatusDefaulted) {
				return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("auction %d has not failed: nothing to re-list", prev.ID), Fields: map[string]string{"previous_id": "not failed"}}
			}
			if prev.Status == market.StatusDefaulted && prev.Outcome.WinnerOrg > 0 {
				sl.Barred = append(sl.Barred, engineName(prev.Outcome.WinnerOrg))
			}
		}
		return nil
	})
	if err != nil {
		return market.Auction{}, err
	}
	l, err := engineListing(sl)
	if err != nil {
		return market.Auction{}, err
	}
	if spec.PreviousID > 0 {
		prev, err := m.Auction(ctx, spec.PreviousID)
		if err != nil {
			return market.Auction{}, err
		}
		l.Previous = &auction.Previous{StartPrice: prev.StartPrice, End: prev.Outcome.End}
	}
	if _, err := auction.New(l); err != nil {
		return market.Auction{}, err
	}
	body, _ := json.Marshal(sl)
	loans, _ := json.Marshal(spec.LoanKeys)
	if spec.LoanKeys == nil {
		loans = []byte("[]")
	}
	var id int64
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		var pid any
		if spec.PortfolioID > 0 {
			pid = spec.PortfolioID
		}
		return tx.QueryRow(ctx, `INSERT INTO market_auctions (title, pack, format, kind, stage, portfolio_id, loans, external, case_number, platform,
			previous_id, listing, teaser, description, status, end_at, last_seq, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`,
			spec.Title, spec.Pack, spec.Format, spec.Kind, spec.Stage, pid, string(loans), spec.External, spec.CaseNumber, spec.Platform,
			nullID(spec.PreviousID), string(body), string(teaser), spec.Description, market.StatusOpen, m.db.instant(l.End),
			m.db.instant(m.clock()), reclaim.Actor(ctx)).Scan(&id)
	})
	if err != nil {
		return market.Auction{}, dbError(err, "listing an auction")
	}
	return m.Auction(ctx, id)
}

// SetAcquired marks a portfolio as bought by the AMC (true) or not: an acquired personal-NPL
// package may not be relisted.
func (d *DB) SetAcquired(ctx context.Context, portfolioID int64, acquired bool) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE portfolios SET acquired = ? WHERE id = ?`, acquired, portfolioID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", portfolioID)
		}
		return nil
	})
	return dbError(err, "marking a portfolio acquired")
}

const auctionSelect = `SELECT id, title, description, pack, format, kind, stage, portfolio_id, loans, external, case_number, platform, previous_id,
	listing, teaser, status, end_at, last_seq, outcome, closed_at, created_at, created_by FROM market_auctions`

func scanAuction(sc rowScanner) (market.Auction, storedListing, error) {
	var a market.Auction
	var sl storedListing
	var pid, prev sql.NullInt64
	var loans, listing, teaser string
	var outcome sql.NullString
	var closed time.Time
	if err := sc.Scan(&a.ID, &a.Title, &a.Description, &a.Pack, &a.Format, &a.Kind, &a.Stage, &pid, &loans, boolScan{&a.External}, &a.CaseNumber,
		&a.Platform, &prev, &listing, &teaser, &a.Status, instantScan{&a.End}, &a.Seq, &outcome, instantScan{&closed}, instantScan{&a.CreatedAt}, &a.CreatedBy); err != nil {
		return a, sl, err
	}
	a.PortfolioID, a.PreviousID = pid.Int64, prev.Int64
	var keys []string
	_ = json.Unmarshal([]byte(loans), &keys)
	a.Loans = len(keys)
	if err := json.Unmarshal([]byte(listing), &sl); err != nil {
		return a, sl, reclaim.WrapError(reclaim.EINTERNAL, err, "auction %d: stored listing unreadable", a.ID)
	}
	s := sl.Spec
	a.NoticeAt, a.Start = s.NoticeAt.UTC(), s.Start.UTC()
	a.Appraisal, a.StartPrice, a.Increment, a.Deposit = s.Appraisal, s.StartPrice, s.Increment, s.Deposit
	a.Teaser = json.RawMessage(teaser)
	for _, r := range s.Rounds {
		a.Rounds = append(a.Rounds, r.UTC())
	}
	if s.Dutch != nil {
		d := *s.Dutch
		a.Dutch = &d
	}
	if outcome.Valid {
		var o market.Outcome
		if err := json.Unmarshal([]byte(outcome.String), &o); err == nil {
			a.Outcome = &o
		}
	}
	if !closed.IsZero() {
		a.ClosedAt = &closed
	}
	return a, sl, nil
}

func (m *Market) auctionRow(ctx context.Context, tx *Tx, id int64) (market.Auction, error) {
	a, _, err := scanAuction(tx.QueryRow(ctx, auctionSelect+` WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return a, reclaim.Errorf(reclaim.ENOTFOUND, "auction %d not found", id)
	}
	return a, err
}

// Auction returns one auction as stored (ENOTFOUND).
func (m *Market) Auction(ctx context.Context, id int64) (market.Auction, error) {
	a, _, err := scanAuction(m.db.r.QueryRowContext(ctx, m.db.rebind(auctionSelect+` WHERE id = ?`), id))
	if err == sql.ErrNoRows {
		return a, reclaim.Errorf(reclaim.ENOTFOUND, "auction %d not found", id)
	}
	return a, dbError(err, "reading an auction")
}

// Auctions lists auctions, newest first; orgID > 0 keeps those the organisation registered for.
func (m *Market) Auctions(ctx context.Context, orgID int64) ([]market.Auction, error) {
	q := auctionSelect + ` ORDER BY id DESC`
	var args []any
	if orgID > 0 {
		q = auctionSelect + ` WHERE id IN (SELECT auction_id FROM market_registrations WHERE org_id = ?) ORDER BY id DESC`
		args = append(args, orgID)
	}
	rows, err := m.db.r.QueryContext(ctx, m.db.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing auctions")
	}
	defer rows.Close()
	out := []market.Auction{}
	for rows.Next() {
		a, _, err := scanAuction(rows)
		if err != nil {
			return nil, dbError(err, "listing auctions")
		}
		out = append(out, a)
	}
	return out, dbError(rows.Err(), "listing auctions")
}

// Teasers lists the public teasers of open marketplace auctions (title, kind, dates and the
// aggregate teaser; no prices, which only registered bidders see).
func (m *Market) Teasers(ctx context.Context) ([]market.Auction, error) {
	all, err := m.Auctions(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := []market.Auction{}
	for _, a := range all {
		if a.Status != market.StatusOpen || a.External {
			continue
		}
		out = append(out, market.Auction{ID: a.ID, Title: a.Title, Description: a.Description, Pack: a.Pack, Format: a.Format, Kind: a.Kind,
			Stage: a.Stage, Loans: a.Loans, Status: a.Status, NoticeAt: a.NoticeAt, Start: a.Start, End: a.End, Teaser: a.Teaser, CreatedAt: a.CreatedAt})
	}
	return out, nil
}

// ---- registration and NDA ---------------------------------------------------------------

// bidderInfo is what the store knows of a caller for one auction.
type bidderInfo struct {
	org        market.Org
	registered bool
	nda        bool
}

// bidderTTL is how long bidder() trusts what it read at most (a safety net: market_epoch,
// read every epochEvery, says when to drop it sooner).
const bidderTTL = 30 * time.Second

// epochEvery is how often a node reads market_epoch (the cross-node staleness bound of the
// bidder cache).
const epochEvery = 250 * time.Millisecond

// checkEpoch reads market_epoch when epochEvery has passed since the last read (one caller at a
// time; the others go on) and clears the bidder cache when it moved or cannot be read.
func (m *Market) checkEpoch(ctx context.Context, now time.Time) {
	last := m.epochAt.Load()
	if now.UnixNano()-last < int64(epochEvery) || !m.epochAt.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	var n int64
	if err := m.db.hotRow(ctx, `SELECT n FROM market_epoch WHERE id = 1`).Scan(&n); err != nil {
		m.forget()
		m.epochAt.Store(0) // read again next time
		return
	}
	if m.epochN.Swap(n) != n {
		m.forget()
	}
}

type cachedBidder struct {
	bi bidderInfo
	at time.Time
}

// forget clears the bidder cache (after a change to organisations or registrations).
func (m *Market) forget() {
	m.whoMu.Lock()
	m.who = nil
	m.whoEpoch++
	m.whoMu.Unlock()
}

func (m *Market) bidder(ctx context.Context, auctionID int64) (bidderInfo, error) {
	u := reclaim.UserFrom(ctx)
	if u == nil {
		return bidderInfo{}, reclaim.Errorf(reclaim.EUNAUTHORIZED, "sign in first")
	}
	k := [2]int64{u.ID, auctionID}
	now := time.Now()
	m.checkEpoch(ctx, now)
	m.whoMu.Lock()
	c, ok := m.who[k]
	epoch := m.whoEpoch
	m.whoMu.Unlock()
	if ok && now.Sub(c.at) < bidderTTL {
		return c.bi, nil
	}
	bi, err := m.readBidder(ctx, u, auctionID)
	if err == nil {
		m.whoMu.Lock()
		if m.whoEpoch == epoch {
			if m.who == nil || len(m.who) > 100_000 {
				m.who = map[[2]int64]cachedBidder{}
			}
			m.who[k] = cachedBidder{bi: bi, at: now}
		}
		m.whoMu.Unlock()
	}
	return bi, err
}

func (m *Market) readBidder(ctx context.Context, u *reclaim.User, auctionID int64) (bidderInfo, error) {
	// One read: the organisation and its registration for the auction (the hot path of a bid).
	var bi bidderInfo
	var nda time.Time
	var reg sql.NullInt64
	o, err := scanOrgWith(m.db.hotRow(ctx, `SELECT o.id, o.name, o.licence_type, o.documents, o.status, o.reason, o.barred,
		o.barred_reason, o.created_at, o.created_by, o.decided_at, o.decided_by, r.auction_id, r.nda_at
		FROM market_org_users u JOIN market_orgs o ON o.id = u.org_id
		LEFT JOIN market_registrations r ON r.org_id = o.id AND r.auction_id = ? WHERE u.user_id = ?`, auctionID, u.ID), &reg, instantScan{&nda})
	if err == sql.ErrNoRows {
		return bi, marketErr(reclaim.EFORBIDDEN, "qualification", "your account does not act for an organisation: register one (POST /api/v1/market/orgs) or ask an administrator to link you")
	}
	if err != nil {
		return bi, dbError(err, "reading a registration")
	}
	bi.org, bi.registered, bi.nda = o, reg.Valid, !nda.IsZero()
	return bi, nil
}

// qualified refuses (and records) a caller whose organisation may not take part: none, not
// approved, or barred.
func (m *Market) qualified(ctx context.Context, auctionID int64, action string) (bidderInfo, error) {
	bi, err := m.bidder(ctx, auctionID)
	if err != nil {
		if reclaim.ErrorCode(err) == reclaim.EFORBIDDEN {
			m.recordAttempt(ctx, auctionID, 0, action, err.Error())
		}
		return bi, err
	}
	var e *reclaim.Error
	switch {
	case bi.org.Status != market.OrgApproved:
		e = marketErr(reclaim.EFORBIDDEN, "qualification", "organisation %q is not qualified to bid (its registration is %s)", bi.org.Name, bi.org.Status)
	case bi.org.Barred:
		e = marketErr(reclaim.EFORBIDDEN, "JA-8", "organisation %q is barred from bidding: %s", bi.org.Name, bi.org.BarredReason)
	}
	if e != nil {
		m.recordAttempt(ctx, auctionID, bi.org.ID, action, e.Message)
		return bi, e
	}
	return bi, nil
}

// Register registers the caller's organisation for an auction (it must be qualified; the
// auction open and not held elsewhere).
func (m *Market) Register(ctx context.Context, auctionID int64) error {
	defer m.forget()
	bi, err := m.qualified(ctx, auctionID, "register")
	if err != nil {
		return err
	}
	a, err := m.Auction(ctx, auctionID)
	if err != nil {
		return err
	}
	if a.External || a.Status != market.StatusOpen || !m.clock().Before(a.End) {
		e := marketErr(reclaim.EINVALID, "", "auction %d is not open for registration", auctionID)
		m.recordAttempt(ctx, auctionID, bi.org.ID, "register", e.Message)
		return e
	}
	if bi.registered {
		return nil
	}
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO market_registrations (auction_id, org_id, registered_at, registered_by) VALUES (?, ?, ?, ?)`,
			auctionID, bi.org.ID, m.db.instant(m.clock()), reclaim.Actor(ctx))
		if isUniqueViolation(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return bumpMarketEpoch(ctx, tx)
	})
	return dbError(err, "registering for an auction")
}

// AcceptNDA records that the caller accepted the auction's NDA for its organisation (who,
// when, which listing). The organisation must be registered.
func (m *Market) AcceptNDA(ctx context.Context, auctionID int64) error {
	defer m.forget()
	bi, err := m.registered(ctx, auctionID, "nda")
	if err != nil {
		return err
	}
	if bi.nda {
		return nil
	}
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE market_registrations SET nda_at = ?, nda_by = ? WHERE auction_id = ? AND org_id = ? AND nda_at IS NULL`,
			m.db.instant(m.clock()), reclaim.Actor(ctx), auctionID, bi.org.ID)
		if err != nil {
			return err
		}
		return bumpMarketEpoch(ctx, tx)
	})
	return dbError(err, "recording an NDA")
}

// registered is qualified plus registration: an auction the organisation did not register for
// is not found (object scope), and the attempt is recorded.
func (m *Market) registered(ctx context.Context, auctionID int64, action string) (bidderInfo, error) {
	bi, err := m.qualified(ctx, auctionID, action)
	if err != nil {
		return bi, err
	}
	if !bi.registered {
		e := marketErr(reclaim.ENOTFOUND, "scope", "auction %d not found among your organisation's registrations", auctionID)
		m.recordAttempt(ctx, auctionID, bi.org.ID, action, e.Message)
		return bi, e
	}
	return bi, nil
}

// Visible reports whether the caller may see an auction: everyone but a bidder may; a bidder
// only one its organisation registered for (ENOTFOUND otherwise).
func (m *Market) Visible(ctx context.Context, auctionID int64) (bidderInfo, error) {
	u := reclaim.UserFrom(ctx)
	if u != nil && u.Role != reclaim.RoleBidder {
		var one int
		if err := m.db.readRow(ctx, `SELECT 1 FROM market_auctions WHERE id = ?`, auctionID).Scan(&one); err == sql.ErrNoRows {
			return bidderInfo{}, reclaim.Errorf(reclaim.ENOTFOUND, "auction %d not found", auctionID)
		} else if err != nil {
			return bidderInfo{}, dbError(err, "reading an auction")
		}
		return bidderInfo{}, nil
	}
	bi, err := m.bidder(ctx, auctionID)
	if err != nil || !bi.registered {
		return bi, reclaim.Errorf(reclaim.ENOTFOUND, "auction %d not found", auctionID)
	}
	return bi, nil
}

// ---- live engines ---------------------------------------------------------------------------

// load returns the auction's live engine, restoring it from the database when this node holds
// none (or dropped a stale one).
func (m *Market) load(ctx context.Context, id int64) (*liveAuction, error) {
	m.mu.Lock()
	la := m.live[id]
	m.mu.Unlock()
	if la != nil && !la.broken.Load() {
		return la, nil
	}
	la, err := m.restore(ctx, id)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.live[id]; cur != nil && !cur.broken.Load() {
		return cur, nil
	}
	m.live[id] = la
	return la, nil
}

// storedEvents reads an auction's records with seq > since, in order.
func (m *Market) storedEvents(ctx context.Context, q func(ctx context.Context, query string, args ...any) (*sql.Rows, error), id, since int64) ([]auction.Record, []string, error) {
	rows, err := q(ctx, `SELECT seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor FROM market_events WHERE auction_id = ? AND seq > ? ORDER BY seq`, id, since)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []auction.Record
	var actors []string
	want := since + 1
	for rows.Next() {
		var r auction.Record
		var seq int64
		var typ, actor string
		var amt sql.NullInt64
		var key sql.NullString
		if err := rows.Scan(&seq, instantScan{&r.At}, &typ, &r.Event.Bidder, &amt, &key, boolScan{&r.Result.Accepted}, &r.Result.Rule, &r.Result.Reason, &actor); err != nil {
			return nil, nil, err
		}
		if seq != want {
			return nil, nil, reclaim.Errorf(reclaim.EINTERNAL, "auction %d: event %d is missing", id, want)
		}
		want++
		r.Event.Type = auction.EventType(typ)
		if amt.Valid {
			r.Event.Amount = money.New(amt.Int64, money.CNY)
		}
		r.Event.Key = key.String
		out = append(out, r)
		actors = append(actors, actor)
	}
	return out, actors, rows.Err()
}

func (m *Market) restore(ctx context.Context, id int64) (*liveAuction, error) {
	var la *liveAuction
	err := m.db.ReadTx(ctx, func(tx *Tx) error {
		a, sl, err := scanAuction(tx.QueryRow(ctx, auctionSelect+` WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "auction %d not found", id)
		} else if err != nil {
			return err
		}
		hist, _, err := m.storedEvents(ctx, tx.Query, id, 0)
		if err != nil {
			return err
		}
		if int64(len(hist)) != a.Seq {
			return reclaim.Errorf(reclaim.EINTERNAL, "auction %d: %d events stored, last_seq %d", id, len(hist), a.Seq)
		}
		l, err := engineListing(sl)
		if err != nil {
			return err
		}
		if a.PreviousID > 0 {
			prev, err := m.auctionRow(ctx, tx, a.PreviousID)
			if err != nil {
				return err
			}
			if prev.Outcome != nil {
				l.Previous = &auction.Previous{StartPrice: prev.StartPrice, End: prev.Outcome.End}
			}
		}
		eng, err := auction.Restore(l, hist)
		if err != nil {
			return reclaim.WrapError(reclaim.EINTERNAL, err, "auction %d: stored history does not replay: %v", id, err)
		}
		la = &liveAuction{id: id, spec: sl, a: eng, seq: a.Seq, keys: map[string]keyRef{}, pending: map[int64]*pendingEvent{}}
		for i, r := range hist {
			if r.Event.Key != "" {
				if _, ok := la.keys[r.Event.Key]; !ok {
					la.keys[r.Event.Key] = keyRef{bidder: r.Event.Bidder, seq: int64(i + 1)}
				}
			}
			la.last = r.At
		}
		la.committed.Store(a.Seq)
		return nil
	})
	return la, dbError(err, "restoring an auction")
}

// RestoreAuction rebuilds an auction's engine from the database (the state after a restart:
// auction.Restore of the listing and the stored records), for tests and tools.
func (m *Market) RestoreAuction(ctx context.Context, id int64) (*auction.Auction, error) {
	la, err := m.restore(ctx, id)
	if err != nil {
		return nil, err
	}
	return la.a, nil
}

// LiveState returns the state of this node's engine for an auction (loading it if needed).
func (m *Market) LiveState(ctx context.Context, id int64) (auction.State, error) {
	la, err := m.load(ctx, id)
	if err != nil {
		return auction.State{}, err
	}
	la.mu.Lock()
	defer la.mu.Unlock()
	return la.a.State(), nil
}

// submit applies one event to the auction's engine at the receipt time and waits until its
// record is durable. extra, when set, is called with the engine's answer (under the auction's
// lock) and may return statements to run in the record's transaction.
func (m *Market) submit(ctx context.Context, id int64, ev auction.Event, extra func(auction.Result) func(context.Context, *Tx) error) (market.BidReceipt, error) {
	if m.closed.Load() {
		return market.BidReceipt{}, reclaim.Errorf(reclaim.EUNAVAILABLE, "the marketplace is shutting down")
	}
	for attempt := 0; ; attempt++ {
		la, err := m.load(ctx, id)
		if err != nil {
			return market.BidReceipt{}, err
		}
		rc, p, repeat, err := m.apply(la, ev, extra)
		if err != nil {
			return rc, err
		}
		if p != nil {
			select {
			case <-p.done:
			case <-ctx.Done():
				// The record may still commit; the client retries with its key.
				return market.BidReceipt{}, reclaim.Errorf(reclaim.ECANCELED, "request cancelled before the bid was confirmed; retry with the same key")
			}
			if p.err != nil {
				// A freeze the account row refused is final for the deposit itself; other
				// records of its batch were only caught up in it and are judged again.
				final := ev.Type == auction.Deposit && errors.Is(p.err, errNoDeposit)
				if errors.Is(p.err, ErrStale) && !final && attempt < 3 && !repeat {
					continue // this node's copy was stale; reload and judge again
				}
				return market.BidReceipt{}, p.err
			}
		}
		return rc, nil
	}
}

func (m *Market) apply(la *liveAuction, ev auction.Event, extra func(auction.Result) func(context.Context, *Tx) error) (market.BidReceipt, *pendingEvent, bool, error) {
	la.mu.Lock()
	defer la.mu.Unlock()
	if la.broken.Load() {
		return market.BidReceipt{}, nil, false, reclaim.WrapError(reclaim.EUNAVAILABLE, ErrStale, "auction %d is reloading; retry", la.id)
	}
	if ev.Key != "" {
		if k, ok := la.keys[ev.Key]; ok {
			if k.bidder != ev.Bidder {
				return market.BidReceipt{}, nil, false, marketErr(reclaim.ECONFLICT, "idempotency", "idempotency key %q is already used on auction %d by another bidder", ev.Key, la.id)
			}
			hist := la.a.History()
			r := hist[k.seq-1]
			rc := la.receipt(k.seq, r)
			rc.Repeat = true
			la.pmu.Lock()
			p := la.pending[k.seq]
			la.pmu.Unlock()
			return rc, p, true, nil
		}
	}
	now := m.clock()
	if now.Before(la.last) {
		now = la.last
	}
	r := la.a.Apply(ev, now)
	if ev.Type == auction.Accept && r.Accepted && !r.Repeat {
		// Store the price the acceptance took (as the engine's record does): the published
		// history and its hash list it like any winning bid.
		ev.Amount, _ = la.a.Standing()
	}
	la.last = now
	la.seq++
	rec := auction.Record{At: now, Event: ev, Result: r}
	p := &pendingEvent{la: la, seq: la.seq, rec: rec, end: la.a.ClosesAt(), code: la.a.Code(ev.Bidder), done: make(chan struct{}),
		seal: la.spec.Spec.Format == string(auction.Sealed) || ev.Type == auction.Quote}
	if extra != nil {
		p.extra = extra(r)
	}
	if ev.Key != "" {
		la.keys[ev.Key] = keyRef{bidder: ev.Bidder, seq: la.seq}
	}
	la.pmu.Lock()
	la.pending[la.seq] = p
	la.pmu.Unlock()
	la.inflight.Add(1)
	m.queue <- p
	return la.receipt(la.seq, rec), p, false, nil
}

// receipt describes a record for its bidder (call with la.mu held).
func (la *liveAuction) receipt(seq int64, r auction.Record) market.BidReceipt {
	price, _ := la.a.Standing()
	return market.BidReceipt{AuctionID: la.id, Seq: seq, At: r.At, Accepted: r.Result.Accepted, Rule: r.Result.Rule, Reason: r.Result.Reason,
		Amount: r.Event.Amount, Price: price, End: la.a.ClosesAt(), Code: la.a.Code(r.Event.Bidder)}
}

// batcher commits queued records in groups: everything queued while the previous transaction
// ran goes into the next one.
func (m *Market) batcher() {
	defer m.wg.Done()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		var first *pendingEvent
		select {
		case first = <-m.queue:
		case <-m.stop:
			// Write what is queued, then stop.
			for {
				select {
				case p := <-m.queue:
					m.commit([]*pendingEvent{p})
				default:
					return
				}
			}
		}
		batch := []*pendingEvent{first}
	drain:
		for len(batch) < m.maxBatch {
			select {
			case p := <-m.queue:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		if m.linger > 0 && m.prev.Load() >= LingerAfter && len(batch) < m.maxBatch {
			// Under load, wait a little for the bids that are on their way: fewer, larger
			// commits (a commit's fixed cost, the WAL write and its sync, is most of a small
			// batch's), at the cost of at most Linger on each acknowledgement (docs/benchmarks.md,
			// "Group commit linger").
			linger.Reset(m.linger)
			m.held.Store(int64(len(batch)))
		wait:
			for len(batch) < m.maxBatch {
				select {
				case p := <-m.queue:
					batch = append(batch, p)
					m.held.Store(int64(len(batch)))
				case <-linger.C:
					break wait
				case <-m.stop:
					break wait
				}
			}
			linger.Stop()
			m.held.Store(0)
		}
		m.prev.Store(int64(len(batch)))
		m.commit(batch)
	}
}

// DefaultLinger is MarketOptions.Linger's default, and LingerAfter the batch size from which
// the batcher lingers before the next commit.
const (
	DefaultLinger = time.Millisecond
	LingerAfter   = 4
)

// commit writes a batch in one transaction; when that fails, each auction's records in their
// own, so that one stale auction does not fail the others.
func (m *Market) commit(batch []*pendingEvent) {
	var groups [][]*pendingEvent
	idx := map[*liveAuction]int{}
	for _, p := range batch {
		if p.la.broken.Load() {
			m.finish([]*pendingEvent{p}, reclaim.WrapError(reclaim.EUNAVAILABLE, ErrStale, "auction %d is reloading; retry", p.la.id), nil)
			continue
		}
		i, ok := idx[p.la]
		if !ok {
			i = len(groups)
			idx[p.la] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], p)
	}
	if len(groups) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// REPEATABLE READ on PostgreSQL, not SERIALIZABLE: the arbiter is the conditional update of
	// last_seq (and the events' primary key), which fails a batch built on a stale engine under
	// either level; serializable predicate locks only added spurious 40001 aborts under load.
	err := m.batchTx(ctx, func(tx *Tx) error { return m.writeGroups(ctx, tx, groups) })
	var notes []Note
	if err == nil {
		m.stats.batches.Add(1)
		m.stats.records.Add(int64(len(batch)))
		for _, g := range groups {
			notes = m.finish(g, nil, notes)
		}
		m.announce(notes)
		return
	}
	if len(groups) == 1 {
		m.fail(groups[0], err)
		return
	}
	for _, g := range groups {
		err := m.batchTx(ctx, func(tx *Tx) error { return m.writeGroups(ctx, tx, [][]*pendingEvent{g}) })
		if err != nil {
			m.fail(g, err)
		} else {
			notes = m.finish(g, nil, notes)
		}
	}
	m.announce(notes)
}

// batchTx runs a batch's transaction: sequenceTx, on SQLite on a connection held for the
// transaction (writeTxConn), so that writeGroups reaches the driver's handle.
func (m *Market) batchTx(ctx context.Context, fn func(*Tx) error) error {
	if m.db.dialect == SQLite {
		return m.db.writeTxConn(ctx, fn)
	}
	return m.db.sequenceTx(ctx, fn)
}

func (m *Market) writeGroups(ctx context.Context, tx *Tx, groups [][]*pendingEvent) error {
	var all []*pendingEvent
	for _, g := range groups {
		all = append(all, g...)
	}
	err := errNoRawHandle
	if m.db.dialect == SQLite && tx.conn != nil {
		err = m.insertEventsRaw(ctx, tx, all)
	}
	if err == errNoRawHandle {
		err = m.insertEvents(ctx, tx, all)
	}
	if err != nil {
		if isUniqueViolation(err) {
			return reclaim.WrapError(reclaim.EUNAVAILABLE, ErrStale, "auction events conflict with another node's; retry")
		}
		return err
	}
	for _, g := range groups {
		for _, p := range g {
			if p.extra != nil {
				if err := p.extra(ctx, tx); err != nil {
					return err
				}
			}
		}
	}
	// Every auction of the batch advances its last_seq (and end) from the value its records were
	// built on, in one statement: a round trip per auction made the batch's transaction, and so
	// every bid's acknowledgement, wait on 20 round trips under load on PostgreSQL.
	n, err := int64(0), errNoRawHandle
	if m.db.dialect == SQLite && tx.conn != nil {
		n, err = m.advanceRaw(ctx, tx, groups)
	}
	if err == errNoRawHandle {
		var res sql.Result
		if res, err = tx.Exec(ctx, m.advanceSQL(len(groups)), advanceArgs(m.db, groups)...); err == nil {
			n, _ = res.RowsAffected()
		}
	}
	if err != nil {
		return err
	}
	if n != int64(len(groups)) {
		if len(groups) == 1 {
			return reclaim.WrapError(reclaim.EUNAVAILABLE, ErrStale, "auction %d changed on another node; retry", groups[0][0].la.id)
		}
		return reclaim.WrapError(reclaim.EUNAVAILABLE, ErrStale, "%d of %d auctions in the batch changed on another node; retry", int64(len(groups))-n, len(groups))
	}
	return nil
}

// insertEvents inserts the records through database/sql (PostgreSQL, and SQLite when the raw
// handle cannot be read).
func (m *Market) insertEvents(ctx context.Context, tx *Tx, all []*pendingEvent) error {
	return insertRows(ctx, tx, `INSERT INTO market_events (auction_id, seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor) VALUES `, 11, len(all),
		func(i int, a []any) []any {
			p := all[i]
			var amt, key any
			if !p.rec.Event.Amount.IsAbsent() {
				amt = p.rec.Event.Amount.Minor()
			}
			if p.rec.Event.Key != "" {
				key = p.rec.Event.Key
			}
			return append(a, p.la.id, p.seq, m.db.instant(p.rec.At), string(p.rec.Event.Type), p.rec.Event.Bidder, amt, key, p.rec.Result.Accepted,
				p.rec.Result.Rule, truncate(p.rec.Result.Reason, 1000), p.actor)
		})
}

// advanceSQL is the statement that moves n auctions' last_seq and end_at, each only from the
// last_seq its records follow (the arbiter between nodes): a VALUES list of (id, new seq, end,
// base seq) joined to market_auctions. PostgreSQL needs the parameters' types in the list.
func (m *Market) advanceSQL(n int) string {
	if n < len(m.advance) && m.advance[n] != "" {
		return m.advance[n]
	}
	row := "(?, ?, ?, ?)"
	if m.db.dialect == Postgres {
		row = "(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TIMESTAMPTZ), CAST(? AS BIGINT))"
	}
	var b strings.Builder
	b.WriteString("WITH v (id, seq, end_at, base) AS (VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(") UPDATE market_auctions SET last_seq = v.seq, end_at = v.end_at FROM v WHERE market_auctions.id = v.id AND market_auctions.last_seq = v.base")
	q := b.String()
	if n < len(m.advance) {
		m.advance[n] = q // only the batcher goroutine calls this
	}
	return q
}

// advanceArgs returns advanceSQL's arguments for the groups (one group per auction, in order).
func advanceArgs(d *DB, groups [][]*pendingEvent) []any {
	args := make([]any, 0, 4*len(groups))
	for _, g := range groups {
		last := g[len(g)-1]
		args = append(args, last.la.id, last.seq, d.instant(last.end), g[0].seq-1)
	}
	return args
}

// finish acknowledges committed records (err nil) or fails them; it returns notes with the
// committed records' notes appended (for announce).
func (m *Market) finish(g []*pendingEvent, err error, notes []Note) []Note {
	if len(g) == 0 {
		return notes
	}
	la := g[0].la
	if err == nil {
		la.committed.Store(g[len(g)-1].seq)
	}
	la.pmu.Lock()
	for _, p := range g {
		delete(la.pending, p.seq)
	}
	la.pmu.Unlock()
	for _, p := range g {
		p.err = err
		la.inflight.Add(-1)
		close(p.done)
	}
	if err == nil && m.notifying() {
		for _, p := range g {
			if p.rec.Result.Accepted { // a rejection is its bidder's business (it has the answer)
				notes = append(notes, Note{AuctionID: la.id, Type: "event", Data: eventView(p.seq, p.rec, p.code, p.seal)})
			}
		}
	}
	return notes
}

// fail drops the auction's engine (the next request reloads it from the database) and fails
// the records.
func (m *Market) fail(g []*pendingEvent, err error) {
	la := g[0].la
	la.broken.Store(true)
	m.mu.Lock()
	if m.live[la.id] == la {
		delete(m.live, la.id)
	}
	m.mu.Unlock()
	if !errors.Is(err, ErrStale) {
		err = reclaim.WrapError(reclaim.EUNAVAILABLE, errors.Join(ErrStale, err), "the bid could not be stored; retry with the same key")
	}
	m.finish(g, err, nil)
}

// publicEvent is a stored event as everyone may see it live: the bidder by code.
func (m *Market) publicEvent(la *liveAuction, seq int64, r auction.Record) market.Event {
	la.mu.Lock()
	code := la.a.Code(r.Event.Bidder)
	sealed := (la.spec.Spec.Format == string(auction.Sealed) || r.Event.Type == auction.Quote) && !la.a.Closed()
	la.mu.Unlock()
	return eventView(seq, r, code, sealed)
}

func eventView(seq int64, r auction.Record, code string, sealed bool) market.Event {
	e := market.Event{Seq: seq, At: r.At, Type: string(r.Event.Type), Bidder: code, Amount: r.Event.Amount, Accepted: r.Result.Accepted,
		Rule: r.Result.Rule, Reason: r.Result.Reason}
	if sealed {
		e.Amount, e.Reason = money.Amount{}, ""
	}
	if !r.Result.Accepted {
		e.Bidder, e.Amount, e.Reason = "", money.Amount{}, "" // a rejection is its bidder's business
	}
	return e
}

// ---- bidding --------------------------------------------------------------------------------

// PlaceBid places the caller's organisation's bid. It is refused before the engine (recorded in
// market_attempts, nothing else changed) when the amount is absent, not positive or absurd, the
// organisation unqualified, barred or not registered; otherwise the engine judges it at the
// server's receipt time and the record (accepted or rejected) is durable before this returns.
// A key seen before on the auction returns the original answer with Repeat set.
func (m *Market) PlaceBid(ctx context.Context, auctionID int64, req market.BidRequest) (market.BidReceipt, error) {
	typ := auction.Bid
	switch req.Type {
	case "", "bid":
	case "quote":
		typ = auction.Quote
	case "accept":
		typ = auction.Accept
	default:
		return market.BidReceipt{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("type %q is not bid, quote or accept", req.Type), Fields: map[string]string{"type": "unknown"}}
	}
	bi, err := m.registered(ctx, auctionID, "bid")
	if err != nil {
		return market.BidReceipt{}, err
	}
	if typ != auction.Accept && (req.Amount.IsAbsent() || req.Amount.Currency() != money.CNY || req.Amount.Sign() <= 0 || req.Amount.Cmp(auction.MaxAmount) > 0) {
		e := &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("a bid is a positive CNY amount of at most %s yuan, not %s", auction.MaxAmount, req.Amount),
			Fields: map[string]string{"amount": "out of range"}}
		m.recordAttempt(ctx, auctionID, bi.org.ID, "bid", e.Message)
		return market.BidReceipt{}, e
	}
	if len(req.Key) > 128 || textnorm.Check(req.Key) != nil {
		return market.BidReceipt{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "the idempotency key is at most 128 characters of text", Fields: map[string]string{"key": "invalid"}}
	}
	if strings.HasPrefix(req.Key, "deposit:") || strings.HasPrefix(req.Key, roundKeyPrefix) {
		// The marketplace's own events use these keys: a bidder taking one would block another
		// organisation's deposit or a round's close.
		e := &reclaim.Error{Code: reclaim.EINVALID, Message: "idempotency keys starting with \"deposit:\" or \"" + roundKeyPrefix + "\" are reserved", Fields: map[string]string{"key": "reserved"}}
		m.recordAttempt(ctx, auctionID, bi.org.ID, "bid", e.Message)
		return market.BidReceipt{}, e
	}
	la, err := m.load(ctx, auctionID) // the listing, without another read
	if err != nil {
		return market.BidReceipt{}, err
	}
	if sp := la.spec.Spec; sp.External {
		e := marketErr(reclaim.EINVALID, "", "auction %d is held on %s: bids are not taken here", auctionID, sp.Platform)
		m.recordAttempt(ctx, auctionID, bi.org.ID, "bid", e.Message)
		return market.BidReceipt{}, e
	}
	ev := auction.Event{Type: typ, Bidder: engineName(bi.org.ID), Amount: req.Amount, Key: req.Key}
	if typ == auction.Accept {
		ev.Amount = money.Amount{}
	}
	rc, err := m.submit(ctx, auctionID, ev, nil)
	if err == nil && rc.Repeat {
		m.recordAttempt(ctx, auctionID, bi.org.ID, "bid.replayed", fmt.Sprintf("key %q answered with event %d", req.Key, rc.Seq))
	}
	return rc, err
}

// FreezeDeposit freezes the auction's deposit in the caller's organisation's account and
// records the engine's deposit event (JA-4), in one transaction. The account must hold the
// deposit available.
func (m *Market) FreezeDeposit(ctx context.Context, auctionID int64) (market.BidReceipt, error) {
	bi, err := m.registered(ctx, auctionID, "deposit")
	if err != nil {
		return market.BidReceipt{}, err
	}
	a, err := m.Auction(ctx, auctionID)
	if err != nil {
		return market.BidReceipt{}, err
	}
	dep := a.Deposit
	mu, _ := m.orgs.LoadOrStore(bi.org.ID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if dep.Sign() > 0 {
		var bal, frozen int64
		if bal, frozen, err = balances(ctx, m.db.readRow, bi.org.ID); err != nil {
			return market.BidReceipt{}, dbError(err, "reading a deposit account")
		}
		if bal-frozen < dep.Minor() {
			e := marketErr(reclaim.EINVALID, packCode(a.Pack, auction.RuleDeposit), "the deposit of %s needs that much available in organisation %q's account (available %s)",
				dep, bi.org.Name, money.New(bal-frozen, money.CNY))
			m.recordAttempt(ctx, auctionID, bi.org.ID, "deposit", e.Message)
			return market.BidReceipt{}, e
		}
	}
	actor := reclaim.Actor(ctx)
	orgID := bi.org.ID
	rc, err := m.submit(ctx, auctionID, auction.Event{Type: auction.Deposit, Bidder: engineName(orgID), Key: "deposit:" + engineName(orgID)},
		func(r auction.Result) func(context.Context, *Tx) error {
			if !r.Accepted || dep.Sign() <= 0 {
				return nil
			}
			return func(ctx context.Context, tx *Tx) error {
				// The account row decides (another node may have frozen it since the check above).
				return addMovement(ctx, tx, m.db, orgID, auctionID, market.MoveFreeze, dep.Minor(), m.clock(), actor, "deposit before bidding")
			}
		})
	if errors.Is(err, errNoDeposit) {
		var bal, frozen int64
		if b, f, berr := balances(ctx, m.db.readRow, orgID); berr == nil {
			bal, frozen = b, f
		}
		e := marketErr(reclaim.EINVALID, packCode(a.Pack, auction.RuleDeposit), "the deposit of %s needs that much available in organisation %q's account (available %s)",
			dep, bi.org.Name, money.New(bal-frozen, money.CNY))
		m.recordAttempt(ctx, auctionID, orgID, "deposit", e.Message)
		return market.BidReceipt{}, e
	}
	return rc, err
}

func packCode(pack string, rule int) string {
	p, ok := auction.Packs(pack)
	if !ok {
		return ""
	}
	return p.Code(rule)
}

// State returns an auction as the caller sees it, resynchronised from the database: this
// node's engine is used only when it holds every stored event, and is reloaded otherwise.
func (m *Market) State(ctx context.Context, auctionID int64) (market.State, error) {
	bi, err := m.Visible(ctx, auctionID)
	if err != nil {
		return market.State{}, err
	}
	for attempt := 0; ; attempt++ {
		a, err := m.Auction(ctx, auctionID)
		if err != nil {
			return market.State{}, err
		}
		la, err := m.load(ctx, auctionID)
		if err != nil {
			return market.State{}, err
		}
		// This node's engine must hold every stored event: records it is still writing count
		// once written; short of that another node moved on, and the engine is reloaded.
		for until := time.Now().Add(5 * time.Second); la.committed.Load() < a.Seq && la.inflight.Load() > 0 && !la.broken.Load() &&
			ctx.Err() == nil && time.Now().Before(until); {
			time.Sleep(time.Millisecond)
		}
		if la.committed.Load() < a.Seq {
			m.drop(la)
			if la, err = m.load(ctx, auctionID); err != nil {
				return market.State{}, err
			}
		}
		st := market.State{Auction: a, Registered: bi.registered, NDA: bi.nda, Now: m.clock()}
		la.mu.Lock()
		st.View = la.a.PublicView()
		if l := la.a.Listing(); l.Format == auction.Dutch && !la.a.Closed() {
			// The scheduled price now (the view's is as of the last event), and its next step.
			at := maxTime(st.Now, la.last)
			st.View.DutchPrice = l.DutchPrice(at)
			if next, ok := l.DutchNextStep(at); ok && next.Before(la.a.End()) {
				st.DutchNext = &next
			}
		}
		if bi.org.ID > 0 {
			st.MyCode = la.a.Code(engineName(bi.org.ID))
			st.Deposited = slices.Contains(la.a.State().Deposited, engineName(bi.org.ID))
		}
		seq := la.seq
		la.mu.Unlock()
		// Show only what is durable: wait until every event the view reflects is written.
		if m.waitCommitted(ctx, la, seq) {
			m.reveal(ctx, &st.View)
			st.Auction.End, st.Auction.Seq = st.View.End, seq
			return st, nil
		}
		if attempt >= 3 || ctx.Err() != nil {
			return market.State{}, reclaim.Errorf(reclaim.EUNAVAILABLE, "auction %d is busy reloading; retry", auctionID)
		}
	}
}

// waitCommitted waits (at most 10 s) until the engine's records up to seq are written; false
// when the engine was dropped meanwhile (a write failed) or the wait ended.
func (m *Market) waitCommitted(ctx context.Context, la *liveAuction, seq int64) bool {
	deadline := time.Now().Add(10 * time.Second)
	for la.committed.Load() < seq {
		if la.broken.Load() || ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(500 * time.Microsecond)
	}
	return true
}

// reveal replaces the engine's names of organisations ("O12") by their names once bidding has
// ended (the view shows names only then).
func (m *Market) reveal(ctx context.Context, v *auction.View) {
	names := map[string]string{}
	name := func(s string) string {
		if !strings.HasPrefix(s, "O") || orgOfEngineName(s) == 0 {
			return s
		}
		if n, ok := names[s]; ok {
			return n
		}
		o, err := m.Org(ctx, orgOfEngineName(s))
		if err != nil {
			return s
		}
		names[s] = o.Name
		return o.Name
	}
	v.Leader, v.Winner = name(v.Leader), name(v.Winner)
	for i := range v.Bids {
		v.Bids[i].Bidder = name(v.Bids[i].Bidder)
	}
	for i := range v.Rounds {
		v.Rounds[i].Bidder = name(v.Rounds[i].Bidder)
	}
}

// Events returns the stored events after seq since (for a reconnecting client), as the caller
// may see them: bidders by code while bidding runs (the caller's own marked), rejected events
// only the caller's own, sealed amounts hidden until the close.
func (m *Market) Events(ctx context.Context, auctionID, since int64, limit int) ([]market.Event, error) {
	bi, err := m.Visible(ctx, auctionID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	q := func(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
		return m.db.r.QueryContext(ctx, m.db.rebind(query+` LIMIT `+strconv.Itoa(limit)), args...)
	}
	recs, _, err := m.storedEvents(ctx, q, auctionID, max(since, 0))
	if err != nil {
		return nil, dbError(err, "reading auction events")
	}
	la, err := m.load(ctx, auctionID)
	if err != nil {
		return nil, err
	}
	me := ""
	if bi.org.ID > 0 {
		me = engineName(bi.org.ID)
	}
	u := reclaim.UserFrom(ctx)
	staff := u != nil && u.Role != reclaim.RoleBidder
	out := make([]market.Event, 0, len(recs))
	for i, r := range recs {
		seq := max(since, 0) + int64(i) + 1
		e := m.publicEvent(la, seq, r)
		if r.Event.Bidder == me || staff {
			e.Mine = r.Event.Bidder == me
			e.Amount, e.Reason = r.Event.Amount, r.Result.Reason
			if e.Bidder == "" {
				e.Bidder = la.a.Code(r.Event.Bidder)
			}
		}
		if !r.Result.Accepted && !e.Mine && !staff {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// MyBids returns the caller's organisation's events on every auction it registered for.
func (m *Market) MyBids(ctx context.Context) ([]market.Event, error) {
	u := reclaim.UserFrom(ctx)
	if u == nil {
		return nil, reclaim.Errorf(reclaim.EUNAUTHORIZED, "sign in first")
	}
	o, err := m.OrgOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	rows, err := m.db.r.QueryContext(ctx, m.db.rebind(`SELECT auction_id, seq, at, type, amount_minor, accepted, rule, reason FROM market_events
		WHERE bidder = ? ORDER BY at DESC, seq DESC LIMIT 1000`), engineName(o.ID))
	if err != nil {
		return nil, dbError(err, "reading bids")
	}
	defer rows.Close()
	out := []market.Event{}
	for rows.Next() {
		var e market.Event
		var aid int64
		var amt sql.NullInt64
		if err := rows.Scan(&aid, &e.Seq, instantScan{&e.At}, &e.Type, &amt, boolScan{&e.Accepted}, &e.Rule, &e.Reason); err != nil {
			return nil, dbError(err, "reading bids")
		}
		if amt.Valid {
			e.Amount = money.New(amt.Int64, money.CNY)
		}
		e.AuctionID, e.Mine = aid, true
		out = append(out, e)
	}
	return out, dbError(rows.Err(), "reading bids")
}

// ---- data room: tape downloads and listing files ------------------------------------------------

// TapeAccess decides whether the caller may download an auction's masked tape and, when so,
// logs the download (its watermark id, who, which organisation, when) before a byte leaves.
// The caller's organisation must be qualified, registered and have accepted the NDA; the
// auction must be an NPL package. It returns the portfolio to export.
func (m *Market) TapeAccess(ctx context.Context, auctionID int64, watermark string) (int64, error) {
	bi, err := m.registered(ctx, auctionID, "tape")
	if err != nil {
		return 0, err
	}
	if !bi.nda {
		e := marketErr(reclaim.EFORBIDDEN, "nda", "accept the NDA of auction %d before downloading its tape", auctionID)
		m.recordAttempt(ctx, auctionID, bi.org.ID, "tape", e.Message)
		return 0, e
	}
	a, err := m.Auction(ctx, auctionID)
	if err != nil {
		return 0, err
	}
	if a.PortfolioID == 0 {
		return 0, reclaim.Errorf(reclaim.EINVALID, "auction %d sells no loans: it has no tape", auctionID)
	}
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO market_downloads (watermark, auction_id, org_id, actor, kind, loans, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			watermark, auctionID, bi.org.ID, reclaim.Actor(ctx), "masked", a.Loans, m.db.instant(m.clock()))
		return err
	})
	return a.PortfolioID, dbError(err, "logging a tape download")
}

// Download is market.Download.
type Download = market.Download

// Downloads lists an auction's logged tape downloads, newest first.
func (m *Market) Downloads(ctx context.Context, auctionID int64) ([]Download, error) {
	rows, err := m.db.r.QueryContext(ctx, m.db.rebind(`SELECT watermark, auction_id, org_id, actor, kind, at FROM market_downloads WHERE auction_id = ? ORDER BY at DESC`), auctionID)
	if err != nil {
		return nil, dbError(err, "reading downloads")
	}
	defer rows.Close()
	out := []Download{}
	for rows.Next() {
		var d Download
		var org sql.NullInt64
		if err := rows.Scan(&d.Watermark, &d.AuctionID, &org, &d.Actor, &d.Kind, instantScan{&d.At}); err != nil {
			return nil, dbError(err, "reading downloads")
		}
		d.OrgID = org.Int64
		out = append(out, d)
	}
	return out, dbError(rows.Err(), "reading downloads")
}

// Blob limits: listing files are photos (JPEG, PNG, WebP) or documents (PDF), at most
// MaxBlobSize bytes each and MaxBlobs per auction.
const (
	MaxBlobSize = market.MaxFileBytes
	MaxBlobs    = 50
)

var blobTypes = map[string]string{"image/jpeg": "photo", "image/png": "photo", "image/webp": "photo", "application/pdf": "document"}

// BlobInfo is market.BlobInfo.
type BlobInfo = market.BlobInfo

// AddBlob stores a photo or document of a listing (appraisal report, title deed, photos of the
// collateral). The content type is checked against the bytes' own signature.
func (m *Market) AddBlob(ctx context.Context, auctionID int64, name, contentType string, data []byte) (BlobInfo, error) {
	name = textnorm.Trim(name)
	if name == "" || len(name) > 200 || textnorm.Check(name) != nil {
		return BlobInfo{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "a file needs a name of 1 to 200 characters", Fields: map[string]string{"name": "invalid"}}
	}
	kind, ok := blobTypes[contentType]
	if !ok {
		return BlobInfo{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("content type %q is not accepted (JPEG, PNG, WebP or PDF)", contentType), Fields: map[string]string{"content_type": "unsupported"}}
	}
	if len(data) == 0 || len(data) > MaxBlobSize {
		return BlobInfo{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("a file is 1 byte to %d MiB", MaxBlobSize>>20), Fields: map[string]string{"size": strconv.Itoa(len(data))}}
	}
	if sniffed := sniff(data); sniffed != contentType {
		return BlobInfo{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("the file is not %s", contentType), Fields: map[string]string{"content_type": "does not match the content"}}
	}
	sum := sha256Hex(data)
	var id int64
	err := m.db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := m.auctionRow(ctx, tx, auctionID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM market_blobs WHERE auction_id = ?`, auctionID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxBlobs {
			return reclaim.Errorf(reclaim.EINVALID, "auction %d already has %d files", auctionID, MaxBlobs)
		}
		return tx.QueryRow(ctx, `INSERT INTO market_blobs (auction_id, kind, name, content_type, size, sha256, data, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			auctionID, kind, name, contentType, len(data), sum, data, m.db.instant(m.clock()), reclaim.Actor(ctx)).Scan(&id)
	})
	if err != nil {
		return BlobInfo{}, dbError(err, "storing a listing file")
	}
	return BlobInfo{ID: id, AuctionID: auctionID, Kind: kind, Name: name, ContentType: contentType, Size: int64(len(data)), SHA256: sum, At: m.clock()}, nil
}

// Blobs lists an auction's files (without their bytes).
func (m *Market) Blobs(ctx context.Context, auctionID int64) ([]BlobInfo, error) {
	rows, err := m.db.r.QueryContext(ctx, m.db.rebind(`SELECT id, auction_id, kind, name, content_type, size, sha256, at FROM market_blobs WHERE auction_id = ? ORDER BY id`), auctionID)
	if err != nil {
		return nil, dbError(err, "listing files")
	}
	defer rows.Close()
	out := []BlobInfo{}
	for rows.Next() {
		var b BlobInfo
		if err := rows.Scan(&b.ID, &b.AuctionID, &b.Kind, &b.Name, &b.ContentType, &b.Size, &b.SHA256, instantScan{&b.At}); err != nil {
			return nil, dbError(err, "listing files")
		}
		out = append(out, b)
	}
	return out, dbError(rows.Err(), "listing files")
}

// Blob returns one file of an auction with its bytes (ENOTFOUND).
func (m *Market) Blob(ctx context.Context, auctionID, id int64) (BlobInfo, []byte, error) {
	var b BlobInfo
	var data []byte
	err := m.db.readRow(ctx, `SELECT id, auction_id, kind, name, content_type, size, sha256, at, data FROM market_blobs WHERE auction_id = ? AND id = ?`, auctionID, id).
		Scan(&b.ID, &b.AuctionID, &b.Kind, &b.Name, &b.ContentType, &b.Size, &b.SHA256, instantScan{&b.At}, &data)
	if err == sql.ErrNoRows {
		return b, nil, reclaim.Errorf(reclaim.ENOTFOUND, "file %d of auction %d not found", id, auctionID)
	}
	return b, data, dbError(err, "reading a file")
}

func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	case len(b) >= 5 && string(b[:5]) == "%PDF-":
		return "application/pdf"
	}
	return ""
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// CanSee reports whether the caller may see an auction (ENOTFOUND when not: a bidder sees only
// the auctions its organisation registered for).
func (m *Market) CanSee(ctx context.Context, auctionID int64) error {
	_, err := m.Visible(ctx, auctionID)
	return err
}
