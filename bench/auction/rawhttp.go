package main

// A lean HTTP/1.1 client for the load generator (the measuring apparatus, not the system under
// test): one persistent TCP connection per bidder for its bids and one for its SSE stream,
// requests written by hand in one write, answers read with only what the generator needs parsed
// (status, Content-Length or chunked framing, the receipt's seq, accepted, rule and price, the
// amount of each SSE event). Every bid still goes through the server's real route
// (POST /api/v1/market/auctions/{id}/bids with the bidder's token, Content-Type and
// Idempotency-Key), and every bidder keeps its SSE stream and reacts to it, as with net/http
// (-client nethttp keeps that client for comparison). net/http's client costs about as much
// CPU per bid as the server's whole bid route: two goroutines per connection and channel
// hand-offs per request, a parsed header map per answer, a chunked reader per SSE record.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http/httputil"
	"strconv"
	"time"

	"reclaim/money"
)

// rawConn is one keep-alive HTTP/1.1 connection; not safe for concurrent use.
type rawConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	req  []byte // request buffer, reused
	body []byte // answer buffer, reused
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c, rc.r = nil, nil
	}
}

func (rc *rawConn) dial(ctx context.Context) error {
	if rc.c != nil {
		return nil
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", rc.addr)
	if err != nil {
		return err
	}
	rc.c, rc.r = c, bufio.NewReaderSize(c, 4096)
	return nil
}

// deadline is the earlier of ctx's deadline and now + 30 s (net/http's client timeout before).
func deadline(ctx context.Context) time.Time {
	d := time.Now().Add(30 * time.Second)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

// rawBid places one bid on the bidder's connection (dialling it when needed) and returns the
// receipt (for a 200) and the status. On any error the connection is closed (the next call
// dials again).
func rawBid(ctx context.Context, rc *rawConn, b bidder, amount int64, key string) (r receipt, status int, err error) {
	defer func() {
		// A read cut off by the connection's deadline (the load's end) is the end, as ctx's
		// cancellation is for net/http: make sure ctx says so before the caller looks.
		if dl, ok := ctx.Deadline(); err != nil && ok && !time.Now().Before(dl) {
			<-ctx.Done()
		}
	}()
	if err := rc.dial(ctx); err != nil {
		return receipt{}, 0, err
	}
	rc.c.SetDeadline(deadline(ctx))
	body := money.New(amount, money.CNY).String()
	q := rc.req[:0]
	q = append(q, "POST /api/v1/market/auctions/"...)
	q = strconv.AppendInt(q, b.auction, 10)
	q = append(q, "/bids HTTP/1.1\r\nHost: "...)
	q = append(q, rc.addr...)
	q = append(q, "\r\nAuthorization: Bearer "...)
	q = append(q, b.token...)
	q = append(q, "\r\nContent-Type: application/json\r\nIdempotency-Key: "...)
	q = append(q, key...)
	q = append(q, "\r\nContent-Length: "...)
	q = strconv.AppendInt(q, int64(len(body)+len(`{"amount":""}`)), 10)
	q = append(q, "\r\n\r\n{\"amount\":\""...)
	q = append(q, body...)
	q = append(q, "\"}"...)
	rc.req = q
	if _, err := rc.c.Write(q); err != nil {
		rc.close()
		return receipt{}, 0, err
	}
	status, data, err := rc.readAnswer()
	if err != nil {
		rc.close()
		return receipt{}, 0, err
	}
	if status == 200 {
		if r, err = parseReceipt(data); err != nil {
			rc.close()
			return r, 0, err
		}
	}
	return r, status, nil
}

var errFraming = errors.New("rawhttp: unexpected answer framing")

// readHead reads a status line and headers; it returns the status, the Content-Length (-1 when
// absent), whether the body is chunked and whether the server closes the connection.
func readHead(r *bufio.Reader) (status int, length int64, chunked, closing bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, false, errFraming
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, false, errFraming
	}
	length = -1
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return status, length, chunked, closing, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, false, false, errFraming
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, 0, false, false, errFraming
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
}

// readAnswer reads one whole answer (Content-Length or chunked); a "Connection: close" answer
// closes the connection after it.
func (rc *rawConn) readAnswer() (int, []byte, error) {
	status, length, chunked, closing, err := readHead(rc.r)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case chunked:
		rc.body = rc.body[:0]
		buf := bytes.NewBuffer(rc.body)
		if _, err := io.Copy(buf, httputil.NewChunkedReader(rc.r)); err != nil {
			return 0, nil, err
		}
		// the trailer section: an empty line (no trailers are sent)
		if line, err := rc.r.ReadSlice('\n'); err != nil || len(bytes.TrimRight(line, "\r\n")) != 0 {
			return 0, nil, errFraming
		}
		rc.body = buf.Bytes()
	case length >= 0:
		if length > 1<<20 {
			return 0, nil, errFraming
		}
		if int64(cap(rc.body)) < length {
			rc.body = make([]byte, length)
		}
		rc.body = rc.body[:length]
		if _, err := io.ReadFull(rc.r, rc.body); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errFraming // an answer to a bid always has a length or chunks
	}
	if closing {
		rc.close()
	}
	return status, rc.body, nil
}

// parseReceipt reads the receipt fields the generator uses from the server's JSON answer
// (httpapi's receipt encoder: one object, these keys once each, strings plain text).
func parseReceipt(data []byte) (receipt, error) {
	var r receipt
	v, ok := field(data, `"seq":`)
	if !ok {
		return r, errors.New("receipt without seq")
	}
	var seq int64
	for _, c := range v {
		if c < '0' || c > '9' || seq > 1e15 {
			return r, errors.New("receipt with a bad seq")
		}
		seq = seq*10 + int64(c-'0')
	}
	if len(v) == 0 {
		return r, errors.New("receipt with a bad seq")
	}
	r.Seq = seq
	if v, ok = field(data, `"accepted":`); !ok {
		return r, errors.New("receipt without accepted")
	}
	r.Accepted = string(v) == "true"
	if v, ok = field(data, `"rule":`); ok && len(v) >= 2 && v[0] == '"' {
		switch rule := v[1 : len(v)-1]; string(rule) {
		case "MP-6": // the usual refusal, without a copy
			r.Rule = "MP-6"
		default:
			r.Rule = string(rule)
		}
	}
	if v, ok = field(data, `"price":`); ok && len(v) >= 2 && v[0] == '"' {
		p, ok := parseMinor(v[1 : len(v)-1])
		if !ok {
			return r, errors.New("receipt with a bad price")
		}
		r.Price = money.New(p, money.CNY)
	}
	return r, nil
}

// field returns the raw JSON value after name (up to the next ',' or '}' outside a string).
func field(data []byte, name string) ([]byte, bool) {
	i := bytes.Index(data, []byte(name))
	if i < 0 {
		return nil, false
	}
	v := data[i+len(name):]
	if len(v) > 0 && v[0] == '"' {
		end := bytes.IndexByte(v[1:], '"')
		if end < 0 {
			return nil, false
		}
		return v[:end+2], true
	}
	end := bytes.IndexAny(v, ",}")
	if end < 0 {
		return nil, false
	}
	return v[:end], true
}

// rawSubscribe follows the auction's stream on its own connection, like subscribe, and calls
// fn with the amount of every accepted bid. It returns when the stream ends or ctx does.
func rawSubscribe(ctx context.Context, addr string, b bidder, fn func(minor int64)) {
	rc := &rawConn{addr: addr}
	if err := rc.dial(ctx); err != nil {
		return
	}
	defer rc.close()
	stop := context.AfterFunc(ctx, func() { rc.c.SetDeadline(time.Now()) })
	defer stop()
	q := append([]byte(nil), "GET /api/v1/stream?topic=auction."...)
	q = strconv.AppendInt(q, b.auction, 10)
	q = append(q, " HTTP/1.1\r\nHost: "...)
	q = append(q, addr...)
	q = append(q, "\r\nAuthorization: Bearer "...)
	q = append(q, b.token...)
	q = append(q, "\r\n\r\n"...)
	if _, err := rc.c.Write(q); err != nil {
		return
	}
	status, _, chunked, _, err := readHead(rc.r)
	if err != nil || status != 200 || !chunked {
		return
	}
	readSSE(httputil.NewChunkedReader(rc.r), fn)
}

// readSSE reads SSE records and calls fn with the amount of every "event" record that has one.
func readSSE(r io.Reader, fn func(minor int64)) {
	br := bufio.NewReaderSize(r, 16<<10)
	isEvent := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return // a line over 16 KB, too, ends the stream: the bidder reconnects
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case bytes.HasPrefix(line, []byte("event: ")):
			isEvent = string(line[7:]) == "event"
		case isEvent && bytes.HasPrefix(line, []byte("data: ")):
			if minor, ok := amountOf(line[6:]); ok {
				fn(minor)
			}
		}
	}
}
