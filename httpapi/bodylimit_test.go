package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestBodyLimitsPerRoute: a route registered with a larger body limit than the API's 1 MiB gets
// it at the front too. A 3 MiB listing photo is stored (the store takes up to 8 MiB) and a 9 MiB
// one refused with 413; a 2 MiB statement upload reaches its handler (refused there as a body
// that is not multipart, 400, not 413 at the front, which took every statement over 1 MiB); a 2
// MiB JSON body to any other route is still 413. Both engines.
func TestBodyLimitsPerRoute(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		admin := f.as(reclaim.RoleAdmin)
		now := time.Now().UTC()
		spec := market.ListingSpec{Title: "Repossessed van", Pack: "marketplace", Format: "english", Kind: "movable",
			Appraisal: mustAmt("80000.00"), StartPrice: mustAmt("60000.00"), Increment: mustAmt("1000.00"),
			NoticeAt: now.Add(-72 * time.Hour), Start: now.Add(time.Hour), End: now.Add(3 * time.Hour)}
		a := createAuction(t, admin, spec)
		path := fmt.Sprintf("/api/v1/market/auctions/%d/files", a.ID)
		photo := func(n int) string { return "\x89PNG\r\n\x1a\n" + strings.Repeat("x", n-8) }
		if res, b := admin.do("POST", path+"?name=side.png", photo(3<<20), "Content-Type", "image/png"); res.StatusCode != 201 {
			t.Errorf("3 MiB photo: %d %.200s", res.StatusCode, b)
		}
		if res, b := admin.do("POST", path+"?name=huge.png", photo(9<<20), "Content-Type", "image/png"); res.StatusCode != 413 || errorCode(b) != reclaim.ETOOLARGE {
			t.Errorf("9 MiB photo: %d %.200s, want 413 too_large", res.StatusCode, b)
		}
		if res, b := admin.do("POST", path+"/x?name=side.png", photo(3<<20), "Content-Type", "image/png"); res.StatusCode != 413 {
			t.Errorf("3 MiB to a path below the files route: %d %.200s, want 413", res.StatusCode, b)
		}
		res, b := admin.do("POST", "/api/v1/payments/statements", strings.Repeat("x", 2<<20), "Content-Type", "text/csv")
		if res.StatusCode != 400 {
			t.Errorf("2 MiB statement body: %d %.200s, want 400 (not multipart), not 413", res.StatusCode, b)
		}
		res, b = admin.do("POST", "/api/v1/users", `{"username":"`+strings.Repeat("a", 2<<20)+`"}`)
		if res.StatusCode != 413 {
			t.Errorf("2 MiB JSON body: %d %.200s, want 413", res.StatusCode, b)
		}
	})
}

// createAuction lists spec through the API as c (an admin or analyst) and returns the auction;
// anything but 201 fails the test.
func createAuction(t *testing.T, c *client, spec market.ListingSpec) market.Auction {
	t.Helper()
	sb, _ := json.Marshal(spec)
	res, b := c.do("POST", "/api/v1/market/auctions", string(sb))
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, b)
	}
	return decode[market.Auction](t, b)
}
