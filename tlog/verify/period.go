package verify

import (
	"fmt"
	"time"
)

// How periods are cut. A period report counts the movements (loan.boarded, loan.collection,
// loan.collection_reversal, loan.waiver, loan.removed and loan.status entries) by their effective (value) date, not by their place in
// the log:
//
//   - the report for the period [period_start, period_end] (both inclusive) counts exactly the
//     movements sequenced before it (index < to_index, its own index) whose effective date lies
//     in [period_start, period_end];
//   - consecutive periods are contiguous: a report's period_start is the day after the previous
//     report's period_end, so every date from the first period_start on is in exactly one period
//     (or in the open one after the last report);
//   - a movement sequenced before a close but dated after the period's end is not counted in it:
//     it counts in the period that contains its date;
//   - a movement dated in a period that is already closed is refused by the servicer (post it with
//     a date in the open period); the first period starts on or before the first movement's date;
//   - from_index is the smallest index of a movement the report counts, or the previous report's
//     to_index (0 for the first) if that is smaller: [from_index, to_index) holds every counted
//     movement.
//
// CheckPeriods checks the second half over the whole log: every movement belongs to exactly one
// reported period, sequenced before that period's report, or to the open period.

// IsMovement reports whether e is a movement: an entry that a period report counts by its
// effective date.
func IsMovement(e Entry) bool {
	switch e.(type) {
	case LoanBoarded, LoanCollection, LoanCollectionReversal, LoanWaiver, LoanRemoved, LoanStatus:
		return true
	}
	return false
}

// InPeriod reports whether a movement dated eff counts in the period [start, end] (canonical
// YYYY-MM-DD dates, which order as strings).
func InPeriod(eff, start, end string) bool { return start <= eff && eff <= end }

// DayAfter returns the canonical date after d (a canonical YYYY-MM-DD date), or "" if d is not one.
func DayAfter(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, 1).Format(time.DateOnly)
}

// PeriodOf places a movement dated eff among the reported periods (in log order, contiguous): it
// returns k when periods[k] contains eff, len(periods) when eff is after the last period (the open
// period; also when there is no period yet), and -1 when eff is before the first period's start or
// in a gap between two periods (which contiguous reports never leave).
func PeriodOf(periods []PeriodReport, eff string) int {
	if len(periods) == 0 || eff > periods[len(periods)-1].PeriodEnd {
		return len(periods)
	}
	lo, hi := 0, len(periods)-1
	for lo <= hi { // periods are ordered and disjoint
		m := (lo + hi) / 2
		switch p := periods[m]; {
		case eff < p.PeriodStart:
			hi = m - 1
		case eff > p.PeriodEnd:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// Misplaced is a movement that belongs to no period, or that was sequenced after the report of
// the period its date is in (so that report could not count it and no later one does).
type Misplaced struct {
	Index     int64  `json:"index"`
	EventID   string `json:"event_id"`
	Type      string `json:"type"`
	Effective string `json:"effective"`
	// Report is the log index of the period.report whose period contains the date, -1 if none.
	Report int64  `json:"report"`
	Reason string `json:"reason"`
}

// PeriodsResult is the outcome of CheckPeriods.
type PeriodsResult struct {
	Reports   int         `json:"reports"`   // period reports on the log
	Movements int64       `json:"movements"` // movements on the log
	InOpen    int64       `json:"in_open"`   // movements dated after the last reported period
	Problems  []Misplaced `json:"problems"`
}

// CheckPeriods checks, over the whole log (entries in log order), that the reported periods are
// ordered and contiguous (each period_start the day after the previous period_end, start <= end)
// and that every movement belongs to exactly one of them and was sequenced before that period's
// report, or is dated after the last reported period (the open period). It returns the result
// and, when any movement is misplaced or the periods do not tile the calendar, a *Failure of kind
// "period-coverage" whose evidence is the result.
func CheckPeriods(entries []Entry) (*PeriodsResult, error) {
	res := &PeriodsResult{Problems: []Misplaced{}}
	var reps []PeriodReport
	var repIdx []int64
	for i, e := range entries {
		r, ok := e.(PeriodReport)
		if !ok {
			continue
		}
		switch {
		case r.PeriodEnd < r.PeriodStart:
			res.Problems = append(res.Problems, Misplaced{Index: int64(i), EventID: r.EventID, Type: r.Type(), Effective: r.Effective, Report: int64(i),
				Reason: fmt.Sprintf("the period ends on %s, before it starts on %s", r.PeriodEnd, r.PeriodStart)})
		case len(reps) > 0 && r.PeriodStart != DayAfter(reps[len(reps)-1].PeriodEnd):
			res.Problems = append(res.Problems, Misplaced{Index: int64(i), EventID: r.EventID, Type: r.Type(), Effective: r.Effective, Report: int64(i),
				Reason: fmt.Sprintf("the period starts on %s; the previous report ends on %s, so it must start on %s",
					r.PeriodStart, reps[len(reps)-1].PeriodEnd, DayAfter(reps[len(reps)-1].PeriodEnd))})
		default:
			reps = append(reps, r)
			repIdx = append(repIdx, int64(i))
			continue
		}
		// A report that breaks the tiling is left out of the placement below, which then names
		// the movements it would have covered too.
	}
	res.Reports = len(reps)
	for i, e := range entries {
		if !IsMovement(e) {
			continue
		}
		res.Movements++
		h := e.EntryHeader()
		k := PeriodOf(reps, h.Effective)
		m := Misplaced{Index: int64(i), EventID: h.EventID, Type: e.Type(), Effective: h.Effective, Report: -1}
		switch {
		case k == len(reps):
			res.InOpen++
			continue
		case k < 0:
			m.Reason = fmt.Sprintf("dated %s, in no reported period (the first starts on %s)", h.Effective, reps[0].PeriodStart)
		case int64(i) > repIdx[k]:
			m.Report = repIdx[k]
			m.Reason = fmt.Sprintf("dated %s, in the period %s..%s whose report is entry %d, but sequenced after it: no report counts it",
				h.Effective, reps[k].PeriodStart, reps[k].PeriodEnd, repIdx[k])
		default:
			continue
		}
		res.Problems = append(res.Problems, m)
	}
	if len(res.Problems) > 0 {
		return res, &Failure{Kind: "period-coverage", Err: fmt.Errorf("%d entries outside the reported periods", len(res.Problems)), Evidence: res}
	}
	return res, nil
}

// Periods runs CheckPeriods on the local copy in dir (see LoadLocal).
func Periods(dir string) (*PeriodsResult, error) {
	l, err := LoadLocal(dir)
	if err != nil {
		return nil, err
	}
	return CheckPeriods(l.Parsed)
}
