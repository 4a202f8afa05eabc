package service

import (
	"context"
	"sort"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/workout"
)

// The live daily queue (docs/strategy.md, "The live daily queue"): PlanDay loads the open cases,
// the collectors and the agencies, runs workout.PlanQueue for each champion/challenger arm and
// stores the day's plan; Queue reads it back within the viewer's scope.

// planBatch is how many cases' contact states are loaded per read.
const planBatch = 1000

// PlanDay plans day's contacts under strat (workout.DefaultStrategy when nil) and stores the plan,
// replacing any earlier plan of the day. Cases of the challenger arm are planned by the challenger
// half of every team's capacity, the others (champion, or no arm drawn) by the champion half
// (Strategy.Split with the experiment's share, 0.5 without one). The champion arm is valued by
// workout.RulesValues; the challenger by workout.ModelValues under the newest stored contact
// model (contact_model.go), or by RulesValues when none is stored (the plan's
// ChallengerValuation says which). Every planned
// contact is allowed by the service's policy and the suppression rule at its planned time (a
// refused one is left out and counted). Only a viewer holding case.assign may plan.
func (s *Service) PlanDay(ctx context.Context, v workout.Viewer, day date.Date, strat *workout.Strategy) (*workout.DayPlan, error) {
	if !v.Role.Can(reclaim.PermCaseAssign) {
		return nil, reclaim.Errorf(reclaim.EFORBIDDEN, "planning the queue needs case.assign")
	}
	if day.IsZero() {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "day: a day (YYYY-MM-DD) is required", Fields: map[string]string{"field": "day"}}
	}
	if strat == nil {
		strat = workout.DefaultStrategy()
	}
	cands, err := s.db.QueueCandidates(ctx)
	if err != nil {
		return nil, err
	}
	collectors, err := s.db.Collectors(ctx)
	if err != nil {
		return nil, err
	}
	agencies, err := s.db.PlacedAgencies(ctx)
	if err != nil {
		return nil, err
	}
	live := workout.LiveStrategy(strat, collectors, agencies)
	share := 0.5
	if s.opts.Experiment != nil && s.opts.Experiment.Share > 0 && s.opts.Experiment.Share < 1 {
		share = s.opts.Experiment.Share
	}
	champ, chall := live.Split(share)
	model, rec, err := s.challengerModel(ctx)
	if err != nil {
		return nil, err
	}
	out := &workout.DayPlan{Day: day, Cases: len(cands), PerArm: map[string]int{}, PerTeam: map[string]int{}, Capacity: map[string]int{},
		Items: []workout.PlanItem{}, Strategy: strat.Name, ChallengerValuation: workout.ValuationRules}
	if model != nil {
		out.ChallengerValuation = "model:" + rec.Name
	}
	for _, t := range live.Teams {
		out.Capacity[t.Name] = t.Capacity
	}
	isCollector := map[string]bool{}
	for _, c := range collectors {
		isCollector[c] = true
	}

	// The cases of each arm with what Decide needs.
	type armCases struct {
		name   string
		s      *workout.Strategy
		cases  []workout.QueueCase
		states []*workout.ContactState
	}
	arms := []*armCases{{name: workout.ArmChampion, s: champ}, {name: workout.ArmChallenger, s: chall}}
	dayStart := day.Time().Add(-time.Duration(strat.Offset) * time.Second)
	since := dayStart.Add(-time.Duration(max(s.opts.HistoryDays, strat.MinGapDays+1)) * 24 * time.Hour)
	for lo := 0; lo < len(cands); lo += planBatch {
		batch := cands[lo:min(lo+planBatch, len(cands))]
		ids := make([]int64, len(batch))
		for i, c := range batch {
			ids[i] = c.CaseID
		}
		states, err := s.db.ContactStates(ctx, ids, since)
		if err != nil {
			return nil, err
		}
		var facts map[int64]*workout.LiveCase
		if model != nil {
			var chall []int64
			for _, c := range batch {
				if c.Arm == workout.ArmChallenger {
					chall = append(chall, c.CaseID)
				}
			}
			if facts, err = s.db.LiveCases(ctx, chall); err != nil {
				return nil, err
			}
		}
		for _, c := range batch {
			st := states[c.CaseID]
			if st == nil {
				continue
			}
			if len(workout.Suppression(s.debtorState(*st, day))) > 0 {
				out.Skipped++
				continue
			}
			since := -1
			hist := make([]workout.Contact, len(st.History))
			for i, h := range st.History {
				hist[i] = asContact(h)
				d := 0 // days between the contact and the day (0 for a contact on or after it)
				if h.At.Before(dayStart) {
					d = int(dayStart.Sub(h.At).Hours()/24) + 1
				}
				if since < 0 || d < since {
					since = d
				}
			}
			if since >= 0 && since < strat.MinGapDays {
				out.Skipped++
				continue
			}
			a := arms[0]
			value := workout.RulesValues(live, st.Case.Balance.Float(), c.DaysPastDue, since, c.NumberKey != "")
			if c.Arm == workout.ArmChallenger {
				a = arms[1]
				if lc := facts[c.CaseID]; model != nil && lc != nil {
					f := workout.LiveFeatures(lc, liveHistory(st.History), day)
					f.PhoneAvailable = c.NumberKey != ""
					// A paying case brings the model's pay share of what is left to collect.
					value = workout.ModelValues(live, model, &f, st.Case.Balance.Float()*rec.Summary.PayShare)
				}
			}
			a.cases = append(a.cases, workout.QueueCase{CaseID: workout.CaseRef(c.CaseID), DebtorID: workout.CaseRef(c.CaseID),
				Number: c.NumberKey, Value: value,
				State: s.debtorState(*st, day), History: hist, Teams: workout.LiveOwners(live, collectors, st.Case.Assignee, st.Case.Agency)})
			a.states = append(a.states, st)
		}
	}
	for _, a := range arms {
		q, err := workout.PlanQueue(a.s, day, a.cases, nil)
		if err != nil {
			return nil, err
		}
		out.Refused += len(q.Dropped)
		for _, it := range q.Items {
			qc := a.cases[it.Case]
			// The service's own policy and the suppression rule, at the planned time: the
			// queue never proposes a contact the contact path would refuse.
			if d := s.decide(*a.states[it.Case], qc.History, it.Contact); !d.Allowed {
				out.Refused++
				continue
			}
			pi := workout.PlanItem{Day: day, CaseID: a.states[it.Case].Case.ID, Arm: a.name, Team: it.Team, Agency: it.Agency,
				Channel: string(it.Channel), PlannedAt: it.At.Format(time.RFC3339), Value: it.Value, Net: it.Net, PlannedBy: v.Username}
			if isCollector[it.Team] && it.Agency == "" {
				pi.Assignee = it.Team
			}
			out.Items = append(out.Items, pi)
			out.PerArm[a.name]++
			out.PerTeam[it.Team]++
		}
	}
	// Rank: the most valuable contact first (ties by case).
	sort.SliceStable(out.Items, func(i, j int) bool {
		a, b := out.Items[i], out.Items[j]
		if a.Net != b.Net {
			return a.Net > b.Net
		}
		return a.CaseID < b.CaseID
	})
	for i := range out.Items {
		out.Items[i].Rank = i + 1
	}
	out.Planned = len(out.Items)
	if err := s.db.ReplacePlan(ctx, day, out.Items); err != nil {
		return nil, err
	}
	return out, nil
}

// Queue returns day's planned contacts the viewer may see, by rank: a collector its own items
// on cases still assigned to it, an agency user its agency's items on cases still placed with
// it, any other role holding case.read every item. A viewer without case.read is refused.
func (s *Service) Queue(ctx context.Context, v workout.Viewer, day date.Date) ([]workout.PlanItem, error) {
	if day.IsZero() {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "day: a day (YYYY-MM-DD) is required", Fields: map[string]string{"field": "day"}}
	}
	var f sqldb.PlanFilter
	switch v.Role {
	case reclaim.RoleCollector:
		f = sqldb.PlanFilter{Assignee: v.Username, Mine: true}
	case reclaim.RoleAgency:
		f = sqldb.PlanFilter{Agency: v.Agency, Mine: true}
	default:
		if !v.Role.Can(reclaim.PermCaseRead) {
			return nil, reclaim.Errorf(reclaim.EFORBIDDEN, "reading the queue needs case.read")
		}
	}
	items, err := s.db.Plan(ctx, day, f)
	if items == nil {
		items = []workout.PlanItem{}
	}
	return items, err
}

// liveHistory turns a case's stored attempts into the contact model's history (debtor-local
// days): the contacts that happened, as the trainer reads them (sqldb.ContactLog: allowed, or
// reported by an agency; pre-dial checks and refused attempts left out).
func liveHistory(h []workout.Attempt) []workout.LiveContact {
	out := make([]workout.LiveContact, 0, len(h))
	for _, a := range h {
		if a.Source == workout.SourceCheck || (!a.Allowed && a.Source != workout.SourceAgency) {
			continue
		}
		c := asContact(a)
		out = append(out, workout.LiveContact{CaseID: a.CaseID, At: a.At, Day: date.Of(c.At.Year(), c.At.Month(), c.At.Day()), Channel: a.Channel, Outcome: a.Outcome})
	}
	return out
}
