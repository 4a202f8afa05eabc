package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/httpapi"
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

// TestValuationProgressEvents: a valuation computed for a request publishes its progress on the
// topic valuation.<portfolio>, stage by stage, never going back, each stage ending at its
// total; valuation readers may subscribe, others (and unknown portfolios) see no such topic.
func TestValuationProgressEvents(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.as(reclaim.RoleAnalyst)
		topic := fmt.Sprintf("valuation.%d", f.portfolio)
		sub, _, _, err := f.broker.Subscribe(topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if res, b := c.do("GET", fmt.Sprintf("/api/v1/portfolios/%d/valuation?paths=3000", f.portfolio), ""); res.StatusCode != 200 {
			t.Fatalf("valuation: %d %.300s", res.StatusCode, b)
		}
		var got []httpapi.ValuationProgress
		timeout := time.After(20 * time.Second)
	collect:
		for {
			select {
			case e, ok := <-sub.C:
				if !ok {
					t.Fatalf("subscription closed: %v", sub.Err())
				}
				var p httpapi.ValuationProgress
				if e.Type != "progress" || json.Unmarshal(e.Data, &p) != nil {
					t.Fatalf("event %s %s", e.Type, e.Data)
				}
				got = append(got, p)
				if p.Stage == "simulating" && p.Done == p.Total {
					break collect
				}
			case <-timeout:
				t.Fatalf("no end of the simulation among %v", got)
			}
		}
		var stages []string
		for i, p := range got {
			if i == 0 || got[i-1].Stage != p.Stage {
				stages = append(stages, p.Stage)
				if i > 0 && got[i-1].Done != got[i-1].Total {
					t.Errorf("stage %s ends at %d of %d", got[i-1].Stage, got[i-1].Done, got[i-1].Total)
				}
			} else if p.Done < got[i-1].Done {
				t.Errorf("stage %s goes back from %d to %d", p.Stage, got[i-1].Done, p.Done)
			}
		}
		if strings.Join(stages, ",") != "loading,scoring,projecting,simulating" || got[len(got)-1].Total != 3000 {
			t.Errorf("events %v", got)
		}
		// Who may subscribe.
		open := func(cl *client, topic string) int {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/v1/stream?topic="+topic, nil)
			res, err := cl.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			return res.StatusCode
		}
		if code := open(c, topic); code != 200 {
			t.Errorf("analyst subscribes to %s: %d", topic, code)
		}
		if code := open(c, "valuation.99999"); code != 404 {
			t.Errorf("analyst subscribes to an unknown portfolio's valuation: %d", code)
		}
		if code := open(f.as(reclaim.RoleCollector), topic); code != 404 {
			t.Errorf("collector subscribes to %s: %d", topic, code)
		}
	})
}
