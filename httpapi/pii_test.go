package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"reclaim"
	"reclaim/cnid"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// findKeys collects every object key in a decoded JSON document, at any depth.
func findKeys(v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out[k] = true
			findKeys(e, out)
		}
	case []any:
		for _, e := range x {
			findKeys(e, out)
		}
	}
}

// TestLoanListsCannotRebuildIDs is issue 9, item 2, through the API on both engines. Loan lists
// showed the masked ID 440502********635X beside the exact birth_date: the mask hid exactly the
// birth digits, so every role that lists loans rebuilt the full ID, check digit and all, without an
// audit row. Now, for every role that lists loans without the personal-data permission (admin,
// analyst, auditor): the JSON has no birth_date anywhere, holds no birth date or ID digits beyond
// the masked prefix, its age adds nothing to its birth year, and what it does show (masked ID,
// region_code as the ID's county in the worst case, birth year) leaves at least
// cnid.MinConsistentIDs valid IDs per borrower. Collectors still read the full personal data, birth
// date included, through the audited path.
func TestLoanListsCannotRebuildIDs(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		listPath := fmt.Sprintf("/api/v1/portfolios/%d/loans?limit=20", f.portfolio)

		// Ground truth through the audited path (what collectors get).
		col := f.as(reclaim.RoleCollector)
		res, b := col.do("GET", listPath, "")
		if res.StatusCode != 200 {
			t.Fatalf("collector list: %d %s", res.StatusCode, truncate(b))
		}
		var page struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(b, &page); err != nil || len(page.Items) != 20 {
			t.Fatalf("list: %v, %d items", err, len(page.Items))
		}
		truth := map[string]reclaim.PersonalData{}
		for _, it := range page.Items[:6] {
			ref, _ := it["borrower_id"].(string)
			if _, done := truth[ref]; done {
				continue
			}
			f.assignBorrowers(t, "collector1", ref) // a collector reads only its own cases' borrowers
			res, b := col.do("POST", fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", f.portfolio,
				url.PathEscape(ref)), `{"purpose": "settlement call"}`)
			var pd reclaim.PersonalData
			if err := json.Unmarshal(b, &pd); err != nil || res.StatusCode != 200 {
				t.Fatalf("collector read %s: %d %s", ref, res.StatusCode, truncate(b))
			}
			info, err := cnid.Validate(pd.NationalID)
			if err != nil || pd.BirthDate != info.Birth || !strings.Contains(string(b), `"birth_date":"`+info.Birth.String()+`"`) {
				t.Fatalf("collector read %s: birth date %v, ID's %v (%v)", ref, pd.BirthDate, info.Birth, err)
			}
			truth[ref] = pd
		}
		audit, err := f.db.ListPIIAccess(t.Context(), reclaim.PIIAccessFilter{PortfolioID: f.portfolio, Actor: "user:collector1"})
		if err != nil || len(audit) != len(truth) || !strings.Contains(strings.Join(audit[0].Fields, ","), "birth_date") {
			t.Fatalf("audit of the collector's reads: %+v %v", audit, err)
		}

		for _, role := range []reclaim.Role{reclaim.RoleAdmin, reclaim.RoleAnalyst, reclaim.RoleAuditor} {
			if role.Can(reclaim.PermCasePersonal) {
				t.Fatalf("%s may read personal data; the test's premise is wrong", role)
			}
			res, b := f.as(role).do("GET", listPath, "")
			if res.StatusCode != 200 {
				t.Fatalf("%s list: %d", role, res.StatusCode)
			}
			var doc any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			findKeys(doc, keys)
			for k := range keys {
				if strings.Contains(k, "birth_date") || k == "dob" {
					t.Errorf("%s: the loan list has a %q field", role, k)
				}
			}
			var rows struct {
				Items []reclaim.LoanView `json:"items"`
			}
			json.Unmarshal(b, &rows)
			checked := 0
			for _, it := range rows.Items {
				if it.BirthYear == 0 || it.Age != it.CutOffDate.Year()-it.BirthYear || !it.BirthDate.IsZero() {
					t.Errorf("%s: loan %s shows birth year %d and age %d (cut-off %s): the age must be cut-off year - birth year",
						role, it.LoanID, it.BirthYear, it.Age, it.CutOffDate)
				}
				pd, ok := truth[it.BorrowerID]
				if !ok {
					continue
				}
				info, _ := cnid.Validate(pd.NationalID)
				for _, s := range []string{info.Birth.String(), pd.NationalID[6:14], pd.NationalID[10:], pd.NationalID} {
					if strings.Contains(string(b), s) {
						t.Errorf("%s: the loan list holds %q (from the birth date or the ID)", role, s)
					}
				}
				// The worst case: the county is the ID's own (region_code is often the 户籍地).
				n, err := cnid.ConsistentIDs(cnid.Shown{Mask: it.Borrower.NationalID, Region: pd.NationalID[:6], BirthYear: it.BirthYear})
				if err != nil || n < cnid.MinConsistentIDs {
					t.Errorf("%s: %d valid IDs fit what the list shows of %s (%v); want >= %d", role, n, it.LoanID, err, cnid.MinConsistentIDs)
				}
				// Even told the exact birth date, the shown mask leaves every sequence number open.
				if n, _ := cnid.ConsistentIDs(cnid.Shown{Mask: it.Borrower.NationalID, Region: pd.NationalID[:6], BirthYear: info.Birth.Year(),
					Birth: info.Birth}); n < 1000 {
					t.Errorf("%s: mask %s with the birth date leaves %d IDs", role, it.Borrower.NationalID, n)
				}
				checked++
			}
			if checked == 0 {
				t.Fatalf("%s: no listed loan had a known borrower", role)
			}
		}

		// One loan's valuation (reason codes carry borrower_age) shows no birth date either.
		for ref, pd := range truth {
			var loan string
			for _, it := range page.Items {
				if it["borrower_id"] == ref {
					loan, _ = it["loan_id"].(string)
				}
			}
			res, b := f.as(reclaim.RoleAnalyst).do("GET", fmt.Sprintf("/api/v1/portfolios/%d/loans/%s/valuation?model=%s", f.portfolio,
				url.PathEscape(loan), testModelName), "")
			if res.StatusCode != 200 {
				t.Fatalf("loan valuation: %d %s", res.StatusCode, truncate(b))
			}
			info, _ := cnid.Validate(pd.NationalID)
			if strings.Contains(string(b), info.Birth.String()) || strings.Contains(string(b), pd.NationalID[6:14]) {
				t.Errorf("loan valuation holds the birth date: %s", truncate(b))
			}
			break
		}
	})
}
