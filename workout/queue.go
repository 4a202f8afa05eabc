package workout

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"reclaim"
	"reclaim/date"
)

// The daily work queue: which team contacts which case on which channel today, within every
// team's capacity, maximising the total expected net recovery (expected recovery the contact
// adds minus its cost). It is a capacitated assignment (a transportation problem: cases supply
// one contact each, teams take up to their capacity, "no contact" takes any number), solved
// exactly by successive longest augmenting paths (queue_flow.go, docs/strategy.md). Every planned
// contact is then put to Decide at its planned time; a refused (case, team) pair is excluded and
// the assignment re-solved, so the queue only ever proposes allowed contacts.

// NumChannels is the number of Channel values; ChannelIndex maps them to 0..NumChannels-1.
const NumChannels = 5

// AllChannels lists the channels in ChannelIndex order.
var AllChannels = [NumChannels]Channel{ChannelCall, ChannelSMS, ChannelVisit, ChannelLetter, ChannelEmail}

// ChannelIndex returns ch's position in AllChannels, or -1 for an unknown channel.
func ChannelIndex(ch Channel) int {
	for i, c := range AllChannels {
		if c == ch {
			return i
		}
	}
	return -1
}

// QueueCase is one case the queue may contact today.
type QueueCase struct {
	CaseID   string
	DebtorID string
	DebtID   string // the debt a contact is about (US-1 counts per debt)
	Number   string // the debtor's number for calls and SMS
	// Value[ChannelIndex(ch)] is the expected recovery (yuan) a contact on ch adds today; NaN, or
	// not above the channel's cost, makes ch no candidate for this case.
	Value [NumChannels]float64
	// State and History are what Decide needs: the debtor's live state and the earlier contacts
	// that share the case's debtor, debt or number (docs/compliance.md, "One rule function").
	State   DebtorState
	History []Contact
	// Teams, when not nil, names the only teams that may take the case (the live queue gives a
	// collector only the cases assigned to it and an agency only the cases placed with it); nil
	// lets every team take it.
	Teams []string
}

// QueueItem is one planned contact.
type QueueItem struct {
	Case    int // index into the cases given to PlanQueue
	CaseID  string
	Team    string
	Agency  string
	Agent   string
	Channel Channel
	At      time.Time // planned time, in the strategy's offset
	Value   float64   // expected recovery added (yuan)
	Net     float64   // Value minus the channel's cost
	// Contact is the contact as put to Decide (without an outcome).
	Contact Contact
}

// QueueDrop is an assignment Decide refused at its planned time (it was excluded and the
// assignment re-solved).
type QueueDrop struct {
	CaseID     string
	Team       string
	Channel    Channel
	At         time.Time
	Violations []Violation
}

// Queue is a day's work queue.
type Queue struct {
	Day   date.Date
	Items []QueueItem // by team (strategy order), then planned time
	// Primal is the total Net of Items: the optimum of the assignment (without the cases and
	// teams Decide refused, when Rounds > 1).
	Primal  float64
	Moves   int         // cases moved along augmenting paths (all rounds)
	Rounds  int         // assignments solved (1 + re-solves after refusals)
	Dropped []QueueDrop // refused at the planned time
	PerTeam []int       // items per team, in strategy order
}

// PlanQueue builds the work queue of day for cases under strategy s. Each case gets at most one
// contact; team t gets at most s.Teams[t].Capacity; a contact on channel ch is a candidate only
// when Value for ch exceeds its cost. The
// result is deterministic in its inputs. An unknown pack in s refuses every contact (Decide fails
// closed), which yields an empty queue, not an error; a nil strategy or a NaN/Inf cost is EINVALID.
//
// lookup, when not nil, supplies case i's DebtorState and history for Decide instead of the
// case's State and History fields (so a caller with many cases builds histories only for the
// few it is asked about).
func PlanQueue(s *Strategy, day date.Date, cases []QueueCase, lookup func(i int) (DebtorState, []Contact)) (*Queue, error) {
	if s == nil || len(s.Teams) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "queue: a strategy with at least one team is required")
	}
	K := len(s.Teams)
	cost := [NumChannels]float64{}
	for i, ch := range AllChannels {
		cost[i] = s.Cost(ch).Float()
	}
	// Each case's best channel and net per team.
	type opt struct {
		team int
		ch   int
		net  float64
	}
	n := len(cases)
	start := make([]int32, n+1)
	var opts []opt
	for i := range cases {
		start[i] = int32(len(opts))
		for t, tm := range s.Teams {
			if cases[i].Teams != nil && !slices.Contains(cases[i].Teams, tm.Name) {
				continue
			}
			best, bestNet := -1, 0.0
			for _, ch := range tm.Channels {
				ci := ChannelIndex(ch)
				v := cases[i].Value[ci]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				if net := v - cost[ci]; net > bestNet {
					best, bestNet = ci, net
				}
			}
			if best >= 0 {
				opts = append(opts, opt{t, best, bestNet})
			}
		}
	}
	start[n] = int32(len(opts))
	optTeam := make([]int32, len(opts))
	optNet := make([]float64, len(opts))
	for k, o := range opts {
		optTeam[k], optNet[k] = int32(o.team), o.net
	}
	excluded := make([]bool, len(opts)) // (case, team) refused by Decide
	// Cases are added in order of their best net (largest first, ties by index): the valuable
	// cases take the slots early and few are displaced later.
	order := make([]int32, n)
	best := make([]float64, n)
	for i := range order {
		order[i] = int32(i)
		for k := start[i]; k < start[i+1]; k++ {
			best[i] = math.Max(best[i], opts[k].net)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return best[order[a]] > best[order[b]] })
	zone := time.FixedZone("", s.Offset)
	q := &Queue{Day: day}
	caps := make([]int, K)
	for t, tm := range s.Teams {
		caps[t] = tm.Capacity
	}
	for {
		q.Rounds++
		assigned, moves := solveAssignment(caps, start, optTeam, optNet, excluded, order)
		q.Moves += moves
		// Planned times: each team's contacts spread evenly over its shift.
		// The most valuable cases get the earliest slots of their team's shift.
		byTeam := make([][]int, K)
		for _, i := range order {
			if t := assigned[i]; t >= 0 {
				byTeam[t] = append(byTeam[t], int(i))
			}
		}
		items := q.Items[:0]
		refused := false
		for t, tm := range s.Teams {
			m := len(byTeam[t])
			for k, i := range byTeam[t] {
				var o opt
				for _, x := range opts[start[i]:start[i+1]] {
					if x.team == t {
						o = x
					}
				}
				span := tm.ShiftEnd - tm.ShiftStart
				at := day.Time().Add(-time.Duration(s.Offset) * time.Second).In(zone).
					Add(tm.ShiftStart + time.Duration(int64(span)*int64(k)/int64(m)).Truncate(time.Second))
				agent := fmt.Sprintf("%s-%02d", tm.Name, k%tm.Agents+1)
				ch := AllChannels[o.ch]
				c := Contact{ID: fmt.Sprintf("%s/%s/%d", day, tm.Name, k+1), DebtorID: cases[i].DebtorID, DebtID: cases[i].DebtID,
					Channel: ch, Party: PartyDebtor, At: at, Agent: agent, Agency: tm.Agency}
				if ch == ChannelCall || ch == ChannelSMS {
					c.Number = cases[i].Number
				}
				st, hist := cases[i].State, cases[i].History
				if lookup != nil {
					st, hist = lookup(i)
				}
				d := Decide(s.Pack, st, hist, c)
				if !d.Allowed {
					for k := start[i]; k < start[i+1]; k++ {
						if opts[k].team == t {
							excluded[k] = true
						}
					}
					q.Dropped = append(q.Dropped, QueueDrop{CaseID: cases[i].CaseID, Team: tm.Name, Channel: ch, At: at, Violations: d.Violations})
					refused = true
					continue
				}
				items = append(items, QueueItem{Case: i, CaseID: cases[i].CaseID, Team: tm.Name, Agency: tm.Agency, Agent: agent,
					Channel: ch, At: at, Value: o.net + cost[o.ch], Net: o.net, Contact: c})
			}
		}
		q.Items = items
		if !refused {
			for _, it := range q.Items {
				q.Primal += it.Net
			}
			q.PerTeam = make([]int, K)
			for _, it := range q.Items {
				for t, tm := range s.Teams {
					if tm.Name == it.Team {
						q.PerTeam[t]++
					}
				}
			}
			return q, nil
		}
		if q.Rounds > 50 {
			// Keep only the allowed items of the last round (capacity may go unused).
			q.Primal = 0
			for _, it := range q.Items {
				q.Primal += it.Net
			}
			q.PerTeam = make([]int, K)
			for _, it := range q.Items {
				for t, tm := range s.Teams {
					if tm.Name == it.Team {
						q.PerTeam[t]++
					}
				}
			}
			return q, nil
		}
	}
}
