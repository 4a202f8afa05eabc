package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"reclaim"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestCampaignAPI: only a collection manager starts a campaign; a retried request returns the
// same campaign (200) and sends nothing twice; a reused key is 409; bad input is 400 naming the
// field; managers, admins and auditors follow its progress and result.
func TestCampaignAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.board(t)
		mgr := f.as(reclaim.RoleCollectionManager)
		at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		body := fmt.Sprintf(`{"key":"k-1","name":"三月提醒","channel":"sms","template":"remind-v1","selection":{"portfolio_id":%d},"max_per_day":1,"scheduled_at":%q}`,
			f.portfolio, at)
		for _, r := range []reclaim.Role{reclaim.RoleCollector, reclaim.RoleAgency, reclaim.RoleLegal, reclaim.RoleAdmin, reclaim.RoleAuditor} {
			must(t, f.as(r), "POST", "/api/v1/workout/campaigns", body, 403)
		}
		c := decode[workout.Campaign](t, must(t, mgr, "POST", "/api/v1/workout/campaigns", body, 201))
		again := decode[workout.Campaign](t, must(t, mgr, "POST", "/api/v1/workout/campaigns", body, 200))
		if again.ID != c.ID {
			t.Fatalf("retry made campaign %d, first %d", again.ID, c.ID)
		}
		must(t, mgr, "POST", "/api/v1/workout/campaigns", `{"key":"k-1","name":"other","channel":"sms","template":"remind-v1","selection":{"all":true},"scheduled_at":"`+at+`"}`, 409)
		for field, b := range map[string]string{
			"channel":   `{"key":"k-2","name":"x","channel":"call","template":"t","selection":{"all":true},"scheduled_at":"` + at + `"}`,
			"selection": `{"key":"k-2","name":"x","channel":"sms","template":"t","selection":{},"scheduled_at":"` + at + `"}`,
			"template":  `{"key":"k-2","name":"x","channel":"sms","template":"a b","selection":{"all":true},"scheduled_at":"` + at + `"}`,
		} {
			res, out := mgr.do("POST", "/api/v1/workout/campaigns", b)
			var e httpapi.ErrorBody
			if res.StatusCode != 400 || json.Unmarshal(out, &e) != nil || e.Code != reclaim.EINVALID || e.Fields["field"] != field {
				t.Errorf("campaign %s: %d %s, want 400 naming the field", field, res.StatusCode, out)
			}
		}
		if cs := decode[[]workout.Campaign](t, must(t, f.as(reclaim.RoleAuditor), "GET", "/api/v1/workout/campaigns", "", 200)); len(cs) != 1 {
			t.Fatalf("campaigns %+v", cs)
		}
		must(t, f.as(reclaim.RoleCollector), "GET", "/api/v1/workout/campaigns", "", 403)
		must(t, mgr, "GET", "/api/v1/workout/campaigns/999", "", 404)

		// Sent by the runner (serve runs it in the background; here by hand).
		if n, err := f.workout.RunCampaigns(context.Background(), "test"); n != 1 || err != nil {
			t.Fatalf("run: %d %v", n, err)
		}
		got := decode[workout.Campaign](t, must(t, f.as(reclaim.RoleAdmin), "GET", fmt.Sprintf("/api/v1/workout/campaigns/%d", c.ID), "", 200))
		if got.Status != workout.CampaignDone || got.Total == 0 || got.Done != got.Total || got.Sent+got.Denied != got.Total {
			t.Fatalf("result %+v", got)
		}
		var denied int64
		for _, n := range got.ByRule {
			denied += n
		}
		if denied < got.Denied {
			t.Fatalf("denials without a rule id: %+v", got)
		}
		// The retry after the run still sends nothing.
		must(t, mgr, "POST", "/api/v1/workout/campaigns", body, 200)
		if n, _ := f.workout.RunCampaigns(context.Background(), "test"); n != 0 {
			t.Fatalf("a retried request ran again")
		}
	})
}
