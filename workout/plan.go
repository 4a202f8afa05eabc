package workout

import (
	"fmt"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Instalment plans and promises to pay, and the detection of broken ones.

// Instalment is one scheduled payment of a plan.
type Instalment struct {
	Seq    int          `json:"seq"` // 1-based
	Due    date.Date    `json:"due"`
	Amount money.Amount `json:"amount"`
}

// Plan is an instalment plan: Total paid in Instalments, due on strictly increasing dates.
type Plan struct {
	CaseID      string       `json:"case_id"`
	Total       money.Amount `json:"total"`
	Instalments []Instalment `json:"instalments"`
}

// MaxPlanMonths is the longest plan NewPlan makes.
const MaxPlanMonths = 120

// NewPlan schedules total over months monthly instalments, the first due on first and the k-th on
// first + (k-1) months with end-of-month clipping from the anchor (a plan starting 31 January is
// due 28/29 February, 31 March, 30 April, ...). The amounts come from money's largest-remainder
// Allocate, so they sum to total exactly; a down payment (zero for none) is the first instalment
// and the rest is split evenly over the remaining months-1. total must be positive, months in
// 1..MaxPlanMonths, the down payment non-negative and below total (months >= 2 when there is one).
func NewPlan(caseID string, total money.Amount, first date.Date, months int, down money.Amount) (Plan, error) {
	if total.Sign() <= 0 {
		return Plan{}, planErr("total", total.String(), "the plan total must be positive")
	}
	if months < 1 || months > MaxPlanMonths {
		return Plan{}, planErr("months", fmt.Sprint(months), fmt.Sprintf("must be 1..%d", MaxPlanMonths))
	}
	if first.IsZero() {
		return Plan{}, planErr("first", "", "the first due date is required")
	}
	var parts []money.Amount
	if down.IsZero() {
		w := make([]int64, months)
		for i := range w {
			w[i] = 1
		}
		var err error
		if parts, err = total.Allocate(w...); err != nil {
			return Plan{}, err
		}
	} else {
		if down.Sign() < 0 || down.Currency() != total.Currency() || down.Cmp(total) >= 0 || months < 2 {
			return Plan{}, planErr("down_payment", down.String(), "must be non-negative, below the total, in its currency, with at least 2 months")
		}
		rest, err := total.Sub(down)
		if err != nil {
			return Plan{}, err
		}
		w := make([]int64, months-1)
		for i := range w {
			w[i] = 1
		}
		ps, err := rest.Allocate(w...)
		if err != nil {
			return Plan{}, err
		}
		parts = append([]money.Amount{down}, ps...)
	}
	p := Plan{CaseID: caseID, Total: total}
	for k, a := range parts {
		p.Instalments = append(p.Instalments, Instalment{Seq: k + 1, Due: first.AddMonths(k), Amount: a})
	}
	return p, ValidatePlan(p)
}

func planErr(field, value, rule string) error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("plan: %s %s: %s", field, quote(value), rule),
		Fields: map[string]string{"field": field, "value": value, "rule": rule}}
}

// ValidatePlan checks a plan someone wrote (an API body, a negotiated schedule): at least one
// instalment, every amount positive and in the total's currency, sequence numbers 1, 2, ...,
// due dates strictly increasing (two instalments on one day, or one before the previous, overlap),
// and amounts summing to the total. The error names the instalment and the rule.
func ValidatePlan(p Plan) error {
	if p.Total.Sign() <= 0 {
		return planErr("total", p.Total.String(), "the plan total must be positive")
	}
	if len(p.Instalments) == 0 {
		return planErr("instalments", "", "a plan has at least one instalment")
	}
	sum := money.Zero(p.Total.Currency())
	for i, in := range p.Instalments {
		f := fmt.Sprintf("instalments[%d]", i)
		if in.Seq != i+1 {
			return planErr(f+".seq", fmt.Sprint(in.Seq), fmt.Sprintf("want %d", i+1))
		}
		if in.Amount.Sign() <= 0 {
			return planErr(f+".amount", in.Amount.String(), "an instalment must be positive")
		}
		if in.Amount.Currency() != p.Total.Currency() {
			return planErr(f+".amount", in.Amount.String(), "not in the plan's currency "+string(p.Total.Currency()))
		}
		if in.Due.IsZero() {
			return planErr(f+".due", "", "a due date is required")
		}
		if i > 0 && !in.Due.After(p.Instalments[i-1].Due) {
			return planErr(f+".due", in.Due.String(), fmt.Sprintf("overlaps instalment %d due %s: due dates must increase", i, p.Instalments[i-1].Due))
		}
		var err error
		if sum, err = sum.Add(in.Amount); err != nil {
			return planErr(f+".amount", in.Amount.String(), "the instalments overflow")
		}
	}
	if !sum.Equal(p.Total) {
		return planErr("instalments", sum.String(), "the instalments must sum to the total "+p.Total.String())
	}
	return nil
}

// Receipt is a payment received for a case on a date.
type Receipt struct {
	On     date.Date
	Amount money.Amount
}

// Promise is a promise to pay Amount by Due; it is broken when the payments received from Made
// up to Due + Grace days fall short of Amount.
type Promise struct {
	CaseID string       `json:"case_id"`
	Made   date.Date    `json:"made"`
	Due    date.Date    `json:"due"`
	Amount money.Amount `json:"amount"`
	Grace  int          `json:"grace_days"`
}

// PromiseStatus is a promise's state on a date.
type PromiseStatus string

// Promise states.
const (
	PromisePending PromiseStatus = "pending" // not yet due (or within the grace days), not yet kept
	PromiseKept    PromiseStatus = "kept"
	PromiseBroken  PromiseStatus = "broken"
)

// CheckPromise returns the promise's status on asOf and the amount received toward it (payments
// dated from Made to Due + Grace, not after asOf). It is kept as soon as the received amount
// reaches the promise, broken once asOf is after Due + Grace with less received.
func CheckPromise(p Promise, receipts []Receipt, asOf date.Date) (PromiseStatus, money.Amount, error) {
	if p.Amount.Sign() <= 0 || p.Due.Before(p.Made) || p.Grace < 0 {
		return "", money.Amount{}, reclaim.Errorf(reclaim.EINVALID, "promise: the amount must be positive, due on or after the day made, grace >= 0")
	}
	end := p.Due.AddDays(p.Grace)
	got := money.Zero(p.Amount.Currency())
	for _, r := range receipts {
		if r.On.Before(p.Made) || r.On.After(end) || r.On.After(asOf) || r.Amount.Currency() != p.Amount.Currency() {
			continue
		}
		var err error
		if got, err = got.Add(r.Amount); err != nil {
			return "", money.Amount{}, err
		}
	}
	switch {
	case got.Cmp(p.Amount) >= 0:
		return PromiseKept, got, nil
	case asOf.After(end):
		return PromiseBroken, got, nil
	}
	return PromisePending, got, nil
}

// PlanStatus is a plan's standing on a date.
type PlanStatus struct {
	Due       money.Amount `json:"due"`       // sum of instalments due by asOf - Grace
	Paid      money.Amount `json:"paid"`      // received from the first instalment's month on, up to asOf
	Shortfall money.Amount `json:"shortfall"` // Due - Paid when positive, else zero
	Broken    bool         `json:"broken"`    // Shortfall > 0: an instalment is missed beyond its grace
	Missed    int          `json:"missed"`    // the first instalment not covered (Seq), 0 when none
	Complete  bool         `json:"complete"`  // Paid >= Total
}

// CheckPlan says whether a plan is kept on asOf: payments are applied to the instalments in order,
// and the plan is broken when an instalment due more than grace days before asOf is not covered.
func CheckPlan(p Plan, receipts []Receipt, asOf date.Date, grace int) (PlanStatus, error) {
	if err := ValidatePlan(p); err != nil {
		return PlanStatus{}, err
	}
	if grace < 0 {
		return PlanStatus{}, reclaim.Errorf(reclaim.EINVALID, "plan: grace days must be >= 0")
	}
	cur := p.Total.Currency()
	paid := money.Zero(cur)
	for _, r := range receipts {
		if r.On.After(asOf) || r.Amount.Currency() != cur {
			continue
		}
		var err error
		if paid, err = paid.Add(r.Amount); err != nil {
			return PlanStatus{}, err
		}
	}
	st := PlanStatus{Due: money.Zero(cur), Paid: paid, Shortfall: money.Zero(cur)}
	cum := money.Zero(cur)
	for _, in := range p.Instalments {
		cum, _ = cum.Add(in.Amount)
		if in.Due.AddDays(grace).Before(asOf) {
			st.Due = cum
			if st.Missed == 0 && paid.Cmp(cum) < 0 {
				st.Missed = in.Seq
			}
		}
	}
	if d, _ := st.Due.Sub(paid); d.Sign() > 0 {
		st.Shortfall, st.Broken = d, true
	}
	st.Complete = paid.Cmp(p.Total) >= 0
	return st, nil
}
