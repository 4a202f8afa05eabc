package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/valuation"
	"reclaim/valuation/service"
)

type report struct {
	stage       string
	done, total int
}

// recorder keeps a service's progress reports and runs a hook on each.
type recorder struct {
	mu      sync.Mutex
	reports []report
	hook    func(report)
}

func (r *recorder) progress(stage string, done, total int) {
	r.mu.Lock()
	r.reports = append(r.reports, report{stage, done, total})
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(report{stage, done, total})
	}
}

// take returns the reports so far and starts afresh with hook.
func (r *recorder) take(hook func(report)) []report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reports
	r.reports, r.hook = nil, hook
	return out
}

// checkProgress fails unless the reports run through the stages in order, each never going
// back and ending at its total.
func checkProgress(t *testing.T, reps []report, stages ...string) {
	t.Helper()
	var seen []string
	for i, r := range reps {
		if len(seen) == 0 || seen[len(seen)-1] != r.stage {
			seen = append(seen, r.stage)
		} else if prev := reps[i-1]; r.done < prev.done || r.total != prev.total {
			t.Errorf("stage %s goes from %d/%d to %d/%d", r.stage, prev.done, prev.total, r.done, r.total)
		}
		if r.done < 0 || r.done > r.total {
			t.Errorf("stage %s: %d of %d", r.stage, r.done, r.total)
		}
		if i+1 == len(reps) || reps[i+1].stage != r.stage {
			if r.done != r.total {
				t.Errorf("stage %s ends at %d of %d", r.stage, r.done, r.total)
			}
		}
	}
	if strings.Join(seen, ",") != strings.Join(stages, ",") {
		t.Errorf("stages %v, want %v", seen, stages)
	}
}

// TestValuationCancelled cancels a valuation in each of its stages: it returns ECANCELED, the
// computation has stopped (nothing running, the Monte Carlo never completed) and nothing is
// cached; the next request computes the valuation afresh, with progress through every stage.
func TestValuationCancelled(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		rec := &recorder{}
		s := service.New(db, service.Options{Progress: rec.progress})
		pid := importPortfolio(t, db, 400)
		if _, err := s.SaveModel(context.Background(), "recovery", "test", model(t)); err != nil {
			t.Fatal(err)
		}
		const paths = 4000
		req := valuation.Request{Paths: paths}
		for _, stage := range []string{"loading", "scoring", "projecting", "simulating"} {
			ctx, cancel := context.WithCancel(context.Background())
			rec.take(func(r report) {
				if r.stage == stage && (r.done > 0 || stage == "projecting") {
					// No waiting here for the request to wake: the computation's next check of its
					// context sees that nobody wants it any more.
					cancel()
				}
			})
			v, err := s.PortfolioValuation(ctx, pid, req)
			cancel()
			var re *reclaim.Error
			if v != nil || reclaim.ErrorCode(err) != reclaim.ECANCELED || !errors.As(err, &re) || re.Message != service.CancelledMessage {
				t.Fatalf("cancelled while %s: %v, %v", stage, v != nil, err)
			}
			if st := s.Stats(); st != (service.Stats{}) {
				t.Errorf("cancelled while %s: %+v after the return, want nothing running or cached", stage, st)
			}
			reps := rec.take(nil)
			reached := false
			for _, r := range reps {
				reached = reached || r.stage == stage
				if r.stage == "simulating" && r.done == paths {
					t.Errorf("cancelled while %s: the Monte Carlo still completed: %v", stage, reps)
				}
			}
			if !reached {
				t.Errorf("the valuation never reached %s: %v", stage, reps)
			}
		}
		// Nothing was kept: the next request computes, through every stage, and is then cached.
		v, err := s.PortfolioValuation(context.Background(), pid, req)
		if err != nil || v.IRRDistribution == nil || v.IRRDistribution.Paths != paths {
			t.Fatalf("after the cancellations: %v", err)
		}
		checkProgress(t, rec.take(nil), "loading", "scoring", "projecting", "simulating")
		if st := s.Stats(); st != (service.Stats{Cached: 1}) {
			t.Errorf("stats %+v, want one cached valuation", st)
		}
		if again, err := s.PortfolioValuation(context.Background(), pid, req); err != nil || again != v {
			t.Errorf("not served from the cache: %v", err)
		}
		if reps := rec.take(nil); len(reps) != 0 {
			t.Errorf("the cached valuation was computed again: %v", reps)
		}
		// A deadline already past: cancelled before any work.
		ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
		defer cancel()
		if _, err := s.PortfolioValuation(ctx, pid, valuation.Request{Paths: 10}); reclaim.ErrorCode(err) != reclaim.ECANCELED {
			t.Errorf("past deadline: %v", err)
		}
		if st := s.Stats(); st.Running != 0 || st.Cached != 1 {
			t.Errorf("past deadline: %+v", st)
		}
	})
}

// TestSharedValuationOutlivesOneCaller: two requests for the same valuation share one
// computation; the first giving up does not stop it for the second, which gets the valuation.
func TestSharedValuationOutlivesOneCaller(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		rec := &recorder{}
		s := service.New(db, service.Options{Progress: rec.progress})
		pid := importPortfolio(t, db, 400)
		if _, err := s.SaveModel(context.Background(), "recovery", "test", model(t)); err != nil {
			t.Fatal(err)
		}
		req := valuation.Request{Paths: 300}
		ctxA, cancelA := context.WithCancel(context.Background())
		defer cancelA()
		var once sync.Once
		rec.take(func(r report) {
			if r.stage != "scoring" {
				return
			}
			once.Do(func() {
				// Wait for the second request to join, then let the first go.
				for deadline := time.Now().Add(20 * time.Second); s.Stats().Waiting < 2 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				cancelA()
			})
		})
		errA := make(chan error, 1)
		go func() {
			_, err := s.PortfolioValuation(ctxA, pid, req)
			errA <- err
		}()
		for deadline := time.Now().Add(20 * time.Second); s.Stats().Waiting < 1 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		v, err := s.PortfolioValuation(context.Background(), pid, req)
		if err != nil || v.IRRDistribution == nil {
			t.Fatalf("the second request: %v", err)
		}
		if err := <-errA; reclaim.ErrorCode(err) != reclaim.ECANCELED {
			t.Errorf("the first request: %v", err)
		}
		checkProgress(t, rec.take(nil), "loading", "scoring", "projecting", "simulating")
		if st := s.Stats(); st != (service.Stats{Cached: 1}) {
			t.Errorf("stats %+v", st)
		}
	})
}
