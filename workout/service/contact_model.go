package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/workout"
)

// The trained contact model (docs/strategy.md, "The trained contact model"): TrainContactModel
// reads the live contact log and payments, trains workout's contact model and stores it; the
// planner values the challenger arm with the newest stored one (queue.go).

// ContactTrainRequest says how to train: the fewest usable contacts (0: workout.DefaultMinRows),
// the label's horizon in days (0: workout.ContactHorizonDays) and an optional name.
type ContactTrainRequest struct {
	MinRows int    `json:"min_rows,omitempty"`
	Horizon int    `json:"horizon_days,omitempty"`
	Name    string `json:"name,omitempty"`
}

// ContactModelCard is the stored model as the console shows it (Model false: none is stored,
// and the challenger arm is valued by rules).
type ContactModelCard struct {
	Model      bool                         `json:"model"`
	Record     *sqldb.ContactModelRecord    `json:"record,omitempty"`
	Valuation  string                       `json:"challenger_valuation"`
	Summary    *workout.ContactModelSummary `json:"summary,omitempty"`
	TrainedAgo string                       `json:"trained_ago,omitempty"`
}

// mayTrain is who may train and store a contact model: the roles that plan the queue.
func mayTrain(v workout.Viewer) bool { return v.Role.Can(reclaim.PermCaseAssign) }

// TrainContactModel trains a contact model from the live contact log (contacts whose horizon has
// ended by today) and stores it as the newest. Too small a log, one label only, an unknown channel
// in the log or a bad horizon is EINVALID (nothing is stored); a viewer without case.assign is
// EFORBIDDEN.
func (s *Service) TrainContactModel(ctx context.Context, v workout.Viewer, req ContactTrainRequest) (sqldb.ContactModelRecord, error) {
	if !mayTrain(v) {
		return sqldb.ContactModelRecord{}, reclaim.Errorf(reclaim.EFORBIDDEN, "training the contact model needs case.assign (a collection manager or an administrator)")
	}
	if req.Horizon == 0 {
		req.Horizon = workout.ContactHorizonDays
	}
	if req.MinRows < 0 {
		return sqldb.ContactModelRecord{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("min_rows: %d; at least 0", req.MinRows),
			Fields: map[string]string{"field": "min_rows"}}
	}
	log, err := s.db.ContactLog(ctx)
	if err != nil {
		return sqldb.ContactModelRecord{}, err
	}
	now := s.opts.Now().UTC()
	asOf := date.FromTime(now)
	ex, err := workout.LiveExamples(log, req.Horizon, asOf)
	if err != nil {
		return sqldb.ContactModelRecord{}, err
	}
	m, sum, err := workout.TrainLiveContactModel(ctx, ex, workout.LiveTrainOptions{MinRows: req.MinRows, Params: workout.ModelParams{Seed: 13, Threads: 1}})
	if err != nil {
		return sqldb.ContactModelRecord{}, err
	}
	sum.HorizonDays = req.Horizon
	b, err := m.MarshalBinary()
	if err != nil {
		return sqldb.ContactModelRecord{}, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "contact-" + now.Format("20060102-150405")
	}
	rec, err := s.db.SaveContactModel(ctx, sqldb.ContactModelRecord{Name: name, CreatedAt: now, Trainer: v.Username, Summary: sum, Model: b})
	if err == nil && s.opts.Publish != nil {
		s.opts.Publish(ctx, "workout", "contact_model", rec)
	}
	return rec, err
}

// ContactModel returns the card of the newest stored contact model (Model false when none is).
// A viewer without workout.dashboard or case.assign is EFORBIDDEN.
func (s *Service) ContactModel(ctx context.Context, v workout.Viewer) (ContactModelCard, error) {
	if !v.Role.Can(reclaim.PermWorkoutDashboard) && !mayTrain(v) {
		return ContactModelCard{}, reclaim.Errorf(reclaim.EFORBIDDEN, "the contact model needs workout.dashboard")
	}
	rec, err := s.db.LatestContactModel(ctx)
	if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
		return ContactModelCard{Valuation: workout.ValuationRules}, nil
	}
	if err != nil {
		return ContactModelCard{}, err
	}
	c := ContactModelCard{Model: true, Record: &rec, Summary: &rec.Summary, Valuation: "model:" + rec.Name}
	c.TrainedAgo = s.opts.Now().Sub(rec.CreatedAt).Round(time.Minute).String()
	return c, nil
}

// challengerModel loads the newest stored model for the planner: nil (rules) when none is
// stored; a stored model that does not decode is an error.
func (s *Service) challengerModel(ctx context.Context) (*workout.ContactModel, *sqldb.ContactModelRecord, error) {
	rec, err := s.db.LatestContactModel(ctx)
	if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := workout.UnmarshalContactModel(rec.Model)
	if err != nil {
		return nil, nil, err
	}
	return m, &rec, nil
}
