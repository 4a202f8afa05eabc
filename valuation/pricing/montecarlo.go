package pricing

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// MonteCarloConfig sets up Engine.Simulate. Start from DefaultMonteCarlo.
//
// The model, per path: a systemic draw Z ~ N(0, 1) describes the collection environment, low Z
// being bad. Given Z,
//
//   - loan i recovers with probability p_i(Z) = Φ((Φ⁻¹(PRecovery_i) + √ρ·Z) / √(1−ρ)) (the
//     one-factor Gaussian copula of Vasicek: the loan recovers when its latent variable
//     √ρ·Z + √(1−ρ)·ε_i, ε_i ~ N(0, 1), exceeds −Φ⁻¹(PRecovery_i)); recoveries are independent
//     given Z, and E[p_i(Z)] = PRecovery_i;
//   - a loan that recovers pays Claim × severity × A × η_i / c_i, where severity =
//     min(ExpectedRate / PRecovery, 1), A = exp(σ_A·W − σ_A²/2) is a systemic lognormal scale
//     with W = β·Z + √(1−β²)·ξ (ξ ~ N(0, 1) drawn once per path), η_i = exp(σ_η·ν_i − σ_η²/2),
//     ν_i ~ N(0, 1), is the loan's own noise, and c_i = E[p_i(Z)·A] / PRecovery_i =
//     Φ(Φ⁻¹(PRecovery_i) + √ρ·σ_A·β) / PRecovery_i undoes the lift that the correlation of A with
//     the recovery event would give the mean. So every loan's expected recovery is exactly
//     Claim × EffectiveRate, as in the projection: the systemic factors move recoveries between
//     good and bad states without changing their expectation. Amounts are not capped;
//   - every curve is stretched by s = exp(−TimingStretch·Z), clipped to [1/2, 2], and delayed by
//     d = TimingDelay·max(0, −Z) months: the path's cumulative share by time t is C((t−d)/s), C
//     being the curve's cumulative share, linear within a month. Collections pushed beyond the
//     horizon are lost to the valuation (so with timing effects on, the mean collections within
//     the horizon fall a little below the projection's); servicing follows the stretched
//     survival.
//
// Collection cost is CollectionCostRate of each path's gross; legal cost is the deterministic
// expected cost of the projection (litigation is decided at boarding).
//
// Cohorts: an engine built by a Builder that did not keep its loans samples the same model by
// cohort (a curve × a band of Φ⁻¹(PRecovery) of width CohortBand): per path, the systemic draws
// are the loan-level simulator's (same seed, same path), the number of payers of a cohort is
// Binomial(n, p̄(Z)) at the cohort's mean threshold, and their total amount is lognormal with the
// mean and variance of a sum of that many payers; the mean is exact (each cohort's expected
// collections are Σ Claim × EffectiveRate, as in the projection), the spread within a band is
// approximated. Exact is refused on such an engine.
type MonteCarloConfig struct {
	// Paths is the number of simulated paths, at least 1.
	Paths int
	// Seed makes the simulation reproducible: the same seed, portfolio, assumptions and settings
	// give the same paths whatever the number of workers.
	Seed uint64
	// Workers is the number of goroutines, 0 meaning runtime.GOMAXPROCS(0).
	Workers int
	// Rho is the asset correlation ρ of the copula, in [0, 1).
	Rho float64
	// SeverityVol is σ_A, the volatility of the systemic scale of recovery amounts. Not negative.
	SeverityVol float64
	// SeverityCorrelation is β, the correlation of ln A with Z, in [−1, 1]; positive means bad
	// states also lower amounts.
	SeverityCorrelation float64
	// IdiosyncraticVol is σ_η, the volatility of each payer's own severity noise. Not negative.
	IdiosyncraticVol float64
	// TimingStretch is how much one standard deviation of Z stretches the timing curves
	// (s = exp(−TimingStretch·Z)). Not negative.
	TimingStretch float64
	// TimingDelay is the delay, in months, added per standard deviation of bad Z. Not negative.
	TimingDelay float64
	// TimingKeepsTotal makes timing effects move collections within the horizon without
	// changing their total: each path's warped monthly shares are scaled to sum to the curve's
	// total within the horizon (so the paths' mean collections equal the projection's). Use it
	// when the curves cover only the horizon the expected rates refer to (a recovery model's
	// curves), where stretching would otherwise lose collections in bad states but could not
	// bring later ones forward in good states.
	TimingKeepsTotal bool
	// Exact selects the plain loan-level reference simulator (Φ evaluated per loan and path, a
	// uniform draw per loan, each payer's flows spread over its own curve) instead of the fast
	// simulator (precomputed thresholds, latent-variable comparison, per-curve accumulators). Both
	// sample the same model; Exact is slower and exists to check the fast one.
	Exact bool
}

// DefaultMonteCarlo returns 1,000 paths, seed 1, all cores, ρ = 0.1, a systemic severity
// volatility of 0.15 correlated 0.7 with Z, idiosyncratic severity volatility 0.5, a timing stretch
// of 0.1 and a delay of 1 month per standard deviation of bad Z [estimates].
func DefaultMonteCarlo() MonteCarloConfig {
	return MonteCarloConfig{
		Paths:               1000,
		Seed:                1,
		Rho:                 0.1,
		SeverityVol:         0.15,
		SeverityCorrelation: 0.7,
		IdiosyncraticVol:    0.5,
		TimingStretch:       0.1,
		TimingDelay:         1,
	}
}

// maxPaths bounds Paths so that a request cannot exhaust memory.
const maxPaths = 1_000_000

func (c *MonteCarloConfig) check() error {
	var ps problems
	if c.Paths < 1 || c.Paths > maxPaths {
		ps.setting("MonteCarloConfig.Paths", float64(c.Paths), fmt.Sprintf("must be in [1, %d]", maxPaths))
	}
	if c.Workers < 0 {
		ps.setting("MonteCarloConfig.Workers", float64(c.Workers), "must not be negative")
	}
	if !(c.Rho >= 0 && c.Rho < 1) {
		ps.setting("MonteCarloConfig.Rho", c.Rho, "must be in [0, 1)")
	}
	nonNeg := func(field string, v float64) {
		if !finite(v) || v < 0 {
			ps.setting("MonteCarloConfig."+field, v, "must be finite and not negative")
		}
	}
	nonNeg("SeverityVol", c.SeverityVol)
	nonNeg("IdiosyncraticVol", c.IdiosyncraticVol)
	nonNeg("TimingStretch", c.TimingStretch)
	nonNeg("TimingDelay", c.TimingDelay)
	if !(c.SeverityCorrelation >= -1 && c.SeverityCorrelation <= 1) {
		ps.setting("MonteCarloConfig.SeverityCorrelation", c.SeverityCorrelation, "must be in [-1, 1]")
	}
	return ps.err()
}

// state is a path's systemic draw and what follows from it.
type state struct {
	z       float64 // systemic factor
	scale   float64 // A, the systemic severity scale
	stretch float64 // s
	delay   float64 // d, months
}

func (c *MonteCarloConfig) state(z, xi float64) state {
	b := c.SeverityCorrelation
	w := b*z + math.Sqrt(max(1-b*b, 0))*xi
	sa := c.SeverityVol
	return state{
		z:       z,
		scale:   math.Exp(sa*w - sa*sa/2),
		stretch: min(max(math.Exp(-c.TimingStretch*z), 0.5), 2),
		delay:   c.TimingDelay * max(0, -z),
	}
}

// cumAt is the cumulative share of a curve by time t (months), linear within a month.
func cumAt(cum []float64, t float64) float64 {
	if t <= 0 {
		return 0
	}
	n := len(cum) - 1
	if t >= float64(n) {
		return cum[n]
	}
	j := int(t)
	return cum[j] + (t-float64(j))*(cum[j+1]-cum[j])
}

// warp fills share[m-1] with the share of lifetime recovery collected in month m and surv[m-1]
// with the share of accounts still worked in month m, for the curve with cumulative shares cum
// stretched by s and delayed by d months (see MonteCarloConfig). With s = 1 and d = 0 it gives back
// the curve and the survival of the projection.
func warp(cum []float64, s, d float64, share, surv []float64) {
	prev := cumAt(cum, -d/s)
	for m := range share {
		next := cumAt(cum, (float64(m+1)-d)/s)
		share[m] = next - prev
		surv[m] = max(1-prev, 0)
		prev = next
	}
}

// keepTotal scales share to sum to the curve's cumulative share at the end of the horizon.
func keepTotal(cum, share []float64) {
	total := 0.0
	for _, v := range share {
		total += v
	}
	want := cumAt(cum, float64(len(share)))
	if total > 0 && want > 0 {
		k := want / total
		for m := range share {
			share[m] *= k
		}
	}
}

// Simulation holds the simulated paths: per path, monthly gross collections and net flows in yuan
// (month m at index m-1). It is read-only once returned.
type Simulation struct {
	// Horizon is the number of months of each path.
	Horizon int
	// Claim is the portfolio's total claim.
	Claim float64
	// Config is the configuration that produced the paths (with Workers as run).
	Config MonteCarloConfig
	// Z is the systemic draw of each path.
	Z []float64
	// Gross[p] is path p's monthly gross collections.
	Gross [][]float64
	// Net[p] is path p's monthly net cash flow (gross less collection, legal and servicing cost).
	Net [][]float64
}

// pathWork is a worker's scratch space.
type pathWork struct {
	acc    []float64   // per curve: Σ payer amounts (before the systemic scale)
	share  [][]float64 // per curve: the path's warped monthly shares
	surv   [][]float64 // per curve: the path's warped survival
	serv   []float64   // servicing
	payers []int32     // the path's payers (fast simulator)
}

// Simulate runs the Monte Carlo described by MonteCarloConfig. It is deterministic in cfg.Seed,
// whatever cfg.Workers, and stops early with ctx's error when ctx is cancelled. An invalid
// configuration is an *InputError.
func (e *Engine) Simulate(ctx context.Context, cfg MonteCarloConfig) (*Simulation, error) {
	return e.SimulateProgress(ctx, cfg, nil)
}

// SimulateProgress is Simulate telling progress, when not nil, how many paths are done: the
// counts it is given never decrease and the last is cfg.Paths when the simulation completes.
// Calls are serialised; ctx is checked before every path.
func (e *Engine) SimulateProgress(ctx context.Context, cfg MonteCarloConfig, progress func(done int)) (*Simulation, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Exact && e.cohorts != nil {
		return nil, &InputError{Total: 1, Problems: []Problem{{Loan: -1, Curve: -1, Field: "MonteCarloConfig.Exact", Value: 1,
			Rule: "needs a loan-level engine; a cohort engine keeps no loan"}}}
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, cfg.Paths)
	cfg.Workers = workers
	h := e.a.Horizon
	sim := &Simulation{
		Horizon: h,
		Claim:   e.claim,
		Config:  cfg,
		Z:       make([]float64, cfg.Paths),
		Gross:   make([][]float64, cfg.Paths),
		Net:     make([][]float64, cfg.Paths),
	}
	gross := make([]float64, cfg.Paths*h)
	net := make([]float64, cfg.Paths*h)
	for p := range cfg.Paths {
		sim.Gross[p] = gross[p*h : (p+1)*h : (p+1)*h]
		sim.Net[p] = net[p*h : (p+1)*h : (p+1)*h]
	}
	amounts := e.actAmount
	if lift := math.Sqrt(cfg.Rho) * cfg.SeverityVol * cfg.SeverityCorrelation; lift != 0 {
		amounts = make([]float64, len(e.actAmount))
		for i, t := range e.actThreshold {
			amounts[i] = e.actAmount[i] * normCDF(t) / normCDF(t+lift)
		}
	}
	var cs []cohortSim
	if e.cohorts != nil {
		cs = e.prepareCohorts(&cfg)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var pmu sync.Mutex
	done := 0
	step := max(1, cfg.Paths/200) // about 200 reports per run
	report := func(n int) {
		pmu.Lock()
		done += n
		progress(done)
		pmu.Unlock()
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := e.newWork(cfg.Exact)
			unreported := 0
			for {
				p := int(next.Add(1) - 1)
				if p >= cfg.Paths || ctx.Err() != nil {
					if progress != nil && unreported > 0 && ctx.Err() == nil {
						report(unreported)
					}
					return
				}
				e.path(&cfg, amounts, cs, p, w, sim)
				if unreported++; progress != nil && unreported >= step {
					report(unreported)
					unreported = 0
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sim, nil
}

func (e *Engine) newWork(exact bool) *pathWork {
	h := e.a.Horizon
	w := &pathWork{
		acc:   make([]float64, len(e.curves)),
		share: make([][]float64, len(e.curves)),
		surv:  make([][]float64, len(e.curves)),
		serv:  make([]float64, h),
	}
	if !exact {
		w.payers = make([]int32, len(e.actThreshold))
	}
	for c := range e.curves {
		w.share[c] = make([]float64, h)
		w.surv[c] = make([]float64, h)
	}
	return w
}

// path simulates path p into sim; amounts are the fast simulator's per-loan amounts given
// recovery, before the systemic scale and the noise. Its random numbers come from a xoshiro256++
// stream keyed by (Seed, p), so the path does not depend on which worker runs it.
func (e *Engine) path(cfg *MonteCarloConfig, amounts []float64, cs []cohortSim, p int, w *pathWork, sim *Simulation) {
	r := newXrng(cfg.Seed, uint64(p))
	st := cfg.state(r.norm(), r.norm())
	sim.Z[p] = st.z
	for c := range e.curves {
		warp(e.cum[c], st.stretch, st.delay, w.share[c], w.surv[c])
		if cfg.TimingKeepsTotal {
			keepTotal(e.cum[c], w.share[c])
		}
	}
	gross, net := sim.Gross[p], sim.Net[p]
	if cfg.Exact {
		e.exactLoans(cfg, &r, st, w, gross)
	} else {
		if e.cohorts != nil {
			e.cohortLoans(cfg, cs, &r, st, w)
		} else {
			e.fastLoans(cfg, amounts, &r, st, w)
		}
		for c, a := range w.acc {
			if a == 0 {
				continue
			}
			a *= st.scale
			for m, s := range w.share[c] {
				gross[m] += a * s
			}
		}
		clear(w.serv)
		for c, open := range e.curveOpen {
			if open == 0 {
				continue
			}
			k := e.a.ServicingCost * open
			for m, s := range w.surv[c] {
				w.serv[m] += k * s
			}
		}
	}
	for m := range gross {
		net[m] = gross[m] - e.a.CollectionCostRate*gross[m] - w.serv[m]
	}
	net[e.a.LegalFeeMonth-1] -= e.legal
}

// fastLoans draws every paying-capable loan for one path and adds the payers' amounts (before the
// systemic scale) to their curve's accumulator. A loan recovers when its idiosyncratic normal ε
// satisfies √(1−ρ)·ε − √ρ·Z < Φ⁻¹(PRecovery), which is the copula event without evaluating Φ.
// The first pass keeps the generator's state in local variables, writes the ziggurat's fast path
// out and only records the payers, so that it runs in registers without calls or unpredictable
// branches; the second pass draws the payers' severity noise.
func (e *Engine) fastLoans(cfg *MonteCarloConfig, amt []float64, r *xrng, st state, w *pathWork) {
	clear(w.acc)
	k := math.Sqrt(1 - cfg.Rho)
	shift := math.Sqrt(cfg.Rho) * st.z
	thr, cur := e.actThreshold, e.actCurve
	amt = amt[:len(thr)]
	cur = cur[:len(thr)]
	payers := w.payers[:len(thr)]
	n := 0
	s0, s1, s2, s3 := r.s0, r.s1, r.s2, r.s3
	for i, t := range thr {
		u := bits.RotateLeft64(s0+s3, 23) + s0
		v := s1 << 17
		s2 ^= s0
		s3 ^= s1
		s1 ^= s2
		s0 ^= s3
		s2 ^= v
		s3 = bits.RotateLeft64(s3, 45)
		j := int32(u >> 32)
		l := u & 127
		a := uint32(j)
		if j < 0 {
			a = uint32(-j)
		}
		x := float64(j) * zigW[l]
		if a >= zigK[l] {
			r.s0, r.s1, r.s2, r.s3 = s0, s1, s2, s3
			x = r.zigSlow(j, l)
			s0, s1, s2, s3 = r.s0, r.s1, r.s2, r.s3
		}
		payers[n] = int32(i)
		if k*x-shift < t {
			n++
		}
	}
	r.s0, r.s1, r.s2, r.s3 = s0, s1, s2, s3
	acc := w.acc
	sig := cfg.IdiosyncraticVol
	if sig == 0 {
		for _, i := range payers[:n] {
			acc[cur[i]] += amt[i]
		}
		return
	}
	half := sig * sig / 2
	for _, i := range payers[:n] {
		acc[cur[i]] += amt[i] * math.Exp(sig*r.norm()-half)
	}
}

// exactLoans is the loan-level reference: for every loan it evaluates p_i(Z) and c_i with Φ,
// draws a uniform, and spreads a payer's amount over its own (warped) curve month by month;
// servicing is added loan by loan.
func (e *Engine) exactLoans(cfg *MonteCarloConfig, r *xrng, st state, w *pathWork, gross []float64) {
	k := math.Sqrt(1 - cfg.Rho)
	sr := math.Sqrt(cfg.Rho)
	sig := cfg.IdiosyncraticVol
	clear(w.serv)
	for i := range e.loans {
		l := &e.loans[i]
		if l.Open {
			s := w.surv[l.Curve]
			for m := range w.serv {
				w.serv[m] += e.a.ServicingCost * s[m]
			}
		}
		sev, rate := severity(l)
		if rate == 0 || l.Claim == 0 {
			continue
		}
		a := normQuantile(l.PRecovery)
		pz := normCDF((a + sr*st.z) / k)
		if r.float64() >= pz {
			continue
		}
		lift := normCDF(a+sr*cfg.SeverityVol*cfg.SeverityCorrelation) / l.PRecovery
		amount := l.Claim * sev * st.scale / lift
		if sig > 0 {
			amount *= math.Exp(sig*r.norm() - sig*sig/2)
		}
		for m, s := range w.share[l.Curve] {
			gross[m] += amount * s
		}
	}
}
