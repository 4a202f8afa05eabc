package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/workout"
)

// demoSettle gives the settlement console something to show: on two of demo-collector's cases,
// an offer at 50% (above a collector's 30%: it waits on the Approvals page of
// demo-collection_manager), one at 75% (above a manager's 60%: it waits for demo-credit_committee)
// and one at 25% (less when that would waive more than 19,000 yuan: within
// the collector's limits, approved at once), which
// the debtor accepted today with a 6-month plan. Idempotent: nothing happens once any offer
// exists.
func demoSettle(ctx context.Context, g *globals, a *app) error {
	if os, err := a.db.ListOffers(ctx, sqldb.OfferFilter{Limit: 1}); err != nil || len(os) > 0 {
		return err
	}
	cs, err := a.db.ListCases(ctx, sqldb.CaseFilter{Assignee: demoCollector, Limit: 60})
	if err != nil || len(cs) < 2 {
		return err
	}
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return err
	}
	svc := newWorkoutService(a.db, bk, nil, nil)
	v := workout.Viewer{Role: reclaim.RoleCollector, Username: demoCollector}
	ctx = reclaim.WithActor(ctx, "demo")
	// The last cases of the first page of the queue, away from the ones the contact demo used.
	waiting, accepted := cs[len(cs)-1], cs[len(cs)-2]
	half, quarter := 0.5, 0.25
	if w := accepted.Balance.Float() * quarter; w > 19_000 { // a collector waives at most 20,000 yuan alone
		quarter = math.Floor(19_000/accepted.Balance.Float()*1000) / 1000
	}
	if _, err := svc.ProposeOffer(ctx, v, waiting.ID, workout.OfferRequest{Discount: &half, Note: "演示：困难减免"}); err != nil {
		return fmt.Errorf("demo offer on case %d: %w", waiting.ID, err)
	}
	if len(cs) >= 3 { // beyond a manager's 60%: waits for demo-credit_committee
		deep := 0.75
		if _, err := svc.ProposeOffer(ctx, v, cs[len(cs)-3].ID, workout.OfferRequest{Discount: &deep, Note: "演示：重大困难，报信贷审批委员会"}); err != nil {
			return fmt.Errorf("demo offer on case %d: %w", cs[len(cs)-3].ID, err)
		}
	}
	o, err := svc.ProposeOffer(ctx, v, accepted.ID, workout.OfferRequest{Discount: &quarter})
	if err != nil {
		return fmt.Errorf("demo offer on case %d: %w", accepted.ID, err)
	}
	today := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
	if _, err := svc.AcceptOffer(ctx, v, o.ID, today, &workout.PlanRequest{Months: 6, First: today.AddMonths(1)}); err != nil {
		return fmt.Errorf("demo acceptance of offer %d: %w", o.ID, err)
	}
	return nil
}
