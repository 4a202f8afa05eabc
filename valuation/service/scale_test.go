package service_test

import (
	"context"
	"encoding/json"
	"reflect"
	"runtime"
	"testing"

	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
	"reclaim/valuation"
	"reclaim/valuation/service"
)

// postCollections opens a pool on the portfolio and posts a collection on every second of its
// first 60 loans, over two months after the cut-off.
func postCollections(t *testing.T, db *sqldb.DB, pid int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "BTS", Origin: "test.example/ledger/BTS", PortfolioID: pid, Effective: date.Of(2025, 7, 1)}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := db.Sequence(ctx, "BTS", 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	pl, _, err := db.PoolLoans(ctx, "BTS", 0, 60)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range pl {
		amt := l.Balance.Minor() / 7
		if amt <= 0 || i%2 == 1 {
			continue
		}
		if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "BTS", LoanRef: l.Ref, Amount: money.New(amt, "CNY"),
			Channel: verify.ChannelBankTransfer, TxnID: "BTS-" + l.Ref, Effective: date.Of(2025, 7, 12).AddMonths(i % 3), PostedBy: "t"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackTestStreamEqualsInMemory: the streaming back-test (batches of 37 loans, and of 1,000)
// equals, figure for figure, the back-test over the whole portfolio loaded at once, with a
// seasoned history and a pool's collections; and while it streams the live heap stays far
// below what holding the portfolio takes.
func TestBackTestStreamEqualsInMemory(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		pid := importPortfolio(t, db, 1500)
		postCollections(t, db, pid)
		ref := service.New(db, service.Options{})
		if _, err := ref.SaveModel(ctx, "recovery", "test", model(t)); err != nil {
			t.Fatal(err)
		}
		want, wref, err := ref.BackTestInMemory(ctx, pid, "")
		if err != nil {
			t.Fatal(err)
		}
		if want.Months < 2 || want.Total.Actual <= 0 || want.Total.Loans != 1500 {
			t.Fatalf("the reference back-test compares nothing: %+v", want.Total)
		}
		wj, _ := json.Marshal(want)
		for _, batch := range []int{37, 1000} {
			// The live heap after a collection, at every batch.
			var peak, first uint64
			var ms runtime.MemStats
			s := service.New(db, service.Options{Batch: batch, Progress: func(stage string, done, total int) {
				if stage != "scoring" || batch != 37 {
					return
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				if first == 0 {
					first = ms.HeapAlloc
				}
				peak = max(peak, ms.HeapAlloc)
			}})
			got, gref, err := s.BackTest(ctx, pid, "")
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			if string(gj) != string(wj) || gref != wref {
				t.Errorf("batch %d: streamed %s\nin memory %s", batch, gj, wj)
			}
			if batch != 37 {
				continue
			}
			// What holding the portfolio costs: the in-memory path's loaded inputs.
			runtime.GC()
			runtime.ReadMemStats(&ms)
			before := ms.HeapAlloc
			p, err := ref.LoadPortfolio(ctx, pid)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			held := int64(ms.HeapAlloc) - int64(before)
			runtime.KeepAlive(p)
			if growth := int64(peak) - int64(first); held <= 0 || growth > held/4 {
				t.Errorf("streaming grew the live heap by %d bytes over its batches; the whole portfolio takes %d", growth, held)
			}
			t.Logf("%s: live heap grew %d bytes while streaming; the loaded portfolio holds %d", db.Dialect(), int64(peak)-int64(first), held)
		}
	})
}

// TestStoredValuation: a service that stores valuations (the server's) answers a second service
// (a restarted server) from the database with the same valuation, without computing; a request
// with other parameters is computed; a service that does not read stored ones computes.
func TestStoredValuation(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		pid := importPortfolio(t, db, 300)
		stages := 0
		count := func(stage string, done, total int) {
			if stage == "scoring" {
				stages++
			}
		}
		first := service.New(db, service.Options{ReadStored: true, WriteStored: true, Progress: count})
		if _, err := first.SaveModel(ctx, "recovery", "test", model(t)); err != nil {
			t.Fatal(err)
		}
		req := valuation.Request{Paths: 100}
		want, err := first.PortfolioValuation(ctx, pid, req)
		if err != nil {
			t.Fatal(err)
		}
		if stages == 0 {
			t.Fatal("the first valuation was not computed")
		}
		stages = 0
		restarted := service.New(db, service.Options{ReadStored: true, WriteStored: true, Progress: count})
		got, err := restarted.PortfolioValuation(ctx, pid, req)
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if stages != 0 || string(wj) != string(gj) {
			t.Errorf("restarted: %d scoring reports; stored %s\ncomputed %s", stages, gj, wj)
		}
		if !reflect.DeepEqual(got.Price, want.Price) || got.Loans != 300 {
			t.Errorf("decoded price %+v, want %+v", got.Price, want.Price)
		}
		if _, err := restarted.PortfolioValuation(ctx, pid, valuation.Request{Paths: 100, TargetIRR: 0.25}); err != nil || stages == 0 {
			t.Errorf("other parameters: %d scoring reports, %v", stages, err)
		}
		stages = 0
		cli := service.New(db, service.Options{WriteStored: true, Progress: count})
		if _, err := cli.PortfolioValuation(ctx, pid, req); err != nil || stages == 0 {
			t.Errorf("a service that does not read stored valuations: %d scoring reports, %v", stages, err)
		}
		var n int
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM valuation_results WHERE portfolio_id = ?`, pid).Scan(&n)
		}); err != nil || n != 2 {
			t.Errorf("%d stored valuations, want 2 (%v)", n, err)
		}
	})
}
