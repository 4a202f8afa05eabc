package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"reclaim/market"
	"reclaim/money"
)

// huma's JSON format: encoding/json with HTML escaping off.
func humaJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return buf.Bytes()
}

// The hand-written receipt encoder writes exactly what huma's JSON format writes, for any
// receipt: odd text in the rule, reason and code (quotes, HTML, controls, non-ASCII), absent
// amounts, zero and non-UTC times.
func TestAppendReceiptMatchesEncodingJSON(t *testing.T) {
	text := rapid.OneOf(rapid.StringMatching(`[A-Za-z0-9 .:-]{0,20}`), rapid.String(),
		rapid.SampledFrom([]string{"", `a "quoted" <b>&amp;</b>`, "line\nbreak\ttab\u2028\x00", "低于当前价", "\xff\xfe"}))
	amount := rapid.Custom(func(t *rapid.T) money.Amount {
		if rapid.Bool().Draw(t, "absent") {
			return money.Amount{}
		}
		return money.New(rapid.Int64Range(-1<<50, 1<<50).Draw(t, "minor"), money.CNY)
	})
	when := rapid.Custom(func(t *rapid.T) time.Time {
		if rapid.Bool().Draw(t, "zero") {
			return time.Time{}
		}
		at := time.Unix(rapid.Int64Range(0, 1<<34).Draw(t, "s"), rapid.Int64Range(0, 999_999_999).Draw(t, "ns"))
		return at.In(time.FixedZone("z", rapid.IntRange(-12, 14).Draw(t, "h")*3600))
	})
	rapid.Check(t, func(t *rapid.T) {
		rc := market.BidReceipt{AuctionID: rapid.Int64().Draw(t, "id"), Seq: rapid.Int64().Draw(t, "seq"), At: when.Draw(t, "at"),
			Accepted: rapid.Bool().Draw(t, "ok"), Rule: text.Draw(t, "rule"), Reason: text.Draw(t, "reason"), Repeat: rapid.Bool().Draw(t, "rep"),
			Amount: amount.Draw(t, "amount"), Price: amount.Draw(t, "price"), End: when.Draw(t, "end"), Code: text.Draw(t, "code")}
		got, want := appendReceipt(nil, rc), humaJSON(rc)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendReceipt:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}

func TestParseBidBody(t *testing.T) {
	for _, c := range []struct {
		body string
		ok   bool
		want market.BidRequest
	}{
		{`{"amount":"700000.00"}`, true, market.BidRequest{Amount: money.New(700000_00, money.CNY)}},
		{" {\n \"type\" : \"bid\", \"key\":\"k-1\",\t\"amount\":\"5\" } ", true, market.BidRequest{Amount: money.New(500, money.CNY), Key: "k-1", Type: "bid"}},
		{`{"amount":"1.5","type":""}`, true, market.BidRequest{Amount: money.New(150, money.CNY)}},
		{`{}`, false, market.BidRequest{}},
		{`{"key":"k"}`, false, market.BidRequest{}},                                             // amount missing: huma says so
		{`{"amount":700000}`, false, market.BidRequest{}},                                       // a number: huma's schema refuses it
		{`{"amount":null}`, false, market.BidRequest{}},                                         // null: huma's
		{`{"amount":"1e5"}`, false, market.BidRequest{}},                                        // not plain decimal text
		{`{"amount":"1.234"}`, false, market.BidRequest{}},                                      // three decimals
		{`{"amount":"-5"}`, false, market.BidRequest{}},                                         // sign
		{`{"amount":"5","amount":"6"}`, false, market.BidRequest{}},                             // duplicate
		{`{"amount":"5","other":"x"}`, false, market.BidRequest{}},                              // unknown field
		{`{"amount":"5","type":"sell"}`, false, market.BidRequest{}},                            // not in the enum
		{`{"amount":"5","key":"a\"b"}`, false, market.BidRequest{}},                             // an escape
		{`{"amount":"5","key":"密钥"}`, false, market.BidRequest{}},                               // non-ASCII: huma and the text checks
		{`{"amount":"5"} x`, false, market.BidRequest{}},                                        // trailing data
		{`{"amount":"5",}`, false, market.BidRequest{}},                                         // trailing comma
		{`["amount","5"]`, false, market.BidRequest{}},                                          // not an object
		{`{"amount":"5","key":"` + strings.Repeat("k", 129) + `"}`, false, market.BidRequest{}}, // over maxLength
	} {
		got, ok := parseBidBody([]byte(c.body))
		if ok != c.ok || (ok && (got.Amount != c.want.Amount || got.Key != c.want.Key || got.Type != c.want.Type)) {
			t.Errorf("%s: got %+v %v, want %+v %v", c.body, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseBidBody: whatever the fast path's parser accepts, encoding/json reads the same
// request from (with unknown fields refused), and it is within the documented schema.
func FuzzParseBidBody(f *testing.F) {
	for _, s := range []string{`{"amount":"700000.00"}`, `{"amount":"5","key":"k","type":"quote"}`, ` { "type":"accept" , "amount" : "1" } `,
		`{"amount":"5","amount":"6"}`, `{"amount":"1.5"`, `{"amount":"5","key":"\u00e9"}`, `{"amount":"00.10"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseBidBody(b)
		if !ok {
			return
		}
		var want market.BidRequest
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q accepted by the fast path, refused by encoding/json: %v", b, err)
		}
		if dec.More() {
			t.Fatalf("%q: trailing data accepted", b)
		}
		if got.Amount != want.Amount || got.Key != want.Key || got.Type != want.Type || got.Amount.IsAbsent() || len(got.Key) > 128 {
			t.Fatalf("%q: fast path %+v, encoding/json %+v", b, got, want)
		}
		// fastBid does not run the edge's text walk: what it accepts must always pass it.
		if err := checkInput(&BidInput{AuctionPath: AuctionPath{ID: 1}, IdempotencyKey: "k-1", Body: got}); err != nil {
			t.Fatalf("%q: accepted by the fast path, refused by checkInput: %v", b, err)
		}
	})
}

func TestFastBidPath(t *testing.T) {
	for p, want := range map[string]int64{
		"/api/v1/market/auctions/12/bids": 12, "/api/v1/market/auctions/1/bids": 1,
		"/api/v1/market/auctions/0/bids": 0, "/api/v1/market/auctions/012/bids": 0, "/api/v1/market/auctions//bids": 0,
		"/api/v1/market/auctions/-1/bids": 0, "/api/v1/market/auctions/1x/bids": 0, "/api/v1/market/auctions/1/bids/": 0,
		"/api/v1/market/auctions/99999999999999999999/bids": 0, "/api/v1/market/auctions/1/deposit": 0,
	} {
		if got := fastBidPath(p); got != want {
			t.Errorf("%s: %d, want %d", p, got, want)
		}
	}
}
