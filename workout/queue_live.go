package workout

import (
	"math"
	"reclaim/date"
	"slices"
)

// The live daily queue (docs/strategy.md, "The live daily queue") plans a day for the cases the
// AMC holds with the same assignment as the simulator (PlanQueue). LiveStrategy turns a strategy
// file's teams into the live teams: every collector is a team of one, every agency with placed
// cases a team; LiveOwners says which of them may take a case; RulesValues is the champion's
// rules-only value of a contact.

// LiveStrategy returns a copy of s whose teams are the live ones. The first in-house team
// (Agency "") that works calls is the template of the collectors: each collector becomes a team
// named by its username, working the template's channels and shift with the template's
// capacity per agent (Capacity / Agents, at least 1). Other in-house teams (an SMS platform, a
// letter house) stay as they are. Each agency becomes a team named by the agency: the strategy's
// team for that agency when there is one, else a copy of the strategy's first agency team; with
// no agency team in s, agencies get none. A collector whose name is already a team name is left
// out (the team keeps the name).
func LiveStrategy(s *Strategy, collectors, agencies []string) *Strategy {
	out := *s
	out.Teams = nil
	var person, agencyTpl *Team
	for i := range s.Teams {
		t := &s.Teams[i]
		if t.Agency == "" && person == nil && slices.Contains(t.Channels, ChannelCall) {
			person = t
		}
		if t.Agency != "" && agencyTpl == nil {
			agencyTpl = t
		}
	}
	names := map[string]bool{}
	for _, t := range s.Teams {
		if t.Agency == "" && (person == nil || t.Name != person.Name) {
			out.Teams = append(out.Teams, t)
			names[t.Name] = true
		}
	}
	if person != nil {
		per := max(1, person.Capacity/max(1, person.Agents))
		for _, c := range collectors {
			if c == "" || names[c] {
				continue
			}
			t := *person
			t.Name, t.Capacity, t.Agents = c, per, 1
			out.Teams = append(out.Teams, t)
			names[c] = true
		}
	}
	for _, a := range agencies {
		if a == "" || names[a] {
			continue
		}
		tpl := agencyTpl
		for i := range s.Teams {
			if s.Teams[i].Agency == a {
				tpl = &s.Teams[i]
				break
			}
		}
		if tpl == nil {
			continue
		}
		t := *tpl
		t.Name, t.Agency = a, a
		out.Teams = append(out.Teams, t)
		names[a] = true
	}
	return &out
}

// LiveOwners names the teams of live (a LiveStrategy) that may take a case assigned to
// assignee and placed with agency: the case's collector, its agency, and every in-house team
// that is neither a collector nor an agency (platforms). A case with neither gets the platforms
// only. The result is never nil (an empty list: no team).
func LiveOwners(live *Strategy, collectors []string, assignee, agency string) []string {
	teams := []string{}
	for _, t := range live.Teams {
		switch {
		case t.Agency != "":
			if t.Agency == agency {
				teams = append(teams, t.Name)
			}
		case slices.Contains(collectors, t.Name):
			if t.Name == assignee {
				teams = append(teams, t.Name)
			}
		default:
			teams = append(teams, t.Name)
		}
	}
	return teams
}

// RulesValues is the champion's (rules-only) value of a contact on each channel for a case with
// claim yuan outstanding, daysPastDue days past due, sinceContact days since its last contact
// (-1 never) and phone true when a number is known. It is the simulator's rules baseline: a
// priority of claim/1000 discounted by age (1 + dpd/365); visits only for claims of 50,000 and
// more (1.2 x priority), calls for 3,000 and more (1 x), SMS always (0.3 x), letters when the
// case was not contacted for 30 days (0.2 x), e-mail a token. Each value is the channel's cost
// plus that amount, so every listed channel is a candidate and the assignment ranks by priority;
// a channel s has no cost for, or a call or SMS without a number, is NaN (no candidate).
func RulesValues(s *Strategy, claim float64, daysPastDue, sinceContact int, phone bool) [NumChannels]float64 {
	var v [NumChannels]float64
	prio := claim / 1000 / (1 + float64(max(daysPastDue, 0))/365)
	for k, ch := range AllChannels {
		v[k] = math.NaN()
		if _, ok := s.Channels[ch]; !ok {
			continue
		}
		if (ch == ChannelCall || ch == ChannelSMS) && !phone {
			continue
		}
		cost := s.Cost(ch).Float()
		switch ch {
		case ChannelVisit:
			if claim >= 50_000 {
				v[k] = cost + prio*1.2
			}
		case ChannelCall:
			if claim >= 3_000 {
				v[k] = cost + prio
			}
		case ChannelSMS:
			v[k] = cost + prio*0.3 + 0.01
		case ChannelLetter:
			if sinceContact < 0 || sinceContact >= 30 {
				v[k] = cost + prio*0.2 + 0.01
			}
		default:
			v[k] = cost + 0.01
		}
	}
	return v
}

// PlanItem is one planned contact of a day's live queue (stored by the service, shown to the
// collector, the agency and the manager).
type PlanItem struct {
	Day       date.Date `json:"day"`
	CaseID    int64     `json:"case_id"`
	Arm       string    `json:"arm"`
	Team      string    `json:"team"`
	Assignee  string    `json:"assignee,omitempty"` // the collector, for a collector's item
	Agency    string    `json:"agency,omitempty"`   // the agency, for an agency's item
	Channel   string    `json:"channel"`
	PlannedAt string    `json:"planned_at"` // RFC 3339 in the debtors' offset
	Value     float64   `json:"value"`      // expected recovery the contact adds (yuan)
	Net       float64   `json:"net"`        // Value minus the channel's cost (yuan)
	Rank      int       `json:"rank"`       // 1.. within the day, in the planner's order
	PlannedBy string    `json:"planned_by"`
}

// DayPlan is what PlanDay planned.
type DayPlan struct {
	Day      date.Date      `json:"day"`
	Cases    int            `json:"cases"`    // open cases considered
	Skipped  int            `json:"skipped"`  // suppressed (do not contact, deceased, bankrupt) or contacted within the strategy's gap
	Planned  int            `json:"planned"`  // contacts planned
	Refused  int            `json:"refused"`  // assignments the compliance engine refused at their planned time (re-planned without them)
	PerArm   map[string]int `json:"per_arm"`  // planned contacts per arm
	PerTeam  map[string]int `json:"per_team"` // planned contacts per team
	Capacity map[string]int `json:"capacity"` // each team's capacity (both arms together)
	Items    []PlanItem     `json:"items"`    // by rank
	Strategy string         `json:"strategy"` // the strategy's name
	// ChallengerValuation says how the challenger arm's contacts were valued: "model:<name>"
	// (the newest stored contact model, ModelValues) or ValuationRules (no model stored). The
	// champion is always valued by RulesValues.
	ChallengerValuation string `json:"challenger_valuation"`
}

// ValuationRules is DayPlan.ChallengerValuation when no contact model is stored.
const ValuationRules = "rules (no model)"
