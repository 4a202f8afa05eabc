package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// The demo's marketplace: two approved organisations with credited deposits and a bidder account
// each, one pending (demo-bidder2 listed in demo-accounts.txt), a live auction with two opening bids, a sold
// and paid auction whose bids extended its end, and a real-estate listing in its notice period;
// a second run adds nothing. On SQLite and PostgreSQL.
func TestDemoMarket(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := filepath.Join(t.TempDir(), "data")
		g := []string{"--data-dir", dir, "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		for run := 1; run <= 2; run++ {
			if out, errOut, code := cli(t, append(g, "demo", "--loans", "600", "--no-serve")...); code != exitOK {
				t.Fatalf("demo run %d: %d\n%s\n%s", run, code, out, errOut)
			}
		}
		if accounts := readFile(t, filepath.Join(dir, "demo-accounts.txt")); strings.Count(accounts, "\ndemo-bidder2 ") != 1 {
			t.Fatalf("demo-accounts.txt lists demo-bidder2 %d times:\n%s", strings.Count(accounts, "\ndemo-bidder2 "), accounts)
		}
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		m := db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
		defer m.Close()
		admin, err := db.UserByUsername(ctx, "demo-admin")
		if err != nil {
			t.Fatal(err)
		}
		actx := reclaim.WithUser(ctx, &admin)
		orgs, err := m.Orgs(actx)
		if err != nil {
			t.Fatal(err)
		}
		if len(orgs) != 3 {
			t.Fatalf("%d organisations, want 3", len(orgs))
		}
		for _, o := range orgs {
			if o.Name == demoPendingOrg {
				if o.Status != market.OrgPending {
					t.Errorf("%s is %s, want pending", o.Name, o.Status)
				}
				continue
			}
			acc, err := m.Account(actx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != market.OrgApproved || acc.Balance.Minor() != 500_000_000 || acc.Frozen.Sign() <= 0 {
				t.Errorf("%s: status %s, balance %s, frozen %s; want approved, 5000000.00, a frozen deposit", o.Name, o.Status, acc.Balance, acc.Frozen)
			}
		}
		for _, name := range []string{"demo-bidder", demoBidder2} {
			u, err := db.UserByUsername(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.OrgOfUser(actx, u.ID); err != nil {
				t.Errorf("%s acts for no organisation: %v", name, err)
			}
		}
		all, err := m.Auctions(actx, 0)
		if err != nil {
			t.Fatal(err)
		}
		byTitle := map[string]market.Auction{}
		for _, a := range all {
			if _, dup := byTitle[a.Title]; dup {
				t.Errorf("auction %q listed twice", a.Title)
			}
			byTitle[a.Title] = a
		}
		if len(all) != 3 {
			t.Fatalf("%d auctions, want 3", len(all))
		}
		live, done, collat := byTitle[demoLiveTitle], byTitle[demoFinishedTitle], byTitle[demoCollatTitle]
		if st, err := m.State(actx, live.ID); err != nil || live.Status != market.StatusOpen || live.Kind != "npl_package" || len(st.View.Bids) != 2 {
			t.Errorf("live auction: %s %s, state %+v %v", live.Status, live.Kind, st.View, err)
		}
		res, err := m.Result(actx, done.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != market.StatusSold || len(res.Bids) != 6 || res.Settlement == nil || res.Settlement.Status != market.SettlePaid {
			t.Errorf("finished auction: %s, %d bids, settlement %+v", done.Status, len(res.Bids), res.Settlement)
		}
		if spec := done.Start.Add(24 * 60 * 60e9); !done.Outcome.End.After(spec) {
			t.Errorf("finished auction ended %s: its late bids did not extend the end %s", done.Outcome.End, spec)
		}
		if collat.Status != market.StatusOpen || collat.Kind != "real_estate" || collat.Start.Before(collat.NoticeAt.Add(30*24*60*60e9)) {
			t.Errorf("collateral listing: %s %s notice %s start %s", collat.Status, collat.Kind, collat.NoticeAt, collat.Start)
		}
	})
}
