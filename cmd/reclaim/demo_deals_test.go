package main

import (
	"testing"

	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/money"
)

// TestDemoDealDocument: the demo deal is the example scaled to the pool (its claim, tranches and
// forecast in proportion), valid, with its cut-off seven months back, so that two payment dates
// have their collection periods ended and today falls in the third.
func TestDemoDealDocument(t *testing.T) {
	for _, tc := range []struct {
		today     date.Date
		claim     int64 // fen
		cutoff    string
		firstPay  string
		seniorFen int64
	}{
		{date.Of(2026, 12, 6), 2_807_142_643, "2026-05-31", "2026-08-26", 2_807_142_643 * 188 / 2100},
		{date.Of(2027, 3, 31), 210_000_000_000, "2026-08-31", "2026-11-26", 18_800_000_000},
		{date.Of(2026, 1, 1), 100_000_000, "2025-06-30", "2025-09-26", 100_000_000 * 188 / 2100},
	} {
		doc, err := demoDealDocument("Demo", tc.claim, tc.claim*8/10, 300, tc.today)
		if err != nil {
			t.Fatal(err)
		}
		d, err := abs.Load(doc, abs.Options{})
		if err != nil {
			t.Fatalf("%s: the scaled document is invalid: %v", tc.today, err)
		}
		dd := d.Document()
		if dd.Dates.Cutoff != tc.cutoff || dd.Dates.FirstPayment != tc.firstPay {
			t.Errorf("%s: cut-off %s first payment %s, want %s %s", tc.today, dd.Dates.Cutoff, dd.Dates.FirstPayment, tc.cutoff, tc.firstPay)
		}
		a, err := money.Parse(dd.Tranches[0].Balance, "CNY")
		if err != nil || a.Minor()-tc.seniorFen > 1 || tc.seniorFen-a.Minor() > 1 {
			t.Errorf("%s: senior %s, want about %d fen", tc.today, dd.Tranches[0].Balance, tc.seniorFen)
		}
		var sum int64
		for _, f := range dd.Pool.Forecast {
			v, _ := money.Parse(f.Amount, "CNY")
			sum += v.Minor()
		}
		// The example forecasts 11.5% of the claim; rounding each month moves it by a fen or so.
		if want := tc.claim * 115 / 1000; sum-want > 50 || want-sum > 50 {
			t.Errorf("%s: forecast %d fen, want about %d", tc.today, sum, want)
		}
		ps, err := live.Windows(d)
		if err != nil {
			t.Fatal(err)
		}
		ended := 0
		for _, p := range ps {
			if p.CollectionEnd.Before(tc.today) {
				ended++
			}
		}
		if ended != 2 || ps[2].CollectionStart.After(tc.today) {
			t.Errorf("%s: %d periods ended, the third starts %s", tc.today, ended, ps[2].CollectionStart)
		}
	}
}
