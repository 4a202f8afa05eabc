package synth

import (
	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// MaxSeasonedMonths bounds the months of collections a seasoned portfolio observes: the whole
// lifetime Outcome simulates.
const MaxSeasonedMonths = LifetimeMonths

// SeasonedItem is one loan of a seasoned portfolio: the loan as it was on the purchase tape, its
// repayment history before the purchase, and what was collected on it in every month since.
type SeasonedItem struct {
	// Item is the loan at purchase (Loan.CutOffDate is the purchase cut-off), its repayment
	// history up to the cut-off and its borrower's latent propensity.
	Item
	// HistoryStart is the first month (its first day) that Item.History covers: a month from
	// HistoryStart to the cut-off's month without an entry had no payment.
	HistoryStart date.Date
	// AsOf is the last day of the Months-th month after the cut-off's month: the date up to which
	// collections are observed.
	AsOf date.Date
	// Monthly holds the amount collected in each of the Months months after the cut-off's month:
	// Monthly[k] is month k+1 (zero in the loan's currency when nothing was paid).
	Monthly []money.Amount
	// Outcome is the loan's simulated future truncated to Months; Outcome.Payments are the
	// non-zero entries of Monthly, Outcome.Total their sum, and Outcome.Kind and StartMonth say
	// how the borrower resolves over the lifetime (possibly after AsOf).
	Outcome Collections
}

// Seasoned streams a seasoned portfolio: a package bought Months months ago, with the realised
// monthly collections on each loan since the purchase. The collections come from Outcome with
// OutcomeRand(Seed, Index), so they are driven by the same latent propensity as the tape fields:
// a model trained on the tape has a real but noisy signal to find. Like Generator it keeps only
// the current borrower's state and is deterministic by Config.Seed. A Seasoned is not safe for
// concurrent use.
type Seasoned struct {
	g      *Generator
	months int
	start  date.Date
	asOf   date.Date
}

// NewSeasoned returns the stream of a seasoned portfolio whose purchase tape is cfg (cfg.CutOff
// is the purchase cut-off) and whose collections are observed for months months after the
// cut-off's month (1..MaxSeasonedMonths). cfg.Invalid must be empty: a seasoned portfolio is
// training data, not a tape to validate. Errors are *reclaim.Error with code EINVALID.
func NewSeasoned(cfg Config, months int) (*Seasoned, error) {
	if months < 1 || months > MaxSeasonedMonths {
		return nil, errorf("months", "seasoned months must be in 1-%d, got %d", MaxSeasonedMonths, months)
	}
	for name, s := range cfg.Invalid {
		if s != 0 {
			return nil, errorf("invalid", "a seasoned portfolio cannot corrupt rows (rule %q)", name)
		}
	}
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c := g.Config()
	cutMonth := c.CutOff.StartOfMonth()
	return &Seasoned{
		g:      g,
		months: months,
		start:  cutMonth.AddMonths(-(c.HistoryMonths - 1)),
		asOf:   cutMonth.AddMonths(months).EndOfMonth(),
	}, nil
}

// Config returns the purchase tape's configuration with defaults filled in.
func (s *Seasoned) Config() Config { return s.g.Config() }

// Months returns the months of collections observed after the purchase.
func (s *Seasoned) Months() int { return s.months }

// AsOf returns the date up to which collections are observed (SeasonedItem.AsOf).
func (s *Seasoned) AsOf() date.Date { return s.asOf }

// HistoryStart returns the first month the pre-purchase histories cover.
func (s *Seasoned) HistoryStart() date.Date { return s.start }

// Next returns the next loan, or false after Config.Loans loans. Loan i is the same as Generator
// item i of the same Config, and its collections depend only on (Seed, i) and the loan.
func (s *Seasoned) Next() (SeasonedItem, bool) {
	it, ok := s.g.Next()
	if !ok {
		return SeasonedItem{}, false
	}
	it.Corrupted = nil
	out := SeasonedItem{Item: it, HistoryStart: s.start, AsOf: s.asOf}
	out.Outcome = Outcome(&out.Item, s.months, OutcomeRand(s.g.cfg.Seed, it.Index))
	out.Monthly = MonthlyAmounts(out.Outcome.Payments, it.Loan.CutOffDate, s.months, out.Outcome.Total.Currency())
	return out, true
}

// MonthlyAmounts spreads payments over the months months after cutOff's month: element k is the
// sum of the payments dated in month k+1 after it (zero in currency cur when none). Payments
// outside those months are ignored.
func MonthlyAmounts(payments []reclaim.Repayment, cutOff date.Date, months int, cur money.Currency) []money.Amount {
	out := make([]money.Amount, months)
	for k := range out {
		out[k] = money.Zero(cur)
	}
	base := cutOff.StartOfMonth()
	for _, p := range payments {
		k := date.MonthsBetween(base, p.Month.StartOfMonth()) - 1
		if k < 0 || k >= months {
			continue
		}
		if sum, err := out[k].Add(p.Amount); err == nil {
			out[k] = sum
		}
	}
	return out
}
