package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/valuation"
)

const testModelName = "recovery-test"

var fixtureModel struct {
	once sync.Once
	m    *valuation.RecoveryModel
	err  error
}

// testModel is a small recovery model, trained once per test binary, that every fixture
// registers.
func testModel(t *testing.T) *valuation.RecoveryModel {
	t.Helper()
	fixtureModel.once.Do(func() {
		s, err := synth.NewSeasoned(synth.Config{Seed: 4, Loans: 2000, PortfolioRef: "API-TRAIN", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}, 12)
		if err != nil {
			fixtureModel.err = err
			return
		}
		tab, err := valuation.BuildSeasoned(s, valuation.CN(), valuation.TableOptions{})
		if err != nil {
			fixtureModel.err = err
			return
		}
		fixtureModel.m, fixtureModel.err = valuation.TrainRecoveryModel(context.Background(), tab, valuation.TrainOptions{Trees: 30}, nil)
	})
	if fixtureModel.err != nil {
		t.Fatal(fixtureModel.err)
	}
	return fixtureModel.m
}

func TestValuationRoutes(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.as(reclaim.RoleAnalyst)

		res, b := c.do("GET", "/api/v1/models", "")
		var models []map[string]any
		if res.StatusCode != 200 || json.Unmarshal(b, &models) != nil || len(models) != 1 {
			t.Fatalf("models: %d %s", res.StatusCode, b)
		}
		m := models[0]
		metrics, _ := m["metrics"].(map[string]any)
		calib, _ := m["calibration"].([]any)
		imp, _ := m["importance"].([]any)
		if m["name"] != testModelName || m["version"] != 1.0 || m["feature_set"] != "cn-v1" || m["active"] != true || m["created_by"] != "test" ||
			metrics == nil || len(calib) != 10 || len(imp) == 0 {
			t.Fatalf("model card: %s", b)
		}
		for _, k := range []string{"auc_material", "auc_rate10", "logloss", "mae", "spearman", "portfolio_error_pct", "baseline_auc_rate10", "baseline_mae"} {
			if _, ok := metrics[k].(float64); !ok {
				t.Errorf("metric %s: %v", k, metrics[k])
			}
		}
		bin, _ := calib[0].(map[string]any)
		for _, k := range []string{"bin", "predicted", "observed", "count"} {
			if _, ok := bin[k]; !ok {
				t.Errorf("calibration bin lacks %s: %v", k, bin)
			}
		}
		if g, _ := imp[0].(map[string]any); g["feature"] == "" || g["gain"] == nil {
			t.Errorf("importance %v", imp[0])
		}

		path := fmt.Sprintf("/api/v1/portfolios/%d/valuation", f.portfolio)
		res, b = c.do("GET", path+"?target_irr=0.2&paths=150", "")
		if res.StatusCode != 200 {
			t.Fatalf("valuation: %d %s", res.StatusCode, b)
		}
		var v valuation.Valuation
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if v.Model.Name != testModelName || v.Loans != 300 || v.Price.TargetIRR != 0.2 || v.Price.Price.IsAbsent() || v.IRRDistribution == nil ||
			v.IRRDistribution.Paths != 150 || len(v.PriceTable) != 20 || len(v.TopLoans) != 20 || len(v.Curve) != 12 || v.Claim.Float() <= 0 {
			t.Fatalf("valuation: %.600s", b)
		}
		for _, k := range []string{`"claim":"`, `"expected_recovery":"`, `"price":"`, `"irr_distribution":{"price":"`, `"histogram":[`, `"bias":`} {
			if !strings.Contains(string(b), k) {
				t.Errorf("valuation JSON lacks %s", k)
			}
		}
		// No simulation: no distribution, still a price.
		res, b = c.do("GET", path+"?paths=0", "")
		if err := json.Unmarshal(b, &v); err != nil || res.StatusCode != 200 || v.IRRDistribution != nil || v.Price.Price.IsAbsent() {
			t.Errorf("paths=0: %d %.300s", res.StatusCode, b)
		}
		// Beyond the 12-month training horizon: the tail, stated apart; nothing of the kind within it.
		if v.Tail != nil || strings.Contains(string(b), `"tail"`) {
			t.Errorf("a tail within the training horizon: %.300s", b)
		}
		res, b = c.do("GET", path+"?paths=0&horizon=36", "")
		var tv valuation.Valuation
		if err := json.Unmarshal(b, &tv); err != nil || res.StatusCode != 200 || tv.Horizon != 36 || len(tv.Curve) != 36 || tv.Tail == nil ||
			tv.Tail.TrainingHorizon != 12 || tv.Tail.Method != valuation.TailMethod || !tv.Tail.Within.Equal(v.ExpectedRecovery) ||
			!(tv.Tail.Amount.Float() > 0) || !tv.Curve[12].Tail || tv.Curve[11].Tail {
			t.Errorf("horizon=36: %d %.400s", res.StatusCode, b)
		}
		for _, q := range []string{"?target_irr=-2", "?paths=999999", "?confidence=1", "?model=no-such-model", "?model=" + testModelName + "@7", "?horizon=-1", "?horizon=601", "?horizon=x"} {
			res, b := c.do("GET", path+q, "")
			if res.StatusCode != 422 && res.StatusCode != 400 && res.StatusCode != 404 {
				t.Errorf("%s: %d %s", q, res.StatusCode, b)
			}
		}
		if res, _ := c.do("GET", "/api/v1/portfolios/9999/valuation", ""); res.StatusCode != 404 {
			t.Errorf("unknown portfolio: %d", res.StatusCode)
		}

		// One loan with every reason code.
		var loanID string
		f.db.StreamLoans(context.Background(), f.portfolio, func(l *reclaim.Loan) error {
			if loanID == "" {
				loanID = l.LoanID
			}
			return nil
		})
		res, b = c.do("GET", fmt.Sprintf("/api/v1/portfolios/%d/loans/%s/valuation", f.portfolio, loanID), "")
		var lv valuation.LoanValuation
		if res.StatusCode != 200 || json.Unmarshal(b, &lv) != nil || lv.LoanID != loanID || len(lv.Reasons) == 0 || len(lv.Timing) != 12 {
			t.Fatalf("loan valuation: %d %s", res.StatusCode, b)
		}
		sum := lv.Bias
		for _, r := range lv.Reasons {
			sum += r.Contribution
		}
		if math.Abs(sum-lv.ExpectedRecovery.Float()) > 0.006 {
			t.Errorf("reasons + bias = %v, expected recovery %v", sum, lv.ExpectedRecovery)
		}
		if res, _ := c.do("GET", fmt.Sprintf("/api/v1/portfolios/%d/loans/NOPE/valuation", f.portfolio), ""); res.StatusCode != 404 {
			t.Errorf("unknown loan: %d", res.StatusCode)
		}

		// The back-test route: the model tested and the report; 404 for an unknown portfolio,
		// 403 without valuation.read.
		res, b = c.do("GET", fmt.Sprintf("/api/v1/portfolios/%d/backtest", f.portfolio), "")
		var bt httpapi.BackTestBody
		if res.StatusCode != 200 || json.Unmarshal(b, &bt) != nil || bt.Model.Name != testModelName || bt.BackTestReport == nil ||
			len(bt.ByMonth) != bt.Months || !strings.Contains(string(b), `"total":{`) {
			t.Errorf("backtest: %d %.300s", res.StatusCode, b)
		}
		if res, _ := c.do("GET", "/api/v1/portfolios/9999/backtest", ""); res.StatusCode != 404 {
			t.Errorf("backtest of an unknown portfolio: %d", res.StatusCode)
		}
		if res, _ := f.as(reclaim.RoleCollector).do("GET", fmt.Sprintf("/api/v1/portfolios/%d/backtest", f.portfolio), ""); res.StatusCode != 403 {
			t.Errorf("collector back-tests: %d", res.StatusCode)
		}

		// Activation: a second version becomes active; activating the first moves it back.
		if _, err := f.valuation.SaveModel(context.Background(), testModelName, "test", testModel(t)); err != nil {
			t.Fatal(err)
		}
		act := "/api/v1/models/" + testModelName + "/versions/1/activate"
		if res, b := f.as(reclaim.RoleCollector).do("POST", act, ""); res.StatusCode != 403 {
			t.Errorf("collector activates: %d %s", res.StatusCode, b)
		}
		if res, b := c.do("POST", act, ""); res.StatusCode != 204 {
			t.Fatalf("activate: %d %s", res.StatusCode, b)
		}
		res, b = c.do("GET", "/api/v1/models", "")
		json.Unmarshal(b, &models)
		if len(models) != 2 || models[0]["active"] != false || models[1]["active"] != true {
			t.Errorf("after activation: %s", b)
		}
		if res, _ := c.do("POST", "/api/v1/models/"+testModelName+"/versions/9/activate", ""); res.StatusCode != 404 {
			t.Errorf("activate a missing version: %d", res.StatusCode)
		}
		// Auditors read valuations; collectors do not.
		if res, _ := f.as(reclaim.RoleAuditor).do("GET", path+"?paths=0", ""); res.StatusCode != 200 {
			t.Errorf("auditor: %d", res.StatusCode)
		}
		if res, _ := f.as(reclaim.RoleCollector).do("GET", path+"?paths=0", ""); res.StatusCode != 403 {
			t.Errorf("collector: %d", res.StatusCode)
		}
	})
}
