package main

import (
	"testing"

	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/money"
)

// TestDemoDealDocument: the demo deal is the example scaled to the pool's forecast (tranches,
// reserve and forecast in proportion), valid, with its dates moved to the pool's cut-off.
func TestDemoDealDocument(t *testing.T) {
	const exampleForecast = 241_500_000_00 // fen: 11.5% of the example's 2.1 bn claim
	for _, tc := range []struct {
		forecast int64 // fen
		cutoff   date.Date
		first    string
		maturity string
	}{
		{exampleForecast, date.Of(2016, 4, 30), "2016-07-26", "2020-04-26"},
		{1_234_567_89, date.Of(2025, 6, 30), "2025-09-26", "2029-06-26"},
		{98_765_43, date.Of(2024, 12, 31), "2025-03-26", "2028-12-26"},
	} {
		doc, err := demoDealDocument("Demo", tc.forecast, tc.cutoff)
		if err != nil {
			t.Fatal(err)
		}
		d, err := abs.Load(doc, abs.Options{})
		if err != nil {
			t.Fatalf("%s: the scaled document is invalid: %v", tc.cutoff, err)
		}
		dd := d.Document()
		if dd.Dates.Cutoff != tc.cutoff.String() || dd.Dates.FirstPayment != tc.first || dd.Dates.LegalMaturity != tc.maturity {
			t.Errorf("%s: dates %+v", tc.cutoff, dd.Dates)
		}
		if n := len(d.PaymentDates()); n != 16 {
			t.Errorf("%s: %d payment dates, want 16", tc.cutoff, n)
		}
		senior, _ := money.Parse(dd.Tranches[0].Balance, "CNY")
		if want := tc.forecast * 1880 / 2415; abs64(senior.Minor()-want) > 1 {
			t.Errorf("%s: senior %s, want about %d fen", tc.cutoff, dd.Tranches[0].Balance, want)
		}
		var sum int64
		for _, f := range dd.Pool.Forecast {
			v, _ := money.Parse(f.Amount, "CNY")
			sum += v.Minor()
		}
		if abs64(sum-tc.forecast) > int64(len(dd.Pool.Forecast)) {
			t.Errorf("%s: forecast %d fen, want about %d", tc.cutoff, sum, tc.forecast)
		}
		ps, err := live.Windows(d)
		if err != nil {
			t.Fatal(err)
		}
		if !ps[0].CollectionStart.After(tc.cutoff) || ps[0].CollectionStart.After(tc.cutoff.AddDays(31)) {
			t.Errorf("%s: the first collection period starts %s", tc.cutoff, ps[0].CollectionStart)
		}
	}
	if _, err := demoDealDocument("Demo", 0, date.Of(2025, 6, 30)); err == nil {
		t.Error("a pool without a forecast makes a deal")
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
