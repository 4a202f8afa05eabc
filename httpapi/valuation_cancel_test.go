package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/valuation/service"
)

// TestValuationStopsWhenTheClientGoes: a client that disconnects in the middle of the Monte
// Carlo stops the valuation (the request's context): the simulation never completes, nothing
// is left running or cached, and the next request computes the valuation.
func TestValuationStopsWhenTheClientGoes(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.as(reclaim.RoleAnalyst)
		const paths = 20000
		path := fmt.Sprintf("/api/v1/portfolios/%d/valuation?paths=%d", f.portfolio, paths)
		reqCtx, hangUp := context.WithCancel(context.Background())
		defer hangUp()
		var mu sync.Mutex
		var simulated int
		var once sync.Once
		hook := func(stage string, done, total int) {
			if stage != "simulating" {
				return
			}
			mu.Lock()
			simulated = max(simulated, done)
			mu.Unlock()
			if done == 0 {
				return
			}
			once.Do(func() {
				hangUp()
				// Hold the simulation until the server has seen the client go (the request's
				// context is cancelled when the connection closes), so that a fast machine
				// cannot finish the paths first.
				for deadline := time.Now().Add(20 * time.Second); f.valuation.Stats().Waiting > 0 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			})
		}
		f.onValuationProgress.Store(&hook)
		req, _ := http.NewRequestWithContext(reqCtx, "GET", f.ts.URL+path, nil)
		if res, err := c.c.Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("the request was answered (%d) although the client went away", res.StatusCode)
		}
		var st service.Stats
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if st = f.valuation.Stats(); st.Running == 0 {
				break
			}
		}
		if st != (service.Stats{}) {
			t.Fatalf("after the client went: %+v, want nothing running or cached", st)
		}
		mu.Lock()
		if simulated == 0 || simulated >= paths {
			t.Errorf("the simulation reached %d of %d paths; want it stopped part-way", simulated, paths)
		}
		mu.Unlock()
		f.onValuationProgress.Store(nil)
		if res, b := c.do("GET", path, ""); res.StatusCode != 200 {
			t.Fatalf("the next request: %d %.300s", res.StatusCode, b)
		}
		if st := f.valuation.Stats(); st != (service.Stats{Cached: 1}) {
			t.Errorf("after the next request: %+v", st)
		}
	})
}
