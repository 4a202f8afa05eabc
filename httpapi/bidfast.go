package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
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
// did; when it returns false it has written nothing and changed nothing (r.Body is restored).
func (s *Server) fastBid(w http.ResponseWriter, r *http.Request, id int64) bool {
	mk := s.cfg.Market
	if mk == nil || r.Header.Get("Content-Type") != "application/json" || r.Body == nil {
		return false
	}
	switch r.Header.Get("Accept") {
	case "", "*/*", "application/json":
	default:
		return false // content negotiation: huma's
	}
	idem := r.Header.Values("Idempotency-Key")
	if len(idem) > 1 || (len(idem) == 1 && (len(idem[0]) > 128 || !plainText([]byte(idem[0])))) {
		return false
	}
	u, err := s.userOf(r)
	if err != nil || u == nil || u.MustChangePassword || !u.Role.Can(reclaim.PermAuctionBid) {
		return false // huma's authorize answers (500, 401, 403 or the password change)
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	restore := func() bool { r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), r.Body)); return false }
	if err != nil || len(raw) == 4096 {
		return restore()
	}
	req, ok := parseBidBody(raw)
	if !ok {
		return restore()
	}
	in := BidInput{AuctionPath: AuctionPath{ID: id}, Body: req}
	if len(idem) == 1 {
		in.IdempotencyKey = idem[0]
	}
	// No checkInput walk (reflection, about 3% of the server's CPU under load): every string of
	// in is plain printable ASCII by construction (parseBidBody's strings and the
	// Idempotency-Key are plainText, checked above), which textnorm.Check always accepts
	// (FuzzParseBidBody checks that checkInput agrees).
	if in.IdempotencyKey != "" {
		req.Key = in.IdempotencyKey
	}
	ctx := reclaim.WithUser(r.Context(), u)
	rc, err := mk.PlaceBid(ctx, id, req)
	h := w.Header()
	h.Set("Content-Type", "application/json")
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
	w.WriteHeader(http.StatusOK)
	w.Write(appendReceipt(make([]byte, 0, 384), rc))
	s.fastBids.Add(1)
	return true
}

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

func appendTime(b []byte, t time.Time) []byte {
	j, err := t.MarshalJSON()
	if err != nil {
		return append(b, "null"...) // unreachable for receipt times (years 0-9999)
	}
	return append(b, j...)
}

func appendAmount(b []byte, a money.Amount) []byte {
	if a.IsAbsent() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = append(b, a.String()...)
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
