package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// BenchmarkMarketBids measures the store's bid path without HTTP: 100 bidders on 10 auctions
// bid concurrently (each bid durable before it returns). It reports bids/s and the group-commit
// factor (records per transaction).
//
//	go test ./sqldb -run XXX -bench MarketBids -benchtime 3000x
func BenchmarkMarketBids(b *testing.B) {
	for _, engine := range []string{sqldb.SQLite, sqldb.Postgres} {
		b.Run(engine, func(b *testing.B) {
			var db *sqldb.DB
			if engine == sqldb.SQLite {
				db = sqldbtest.OpenSQLite(b)
			} else {
				db = sqldbtest.Open(b, sqldbtest.PostgresDSN(b))
			}
			f := benchFixture(b, db, 100, 10)
			var n atomic.Int64
			before := f.m.Stats()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i, ctx := range f.bidders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					aid := f.auctions[i%len(f.auctions)]
					for k := 0; n.Add(1) <= int64(b.N); k++ {
						if _, err := f.m.PlaceBid(ctx, aid, market.BidRequest{Amount: yuan(int64(700_000 + 10_000*(k+1)*(i+1))), Key: fmt.Sprintf("%d-%d", i, k)}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			st := f.m.Stats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "bids/s")
			if d := st.Batches - before.Batches; d > 0 {
				b.ReportMetric(float64(st.Records-before.Records)/float64(d), "records/txn")
			}
		})
	}
}

type benchMarket struct {
	m        *sqldb.Market
	bidders  []context.Context
	auctions []int64
}

func benchFixture(b *testing.B, db *sqldb.DB, nBidders, nAuctions int) *benchMarket {
	b.Helper()
	clock := newTestClock(t0.Add(time.Minute))
	m := db.NewMarket(sqldb.MarketOptions{Now: clock.Now, CloseEvery: -1})
	b.Cleanup(m.Close)
	admin := userCtx(b, db, "admin", reclaim.RoleAdmin)
	f := &benchMarket{m: m}
	for i := 0; i < nAuctions; i++ {
		spec := englishSpec()
		spec.Deposit = yuan(0)
		a, err := m.CreateAuction(admin, spec)
		if err != nil {
			b.Fatal(err)
		}
		f.auctions = append(f.auctions, a.ID)
	}
	for i := 0; i < nBidders; i++ {
		ctx := userCtx(b, db, fmt.Sprintf("b%d", i), reclaim.RoleBidder)
		o, err := m.RegisterOrg(ctx, market.OrgSpec{Name: fmt.Sprintf("AMC %d", i), LicenceType: "amc_local"})
		if err != nil {
			b.Fatal(err)
		}
		m.DecideOrg(admin, o.ID, true, "")
		if err := m.Register(ctx, f.auctions[i%nAuctions]); err != nil {
			b.Fatal(err)
		}
		if _, err := m.FreezeDeposit(ctx, f.auctions[i%nAuctions]); err != nil {
			b.Fatal(err)
		}
		f.bidders = append(f.bidders, ctx)
	}
	return f
}
