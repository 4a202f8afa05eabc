package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reclaim"
	"reclaim/auction"
	"reclaim/date"
	"reclaim/market"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

// testClock is a settable clock shared by the markets of a test ("nodes").
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock { c := &testClock{}; c.ns.Store(t.UnixNano()); return c }
func (c *testClock) Now() time.Time       { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time)      { c.ns.Store(t.UnixNano()) }
func (c *testClock) Add(d time.Duration)  { c.ns.Add(int64(d)) }

var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func yuan(y int64) money.Amount { return money.New(y*100, money.CNY) }

// marketFixture is a database with a market, an admin context and bidder contexts whose
// organisations are approved, credited and registered for one English auction.
type marketFixture struct {
	db      *sqldb.DB
	m       *sqldb.Market
	clock   *testClock
	admin   context.Context
	bidders []context.Context
	orgs    []int64
	auction market.Auction
}

func userCtx(t testing.TB, db *sqldb.DB, name string, role reclaim.Role) context.Context {
	t.Helper()
	u, err := db.CreateUser(context.Background(), reclaim.User{Username: name, Role: role, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return reclaim.WithUser(context.Background(), &u)
}

// lastSeqAndReplay returns the auction's last_seq and the engine replayed from its stored
// history, with the number of events it replayed.
func lastSeqAndReplay(t *testing.T, f *marketFixture, id int64) (last, replayed int64, eng *auction.Auction) {
	t.Helper()
	a, err := f.m.Auction(f.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	eng, err = f.m.RestoreAuction(f.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Seq, int64(eng.State().Events), eng
}

func englishSpec() market.ListingSpec {
	return market.ListingSpec{Title: "Flat, Room 301", Pack: "marketplace", Format: "english", Kind: "real_estate",
		Appraisal: yuan(1_000_000), StartPrice: yuan(700_000), Increment: yuan(10_000), Deposit: yuan(70_000),
		NoticeAt: t0.Add(-72 * time.Hour), Start: t0, End: t0.Add(2 * time.Hour)}
}

func newMarketFixture(t *testing.T, db *sqldb.DB, nBidders int, spec market.ListingSpec) *marketFixture {
	t.Helper()
	return newMarketFixtureOpts(t, db, nBidders, spec, sqldb.MarketOptions{})
}

// newMarketFixtureOpts is newMarketFixture with the market's options (its clock and closer are
// the fixture's).
func newMarketFixtureOpts(t *testing.T, db *sqldb.DB, nBidders int, spec market.ListingSpec, opts sqldb.MarketOptions) *marketFixture {
	t.Helper()
	f := &marketFixture{db: db, clock: newTestClock(t0.Add(time.Minute))}
	opts.Now, opts.CloseEvery = f.clock.Now, -1
	f.m = db.NewMarket(opts)
	t.Cleanup(f.m.Close)
	f.admin = userCtx(t, db, "admin", reclaim.RoleAdmin)
	a, err := f.m.CreateAuction(f.admin, spec)
	if err != nil {
		t.Fatal(err)
	}
	f.auction = a
	for i := 0; i < nBidders; i++ {
		ctx := userCtx(t, db, fmt.Sprintf("bidder%d", i), reclaim.RoleBidder)
		o, err := f.m.RegisterOrg(ctx, market.OrgSpec{Name: fmt.Sprintf("AMC %d", i), LicenceType: "amc_local", Documents: []string{"licence.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.DecideOrg(f.admin, o.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.CreditDeposit(f.admin, o.ID, yuan(100_000), "wire"); err != nil {
			t.Fatal(err)
		}
		if err := f.m.Register(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if !spec.Deposit.IsZero() && !spec.Deposit.IsAbsent() {
			if rc, err := f.m.FreezeDeposit(ctx, a.ID); err != nil || !rc.Accepted {
				t.Fatalf("deposit: %+v %v", rc, err)
			}
		}
		f.bidders = append(f.bidders, ctx)
		f.orgs = append(f.orgs, o.ID)
	}
	return f
}

func TestMarketBidsAbuseAndReplay(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 2, englishSpec())
		ctx, id := f.bidders[0], f.auction.ID
		acc, err := f.m.Account(f.admin, f.orgs[0])
		if err != nil || acc.Frozen != yuan(70_000) || acc.Available != yuan(30_000) || len(acc.Movements) != 2 {
			t.Fatalf("account after freeze: %+v %v", acc, err)
		}
		rc, err := f.m.PlaceBid(ctx, id, market.BidRequest{Amount: yuan(700_000), Key: "k1"})
		if err != nil || !rc.Accepted || rc.Code != "B001" || rc.Price != yuan(700_000) {
			t.Fatalf("first bid: %+v %v", rc, err)
		}
		// The same key: the original answer, nothing placed twice.
		again, err := f.m.PlaceBid(ctx, id, market.BidRequest{Amount: yuan(999_000), Key: "k1"})
		if err != nil || !again.Repeat || again.Seq != rc.Seq || again.Amount != yuan(700_000) {
			t.Fatalf("replay: %+v %v", again, err)
		}
		// Another bidder reusing the key is refused.
		if _, err := f.m.PlaceBid(f.bidders[1], id, market.BidRequest{Amount: yuan(710_000), Key: "k1"}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("key of another bidder: %v", err)
		}
		// Engine rejections are stored with their rule.
		for _, c := range []struct {
			amount money.Amount
			rule   string
		}{{yuan(705_000), "MP-6"}, {yuan(700_000), "MP-6"}} {
			rc, err := f.m.PlaceBid(f.bidders[1], id, market.BidRequest{Amount: c.amount})
			if err != nil || rc.Accepted || rc.Rule != c.rule {
				t.Fatalf("bid %s: %+v %v", c.amount, rc, err)
			}
		}
		// Refused before the engine: absurd amounts.
		for _, amt := range []money.Amount{money.New(-100, money.CNY), {}, money.New(auction.MaxAmount.Minor()+1, money.CNY)} {
			if _, err := f.m.PlaceBid(ctx, id, market.BidRequest{Amount: amt}); reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Fatalf("amount %v: %v", amt, err)
			}
		}
		// An unqualified organisation, and one not registered.
		pend := userCtx(t, db, "pending", reclaim.RoleBidder)
		if _, err := f.m.RegisterOrg(pend, market.OrgSpec{Name: "Pending AMC", LicenceType: "trust"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.PlaceBid(pend, id, market.BidRequest{Amount: yuan(800_000)}); reclaim.ErrorCode(err) != reclaim.EFORBIDDEN {
			t.Fatalf("unqualified: %v", err)
		}
		loner := userCtx(t, db, "loner", reclaim.RoleBidder)
		o, _ := f.m.RegisterOrg(loner, market.OrgSpec{Name: "Loner AMC", LicenceType: "bank"})
		f.m.DecideOrg(f.admin, o.ID, true, "")
		if _, err := f.m.PlaceBid(loner, id, market.BidRequest{Amount: yuan(800_000)}); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("another organisation's auction: %v", err)
		}
		// Deposit-less: registered but no deposit frozen.
		if err := f.m.Register(loner, id); err != nil {
			t.Fatal(err)
		}
		if rc, err := f.m.PlaceBid(loner, id, market.BidRequest{Amount: yuan(800_000)}); err != nil || rc.Accepted || rc.Rule != "MP-4" {
			t.Fatalf("deposit-less: %+v %v", rc, err)
		}
		atts, err := f.m.Attempts(f.admin, id, 100)
		if err != nil || len(atts) < 6 {
			t.Fatalf("attempts recorded: %d %v", len(atts), err)
		}
		st, err := f.m.State(f.bidders[1], id)
		if err != nil || st.View.Price != yuan(700_000) || st.View.Leader != "B001" || st.MyCode != "B002" || !st.Deposited {
			t.Fatalf("state: %+v %v", st, err)
		}
		// After the close: bid rejected, names revealed, losers' deposits released.
		f.clock.Set(t0.Add(2*time.Hour + time.Millisecond))
		if rc, err := f.m.PlaceBid(f.bidders[1], id, market.BidRequest{Amount: yuan(900_000)}); err != nil || rc.Accepted {
			t.Fatalf("bid after the close: %+v %v", rc, err)
		}
		if n, err := f.m.CloseDue(f.admin); err != nil || n != 1 {
			t.Fatalf("close: %d %v", n, err)
		}
		a, _ := f.m.Auction(f.admin, id)
		if a.Status != market.StatusSold || a.Outcome.WinnerName != "AMC 0" || a.Outcome.Price != yuan(700_000) {
			t.Fatalf("outcome %+v", a.Outcome)
		}
		acc1, _ := f.m.Account(f.admin, f.orgs[1])
		if acc1.Frozen.Minor() != 0 || acc1.Available != yuan(100_000) {
			t.Fatalf("loser's deposit not released: %+v", acc1)
		}
		st, _ = f.m.State(f.bidders[1], id)
		if st.View.Winner != "AMC 0" {
			t.Fatalf("names not revealed after the close: %+v", st.View)
		}
		// State after restart = Restore(listing, stored records).
		m2 := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		defer m2.Close()
		live, _ := f.m.LiveState(f.admin, id)
		restored, err := m2.RestoreAuction(f.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := restored.State(); fmt.Sprint(got.Bids, got.End, got.Leader, got.Events, got.Codes) != fmt.Sprint(live.Bids, live.End, live.Leader, live.Events, live.Codes) {
			t.Fatalf("restored state differs:\n%+v\n%+v", got, live)
		}
	})
}

// TestMarketConcurrentBidsReconcile: many bidders bid at once through the group commit; every
// acknowledged bid is stored once, the stored history replays to the live state, extensions
// are kept, and two "nodes" closing at once close the auction once.
func TestMarketConcurrentBidsReconcile(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		spec := englishSpec()
		spec.End = t0.Add(time.Hour + 10*time.Minute)
		f := newMarketFixture(t, db, 8, spec)
		f.clock.Set(spec.End.Add(-2 * time.Minute)) // every accepted bid extends
		id := f.auction.ID
		var mu sync.Mutex
		acked := map[int64]market.BidReceipt{}
		var wg sync.WaitGroup
		for i, ctx := range f.bidders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 25; j++ {
					st, err := f.m.State(ctx, id)
					if err != nil {
						t.Error(err)
						return
					}
					next := st.View.Price
					if next.IsAbsent() {
						next = spec.StartPrice
					} else {
						next, _ = next.Add(spec.Increment)
					}
					rc, err := f.m.PlaceBid(ctx, id, market.BidRequest{Amount: next, Key: fmt.Sprintf("b%d-%d", i, j)})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if _, dup := acked[rc.Seq]; dup {
						t.Errorf("seq %d acknowledged twice", rc.Seq)
					}
					acked[rc.Seq] = rc
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		evs, err := f.m.Events(f.admin, id, 0, 5000)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[int64]market.Event{}
		for _, e := range evs {
			stored[e.Seq] = e
		}
		accepted := 0
		for seq, rc := range acked {
			e, ok := stored[seq]
			if !ok || e.Accepted != rc.Accepted || e.Amount != rc.Amount {
				t.Fatalf("acknowledged seq %d %+v stored as %+v (found %v)", seq, rc, e, ok)
			}
			if rc.Accepted {
				accepted++
			}
		}
		if accepted == 0 || len(acked) != 8*25 {
			t.Fatalf("accepted %d of %d", accepted, len(acked))
		}
		live, _ := f.m.LiveState(f.admin, id)
		restored, err := f.m.RestoreAuction(f.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if r := restored.State(); !r.End.Equal(live.End) || r.Leader != live.Leader || r.Price != live.Price || r.Events != live.Events {
			t.Fatalf("replay of the stored history differs: %+v vs %+v", r, live)
		}
		if !live.End.After(spec.End) {
			t.Fatalf("no extension: end %s", live.End)
		}
		a, _ := f.m.Auction(f.admin, id)
		if !a.End.Equal(live.End) {
			t.Fatalf("stored end %s, live %s", a.End, live.End)
		}
		// Two nodes close at once: exactly one closes.
		f.clock.Set(live.End.Add(time.Second))
		m2 := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		defer m2.Close()
		var n1, n2 int
		var wg2 sync.WaitGroup
		wg2.Add(2)
		go func() { defer wg2.Done(); n1, _ = f.m.CloseDue(f.admin) }()
		go func() { defer wg2.Done(); n2, _ = m2.CloseDue(f.admin) }()
		wg2.Wait()
		if n1+n2 != 1 {
			t.Fatalf("closed %d + %d times", n1, n2)
		}
		acc := 0
		for _, o := range f.orgs {
			a, _ := f.m.Account(f.admin, o)
			for _, mv := range a.Movements {
				if mv.Kind == market.MoveRelease {
					acc++
				}
			}
		}
		if acc != 7 {
			t.Fatalf("%d releases, want 7 (every loser once)", acc)
		}
	})
}

func TestMarketListingChecks(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		m := db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
		defer m.Close()
		admin := userCtx(t, db, "admin", reclaim.RoleAdmin)
		spec := englishSpec()
		spec.Pack = "judicial"
		spec.StartPrice = yuan(600_000) // below 70% of the appraisal
		spec.End = t0.Add(time.Hour)    // under 24 hours
		_, err := m.CreateAuction(admin, spec)
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !asErr(err, &re) || re.Fields["JA-1"] == "" || re.Fields["JA-6"] == "" {
			t.Fatalf("judicial listing breaking JA-1 and JA-6: %v %+v", err, re)
		}
		if as, _ := m.Auctions(admin, 0); len(as) != 0 {
			t.Fatalf("an invalid listing was stored")
		}
		// The no-resale promise.
		p := importTape(t, db, "resale-hash", mixedLoans(10), nil)
		if err := db.SetAcquired(context.Background(), p.ID, true); err != nil {
			t.Fatal(err)
		}
		pkg := englishSpec()
		pkg.Kind, pkg.PortfolioID, pkg.Appraisal = "npl_package", p.ID, money.Amount{}
		pkg.Pack = "yindeng"
		pkg.NoticeAt = t0.Add(-8 * 24 * time.Hour)
		_, err = m.CreateAuction(admin, pkg)
		if !asErr(err, &re) || re.Fields["rule"] != "no_resale" || !strings.Contains(err.Error(), "may not be relisted") {
			t.Fatalf("relisting an acquired package: %v", err)
		}
		db.SetAcquired(context.Background(), p.ID, false)
		a, err := m.CreateAuction(admin, pkg)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(a.Teaser), "portfolio_ref") || !strings.Contains(string(a.Teaser), "loans") {
			t.Fatalf("teaser: %s", a.Teaser)
		}
	})
}

// TestMarketSettlementLedger: a package of pool loans is sold, paid and settled; the
// auction.result entry on the pool's ledger carries the bid count and the hash of the published
// history, which verify.CheckBidHistory accepts.
func TestMarketSettlementLedger(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "sale-hash", mixedLoans(12), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "RCL-9", Origin: "test.example/ledger/RCL-9", PortfolioID: p.ID, Effective: date.Of(2026, 1, 1)}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "RCL-9")
		spec := englishSpec()
		spec.Kind, spec.PortfolioID, spec.Pack, spec.Appraisal = "npl_package", p.ID, "yindeng", money.Amount{}
		spec.NoticeAt = t0.Add(-8 * 24 * time.Hour)
		f := newMarketFixture(t, db, 2, spec)
		id := f.auction.ID
		for i, amt := range []int64{700_000, 710_000, 730_000} {
			rc, err := f.m.PlaceBid(f.bidders[i%2], id, market.BidRequest{Amount: yuan(amt)})
			if err != nil || !rc.Accepted {
				t.Fatalf("bid %d: %+v %v", amt, rc, err)
			}
		}
		f.clock.Set(t0.Add(3 * time.Hour))
		if n, err := f.m.CloseDue(ctx); n != 1 || err != nil {
			t.Fatalf("close %d %v", n, err)
		}
		if _, err := f.m.Settle(f.admin, id, date.Of(2026, 3, 5)); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("settling before payment: %v", err)
		}
		if s, err := f.m.ConfirmPayment(f.admin, id); err != nil || s.Status != market.SettlePaid {
			t.Fatalf("payment: %+v %v", s, err)
		}
		s, err := f.m.Settle(f.admin, id, date.Of(2026, 3, 5))
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != market.SettleSettled || s.Bids != 3 || s.LedgerPool != "RCL-9" || s.LedgerEvent == "" || !strings.Contains(s.Notification, "loan_id,") {
			t.Fatalf("settlement %+v", s)
		}
		acc, _ := f.m.Account(f.admin, f.orgs[0])
		if acc.Frozen.Minor() != 0 || acc.Balance != yuan(30_000) {
			t.Fatalf("winner's deposit not applied: %+v", acc)
		}
		sequenceAll(t, db, "RCL-9")
		leaf, err := db.LedgerLeafByEvent(ctx, "RCL-9", s.LedgerEvent)
		if err != nil {
			t.Fatal(err)
		}
		e, err := verify.ParseEntry(leaf.Entry)
		if err != nil {
			t.Fatal(err)
		}
		ar := e.(verify.AuctionResult)
		res, err := f.m.Result(f.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		var hist []verify.HistoryBid
		for _, b := range res.Bids {
			hist = append(hist, verify.HistoryBid{At: b.At, Bidder: b.Code, Amount: verify.Amount(b.Amount.Minor())})
		}
		if err := verify.CheckBidHistory(ar, hist); err != nil || ar.Loans != 12 || ar.Price != 73000000 {
			t.Fatalf("ledger entry %+v: %v", ar, err)
		}
		hist[0].Amount++
		if verify.CheckBidHistory(ar, hist) == nil {
			t.Fatal("a tampered history matched the ledger")
		}
		pl, _, _ := db.PoolLoans(ctx, "RCL-9", 0, 100)
		for _, l := range pl {
			if l.Status != verify.RemovalSold {
				t.Fatalf("loan %s still %s", l.Ref, l.Status)
			}
		}
	})
}

// TestMarketDefault: a winner who does not pay forfeits the deposit and is barred (JA-8); the
// re-listing bars it in the engine too.
func TestMarketDefault(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 2, englishSpec())
		id := f.auction.ID
		if rc, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Amount: yuan(700_000)}); err != nil || !rc.Accepted {
			t.Fatalf("%+v %v", rc, err)
		}
		f.clock.Set(t0.Add(3 * time.Hour))
		f.m.CloseDue(f.admin)
		s, err := f.m.Default(f.admin, id, "no payment within 5 days")
		if err != nil || s.Status != market.SettleDefaulted {
			t.Fatalf("%+v %v", s, err)
		}
		acc, _ := f.m.Account(f.admin, f.orgs[0])
		if acc.Balance != yuan(30_000) || acc.Frozen.Minor() != 0 {
			t.Fatalf("deposit not forfeited: %+v", acc)
		}
		o, _ := f.m.Org(f.admin, f.orgs[0])
		if !o.Barred {
			t.Fatalf("defaulter not barred")
		}
		if _, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Amount: yuan(800_000)}); reclaim.ErrorCode(err) != reclaim.EFORBIDDEN {
			t.Fatalf("barred bidder: %v", err)
		}
	})
}

// TestMarketCourtAuction: a court auction held elsewhere is checked against the judicial pack,
// its failure gives the JA-9 bounds the re-auction is held to, and the sale's proceeds are
// booked to the loan as a court collection on the pool's ledger.
func TestMarketCourtAuction(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		m := db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
		defer m.Close()
		admin := userCtx(t, db, "admin", reclaim.RoleAdmin)
		p := importTape(t, db, "court-hash", mixedLoans(5), nil)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "RCL-C", Origin: "test.example/ledger/RCL-C", PortfolioID: p.ID, Effective: date.Of(2026, 1, 1)}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "RCL-C")
		pl, _, _ := db.PoolLoans(ctx, "RCL-C", 0, 10)
		loan := pl[0]
		first := market.ListingSpec{Title: "Debtor's flat", Pack: "judicial", Format: "english", Kind: "real_estate", External: true,
			CaseNumber: "(2026)沪0115执1234号", Platform: "court platform", Appraisal: yuan(1_000_000), StartPrice: yuan(700_000),
			Increment: yuan(10_000), Deposit: yuan(70_000), NoticeAt: t0.Add(-31 * 24 * time.Hour), Start: t0, End: t0.Add(24 * time.Hour)}
		short := first
		short.NoticeAt = t0.Add(-10 * 24 * time.Hour)
		var re *reclaim.Error
		if _, err := m.CreateAuction(admin, short); !asErr(err, &re) || re.Fields["JA-3"] == "" {
			t.Fatalf("10 days' notice for real estate: %v", err)
		}
		a, err := m.CreateAuction(admin, first)
		if err != nil {
			t.Fatal(err)
		}
		a, err = m.RecordOutside(admin, a.ID, market.Outside{Status: "failed", At: t0.Add(24 * time.Hour)})
		if err != nil || a.Status != market.StatusFailed || a.Outcome.Relist == nil || a.Outcome.Relist.MinStartPrice != yuan(560_000) || a.Outcome.Relist.MinNoticeDays != 15 {
			t.Fatalf("failed court auction: %+v %v", a.Outcome, err)
		}
		second := first
		second.Stage, second.PreviousID = "second", a.ID
		second.NoticeAt, second.Start, second.End = t0.Add(5*24*time.Hour), t0.Add(21*24*time.Hour), t0.Add(22*24*time.Hour)
		second.StartPrice, second.Deposit = yuan(550_000), yuan(55_000)
		if _, err := m.CreateAuction(admin, second); !asErr(err, &re) || re.Fields["JA-9"] == "" {
			t.Fatalf("re-auction below 80%%: %v", err)
		}
		second.StartPrice, second.Deposit = yuan(560_000), yuan(56_000)
		b, err := m.CreateAuction(admin, second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.RecordOutside(admin, b.ID, market.Outside{Status: "sold", Price: yuan(500_000)}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("sale below the start: %v", err)
		}
		if _, err := m.RecordOutside(admin, b.ID, market.Outside{Status: "sold", Price: yuan(600_000), LoanKey: "nope", Pool: "RCL-C"}); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("proceeds to an unknown loan: %v", err)
		}
		price := yuan(600_000)
		b, err = m.RecordOutside(admin, b.ID, market.Outside{Status: "sold", At: t0.Add(22 * 24 * time.Hour), Price: price, Buyer: "a buyer", LoanKey: loan.LoanKey, Pool: "RCL-C"})
		if err != nil || b.Status != market.StatusSold || b.Outcome.Price != price {
			t.Fatalf("sold: %+v %v", b, err)
		}
		booked := min(price.Minor(), loan.Balance.Minor())
		after, _, _ := db.PoolLoans(ctx, "RCL-C", 0, 10)
		for _, l := range after {
			if l.Ref == loan.Ref && l.Balance.Minor() != loan.Balance.Minor()-booked {
				t.Fatalf("proceeds not booked: %s -> %s", loan.Balance, l.Balance)
			}
		}
	})
}

// TestMarketTwoNodes: two markets ("nodes") on one database take bids for the same auction
// alternately and concurrently. A node whose engine is stale loses at the database
// (last_seq), reloads and judges the bid again; nothing is lost or judged twice, and the
// stored history replays to the state both nodes end up with.
func TestMarketTwoNodes(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 4, englishSpec())
		m2 := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		defer m2.Close()
		nodes := []*sqldb.Market{f.m, m2}
		id := f.auction.ID
		// Alternating: each node's engine is stale at every other bid.
		price := int64(700_000)
		for i := 0; i < 6; i++ {
			rc, err := nodes[i%2].PlaceBid(f.bidders[i%4], id, market.BidRequest{Amount: yuan(price), Key: fmt.Sprintf("alt-%d", i)})
			if err != nil || !rc.Accepted || rc.Seq != int64(4+i+1) {
				t.Fatalf("alternating bid %d on node %d: %+v %v", i, i%2, rc, err)
			}
			price += 10_000
		}
		// A retry on the other node finds the key in the database.
		rc, err := m2.PlaceBid(f.bidders[0], id, market.BidRequest{Amount: yuan(999_000), Key: "alt-0"})
		if err != nil || !rc.Repeat || rc.Seq != 5 {
			t.Fatalf("retry on the other node: %+v %v", rc, err)
		}
		// Concurrent: both nodes at once.
		var wg sync.WaitGroup
		var mu sync.Mutex
		seqs := map[int64]bool{}
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 10; k++ {
					st, err := nodes[(i+k)%2].State(f.bidders[i], id)
					if err != nil {
						t.Error(err)
						return
					}
					next, _ := st.View.Price.Add(yuan(10_000 * int64(1+i)))
					rc, err := placeRetrying(f.bidders[i], nodes[(i+k)%2], id, market.BidRequest{Amount: next, Key: fmt.Sprintf("c%d-%d", i, k)}, 20)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seqs[rc.Seq] && !rc.Repeat {
						t.Errorf("seq %d acknowledged twice", rc.Seq)
					}
					seqs[rc.Seq] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		a, _ := f.m.Auction(f.admin, id)
		eng, err := f.m.RestoreAuction(f.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if int64(eng.State().Events) != a.Seq || len(seqs) != 40 {
			t.Fatalf("stored %d events, replayed %d, acknowledged %d distinct", a.Seq, eng.State().Events, len(seqs))
		}
		for _, n := range nodes {
			st, err := n.State(f.admin, id)
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := eng.Standing(); st.View.Price != p || !st.View.End.Equal(eng.End()) {
				t.Fatalf("a node's state %+v differs from the replay (%s)", st.View, p)
			}
		}
	})
}

// TestMarketCloseUnderLoad: bidders keep bidding after the end (every bid rejected and stored);
// the close still happens, once, and no bid judged after the end is accepted.
func TestMarketCloseUnderLoad(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 4, englishSpec())
		id := f.auction.ID
		if rc, err := f.m.PlaceBid(f.bidders[0], id, market.BidRequest{Amount: yuan(700_000)}); err != nil || !rc.Accepted {
			t.Fatalf("%+v %v", rc, err)
		}
		f.clock.Set(t0.Add(3 * time.Hour))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var late atomic.Int64
		for i := 1; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					rc, err := f.m.PlaceBid(f.bidders[i], id, market.BidRequest{Amount: yuan(int64(800_000 + 10_000*k))})
					if err != nil {
						t.Error(err)
						return
					}
					if rc.Accepted {
						t.Errorf("a bid after the end was accepted: %+v", rc)
					}
					late.Add(1)
				}
			}()
		}
		for late.Load() < 20 {
			time.Sleep(time.Millisecond)
		}
		n, err := f.m.CloseDue(f.admin)
		close(stop)
		wg.Wait()
		if err != nil || n != 1 {
			t.Fatalf("close under load: %d %v", n, err)
		}
		a, _ := f.m.Auction(f.admin, id)
		if a.Status != market.StatusSold || a.Outcome.WinnerOrg != f.orgs[0] || a.Outcome.Price != yuan(700_000) {
			t.Fatalf("outcome %+v", a.Outcome)
		}
		if n, _ := f.m.CloseDue(f.admin); n != 0 {
			t.Fatalf("closed twice")
		}
	})
}

// TestMarketPreemptionAndExemption: a listing names a creditor-applicant that needs no deposit
// (JA-4) and a pre-emption holder that takes the lead at the same price (JA-7).
func TestMarketPreemptionAndExemption(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 1, englishSpec()) // org 0: an ordinary bidder with a deposit
		holder := userCtx(t, db, "holder", reclaim.RoleBidder)
		creditor := userCtx(t, db, "creditor", reclaim.RoleBidder)
		var orgs []int64
		for i, ctx := range []context.Context{holder, creditor} {
			o, err := f.m.RegisterOrg(ctx, market.OrgSpec{Name: fmt.Sprintf("Special %d", i), LicenceType: "bank"})
			if err != nil {
				t.Fatal(err)
			}
			f.m.DecideOrg(f.admin, o.ID, true, "")
			orgs = append(orgs, o.ID)
		}
		spec := englishSpec()
		spec.Title = "With rights"
		spec.Preemption = []market.Preemption{{Org: orgs[0], Rank: 1}}
		spec.DepositExempt = []int64{orgs[1]}
		a, err := f.m.CreateAuction(f.admin, spec)
		if err != nil {
			t.Fatal(err)
		}
		bad := spec
		bad.DepositExempt = []int64{9999}
		if _, err := f.m.CreateAuction(f.admin, bad); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("an unknown exempt organisation: %v", err)
		}
		for _, ctx := range []context.Context{f.bidders[0], holder, creditor} {
			if err := f.m.Register(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		f.m.CreditDeposit(f.admin, f.orgs[0], yuan(100_000), "more")
		f.m.CreditDeposit(f.admin, orgs[0], yuan(100_000), "wire")
		for _, ctx := range []context.Context{f.bidders[0], holder} {
			if rc, err := f.m.FreezeDeposit(ctx, a.ID); err != nil || !rc.Accepted {
				t.Fatalf("deposit: %+v %v", rc, err)
			}
		}
		if rc, err := f.m.PlaceBid(creditor, a.ID, market.BidRequest{Amount: yuan(700_000)}); err != nil || !rc.Accepted {
			t.Fatalf("deposit-exempt creditor: %+v %v", rc, err)
		}
		if rc, err := f.m.PlaceBid(f.bidders[0], a.ID, market.BidRequest{Amount: yuan(710_000)}); err != nil || !rc.Accepted {
			t.Fatalf("ordinary bid: %+v %v", rc, err)
		}
		rc, err := f.m.PlaceBid(holder, a.ID, market.BidRequest{Amount: yuan(710_000)})
		if err != nil || !rc.Accepted || rc.Rule != "MP-7" {
			t.Fatalf("pre-emption at the same price: %+v %v", rc, err)
		}
		st, _ := f.m.State(f.admin, a.ID)
		if st.View.Leader != rc.Code {
			t.Fatalf("the holder does not lead: %+v", st.View)
		}
	})
}

// NotifyAll gets each committed batch's accepted events together, in commit order, off the
// batcher's goroutine, then the close; rejections are not announced; Close delivers what is
// queued.
func TestMarketNotifyAll(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 4, englishSpec())
		f.m.Close()
		var mu sync.Mutex
		var calls [][]sqldb.Note
		m := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1, NotifyAll: func(ns []sqldb.Note) {
			mu.Lock()
			calls = append(calls, ns)
			mu.Unlock()
		}})
		defer m.Close()
		id := f.auction.ID
		var wg sync.WaitGroup
		var accepted atomic.Int64
		for i, ctx := range f.bidders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 25; n++ {
					rc, err := m.PlaceBid(ctx, id, market.BidRequest{Amount: yuan(700_000 + int64(10_000*(4*n+i)))})
					if err != nil {
						t.Error(err)
						return
					}
					if rc.Accepted {
						accepted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		f.clock.Add(3 * time.Hour)
		if n, err := m.CloseDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("close: %d %v", n, err)
		}
		m.Close() // delivers what is queued
		mu.Lock()
		defer mu.Unlock()
		var seqs []int64
		for i, ns := range calls {
			for j, n := range ns {
				if n.AuctionID != id {
					t.Fatalf("note for auction %d", n.AuctionID)
				}
				if i == len(calls)-1 {
					if n.Type != "closed" || len(ns) != 1 {
						t.Fatalf("last call: %+v", ns)
					}
					continue
				}
				e, ok := n.Data.(market.Event)
				if n.Type != "event" || !ok || !e.Accepted {
					t.Fatalf("call %d note %d: %+v", i, j, n)
				}
				seqs = append(seqs, e.Seq)
			}
		}
		if int64(len(seqs)) != accepted.Load() || !slices.IsSorted(seqs) || len(seqs) < 2 {
			t.Fatalf("%d notes for %d accepted bids: %v", len(seqs), accepted.Load(), seqs)
		}
	})
}

// A change made on one node (an organisation's qualification withdrawn) reaches another node's
// bidder cache through market_epoch within epochEvery (250 ms), not after the cache's 30 s TTL.
func TestMarketBidderCacheAcrossNodes(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 2, englishSpec())
		other := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1}) // node B
		defer other.Close()
		ctx, id := f.bidders[0], f.auction.ID
		if _, err := other.PlaceBid(ctx, id, market.BidRequest{Amount: yuan(700_000)}); err != nil {
			t.Fatal(err) // node B has cached the bidder's organisation (approved)
		}
		if _, err := f.m.DecideOrg(f.admin, f.orgs[0], false, "licence withdrawn"); err != nil { // on node A
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := other.PlaceBid(ctx, id, market.BidRequest{Amount: yuan(800_000)})
			if reclaim.ErrorCode(err) == reclaim.EFORBIDDEN {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node B still takes the rejected organisation's bids after 5 s: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestMarketTwoNodesSeveralAuctions: bidders on three auctions through two nodes at once, so
// that a batch holds several auctions and some of them are stale on the node that writes it
// (the batch advances every auction's last_seq in one statement; a stale auction fails the
// batch, which is then written auction by auction). Every acknowledgement is stored once and
// every auction's stored history replays to what both nodes show.
func TestMarketTwoNodesSeveralAuctions(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newMarketFixture(t, db, 6, englishSpec())
		m2 := db.NewMarket(sqldb.MarketOptions{Now: f.clock.Now, CloseEvery: -1})
		defer m2.Close()
		nodes := []*sqldb.Market{f.m, m2}
		ids := []int64{f.auction.ID}
		for k := 1; k < 3; k++ {
			a, err := f.m.CreateAuction(f.admin, englishSpec())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		for i, ctx := range f.bidders {
			if i%3 == 0 {
				continue // the fixture registered every bidder for the first auction
			}
			if _, err := f.m.CreditDeposit(f.admin, f.orgs[i], yuan(100_000), "wire"); err != nil {
				t.Fatal(err)
			}
			if err := f.m.Register(ctx, ids[i%3]); err != nil {
				t.Fatal(err)
			}
			if rc, err := f.m.FreezeDeposit(ctx, ids[i%3]); err != nil || !rc.Accepted {
				t.Fatalf("deposit: %+v %v", rc, err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		seqs := map[int64]map[int64]bool{}
		for _, id := range ids {
			seqs[id] = map[int64]bool{}
		}
		for i := range f.bidders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := ids[i%3]
				for k := 0; k < 12; k++ {
					node := nodes[(i+k)%2]
					st, err := node.State(f.bidders[i], id)
					if err != nil {
						t.Error(err)
						return
					}
					next, _ := st.View.Price.Add(yuan(10_000 * int64(1+i)))
					rc, err := placeRetrying(f.bidders[i], node, id, market.BidRequest{Amount: next, Key: fmt.Sprintf("n%d-%d", i, k)}, 50)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seqs[id][rc.Seq] && !rc.Repeat {
						t.Errorf("auction %d: seq %d acknowledged twice", id, rc.Seq)
					}
					seqs[id][rc.Seq] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			last, replayed, eng := lastSeqAndReplay(t, f, id)
			if replayed != last || len(seqs[id]) != 24 {
				t.Fatalf("auction %d: stored %d events, replayed %d, acknowledged %d distinct (want 24)", id, last, replayed, len(seqs[id]))
			}
			for s := range seqs[id] {
				if s < 1 || s > last {
					t.Fatalf("auction %d: acknowledged seq %d outside the stored 1..%d", id, s, last)
				}
			}
			for _, n := range nodes {
				st, err := n.State(f.admin, id)
				if err != nil {
					t.Fatal(err)
				}
				if p, _ := eng.Standing(); st.View.Price != p || !st.View.End.Equal(eng.End()) {
					t.Fatalf("auction %d: a node's state %+v differs from the replay (%s)", id, st.View, p)
				}
			}
		}
	})
}

// placeRetrying places a bid on a node, again with the same key while the node answers that its
// engine was stale (EUNAVAILABLE: another node moved the auction), at most tries more times.
func placeRetrying(ctx context.Context, m *sqldb.Market, id int64, req market.BidRequest, tries int) (market.BidReceipt, error) {
	for try := 0; ; try++ {
		rc, err := m.PlaceBid(ctx, id, req)
		if reclaim.ErrorCode(err) == reclaim.EUNAVAILABLE && try < tries {
			continue
		}
		return rc, err
	}
}
