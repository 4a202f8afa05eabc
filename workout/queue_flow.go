package workout

import "math"

// The exact solver of the daily queue's assignment: successive longest augmenting paths for the
// transportation problem "cases (one contact each) to teams (up to their capacity) or to no
// contact (any number)". Cases are added one at a time; each addition augments along the path
// of largest gain in the residual graph, whose nodes are the teams and "no contact" (K+1 nodes,
// so the path is found by Bellman-Ford over them): the new case enters a team, displacing a case
// of that team to another team, and so on, until the chain ends at a team with a free slot or
// at "no contact". The edge t -> u weighs the best gain of moving one case now in t to u, kept in
// a lazy max-heap per ordered pair. Adding a unit of supply along a longest path keeps the
// solution optimal (no positive cycle appears in the residual graph), so after the last case the
// assignment is optimal: no other assignment within the capacities has a larger total net.

type flowEntry struct {
	key float64
	cse int32
	ver uint32
}

type flowHeap []flowEntry // max-heap by key, ties to the smaller case index

func (h flowHeap) less(a, b int) bool {
	if h[a].key != h[b].key {
		return h[a].key > h[b].key
	}
	return h[a].cse < h[b].cse
}

func (h *flowHeap) push(e flowEntry) {
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

func (h *flowHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	i := 0
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
}

type flowSolver struct {
	K        int // teams; node K is "no contact"
	caps     []int
	count    []int
	start    []int32
	optTeam  []int32
	optNet   []float64
	excluded []bool
	where    []int32 // node of each case, -1 not yet added
	ver      []uint32
	heaps    [][]flowHeap // heaps[t][u]
	moves    int
	dist     []float64 // Bellman-Ford scratch, one per node
	pred     []int
	who      []int32
}

// gain is case i's net at node t (0 for no contact, -Inf when t is not an option).
func (f *flowSolver) gain(i int32, t int) float64 {
	if t == f.K {
		return 0
	}
	for k := f.start[i]; k < f.start[i+1]; k++ {
		if int(f.optTeam[k]) == t && !f.excluded[k] {
			return f.optNet[k]
		}
	}
	return math.Inf(-1)
}

func (f *flowSolver) place(i int32, t int) {
	if old := f.where[i]; old >= 0 && int(old) < f.K {
		f.count[old]--
	}
	f.where[i] = int32(t)
	f.ver[i]++
	if t < f.K {
		f.count[t]++
	}
	gt := f.gain(i, t)
	for u := 0; u <= f.K; u++ {
		if u == t {
			continue
		}
		gu := f.gain(i, u)
		if math.IsInf(gu, -1) {
			continue
		}
		f.heaps[t][u].push(flowEntry{key: gu - gt, cse: i, ver: f.ver[i]})
	}
}

// top returns the best valid entry of heap (t, u), dropping stale ones.
func (f *flowSolver) top(t, u int) (flowEntry, bool) {
	h := &f.heaps[t][u]
	for len(*h) > 0 {
		e := (*h)[0]
		if f.where[e.cse] == int32(t) && f.ver[e.cse] == e.ver {
			return e, true
		}
		h.pop()
	}
	return flowEntry{}, false
}

const flowTol = 1e-9

func (f *flowSolver) add(i int32) {
	n := f.K + 1
	dist, pred, who := f.dist, f.pred, f.who
	for u := 0; u < n; u++ {
		dist[u], pred[u] = f.gain(i, u), -1
	}
	for it := 0; it < n; it++ {
		changed := false
		for t := 0; t < n; t++ {
			if math.IsInf(dist[t], -1) {
				continue
			}
			for u := 0; u < n; u++ {
				if u == t {
					continue
				}
				e, ok := f.top(t, u)
				if !ok || e.cse == i {
					continue
				}
				if d := dist[t] + e.key; d > dist[u]+flowTol {
					dist[u], pred[u], who[u] = d, t, e.cse
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	end, best := f.K, dist[f.K]
	for t := 0; t < f.K; t++ {
		if f.count[t] < f.caps[t] && dist[t] > best+flowTol {
			end, best = t, dist[t]
		}
	}
	// Walk the path back from its end: each edge moves one case; the first node takes i.
	u := end
	for steps := 0; pred[u] >= 0 && steps <= n; steps++ {
		t := pred[u]
		f.place(who[u], u)
		f.moves++
		u = t
	}
	f.place(i, u)
}

// solveAssignment returns the node of every case (a team index, or -1 for no contact) in an
// optimal assignment, adding the cases in the given order.
func solveAssignment(caps []int, start []int32, optTeam []int32, optNet []float64, excluded []bool, order []int32) ([]int32, int) {
	K := len(caps)
	n := len(start) - 1
	f := &flowSolver{K: K, caps: caps, count: make([]int, K), start: start, optTeam: optTeam, optNet: optNet,
		excluded: excluded, where: make([]int32, n), ver: make([]uint32, n), heaps: make([][]flowHeap, K+1),
		dist: make([]float64, K+1), pred: make([]int, K+1), who: make([]int32, K+1)}
	for t := range f.heaps {
		f.heaps[t] = make([]flowHeap, K+1)
	}
	for i := range f.where {
		f.where[i] = -1
	}
	for _, i := range order {
		f.add(i)
	}
	out := make([]int32, n)
	for i, w := range f.where {
		if int(w) == K {
			w = -1
		}
		out[i] = w
	}
	return out, f.moves
}
