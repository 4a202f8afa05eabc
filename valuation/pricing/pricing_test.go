package pricing

import (
	"errors"
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// flowsGen draws non-negative monthly flows with at least one positive month.
func flowsGen(t *rapid.T) []float64 {
	flows := rapid.SliceOfN(rapid.Float64Range(0, 1e6), 1, 120).Draw(t, "flows")
	k := rapid.IntRange(0, len(flows)-1).Draw(t, "positive month")
	flows[k] += rapid.Float64Range(1, 1e6).Draw(t, "extra")
	return flows
}

func TestPriceForIRRRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		flows := flowsGen(t)
		target := rapid.Float64Range(-0.5, 3).Draw(t, "target")
		price, err := PriceForIRR(flows, target)
		if err != nil {
			t.Fatal(err)
		}
		got, err := IRR(price, flows)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-target) > 1e-8*(1+math.Abs(target)) {
			t.Fatalf("IRR(PriceForIRR(%v)) = %v", target, got)
		}
	})
}

func TestNPVDecreasingInRate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		flows := flowsGen(t)
		r1 := rapid.Float64Range(-0.9, 5).Draw(t, "r1")
		r2 := rapid.Float64Range(r1, 5).Draw(t, "r2")
		price := rapid.Float64Range(0, 1e7).Draw(t, "price")
		n1, n2 := NPV(price, flows, r1), NPV(price, flows, r2)
		if n2 > n1+1e-9*math.Abs(n1) {
			t.Fatalf("NPV(%v) = %v < NPV(%v) = %v", r1, n1, r2, n2)
		}
	})
}

func TestPriceForMultipleRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		flows := flowsGen(t)
		m := rapid.Float64Range(0.1, 10).Draw(t, "multiple")
		price, err := PriceForMultiple(flows, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := Multiple(price, flows); math.Abs(got-m) > 1e-12*m {
			t.Fatalf("Multiple(PriceForMultiple(%v)) = %v", m, got)
		}
	})
}

// TestIRRMixedFlows checks the root IRR picks when late flows are negative (servicing outlasting
// collections): the NPV then also tends to −∞ as the rate falls to −100%.
func TestIRRMixedFlows(t *testing.T) {
	flows := []float64{-50, 400, 300, 200, 100, -20, -20}
	price := 700.0
	r, err := IRR(price, flows)
	if err != nil {
		t.Fatal(err)
	}
	if npv := NPV(price, flows, r); math.Abs(npv) > 1e-6 {
		t.Errorf("NPV at IRR %v = %v", r, npv)
	}
	if NPV(price, flows, r-0.01) <= 0 || NPV(price, flows, r+0.01) >= 0 {
		t.Errorf("IRR %v is not where the NPV turns negative", r)
	}
}

func TestIRRKnownValue(t *testing.T) {
	// 100 now for 110 in twelve months: 10% a year.
	flows := make([]float64, 12)
	flows[11] = 110
	r, err := IRR(100, flows)
	if err != nil || math.Abs(r-0.10) > 1e-10 {
		t.Errorf("IRR = %v, %v; want 0.10", r, err)
	}
	if pv := PV(flows, 0.10); math.Abs(pv-100) > 1e-9 {
		t.Errorf("PV = %v, want 100", pv)
	}
	// Monthly discounting: 121 in month 24 is worth 100 at 10%.
	flows = make([]float64, 24)
	flows[23] = 121
	if pv := PV(flows, 0.10); math.Abs(pv-100) > 1e-9 {
		t.Errorf("PV = %v, want 100", pv)
	}
}

func TestIRRErrors(t *testing.T) {
	if _, err := IRR(100, []float64{-1, -2, 0}); !errors.Is(err, ErrNoIRR) || !strings.Contains(err.Error(), "never repay") {
		t.Errorf("all-negative flows: %v", err)
	}
	if _, err := IRR(100, nil); !errors.Is(err, ErrNoIRR) {
		t.Errorf("no flows: %v", err)
	}
	if _, err := IRR(1e-9, []float64{1e9}); !errors.Is(err, ErrNoIRR) || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("tiny price: %v", err)
	}
	for _, price := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := IRR(price, []float64{1}); err == nil || errors.Is(err, ErrNoIRR) {
			t.Errorf("IRR(price %v) = %v", price, err)
		}
	}
	if _, err := IRR(1, []float64{math.NaN()}); err == nil {
		t.Error("NaN flow accepted")
	}
}

func TestUnreachableTargets(t *testing.T) {
	tests := []struct {
		name  string
		flows []float64
		want  string
	}{
		{"never positive", []float64{-10, 0, -5}, "never positive"},
		{"costs outweigh", []float64{10, -100}, "present value"},
		{"empty", nil, "never positive"},
	}
	for _, tt := range tests {
		price, err := PriceForIRR(tt.flows, 0.2)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tt.want) || price != 0 {
			t.Errorf("%s: PriceForIRR = %v, %v", tt.name, price, err)
		}
	}
	if price, err := PriceForMultiple([]float64{10, -100}, 2); !errors.Is(err, ErrUnreachable) || price != 0 {
		t.Errorf("PriceForMultiple = %v, %v", price, err)
	}
	for _, target := range []float64{-1, -2, math.NaN(), math.Inf(1)} {
		if _, err := PriceForIRR([]float64{1}, target); err == nil {
			t.Errorf("target %v accepted", target)
		}
	}
	for _, m := range []float64{0, -1, math.NaN()} {
		if _, err := PriceForMultiple([]float64{1}, m); err == nil {
			t.Errorf("multiple %v accepted", m)
		}
	}
}

func TestPayback(t *testing.T) {
	flows := []float64{-10, 30, 40, 50}
	tests := []struct {
		price float64
		month int
		ok    bool
	}{{20, 2, true}, {60, 3, true}, {110, 4, true}, {111, 0, false}}
	for _, tt := range tests {
		m, ok := Payback(tt.price, flows)
		if m != tt.month || ok != tt.ok {
			t.Errorf("Payback(%v) = %v, %v; want %v, %v", tt.price, m, ok, tt.month, tt.ok)
		}
	}
}
