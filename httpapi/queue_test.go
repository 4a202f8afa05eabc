package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"reclaim"
	"reclaim/auth"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestQueueAPI: only case.assign plans a day; a bad day is 400 naming the field and plans
// nothing; a collector reads only its own planned items, another collector none of them.
func TestQueueAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.board(t)
		mgr := f.as(reclaim.RoleCollectionManager)
		col := f.as(reclaim.RoleCollector)
		cases := decode[struct{ Items []workout.CaseRow }](t, must(t, mgr, "GET", "/api/v1/cases", "", 200))
		if len(cases.Items) == 0 {
			t.Fatal("no cases boarded")
		}
		me := f.users[reclaim.RoleCollector].Username
		h, _ := auth.HashWith(testPassword, cheap)
		if _, err := db.CreateUser(context.Background(), reclaim.User{Username: "collector2", Role: reclaim.RoleCollector, PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
		other, res, lb := f.login("collector2", testPassword)
		if res.StatusCode != 200 {
			t.Fatalf("login collector2: %d %s", res.StatusCode, lb)
		}
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/assign", cases.Items[0].ID), fmt.Sprintf(`{"assignee":%q}`, me), 200)
		for _, r := range []reclaim.Role{reclaim.RoleCollector, reclaim.RoleAgency, reclaim.RoleLegal, reclaim.RoleAuditor} {
			must(t, f.as(r), "POST", "/api/v1/workout/queue/plan", `{"day":"2026-03-11"}`, 403)
		}
		b := must(t, mgr, "POST", "/api/v1/workout/queue/plan", `{"day":"2026-3-11"}`, 400)
		if errorCode(b) != reclaim.EINVALID || !strings.Contains(string(b), `"day"`) {
			t.Fatalf("bad day: %s", b)
		}
		if got := decode[struct{ Items []workout.PlanItem }](t, must(t, mgr, "GET", "/api/v1/workout/queue?day=2026-03-11", "", 200)); len(got.Items) != 0 {
			t.Fatalf("a refused plan stored %d items", len(got.Items))
		}
		must(t, mgr, "GET", "/api/v1/workout/queue?day=yesterday", "", 400)
		plan := decode[workout.DayPlan](t, must(t, mgr, "POST", "/api/v1/workout/queue/plan", `{"day":"2026-03-11"}`, 200))
		// (This fixture's tape has no phone numbers, so no calls: the collector's positive case
		// is in workout/service's TestPlanDay; here its scope is checked against the manager's view.)
		if plan.Planned == 0 {
			t.Fatalf("plan: %+v", plan)
		}
		mine := decode[struct{ Items []workout.PlanItem }](t, must(t, col, "GET", "/api/v1/workout/queue?day=2026-03-11", "", 200))
		if len(mine.Items) != plan.PerTeam[me] {
			t.Fatalf("collector sees %d, planned %d", len(mine.Items), plan.PerTeam[me])
		}
		for _, it := range mine.Items {
			if it.Assignee != me || it.CaseID != cases.Items[0].ID {
				t.Fatalf("collector sees %+v", it)
			}
		}
		// Another collector (an attacker with an account, and a team of its own) sees none of them.
		if got := decode[struct{ Items []workout.PlanItem }](t, must(t, other, "GET", "/api/v1/workout/queue?day=2026-03-11", "", 200)); len(got.Items) != 0 {
			t.Fatalf("another collector sees %+v", got.Items)
		}
		all := decode[struct{ Items []workout.PlanItem }](t, must(t, mgr, "GET", "/api/v1/workout/queue?day=2026-03-11", "", 200))
		if len(all.Items) != plan.Planned {
			t.Fatalf("manager sees %d of %d", len(all.Items), plan.Planned)
		}
		n := 0
		for _, it := range all.Items {
			if it.Assignee == me {
				n++
			}
		}
		if n != len(mine.Items) {
			t.Fatalf("collector sees %d, the manager sees %d of its items", len(mine.Items), n)
		}
	})
}

// TestContactModelAPI: only case.assign trains; a log too small to train on is 400 naming how
// many usable contacts were found and needed, and stores nothing (the card still says rules);
// malformed bodies are 4xx; the card is for workout.dashboard holders only.
func TestContactModelAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.board(t)
		mgr := f.as(reclaim.RoleCollectionManager)
		for _, r := range []reclaim.Role{reclaim.RoleCollector, reclaim.RoleAgency, reclaim.RoleLegal, reclaim.RoleAuditor, reclaim.RoleCreditCommittee, reclaim.RoleAnalyst} {
			must(t, f.as(r), "POST", "/api/v1/workout/contact-model/train", `{}`, 403)
		}
		for _, r := range []reclaim.Role{reclaim.RoleCollector, reclaim.RoleAgency, reclaim.RoleBidder, reclaim.RoleAnalyst} {
			must(t, f.as(r), "GET", "/api/v1/workout/contact-model", "", 403)
		}
		b := must(t, mgr, "POST", "/api/v1/workout/contact-model/train", `{"min_rows":150}`, 400)
		if errorCode(b) != reclaim.EINVALID || !strings.Contains(string(b), "has 0 usable contacts") || !strings.Contains(string(b), "at least 150") {
			t.Fatalf("empty log: %s", b)
		}
		for _, bad := range []string{`{"min_rows":-1}`, `{"horizon_days":9999}`, `{"min_rows":"many"}`, `{"name":"` + strings.Repeat("x", 81) + `"}`, `[`} {
			if res, b := mgr.do("POST", "/api/v1/workout/contact-model/train", bad); res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Fatalf("%s: %d %s", bad, res.StatusCode, b)
			}
		}
		card := decode[workout.ContactModelCard](t, must(t, f.as(reclaim.RoleAuditor), "GET", "/api/v1/workout/contact-model", "", 200))
		if card.Model || card.Valuation != workout.ValuationRules || card.Info != nil {
			t.Fatalf("card after refusals: %+v", card)
		}
		plan := decode[workout.DayPlan](t, must(t, mgr, "POST", "/api/v1/workout/queue/plan", `{"day":"2026-03-11"}`, 200))
		if plan.ChallengerValuation != workout.ValuationRules {
			t.Fatalf("plan without a model: %+v", plan)
		}
	})
}
