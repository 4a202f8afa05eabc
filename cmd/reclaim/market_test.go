package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestMarketCLI: the operator's marketplace commands on both engines: the no-resale flag,
// qualification, credits, linking, the listing of organisations and a bid history's encoding.
func TestMarketCLI(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "20", "--seed", "5", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank M")...); code != exitOK {
			t.Fatalf("import: %s", errOut)
		}
		if out, errOut, code := cli(t, append(g, "market", "acquired", "1")...); code != exitOK || !strings.Contains(out, "acquired=true") {
			t.Fatalf("acquired: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := cli(t, append(g, "user", "add", "buyer", "--role", "bidder", "--password", "Kite-Harbour-Lemon-7319", "--must-change=false")...); code != exitOK {
			t.Fatalf("user add: %s", errOut)
		}
		// An organisation registered through the store (as the API does).
		ctx := context.Background()
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := db.NewMarket(sqldb.MarketOptions{CloseEvery: -1})
		o, err := m.RegisterOrg(reclaim.WithActor(ctx, "test"), market.OrgSpec{Name: "CLI AMC", LicenceType: "amc_local"})
		m.Close()
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		id := func() string { return itoa64(o.ID) }
		if out, errOut, code := cli(t, append(g, "market", "reject", id())...); code == exitOK {
			t.Fatalf("reject without a reason: %s %s", out, errOut)
		}
		if out, errOut, code := cli(t, append(g, "market", "approve", id())...); code != exitOK || !strings.Contains(out, "approved") {
			t.Fatalf("approve: %d %s %s", code, out, errOut)
		}
		if out, errOut, code := cli(t, append(g, "market", "credit", id(), "50000.00", "--note", "WIRE-1")...); code != exitOK || !strings.Contains(out, "available 50000.00") {
			t.Fatalf("credit: %d %s %s", code, out, errOut)
		}
		if _, errOut, code := cli(t, append(g, "market", "credit", id(), "-5")...); code == exitOK {
			t.Fatalf("a negative credit was taken: %s", errOut)
		}
		if _, errOut, code := cli(t, append(g, "market", "link", id(), "buyer")...); code != exitOK {
			t.Fatalf("link: %s", errOut)
		}
		out, _, code := cli(t, append(g, "market", "orgs", "--json")...)
		var orgs []market.Org
		if err := json.Unmarshal([]byte(out), &orgs); err != nil || code != exitOK || len(orgs) != 1 || orgs[0].Status != market.OrgApproved {
			t.Fatalf("orgs: %d %v %s", code, err, out)
		}
		if out, errOut, code := cli(t, append(g, "market", "history", "99")...); code == exitOK {
			t.Fatalf("history of an unknown auction: %s %s", out, errOut)
		}
		if out, _, code := cli(t, append(g, "market", "close-due")...); code != exitOK || !strings.Contains(out, "0 auction(s) closed") {
			t.Fatalf("close-due: %d %s", code, out)
		}
	})
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
