package gbdt

import (
	"cmp"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Bin 0 of every feature holds missing values. A numeric feature with cuts c[0] < c[1] < ...
// puts v in bin 1 + #{c[i] <= v}, so "bin <= t" is the same test as "v < c[t-1]". A categorical
// feature puts its kept codes in bins 1..k and every other code in bin k+1 ("other").

// binSampleRows is how many rows the quantile cuts are computed from.
const binSampleRows = 200_000

// featureBins maps one feature's values to bins.
type featureBins struct {
	kind  Kind
	cuts  []float64 // numeric: ascending, finite
	pkeys []uint64  // numeric: search table (see padKeys)
	codes []uint32  // categorical: codes[b-1] is the code of bin b
	look  []uint8   // categorical: code -> bin; codes beyond len(look) or mapped to 0 are "other"
	nbins int       // bins including bin 0 (and the other bin for categorical features)
}

// otherBin is the bin of unseen categorical codes.
func (fb *featureBins) otherBin() uint8 { return uint8(len(fb.codes) + 1) }

// fkey maps a float64 to a uint64 with the same order (for non-NaN values; -0 and +0 map to
// the same key), so that searches compare integers, which compile to branch-free code.
func fkey(v float64) uint64 {
	b := math.Float64bits(v + 0) // -0 + 0 = +0
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// padKeys prepares the branch-free search table: the cuts' keys padded with MaxUint64 (above
// every non-NaN key) to a power of two >= len(cuts)+1.
func padKeys(cuts []float64) []uint64 {
	n := 1 << bits.Len(uint(len(cuts)))
	p := make([]uint64, n)
	for i, c := range cuts {
		p[i] = fkey(c)
	}
	for i := len(cuts); i < n; i++ {
		p[i] = math.MaxUint64
	}
	return p
}

// searchKeys returns #{p[i] <= k} for a table from padKeys.
func searchKeys(p []uint64, k uint64) int {
	lo := 0
	for step := len(p) >> 1; step > 0; step >>= 1 {
		_, borrow := bits.Sub64(k, p[lo+step-1], 0) // borrow = 1 when k < p
		lo += step & int(borrow-1)
	}
	return lo
}

// binNumeric writes the bins of col's values into out[i*stride]: four searches at a time so
// that their dependent loads overlap.
func binNumeric(pk []uint64, col []float64, out []uint8, stride int) {
	half := len(pk) >> 1
	i := 0
	for ; i+4 <= len(col); i += 4 {
		v0, v1, v2, v3 := col[i], col[i+1], col[i+2], col[i+3]
		k0, k1, k2, k3 := fkey(v0), fkey(v1), fkey(v2), fkey(v3)
		l0, l1, l2, l3 := 0, 0, 0, 0
		for step := half; step > 0; step >>= 1 {
			_, c0 := bits.Sub64(k0, pk[l0+step-1], 0)
			_, c1 := bits.Sub64(k1, pk[l1+step-1], 0)
			_, c2 := bits.Sub64(k2, pk[l2+step-1], 0)
			_, c3 := bits.Sub64(k3, pk[l3+step-1], 0)
			l0 += step & int(c0-1)
			l1 += step & int(c1-1)
			l2 += step & int(c2-1)
			l3 += step & int(c3-1)
		}
		out[i*stride] = binOf(l0, v0)
		out[(i+1)*stride] = binOf(l1, v1)
		out[(i+2)*stride] = binOf(l2, v2)
		out[(i+3)*stride] = binOf(l3, v3)
	}
	for ; i < len(col); i++ {
		v := col[i]
		out[i*stride] = binOf(searchKeys(pk, fkey(v)), v)
	}
}

// binOf is the bin of a value with lo cuts <= v; NaN is bin 0.
func binOf(lo int, v float64) uint8 {
	if v != v {
		return 0
	}
	return uint8(1 + lo)
}

// bin maps one value.
func (fb *featureBins) bin(v float64) uint8 {
	if v != v {
		return 0
	}
	if fb.kind == Numeric {
		return uint8(1 + searchKeys(fb.pkeys, fkey(v)))
	}
	return catBin(fb.look, fb.otherBin(), v)
}

// catBin maps a category code through a lookup table; non-integers, negatives and codes the
// table does not know go to other.
func catBin(look []uint8, other uint8, v float64) uint8 {
	if v >= 0 && v < float64(len(look)) {
		c := int(v)
		if float64(c) == v && look[c] != 0 {
			return look[c]
		}
	}
	return other
}

// cutBetween returns a finite c with a < c <= b, or ok=false when none exists.
func cutBetween(a, b float64) (float64, bool) {
	if math.IsInf(b, 1) {
		if a < math.MaxFloat64 {
			return math.MaxFloat64, true
		}
		return 0, false
	}
	if math.IsInf(a, -1) {
		return b, true
	}
	c := a/2 + b/2
	if !(c > a && c <= b) {
		c = b
	}
	return c, true
}

// numericCuts computes at most maxValueBins-1 cuts from weighted values (NaN excluded): distinct
// values when there are few, otherwise greedy weighted quantiles that give heavy point masses
// their own bin.
func numericCuts(vals, ws []float64, maxValueBins int) []float64 {
	// Distinct values with summed weights.
	var dv, dw []float64
	if ws == nil {
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		for _, v := range sorted {
			if n := len(dv); n > 0 && dv[n-1] == v {
				dw[n-1]++
				continue
			}
			dv = append(dv, v)
			dw = append(dw, 1)
		}
	} else {
		type vw struct{ v, w float64 }
		pairs := make([]vw, len(vals))
		for i, v := range vals {
			pairs[i] = vw{v, ws[i]}
		}
		slices.SortFunc(pairs, func(a, b vw) int {
			if a.v < b.v {
				return -1
			}
			if a.v > b.v {
				return 1
			}
			return 0
		})
		for _, p := range pairs {
			if n := len(dv); n > 0 && dv[n-1] == p.v {
				dw[n-1] += p.w
				continue
			}
			dv = append(dv, p.v)
			dw = append(dw, p.w)
		}
	}
	var cuts []float64
	add := func(i int) {
		if c, ok := cutBetween(dv[i], dv[i+1]); ok && (len(cuts) == 0 || c > cuts[len(cuts)-1]) {
			cuts = append(cuts, c)
		}
	}
	if len(dv) <= maxValueBins {
		for i := 0; i+1 < len(dv); i++ {
			add(i)
		}
		return cuts
	}
	var total float64
	for _, w := range dw {
		total += w
	}
	if !(total > 0) { // all weights zero: count values instead
		for i := range dw {
			dw[i] = 1
		}
		total = float64(len(dw))
	}
	binsLeft := maxValueBins
	rest := total
	acc := 0.0
	for i := 0; i+1 < len(dv) && binsLeft > 1; i++ {
		acc += dw[i]
		remaining := len(dv) - (i + 1)
		if acc >= rest/float64(binsLeft) || remaining <= binsLeft-1 {
			add(i)
			rest -= acc
			acc = 0
			binsLeft--
		}
	}
	return cuts
}

// makeBins computes the bins of every feature from the training set.
func makeBins(d *Dataset, maxBins int, seed uint64, threads int) []featureBins {
	n := d.Rows()
	var sample []int
	if n > binSampleRows {
		rng := rand.New(rand.NewPCG(seed, 0x62696e73)) // "bins"
		sample = make([]int, 0, binSampleRows+binSampleRows/8)
		p := float64(binSampleRows) / float64(n)
		for i := 0; i < n; i++ {
			if rng.Float64() < p {
				sample = append(sample, i)
			}
		}
	}
	fbs := make([]featureBins, len(d.Features))
	parallelFor(threads, len(d.Features), func(j int) {
		col := d.Columns[j]
		fb := &fbs[j]
		fb.kind = d.Features[j].Kind
		if fb.kind == Categorical {
			counts := make([]int, 1<<16) // Validate bounds codes below 1<<16
			for _, v := range col {
				if v == v {
					counts[int(v)]++
				}
			}
			type cc struct {
				code  uint32
				count int
			}
			var all []cc
			for c, k := range counts {
				if k > 0 {
					all = append(all, cc{uint32(c), k})
				}
			}
			slices.SortFunc(all, func(a, b cc) int {
				if a.count != b.count {
					return cmp.Compare(b.count, a.count)
				}
				return cmp.Compare(a.code, b.code)
			})
			if len(all) > maxBins-2 {
				all = all[:maxBins-2]
			}
			slices.SortFunc(all, func(a, b cc) int { return cmp.Compare(a.code, b.code) })
			fb.codes = make([]uint32, len(all))
			maxCode := -1
			for i, c := range all {
				fb.codes[i] = c.code
				maxCode = max(maxCode, int(c.code))
			}
			fb.look = make([]uint8, maxCode+1)
			for i, c := range fb.codes {
				fb.look[c] = uint8(i + 1)
			}
			fb.nbins = len(fb.codes) + 2
			return
		}
		var vals, ws []float64
		add := func(i int) {
			if v := col[i]; v == v {
				vals = append(vals, v)
				if d.Weight != nil {
					ws = append(ws, d.Weight[i])
				}
			}
		}
		if sample != nil {
			for _, i := range sample {
				add(i)
			}
		} else {
			for i := range col {
				add(i)
			}
		}
		fb.cuts = numericCuts(vals, ws, maxBins-1)
		fb.pkeys = padKeys(fb.cuts)
		fb.nbins = len(fb.cuts) + 2
	})
	return fbs
}

// binMatrix maps a dataset to a row-major uint8 matrix with the given bins.
func binMatrix(d *Dataset, fbs []featureBins, threads int) []uint8 {
	n, F := d.Rows(), len(fbs)
	out := make([]uint8, n*F)
	const block = 4096
	parallelFor(threads, (n+block-1)/block, func(t int) {
		lo, hi := t*block, min(n, (t+1)*block)
		for j := range fbs {
			fb := &fbs[j]
			col := d.Columns[j][lo:hi]
			if fb.kind == Numeric {
				binNumeric(fb.pkeys, col, out[lo*F+j:], F)
			} else {
				other := fb.otherBin()
				for i, v := range col {
					b := uint8(0)
					if v == v {
						b = catBin(fb.look, other, v)
					}
					out[(lo+i)*F+j] = b
				}
			}
		}
	})
	return out
}
