package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"reclaim"
	"reclaim/sqldb/sqldbtest"
)

// TestMaskedTapeRefusedWhenUnsafe: asked for every row (suppress=false), a bidder tape that fails
// k-anonymity is refused with an error and no CSV; by default the small classes are left out.
func TestMaskedTapeRefusedWhenUnsafe(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	c := f.as(reclaim.RoleAnalyst)
	path := fmt.Sprintf("/api/v1/portfolios/%d/masked-tape.csv", f.portfolio)
	res, b := c.do("POST", path, `{"recipient": "bidder-k", "k": 100, "suppress": false}`)
	if res.StatusCode != 400 || errorCode(b) != reclaim.EINVALID || !strings.Contains(string(b), "k-anonymity") ||
		strings.Contains(res.Header.Get("Content-Type"), "csv") {
		t.Fatalf("unsafe tape: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), truncate(b))
	}
	res, b = c.do("POST", path, `{"recipient": "bidder-k", "k": 100}`)
	if res.StatusCode != 200 || !strings.Contains(string(b), "masked_loan_id") {
		t.Fatalf("default (suppressed) tape: %d %s", res.StatusCode, truncate(b))
	}
}
