package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestStreamEndsWhenScopeEnds: an open event stream re-checks its topic's object scope with
// its caller's credentials. A collector following case.<id> stops receiving the case's events
// once the case is assigned to someone else (its notes, offers and actions are no longer the
// collector's to see), as a new subscription would be refused with 404.
func TestStreamEndsWhenScopeEnds(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		caseA, _, _ := boardedCase(t, f)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, err := httpapi.New(httpapi.Config{Logger: log, Workout: f.workout, StreamRecheck: 200 * time.Millisecond},
			sqldb.KeyedDB{DB: db}, nil, f.broker)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		f2 := *f
		f2.ts = ts
		mgr, col := f2.as(reclaim.RoleCollectionManager), f2.as(reclaim.RoleCollector)
		assign := func(who string) {
			t.Helper()
			if res, b := mgr.do("POST", fmt.Sprintf("/api/v1/cases/%d/assign", caseA), fmt.Sprintf(`{"assignee":%q}`, who)); res.StatusCode != 200 {
				t.Fatalf("assign: %d %s", res.StatusCode, b)
			}
		}
		note := func(text string) {
			t.Helper()
			if res, b := mgr.do("POST", fmt.Sprintf("/api/v1/cases/%d/notes", caseA), fmt.Sprintf(`{"note":%q}`, text)); res.StatusCode != 201 {
				t.Fatalf("note: %d %s", res.StatusCode, b)
			}
		}
		assign("collector1")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/stream?topic=case.%d", ts.URL, caseA), nil)
		res, err := col.c.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("stream: %v %v", err, errString(err, res))
		}
		defer res.Body.Close()
		lines := make(chan string, 1000)
		go func() {
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<22)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		read := func(want string, d time.Duration) (seen, closed bool) {
			timeout := time.After(d)
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						return seen, true
					}
					seen = seen || strings.Contains(l, want)
				case <-timeout:
					return seen, false
				}
			}
		}
		note("before-reassignment")
		if seen, closed := read("before-reassignment", time.Second); !seen || closed {
			t.Fatalf("the assigned collector's stream: seen %v, closed %v", seen, closed)
		}
		assign("collector-other")
		time.Sleep(800 * time.Millisecond) // several re-checks
		note("after-reassignment")
		seen, closed := read("after-reassignment", 2*time.Second)
		if seen {
			t.Error("the collector's stream carried a note of a case assigned to someone else")
		}
		if !closed {
			t.Error("the stream stayed open after the case left the collector's scope")
		}
		if res, b := col.do("GET", fmt.Sprintf("/api/v1/stream?topic=case.%d", caseA), ""); res.StatusCode != 404 {
			t.Errorf("a new subscription: %d %s", res.StatusCode, b)
		}
	})
}
