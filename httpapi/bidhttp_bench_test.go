package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/events"
	"reclaim/market"
	"reclaim/money"
)

// benchStore knows one API token (a bidder's); everything else of Store is absent.
type benchStore struct {
	Store
	hash []byte
	user reclaim.User
}

func (b *benchStore) UserByToken(_ context.Context, h []byte) (reclaim.User, error) {
	if bytes.Equal(h, b.hash) {
		return b.user, nil
	}
	return reclaim.User{}, reclaim.Errorf(reclaim.ENOTFOUND, "no such token")
}

// benchMarket answers every bid at once with a fixed receipt (the store's work is not what
// these benchmarks measure).
type benchMarket struct {
	MarketService
	seq atomic.Int64
}

func (m *benchMarket) PlaceBid(_ context.Context, id int64, req market.BidRequest) (market.BidReceipt, error) {
	at := time.Date(2026, 12, 7, 4, 0, 0, 123456000, time.UTC)
	return market.BidReceipt{AuctionID: id, Seq: m.seq.Add(1), At: at, Accepted: false, Rule: "MP-6",
		Reason: "the bid 1000.00 is below the current price 1200.00 plus the increment 10.00", Amount: req.Amount,
		Price: money.New(1200_00, money.CNY), End: at.Add(3 * time.Minute), Code: "B007"}, nil
}

// benchServer starts a Server with the stub store and market on a loopback listener and
// returns its address and a bidder's token.
func benchServer(tb testing.TB) (addr, token string, broker *events.Broker) {
	addr, token, broker, _ = benchServerWith(tb, Config{})
	return addr, token, broker
}

// benchServerWith is benchServer with cfg (its Logger, Market and StreamRecheck are set).
func benchServerWith(tb testing.TB, cfg Config) (addr, token string, broker *events.Broker, s *Server) {
	tok, hash, err := auth.NewToken()
	if err != nil {
		tb.Fatal(err)
	}
	st := &benchStore{hash: hash, user: reclaim.User{ID: 7, Username: "bidder", Role: reclaim.RoleBidder}}
	broker = events.New(events.Options{})
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	cfg.Market, cfg.StreamRecheck = &benchMarket{}, time.Hour
	s, err = New(cfg, st, nil, broker)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), tok, broker, s
}

// bidRequest is a bid request as the load generator writes it.
func bidRequest(addr, token string, auction int64, key string) []byte {
	body := `{"amount":"1000.00"}`
	q := []byte("POST /api/v1/market/auctions/" + strconv.FormatInt(auction, 10) + "/bids HTTP/1.1\r\nHost: " + addr +
		"\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nIdempotency-Key: " + key +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return q
}

// readAnswer reads one HTTP/1.1 answer with a Content-Length and returns its status and body
// (into buf): a lean client, so that the benchmark's CPU is mostly the server's.
func readAnswer(r *bufio.Reader, buf []byte) (int, []byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 {
		return 0, nil, io.ErrUnexpectedEOF
	}
	status, _ := strconv.Atoi(string(line[9:12]))
	n := -1
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(v))
		}
	}
	if n < 0 {
		return status, nil, errors.New("no Content-Length")
	}
	buf = append(buf[:0], make([]byte, n)...)
	_, err = io.ReadFull(r, buf)
	return status, buf, err
}

// cpuTime is this process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBidRoundTrip is one bidder's keep-alive connection placing bids one after another
// through the whole HTTP stack (net/http, the middleware, the fast path) against a market that
// answers at once: the HTTP cost of a bid, syscalls included.
//
//	go test ./httpapi -run XXX -bench BidRoundTrip -benchtime 20000x -count 3
func BenchmarkBidRoundTrip(b *testing.B) {
	addr, tok, _ := benchServer(b)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	req := bidRequest(addr, tok, 3, "k-1")
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		status, body, err := readAnswer(r, buf)
		if err != nil || status != 200 {
			b.Fatalf("%d %s %v", status, body, err)
		}
		buf = body
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
}

func (m *benchMarket) CanSee(context.Context, int64) error { return nil }

// BenchmarkSSEFanout: subs subscribers of one auction's stream over loopback, each reading its
// own connection; each op publishes one event (as the bid batcher's notifier does) and waits
// until every subscriber has read it: the server's cost of one live event, its readers' too.
//
//	go test ./httpapi -run XXX -bench SSEFanout -benchtime 5000x -count 3
func BenchmarkSSEFanout(b *testing.B) {
	const subs = 25
	addr, tok, broker := benchServer(b)
	got := make(chan struct{}, subs*64)
	var conns []net.Conn
	for i := 0; i < subs; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		c.Write([]byte("GET /api/v1/stream?topic=auction.3 HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + tok + "\r\n\r\n"))
		go func() {
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if bytes.HasPrefix(line, []byte("data: {")) {
					got <- struct{}{}
				}
			}
		}()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for broker.Subscribers("auction.3") < subs {
		time.Sleep(time.Millisecond)
	}
	ctx := context.Background()
	data := map[string]any{"seq": 1, "type": "bid", "bidder": "B007", "amount": "1000.00", "accepted": true, "rule": "MP-6", "reason": "B007 leads at 1000.00"}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		broker.PublishAll(ctx, []events.Message{{Topic: "auction.3", Type: "event", Data: data}})
		for j := 0; j < subs; j++ {
			<-got
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*subs)/1e3, "cpu-µs/event")
}
