package httpapi_test

import (
	"fmt"
	"testing"

	"reclaim"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestCourtFeePreview: the fee the console shows before a filing is the fee the filing then
// records, exactly; the preview stores nothing, needs legal.act, keeps the case scope and
// names the field of a bad claim.
func TestCourtFeePreview(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		mgr, col, ag, lawyer := f.as(reclaim.RoleCollectionManager), f.as(reclaim.RoleCollector), f.as(reclaim.RoleAgency), f.as(reclaim.RoleLegal)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/portfolios/%d/acquisition", f.portfolio), `{"award_date":"2026-03-02","price":"100.00"}`, 201)
		all := decode[struct{ Items []workout.CaseRow }](t, must(t, mgr, "GET", "/api/v1/cases?limit=1", "", 200))
		id := all.Items[0].ID
		fp := func(q string) string { return fmt.Sprintf("/api/v1/cases/%d/legal/court-fee?%s", id, q) }
		timeline := func() int {
			return len(decode[workout.CasePage](t, must(t, lawyer, "GET", fmt.Sprintf("/api/v1/cases/%d", id), "", 200)).Timeline)
		}
		before := timeline()

		// Statutory values (诉讼费用交纳办法 art. 13(1), 16), worked by hand.
		for _, tc := range []struct {
			claim, simplified, fee, proc string
		}{
			{"10000.00", "false", "50.00", "ordinary"},
			{"50000.00", "false", "1050.00", "ordinary"},
			{"50000.00", "true", "525.00", "simplified"},
			{"100000.00", "false", "2300.00", "ordinary"},
			{"10000.01", "true", "25.00", "simplified"},   // (50 + 0.00025) / 2, half up
			{"123456.78", "false", "2769.14", "ordinary"}, // 2300 + 23456.78 x 2% = 2769.1356
		} {
			got := decode[httpapi.CourtFeeBody](t, must(t, lawyer, "GET", fp("claim="+tc.claim+"&simplified="+tc.simplified), "", 200))
			if got.CourtFee != tc.fee || got.Procedure != tc.proc || got.Claim != tc.claim || got.Currency != "CNY" {
				t.Errorf("claim %s simplified %s: %+v, want fee %s %s", tc.claim, tc.simplified, got, tc.fee, tc.proc)
			}
		}
		if n := timeline(); n != before {
			t.Fatalf("a preview changed the timeline: %d -> %d items", before, n)
		}

		// The filing records exactly the previewed fee.
		prev := decode[httpapi.CourtFeeBody](t, must(t, mgr, "GET", fp("claim=76543.21&simplified=true"), "", 200))
		act := decode[workout.Action](t, must(t, lawyer, "POST", fmt.Sprintf("/api/v1/cases/%d/legal", id),
			`{"legal_step":"filing","effective":"2026-04-01","claim":"76543.21","simplified":true}`, 201))
		if act.Amount.String() != prev.CourtFee || prev.CourtFee == "" {
			t.Fatalf("filing recorded %s, preview said %q", act.Amount, prev.CourtFee)
		}

		// Bad input names the field; a role without legal.act is refused; scope is kept.
		for _, q := range []string{"claim=", "claim=12,3", "claim=-5.00", "claim=0", "claim=1.234"} {
			res, b := lawyer.do("GET", fp(q), "")
			if res.StatusCode != 400 || decode[struct{ Fields map[string]string }](t, b).Fields["field"] != "claim" {
				t.Errorf("%s: %d %s, want 400 naming claim", q, res.StatusCode, b)
			}
		}
		must(t, col, "GET", fp("claim=50000.00"), "", 403)
		must(t, ag, "GET", fp("claim=50000.00"), "", 403)
		must(t, lawyer, "GET", "/api/v1/cases/99999999/legal/court-fee?claim=50000.00", "", 404)
	})
}
