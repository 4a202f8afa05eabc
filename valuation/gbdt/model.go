package gbdt

import (
	"fmt"
	"math"
	"slices"
)

// Model is a trained ensemble, made by Train or ReadModel (the zero Model predicts nothing).
// It is safe for concurrent use by multiple goroutines as long as nobody writes Info at the
// same time.
type Model struct {
	// Info is free-form metadata stored with the model: Train fills Metrics with the final
	// losses, row counts and the best iteration; callers may add metrics and labels (data set
	// name, training date, git revision) before WriteTo.
	Info Info

	features  []Feature
	objective Objective
	params    Params
	base      float64
	trees     []tree
	best      int
	sc        *scorer
}

// Info is metadata carried in the model file. Train sets Metrics "train_rows", "trees",
// "best_iteration", "train_<metric>" and, with a validation set, "valid_rows" and
// "valid_<metric>" (metric as in Progress.Metric); the rest is the caller's. Non-finite metrics
// are stored as strings and read back exactly.
type Info struct {
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Labels  map[string]string  `json:"labels,omitempty"`
}

// tree is one regression tree in flat arrays; node 0 is the root and children come after their
// parent. A numeric split sends x left when x < threshold, and every non-missing x left when the
// threshold is +Inf; a categorical split sends the codes in its set left and every other code
// right; a missing value follows defaultLeft.
type tree struct {
	feature     []int32 // -1 for a leaf
	threshold   []float64
	left, right []int32
	defaultLeft []bool
	cats        [][]uint64 // categorical splits: bitset of the codes going left
	value       []float64  // leaf values (learning rate applied)
	cover       []float64  // hessian sum of the training rows that reached the node
	gain        []float64  // loss reduction of the split
}

func newTree(n int) tree {
	return tree{
		feature: make([]int32, n), threshold: make([]float64, n), left: make([]int32, n), right: make([]int32, n),
		defaultLeft: make([]bool, n), cats: make([][]uint64, n), value: make([]float64, n),
		cover: make([]float64, n), gain: make([]float64, n),
	}
}

// codeSet is the bitset of category codes (each < 1<<16); never nil, so an empty set still
// marks a categorical split.
func codeSet(codes []uint32) []uint64 {
	maxc := -1
	for _, c := range codes {
		maxc = max(maxc, int(c))
	}
	s := make([]uint64, (maxc+64)/64)
	for _, c := range codes {
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

// setCodes lists a code set's members in ascending order.
func setCodes(s []uint64) []uint32 {
	codes := []uint32{}
	for w, word := range s {
		for b := 0; b < 64; b++ {
			if word>>b&1 == 1 {
				codes = append(codes, uint32(w*64+b))
			}
		}
	}
	return codes
}

func inSet(s []uint64, v float64) bool {
	if v >= 0 && v < float64(len(s)*64) {
		c := int(v)
		return float64(c) == v && s[c>>6]>>(c&63)&1 == 1
	}
	return false
}

// goesLeft applies node n's split to x.
func (t *tree) goesLeft(n int, x []float64) bool {
	v := x[t.feature[n]]
	if v != v {
		return t.defaultLeft[n]
	}
	if s := t.cats[n]; s != nil {
		return inSet(s, v)
	}
	thr := t.threshold[n]
	return v < thr || math.IsInf(thr, 1)
}

// leaf returns the leaf x reaches.
func (t *tree) leaf(x []float64) int {
	n := 0
	for t.feature[n] >= 0 {
		if t.goesLeft(n, x) {
			n = int(t.left[n])
		} else {
			n = int(t.right[n])
		}
	}
	return n
}

// depth is the longest root-to-leaf path, in splits.
func (t *tree) depth() int {
	d := make([]int, len(t.feature))
	best := 0
	for n := range t.feature {
		if t.feature[n] >= 0 {
			d[t.left[n]] = d[n] + 1
			d[t.right[n]] = d[n] + 1
		}
		best = max(best, d[n])
	}
	return best
}

// Features returns a copy of the model's features, in the order rows must have them.
func (m *Model) Features() []Feature { return append([]Feature(nil), m.features...) }

// Objective returns the training objective.
func (m *Model) Objective() Objective { return m.objective }

// Params returns the training parameters (Threads is not recorded and reads 0).
func (m *Model) Params() Params { return m.params }

// NumTrees is the number of trees the model predicts with.
func (m *Model) NumTrees() int { return len(m.trees) }

// BestIteration is the number of trees of the model with the lowest validation loss seen in
// training, or the number of trees when there was no validation set. With early stopping the
// model keeps exactly these trees.
func (m *Model) BestIteration() int { return m.best }

// BaseScore is the margin before any tree: the training set's weighted mean label on the link
// scale.
func (m *Model) BaseScore() float64 { return m.base }

// PredictRaw returns the margin for one row: the base score plus every tree's leaf value (log
// odds for Binary, log mean for Tweedie). x must hold len(Features()) values in the model's
// feature order, NaN for missing; a row of another length gives NaN.
func (m *Model) PredictRaw(x []float64) float64 {
	if len(x) != len(m.features) {
		return math.NaN()
	}
	s := m.base
	for i := range m.trees {
		t := &m.trees[i]
		s += t.value[t.leaf(x)]
	}
	return s
}

// Predict returns the prediction for one row on the response scale: the probability for Binary,
// the mean for Squared and Tweedie. Rows of the wrong length give NaN, as in PredictRaw.
func (m *Model) Predict(x []float64) float64 { return transform(m.objective, m.PredictRaw(x)) }

// FeatureImportance returns, for each feature in model order, the total loss reduction (gain)
// of the splits on it.
func (m *Model) FeatureImportance() []float64 {
	imp := make([]float64, len(m.features))
	for i := range m.trees {
		t := &m.trees[i]
		for n, f := range t.feature {
			if f >= 0 {
				imp[f] += t.gain[n]
			}
		}
	}
	return imp
}

// PredictDataset writes Predict's value for every row of d into out (len(out) must equal
// d.Rows()). d's features must match the model's by name, kind and order. It scores blocks of
// rows on Params.Threads goroutines (all cores when 0); results equal Predict's bit for bit.
func (m *Model) PredictDataset(d *Dataset, out []float64) error {
	if err := m.PredictDatasetRaw(d, out); err != nil {
		return err
	}
	if m.objective != Squared {
		for i, v := range out {
			out[i] = transform(m.objective, v)
		}
	}
	return nil
}

// PredictDatasetRaw is PredictDataset on the margin scale (PredictRaw's value).
func (m *Model) PredictDatasetRaw(d *Dataset, out []float64) error {
	if d == nil {
		return fmt.Errorf("gbdt: no dataset")
	}
	if m.sc == nil {
		return fmt.Errorf("gbdt: the model is empty; get models from Train or ReadModel")
	}
	if err := sameFeatures(m.features, d.Features, "the dataset"); err != nil {
		return err
	}
	n := d.Rows()
	if len(d.Columns) != len(m.features) {
		return fmt.Errorf("gbdt: the dataset has %d columns for %d features", len(d.Columns), len(m.features))
	}
	for j, c := range d.Columns {
		if len(c) != n {
			return fmt.Errorf("gbdt: dataset feature %q has %d values for %d rows", d.Features[j].Name, len(c), n)
		}
	}
	if len(out) != n {
		return fmt.Errorf("gbdt: output has %d slots for %d rows", len(out), n)
	}
	m.sc.score(m, d, out, resolveThreads(0))
	return nil
}

// datasetLoss is the model's loss on a dataset.
func (m *Model) datasetLoss(d *Dataset, threads int) float64 {
	raw := make([]float64, d.Rows())
	m.sc.score(m, d, raw, threads)
	l, w := sumBlocks(threads, len(raw), rowBlock, func(lo, hi int) (float64, float64) {
		return gradients(m.objective, m.params.TweedieVariancePower, raw, d.Label, d.Weight, nil, lo, hi, false, true)
	})
	return finishLoss(m.objective, l, w)
}

// scorer is the compiled form of a model for batch scoring: every feature a tree reads is
// mapped to a small bin index (bin 0 missing) using only the model's own thresholds and
// category codes, and shallow trees are laid out as perfect binary trees walked without
// branches. A split is the set of bins that go right.
type scorer struct {
	binned bool       // false: walk the float trees (a feature needs more than 255 bins)
	used   []int      // features some tree reads
	pkeys  [][]uint64 // numeric: search tables of the thresholds (see padKeys)
	look   [][]uint8  // categorical: code -> bin, 0 = other
	other  []uint8    // categorical: bin of codes no split names
	trees  []ptree
}

// ptree is one compiled tree. A perfect tree (depth <= maxPerfectDepth) stores, for each of
// its 1<<depth-1 internal nodes, a feature and a 256-byte table saying which bins go right, and
// 1<<depth leaves; shorter branches are padded with nodes that send everything left. A deeper
// tree is a linked node list with a 256-bit set of right-going bins per node.
type ptree struct {
	depth   int
	perfect bool
	feat    []int32
	tbl     []uint8   // perfect: tbl[n<<8|bin] is 1 when bin goes right at node n
	leaf    []float64 // perfect: leaves; linked: node values
	// linked form
	right          [][4]uint64
	lchild, rchild []int32 // -1 marks a leaf
}

const maxPerfectDepth = 8

// compile builds the scorer from trees that satisfy the model invariants (as Train makes them
// and ReadModel checks them).
func (m *Model) compile() error {
	F := len(m.features)
	sc := &scorer{binned: true, pkeys: make([][]uint64, F), look: make([][]uint8, F), other: make([]uint8, F)}
	thr := make([][]float64, F)
	codes := make([]map[uint32]bool, F)
	usedSet := make([]bool, F)
	for i := range m.trees {
		t := &m.trees[i]
		for n, f := range t.feature {
			if f < 0 {
				continue
			}
			usedSet[f] = true
			if m.features[f].Kind == Numeric {
				if !math.IsInf(t.threshold[n], 1) {
					thr[f] = append(thr[f], t.threshold[n])
				}
			} else {
				if codes[f] == nil {
					codes[f] = map[uint32]bool{}
				}
				for _, c := range setCodes(t.cats[n]) {
					codes[f][c] = true
				}
			}
		}
	}
	catBinOf := make([]map[uint32]uint8, F)
	for f := range F {
		if !usedSet[f] {
			continue
		}
		sc.used = append(sc.used, f)
		if m.features[f].Kind == Numeric {
			slices.Sort(thr[f])
			thr[f] = slices.Compact(thr[f])
			if len(thr[f]) > 254 {
				sc.binned = false
			}
			sc.pkeys[f] = padKeys(thr[f])
			continue
		}
		cs := make([]uint32, 0, len(codes[f]))
		for c := range codes[f] {
			cs = append(cs, c)
		}
		slices.Sort(cs)
		if len(cs) > 254 {
			sc.binned = false
			continue
		}
		maxc := -1
		if len(cs) > 0 {
			maxc = int(cs[len(cs)-1])
		}
		sc.look[f] = make([]uint8, maxc+1)
		catBinOf[f] = map[uint32]uint8{}
		for i, c := range cs {
			sc.look[f][c] = uint8(i + 1)
			catBinOf[f][c] = uint8(i + 1)
		}
		sc.other[f] = uint8(len(cs) + 1)
	}
	m.sc = sc
	if !sc.binned {
		return nil
	}
	// rightSet is the set of bins node n of t sends right.
	rightSet := func(t *tree, n int) [4]uint64 {
		var s [4]uint64
		f := t.feature[n]
		set := func(b int) { s[b>>6] |= 1 << (b & 63) }
		if !t.defaultLeft[n] {
			set(0)
		}
		if m.features[f].Kind == Numeric {
			th := t.threshold[n]
			if math.IsInf(th, 1) {
				return s
			}
			cuts := thr[f]
			j, _ := slices.BinarySearch(cuts, th) // left iff bin <= j+1
			for b := j + 2; b <= len(cuts)+1; b++ {
				set(b)
			}
			return s
		}
		for b := 1; b <= int(sc.other[f]); b++ {
			set(b)
		}
		for _, c := range setCodes(t.cats[n]) {
			b := int(catBinOf[f][c])
			s[b>>6] &^= 1 << (b & 63)
		}
		return s
	}
	sc.trees = make([]ptree, len(m.trees))
	for i := range m.trees {
		t := &m.trees[i]
		pt := &sc.trees[i]
		D := t.depth()
		leaves := 0
		for _, f := range t.feature {
			if f < 0 {
				leaves++
			}
		}
		// Padding a sparse deep tree to a perfect one would waste memory (and let a small model
		// file claim a large one); such trees keep the linked form.
		if D <= 3 || D <= maxPerfectDepth && leaves*8 >= 1<<D {
			pt.perfect, pt.depth = true, D
			internal := 1<<D - 1
			pt.feat = make([]int32, internal)
			pt.tbl = make([]uint8, internal<<8)
			pt.leaf = make([]float64, 1<<D)
			// fill places t's node n at perfect position k on level d.
			var fill func(n, k, d int)
			fill = func(n, k, d int) {
				if d == D {
					pt.leaf[k-internal] = t.value[n]
					return
				}
				if t.feature[n] < 0 { // padding: every bin goes left
					pt.feat[k] = int32(sc.firstUsed())
					fill(n, 2*k+1, d+1)
					fill(n, 2*k+2, d+1)
					return
				}
				pt.feat[k] = t.feature[n]
				rs := rightSet(t, n)
				for b := range 256 {
					pt.tbl[k<<8|b] = uint8(rs[b>>6] >> (b & 63) & 1)
				}
				fill(int(t.left[n]), 2*k+1, d+1)
				fill(int(t.right[n]), 2*k+2, d+1)
			}
			fill(0, 0, 0)
			continue
		}
		nn := len(t.feature)
		pt.feat = make([]int32, nn)
		pt.right = make([][4]uint64, nn)
		pt.leaf = make([]float64, nn)
		pt.lchild = make([]int32, nn)
		pt.rchild = make([]int32, nn)
		for n := range nn {
			pt.feat[n] = max(t.feature[n], 0)
			pt.lchild[n], pt.rchild[n] = t.left[n], t.right[n]
			pt.leaf[n] = t.value[n]
			if t.feature[n] >= 0 {
				pt.right[n] = rightSet(t, n)
			}
		}
	}
	return nil
}

func (sc *scorer) firstUsed() int {
	if len(sc.used) > 0 {
		return sc.used[0]
	}
	return 0
}

// scoreBlock is the number of rows binned and scored together.
const scoreBlock = 1024

// score writes the margins of d's rows into out.
func (sc *scorer) score(m *Model, d *Dataset, out []float64, threads int) {
	n, F := d.Rows(), len(m.features)
	nb := (n + scoreBlock - 1) / scoreBlock
	if !sc.binned {
		parallelFor(threads, nb, func(t int) {
			x := make([]float64, F)
			for i := t * scoreBlock; i < min(n, (t+1)*scoreBlock); i++ {
				out[i] = m.PredictRaw(d.Row(i, x))
			}
		})
		return
	}
	bufs := make([][]uint8, min(threads, nb))
	for i := range bufs {
		bufs[i] = make([]uint8, scoreBlock*F)
	}
	// Each worker takes every threads-th block with its own buffer.
	parallelFor(threads, len(bufs), func(w int) {
		rb := bufs[w]
		for t := w; t < nb; t += len(bufs) {
			lo, hi := t*scoreBlock, min(n, (t+1)*scoreBlock)
			sc.scoreRows(m, d, lo, hi, rb, out[lo:hi])
		}
	})
}

// scoreRows bins rows lo..hi-1 into rb and adds up the trees.
func (sc *scorer) scoreRows(m *Model, d *Dataset, lo, hi int, rb []uint8, out []float64) {
	F := len(m.features)
	k := hi - lo
	for _, f := range sc.used {
		col := d.Columns[f][lo:hi]
		if pk := sc.pkeys[f]; pk != nil {
			binNumeric(pk, col, rb[f:], F)
		} else {
			look, other := sc.look[f], sc.other[f]
			for i, v := range col {
				b := uint8(0)
				if v == v {
					b = other
					if v >= 0 && v < float64(len(look)) {
						if c := int(v); float64(c) == v && look[c] != 0 {
							b = look[c]
						}
					}
				}
				rb[i*F+f] = b
			}
		}
	}
	for i := range out {
		out[i] = m.base
	}
	for ti := range sc.trees {
		pt := &sc.trees[ti]
		if pt.perfect {
			walkPerfect(pt, rb, F, out[:k])
			continue
		}
		for i := 0; i < k; i++ {
			row := rb[i*F : i*F+F]
			n := int32(0)
			for pt.lchild[n] >= 0 {
				b := row[pt.feat[n]]
				if pt.right[n][b>>6]>>(b&63)&1 == 1 {
					n = pt.rchild[n]
				} else {
					n = pt.lchild[n]
				}
			}
			out[i] += pt.leaf[n]
		}
	}
}

// walkPerfect adds a perfect tree's leaf values for rows of rb (F bins each) to out. Eight rows
// walk together so that their chains of dependent loads overlap.
func walkPerfect(pt *ptree, rb []uint8, F int, out []float64) {
	D := pt.depth
	feat, tbl, leaf := pt.feat, pt.tbl, pt.leaf
	internal := len(feat)
	k := len(out)
	i := 0
	for ; i+8 <= k; i += 8 {
		r := rb[i*F : (i+8)*F]
		n0, n1, n2, n3, n4, n5, n6, n7 := 0, 0, 0, 0, 0, 0, 0, 0
		for range D {
			b0 := r[int(feat[n0])]
			b1 := r[F+int(feat[n1])]
			b2 := r[2*F+int(feat[n2])]
			b3 := r[3*F+int(feat[n3])]
			b4 := r[4*F+int(feat[n4])]
			b5 := r[5*F+int(feat[n5])]
			b6 := r[6*F+int(feat[n6])]
			b7 := r[7*F+int(feat[n7])]
			n0 = 2*n0 + 1 + int(tbl[n0<<8|int(b0)])
			n1 = 2*n1 + 1 + int(tbl[n1<<8|int(b1)])
			n2 = 2*n2 + 1 + int(tbl[n2<<8|int(b2)])
			n3 = 2*n3 + 1 + int(tbl[n3<<8|int(b3)])
			n4 = 2*n4 + 1 + int(tbl[n4<<8|int(b4)])
			n5 = 2*n5 + 1 + int(tbl[n5<<8|int(b5)])
			n6 = 2*n6 + 1 + int(tbl[n6<<8|int(b6)])
			n7 = 2*n7 + 1 + int(tbl[n7<<8|int(b7)])
		}
		o := out[i : i+8]
		o[0] += leaf[n0-internal]
		o[1] += leaf[n1-internal]
		o[2] += leaf[n2-internal]
		o[3] += leaf[n3-internal]
		o[4] += leaf[n4-internal]
		o[5] += leaf[n5-internal]
		o[6] += leaf[n6-internal]
		o[7] += leaf[n7-internal]
	}
	for ; i < k; i++ {
		row := rb[i*F:][:F]
		n := 0
		for range D {
			b := row[feat[n]]
			n = 2*n + 1 + int(tbl[n<<8|int(b)])
		}
		out[i] += leaf[n-internal]
	}
}
