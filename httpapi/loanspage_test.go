package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"reclaim"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestLoansKeysetPaging: walking a portfolio with after=next_after visits every loan once, in the
// order of the offset pages; the last page has no next_after; an after naming no loan, an after
// with an offset and an overlong after are refused (400) naming the field; a role without
// portfolio.read is refused.
func TestLoansKeysetPaging(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		an := f.as(reclaim.RoleAnalyst)
		base := fmt.Sprintf("/api/v1/portfolios/%d/loans", f.portfolio)
		page := func(q string) httpapi.LoansPage {
			t.Helper()
			res, b := an.do("GET", base+"?"+q, "")
			var p httpapi.LoansPage
			if err := json.Unmarshal(b, &p); err != nil || res.StatusCode != 200 {
				t.Fatalf("%s: %d %s", q, res.StatusCode, truncate(b))
			}
			return p
		}
		var byOffset, byKey []string
		for off := 0; off < 300; off += 70 {
			for _, l := range page(fmt.Sprintf("offset=%d&limit=70", off)).Items {
				byOffset = append(byOffset, l.LoanID)
			}
		}
		after, pages := "", 0
		for pages < 20 {
			p := page("limit=70&after=" + url.QueryEscape(after))
			pages++
			for _, l := range p.Items {
				byKey = append(byKey, l.LoanID)
			}
			if p.Total != 300 {
				t.Errorf("total %d", p.Total)
			}
			if p.NextAfter == "" {
				break
			}
			after = p.NextAfter
		}
		if len(byKey) != 300 || strings.Join(byKey, ",") != strings.Join(byOffset, ",") || pages != 5 {
			t.Errorf("keyset walk: %d loans in %d pages; offset pages: %d loans", len(byKey), pages, len(byOffset))
		}
		for name, q := range map[string]string{
			"unknown loan":     "after=NO-SUCH-LOAN",
			"after and offset": "after=" + url.QueryEscape(byKey[3]) + "&offset=10",
			"overlong after":   "after=" + strings.Repeat("x", 201),
			"sql in after":     "after=" + url.QueryEscape("x' OR 1=1--"),
		} {
			res, b := an.do("GET", base+"?"+q, "")
			if res.StatusCode != 400 || !strings.Contains(string(b), "after") {
				t.Errorf("%s: %d %s", name, res.StatusCode, truncate(b))
			}
		}
		if res, _ := f.as(reclaim.RoleInvestor).do("GET", base+"?after="+url.QueryEscape(byKey[0]), ""); res.StatusCode != 403 {
			t.Errorf("investor: %d", res.StatusCode)
		}
	})
}
