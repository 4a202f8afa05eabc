package ledger_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/ingest"
	"reclaim/ledger"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// cluster is one or more app nodes (ledger service + HTTP server) on one database.
type cluster struct {
	t      *testing.T
	dsn    string
	dir    string
	keys   *pii.Keyring
	app    string // application_name prefix of the nodes' connections (PostgreSQL)
	logs   *syncBuffer
	signed map[int64]map[string]bool // checkpoint size -> nodes that signed it
	mu     sync.Mutex
	nodes  map[string]*node
}

type node struct {
	name   string
	db     *sqldb.DB
	broker *events.Broker
	svc    *ledger.Service
	ts     *httptest.Server
	cancel context.CancelFunc
	done   chan struct{}
	dead   atomic.Bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (c *cluster) nodeDSN(name string) string {
	if !strings.HasPrefix(c.dsn, "postgres") {
		return c.dsn
	}
	u, err := url.Parse(c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", c.app+name)
	u.RawQuery = q.Encode()
	return u.String()
}

// start runs a node: its own connection pool, broker (fanned out on PostgreSQL), ledger service
// (sharing the log's signing key; its own publisher state, kept across its restarts) and server.
func (c *cluster) start(name, stateName string) *node {
	c.t.Helper()
	db, err := sqldb.Open(context.Background(), c.nodeDSN(name), sqldb.Options{MaxConns: 12})
	if err != nil {
		c.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	broker := events.New(events.Options{Fanout: db.Fanout(log)})
	svc, err := ledger.New(db, broker, log, ledger.Config{KeyFile: filepath.Join(c.dir, "ledger.key"), CreateKey: true, Origin: "test.example/ledger",
		Node: name, LeaseTTL: time.Second, Interval: 300 * time.Millisecond, StateFile: filepath.Join(c.dir, stateName+".state.json"),
		Signed: func(node, origin string, size int64) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.signed[size] == nil {
				c.signed[size] = map[string]bool{}
			}
			c.signed[size][node] = true
		}})
	if err != nil {
		c.t.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Config{Logger: log, UploadDir: c.dir, Ledger: svc, Collectors: svc.Collectors()},
		sqldb.KeyedDB{DB: db, Keys: c.keys}, c.keys, broker)
	if err != nil {
		c.t.Fatal(err)
	}
	n := &node{name: name, db: db, broker: broker, svc: svc, ts: httptest.NewServer(srv.Handler()), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.done)
		svc.Run(ctx)
	}()
	c.mu.Lock()
	c.nodes[name] = n
	c.mu.Unlock()
	c.t.Cleanup(func() { c.kill(n) })
	return n
}

// kill stops a node abruptly: its database goes first (so it cannot hand its lease over), then
// its sequencer and its server, dropping every connection to it.
func (c *cluster) kill(n *node) {
	if n.dead.Swap(true) {
		return
	}
	n.db.Close()
	n.cancel()
	<-n.done
	n.ts.CloseClientConnections()
	n.ts.Close()
	n.broker.Close()
}

// live returns the URLs of the running nodes.
func (c *cluster) live() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, n := range c.nodes {
		if !n.dead.Load() {
			out = append(out, n.ts.URL)
		}
	}
	return out
}

func (c *cluster) leader() *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if role, _, _ := n.svc.Leadership(); role == "leader" && !n.dead.Load() {
			return n
		}
	}
	return nil
}

// holder returns the node that holds the lease (on SQLite: the running node).
func (c *cluster) holder(db *sqldb.DB) *node {
	h, err := db.LeaseHolder(context.Background(), sqldb.LedgerRole)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.dead.Load() {
			continue
		}
		if role, _, _ := n.svc.Leadership(); role == "leader" && (db.Dialect() != sqldb.Postgres || h.Live && h.Node == n.name) {
			return n
		}
	}
	return nil
}

// subscriber is an SSE client of ledger.<pool> that reconnects (to any live node) with its
// Last-Event-ID, and on `gap` reloads the missing entries through the API, as the console does.
type subscriber struct {
	id    int
	c     *cluster
	pool  string
	token string

	mu        sync.Mutex
	got       map[int64]int // index -> times received as a live entry
	reloaded  map[int64]bool
	gaps      int
	resumes   int
	last      string // Last-Event-ID
	started   chan struct{}
	startOnce sync.Once
	entries   atomic.Int64
}

func (s *subscriber) run(ctx context.Context, prefer string) {
	target := prefer
	for ctx.Err() == nil {
		if target == "" {
			live := s.c.live()
			if len(live) == 0 {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			target = live[(s.id+s.resumes)%len(live)]
		}
		s.stream(ctx, target)
		target = ""
		s.mu.Lock()
		s.resumes++
		s.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *subscriber) stream(ctx context.Context, base string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream?topic=ledger."+s.pool, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	s.mu.Lock()
	if s.last != "" {
		req.Header.Set("Last-Event-ID", s.last)
	}
	s.mu.Unlock()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return
	}
	s.startOnce.Do(func() { close(s.started) })
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, typ, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "":
			s.handle(ctx, base, id, typ, data)
			id, typ, data = "", "", ""
		}
	}
}

func (s *subscriber) handle(ctx context.Context, base, id, typ, data string) {
	switch typ {
	case "entry":
		var ev tlog.EntryEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil || ev.Entry == "" || tlog.Cursor(ev.Index) != id {
			s.c.t.Errorf("subscriber %d: bad entry event id %q data %q", s.id, id, data)
			return
		}
		s.mu.Lock()
		s.got[ev.Index]++
		s.last = id
		s.mu.Unlock()
		s.entries.Add(1)
	case "gap":
		var g struct{ From, To int64 }
		json.Unmarshal([]byte(data), &g)
		s.mu.Lock()
		s.gaps++
		s.last = id
		s.mu.Unlock()
		if os.Getenv("MN_DEBUG") != "" {
			s.c.t.Logf("subscriber %d: gap %d..%d on %s", s.id, g.From, g.To, base)
		}
		s.reload(ctx, base, g.From, g.To)
	case "":
	default:
		if id != "" {
			s.mu.Lock()
			s.last = id
			s.mu.Unlock()
		}
	}
}

// reload fetches entries [from, to) through the entries API (what the console does on gap).
func (s *subscriber) reload(ctx context.Context, base string, from, to int64) {
	for before := to; before > from; {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/pools/%s/entries?before=%d&limit=500", base, s.pool, before), nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		var page httpapi.LeafPage
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil || len(page.Items) == 0 {
			return
		}
		s.mu.Lock()
		for _, it := range page.Items {
			if it.Index >= from {
				s.reloaded[it.Index] = true
			}
			before = min(before, it.Index)
		}
		s.mu.Unlock()
	}
}

// TestNodesFailOverUnderLoad runs app nodes on one database under a stream of collections posted
// to all of them, with subscribers on every node. On PostgreSQL two nodes run; mid-load the
// leader's lease is expired and its connections terminated, then the leader is killed outright
// and restarted with an empty event buffer. On SQLite one node is killed and restarted. Then: no
// acknowledged collection is lost or duplicated, every checkpoint size was signed by exactly one
// node and every stored checkpoint matches the tree, and every subscriber received every entry
// from its start exactly once (or in a gap it reloaded).
func TestNodesFailOverUnderLoad(t *testing.T) {
	t.Run(sqldb.SQLite, func(t *testing.T) {
		dsn := sqldbtest.SQLiteDSN(t)
		testFailOver(t, dsn, sqldbtest.Open(t, dsn))
	})
	t.Run(sqldb.Postgres, func(t *testing.T) {
		dsn := sqldbtest.PostgresDSN(t)
		testFailOver(t, dsn, sqldbtest.Open(t, dsn))
	})
}

func testFailOver(t *testing.T, dsn string, db0 *sqldb.DB) {
	deadline := time.Now().Add(55 * time.Second)
	ctx := context.Background()
	pg := db0.Dialect() == sqldb.Postgres
	dir := t.TempDir()
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	var rb [4]byte
	now := time.Now().UnixNano()
	for i := range rb {
		rb[i] = byte(now >> (8 * i))
	}
	c := &cluster{t: t, dsn: dsn, dir: dir, keys: keys, app: fmt.Sprintf("rcl-mn-%x-", rb), logs: &syncBuffer{},
		signed: map[int64]map[string]bool{}, nodes: map[string]*node{}}

	// A pool of 40 loans, opened and sequenced before the nodes start. The pool id is unique per
	// run: NOTIFY channels are shared by every schema of the test database.
	pool := fmt.Sprintf("MN%x", rb)
	tape := filepath.Join(dir, "tape.csv")
	f, err := os.Create(tape)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.WriteTape(ctx, synth.Config{Seed: 5, Loans: 40, PortfolioRef: "MN", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed},
		f, nil, synth.TapeOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := ingest.Run(ctx, db0.IngestStore(), keys, tape, ingest.Options{SellerName: "MN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.GenerateKey("test.example/ledger", filepath.Join(dir, "ledger.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := db0.OpenPool(ctx, sqldb.PoolSpec{Pool: pool, Origin: "test.example/ledger/" + pool, PortfolioID: rep.PortfolioID, Effective: date.Of(2025, 7, 1)}); err != nil {
		t.Fatal(err)
	}
	loans, _, err := db0.PoolLoans(ctx, pool, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db0.CreateUser(ctx, reclaim.User{Username: "ops", Role: reclaim.RoleAdmin, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	token, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db0.CreateToken(ctx, u.ID, "t", hash); err != nil {
		t.Fatal(err)
	}

	names := []string{"A"}
	if pg {
		names = append(names, "B")
	}
	for _, n := range names {
		c.start(n, n)
	}
	waitFor(t, 10*time.Second, "a leader", func() bool { return c.leader() != nil })
	waitFor(t, 10*time.Second, "the pool's boarding entries sequenced", func() bool {
		p, err := db0.LedgerPool(ctx, pool)
		return err == nil && p.Pending == 0 && p.Size > 0
	})

	// Subscribers: two on every node, from the current position.
	sctx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	var subs []*subscriber
	for i, n := range names {
		for k := 0; k < 2; k++ {
			s := &subscriber{id: len(subs), c: c, pool: pool, token: token, got: map[int64]int{}, reloaded: map[int64]bool{}, started: make(chan struct{})}
			subs = append(subs, s)
			go s.run(sctx, c.nodes[n].ts.URL)
			_ = i
		}
	}
	for _, s := range subs {
		select {
		case <-s.started:
		case <-time.After(10 * time.Second):
			t.Fatal("a subscriber did not connect")
		}
	}
	start, err := db0.LedgerHead(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // streams opened at or below this size

	// Load: 8 clients post collections to the live nodes in turn.
	var (
		ackMu   sync.Mutex
		acked   = map[string]string{} // txn id -> event id
		posted  atomic.Int64
		failed  atomic.Int64
		loadEnd = make(chan struct{})
		loadWG  sync.WaitGroup
	)
	for w := 0; w < 8; w++ {
		loadWG.Add(1)
		go func() {
			defer loadWG.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-loadEnd:
					return
				default:
				}
				live := c.live()
				if len(live) == 0 {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				txn := fmt.Sprintf("MN-%d-%d", w, i)
				body, _ := json.Marshal(map[string]string{"loan": loans[(w*7+i)%len(loans)].Ref, "amount": "1.00", "channel": "online",
					"txn_id": txn, "effective": "2025-08-01"})
				req, _ := http.NewRequest("POST", live[(w+i)%len(live)]+"/api/v1/pools/"+pool+"/collections", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				posted.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					failed.Add(1)
					continue
				}
				var out struct {
					EventID string `json:"event_id"`
				}
				json.Unmarshal(b, &out)
				ackMu.Lock()
				acked[txn] = out.EventID
				ackMu.Unlock()
			}
		}()
	}

	epochOf := func() int64 {
		if l := c.leader(); l != nil {
			_, _, e := l.svc.Leadership()
			return e
		}
		return 0
	}
	time.Sleep(2 * time.Second)
	firstEpoch := epochOf()
	leaderAtExpiry := ""
	if pg {
		// The leader's lease runs out under it (as after a long pause) and its connections are
		// terminated (as when its lock connection was killed).
		old := c.holder(db0)
		if old == nil {
			t.Fatal("no lease holder")
		}
		leaderAtExpiry = old.name
		_, _, firstEpoch = old.svc.Leadership()
		if err := db0.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE ledger_lease_beats SET expires_at = clock_timestamp() - interval '1 second'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := db0.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?`, c.app+old.name)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "a new lease epoch", func() bool { return epochOf() > firstEpoch })
		t.Logf("lease expired under %s (epoch %d); %s leads with epoch %d", old.name, firstEpoch, c.leader().name, epochOf())
		time.Sleep(1500 * time.Millisecond)
	}
	// Kill the leader (the lease holder) outright, then restart it as a new process with an
	// empty event buffer.
	var victim *node
	waitFor(t, 10*time.Second, "a lease holder", func() bool {
		victim = c.holder(db0)
		return victim != nil
	})
	epochBeforeKill := epochOf()
	c.kill(victim)
	t.Logf("killed %s (leader, epoch %d) after %d posts", victim.name, epochBeforeKill, posted.Load())
	if pg {
		waitFor(t, 10*time.Second, "a follower to take over", func() bool { return c.leader() != nil && epochOf() > epochBeforeKill })
	}
	time.Sleep(1500 * time.Millisecond)
	restarted := c.start(victim.name+"2", victim.name)
	// Push every subscriber off the surviving nodes: they resume, some on the restarted node.
	for _, n := range c.nodes {
		if n != restarted && !n.dead.Load() {
			n.ts.CloseClientConnections()
		}
	}
	time.Sleep(2 * time.Second)
	close(loadEnd)
	loadWG.Wait()

	// Settle: the outbox and the announcements drain, every subscriber reaches the final size.
	var final tlog.Head
	waitFor(t, time.Until(deadline)-5*time.Second, "the ledger to settle", func() bool {
		p, err := db0.LedgerPool(ctx, pool)
		if err != nil || p.Pending != 0 {
			return false
		}
		a, err := db0.PendingAnnouncements(ctx)
		if err != nil || len(a) != 0 {
			return false
		}
		final, _ = db0.LedgerHead(ctx, pool)
		for _, s := range subs {
			s.mu.Lock()
			_, have := s.got[final.Size-1]
			_, rel := s.reloaded[final.Size-1]
			s.mu.Unlock()
			if !have && !rel {
				return false
			}
		}
		return true
	})
	stopSubs()

	// 0 acknowledged collections lost, 0 duplicated.
	leaves, err := db0.LedgerLeaves(ctx, pool, 0, 1) // newest
	if err != nil || len(leaves) != 1 || leaves[0].Index != final.Size-1 {
		t.Fatalf("newest leaf %+v %v", leaves, err)
	}
	entries, err := db0.LedgerEntries(ctx, pool, 0, final.Size)
	if err != nil {
		t.Fatal(err)
	}
	seenEvent := map[string]int{}
	for _, e := range entries {
		ev := tlog.NewEntryEvent(0, e)
		seenEvent[ev.EventID]++
	}
	lost, dup := 0, 0
	for _, ev := range acked {
		if seenEvent[ev] == 0 {
			lost++
		}
	}
	for _, k := range seenEvent {
		if k > 1 {
			dup++
		}
	}
	if lost != 0 || dup != 0 {
		t.Fatalf("%d acknowledged collections lost, %d entries duplicated", lost, dup)
	}
	// The tree is consistent with its leaves.
	root, err := sumtlog.TreeHash(final.Size, db0.LedgerHashes(ctx, pool))
	if err != nil || root != final.Root {
		t.Fatalf("stored root does not match the stored hashes: %v", err)
	}

	// Exactly one signer per checkpoint size, and every stored checkpoint is the tree at its size.
	c.mu.Lock()
	for size, by := range c.signed {
		if len(by) != 1 {
			t.Errorf("checkpoint size %d signed by %d nodes: %v", size, len(by), by)
		}
	}
	nsigned := len(c.signed)
	c.mu.Unlock()
	if pg {
		signers, err := db0.Signers(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, sg := range signers {
			if by := c.signed[sg.Size]; len(by) > 0 && !by[sg.Node] {
				t.Errorf("size %d claimed by %s but signed by %v", sg.Size, sg.Node, by)
			}
		}
	}
	vb, err := os.ReadFile(filepath.Join(dir, "ledger.key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vb)))
	if err != nil {
		t.Fatal(err)
	}
	cps := 0
	for size := int64(1); size <= final.Size; size++ {
		var text string
		err := db0.ReadTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT note FROM ledger_checkpoints WHERE pool = ? AND tree_size = ?`, pool, size).Scan(&text)
		})
		if err != nil {
			continue
		}
		cps++
		if os.Getenv("MN_DEBUG") != "" {
			c.mu.Lock()
			t.Logf("checkpoint %d stored; signed by %v", size, c.signed[size])
			c.mu.Unlock()
		}
		n, err := note.Open([]byte(text), note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("checkpoint %d: %v", size, err)
		}
		want, err := sumtlog.TreeHash(size, db0.LedgerHashes(ctx, pool))
		if err != nil {
			t.Fatal(err)
		}
		if n.Text != string(tlog.Body("test.example/ledger/"+pool, size, want)) {
			t.Fatalf("checkpoint %d does not match the tree", size)
		}
	}
	if cps < 2 {
		t.Fatalf("only %d checkpoints stored; logs:\n%s", cps, grepLines(c.logs.String(), `"level":"`))
	}

	// Every subscriber got every entry from its start exactly once, or in a gap it reloaded.
	totalGaps, totalResumes := 0, 0
	for _, s := range subs {
		s.mu.Lock()
		for i := start.Size; i < final.Size; i++ {
			k := s.got[i]
			if k > 1 {
				t.Errorf("subscriber %d got entry %d %d times", s.id, i, k)
			}
			if k == 0 && !s.reloaded[i] {
				t.Errorf("subscriber %d never got entry %d", s.id, i)
			}
		}
		totalGaps += s.gaps
		totalResumes += s.resumes
		s.mu.Unlock()
	}

	// Every leader change is logged with the node; /readyz and /metrics show the roles.
	logs := c.logs.String()
	if pg && strings.Count(logs, `"msg":"ledger leadership acquired"`) < 3 {
		t.Errorf("leader changes not logged:\n%s", grepLines(logs, "leadership"))
	}
	// The leader whose lease expired under it was refused by the database (fenced), not merely
	// told: its next renewal or fenced transaction failed and it stepped down, logged with its id.
	// Under load the refusal can come first at a lease renewal (the database says the lease is
	// another node's) rather than at a fenced write; both are the database refusing it.
	lostLine := fmt.Sprintf(`"msg":"ledger leadership lost","node":"%s","epoch":%d,"reason":"`, leaderAtExpiry, firstEpoch)
	if pg && !strings.Contains(logs, lostLine+"fenced") && !strings.Contains(logs, lostLine+fmt.Sprintf("node %s lost the ledger lease of epoch %d", leaderAtExpiry, firstEpoch)) {
		t.Errorf("no fenced step-down of %s epoch %d:\n%s", leaderAtExpiry, firstEpoch, grepLines(logs, "leadership"))
	}
	leaders := 0
	for _, base := range c.live() {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), "role: leader") {
			leaders++
		} else if !strings.Contains(string(b), "role: follower") {
			t.Errorf("/readyz: %s", b)
		}
		res, err = http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		for _, m := range []string{"reclaim_ledger_is_leader", "reclaim_ledger_leader_changes_total", "reclaim_ledger_commit_to_sequenced_seconds_bucket", `reclaim_db_tx_retries_total{reason="serialization"}`} {
			if !strings.Contains(string(b), m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	}
	if leaders != 1 {
		t.Errorf("%d nodes say they lead", leaders)
	}
	ackMu.Lock()
	t.Logf("%d posts, %d acknowledged, %d failed (not acknowledged: node killed or its connections terminated); %d entries from %d to %d; %d checkpoints (%d sizes signed); subscribers: %d resumes, %d gaps; epochs %d -> %d",
		posted.Load(), len(acked), failed.Load(), final.Size-start.Size, start.Size, final.Size, cps, nsigned, totalResumes, totalGaps, firstEpoch, epochOf())
	ackMu.Unlock()
	if os.Getenv("MN_DEBUG") != "" {
		t.Logf("logs:\n%s", grepLines(logs, `"level":"WARN"`)+"\n"+grepLines(logs, `"level":"ERROR"`)+"\n"+grepLines(logs, "leadership"))
	}
	if len(acked) < 100 {
		t.Fatalf("only %d collections acknowledged: the load did not run", len(acked))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Entries are announced whether or not the leader has subscribers of its own: a subscriber that
// is only on a follower gets every entry (the leader used to skip announcing when it had none).
func TestFollowerSubscribersGetEntries(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	db0 := sqldbtest.Open(t, dsn)
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dsn: dsn, dir: dir, keys: keys, app: "rcl-fs-", logs: &syncBuffer{}, signed: map[int64]map[string]bool{}, nodes: map[string]*node{}}
	pool := fmt.Sprintf("FS%d", time.Now().UnixNano()%1e9)
	newTestPool(t, db0, keys, dir, pool)
	a := c.start("A", "A")
	waitFor(t, 5*time.Second, "A to lead", func() bool { r, _, _ := a.svc.Leadership(); return r == "leader" })
	waitFor(t, 10*time.Second, "the boarding entries announced", func() bool {
		p, err := db0.LedgerPool(ctx, pool)
		a, err2 := db0.PendingAnnouncements(ctx)
		return err == nil && err2 == nil && p.Pending == 0 && len(a) == 0
	})
	b := c.start("B", "B")
	sub, _, _, err := b.broker.Subscribe("ledger."+pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(300 * time.Millisecond) // B listens
	if a.broker.Subscribers("ledger."+pool) != 0 {
		t.Fatal("the leader has a subscriber")
	}
	head, _ := db0.LedgerHead(ctx, pool)
	loans, _, err := db0.PoolLoans(ctx, pool, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range loans {
		if _, err := db0.PostCollection(ctx, tlog.Collection{Pool: pool, LoanRef: l.Ref, Amount: money.New(100, "CNY"), Channel: verify.ChannelOnline,
			TxnID: fmt.Sprintf("FS-%d", i), Effective: date.Of(2025, 8, 1), PostedBy: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := head.Size; i < head.Size+int64(len(loans)); i++ {
		select {
		case e := <-sub.C:
			if e.Type == "checkpoint" {
				i--
				continue
			}
			var ev tlog.EntryEvent
			if e.Type != "entry" || json.Unmarshal(e.Data, &ev) != nil || ev.Index != i || ev.Entry == "" {
				t.Fatalf("follower's subscriber: want entry %d, got %s %s", i, e.Type, e.Data)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("follower's subscriber got no entry %d", i)
		}
	}
}

// newTestPool imports a 40-loan tape and opens a pool on it.
func newTestPool(t *testing.T, db *sqldb.DB, keys *pii.Keyring, dir, pool string) {
	t.Helper()
	ctx := context.Background()
	tape := filepath.Join(dir, pool+".csv")
	f, err := os.Create(tape)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.WriteTape(ctx, synth.Config{Seed: 5, Loans: 40, PortfolioRef: pool, CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed},
		f, nil, synth.TapeOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := ingest.Run(ctx, db.IngestStore(), keys, tape, ingest.Options{SellerName: pool})
	if err != nil {
		t.Fatal(err)
	}
	// The nodes share the log's signing key, which exists before the pool does (a node never
	// creates a key for a database that already holds pools).
	keyFile := filepath.Join(dir, "ledger.key")
	if _, err := os.Stat(keyFile); os.IsNotExist(err) {
		if _, err := tlog.GenerateKey("test.example/ledger", keyFile); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: pool, Origin: "test.example/ledger/" + pool, PortfolioID: rep.PortfolioID, Effective: date.Of(2025, 7, 1)}); err != nil {
		t.Fatal(err)
	}
}

// Entries sequenced by a leader that died before announcing them are announced by the next
// leader: the sequencing transaction left them pending in the database.
func TestNextLeaderAnnouncesWhatTheLastOneLeftPending(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		db0 := sqldbtest.Open(t, dsn)
		ctx := context.Background()
		dir := t.TempDir()
		keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
		if err != nil {
			t.Fatal(err)
		}
		pool := fmt.Sprintf("NL%d", time.Now().UnixNano()%1e9)
		newTestPool(t, db0, keys, dir, pool)
		// The old leader sequenced everything, then died before announcing.
		for {
			n, err := db0.Sequence(ctx, pool, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		head, _ := db0.LedgerHead(ctx, pool)
		c := &cluster{t: t, dsn: dsn, dir: dir, keys: keys, app: "rcl-nl-", logs: &syncBuffer{}, signed: map[int64]map[string]bool{}, nodes: map[string]*node{}}
		// The next leader starts with a subscriber already listening (a console open on it).
		db, err := sqldb.Open(ctx, c.nodeDSN("N"), sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		broker := events.New(events.Options{Fanout: db.Fanout(nil)})
		sub, _, _, err := broker.Subscribe("ledger."+pool, 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // listening
		svc, err := ledger.New(db, broker, slog.New(slog.DiscardHandler), ledger.Config{KeyFile: filepath.Join(dir, "ledger.key"), CreateKey: true,
			Origin: "test.example/ledger", Node: "N", LeaseTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(rctx) }()
		defer func() { cancel(); <-done; broker.Close(); db.Close() }()
		for i := int64(0); i < head.Size; i++ {
			select {
			case e := <-sub.C:
				if e.Type == "checkpoint" {
					i--
					continue
				}
				var ev tlog.EntryEvent
				if e.Type != "entry" || json.Unmarshal(e.Data, &ev) != nil || ev.Index != i {
					t.Fatalf("want entry %d, got %s %s", i, e.Type, e.Data)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("entry %d of %d never announced", i, head.Size)
			}
		}
		if p, err := db0.PendingAnnouncements(ctx); err != nil || len(p) != 0 {
			t.Fatalf("still pending: %+v %v", p, err)
		}
	})
}
