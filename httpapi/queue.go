package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/workout"
)

// The live daily queue (docs/strategy.md, "The live daily queue"; docs/workout-api.md).

// PlanDayInput plans one day's queue.
type PlanDayInput struct {
	Body struct {
		Day string `json:"day,omitempty" maxLength:"10" doc:"the day to plan, YYYY-MM-DD (default: today in the debtors' zone)"`
	}
}

type planDayOut struct{ Body *workout.DayPlan }

// QueueInput selects a day's queue.
type QueueInput struct {
	Day string `query:"day" maxLength:"10" doc:"YYYY-MM-DD (default: today in the debtors' zone)"`
}

type queueOut struct {
	Body struct {
		Day   string             `json:"day"`
		Items []workout.PlanItem `json:"items"`
	}
}

func (s *Server) queueRoutes() {
	w := s.cfg.Workout
	tags := []string{"workout"}
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "plan-queue-day", Method: http.MethodPost,
		Path: "/api/v1/workout/queue/plan", Summary: "Plan a day's work queue (the assignment optimisation; replaces the day's earlier plan)",
		Description: "Runs workout.PlanQueue over the open cases with the built-in strategy: each collector and each agency gets at most its daily capacity, champion and challenger arms get their share, and every planned contact is allowed by the compliance engine at its planned time.",
		Tags:        tags, Errors: []int{400}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *PlanDayInput) (*planDayOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			day, err := queryDate("day", in.Body.Day, s.chinaToday())
			if err != nil {
				return nil, err
			}
			p, err := w.PlanDay(ctx, v, day, nil)
			return &planDayOut{Body: p}, err
		})
	register(s, reclaim.PermCaseRead, huma.Operation{OperationID: "get-queue", Method: http.MethodGet,
		Path: "/api/v1/workout/queue", Summary: "A day's planned contacts I may see (a collector its own, an agency its own, a manager all), by rank",
		Tags: tags, Errors: []int{400}},
		func(ctx context.Context, in *QueueInput) (*queueOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			day, err := queryDate("day", in.Day, s.chinaToday())
			if err != nil {
				return nil, err
			}
			items, err := w.Queue(ctx, v, day)
			out := &queueOut{}
			out.Body.Day, out.Body.Items = day.String(), items
			return out, err
		})
}
