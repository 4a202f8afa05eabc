package service

import (
	"context"
	"fmt"
	"time"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/workout"
)

// Campaign sending (docs/workout-api.md, "Campaigns"). A campaign is sent in batches: each batch
// loads the contact state of its cases in a few queries, asks the policy about each contact at
// the moment of sending (the debtor's whole history: console, API, agency and earlier campaign
// contacts), applies the campaign's per-debtor cap, and records every attempt, allowed or
// denied, with the batch's progress in one short transaction. Nothing holds a transaction
// across batches, so a 100,000-case campaign never blocks other writers for long; a crash or a
// lost lease resumes from the last recorded batch, and cases already recorded are skipped, so
// nobody is contacted twice by one campaign.

const (
	defaultCampaignBatch = 500
	campaignLease        = 2 * time.Minute
)

// CreateCampaign validates a campaign request (EINVALID naming the field) and stores it
// scheduled. created is false when the same creator sent the same key before: the stored
// campaign is returned and nothing new is made (ECONFLICT when the key was used for another
// request). The route checks campaign.run.
func (s *Service) CreateCampaign(ctx context.Context, v workout.Viewer, spec workout.CampaignSpec) (workout.Campaign, bool, error) {
	if err := workout.ValidateCampaign(&spec); err != nil {
		return workout.Campaign{}, false, err
	}
	if v.Username == "" {
		return workout.Campaign{}, false, reclaim.Errorf(reclaim.EUNAUTHORIZED, "sign in first")
	}
	c, created, err := s.db.CreateCampaign(ctx, spec, v.Username)
	if err != nil {
		return c, false, err
	}
	if created {
		if s.opts.Publish != nil {
			s.opts.Publish(ctx, "workout", "campaign", c)
		}
		s.KickCampaigns()
	}
	return c, created, nil
}

// Campaign returns one campaign with its progress and result.
func (s *Service) Campaign(ctx context.Context, id int64) (workout.Campaign, error) {
	return s.db.GetCampaign(ctx, id)
}

// Campaigns lists campaigns, newest first.
func (s *Service) Campaigns(ctx context.Context, limit int) ([]workout.Campaign, error) {
	return s.db.ListCampaigns(ctx, limit)
}

// KickCampaigns wakes RunCampaignLoop (a campaign due now starts at once).
func (s *Service) KickCampaigns() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// RunCampaignLoop sends due campaigns until ctx ends: at once when kicked, else every `every`.
// owner names this runner in the lease (one per process). Errors are given to onErr (may be nil)
// and the loop goes on.
func (s *Service) RunCampaignLoop(ctx context.Context, owner string, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.RunCampaigns(ctx, owner); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// RunCampaigns sends every campaign that is due now (scheduled at or before the clock) to the
// end, one after the other, and returns how many it finished.
func (s *Service) RunCampaigns(ctx context.Context, owner string) (int, error) {
	n := 0
	for {
		c, ok, err := s.db.ClaimCampaign(ctx, owner, s.opts.Now(), campaignLease)
		if err != nil || !ok {
			return n, err
		}
		if err := s.sendCampaign(ctx, owner, c); err != nil {
			return n, err
		}
		n++
	}
}

func (s *Service) sendCampaign(ctx context.Context, owner string, c workout.Campaign) error {
	batch := s.opts.CampaignBatch
	if batch <= 0 {
		batch = defaultCampaignBatch
	}
	agent := "campaign:" + fmt.Sprint(c.ID)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, cursor, err := s.db.CampaignCases(ctx, c, c.Cursor, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 && cursor == c.Cursor {
			done, err := s.db.FinishCampaign(ctx, c.ID, owner)
			if err == nil && s.opts.Publish != nil {
				s.opts.Publish(ctx, "workout", "campaign", done)
			}
			return err
		}
		// Send time: the policy judges each contact at the moment it is sent, in the debtors'
		// zone.
		now := s.opts.Now()
		at := now.In(s.opts.Zone)
		states, err := s.db.ContactStates(ctx, ids, at.Add(-time.Duration(s.opts.HistoryDays)*24*time.Hour))
		if err != nil {
			return err
		}
		items := make([]sqldb.CampaignItem, 0, len(ids))
		for _, id := range ids {
			st := states[id]
			if st == nil {
				continue // gone between the two reads
			}
			it := s.decideCampaignContact(c, *st, at, agent)
			items = append(items, it)
		}
		// A busy database (PostgreSQL's serialization failures under load, after WriteTx's own
		// retries) is waited out: the batch is idempotent and our lease is renewed by it.
		var rec workout.Campaign
		for attempt := 0; ; attempt++ {
			rec, err = s.db.RecordCampaignBatch(ctx, c.ID, owner, items, cursor, s.opts.Now().Add(campaignLease))
			if err == nil || reclaim.ErrorCode(err) != reclaim.EUNAVAILABLE || attempt >= 5 {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
			}
		}
		if err != nil {
			return err
		}
		c = rec
		if s.opts.Publish != nil {
			s.opts.Publish(ctx, "workout", "campaign", c)
		}
	}
}

// decideCampaignContact decides one campaign contact with the same policy as every other path
// (and the campaign's cap), and builds what is recorded.
func (s *Service) decideCampaignContact(c workout.Campaign, st workout.ContactState, at time.Time, agent string) sqldb.CampaignItem {
	history := make([]workout.Contact, len(st.History))
	for i, h := range st.History {
		history[i] = asContact(h)
	}
	contact := workout.Contact{ID: fmt.Sprintf("campaign-%d-%s", c.ID, workout.CaseRef(st.Case.ID)), DebtorID: workout.CaseRef(st.Case.ID),
		Channel: workout.Channel(c.Channel), Party: workout.PartyDebtor, At: at, Outcome: workout.Outcome(workout.CampaignSent), Agent: agent}
	d := s.decide(st, history, contact)
	if v := workout.CampaignCap(c.MaxPerDay, history, contact); v != nil {
		d.Allowed = false
		d.Violations = append(d.Violations, *v)
	}
	outcome := workout.CampaignSent
	if !d.Allowed {
		outcome = workout.CampaignNotSent
	}
	it := sqldb.CampaignItem{Attempt: workout.Attempt{CaseID: st.Case.ID, ContactID: contact.ID, Channel: c.Channel, Party: string(workout.PartyDebtor),
		At: at, LocalAt: at.Format(time.RFC3339), Outcome: outcome, Agent: agent, Source: workout.SourceCampaign, Pack: string(s.opts.Pack),
		Allowed: d.Allowed, Reasons: workout.Reasons(d.Violations)}}
	if d.Allowed {
		it.Action = &workout.Action{Kind: c.Channel, Channel: c.Channel, Outcome: workout.CampaignSent, Actor: agent, At: at,
			Note: fmt.Sprintf("campaign %d %q, template %s", c.ID, c.Name, c.Template)}
	}
	return it
}
