package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/workout"
)

// SettlementService is the settlement desk of the workout (issue 13 item 2; docs/workout-api.md):
// offers with maker-checker approval, plans, promises, and the broken-promise job. The workout
// service of cmd/reclaim implements it; the routes exist when Config.Workout does. Every method
// that takes a viewer checks the case scope itself (a case outside it is ENOTFOUND).
type SettlementService interface {
	Settlements(ctx context.Context, v workout.Viewer, caseID int64) (*workout.SettlementPage, error)
	ProposeOffer(ctx context.Context, v workout.Viewer, caseID int64, in workout.OfferRequest) (workout.SettlementOffer, error)
	DecideOffer(ctx context.Context, v workout.Viewer, id int64, approve bool, note string) (workout.SettlementOffer, error)
	AcceptOffer(ctx context.Context, v workout.Viewer, id int64, on date.Date, plan *workout.PlanRequest) (workout.SettlementOffer, error)
	Approvals(ctx context.Context, v workout.Viewer) ([]workout.SettlementOffer, error)
	CreatePlan(ctx context.Context, v workout.Viewer, caseID int64, in workout.PlanRequest, grace *int, start date.Date) (workout.StoredPlan, error)
	AddPromise(ctx context.Context, v workout.Viewer, p workout.StoredPromise) (workout.StoredPromise, error)
	CheckCommitments(ctx context.Context, asOf date.Date) (workout.CommitmentCheck, error)
}

// OfferPath names a settlement offer.
type OfferPath struct {
	ID int64 `path:"id" minimum:"1" doc:"settlement offer id"`
}

// OfferProposeInput is a settlement offer on a case.
type OfferProposeInput struct {
	CasePath
	Body struct {
		Amount    string    `json:"amount,omitempty" doc:"what the debtor pays, decimal string (\"7500.00\"); or give discount"`
		Discount  *float64  `json:"discount,omitempty" minimum:"0" exclusiveMaximum:"1" doc:"share of the claim waived, in [0, 1); or give amount"`
		ExpiresOn date.Date `json:"expires_on,omitzero" doc:"last day the debtor may accept (default: today + 14 days)"`
		PayBy     date.Date `json:"pay_by,omitzero" doc:"a lump sum's due date (default: expiry + 30 days)"`
		GraceDays *int      `json:"grace_days,omitempty" minimum:"0" maximum:"60" doc:"days after a due date before it is broken (default 3)"`
		Note      string    `json:"note,omitempty" maxLength:"2000"`
	}
}

// OfferDecideInput approves or rejects an offer.
type OfferDecideInput struct {
	OfferPath
	Body struct {
		Note string `json:"note,omitempty" maxLength:"2000"`
	}
}

// InstalmentBody is one written-out instalment.
type InstalmentBody struct {
	Seq    int       `json:"seq" minimum:"1"`
	Due    date.Date `json:"due"`
	Amount string    `json:"amount" doc:"decimal string"`
}

// PlanBody describes a plan: months (with first_due and an optional down_payment) to schedule
// monthly instalments, or instalments written out.
type PlanBody struct {
	FirstDue    date.Date        `json:"first_due,omitzero" doc:"the first instalment's due date (with months)"`
	Months      int              `json:"months,omitempty" minimum:"0" maximum:"120"`
	DownPayment string           `json:"down_payment,omitempty" doc:"first instalment, decimal string (with months)"`
	Instalments []InstalmentBody `json:"instalments,omitempty" maxItems:"120"`
}

// OfferAcceptInput records the debtor's acceptance.
type OfferAcceptInput struct {
	OfferPath
	Body struct {
		AcceptedOn date.Date `json:"accepted_on,omitzero" doc:"default today"`
		Plan       *PlanBody `json:"plan,omitempty" doc:"when paid in instalments: the plan's total is the offer's amount"`
	}
}

// PlanCreateInput is a plan for a case's balance.
type PlanCreateInput struct {
	CasePath
	Body struct {
		PlanBody
		Total     string    `json:"total" doc:"the plan's total, decimal string (at most the case's balance)"`
		GraceDays *int      `json:"grace_days,omitempty" minimum:"0" maximum:"60"`
		StartOn   date.Date `json:"start_on,omitzero" doc:"payments count from this day (default today)"`
	}
}

// PromiseInput is a promise to pay.
type PromiseInput struct {
	CasePath
	Body struct {
		Amount    string    `json:"amount" doc:"decimal string"`
		Due       date.Date `json:"due"`
		Made      date.Date `json:"made,omitzero" doc:"default today"`
		GraceDays int       `json:"grace_days,omitempty" minimum:"0" maximum:"60"`
		ActionID  int64     `json:"action_id,omitempty" minimum:"0" doc:"the promise_to_pay call it came from"`
	}
}

// CommitmentsInput runs the broken-promise job.
type CommitmentsInput struct {
	Body struct {
		AsOf date.Date `json:"as_of,omitzero" doc:"default today"`
	}
}

type (
	settlementPageOut struct{ Body *workout.SettlementPage }
	offerOut          struct{ Body workout.SettlementOffer }
	offerListOut      struct {
		Body struct {
			Items []workout.SettlementOffer `json:"items"`
		}
	}
	planOut        struct{ Body workout.StoredPlan }
	promiseOut     struct{ Body workout.StoredPromise }
	commitmentsOut struct{ Body workout.CommitmentCheck }
)

func (p *PlanBody) request(total money.Amount, cur money.Currency) (workout.PlanRequest, error) {
	r := workout.PlanRequest{Total: total, First: p.FirstDue, Months: p.Months}
	var err error
	if r.DownPayment, err = parseMoneyField("plan.down_payment", p.DownPayment, cur, false); err != nil {
		return r, err
	}
	if r.DownPayment.IsAbsent() {
		r.DownPayment = money.Amount{}
	}
	if len(p.Instalments) > 0 && p.Months > 0 {
		return r, &reclaim.Error{Code: reclaim.EINVALID, Message: "give months or instalments, not both",
			Fields: map[string]string{"field": "instalments", "rule": "months or instalments"}}
	}
	for i, in := range p.Instalments {
		a, err := parseMoneyField(fmt.Sprintf("instalments[%d].amount", i), in.Amount, cur, true)
		if err != nil {
			return r, err
		}
		r.Instalments = append(r.Instalments, workout.Instalment{Seq: in.Seq, Due: in.Due, Amount: a})
	}
	return r, nil
}

func (s *Server) settleRoutes() {
	w, ok := s.cfg.Workout.(SettlementService)
	if !ok {
		return
	}
	tags := []string{"settlements"}
	register(s, reclaim.PermCaseRead, huma.Operation{OperationID: "get-case-settlements", Method: http.MethodGet,
		Path: "/api/v1/workout/cases/{id}/settlements", Summary: "A case's settlement page: claim, suggested NPV-optimal offer, approval needed, offers, plans, promises, waivers",
		Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *CasePath) (*settlementPageOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			p, err := w.Settlements(ctx, v, in.ID)
			return &settlementPageOut{Body: p}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "propose-settlement", Method: http.MethodPost,
		Path: "/api/v1/workout/cases/{id}/offers", Summary: "Propose a settlement (amount or discount): approved at once within the maker's limits, else waits for a checker",
		Description: "Beyond every role's limit, or from a role that may not make offers: refused, nothing stored. One live offer a case (409).",
		Tags:        tags, Errors: []int{400, 404, 409}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *OfferProposeInput) (*offerOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			b := in.Body
			req := workout.OfferRequest{Discount: b.Discount, ExpiresOn: b.ExpiresOn, PayBy: b.PayBy, GraceDays: b.GraceDays, Note: b.Note}
			if b.Amount != "" {
				if req.Amount, err = parseMoneyField("amount", b.Amount, money.CNY, true); err != nil {
					return nil, err
				}
			}
			o, err := w.ProposeOffer(ctx, v, in.ID, req)
			return &offerOut{Body: o}, err
		})
	decide := func(approve bool) func(ctx context.Context, in *OfferDecideInput) (*offerOut, error) {
		return func(ctx context.Context, in *OfferDecideInput) (*offerOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			o, err := w.DecideOffer(ctx, v, in.ID, approve, in.Body.Note)
			return &offerOut{Body: o}, err
		}
	}
	register(s, reclaim.PermSettlementApprove, huma.Operation{OperationID: "approve-settlement", Method: http.MethodPost,
		Path: "/api/v1/workout/offers/{id}/approve", Summary: "Approve a proposed settlement as its checker (never its maker; a role whose limits cover it)",
		Tags: tags, Errors: []int{404, 409}, DefaultStatus: http.StatusOK}, decide(true))
	register(s, reclaim.PermSettlementApprove, huma.Operation{OperationID: "reject-settlement", Method: http.MethodPost,
		Path: "/api/v1/workout/offers/{id}/reject", Summary: "Reject a proposed settlement as its checker",
		Tags: tags, Errors: []int{404, 409}, DefaultStatus: http.StatusOK}, decide(false))
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "accept-settlement", Method: http.MethodPost,
		Path: "/api/v1/workout/offers/{id}/accept", Summary: "Record the debtor's acceptance of an approved settlement, with its instalment plan",
		Tags: tags, Errors: []int{400, 404, 409}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *OfferAcceptInput) (*offerOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			var plan *workout.PlanRequest
			if in.Body.Plan != nil {
				r, err := in.Body.Plan.request(money.Amount{}, money.CNY)
				if err != nil {
					return nil, err
				}
				plan = &r
			}
			o, err := w.AcceptOffer(ctx, v, in.ID, in.Body.AcceptedOn, plan)
			return &offerOut{Body: o}, err
		})
	register(s, reclaim.PermSettlementApprove, huma.Operation{OperationID: "list-settlement-approvals", Method: http.MethodGet,
		Path: "/api/v1/workout/approvals", Summary: "Proposed settlements waiting for me as checker (oldest first)", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*offerListOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			os, err := w.Approvals(ctx, v)
			out := &offerListOut{}
			out.Body.Items = os
			return out, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "create-plan", Method: http.MethodPost,
		Path: "/api/v1/workout/cases/{id}/plans", Summary: "An instalment plan for a case's balance (negative or overlapping instalments refused naming the instalment)",
		Tags: tags, Errors: []int{400, 404}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *PlanCreateInput) (*planOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			total, err := parseMoneyField("total", in.Body.Total, money.CNY, true)
			if err != nil {
				return nil, err
			}
			r, err := in.Body.PlanBody.request(total, money.CNY)
			if err != nil {
				return nil, err
			}
			p, err := w.CreatePlan(ctx, v, in.ID, r, in.Body.GraceDays, in.Body.StartOn)
			return &planOut{Body: p}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "record-promise", Method: http.MethodPost,
		Path: "/api/v1/workout/cases/{id}/promises", Summary: "A promise to pay (from a promise_to_pay call when action_id is given)",
		Tags: tags, Errors: []int{400, 404}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *PromiseInput) (*promiseOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			a, err := parseMoneyField("amount", in.Body.Amount, money.CNY, true)
			if err != nil {
				return nil, err
			}
			p, err := w.AddPromise(ctx, v, workout.StoredPromise{CaseID: in.ID, ActionID: in.Body.ActionID, Made: in.Body.Made, Due: in.Body.Due,
				Amount: a, Grace: in.Body.GraceDays})
			return &promiseOut{Body: p}, err
		})
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "check-commitments", Method: http.MethodPost,
		Path: "/api/v1/workout/commitments/check", Summary: "The broken-promise job: expire, settle (waivers) and break offers, plans and promises as of a day",
		Tags: tags, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *CommitmentsInput) (*commitmentsOut, error) {
			res, err := w.CheckCommitments(ctx, in.Body.AsOf)
			return &commitmentsOut{Body: res}, err
		})
}
