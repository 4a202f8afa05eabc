package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/date"
	"reclaim/workout/dash"
)

// PerformanceService is performance against the price paid and the manager's dashboard (issue 13
// items 3 and 5; docs/performance.md). cmd/reclaim wires package workout/service in.
type PerformanceService interface {
	// Performance reports every acquisition (portfolioID 0) or one, as of asOf.
	Performance(ctx context.Context, portfolioID int64, asOf date.Date) (*dash.PerformanceReport, error)
	// Dashboard is the manager's dashboard over the local days [from, to] (nil: default costs).
	Dashboard(ctx context.Context, from, to date.Date, channelCost map[string]float64) (*dash.Dashboard, error)
}

// PerformanceInput asks for performance as of a date.
type PerformanceInput struct {
	AsOf string `query:"as_of" doc:"YYYY-MM-DD (default today, China time)"`
}

// PortfolioPerformanceInput asks for one portfolio's performance.
type PortfolioPerformanceInput struct {
	PortfolioPath
	PerformanceInput
}

// DashboardInput asks for the dashboard over a window of local days.
type DashboardInput struct {
	From string `query:"from" doc:"first local day, YYYY-MM-DD (default 29 days before to)"`
	To   string `query:"to" doc:"last local day, YYYY-MM-DD (default today, China time)"`
}

type performanceOut struct {
	Body *dash.PerformanceReport
}

type dashboardOut struct {
	Body *dash.Dashboard
}

// queryDate parses an optional date parameter (def when empty).
func queryDate(field, v string, def date.Date) (date.Date, error) {
	if v == "" {
		return def, nil
	}
	d, err := date.Parse(v)
	if err != nil || len(v) != 10 {
		return date.Date{}, &reclaim.Error{Code: reclaim.EINVALID, Message: field + " must be YYYY-MM-DD",
			Fields: map[string]string{"field": field, "value": v, "rule": "date"}}
	}
	return d, nil
}

func (s *Server) chinaToday() date.Date {
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	return date.FromTime(now().In(time.FixedZone("CST", 8*3600)))
}

func (s *Server) performanceRoutes() {
	p := s.cfg.Performance
	if p == nil {
		return
	}
	tags := []string{"workout"}
	register(s, reclaim.PermWorkoutDashboard, huma.Operation{OperationID: "workout-performance", Method: http.MethodGet,
		Path: "/api/v1/workout/performance", Summary: "Performance against the price paid: every acquisition and vintage, collections against the forecast at purchase, realised, projected and underwritten IRR",
		Tags: tags, Errors: []int{400}},
		func(ctx context.Context, in *PerformanceInput) (*performanceOut, error) {
			asOf, err := queryDate("as_of", in.AsOf, s.chinaToday())
			if err != nil {
				return nil, err
			}
			r, err := p.Performance(ctx, 0, asOf)
			return &performanceOut{Body: r}, err
		})
	register(s, reclaim.PermWorkoutDashboard, huma.Operation{OperationID: "portfolio-performance", Method: http.MethodGet,
		Path: "/api/v1/workout/performance/{id}", Summary: "One acquisition's performance against the price paid, month by month and by origination year",
		Tags: tags, Errors: []int{400, 404}},
		func(ctx context.Context, in *PortfolioPerformanceInput) (*performanceOut, error) {
			asOf, err := queryDate("as_of", in.AsOf, s.chinaToday())
			if err != nil {
				return nil, err
			}
			r, err := p.Performance(ctx, in.ID, asOf)
			return &performanceOut{Body: r}, err
		})
	register(s, reclaim.PermWorkoutDashboard, huma.Operation{OperationID: "workout-dashboard", Method: http.MethodGet,
		Path: "/api/v1/workout/dashboard", Summary: "The manager's dashboard: collections against forecast by channel, agent and agency; compliance denials; champion against challenger; limitation warnings; vintage IRRs",
		Tags: tags, Errors: []int{400}},
		func(ctx context.Context, in *DashboardInput) (*dashboardOut, error) {
			to, err := queryDate("to", in.To, s.chinaToday())
			if err != nil {
				return nil, err
			}
			from, err := queryDate("from", in.From, to.AddDays(-29))
			if err != nil {
				return nil, err
			}
			d, err := p.Dashboard(ctx, from, to, nil)
			return &dashboardOut{Body: d}, err
		})
}
