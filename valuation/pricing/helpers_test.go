package pricing

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// marketCurve returns a curve of 12·len(years) months whose calendar years carry the given shares
// (normalised), front-loaded within each year by a monthly decay factor.
func marketCurve(decay float64, years ...float64) []float64 {
	if len(years) == 0 {
		years = []float64{0.40, 0.27, 0.17, 0.10, 0.06} // market.md timing
	}
	total := 0.0
	for _, y := range years {
		total += y
	}
	w := 0.0
	for k := range 12 {
		w += math.Pow(decay, float64(k))
	}
	c := make([]float64, 12*len(years))
	for y, share := range years {
		for k := range 12 {
			c[12*y+k] = share / total * math.Pow(decay, float64(k)) / w
		}
	}
	return c
}

// testCurves are three segment curves: the market curve, a faster one and a slower 36-month one.
func testCurves() [][]float64 {
	return [][]float64{
		marketCurve(0.93),
		marketCurve(0.85, 0.55, 0.25, 0.12, 0.05, 0.03),
		marketCurve(0.97, 0.5, 0.3, 0.2),
	}
}

// synthPortfolio returns n loans with lognormal claims (median 30,000 yuan), recovery
// probabilities between 2% and 35%, severities between 20% and 80%, a tenth litigated and four
// fifths open, spread over testCurves.
func synthPortfolio(n int, seed uint64) Portfolio {
	r := rand.New(rand.NewPCG(seed, 99))
	loans := make([]Loan, n)
	for i := range loans {
		p := 0.02 + 0.33*r.Float64()
		sev := 0.2 + 0.6*r.Float64()
		lit := 0.0
		if r.IntN(10) == 0 {
			lit = 1
		}
		loans[i] = Loan{
			ID:           fmt.Sprintf("L%07d", i),
			Claim:        math.Round(100*math.Exp(math.Log(30000)+0.8*r.NormFloat64())) / 100,
			PRecovery:    p,
			ExpectedRate: p * sev,
			Curve:        r.IntN(3),
			PLitigation:  lit,
			Open:         r.IntN(5) != 0,
		}
	}
	return Portfolio{Loans: loans, Curves: testCurves()}
}
