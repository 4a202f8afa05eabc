// Package sim runs a portfolio's workout forward day by day with synthetic debtors who respond to
// the actions taken: each day the strategy builds its work queue (workout.PlanQueue, every contact
// allowed by workout.Decide at its planned time), each contact reaches the debtor or not, a reached
// debtor may commit (a settlement at the offered discount, or an instalment plan), and
// commitments are paid or broken. The debtors come from package synth, streamed; their latent
// behaviour (whether and when they would pay, settle or take a plan, whether a plan breaks) comes
// from synth.Outcome, which is calibrated to shared/design/market.md, so the simulated collections
// can be set against the valuation forecast of the same portfolio. The run writes the contact log
// (collection-rules.md's CSV format, every attempt, with agent and agency) and the payments (the
// bank-statement CSV format of docs/payments.md). Everything is deterministic by Config.Seed;
// random draws are keyed by (seed, case, day, purpose), so two strategies run on the same
// debtors face the same luck (common random numbers) and their difference is the strategies'.
package sim

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/synth"
	"reclaim/workout"
)

// Mode is how the simulated AMC chooses its contacts and offers.
type Mode string

// Modes.
const (
	// Rules is the champion: rule scores (claim and days-past-due ladders, a fixed channel by
	// claim band) through the same capacitated assignment, and a fixed settlement discount.
	Rules Mode = "rules"
	// Optimiser values each contact by the trained contact model's uplift and offers the
	// NPV-optimal discount under the trained acceptance model.
	Optimiser Mode = "optimiser"
	// Explore contacts random eligible cases on random channels within capacity and offers
	// random discounts: the run that produces the models' training data.
	Explore Mode = "explore"
	// Split is champion/challenger in one run: each case is in the challenger arm with
	// Config.ChallengerShare (workout.ChallengerArm) and each arm gets that share of every team's
	// capacity; the champion arm is worked by Rules, the challenger by Optimiser.
	Split Mode = "split"
)

// RulesDiscount is the fixed settlement discount of the rules strategy.
const RulesDiscount = 0.40

// PlanDiscount is the discount an instalment plan gives (both strategies).
const PlanDiscount = 0.10

// Config configures a run.
type Config struct {
	Seed    uint64
	Loans   int
	Months  int
	CutOff  date.Date // the portfolio's cut-off; the workout starts the day after
	Profile synth.Profile
	// Strategy names the channels, costs and teams (nil: workout.DefaultStrategy()).
	Strategy *workout.Strategy
	Mode     Mode
	// Models are required by Optimiser and Split.
	Models *Models
	// ChallengerShare is the challenger arm's share of cases and capacity in Split (default 0.5).
	ChallengerShare float64
	// Contacts and Payments, when not nil, receive the contact log and the payments statement.
	Contacts io.Writer
	Payments io.Writer
	// Forecast, when not nil, is asked for the valuation forecast of the portfolio: it gets the
	// items in chunks and returns the chunk's expected collections (yuan) in months 1..months
	// after the cut-off.
	Forecast func(items []synth.Item, months int) ([]float64, error)
	// Training, when not nil, collects the models' training examples (Explore).
	Training *Training
	// PerCase asks for each case's net collections (collected minus contact costs) in the result.
	PerCase bool
	// Progress, when not nil, is called after every simulated day.
	Progress func(day, days int)
}

// MonthRow is one calendar month of the run.
type MonthRow struct {
	Month     string  `json:"month"` // YYYY-MM
	Collected float64 `json:"collected"`
	Forecast  float64 `json:"forecast"`
	Contacts  int     `json:"contacts"`
	Cost      float64 `json:"cost"`
}

// ArmResult is the totals of one arm (or of the whole run).
type ArmResult struct {
	Cases     int     `json:"cases"`
	Claim     float64 `json:"claim"`
	Collected float64 `json:"collected"`
	Cost      float64 `json:"cost"`
	Net       float64 `json:"net"`
	Payers    int     `json:"payers"`
}

// Result is what a run measured.
type Result struct {
	Mode          Mode               `json:"mode"`
	Strategy      string             `json:"strategy"`
	Seed          uint64             `json:"seed"`
	Loans         int                `json:"loans"`
	Cases         int                `json:"cases"`
	Days          int                `json:"days"`
	Claim         float64            `json:"claim"`
	Collected     float64            `json:"collected"`
	Forecast      float64            `json:"forecast"`
	Cost          float64            `json:"cost"`
	Net           float64            `json:"net"`
	Months        []MonthRow         `json:"months"`
	Contacts      map[string]int     `json:"contacts_by_channel"`
	Outcomes      map[string]int     `json:"outcomes"`
	ContactCost   map[string]float64 `json:"cost_by_channel"`
	Payers        int                `json:"payers"`
	Offers        int                `json:"offers"`
	OffersChecker int                `json:"offers_needing_checker"`
	Settlements   int                `json:"settlements"`
	MeanDiscount  float64            `json:"mean_settlement_discount"`
	Waived        float64            `json:"waived"`
	Plans         int                `json:"plans"`
	PlansBroken   int                `json:"plans_broken"`
	PromisesBroke int                `json:"promises_broken"`
	QueueDropped  int                `json:"queue_dropped"`
	// QueueValue is the sum over days of the queue's optimal total net (in the strategy's own
	// valuation: model values for the optimiser, rule scores for the rules).
	QueueValue float64 `json:"queue_value"`
	// Arms holds the champion and challenger totals in Split mode.
	Arms map[string]ArmResult `json:"arms,omitempty"`
	// PerCase is each case's net collections when Config.PerCase; Challenger marks the Split
	// arm of each case.
	PerCase    []float64 `json:"-"`
	Challenger []bool    `json:"-"`
}

// Case status.
const (
	stActive uint8 = iota
	stSettlePending
	stPlan
	stDone
)

// Latent kinds.
const (
	kindNone uint8 = iota
	kindSettle
	kindPlan
)

type contactRec struct {
	day     int32
	minute  int16
	ch      int8
	outcome workout.Outcome
}

const ringSize = 8

type caseState struct {
	debtorID, debtID, loanRef, name, number string
	claimFen                                int64
	claim                                   float64
	dpd0, age                               int
	phone, sued, wo, card                   bool
	deceased, bankrupt                      bool
	// latent
	kind       uint8
	ready      int32
	planMonths int8
	planBroken bool
	reserve    float32
	// dynamic
	status        uint8
	challenger    bool
	invalidNumber bool
	refusals      uint8
	nextEligible  int32
	lastContact   int32
	ring          [ringSize]contactRec
	nring         int
	// commitments
	payDay    int32
	payAmount int64
	keeps     bool
	plan      *workout.Plan
	planNext  int
	breakAt   int
	planStart int32
	// accounting
	collected int64
	cost      float64
	// optimiser cache
	val    [workout.NumChannels]float32
	valDay int32
}

// rnd returns a uniform draw in [0, 1) keyed by (seed, case, day, purpose).
func rnd(seed uint64, c, day, purpose int) float64 {
	x := seed ^ uint64(c)*0x9E3779B97F4A7C15 ^ uint64(day+1)*0xC2B2AE3D27D4EB4F ^ uint64(purpose+1)*0x165667B19E3779F9
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Behaviour: what a contact on a channel achieves once it reaches the debtor.
var strength = [workout.NumChannels]float64{0.40, 0.05, 0.55, 0.04, 0.02} // call, sms, visit, letter, email

func (c *Config) check() error {
	if c.Loans < 1 || c.Loans > 5_000_000 {
		return reclaim.Errorf(reclaim.EINVALID, "simulate: loans must be 1..5000000, got %d", c.Loans)
	}
	if c.Months < 1 || c.Months > 60 {
		return reclaim.Errorf(reclaim.EINVALID, "simulate: months must be 1..60, got %d", c.Months)
	}
	if c.CutOff.IsZero() {
		return reclaim.Errorf(reclaim.EINVALID, "simulate: a cut-off date is required")
	}
	switch c.Mode {
	case Rules, Explore:
	case Optimiser, Split:
		if c.Models == nil {
			return reclaim.Errorf(reclaim.EINVALID, "simulate: the %s strategy needs trained models", c.Mode)
		}
	default:
		return reclaim.Errorf(reclaim.EINVALID, "simulate: unknown strategy %q: want rules or optimiser", c.Mode)
	}
	if c.ChallengerShare == 0 {
		c.ChallengerShare = 0.5
	}
	if !(c.ChallengerShare > 0 && c.ChallengerShare < 1) {
		return reclaim.Errorf(reclaim.EINVALID, "simulate: challenger share must be in (0, 1)")
	}
	return nil
}

// Run simulates the workout. It stops with ctx's error when ctx is cancelled; a write error on
// Contacts or Payments stops it too.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Strategy == nil {
		cfg.Strategy = workout.DefaultStrategy()
	}
	s := cfg.Strategy
	r := &sim{cfg: cfg, s: s, res: &Result{Mode: cfg.Mode, Strategy: s.Name, Seed: cfg.Seed, Loans: cfg.Loans,
		Contacts: map[string]int{}, Outcomes: map[string]int{}, ContactCost: map[string]float64{}}}
	for i, ch := range workout.AllChannels {
		r.cost[i] = s.Cost(ch).Float()
	}
	r.zone = time.FixedZone("", s.Offset)
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if err := r.openWriters(); err != nil {
		return nil, err
	}
	if err := r.run(ctx); err != nil {
		return nil, err
	}
	if err := r.flush(); err != nil {
		return nil, err
	}
	return r.res, nil
}

type sim struct {
	cfg        Config
	s          *workout.Strategy
	res        *Result
	cases      []caseState
	cost       [workout.NumChannels]float64
	zone       *time.Location
	start      date.Date
	days       int
	monthStart []int // day index where each month starts, plus the end
	contacts   *csv.Writer
	payments   *csv.Writer
	cbuf, pbuf *bufio.Writer
	nContact   int
	nPay       int
	discSum    float64
	accepted   int
	commitDays map[int][]int32 // Explore: days each case committed
}

func (r *sim) load(ctx context.Context) error {
	cfg := r.cfg
	g, err := synth.New(synth.Config{Seed: cfg.Seed, Loans: cfg.Loans, PortfolioRef: fmt.Sprintf("SIM-%d", cfg.Seed), CutOff: cfg.CutOff, Profile: cfg.Profile})
	if err != nil {
		return err
	}
	r.start = cfg.CutOff.AddDays(1)
	end := r.start.AddMonths(cfg.Months)
	r.days = end.Sub(r.start)
	for m := 0; m <= cfg.Months; m++ {
		r.monthStart = append(r.monthStart, r.start.AddMonths(m).Sub(r.start))
	}
	r.res.Months = make([]MonthRow, cfg.Months)
	for m := range r.res.Months {
		r.res.Months[m].Month = r.start.AddMonths(m).String()[:7]
	}
	r.res.Days = r.days
	forecast := make([]float64, cfg.Months)
	var chunk []synth.Item
	flush := func() error {
		if cfg.Forecast == nil || len(chunk) == 0 {
			chunk = chunk[:0]
			return nil
		}
		f, err := cfg.Forecast(chunk, cfg.Months)
		if err != nil {
			return err
		}
		for m := range forecast {
			if m < len(f) {
				forecast[m] += f[m]
			}
		}
		chunk = chunk[:0]
		return nil
	}
	var cur *caseState
	lastBorrower := -1
	for {
		it, ok := g.Next()
		if !ok {
			break
		}
		if it.Index%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		l := &it.Loan
		if it.BorrowerIndex != lastBorrower {
			lastBorrower = it.BorrowerIndex
			r.cases = append(r.cases, caseState{})
			cur = &r.cases[len(r.cases)-1]
			ci := len(r.cases) - 1
			o := synth.Outcome(&it, synth.LifetimeMonths, synth.OutcomeRand(cfg.Seed, it.Index))
			*cur = caseState{debtorID: l.BorrowerID, debtID: l.LoanID, loanRef: l.LoanID, name: it.Personal.Name, number: it.Personal.Phone,
				dpd0: l.DaysPastDue, age: l.Age, phone: l.PhoneAvailable, sued: l.LegalStatus != reclaim.NotSued, wo: l.WrittenOff,
				card: l.ProductType == reclaim.CreditCard, deceased: l.Deceased, bankrupt: l.Bankrupt, lastContact: -1000, valDay: -1000}
			switch o.Kind {
			case synth.KindSettlement:
				cur.kind = kindSettle
			case synth.KindPlan:
				cur.kind = kindPlan
			}
			if cur.kind != kindNone {
				cur.ready = int32((float64(o.StartMonth-1) + rnd(cfg.Seed, ci, -1, 1)) * 30.44)
			} else {
				cur.ready = math.MaxInt32
			}
			cur.planMonths = int8(o.PlanMonths)
			cur.planBroken = o.PlanBroken
			// The discount the debtor holds out for: 30-60% (market.md), higher for older debts.
			aged := math.Min(float64(l.DaysPastDue)/1800, 1)
			cur.reserve = float32(0.30 + 0.30*(0.6*aged+0.4*rnd(cfg.Seed, ci, -1, 2)))
			if cfg.Mode == Split {
				cur.challenger = workout.ChallengerArm(cfg.Seed, l.BorrowerID, cfg.ChallengerShare)
			}
		} else {
			cur.loanRef += " " + l.LoanID
		}
		cur.claimFen += l.TotalClaim.Minor()
		cur.claim = float64(cur.claimFen) / 100
		if cfg.Forecast != nil {
			chunk = append(chunk, it)
			if len(chunk) >= 2048 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for m := range forecast {
		r.res.Months[m].Forecast = forecast[m]
		r.res.Forecast += forecast[m]
	}
	r.res.Cases = len(r.cases)
	for i := range r.cases {
		r.res.Claim += r.cases[i].claim
	}
	if cfg.Training != nil {
		r.commitDays = map[int][]int32{}
	}
	return nil
}

// ContactLogHeader is the header of the contact log the simulator writes: collection-rules.md's
// columns plus agent and agency (extra columns the audit ignores and the compliance report reads).
var ContactLogHeader = []string{"contact_id", "debtor_id", "debt_id", "channel", "party", "number", "at", "outcome", "consent", "agent", "agency"}

// PaymentsHeader is the header of the payments statement the simulator writes (the canonical
// fields of docs/payments.md's default statement format).
var PaymentsHeader = []string{"txn_id", "date", "amount", "payer_name", "reference"}

func (r *sim) openWriters() error {
	if r.cfg.Contacts != nil {
		r.cbuf = bufio.NewWriterSize(r.cfg.Contacts, 1<<16)
		r.contacts = csv.NewWriter(r.cbuf)
		if err := r.contacts.Write(ContactLogHeader); err != nil {
			return err
		}
	}
	if r.cfg.Payments != nil {
		r.pbuf = bufio.NewWriterSize(r.cfg.Payments, 1<<16)
		r.payments = csv.NewWriter(r.pbuf)
		if err := r.payments.Write(PaymentsHeader); err != nil {
			return err
		}
	}
	return nil
}

func (r *sim) flush() error {
	if r.contacts != nil {
		r.contacts.Flush()
		if err := r.contacts.Error(); err != nil {
			return err
		}
		if err := r.cbuf.Flush(); err != nil {
			return err
		}
	}
	if r.payments != nil {
		r.payments.Flush()
		if err := r.payments.Error(); err != nil {
			return err
		}
		if err := r.pbuf.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (r *sim) month(day int) int {
	for m := 1; m < len(r.monthStart); m++ {
		if day < r.monthStart[m] {
			return m - 1
		}
	}
	return len(r.monthStart) - 2
}

func (r *sim) features(c *caseState, day int) workout.CaseFeatures {
	f := workout.CaseFeatures{Claim: c.claim, DPD: c.dpd0 + day + 1, Age: c.age, PhoneAvailable: c.phone, Sued: c.sued,
		WrittenOff: c.wo, CreditCard: c.card, DaysOnBook: day, DaysSinceReach: -1, InvalidNumber: c.invalidNumber,
		Refusals: int(c.refusals)}
	for k := 0; k < c.nring; k++ {
		rec := &c.ring[k]
		if int(rec.day) > day-30 {
			f.Attempts30++
			if rec.outcome == workout.OutcomeAnswered || rec.outcome == workout.OutcomeVisited {
				f.Reached30++
			}
		}
		if rec.outcome == workout.OutcomeAnswered || rec.outcome == workout.OutcomeVisited {
			if d := day - int(rec.day); f.DaysSinceReach < 0 || d < f.DaysSinceReach {
				f.DaysSinceReach = d
			}
		}
	}
	return f
}

func (r *sim) eligible(c *caseState, day int) bool {
	return c.status == stActive && !c.deceased && !c.bankrupt && int32(day) >= c.nextEligible &&
		day-int(c.lastContact) >= r.s.MinGapDays
}

// values returns the contact values (yuan) of case i today under mode m.
func (r *sim) values(i, day int, m Mode) [workout.NumChannels]float64 {
	c := &r.cases[i]
	var v [workout.NumChannels]float64
	for k := range v {
		v[k] = math.NaN()
	}
	usable := func(k int) bool {
		if _, ok := r.s.Channels[workout.AllChannels[k]]; !ok {
			return false
		}
		ch := workout.AllChannels[k]
		if (ch == workout.ChannelCall || ch == workout.ChannelSMS) && (!c.phone || c.invalidNumber) {
			return false
		}
		return true
	}
	switch m {
	case Explore:
		for k := range v {
			if usable(k) {
				v[k] = r.cost[k] + 1 + 100*rnd(r.cfg.Seed, i, day, 100+k)
			}
		}
	case Rules:
		prio := c.claim / 1000 / (1 + float64(c.dpd0+day)/365)
		for k, ch := range workout.AllChannels {
			if !usable(k) {
				continue
			}
			switch ch {
			case workout.ChannelVisit:
				if c.claim >= 50_000 {
					v[k] = r.cost[k] + prio*1.2
				}
			case workout.ChannelCall:
				if c.claim >= 3_000 {
					v[k] = r.cost[k] + prio
				}
			case workout.ChannelSMS:
				v[k] = r.cost[k] + prio*0.3 + 0.01
			case workout.ChannelLetter:
				if day-int(c.lastContact) >= 30 {
					v[k] = r.cost[k] + prio*0.2 + 0.01
				}
			default:
				v[k] = r.cost[k] + 0.01
			}
		}
	default: // Optimiser
		if c.valDay < int32(day)-30 || c.valDay < c.lastContact {
			f := r.features(c, day)
			vals := workout.ChannelValues(r.s, r.cfg.Models.Contact, &f, c.claim*r.cfg.Models.PayShare, r.cfg.Models.Uplift)
			for k := range vals {
				c.val[k] = float32(vals[k])
			}
			c.valDay = int32(day)
		}
		for k := range v {
			if usable(k) {
				v[k] = float64(c.val[k])
			}
		}
	}
	return v
}

func (r *sim) run(ctx context.Context) error {
	type arm struct {
		mode  Mode
		s     *workout.Strategy
		pick  func(c *caseState) bool
		label string
	}
	var arms []arm
	switch r.cfg.Mode {
	case Split:
		champ, chall := r.s.Split(r.cfg.ChallengerShare)
		arms = []arm{
			{Rules, champ, func(c *caseState) bool { return !c.challenger }, "champion"},
			{Optimiser, chall, func(c *caseState) bool { return c.challenger }, "challenger"},
		}
	default:
		arms = []arm{{r.cfg.Mode, r.s, func(*caseState) bool { return true }, ""}}
	}
	var qcases []workout.QueueCase
	var idx []int
	for day := 0; day < r.days; day++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := r.settleDay(day); err != nil {
			return err
		}
		for _, a := range arms {
			qcases, idx = qcases[:0], idx[:0]
			for i := range r.cases {
				c := &r.cases[i]
				if !a.pick(c) || !r.eligible(c, day) {
					continue
				}
				v := r.values(i, day, a.mode)
				any := false
				for k := range v {
					if !math.IsNaN(v[k]) && v[k] > r.cost[k] {
						any = true
					}
				}
				if !any {
					continue
				}
				qcases = append(qcases, workout.QueueCase{CaseID: c.debtorID, DebtorID: c.debtorID, DebtID: c.debtID, Number: c.number0(), Value: v})
				idx = append(idx, i)
			}
			var picked []int
			if r.cfg.Training != nil && a.mode == Explore {
				for k, i := range idx {
					if rnd(r.cfg.Seed, i, day, 50) < 0.03 {
						picked = append(picked, idx[k])
					}
				}
			}
			q, err := workout.PlanQueue(a.s, r.start.AddDays(day), qcases, func(k int) (workout.DebtorState, []workout.Contact) {
				c := &r.cases[idx[k]]
				return workout.DebtorState{Deceased: c.deceased, Bankrupt: c.bankrupt}, r.history(c)
			})
			if err != nil {
				return err
			}
			r.res.QueueDropped += len(q.Dropped)
			r.res.QueueValue += q.Primal
			for _, it := range q.Items {
				if err := r.contact(idx[it.Case], day, a.mode, &it); err != nil {
					return err
				}
			}
			r.sample(day, picked)
		}
		if r.cfg.Progress != nil {
			r.cfg.Progress(day+1, r.days)
		}
	}
	r.finish()
	return nil
}

func (c *caseState) number0() string {
	if c.phone {
		return c.number
	}
	return ""
}
