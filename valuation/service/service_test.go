package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tlog/verify"
	"reclaim/valuation"
	"reclaim/valuation/service"
)

var trained struct {
	once sync.Once
	m    *valuation.RecoveryModel
	err  error
}

func model(t *testing.T) *valuation.RecoveryModel {
	t.Helper()
	trained.once.Do(func() {
		s, err := synth.NewSeasoned(synth.Config{Seed: 3, Loans: 3000, PortfolioRef: "TRAIN", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}, 12)
		if err != nil {
			trained.err = err
			return
		}
		tab, err := valuation.BuildSeasoned(s, valuation.CN(), valuation.TableOptions{})
		if err != nil {
			trained.err = err
			return
		}
		trained.m, trained.err = valuation.TrainRecoveryModel(context.Background(), tab, valuation.TrainOptions{Trees: 40}, nil)
	})
	if trained.err != nil {
		t.Fatal(trained.err)
	}
	return trained.m
}

// importPortfolio writes a synthetic tape with its history and imports it.
func importPortfolio(t *testing.T, db *sqldb.DB, loans int) int64 {
	t.Helper()
	dir := t.TempDir()
	tp, hp := filepath.Join(dir, "tape.csv"), filepath.Join(dir, "history.csv")
	out, _ := os.Create(tp)
	hist, _ := os.OpenFile(hp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	cfg := synth.Config{Seed: 8, Loans: loans, PortfolioRef: "PKG-VAL", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed}
	if _, err := synth.WriteTape(context.Background(), cfg, out, hist, synth.TapeOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	out.Close()
	// Two collections after the cut-off on the history's first loan: a seasoned tape.
	hist.Seek(0, 0)
	r := csv.NewReader(hist)
	r.FieldsPerRecord = -1
	r.Read()
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	hist.Seek(0, 2)
	fmt.Fprintf(hist, "%s,2025-07,100.00,,\n%s,2025-08,50.00,,\n", first[0], first[0])
	hist.Close()
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Run(context.Background(), db.IngestStore(), keys, tp, ingest.Options{SellerName: "Bank V", HistoryPath: hp})
	if err != nil {
		t.Fatal(err)
	}
	return rep.PortfolioID
}

func TestService(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := service.New(db, service.Options{})
		pid := importPortfolio(t, db, 400)
		if _, err := s.PortfolioValuation(ctx, pid, valuation.Request{}); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("no model yet: %v", err)
		}
		m := model(t)
		c1, err := s.SaveModel(ctx, "recovery", "test", m)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := s.SaveModel(ctx, "recovery", "test", m)
		if err != nil || c1.Version != 1 || c2.Version != 2 || c2.Metrics.Rows == 0 || len(c2.Calibration) != 10 {
			t.Fatalf("save: %+v %+v %v", c1, c2, err)
		}
		cards, err := s.Models(ctx)
		if err != nil || len(cards) != 2 || !cards[0].Active || cards[1].Active || cards[0].Info.Horizon != 12 {
			t.Fatalf("models: %+v %v", cards, err)
		}
		p, err := s.LoadPortfolio(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		withHistory := 0
		for _, in := range p.Inputs {
			if len(in.History) > 0 {
				withHistory++
			}
		}
		if len(p.Inputs) != 400 || p.HistoryStart.IsZero() || withHistory == 0 {
			t.Fatalf("portfolio: %d inputs, history from %v, %d with history", len(p.Inputs), p.HistoryStart, withHistory)
		}
		v1, err := s.PortfolioValuation(ctx, pid, valuation.Request{Paths: 200})
		if err != nil {
			t.Fatal(err)
		}
		if v1.Model != (valuation.ModelRef{Name: "recovery", Version: 2}) || v1.Loans != 400 || v1.AsOf != date.Of(2025, 6, 30) ||
			v1.Currency != money.CNY || v1.Price.Price.IsAbsent() || v1.IRRDistribution == nil {
			t.Fatalf("valuation: %+v", v1)
		}
		// Cached: the same request returns the same valuation; another model version does not.
		if v2, _ := s.PortfolioValuation(ctx, pid, valuation.Request{Paths: 200, Model: "recovery"}); v2 != v1 {
			t.Error("the same request was computed twice")
		}
		v3, err := s.PortfolioValuation(ctx, pid, valuation.Request{Paths: 200, Model: "recovery@1"})
		if err != nil || v3 == v1 || v3.Model.Version != 1 || v3.ExpectedRecovery != v1.ExpectedRecovery {
			t.Errorf("version 1: %v %v", v3.Model, err)
		}
		for spec, code := range map[string]string{"nope": reclaim.ENOTFOUND, "recovery@9": reclaim.ENOTFOUND, "recovery@x": reclaim.EINVALID} {
			if _, err := s.PortfolioValuation(ctx, pid, valuation.Request{Model: spec}); reclaim.ErrorCode(err) != code {
				t.Errorf("model %q: %v", spec, err)
			}
		}
		if _, err := s.PortfolioValuation(ctx, pid+99, valuation.Request{}); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown portfolio: %v", err)
		}
		// One loan, all its reasons.
		top := v1.TopLoans[0]
		lv, err := s.LoanValuation(ctx, pid, top.LoanID, "")
		if err != nil {
			t.Fatal(err)
		}
		sum := lv.Bias
		for _, r := range lv.Reasons {
			sum += r.Contribution
		}
		if lv.ExpectedRate != top.ExpectedRate || math.Abs(sum-lv.ExpectedRecovery.Float()) > 0.006 || math.Abs(lv.ExpectedRate-lv.PRecovery*lv.Severity) > 1e-12 || len(lv.Reasons) < len(top.Reasons)-1 {
			t.Errorf("loan %s: %+v (top %+v)", top.LoanID, lv, top)
		}
		if _, err := s.LoanValuation(ctx, pid, "NO-SUCH-LOAN", ""); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown loan: %v", err)
		}
		// Back-test against a pool's collections: two months of postings.
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "BT", Origin: "test.example/ledger/BT", PortfolioID: pid, Effective: date.Of(2025, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		for {
			if n, err := db.Sequence(ctx, "BT", 0); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				break
			}
		}
		pl, _, err := db.PoolLoans(ctx, "BT", 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var posted float64
		for i, l := range pl {
			amt := l.Balance.Minor() / 10
			if amt <= 0 {
				continue
			}
			eff := date.Of(2025, 7, 10).AddMonths(i % 2)
			if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "BT", LoanRef: l.Ref, Amount: money.New(amt, "CNY"),
				Channel: verify.ChannelBankTransfer, TxnID: "BT-" + l.Ref, Effective: eff, PostedBy: "t"}); err != nil {
				t.Fatal(err)
			}
			posted += float64(amt) / 100
		}
		r, ref, err := s.BackTest(ctx, pid, "")
		if err != nil {
			t.Fatal(err)
		}
		if ref.Version != 2 || r.Months != 2 || math.Abs(r.Total.Actual-posted-150) > 0.01 || r.Total.Loans != 400 || r.Total.Predicted <= 0 ||
			r.ByMonth[0].Actual <= 0 || r.ByMonth[1].Actual <= 0 {
			t.Errorf("backtest: %+v (posted %.2f)", r, posted)
		}
		// A model stored by an older build (format 1) is refused with a code the user can act on.
		file, _ := model(t).MarshalBinary()
		old := bytes.Replace(file, fmt.Appendf(nil, "RECLAIM-RECOVERY %d ", valuation.RecoveryFormatVersion), []byte("RECLAIM-RECOVERY 1 "), 1)
		if _, err := db.SaveModel(ctx, sqldb.NewModel{Name: "old", FeatureSet: "cn-v1", CreatedBy: "test", MetricsJSON: []byte(`{}`), File: old}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Model(ctx, "old"); reclaim.ErrorCode(err) != reclaim.ECONFLICT || !strings.Contains(err.Error(), "format 1") {
			t.Errorf("a format-1 model: %v", err)
		}
	})
}
