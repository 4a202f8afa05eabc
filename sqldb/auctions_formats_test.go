package sqldb_test

import (
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestMarketDutchListing: a Dutch auction is listed through the marketplace API with its price
// schedule (the wizard offers every format of the pack); without a schedule, or with one on
// another format, or with an absurd step, the listing is refused and nothing is stored. A
// bidder accepts at the scheduled price and the engine sells at once.
func TestMarketDutchListing(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		spec := englishSpec()
		spec.Format, spec.Increment = "dutch", yuan(0)
		f := newMarketFixture(t, db, 0, englishSpec())
		bad := []struct {
			name string
			mod  func(s *market.ListingSpec)
			want string
		}{
			{"no schedule", func(s *market.ListingSpec) {}, "needs a price schedule"},
			{"schedule on english", func(s *market.ListingSpec) {
				s.Format = "english"
				s.Increment = yuan(10_000)
				s.Dutch = &market.DutchSpec{Step: yuan(10_000), EverySeconds: 600}
			}, "only for the dutch format"},
			{"floor above start", func(s *market.ListingSpec) {
				s.Dutch = &market.DutchSpec{Step: yuan(10_000), EverySeconds: 600, Floor: yuan(800_000)}
			}, "floor"},
			{"zero step", func(s *market.ListingSpec) { s.Dutch = &market.DutchSpec{Step: yuan(0), EverySeconds: 600} }, "positive step"},
			{"absurd step", func(s *market.ListingSpec) {
				s.Dutch = &market.DutchSpec{Step: yuan(2_000_000_000_000), EverySeconds: 600}
			}, "out of range"},
		}
		before, _ := f.m.Auctions(f.admin, 0)
		for _, b := range bad {
			s := spec
			b.mod(&s)
			_, err := f.m.CreateAuction(f.admin, s)
			if reclaim.ErrorCode(err) != reclaim.EINVALID || !strings.Contains(err.Error(), b.want) {
				t.Fatalf("%s: %v (want EINVALID naming %q)", b.name, err, b.want)
			}
		}
		if after, _ := f.m.Auctions(f.admin, 0); len(after) != len(before) {
			t.Fatalf("a refused listing was stored: %d auctions, %d before", len(after), len(before))
		}
		spec.Dutch = &market.DutchSpec{Step: yuan(10_000), EverySeconds: 600, Floor: yuan(650_000)}
		a, err := f.m.CreateAuction(f.admin, spec)
		if err != nil {
			t.Fatal(err)
		}
		if a.Format != "dutch" {
			t.Fatalf("format %q", a.Format)
		}
		ctx := userCtx(t, db, "dutch-bidder", reclaim.RoleBidder)
		o, err := f.m.RegisterOrg(ctx, market.OrgSpec{Name: "Dutch AMC", LicenceType: "amc_local", Documents: []string{"licence.pdf"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.DecideOrg(f.admin, o.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.CreditDeposit(f.admin, o.ID, yuan(100_000), "wire"); err != nil {
			t.Fatal(err)
		}
		if err := f.m.Register(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if rc, err := f.m.FreezeDeposit(ctx, a.ID); err != nil || !rc.Accepted {
			t.Fatalf("deposit: %+v %v", rc, err)
		}
		// 25 minutes after the start: two steps down from 700,000.
		f.clock.Set(t0.Add(25 * time.Minute))
		rc, err := f.m.PlaceBid(ctx, a.ID, market.BidRequest{Type: "accept", Key: "take-it"})
		if err != nil || !rc.Accepted {
			t.Fatalf("accept: %+v %v", rc, err)
		}
		if rc.Price != yuan(680_000) {
			t.Fatalf("accepted at %s, want 680000.00 (two steps of 10,000 below the start)", rc.Price)
		}
	})
}
