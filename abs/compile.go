package abs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Problem is one reason a deal document is invalid: the path to the element (such as
// "tranches[1].coupon"), the value found, and the rule it breaks.
type Problem struct {
	Path  string `json:"path"`
	Value string `json:"value,omitempty"`
	Rule  string `json:"rule"`
}

// String renders the problem as "path: value rule" (the value quoted when present).
func (p Problem) String() string {
	if p.Value == "" {
		return p.Path + ": " + p.Rule
	}
	return p.Path + ": " + p.Value + " " + p.Rule
}

// ValidationError lists every problem of a deal document, in document order.
type ValidationError struct {
	Problems []Problem
}

// Error joins the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Options are what Compile may need besides the document.
type Options struct {
	// Files resolves Pool.ForecastFile (a path relative to the deal document); nil means a
	// document that names a file is invalid.
	Files fs.FS
}

// Deal is a validated, compiled deal, ready to run. It is immutable and safe for concurrent use.
type Deal struct {
	doc        *Document // canonical document (forecast inlined)
	hash       string
	name       string
	cur        money.Currency
	cutoff     date.Date
	closing    date.Date
	pricing    date.Date
	freqMonths int
	pay        []date.Date // payment dates; the last is the legal maturity
	collEnd    []date.Date // end of each payment date's collection period
	forecast   []Flow
	claim      money.Amount
	payerRate  float64
	accounts   []account
	collection int
	fees       []fee
	tranches   []tranche
	triggers   []trigger // in evaluation order: referenced triggers first
	statuses   []string
	waterfalls [][]step // by status index
	initial    int
	call       *cleanUp

	accr     [][]money.Rate // per tranche and payment date: coupon x year fraction
	feeAmt   [][]int64      // per fee and payment date: annual or fixed amount
	fcBucket []int64        // the forecast by collection period
	payee    struct{ fee, interest, principal, residual []string }
	single   [][]int // single[a] is []int{a}
}

// Flow is a dated amount of pool cash.
type Flow struct {
	Date   date.Date    `json:"date"`
	Amount money.Amount `json:"amount"`
}

type account struct {
	name, kind string
	initial    int64
	target     *target
}

type target struct {
	fixed    int64
	isFixed  bool
	multiple money.Rate
	tranches []int
	fees     []int
}

const (
	basisCollections = "collections"
	basisAnnual      = "annual"
	basisFixed       = "fixed"
	basisResidual    = "residual"
)

type fee struct {
	name, basis string
	rate        money.Rate
	amount      int64
	dc          string
	deferred    money.Rate
}

type tranche struct {
	name     string
	balance  int64
	coupon   money.Rate
	dc       string
	price    money.Rate // per 1 of face (110 -> 11/10)
	retained money.Rate
}

const (
	kindInterestShortfall = "interest_shortfall"
	kindPrincipalMaturity = "principal_at_maturity"
	kindCumRecovery       = "cumulative_recovery"
	kindReserveBelow      = "reserve_below"
	kindDate              = "date"
	kindAny               = "any"
	kindAll               = "all"
)

type trigger struct {
	name, kind string
	tranche    int
	account    int
	threshold  money.Rate
	date       date.Date
	of         []int // indexes into Deal.triggers (evaluation order)
	after      bool
	curable    bool
	status     int // -1: none
}

type cleanUp struct {
	threshold money.Rate
	exercise  bool
}

// actions
const (
	actTransfer = iota
	actPayFee
	actDeferFee
	actPayInterest
	actTopUpReserve
	actReleaseReserve
	actPayPrincipal
	actPayDeferredFee
	actSplitResidual
	actIf
	actChangeStatus
	actRunTrigger
)

// Actions lists the waterfall actions a deal document may use, in the order docs/abs-deal.md
// describes them.
var Actions = []string{"transfer", "pay_fee", "defer_fee", "pay_interest", "top_up_reserve", "release_reserve",
	"pay_principal", "pay_deferred_fee", "split_residual", "if", "change_status", "run_trigger"}

const (
	modeSequential = iota
	modeProRata
	modePassThrough
)

type step struct {
	action   int
	path     string
	from     []int
	to       int
	account  int
	fees     []int
	tranches []int
	mode     int
	limit    int64 // -1: none
	shares   []share
	cond     cond
	then     []step
	els      []step
	status   int
	reason   string
	trigger  int
}

type share struct {
	fee, tranche int // one is -1
	pct          money.Rate
}

type cond struct {
	trigger, paidOff, status int // one is set, others -1
	not                      bool
}

var frequencies = map[string]int{"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}

var dayCounts = []string{"ACT/365F", "ACT/360", "30/360", "ACT/ACT"}

// checker accumulates problems.
type checker struct {
	ps  []Problem
	cur money.Currency
}

func (c *checker) add(path, value, rule string) {
	c.ps = append(c.ps, Problem{Path: path, Value: value, Rule: rule})
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func (c *checker) date(path, s string, required bool) date.Date {
	if s == "" {
		if required {
			c.add(path, "", "is required (YYYY-MM-DD)")
		}
		return date.Date{}
	}
	d, err := date.ParseStrict(s)
	if err != nil {
		c.add(path, quote(s), "is not a date of the form YYYY-MM-DD")
	}
	return d
}

func (c *checker) amount(path, s string, required bool) int64 {
	if s == "" {
		if required {
			c.add(path, "", "is required (an amount in yuan, such as \"1234.56\")")
		}
		return 0
	}
	a, err := money.ParseStrict(s, c.cur)
	if err != nil {
		c.add(path, quote(s), "is not an amount in yuan of the form 1234.56")
		return 0
	}
	if a.Sign() < 0 {
		c.add(path, s, "is negative; balances and amounts must not be")
		return 0
	}
	if a.Minor() > maxMinor {
		c.add(path, s, "is above the limit of 10,000,000,000,000 (10 trillion)")
		return 0
	}
	return a.Minor()
}

// rate parses a rate in [0, 100%] (or [0, max] when max is not zero).
func (c *checker) rate(path, s string, required bool, def money.Rate) money.Rate {
	if s == "" {
		if required {
			c.add(path, "", "is required (a rate such as \"3%\" or \"0.03\")")
		}
		return def
	}
	r, err := money.ParseRate(s)
	if err != nil {
		c.add(path, quote(s), "is not a rate such as \"3%\", \"0.03\" or \"1/3\"")
		return def
	}
	if r.Sign() < 0 {
		c.add(path, s, "is negative")
		return def
	}
	if r.Cmp(money.MustRate(1, 1)) > 0 {
		c.add(path, s, "is above 100%")
		return def
	}
	return r
}

func (c *checker) dayCount(path, s string) string {
	if s == "" {
		return "ACT/365F"
	}
	if !slices.Contains(dayCounts, s) {
		c.add(path, quote(s), "is not a day count ("+strings.Join(dayCounts, ", ")+")")
		return "ACT/365F"
	}
	return s
}

// Compile validates a document and compiles it into a Deal. Every problem is reported, each with
// its path, as a *reclaim.Error EINVALID whose Err is a *ValidationError; nothing is compiled
// from an invalid document.
func Compile(doc *Document, opt Options) (*Deal, error) {
	if doc == nil {
		return nil, reclaim.Errorf(reclaim.EINVALID, "no deal document")
	}
	c := &checker{cur: money.DefaultCurrency}
	d := &Deal{name: doc.Name}
	if doc.Name == "" {
		c.add("name", "", "is required")
	}
	if doc.Currency != "" {
		cur := money.Currency(doc.Currency)
		if !cur.Valid() {
			c.add("currency", quote(doc.Currency), "is not an ISO 4217 code such as CNY")
		} else {
			c.cur = cur
		}
	}
	d.cur = c.cur
	canon := *doc
	c.dates(d, &doc.Dates)
	canon.Pool.Forecast, canon.Pool.ForecastFile = c.pool(d, &doc.Pool, opt)
	c.accounts(d, doc.Accounts)
	c.fees(d, doc.Fees)
	c.tranches(d, doc.Tranches)
	// Accounts' targets refer to fees and tranches.
	for i, a := range doc.Accounts {
		if a.Target != nil && i < len(d.accounts) && d.accounts[i].target != nil {
			t := d.accounts[i].target
			t.tranches = c.refs(fmt.Sprintf("accounts[%d].target.tranches", i), a.Target.Tranches, d.trancheIndex)
			t.fees = c.refs(fmt.Sprintf("accounts[%d].target.fees", i), a.Target.Fees, d.feeIndex)
			for j, f := range t.fees {
				if f >= 0 && d.fees[f].basis != basisAnnual && d.fees[f].basis != basisFixed {
					c.add(fmt.Sprintf("accounts[%d].target.fees[%d]", i, j), quote(d.fees[f].name), "is not an annual or fixed fee")
				}
			}
		}
	}
	// Statuses are the waterfalls' keys, sorted for a stable order.
	for s := range doc.Waterfalls {
		d.statuses = append(d.statuses, s)
	}
	slices.Sort(d.statuses)
	if len(d.statuses) == 0 {
		c.add("waterfalls", "", "must hold at least one waterfall (one per deal status)")
	}
	init := doc.InitialStatus
	if init == "" {
		init = "normal"
	}
	d.initial = slices.Index(d.statuses, init)
	if d.initial < 0 && len(d.statuses) > 0 {
		c.add("initial_status", quote(init), "has no waterfall")
	}
	c.triggers(d, doc.Triggers)
	d.waterfalls = make([][]step, len(d.statuses))
	for si, s := range d.statuses {
		path := "waterfalls." + s
		steps := doc.Waterfalls[s]
		if len(steps) == 0 {
			c.add(path, "", "is empty")
			continue
		}
		d.waterfalls[si] = c.steps(d, path, steps)
		last := steps[len(steps)-1]
		lastC := d.waterfalls[si][len(steps)-1]
		if last.Action != "split_residual" || (len(lastC.from) == 1 && lastC.from[0] != d.collection) {
			c.add(path, "", "can leave cash undistributed: its last step must be split_residual of the collection account")
		}
	}
	if doc.CleanUpCall != nil {
		d.call = &cleanUp{threshold: c.rate("clean_up_call.threshold", doc.CleanUpCall.Threshold, true, money.Rate{}), exercise: doc.CleanUpCall.Exercise}
	}
	if len(c.ps) > 0 {
		fields := make(map[string]string, len(c.ps))
		for _, p := range c.ps {
			v := strings.TrimSpace(p.Value + " " + p.Rule)
			if old, ok := fields[p.Path]; ok {
				v = old + "; " + v
			}
			fields[p.Path] = v
		}
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("deal document is invalid (%d problems)", len(c.ps)),
			Fields: fields, Err: &ValidationError{Problems: c.ps}}
	}
	d.doc = &canon
	if err := d.prepare(); err != nil {
		return nil, reclaim.WrapError(reclaim.EINVALID, err, "deal amounts out of range")
	}
	h, err := canon.Hash()
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "hash the deal document")
	}
	d.hash = h
	return d, nil
}

// Load parses and compiles a deal document.
func Load(data []byte, opt Options) (*Deal, error) {
	doc, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Compile(doc, opt)
}

func (c *checker) dates(d *Deal, ds *Dates) {
	d.cutoff = c.date("dates.cutoff", ds.Cutoff, true)
	d.closing = c.date("dates.closing", ds.Closing, true)
	first := c.date("dates.first_payment", ds.FirstPayment, len(ds.Schedule) == 0)
	legal := c.date("dates.legal_maturity", ds.LegalMaturity, true)
	d.pricing = d.closing
	if ds.Pricing != "" {
		d.pricing = c.date("dates.pricing", ds.Pricing, false)
	}
	if !d.cutoff.IsZero() && !d.closing.IsZero() && !d.cutoff.Before(d.closing) {
		c.add("dates.closing", ds.Closing, "is not after the cut-off date "+ds.Cutoff)
	}
	f, ok := frequencies[ds.Frequency]
	if !ok {
		c.add("dates.frequency", quote(ds.Frequency), "is not a payment frequency (monthly, quarterly, semiannual, annual)")
		f = 3
	}
	d.freqMonths = f
	if ds.CollectionLagDays < 0 || ds.CollectionLagDays > 366 {
		c.add("dates.collection_lag_days", fmt.Sprint(ds.CollectionLagDays), "is not between 0 and 366")
	}
	if d.cutoff.IsZero() || d.closing.IsZero() || legal.IsZero() {
		return
	}
	if len(ds.Schedule) > 0 {
		for i, e := range ds.Schedule {
			p := c.date(fmt.Sprintf("dates.schedule[%d].payment", i), e.Payment, true)
			ce := c.date(fmt.Sprintf("dates.schedule[%d].collection_end", i), e.CollectionEnd, true)
			d.pay = append(d.pay, p)
			d.collEnd = append(d.collEnd, ce)
		}
		if n := len(d.pay); n > 0 && d.pay[n-1] != legal {
			c.add("dates.legal_maturity", ds.LegalMaturity, "is not the last payment date of the schedule")
		}
	} else if !first.IsZero() {
		if legal.Before(first) {
			c.add("dates.legal_maturity", ds.LegalMaturity, "is before the first payment date "+ds.FirstPayment)
			return
		}
		for k := 0; ; k++ {
			p := first.AddMonths(k * f)
			if !p.Before(legal) {
				break
			}
			if k >= maxPeriods {
				c.add("dates.legal_maturity", ds.LegalMaturity, fmt.Sprintf("gives more than %d payment dates", maxPeriods))
				return
			}
			d.pay = append(d.pay, p)
		}
		d.pay = append(d.pay, legal)
		for _, p := range d.pay {
			d.collEnd = append(d.collEnd, p.AddDays(-ds.CollectionLagDays))
		}
	}
	if len(d.pay) > maxPeriods {
		c.add("dates.schedule", fmt.Sprint(len(d.pay)), fmt.Sprintf("payment dates are more than %d", maxPeriods))
	}
	for i := range d.pay {
		path := fmt.Sprintf("dates.schedule[%d]", i)
		if i == 0 && d.pay[0].Before(d.closing) {
			c.add(path+".payment", d.pay[0].String(), "is before the closing date "+ds.Closing)
		}
		if d.collEnd[i].After(d.pay[i]) {
			c.add(path+".collection_end", d.collEnd[i].String(), "is after its payment date "+d.pay[i].String())
		}
		if i == 0 && !d.collEnd[0].After(d.cutoff) {
			c.add(path+".collection_end", d.collEnd[0].String(), "is not after the cut-off date "+ds.Cutoff)
		}
		if i > 0 && !d.pay[i].After(d.pay[i-1]) {
			c.add(path+".payment", d.pay[i].String(), "is not after the previous payment date "+d.pay[i-1].String())
		}
		if i > 0 && !d.collEnd[i].After(d.collEnd[i-1]) {
			c.add(path+".collection_end", d.collEnd[i].String(), "overlaps the previous collection period (ends "+d.collEnd[i-1].String()+")")
		}
	}
}

// maxMinor bounds every amount of a deal (10 trillion yuan in fen), so that sums over a deal's
// life cannot overflow int64.
const maxMinor = 1_000_000_000_000_000

// maxPeriods bounds the number of payment dates.
const maxPeriods = 600

// pool checks the pool and returns the forecast to keep in the canonical document.
func (c *checker) pool(d *Deal, p *Pool, opt Options) ([]FlowSpec, string) {
	claim := c.amount("pool.claim", p.Claim, true)
	if p.Claim != "" && claim == 0 {
		c.add("pool.claim", p.Claim, "must be positive")
	}
	d.claim = money.New(claim, c.cur)
	c.amount("pool.principal", p.Principal, false)
	if p.Borrowers < 0 {
		c.add("pool.borrowers", fmt.Sprint(p.Borrowers), "is negative")
	}
	pr := c.rate("pool.payer_rate", p.PayerRate, false, money.MustRate(1, 5))
	if pr.IsZero() || pr.Cmp(money.MustRate(1, 1)) >= 0 {
		c.add("pool.payer_rate", p.PayerRate, "must be above 0% and below 100%")
		pr = money.MustRate(1, 5)
	}
	d.payerRate = pr.Float()
	specs := p.Forecast
	switch {
	case p.ForecastFile != "" && len(p.Forecast) > 0:
		c.add("pool.forecast_file", quote(p.ForecastFile), "is given with pool.forecast; use one or the other")
		return specs, ""
	case p.ForecastFile != "":
		if opt.Files == nil {
			c.add("pool.forecast_file", quote(p.ForecastFile), "cannot be read here (no directory to read it from)")
			return nil, p.ForecastFile
		}
		b, err := fs.ReadFile(opt.Files, p.ForecastFile)
		if err != nil {
			c.add("pool.forecast_file", quote(p.ForecastFile), "cannot be read: "+err.Error())
			return nil, p.ForecastFile
		}
		flows, err := ParseFlowsCSV(bytes.NewReader(b), c.cur)
		if err != nil {
			c.add("pool.forecast_file", quote(p.ForecastFile), reclaim.ErrorMessage(err)+": "+errDetail(err))
			return nil, p.ForecastFile
		}
		d.forecast = flows
		specs = make([]FlowSpec, len(flows))
		for i, f := range flows {
			specs[i] = FlowSpec{Date: f.Date.String(), Amount: f.Amount.String()}
		}
		c.checkFlows(d, "pool.forecast_file", flows)
		return specs, ""
	case len(p.Forecast) == 0:
		c.add("pool.forecast", "", "is required (or pool.forecast_file): the projected recoveries by date")
		return nil, ""
	}
	for i, f := range p.Forecast {
		path := fmt.Sprintf("pool.forecast[%d]", i)
		dt := c.date(path+".date", f.Date, true)
		a := c.amount(path+".amount", f.Amount, true)
		d.forecast = append(d.forecast, Flow{Date: dt, Amount: money.New(a, c.cur)})
	}
	c.checkFlows(d, "pool.forecast", d.forecast)
	return specs, ""
}

// errDetail returns the detail (the wrapped cause) of a *reclaim.Error, such as the list of bad
// lines of a CSV, on one line.
func errDetail(err error) string {
	var re *reclaim.Error
	if errors.As(err, &re) && re.Err != nil {
		return strings.ReplaceAll(re.Err.Error(), "\n", "; ")
	}
	return ""
}

func (c *checker) checkFlows(d *Deal, path string, flows []Flow) {
	for i, f := range flows {
		if f.Date.IsZero() {
			continue
		}
		if !d.cutoff.IsZero() && !f.Date.After(d.cutoff) {
			c.add(fmt.Sprintf("%s[%d].date", path, i), f.Date.String(), "is not after the cut-off date; that cash is the seller's")
		}
		if i > 0 && !flows[i-1].Date.IsZero() && !f.Date.After(flows[i-1].Date) {
			c.add(fmt.Sprintf("%s[%d].date", path, i), f.Date.String(), "is not after the previous date "+flows[i-1].Date.String()+" (dates must be in order, once each)")
		}
	}
}

func (d *Deal) accountIndex(name string) int {
	return slices.IndexFunc(d.accounts, func(a account) bool { return a.name == name })
}
func (d *Deal) feeIndex(name string) int {
	return slices.IndexFunc(d.fees, func(f fee) bool { return f.name == name })
}
func (d *Deal) trancheIndex(name string) int {
	return slices.IndexFunc(d.tranches, func(t tranche) bool { return t.name == name })
}
func (d *Deal) triggerIndex(name string) int {
	return slices.IndexFunc(d.triggers, func(t trigger) bool { return t.name == name })
}

func (c *checker) refs(path string, names []string, find func(string) int) []int {
	out := make([]int, 0, len(names))
	for i, n := range names {
		j := find(n)
		if j < 0 {
			c.add(fmt.Sprintf("%s[%d]", path, i), quote(n), "is not defined")
		}
		out = append(out, j)
	}
	return out
}

func (c *checker) unique(path string, i int, name string, seen map[string]bool) {
	if name == "" {
		c.add(fmt.Sprintf("%s[%d].name", path, i), "", "is required")
		return
	}
	if seen[name] {
		c.add(fmt.Sprintf("%s[%d].name", path, i), quote(name), "is used twice")
	}
	seen[name] = true
}

func (c *checker) accounts(d *Deal, as []Account) {
	seen := map[string]bool{}
	d.collection = -1
	for i, a := range as {
		path := fmt.Sprintf("accounts[%d]", i)
		c.unique("accounts", i, a.Name, seen)
		ac := account{name: a.Name, kind: a.Kind, initial: c.amount(path+".initial", a.Initial, false)}
		switch a.Kind {
		case "collection":
			if d.collection >= 0 {
				c.add(path+".kind", quote(a.Kind), "is used twice; a deal has one collection account")
			}
			d.collection = i
			if a.Target != nil {
				c.add(path+".target", "", "is for reserve accounts only")
			}
		case "reserve":
			if a.Target != nil {
				t := &target{}
				switch {
				case a.Target.Fixed != "" && a.Target.Multiple != "":
					c.add(path+".target", "", "has both fixed and multiple; give one")
				case a.Target.Fixed != "":
					t.isFixed = true
					t.fixed = c.amount(path+".target.fixed", a.Target.Fixed, true)
				case a.Target.Multiple != "":
					r, err := money.ParseRate(a.Target.Multiple)
					if err != nil || r.Sign() < 0 || r.Cmp(money.MustRate(10, 1)) > 0 {
						c.add(path+".target.multiple", quote(a.Target.Multiple), "is not a multiple between 0 and 10")
					}
					t.multiple = r
					if len(a.Target.Tranches) == 0 {
						c.add(path+".target.tranches", "", "is required with a multiple")
					}
				default:
					c.add(path+".target", "", "needs fixed or multiple")
				}
				ac.target = t
			}
		default:
			c.add(path+".kind", quote(a.Kind), "is not an account kind (collection, reserve)")
		}
		d.accounts = append(d.accounts, ac)
	}
	if d.collection < 0 {
		c.add("accounts", "", "needs one account of kind collection")
		d.collection = 0
		if len(d.accounts) == 0 {
			d.accounts = append(d.accounts, account{name: "collection", kind: "collection"})
		}
	}
}

func (c *checker) fees(d *Deal, fs []Fee) {
	seen := map[string]bool{}
	for i, f := range fs {
		path := fmt.Sprintf("fees[%d]", i)
		c.unique("fees", i, f.Name, seen)
		fc := fee{name: f.Name, basis: f.Basis, dc: c.dayCount(path+".day_count", f.DayCount)}
		switch f.Basis {
		case basisCollections:
			fc.rate = c.rate(path+".rate", f.Rate, true, money.Rate{})
		case basisAnnual, basisFixed:
			fc.amount = c.amount(path+".amount", f.Amount, true)
		case basisResidual:
		default:
			c.add(path+".basis", quote(f.Basis), "is not a fee basis (collections, annual, fixed, residual)")
		}
		fc.deferred = c.rate(path+".deferred", f.Deferred, false, money.Rate{})
		d.fees = append(d.fees, fc)
	}
}

func (c *checker) tranches(d *Deal, ts []Tranche) {
	if len(ts) == 0 {
		c.add("tranches", "", "needs at least one tranche")
	}
	seen := map[string]bool{}
	minRetained := money.MustRate(5, 100)
	for i, t := range ts {
		path := fmt.Sprintf("tranches[%d]", i)
		c.unique("tranches", i, t.Name, seen)
		tc := tranche{name: t.Name, balance: c.amount(path+".balance", t.Balance, true), dc: c.dayCount(path+".day_count", t.DayCount)}
		if t.Balance != "" && tc.balance == 0 {
			c.add(path+".balance", t.Balance, "must be positive")
		}
		tc.coupon = c.rate(path+".coupon", t.Coupon, false, money.Rate{})
		tc.price = money.MustRate(1, 1)
		if t.IssuePrice != "" {
			r, err := money.ParseRate(t.IssuePrice)
			if err != nil || r.Sign() <= 0 || r.Cmp(money.MustRate(1000, 1)) > 0 {
				c.add(path+".issue_price", quote(t.IssuePrice), "is not a price per 100 of face between 0 and 1000")
			} else {
				tc.price, _ = r.Mul(money.MustRate(1, 100))
			}
		}
		tc.retained = c.rate(path+".retained", t.Retained, true, minRetained)
		if tc.retained.Cmp(minRetained) < 0 {
			c.add(path+".retained", t.Retained, "is below the 5% of each tranche the originator must retain")
		}
		d.tranches = append(d.tranches, tc)
	}
}

func (c *checker) triggers(d *Deal, ts []Trigger) {
	seen := map[string]bool{}
	for i, t := range ts {
		c.unique("triggers", i, t.Name, seen)
	}
	// Order: a trigger after those it refers to; a cycle is an error.
	index := map[string]int{}
	for i, t := range ts {
		if _, ok := index[t.Name]; !ok {
			index[t.Name] = i
		}
	}
	state := make([]int, len(ts)) // 0 new, 1 visiting, 2 done
	var order []int
	var visit func(i int, chain []string) bool
	visit = func(i int, chain []string) bool {
		switch state[i] {
		case 1:
			c.add(fmt.Sprintf("triggers[%d].of", i), "", "makes a cycle: "+strings.Join(append(chain, ts[i].Name), " -> "))
			return false
		case 2:
			return true
		}
		state[i] = 1
		ok := true
		for _, n := range ts[i].Of {
			if j, found := index[n]; found {
				ok = visit(j, append(chain, ts[i].Name)) && ok
			}
		}
		state[i] = 2
		order = append(order, i)
		return ok
	}
	for i := range ts {
		if state[i] == 0 {
			visit(i, nil)
		}
	}
	d.triggers = make([]trigger, len(order))
	pos := make([]int, len(ts))
	for k, i := range order {
		pos[i] = k
		d.triggers[k].name = ts[i].Name
	}
	for k, i := range order {
		t := ts[i]
		path := fmt.Sprintf("triggers[%d]", i)
		tc := trigger{name: t.Name, kind: t.Kind, tranche: -1, account: -1, status: -1, curable: t.Curable}
		after := false
		switch t.Kind {
		case kindInterestShortfall, kindPrincipalMaturity:
			after = true
			tc.tranche = d.trancheIndex(t.Tranche)
			if tc.tranche < 0 {
				c.add(path+".tranche", quote(t.Tranche), "is not a tranche")
			}
		case kindCumRecovery:
			tc.threshold = c.rate(path+".threshold", t.Threshold, true, money.Rate{})
		case kindReserveBelow:
			tc.threshold = c.rate(path+".threshold", t.Threshold, true, money.Rate{})
			tc.account = d.accountIndex(t.Account)
			if tc.account < 0 || d.accounts[tc.account].target == nil {
				c.add(path+".account", quote(t.Account), "is not a reserve account with a target")
			}
		case kindDate:
			tc.date = c.date(path+".date", t.Date, true)
		case kindAny, kindAll:
			after = true
			if len(t.Of) == 0 {
				c.add(path+".of", "", "needs the triggers it combines")
			}
			for j, n := range t.Of {
				if r, ok := index[n]; ok {
					tc.of = append(tc.of, pos[r])
				} else {
					c.add(fmt.Sprintf("%s.of[%d]", path, j), quote(n), "is not a trigger")
				}
			}
		default:
			c.add(path+".kind", quote(t.Kind), "is not a trigger kind (interest_shortfall, principal_at_maturity, cumulative_recovery, reserve_below, date, any, all)")
		}
		if t.Kind != kindAny && t.Kind != kindAll && len(t.Of) > 0 {
			c.add(path+".of", "", "is for any and all triggers only")
		}
		switch t.Test {
		case "":
		case "before":
			after = false
		case "after":
			after = true
		default:
			c.add(path+".test", quote(t.Test), "is not before or after")
		}
		tc.after = after
		if t.Status != "" {
			tc.status = slices.Index(d.statuses, t.Status)
			if tc.status < 0 {
				c.add(path+".status", quote(t.Status), "has no waterfall")
			}
		}
		d.triggers[k] = tc
	}
}

func (c *checker) steps(d *Deal, path string, ss []Step) []step {
	out := make([]step, len(ss))
	for i, s := range ss {
		out[i] = c.step(d, fmt.Sprintf("%s[%d]", path, i), s)
	}
	return out
}

func (c *checker) accountsFrom(d *Deal, path string, names []string) []int {
	if len(names) == 0 {
		return []int{d.collection}
	}
	return c.refs(path+".from", names, d.accountIndex)
}

func (c *checker) step(d *Deal, path string, s Step) step {
	st := step{action: slices.Index(Actions, s.Action), path: path, to: -1, account: -1, limit: -1, status: -1, trigger: -1}
	if st.action < 0 {
		c.add(path+".action", quote(s.Action), "is not an action ("+strings.Join(Actions, ", ")+")")
		return st
	}
	c.unusedFields(path, s)
	st.from = c.accountsFrom(d, path, s.From)
	if s.Limit != "" {
		st.limit = c.amount(path+".limit", s.Limit, false)
	}
	mode := func(allowPass bool) {
		switch s.Mode {
		case "", "sequential":
		case "pro_rata":
			st.mode = modeProRata
		case "pass_through":
			if allowPass {
				st.mode = modePassThrough
				break
			}
			fallthrough
		default:
			c.add(path+".mode", quote(s.Mode), "is not a mode of this action (sequential, pro_rata"+map[bool]string{true: ", pass_through"}[allowPass]+")")
		}
	}
	needFees := func(payable bool) {
		if len(s.Fees) == 0 {
			c.add(path+".fees", "", "is required")
		}
		st.fees = c.refs(path+".fees", s.Fees, d.feeIndex)
		for j, f := range st.fees {
			if payable && f >= 0 && d.fees[f].basis == basisResidual {
				c.add(fmt.Sprintf("%s.fees[%d]", path, j), quote(s.Fees[j]), "is a residual fee; it is paid by split_residual")
			}
		}
	}
	needTranches := func() {
		if len(s.Tranches) == 0 {
			c.add(path+".tranches", "", "is required")
		}
		st.tranches = c.refs(path+".tranches", s.Tranches, d.trancheIndex)
	}
	reserve := func() {
		st.account = d.accountIndex(s.Account)
		if st.account < 0 || d.accounts[st.account].target == nil {
			c.add(path+".account", quote(s.Account), "is not a reserve account with a target")
		}
	}
	switch st.action {
	case actTransfer:
		if len(st.from) != 1 {
			c.add(path+".from", "", "must name one account")
		}
		st.to = d.accountIndex(s.To)
		if st.to < 0 {
			c.add(path+".to", quote(s.To), "is not an account")
		}
	case actPayFee, actPayDeferredFee:
		needFees(true)
		mode(false)
	case actDeferFee:
		needFees(true)
	case actPayInterest:
		needTranches()
		mode(false)
	case actPayPrincipal:
		needTranches()
		mode(true)
	case actTopUpReserve:
		reserve()
		if len(st.from) != 1 {
			c.add(path+".from", "", "must name one account")
		}
	case actReleaseReserve:
		reserve()
		st.to = d.collection
		if s.To != "" {
			st.to = d.accountIndex(s.To)
			if st.to < 0 {
				c.add(path+".to", quote(s.To), "is not an account")
			}
		}
	case actSplitResidual:
		if len(st.from) != 1 {
			c.add(path+".from", "", "must name one account")
		}
		if len(s.Shares) == 0 {
			c.add(path+".shares", "", "is required")
		}
		total := money.Rate{}
		for j, sh := range s.Shares {
			sp := fmt.Sprintf("%s.shares[%d]", path, j)
			x := share{fee: -1, tranche: -1, pct: c.rate(sp+".pct", sh.Pct, true, money.Rate{})}
			switch {
			case (sh.Fee == "") == (sh.Tranche == ""):
				c.add(sp, "", "needs one of fee and tranche")
			case sh.Fee != "":
				x.fee = d.feeIndex(sh.Fee)
				if x.fee < 0 || d.fees[x.fee].basis != basisResidual {
					c.add(sp+".fee", quote(sh.Fee), "is not a fee with basis residual")
				}
			default:
				x.tranche = d.trancheIndex(sh.Tranche)
				if x.tranche < 0 {
					c.add(sp+".tranche", quote(sh.Tranche), "is not a tranche")
				}
			}
			total, _ = total.Add(x.pct)
			st.shares = append(st.shares, x)
		}
		if len(s.Shares) > 0 && total.Cmp(money.MustRate(1, 1)) != 0 {
			c.add(path+".shares", total.Percent(4), "do not add up to 100%")
		}
	case actIf:
		st.cond = cond{trigger: -1, paidOff: -1, status: -1}
		if s.If == nil {
			c.add(path+".if", "", "is required")
		} else {
			n := 0
			if s.If.Trigger != "" {
				n++
				st.cond.trigger = d.triggerIndex(s.If.Trigger)
				if st.cond.trigger < 0 {
					c.add(path+".if.trigger", quote(s.If.Trigger), "is not a trigger")
				}
			}
			if s.If.PaidOff != "" {
				n++
				st.cond.paidOff = d.trancheIndex(s.If.PaidOff)
				if st.cond.paidOff < 0 {
					c.add(path+".if.paid_off", quote(s.If.PaidOff), "is not a tranche")
				}
			}
			if s.If.Status != "" {
				n++
				st.cond.status = slices.Index(d.statuses, s.If.Status)
				if st.cond.status < 0 {
					c.add(path+".if.status", quote(s.If.Status), "has no waterfall")
				}
			}
			if n != 1 {
				c.add(path+".if", "", "needs exactly one of trigger, paid_off and status")
			}
			st.cond.not = s.If.Not
		}
		if len(s.Then) == 0 && len(s.Else) == 0 {
			c.add(path+".then", "", "is required")
		}
		st.then = c.steps(d, path+".then", s.Then)
		st.els = c.steps(d, path+".else", s.Else)
	case actChangeStatus:
		st.status = slices.Index(d.statuses, s.Status)
		if st.status < 0 {
			c.add(path+".status", quote(s.Status), "has no waterfall")
		}
		st.reason = s.Reason
		if st.reason == "" {
			c.add(path+".reason", "", "is required: every status change is logged with its reason")
		}
	case actRunTrigger:
		st.trigger = d.triggerIndex(s.Trigger)
		if st.trigger < 0 {
			c.add(path+".trigger", quote(s.Trigger), "is not a trigger")
		}
	}
	return st
}

// stepFields lists the fields each action takes besides action.
var stepFields = map[string]string{
	"transfer": "from to limit", "pay_fee": "fees mode from limit", "defer_fee": "fees",
	"pay_interest": "tranches mode from limit", "top_up_reserve": "account from", "release_reserve": "account to",
	"pay_principal": "tranches mode from limit", "pay_deferred_fee": "fees mode from limit", "split_residual": "from shares",
	"if": "if then else", "change_status": "status reason", "run_trigger": "trigger",
}

// unusedFields reports fields a step sets that its action does not take (a misplaced field is
// a mistake, not a no-op).
func (c *checker) unusedFields(path string, s Step) {
	allowed := strings.Fields(stepFields[s.Action])
	for _, f := range []struct {
		name string
		set  bool
	}{{"from", len(s.From) > 0}, {"to", s.To != ""}, {"account", s.Account != ""}, {"fees", len(s.Fees) > 0},
		{"tranches", len(s.Tranches) > 0}, {"mode", s.Mode != ""}, {"limit", s.Limit != ""}, {"shares", len(s.Shares) > 0},
		{"if", s.If != nil}, {"then", len(s.Then) > 0}, {"else", len(s.Else) > 0}, {"status", s.Status != ""},
		{"reason", s.Reason != ""}, {"trigger", s.Trigger != ""}} {
		if f.set && !slices.Contains(allowed, f.name) {
			c.add(path+"."+f.name, "", "is not used by action "+s.Action)
		}
	}
}

// Name returns the deal's name.
func (d *Deal) Name() string { return d.name }

// Hash returns the SHA-256 of the deal's canonical document (forecast file inlined).
func (d *Deal) Hash() string { return d.hash }

// Document returns the canonical document the deal was compiled from (the forecast inlined).
func (d *Deal) Document() *Document { c := *d.doc; return &c }

// Currency returns the deal's currency.
func (d *Deal) Currency() money.Currency { return d.cur }

// PaymentDates returns the payment dates; the last is the legal maturity.
func (d *Deal) PaymentDates() []date.Date { return slices.Clone(d.pay) }

// Schedule returns one Period per payment date, up to the legal maturity: its date, its
// collection window (from the day after the previous window's end, or after the cut-off for the
// first, to its end, both days included) and the forecast the window collects, alone and
// cumulated; the other fields, a run's, are zero. A run's periods stop early once everything is
// paid and the forecast has no more cash; the schedule does not, because actual collections may
// fall short of the forecast and keep a live deal running (and reporting) to its legal maturity.
func (d *Deal) Schedule() []Period {
	out := make([]Period, len(d.pay))
	var cum int64
	for k := range d.pay {
		start := d.cutoff.AddDays(1)
		if k > 0 {
			start = d.collEnd[k-1].AddDays(1)
		}
		cum += d.fcBucket[k]
		out[k] = Period{Period: k + 1, Date: d.pay[k], CollectionStart: start, CollectionEnd: d.collEnd[k],
			Forecast: money.New(d.fcBucket[k], d.cur), CumForecast: money.New(cum, d.cur)}
	}
	return out
}

// PayerRate returns pool.payer_rate: the share of borrowers expected to pay something, the
// probability the Monte Carlo's factor model applies to the pool (20% when the document omits it).
func (d *Deal) PayerRate() float64 { return d.payerRate }

// Forecast returns the pool's projected recoveries.
func (d *Deal) Forecast() []Flow { return slices.Clone(d.forecast) }
