package abs

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"reclaim"
	"reclaim/valuation/pricing"
)

// MonteCarloResult is the distribution of each tranche's outcome over the simulated paths.
type MonteCarloResult struct {
	Paths    int         `json:"paths"`
	Seed     uint64      `json:"seed"`
	Workers  int         `json:"workers"`
	Tranches []TrancheMC `json:"tranches"`
	// Collections summarises the pool's cash collected within the deal per path, in yuan.
	Collections Quantiles `json:"collections"`
	// Settings are the factor model's settings the paths were drawn with.
	Settings MonteCarloSettings `json:"settings"`
}

// MonteCarloSettings are the settings of pricing.MonteCarloConfig that a pool-level path uses
// (see PoolPath), and the payer rate it was drawn at.
type MonteCarloSettings struct {
	PayerRate           float64 `json:"payer_rate"`
	Rho                 float64 `json:"rho"`
	SeverityVol         float64 `json:"severity_vol"`
	SeverityCorrelation float64 `json:"severity_correlation"`
	TimingStretch       float64 `json:"timing_stretch"`
	TimingDelay         float64 `json:"timing_delay"`
}

// TrancheMC is one tranche's outcome distribution. Loss is the principal not repaid by the last
// payment date as a share of the tranche's balance.
type TrancheMC struct {
	Name string `json:"name"`
	// ExpectedLoss is the mean loss over the paths.
	ExpectedLoss float64 `json:"expected_loss"`
	// ProbLoss is the share of paths with any loss (at least one fen of principal unpaid).
	ProbLoss float64 `json:"probability_of_loss"`
	// ProbShortfall is the share of paths where interest was unpaid on some payment date.
	ProbShortfall float64 `json:"probability_of_interest_shortfall"`
	// Loss gives quantiles of the loss.
	Loss Quantiles `json:"loss"`
	// IRR gives quantiles of the IRR at the issue price (paths with no yield count as −100%).
	IRR Quantiles `json:"irr"`
	// WAL gives quantiles of the weighted average life of the principal repaid (ACT/365 years
	// from the pricing date, as Result's WAL), over the WALPaths paths on which the tranche
	// received some principal; unpaid principal is a loss and does not enter the WAL.
	WAL      Quantiles `json:"wal"`
	WALPaths int       `json:"wal_paths"`
}

// Quantiles are the mean and the 1st, 5th, 50th, 95th and 99th percentiles of a sample.
type Quantiles struct {
	Mean float64 `json:"mean"`
	P01  float64 `json:"p01"`
	P05  float64 `json:"p05"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
}

func quantiles(xs []float64) Quantiles {
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		x := p * float64(len(s)-1)
		i := int(x)
		if i+1 >= len(s) {
			return s[len(s)-1]
		}
		return s[i] + (x-float64(i))*(s[i+1]-s[i])
	}
	var sum float64
	for _, x := range s {
		sum += x
	}
	mean := 0.0
	if len(s) > 0 {
		mean = sum / float64(len(s))
	}
	return Quantiles{Mean: mean, P01: q(0.01), P05: q(0.05), P50: q(0.5), P95: q(0.95), P99: q(0.99)}
}

// daysPerMonth converts the factor model's delay in months to days.
const daysPerMonth = 365.25 / 12

// MonteCarlo simulates the pool's recovery amount and timing with the pricing engine's systemic
// factor (pricing.MonteCarloConfig.PoolPath, with the deal's pool.payer_rate as the probability
// that a borrower pays) and runs the waterfall on every path. On a path with factor Z, every
// projected flow is scaled by the path's multiplier (mean 1) and moved from τ days after the
// cut-off to Delay + Stretch·τ (the pricing engine's warp C((t−d)/s) applied to the dated
// flows); each period's sum is rounded to the fen, HALF_UP. Paths run on cfg.Workers goroutines
// (0: all cores); each path draws from its own stream keyed by (cfg.Seed, path), so the result
// does not depend on the number of workers. The run stops with ctx's error when ctx is
// cancelled.
func (d *Deal) MonteCarlo(ctx context.Context, cfg pricing.MonteCarloConfig) (*MonteCarloResult, error) {
	if err := cfg.CheckPool(); err != nil {
		return nil, err
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, cfg.Paths)
	// The flows as days after the cut-off; the collection period ends likewise.
	var tau, amt []float64
	for _, f := range d.forecast {
		if f.Date.After(d.cutoff) {
			tau = append(tau, float64(f.Date.Sub(d.cutoff)))
			amt = append(amt, float64(f.Amount.Minor()))
		}
	}
	ends := make([]float64, len(d.collEnd))
	for k, e := range d.collEnd {
		ends[k] = float64(e.Sub(d.cutoff))
	}
	nt := len(d.tranches)
	loss := make([]float64, cfg.Paths*nt)
	irr := make([]float64, cfg.Paths*nt)
	wal := make([]float64, cfg.Paths*nt) // NaN: no principal repaid on the path
	yrs := make([]float64, len(d.pay))
	for k, pd := range d.pay {
		yrs[k] = years(d.pricing, pd)
	}
	short := make([]bool, cfg.Paths*nt)
	cash := make([]float64, cfg.Paths)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRunner(d, false)
			sums := make([]float64, len(ends))
			coll := make([]int64, len(ends))
			flows := make([]CashFlow, 0, len(d.pay)+1)
			for {
				p := int(next.Add(1) - 1)
				if p >= cfg.Paths || ctx.Err() != nil {
					return
				}
				pp := cfg.PoolPath(d.payerRate, p)
				clear(sums)
				delay := pp.Delay * daysPerMonth
				k := 0
				for i, t := range tau {
					t2 := delay + pp.Stretch*t
					for k < len(ends) && t2 > ends[k] {
						k++
					}
					if k == len(ends) {
						break
					}
					sums[k] += amt[i] * pp.Multiplier
				}
				var total int64
				for k, s := range sums {
					coll[k] = int64(math.Round(s)) // HALF_UP: s >= 0
					total += coll[k]
				}
				cash[p] = float64(total) / 100
				if _, err := r.quiet(coll); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				for t, tr := range d.tranches {
					loss[p*nt+t] = float64(r.tBal[t]) / float64(tr.balance)
					short[p*nt+t] = r.shortfall[t]
					irr[p*nt+t] = r.fastIRR(t, flows)
					var pw, pr float64
					for k, x := range r.tPrin[t][:r.periods] {
						pw += float64(x) * yrs[k]
						pr += float64(x)
					}
					wal[p*nt+t] = math.NaN()
					if pr > 0 {
						wal[p*nt+t] = pw / pr
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, reclaim.WrapError(reclaim.ECANCELED, err, "Monte Carlo cancelled")
	}
	res := &MonteCarloResult{Paths: cfg.Paths, Seed: cfg.Seed, Workers: workers, Collections: quantiles(cash),
		Settings: MonteCarloSettings{PayerRate: d.payerRate, Rho: cfg.Rho, SeverityVol: cfg.SeverityVol, SeverityCorrelation: cfg.SeverityCorrelation,
			TimingStretch: cfg.TimingStretch, TimingDelay: cfg.TimingDelay}}
	col := make([]float64, cfg.Paths)
	for t, tr := range d.tranches {
		tm := TrancheMC{Name: tr.name}
		var nl, ns int
		for p := range cfg.Paths {
			col[p] = loss[p*nt+t]
			if col[p] > 0 {
				nl++
			}
			if short[p*nt+t] {
				ns++
			}
		}
		tm.Loss = quantiles(col)
		tm.ExpectedLoss = tm.Loss.Mean
		tm.ProbLoss = float64(nl) / float64(cfg.Paths)
		tm.ProbShortfall = float64(ns) / float64(cfg.Paths)
		for p := range cfg.Paths {
			col[p] = irr[p*nt+t]
		}
		tm.IRR = quantiles(col)
		col = col[:0]
		for p := range cfg.Paths {
			if w := wal[p*nt+t]; !math.IsNaN(w) {
				col = append(col, w)
			}
		}
		tm.WAL, tm.WALPaths = quantiles(col), len(col)
		col = col[:cfg.Paths]
		res.Tranches = append(res.Tranches, tm)
	}
	return res, nil
}

// fastIRR is tranche t's IRR at its issue price after a quiet run, by Newton's method from 5%
// (falling back to XIRR's bracketed search); −1 when the tranche received nothing.
func (r *runner) fastIRR(t int, flows []CashFlow) float64 {
	d := r.d
	tr := d.tranches[t]
	flows = flows[:0]
	flows = append(flows, CashFlow{Date: d.pricing, Amount: -float64(tr.balance) * tr.price.Float()})
	for k := range r.periods {
		if c := r.tInt[t][k] + r.tPrin[t][k] + r.tRes[t][k]; c > 0 {
			flows = append(flows, CashFlow{Date: d.pay[k], Amount: float64(c)})
		}
	}
	if len(flows) == 1 {
		return -1
	}
	x := 0.05
	for range 30 {
		var v, dv float64
		for _, f := range flows {
			tt := years(d.pricing, f.Date)
			e := math.Exp(-tt * math.Log1p(x))
			v += f.Amount * e
			dv -= tt * f.Amount * e / (1 + x)
		}
		if dv == 0 {
			break
		}
		nx := x - v/dv
		if nx <= -1 || math.IsNaN(nx) || nx > 100 {
			break
		}
		if math.Abs(nx-x) < 1e-10 {
			return nx
		}
		x = nx
	}
	y, err := XIRR(flows)
	if err != nil {
		return -1
	}
	return y
}
