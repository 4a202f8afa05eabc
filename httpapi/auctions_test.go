package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
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
		sb, _ := json.Marshal(spec)
		res, b := admin.do("POST", "/api/v1/market/auctions", string(sb))
		if res.StatusCode != 201 {
			t.Fatalf("create: %d %s", res.StatusCode, b)
		}
		a := decode[market.Auction](t, b)
		// A listing that breaks its pack: every failing rule named, nothing stored.
		bad := spec
		bad.Pack, bad.Appraisal = "judicial", mustAmt("1100000.00")
		bb, _ := json.Marshal(bad)
		res, b = admin.do("POST", "/api/v1/market/auctions", string(bb))
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
		if atts := decode[[]market.Attempt](t, b); len(atts) < 3 {
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
