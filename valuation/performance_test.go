package valuation

import (
	"encoding/json"
	goflag "flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/valuation/pricing"
)

var updatePerf = goflag.Bool("update-performance", false, "rewrite testdata/performance.golden.json")

// perfForecast is a front-loaded 36-month forecast of gross collections totalling about 2.2x the
// price of 1,000,000, with 25% collection costs and 4,000 a month of servicing.
func perfForecast() *Forecast {
	f := &Forecast{CollectionCostRate: 0.25, TargetIRR: 0.18}
	for k := 1; k <= 36; k++ {
		f.Months = append(f.Months, ForecastMonth{Gross: 120000 * math.Pow(0.93, float64(k-1)), FixedCost: 4000})
	}
	f.Months[5].FixedCost += 30000 // court fees in month 6
	return f
}

func TestPerformanceGolden(t *testing.T) {
	bought := date.Of(2025, 3, 10)
	var cs []Collection
	for k := 1; k <= 9; k++ {
		// Runs about 15% behind the forecast, paid mid-month, one reversal.
		cs = append(cs, Collection{On: date.Of(2025, 3, 15).AddMonths(k), Amount: 0.85 * 120000 * math.Pow(0.93, float64(k-1))})
	}
	cs = append(cs, Collection{On: date.Of(2025, 3, 20), Amount: 5000}, // the award month: counts in month 1
		Collection{On: date.Of(2025, 5, 2), Amount: -1200},  // a bounced payment
		Collection{On: date.Of(2025, 3, 1), Amount: 999999}, // before the purchase: not counted
		Collection{On: date.Of(2026, 1, 1), Amount: 999999}) // after the as-of date: not counted
	asOf := date.Of(2025, 12, 31)
	one, err := PerformanceOf(PerformanceInput{Key: "7", Price: 1e6, Purchased: bought, Forecast: perfForecast(), Collections: cs}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	none, err := PerformanceOf(PerformanceInput{Key: "8", Price: 2e5, Purchased: date.Of(2025, 3, 28),
		Collections: []Collection{{On: date.Of(2025, 6, 3), Amount: 15000}}}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	vin, err := VintagePerformance("2025-03", []PerformanceInput{
		{Key: "7", Price: 1e6, Purchased: bought, Forecast: perfForecast(), Collections: cs},
		{Key: "8", Price: 2e5, Purchased: date.Of(2025, 3, 28), Collections: []Collection{{On: date.Of(2025, 6, 3), Amount: 15000}}},
	}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent([]Performance{one, none, vin}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "performance.golden.json")
	if *updatePerf {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-performance)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("performance report differs from %s (run with -update-performance and review the diff):\n%s", path, got)
	}
	// Facts the golden file must show, checked by hand.
	if one.Months[0].Actual != 5000+0.85*120000 {
		t.Errorf("month 1 = %v, want the award month's 5,000 plus April's collection", one.Months[0].Actual)
	}
	if len(one.Months) != 9 || one.MonthsElapsed != 9 {
		t.Errorf("months %d, elapsed %v; want 9 full months (April to December)", len(one.Months), one.MonthsElapsed)
	}
	if r := *one.CollectedVsForecast; r < 0.85 || r > 0.87 {
		t.Errorf("collected vs forecast %v, want about 0.85", r)
	}
	if !(*one.ProjectedIRRScaled < *one.ProjectedIRR && *one.ProjectedIRR < *one.UnderwrittenIRR) {
		t.Errorf("running behind: want scaled %v < projected %v < underwritten %v", *one.ProjectedIRRScaled, *one.ProjectedIRR, *one.UnderwrittenIRR)
	}
	if none.HasForecast || none.ProjectedIRR != nil || none.UnderwrittenIRR != nil || none.UnderwrittenIRRNote == "" {
		t.Errorf("a purchase without a forecast: %+v", none)
	}
	if vin.HasForecast || vin.Price != 1.2e6 || vin.Collected != one.Collected+none.Collected {
		t.Errorf("vintage: %+v", vin)
	}
}

func TestPerformanceRefuses(t *testing.T) {
	d := date.Of(2025, 1, 5)
	for name, in := range map[string]PerformanceInput{
		"zero price":   {Key: "1", Price: 0, Purchased: d},
		"no date":      {Key: "1", Price: 1},
		"nan":          {Key: "1", Price: 1, Purchased: d, Collections: []Collection{{On: d, Amount: math.NaN()}}},
		"as of before": {Key: "1", Price: 1, Purchased: date.Of(2025, 2, 1)},
	} {
		if _, err := PerformanceOf(in, d); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := VintagePerformance("v", []PerformanceInput{{Key: "1", Price: 1, Purchased: d}, {Key: "2", Price: 1, Purchased: date.Of(2024, 12, 31)}}, d.AddDays(40)); err == nil {
		t.Error("a vintage of two months: no error")
	}
}

// genForecast draws a forecast whose net flows repay a price of 100,000 at some positive IRR.
func genForecast(t *rapid.T) *Forecast {
	h := rapid.IntRange(6, 60).Draw(t, "horizon")
	f := &Forecast{CollectionCostRate: rapid.Float64Range(0, 0.45).Draw(t, "rate")}
	for k := range h {
		g := rapid.Float64Range(0, 40000).Draw(t, "gross")
		if k == 0 {
			g += 20000
		}
		f.Months = append(f.Months, ForecastMonth{Gross: g, FixedCost: rapid.Float64Range(0, 500).Draw(t, "fixed")})
	}
	return f
}

// The property of issue 13: a purchase whose collections are exactly its forecast earns exactly
// the underwritten IRR, projected at any point of its life, scaled or not; and once its whole
// horizon has run, realised equals underwritten too.
func TestPerformanceForecastEqualsActuals(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genForecast(t)
		bought := date.Of(2024, time.Month(rapid.IntRange(1, 12).Draw(t, "month")), rapid.IntRange(1, 28).Draw(t, "day"))
		net := make([]float64, len(f.Months))
		for k, m := range f.Months {
			net[k] = m.Gross*(1-f.CollectionCostRate) - m.FixedCost
		}
		price, err := pricing.PriceForIRR(net, 0.15)
		if err != nil || price < 1 {
			t.Skip("no positive price")
		}
		if total := sumOf(net); total <= price {
			// Months whose fixed cost outweighs their collections, late in the horizon, can give
			// a price at 15% above the undiscounted total: flows of two sign changes, with no
			// single IRR (irrOf refuses them, by design).
			t.Skip("net flows never repay the price undiscounted")
		}
		elapsed := rapid.IntRange(1, len(f.Months)).Draw(t, "elapsed")
		asOf := bought.StartOfMonth().AddMonths(elapsed).EndOfMonth()
		var cs []Collection
		for k := 1; k <= elapsed; k++ {
			cs = append(cs, Collection{On: bought.StartOfMonth().AddMonths(k).AddDays(rapid.IntRange(0, 27).Draw(t, "payday")), Amount: f.Months[k-1].Gross})
		}
		p, err := PerformanceOf(PerformanceInput{Key: "x", Price: price, Purchased: bought, Forecast: f, Collections: cs}, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if p.UnderwrittenIRR == nil || math.Abs(*p.UnderwrittenIRR-0.15) > 1e-7 {
			t.Fatalf("underwritten %v (%s), want 0.15", deref(p.UnderwrittenIRR), p.UnderwrittenIRRNote)
		}
		if p.ProjectedIRR == nil || math.Abs(*p.ProjectedIRR-*p.UnderwrittenIRR) > 1e-7 {
			t.Fatalf("projected %v (%s), underwritten %v", p.ProjectedIRR, p.ProjectedIRRNote, *p.UnderwrittenIRR)
		}
		if p.ProjectedIRRScaled == nil || math.Abs(*p.ProjectedIRRScaled-*p.UnderwrittenIRR) > 1e-7 {
			t.Fatalf("scaled %v, underwritten %v", p.ProjectedIRRScaled, *p.UnderwrittenIRR)
		}
		if p.CollectedVsForecast != nil && math.Abs(*p.CollectedVsForecast-1) > 1e-9 {
			t.Fatalf("collected vs forecast %v", *p.CollectedVsForecast)
		}
		if elapsed == len(f.Months) {
			if p.IRRToDate == nil || math.Abs(*p.IRRToDate-*p.UnderwrittenIRR) > 1e-7 {
				t.Fatalf("whole life: realised %v (%s), underwritten %v", p.IRRToDate, p.IRRToDateNote, *p.UnderwrittenIRR)
			}
		}
	})
}

// More collected never lowers an IRR; a vintage of one purchase is that purchase.
func TestPerformanceMonotoneAndVintageOfOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genForecast(t)
		bought := date.Of(2025, 2, rapid.IntRange(1, 28).Draw(t, "day"))
		asOf := bought.AddDays(rapid.IntRange(0, 900).Draw(t, "days"))
		var cs []Collection
		for range rapid.IntRange(0, 30).Draw(t, "n") {
			cs = append(cs, Collection{On: bought.AddDays(rapid.IntRange(0, 900).Draw(t, "on")), Amount: rapid.Float64Range(0, 30000).Draw(t, "amt")})
		}
		in := PerformanceInput{Key: "x", Price: 50000, Purchased: bought, Forecast: f, Collections: cs}
		p, err := PerformanceOf(in, asOf)
		if err != nil {
			t.Fatal(err)
		}
		more := in
		more.Collections = append(append([]Collection(nil), cs...), Collection{On: asOf, Amount: rapid.Float64Range(1, 50000).Draw(t, "extra")})
		q, err := PerformanceOf(more, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if q.Collected < p.Collected {
			t.Fatalf("collected fell: %v -> %v", p.Collected, q.Collected)
		}
		for _, c := range []struct {
			before, after *float64
			note          string
		}{{p.IRRToDate, q.IRRToDate, q.IRRToDateNote}, {p.ProjectedIRR, q.ProjectedIRR, q.ProjectedIRRNote}} {
			if c.before == nil {
				continue
			}
			if c.after == nil && !strings.Contains(c.note, "exceeds") { // beyond MaxIRR is the only way up to none
				t.Fatalf("an IRR vanished with more collected: %v -> none (%s)", *c.before, c.note)
			}
			if c.after != nil && *c.after < *c.before-1e-9 {
				t.Fatalf("an IRR fell with more collected: %v -> %v", *c.before, *c.after)
			}
		}
		v, err := VintagePerformance("x", []PerformanceInput{in}, asOf)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(p)
		b, _ := json.Marshal(v)
		if string(a) != string(b) {
			t.Fatalf("vintage of one differs:\n%s\n%s", a, b)
		}
	})
}

func TestForecastBetween(t *testing.T) {
	f := &Forecast{Months: []ForecastMonth{{Gross: 3100}, {Gross: 2800}, {Gross: 930}}}
	bought := date.Of(2025, 12, 20) // month 1 is January 2026
	for _, c := range []struct {
		from, to date.Date
		want     float64
	}{
		{date.Of(2025, 12, 1), date.Of(2025, 12, 31), 0},
		{date.Of(2026, 1, 1), date.Of(2026, 1, 31), 3100},
		{date.Of(2026, 1, 22), date.Of(2026, 2, 14), 1000 + 1400},
		{date.Of(2026, 3, 31), date.Of(2027, 1, 1), 30},
		{date.Of(2025, 1, 1), date.Of(2030, 1, 1), 6830},
		{date.Of(2026, 2, 1), date.Of(2026, 1, 1), 0},
	} {
		if got := ForecastBetween(bought, f, c.from, c.to); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s..%s: %v, want %v", c.from, c.to, got, c.want)
		}
	}
	// Over the whole horizon, month by month, it is the forecast itself.
	p, err := PerformanceOf(PerformanceInput{Key: "x", Price: 1, Purchased: bought, Forecast: f}, date.Of(2026, 3, 31))
	if err != nil {
		t.Fatal(err)
	}
	if got := ForecastBetween(bought, f, bought, date.Of(2026, 3, 31)); math.Abs(got-*p.ForecastToDate) > 1e-9 {
		t.Errorf("between %v, performance's forecast to date %v", got, *p.ForecastToDate)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func sumOf(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}
