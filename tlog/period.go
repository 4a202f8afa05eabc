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

// Periods are cut by effective (value) date, not by log position (tlog/verify/README.md, "How
// periods are cut"): a period report counts exactly the movements (loan.boarded, loan.collection,
// loan.removed, loan.status) sequenced before it whose effective date lies in the period. The two
// rules below are the server's half; verify.ReportEntries and verify.CheckPeriods are the
// investor's.

// CheckMovementDate decides whether a new movement dated eff may be logged when the pool's
// periods are closed through closedThrough (the last report's period end; the zero Date when no
// period is closed). A movement dated in a closed period is refused (EINVALID, rule
// "period_closed"): its report is on the log and cannot count it, and no later report may, so
// it must be posted with a date in the open period, on or after the first open day
// (closedThrough + 1 day). An entry can therefore never fall between periods.
func CheckMovementDate(closedThrough, eff date.Date) error {
	if eff.IsZero() {
		e := reclaim.Errorf(reclaim.EINVALID, "a movement needs its effective (value) date")
		e.Fields = map[string]string{"rule": "effective_required"}
		return e
	}
	if closedThrough.IsZero() || eff.After(closedThrough) {
		return nil
	}
	e := reclaim.Errorf(reclaim.EINVALID,
		"the effective date %s is in a closed period (periods are reported through %s): post it dated on or after %s, the first open day",
		eff, closedThrough, closedThrough.AddDays(1))
	e.Fields = map[string]string{"rule": "period_closed", "closed_through": closedThrough.String(), "first_open_day": closedThrough.AddDays(1).String()}
	return e
}

// Placement says where a movement goes when the period next is closed.
type Placement int

const (
	// InThis: the movement counts in next (its date is in next; for a later period, also after
	// the previous period's end).
	InThis Placement = iota
	// InEarlier: dated in or before the previous period and sequenced before its report, which
	// counted it.
	InEarlier
	// InLater: dated after next's end; it counts in the period that contains its date.
	InLater
	// BeforeFirst: dated before the start of the first period; that period cannot be closed
	// with this start (it must start on or before the first movement's date).
	BeforeFirst
	// Misbooked: dated in a closed period but sequenced after that period's report, which
	// CheckMovementDate refuses; finding one means the log was written around the rule.
	Misbooked
)

// Place decides where the movement at log index idx, dated eff, goes when next is closed after
// prev (nil for the first period) whose report is at index prevTo. It is the rule the server's
// ClosePeriod applies and verify.ReportEntries recomputes.
func Place(prev *Period, prevTo int64, next Period, idx int64, eff date.Date) Placement {
	switch {
	case eff.After(next.End):
		return InLater
	case prev != nil && !eff.After(prev.End):
		if idx < prevTo {
			return InEarlier
		}
		return Misbooked
	case prev == nil && eff.Before(next.Start):
		return BeforeFirst
	}
	return InThis
}
