package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Progress reports one boosting round to Train's progress callback.
type Progress struct {
	// Iteration is the number of trees in the model so far (1-based).
	Iteration int
	// Trees is the number of rounds asked for (Params.Trees).
	Trees int
	// Metric names the loss: "logloss", "rmse" or "tweedie-nloglik@<power>".
	Metric string
	// TrainLoss is the training loss of the model with Iteration trees.
	TrainLoss float64
	// ValidLoss is the validation loss, NaN without a validation set.
	ValidLoss float64
	// BestIteration is the number of trees of the best model so far by validation loss (equal
	// to Iteration without a validation set), and BestLoss its validation loss.
	BestIteration int
	BestLoss      float64
}

// rowBlock is the block size of per-row passes (gradients, losses, margin updates).
const rowBlock = 1 << 14

// sameFeatures reports the first difference between two feature lists, by name and kind.
func sameFeatures(want, got []Feature, what string) error {
	if len(want) != len(got) {
		return fmt.Errorf("gbdt: %s has %d features; the model has %d", what, len(got), len(want))
	}
	for j := range want {
		if want[j].Name != got[j].Name || want[j].Kind != got[j].Kind {
			return fmt.Errorf("gbdt: %s feature %d is %q (%s); the model's feature %d is %q (%s)",
				what, j, got[j].Name, kindName(got[j].Kind), j, want[j].Name, kindName(want[j].Kind))
		}
	}
	return nil
}

func kindName(k Kind) string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return "kind " + strconv.Itoa(int(k))
}

// Train fits a model to train, whose features need distinct, non-empty names. valid, when not
// nil, must have the same features; its loss is reported and drives early stopping. progress, when not nil, is called after every round from
// the calling goroutine. Training stops with ctx's error when ctx is cancelled. The same
// Params (whatever Threads is), seed and data give a bit-identical model.
func Train(ctx context.Context, p Params, train, valid *Dataset, progress func(Progress)) (*Model, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if train == nil {
		return nil, errors.New("gbdt: no training set")
	}
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("%w (training set)", err)
	}
	if len(train.Features) == 0 {
		return nil, errors.New("gbdt: the training set has no features")
	}
	names := make(map[string]bool, len(train.Features))
	for j, f := range train.Features {
		if f.Name == "" || names[f.Name] {
			return nil, fmt.Errorf("gbdt: training feature %d has an empty or repeated name %q", j, f.Name)
		}
		names[f.Name] = true
		if f.Kind != Numeric && f.Kind != Categorical {
			return nil, fmt.Errorf("gbdt: training feature %q has unknown kind %d", f.Name, f.Kind)
		}
	}
	if train.Rows() > math.MaxInt32 {
		return nil, fmt.Errorf("gbdt: %d training rows; at most %d are supported", train.Rows(), math.MaxInt32)
	}
	if err := checkLabels(p.Objective, train, "training"); err != nil {
		return nil, err
	}
	if valid != nil {
		if err := valid.Validate(); err != nil {
			return nil, fmt.Errorf("%w (validation set)", err)
		}
		if err := sameFeatures(train.Features, valid.Features, "the validation set"); err != nil {
			return nil, err
		}
		if err := checkLabels(p.Objective, valid, "validation"); err != nil {
			return nil, err
		}
	} else if p.EarlyStoppingRounds > 0 {
		return nil, errors.New("gbdt: EarlyStoppingRounds needs a validation set")
	}
	base, err := baseScore(p.Objective, train)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	threads := resolveThreads(p.Threads)
	n, F := train.Rows(), len(train.Features)
	rho := p.TweedieVariancePower

	fbs := makeBins(train, p.MaxBins, p.Seed, threads)
	bins := binMatrix(train, fbs, threads)
	gr := newGrower(p, fbs, bins, n, train.Features, threads)

	var vbins []uint8
	var vmargin []float64
	if valid != nil {
		vbins = binMatrix(valid, fbs, threads)
		vmargin = make([]float64, valid.Rows())
		for i := range vmargin {
			vmargin[i] = base
		}
	}
	margin := make([]float64, n)
	for i := range margin {
		margin[i] = base
	}

	rng := rand.New(rand.NewPCG(p.Seed, 0x67626474)) // "gbdt"
	allFeats := make([]int, F)
	for j := range allFeats {
		allFeats[j] = j
	}
	nCols := max(1, int(math.Round(p.ColSample*float64(F))))
	var inBag []bool
	if p.Subsample < 1 {
		inBag = make([]bool, n)
	}

	m := &Model{features: append([]Feature(nil), train.Features...), objective: p.Objective, base: base}
	rec := p
	rec.Threads = 0
	m.params = rec
	metric := metricName(p.Objective, rho)
	bestIt, bestLoss := 0, math.Inf(1)
	validLoss := math.NaN()
	stopped := false

	for it := 0; ; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wantGrad := it < p.Trees && !stopped
		wantLoss := progress != nil && it > 0
		var trainLoss float64
		if wantGrad || wantLoss {
			l, w := sumBlocks(threads, n, rowBlock, func(lo, hi int) (float64, float64) {
				return gradients(p.Objective, rho, margin, train.Label, train.Weight, gr.grad, lo, hi, wantGrad, wantLoss)
			})
			trainLoss = finishLoss(p.Objective, l, w)
		}
		if wantLoss {
			pr := Progress{Iteration: it, Trees: p.Trees, Metric: metric, TrainLoss: trainLoss, ValidLoss: validLoss, BestIteration: it, BestLoss: validLoss}
			if valid != nil {
				pr.BestIteration, pr.BestLoss = bestIt, bestLoss
			}
			progress(pr)
		}
		if !wantGrad {
			break
		}

		// Rows and features of this tree.
		rows := n
		if inBag != nil {
			rows = 0
			for i := range n {
				in := rng.Float64() < p.Subsample
				inBag[i] = in
				if in {
					gr.idx[rows] = int32(i)
					rows++
				}
			}
		} else {
			for i := range gr.idx {
				gr.idx[i] = int32(i)
			}
		}
		if nCols < F {
			perm := append([]int(nil), allFeats...)
			rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
			gr.feats = perm[:nCols]
			slices.Sort(gr.feats)
		} else {
			gr.feats = allFeats
		}
		g, h := sumBlocks(threads, rows, rowBlock, func(lo, hi int) (float64, float64) {
			var g, h float64
			for _, r := range gr.idx[lo:hi] {
				g += gr.grad[r].g
				h += gr.grad[r].h
			}
			return g, h
		})
		gr.grow(rows, g, h)

		// Margins: in-bag rows by their leaf's row range, out-of-bag and validation rows by walking
		// the binned tree.
		type seg struct {
			lo, hi int
			v      float64
		}
		var segs []seg
		for i := range gr.nodes {
			nd := &gr.nodes[i]
			if nd.left < 0 {
				for lo := nd.begin; lo < nd.end; lo += rowBlock {
					segs = append(segs, seg{lo, min(nd.end, lo+rowBlock), nd.value})
				}
			}
		}
		parallelFor(threads, len(segs), func(i int) {
			s := segs[i]
			for _, r := range gr.idx[s.lo:s.hi] {
				margin[r] += s.v
			}
		})
		if inBag != nil {
			parallelFor(threads, (n+rowBlock-1)/rowBlock, func(t int) {
				for i := t * rowBlock; i < min(n, (t+1)*rowBlock); i++ {
					if !inBag[i] {
						margin[i] += gr.nodes[gr.leafOf(bins[i*F:(i+1)*F])].value
					}
				}
			})
		}
		m.trees = append(m.trees, gr.modelTree())

		if valid != nil {
			vn := valid.Rows()
			l, w := sumBlocks(threads, vn, rowBlock, func(lo, hi int) (float64, float64) {
				for i := lo; i < hi; i++ {
					vmargin[i] += gr.nodes[gr.leafOf(vbins[i*F:(i+1)*F])].value
				}
				return gradients(p.Objective, rho, vmargin, valid.Label, valid.Weight, nil, lo, hi, false, true)
			})
			validLoss = finishLoss(p.Objective, l, w)
			if validLoss < bestLoss {
				bestIt, bestLoss = it+1, validLoss
			}
			if p.EarlyStoppingRounds > 0 && it+1-bestIt >= p.EarlyStoppingRounds {
				stopped = true
			}
		}
	}

	m.best = len(m.trees)
	if valid != nil {
		m.best = bestIt
		if p.EarlyStoppingRounds > 0 {
			m.trees = m.trees[:bestIt]
		}
	}
	// Final losses of the kept model.
	m.Info.Metrics = map[string]float64{
		"train_rows":     float64(n),
		"best_iteration": float64(m.best),
		"trees":          float64(len(m.trees)),
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	tl := m.datasetLoss(train, threads)
	m.Info.Metrics["train_"+metric] = tl
	if valid != nil {
		m.Info.Metrics["valid_rows"] = float64(valid.Rows())
		m.Info.Metrics["valid_"+metric] = m.datasetLoss(valid, threads)
	}
	return m, nil
}

// modelTree converts the grown tree to the model's representation (thresholds and category
// codes instead of bins).
func (gr *grower) modelTree() tree {
	n := len(gr.nodes)
	t := newTree(n)
	for i := range gr.nodes {
		nd := &gr.nodes[i]
		t.cover[i] = nd.h
		if nd.left < 0 {
			t.feature[i] = -1
			t.left[i], t.right[i] = -1, -1
			t.value[i] = nd.value
			continue
		}
		s := &nd.split
		f := s.feature
		t.feature[i] = int32(f)
		t.left[i], t.right[i] = int32(nd.left), int32(nd.right)
		t.defaultLeft[i] = s.defaultLeft
		t.gain[i] = s.gain
		fb := &gr.fbs[f]
		if fb.kind == Numeric {
			if s.thr >= fb.nbins-1 {
				t.threshold[i] = math.Inf(1)
			} else {
				t.threshold[i] = fb.cuts[s.thr-1]
			}
			continue
		}
		var codes []uint32
		for b := 1; b <= len(fb.codes); b++ {
			if s.set[b>>6]>>(b&63)&1 == 1 {
				codes = append(codes, fb.codes[b-1])
			}
		}
		t.cats[i] = codeSet(codes)
	}
	return t
}
