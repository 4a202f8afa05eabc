package abs

import (
	"fmt"
	"slices"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// YearFraction returns the exact year fraction from s to e under the named day count (ACT/365F,
// ACT/360, 30/360 or ACT/ACT, the conventions of package date), as a rational number, so that
// interest is computed without floating point.
func YearFraction(dc string, s, e date.Date) (money.Rate, error) {
	switch dc {
	case "ACT/365F":
		return money.NewRate(int64(e.Sub(s)), 365)
	case "ACT/360":
		return money.NewRate(int64(e.Sub(s)), 360)
	case "30/360":
		return money.NewRate(int64(date.Thirty360.Days(s, e)), 360)
	case "ACT/ACT":
		if e.Before(s) {
			r, err := YearFraction(dc, e, s)
			return money.MustRate(-r.Num(), r.Den()), err
		}
		total := money.Rate{}
		for y := s.Year(); y <= e.Year(); y++ {
			from, to := date.Of(y, 1, 1), date.Of(y+1, 1, 1)
			if s.After(from) {
				from = s
			}
			if e.Before(to) {
				to = e
			}
			if !to.After(from) {
				continue
			}
			basis := int64(365)
			if date.IsLeap(y) {
				basis = 366
			}
			var err error
			if total, err = total.Add(money.MustRate(int64(to.Sub(from)), basis)); err != nil {
				return money.Rate{}, err
			}
		}
		return total, nil
	}
	return money.Rate{}, fmt.Errorf("abs: unknown day count %q", dc)
}

// prepare precomputes what every run needs: per tranche and period the coupon × year fraction,
// per fee and period the annual or fixed amount, and the forecast bucketed by period.
func (d *Deal) prepare() error {
	n := len(d.pay)
	d.accr = make([][]money.Rate, len(d.tranches))
	for t, tr := range d.tranches {
		d.accr[t] = make([]money.Rate, n)
		prev := d.closing
		for k, p := range d.pay {
			yf, err := YearFraction(tr.dc, prev, p)
			if err != nil {
				return err
			}
			if d.accr[t][k], err = tr.coupon.Mul(yf); err != nil {
				return err
			}
			prev = p
		}
	}
	d.feeAmt = make([][]int64, len(d.fees))
	for f, fe := range d.fees {
		d.feeAmt[f] = make([]int64, n)
		prev := d.closing
		for k, p := range d.pay {
			switch fe.basis {
			case basisFixed:
				d.feeAmt[f][k] = fe.amount
			case basisAnnual:
				yf, err := YearFraction(fe.dc, prev, p)
				if err != nil {
					return err
				}
				a, err := money.New(fe.amount, d.cur).MulRate(yf, money.HalfUp)
				if err != nil {
					return err
				}
				d.feeAmt[f][k] = a.Minor()
			}
			prev = p
		}
	}
	d.fcBucket = d.bucket(d.forecast)
	for _, f := range d.fees {
		d.payee.fee = append(d.payee.fee, "fee:"+f.name)
	}
	for _, t := range d.tranches {
		d.payee.interest = append(d.payee.interest, "tranche:"+t.name+":interest")
		d.payee.principal = append(d.payee.principal, "tranche:"+t.name+":principal")
		d.payee.residual = append(d.payee.residual, "tranche:"+t.name+":residual")
	}
	for a := range d.accounts {
		d.single = append(d.single, []int{a})
	}
	return nil
}

// bucket sums flows into collection periods: period k collects the flows dated after the end of
// period k-1 (the cut-off for the first, so interim collections fund the first payment) up to
// the end of period k. Flows after the last collection period are not collected.
func (d *Deal) bucket(flows []Flow) []int64 {
	out := make([]int64, len(d.pay))
	k := 0
	for _, f := range flows {
		if !f.Date.After(d.cutoff) {
			continue
		}
		for k < len(d.collEnd) && f.Date.After(d.collEnd[k]) {
			k++
		}
		if k == len(d.collEnd) {
			break
		}
		out[k] += f.Amount.Minor()
	}
	return out
}

// Scenario is what a run assumes about the pool's cash, applied in this order: Collections
// replace the forecast (actual or assumed flows); each flow's date is stretched (its distance from
// the cut-off multiplied by Stretch) and delayed by Delay whole payment periods; the flows are
// summed by collection period; each period's sum loses Haircut of itself (rounded HALF_UP to the
// fen).
type Scenario struct {
	Collections []Flow     `json:"-"`
	Haircut     money.Rate `json:"-"`
	Delay       int        `json:"delay"`
	Stretch     money.Rate `json:"-"` // zero means 1
}

// Label describes the scenario for reports: "base" or "haircut 20%, delay 2, stretch 3/2".
func (s Scenario) Label() string {
	var parts []string
	if s.Collections != nil {
		parts = append(parts, fmt.Sprintf("collections given (%d flows)", len(s.Collections)))
	}
	if !s.Haircut.IsZero() {
		parts = append(parts, "haircut "+s.Haircut.Percent(4))
	}
	if s.Delay != 0 {
		parts = append(parts, fmt.Sprintf("delay %d", s.Delay))
	}
	if !s.Stretch.IsZero() && s.Stretch.Cmp(money.MustRate(1, 1)) != 0 {
		parts = append(parts, "stretch "+s.Stretch.String())
	}
	if len(parts) == 0 {
		return "base"
	}
	return fmt.Sprint(joinComma(parts))
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func (s Scenario) check() error {
	if s.Haircut.Sign() < 0 || s.Haircut.Cmp(money.MustRate(1, 1)) > 0 {
		return reclaim.Errorf(reclaim.EINVALID, "haircut %s is not between 0%% and 100%%", s.Haircut.Percent(4))
	}
	if s.Delay < 0 || s.Delay > maxPeriods {
		return reclaim.Errorf(reclaim.EINVALID, "delay %d is not between 0 and %d periods", s.Delay, maxPeriods)
	}
	if s.Stretch.Sign() < 0 || s.Stretch.Cmp(money.MustRate(10, 1)) > 0 {
		return reclaim.Errorf(reclaim.EINVALID, "stretch %s is not between 0 and 10", s.Stretch)
	}
	return nil
}

// Collections returns the cash the scenario gives each collection period, in minor units, before
// the haircut.
func (d *Deal) collections(s Scenario) []int64 {
	flows := d.forecast
	if s.Collections != nil {
		flows = s.Collections
	}
	stretch := !s.Stretch.IsZero() && s.Stretch.Cmp(money.MustRate(1, 1)) != 0
	if !stretch && s.Delay == 0 {
		return d.bucket(flows)
	}
	moved := make([]Flow, 0, len(flows))
	for _, f := range flows {
		if !f.Date.After(d.cutoff) {
			continue
		}
		dt := f.Date
		if stretch {
			days, _ := money.New(int64(dt.Sub(d.cutoff)), "").MulRate(s.Stretch, money.HalfUp)
			dt = d.cutoff.AddDays(int(max(days.Minor(), 1)))
		}
		if s.Delay > 0 {
			dt = dt.AddMonths(s.Delay * d.freqMonths)
		}
		moved = append(moved, Flow{Date: dt, Amount: f.Amount})
	}
	slices.SortStableFunc(moved, func(a, b Flow) int { return a.Date.Compare(b.Date) })
	return d.bucket(moved)
}

// Run runs the deal under a scenario and returns the full record: the period table, every
// statement line, the trigger log and the status changes, and each tranche's totals and analytics.
// The invariants (cash in = cash out + closing balances, no negative balance, no junior payment
// at a step while a senior amount of the step is unpaid, every status change logged with its
// reason) are checked on every payment date; a breach is an EINTERNAL error, never a result.
func (d *Deal) Run(s Scenario) (*Result, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	coll, err := d.haircut(d.collections(s), s.Haircut)
	if err != nil {
		return nil, err
	}
	r := newRunner(d, true)
	if err := r.run(coll); err != nil {
		return nil, err
	}
	res := r.res
	res.Scenario = s.Label()
	res.finish(d, r)
	return res, nil
}

func (d *Deal) haircut(coll []int64, h money.Rate) ([]int64, error) {
	if h.IsZero() {
		return coll, nil
	}
	keep, err := money.MustRate(1, 1).Sub(h)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(coll))
	for k, c := range coll {
		a, err := money.New(c, d.cur).MulRate(keep, money.HalfUp)
		if err != nil {
			return nil, reclaim.WrapError(reclaim.EINVALID, err, "haircut")
		}
		out[k] = a.Minor()
	}
	return out, nil
}

// Line is one movement of cash: on a payment date, from a source (the pool, an account, the
// originator, the issuance) to a destination (an account, a fee, a tranche's interest, principal
// or residual), with a memo naming the step.
type Line struct {
	Period int          `json:"period"`
	Date   date.Date    `json:"date"`
	From   string       `json:"from"`
	To     string       `json:"to"`
	Amount money.Amount `json:"amount"`
	Memo   string       `json:"memo"`
}

// TriggerTest is one test of a trigger: its metric against its threshold, whether it was hit
// this time and whether it is in force afterwards.
type TriggerTest struct {
	Period    int       `json:"period"`
	Date      date.Date `json:"date"`
	Trigger   string    `json:"trigger"`
	When      string    `json:"when"` // before, after or waterfall
	Metric    string    `json:"metric"`
	Threshold string    `json:"threshold"`
	Hit       bool      `json:"hit"`
	InForce   bool      `json:"in_force"`
}

// StatusChange is a change of the deal's status and its reason.
type StatusChange struct {
	Period int       `json:"period"`
	Date   date.Date `json:"date"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// runner holds one run's state. A runner that does not record (rec false) keeps only what the
// analytics need, for the Monte Carlo and the break-even solve.
type runner struct {
	d   *Deal
	rec bool
	res *Result

	k       int // current period
	bal     []int64
	tBal    []int64
	tDue    []int64 // interest due and unpaid (arrears included)
	fDue    []int64 // fee due and unpaid (arrears included)
	fDef    []int64 // deferred fee balance
	trig    []bool
	status  int
	in, out int64
	called  bool
	// shortfall[t]: tranche t had interest unpaid after some payment date
	shortfall []bool

	// per period, per tranche cash to investors (interest, principal, residual)
	tInt, tPrin, tRes [][]int64
	// per period scratch
	fAccr     []int64
	fPaid     []int64
	fDefPaid  []int64
	cum, cumF int64
	scratch   []int64
	scratch2  []int64
	periods   int // number of payment dates run
}

func newRunner(d *Deal, rec bool) *runner {
	nt, nf, n := len(d.tranches), len(d.fees), len(d.pay)
	r := &runner{d: d, rec: rec,
		bal: make([]int64, len(d.accounts)), tBal: make([]int64, nt), tDue: make([]int64, nt),
		fDue: make([]int64, nf), fDef: make([]int64, nf), trig: make([]bool, len(d.triggers)),
		tInt: make2(nt, n), tPrin: make2(nt, n), tRes: make2(nt, n),
		shortfall: make([]bool, nt), fAccr: make([]int64, nf), fPaid: make([]int64, nf), fDefPaid: make([]int64, nf),
		scratch: make([]int64, max(nt, nf)), scratch2: make([]int64, max(nt, nf)),
	}
	return r
}

func make2(a, b int) [][]int64 {
	flat := make([]int64, a*b)
	out := make([][]int64, a)
	for i := range out {
		out[i] = flat[i*b : (i+1)*b : (i+1)*b]
	}
	return out
}

// reset prepares a non-recording runner for another run.
func (r *runner) reset() {
	clear(r.bal)
	clear(r.tDue)
	clear(r.fDue)
	clear(r.fDef)
	clear(r.trig)
	clear(r.shortfall)
	for t := range r.tInt {
		clear(r.tInt[t])
		clear(r.tPrin[t])
		clear(r.tRes[t])
	}
	r.in, r.out, r.called, r.cum, r.cumF, r.periods = 0, 0, false, 0, 0, 0
}

func (r *runner) amt(x int64) money.Amount { return money.New(x, r.d.cur) }

func (r *runner) line(from, to string, x int64, memo string) {
	if r.rec && x != 0 {
		r.res.Statement = append(r.res.Statement, Line{Period: r.k + 1, Date: r.d.pay[r.k], From: from, To: to, Amount: r.amt(x), Memo: memo})
	}
}

func (r *runner) mul(x int64, rate money.Rate) (int64, error) {
	a, err := money.New(x, r.d.cur).MulRate(rate, money.HalfUp)
	if err != nil {
		return 0, reclaim.WrapError(reclaim.EINTERNAL, err, "amount out of range")
	}
	return a.Minor(), nil
}

func invariantf(format string, args ...any) error {
	return reclaim.Errorf(reclaim.EINTERNAL, "abs: invariant broken: "+format, args...)
}

// run runs every payment date with coll[k] collected in period k.
func (r *runner) run(coll []int64) error {
	d := r.d
	r.status = d.initial
	for t, tr := range d.tranches {
		r.tBal[t] = tr.balance
	}
	if r.rec {
		r.res = &Result{Deal: d.name, Hash: d.hash, Currency: d.cur}
	}
	lastCash := -1
	for k, c := range coll {
		if c != 0 {
			lastCash = k
		}
	}
	for k := range d.pay {
		r.k = k
		r.periods = k + 1
		var p *Period
		if r.rec {
			r.res.Periods = append(r.res.Periods, Period{Period: k + 1, Date: d.pay[k], CollectionEnd: d.collEnd[k]})
			p = &r.res.Periods[k]
			p.CollectionStart = d.cutoff.AddDays(1)
			if k > 0 {
				p.CollectionStart = d.collEnd[k-1].AddDays(1)
			}
			p.Accounts = make([]AccountPeriod, len(d.accounts))
		}
		if k == 0 {
			for a, ac := range d.accounts {
				if ac.initial > 0 {
					r.bal[a] += ac.initial
					r.in += ac.initial
					r.line("issuance", ac.name, ac.initial, "funded at closing")
				}
			}
		}
		if p != nil {
			for a, ac := range d.accounts {
				p.Accounts[a] = AccountPeriod{Name: ac.name, Opening: r.amt(r.bal[a])}
			}
		}
		// collections
		r.bal[d.collection] += coll[k]
		r.in += coll[k]
		r.cum += coll[k]
		r.cumF += d.fcBucket[k]
		r.line("pool", d.accounts[d.collection].name, coll[k], "collections of the period")
		// accruals
		for t := range d.tranches {
			i, err := r.mul(r.tBal[t], d.accr[t][k])
			if err != nil {
				return err
			}
			r.tDue[t] += i
		}
		for f, fe := range d.fees {
			var due int64
			switch fe.basis {
			case basisCollections:
				x, err := r.mul(coll[k], fe.rate)
				if err != nil {
					return err
				}
				due = x
			case basisAnnual, basisFixed:
				due = d.feeAmt[f][k]
			}
			def, err := r.mul(due, fe.deferred)
			if err != nil {
				return err
			}
			r.fAccr[f] = due
			r.fDef[f] += def
			r.fDue[f] += due - def
		}
		clear(r.fPaid)
		clear(r.fDefPaid)
		if p != nil {
			p.Status = d.statuses[r.status]
			p.Collections = r.amt(coll[k])
			p.Forecast = r.amt(d.fcBucket[k])
			p.CumCollections = r.amt(r.cum)
			p.CumForecast = r.amt(r.cumF)
		}
		// clean-up call
		if d.call != nil && d.call.exercise && !r.called {
			var out, issued int64
			for t, tr := range d.tranches {
				out += r.tBal[t]
				issued += tr.balance
			}
			lim, err := r.mul(issued, d.call.threshold)
			if err != nil {
				return err
			}
			if out > 0 && out <= lim {
				price := -r.bal[d.collection]
				for t := range d.tranches {
					price += r.tBal[t] + r.tDue[t]
				}
				for f := range d.fees {
					price += r.fDue[f] + r.fDef[f]
				}
				price = max(price, 0)
				r.called = true
				r.bal[d.collection] += price
				r.in += price
				r.line("originator", d.accounts[d.collection].name, price, "clean-up call: the originator buys the pool back")
				if p != nil {
					p.CallProceeds = r.amt(price)
				}
			}
		}
		if err := r.testTriggers(false, "before"); err != nil {
			return err
		}
		if p != nil {
			p.Status = d.statuses[r.status]
		}
		if err := r.steps(d.waterfalls[r.status]); err != nil {
			return err
		}
		if err := r.testTriggers(true, "after"); err != nil {
			return err
		}
		// invariants
		var held int64
		for a, b := range r.bal {
			if b < 0 {
				return invariantf("account %s is negative (%d) on %s", d.accounts[a].name, b, d.pay[k])
			}
			held += b
		}
		if r.in != r.out+held {
			return invariantf("cash in %d != cash out %d + balances %d on %s", r.in, r.out, held, d.pay[k])
		}
		for t := range d.tranches {
			if r.tBal[t] < 0 || r.tDue[t] < 0 {
				return invariantf("tranche %s balance %d, interest due %d on %s", d.tranches[t].name, r.tBal[t], r.tDue[t], d.pay[k])
			}
			if r.tDue[t] > 0 {
				r.shortfall[t] = true
			}
		}
		if p != nil {
			r.record(p)
		}
		if r.called {
			break
		}
		done := k >= lastCash
		for t := range d.tranches {
			if r.tBal[t] != 0 || r.tDue[t] != 0 {
				done = false
			}
		}
		if done {
			break
		}
	}
	return nil
}

func (r *runner) record(p *Period) {
	d, k := r.d, r.k
	for a := range d.accounts {
		p.Accounts[a].Closing = r.amt(r.bal[a])
	}
	p.Tranches = make([]TranchePeriod, len(d.tranches))
	for t, tr := range d.tranches {
		paid := r.tInt[t][k]
		closing := r.tBal[t]
		p.Tranches[t] = TranchePeriod{Name: tr.name, Opening: r.amt(closing + r.tPrin[t][k]),
			InterestDue: r.amt(r.tDue[t] + paid), InterestPaid: r.amt(paid), InterestShortfall: r.amt(r.tDue[t]),
			PrincipalPaid: r.amt(r.tPrin[t][k]), ResidualPaid: r.amt(r.tRes[t][k]), Closing: r.amt(closing),
			Factor: money.MustRate(closing, tr.balance).Float()}
	}
	p.Fees = make([]FeePeriod, len(d.fees))
	for f, fe := range d.fees {
		p.Fees[f] = FeePeriod{Name: fe.name, Accrued: r.amt(r.fAccr[f]), Paid: r.amt(r.fPaid[f]), DeferredPaid: r.amt(r.fDefPaid[f]),
			Unpaid: r.amt(r.fDue[f]), Deferred: r.amt(r.fDef[f])}
	}
}

// avail returns the cash in the accounts.
func (r *runner) avail(from []int) int64 {
	var s int64
	for _, a := range from {
		s += r.bal[a]
	}
	return s
}

// take moves x out of the accounts, in order, to an outside payee (out counts) or to an account
// (to >= 0), writing a line per source account.
func (r *runner) take(from []int, x int64, to int, payee, memo string) {
	for _, a := range from {
		if x == 0 {
			return
		}
		y := min(x, r.bal[a])
		if y == 0 {
			continue
		}
		r.bal[a] -= y
		x -= y
		if to >= 0 {
			r.bal[to] += y
			if r.rec {
				r.line(r.d.accounts[a].name, r.d.accounts[to].name, y, memo)
			}
		} else {
			r.out += y
			if r.rec {
				r.line(r.d.accounts[a].name, payee, y, memo)
			}
		}
	}
}

// pay pays the amounts due (due[i] for item i), sequentially or pro rata, from the accounts,
// within limit (-1: none); paid[i] receives what each got. It checks that a sequential step paid
// no item while an earlier one is still owed.
func (r *runner) pay(due, paid []int64, from []int, limit int64, mode int) error {
	cash := r.avail(from)
	if limit >= 0 && mode != modePassThrough {
		cash = min(cash, limit)
	}
	var total int64
	for _, x := range due {
		total += x
	}
	clear(paid)
	if mode == modeProRata && total > cash {
		if cash > 0 {
			parts, err := money.New(cash, r.d.cur).Allocate(due...)
			if err != nil {
				return reclaim.WrapError(reclaim.EINTERNAL, err, "pro rata")
			}
			for i := range paid {
				paid[i] = parts[i].Minor()
			}
		}
		return nil
	}
	for i, x := range due {
		y := min(x, cash)
		paid[i] = y
		cash -= y
	}
	for i := range due {
		if paid[i] > 0 {
			for j := 0; j < i; j++ {
				if paid[j] < due[j] {
					return invariantf("step paid item %d while item %d of the step is owed", i, j)
				}
			}
		}
	}
	return nil
}

func (r *runner) steps(ss []step) error {
	for i := range ss {
		if err := r.step(&ss[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) step(s *step) error {
	d := r.d
	due, paid := r.scratch, r.scratch2
	switch s.action {
	case actTransfer:
		x := r.avail(s.from)
		if s.limit >= 0 {
			x = min(x, s.limit)
		}
		r.take(s.from, x, s.to, "", "transfer")
	case actPayFee, actPayDeferredFee:
		owed := r.fDue
		memo := "fee"
		if s.action == actPayDeferredFee {
			owed, memo = r.fDef, "deferred fee"
		}
		due, paid = due[:len(s.fees)], paid[:len(s.fees)]
		for i, f := range s.fees {
			due[i] = owed[f]
		}
		if err := r.pay(due, paid, s.from, s.limit, s.mode); err != nil {
			return err
		}
		for i, f := range s.fees {
			if paid[i] == 0 {
				continue
			}
			owed[f] -= paid[i]
			if s.action == actPayDeferredFee {
				r.fDefPaid[f] += paid[i]
			} else {
				r.fPaid[f] += paid[i]
			}
			r.take(s.from, paid[i], -1, d.payee.fee[f], memo)
		}
	case actDeferFee:
		for _, f := range s.fees {
			if x := r.fDue[f]; x > 0 {
				r.fDef[f] += x
				r.fDue[f] = 0
			}
		}
	case actPayInterest:
		due, paid = due[:len(s.tranches)], paid[:len(s.tranches)]
		for i, t := range s.tranches {
			due[i] = r.tDue[t]
		}
		if err := r.pay(due, paid, s.from, s.limit, s.mode); err != nil {
			return err
		}
		for i, t := range s.tranches {
			if paid[i] == 0 {
				continue
			}
			r.tDue[t] -= paid[i]
			r.tInt[t][r.k] += paid[i]
			r.take(s.from, paid[i], -1, d.payee.interest[t], "interest")
		}
	case actPayPrincipal:
		due, paid = due[:len(s.tranches)], paid[:len(s.tranches)]
		for i, t := range s.tranches {
			due[i] = r.tBal[t]
		}
		if err := r.pay(due, paid, s.from, s.limit, s.mode); err != nil {
			return err
		}
		for i, t := range s.tranches {
			if paid[i] == 0 {
				continue
			}
			r.tBal[t] -= paid[i]
			r.tPrin[t][r.k] += paid[i]
			r.take(s.from, paid[i], -1, d.payee.principal[t], "principal")
		}
	case actTopUpReserve:
		tgt, err := r.target(s.account)
		if err != nil {
			return err
		}
		if need := tgt - r.bal[s.account]; need > 0 {
			memo := ""
			if r.rec {
				memo = "reserve top-up to target " + r.amt(tgt).String()
			}
			r.take(s.from, min(need, r.avail(s.from)), s.account, "", memo)
		}
	case actReleaseReserve:
		tgt, err := r.target(s.account)
		if err != nil {
			return err
		}
		if x := r.bal[s.account] - tgt; x > 0 {
			memo := ""
			if r.rec {
				memo = "reserve release above target " + r.amt(tgt).String()
			}
			r.take(d.single[s.account], x, s.to, "", memo)
		}
	case actSplitResidual:
		total := r.avail(s.from)
		left := total
		for i, sh := range s.shares {
			x := left
			if i < len(s.shares)-1 {
				y, err := r.mul(total, sh.pct)
				if err != nil {
					return err
				}
				x = min(y, left)
			}
			left -= x
			if x == 0 {
				continue
			}
			memo := ""
			if r.rec {
				memo = "residual split " + sh.pct.Percent(2)
			}
			if sh.fee >= 0 {
				r.fPaid[sh.fee] += x
				r.fAccr[sh.fee] += x
				r.take(s.from, x, -1, d.payee.fee[sh.fee], memo)
			} else {
				r.tRes[sh.tranche][r.k] += x
				r.take(s.from, x, -1, d.payee.residual[sh.tranche], memo)
			}
		}
	case actIf:
		ok := false
		switch {
		case s.cond.trigger >= 0:
			ok = r.trig[s.cond.trigger]
		case s.cond.paidOff >= 0:
			ok = r.tBal[s.cond.paidOff] == 0 && r.tDue[s.cond.paidOff] == 0
		case s.cond.status >= 0:
			ok = r.status == s.cond.status
		}
		if s.cond.not {
			ok = !ok
		}
		if ok {
			return r.steps(s.then)
		}
		return r.steps(s.els)
	case actChangeStatus:
		r.setStatus(s.status, s.reason)
	case actRunTrigger:
		return r.testTrigger(s.trigger, "waterfall")
	}
	return nil
}

// target returns a reserve's target on the current payment date.
func (r *runner) target(a int) (int64, error) {
	t := r.d.accounts[a].target
	if t.isFixed {
		return t.fixed, nil
	}
	k := r.k + 1
	if k >= len(r.d.pay) {
		return 0, nil
	}
	var base int64
	live := false
	for _, tr := range t.tranches {
		if r.tBal[tr] > 0 {
			live = true
		}
		i, err := r.mul(r.tBal[tr], r.d.accr[tr][k])
		if err != nil {
			return 0, err
		}
		base += i
	}
	if !live {
		return 0, nil
	}
	for _, f := range t.fees {
		base += r.d.feeAmt[f][k]
	}
	return r.mul(base, t.multiple)
}

func (r *runner) setStatus(s int, reason string) {
	if s == r.status {
		return
	}
	if r.rec {
		r.res.StatusChanges = append(r.res.StatusChanges, StatusChange{Period: r.k + 1, Date: r.d.pay[r.k],
			From: r.d.statuses[r.status], To: r.d.statuses[s], Reason: reason})
	}
	r.status = s
}

func (r *runner) testTriggers(after bool, when string) error {
	for i := range r.d.triggers {
		if r.d.triggers[i].after == after {
			if err := r.testTrigger(i, when); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) testTrigger(i int, when string) error {
	d := r.d
	t := &d.triggers[i]
	var hit bool
	var metric, threshold string
	switch t.kind {
	case kindInterestShortfall:
		hit = r.tDue[t.tranche] > 0
		if r.rec {
			metric, threshold = "interest unpaid "+r.amt(r.tDue[t.tranche]).String(), "0.00"
		}
	case kindPrincipalMaturity:
		last := r.k == len(d.pay)-1
		hit = last && r.tBal[t.tranche] > 0
		if r.rec {
			metric, threshold = "balance "+r.amt(r.tBal[t.tranche]).String(), "0.00 at "+d.pay[len(d.pay)-1].String()
		}
	case kindCumRecovery:
		if r.cumF > 0 {
			hit = money.MustRate(r.cum, r.cumF).Cmp(t.threshold) < 0
		}
		if r.rec {
			metric, threshold = "cumulative "+r.amt(r.cum).String()+" / forecast "+r.amt(r.cumF).String(), t.threshold.Percent(2)
			if r.cumF > 0 {
				metric += " = " + money.MustRate(r.cum, r.cumF).Percent(2)
			}
		}
	case kindReserveBelow:
		tgt, err := r.target(t.account)
		if err != nil {
			return err
		}
		need, err := r.mul(tgt, t.threshold)
		if err != nil {
			return err
		}
		hit = r.bal[t.account] < need
		if r.rec {
			metric, threshold = "balance "+r.amt(r.bal[t.account]).String(), t.threshold.Percent(2)+" of target "+r.amt(tgt).String()
		}
	case kindDate:
		hit = !d.pay[r.k].Before(t.date)
		if r.rec {
			metric, threshold = d.pay[r.k].String(), "on or after "+t.date.String()
		}
	case kindAny, kindAll:
		hit = t.kind == kindAll
		for _, j := range t.of {
			if t.kind == kindAny {
				hit = hit || r.trig[j]
			} else {
				hit = hit && r.trig[j]
			}
		}
		if r.rec {
			metric, threshold = t.kind+" of", fmt.Sprint(len(t.of))+" triggers"
		}
	}
	was := r.trig[i]
	switch {
	case hit:
		r.trig[i] = true
	case t.curable:
		r.trig[i] = false
	}
	if r.rec {
		r.res.Triggers = append(r.res.Triggers, TriggerTest{Period: r.k + 1, Date: d.pay[r.k], Trigger: t.name, When: when,
			Metric: metric, Threshold: threshold, Hit: hit, InForce: r.trig[i]})
	}
	if r.trig[i] && !was && t.status >= 0 {
		reason := "trigger " + t.name + " hit"
		if r.rec {
			reason += ": " + metric + " (threshold " + threshold + ")"
		}
		r.setStatus(t.status, reason)
	}
	return nil
}

// CheckCollections refuses collections the deal could never count: a flow dated on or before the
// cut-off, or after the end of the last collection period (Run would silently leave it out). Each
// such flow is a problem at path collections[i] (its position among flows). Scenario stresses
// (delay, stretch) may still push counted flows past the end: that is the stress, not the input.
func (d *Deal) CheckCollections(flows []Flow) error {
	if len(d.collEnd) == 0 {
		return nil
	}
	var ps []Problem
	last := d.collEnd[len(d.collEnd)-1]
	for i, f := range flows {
		switch {
		case !f.Date.After(d.cutoff):
			ps = append(ps, Problem{Path: fmt.Sprintf("collections[%d]", i), Value: f.Date.String() + " " + f.Amount.String(),
				Rule: fmt.Sprintf("is dated on or before the deal's cut-off %s: the pool's cash starts after it", d.cutoff)})
		case f.Date.After(last):
			ps = append(ps, Problem{Path: fmt.Sprintf("collections[%d]", i), Value: f.Date.String() + " " + f.Amount.String(),
				Rule: fmt.Sprintf("is dated after the deal's last collection period, which ends %s: the deal would never collect it", last)})
		}
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}
