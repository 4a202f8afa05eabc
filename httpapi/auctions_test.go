package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/market"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// bidderClient creates a bidder account, signs it in and returns its client and API token.
func (f *fixture) bidderClient(name string) (*client, string, int64) {
	f.t.Helper()
	h, _ := auth.HashWith(testPassword, cheap)
	u, err := f.db.CreateUser(context.Background(), reclaim.User{Username: name, Role: reclaim.RoleBidder, PasswordHash: h})
	if err != nil {
		f.t.Fatal(err)
	}
	c := f.anon()
	if res, b := c.do("POST", "/api/v1/auth/login", `{"username":"`+name+`","password":"`+testPassword+`"}`); res.StatusCode != 200 {
		f.t.Fatalf("login %s: %d %s", name, res.StatusCode, b)
	}
	tok, hash, _ := auth.NewToken()
	if _, err := f.db.CreateToken(context.Background(), u.ID, "test", hash); err != nil {
		f.t.Fatal(err)
	}
	return c, tok, u.ID
}

// TestMarketAPIFlow walks the marketplace through the API on both engines: an organisation
// registers and is qualified, credits and freezes its deposit, bids live (SSE auction.<id>),
// retries with its idempotency key, resynchronises from the database, and every abuse is
// refused with a reason and recorded.
func TestMarketAPIFlow(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		now := time.Now().UTC()
		spec := market.ListingSpec{Title: "Collateral: flat 301", Pack: "marketplace", Format: "english", Kind: "real_estate",
			StartPrice: mustAmt("700000.00"), Increment: mustAmt("10000.00"), Deposit: mustAmt("70000.00"),
			NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(-time.Hour), End: now.Add(time.Hour)}
		a := createAuction(t, admin, spec)
		// A listing that breaks its pack: every failing rule named, nothing stored.
		bad := spec
		bad.Pack, bad.Appraisal = "judicial", mustAmt("1100000.00")
		bb, _ := json.Marshal(bad)
		res, b := admin.do("POST", "/api/v1/market/auctions", string(bb))
		if res.StatusCode != 400 || !strings.Contains(string(b), "JA-1") || !strings.Contains(string(b), "JA-6") {
			t.Fatalf("judicial listing breaking JA-1: %d %s", res.StatusCode, b)
		}

		var bidders []*client
		var tokens []string
		for i := 0; i < 2; i++ {
			c, tok, _ := f.bidderClient(fmt.Sprintf("buyer%d", i))
			res, b := c.do("POST", "/api/v1/market/orgs", fmt.Sprintf(`{"name":"AMC %d","licence_type":"amc_local","documents":["licence.pdf"]}`, i))
			if res.StatusCode != 201 {
				t.Fatalf("register org: %d %s", res.StatusCode, b)
			}
			o := decode[market.Org](t, b)
			// Unqualified: refused, recorded.
			if res, b := c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/registration", a.ID), ""); res.StatusCode != 403 || !strings.Contains(string(b), "not qualified") {
				t.Fatalf("unqualified registration: %d %s", res.StatusCode, b)
			}
			if res, b := admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/decision", o.ID), `{"approve":true}`); res.StatusCode != 200 {
				t.Fatalf("approve: %d %s", res.StatusCode, b)
			}
			if res, b := admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/deposits", o.ID), `{"amount":"100000.00","note":"wire 1"}`); res.StatusCode != 200 {
				t.Fatalf("credit: %d %s", res.StatusCode, b)
			}
			// Another organisation's auction is not visible before registering.
			if res, _ := c.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d", a.ID), ""); res.StatusCode != 404 {
				t.Fatalf("unregistered bidder sees the auction: %d", res.StatusCode)
			}
			if res, b := c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/registration", a.ID), ""); res.StatusCode != 204 {
				t.Fatalf("registration: %d %s", res.StatusCode, b)
			}
			bidders, tokens = append(bidders, c), append(tokens, tok)
		}
		path := fmt.Sprintf("/api/v1/market/auctions/%d", a.ID)
		// Deposit-less: the engine rejects (MP-4), stored.
		res, b = bidders[0].do("POST", path+"/bids", `{"amount":"700000.00"}`)
		if rc := decode[market.BidReceipt](t, b); res.StatusCode != 200 || rc.Accepted || rc.Rule != "MP-4" {
			t.Fatalf("deposit-less bid: %d %s", res.StatusCode, b)
		}
		for _, c := range bidders {
			if res, b := c.do("POST", path+"/deposit", ""); res.StatusCode != 200 || !decode[market.BidReceipt](t, b).Accepted {
				t.Fatalf("deposit: %d %s", res.StatusCode, b)
			}
		}
		stream := openStream(t, f.ts.URL, tokens[1], fmt.Sprintf("auction.%d", a.ID), "")
		res, b = bidders[0].do("POST", path+"/bids", `{"amount":"700000.00"}`, "Idempotency-Key", "k-1")
		first := decode[market.BidReceipt](t, b)
		if res.StatusCode != 200 || !first.Accepted || first.Code != "B001" {
			t.Fatalf("bid: %d %s", res.StatusCode, b)
		}
		for {
			e := stream.next(t)
			ev := decode[market.Event](t, []byte(e.data))
			if e.typ == "event" && ev.Seq == first.Seq {
				if ev.Bidder != "B001" || ev.Amount.String() != "700000.00" {
					t.Fatalf("live event %+v", ev)
				}
				break
			}
		}
		// The same key again: the original answer.
		res, b = bidders[0].do("POST", path+"/bids", `{"amount":"990000.00"}`, "Idempotency-Key", "k-1")
		if rc := decode[market.BidReceipt](t, b); !rc.Repeat || rc.Seq != first.Seq || rc.Amount.String() != "700000.00" {
			t.Fatalf("replayed request: %s", b)
		}
		// Abuse.
		for _, c := range []struct {
			body   string
			status int
			rule   string
		}{
			{`{"amount":"705000.00"}`, 200, "MP-6"},        // off the increment
			{`{"amount":"690000.00"}`, 200, "MP-6"},        // below the price
			{`{"amount":"-5.00"}`, 400, ""},                // negative
			{`{"amount":"99999999999999999.00"}`, 400, ""}, // absurd
		} {
			res, b := bidders[1].do("POST", path+"/bids", c.body)
			if res.StatusCode != c.status {
				t.Fatalf("%s: %d %s", c.body, res.StatusCode, b)
			}
			if c.status == 200 {
				if rc := decode[market.BidReceipt](t, b); rc.Accepted || rc.Rule != c.rule || rc.Reason == "" {
					t.Fatalf("%s: %s", c.body, b)
				}
			}
		}
		// Resynchronise from the database: the state and the events since 0.
		res, b = bidders[1].do("GET", path, "")
		st := decode[market.State](t, b)
		if res.StatusCode != 200 || st.View.Price.String() != "700000.00" || st.View.Leader != "B001" || st.MyCode != "B002" {
			t.Fatalf("state: %d %s", res.StatusCode, b)
		}
		res, b = bidders[1].do("GET", path+"/events?since=0", "")
		evs := decode[[]market.Event](t, b)
		mine, others := 0, 0
		for _, e := range evs {
			if e.Mine {
				mine++
			} else if !e.Accepted {
				t.Fatalf("another bidder's rejection shown: %+v", e)
			} else {
				others++
			}
		}
		if mine < 3 || others < 2 {
			t.Fatalf("events since 0: %s", b)
		}
		res, b = admin.do("GET", path+"/attempts", "")
		if atts := decode[[]market.RefusedAttempt](t, b); len(atts) < 3 {
			t.Fatalf("attempts: %s", b)
		}
		// The bidder's own page.
		res, b = bidders[0].do("GET", "/api/v1/market/me", "")
		me := decode[MarketMeView](t, b)
		if res.StatusCode != 200 || me.Account.Frozen.String() != "70000.00" || len(me.Bids) < 2 {
			t.Fatalf("me: %d %s", res.StatusCode, b)
		}
		// A bidder sees only its registrations in the list.
		lone, _, _ := f.bidderClient("lonely")
		if res, b := lone.do("GET", "/api/v1/market/auctions", ""); res.StatusCode != 200 || string(b) != "[]\n" && string(b) != "[]" {
			t.Fatalf("list for a bidder without an organisation: %d %s", res.StatusCode, b)
		}
	})
}

// MarketMeView mirrors httpapi.MarketMe for decoding.
type MarketMeView struct {
	Org     market.Org     `json:"org"`
	Account market.Account `json:"account"`
	Bids    []market.Event `json:"bids"`
}

func mustAmt(s string) money.Amount {
	a, err := money.Parse(s, money.CNY)
	if err != nil {
		panic(err)
	}
	return a
}

// TestMarketAPITapes: the masked tape goes to a registered bidder after its NDA (watermarked,
// logged); the full tape, with personal data, only to the buyer after payment, through the
// audited bulk read (one access-log row per borrower, naming the download).
func TestMarketAPITapes(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	admin := f.as(reclaim.RoleAdmin)
	now := time.Now().UTC()
	spec := market.ListingSpec{Title: "Package A", Pack: "marketplace", Format: "sealed", Kind: "npl_package", PortfolioID: f.portfolio,
		StartPrice: mustAmt("100000.00"), Increment: mustAmt("1000.00"),
		NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(-time.Hour), End: now.Add(3 * time.Second)}
	a := createAuction(t, admin, spec)
	path := fmt.Sprintf("/api/v1/market/auctions/%d", a.ID)
	var cs []*client
	for i := 0; i < 2; i++ {
		c, _, _ := f.bidderClient(fmt.Sprintf("tapebuyer%d", i))
		res, b := c.do("POST", "/api/v1/market/orgs", fmt.Sprintf(`{"name":"Buyer %d","licence_type":"amc_national"}`, i))
		if res.StatusCode != 201 {
			t.Fatalf("org: %d %s", res.StatusCode, b)
		}
		o := decode[market.Org](t, b)
		admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/decision", o.ID), `{"approve":true}`)
		if res, b := c.do("POST", path+"/registration", ""); res.StatusCode != 204 {
			t.Fatalf("register: %d %s", res.StatusCode, b)
		}
		cs = append(cs, c)
	}
	// No NDA, no tape.
	if res, b := cs[0].do("POST", path+"/tape.csv", ""); res.StatusCode != 403 || !strings.Contains(string(b), "NDA") {
		t.Fatalf("tape before the NDA: %d %s", res.StatusCode, b)
	}
	cs[0].do("POST", path+"/nda", "")
	res, b := cs[0].do("POST", path+"/tape.csv", "")
	wm := res.Header.Get("X-Reclaim-Watermark")
	if res.StatusCode != 200 || wm == "" || !strings.Contains(string(b), ",") {
		t.Fatalf("masked tape: %d %.200s", res.StatusCode, b)
	}
	res, b = admin.do("GET", path+"/downloads", "")
	if dl := decode[[]market.Download](t, b); len(dl) != 1 || dl[0].Watermark != wm || dl[0].Kind != "masked" {
		t.Fatalf("downloads: %s", b)
	}
	for i, amt := range []string{"150000.00", "120000.00"} {
		res, b := cs[i].do("POST", path+"/bids", `{"amount":"`+amt+`"}`)
		if rc := decode[market.BidReceipt](t, b); res.StatusCode != 200 || !rc.Accepted {
			t.Fatalf("sealed bid: %d %s", res.StatusCode, b)
		}
	}
	// The full tape is the buyer's, after payment.
	if res, _ := cs[0].do("POST", path+"/full-tape.csv", ""); res.StatusCode != 403 {
		t.Fatalf("full tape before the close: %d", res.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, b := admin.do("GET", path, "")
		if st := decode[market.State](t, b); st.Auction.Status == market.StatusSold {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the auction did not close")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res, b := admin.do("POST", path+"/payment", ""); res.StatusCode != 200 {
		t.Fatalf("payment: %d %s", res.StatusCode, b)
	}
	if res, _ := cs[1].do("POST", path+"/full-tape.csv", ""); res.StatusCode != 403 {
		t.Fatalf("full tape to the loser: %d", res.StatusCode)
	}
	res, b = cs[0].do("POST", path+"/full-tape.csv", "")
	wm = res.Header.Get("X-Reclaim-Watermark")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if res.StatusCode != 200 || len(lines) != 301 || !strings.HasPrefix(lines[1], wm+",") {
		t.Fatalf("full tape: %d, %d lines, %.300s", res.StatusCode, len(lines), b)
	}
	acc, err := f.db.ListPIIAccess(context.Background(), reclaim.PIIAccessFilter{PortfolioID: f.portfolio, Limit: 1000})
	if err != nil || len(acc) == 0 || !strings.Contains(acc[0].Purpose, wm) || acc[0].Actor != "user:tapebuyer0" {
		t.Fatalf("audited reads: %d %v %+v", len(acc), err, acc)
	}
	// The transfer's date dates the ledger's auction.result and loan.removed entries: in the
	// API's range only (1990-01-01 to tomorrow), as every other ledger date; nothing settles.
	for _, d := range []string{"9999-12-31", "2199-01-01", "1989-12-31"} {
		res, b = admin.do("POST", path+"/settle", `{"effective":"`+d+`"}`)
		wantInvalid(t, "settle effective "+d, res.StatusCode, b, "effective")
	}
	if res, b = admin.do("GET", path+"/result", ""); !strings.Contains(string(b), `"status":"paid"`) {
		t.Fatalf("after refused settlements: %d %.400s", res.StatusCode, b)
	}
	res, b = admin.do("POST", path+"/settle", `{"effective":"`+time.Now().UTC().Format("2006-01-02")+`"}`)
	if s := decode[market.Settlement](t, b); res.StatusCode != 200 || s.Status != market.SettleSettled || s.Bids != 2 || s.LedgerPool != "P1" {
		t.Fatalf("settle: %d %s", res.StatusCode, b)
	}
	res, b = cs[1].do("GET", path+"/result", "")
	if r := decode[market.Result](t, b); res.StatusCode != 200 || len(r.Bids) != 2 || r.Bids[0].Name == "" || r.HistoryHash == "" {
		t.Fatalf("result: %d %s", res.StatusCode, b)
	}
	// The transfer agreement and the debtor-notification list (each sold loan's tape id, the
	// seller's borrower ref and the claim: what the masked tape hides) are the buyer's and the
	// staff's; a losing bidder gets the public result only.
	if r := decode[market.Result](t, b); r.Settlement == nil || r.Settlement.Notification != "" || r.Settlement.Agreement != "" ||
		strings.Contains(string(b), "LN0000000001") || r.Settlement.Status != market.SettleSettled {
		t.Errorf("the loser reads the settlement's documents: %.400s", b)
	}
	for _, c := range []*client{cs[0], admin} {
		res, b = c.do("GET", path+"/result", "")
		if r := decode[market.Result](t, b); res.StatusCode != 200 || r.Settlement == nil || !strings.Contains(r.Settlement.Notification, "new_creditor") ||
			r.Settlement.Agreement == "" {
			t.Errorf("the buyer's or the staff's result lacks the documents: %d %.300s", res.StatusCode, b)
		}
	}
}

// TestMarketLoadReconcile is the CI-sized load test (bench/auction is the full one): 20 bidders
// on 2 auctions bid over HTTP for two seconds, each following its auction on SSE; every
// acknowledgement is then found, once and as answered, in the stored history, and each
// auction's state equals a replay of that history (auction.Restore) and the server's answer.
func TestMarketLoadReconcile(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		now := time.Now().UTC()
		var ids []int64
		for i := 0; i < 2; i++ {
			spec := market.ListingSpec{Title: fmt.Sprintf("Lot %d", i), Pack: "marketplace", Format: "english", Kind: "movable",
				StartPrice: mustAmt("1000.00"), Increment: mustAmt("10.00"),
				NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(-time.Hour), End: now.Add(2 * time.Minute)}
			sb, _ := json.Marshal(spec)
			_, b := admin.do("POST", "/api/v1/market/auctions", string(sb))
			ids = append(ids, decode[market.Auction](t, b).ID)
		}
		type bidderT struct {
			c   *client
			tok string
			aid int64
		}
		var bs []bidderT
		for i := 0; i < 20; i++ {
			c, tok, _ := f.bidderClient(fmt.Sprintf("loadbidder%d", i))
			_, b := c.do("POST", "/api/v1/market/orgs", fmt.Sprintf(`{"name":"Load AMC %d","licence_type":"bank"}`, i))
			o := decode[market.Org](t, b)
			admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/decision", o.ID), `{"approve":true}`)
			aid := ids[i%2]
			if res, b := c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/registration", aid), ""); res.StatusCode != 204 {
				t.Fatalf("%d %s", res.StatusCode, b)
			}
			if res, b := c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/deposit", aid), ""); res.StatusCode != 200 {
				t.Fatalf("%d %s", res.StatusCode, b)
			}
			bs = append(bs, bidderT{c, tok, aid})
		}
		type ackT struct {
			aid int64
			rc  market.BidReceipt
		}
		var mu sync.Mutex
		var acks []ackT
		var live atomic.Int64
		deadline := time.Now().Add(2 * time.Second)
		var wg sync.WaitGroup
		for i, b := range bs {
			s := openStream(t, f.ts.URL, b.tok, fmt.Sprintf("auction.%d", b.aid), "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				price := int64(1000_00)
				for n := 0; time.Now().Before(deadline); n++ {
				drain:
					for {
						select {
						case e := <-s.ch:
							live.Add(1)
							var ev market.Event
							if json.Unmarshal([]byte(e.data), &ev) == nil && ev.Amount.Minor() > price {
								price = ev.Amount.Minor()
							}
						default:
							break drain
						}
					}
					amt := money.New(price+int64(10_00*(1+(i+n)%5)), money.CNY)
					res, body := b.c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/bids", b.aid), `{"amount":"`+amt.String()+`"}`,
						"Idempotency-Key", fmt.Sprintf("L%d-%d", i, n))
					if res.StatusCode != 200 {
						t.Errorf("bid: %d %s", res.StatusCode, body)
						return
					}
					var rc market.BidReceipt
					json.Unmarshal(body, &rc)
					if rc.Amount != amt {
						t.Errorf("receipt amount %s for %s", rc.Amount, amt)
					}
					if !rc.Price.IsAbsent() && rc.Price.Minor() > price {
						price = rc.Price.Minor()
					}
					mu.Lock()
					acks = append(acks, ackT{b.aid, rc})
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		accepted := 0
		stored := map[[2]int64]market.Event{}
		for _, id := range ids {
			for since := int64(0); ; { // page by page: a fast run stores more than one page
				_, b := admin.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d/events?since=%d&limit=5000", id, since), "")
				page := decode[[]market.Event](t, b)
				for _, e := range page {
					stored[[2]int64{id, e.Seq}] = e
					since = max(since, e.Seq)
				}
				if len(page) < 5000 {
					break
				}
			}
		}
		for _, a := range acks {
			e, ok := stored[[2]int64{a.aid, a.rc.Seq}]
			if !ok || e.Accepted != a.rc.Accepted || e.Amount != a.rc.Amount {
				t.Fatalf("acknowledged %+v stored as %+v (%v)", a.rc, e, ok)
			}
			if a.rc.Accepted {
				accepted++
			}
		}
		if accepted == 0 || live.Load() == 0 {
			t.Fatalf("%d acks, %d accepted, %d live events", len(acks), accepted, live.Load())
		}
		for _, id := range ids {
			eng, err := f.market.RestoreAuction(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			price, leader := eng.Standing()
			_, b := admin.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d", id), "")
			st := decode[market.State](t, b)
			if !st.View.End.Equal(eng.End()) || st.View.Price != price || st.View.Leader != leader || st.Auction.Seq != int64(eng.State().Events) {
				t.Fatalf("auction %d: server %+v, replay end %s price %s leader %s", id, st.View, eng.End(), price, leader)
			}
		}
		t.Logf("%d bids acknowledged, %d accepted, %d live events", len(acks), accepted, live.Load())
	})
}

// TestMarketFiles: a listing's photos and documents are checked for type (against the bytes)
// and size; a bidder sees them only for an auction its organisation registered for.
func TestMarketFiles(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	admin := f.as(reclaim.RoleAdmin)
	now := time.Now().UTC()
	spec := market.ListingSpec{Title: "Repossessed car", Pack: "marketplace", Format: "english", Kind: "movable",
		Appraisal: mustAmt("80000.00"), StartPrice: mustAmt("60000.00"), Increment: mustAmt("1000.00"),
		NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(time.Hour), End: now.Add(3 * time.Hour)}
	a := createAuction(t, admin, spec)
	path := fmt.Sprintf("/api/v1/market/auctions/%d/files", a.ID)
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("x", 100)
	res, b := admin.do("POST", path+"?name=front.png", png, "Content-Type", "image/png")
	if res.StatusCode != 201 {
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	info := decode[market.BlobInfo](t, b)
	if info.Kind != "photo" || info.Size != int64(len(png)) || len(info.SHA256) != 64 {
		t.Fatalf("info %+v", info)
	}
	for _, c := range []struct{ ctype, body string }{
		{"image/png", "%PDF-1.7 not a png"},        // the bytes are not what the type says
		{"text/html", "<script>alert(1)</script>"}, // not an accepted type
	} {
		if res, b := admin.do("POST", path+"?name=x", c.body, "Content-Type", c.ctype); res.StatusCode != 400 {
			t.Fatalf("%s: %d %s", c.ctype, res.StatusCode, b)
		}
	}
	res, b = admin.do("GET", fmt.Sprintf("%s/%d", path, info.ID), "")
	if res.StatusCode != 200 || string(b) != png || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %d %q", res.StatusCode, res.Header)
	}
	c, _, _ := f.bidderClient("filebuyer")
	if res, _ := c.do("GET", path, ""); res.StatusCode != 404 {
		t.Fatalf("files of an auction the bidder did not register for: %d", res.StatusCode)
	}
}
