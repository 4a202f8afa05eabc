package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/valuation"
	"reclaim/valuation/pricing"
)

// ValuationService is what the valuation routes read. cmd/reclaim implements it with package
// valuation/service over sqldb and the recovery model.
type ValuationService interface {
	// Models lists every registered model version with its summary, by name and newest first.
	Models(ctx context.Context) ([]valuation.ModelCard, error)
	// ActivateModel makes a version the active one of its name (ENOTFOUND when it does not
	// exist).
	ActivateModel(ctx context.Context, name string, version int) error
	// PortfolioValuation values a portfolio with a registered model (ENOTFOUND for an unknown
	// portfolio or model). A target IRR no price reaches is not an error: the price is null and
	// explained.
	PortfolioValuation(ctx context.Context, portfolioID int64, req valuation.Request) (*valuation.Valuation, error)
	// LoanValuation scores one loan of a portfolio with every reason code.
	LoanValuation(ctx context.Context, portfolioID int64, loanRef, model string) (*valuation.LoanValuation, error)
	// BackTest compares a model's predicted monthly collections of a portfolio with what was
	// collected after its cut-off (seasoned history and pool postings).
	BackTest(ctx context.Context, portfolioID int64, model string) (*valuation.BackTestReport, valuation.ModelRef, error)
}

// BackTestInput asks for a portfolio's back-test.
type BackTestInput struct {
	PortfolioPath
	Model string `query:"model" maxLength:"80" doc:"registered model name, or NAME@VERSION; default as for the portfolio valuation"`
}

// BackTestBody is the back-test and the model it tested.
type BackTestBody struct {
	Model valuation.ModelRef `json:"model"`
	*valuation.BackTestReport
}

// ValuationInput asks for a portfolio's valuation.
type ValuationInput struct {
	PortfolioPath
	Model          string  `query:"model" maxLength:"80" doc:"registered model name, or NAME@VERSION; default: the newest active cn-v1 model"`
	TargetIRR      float64 `query:"target_irr" default:"0.18" minimum:"-0.99" maximum:"100" doc:"annual target IRR (0.18 is 18%)"`
	Paths          int     `query:"paths" default:"500" minimum:"0" maximum:"20000" doc:"Monte Carlo paths (0: no simulation)"`
	Confidence     float64 `query:"confidence" default:"0.9" exclusiveMinimum:"0" exclusiveMaximum:"1" doc:"share of paths that must earn the target for the price at confidence"`
	TargetMultiple float64 `query:"target_multiple" default:"2" exclusiveMinimum:"0" maximum:"100" doc:"gross money multiple to price for"`
	Horizon        int     `query:"horizon" default:"0" minimum:"0" maximum:"600" doc:"months to value (0: the model's training horizon); months beyond the training horizon get market.md's lifetime tail, stated apart in tail"`
}

// LoanValuationInput asks for one loan's scores and reason codes.
type LoanValuationInput struct {
	PortfolioPath
	Ref   string `path:"ref" maxLength:"200" doc:"the loan's loan_id"`
	Model string `query:"model" maxLength:"80" doc:"registered model name, or NAME@VERSION; default as for the portfolio valuation"`
}

// ModelVersionPath names one version of a registered model.
type ModelVersionPath struct {
	Name    string `path:"name" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$"`
	Version int    `path:"version" minimum:"1"`
}

func (s *Server) valuationRoutes() {
	v := s.cfg.Valuation
	if v == nil {
		return
	}
	tags := []string{"valuation"}
	register(s, reclaim.PermValuationRead, huma.Operation{OperationID: "list-models", Method: http.MethodGet, Path: "/api/v1/models",
		Summary: "Registered recovery models with their metrics, calibration and importance", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*struct{ Body []valuation.ModelCard }, error) {
			ms, err := v.Models(ctx)
			if ms == nil {
				ms = []valuation.ModelCard{}
			}
			return &struct{ Body []valuation.ModelCard }{ms}, err
		})
	register(s, reclaim.PermModelManage, huma.Operation{OperationID: "activate-model", Method: http.MethodPost,
		Path: "/api/v1/models/{name}/versions/{version}/activate", Summary: "Make a model version the active one of its name",
		Tags: tags, Errors: []int{404}, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *ModelVersionPath) (*struct{}, error) {
			return &struct{}{}, v.ActivateModel(ctx, in.Name, in.Version)
		})
	register(s, reclaim.PermValuationRead, huma.Operation{OperationID: "get-portfolio-valuation", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}/valuation", Summary: "Value a portfolio: scores, projection, price for a target IRR, Monte Carlo",
		Description: "Amounts are decimal strings in the portfolio's currency (null when absent); rates, IRRs and multiples are numbers; " +
			"every *_pct field is a percentage of the claim (5 is 5%). Results are cached per model version and parameters for the server's life.",
		Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *ValuationInput) (*struct{ Body *valuation.Valuation }, error) {
			paths := in.Paths
			if paths == 0 {
				paths = -1 // the route's 0 means no simulation
			}
			// The computation stops when the client goes away (ctx is the request's).
			req := valuation.Request{Model: in.Model, TargetIRR: in.TargetIRR, Paths: paths,
				Confidence: in.Confidence, TargetMultiple: in.TargetMultiple}
			if in.Horizon > 0 {
				a := pricing.DefaultAssumptions()
				a.Horizon = in.Horizon
				req.Assumptions = &a
			}
			val, err := v.PortfolioValuation(s.valuationProgress(ctx, in.ID), in.ID, req)
			if err != nil {
				return nil, err
			}
			return &struct{ Body *valuation.Valuation }{val}, nil
		})
	register(s, reclaim.PermValuationRead, huma.Operation{OperationID: "get-loan-valuation", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}/loans/{ref}/valuation", Summary: "One loan's scores, timing and full reason codes",
		Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *LoanValuationInput) (*struct{ Body *valuation.LoanValuation }, error) {
			lv, err := v.LoanValuation(ctx, in.ID, in.Ref, in.Model)
			if err != nil {
				return nil, err
			}
			return &struct{ Body *valuation.LoanValuation }{lv}, nil
		})
	register(s, reclaim.PermValuationRead, huma.Operation{OperationID: "get-portfolio-backtest", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}/backtest", Summary: "Actual against predicted collections since the cut-off, by month, segment and vintage",
		Description: "Month 1 is the month after the cut-off's; amounts are numbers in major units of the portfolio's currency.",
		Tags:        tags, Errors: []int{404}},
		func(ctx context.Context, in *BackTestInput) (*struct{ Body BackTestBody }, error) {
			r, ref, err := v.BackTest(ctx, in.ID, in.Model)
			if err != nil {
				return nil, err
			}
			return &struct{ Body BackTestBody }{BackTestBody{Model: ref, BackTestReport: r}}, nil
		})
}

// ValuationProgress is the data of a "progress" event on the topic valuation.<portfolio>: the
// stage of a portfolio valuation being computed ("loading", "scoring", "projecting",
// "simulating") and how far it is (done of total).
type ValuationProgress struct {
	Stage string `json:"stage"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// valuationProgress returns ctx carrying a progress function that publishes the valuation's
// progress on the topic valuation.<portfolio>: at the start and the end of each stage and at most
// four times a second in between.
func (s *Server) valuationProgress(ctx context.Context, portfolio int64) context.Context {
	if s.broker == nil {
		return ctx
	}
	topic := "valuation." + strconv.FormatInt(portfolio, 10)
	pub := context.WithoutCancel(ctx)
	var mu sync.Mutex
	var last time.Time
	var lastStage string
	return valuation.WithProgress(ctx, func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if stage == lastStage && done < total && now.Sub(last) < 250*time.Millisecond {
			return
		}
		last, lastStage = now, stage
		if err := s.broker.Publish(pub, topic, "progress", ValuationProgress{Stage: stage, Done: done, Total: total}); err != nil {
			s.log.Debug("valuation progress not published", "topic", topic, "err", err)
		}
	})
}
