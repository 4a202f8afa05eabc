package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// raiseFileLimit lets one process hold both ends of a thousand connections.
func raiseFileLimit(t *testing.T, need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("cannot read the file limit")
	}
	if lim.Cur < need {
		lim.Cur = min(need, lim.Max)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < need {
		t.Skipf("file limit %d below %d", lim.Cur, need)
	}
}

// TestThousandSubscribers holds 1,000 SSE streams on one topic over loopback and checks that
// every one of them receives every event, in order: on SQLite from the node's own broker, on
// PostgreSQL through LISTEN/NOTIFY.
func TestThousandSubscribers(t *testing.T) {
	const subs, evs = 1000, 20
	raiseFileLimit(t, 4*subs+256)
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) { thousandSubscribers(t, db, subs, evs) })
}

func thousandSubscribers(t *testing.T, db *sqldb.DB, subs, evs int) {
	f := newFixture(t, db)
	c := f.as(reclaim.RoleAnalyst)
	id := f.upload(c, f.writeTape("sse.csv", 50, nil))
	cookies := c.c.Jar.Cookies(mustURL(f.ts.URL))
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: subs}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var ready, done sync.WaitGroup
	errs := make(chan string, subs)
	for i := 0; i < subs; i++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/v1/stream?topic=upload."+id, nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			res, err := hc.Do(req)
			if err != nil || res.StatusCode != 200 {
				errs <- "connect: " + errString(err, res)
				ready.Done()
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			readySent := false
			next := 1
			for sc.Scan() {
				line := sc.Text()
				if !readySent && strings.HasPrefix(line, "retry:") {
					readySent = true
					ready.Done()
				}
				if d, ok := strings.CutPrefix(line, "data: "); ok {
					var v struct{ N int }
					if json.Unmarshal([]byte(d), &v) != nil || v.N == 0 {
						continue // the import's own events
					}
					if v.N != next {
						errs <- "out of order: got " + strconv.Itoa(v.N) + " want " + strconv.Itoa(next)
						return
					}
					if next++; next > evs {
						return
					}
				}
			}
			errs <- "stream ended after " + strconv.Itoa(next-1) + " events"
		}()
	}
	ready.Wait()
	broker := f.broker
	start := time.Now()
	for n := 1; n <= evs; n++ {
		if err := broker.Publish(ctx, "upload."+id, "bench", map[string]int{"n": n}); err != nil {
			t.Fatal(err)
		}
	}
	done.Wait()
	close(errs)
	bad := 0
	for e := range errs {
		if bad++; bad <= 5 {
			t.Error(e)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d subscribers failed", bad, subs)
	}
	t.Logf("%d subscribers x %d events delivered in order in %v", subs, evs, time.Since(start))
}

func errString(err error, res *http.Response) string {
	if err != nil {
		return err.Error()
	}
	return res.Status
}

// upload posts a tape as c and waits for its import to finish; it returns the upload id.
func (f *fixture) upload(c *client, path string) string {
	f.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "tape.csv")
	data, _ := os.ReadFile(path)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/uploads", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var up struct{ ID, Status string }
	json.Unmarshal(b, &up)
	if res.StatusCode != 202 {
		f.t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	for i := 0; i < 300 && up.Status == "running"; i++ {
		time.Sleep(20 * time.Millisecond)
		_, b = c.do("GET", "/api/v1/uploads/"+up.ID, "")
		json.Unmarshal(b, &up)
	}
	return up.ID
}

// readCounter counts the reads of a connection that returned data.
type readCounter struct {
	net.Conn
	reads *atomic.Int64
}

func (c readCounter) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

// TestStreamHoldsABurst: events published 1 ms apart reach a subscriber in fewer socket writes
// than events (the stream holds an event up to EventHold for those that follow it), in order,
// and within a second.
func TestStreamHoldsABurst(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		const evs = 10
		f := newFixture(t, db)
		c := f.as(reclaim.RoleAnalyst)
		id := f.upload(c, f.writeTape("burst.csv", 20, nil))
		var reads atomic.Int64
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return readCounter{Conn: conn, reads: &reads}, nil
		}}
		defer tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/v1/stream?topic=upload."+id, nil)
		for _, ck := range c.c.Jar.Cookies(mustURL(f.ts.URL)) {
			req.AddCookie(ck)
		}
		res, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("connect: %s", errString(err, res))
		}
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "retry:") {
		}
		before := reads.Load()
		start := time.Now()
		go func() {
			for n := 1; n <= evs; n++ {
				if err := f.broker.Publish(ctx, "upload."+id, "burst", map[string]int{"n": n}); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		next := 1
		for next <= evs && sc.Scan() {
			d, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var v struct{ N int }
			if json.Unmarshal([]byte(d), &v) != nil || v.N == 0 {
				continue
			}
			if v.N != next {
				t.Fatalf("event %d arrived when %d was due", v.N, next)
			}
			next++
		}
		if next <= evs {
			t.Fatalf("the stream ended after %d of %d events: %v", next-1, evs, sc.Err())
		}
		took, n := time.Since(start), reads.Load()-before
		if took > time.Second {
			t.Errorf("%d events took %v to arrive", evs, took)
		}
		if n >= evs {
			t.Errorf("%d events 1 ms apart came in %d reads: the stream wrote each on its own", evs, n)
		}
		t.Logf("%d events in %d reads, %v", evs, n, took)
	})
}
