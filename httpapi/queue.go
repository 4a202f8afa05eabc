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

// ContactTrainInput trains the contact model from the live contact log.
type ContactTrainInput struct {
	Body struct {
		MinRows int    `json:"min_rows,omitempty" minimum:"0" maximum:"100000000" doc:"fewest usable contacts to train on (default 200, never below 100)"`
		Horizon int    `json:"horizon_days,omitempty" minimum:"0" maximum:"365" doc:"a contact is labelled paid when the case paid within this many days after it (default 30)"`
		Name    string `json:"name,omitempty" maxLength:"80" doc:"the model's name (default contact-YYYYMMDD-HHMMSS)"`
	}
}

type contactModelOut struct{ Body workout.ContactModelInfo }

type contactCardOut struct{ Body workout.ContactModelCard }

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
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "train-contact-model", Method: http.MethodPost,
		Path: "/api/v1/workout/contact-model/train", Summary: "Train the contact model from the live contact log and payments and store it (the challenger arm is valued with the newest)",
		Description: "Each contact that happened (allowed, or reported by an agency) whose horizon has ended is one example: the case's features at the contact, its channel, and whether the case paid within the horizon. Too small a log, one outcome only or an unknown channel is 400 and stores nothing.",
		Tags:        tags, Errors: []int{400, 409}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *ContactTrainInput) (*contactModelOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			m, err := w.TrainContactModel(ctx, v, workout.ContactTrainRequest{MinRows: in.Body.MinRows, Horizon: in.Body.Horizon, Name: in.Body.Name})
			return &contactModelOut{Body: m}, err
		})
	register(s, reclaim.PermWorkoutDashboard, huma.Operation{OperationID: "get-contact-model", Method: http.MethodGet,
		Path: "/api/v1/workout/contact-model", Summary: "The newest stored contact model (training summary, held-out AUC) and how the challenger arm is valued",
		Tags: tags},
		func(ctx context.Context, _ *struct{}) (*contactCardOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			c, err := w.ContactModel(ctx, v)
			return &contactCardOut{Body: c}, err
		})
}
