package synth

import (
	"math"
	"math/rand/v2"
)

// Stream kinds keep the PCG streams of borrowers, loans, injections and outcomes apart.
const (
	streamBorrower uint64 = 0xb0
	streamLoan     uint64 = 0x10
	streamInject   uint64 = 0x1e
	streamOutcome  uint64 = 0x0c
)

// splitmix64 is a bijective mixer used to derive independent PCG seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newRand returns the PCG stream for (seed, kind, index): the same triple always yields the same
// numbers, whatever else is generated.
func newRand(seed, kind uint64, index int) *rand.Rand {
	hi := splitmix64(seed ^ splitmix64(kind))
	lo := splitmix64(hi ^ uint64(index)*0xd1342543de82ef95)
	return rand.New(rand.NewPCG(hi, lo))
}

// OutcomeRand returns the random stream that Outcome should use for the loan with the given
// index (Item.Index) generated under seed, so that a loan's future collections are reproducible
// and independent of every other loan's.
func OutcomeRand(seed uint64, index int) *rand.Rand { return newRand(seed, streamOutcome, index) }

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// lognormal draws exp(N(ln median, sigma)).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// uniform draws from [a, b).
func uniform(r *rand.Rand, a, b float64) float64 { return a + (b-a)*r.Float64() }

// between draws an int in [a, b].
func between(r *rand.Rand, a, b int) int {
	if b <= a {
		return a
	}
	return a + r.IntN(b-a+1)
}

// pick draws an index with probability proportional to w.
func pick(r *rand.Rand, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u := r.Float64() * t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// poisson draws a Poisson count with mean lambda (Knuth; lambda is small here).
func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }
