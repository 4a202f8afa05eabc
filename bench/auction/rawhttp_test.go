package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"reclaim/market"
	"reclaim/money"
)

// TestRawClientAgainstNetHTTP: the lean client against a net/http server: a bid's request
// arrives as net/http reads it (path, headers, body), answers framed by Content-Length and by
// chunks are read whole on one kept-alive connection, the receipt's fields come out as
// encoding/json wrote them, and an SSE stream's event amounts reach the callback.
func TestRawClientAgainstNetHTTP(t *testing.T) {
	price := money.New(1_234_567_89, money.CNY)
	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	var conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/market/auctions/{id}/bids", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.PathValue("id") != "7" || r.Header.Get("Authorization") != "Bearer rcl_tok" || r.Header.Get("Content-Type") != "application/json" ||
			string(body) != `{"amount":"1234600.00"}` {
			http.Error(w, fmt.Sprintf("unexpected request %s %q %q", r.URL.Path, r.Header, body), 400)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		rc := market.BidReceipt{AuctionID: 7, Seq: 41, At: at, Accepted: key == "k-accept", Price: price, End: at,
			Rule: "MP-6", Reason: `below the price, "quoted"`, Amount: money.New(1_234_600_00, money.CNY)}
		if rc.Accepted {
			rc.Rule, rc.Reason = "", ""
		}
		b, _ := json.Marshal(rc)
		if key == "k-chunked" {
			w.Write(b[:10]) // two writes with a flush between: chunked
			w.(http.Flusher).Flush()
			w.Write(b[10:])
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	})
	mux.HandleFunc("GET /api/v1/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 2000\n\n")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "id: 1\nevent: event\ndata: {\"type\":\"bid\",\"amount\":\"1000100.00\"}\n\n: ping\n\n")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "id: 2\nevent: state\ndata: {\"amount\":\"5.00\"}\n\nid: 3\nevent: event\ndata: {\"type\":\"close\",\"amount\":null}\n\n")
		fmt.Fprint(w, "id: 4\nevent: event\ndata: {\"type\":\"bid\",\"amount\":\"1000200.50\"}\n\n")
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := bidder{token: "rcl_tok", auction: 7}
	rc := &rawConn{addr: addr}
	defer rc.close()
	for _, key := range []string{"k-accept", "k-refuse", "k-chunked", "k-accept"} {
		r, status, err := rawBid(ctx, rc, b, 1_234_600_00, key)
		if err != nil || status != 200 {
			t.Fatalf("%s: status %d, %v", key, status, err)
		}
		want := receipt{Seq: 41, Accepted: key == "k-accept", Rule: "MP-6", Price: price}
		if want.Accepted {
			want.Rule = ""
		}
		if r != want {
			t.Fatalf("%s: receipt %+v, want %+v", key, r, want)
		}
	}
	if conns.Load() != 1 {
		t.Fatalf("%d connections for four bids, want one kept alive", conns.Load())
	}
	var got []int64
	rawSubscribe(ctx, addr, b, func(minor int64) { got = append(got, minor) })
	if fmt.Sprint(got) != "[100010000 100020050]" {
		t.Fatalf("SSE amounts %v", got)
	}
}

// parseMinor reads every amount as money.Parse does (CNY minor units), and refuses what it
// refuses.
func TestParseMinorMatchesMoneyParse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s string
		if rapid.Bool().Draw(t, "written") {
			s = money.New(rapid.Int64Range(0, 1<<50).Draw(t, "minor"), money.CNY).String()
		} else {
			s = rapid.StringMatching(`[-0-9.,a ]{0,20}`).Draw(t, "text")
		}
		got, ok := parseMinor([]byte(s))
		a, err := money.Parse(s, money.CNY)
		if ok != (err == nil) || (ok && got != a.Minor()) {
			t.Fatalf("parseMinor(%q) = %d, %v; money.Parse: %v, %v", s, got, ok, a, err)
		}
	})
}
