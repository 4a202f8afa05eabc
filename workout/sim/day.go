package sim

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"reclaim"
	"reclaim/money"
	"reclaim/workout"
)

// Training collects the models' training examples during an Explore run.
type Training struct {
	Contacts []workout.ContactExample
	Accepts  []workout.AcceptExample
	pending  []pendingExample
	// sums for the amount a committing case brings and the value of a refused offer
	commitValue, commitClaim float64
	refuseValue, refuseClaim float64
}

type pendingExample struct {
	cse int
	day int32
	ex  workout.ContactExample
}

// Models are the strategy's trained models and the two shares the optimiser values with.
type Models struct {
	Contact *workout.ContactModel
	Accept  *workout.AcceptanceModel
	// PayShare is the expected collection from a case that commits, as a share of its claim;
	// FallbackShare the expected collection after a refused settlement offer.
	PayShare      float64
	FallbackShare float64
	// Uplift values a contact by P(pay | channel) - P(pay | no contact) rather than P(pay | channel).
	Uplift bool
	// Examples are the numbers of training rows.
	ContactExamples, AcceptExamples int
}

// TrainModels fits the contact and acceptance models on an Explore run's examples.
func TrainModels(ctx context.Context, t *Training, p workout.ModelParams) (*Models, error) {
	if t == nil || t.commitClaim == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "train: the exploration run produced no commitments to learn from")
	}
	cm, err := workout.TrainContactModel(ctx, t.Contacts, p)
	if err != nil {
		return nil, err
	}
	am, err := workout.TrainAcceptanceModel(ctx, t.Accepts, p)
	if err != nil {
		return nil, err
	}
	m := &Models{Contact: cm, Accept: am, PayShare: t.commitValue / t.commitClaim,
		ContactExamples: len(t.Contacts), AcceptExamples: len(t.Accepts)}
	if t.refuseClaim > 0 {
		m.FallbackShare = t.refuseValue / t.refuseClaim
	}
	return m, nil
}

func (r *sim) history(c *caseState) []workout.Contact {
	n := c.nring
	if n == 0 {
		return nil
	}
	h := make([]workout.Contact, 0, n)
	// ring holds the last contacts oldest first
	for k := 0; k < n; k++ {
		rec := &c.ring[k]
		ch := workout.AllChannels[rec.ch]
		ct := workout.Contact{DebtorID: c.debtorID, DebtID: c.debtID, Channel: ch, Party: workout.PartyDebtor,
			At: r.at(int(rec.day), int(rec.minute)), Outcome: rec.outcome}
		if ch == workout.ChannelCall || ch == workout.ChannelSMS {
			ct.Number = c.number
		}
		h = append(h, ct)
	}
	return h
}

func (r *sim) at(day, minute int) time.Time {
	d := r.start.AddDays(day)
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, minute, 0, 0, r.zone)
}

func (r *sim) remember(c *caseState, rec contactRec) {
	if c.nring == ringSize {
		copy(c.ring[:], c.ring[1:])
		c.nring--
	}
	c.ring[c.nring] = rec
	c.nring++
}

// contact simulates one planned contact.
func (r *sim) contact(i, day int, mode Mode, it *workout.QueueItem) error {
	c := &r.cases[i]
	seed := r.cfg.Seed
	k := workout.ChannelIndex(it.Channel)
	var f workout.CaseFeatures
	if r.cfg.Training != nil {
		f = r.features(c, day)
	}
	u := rnd(seed, i, day, 10)
	var out workout.Outcome
	reached := false
	switch it.Channel {
	case workout.ChannelCall:
		pAns := 0.22 + 0.12*logistic(float64(c.reserve)*-4+2) // reachable debtors answer more
		switch {
		case !c.phone:
			out = workout.OutcomeInvalidNumber
		case u < 0.04:
			out, c.invalidNumber = workout.OutcomeInvalidNumber, true
		case u < 0.04+pAns:
			out, reached = workout.OutcomeAnswered, true
		case u < 0.14+pAns:
			out = workout.OutcomeBusy
		default:
			out = workout.OutcomeNoAnswer
		}
	case workout.ChannelSMS:
		if c.phone && u < 0.97 {
			out, reached = workout.OutcomeDelivered, true
		} else {
			out = workout.OutcomeFailed
		}
	case workout.ChannelVisit:
		if u < 0.55 {
			out, reached = workout.OutcomeVisited, true
		} else {
			out = workout.OutcomeNotFound
		}
	default: // letter, email
		if u < 0.85 {
			out, reached = workout.OutcomeDelivered, true
		} else {
			out = workout.OutcomeFailed
		}
	}
	minute := it.At.Hour()*60 + it.At.Minute()
	r.remember(c, contactRec{day: int32(day), minute: int16(minute), ch: int8(k), outcome: out})
	c.lastContact = int32(day)
	c.cost += r.cost[k]
	mo := r.month(day)
	r.res.Months[mo].Contacts++
	r.res.Months[mo].Cost += r.cost[k]
	r.res.Contacts[string(it.Channel)]++
	r.res.ContactCost[string(it.Channel)] += r.cost[k]
	r.res.Outcomes[string(out)]++
	if r.contacts != nil {
		r.nContact++
		num := ""
		if it.Channel == workout.ChannelCall || it.Channel == workout.ChannelSMS {
			num = c.number
		}
		if err := r.contacts.Write([]string{"k" + strconv.Itoa(r.nContact), c.debtorID, c.debtID, string(it.Channel), string(workout.PartyDebtor),
			num, it.At.Format(time.RFC3339), string(out), "", it.Agent, it.Agency}); err != nil {
			return err
		}
	}
	if r.cfg.Training != nil && day+workout.ContactHorizonDays <= r.days {
		r.cfg.Training.pending = append(r.cfg.Training.pending, pendingExample{cse: i, day: int32(day),
			ex: workout.ContactExample{Features: f, Channel: it.Channel}})
	}
	if !reached {
		return nil
	}
	// A reached debtor may commit.
	var p float64
	switch {
	case c.kind != kindNone && int32(day) >= c.ready:
		p = strength[k]
	case c.kind != kindNone:
		p = strength[k] * math.Exp(-float64(c.ready-int32(day))/120)
	default:
		p = strength[k] * 0.03
	}
	if n := r.recentAttempts(c, day); n > 6 {
		p *= 0.7 // fatigue
	}
	if rnd(seed, i, day, 11) < p {
		return r.commit(i, day, mode)
	}
	return nil
}

func (r *sim) recentAttempts(c *caseState, day int) int {
	n := 0
	for k := 0; k < c.nring; k++ {
		if int(c.ring[k].day) > day-30 {
			n++
		}
	}
	return n
}

// offerDiscount is the discount the strategy of mode offers case i today.
func (r *sim) offerDiscount(i, day int, mode Mode) float64 {
	c := &r.cases[i]
	switch mode {
	case Explore:
		return math.Round((0.15+0.5*rnd(r.cfg.Seed, i, day, 20))*40) / 40
	case Rules:
		return math.Min(RulesDiscount, r.s.MaxDiscount)
	}
	f := r.features(c, day)
	m := r.cfg.Models
	o, err := workout.OptimalDiscount(workout.SettlementInput{Claim: money.New(c.claimFen, money.CNY),
		Accept:   func(d float64) float64 { return m.Accept.PAccept(&f, d) },
		Fallback: m.FallbackShare * c.claim, PayDays: 4, AnnualRate: 0.15, KeepRate: 0.9, MaxDiscount: r.s.MaxDiscount})
	if err != nil {
		return math.Min(RulesDiscount, r.s.MaxDiscount)
	}
	return o.Discount
}

var approvals = workout.DefaultApprovalPolicy()

func (r *sim) commit(i, day int, mode Mode) error {
	c := &r.cases[i]
	seed := r.cfg.Seed
	t := r.cfg.Training
	if r.commitDays != nil {
		r.commitDays[i] = append(r.commitDays[i], int32(day))
	}
	if c.kind == kindPlan {
		return r.startPlan(i, day, 1)
	}
	d := r.offerDiscount(i, day, mode)
	claim := money.New(c.claimFen, money.CNY)
	amt, err := money.FromFloat(c.claim*(1-d), money.CNY, money.HalfUp)
	if err != nil || amt.Sign() <= 0 {
		return nil // a claim too small to settle
	}
	waived, _ := claim.Sub(amt)
	r.res.Offers++
	if a, err := workout.RequiredApproval(approvals, "collector", workout.Offer{Discount: d, Amount: amt, Waived: waived}); err == nil && a.Checker != "" {
		r.res.OffersChecker++
	}
	reserve := float64(c.reserve)
	if c.kind == kindNone {
		reserve += 0.1
	}
	accepted := rnd(seed, i, day, 12) < logistic((d-reserve)/0.04)
	if t != nil {
		t.Accepts = append(t.Accepts, workout.AcceptExample{Features: r.features(c, day), Discount: d, Accepted: accepted})
	}
	if accepted {
		w, err := workout.NewWaiver(c.debtorID, c.debtID, r.start.AddDays(day), claim, amt, "collector", "")
		if err == nil {
			r.res.Waived += w.Waived.Float()
		}
		c.status = stSettlePending
		c.payDay = int32(day + 1 + int(7*rnd(seed, i, day, 13)))
		c.payAmount = amt.Minor()
		c.keeps = rnd(seed, i, day, 14) < 0.9
		r.discSum += d
		r.accepted++
		if t != nil {
			keep := 0.9
			t.commitValue += amt.Float() * keep
			t.commitClaim += c.claim
		}
		return nil
	}
	c.refusals++
	if rnd(seed, i, day, 15) < 0.4 {
		if t != nil {
			t.refuseValue += c.claim * (1 - PlanDiscount) * 0.75
			t.refuseClaim += c.claim
		}
		return r.startPlan(i, day, 2)
	}
	if t != nil {
		t.refuseClaim += c.claim
		t.commitClaim += c.claim // a refusal is a commitment that brought nothing
	}
	c.nextEligible = int32(day + 21)
	return nil
}

func (r *sim) startPlan(i, day, purpose int) error {
	c := &r.cases[i]
	months := int(c.planMonths)
	if months < 6 {
		months = 6 + int(18*rnd(r.cfg.Seed, i, day, 30+purpose))
	}
	total, err := money.FromFloat(c.claim*(1-PlanDiscount), money.CNY, money.HalfUp)
	if err != nil || total.Minor() < int64(months) {
		return nil
	}
	p, err := workout.NewPlan(c.debtorID, total, r.start.AddDays(day+14), months, money.Amount{})
	if err != nil {
		return fmt.Errorf("simulate: plan for case %s: %w", c.debtorID, err)
	}
	c.plan, c.planNext, c.status, c.planStart = &p, 0, stPlan, int32(day)
	c.breakAt = months
	if c.planBroken || c.kind != kindPlan {
		// latent plan-breakers (synth: 35%) and debtors pushed into a plan they did not want
		if c.planBroken || rnd(r.cfg.Seed, i, day, 33) < 0.35 {
			c.breakAt = 1 + int(float64(months-1)*rnd(r.cfg.Seed, i, day, 34))
		}
	}
	r.res.Plans++
	if t := r.cfg.Training; t != nil {
		t.commitValue += total.Float() * 0.75
		t.commitClaim += c.claim
	}
	return nil
}

const (
	promiseGrace = 3
	planGrace    = 10
)

// settleDay processes the commitments due today and the payers who call in by themselves.
func (r *sim) settleDay(day int) error {
	seed := r.cfg.Seed
	asOf := r.start.AddDays(day)
	for i := range r.cases {
		c := &r.cases[i]
		switch c.status {
		case stSettlePending:
			if int(c.payDay) == day && c.keeps {
				if err := r.pay(i, day, c.payAmount); err != nil {
					return err
				}
				c.status = stDone
				r.res.Settlements++
			} else if !c.keeps && int(c.payDay)+promiseGrace+1 == day {
				pr := workout.Promise{CaseID: c.debtorID, Made: asOf.AddDays(-promiseGrace - 8), Due: r.start.AddDays(int(c.payDay)),
					Amount: money.New(c.payAmount, money.CNY), Grace: promiseGrace}
				if st, _, err := workout.CheckPromise(pr, nil, asOf); err == nil && st == workout.PromiseBroken {
					r.res.PromisesBroke++
					c.status, c.nextEligible = stActive, int32(day+14)
				}
			}
		case stPlan:
			p := c.plan
			if c.planNext < len(p.Instalments) {
				due := p.Instalments[c.planNext].Due.Sub(r.start)
				if c.planNext < c.breakAt && due == day {
					if err := r.pay(i, day, p.Instalments[c.planNext].Amount.Minor()); err != nil {
						return err
					}
					c.planNext++
					if c.planNext == len(p.Instalments) {
						c.status, c.plan = stDone, nil
					}
				} else if c.planNext >= c.breakAt && due+planGrace+1 == day {
					paid := money.Zero(money.CNY)
					for _, in := range p.Instalments[:c.planNext] {
						paid, _ = paid.Add(in.Amount)
					}
					st, err := workout.CheckPlan(*p, []workout.Receipt{{On: asOf, Amount: paid}}, asOf, planGrace)
					if err == nil && st.Broken {
						r.res.PlansBroken++
						c.status, c.plan, c.nextEligible = stActive, nil, int32(day+30)
					}
				}
			}
		case stActive:
			// a ready payer calls in by himself now and then
			if c.kind != kindNone && int32(day) >= c.ready && !c.deceased && rnd(seed, i, day, 40) < 1.0/240 {
				mode := r.cfg.Mode
				if mode == Split {
					mode = Rules
					if c.challenger {
						mode = Optimiser
					}
				}
				if err := r.commit(i, day, mode); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *sim) pay(i, day int, fen int64) error {
	c := &r.cases[i]
	c.collected += fen
	y := float64(fen) / 100
	r.res.Months[r.month(day)].Collected += y
	if r.payments != nil {
		r.nPay++
		return r.payments.Write([]string{"P" + strconv.Itoa(r.nPay), r.start.AddDays(day).String(),
			money.New(fen, money.CNY).String(), c.name, "还款 " + c.loanRef})
	}
	return nil
}

func (r *sim) sample(day int, picked []int) {
	t := r.cfg.Training
	if t == nil || day+workout.ContactHorizonDays > r.days {
		return
	}
	for _, i := range picked {
		c := &r.cases[i]
		if int(c.lastContact) == day {
			continue
		}
		t.pending = append(t.pending, pendingExample{cse: i, day: int32(day), ex: workout.ContactExample{Features: r.features(c, day)}})
	}
}

func (r *sim) finish() {
	res := r.res
	if r.cfg.PerCase {
		res.PerCase = make([]float64, len(r.cases))
		res.Challenger = make([]bool, len(r.cases))
	}
	arms := map[string]ArmResult{}
	for i := range r.cases {
		c := &r.cases[i]
		col := float64(c.collected) / 100
		res.Collected += col
		res.Cost += c.cost
		if c.collected > 0 {
			res.Payers++
		}
		if r.cfg.PerCase {
			res.PerCase[i] = col - c.cost
			res.Challenger[i] = c.challenger
		}
		if r.cfg.Mode == Split {
			name := "champion"
			if c.challenger {
				name = "challenger"
			}
			a := arms[name]
			a.Cases++
			a.Claim += c.claim
			a.Collected += col
			a.Cost += c.cost
			a.Net += col - c.cost
			if c.collected > 0 {
				a.Payers++
			}
			arms[name] = a
		}
	}
	if r.cfg.Mode == Split {
		res.Arms = arms
	}
	res.Net = res.Collected - res.Cost
	if r.accepted > 0 {
		res.MeanDiscount = r.discSum / float64(r.accepted)
	}
	if t := r.cfg.Training; t != nil {
		for _, p := range t.pending {
			ex := p.ex
			for _, d := range r.commitDays[p.cse] {
				if d >= p.day && int(d) <= int(p.day)+workout.ContactHorizonDays {
					ex.Paid = true
					break
				}
			}
			t.Contacts = append(t.Contacts, ex)
		}
		t.pending = nil
	}
}
