package valuation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/synth"
	"reclaim/valuation/pricing"
)

// jsonOf renders v as the API does, for comparisons that report where two valuations differ.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstDiff names the first line where two renderings differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d: %q vs %q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(la), len(lb))
}

// TestValueStreamEqualsValue: on a portfolio the Monte Carlo still simulates loan by loan (at
// most KeepLoans loans), the streaming valuation is the in-memory one field for field, whatever
// the batch size, for the defaults and for other assumptions and targets.
func TestValueStreamEqualsValue(t *testing.T) {
	m := smallModel(t)
	ins, _ := seasonedInputs(t, 15, 2000, 12)
	a := pricing.DefaultAssumptions()
	a.Horizon, a.ServicingCost, a.LegalCostPerCase, a.SimplifiedShare = 0, 5, 300, 0.4
	long := pricing.DefaultAssumptions()
	long.Horizon = 60 // beyond the model's 12 months: the tail (tail.go) on both paths
	for _, c := range []struct {
		name  string
		in    ValueInput
		batch int
	}{
		{"defaults", ValueInput{Paths: 300}, 700},
		{"one batch", ValueInput{Paths: 200, TargetIRR: 0.25, TargetMultiple: 1.5, Confidence: 0.8}, 0},
		{"assumptions", ValueInput{Paths: 200, Assumptions: &a, LitigationShare: 0.3, TopLoans: 7, Reasons: 3}, 333},
		{"no simulation", ValueInput{Paths: -1}, 1},
		{"tail beyond the training horizon", ValueInput{Paths: 200, Assumptions: &long}, 450},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.Model, in.ModelRef, in.AsOf = m, ModelRef{Name: "t", Version: 1}, date.Of(2024, 6, 30)
			in.Loans = ins
			want, err := Value(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			in.Loans = nil
			var stages []string
			in.Progress = func(stage string, done, total int) {
				if len(stages) == 0 || stages[len(stages)-1] != stage {
					stages = append(stages, stage)
				}
			}
			got, err := ValueStream(context.Background(), in, StreamInput{Source: SliceSource(ins, c.batch), Count: len(ins)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the streaming valuation differs: %s", firstDiff(jsonOf(t, got), jsonOf(t, want)))
			}
			if want := "scoring,projecting"; !strings.HasPrefix(strings.Join(stages, ","), want) {
				t.Errorf("stages %v", stages)
			}
		})
	}
}

// TestValueStreamCohorts: with the cohort Monte Carlo (KeepLoans negative) everything that does
// not come from the simulation is still Value's to the fen: scores and sums, the projection and
// its curve, the prices for the target IRR and multiple, the price table and the loan lists. The
// simulated figures are from another sampler of the same model, with the same systemic draw per
// path (same seed), so they agree within sampling error. The tolerances, for P paths: a quantile
// q of the IRR has the standard error √(q(1−q)/P)/φ(z_q)·sd for a near-normal distribution
// (1.25·sd/√P at the median, 2.11·sd/√P at the 5th and 95th percentiles), sd estimated as
// (P95 − P5)/3.29; two samples differ by at most 4·√2 of that (conservative here, since the shared
// systemic draws make them positively correlated). The share of paths missing the hurdle differs
// by at most 4·√(2·p(1−p)/P).
func TestValueStreamCohorts(t *testing.T) {
	m := smallModel(t)
	ins, _ := seasonedInputs(t, 16, 3000, 12)
	const paths = 2000
	in := ValueInput{Model: m, AsOf: date.Of(2024, 6, 30), Loans: ins, Paths: paths}
	want, err := Value(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	in.Loans = nil
	got, err := ValueStream(context.Background(), in, StreamInput{Source: SliceSource(ins, 500), KeepLoans: -1})
	if err != nil {
		t.Fatal(err)
	}
	// The deterministic figures.
	g, w := *got, *want
	for _, v := range []*Valuation{&g, &w} {
		v.IRRDistribution = nil
		v.Price.PriceAtConfidence, v.Price.PriceAtConfidencePct, v.Price.ConfidenceExplanation = money.Amount{}, nil, ""
		v.Price.PriceAtMedian, v.Price.PriceAtMedianPct, v.Price.HurdleProbability = money.Amount{}, nil, nil
		v.Curve = append([]CurvePoint(nil), v.Curve...)
		for i := range v.Curve {
			v.Curve[i].P5, v.Curve[i].P50, v.Curve[i].P95 = money.Amount{}, money.Amount{}, money.Amount{}
		}
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("the deterministic figures differ: %s", firstDiff(jsonOf(t, g), jsonOf(t, w)))
	}
	// The simulated ones.
	dg, dw := got.IRRDistribution, want.IRRDistribution
	if dg == nil || dw == nil || dg.Paths != paths {
		t.Fatalf("distributions %v %v", dg, dw)
	}
	at := func(d *IRRDistribution, p float64) float64 {
		for _, q := range d.Percentiles {
			if q.P == p {
				return q.IRR
			}
		}
		t.Fatalf("no P%g", p)
		return 0
	}
	sd := (at(dw, 95) - at(dw, 5)) / 3.29
	for _, c := range []struct{ p, k float64 }{{5, 2.11}, {50, 1.25}, {95, 2.11}} {
		tol := 4 * math.Sqrt2 * c.k * sd / math.Sqrt(paths)
		if d := math.Abs(at(dg, c.p) - at(dw, c.p)); d > tol {
			t.Errorf("IRR P%g: cohorts %.4f, loan level %.4f (tolerance %.4f)", c.p, at(dg, c.p), at(dw, c.p), tol)
		} else {
			t.Logf("IRR P%g: cohorts %.4f, loan level %.4f (tolerance %.4f)", c.p, at(dg, c.p), at(dw, c.p), tol)
		}
	}
	p := dw.ProbMissHurdle
	if tol := 4 * math.Sqrt(2*p*(1-p)/paths); math.Abs(dg.ProbMissHurdle-p) > tol {
		t.Errorf("P(miss hurdle): cohorts %.4f, loan level %.4f (tolerance %.4f)", dg.ProbMissHurdle, p, tol)
	}
	count := 0
	for _, b := range dg.Histogram {
		count += b.Count
	}
	if count != paths || dg.ExpectedFlowIRR != dw.ExpectedFlowIRR {
		t.Errorf("histogram counts %d, expected-flow IRR %v vs %v", count, dg.ExpectedFlowIRR, dw.ExpectedFlowIRR)
	}
}

// TestValueStreamErrors: no source, no loans, a failing source and a cancelled context are
// errors, and features absent from every batch are refused as Value refuses them.
func TestValueStreamErrors(t *testing.T) {
	m := smallModel(t)
	ins, _ := seasonedInputs(t, 17, 300, 12)
	in := ValueInput{Model: m, Paths: -1}
	if _, err := ValueStream(context.Background(), in, StreamInput{}); err == nil {
		t.Error("no source: no error")
	}
	if _, err := ValueStream(context.Background(), in, StreamInput{Source: SliceSource(nil, 0)}); err == nil {
		t.Error("no loans: no error")
	}
	boom := errors.New("boom")
	src := func(ctx context.Context, yield func([]Input) error) error {
		if err := yield(ins[:100]); err != nil {
			return err
		}
		return boom
	}
	if _, err := ValueStream(context.Background(), in, StreamInput{Source: src}); !errors.Is(err, boom) {
		t.Errorf("failing source: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ValueStream(ctx, in, StreamInput{Source: SliceSource(ins, 50)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// Bare loans (an id and a claim): refused once every batch is scored, with Value's message;
	// bare loans in one batch beside complete ones in another are scored, as Value scores them.
	var bare []Input
	for i := range 200 {
		claim, _ := money.FromFloat(1000, money.CNY, money.HalfUp)
		bare = append(bare, Input{Loan: &reclaim.Loan{LoanID: fmt.Sprint("B", i), PortfolioRef: "P", TotalClaim: claim}, AsOf: date.Of(2024, 6, 30)})
	}
	_, werr := Value(context.Background(), ValueInput{Model: m, Loans: bare, Paths: -1})
	_, gerr := ValueStream(context.Background(), in, StreamInput{Source: SliceSource(bare, 100)})
	if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
		t.Errorf("coverage: Value %v, ValueStream %v", werr, gerr)
	}
	mixed := append(append([]Input(nil), bare...), ins...)
	want, werr := Value(context.Background(), ValueInput{Model: m, Loans: mixed, Paths: -1})
	got, gerr := ValueStream(context.Background(), in, StreamInput{Source: SliceSource(mixed, 200)})
	if werr != nil || gerr != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("bare and complete batches: Value %v, ValueStream %v", werr, gerr)
	}
}

// generated is a LoanSource of n synthetic loans made on the fly (bank_mixed profile, no
// history) in batches of size, so that the test itself holds no portfolio.
func generated(n, size int) LoanSource {
	return func(ctx context.Context, yield func([]Input) error) error {
		g, err := synth.New(synth.Config{Seed: 5, Loans: n, PortfolioRef: "MEM", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed})
		if err != nil {
			return err
		}
		batch := make([]Input, 0, size)
		for {
			it, ok := g.Next()
			if ok {
				l := it.Loan
				batch = append(batch, Input{Loan: &l, AsOf: l.CutOffDate})
			}
			if len(batch) == size || (!ok && len(batch) > 0) {
				if err := yield(batch); err != nil {
					return err
				}
				batch = make([]Input, 0, size)
			}
			if !ok {
				return nil
			}
		}
	}
}

// liveHeapPeak values n generated loans with the streaming valuation and returns the largest
// live heap (after a collection) sampled every 10,000 loans scored, and the valuation.
func liveHeapPeak(t *testing.T, m *RecoveryModel, n int) (uint64, *Valuation) {
	t.Helper()
	var peak atomic.Uint64
	next := 0
	progress := func(stage string, done, total int) {
		if stage != "scoring" || done < next {
			return
		}
		next = done + 10_000
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if os.Getenv("HEAPLOG") != "" {
			t.Logf("%d: %.1f MiB", done, float64(ms.HeapAlloc)/(1<<20))
		}
		if ms.HeapAlloc > peak.Load() {
			peak.Store(ms.HeapAlloc)
		}
	}
	v, err := ValueStream(context.Background(), ValueInput{Model: m, Paths: 50, Progress: progress}, StreamInput{Source: generated(n, testBatch), Count: n})
	if err != nil {
		t.Fatal(err)
	}
	return peak.Load(), v
}

// testBatch is the memory test's batch size: small enough that 100,000 loans are many batches,
// so that the heap has reached its steady state (two batches alive) well before the end.
const testBatch = 10_000

// TestValueStreamMemoryFlat values 100,000 and 200,000 generated loans in batches of 10,000 and
// samples the live heap every 10,000 loans: doubling the portfolio must not grow the peak by more
// than 12 MiB. What grows with the loans is only the cohort table, bounded by curves × bands;
// the samples themselves move by up to one batch (about 10 MiB: the source may hold an empty or
// a full next batch when a sample is taken), so the bound is one batch and a little. HEAPLOG=1
// logs the samples. The in-memory path (Value), measured the same way, peaked at 114.9 MiB for
// 100,000 loans and 229.1 MiB for 200,000: it holds every loan's input, features and score.
func TestValueStreamMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("values 300,000 loans")
	}
	m := smallModel(t)
	small, v1 := liveHeapPeak(t, m, 100_000)
	large, v2 := liveHeapPeak(t, m, 200_000)
	t.Logf("live heap peak: %.1f MiB at 100,000 loans, %.1f MiB at 200,000", float64(small)/(1<<20), float64(large)/(1<<20))
	if v1.Loans != 100_000 || v2.Loans != 200_000 || v2.IRRDistribution == nil {
		t.Fatalf("loans %d, %d", v1.Loans, v2.Loans)
	}
	if grow := int64(large) - int64(small); grow > 12<<20 {
		t.Errorf("the live heap peak grew by %.1f MiB from 100,000 to 200,000 loans", float64(grow)/(1<<20))
	}
}

// BenchmarkValuePortfolio values 100,000 generated loans (held in memory, so that both paths
// read the same inputs) with 200 Monte Carlo paths: "stream" is the product's path
// (ValueStream, batches of 50,000, cohort Monte Carlo), "in-memory" the old one (Value). Run:
// go test ./valuation/ -run '^$' -bench ValuePortfolio -benchtime 1x -benchmem
func BenchmarkValuePortfolio(b *testing.B) {
	m := smallModel(b)
	const n = 100_000
	var ins []Input
	if err := generated(n, DefaultBatch)(context.Background(), func(batch []Input) error { ins = append(ins, batch...); return nil }); err != nil {
		b.Fatal(err)
	}
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			if _, err := ValueStream(context.Background(), ValueInput{Model: m, Paths: 200}, StreamInput{Source: SliceSource(ins, 0), Count: n}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-memory", func(b *testing.B) {
		for b.Loop() {
			if _, err := Value(context.Background(), ValueInput{Model: m, Loans: ins, Paths: 200}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
