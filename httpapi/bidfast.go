package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/market"
	"reclaim/money"
)

// The bid route (POST /api/v1/market/auctions/{id}/bids, operation place-bid) is the
// marketplace's hot path: under load every bidder calls it several times a second, and huma's
// reflective decoding, validation and encoding cost about as much server CPU as the bid itself.
// fastBid serves the ordinary case without them: an authorised caller, a JSON body that is an
// object of the documented string fields only, plain ASCII text, JSON accepted in the answer.
// Anything else (and any caller it would refuse) goes to the huma operation, which stays the
// one documented in the OpenAPI document and answers every unusual request exactly as before.
// Both paths call the same MarketService.PlaceBid and write the same bytes
// (TestFastBidMatchesHuma).

const bidRoutePattern = "POST /api/v1/market/auctions/{id}/bids"

// fastBidPath returns the auction id of a bid route's path, or 0 when path is not one (or the
// id is not a plain positive decimal, which huma then judges).
func fastBidPath(path string) int64 {
	rest, ok := strings.CutPrefix(path, "/api/v1/market/auctions/")
	if !ok {
		return 0
	}
	id, ok := strings.CutSuffix(rest, "/bids")
	if !ok || id == "" || len(id) > 18 || id[0] == '0' {
		return 0
	}
	var n int64
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// plainText reports whether s is printable ASCII without the JSON string's special characters
// (so that it reads and writes as itself).
func plainText(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// parseBidBody reads {"amount": "...", "key": "...", "type": "..."} (any order, each at most
// once, amount required, whitespace between tokens): the only body fastBid serves. ok is false
// for anything else.
func parseBidBody(b []byte) (req market.BidRequest, ok bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	str := func() ([]byte, bool) {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		s := b[i+1 : i+1+end]
		if !plainText(s) {
			return nil, false
		}
		i += end + 2
		return s, true
	}
	ws()
	if i >= len(b) || b[i] != '{' {
		return req, false
	}
	i++
	var seen [3]bool
	for first := true; ; first = false {
		ws()
		if i < len(b) && b[i] == '}' && first {
			return req, false // no amount
		}
		name, ok := str()
		if !ok {
			return req, false
		}
		ws()
		if i >= len(b) || b[i] != ':' {
			return req, false
		}
		i++
		ws()
		val, ok := str()
		if !ok {
			return req, false
		}
		switch string(name) {
		case "amount":
			if seen[0] || !decimalText(val) {
				return req, false
			}
			seen[0] = true
			if err := req.Amount.UnmarshalJSON(val); err != nil {
				return req, false
			}
		case "key":
			if seen[1] || len(val) > 128 {
				return req, false
			}
			seen[1] = true
			req.Key = string(val)
		case "type":
			if seen[2] {
				return req, false
			}
			seen[2] = true
			switch string(val) {
			case "", "bid", "quote", "accept":
				req.Type = string(val)
			default:
				return req, false
			}
		default:
			return req, false
		}
		ws()
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == '}' {
			i++
			ws()
			return req, i == len(b) && seen[0]
		}
		return req, false
	}
}

// decimalText reports whether s is digits with at most two decimals ("700000", "700000.50"),
// at most 20 characters: a subset of what the documented schema (a string of at most 40
// characters) and money.Amount both accept.
func decimalText(s []byte) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	dot := bytes.IndexByte(s, '.')
	intPart, frac := s, []byte(nil)
	if dot >= 0 {
		intPart, frac = s[:dot], s[dot+1:]
		if len(frac) == 0 || len(frac) > 2 {
			return false
		}
	}
	if len(intPart) == 0 {
		return false
	}
	for _, c := range intPart {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fastBid serves a bid request when it is the ordinary case (see above) and reports whether it
// did; when it returns false it has written nothing and changed nothing (r.Body is restored),
// and the request goes through the whole chain.
//
// It runs in front of the middleware that every other request passes (front, server.go), so it
// makes their checks itself, or declines: the body is at most MaxBodyBytes (limitBodies) and
// declared by Content-Length; CrossOriginProtection passes it (a browser sends no
// Authorization header cross-origin without a preflight, which this server never grants, but
// the check costs two header lookups); its path, query and body are plain printable ASCII
// (checkText: the path is checked by fastBidPath, a query is refused, the body by parseBidBody).
// It needs no session: the caller is its API token (userOf reads the token first, and never
// the session when a request has one).
func (s *Server) fastBid(w http.ResponseWriter, r *http.Request, id int64) bool {
	mk := s.cfg.Market
	n := r.ContentLength
	if mk == nil || n <= 0 || n > maxFastBody || n > s.cfg.MaxBodyBytes || r.URL.RawQuery != "" || r.Body == nil {
		return false
	}
	if ct := r.Header["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		return false
	}
	switch r.Header.Get("Accept") {
	case "", "*/*", "application/json":
	default:
		return false // content negotiation: huma's
	}
	idem := r.Header["Idempotency-Key"]
	if len(idem) > 1 || (len(idem) == 1 && (len(idem[0]) > 128 || !plainText([]byte(idem[0])))) {
		return false
	}
	if s.cop.Check(r) != nil {
		return false // the chain's CrossOriginProtection answers
	}
	u, err := s.userOf(r)
	if err != nil || u == nil || u.MustChangePassword || !u.Role.Can(reclaim.PermAuctionBid) {
		return false // huma's authorize answers (500, 401, 403 or the password change)
	}
	raw := make([]byte, n)
	if got, err := io.ReadFull(r.Body, raw); err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw[:got]), r.Body))
		return false
	}
	req, ok := parseBidBody(raw)
	if !ok {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		return false
	}
	if len(idem) == 1 && idem[0] != "" {
		req.Key = idem[0]
	}
	// No checkInput walk (reflection, about 3% of the server's CPU under load): every string of
	// the input is plain printable ASCII by construction (parseBidBody's strings and the
	// Idempotency-Key are plainText, checked above), which textnorm.Check always accepts
	// (FuzzParseBidBody checks that checkInput agrees).
	ctx := reclaim.WithUser(r.Context(), u)
	rc, err := mk.PlaceBid(ctx, id, req)
	h := w.Header()
	h[jsonType.k] = jsonType.v
	h[varyCookie.k] = varyCookie.v // as the session layer's answers say
	if err != nil {
		// As register and huma write a handler's error.
		be := apiError(err)
		if be.Status >= 500 {
			s.log.ErrorContext(ctx, "request failed", "op", "place-bid", "err", err)
		}
		var he huma.HeadersError
		if errors.As(err, &he) {
			for k, vs := range he.GetHeaders() {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(be)
		w.WriteHeader(be.Status)
		w.Write(buf.Bytes())
		s.fastBids.Add(1)
		return true
	}
	out := receiptBufs.Get().(*[]byte)
	b := appendReceipt((*out)[:0], rc)
	w.WriteHeader(http.StatusOK)
	w.Write(b) // copied into the connection's buffer
	*out = b
	receiptBufs.Put(out)
	s.fastBids.Add(1)
	return true
}

// maxFastBody is the largest body fastBid reads (a bid's body is about 30 bytes).
const maxFastBody = 1024

var receiptBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// FastBids returns how many bid requests the bid route's fast path has served (the rest went
// through the huma operation).
func (s *Server) FastBids() int64 { return s.fastBids.Load() }

// appendReceipt appends rc as encoding/json writes it (HTML not escaped, as huma's JSON
// format) followed by a newline.
func appendReceipt(b []byte, rc market.BidReceipt) []byte {
	b = append(b, `{"auction_id":`...)
	b = strconv.AppendInt(b, rc.AuctionID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, rc.Seq, 10)
	b = append(b, `,"at":`...)
	b = appendTime(b, rc.At)
	b = append(b, `,"accepted":`...)
	b = strconv.AppendBool(b, rc.Accepted)
	b = append(b, `,"rule":`...)
	b = appendString(b, rc.Rule)
	b = append(b, `,"reason":`...)
	b = appendString(b, rc.Reason)
	b = append(b, `,"repeat":`...)
	b = strconv.AppendBool(b, rc.Repeat)
	b = append(b, `,"amount":`...)
	b = appendAmount(b, rc.Amount)
	b = append(b, `,"price":`...)
	b = appendAmount(b, rc.Price)
	b = append(b, `,"end":`...)
	b = appendTime(b, rc.End)
	b = append(b, `,"code":`...)
	b = appendString(b, rc.Code)
	return append(b, "}\n"...)
}

// appendTime appends t as encoding/json writes it (time.Time.MarshalJSON: RFC 3339 with
// nanoseconds, quoted).
func appendTime(b []byte, t time.Time) []byte {
	n0 := len(b)
	b, err := t.AppendText(append(b, '"'))
	if err != nil {
		return append(b[:n0], "null"...) // unreachable for receipt times (years 0-9999)
	}
	return append(b, '"')
}

// appendAmount appends a as its MarshalJSON writes it (a.String() quoted, or null), without
// the intermediate strings.
func appendAmount(b []byte, a money.Amount) []byte {
	if a.IsAbsent() {
		return append(b, "null"...)
	}
	digits := a.Currency().Digits()
	minor := a.Minor()
	if digits < 0 || digits > 18 {
		return append(append(append(b, '"'), a.String()...), '"')
	}
	b = append(b, '"')
	u := uint64(minor)
	if minor < 0 {
		b = append(b, '-')
		u = uint64(-(minor + 1)) + 1
	}
	var num [24]byte
	d := strconv.AppendUint(num[:0], u, 10)
	for len(d) <= digits { // at least one digit before the point
		d = append(d, 0)
		copy(d[1:], d)
		d[0] = '0'
	}
	b = append(b, d[:len(d)-digits]...)
	if digits > 0 {
		b = append(b, '.')
		b = append(b, d[len(d)-digits:]...)
	}
	return append(b, '"')
}

// appendString appends s as a JSON string the way encoding/json does with HTML escaping off.
func appendString(b []byte, s string) []byte {
	if plainText([]byte(s)) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
