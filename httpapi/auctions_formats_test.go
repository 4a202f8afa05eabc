package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestMarketAPIDutchAccept is the auction room's Dutch path through the API on both engines:
// the state carries the schedule, the server's clock, the price at it and the next step; a
// bidder accepts with {"type": "accept"} and no amount; the other bidder's live stream gets the
// acceptance (its code and price) and then the close, at once rather than at the listed end; a
// second acceptance is rejected; reserved keys and unknown types are refused.
func TestMarketAPIDutchAccept(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		now := time.Now().UTC()
		spec := market.ListingSpec{Title: "Forklifts", Pack: "marketplace", Format: "dutch", Kind: "movable",
			StartPrice: mustAmt("700000.00"), Deposit: mustAmt("70000.00"),
			NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(-25 * time.Minute), End: now.Add(time.Hour),
			Dutch: &market.DutchSpec{Step: mustAmt("10000.00"), EverySeconds: 600, Floor: mustAmt("600000.00")}}
		a := createAuction(t, admin, spec)
		path := fmt.Sprintf("/api/v1/market/auctions/%d", a.ID)
		var bidders []*client
		var tokens []string
		for i := 0; i < 2; i++ {
			c, tok, _ := f.bidderClient(fmt.Sprintf("dutch%d", i))
			res, b := c.do("POST", "/api/v1/market/orgs", fmt.Sprintf(`{"name":"Dutch AMC %d","licence_type":"amc_local","documents":["licence.pdf"]}`, i))
			if res.StatusCode != 201 {
				t.Fatalf("register org: %d %s", res.StatusCode, b)
			}
			o := decode[market.Org](t, b)
			admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/decision", o.ID), `{"approve":true}`)
			admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/deposits", o.ID), `{"amount":"100000.00"}`)
			for _, step := range []string{"/registration", "/nda", "/deposit"} {
				if res, b := c.do("POST", path+step, ""); res.StatusCode >= 300 {
					t.Fatalf("%s: %d %s", step, res.StatusCode, b)
				}
			}
			bidders, tokens = append(bidders, c), append(tokens, tok)
		}
		res, b := bidders[0].do("GET", path, "")
		if res.StatusCode != 200 {
			t.Fatalf("state: %d %s", res.StatusCode, b)
		}
		var raw map[string]json.RawMessage
		_ = json.Unmarshal(b, &raw)
		for _, k := range []string{"now", "dutch_next"} {
			if _, ok := raw[k]; !ok {
				t.Fatalf("the state has no %q: %s", k, b)
			}
		}
		st := decode[market.State](t, b)
		if st.Auction.Dutch == nil || st.Auction.Dutch.EverySeconds != 600 || st.View.DutchPrice.String() != "680000.00" ||
			st.DutchNext == nil || !st.DutchNext.After(st.Now) || st.Now.Before(now) {
			t.Fatalf("state: schedule %+v price %s next %v now %v", st.Auction.Dutch, st.View.DutchPrice, st.DutchNext, st.Now)
		}
		// Abuse: an unknown type, the marketplace's reserved keys.
		for body, want := range map[string]string{`{"type":"grab","amount":null}`: "type", `{"type":"accept","key":"deposit:O1"}`: "reserved",
			`{"type":"accept","amount":null,"key":"round-close:1"}`: "reserved", `{"amount":null}`: "positive"} {
			if res, b := bidders[1].do("POST", path+"/bids", body); res.StatusCode != 400 || !strings.Contains(string(b), want) {
				t.Fatalf("%s: %d %s (want 400 naming %q)", body, res.StatusCode, b, want)
			}
		}
		stream := openStream(t, f.ts.URL, tokens[1], fmt.Sprintf("auction.%d", a.ID), "")
		res, b = bidders[0].do("POST", path+"/bids", `{"type":"accept","amount":null}`, "Idempotency-Key", "take-it")
		rc := decode[market.BidReceipt](t, b)
		if res.StatusCode != 200 || !rc.Accepted || rc.Price.String() != "680000.00" {
			t.Fatalf("accept: %d %s", res.StatusCode, b)
		}
		sawAccept := false
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			e := stream.next(t)
			if e.typ == "event" {
				ev := decode[market.Event](t, []byte(e.data))
				if ev.Type == "accept" {
					if ev.Bidder != rc.Code || ev.Amount.String() != "680000.00" {
						t.Fatalf("live acceptance %+v", ev)
					}
					sawAccept = true
				}
			}
			if e.typ == "closed" {
				c := decode[market.Auction](t, []byte(e.data))
				if !sawAccept || c.Status != market.StatusSold || c.Outcome == nil || c.Outcome.WinnerCode != rc.Code || !c.Outcome.End.Equal(rc.At) {
					t.Fatalf("closed (acceptance seen %v): %+v %+v", sawAccept, c, c.Outcome)
				}
				break
			}
		}
		if !sawAccept {
			t.Fatal("the acceptance was not announced")
		}
		// A second acceptance (no amount at all) is the engine's to reject: bidding has ended.
		res, b = bidders[1].do("POST", path+"/bids", `{"type":"accept"}`, "Idempotency-Key", "too-late")
		if late := decode[market.BidReceipt](t, b); res.StatusCode != 200 || late.Accepted || !strings.Contains(late.Reason, "end") {
			t.Fatalf("a second acceptance: %d %s", res.StatusCode, b)
		}
	})
}
