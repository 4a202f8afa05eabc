package sqldb_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"reclaim"
	"reclaim/auction"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestMarketDepositRaceTwoNodes: two app nodes (two database handles, each with its own
// market, as two server processes would have) freeze one organisation's deposit for many
// auctions at the same instant. The account holds exactly `affordable` deposits: exactly that
// many freezes succeed, the others are refused with the deposit rule, the account is never
// frozen beyond its balance, and every movement is recorded (the account row equals the sum
// of the movements, and each accepted deposit event has its freeze).
func TestMarketDepositRaceTwoNodes(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		const auctions, affordable, rounds = 12, 5, 3
		for round := 0; round < rounds; round++ {
			t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
				db1 := sqldbtest.Open(t, dsn)
				db2 := sqldbtest.Open(t, dsn)
				clock := newTestClock(t0.Add(time.Minute))
				m1 := db1.NewMarket(sqldb.MarketOptions{Now: clock.Now, CloseEvery: -1})
				defer m1.Close()
				m2 := db2.NewMarket(sqldb.MarketOptions{Now: clock.Now, CloseEvery: -1})
				defer m2.Close()
				nodes := []*sqldb.Market{m1, m2}

				admin := userCtx(t, db1, fmt.Sprintf("admin%d", round), reclaim.RoleAdmin)
				bidder := userCtx(t, db1, fmt.Sprintf("racer%d", round), reclaim.RoleBidder)
				org, err := m1.RegisterOrg(bidder, market.OrgSpec{Name: fmt.Sprintf("Racing AMC %d", round), LicenceType: "amc_local", Documents: []string{"licence.pdf"}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := m1.DecideOrg(admin, org.ID, true, ""); err != nil {
					t.Fatal(err)
				}
				spec := englishSpec()
				dep := spec.Deposit
				total, _ := dep.Mul(affordable)
				if _, err := m2.CreditDeposit(admin, org.ID, total, "wire"); err != nil {
					t.Fatal(err)
				}
				ids := make([]int64, auctions)
				for i := range ids {
					spec.Title = fmt.Sprintf("Flat %d-%d", round, i)
					a, err := m1.CreateAuction(admin, spec)
					if err != nil {
						t.Fatal(err)
					}
					if err := nodes[i%2].Register(bidder, a.ID); err != nil {
						t.Fatal(err)
					}
					ids[i] = a.ID
				}

				start := make(chan struct{})
				var wg sync.WaitGroup
				var mu sync.Mutex
				won, refused := 0, 0
				for i, id := range ids {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						var rc market.BidReceipt
						var err error
						for try := 0; ; try++ {
							rc, err = nodes[i%2].FreezeDeposit(bidder, id)
							if reclaim.ErrorCode(err) == reclaim.EUNAVAILABLE && try < 20 {
								continue // a busy or stale node: the same request again
							}
							break
						}
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil && rc.Accepted:
							won++
						case reclaim.ErrorCode(err) == reclaim.EINVALID:
							refused++
						default:
							t.Errorf("auction %d: unexpected answer %+v %v", id, rc, err)
						}
					}()
				}
				close(start)
				wg.Wait()
				if won != affordable || refused != auctions-affordable {
					t.Fatalf("%d freezes succeeded and %d were refused; want %d and %d", won, refused, affordable, auctions-affordable)
				}

				acc, err := m2.Account(admin, org.ID)
				if err != nil {
					t.Fatal(err)
				}
				var bal, frozen, freezes int64
				for _, mv := range acc.Movements {
					switch mv.Kind {
					case market.MoveCredit:
						bal += mv.Amount.Minor()
					case market.MoveFreeze:
						frozen += mv.Amount.Minor()
						freezes++
					default:
						t.Errorf("unexpected movement %+v", mv)
					}
				}
				if freezes != affordable || frozen != total.Minor() || bal != total.Minor() {
					t.Fatalf("movements: %d freezes of %d minor, balance %d; want %d freezes of %d", freezes, frozen, bal, affordable, total.Minor())
				}
				if acc.Balance != total || !acc.Frozen.Equal(total) || acc.Available.Sign() != 0 {
					t.Fatalf("account %+v: want balance and frozen %s, nothing available", acc, total)
				}
				// Each accepted deposit event stored has its freeze, and no other auction has one.
				deposited := 0
				for _, id := range ids {
					eng, err := m1.RestoreAuction(admin, id)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range eng.History() {
						if r.Event.Type == auction.Deposit && r.Result.Accepted {
							deposited++
						}
					}
				}
				if deposited != affordable {
					t.Fatalf("%d accepted deposit events stored, want %d", deposited, affordable)
				}
				// The refusals are on the record.
				refusals := 0
				for _, id := range ids {
					at, err := m1.Attempts(admin, id, 100)
					if err != nil {
						t.Fatal(err)
					}
					for _, a := range at {
						if a.Action == "deposit" {
							refusals++
						}
					}
				}
				if refusals < auctions-affordable {
					t.Fatalf("%d refusals recorded, want at least %d", refusals, auctions-affordable)
				}
			})
		}
	})
}
