package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestFastBidMatchesHuma runs the same bids on three identical auctions: through the bid
// route's fast path with the bidder's API token (served in front of the session layer), through
// the fast path with the bidder's session (served behind it), and through the huma operation
// (the client's Accept header, which the fast path leaves to huma's negotiation, is the only
// difference), and compares every answer: status, Content-Type, body (the auction id and the
// receipt times aside) and the headers. Then malformed and unusual requests, with a session and
// with a token: each goes to huma and is refused as before, nothing stored.
func TestFastBidMatchesHuma(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		now := time.Now().UTC()
		var ids [3]int64
		for i := range ids {
			spec := market.ListingSpec{Title: fmt.Sprintf("Lot %d", i), Pack: "marketplace", Format: "english", Kind: "movable",
				StartPrice: mustAmt("1000.00"), Increment: mustAmt("10.00"), Deposit: mustAmt("100.00"),
				NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(-time.Hour), End: now.Add(time.Hour)}
			ids[i] = createAuction(t, admin, spec).ID
		}
		// Two bidders registered (deposit frozen) on both auctions, a third registered nowhere.
		var bidders []*client
		var tokens []string
		for i := 0; i < 3; i++ {
			c, tok, _ := f.bidderClient(fmt.Sprintf("fast%d", i))
			tokens = append(tokens, tok)
			_, b := c.do("POST", "/api/v1/market/orgs", fmt.Sprintf(`{"name":"Fast AMC %d","licence_type":"bank"}`, i))
			o := decode[market.Org](t, b)
			admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/decision", o.ID), `{"approve":true}`)
			admin.do("POST", fmt.Sprintf("/api/v1/market/orgs/%d/deposits", o.ID), `{"amount":"1000.00","note":"wire"}`)
			for _, id := range ids {
				if i == 2 {
					break
				}
				if res, b := c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/registration", id), ""); res.StatusCode != 204 {
					t.Fatalf("registration: %d %s", res.StatusCode, b)
				}
				if res, b := c.do("POST", fmt.Sprintf("/api/v1/market/auctions/%d/deposit", id), ""); res.StatusCode != 200 {
					t.Fatalf("deposit: %d %s", res.StatusCode, b)
				}
			}
			bidders = append(bidders, c)
		}
		steps := []struct {
			who  int
			body string
			hdr  []string
		}{
			{0, `{"amount":"1000.00"}`, []string{"Idempotency-Key", "k-1"}},                     // accepted
			{1, `{"amount":"1000.00","key":"k-2"}`, nil},                                        // MP-6: below the price + increment
			{1, `{"amount":"1005.00","key":"k-3"}`, nil},                                        // off the increment
			{1, `{"amount":"1020.00","key":"k-4","type":"bid"}`, nil},                           // accepted
			{0, `{"amount":"1000.00"}`, []string{"Idempotency-Key", "k-1"}},                     // a retry: the original answer, repeat
			{1, `{"amount":"9999.00"}`, []string{"Idempotency-Key", "k-1"}},                     // another bidder's key: 409
			{2, `{"amount":"5000.00","key":"k-5"}`, nil},                                        // not registered: 403, recorded
			{0, `{"amount":"0"}`, nil},                                                          // not positive: 400, recorded
			{0, `{"amount":"1030","type":"accept"}`, nil},                                       // an acceptance in an English auction
			{0, `{"amount":"2000000000000.00"}`, nil},                                           // absurd: 400
			{0, "{ \"amount\" : \"1100.00\" ,\n \"key\" : \"k-6\" }", []string{"X-Other", "1"}}, // accepted, spaced out
		}
		times := regexp.MustCompile(`"(at|end)":"[^"]*"`)
		norm := func(b []byte) string { return times.ReplaceAllString(string(b), `"$1":"T"`) }
		// The headers of an answer, but the request's own id.
		headers := func(h http.Header) string {
			h = h.Clone()
			if len(h.Values("X-Request-Id")) != 1 {
				t.Errorf("X-Request-Id: %q", h.Values("X-Request-Id"))
			}
			for _, k := range []string{"X-Request-Id", "Date", "Content-Length"} {
				h.Del(k)
			}
			var b strings.Builder
			h.Write(&b)
			return b.String()
		}
		before := f.srv.FastBids()
		var hdrs [3]string
		for i, st := range steps {
			n0 := f.srv.FastBids()
			var answers [3]string
			for j, id := range ids {
				hdr := append([]string{}, st.hdr...)
				c := bidders[st.who]
				switch j {
				case 0:
					c = f.anon()
					hdr = append(hdr, "Authorization", "Bearer "+tokens[st.who])
				case 2:
					hdr = append(hdr, "Accept", "application/json;q=0.9") // huma negotiates; the fast path declines
				}
				path := fmt.Sprintf("/api/v1/market/auctions/%d/bids", id)
				res, b := c.do("POST", path, st.body, hdr...)
				hdrs[j] = headers(res.Header)
				var rc struct {
					AuctionID int64 `json:"auction_id"`
				}
				json.Unmarshal(b, &rc)
				if rc.AuctionID != 0 && rc.AuctionID != id {
					t.Fatalf("step %d: receipt for auction %d on %d", i, rc.AuctionID, id)
				}
				body := norm(b)
				if rc.AuctionID != 0 {
					body = regexp.MustCompile(`"auction_id":\d+`).ReplaceAllString(body, `"auction_id":N`)
				}
				body = regexp.MustCompile(fmt.Sprintf(`auction %d\b`, id)).ReplaceAllString(body, "auction N")
				answers[j] = fmt.Sprintf("%d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			if n := f.srv.FastBids() - n0; n != 2 {
				t.Errorf("step %d: %d requests served by the fast path, want 2 (the token's and the session's): %s", i, n, answers[0])
			}
			for j, how := range []string{"fast path with a token", "fast path with a session"} {
				if answers[j] != answers[2] {
					t.Errorf("step %d (%s): %s and huma differ:\nfast: %s\nhuma: %s", i, st.body, how, answers[j], answers[2])
				}
				if hdrs[j] != hdrs[2] {
					t.Errorf("step %d (%s): %s and huma write different headers:\nfast:\n%shuma:\n%s", i, st.body, how, hdrs[j], hdrs[2])
				}
			}
		}
		if got := f.srv.FastBids() - before; got != 2*int64(len(steps)) {
			t.Errorf("the fast path served %d of %d requests", got, 2*len(steps))
		}
		// The auctions stored the same history (times aside).
		var hist [3]string
		for j, id := range ids {
			_, b := admin.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d/events", id), "")
			hist[j] = norm(b)
		}
		if hist[0] != hist[2] || hist[1] != hist[2] {
			t.Errorf("histories differ:\n%s\n%s\n%s", hist[0], hist[1], hist[2])
		}

		// Malformed or unusual requests: huma's answers, nothing stored, nothing served fast.
		before = f.srv.FastBids()
		path := fmt.Sprintf("/api/v1/market/auctions/%d/bids", ids[0])
		_, b := admin.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d/events", ids[0]), "")
		stored := len(decode[[]market.Event](t, b))
		for _, c := range []struct {
			body   string
			hdr    []string
			status int
		}{
			{`{"amount":1200}`, nil, 400},
			{`{"amount":"1200.00","bogus":true}`, nil, 400},
			{`{"amount":"1200.00","type":"sell"}`, nil, 400},
			{`{"amount":"1200.00"`, nil, 400},
			{`{"amount":"12,00"}`, nil, 400},
			{`{"amount":"1200.00","key":"` + strings.Repeat("k", 129) + `"}`, nil, 400},
			{`{"amount":"1200.00"}`, []string{"Idempotency-Key", strings.Repeat("k", 130)}, 400},
		} {
			res, b := bidders[0].do("POST", path, c.body, c.hdr...)
			if res.StatusCode != c.status || errorCode(b) != reclaim.EINVALID {
				t.Errorf("%q: %d %s, want %d", c.body, res.StatusCode, b, c.status)
			}
			res, b = f.anon().do("POST", path, c.body, append(c.hdr, "Authorization", "Bearer "+tokens[0])...)
			if res.StatusCode != c.status || errorCode(b) != reclaim.EINVALID {
				t.Errorf("%q with a token: %d %s, want %d", c.body, res.StatusCode, b, c.status)
			}
		}
		// A token request the fast path leaves to the chain: a query string, a cross-site
		// browser request (refused by CrossOriginProtection), a revoked or unknown token.
		if res, b := f.anon().do("POST", path+"?x=1", `{"amount":"1200.00","key":"q-1"}`, "Authorization", "Bearer "+tokens[0]); res.StatusCode != 200 {
			t.Errorf("bid with a query string: %d %s", res.StatusCode, b)
		} else {
			stored++
		}
		if res, b := f.anon().do("POST", path, `{"amount":"1300.00"}`, "Authorization", "Bearer "+tokens[0], "Sec-Fetch-Site", "cross-site"); res.StatusCode != 403 {
			t.Errorf("cross-site bid: %d %s", res.StatusCode, b)
		}
		if res, b := f.anon().do("POST", path, `{"amount":"1300.00"}`, "Authorization", "Bearer rcl_unknown"); res.StatusCode != 401 {
			t.Errorf("bid with an unknown token: %d %s", res.StatusCode, b)
		}
		// Signed out, or a role without the permission: huma's authorisation answers.
		if res, b := f.anon().do("POST", path, `{"amount":"1200.00"}`); res.StatusCode != 401 {
			t.Errorf("anonymous bid: %d %s", res.StatusCode, b)
		}
		if res, b := admin.do("POST", path, `{"amount":"1200.00"}`); res.StatusCode != 403 && res.StatusCode != 400 {
			t.Errorf("admin bid: %d %s", res.StatusCode, b)
		}
		_, b = admin.do("GET", fmt.Sprintf("/api/v1/market/auctions/%d/events", ids[0]), "")
		if n := len(decode[[]market.Event](t, b)); n != stored {
			t.Errorf("refused requests stored events: %d then %d", stored, n)
		}
		if got := f.srv.FastBids() - before; got != 0 {
			t.Errorf("the fast path served %d malformed or unauthorised requests", got)
		}
	})
}
