package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"reclaim/sqldb"
)

// scaleTargets returns the routes of the portfolio page at scale (issue 17 item 3). It first asks
// for the portfolio's loan count and one loan id, and for the valuation once with a long timeout
// (the first request computes it unless it was stored, by `reclaim value` or an earlier server),
// printing how long that took; the measured requests then read it as the console does.
func scaleTargets(ctx context.Context, hc *http.Client, base string, db *sqldb.DB, id int64, valTimeout time.Duration, withValuation bool) []target {
	var p struct {
		LoanCount int64 `json:"loan_count"`
	}
	getJSON(hc, fmt.Sprintf("%s/api/v1/portfolios/%d", base, id), &p, time.Minute)
	if p.LoanCount == 0 {
		fail("the portfolio has no loans")
	}
	mid, last := p.LoanCount/2, p.LoanCount-50
	var page struct {
		Items []struct {
			LoanID string `json:"loan_id"`
		} `json:"items"`
	}
	getJSON(hc, fmt.Sprintf("%s/api/v1/portfolios/%d/loans?offset=%d&limit=50", base, id, mid), &page, time.Minute)
	if len(page.Items) == 0 {
		fail("no loans in the middle page")
	}
	loan := page.Items[0].LoanID
	if withValuation {
		t0 := time.Now()
		var v map[string]any
		getJSON(hc, fmt.Sprintf("%s/api/v1/portfolios/%d/valuation", base, id), &v, valTimeout)
		fmt.Printf("first valuation request: %.2f s (computed now unless stored before)\n", time.Since(t0).Seconds())
	}
	loansDirect := func(off int64) func() error {
		return func() error { _, _, err := db.LoansPage(ctx, id, int(off), 50); return err }
	}
	ts := []target{
		{"portfolio", fmt.Sprintf("/api/v1/portfolios/%d", id), func() error { _, err := db.GetPortfolio(ctx, id); return err }},
		{"import report", fmt.Sprintf("/api/v1/portfolios/%d/report", id), func() error { _, err := db.PortfolioReportJSON(ctx, id); return err }},
		{"portfolio pools", fmt.Sprintf("/api/v1/portfolios/%d/pools", id), nil},
		{"loans first page", fmt.Sprintf("/api/v1/portfolios/%d/loans?offset=0&limit=50", id), loansDirect(0)},
		{"loans middle page", fmt.Sprintf("/api/v1/portfolios/%d/loans?offset=%d&limit=50", id, mid), loansDirect(mid)},
		{"loans last page", fmt.Sprintf("/api/v1/portfolios/%d/loans?offset=%d&limit=50", id, last), loansDirect(last)},
		{"loans after (keyset)", fmt.Sprintf("/api/v1/portfolios/%d/loans?after=%s&limit=50", id, url.QueryEscape(loan)),
			func() error { _, _, err := db.LoansPageAfter(ctx, id, loan, 50); return err }},
		{"valuation", fmt.Sprintf("/api/v1/portfolios/%d/valuation", id), nil},
		{"loan valuation", fmt.Sprintf("/api/v1/portfolios/%d/loans/%s/valuation", id, url.PathEscape(loan)), nil},
		{"models", "/api/v1/models", nil},
	}
	if !withValuation {
		ts = ts[:len(ts)-3]
	}
	if db == nil {
		for i := range ts {
			ts[i].direct = nil
		}
	}
	return ts
}

// getJSON GETs a URL with a timeout of its own and decodes the answer, or fails.
func getJSON(hc *http.Client, u string, out any, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	c := *hc
	c.Timeout = timeout
	res, err := c.Do(req)
	if err != nil {
		fail(err.Error())
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		fail(fmt.Sprintf("%s: %s", u, res.Status))
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		fail(fmt.Sprintf("%s: %v", u, err))
	}
}
