package workout

import (
	"cmp"
	"maps"
	"slices"

	"reclaim/date"
)

// Decided is one contact attempt and the compliance engine's decision on it: what the live path
// records for every contact, allowed or denied.
type Decided struct {
	Contact  Contact
	Decision Decision
}

// ReportBy chooses the grouping of a compliance report: by the attempt's local day (in the
// debtor's offset, as the rules read it), by agency, by agent, or any combination; the zero
// value gives one row with the totals.
type ReportBy struct {
	Day, Agency, Agent bool
}

// ReportRow is one group of a compliance report. Fields not grouped on are zero. Denied counts
// attempts with at least one violation; DeniedByRule counts them per rule, so an attempt that
// broke two rules counts once in Denied and once under each rule.
type ReportRow struct {
	Day          date.Date      `json:"day"`    // zero when not grouped by day
	Agency       string         `json:"agency"` // "" for the AMC's own staff (or not grouped by agency)
	Agent        string         `json:"agent"`
	Attempts     int            `json:"attempts"`
	Allowed      int            `json:"allowed"`
	Denied       int            `json:"denied"`
	DeniedByRule map[string]int `json:"denied_by_rule"` // never nil
}

// Rules returns the rule codes of r.DeniedByRule, sorted.
func (r ReportRow) Rules() []string { return slices.Sorted(maps.Keys(r.DeniedByRule)) }

type reportKey struct {
	day           date.Date
	agency, agent string
}

// ComplianceReport aggregates attempts into rows grouped as by says, sorted by day, agency, then
// agent. It is pure: the caller loads the attempts (from storage, or from an audit with
// AttemptsFromAudit). Attempts + Allowed + Denied always balance: Attempts == Allowed + Denied.
func ComplianceReport(attempts []Decided, by ReportBy) []ReportRow {
	rows := map[reportKey]*ReportRow{}
	for i := range attempts {
		a := &attempts[i]
		var k reportKey
		if by.Day {
			k.day = date.FromDays(int(localDay(a.Contact.At)))
		}
		if by.Agency {
			k.agency = a.Contact.Agency
		}
		if by.Agent {
			k.agent = a.Contact.Agent
		}
		r := rows[k]
		if r == nil {
			r = &ReportRow{Day: k.day, Agency: k.agency, Agent: k.agent, DeniedByRule: map[string]int{}}
			rows[k] = r
		}
		r.Attempts++
		if len(a.Decision.Violations) == 0 {
			r.Allowed++
			continue
		}
		r.Denied++
		seen := make(map[string]bool, len(a.Decision.Violations))
		for _, v := range a.Decision.Violations {
			if !seen[v.Rule] {
				seen[v.Rule] = true
				r.DeniedByRule[v.Rule]++
			}
		}
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ReportRow) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Agency, b.Agency); c != 0 {
			return c
		}
		return cmp.Compare(a.Agent, b.Agent)
	})
	return out
}

// AttemptsFromAudit pairs each contact of log with the violations Audit flagged on it (flags as
// Audit returned them), in log order, for a compliance report of a finished log.
func AttemptsFromAudit(log []Contact, flags []Flag) []Decided {
	out := make([]Decided, len(log))
	for i := range log {
		out[i] = Decided{Contact: log[i], Decision: Decision{Allowed: true}}
	}
	for _, f := range flags {
		if f.Index < 0 || f.Index >= len(out) {
			continue
		}
		d := &out[f.Index].Decision
		d.Allowed = false
		d.Violations = append(d.Violations, Violation{Rule: f.Rule, Message: f.Message})
	}
	return out
}
