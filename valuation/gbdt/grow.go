package gbdt

import (
	"cmp"
	"math"
	"slices"
)

// Task sizes. They are fixed (never derived from the thread count) so that every floating-point
// sum is taken in the same order whatever Threads is.
const (
	histBlock = 1 << 15 // rows per histogram task; a node with more rows sums per-block partials
	partBlock = 1 << 15 // rows per partition task
	mergeBins = 4096    // bins per histogram merge task
	minGain   = 1e-10   // a split must reduce the loss by more than this (and by more than Gamma)
)

// split is the best split found for a node.
type split struct {
	ok          bool
	feature     int
	gain        float64
	thr         int       // numeric: value bins 1..thr go left
	set         [4]uint64 // categorical: bins going left
	defaultLeft bool
	lg, lh      float64
	rg, rh      float64
	lw, rw      float64 // constrained, unscaled child weights
}

// bnode is a node of the tree being grown; rows idx[begin:end] reach it.
type bnode struct {
	begin, end   int
	g, h         float64
	lower, upper float64 // monotone bounds on the unscaled weight
	depth        int
	hist         []gh
	split        split
	nLeft        int
	left, right  int       // builder indices; -1 for a leaf
	goLeft       [4]uint64 // bins sent left, for internal nodes
	value        float64   // leaf value, scaled by the learning rate
}

// grower grows one tree at a time over a binned training set.
type grower struct {
	p       Params
	F       int
	fbs     []featureBins
	offs    []int32 // offs[f] is feature f's first histogram slot; len F+1
	bins    []uint8 // row-major, F per row: histograms read whole rows
	cols    []uint8 // column-major, n per feature: partitions read one feature
	n       int
	grad    []gh
	idx     []int32 // rows of the current tree, partitioned node by node
	tmp     []int32
	mono    []int8
	threads int
	pool    [][]gh
	feats   []int // features this tree may split on, ascending
	nodes   []bnode
}

func newGrower(p Params, fbs []featureBins, bins []uint8, rows int, features []Feature, threads int) *grower {
	gr := &grower{p: p, F: len(fbs), fbs: fbs, bins: bins, threads: threads, n: rows}
	gr.cols = make([]uint8, len(bins))
	const block = 4096
	F := len(fbs)
	parallelFor(threads, (rows+block-1)/block, func(t int) {
		lo, hi := t*block, min(rows, (t+1)*block)
		for f := range F {
			col := gr.cols[f*rows:][lo:hi]
			for i := range col {
				col[i] = bins[(lo+i)*F+f]
			}
		}
	})
	gr.offs = make([]int32, len(fbs)+1)
	for f := range fbs {
		gr.offs[f+1] = gr.offs[f] + int32(fbs[f].nbins)
	}
	gr.grad = make([]gh, rows)
	gr.idx = make([]int32, rows)
	gr.tmp = make([]int32, rows)
	gr.mono = make([]int8, len(features))
	for f, ft := range features {
		gr.mono[f] = ft.Monotone
	}
	return gr
}

func (gr *grower) getHist() []gh {
	if n := len(gr.pool); n > 0 {
		h := gr.pool[n-1]
		gr.pool = gr.pool[:n-1]
		return h
	}
	return make([]gh, gr.offs[gr.F])
}

func (gr *grower) putHist(h []gh) {
	if h != nil {
		gr.pool = append(gr.pool, h)
	}
}

func leafWeight(g, h, lambda, lo, hi float64) float64 {
	w := 0.0
	if d := h + lambda; d > 0 {
		w = -g / d
	}
	return min(max(w, lo), hi)
}

// gainOf is the loss reduction of giving a node with sums g, h the weight w (twice the
// second-order objective).
func gainOf(g, h, lambda, w float64) float64 { return -(2*g*w + (h+lambda)*w*w) }

func (gr *grower) canSplit(nd *bnode) bool {
	return nd.depth < gr.p.MaxDepth && nd.end-nd.begin >= 2 && nd.h >= 2*gr.p.MinChildWeight && nd.h > 0
}

// grow grows a tree over the rows idx[:n] whose gradient sums are g, h.
func (gr *grower) grow(n int, g, h float64) {
	inf := math.Inf(1)
	gr.nodes = append(gr.nodes[:0], bnode{end: n, g: g, h: h, lower: -inf, upper: inf, left: -1, right: -1})
	if !gr.canSplit(&gr.nodes[0]) {
		gr.finishLeaves()
		return
	}
	level := []int{0}
	gr.buildHists(level)
	for len(level) > 0 {
		gr.findSplits(level)
		var splitting []int
		for _, id := range level {
			if gr.nodes[id].split.ok {
				splitting = append(splitting, id)
			} else {
				gr.putHist(gr.nodes[id].hist)
				gr.nodes[id].hist = nil
			}
		}
		if len(splitting) == 0 {
			break
		}
		gr.partition(splitting)
		var next, build []int
		type pair struct{ large, small, parent int }
		var subs []pair
		for _, id := range splitting {
			nd := gr.nodes[id]
			s := nd.split
			lL, uL, lR, uR := nd.lower, nd.upper, nd.lower, nd.upper
			if m := gr.mono[s.feature]; m != 0 {
				mid := (s.lw + s.rw) / 2
				if m > 0 {
					uL, lR = mid, mid
				} else {
					lL, uR = mid, mid
				}
			}
			li, ri := len(gr.nodes), len(gr.nodes)+1
			gr.nodes = append(gr.nodes,
				bnode{begin: nd.begin, end: nd.begin + nd.nLeft, g: s.lg, h: s.lh, lower: lL, upper: uL, depth: nd.depth + 1, left: -1, right: -1},
				bnode{begin: nd.begin + nd.nLeft, end: nd.end, g: s.rg, h: s.rh, lower: lR, upper: uR, depth: nd.depth + 1, left: -1, right: -1})
			gr.nodes[id].left, gr.nodes[id].right = li, ri
			needL, needR := gr.canSplit(&gr.nodes[li]), gr.canSplit(&gr.nodes[ri])
			small, large := li, ri
			if nd.end-nd.begin-nd.nLeft < nd.nLeft {
				small, large = ri, li
			}
			needSmall := needL
			needLarge := needR
			if small == ri {
				needSmall, needLarge = needR, needL
			}
			if needL {
				next = append(next, li)
			}
			if needR {
				next = append(next, ri)
			}
			if needLarge {
				build = append(build, small)
				subs = append(subs, pair{large, small, id})
			} else if needSmall {
				build = append(build, small)
			}
			if !needLarge {
				gr.putHist(gr.nodes[id].hist)
				gr.nodes[id].hist = nil
			}
		}
		gr.buildHists(build)
		parallelFor(gr.threads, len(subs), func(i int) {
			s := subs[i]
			ph, sh := gr.nodes[s.parent].hist, gr.nodes[s.small].hist
			sh = sh[:len(ph)]
			for k := range ph {
				ph[k].g -= sh[k].g
				ph[k].h -= sh[k].h
			}
		})
		for _, s := range subs {
			gr.nodes[s.large].hist = gr.nodes[s.parent].hist
			gr.nodes[s.parent].hist = nil
		}
		// Small children that cannot split themselves were built only for the subtraction.
		for _, id := range build {
			if !gr.canSplit(&gr.nodes[id]) {
				gr.putHist(gr.nodes[id].hist)
				gr.nodes[id].hist = nil
			}
		}
		level = next
	}
	for i := range gr.nodes {
		gr.putHist(gr.nodes[i].hist)
		gr.nodes[i].hist = nil
	}
	gr.finishLeaves()
}

// finishLeaves sets the value of every leaf.
func (gr *grower) finishLeaves() {
	for i := range gr.nodes {
		nd := &gr.nodes[i]
		if nd.left < 0 {
			nd.value = leafWeight(nd.g, nd.h, gr.p.Lambda, nd.lower, nd.upper) * gr.p.LearningRate
		}
	}
}

// histKernel adds the gradient pairs of rows into hist. Two rows at a time give the CPU two
// independent chains of read-modify-writes.
func histKernel(hist []gh, rows []int32, bins []uint8, grad []gh, offs []int32) {
	F := len(offs)
	i := 0
	for ; i+1 < len(rows); i += 2 {
		r0, r1 := rows[i], rows[i+1]
		g0, g1 := grad[r0], grad[r1]
		row0 := bins[int(r0)*F:][:F]
		row1 := bins[int(r1)*F:][:F]
		for f, b0 := range row0 {
			o := int(offs[f])
			k0 := o + int(b0)
			k1 := o + int(row1[f])
			hist[k0].g += g0.g
			hist[k0].h += g0.h
			hist[k1].g += g1.g
			hist[k1].h += g1.h
		}
	}
	for ; i < len(rows); i++ {
		r := rows[i]
		g := grad[r]
		row := bins[int(r)*F:][:F]
		for f, b := range row {
			k := int(offs[f]) + int(b)
			hist[k].g += g.g
			hist[k].h += g.h
		}
	}
}

// buildHists builds the histograms of the given nodes from their rows: one task per block of
// histBlock rows, then per-node merges of the block partials in block order.
func (gr *grower) buildHists(ids []int) {
	if len(ids) == 0 {
		return
	}
	type task struct {
		node   int
		lo, hi int
		dst    []gh
	}
	var tasks []task
	type merge struct {
		node  int
		parts [][]gh
	}
	var merges []merge
	for _, id := range ids {
		nd := &gr.nodes[id]
		n := nd.end - nd.begin
		nb := max(1, (n+histBlock-1)/histBlock)
		nd.hist = gr.getHist()
		if nb == 1 {
			tasks = append(tasks, task{id, nd.begin, nd.end, nd.hist})
			continue
		}
		m := merge{node: id, parts: [][]gh{nd.hist}}
		tasks = append(tasks, task{id, nd.begin, nd.begin + histBlock, nd.hist})
		for b := 1; b < nb; b++ {
			h := gr.getHist()
			m.parts = append(m.parts, h)
			tasks = append(tasks, task{id, nd.begin + b*histBlock, min(nd.end, nd.begin+(b+1)*histBlock), h})
		}
		merges = append(merges, m)
	}
	offs := gr.offs[:gr.F]
	parallelFor(gr.threads, len(tasks), func(i int) {
		t := tasks[i]
		clear(t.dst)
		histKernel(t.dst, gr.idx[t.lo:t.hi], gr.bins, gr.grad, offs)
	})
	if len(merges) == 0 {
		return
	}
	total := int(gr.offs[gr.F])
	chunks := (total + mergeBins - 1) / mergeBins
	parallelFor(gr.threads, len(merges)*chunks, func(i int) {
		m := merges[i/chunks]
		lo := (i % chunks) * mergeBins
		hi := min(total, lo+mergeBins)
		dst := m.parts[0][lo:hi]
		for _, p := range m.parts[1:] {
			p = p[lo:hi]
			p = p[:len(dst)]
			for k := range dst {
				dst[k].g += p[k].g
				dst[k].h += p[k].h
			}
		}
	})
	for _, m := range merges {
		for _, p := range m.parts[1:] {
			gr.putHist(p)
		}
	}
}

// findSplits finds the best split of every node in ids over the tree's features.
func (gr *grower) findSplits(ids []int) {
	nf := len(gr.feats)
	res := make([]split, len(ids)*nf)
	parallelFor(gr.threads, len(res), func(i int) {
		nd := &gr.nodes[ids[i/nf]]
		f := gr.feats[i%nf]
		if gr.fbs[f].kind == Numeric {
			gr.scanNumeric(nd, f, &res[i])
		} else {
			gr.scanCategorical(nd, f, &res[i])
		}
	})
	for k, id := range ids {
		best := split{gain: math.Max(gr.p.Gamma, minGain)}
		for _, s := range res[k*nf : (k+1)*nf] {
			if s.ok && s.gain > best.gain {
				best = s
			}
		}
		gr.nodes[id].split = best
	}
}

// evaluator scores candidate splits of one node on one feature.
type evaluator struct {
	G, H, lambda, mcw float64
	lo, hi            float64
	mono              int8
	bounded           bool // monotone constraints apply: weights are clamped and compared
	parentGain        float64
}

func (gr *grower) evaluator(nd *bnode, f int) evaluator {
	e := evaluator{G: nd.g, H: nd.h, lambda: gr.p.Lambda, mcw: gr.p.MinChildWeight, lo: nd.lower, hi: nd.upper, mono: gr.mono[f]}
	e.bounded = e.mono != 0 || !math.IsInf(e.lo, -1) || !math.IsInf(e.hi, 1)
	e.parentGain = gainOf(nd.g, nd.h, e.lambda, leafWeight(nd.g, nd.h, e.lambda, e.lo, e.hi))
	return e
}

// record scores sending (lg, lh) left and the rest right, and keeps it in best when it is
// allowed (child weights, monotone constraint) and better than best. It reports whether it
// kept it.
func (e *evaluator) record(best *split, f int, lg, lh float64, dl bool) bool {
	rg, rh := e.G-lg, e.H-lh
	if lh < e.mcw || rh < e.mcw || lh <= 0 || rh <= 0 {
		return false
	}
	var gain, wl, wr float64
	if e.bounded {
		wl = leafWeight(lg, lh, e.lambda, e.lo, e.hi)
		wr = leafWeight(rg, rh, e.lambda, e.lo, e.hi)
		if (e.mono > 0 && wl > wr) || (e.mono < 0 && wl < wr) {
			return false
		}
		gain = 0.5 * (gainOf(lg, lh, e.lambda, wl) + gainOf(rg, rh, e.lambda, wr) - e.parentGain)
	} else {
		gain = 0.5 * (lg*lg/(lh+e.lambda) + rg*rg/(rh+e.lambda) - e.parentGain)
	}
	if best.ok && gain <= best.gain {
		return false
	}
	if !e.bounded {
		wl, wr = -lg/(lh+e.lambda), -rg/(rh+e.lambda)
	}
	*best = split{ok: true, feature: f, gain: gain, defaultLeft: dl, lg: lg, lh: lh, rg: rg, rh: rh, lw: wl, rw: wr}
	return true
}

func (gr *grower) scanNumeric(nd *bnode, f int, best *split) {
	h := nd.hist[gr.offs[f]:gr.offs[f+1]]
	e := gr.evaluator(nd, f)
	miss := h[0]
	hasMiss := miss.g != 0 || miss.h != 0
	k := len(h) - 1 // value bins 1..k
	var gl, hl float64
	for t := 1; t < k; t++ {
		gl += h[t].g
		hl += h[t].h
		if h[t].g == 0 && h[t].h == 0 {
			continue // same partition as the previous threshold
		}
		if e.record(best, f, gl, hl, false) {
			best.thr = t
		}
		if hasMiss && e.record(best, f, gl+miss.g, hl+miss.h, true) {
			best.thr = t
		}
	}
	if hasMiss { // every value left, missing right
		gl += h[k].g
		hl += h[k].h
		if e.record(best, f, gl, hl, false) {
			best.thr = k
		}
	}
	if best.ok {
		if !hasMiss {
			best.defaultLeft = best.lh >= best.rh
		}
		best.set = [4]uint64{}
	}
}

func (gr *grower) scanCategorical(nd *bnode, f int, best *split) {
	h := nd.hist[gr.offs[f]:gr.offs[f+1]]
	e := gr.evaluator(nd, f)
	miss := h[0]
	hasMiss := miss.g != 0 || miss.h != 0
	var buf [256]uint8
	var keys [256]float64
	cats := buf[:0]
	floor := 1e-10 * nd.h
	// A category with less support than this in the node has a mean gradient too noisy to rank
	// it: it is ranked as weight 0 and sides with its neighbours (Params.CatSupport).
	support := gr.p.CatSupport * gr.p.MinChildWeight
	for b := 1; b < len(h); b++ {
		if h[b].h > floor {
			if h[b].h >= support {
				keys[b] = h[b].g / (h[b].h + e.lambda)
			} else {
				keys[b] = 0
			}
			cats = append(cats, uint8(b))
		}
	}
	slices.SortStableFunc(cats, func(a, b uint8) int { return cmp.Compare(keys[a], keys[b]) })
	m := len(cats)
	bestK := -1
	var gl, hl float64
	for k, c := range cats {
		gl += h[c].g
		hl += h[c].h
		if k < m-1 {
			if e.record(best, f, gl, hl, false) {
				bestK = k
			}
			if hasMiss && e.record(best, f, gl+miss.g, hl+miss.h, true) {
				bestK = k
			}
		} else if hasMiss && e.record(best, f, gl, hl, false) {
			bestK = k
		}
	}
	if !best.ok {
		return
	}
	var set [4]uint64
	for _, c := range cats[:bestK+1] {
		set[c>>6] |= 1 << (c & 63)
	}
	if !hasMiss {
		best.defaultLeft = best.lh >= best.rh
	}
	// Unseen codes share the other bin and must go right, so the left set never holds it.
	if other := uint8(len(h) - 1); set[other>>6]>>(other&63)&1 == 1 {
		var flipped [4]uint64
		for _, c := range cats[bestK+1:] {
			flipped[c>>6] |= 1 << (c & 63)
		}
		set = flipped
		best.lg, best.rg = best.rg, best.lg
		best.lh, best.rh = best.rh, best.lh
		best.lw, best.rw = best.rw, best.lw
		best.defaultLeft = !best.defaultLeft
	}
	best.set = set
}

// leftTable is the set of bins a split sends left.
func (gr *grower) leftTable(s *split) [4]uint64 {
	var t [4]uint64
	if gr.fbs[s.feature].kind == Categorical {
		t = s.set
	} else {
		for b := 1; b <= s.thr; b++ {
			t[b>>6] |= 1 << (b & 63)
		}
	}
	if s.defaultLeft {
		t[0] |= 1
	}
	return t
}

// partition reorders every splitting node's rows so that the left child's rows come first,
// keeping row order within each side. Pass 1 splits each block of rows into gr.tmp without
// branches (left rows from the front, right rows from the back); pass 2 moves each block's
// parts to their final places.
func (gr *grower) partition(ids []int) {
	type task struct {
		node, lo, hi int
		nLeft        int
		l, r         int // destinations of the block's left and right rows
	}
	var tasks []task
	for _, id := range ids {
		nd := &gr.nodes[id]
		nd.goLeft = gr.leftTable(&nd.split)
		for lo := nd.begin; lo < nd.end; lo += partBlock {
			tasks = append(tasks, task{node: id, lo: lo, hi: min(nd.end, lo+partBlock)})
		}
	}
	parallelFor(gr.threads, len(tasks), func(i int) {
		t := &tasks[i]
		nd := &gr.nodes[t.node]
		tbl := nd.goLeft
		col := gr.cols[nd.split.feature*gr.n:][:gr.n]
		buf := gr.tmp[t.lo:t.hi]
		l, r := 0, len(buf)-1
		for _, row := range gr.idx[t.lo:t.hi] {
			b := col[row]
			d := int(tbl[b>>6] >> (b & 63) & 1)
			// Both ends of the free middle get the row; only one end advances.
			buf[l] = row
			buf[r] = row
			l += d
			r -= 1 - d
		}
		t.nLeft = l
	})
	for i := 0; i < len(tasks); {
		id := tasks[i].node
		j := i
		nl := 0
		for j < len(tasks) && tasks[j].node == id {
			nl += tasks[j].nLeft
			j++
		}
		nd := &gr.nodes[id]
		nd.nLeft = nl
		l, r := nd.begin, nd.begin+nl
		for k := i; k < j; k++ {
			tasks[k].l, tasks[k].r = l, r
			l += tasks[k].nLeft
			r += tasks[k].hi - tasks[k].lo - tasks[k].nLeft
		}
		i = j
	}
	parallelFor(gr.threads, len(tasks), func(i int) {
		t := tasks[i]
		buf := gr.tmp[t.lo:t.hi]
		copy(gr.idx[t.l:], buf[:t.nLeft])
		right := buf[t.nLeft:]
		dst := gr.idx[t.r:][:len(right)]
		for k, row := range right {
			dst[len(right)-1-k] = row
		}
	})
}

// leafOf walks the grown tree for one binned row.
func (gr *grower) leafOf(row []uint8) int {
	n := 0
	for {
		nd := &gr.nodes[n]
		if nd.left < 0 {
			return n
		}
		b := row[nd.split.feature]
		if nd.goLeft[b>>6]>>(b&63)&1 == 1 {
			n = nd.left
		} else {
			n = nd.right
		}
	}
}
