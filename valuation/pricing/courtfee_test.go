package pricing

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"reclaim/workout"
)

func TestCourtFeeBands(t *testing.T) {
	tests := []struct {
		claim, fee float64
	}{
		{0, 0},
		{-5, 0},
		{1, 50},
		{10_000, 50},
		{50_000, 1_050}, // the statutory worked example
		{100_000, 2_300},
		{200_000, 4_300},
		{500_000, 8_800},
		{1_000_000, 13_800},
		{2_000_000, 22_800},
		{5_000_000, 46_800},
		{10_000_000, 81_800},
		{20_000_000, 141_800},
		{30_000_000, 191_800},
	}
	for _, tt := range tests {
		if got := CourtFee(tt.claim, false); math.Abs(got-tt.fee) > 1e-6 {
			t.Errorf("CourtFee(%v) = %v, want %v", tt.claim, got, tt.fee)
		}
		if got := CourtFee(tt.claim, true); math.Abs(got-tt.fee/2) > 1e-6 {
			t.Errorf("CourtFee(%v, simplified) = %v, want %v", tt.claim, got, tt.fee/2)
		}
	}
	if !math.IsNaN(CourtFee(math.NaN(), false)) {
		t.Error("CourtFee(NaN) is not NaN")
	}
}

// courtFeeQuick is the courts' published quick formula for each band (rate × claim + constant),
// an independent statement of the same schedule.
func courtFeeQuick(x float64) float64 {
	switch {
	case x <= 10_000:
		return 50
	case x <= 100_000:
		return x*0.025 - 200
	case x <= 200_000:
		return x*0.02 + 300
	case x <= 500_000:
		return x*0.015 + 1_300
	case x <= 1_000_000:
		return x*0.01 + 3_800
	case x <= 2_000_000:
		return x*0.009 + 4_800
	case x <= 5_000_000:
		return x*0.008 + 6_800
	case x <= 10_000_000:
		return x*0.007 + 11_800
	case x <= 20_000_000:
		return x*0.006 + 21_800
	}
	return x*0.005 + 41_800
}

func TestCourtFeeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Float64Range(0.01, 5e7).Draw(t, "claim")
		d := rapid.Float64Range(0, 1e6).Draw(t, "step")
		fx, fy := CourtFee(x, false), CourtFee(x+d, false)
		if math.Abs(fx-courtFeeQuick(x)) > 1e-6*max(1, fx) {
			t.Fatalf("CourtFee(%v) = %v, quick formula %v", x, fx, courtFeeQuick(x))
		}
		// Non-decreasing, and continuous: never rises faster than the top rate of 2.5%.
		if fy < fx || fy-fx > 0.025*d+1e-6 {
			t.Fatalf("CourtFee(%v) = %v, CourtFee(%v) = %v", x, fx, x+d, fy)
		}
	})
}

func TestCourtFeeContinuousAtBandEdges(t *testing.T) {
	for _, b := range workout.CourtFeeBands[:len(workout.CourtFeeBands)-1] {
		up := float64(b.UpTo)
		lo, hi := CourtFee(up-1e-6, false), CourtFee(up+1e-6, false)
		if hi-lo > 1e-6 || hi < lo {
			t.Errorf("jump at %v: %v → %v", up, lo, hi)
		}
	}
}
