package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"reclaim"
	"reclaim/auth"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
	wsvc "reclaim/workout/service"

	"reclaim/httpapi"
)

var _ httpapi.SettlementService = (*wsvc.Service)(nil)

// loginAs signs in a second user of a role (the fixture has one per role).
func loginAs(t *testing.T, f *fixture, username string, r reclaim.Role) *client {
	t.Helper()
	h, _ := auth.HashWith(testPassword, cheap)
	if _, err := f.db.CreateUser(context.Background(), reclaim.User{Username: username, Role: r, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	c := f.anon()
	if res, b := c.do("POST", "/api/v1/auth/login", `{"username":"`+username+`","password":"`+testPassword+`"}`); res.StatusCode != 200 {
		t.Fatalf("login %s: %d %s", username, res.StatusCode, b)
	}
	return c
}

// TestSettlementAPI: a collector's offer above its limit waits for a manager; the abuse cases
// (another collector's case, an agency user, a collector approving, the maker approving its own,
// a role whose limits do not cover it, an offer beyond every limit) are refused and change
// nothing; two managers approving at once decide it exactly once; the debtor accepts with a
// plan, pays it, and the broken-promise job settles it and waives the rest (on the pool's
// ledger too).
func TestSettlementAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		mgr := f.as(reclaim.RoleCollectionManager)
		mgr2 := loginAs(t, f, "manager2", reclaim.RoleCollectionManager)
		col := f.as(reclaim.RoleCollector)
		ag := f.as(reclaim.RoleAgency)
		lawyer := f.as(reclaim.RoleLegal)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/portfolios/%d/acquisition", f.portfolio), `{"award_date":"2026-03-02","price":"123456.78"}`, 201)
		all := decode[struct{ Items []workout.CaseRow }](t, must(t, mgr, "GET", "/api/v1/cases?limit=5", "", 200))
		c1, c2 := all.Items[0].ID, all.Items[1].ID
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/assign", c1), `{"assignee":"collector1"}`, 200)
		sp := func(id int64) string { return fmt.Sprintf("/api/v1/workout/cases/%d/settlements", id) }
		op := func(id int64) string { return fmt.Sprintf("/api/v1/workout/cases/%d/offers", id) }

		page := decode[workout.SettlementPage](t, must(t, col, "GET", sp(c1), "", 200))
		if page.Claim.Sign() <= 0 || page.Suggestion == nil || page.Suggestion.Discount <= 0 || page.Limit == nil || page.Limit.Role != "collector" {
			t.Fatalf("settlement page %+v", page)
		}
		// Scope: another collector's case and an agency user's unplaced case are 404.
		must(t, col, "GET", sp(c2), "", 404)
		must(t, col, "POST", op(c2), `{"discount":0.1}`, 404)
		must(t, ag, "POST", op(c1), `{"discount":0.1}`, 404)
		// Refusals that store nothing: beyond every limit, both amount and discount, a role
		// that may not make offers.
		if _, b := col.do("POST", op(c1), `{"discount":0.95}`); !strings.Contains(string(b), "beyond every role") {
			t.Fatalf("offer beyond every limit: %s", b)
		}
		must(t, col, "POST", op(c1), `{"discount":0.95}`, 400)
		must(t, col, "POST", op(c1), `{"discount":0.2,"amount":"100.00"}`, 400)
		must(t, lawyer, "POST", op(c1), `{"discount":0.1}`, 403)
		if page := decode[workout.SettlementPage](t, must(t, col, "GET", sp(c1), "", 200)); len(page.Offers) != 0 {
			t.Fatalf("refused offers stored: %+v", page.Offers)
		}
		// Above the collector's 30%: waits for a manager.
		o := decode[workout.SettlementOffer](t, must(t, col, "POST", op(c1), `{"discount":0.5,"expires_on":"2026-12-31","note":"hardship"}`, 201))
		if o.Status != workout.OfferProposed || o.CheckerRole != "collection_manager" || o.Maker != "collector1" {
			t.Fatalf("offer %+v", o)
		}
		must(t, col, "POST", op(c1), `{"discount":0.1}`, 409) // one live offer a case
		ap := fmt.Sprintf("/api/v1/workout/offers/%d/approve", o.ID)
		must(t, col, "POST", ap, `{}`, 403) // a collector cannot approve
		must(t, col, "POST", fmt.Sprintf("/api/v1/workout/offers/%d/accept", o.ID), `{}`, 409)
		q := decode[struct{ Items []workout.SettlementOffer }](t, must(t, mgr, "GET", "/api/v1/workout/approvals", "", 200))
		if len(q.Items) != 1 || q.Items[0].ID != o.ID {
			t.Fatalf("approvals %+v", q.Items)
		}
		// Two managers at once: exactly one decision.
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, c := range []*client{mgr, mgr2} {
			wg.Add(1)
			go func(i int, c *client) {
				defer wg.Done()
				res, _ := c.do("POST", ap, `{"note":"ok"}`)
				codes[i] = res.StatusCode
			}(i, c)
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("double approval: %v", codes)
		}
		if q := decode[struct{ Items []workout.SettlementOffer }](t, must(t, mgr, "GET", "/api/v1/workout/approvals", "", 200)); len(q.Items) != 0 {
			t.Fatalf("decided offer still waiting: %+v", q.Items)
		}
		// The debtor accepts with a two-month plan; an overlapping plan is refused first.
		acc := fmt.Sprintf("/api/v1/workout/offers/%d/accept", o.ID)
		half := o.Amount.Minor() / 2
		bad := fmt.Sprintf(`{"accepted_on":"2026-03-20","plan":{"instalments":[{"seq":1,"due":"2026-04-01","amount":"%s"},{"seq":2,"due":"2026-04-01","amount":"%s"}]}}`,
			yuanStr(half), yuanStr(o.Amount.Minor()-half))
		if _, b := col.do("POST", acc, bad); !strings.Contains(string(b), "instalments[1].due") {
			t.Fatalf("overlapping plan: %s", b)
		}
		o = decode[workout.SettlementOffer](t, must(t, col, "POST", acc, `{"accepted_on":"2026-03-20","plan":{"months":2,"first_due":"2026-04-01"}}`, 200))
		if o.Status != workout.OfferAccepted || o.Plan == nil || len(o.Plan.Instalments) != 2 || o.Plan.Instalments[1].Due.String() != "2026-05-01" {
			t.Fatalf("accepted %+v", o)
		}
		for i, in := range o.Plan.Instalments {
			must(t, col, "POST", "/api/v1/payments", fmt.Sprintf(`{"txn_id":"SET-%d","date":"%s","amount":"%s","case_id":%d}`, i, in.Due, in.Amount, c1), 201)
		}
		must(t, col, "POST", "/api/v1/workout/commitments/check", `{"as_of":"2026-05-02"}`, 403)
		res := decode[workout.CommitmentCheck](t, must(t, mgr, "POST", "/api/v1/workout/commitments/check", `{"as_of":"2026-05-02"}`, 200))
		if len(res.OffersPaid) != 1 || len(res.Waivers) != 1 || len(res.Errors) != 0 {
			t.Fatalf("check %+v", res)
		}
		page = decode[workout.SettlementPage](t, must(t, col, "GET", sp(c1), "", 200))
		if page.Offers[0].Status != workout.OfferPaid || len(page.Waivers) != 1 || page.Claim.Sign() != 0 || page.Offers[0].Checker == "" {
			t.Fatalf("after payment %+v", page)
		}
		for _, l := range page.Waivers[0].Loans {
			if l.Pool != "P1" || l.PoolEvent == "" {
				t.Fatalf("waiver without its ledger entry: %+v", l)
			}
		}
		// The maker never approves its own: a manager's 70% offer needs the credit committee.
		o2 := decode[workout.SettlementOffer](t, must(t, mgr, "POST", op(c2), `{"discount":0.7}`, 201))
		if o2.CheckerRole != "credit_committee" {
			t.Fatalf("70%% offer %+v", o2)
		}
		a2 := fmt.Sprintf("/api/v1/workout/offers/%d/approve", o2.ID)
		if _, b := mgr.do("POST", a2, `{}`); !strings.Contains(string(b), "maker") {
			t.Fatalf("maker approves own: %s", b)
		}
		must(t, mgr, "POST", a2, `{}`, 403)
		must(t, mgr2, "POST", a2, `{}`, 403) // a manager's limit does not cover 70%
		if g := decode[workout.SettlementPage](t, must(t, mgr, "GET", sp(c2), "", 200)); g.Offers[0].Status != workout.OfferProposed || g.Offers[0].Checker != "" {
			t.Fatalf("refused approvals changed the offer: %+v", g.Offers[0])
		}
		// Plans and promises: bad input names the field; good input is stored.
		pp := fmt.Sprintf("/api/v1/workout/cases/%d/plans", c2)
		if _, b := mgr.do("POST", pp, `{"total":"100.00","instalments":[{"seq":1,"due":"2026-04-01","amount":"150.00"},{"seq":2,"due":"2026-05-01","amount":"-50.00"}]}`); !strings.Contains(string(b), "instalments[1].amount") {
			t.Fatalf("negative instalment: %s", b)
		}
		pl := decode[workout.StoredPlan](t, must(t, mgr, "POST", pp, `{"total":"100.00","months":3,"first_due":"2026-04-30"}`, 201))
		if len(pl.Instalments) != 3 || pl.Instalments[1].Due.String() != "2026-05-30" {
			t.Fatalf("plan %+v", pl)
		}
		pr := fmt.Sprintf("/api/v1/workout/cases/%d/promises", c2)
		must(t, mgr, "POST", pr, `{"amount":"50.00","due":"2026-04-10","action_id":999999}`, 400)
		must(t, ag, "POST", pr, `{"amount":"50.00","due":"2026-04-10"}`, 404)
		pm := decode[workout.StoredPromise](t, must(t, mgr, "POST", pr, `{"amount":"50.00","due":"2026-04-10","made":"2026-04-01"}`, 201))
		if pm.Status != string(workout.PromisePending) {
			t.Fatalf("promise %+v", pm)
		}
	})
}

func yuanStr(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

// TestCreditCommitteeApproval: an offer at 75% discount (above a collection manager's 60%) needs
// the credit committee: a manager is refused with 403 naming the role, the offer waits on the
// committee's approvals page (and not the manager's), and a committee member approves it.
func TestCreditCommitteeApproval(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		mgr := f.as(reclaim.RoleCollectionManager)
		col := f.as(reclaim.RoleCollector)
		cc := f.as(reclaim.RoleCreditCommittee)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/portfolios/%d/acquisition", f.portfolio), `{"award_date":"2026-03-02","price":"123456.78"}`, 201)
		all := decode[struct{ Items []workout.CaseRow }](t, must(t, mgr, "GET", "/api/v1/cases?limit=5", "", 200))
		c1 := all.Items[0].ID
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/assign", c1), `{"assignee":"collector1"}`, 200)
		// The committee works no case: it may not propose.
		must(t, cc, "POST", fmt.Sprintf("/api/v1/workout/cases/%d/offers", c1), `{"discount":0.75}`, 403)
		o := decode[workout.SettlementOffer](t, must(t, col, "POST", fmt.Sprintf("/api/v1/workout/cases/%d/offers", c1), `{"discount":0.75}`, 201))
		if o.Status != workout.OfferProposed || o.CheckerRole != "credit_committee" {
			t.Fatalf("75%% offer %+v", o)
		}
		if q := decode[struct{ Items []workout.SettlementOffer }](t, must(t, mgr, "GET", "/api/v1/workout/approvals", "", 200)); len(q.Items) != 0 {
			t.Fatalf("a manager is offered a 75%% approval: %+v", q.Items)
		}
		q := decode[struct{ Items []workout.SettlementOffer }](t, must(t, cc, "GET", "/api/v1/workout/approvals", "", 200))
		if len(q.Items) != 1 || q.Items[0].ID != o.ID {
			t.Fatalf("committee approvals %+v", q.Items)
		}
		ap := fmt.Sprintf("/api/v1/workout/offers/%d/approve", o.ID)
		res, b := mgr.do("POST", ap, `{}`)
		if res.StatusCode != 403 || !strings.Contains(string(b), "credit_committee") {
			t.Fatalf("manager approving 75%%: %d %s", res.StatusCode, b)
		}
		if g, _ := db.GetOffer(context.Background(), o.ID); g.Status != workout.OfferProposed || g.Checker != "" {
			t.Fatalf("a refused approval changed the offer: %+v", g)
		}
		o = decode[workout.SettlementOffer](t, must(t, cc, "POST", ap, `{"note":"committee 2026-12"}`, 200))
		if o.Status != workout.OfferApproved || o.Checker != "credit_committee1" {
			t.Fatalf("committee approval %+v", o)
		}
		// Above every limit (90%) nobody approves: the offer is refused when made.
		must(t, col, "POST", fmt.Sprintf("/api/v1/workout/cases/%d/offers", c1), `{"discount":0.95}`, 400)
	})
}
