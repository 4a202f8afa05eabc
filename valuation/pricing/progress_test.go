package pricing

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
)

// TestSimulateProgress: the path counts reported never decrease and end at the number of paths;
// the simulation is the same as without progress; cancelling from the progress callback stops
// the run before the remaining paths are simulated.
func TestSimulateProgress(t *testing.T) {
	e, err := NewEngine(synthPortfolio(300, 5), DefaultAssumptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		cfg := DefaultMonteCarlo()
		cfg.Paths, cfg.Workers = 1037, workers
		var mu sync.Mutex
		var got []int
		sim, err := e.SimulateProgress(context.Background(), cfg, func(done int) {
			mu.Lock()
			got = append(got, done)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 10 || got[len(got)-1] != cfg.Paths {
			t.Fatalf("workers %d: %d reports ending at %v, want about 200 ending at %d", workers, len(got), got[len(got)-1:], cfg.Paths)
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("workers %d: report %d goes from %d to %d", workers, i, got[i-1], got[i])
			}
		}
		plain, err := e.Simulate(context.Background(), cfg)
		if err != nil || !reflect.DeepEqual(plain.Net, sim.Net) || !reflect.DeepEqual(plain.Gross, sim.Gross) {
			t.Errorf("workers %d: the simulation differs with progress (%v)", workers, err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		last := 0
		_, err = e.SimulateProgress(ctx, cfg, func(done int) {
			last = done // serialised by SimulateProgress
			if done >= 100 {
				cancel()
			}
		})
		cancel()
		// After the cancel, each worker finishes at most its current path and its pending report.
		if !errors.Is(err, context.Canceled) || last >= 100+workers*(cfg.Paths/200+1) {
			t.Errorf("workers %d: cancelled at 100 paths: %v, %d paths reported", workers, err, last)
		}
	}
}
