package pricing

import "math"

// This file exports the systemic factor of the Monte Carlo (see MonteCarloConfig) for other
// engines that simulate recoveries at pool level, such as the ABS engine, so that both use one
// model with one set of parameters.

// PoolPath is one path's systemic state for a large pool whose loans share one probability of
// recovery: the factor Z, the multiplier of the pool's expected recoveries, and the timing stretch
// and delay of MonteCarloConfig.
type PoolPath struct {
	// Z is the systemic draw (low is bad).
	Z float64
	// Multiplier scales the pool's expected recovery amount on this path; its mean over Z and ξ
	// is 1. It is p(Z)/p̄ × A / c, the limit of the loan-level model for a pool of many loans
	// (the idiosyncratic noise averages out): p(Z) = Φ((Φ⁻¹(p̄) + √ρ·Z) / √(1−ρ)), A the
	// systemic severity scale and c = Φ(Φ⁻¹(p̄) + √ρ·σ_A·β) / p̄ the correction of the mean.
	Multiplier float64
	// Stretch is s = exp(−TimingStretch·Z), clipped to [1/2, 2].
	Stretch float64
	// Delay is d = TimingDelay·max(0, −Z) months.
	Delay float64
}

// PoolPath draws path p's systemic state for a pool whose loans recover with probability
// pRecovery (in (0, 1)), from the stream (cfg.Seed, p): deterministic in the seed and the path
// index. Only Rho, SeverityVol, SeverityCorrelation, TimingStretch and TimingDelay are used.
func (c *MonteCarloConfig) PoolPath(pRecovery float64, p int) PoolPath {
	r := newXrng(c.Seed, uint64(p))
	st := c.state(r.norm(), r.norm())
	a := normQuantile(pRecovery)
	pz := normCDF((a + math.Sqrt(c.Rho)*st.z) / math.Sqrt(1-c.Rho))
	lift := normCDF(a+math.Sqrt(c.Rho)*c.SeverityVol*c.SeverityCorrelation) / pRecovery
	return PoolPath{Z: st.z, Multiplier: pz / pRecovery * st.scale / lift, Stretch: st.stretch, Delay: st.delay}
}

// CheckPool validates the settings PoolPath uses, as an *InputError.
func (c *MonteCarloConfig) CheckPool() error { return c.check() }
