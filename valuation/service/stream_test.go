package service_test

import (
	"context"
	"reflect"
	"testing"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/valuation"
	"reclaim/valuation/service"
)

// TestStreamingEqualsInMemory runs, on each engine, the old in-memory path (LoadPortfolio, then
// valuation.Value over every loan) and the product's streaming path (PortfolioValuation, which
// reads the portfolio in batches, here of 37 loans) on the same stored portfolio with its
// repayment history, and asserts the valuations are equal field for field: on a portfolio of at
// most KeepLoans loans the streaming Monte Carlo is the loan-level one, path for path. With
// KeepLoans negative (the cohort Monte Carlo) everything but the simulated figures is still equal.
func TestStreamingEqualsInMemory(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		pid := importPortfolio(t, db, 400)
		m := model(t)
		s := service.New(db, service.Options{Batch: 37})
		card, err := s.SaveModel(ctx, "recovery", "test", m)
		if err != nil {
			t.Fatal(err)
		}
		ref := valuation.ModelRef{Name: card.Name, Version: card.Version}
		p, err := s.LoadPortfolio(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		want, err := valuation.Value(ctx, valuation.ValueInput{Model: m, ModelRef: ref, Loans: p.Inputs, AsOf: p.CutOffDate,
			Currency: p.Currency, Paths: 300, LitigationShare: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PortfolioValuation(ctx, pid, valuation.Request{Paths: 300, LitigationShare: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("streaming %+v\nin memory %+v", got.Price, want.Price)
		}
		cohorts := service.New(db, service.Options{Batch: 100, KeepLoans: -1})
		if _, err := cohorts.SaveModel(ctx, "recovery", "test", m); err != nil {
			t.Fatal(err)
		}
		c, err := cohorts.PortfolioValuation(ctx, pid, valuation.Request{Paths: 300, LitigationShare: 0.2, Model: "recovery@1"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Totals != want.Totals || c.Price.Price != want.Price.Price || !reflect.DeepEqual(c.PriceTable, want.PriceTable) ||
			!reflect.DeepEqual(c.TopLoans, want.TopLoans) || !reflect.DeepEqual(c.BottomLoans, want.BottomLoans) || c.IRRDistribution == nil {
			t.Errorf("cohort Monte Carlo: the deterministic figures differ: %+v vs %+v", c.Totals, want.Totals)
		}
	})
}

// TestStreamLoanBatches: the batches, whatever their size, are the loans of StreamLoans in the
// same order with the histories of StreamRepayments; without history every history is nil; an
// unknown portfolio is ENOTFOUND and fn's error stops the stream.
func TestStreamLoanBatches(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		pid := importPortfolio(t, db, 250)
		var loans []reclaim.Loan
		if err := db.StreamLoans(ctx, pid, func(l *reclaim.Loan) error { loans = append(loans, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		hist := map[string][]reclaim.Repayment{}
		if err := db.StreamRepayments(ctx, pid, func(r *reclaim.Repayment) error { hist[r.LoanID] = append(hist[r.LoanID], *r); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 7, 250, 251, 0} {
			var got []reclaim.Loan
			calls, withHist := 0, 0
			err := db.StreamLoanBatches(ctx, pid, size, true, func(ls []reclaim.Loan, hs [][]reclaim.Repayment) error {
				calls++
				if len(ls) != len(hs) || (size > 0 && len(ls) > size) {
					t.Fatalf("size %d: a batch of %d loans and %d histories", size, len(ls), len(hs))
				}
				for i, l := range ls {
					if !reflect.DeepEqual(hs[i], hist[l.LoanID]) {
						t.Fatalf("size %d: loan %s: history %v, want %v", size, l.LoanID, hs[i], hist[l.LoanID])
					}
					if hs[i] != nil {
						withHist++
					}
				}
				got = append(got, ls...)
				return nil
			})
			if err != nil || !reflect.DeepEqual(got, loans) || withHist != len(hist) || withHist == 0 {
				t.Errorf("size %d: %d loans in %d batches (%d with history of %d), %v", size, len(got), calls, withHist, len(hist), err)
			}
		}
		err := db.StreamLoanBatches(ctx, pid, 100, false, func(ls []reclaim.Loan, hs [][]reclaim.Repayment) error {
			for _, h := range hs {
				if h != nil {
					t.Error("a history without withHistory")
				}
			}
			return errStop
		})
		if err != errStop {
			t.Errorf("fn's error: %v", err)
		}
		if err := db.StreamLoanBatches(ctx, 9999, 10, true, nil); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown portfolio: %v", err)
		}
	})
}

var errStop = reclaim.Errorf(reclaim.ECONFLICT, "stop")
