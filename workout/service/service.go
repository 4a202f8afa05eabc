// Package service runs the workout: it wires the rules of package workout (and the compliance
// policy) to the storage of sqldb. Every contact path (console, API, agency feeds, bulk
// campaigns) goes through Contact, AgencyContacts or the campaign runner, which ask the policy first and record every attempt, allowed or
// denied, before they answer. Case scope (workout.CanSee) is checked here for every case read or
// write, so that no caller can forget it.
package service

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/workout"
)

// ContactPolicy decides whether a contact may happen: workout.Decide in the product; tests may
// pass a narrower stand-in. It must be pure.
type ContactPolicy func(pack workout.Pack, st workout.DebtorState, history []workout.Contact, c workout.Contact) workout.Decision

// Options configure a Service.
type Options struct {
	// Policy decides contacts; required.
	Policy ContactPolicy
	// Pack is the rule pack ("cn" by default).
	Pack workout.Pack
	// NumberKey returns the blind index of a phone number as stored (hex); required. Numbers
	// are never stored in the clear.
	NumberKey func(number string) string
	// Zone is the debtors' time zone for contacts recorded without an explicit time (default
	// UTC+8, China).
	Zone *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Publish, when set, receives live events (topic case.<id> and workout).
	Publish func(ctx context.Context, topic, typ string, data any)
	// HistoryDays is how far back the contact history given to the policy reaches (default 90).
	HistoryDays int
	// Forecaster, when set, computes the forecast a boarded portfolio is frozen with
	// (performance.go); Experiment, when set, draws the strategy arm of every new case at boarding.
	Forecaster Forecaster
	Experiment *Experiment
	// CampaignBatch is how many cases a campaign decides and records per transaction (default
	// 500).
	CampaignBatch int
}

// Service is the workout service.
type Service struct {
	db     *sqldb.DB
	opts   Options
	settle SettleOptions // settle.go
	kick   chan struct{} // wakes the campaign runner
}

// New returns a service over db.
func New(db *sqldb.DB, opts Options) *Service {
	if opts.Pack == "" {
		opts.Pack = "cn"
	}
	if opts.Zone == nil {
		opts.Zone = time.FixedZone("CST", 8*3600)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HistoryDays <= 0 {
		opts.HistoryDays = 90
	}
	return &Service{db: db, opts: opts, kick: make(chan struct{}, 1)}
}

func (s *Service) publish(ctx context.Context, caseID int64, typ string, data any) {
	if s.opts.Publish == nil {
		return
	}
	s.opts.Publish(ctx, "case."+strconv.FormatInt(caseID, 10), typ, data)
	s.opts.Publish(ctx, "workout", typ, map[string]any{"case_id": caseID, "data": data})
}

// today is the debtors' local date now.
func (s *Service) today() date.Date { return date.FromTime(s.opts.Now().In(s.opts.Zone)) }

// happened checks a date recorded as having happened against tomorrow in the debtors' zone
// (workout.CheckHappened).
func (s *Service) happened(field string, on date.Date) error {
	return workout.CheckHappened(field, on, s.today().AddDays(1))
}

// Viewer completes a viewer with the agency of an agency user.
func (s *Service) Viewer(ctx context.Context, u reclaim.User) (workout.Viewer, error) {
	v := workout.Viewer{Role: u.Role, Username: u.Username}
	if u.Role == reclaim.RoleAgency {
		a, err := s.db.AgencyOf(ctx, u.Username)
		if err != nil {
			return v, err
		}
		v.Agency = a
	}
	return v, nil
}

// SetAgencyMember makes an agency user a member of an agency.
func (s *Service) SetAgencyMember(ctx context.Context, username, agency string) error {
	return s.db.SetAgencyMember(ctx, username, agency)
}

// scoped loads a case the viewer may see (ENOTFOUND otherwise, the same answer as for a case
// that does not exist).
func (s *Service) scoped(ctx context.Context, v workout.Viewer, id int64) (workout.Case, error) {
	c, err := s.db.GetCase(ctx, id)
	if err != nil {
		return c, err
	}
	if !workout.CanSee(v, c) {
		return workout.Case{}, reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", id)
	}
	return c, nil
}

// Board records an acquisition and boards the portfolio.
func (s *Service) Board(ctx context.Context, spec workout.BoardSpec) (workout.BoardResult, error) {
	res, err := s.db.BoardPortfolio(ctx, spec)
	if err == nil {
		s.AfterBoarding(ctx, spec)
	}
	if err == nil && s.opts.Publish != nil {
		s.opts.Publish(ctx, "workout", "boarded", res)
	}
	return res, err
}

// Cases lists the cases the viewer may see: a collector's own queue (earliest limitation expiry
// first), an agency user's placements, or for managers any selection.
func (s *Service) Cases(ctx context.Context, v workout.Viewer, q workout.CaseQuery) ([]workout.CaseRow, error) {
	f := sqldb.CaseFilter{AfterID: q.AfterID, Limit: q.Limit, Assignee: q.Assignee, Agency: q.AgencyFilter}
	if !q.IncludeClosed {
		f.Status = workout.CaseOpen
	}
	switch {
	case v.Role == reclaim.RoleCollector:
		f.Assignee = v.Username
	case v.Role == reclaim.RoleAgency:
		if v.Agency == "" {
			return []workout.CaseRow{}, nil
		}
		f.Agency = v.Agency
	case q.Mine:
		f.Assignee = v.Username
	}
	today := s.today()
	if q.ExpiringDays > 0 {
		f.ExpiringBefore = today.AddDays(q.ExpiringDays + 1)
	}
	cs, err := s.db.ListCases(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]workout.CaseRow, 0, len(cs))
	for _, c := range cs {
		if !workout.CanSee(v, c) {
			continue
		}
		out = append(out, workout.CaseRow{Case: c, LimitationWarning: workout.LimitationWarning(c.LimitationExpiry, today),
			EnforcementWarning: workout.LimitationWarning(c.EnforcementDeadline, today)})
	}
	return out, nil
}

// Case returns a case page.
func (s *Service) Case(ctx context.Context, v workout.Viewer, id int64) (*workout.CasePage, error) {
	c, err := s.scoped(ctx, v, id)
	if err != nil {
		return nil, err
	}
	today := s.today()
	p := &workout.CasePage{CaseRow: workout.CaseRow{Case: c, LimitationWarning: workout.LimitationWarning(c.LimitationExpiry, today),
		EnforcementWarning: workout.LimitationWarning(c.EnforcementDeadline, today)}}
	if p.Accounts, err = s.db.CaseAccounts(ctx, id); err != nil {
		return nil, err
	}
	if p.Timeline, err = s.db.Timeline(ctx, id, 200); err != nil {
		return nil, err
	}
	if p.Notices, err = s.db.Notices(ctx, id); err != nil {
		return nil, err
	}
	if p.Complaints, err = s.db.Complaints(ctx, id); err != nil {
		return nil, err
	}
	if p.Consents, err = s.db.Consents(ctx, id); err != nil {
		return nil, err
	}
	if p.Placements, err = s.db.Placements(ctx, sqldb.PlacementFilter{CaseID: id}); err != nil {
		return nil, err
	}
	for _, sl := range []any{&p.Accounts, &p.Timeline, &p.Notices, &p.Complaints, &p.Consents, &p.Placements} {
		nonNil(sl)
	}
	return p, nil
}

func nonNil(p any) {
	switch v := p.(type) {
	case *[]workout.Account:
		if *v == nil {
			*v = []workout.Account{}
		}
	case *[]workout.TimelineItem:
		if *v == nil {
			*v = []workout.TimelineItem{}
		}
	case *[]workout.Notice:
		if *v == nil {
			*v = []workout.Notice{}
		}
	case *[]workout.Complaint:
		if *v == nil {
			*v = []workout.Complaint{}
		}
	case *[]workout.Consent:
		if *v == nil {
			*v = []workout.Consent{}
		}
	case *[]workout.Placement:
		if *v == nil {
			*v = []workout.Placement{}
		}
	}
}

// RevealTarget returns the portfolio and borrower whose personal data a reveal on the case reads
// (the loan's borrower when loanRef is given, else the case's first loan's), after the scope
// check. The read itself goes through the audited personal-data path.
func (s *Service) RevealTarget(ctx context.Context, v workout.Viewer, id int64, loanRef string) (int64, string, error) {
	if _, err := s.scoped(ctx, v, id); err != nil {
		return 0, "", err
	}
	accs, err := s.db.CaseAccounts(ctx, id)
	if err != nil {
		return 0, "", err
	}
	for _, a := range accs {
		if loanRef == "" || a.LoanRef == loanRef {
			return a.PortfolioID, a.BorrowerRef, nil
		}
	}
	return 0, "", reclaim.Errorf(reclaim.ENOTFOUND, "loan %q is not in case %d", loanRef, id)
}

// debtorState derives the policy's view of the debtor from stored records.
func (s *Service) debtorState(st workout.ContactState, today date.Date) workout.DebtorState {
	ds := workout.DebtorState{DoNotContact: st.Case.DoNotContact, Deceased: st.Case.Deceased, Bankrupt: st.Case.Bankrupt,
		ValidationNoticeSent: st.NoticeDelivered, FirstCommunication: st.FirstContact, Purpose: "collection",
		TimeBarred: !st.Case.LimitationExpiry.IsZero() && st.Case.LimitationExpiry.Before(today)}
	for _, c := range st.Consents {
		switch c.Kind {
		case workout.ConsentDoNotContact:
			ds.DoNotContact = true
		case workout.ConsentThirdStop:
			ds.ThirdPartyStopped = append(ds.ThirdPartyStopped, c.Value)
		case workout.ConsentInconvenient:
			from, to, _ := strings.Cut(c.Value, "-")
			start, ok1 := clockOf(from)
			end, ok2 := clockOf(to)
			if ok1 && ok2 {
				ds.Inconvenient = append(ds.Inconvenient, workout.Window{Start: start, End: end})
			}
		}
	}
	return ds
}

// clockOf reads a local time of day "HH:MM" as the duration since midnight (24:00 is the end of
// the day); ok is false for anything else.
func clockOf(s string) (time.Duration, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, true
		}
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}

// asContact is an attempt as the policy sees it (Number is the number's blind index; At keeps
// the debtor's offset).
func asContact(a workout.Attempt) workout.Contact {
	at, err := time.Parse(time.RFC3339Nano, a.LocalAt)
	if err != nil {
		at = a.At
	}
	return workout.Contact{ID: a.ContactID, DebtorID: workout.CaseRef(a.CaseID), DebtID: a.DebtID, Channel: workout.Channel(a.Channel),
		Party: workout.Party(a.Party), Number: a.NumberKey, At: at, Outcome: workout.Outcome(a.Outcome), Consent: a.Consent,
		Agent: a.Agent, Agency: a.Agency}
}

// decide asks the policy (and the suppression rule) about c on the case.
func (s *Service) decide(st workout.ContactState, history []workout.Contact, c workout.Contact) workout.Decision {
	ds := s.debtorState(st, date.FromTime(c.At))
	d := s.opts.Policy(s.opts.Pack, ds, history, c)
	sup := workout.Suppression(ds)
	if len(sup) > 0 {
		d.Allowed = false
		// The suppression reasons first, without repeating a rule the policy gave.
		have := map[string]bool{}
		for _, v := range d.Violations {
			have[v.Rule] = true
		}
		var vs []workout.Violation
		for _, v := range sup {
			if !have[v.Rule] {
				vs = append(vs, v)
			}
		}
		d.Violations = append(vs, d.Violations...)
	}
	if d.Violations == nil {
		d.Violations = []workout.Violation{}
	}
	return d
}

// Contact records a contact on a case: the input is validated (EINVALID naming the field), the
// scope checked (ENOTFOUND), the policy asked, and the attempt recorded with the decision before
// the answer. With check set nothing is contacted: the attempt is recorded as a pre-dial check
// (source check, outcome pending) that does not count in the limits. A denied contact is not an
// error: the result says why.
func (s *Service) Contact(ctx context.Context, v workout.Viewer, caseID int64, in workout.ActionInput, source string, check bool) (*workout.ContactResult, error) {
	if !workout.IsContact(in.Kind) {
		return nil, reclaim.Errorf(reclaim.EINVALID, "kind %q is not a contact (call, sms, letter, email, visit)", in.Kind)
	}
	if check && in.Outcome == "" {
		in.Outcome = workout.ActionOutcomes(in.Kind)[0] // any valid outcome: a check decides before the outcome exists
	}
	if err := workout.ValidateAction(in); err != nil {
		return nil, err
	}
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	at := in.At
	if at.IsZero() {
		at = now.In(s.opts.Zone)
	}
	if !check { // a check may ask about a planned time; a contact recorded has happened
		if err := s.happened("at", date.FromTime(at.In(s.opts.Zone))); err != nil {
			return nil, err
		}
	}
	st, err := s.db.ContactState(ctx, caseID, at.Add(-time.Duration(s.opts.HistoryDays)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	if in.DebtID != "" {
		accs, err := s.db.CaseAccounts(ctx, caseID)
		if err != nil {
			return nil, err
		}
		found := false
		for _, a := range accs {
			found = found || a.LoanRef == in.DebtID
		}
		if !found {
			return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("debt_id %q is not a loan of case %d", in.DebtID, caseID),
				Fields: map[string]string{"field": "debt_id", "value": in.DebtID, "rule": "case_loan"}}
		}
	}
	party := in.Party
	if party == "" {
		party = "debtor"
	}
	numberKey := ""
	if in.Number != "" {
		numberKey = s.opts.NumberKey(in.Number)
	}
	outcome := string(workout.ContactOutcome(in.Kind, in.Outcome))
	if check {
		outcome = "pending"
	}
	agent := v.Username
	c := workout.Contact{ID: fmt.Sprintf("%s-%d", source, now.UnixNano()), DebtorID: workout.CaseRef(caseID), DebtID: in.DebtID,
		Channel: workout.ContactChannel(in.Kind), Party: workout.Party(party), Number: numberKey, At: at, Outcome: workout.Outcome(outcome),
		Consent: in.Consent, Agent: agent, Agency: v.Agency}
	history := make([]workout.Contact, len(st.History))
	for i, h := range st.History {
		history[i] = asContact(h)
	}
	d := s.decide(st, history, c)
	src := source
	if check {
		src = workout.SourceCheck
	}
	att := workout.Attempt{CaseID: caseID, ContactID: c.ID, DebtID: in.DebtID, Channel: string(c.Channel), Party: party, NumberKey: numberKey,
		At: at, LocalAt: at.Format(time.RFC3339), Outcome: outcome, Consent: in.Consent, Agent: agent, Agency: v.Agency, Source: src,
		Pack: string(s.opts.Pack), Allowed: d.Allowed, Reasons: workout.Reasons(d.Violations)}
	var act *workout.Action
	var lim *workout.LimitationEvent
	if d.Allowed && !check {
		act = &workout.Action{Kind: in.Kind, Channel: in.Kind, Outcome: in.Outcome, Actor: agent, Agency: v.Agency, At: at,
			RecordingRef: in.RecordingRef, Note: in.Note}
		lim = workout.ContactLimitationEvent(in.Kind, in.Outcome, in.RecordingRef, date.FromTime(at))
	}
	att, err = s.db.RecordAttempt(ctx, att, act, lim)
	if err != nil {
		return nil, err
	}
	res := &workout.ContactResult{Allowed: d.Allowed, Reasons: workout.Reasons(d.Violations), Attempt: att, Action: act}
	s.publish(ctx, caseID, "contact", res)
	return res, nil
}

// Act records a non-contact action: a legal step (legal.act is checked by the caller; its
// limitation event moves the case's expiry; a filing records the statutory court fee in fen) or
// a note.
func (s *Service) Act(ctx context.Context, v workout.Viewer, caseID int64, in workout.ActionInput) (workout.Action, error) {
	if workout.IsContact(in.Kind) {
		return workout.Action{}, reclaim.Errorf(reclaim.EINVALID, "a contact goes through the contact route (the compliance engine decides it)")
	}
	if err := workout.ValidateAction(in); err != nil {
		return workout.Action{}, err
	}
	c, err := s.scoped(ctx, v, caseID)
	if err != nil {
		return workout.Action{}, err
	}
	if in.Kind == workout.KindLegal && in.LegalStep != workout.LegalJudgment { // a judgment's date is when performance falls due
		if err := s.happened("effective", in.Effective); err != nil {
			return workout.Action{}, err
		}
	}
	a := workout.Action{CaseID: caseID, Kind: in.Kind, Actor: v.Username, Agency: v.Agency, At: s.opts.Now(), Effective: in.Effective, Note: in.Note}
	var lim *workout.LimitationEvent
	if in.Kind == workout.KindLegal {
		a.Outcome = in.LegalStep
		a.Channel = "court"
		if in.Court != "" {
			a.Note = strings.TrimSpace(in.Court + " " + a.Note)
		}
		if in.LegalStep == workout.LegalFiling {
			if in.Claim.Currency() != c.Balance.Currency() {
				return workout.Action{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("claim currency %s is not the case's %s", in.Claim.Currency(), c.Balance.Currency()),
					Fields: map[string]string{"field": "claim", "value": in.Claim.String(), "rule": "currency"}}
			}
			fee, err := workout.CourtFee(in.Claim, in.Simplified)
			if err != nil {
				return workout.Action{}, err
			}
			a.Amount = fee
			proc := "ordinary"
			if in.Simplified {
				proc = "simplified"
			}
			a.Detail = fmt.Sprintf(`{"claim":%q,"court_fee":%q,"procedure":%q}`, in.Claim.String(), fee.String(), proc)
		}
		if k := workout.LegalLimitationKind(in.LegalStep); k != "" {
			lim = &workout.LimitationEvent{Kind: k, On: in.Effective, Delivered: true}
		}
	}
	a, err = s.db.AddAction(ctx, a, lim)
	if err == nil {
		s.publish(ctx, caseID, "action", a)
	}
	return a, err
}

// Assign assigns a case to a collector ("" unassigns).
func (s *Service) Assign(ctx context.Context, v workout.Viewer, caseID int64, assignee string) error {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return err
	}
	if err := s.db.AssignCase(ctx, caseID, assignee); err != nil {
		return err
	}
	_, err := s.db.AddAction(ctx, workout.Action{CaseID: caseID, Kind: workout.KindAssign, Outcome: "assigned", Actor: v.Username,
		At: s.opts.Now(), Note: "assigned to " + assignee}, nil)
	if err == nil {
		s.publish(ctx, caseID, "assigned", map[string]string{"assignee": assignee})
	}
	return err
}

// Place places a case with an agency.
func (s *Service) Place(ctx context.Context, v workout.Viewer, caseID int64, agency, reason string) (workout.Placement, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.Placement{}, err
	}
	if strings.TrimSpace(agency) == "" {
		return workout.Placement{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "agency is required", Fields: map[string]string{"field": "agency", "rule": "required"}}
	}
	p, err := s.db.PlaceCase(ctx, caseID, agency, v.Username, reason)
	if err == nil {
		s.publish(ctx, caseID, "placed", p)
	}
	return p, err
}

// Recall recalls a case from its agency.
func (s *Service) Recall(ctx context.Context, v workout.Viewer, caseID int64, reason string) (workout.Placement, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.Placement{}, err
	}
	p, err := s.db.RecallCase(ctx, caseID, v.Username, reason)
	if err == nil {
		s.publish(ctx, caseID, "recalled", p)
	}
	return p, err
}

// Placements lists placements: an agency user's own, or for managers all (or one agency's).
func (s *Service) Placements(ctx context.Context, v workout.Viewer, agency string, openOnly bool) ([]workout.Placement, error) {
	if v.Role == reclaim.RoleAgency {
		if v.Agency == "" {
			return []workout.Placement{}, nil
		}
		agency = v.Agency
	}
	ps, err := s.db.Placements(ctx, sqldb.PlacementFilter{Agency: agency, OpenOnly: openOnly})
	if ps == nil {
		ps = []workout.Placement{}
	}
	return ps, err
}

// Complaint channels.
var ComplaintChannels = []string{"12378", "12345", "12315", "direct", "regulator", "court", "other"}

// AddComplaint records a complaint.
func (s *Service) AddComplaint(ctx context.Context, v workout.Viewer, c workout.Complaint) (workout.Complaint, error) {
	if _, err := s.scoped(ctx, v, c.CaseID); err != nil {
		return c, err
	}
	ok := false
	for _, ch := range ComplaintChannels {
		ok = ok || ch == c.Channel
	}
	if !ok {
		return c, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("complaint channel %q is not one of %s", c.Channel, strings.Join(ComplaintChannels, ", ")),
			Fields: map[string]string{"field": "channel", "value": c.Channel, "rule": "channel"}}
	}
	if strings.TrimSpace(c.Summary) == "" {
		return c, &reclaim.Error{Code: reclaim.EINVALID, Message: "a complaint needs a summary", Fields: map[string]string{"field": "summary", "rule": "required"}}
	}
	if c.ReceivedOn.IsZero() {
		c.ReceivedOn = s.today()
	}
	c.Actor = v.Username
	c, err := s.db.AddComplaint(ctx, c)
	if err == nil {
		s.publish(ctx, c.CaseID, "complaint", c)
	}
	return c, err
}

// HandleComplaint records a complaint's handling.
func (s *Service) HandleComplaint(ctx context.Context, v workout.Viewer, caseID, id int64, resolution string) (workout.Complaint, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.Complaint{}, err
	}
	if strings.TrimSpace(resolution) == "" {
		return workout.Complaint{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "the handling needs a resolution", Fields: map[string]string{"field": "resolution", "rule": "required"}}
	}
	c, err := s.db.HandleComplaint(ctx, caseID, id, v.Username, resolution)
	if err == nil {
		s.publish(ctx, caseID, "complaint", c)
	}
	return c, err
}

// AddConsent records a consent, do-not-contact, third-party stop (value: the number, stored as
// its blind index) or inconvenient time (value HH:MM-HH:MM).
func (s *Service) AddConsent(ctx context.Context, v workout.Viewer, c workout.Consent) (workout.Consent, error) {
	if _, err := s.scoped(ctx, v, c.CaseID); err != nil {
		return c, err
	}
	bad := func(field, value, rule, msg string) error {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: msg, Fields: map[string]string{"field": field, "value": value, "rule": rule}}
	}
	switch c.Kind {
	case workout.ConsentThirdStop:
		if strings.TrimSpace(c.Value) == "" {
			return c, bad("value", "", "required", "a third-party stop needs the third party's number")
		}
		c.Value = s.opts.NumberKey(c.Value)
	case workout.ConsentInconvenient:
		from, to, ok := strings.Cut(c.Value, "-")
		if _, e1 := time.Parse("15:04", from); !ok || e1 != nil {
			return c, bad("value", c.Value, "window", "an inconvenient time is HH:MM-HH:MM")
		}
		if _, e2 := time.Parse("15:04", to); e2 != nil {
			return c, bad("value", c.Value, "window", "an inconvenient time is HH:MM-HH:MM")
		}
	case workout.ConsentLateHours, workout.ConsentDoNotContact, workout.ConsentChannel:
	default:
		return c, bad("kind", c.Kind, "kind", fmt.Sprintf("consent kind %q is not one of %s", c.Kind, strings.Join(workout.ConsentKinds, ", ")))
	}
	c.Actor = v.Username
	c, err := s.db.AddConsent(ctx, c)
	if err == nil {
		s.publish(ctx, c.CaseID, "consent", c)
	}
	return c, err
}

// RevokeConsent revokes a consent record.
func (s *Service) RevokeConsent(ctx context.Context, v workout.Viewer, caseID, id int64) error {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return err
	}
	err := s.db.RevokeConsent(ctx, caseID, id, v.Username)
	if err == nil {
		s.publish(ctx, caseID, "consent_revoked", map[string]int64{"id": id})
	}
	return err
}

// Suppress sets or clears the deceased and bankrupt flags (nil leaves a flag).
func (s *Service) Suppress(ctx context.Context, v workout.Viewer, caseID int64, deceased, bankrupt *bool, note string) (workout.Action, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.Action{}, err
	}
	var parts []string
	if deceased != nil {
		parts = append(parts, fmt.Sprintf("deceased=%t", *deceased))
	}
	if bankrupt != nil {
		parts = append(parts, fmt.Sprintf("bankrupt=%t", *bankrupt))
	}
	if len(parts) == 0 {
		return workout.Action{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "give deceased or bankrupt", Fields: map[string]string{"field": "deceased", "rule": "required"}}
	}
	a, err := s.db.SetCaseFlags(ctx, caseID, nil, deceased, bankrupt, workout.Action{Kind: workout.KindSuppression, Outcome: strings.Join(parts, ","),
		Actor: v.Username, At: s.opts.Now(), Note: note})
	if err == nil {
		s.publish(ctx, caseID, "suppression", a)
	}
	return a, err
}

// Notices lists a case's notices.
func (s *Service) Notices(ctx context.Context, v workout.Viewer, caseID int64) ([]workout.Notice, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return nil, err
	}
	ns, err := s.db.Notices(ctx, caseID)
	if ns == nil {
		ns = []workout.Notice{}
	}
	return ns, err
}

// DeliverNotice records a notice's delivery (interrupting the limitation period).
func (s *Service) DeliverNotice(ctx context.Context, v workout.Viewer, caseID, noticeID int64, on date.Date, channel, proof string) (workout.Notice, error) {
	if _, err := s.scoped(ctx, v, caseID); err != nil {
		return workout.Notice{}, err
	}
	if on.IsZero() || strings.TrimSpace(channel) == "" || strings.TrimSpace(proof) == "" {
		return workout.Notice{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "a delivery needs its date, channel and proof reference",
			Fields: map[string]string{"field": "proof_ref", "rule": "required"}}
	}
	if err := s.happened("delivered_on", on); err != nil {
		return workout.Notice{}, err
	}
	n, err := s.db.DeliverNotice(ctx, caseID, noticeID, on, channel, proof, v.Username)
	if err == nil {
		s.publish(ctx, caseID, "notice_delivered", n)
	}
	return n, err
}

// parseCaseRef reads a debtor_id: "C123" or "123".
func parseCaseRef(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "C")
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// AgencyContacts records contacts an agency reports (API or file). Every contact must name a
// case placed with the viewer's agency (an agency user) or any existing case (a manager), else
// the whole feed is refused (ENOTFOUND naming the contact); the policy judges each contact in
// time order against the case's history and the feed's earlier contacts, and every contact is
// recorded (they happened) with its decision, so the limits count them.
func (s *Service) AgencyContacts(ctx context.Context, v workout.Viewer, cs []workout.Contact) (*workout.FeedResult, error) {
	res := &workout.FeedResult{Violations: []workout.FeedViolation{}, Summary: map[string]int{}}
	agency := v.Agency
	if v.Role != reclaim.RoleAgency && agency == "" {
		agency = "manager:" + v.Username
	}
	if v.Role == reclaim.RoleAgency && agency == "" {
		return nil, reclaim.Errorf(reclaim.EFORBIDDEN, "user %s belongs to no agency", v.Username)
	}
	type caseData struct {
		st      workout.ContactState
		history []workout.Contact
	}
	cases := map[int64]*caseData{}
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cs[order[a]].At.Before(cs[order[b]].At) })
	var earliest time.Time
	for _, c := range cs {
		if earliest.IsZero() || c.At.Before(earliest) {
			earliest = c.At
		}
	}
	for i, c := range cs {
		id, ok := parseCaseRef(c.DebtorID)
		if !ok {
			return nil, &reclaim.Error{Code: reclaim.ENOTFOUND, Message: fmt.Sprintf("contact %s: unknown debtor %q", c.ID, c.DebtorID),
				Fields: map[string]string{"line": strconv.Itoa(i + 2), "field": "debtor_id", "value": c.DebtorID, "rule": "known_debtor"}}
		}
		if _, done := cases[id]; done {
			continue
		}
		cs, err := s.scoped(ctx, v, id)
		if err == nil && v.Role == reclaim.RoleAgency && cs.Agency != v.Agency {
			err = reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", id)
		}
		if err != nil {
			if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
				return nil, &reclaim.Error{Code: reclaim.ENOTFOUND, Message: fmt.Sprintf("contact %s: unknown debtor %q", c.ID, c.DebtorID),
					Fields: map[string]string{"line": strconv.Itoa(i + 2), "field": "debtor_id", "value": c.DebtorID, "rule": "known_debtor"}}
			}
			return nil, err
		}
		st, err := s.db.ContactState(ctx, id, earliest.Add(-time.Duration(s.opts.HistoryDays)*24*time.Hour))
		if err != nil {
			return nil, err
		}
		cd := &caseData{st: st}
		for _, h := range st.History {
			cd.history = append(cd.history, asContact(h))
		}
		cases[id] = cd
	}
	var ats []workout.Attempt
	for _, i := range order {
		c := cs[i]
		id, _ := parseCaseRef(c.DebtorID)
		cd := cases[id]
		c.DebtorID = workout.CaseRef(id)
		c.Agency = agency
		if c.Agent == "" {
			c.Agent = v.Username
		}
		if c.Number != "" {
			c.Number = s.opts.NumberKey(c.Number)
		}
		d := s.decide(cd.st, cd.history, c)
		cd.history = append(cd.history, c)
		for _, vi := range d.Violations {
			res.Violations = append(res.Violations, workout.FeedViolation{ContactID: c.ID, Rule: vi.Rule, Message: vi.Message})
			res.Summary[vi.Rule]++
		}
		if !d.Allowed {
			res.Flagged++
		}
		ats = append(ats, workout.Attempt{CaseID: id, ContactID: c.ID, DebtID: c.DebtID, Channel: string(c.Channel), Party: string(c.Party),
			NumberKey: c.Number, At: c.At, LocalAt: c.At.Format(time.RFC3339), Outcome: string(c.Outcome), Consent: c.Consent, Agent: c.Agent,
			Agency: agency, Source: workout.SourceAgency, Pack: string(s.opts.Pack), Allowed: d.Allowed, Reasons: workout.Reasons(d.Violations)})
	}
	out, err := s.db.RecordAgencyAttempts(ctx, ats)
	if err != nil {
		return nil, err
	}
	res.Contacts = len(out)
	res.Attempts = out
	for id := range cases {
		s.publish(ctx, id, "agency_contacts", map[string]any{"agency": agency})
	}
	return res, nil
}

// AgencyFile parses a contact-log CSV (workout.ParseAgencyFeed) and records it.
func (s *Service) AgencyFile(ctx context.Context, v workout.Viewer, r io.Reader) (*workout.FeedResult, error) {
	cs, err := workout.ParseAgencyFeed(r)
	if err != nil {
		return nil, err
	}
	return s.AgencyContacts(ctx, v, cs)
}

// Report is the compliance report over [from, to] (the debtors' local days): per day, agent and
// agency, the attempts and how many were denied (or, for agency reports, flagged), by rule.
func (s *Service) Report(ctx context.Context, from, to date.Date, agent, agency string) ([]workout.AttemptSummary, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "give from and to dates, from not after to",
			Fields: map[string]string{"field": "from", "rule": "range"}}
	}
	// Local days may start up to 14 hours before or after UTC midnight: read a margin, then
	// keep the attempts whose local day is in range.
	ats, err := s.db.Attempts(ctx, sqldb.AttemptFilter{From: from.Time().Add(-14 * time.Hour), To: to.AddDays(1).Time().Add(14 * time.Hour),
		Agent: agent, Agency: agency})
	if err != nil {
		return nil, err
	}
	return SummarizeAttempts(ats, from, to), nil
}

// SummarizeAttempts groups attempts by local day, agent and agency (pre-dial checks excluded),
// in that order, counting attempts, denials and the rules broken.
func SummarizeAttempts(ats []workout.Attempt, from, to date.Date) []workout.AttemptSummary {
	type key struct{ day, agent, agency string }
	m := map[key]*workout.AttemptSummary{}
	for _, a := range ats {
		if a.Source == workout.SourceCheck {
			continue
		}
		day := a.LocalAt
		if len(day) >= 10 {
			day = day[:10]
		}
		if day < from.String() || day > to.String() {
			continue
		}
		k := key{day, a.Agent, a.Agency}
		r := m[k]
		if r == nil {
			r = &workout.AttemptSummary{Day: day, Agent: a.Agent, Agency: a.Agency, ByRule: map[string]int{}}
			m[k] = r
		}
		r.Attempts++
		if !a.Allowed {
			r.Denied++
		}
		for _, v := range a.Reasons {
			r.ByRule[v.Rule]++
		}
	}
	out := make([]workout.AttemptSummary, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Agent != b.Agent {
			return a.Agent < b.Agent
		}
		return a.Agency < b.Agency
	})
	return out
}

// HexKey is the usual NumberKey: the hex of a blind-index hash function.
func HexKey(hash func(string) []byte) func(string) string {
	return func(n string) string {
		h := hash(n)
		if h == nil {
			return ""
		}
		return hex.EncodeToString(h)
	}
}
