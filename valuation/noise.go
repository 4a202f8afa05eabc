package valuation

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Sampling noise of a portfolio sum (docs/valuation.md, "How close can a fold be?").
//
// Even a model that knows E[Y_i | x_i] exactly misses the recovered total of a package of loans,
// because each loan's recovery is random around its expectation. For a package S the relative
// error of such a perfect model is
//
//	err = (Σ_S a_i − Σ_S μ_i) / Σ_S μ_i,    a_i = exposure_i × rate_i,  μ_i = exposure_i × E[rate_i | x_i],
//
// whose standard deviation is sqrt(Σ_S Var(a_i | x_i)) / Σ_S μ_i (the loans being independent).
// SamplingNoise estimates Var(rate_i | x_i) from the data, by bins of the predicted rate, and turns
// it into that standard deviation and into the probability that the perfect model lands within a
// tolerance on every package of a partition (the folds).

// NoiseOptions configure SamplingNoise.
type NoiseOptions struct {
	// Bins is the number of equal-count bins of the predicted rate within which Var(rate | x) is
	// taken as constant (default 10).
	Bins int
	// Tolerance is the relative error counted as a hit (default 0.03: ±3%).
	Tolerance float64
	// Draws is the number of simulated worlds of the simulation estimate (default 20,000; 0 keeps
	// the default, negative skips the simulation).
	Draws int
	// Seed drives the simulation and the bootstrap.
	Seed uint64
}

func (o NoiseOptions) withDefaults() NoiseOptions {
	if o.Bins <= 0 {
		o.Bins = 10
	}
	if !(o.Tolerance > 0) {
		o.Tolerance = 0.03
	}
	if o.Draws == 0 {
		o.Draws = 20000
	}
	return o
}

// PackageNoise is the sampling noise of one package (fold) of loans.
type PackageNoise struct {
	Package int `json:"package"`
	Loans   int `json:"loans"`
	// Predicted is Σ exposure × predicted rate; Recovered Σ exposure × rate.
	Predicted float64 `json:"predicted"`
	Recovered float64 `json:"recovered"`
	// ErrorPct is the model's error as the task states it: 100 × (recovered − predicted) / predicted.
	ErrorPct float64 `json:"error_pct"`
	// SDPct is 100 × the standard deviation of a perfect model's relative error, with Var(rate |
	// x) estimated per bin of the prediction as the bin's variance of the rate around its mean.
	SDPct float64 `json:"sd_pct"`
	// ResidualSDPct is the same with each loan's own squared residual (rate − predicted)² as its
	// variance (the model card's noise_pct, relative to the prediction instead of the recovery):
	// it counts the model's misfit as noise too.
	ResidualSDPct float64 `json:"residual_sd_pct"`
	// BootstrapSDPct is the standard deviation of the error over resamples (with replacement) of
	// the package's own loans.
	BootstrapSDPct float64 `json:"bootstrap_sd_pct"`
	// PWithin is the probability that a perfect model lands within the tolerance on this
	// package: 2Φ(tol / sd) − 1 (normal approximation, sd = SDPct); PWithinSim the frequency
	// in the simulation.
	PWithin    float64 `json:"p_within"`
	PWithinSim float64 `json:"p_within_sim"`
}

// NoiseReport is SamplingNoise's answer.
type NoiseReport struct {
	Tolerance float64        `json:"tolerance"`
	Bins      int            `json:"bins"`
	Draws     int            `json:"draws"`
	Packages  []PackageNoise `json:"packages"`
	// PAll is the probability that a perfect model lands within the tolerance on every package
	// at once: the product of the packages' PWithin (disjoint loans are independent);
	// PAllSim the frequency in the simulation.
	PAll    float64 `json:"p_all"`
	PAllSim float64 `json:"p_all_sim"`
	// BinVariance is the estimated Var(rate | x) per bin, BinMean its mean rate and BinUpper
	// its largest predicted rate.
	BinVariance []float64 `json:"bin_variance"`
	BinMean     []float64 `json:"bin_mean"`
	BinUpper    []float64 `json:"bin_upper"`
}

// SamplingNoise estimates the sampling error of the portfolio sums of the packages pkg[i] (0..k-1)
// for loans of the given exposures, predicted rates and actual rates.
//
// Var(rate | x) is estimated per equal-count bin of the predicted rate as the bin's sample
// variance of the actual rate (pooled over every package). The simulation draws worlds in which
// the bins' mean rates are the truth: every loan's rate is drawn from the actual rates of its bin
// (with replacement) and the perfect model predicts the bin's mean; a world counts as a hit on a
// package when |Σ exposure × (drawn − mean)| <= tol × Σ exposure × mean over its loans. It makes
// no normal approximation (recoveries are skewed: few loans pay much).
func SamplingNoise(exposure, pred, rate []float64, pkg []int, opts NoiseOptions) NoiseReport {
	opts = opts.withDefaults()
	n := len(rate)
	k := 0
	for _, p := range pkg {
		k = max(k, p+1)
	}
	rep := NoiseReport{Tolerance: opts.Tolerance, Bins: opts.Bins, Draws: max(opts.Draws, 0)}
	if n == 0 || k == 0 {
		return rep
	}
	// Equal-count bins of the prediction.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case pred[a] < pred[b]:
			return -1
		case pred[a] > pred[b]:
			return 1
		}
		return 0
	})
	nb := min(opts.Bins, n)
	bin := make([]int, n)
	members := make([][]int, nb)
	for r, i := range order {
		b := r * nb / n
		bin[i] = b
		members[b] = append(members[b], i)
	}
	rep.BinVariance = make([]float64, nb)
	rep.BinMean = make([]float64, nb)
	rep.BinUpper = make([]float64, nb)
	for b, m := range members {
		var s, ss float64
		for _, i := range m {
			s += rate[i]
		}
		mean := s / float64(len(m))
		for _, i := range m {
			d := rate[i] - mean
			ss += d * d
		}
		rep.BinMean[b] = mean
		if len(m) > 1 {
			rep.BinVariance[b] = ss / float64(len(m)-1)
		}
		rep.BinUpper[b] = pred[m[len(m)-1]]
	}

	rng := rand.New(rand.NewPCG(opts.Seed, 0x6e6f697365))
	rows := make([][]int, k)
	for i, p := range pkg {
		rows[p] = append(rows[p], i)
	}
	rep.Packages = make([]PackageNoise, k)
	rep.PAll = 1
	for p, rs := range rows {
		pn := PackageNoise{Package: p, Loans: len(rs)}
		var v, vr float64
		for _, i := range rs {
			e := exposure[i]
			pn.Predicted += e * pred[i]
			pn.Recovered += e * rate[i]
			v += e * e * rep.BinVariance[bin[i]]
			d := e * (rate[i] - pred[i])
			vr += d * d
		}
		if pn.Predicted > 0 {
			pn.ErrorPct = 100 * (pn.Recovered - pn.Predicted) / pn.Predicted
			pn.SDPct = 100 * math.Sqrt(v) / pn.Predicted
			pn.ResidualSDPct = 100 * math.Sqrt(vr) / pn.Predicted
			pn.BootstrapSDPct = 100 * bootstrapSD(rng, rs, exposure, pred, rate, 2000)
			pn.PWithin = pWithin(opts.Tolerance, pn.SDPct/100)
		}
		rep.PAll *= pn.PWithin
		rep.Packages[p] = pn
	}
	if opts.Draws > 0 {
		hits := make([]int, k)
		all := 0
		for range opts.Draws {
			ok := true
			for p, rs := range rows {
				var diff, mu float64
				for _, i := range rs {
					m := members[bin[i]]
					drawn := rate[m[rng.IntN(len(m))]]
					mean := rep.BinMean[bin[i]]
					diff += exposure[i] * (drawn - mean)
					mu += exposure[i] * mean
				}
				if mu > 0 && math.Abs(diff) <= opts.Tolerance*mu {
					hits[p]++
				} else {
					ok = false
				}
			}
			if ok {
				all++
			}
		}
		for p := range rep.Packages {
			rep.Packages[p].PWithinSim = float64(hits[p]) / float64(opts.Draws)
		}
		rep.PAllSim = float64(all) / float64(opts.Draws)
	}
	return rep
}

// bootstrapSD is the standard deviation of (Σ a − Σ μ) / Σ μ over resamples of rows.
func bootstrapSD(rng *rand.Rand, rows []int, exposure, pred, rate []float64, draws int) float64 {
	if len(rows) < 2 {
		return 0
	}
	var s, ss float64
	for range draws {
		var a, m float64
		for range rows {
			i := rows[rng.IntN(len(rows))]
			a += exposure[i] * rate[i]
			m += exposure[i] * pred[i]
		}
		e := 0.0
		if m > 0 {
			e = (a - m) / m
		}
		s += e
		ss += e * e
	}
	mean := s / float64(draws)
	return math.Sqrt(math.Max(0, ss/float64(draws)-mean*mean))
}

// pWithin is P(|N(0, sd²)| <= tol).
func pWithin(tol, sd float64) float64 {
	if !(sd > 0) {
		return 1
	}
	return math.Erf(tol / (sd * math.Sqrt2))
}
