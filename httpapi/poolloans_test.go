package httpapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// Issue 11, item 6: the pool's loans are listed with their per-pool reference; the tape's loan id
// is shown beside it only to roles that may read the portfolio (portfolio.read). Investors and
// trustees read the ledger but must never receive the seller's loan ids.
func TestPoolLoansLoanIDOnlyForPortfolioReaders(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		want, total, err := db.PoolLoans(context.Background(), "P1", 0, 500)
		if err != nil || total == 0 || len(want) == 0 {
			t.Fatalf("fixture pool loans: %d %v", total, err)
		}
		keys := map[string]string{}
		for _, l := range want {
			if l.LoanKey == "" {
				t.Fatalf("fixture loan %s has no loan key", l.Ref)
			}
			keys[l.Ref] = l.LoanKey
		}
		for _, r := range reclaim.Roles {
			if !r.Can(reclaim.PermLedgerRead) {
				continue
			}
			res, b := f.as(r).do("GET", "/api/v1/pools/P1/loans?limit=500", "")
			if res.StatusCode != 200 {
				t.Fatalf("%s: %d %s", r, res.StatusCode, b)
			}
			var page struct {
				Items []map[string]any `json:"items"`
				Total int64            `json:"total"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			if page.Total != total || len(page.Items) != len(want) {
				t.Fatalf("%s: %d of %d loans, want %d", r, len(page.Items), page.Total, total)
			}
			for _, it := range page.Items {
				ref, _ := it["ref"].(string)
				if _, ok := keys[ref]; !ok || it["balance"] == nil || it["status"] == "" {
					t.Fatalf("%s: item %v", r, it)
				}
			}
			seesIDs := r.Can(reclaim.PermPortfolioRead)
			for _, it := range page.Items {
				id, has := it["loan_id"]
				if seesIDs && id != keys[it["ref"].(string)] {
					t.Errorf("%s: loan %v has loan_id %v, want %s", r, it["ref"], id, keys[it["ref"].(string)])
				}
				if !seesIDs && has {
					t.Errorf("%s may not see the tape's loan ids but got %v", r, id)
				}
			}
			// Not hidden under another name either: no loan key appears anywhere in the body.
			if !seesIDs {
				for _, k := range keys {
					if strings.Contains(string(b), `"`+k+`"`) {
						t.Fatalf("%s: the body holds the loan key %s", r, k)
					}
				}
			}
		}
		if res, b := f.as(reclaim.RoleInvestor).do("GET", "/api/v1/pools/NOPE/loans", ""); res.StatusCode != 404 {
			t.Errorf("unknown pool: %d %s", res.StatusCode, b)
		}
		if res, b := f.as(reclaim.RoleCollector).do("GET", "/api/v1/pools/P1/loans", ""); res.StatusCode != 403 {
			t.Errorf("a collector (no ledger.read) listed the pool's loans: %d %s", res.StatusCode, b)
		}
	})
}

// A collector (portfolio.read, collection.post, no ledger.read) finds the pool a portfolio's loans
// are in and posts a collection by the tape's loan id; the ledger carries the per-pool reference.
func TestCollectorPostsByTapeLoanID(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		col := f.as(reclaim.RoleCollector)
		res, b := col.do("GET", "/api/v1/portfolios/"+strconv.FormatInt(f.portfolio, 10)+"/pools", "")
		var pools []struct {
			Pool string `json:"pool"`
		}
		if json.Unmarshal(b, &pools); res.StatusCode != 200 || len(pools) != 1 || pools[0].Pool != "P1" {
			t.Fatalf("portfolio pools: %d %s", res.StatusCode, b)
		}
		if res, b := col.do("GET", "/api/v1/portfolios/999999/pools", ""); res.StatusCode != 404 {
			t.Errorf("unknown portfolio: %d %s", res.StatusCode, b)
		}
		if res, b := f.as(reclaim.RoleInvestor).do("GET", "/api/v1/portfolios/"+strconv.FormatInt(f.portfolio, 10)+"/pools", ""); res.StatusCode != 403 {
			t.Errorf("an investor read a portfolio's pools: %d %s", res.StatusCode, b)
		}
		ls, _, err := db.PoolLoans(context.Background(), "P1", 0, 1)
		if err != nil || len(ls) == 0 {
			t.Fatal(err)
		}
		body := `{"loan":"` + ls[0].LoanKey + `","amount":"12.34","channel":"bank_transfer","txn_id":"T-poolloans-1","effective":"2025-07-02"}`
		res, b = col.do("POST", "/api/v1/pools/P1/collections", body)
		if res.StatusCode != 201 {
			t.Fatalf("post by loan id: %d %s", res.StatusCode, b)
		}
		after, _, err := db.PoolLoans(context.Background(), "P1", 0, 1)
		if err != nil || after[0].Balance.Minor() != ls[0].Balance.Minor()-1234 {
			t.Fatalf("balance %v -> %v (%v)", ls[0].Balance, after[0].Balance, err)
		}
	})
}
