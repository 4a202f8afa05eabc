package valuation

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"reclaim/date"
	"reclaim/valuation/pricing"
)

func stdNormCDF(x float64) float64      { return 0.5 * math.Erfc(-x/math.Sqrt2) }
func stdNormQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// Uncertainty is the model's estimate, from its training data, of how much a portfolio's
// collections move beyond what the loan-level scores say: the systemic factor (cohorts of loans
// that recovered together more or less than predicted), the dispersion of amounts around the
// predicted severity, and the dispersion of timing. MonteCarlo turns it into the pricing engine's
// configuration. docs/valuation.md ("Uncertainty") gives the method.
type Uncertainty struct {
	// Method names the estimator.
	Method string `json:"method"`
	// Grouping is the cohort grouping the systemic estimates come from (the one of the groupings
	// tried that showed the most systemic dispersion), Cohorts its number of cohorts used and
	// Groupings every grouping's estimates.
	Grouping  string             `json:"grouping"`
	Cohorts   int                `json:"cohorts"`
	Groupings []CohortDispersion `json:"groupings"`
	// TotalVol is the standard deviation of the systemic multiplier of a portfolio's collections
	// (actual / predicted of a cohort, beyond the loan-level noise); CountVol the same for the
	// number of loans with a material recovery; AmountVol the rest: (1 + TotalVol²) / (1 +
	// CountVol²) − 1 = AmountVol².
	TotalVol  float64 `json:"total_vol"`
	CountVol  float64 `json:"count_vol"`
	AmountVol float64 `json:"amount_vol"`
	// IdiosyncraticVol is σ of the lognormal noise of a recovering loan's amount around its
	// severity: ln(1 + Σ e²(rate − severity)² / Σ e² severity²) over the held-out material loans.
	IdiosyncraticVol float64 `json:"idiosyncratic_vol"`
	// TimingStretch is the standard deviation across cohorts of the log of their mean collection
	// month relative to the whole pool's, beyond sampling noise (0 without timing).
	TimingStretch float64 `json:"timing_stretch"`
	// Rho is the copula correlation that gives CountVol at the portfolio's mean P(material)
	// (MeanP), and SeverityVol σ_A = √ln(1 + AmountVol²).
	Rho         float64 `json:"rho"`
	SeverityVol float64 `json:"severity_vol"`
	MeanP       float64 `json:"mean_p"`
}

// CohortDispersion is the random-effects (DerSimonian-Laird) estimate of one cohort grouping.
type CohortDispersion struct {
	// Grouping names the cohorts: "origination_quarter" or "default_quarter" (prefixed by the
	// portfolio).
	Grouping string `json:"grouping"`
	// Cohorts is the number of cohorts with at least MinCohortLoans loans.
	Cohorts int `json:"cohorts"`
	// TotalVol and CountVol are τ of the collections' and of the material count's ratio.
	TotalVol float64 `json:"total_vol"`
	CountVol float64 `json:"count_vol"`
	// Ratios are the cohorts' actual / predicted collections, largest cohorts first (at most 40).
	Ratios []CohortRatio `json:"ratios,omitempty"`
	// StretchVol is the timing estimate of this grouping.
	StretchVol float64 `json:"stretch_vol"`
}

// CohortRatio is one cohort's actual against predicted collections.
type CohortRatio struct {
	Cohort    string  `json:"cohort"`
	Loans     int     `json:"loans"`
	Ratio     float64 `json:"ratio"`
	NoiseSD   float64 `json:"noise_sd"`
	CountRate float64 `json:"count_ratio"`
}

// MinCohortLoans is the fewest loans a cohort needs to enter the estimate.
const MinCohortLoans = 30

// quarterKey names the calendar quarter of d ("2011Q3"), "unknown" for a zero date.
func quarterKey(d date.Date) string {
	if d.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("%04dQ%d", d.Year(), (int(d.Month())-1)/3+1)
}

// dlTau is the DerSimonian-Laird estimate of the between-cohort standard deviation of ratios r
// with within-cohort sampling variances v.
func dlTau(r, v []float64) float64 {
	var sw, sw2, swr float64
	k := 0
	for i := range r {
		if !(v[i] > 0) || math.IsNaN(r[i]) {
			continue
		}
		w := 1 / v[i]
		sw += w
		sw2 += w * w
		swr += w * r[i]
		k++
	}
	if k < 3 {
		return 0
	}
	mean := swr / sw
	q := 0.0
	for i := range r {
		if !(v[i] > 0) || math.IsNaN(r[i]) {
			continue
		}
		d := r[i] - mean
		q += d * d / v[i]
	}
	den := sw - sw2/sw
	if !(den > 0) || math.IsInf(sw, 0) {
		return 0
	}
	t2 := (q - float64(k-1)) / den
	if math.IsNaN(t2) || math.IsInf(t2, 0) {
		return 0
	}
	return math.Sqrt(max(t2, 0))
}

// estimateUncertainty estimates the Uncertainty from held-out predictions of every row of t
// (p: P(material), pred: expected rate).
func estimateUncertainty(t *Table, p, pred []float64) Uncertainty {
	n := t.Rows()
	u := Uncertainty{Method: "DerSimonian-Laird random effects on cohort actual/predicted ratios; moments of held-out severity residuals"}
	// Idiosyncratic amount noise.
	var num, den, sp float64
	for i := range n {
		sp += p[i]
		if t.Rate[i] < MaterialThreshold || !(p[i] > 0) {
			continue
		}
		s := pred[i] / p[i]
		e2 := t.Exposure[i] * t.Exposure[i]
		d := t.Rate[i] - s
		num += e2 * d * d
		den += e2 * s * s
	}
	if den > 0 {
		u.IdiosyncraticVol = math.Sqrt(math.Log1p(num / den))
	}
	u.MeanP = sp / float64(max(n, 1))
	portfolio := make([]string, len(t.Cohort))
	for i, c := range t.Cohort {
		if k := strings.LastIndexByte(c, '|'); k >= 0 {
			portfolio[i] = c[:k]
		}
	}
	// The systemic estimate comes from vintages: separate portfolios when the training data has
	// at least three, else the origination (issue) quarters of its one portfolio. The default
	// quarter is reported but not used: it is close to the time since default, a feature, so
	// its cohorts' ratios measure how well the model fits that feature more than the
	// collection environment.
	for _, g := range []struct {
		name string
		keys []string
	}{{"portfolio", portfolio}, {"origination_quarter", t.Cohort}, {"default_quarter", t.DefaultCohort}} {
		if len(g.keys) != n {
			continue
		}
		cd := cohortDispersion(t, g.name, g.keys, p, pred)
		u.Groupings = append(u.Groupings, cd)
		if u.Grouping == "" && cd.Cohorts >= 3 && g.name != "default_quarter" {
			u.Grouping, u.Cohorts, u.TotalVol, u.CountVol, u.TimingStretch = cd.Grouping, cd.Cohorts, cd.TotalVol, cd.CountVol, cd.StretchVol
		}
	}
	u.CountVol = min(u.CountVol, u.TotalVol)
	u.AmountVol = math.Sqrt(max((1+u.TotalVol*u.TotalVol)/(1+u.CountVol*u.CountVol)-1, 0))
	u.SeverityVol = math.Sqrt(math.Log1p(u.AmountVol * u.AmountVol))
	u.Rho = rhoForCountVol(u.MeanP, u.CountVol)
	for _, x := range []*float64{&u.TotalVol, &u.CountVol, &u.AmountVol, &u.IdiosyncraticVol, &u.TimingStretch, &u.Rho, &u.SeverityVol, &u.MeanP} {
		if math.IsNaN(*x) || math.IsInf(*x, 0) {
			*x = 0
		}
	}
	return u
}

func cohortDispersion(t *Table, name string, keys []string, p, pred []float64) CohortDispersion {
	type acc struct {
		loans                     int
		act, pr, noise, cnt, ecnt float64
		cvar                      float64
		tm, tw, tnoise            float64 // timing: Σ amount × mean month, Σ amount, Σ amount² × month²
	}
	cells := map[string]*acc{}
	var poolTM, poolTW float64
	for i, k := range keys {
		c := cells[k]
		if c == nil {
			c = &acc{}
			cells[k] = c
		}
		e := t.Exposure[i]
		c.loans++
		c.act += e * t.Rate[i]
		c.pr += e * pred[i]
		d := e * (t.Rate[i] - pred[i])
		c.noise += d * d
		if t.Rate[i] >= MaterialThreshold {
			c.cnt++
		}
		c.ecnt += p[i]
		c.cvar += p[i] * (1 - p[i])
		if len(t.MeanMonth) == t.Rows() && !math.IsNaN(t.MeanMonth[i]) {
			a := e * t.Rate[i]
			c.tm += a * t.MeanMonth[i]
			c.tw += a
			poolTM += a * t.MeanMonth[i]
			poolTW += a
		}
	}
	cd := CohortDispersion{Grouping: name}
	var r, v, rc, vc, lt, vt []float64
	poolM := poolTM / poolTW
	ks := make([]string, 0, len(cells))
	for k := range cells {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var ratios []CohortRatio
	for _, k := range ks {
		c := cells[k]
		if c.loans < MinCohortLoans || !(c.pr > 0) || !(c.ecnt > 0) {
			continue
		}
		cd.Cohorts++
		r = append(r, c.act/c.pr)
		v = append(v, c.noise/(c.pr*c.pr))
		rc = append(rc, c.cnt/c.ecnt)
		vc = append(vc, c.cvar/(c.ecnt*c.ecnt))
		ratios = append(ratios, CohortRatio{Cohort: k, Loans: c.loans, Ratio: c.act / c.pr, NoiseSD: math.Sqrt(c.noise) / c.pr, CountRate: c.cnt / c.ecnt})
		if c.tw > 0 && poolTW > 0 && poolM > 0 {
			m := c.tm / c.tw
			lt = append(lt, math.Log(m/poolM))
			// The sampling variance of the log mean month: the spread of the loans' mean months
			// weighted by their amounts.
			vt = append(vt, 0)
		}
	}
	cd.TotalVol = dlTau(r, v)
	cd.CountVol = dlTau(rc, vc)
	// Timing: the cohort means' sampling variances, from each loan's mean month.
	if len(lt) >= 3 {
		idx := 0
		for _, k := range ks {
			c := cells[k]
			if c.loans < MinCohortLoans || !(c.pr > 0) || !(c.ecnt > 0) || !(c.tw > 0) || !(poolTW > 0 && poolM > 0) {
				continue
			}
			m := c.tm / c.tw
			var s2 float64
			for i, kk := range keys {
				if kk != k || math.IsNaN(t.MeanMonth[i]) {
					continue
				}
				a := t.Exposure[i] * t.Rate[i] / c.tw
				d := (t.MeanMonth[i] - m) / m
				s2 += a * a * d * d
			}
			vt[idx] = s2
			idx++
		}
		cd.StretchVol = dlTau(lt, vt)
	}
	slices.SortStableFunc(ratios, func(a, b CohortRatio) int { return b.Loans - a.Loans })
	cd.Ratios = ratios[:min(len(ratios), 40)]
	return cd
}

// portfolioCountVar returns Var_Z[p(Z)] / p² of the copula at correlation rho and mean p.
func portfolioCountVar(p, rho float64) float64 {
	if !(p > 0 && p < 1) || rho <= 0 {
		return 0
	}
	a := stdNormQuantile(p)
	sr, k := math.Sqrt(rho), math.Sqrt(1-rho)
	// Simpson's rule over z in [-8, 8].
	const steps = 400
	h := 16.0 / steps
	var m2 float64
	for j := 0; j <= steps; j++ {
		z := -8 + float64(j)*h
		w := 2.0
		if j == 0 || j == steps {
			w = 1
		} else if j%2 == 1 {
			w = 4
		}
		pz := stdNormCDF((a + sr*z) / k)
		m2 += w * pz * pz * math.Exp(-z*z/2)
	}
	m2 *= h / 3 / math.Sqrt(2*math.Pi)
	return max(m2/(p*p)-1, 0)
}

// rhoForCountVol solves portfolioCountVar(p, ρ) = vol² for ρ by bisection (0 when vol is 0).
func rhoForCountVol(p, vol float64) float64 {
	if !(vol > 0) || !(p > 0 && p < 1) {
		return 0
	}
	lo, hi := 0.0, 0.95
	if portfolioCountVar(p, hi) < vol*vol {
		return hi
	}
	for range 60 {
		mid := (lo + hi) / 2
		if portfolioCountVar(p, mid) < vol*vol {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// MonteCarlo returns base with the systemic, amount and timing settings this estimate gives:
// Rho, SeverityVol (uncorrelated with the count factor: the two parts were estimated
// separately), IdiosyncraticVol and TimingStretch, and no timing delay. A model without an
// estimate (trained before it existed) returns base unchanged.
func (u *Uncertainty) MonteCarlo(base pricing.MonteCarloConfig) pricing.MonteCarloConfig {
	if u == nil || u.Method == "" {
		return base
	}
	base.Rho = min(u.Rho, 0.95)
	base.SeverityVol = u.SeverityVol
	base.SeverityCorrelation = 0
	base.IdiosyncraticVol = u.IdiosyncraticVol
	base.TimingStretch = u.TimingStretch
	base.TimingDelay = 0
	base.TimingKeepsTotal = true
	return base
}

// PoolMonteCarlo returns base with this estimate's settings for a pool simulated at pool level
// (pricing.MonteCarloConfig.PoolPath, as the ABS engine does) whose borrowers pay with
// probability payerRate: as MonteCarlo, except that ρ is solved at payerRate instead of the
// training data's MeanP, so that the pool's payer count keeps the estimated CountVol (the same ρ
// gives a larger relative spread at a lower payer rate). The pool multiplier's standard deviation
// is then the estimated TotalVol: √((1 + CountVol²)(1 + AmountVol²) − 1). A model without an
// estimate returns base unchanged.
func (u *Uncertainty) PoolMonteCarlo(base pricing.MonteCarloConfig, payerRate float64) pricing.MonteCarloConfig {
	if u == nil || u.Method == "" {
		return base
	}
	cfg := u.MonteCarlo(base)
	if payerRate > 0 && payerRate < 1 {
		cfg.Rho = rhoForCountVol(payerRate, u.CountVol)
	}
	return cfg
}
