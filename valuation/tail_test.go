package valuation

import (
	"context"
	"encoding/json"
	goflag "flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/valuation/pricing"
)

var update = goflag.Bool("update", false, "rewrite the golden files in testdata")

// TestMarketTailFactor: the tail factor is market.md's lifetime collections after the training
// horizon (up to the valuation's, and never after month 60) over those within it, and nothing
// when the valuation's horizon is not longer or the model's rate has no horizon.
func TestMarketTailFactor(t *testing.T) {
	for _, c := range []struct {
		h, v int
		want float64
	}{
		{24, 60, (0.17 + 0.10 + 0.06) / 0.67},
		{12, 60, 0.60 / 0.40},
		{24, 36, 0.17 / 0.67},
		{24, 30, 0.17 / 2 / 0.67},
		{24, 120, (0.17 + 0.10 + 0.06) / 0.67},
		{18, 24, 0.27 / 2 / 0.535},
		{24, 24, 0},
		{24, 12, 0},
		{0, 60, 0},
		{-1, 60, 0},
		{60, 120, 0},
		{72, 120, 0},
	} {
		tl := MarketTail(c.h, c.v)
		if math.Abs(tl.Factor-c.want) > 1e-12 {
			t.Errorf("MarketTail(%d, %d).Factor = %v, want %v", c.h, c.v, tl.Factor, c.want)
		}
		if tl.Active() != (c.want > 0) {
			t.Errorf("MarketTail(%d, %d).Active() = %v", c.h, c.v, tl.Active())
		}
		if tl.Active() && len(tl.Shares()) != c.v-c.h {
			t.Errorf("MarketTail(%d, %d): %d shares", c.h, c.v, len(tl.Shares()))
		}
	}
}

// TestModelTailCard: a model card states the tail to month 60 for a model with a horizon below
// it, and none otherwise.
func TestModelTailCard(t *testing.T) {
	c := ModelTailCard(24)
	if c == nil || c.Method != TailMethod || c.Source != TailSource || c.TrainingHorizon != 24 || math.Abs(c.FactorTo60-0.33/0.67) > 1e-12 {
		t.Errorf("ModelTailCard(24) = %+v", c)
	}
	for _, h := range []int{0, 60, 84} {
		if c := ModelTailCard(h); c != nil {
			t.Errorf("ModelTailCard(%d) = %+v, want none", h, c)
		}
	}
}

// TestTailProperties: for any training and valuation horizon, loan and timing curve, the tail
// is never negative, adds nothing when the valuation's horizon is not beyond the training
// horizon, never takes a loan beyond its exposure, keeps the collections within the training
// horizon as the model has them, and gives a curve summing to 1 whose cumulative collections
// never fall.
func TestTailProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := rapid.IntRange(1, 80).Draw(rt, "training")
		v := rapid.IntRange(1, 130).Draw(rt, "horizon")
		p := rapid.Float64Range(0, 1).Draw(rt, "p")
		rate := p * rapid.Float64Range(0, 1).Draw(rt, "severity")
		curve := make([]float64, h)
		sum := 0.0
		for m := range curve {
			curve[m] = rapid.Float64Range(0, 1).Draw(rt, "share")
			sum += curve[m]
		}
		if sum == 0 {
			curve[0], sum = 1, 1
		}
		for m := range curve {
			curve[m] /= sum
		}
		tl := MarketTail(h, v)
		if tl.Factor < 0 || (v <= h && tl.Active()) {
			rt.Fatalf("factor %v for %d -> %d months", tl.Factor, h, v)
		}
		pV, rV, within := tl.Apply(p, rate)
		if !tl.Active() && (pV != p || rV != rate || within != 1) {
			rt.Fatalf("an inactive tail changed the loan: %v %v %v", pV, rV, within)
		}
		if pV < p || pV > 1 || rV < rate || rV > pV+1e-15 || rV > 1 || !(within > 0 && within <= 1) {
			rt.Fatalf("p %v rate %v -> p %v rate %v within %v", p, rate, pV, rV, within)
		}
		if rate > 0 && math.Abs(rV*within-rate) > 1e-12 {
			rt.Fatalf("the collections within the training horizon moved: %v × %v != %v", rV, within, rate)
		}
		if rate > 0 && rV < math.Min(rate*(1+tl.Factor), 1/(1+1.0/tailStep))-1e-12 {
			rt.Fatalf("the tail was cut below the cap: %v (uncut %v)", rV, rate*(1+tl.Factor))
		}
		ext := tl.Curve(curve, within)
		want := h
		if tl.Active() && within < 1 {
			want = v
		}
		if len(ext) != want {
			rt.Fatalf("curve of %d months, want %d", len(ext), want)
		}
		cum, prev := 0.0, 0.0
		for m, s := range ext {
			if s < 0 {
				rt.Fatalf("month %d: share %v", m+1, s)
			}
			cum += s * rV
			if cum < prev {
				rt.Fatalf("cumulative falls at month %d", m+1)
			}
			prev = cum
			if m == h-1 && math.Abs(cum-rate) > 1e-9 {
				rt.Fatalf("within the training horizon %v, want %v", cum, rate)
			}
		}
		if math.Abs(cum-rV) > 1e-9 {
			rt.Fatalf("curve collects %v, want %v", cum, rV)
		}
	})
}

// TestTailGolden pins the tail's numbers: the factors and monthly shares for the usual horizons,
// the loan adjustment on a grid (capped and not) and an extended curve.
func TestTailGolden(t *testing.T) {
	type loan struct{ P, Rate, PV, RateV, Within float64 }
	type tailCase struct {
		TrainingHorizon, Horizon int
		Factor                   float64
		Shares                   []float64
		Loans                    []loan
		Curve                    []float64
	}
	var got []tailCase
	for _, hv := range [][2]int{{12, 24}, {12, 60}, {24, 36}, {24, 60}, {36, 72}, {24, 24}} {
		tl := MarketTail(hv[0], hv[1])
		c := tailCase{TrainingHorizon: hv[0], Horizon: hv[1], Factor: round9(tl.Factor)}
		for _, s := range tl.Shares() {
			c.Shares = append(c.Shares, round9(s))
		}
		for _, pr := range [][2]float64{{0, 0}, {0.1, 0.02}, {0.3, 0.3}, {0.8, 0.5}, {1, 0.75}, {1, 1}} {
			pV, rV, w := tl.Apply(pr[0], pr[1])
			c.Loans = append(c.Loans, loan{pr[0], pr[1], round9(pV), round9(rV), round9(w)})
		}
		curve := make([]float64, hv[0])
		for m := range curve {
			curve[m] = 1 / float64(hv[0])
		}
		_, _, w := tl.Apply(0.5, 0.1)
		for _, s := range tl.Curve(curve, w) {
			c.Curve = append(c.Curve, round9(s))
		}
		got = append(got, c)
	}
	b, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "tail.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("the tail differs from %s: %s", path, firstDiff(string(b)+"\n", string(want)))
	}
}

func round9(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// TestValueTail: valued within the training horizon (the default), a valuation has no tail and
// is what it was; valued beyond it, the months within the horizon keep the model's expected
// collections, the later months carry the tail, flagged, and the tail's amount is stated apart
// (expected recovery = within + tail), no larger than the factor allows.
func TestValueTail(t *testing.T) {
	m := smallModel(t)
	ins, _ := seasonedInputs(t, 15, 2000, 12)
	base := ValueInput{Model: m, ModelRef: ModelRef{Name: "t", Version: 1}, AsOf: date.Of(2024, 6, 30), Loans: ins, Paths: 100}
	def, err := Value(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if def.Tail != nil || def.Horizon != m.Horizon {
		t.Fatalf("the default valuation has a tail %+v over %d months", def.Tail, def.Horizon)
	}
	for _, p := range def.Curve {
		if p.Tail {
			t.Fatalf("month %d flagged as tail within the training horizon", p.Month)
		}
	}
	same := base
	a := pricing.DefaultAssumptions()
	a.Horizon = m.Horizon
	same.Assumptions = &a
	if v, err := Value(context.Background(), same); err != nil || v.Tail != nil {
		t.Fatalf("valued over the training horizon: tail %+v, %v", v.Tail, err)
	}

	long := base
	la := pricing.DefaultAssumptions()
	la.Horizon = 60
	long.Assumptions = &la
	v, err := Value(context.Background(), long)
	if err != nil {
		t.Fatal(err)
	}
	tl := v.Tail
	if tl == nil {
		t.Fatal("no tail beyond the training horizon")
	}
	if tl.Method != TailMethod || tl.TrainingHorizon != 12 || tl.Horizon != 60 || math.Abs(tl.Factor-1.5) > 1e-12 {
		t.Fatalf("tail %+v", tl)
	}
	if tl.Within != def.ExpectedRecovery {
		t.Errorf("within the training horizon %v, the default valuation expects %v", tl.Within, def.ExpectedRecovery)
	}
	within, amount, expected := tl.Within.Float(), tl.Amount.Float(), v.ExpectedRecovery.Float()
	if !(amount > 0) || amount > within*tl.Factor+0.01 {
		t.Errorf("tail %v for %v within (factor %v)", amount, within, tl.Factor)
	}
	if math.Abs(within+amount-expected) > 0.011 {
		t.Errorf("expected %v != within %v + tail %v", expected, within, amount)
	}
	if len(v.Curve) != 60 {
		t.Fatalf("%d months", len(v.Curve))
	}
	var in, out, prev float64
	for _, p := range v.Curve {
		if p.Tail != (p.Month > 12) {
			t.Errorf("month %d: tail %v", p.Month, p.Tail)
		}
		e := p.Expected.Float()
		if e < 0 || p.Cumulative.Float() < prev {
			t.Errorf("month %d: expected %v, cumulative %v after %v", p.Month, e, p.Cumulative.Float(), prev)
		}
		prev = p.Cumulative.Float()
		if p.Month <= 12 {
			in += e
			if d := math.Abs(e - def.Curve[p.Month-1].Expected.Float()); d > 1e-6*def.ExpectedRecovery.Float()+0.02 {
				t.Errorf("month %d within the horizon: %v, the default valuation %v", p.Month, e, def.Curve[p.Month-1].Expected.Float())
			}
		} else {
			out += e
		}
	}
	if math.Abs(in-within) > 1e-6*within+1 || math.Abs(out-amount) > 1e-6*amount+1 {
		t.Errorf("curve: %v within and %v after, stated %v and %v", in, out, within, amount)
	}
}
