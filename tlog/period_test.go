package tlog

import (
	"testing"

	"reclaim"
	"reclaim/date"
)

func TestValidatePeriod(t *testing.T) {
	d := date.Of
	today := d(2026, 8, 15)
	jul := &Period{Start: d(2026, 7, 1), End: d(2026, 7, 31)}
	cases := []struct {
		name string
		prev *Period
		next Period
		rule string // "" = accepted
	}{
		{"first period", nil, Period{d(2026, 7, 1), d(2026, 7, 31)}, ""},
		{"one-day period", nil, Period{d(2026, 7, 1), d(2026, 7, 1)}, ""},
		{"start after end by one day", nil, Period{d(2026, 7, 2), d(2026, 7, 1)}, "period_start_after_end"},
		{"missing start", nil, Period{date.Date{}, d(2026, 7, 1)}, "period_dates_required"},
		{"missing end", nil, Period{d(2026, 7, 1), date.Date{}}, "period_dates_required"},
		{"ends today", jul, Period{d(2026, 8, 1), today}, ""},
		{"ends tomorrow", jul, Period{d(2026, 8, 1), today.AddDays(1)}, "period_in_future"},
		{"ends 9999-12-31", nil, Period{d(2026, 7, 1), d(9999, 12, 31)}, "period_in_future"},
		{"first period in the future", nil, Period{today.AddDays(1), today.AddDays(1)}, "period_in_future"},
		{"contiguous", jul, Period{d(2026, 8, 1), d(2026, 8, 14)}, ""},
		{"gap of one day", jul, Period{d(2026, 8, 2), d(2026, 8, 14)}, "period_gap"},
		{"overlaps the last day", jul, Period{d(2026, 7, 31), d(2026, 8, 14)}, "period_overlap"},
		{"same period again", jul, Period{d(2026, 7, 1), d(2026, 7, 31)}, "period_overlap"},
		{"inside the previous", jul, Period{d(2026, 7, 10), d(2026, 7, 20)}, "period_overlap"},
		{"starts one day before the previous", jul, Period{d(2026, 6, 30), d(2026, 7, 31)}, "period_out_of_order"},
		{"entirely before the previous", jul, Period{d(2026, 6, 1), d(2026, 6, 30)}, "period_out_of_order"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidatePeriod(c.prev, c.next, today)
			if c.rule == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			e, ok := err.(*reclaim.Error)
			if !ok || e.Code != reclaim.EINVALID || e.Fields["rule"] != c.rule {
				t.Fatalf("got %v, want rule %s", err, c.rule)
			}
		})
	}
	if err := ValidatePeriod(nil, Period{d(2026, 7, 1), d(2026, 7, 2)}, date.Date{}); reclaim.ErrorCode(err) != reclaim.EINTERNAL {
		t.Fatalf("no clock: %v", err)
	}
}

// FuzzValidatePeriod: for any dates, the rule accepts exactly the periods that are well formed,
// not in the future and start the day after the previous one.
func FuzzValidatePeriod(f *testing.F) {
	f.Add(int32(0), int32(30), int32(31), int32(61), int32(100), true)
	f.Add(int32(0), int32(30), int32(30), int32(40), int32(100), true)
	f.Add(int32(0), int32(30), int32(31), int32(3000000), int32(100), false)
	f.Fuzz(func(t *testing.T, ps, pe, ns, ne, today int32, hasPrev bool) {
		base := date.Of(2000, 1, 1)
		day := func(n int32) date.Date { return base.AddDays(int(n % 4000000)) }
		var prev *Period
		if hasPrev {
			prev = &Period{Start: day(ps), End: day(pe)}
		}
		next := Period{Start: day(ns), End: day(ne)}
		err := ValidatePeriod(prev, next, day(today))
		want := !next.End.Before(next.Start) && !next.End.After(day(today)) && (prev == nil || next.Start == prev.End.AddDays(1))
		if (err == nil) != want {
			t.Fatalf("prev %v next %v today %v: err %v, want ok=%v", prev, next, day(today), err, want)
		}
	})
}
