// Package abs is the NPL asset-backed securities engine: deal documents (YAML, validated with the
// path to every problem), the waterfall run loop, stress scenarios and the break-even solve, the
// Monte Carlo of recovery amount and timing, and the analytics of each tranche (WAL, XIRR, price
// and yield, duration).
//
// The engine is pure: it reads no files (a forecast file is read through the fs.FS the caller
// gives Compile), calls no clock and touches no database. Money is exact in fen (money.Amount and
// int64 minor units inside the loop); every amount computed from a rate (interest, fees, reserve
// targets, residual shares, haircuts) is rounded once, HALF_UP, with money.Amount.MulRate.
// Analytics (WAL, IRR, duration) are model maths in float64 over the exact cash.
//
// The rules follow ../shared/design/abs.md; docs/abs-deal.md describes the document field by
// field and docs/abs.md the engine.
//
// # Pieces
//
//   - [Parse] reads a [Document]; [Compile] validates it into a [Deal] ([Load] does both). Every
//     problem is reported at once as a [ValidationError] inside a *reclaim.Error EINVALID.
//   - [Deal.Run] runs a [Scenario] (actual collections, haircut, delay, stretch) and returns a
//     [Result]: the period table, every statement line, the trigger log and status changes, and
//     per tranche the totals, WAL and IRR at its issue price.
//   - [Deal.Breakeven] solves the largest haircut at which the senior tranche is still paid in
//     full and on time, per delay; [Deal.Grid] tabulates a rating-style grid.
//   - [Deal.MonteCarlo] simulates recovery amount and timing with the pricing engine's systemic
//     factor (valuation/pricing.MonteCarloConfig) and reports each tranche's expected loss,
//     probability of loss and quantiles.
package abs
