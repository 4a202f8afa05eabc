package tlog

import (
	"fmt"

	"reclaim"
	"reclaim/date"
)

// Period is a reporting period: the civil dates it covers, both inclusive.
type Period struct {
	Start date.Date
	End   date.Date
}

// ValidatePeriod decides whether a period report for next may be written after the pool's
// previous report (prev is nil before the first one), on the day today (the caller's clock, UTC).
// A period report is permanent once it is on the log, and every later report is checked against
// it by the investors' verifier, so the rules are strict:
//
//   - next has a start and an end, and Start <= End;
//   - it is not in the future: End <= today (a period may be closed on its last day);
//   - it follows the previous period without a gap or an overlap: Start = prev.End + 1 day (this
//     also makes periods ordered and non-overlapping).
//
// The error is EINVALID and names the rule, the given dates and what was expected.
func ValidatePeriod(prev *Period, next Period, today date.Date) error {
	bad := func(rule, format string, args ...any) error {
		e := reclaim.Errorf(reclaim.EINVALID, format, args...)
		e.Fields = map[string]string{"rule": rule}
		return e
	}
	if next.Start.IsZero() || next.End.IsZero() {
		return bad("period_dates_required", "a period needs a start and an end date")
	}
	if next.End.Before(next.Start) {
		return bad("period_start_after_end", "the period ends on %s, before it starts on %s", next.End, next.Start)
	}
	if today.IsZero() {
		return reclaim.Errorf(reclaim.EINTERNAL, "period check without a clock")
	}
	if next.End.After(today) {
		return bad("period_in_future", "the period ends on %s, after today (%s): a period can be reported only once it has ended",
			next.End, today)
	}
	if prev == nil {
		return nil
	}
	want := prev.End.AddDays(1)
	switch {
	case next.Start == want:
		return nil
	case next.Start.Before(prev.Start):
		return bad("period_out_of_order", "the period %s to %s is out of order: the previous report covers %s to %s, so the next period starts on %s",
			next.Start, next.End, prev.Start, prev.End, want)
	case !next.Start.After(prev.End):
		return bad("period_overlap", "the period %s to %s overlaps the previous report's %s to %s: the next period starts on %s",
			next.Start, next.End, prev.Start, prev.End, want)
	case next.Start != want:
		return bad("period_gap", "the period %s to %s leaves a gap after the previous report's %s to %s: the next period starts on %s",
			next.Start, next.End, prev.Start, prev.End, want)
	}
	return nil
}

// String formats the period as "START..END".
func (p Period) String() string { return fmt.Sprintf("%s..%s", p.Start, p.End) }
