package abs

import (
	"fmt"

	"reclaim"
	"reclaim/money"
)

// quiet runs coll (per period, after any haircut) without recording and reports whether the
// senior tranche (the first) got its interest on every payment date and its principal by the
// legal maturity.
func (r *runner) quiet(coll []int64) (bool, error) {
	r.reset()
	if err := r.run(coll); err != nil {
		return false, err
	}
	return !r.shortfall[0] && r.tBal[0] == 0, nil
}

// Breakeven is the largest haircut of the pool's collections at which the senior tranche (the
// first tranche of the document) still receives its interest on every payment date and its
// principal by the legal maturity, for one delay.
type Breakeven struct {
	// Delay is the delay of every collection, in whole payment periods.
	Delay int `json:"delay"`
	// Haircut is the break-even haircut as an exact fraction of collections (Haircut/Total of
	// the collections lost); Percent writes it with six decimals.
	Haircut money.Rate `json:"-"`
	// Percent is Haircut as a percentage with six decimals ("23.456789%").
	Percent string `json:"haircut"`
	// Collections is the cash the pool gives the deal (within the legal maturity) under the
	// delay before any haircut, and Kept what is left at the break-even haircut.
	Collections money.Amount `json:"collections"`
	Kept        money.Amount `json:"collections_at_breakeven"`
	// PassesBase is false when the senior fails even without a haircut (Haircut is then 0).
	PassesBase bool `json:"passes_without_haircut"`
	// Steps is the number of runs the solve took.
	Steps int `json:"runs"`
}

// Breakeven solves, for each delay, the break-even haircut of the senior tranche: the largest
// haircut h such that the senior is paid in full and on time. Pass/fail is monotone in h (less
// cash never pays the senior more), so the solve is a bisection on the haircut expressed in fen
// of collections lost: it ends with h passing and h plus one fen of collections failing, in about
// log2(collections in fen) runs. stretch (zero for none) applies to every delay.
func (d *Deal) Breakeven(delays []int, stretch money.Rate) ([]Breakeven, error) {
	r := newRunner(d, false)
	out := make([]Breakeven, 0, len(delays))
	for _, delay := range delays {
		s := Scenario{Delay: delay, Stretch: stretch}
		if err := s.check(); err != nil {
			return nil, err
		}
		base := d.collections(s)
		var total int64
		for _, c := range base {
			total += c
		}
		b := Breakeven{Delay: delay, Collections: money.New(total, d.cur), Haircut: money.Rate{}}
		coll := make([]int64, len(base))
		pass := func(lost int64) (bool, error) {
			b.Steps++
			if total == 0 {
				copy(coll, base)
			} else {
				keep := money.MustRate(total-lost, total)
				for k, c := range base {
					a, err := money.New(c, d.cur).MulRate(keep, money.HalfUp)
					if err != nil {
						return false, reclaim.WrapError(reclaim.EINTERNAL, err, "haircut")
					}
					coll[k] = a.Minor()
				}
			}
			return r.quiet(coll)
		}
		ok, err := pass(0)
		if err != nil {
			return nil, err
		}
		b.PassesBase = ok
		lo := int64(0)
		if ok && total > 0 {
			hi := total
			if okAll, err := pass(total); err != nil {
				return nil, err
			} else if okAll {
				lo = total
			} else {
				for hi-lo > 1 {
					mid := lo + (hi-lo)/2
					ok, err := pass(mid)
					if err != nil {
						return nil, err
					}
					if ok {
						lo = mid
					} else {
						hi = mid
					}
				}
			}
			b.Haircut = money.MustRate(lo, total)
		}
		b.Percent = b.Haircut.Percent(6)
		b.Kept = money.New(total-lo, d.cur)
		out = append(out, b)
	}
	return out, nil
}

// GridCell is one scenario of a rating-style grid: whether the senior passed, and each
// tranche's loss (principal not repaid, as a share of its balance) and IRR at its issue price.
type GridCell struct {
	Haircut    string     `json:"haircut"`
	Delay      int        `json:"delay"`
	SeniorPass bool       `json:"senior_pass"`
	Loss       []float64  `json:"loss"`
	IRR        []*float64 `json:"irr"`
}

// Grid runs every combination of haircuts and delays (stretch applying to all) and returns the
// cells row by row (haircuts outer).
func (d *Deal) Grid(haircuts []money.Rate, delays []int, stretch money.Rate) ([]GridCell, error) {
	r := newRunner(d, false)
	var cells []GridCell
	for _, h := range haircuts {
		for _, delay := range delays {
			s := Scenario{Haircut: h, Delay: delay, Stretch: stretch}
			if err := s.check(); err != nil {
				return nil, err
			}
			coll, err := d.haircut(d.collections(s), h)
			if err != nil {
				return nil, err
			}
			pass, err := r.quiet(coll)
			if err != nil {
				return nil, err
			}
			c := GridCell{Haircut: h.Percent(2), Delay: delay, SeniorPass: pass}
			for t, tr := range d.tranches {
				c.Loss = append(c.Loss, float64(r.tBal[t])/float64(tr.balance))
				_, irr := r.analytics(t)
				c.IRR = append(c.IRR, irr)
			}
			cells = append(cells, c)
		}
	}
	return cells, nil
}

// TrancheNames returns the tranches' names in document order (the senior first).
func (d *Deal) TrancheNames() []string {
	out := make([]string, len(d.tranches))
	for i, t := range d.tranches {
		out[i] = t.name
	}
	return out
}

// String describes a break-even result in one line.
func (b Breakeven) String() string {
	if !b.PassesBase {
		return fmt.Sprintf("delay %d: the senior fails even without a haircut", b.Delay)
	}
	return fmt.Sprintf("delay %d: break-even haircut %s (collections %s, %s kept)", b.Delay, b.Percent, b.Collections, b.Kept)
}
