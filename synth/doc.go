// Package synth generates realistic synthetic portfolios of Chinese personal non-performing loans
// and their repayment histories, calibrated to shared/design/market.md.
//
// A Generator streams Items (a loan, its borrower's fake personal data, the loan's repayment
// history before the cut-off, and the borrower's latent recovery propensity) one at a time, so
// that memory stays flat however many loans are asked for. Everything is deterministic by
// Config.Seed: loan i is drawn from a PCG stream keyed by (Seed, i) and its borrower's attributes
// from a stream keyed by (Seed, borrower index), so loan i is the same whatever Config.Loans is.
//
// Outcome draws a loan's future monthly collections from the same latent propensity, for seasoned
// training data; WriteTape writes a tape (and optionally the history file) through package tape,
// corrupting a configured share of rows so that each breaks exactly one named validation rule.
//
// All personal data is fake: names are drawn from common surnames and given-name characters,
// national IDs are valid GB 11643 numbers for random people, phone and bank-card numbers are
// random numbers with valid shapes.
package synth
