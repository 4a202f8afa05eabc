// Package pricing turns the recovery model's per-loan scores into monthly cash flows, prices a
// portfolio of non-performing loans from those flows, and simulates the distribution of outcomes.
//
// # Units
//
// Every amount in this package's API (claims, collections, costs, prices, present values) is in
// yuan, held in a float64; rates and shares are plain fractions (0.15 is 15%). Floats stay inside
// the maths: callers convert at the boundary with money.FromFloat and money.HalfUp.
//
// # Months and discounting
//
// Month m (1-based) is the m-th month after boarding, the price being paid at month 0. Slices of
// monthly values hold month m at index m-1. An annual rate r discounts the flow of month m by
// (1+r)^(m/12); every IRR this package reports is annualised the same way.
//
// # Pieces
//
//   - [NewEngine] validates a [Portfolio] under [Assumptions] and prepares it once.
//   - [Engine.Projection] and [Engine.LoanProjection] give expected monthly gross collections,
//     costs by kind (collection, court fees, servicing) and net flows.
//   - [PV], [NPV], [IRR], [PriceForIRR], [PriceForMultiple], [Multiple] and [Payback] price a set
//     of flows; the methods of [Projection] apply them to its net (or gross) flows, and
//     [Projection.PriceTable] tabulates IRR, multiples and payback against the price.
//   - [Engine.Simulate] runs the Monte Carlo with one systemic factor; the [Simulation] it returns
//     gives the distribution of IRR and multiple at a price ([Simulation.Outcome]), the fan of
//     monthly collections ([Simulation.Fan]) and the price at a confidence
//     ([Simulation.PriceAtConfidence]).
package pricing
