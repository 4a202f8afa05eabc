package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/workout"
)

// Settlements, plans, promises and the broken-promise job (issue 13 item 2; docs/strategy.md):
// the case scope and the maker-checker rules are checked here, the decisions are package
// workout's, and sqldb stores them.

// SettleOptions configure the settlement desk of a Service.
type SettleOptions struct {
	// Policy is the approval limits by role (zero: workout.DefaultApprovalPolicy).
	Policy workout.ApprovalPolicy
	// Accept is P(accept | discount) for the suggested discount (nil: workout.DefaultAcceptance).
	Accept func(d float64) float64
	// MaxDiscount caps the suggestion (0: 80%).
	MaxDiscount float64
	// ExpiryDays is how long an offer stays open when the request gives no expiry (default 14);
	// PayDays how long the debtor has to pay a lump sum (default 30); GraceDays the default grace
	// after a due date (default 3).
	ExpiryDays, PayDays, GraceDays int
}

// SetSettleOptions sets the settlement desk's options (call before serving).
func (s *Service) SetSettleOptions(o SettleOptions) error {
	if len(o.Policy.Roles) == 0 {
		o.Policy = workout.DefaultApprovalPolicy()
	}
	if err := o.Policy.Validate(); err != nil {
		return err
	}
	s.settle = o
	return nil
}

func (s *Service) settleOpts() SettleOptions {
	o := s.settle
	if len(o.Policy.Roles) == 0 {
		o.Policy = workout.DefaultApprovalPolicy()
	}
	if o.ExpiryDays <= 0 {
		o.ExpiryDays = 14
	}
	if o.PayDays <= 0 {
		o.PayDays = 30
	}
	if o.GraceDays <= 0 {
		o.GraceDays = 3
	}
	return o
}

// Settlements returns a case's settlement page.
func (s *Service) Settlements(ctx context.Context, v workout.Viewer, caseID int64) (*workout.SettlementPage, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return nil, err
	}
	o := s.settleOpts()
	out := &workout.SettlementPage{CaseID: caseID}
	var err error
	if out.Claim, err = s.db.CaseClaim(ctx, caseID); err != nil {
		return nil, err
	}
	if out.Claim.Sign() > 0 {
		sug, err := workout.SuggestOffer(out.Claim, o.Accept, o.MaxDiscount)
		if err != nil {
			return nil, err
		}
		out.Suggestion = &sug
		out.Curve = workout.SuggestCurve(out.Claim, o.Accept, o.MaxDiscount)
		if a, err := workout.RequiredApproval(o.Policy, string(v.Role), sug); err == nil {
			out.Approval = &a
		}
	}
	for _, r := range o.Policy.Roles {
		if r.Role == string(v.Role) {
			out.Limit = &r
		}
	}
	if out.Offers, err = s.db.ListOffers(ctx, sqldbOfferFilter(caseID, "")); err != nil {
		return nil, err
	}
	if out.Plans, err = s.db.CasePlans(ctx, caseID); err != nil {
		return nil, err
	}
	if out.Promises, err = s.db.CasePromises(ctx, caseID); err != nil {
		return nil, err
	}
	if out.Waivers, err = s.db.CaseWaivers(ctx, caseID); err != nil {
		return nil, err
	}
	if out.Offers == nil {
		out.Offers = []workout.SettlementOffer{}
	}
	if out.Plans == nil {
		out.Plans = []workout.StoredPlan{}
	}
	if out.Promises == nil {
		out.Promises = []workout.StoredPromise{}
	}
	if out.Waivers == nil {
		out.Waivers = []workout.StoredWaiver{}
	}
	return out, nil
}

// ProposeOffer makes a settlement offer on a case the viewer may see (a collector: its own
// cases). Within the maker's role limits it is approved at once; above them it waits for a
// checker of the role RequiredApproval names; beyond every role's limit, or from a role that may
// not make offers, it is refused and nothing is stored.
func (s *Service) ProposeOffer(ctx context.Context, v workout.Viewer, caseID int64, in workout.OfferRequest) (workout.SettlementOffer, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.SettlementOffer{}, err
	}
	o := s.settleOpts()
	if !slices.ContainsFunc(o.Policy.Roles, func(r workout.RoleLimit) bool { return r.Role == string(v.Role) }) {
		return workout.SettlementOffer{}, &reclaim.Error{Code: reclaim.EFORBIDDEN, Message: fmt.Sprintf("role %q may not make settlement offers", v.Role),
			Fields: map[string]string{"role": string(v.Role)}}
	}
	if in.Amount.IsAbsent() == (in.Discount == nil) {
		return workout.SettlementOffer{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "give the settlement amount or the discount, not both",
			Fields: map[string]string{"field": "amount", "rule": "exactly one of amount and discount"}}
	}
	today := s.today()
	exp := in.ExpiresOn
	if exp.IsZero() {
		exp = today.AddDays(o.ExpiryDays)
	}
	if exp.Before(today) {
		return workout.SettlementOffer{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "an offer cannot expire before today",
			Fields: map[string]string{"field": "expires_on", "value": exp.String(), "rule": "today or later"}}
	}
	payBy := in.PayBy
	if payBy.IsZero() {
		payBy = exp.AddDays(o.PayDays)
	}
	if payBy.Before(exp) {
		return workout.SettlementOffer{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "the payment is due on or after the offer's expiry date",
			Fields: map[string]string{"field": "pay_by", "value": payBy.String(), "rule": "on or after expires_on"}}
	}
	grace := o.GraceDays
	if in.GraceDays != nil {
		grace = *in.GraceDays
	}
	if grace < 0 || grace > 60 {
		return workout.SettlementOffer{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "grace days are 0..60",
			Fields: map[string]string{"field": "grace_days", "value": fmt.Sprint(grace), "rule": "0..60"}}
	}
	res, err := s.db.ProposeOffer(ctx, caseID, func(claim money.Amount) (workout.SettlementOffer, error) {
		var off workout.Offer
		var err error
		if in.Discount != nil {
			off, err = workout.OfferAt(claim, *in.Discount)
		} else {
			if in.Amount.Currency() != claim.Currency() {
				return workout.SettlementOffer{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "the amount is not in the case's currency " + string(claim.Currency()),
					Fields: map[string]string{"field": "amount", "value": in.Amount.String(), "rule": "currency"}}
			}
			off, err = workout.OfferFor(claim, in.Amount)
		}
		if err != nil {
			return workout.SettlementOffer{}, err
		}
		a, err := workout.RequiredApproval(o.Policy, string(v.Role), off)
		if err != nil {
			return workout.SettlementOffer{}, err
		}
		st := workout.OfferApproved
		if a.Checker != "" {
			st = workout.OfferProposed
		}
		sug, err := workout.SuggestOffer(claim, o.Accept, o.MaxDiscount)
		if err != nil {
			return workout.SettlementOffer{}, err
		}
		return workout.SettlementOffer{Claim: claim, Amount: off.Amount, Waived: off.Waived, Discount: off.Discount, SuggestedDiscount: sug.Discount,
			Status: st, Maker: v.Username, MakerRole: string(v.Role), CheckerRole: a.Checker, ExpiresOn: exp, PayBy: payBy, GraceDays: grace,
			Note: strings.TrimSpace(in.Note)}, nil
	})
	if err == nil {
		s.publish(ctx, caseID, "settlement", res)
	}
	return res, err
}

// offerScoped loads an offer whose case the viewer may see (ENOTFOUND otherwise).
func (s *Service) offerScoped(ctx context.Context, v workout.Viewer, id int64) (workout.SettlementOffer, error) {
	o, err := s.db.GetOffer(ctx, id)
	if err != nil {
		return o, err
	}
	if _, err := s.scoped(ctx, v, o.CaseID); err != nil {
		return workout.SettlementOffer{}, reclaim.Errorf(reclaim.ENOTFOUND, "settlement offer %d not found", id)
	}
	return o, nil
}

// DecideOffer approves or rejects a proposed offer as its checker: never its maker, and only in
// a role whose limits cover it (EFORBIDDEN); an offer already decided is ECONFLICT (of two
// checkers at once, one wins).
func (s *Service) DecideOffer(ctx context.Context, v workout.Viewer, id int64, approve bool, note string) (workout.SettlementOffer, error) {
	if _, err := s.offerScoped(ctx, v, id); err != nil {
		return workout.SettlementOffer{}, err
	}
	pol := s.settleOpts().Policy
	o, err := s.db.DecideOffer(ctx, id, approve, v.Username, strings.TrimSpace(note), func(o workout.SettlementOffer) error {
		if o.Status != workout.OfferProposed {
			return workout.OfferTransition(o.Status, workout.OfferApproved)
		}
		return workout.DecideOffer(pol, o.MakerRole, o.Maker, string(v.Role), v.Username, o.Offer())
	})
	if err == nil {
		s.publish(ctx, o.CaseID, "settlement", o)
	}
	return o, err
}

// AcceptOffer records the debtor's acceptance of an approved offer on a date, with its plan when
// it is paid in instalments (the plan's total is the offer's amount).
func (s *Service) AcceptOffer(ctx context.Context, v workout.Viewer, id int64, on date.Date, plan *workout.PlanRequest) (workout.SettlementOffer, error) {
	cur, err := s.offerScoped(ctx, v, id)
	if err != nil {
		return cur, err
	}
	if on.IsZero() {
		on = s.today()
	}
	if err := s.happened("accepted_on", on); err != nil {
		return workout.SettlementOffer{}, err
	}
	var p *workout.Plan
	if plan != nil {
		built, err := plan.Build(cur.Amount)
		if err != nil {
			return workout.SettlementOffer{}, err
		}
		p = &built
	}
	o, err := s.db.AcceptOffer(ctx, id, on, p, v.Username)
	if err == nil {
		s.publish(ctx, o.CaseID, "settlement", o)
	}
	return o, err
}

// Approvals lists the proposed offers the viewer may decide: made by someone else, needing a
// role the viewer holds, on cases the viewer may see; oldest first.
func (s *Service) Approvals(ctx context.Context, v workout.Viewer) ([]workout.SettlementOffer, error) {
	os, err := s.db.ListOffers(ctx, sqldbOfferFilter(0, workout.OfferProposed))
	if err != nil {
		return nil, err
	}
	pol := s.settleOpts().Policy
	out := []workout.SettlementOffer{}
	for i := len(os) - 1; i >= 0; i-- {
		o := os[i]
		if o.Maker == v.Username {
			continue
		}
		if workout.CheckApproval(pol, o.MakerRole, o.Maker, string(v.Role), v.Username, o.Offer()) != nil {
			continue
		}
		if _, err := s.scoped(ctx, v, o.CaseID); err != nil {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// CreatePlan stores an instalment plan for a case's balance (not a settlement's).
func (s *Service) CreatePlan(ctx context.Context, v workout.Viewer, caseID int64, in workout.PlanRequest, grace *int, start date.Date) (workout.StoredPlan, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.StoredPlan{}, err
	}
	p, err := in.Build(in.Total)
	if err != nil {
		return workout.StoredPlan{}, err
	}
	g := s.settleOpts().GraceDays
	if grace != nil {
		g = *grace
	}
	if start.IsZero() {
		start = s.today()
	}
	sp, err := s.db.CreatePlan(ctx, caseID, p, g, start, v.Username)
	if err == nil {
		s.publish(ctx, caseID, "plan", sp)
	}
	return sp, err
}

// AddPromise records a promise to pay on a case (from a promise_to_pay call when ActionID is
// set).
func (s *Service) AddPromise(ctx context.Context, v workout.Viewer, p workout.StoredPromise) (workout.StoredPromise, error) {
	if _, err := s.scoped(ctx, v, p.CaseID); err != nil {
		return p, err
	}
	if p.Made.IsZero() {
		p.Made = s.today()
	}
	if err := s.happened("made", p.Made); err != nil {
		return p, err
	}
	p.Actor = v.Username
	out, err := s.db.AddPromise(ctx, p)
	if err == nil {
		s.publish(ctx, p.CaseID, "promise", out)
	}
	return out, err
}

// CheckCommitments runs the broken-promise job on asOf (zero: today).
func (s *Service) CheckCommitments(ctx context.Context, asOf date.Date) (workout.CommitmentCheck, error) {
	if asOf.IsZero() {
		asOf = s.today()
	}
	// Run for a day not yet come, the job would expire offers and break plans and promises
	// that are not due (and it cannot be undone).
	if err := s.happened("as_of", asOf); err != nil {
		return workout.CommitmentCheck{}, err
	}
	res, err := s.db.CheckCommitments(ctx, asOf, reclaim.Actor(ctx))
	if err == nil && s.opts.Publish != nil {
		s.opts.Publish(ctx, "workout", "commitments", res)
	}
	return res, err
}

func sqldbOfferFilter(caseID int64, status string) sqldb.OfferFilter {
	return sqldb.OfferFilter{CaseID: caseID, Status: status, Limit: 1000}
}
