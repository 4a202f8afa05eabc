package workout

import (
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
)

func TestLiveStrategyTeams(t *testing.T) {
	live := LiveStrategy(DefaultStrategy(), []string{"alice", "bob", "letters"}, []string{"huadong-field", "xinan-legal"})
	var got []string
	caps := map[string]int{}
	for _, tm := range live.Teams {
		got = append(got, tm.Name+"/"+tm.Agency)
		caps[tm.Name] = tm.Capacity
	}
	// callers (1500 a day over 25 agents) becomes one team of 60 per collector; a collector named
	// like a platform team is left out; every agency gets a team.
	want := []string{"sms-platform/", "letters/", "alice/", "bob/", "huadong-field/huadong-field", "xinan-legal/xinan-legal"}
	if !slices.Equal(got, want) {
		t.Fatalf("teams %v, want %v", got, want)
	}
	if caps["alice"] != 60 || caps["bob"] != 60 || caps["huadong-field"] != 40 || caps["xinan-legal"] != 40 {
		t.Fatalf("capacities %v", caps)
	}
	owners := LiveOwners(live, []string{"alice", "bob"}, "alice", "xinan-legal")
	if !slices.Equal(owners, []string{"sms-platform", "letters", "alice", "xinan-legal"}) {
		t.Fatalf("owners %v", owners)
	}
	if o := LiveOwners(live, []string{"alice", "bob"}, "", ""); !slices.Equal(o, []string{"sms-platform", "letters"}) {
		t.Fatalf("unowned case: %v", o)
	}
}

func TestRulesValues(t *testing.T) {
	s := DefaultStrategy()
	v := RulesValues(s, 60_000, 365, -1, true)
	for _, ch := range []Channel{ChannelCall, ChannelSMS, ChannelVisit, ChannelLetter} {
		if x := v[ChannelIndex(ch)]; !(x > s.Cost(ch).Float()) {
			t.Fatalf("%s: %v not above its cost", ch, x)
		}
	}
	if !math.IsNaN(v[ChannelIndex(ChannelEmail)]) {
		t.Fatalf("email has no cost in the default strategy: %v", v)
	}
	small := RulesValues(s, 2_000, 30, 5, false)
	for _, ch := range []Channel{ChannelCall, ChannelSMS, ChannelVisit, ChannelLetter} {
		if !math.IsNaN(small[ChannelIndex(ch)]) {
			t.Fatalf("%s should be no candidate for a small claim without a phone contacted 5 days ago: %v", ch, small)
		}
	}
}

// TestPlanQueueTeamsRestriction: a case never goes to a team outside its Teams, and capacities
// hold, whatever the restrictions.
func TestPlanQueueTeamsRestriction(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := LiveStrategy(DefaultStrategy(), []string{"a", "b"}, []string{"ag"})
		for i := range s.Teams {
			s.Teams[i].Capacity = rapid.IntRange(1, 4).Draw(rt, "cap")
		}
		n := rapid.IntRange(0, 20).Draw(rt, "cases")
		cases := make([]QueueCase, n)
		for i := range cases {
			owner := rapid.SampledFrom([]string{"a", "b", ""}).Draw(rt, "owner")
			agency := rapid.SampledFrom([]string{"ag", ""}).Draw(rt, "agency")
			cases[i] = QueueCase{CaseID: CaseRef(int64(i + 1)), DebtorID: CaseRef(int64(i + 1)), Number: "k",
				Value: RulesValues(s, rapid.Float64Range(1000, 200_000).Draw(rt, "claim"), 200, -1, true),
				State: DebtorState{ValidationNoticeSent: true, Purpose: "collection"},
				Teams: LiveOwners(s, []string{"a", "b"}, owner, agency)}
		}
		q, err := PlanQueue(s, date.Of(2026, 3, 11), cases, nil)
		if err != nil {
			rt.Fatal(err)
		}
		if n > 0 && len(q.Items) == 0 {
			rt.Fatalf("nothing planned for %d cases (dropped %v)", n, q.Dropped)
		}
		per := map[string]int{}
		for _, it := range q.Items {
			per[it.Team]++
			if !slices.Contains(cases[it.Case].Teams, it.Team) {
				rt.Fatalf("case %d (teams %v) planned for %s", it.Case, cases[it.Case].Teams, it.Team)
			}
		}
		for _, tm := range s.Teams {
			if per[tm.Name] > tm.Capacity {
				rt.Fatalf("%s: %d over %d", tm.Name, per[tm.Name], tm.Capacity)
			}
		}
	})
}
