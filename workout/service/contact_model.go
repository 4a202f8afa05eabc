package service

import (
	"context"
	"fmt"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/workout"
)

// The trained contact model (docs/strategy.md, "The trained contact model"): TrainContactModel
// reads the live contact log and payments, trains workout's contact model and stores it; the
// planner values the challenger arm with the newest stored one (queue.go).

// mayTrain is who may train and store a contact model: the roles that plan the queue.
func mayTrain(v workout.Viewer) bool { return v.Role.Can(reclaim.PermCaseAssign) }

// TrainContactModel trains a contact model from the live contact log (contacts whose horizon has
// ended by today) and stores it as the newest. Too small a log, one label only, an unknown channel
// in the log or a bad horizon is EINVALID (nothing is stored); a viewer without case.assign is
// EFORBIDDEN.
func (s *Service) TrainContactModel(ctx context.Context, v workout.Viewer, req workout.ContactTrainRequest) (workout.ContactModelInfo, error) {
	if !mayTrain(v) {
		return workout.ContactModelInfo{}, reclaim.Errorf(reclaim.EFORBIDDEN, "training the contact model needs case.assign (a collection manager or an administrator)")
	}
	if req.Horizon == 0 {
		req.Horizon = workout.ContactHorizonDays
	}
	if req.MinRows < 0 {
		return workout.ContactModelInfo{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("min_rows: %d; at least 0", req.MinRows),
			Fields: map[string]string{"field": "min_rows"}}
	}
	log, err := s.db.ContactLog(ctx)
	if err != nil {
		return workout.ContactModelInfo{}, err
	}
	now := s.opts.Now().UTC()
	asOf := date.FromTime(now)
	ex, err := workout.LiveExamples(log, req.Horizon, asOf)
	if err != nil {
		return workout.ContactModelInfo{}, err
	}
	m, sum, err := workout.TrainLiveContactModel(ctx, ex, workout.LiveTrainOptions{MinRows: req.MinRows, Params: workout.ModelParams{Seed: 13, Threads: 1}})
	if err != nil {
		return workout.ContactModelInfo{}, err
	}
	sum.HorizonDays = req.Horizon
	b, err := m.MarshalBinary()
	if err != nil {
		return workout.ContactModelInfo{}, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "contact-" + now.Format("20060102-150405")
	}
	rec, err := s.db.SaveContactModel(ctx, sqldb.ContactModelRecord{ContactModelInfo: workout.ContactModelInfo{Name: name, CreatedAt: now, Trainer: v.Username, Summary: sum}, Model: b})
	if err == nil && s.opts.Publish != nil {
		s.opts.Publish(ctx, "workout", "contact_model", rec.ContactModelInfo)
	}
	return rec.ContactModelInfo, err
}

// ContactModel returns the card of the newest stored contact model (Model false when none is).
// A viewer without workout.dashboard or case.assign is EFORBIDDEN.
func (s *Service) ContactModel(ctx context.Context, v workout.Viewer) (workout.ContactModelCard, error) {
	if !v.Role.Can(reclaim.PermWorkoutDashboard) && !mayTrain(v) {
		return workout.ContactModelCard{}, reclaim.Errorf(reclaim.EFORBIDDEN, "the contact model needs workout.dashboard")
	}
	rec, err := s.db.LatestContactModel(ctx)
	if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
		return workout.ContactModelCard{Valuation: workout.ValuationRules}, nil
	}
	if err != nil {
		return workout.ContactModelCard{}, err
	}
	return workout.ContactModelCard{Model: true, Info: &rec.ContactModelInfo, Valuation: "model:" + rec.Name}, nil
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
