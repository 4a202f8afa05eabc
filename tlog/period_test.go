package tlog

import (
	"math/rand"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/tlog/verify"
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

// TestCheckMovementDate: at every boundary of the last closed period.
func TestCheckMovementDate(t *testing.T) {
	d := date.Of
	closed := d(2026, 7, 31)
	for _, c := range []struct {
		closed, eff date.Date
		rule        string
	}{
		{date.Date{}, d(2020, 1, 1), ""},  // nothing closed yet
		{closed, closed.AddDays(1), ""},   // the first open day
		{closed, d(2027, 1, 1), ""},       // future-dated: in a later period
		{closed, closed, "period_closed"}, // the last day of the closed period
		{closed, closed.AddDays(-1), "period_closed"},
		{closed, d(2026, 7, 1), "period_closed"},
		{closed, d(2000, 1, 1), "period_closed"},
		{closed, date.Date{}, "effective_required"},
	} {
		err := CheckMovementDate(c.closed, c.eff)
		if c.rule == "" {
			if err != nil {
				t.Errorf("closed %v eff %v: %v", c.closed, c.eff, err)
			}
			continue
		}
		e, ok := err.(*reclaim.Error)
		if !ok || e.Code != reclaim.EINVALID || e.Fields["rule"] != c.rule {
			t.Errorf("closed %v eff %v: %v, want rule %s", c.closed, c.eff, err, c.rule)
		}
		if c.rule == "period_closed" && e.Fields["first_open_day"] != "2026-08-01" {
			t.Errorf("first open day %v", e.Fields)
		}
	}
}

// TestPlaceBoundaries: Place on every boundary day of a first and a later period.
func TestPlaceBoundaries(t *testing.T) {
	d := date.Of
	jul := Period{d(2026, 7, 1), d(2026, 7, 31)}
	aug := Period{d(2026, 8, 1), d(2026, 8, 31)}
	for _, c := range []struct {
		prev *Period
		idx  int64
		eff  date.Date
		want Placement
	}{
		{nil, 5, d(2026, 6, 30), BeforeFirst},
		{nil, 5, d(2026, 7, 1), InThis},
		{nil, 5, d(2026, 7, 31), InThis},
		{nil, 5, d(2026, 8, 1), InLater},
		{&jul, 9, d(2026, 7, 31), InEarlier}, // sequenced before July's report at 10
		{&jul, 10, d(2026, 7, 31), Misbooked},
		{&jul, 11, d(2026, 7, 1), Misbooked},
		{&jul, 3, d(2026, 8, 1), InThis}, // post-dated, sequenced before July closed
		{&jul, 12, d(2026, 8, 31), InThis},
		{&jul, 12, d(2026, 9, 1), InLater},
	} {
		next := jul
		if c.prev != nil {
			next = aug
		}
		if got := Place(c.prev, 10, next, c.idx, c.eff); got != c.want {
			t.Errorf("prev %v idx %d eff %v: %d, want %d", c.prev, c.idx, c.eff, got, c.want)
		}
	}
}

// TestPeriodsProperty simulates a pool: movements with random value dates (some post-dated,
// some back-dated) are posted under CheckMovementDate while contiguous periods are closed at
// random points with Place. It checks that no movement is ever misbooked, that each accepted
// movement is counted by exactly one report (or is in the open period), exactly the one whose
// period contains its date (verify.PeriodOf), sequenced before it; that each report counts what
// verify.InPeriod says; and that the roll-forward is exact: every closing balance is the sum of
// all movements sequenced before the report and dated on or before its end.
func TestPeriodsProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	base := date.Of(2026, 1, 1)
	var nReports, nCarried, nRefused int
	for iter := 0; iter < 200; iter++ {
		type mv struct {
			idx    int64
			eff    date.Date
			amount int64
		}
		var log []mv // movements; reports take an index too
		var size int64
		var reps []verify.PeriodReport
		var repAt []int64
		var closing []int64
		counted := map[int64]int{}
		var prev *Period
		var prevTo int64
		today := base.AddDays(rng.Intn(10))
		start := base.AddDays(rng.Intn(5))
		for step := 0; step < 60; step++ {
			today = today.AddDays(rng.Intn(3))
			if rng.Intn(5) > 0 { // post a movement dated around today
				eff := today.AddDays(rng.Intn(21) - 10)
				var through date.Date
				if prev != nil {
					through = prev.End
				}
				err := CheckMovementDate(through, eff)
				if (err == nil) != (prev == nil || eff.After(prev.End)) {
					t.Fatalf("CheckMovementDate(%v, %v) = %v", through, eff, err)
				}
				if err != nil {
					nRefused++
				}
				if err == nil {
					log = append(log, mv{size, eff, int64(rng.Intn(1000)) - 300})
					size++
				}
				continue
			}
			next := Period{Start: start, End: start.AddDays(rng.Intn(15))}
			if prev != nil {
				next.Start = prev.End.AddDays(1)
				next.End = next.Start.AddDays(rng.Intn(15))
			}
			if next.End.After(today) {
				continue
			}
			if ValidatePeriod(prev, next, today) != nil {
				t.Fatalf("simulated period %v after %v refused", next, prev)
			}
			var sum, open int64
			if len(closing) > 0 {
				open = closing[len(closing)-1]
			}
			refused := false
			for _, m := range log {
				switch Place(prev, prevTo, next, m.idx, m.eff) {
				case InThis:
					sum += m.amount
				case Misbooked:
					t.Fatalf("movement %d dated %v misbooked closing %v after %v", m.idx, m.eff, next, prev)
				case BeforeFirst:
					refused = true
				}
			}
			if refused { // the first period must start on or before the first movement
				continue
			}
			for _, m := range log {
				if Place(prev, prevTo, next, m.idx, m.eff) == InThis {
					counted[m.idx]++
				}
			}
			reps = append(reps, verify.PeriodReport{PeriodStart: next.Start.String(), PeriodEnd: next.End.String(), ToIndex: size})
			repAt = append(repAt, size)
			closing = append(closing, open+sum)
			p := next
			prev, prevTo = &p, size
			size++ // the report's own index
		}
		for _, m := range log {
			k := verify.PeriodOf(reps, m.eff.String())
			switch {
			case k < 0:
				t.Fatalf("movement %d dated %v in no period of %v", m.idx, m.eff, reps)
			case k == len(reps):
				if counted[m.idx] != 0 {
					t.Fatalf("movement %d in the open period counted %d times", m.idx, counted[m.idx])
				}
			default:
				if counted[m.idx] != 1 || m.idx >= repAt[k] {
					t.Fatalf("movement %d dated %v: counted %d times, its period's report at %d", m.idx, m.eff, counted[m.idx], repAt[k])
				}
				if k > 0 && m.idx < repAt[k-1] {
					nCarried++ // post-dated: sequenced before the previous close
				}
			}
		}
		for k, r := range reps {
			var want int64
			for _, m := range log {
				if m.idx < repAt[k] && m.eff.String() <= r.PeriodEnd {
					want += m.amount
				}
			}
			if closing[k] != want {
				t.Fatalf("report %d closing %d, dated sum %d", k, closing[k], want)
			}
		}
		nReports += len(reps)
	}
	// The simulation must exercise the interesting cases.
	if nReports < 200 || nCarried < 50 || nRefused < 50 {
		t.Fatalf("weak simulation: %d reports, %d post-dated movements carried, %d refused", nReports, nCarried, nRefused)
	}
	t.Logf("%d reports, %d post-dated movements carried to a later period, %d back-dated movements refused", nReports, nCarried, nRefused)
}

// FuzzPlace: the server's Place agrees with the investors' definition (verify.InPeriod on the
// period's dates, verify.PeriodOf over the two periods) for any dates and indices.
func FuzzPlace(f *testing.F) {
	f.Add(int32(0), int32(30), int32(30), int32(45), int64(3), int64(10), true)
	f.Add(int32(0), int32(30), int32(30), int32(-1), int64(3), int64(10), false)
	f.Add(int32(0), int32(30), int32(30), int32(30), int64(12), int64(10), true)
	f.Fuzz(func(t *testing.T, prevLen, nextLen, effOff, _ int32, idx, prevTo int64, hasPrev bool) {
		base := date.Of(2026, 1, 1)
		pl, nl := int(uint32(prevLen)%400), int(uint32(nextLen)%400)
		prev := Period{Start: base, End: base.AddDays(pl)}
		next := Period{Start: base, End: base.AddDays(nl)}
		var pp *Period
		var reps []verify.PeriodReport
		if hasPrev {
			pp = &prev
			next = Period{Start: prev.End.AddDays(1), End: prev.End.AddDays(1 + nl)}
			reps = append(reps, verify.PeriodReport{PeriodStart: prev.Start.String(), PeriodEnd: prev.End.String()})
		}
		reps = append(reps, verify.PeriodReport{PeriodStart: next.Start.String(), PeriodEnd: next.End.String()})
		eff := base.AddDays(int(effOff % 2000))
		got := Place(pp, prevTo, next, idx, eff)
		k := verify.PeriodOf(reps, eff.String())
		var want Placement
		switch {
		case k == len(reps):
			want = InLater
		case k == len(reps)-1:
			want = InThis
		case !hasPrev:
			want = BeforeFirst
		case idx < prevTo: // dated on or before prev's end: prev, or an earlier period, counted it
			want = InEarlier
		default:
			want = Misbooked
		}
		if got != want {
			t.Fatalf("prev %v next %v idx %d prevTo %d eff %v: Place %d, want %d", pp, next, idx, prevTo, eff, got, want)
		}
		if (got == InThis) != verify.InPeriod(eff.String(), next.Start.String(), next.End.String()) {
			t.Fatalf("InThis disagrees with InPeriod for %v in %v", eff, next)
		}
	})
}
