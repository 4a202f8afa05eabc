package pricing

import (
	"math"
	"testing"
)

// TestPoolPathMean checks that the pool multiplier has mean 1 (the systemic factor moves
// recoveries between states without changing their expectation) and that bad states are worse.
func TestPoolPathMean(t *testing.T) {
	cfg := DefaultMonteCarlo()
	const n = 200_000
	sum, lowZ, lowN := 0.0, 0.0, 0
	for p := range n {
		pp := cfg.PoolPath(0.2, p)
		sum += pp.Multiplier
		if pp.Z < -1 {
			lowZ += pp.Multiplier
			lowN++
		}
		if pp.Stretch < 0.5 || pp.Stretch > 2 || pp.Delay < 0 {
			t.Fatalf("path %d: %+v", p, pp)
		}
	}
	if mean := sum / n; math.Abs(mean-1) > 0.005 {
		t.Errorf("mean multiplier %.4f, want 1", mean)
	}
	if lowZ/float64(lowN) >= 0.9 {
		t.Errorf("mean multiplier when Z < -1 is %.3f; want well below 1", lowZ/float64(lowN))
	}
	if a, b := cfg.PoolPath(0.2, 7), cfg.PoolPath(0.2, 7); a != b {
		t.Errorf("not deterministic: %+v %+v", a, b)
	}
}
