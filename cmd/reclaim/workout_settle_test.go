package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// TestSettleCLI: 'workout offers' lists an offer waiting for its checker (a bad --status is a
// usage error), 'workout check-commitments' expires it after its expiry date, and 'workout plans'
// prints a case's schedule.
func TestSettleCLI(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		t.Setenv("RECLAIM_BLIND_KEY", "")
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		if _, errOut, code := cli(t, append(g, "synth", "--loans", "20", "--seed", "3", "--out", tp)...); code != exitOK {
			t.Fatalf("synth: %s", errOut)
		}
		out, errOut, code := cli(t, append(g, "tape", "import", tp, "--seller", "Bank S", "--json")...)
		if code != exitOK {
			t.Fatalf("import: %s %s", out, errOut)
		}
		var rep struct {
			PortfolioID int64 `json:"portfolio_id"`
		}
		json.Unmarshal([]byte(out), &rep)
		if _, errOut, code := cli(t, append(g, "workout", "board", strconv.FormatInt(rep.PortfolioID, 10), "--price", "1000", "--date", "2026-03-02")...); code != exitOK {
			t.Fatalf("board: %s", errOut)
		}
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cs, err := db.ListCases(ctx, sqldb.CaseFilter{Limit: 1})
		if err != nil || len(cs) == 0 {
			t.Fatal(err)
		}
		o, err := db.ProposeOffer(ctx, cs[0].ID, func(claim money.Amount) (workout.SettlementOffer, error) {
			x, err := workout.OfferAt(claim, 0.5)
			return workout.SettlementOffer{Claim: claim, Amount: x.Amount, Waived: x.Waived, Discount: x.Discount, Status: workout.OfferProposed,
				Maker: "alice", MakerRole: "collector", CheckerRole: "collection_manager", ExpiresOn: date.Of(2026, 4, 1), PayBy: date.Of(2026, 5, 1)}, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, code := cli(t, append(g, "workout", "offers", "--status", "maybe")...); code != exitUsage {
			t.Fatalf("bad status: exit %d", code)
		}
		out, errOut, code = cli(t, append(g, "workout", "offers", "--status", "proposed")...)
		if code != exitOK || !strings.Contains(out, "offer "+strconv.FormatInt(o.ID, 10)) || !strings.Contains(out, "checker collection_manager") {
			t.Fatalf("offers: %d %s %s", code, out, errOut)
		}
		if _, _, code := cli(t, append(g, "workout", "check-commitments", "--as-of", "April")...); code != exitUsage {
			t.Fatalf("bad --as-of: exit %d", code)
		}
		out, errOut, code = cli(t, append(g, "workout", "check-commitments", "--as-of", "2026-04-02", "--json")...)
		var res workout.CommitmentCheck
		if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || len(res.OffersExpired) != 1 || res.OffersExpired[0] != o.ID {
			t.Fatalf("check: %d %s %s", code, out, errOut)
		}
		plan, _ := workout.NewPlan("", money.Yuan(30), date.Of(2026, 1, 31), 3, money.Amount{})
		if _, err := db.CreatePlan(ctx, cs[0].ID, plan, 3, date.Of(2026, 1, 1), "alice"); err != nil {
			t.Fatal(err)
		}
		out, errOut, code = cli(t, append(g, "workout", "plans", workout.CaseRef(cs[0].ID))...)
		if code != exitOK || !strings.Contains(out, "2026-02-28") || !strings.Contains(out, "2026-03-31") {
			t.Fatalf("plans: %d %s %s", code, out, errOut)
		}
	})
}
