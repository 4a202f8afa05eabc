package workout

import (
	"fmt"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/money"
)

// bruteAssign is the best total net of assigning each case to at most one team within the
// capacities, by enumeration.
func bruteAssign(caps []int, net [][]float64) float64 {
	n := len(net)
	used := make([]int, len(caps))
	var rec func(i int) float64
	rec = func(i int) float64 {
		if i == n {
			return 0
		}
		best := rec(i + 1)
		for t := range caps {
			if v := net[i][t]; !math.IsInf(v, -1) && used[t] < caps[t] {
				used[t]++
				best = math.Max(best, v+rec(i+1))
				used[t]--
			}
		}
		return best
	}
	return rec(0)
}

func TestSolveAssignmentOptimal(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		K := rapid.IntRange(1, 3).Draw(rt, "teams")
		n := rapid.IntRange(0, 7).Draw(rt, "cases")
		caps := make([]int, K)
		for k := range caps {
			caps[k] = rapid.IntRange(1, 3).Draw(rt, fmt.Sprint("cap", k))
		}
		net := make([][]float64, n)
		start := []int32{0}
		var team []int32
		var val []float64
		for i := range net {
			net[i] = make([]float64, K)
			for k := range net[i] {
				net[i][k] = math.Inf(-1)
				if rapid.Bool().Draw(rt, "has") {
					v := float64(rapid.IntRange(1, 50).Draw(rt, "v"))
					net[i][k] = v
					team, val = append(team, int32(k)), append(val, v)
				}
			}
			start = append(start, int32(len(team)))
		}
		order := make([]int32, n)
		for i := range order {
			order[i] = int32(n - 1 - i)
		}
		got, _ := solveAssignment(caps, start, team, val, make([]bool, len(team)), order)
		total := 0.0
		count := make([]int, K)
		for i, tm := range got {
			if tm >= 0 {
				if math.IsInf(net[i][tm], -1) {
					rt.Fatalf("case %d assigned to team %d it has no option for", i, tm)
				}
				total += net[i][tm]
				count[tm]++
			}
		}
		for k := range caps {
			if count[k] > caps[k] {
				rt.Fatalf("team %d over capacity: %d > %d", k, count[k], caps[k])
			}
		}
		if want := bruteAssign(caps, net); math.Abs(total-want) > 1e-9 {
			rt.Fatalf("assignment total %v, optimum %v", total, want)
		}
	})
}

// TestPlanQueueProperties: the queue stays within every team's capacity, gives each case at most
// one contact, and every queued contact is allowed by Decide at its planned time, even when
// shifts run past 22:00 and debtors already had their 3 answered calls that day.
func TestPlanQueueProperties(t *testing.T) {
	zone := time.FixedZone("", 8*3600)
	day := date.Of(2026, 3, 2)
	rapid.Check(t, func(rt *rapid.T) {
		s := &Strategy{Name: "p", Pack: PackCN, Offset: 8 * 3600, MinGapDays: 1, MaxDiscount: 0.6,
			Channels: map[Channel]money.Amount{ChannelCall: money.New(300, money.CNY), ChannelSMS: money.New(10, money.CNY), ChannelVisit: money.New(12000, money.CNY)}}
		nt := rapid.IntRange(1, 3).Draw(rt, "teams")
		for k := 0; k < nt; k++ {
			chs := rapid.SliceOfNDistinct(rapid.SampledFrom([]Channel{ChannelCall, ChannelSMS, ChannelVisit}), 1, 3, func(c Channel) Channel { return c }).Draw(rt, "chs")
			startH := rapid.IntRange(6, 20).Draw(rt, "start")
			endH := rapid.IntRange(startH+1, 24).Draw(rt, "end")
			s.Teams = append(s.Teams, Team{Name: fmt.Sprint("t", k), Channels: chs, Capacity: rapid.IntRange(1, 6).Draw(rt, "cap"), Agents: 2,
				ShiftStart: time.Duration(startH) * time.Hour, ShiftEnd: time.Duration(endH) * time.Hour})
		}
		n := rapid.IntRange(0, 25).Draw(rt, "cases")
		cases := make([]QueueCase, n)
		for i := range cases {
			c := &cases[i]
			c.CaseID, c.DebtorID, c.DebtID, c.Number = fmt.Sprint("case", i), fmt.Sprint("d", i), fmt.Sprint("L", i), fmt.Sprint("1380000", i)
			for k := range c.Value {
				c.Value[k] = math.NaN()
				if rapid.Bool().Draw(rt, "cand") {
					c.Value[k] = rapid.Float64Range(0, 300).Draw(rt, "val")
				}
			}
			answered := rapid.IntRange(0, 4).Draw(rt, "answered")
			for a := 0; a < answered; a++ {
				c.History = append(c.History, Contact{ID: fmt.Sprint(i, "h", a), DebtorID: c.DebtorID, DebtID: c.DebtID, Channel: ChannelCall,
					Party: PartyDebtor, Number: c.Number, At: time.Date(2026, 3, 2, 8, a, 0, 0, zone), Outcome: OutcomeAnswered})
			}
			c.State.DoNotContact = rapid.IntRange(0, 9).Draw(rt, "dnc") == 0
		}
		q, err := PlanQueue(s, day, cases, nil)
		if err != nil {
			rt.Fatal(err)
		}
		per := map[string]int{}
		seen := map[int]bool{}
		for _, it := range q.Items {
			per[it.Team]++
			if seen[it.Case] {
				rt.Fatalf("case %d queued twice", it.Case)
			}
			seen[it.Case] = true
			if d := Decide(s.Pack, cases[it.Case].State, cases[it.Case].History, it.Contact); !d.Allowed {
				rt.Fatalf("queued contact %+v refused: %v", it.Contact, d.Violations)
			}
			if v := cases[it.Case].Value[ChannelIndex(it.Channel)]; math.IsNaN(v) || v <= s.Cost(it.Channel).Float() {
				rt.Fatalf("queued a channel that is no candidate")
			}
		}
		for _, tm := range s.Teams {
			if per[tm.Name] > tm.Capacity {
				rt.Fatalf("team %s: %d contacts over capacity %d", tm.Name, per[tm.Name], tm.Capacity)
			}
		}
	})
}

func TestPlanQueueDropsRefused(t *testing.T) {
	s := &Strategy{Name: "late", Pack: PackCN, Offset: 8 * 3600, MinGapDays: 1,
		Channels: map[Channel]money.Amount{ChannelCall: money.New(100, money.CNY)},
		Teams:    []Team{{Name: "night", Channels: []Channel{ChannelCall}, Capacity: 2, Agents: 1, ShiftStart: 21 * time.Hour, ShiftEnd: 23 * time.Hour}}}
	cases := make([]QueueCase, 3)
	for i := range cases {
		cases[i] = QueueCase{CaseID: fmt.Sprint(i), DebtorID: fmt.Sprint("d", i), Number: fmt.Sprint("n", i)}
		for k := range cases[i].Value {
			cases[i].Value[k] = math.NaN()
		}
		cases[i].Value[ChannelIndex(ChannelCall)] = float64(10 + i)
	}
	q, err := PlanQueue(s, date.Of(2026, 3, 2), cases, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two slots: 21:00 and 22:00; the 22:00 one is refused (CN-1) each round.
	if len(q.Items) != 1 || q.Items[0].At.Hour() != 21 || len(q.Dropped) == 0 || q.Dropped[0].Violations[0].Rule != RuleCN1 {
		t.Fatalf("items %+v dropped %+v", q.Items, q.Dropped)
	}
	if q.Items[0].CaseID != "2" {
		t.Errorf("the most valuable case should be kept, got %s", q.Items[0].CaseID)
	}
}

func TestNextBestAction(t *testing.T) {
	s := DefaultStrategy()
	var v [NumChannels]float64
	for k := range v {
		v[k] = math.NaN()
	}
	v[ChannelIndex(ChannelCall)] = 9    // net 6, ratio 2
	v[ChannelIndex(ChannelSMS)] = 0.5   // net 0.4, ratio 4
	v[ChannelIndex(ChannelVisit)] = 500 // net 380, ratio 3.17
	a, ok := NextBestAction(s, v)
	if !ok || a.Channel != ChannelSMS || math.Abs(a.NetPerCost-4) > 1e-9 {
		t.Fatalf("got %+v %v, want sms at 4 per yuan", a, ok)
	}
	v[ChannelIndex(ChannelSMS)] = 0.05
	if a, _ := NextBestAction(s, v); a.Channel != ChannelVisit {
		t.Errorf("got %+v, want visit", a)
	}
	for k := range v {
		v[k] = 0
	}
	if _, ok := NextBestAction(s, v); ok {
		t.Errorf("no channel pays its cost: want no action")
	}
}
