package workout

import (
	"fmt"
	"math"
	"time"

	"reclaim"
	"reclaim/date"
)

// The daily work queue: which team contacts which case on which channel today, within every
// team's capacity, maximising the total expected net recovery (expected recovery the contact
// adds minus its cost). It is a capacitated assignment (a transportation problem: cases supply
// one contact each, teams take up to their capacity, "no contact" takes any number), solved by
// Bertsekas' auction algorithm for similar objects (docs/strategy.md): every assignment it returns
// satisfies epsilon-complementary slackness, so its total is within (contacts assigned) × Epsilon
// of the optimum, and the queue also reports the dual bound it proves (Queue.Dual >= optimum >=
// Queue.Primal). Every planned contact is then put to Decide at its planned time; a refused one is
// excluded and the assignment re-solved, so the queue only ever proposes allowed contacts.

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
	// Primal is the total Net of Items; Dual the dual bound the final prices prove: no
	// assignment within the capacities has a larger total. Dual - Primal <= len(Items) × Epsilon.
	Primal, Dual float64
	Epsilon      float64
	Bids         int         // auction bids made (all rounds)
	Rounds       int         // assignments solved (1 + re-solves after refusals)
	Dropped      []QueueDrop // refused at the planned time
	PerTeam      []int       // items per team, in strategy order
}

// DefaultEpsilon is the auction's bid increment (yuan) when PlanQueue is given none.
const DefaultEpsilon = 0.01

// PlanQueue builds the work queue of day for cases under strategy s. Each case gets at most one
// contact; team t gets at most s.Teams[t].Capacity; a contact on channel ch is a candidate only
// when Value for ch exceeds its cost. eps is the auction's increment (<= 0: DefaultEpsilon). The
// result is deterministic in its inputs. An unknown pack in s refuses every contact (Decide fails
// closed), which yields an empty queue, not an error; a nil strategy or a NaN/Inf cost is EINVALID.
func PlanQueue(s *Strategy, day date.Date, cases []QueueCase, eps float64) (*Queue, error) {
	if s == nil || len(s.Teams) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "queue: a strategy with at least one team is required")
	}
	if eps <= 0 || math.IsNaN(eps) {
		eps = DefaultEpsilon
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
	excluded := map[[2]int]bool{} // (case, team) refused by Decide
	zone := time.FixedZone("", s.Offset)
	q := &Queue{Day: day, Epsilon: eps}
	for {
		q.Rounds++
		au := newAuction(s, n, func(i int, yield func(t int, net float64)) {
			for _, o := range opts[start[i]:start[i+1]] {
				if !excluded[[2]int{i, o.team}] {
					yield(o.team, o.net)
				}
			}
		}, eps)
		au.run()
		q.Bids += au.bids
		// Planned times: each team's contacts spread evenly over its shift, in case order.
		byTeam := make([][]int, K)
		for i := 0; i < n; i++ {
			if t := au.assigned[i]; t >= 0 {
				byTeam[t] = append(byTeam[t], i)
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
				d := Decide(s.Pack, cases[i].State, cases[i].History, c)
				if !d.Allowed {
					excluded[[2]int{i, t}] = true
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
			q.Primal, q.Dual = au.primal(), au.dual()
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
			q.Dual = math.NaN()
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

// auction is the state of one auction run: slots of team t are priced by the bids holding
// them (a free slot costs 0).
type auction struct {
	caps     []int
	heaps    []bidHeap // per team: the bids holding its filled slots (min-heap)
	assigned []int     // team of each case, -1 for none
	bid      []float64 // each case's winning bid
	net      []float64 // each case's net at its team
	options  func(i int, yield func(t int, net float64))
	eps      float64
	bids     int
}

type bidEntry struct {
	bid  float64
	cse  int
	next int // tie-break: later bids evicted first among equals (stable)
}

type bidHeap []bidEntry

func (h bidHeap) less(a, b int) bool {
	if h[a].bid != h[b].bid {
		return h[a].bid < h[b].bid
	}
	return h[a].cse > h[b].cse
}

func (h *bidHeap) push(e bidEntry) {
	*h = append(*h, e)
	i := len(*h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		(*h)[i], (*h)[p] = (*h)[p], (*h)[i]
		i = p
	}
}

func (h *bidHeap) popPush(e bidEntry) bidEntry {
	old := (*h)[0]
	(*h)[0] = e
	i, n := 0, len(*h)
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		(*h)[i], (*h)[m] = (*h)[m], (*h)[i]
		i = m
	}
	return old
}

func newAuction(s *Strategy, n int, options func(int, func(int, float64)), eps float64) *auction {
	a := &auction{caps: make([]int, len(s.Teams)), heaps: make([]bidHeap, len(s.Teams)), assigned: make([]int, n),
		bid: make([]float64, n), net: make([]float64, n), options: options, eps: eps}
	for t, tm := range s.Teams {
		a.caps[t] = tm.Capacity
	}
	for i := range a.assigned {
		a.assigned[i] = -1
	}
	return a
}

// price is the cheapest slot of team t (0 while a slot is free); second the next cheapest
// (+Inf when the team has a single slot).
func (a *auction) price(t int) (first, second float64) {
	h := a.heaps[t]
	free := a.caps[t] - len(h)
	switch {
	case free >= 2:
		return 0, 0
	case free == 1:
		if len(h) == 0 {
			return 0, math.Inf(1)
		}
		return 0, h[0].bid
	default:
		second = math.Inf(1)
		if len(h) > 1 {
			second = h[1].bid
		}
		if len(h) > 2 && h[2].bid < second {
			second = h[2].bid
		}
		return h[0].bid, second
	}
}

func (a *auction) run() {
	n := len(a.assigned)
	queue := make([]int, 0, n)
	for i := n - 1; i >= 0; i-- {
		queue = append(queue, i)
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		bestT, bestNet, v1 := -1, 0.0, 0.0 // the null option is worth 0
		a.options(i, func(t int, net float64) {
			p1, _ := a.price(t)
			if v := net - p1; v > v1 {
				v1, bestT, bestNet = v, t, net
			}
		})
		if bestT < 0 {
			continue // no contact is at least as good
		}
		v2 := 0.0 // the best of everything else: no contact, another team, the best team's next slot
		a.options(i, func(t int, net float64) {
			p1, p2 := a.price(t)
			v := net - p1
			if t == bestT {
				v = net - p2
			}
			if v > v2 {
				v2 = v
			}
		})
		p1, _ := a.price(bestT)
		b := p1 + (v1 - v2) + a.eps
		a.bids++
		e := bidEntry{bid: b, cse: i}
		if len(a.heaps[bestT]) < a.caps[bestT] {
			a.heaps[bestT].push(e)
		} else {
			old := a.heaps[bestT].popPush(e)
			a.assigned[old.cse] = -1
			queue = append(queue, old.cse)
		}
		a.assigned[i], a.bid[i], a.net[i] = bestT, b, bestNet
	}
}

func (a *auction) primal() float64 {
	s := 0.0
	for i, t := range a.assigned {
		if t >= 0 {
			s += a.net[i]
		}
	}
	return s
}

// dual is the value of the dual solution given by the final prices (each team priced at its
// cheapest slot): capacity × price summed over teams plus each case's best surplus at those
// prices (0 for no contact). By weak duality it
// bounds every feasible assignment's total from above.
func (a *auction) dual() float64 {
	d := 0.0
	for t := range a.heaps {
		p1, _ := a.price(t)
		d += float64(a.caps[t]) * p1
	}
	for i := range a.assigned {
		best := 0.0
		a.options(i, func(t int, net float64) {
			p1, _ := a.price(t)
			if v := net - p1; v > best {
				best = v
			}
		})
		d += best
	}
	return d
}
