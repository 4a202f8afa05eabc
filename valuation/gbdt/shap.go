package gbdt

import "fmt"

// TreeSHAP, the path-dependent algorithm of Lundberg, Erion and Lee, "Consistent Individualized
// Feature Attribution for Tree Ensembles" (2018), Algorithm 2. The value of a feature subset S
// is the tree's expectation when the features in S are fixed to x and the others are averaged
// out following the training cover of each branch; the contributions are the exact Shapley
// values of that game, computed in O(leaves * depth^2) per tree.

// pathElem is one feature on the current root-to-node path: the share of the cover that flows
// this way when the feature is unknown (zero), whether x flows this way (one, 0 or 1), and the
// permutation weight of subsets of the path's size.
type pathElem struct {
	feature   int
	zero, one float64
	w         float64
}

// coverShares returns the shares of node n's cover that go left and right; they sum to 1.
func (t *tree) coverShares(n int) (float64, float64) {
	cl, cr := t.cover[t.left[n]], t.cover[t.right[n]]
	if s := cl + cr; s > 0 {
		return cl / s, cr / s
	}
	return 0.5, 0.5
}

// expectation is the tree's mean output under the cover shares.
func (t *tree) expectation(n int) float64 {
	if t.feature[n] < 0 {
		return t.value[n]
	}
	l, r := t.coverShares(n)
	return l*t.expectation(int(t.left[n])) + r*t.expectation(int(t.right[n]))
}

// extend adds a feature to the path, updating the subset-size weights.
func extend(m []pathElem, zero, one float64, feature int) []pathElem {
	l := len(m)
	w := 0.0
	if l == 0 {
		w = 1
	}
	m = append(m, pathElem{feature: feature, zero: zero, one: one, w: w})
	for i := l - 1; i >= 0; i-- {
		m[i+1].w += one * m[i].w * float64(i+1) / float64(l+1)
		m[i].w = zero * m[i].w * float64(l-i) / float64(l+1)
	}
	return m
}

// unwind removes element i from the path, undoing its extend.
func unwind(m []pathElem, i int) []pathElem {
	l := len(m)
	one, zero := m[i].one, m[i].zero
	next := m[l-1].w
	for j := l - 2; j >= 0; j-- {
		if one != 0 {
			t := m[j].w
			m[j].w = next * float64(l) / (float64(j+1) * one)
			next = t - m[j].w*zero*float64(l-j-1)/float64(l)
		} else {
			m[j].w = m[j].w * float64(l) / (zero * float64(l-j-1))
		}
	}
	for j := i; j < l-1; j++ {
		m[j].feature, m[j].zero, m[j].one = m[j+1].feature, m[j+1].zero, m[j+1].one
	}
	return m[:l-1]
}

// unwoundSum is the sum of the weights unwind(m, i) would leave, without changing m.
func unwoundSum(m []pathElem, i int) float64 {
	l := len(m)
	one, zero := m[i].one, m[i].zero
	next := m[l-1].w
	total := 0.0
	for j := l - 2; j >= 0; j-- {
		if one != 0 {
			w := next * float64(l) / (float64(j+1) * one)
			total += w
			next = m[j].w - w*zero*float64(l-j-1)/float64(l)
		} else {
			total += m[j].w * float64(l) / (zero * float64(l-j-1))
		}
	}
	return total
}

// shap adds tree t's contributions for x to phi (len features).
func (t *tree) shap(x, phi []float64) {
	// One path buffer per depth: a child copies its parent's path and extends its own copy.
	bufs := make([][]pathElem, t.depth()+2)
	for i := range bufs {
		bufs[i] = make([]pathElem, 0, len(bufs)+1)
	}
	var recurse func(n, d int, parent []pathElem, zero, one float64, feature int)
	recurse = func(n, d int, parent []pathElem, zero, one float64, feature int) {
		m := append(bufs[d][:0], parent...)
		m = extend(m, zero, one, feature)
		if t.feature[n] < 0 {
			for i := 1; i < len(m); i++ {
				w := unwoundSum(m, i)
				phi[m[i].feature] += w * (m[i].one - m[i].zero) * t.value[n]
			}
			return
		}
		hot, cold := int(t.left[n]), int(t.right[n])
		lshare, rshare := t.coverShares(n)
		hotShare, coldShare := lshare, rshare
		if !t.goesLeft(n, x) {
			hot, cold = cold, hot
			hotShare, coldShare = rshare, lshare
		}
		f := int(t.feature[n])
		iz, io := 1.0, 1.0
		for k := 1; k < len(m); k++ {
			if m[k].feature == f {
				iz, io = m[k].zero, m[k].one
				m = unwind(m, k)
				break
			}
		}
		// A branch no training row and not x reaches has weight zero everywhere; skipping it
		// also avoids dividing by its zero shares.
		if z := iz * hotShare; z != 0 || io != 0 {
			recurse(hot, d+1, m, z, io, f)
		}
		if z := iz * coldShare; z != 0 {
			recurse(cold, d+1, m, z, 0, f)
		}
	}
	recurse(0, 0, nil, 1, 1, -1)
}

// Contributions writes the SHAP value of every feature for row x into phi[:len(Features())]
// and the expected margin (base score plus every tree's expectation under the training cover)
// into phi[len(Features())]; phi sums to PredictRaw(x). The values are exact Shapley values of
// the path-dependent tree expectation (TreeSHAP). x must have len(Features()) values and phi
// one more.
func (m *Model) Contributions(x []float64, phi []float64) error {
	F := len(m.features)
	if len(x) != F {
		return fmt.Errorf("gbdt: row has %d values; the model has %d features", len(x), F)
	}
	if len(phi) != F+1 {
		return fmt.Errorf("gbdt: phi has %d slots; want %d (features + bias)", len(phi), F+1)
	}
	clear(phi)
	bias := m.base
	for i := range m.trees {
		t := &m.trees[i]
		bias += t.expectation(0)
		t.shap(x, phi)
	}
	phi[F] = bias
	return nil
}
