package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/workout"
)

// CourtFeeInput asks what a filing on a case would cost, before it is recorded.
type CourtFeeInput struct {
	CasePath
	Claim      string `query:"claim" maxLength:"40" doc:"the filing's claim, decimal string in the case's currency (\"50000.00\")"`
	Simplified bool   `query:"simplified" doc:"simplified procedure (fee halved)"`
}

// CourtFeeBody is the statutory court fee of a claim: the same numbers POST /cases/{id}/legal
// records in a filing's detail.
type CourtFeeBody struct {
	Claim     string `json:"claim" doc:"the claim, decimal string"`
	CourtFee  string `json:"court_fee" doc:"the statutory case-acceptance fee, exact to the fen (decimal string)"`
	Procedure string `json:"procedure" doc:"ordinary or simplified"`
	Currency  string `json:"currency"`
}

type courtFeeOut struct{ Body CourtFeeBody }

// courtFeeRoute serves GET /cases/{id}/legal/court-fee: the console shows the fee a filing will
// record before the lawyer saves it. The fee is workout.CourtFee (the one copy of the rule), in
// the case's currency; the case scope applies as on every case route.
func (s *Server) courtFeeRoute(tags []string) {
	w := s.cfg.Workout
	register(s, reclaim.PermLegalAct, huma.Operation{OperationID: "court-fee", Method: http.MethodGet,
		Path: "/api/v1/cases/{id}/legal/court-fee", Summary: "The statutory court fee a filing on this case would record (nothing is stored)",
		Tags: tags, Errors: []int{400, 404}},
		func(ctx context.Context, in *CourtFeeInput) (*courtFeeOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			c, err := w.Case(ctx, v, in.ID)
			if err != nil {
				return nil, err
			}
			cur := c.Balance.Currency()
			claim, err := parseMoneyField("claim", in.Claim, cur, true)
			if err != nil {
				return nil, err
			}
			if claim.Sign() <= 0 {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "a filing needs the claim amount (positive) for the court fee",
					Fields: map[string]string{"field": "claim", "value": in.Claim, "rule": "positive"}}
			}
			fee, err := workout.CourtFee(claim, in.Simplified)
			if err != nil {
				return nil, err
			}
			proc := "ordinary"
			if in.Simplified {
				proc = "simplified"
			}
			return &courtFeeOut{Body: CourtFeeBody{Claim: claim.String(), CourtFee: fee.String(), Procedure: proc, Currency: string(cur)}}, nil
		})
}
