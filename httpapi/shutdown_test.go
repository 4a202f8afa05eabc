package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"reclaim"
	"reclaim/sqldb/sqldbtest"
)

// TestGracefulShutdown: cancelling Serve's context ends live streams, lets the server finish and
// return, and stops accepting connections.
func TestGracefulShutdown(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	c := f.as(reclaim.RoleAnalyst)
	id := f.upload(c, f.writeTape("shutdown.csv", 20, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	req, _ := http.NewRequest("GET", base+"/api/v1/stream?topic=upload."+id, nil)
	for _, ck := range c.c.Jar.Cookies(mustURL(f.ts.URL)) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, res)
	}
	streamDone := make(chan struct{})
	go func() { io.Copy(io.Discard, res.Body); close(streamDone) }()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	select {
	case <-streamDone:
	case <-time.After(5 * time.Second):
		t.Error("the event stream stayed open after shutdown")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}
