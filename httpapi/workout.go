package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/textnorm"
	"reclaim/workout"
)

// WorkoutService is the workout (issue 12; docs/workout-api.md): acquisition and boarding,
// cases and their scope, contacts decided by the compliance engine, actions, agency feeds and
// the compliance report. cmd/reclaim wires package workout/service in. Every method that takes a
// viewer checks the case scope itself (a case outside it is ENOTFOUND).
type WorkoutService interface {
	Viewer(ctx context.Context, u reclaim.User) (workout.Viewer, error)
	Board(ctx context.Context, spec workout.BoardSpec) (workout.BoardResult, error)
	Cases(ctx context.Context, v workout.Viewer, q workout.CaseQuery) ([]workout.CaseRow, error)
	Case(ctx context.Context, v workout.Viewer, id int64) (*workout.CasePage, error)
	RevealTarget(ctx context.Context, v workout.Viewer, id int64, loanRef string) (int64, string, error)
	Contact(ctx context.Context, v workout.Viewer, id int64, in workout.ActionInput, source string, check bool) (*workout.ContactResult, error)
	Act(ctx context.Context, v workout.Viewer, id int64, in workout.ActionInput) (workout.Action, error)
	Assign(ctx context.Context, v workout.Viewer, id int64, assignee string) error
	Place(ctx context.Context, v workout.Viewer, id int64, agency, reason string) (workout.Placement, error)
	Recall(ctx context.Context, v workout.Viewer, id int64, reason string) (workout.Placement, error)
	Placements(ctx context.Context, v workout.Viewer, agency string, openOnly bool) ([]workout.Placement, error)
	AddComplaint(ctx context.Context, v workout.Viewer, c workout.Complaint) (workout.Complaint, error)
	HandleComplaint(ctx context.Context, v workout.Viewer, caseID, id int64, resolution string) (workout.Complaint, error)
	AddConsent(ctx context.Context, v workout.Viewer, c workout.Consent) (workout.Consent, error)
	RevokeConsent(ctx context.Context, v workout.Viewer, caseID, id int64) error
	Suppress(ctx context.Context, v workout.Viewer, caseID int64, deceased, bankrupt *bool, note string) (workout.Action, error)
	Notices(ctx context.Context, v workout.Viewer, caseID int64) ([]workout.Notice, error)
	DeliverNotice(ctx context.Context, v workout.Viewer, caseID, noticeID int64, on date.Date, channel, proof string) (workout.Notice, error)
	AgencyContacts(ctx context.Context, v workout.Viewer, cs []workout.Contact) (*workout.FeedResult, error)
	AgencyFile(ctx context.Context, v workout.Viewer, r io.Reader) (*workout.FeedResult, error)
	Report(ctx context.Context, from, to date.Date, agent, agency string) ([]workout.AttemptSummary, error)
	SetAgencyMember(ctx context.Context, username, agency string) error
	CreateCampaign(ctx context.Context, v workout.Viewer, spec workout.CampaignSpec) (workout.Campaign, bool, error)
	Campaign(ctx context.Context, id int64) (workout.Campaign, error)
	Campaigns(ctx context.Context, limit int) ([]workout.Campaign, error)
	PlanDay(ctx context.Context, v workout.Viewer, day date.Date, strat *workout.Strategy) (*workout.DayPlan, error)
	Queue(ctx context.Context, v workout.Viewer, day date.Date) ([]workout.PlanItem, error)
	TrainContactModel(ctx context.Context, v workout.Viewer, req workout.ContactTrainRequest) (workout.ContactModelInfo, error)
	ContactModel(ctx context.Context, v workout.Viewer) (workout.ContactModelCard, error)
}

// CasePath identifies a case.
type CasePath struct {
	ID int64 `path:"id" minimum:"1" doc:"case id (the number of its reference C<id>)"`
}

// BoardInput records the purchase of a portfolio and boards it.
type BoardInput struct {
	PortfolioPath
	Body struct {
		AwardDate date.Date `json:"award_date" doc:"the date the package was awarded (YYYY-MM-DD); also the boarding date"`
		Price     string    `json:"price" doc:"price paid, decimal string in the portfolio currency (\"1234567.89\")"`
		Bid       string    `json:"bid,omitempty" doc:"the AMC's bid (decimal string), when known"`
		Seller    string    `json:"seller,omitempty" maxLength:"200" doc:"the assignor named in the notices; default: the portfolio's seller"`
		Buyer     string    `json:"buyer,omitempty" maxLength:"200" doc:"the assignee named in the notices"`
	}
}

// CasesInput selects cases.
type CasesInput struct {
	Mine         bool   `query:"mine" doc:"only the cases assigned to me"`
	ExpiringDays int    `query:"expiring_days" minimum:"0" maximum:"3650" doc:"only cases whose limitation expires within this many days (expired ones included)"`
	After        int64  `query:"after" minimum:"0" doc:"keyset paging: case ids greater than this"`
	Limit        int    `query:"limit" minimum:"0" maximum:"1000" doc:"default 100"`
	Assignee     string `query:"assignee" maxLength:"64" doc:"managers: one collector's cases"`
	Agency       string `query:"agency" maxLength:"200" doc:"managers: one agency's placements"`
	Closed       bool   `query:"closed" doc:"include closed cases"`
}

// CaseList is a list of cases with their limitation warnings.
type CaseList struct {
	Items []workout.CaseRow `json:"items"`
}

// CaseRevealInput asks for a case's personal data with the reason (audited, like the portfolio
// route).
type CaseRevealInput struct {
	CasePath
	Body struct {
		Purpose string `json:"purpose" minLength:"5" maxLength:"500" doc:"why the data is needed; recorded in the audit log"`
		LoanRef string `json:"loan_ref,omitempty" maxLength:"200" doc:"the loan whose borrower to read; default: the case's first loan"`
	}
}

// ContactBody is a contact (workout.ActionInput's contact fields).
type ContactBody struct {
	Kind         string    `json:"kind" doc:"call, sms, letter, email, visit"`
	Outcome      string    `json:"outcome,omitempty" doc:"call: no_answer, busy, invalid_number, answered, wrong_party, promise_to_pay, refusal; sms, letter, email: delivered, failed; visit: visited, not_found (not needed for a check)"`
	Party        string    `json:"party,omitempty" doc:"debtor (default) or third_party"`
	Number       string    `json:"number,omitempty" maxLength:"40" doc:"the number dialled or texted (calls, SMS); only its blind index is stored"`
	At           time.Time `json:"at,omitzero" doc:"when, RFC 3339 with the debtor's UTC offset; default now at UTC+8"`
	Consent      string    `json:"consent,omitempty" doc:"empty or late_hours"`
	RecordingRef string    `json:"recording_ref,omitempty" maxLength:"200" doc:"recording or proof reference: required for a visit (CN-6); with a delivered letter, SMS or email it makes a demand with proof of delivery, with a promise_to_pay call an acknowledgement (both interrupt the limitation period)"`
	DebtID       string    `json:"debt_id,omitempty" maxLength:"200" doc:"the loan the contact is about"`
	Note         string    `json:"note,omitempty" maxLength:"2000"`
}

// ContactInput is a contact on a case (asked of the compliance engine first).
type ContactInput struct {
	CasePath
	Client string `header:"X-Reclaim-Client" maxLength:"20" doc:"console when the console sends it (recorded as the attempt's source); anything else is api"`
	Body   ContactBody
}

// NoteInput is a note on a case.
type NoteInput struct {
	CasePath
	Body struct {
		Note string `json:"note" maxLength:"4000"`
	}
}

// LegalInput is a legal step.
type LegalInput struct {
	CasePath
	Body struct {
		LegalStep  string    `json:"legal_step" doc:"filing, judgment, enforcement, enforcement_terminated (终本), enforcement_restored"`
		Effective  date.Date `json:"effective" doc:"the step's date, YYYY-MM-DD (a judgment: the date performance was due)"`
		Claim      string    `json:"claim,omitempty" doc:"a filing's claim, decimal string; the statutory court fee is computed from it"`
		Simplified bool      `json:"simplified,omitempty" doc:"simplified procedure (fee halved)"`
		Court      string    `json:"court,omitempty" maxLength:"200"`
		Note       string    `json:"note,omitempty" maxLength:"2000"`
	}
}

// AssignInput assigns a case.
type AssignInput struct {
	CasePath
	Body struct {
		Assignee string `json:"assignee" maxLength:"64" doc:"username of the collector; empty unassigns"`
	}
}

// PlaceInput places a case with an agency.
type PlaceInput struct {
	CasePath
	Body struct {
		Agency string `json:"agency" maxLength:"200"`
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

// RecallInput recalls a case from its agency.
type RecallInput struct {
	CasePath
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

// PlacementsInput lists placements.
type PlacementsInput struct {
	Agency string `query:"agency" maxLength:"200"`
	Open   bool   `query:"open" doc:"only placements not recalled"`
}

// ComplaintInput records a complaint.
type ComplaintInput struct {
	CasePath
	Body struct {
		Channel    string    `json:"channel" doc:"12378, 12345, 12315, direct, regulator, court or other"`
		ReceivedOn date.Date `json:"received_on,omitzero"`
		Summary    string    `json:"summary" maxLength:"2000"`
	}
}

// HandleComplaintInput records a complaint's handling.
type HandleComplaintInput struct {
	CasePath
	Body struct {
		ComplaintID int64  `json:"complaint_id"`
		Resolution  string `json:"resolution" maxLength:"2000"`
	}
}

// ConsentInput records a consent or do-not-contact record.
type ConsentInput struct {
	CasePath
	Body struct {
		Kind  string `json:"kind" doc:"late_hours, do_not_contact, third_party_stop (value: the number), inconvenient (value: HH:MM-HH:MM), channel"`
		Value string `json:"value,omitempty" maxLength:"200"`
		Ref   string `json:"ref,omitempty" maxLength:"200" doc:"where the debtor said so (call recording, letter)"`
	}
}

// RevokeConsentInput revokes a consent record.
type RevokeConsentInput struct {
	CasePath
	Body struct {
		ConsentID int64 `json:"consent_id"`
	}
}

// SuppressInput sets the deceased and bankrupt flags.
type SuppressInput struct {
	CasePath
	Body struct {
		Deceased *bool  `json:"deceased,omitempty"`
		Bankrupt *bool  `json:"bankrupt,omitempty"`
		Note     string `json:"note,omitempty" maxLength:"500"`
	}
}

// DeliverNoticeInput records a notice's delivery.
type DeliverNoticeInput struct {
	CasePath
	Body struct {
		NoticeID    int64     `json:"notice_id"`
		DeliveredOn date.Date `json:"delivered_on"`
		Channel     string    `json:"channel" maxLength:"50" doc:"post, ems, sms, email, in_person, court"`
		ProofRef    string    `json:"proof_ref" maxLength:"200" doc:"tracking number, receipt or signature reference"`
	}
}

// FeedContact is one contact of an agency feed (the contact-log fields).
type FeedContact struct {
	ContactID string `json:"contact_id"`
	DebtorID  string `json:"debtor_id" doc:"the case reference C<id>"`
	DebtID    string `json:"debt_id,omitempty"`
	Channel   string `json:"channel" doc:"call, sms, visit, letter, email"`
	Party     string `json:"party" doc:"debtor or third_party"`
	Number    string `json:"number,omitempty"`
	At        string `json:"at" doc:"RFC 3339 with the debtor's UTC offset"`
	Outcome   string `json:"outcome"`
	Consent   string `json:"consent,omitempty"`
	Agent     string `json:"agent,omitempty"`
}

// AgencyContactsInput is an agency feed by API.
type AgencyContactsInput struct {
	Body struct {
		Contacts []FeedContact `json:"contacts" maxItems:"10000"`
	}
}

// AgencyFileInput is an agency feed as a contact-log CSV file.
type AgencyFileInput struct {
	RawBody []byte `contentType:"text/csv"`
}

// ReportInput asks for the compliance report.
type ReportInput struct {
	From   string `query:"from" doc:"first local day, YYYY-MM-DD"`
	To     string `query:"to" doc:"last local day, YYYY-MM-DD"`
	Agent  string `query:"agent" maxLength:"64"`
	Agency string `query:"agency" maxLength:"200"`
}

// AgencyMemberInput sets an agency user's agency.
type AgencyMemberInput struct {
	Body struct {
		Username string `json:"username" maxLength:"64"`
		Agency   string `json:"agency" maxLength:"200" doc:"empty removes the membership"`
	}
}

type (
	boardOut            struct{ Body workout.BoardResult }
	caseListOut         struct{ Body CaseList }
	casePageOut         struct{ Body *workout.CasePage }
	contactOut          struct{ Body *workout.ContactResult }
	actionOut           struct{ Body workout.Action }
	placementOut        struct{ Body workout.Placement }
	placementsOut       struct{ Body []workout.Placement }
	complaintOut        struct{ Body workout.Complaint }
	consentOut          struct{ Body workout.Consent }
	noticesOut          struct{ Body []workout.Notice }
	noticeOut           struct{ Body workout.Notice }
	feedOut             struct{ Body *workout.FeedResult }
	complianceReportOut struct {
		Body struct {
			From string                   `json:"from"`
			To   string                   `json:"to"`
			Rows []workout.AttemptSummary `json:"rows"`
		}
	}
	okOut struct {
		Body struct {
			OK bool `json:"ok"`
		}
	}
)

func (s *Server) viewer(ctx context.Context) (workout.Viewer, error) {
	u := reclaim.UserFrom(ctx)
	if u == nil {
		return workout.Viewer{}, reclaim.Errorf(reclaim.EUNAUTHORIZED, "sign in first")
	}
	return s.cfg.Workout.Viewer(ctx, *u)
}

func parseMoneyField(field, v string, c money.Currency, required bool) (money.Amount, error) {
	if v == "" && !required {
		return money.Amount{}, nil
	}
	a, err := money.ParseStrict(v, c)
	if err != nil {
		return money.Amount{}, &reclaim.Error{Code: reclaim.EINVALID, Message: field + " must be a decimal amount such as \"1234567.89\"",
			Fields: map[string]string{"field": field, "value": v, "rule": "decimal"}}
	}
	return a, nil
}

func (s *Server) workoutRoutes() {
	w := s.cfg.Workout
	if w == nil {
		return
	}
	tags := []string{"workout"}
	register(s, reclaim.PermPortfolioBoard, huma.Operation{OperationID: "board-portfolio", Method: http.MethodPost,
		Path: "/api/v1/portfolios/{id}/acquisition", Summary: "Record the purchase of a portfolio and board it into servicing",
		Description: "Creates the servicing accounts (cost basis by claim share), joins each debtor's loans into a case (keyed blind index across portfolios), and generates a notice of assignment per case.",
		Tags:        tags, Errors: []int{400, 404, 409}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *BoardInput) (*boardOut, error) {
			p, err := s.store.GetPortfolio(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			price, err := parseMoneyField("price", in.Body.Price, p.Currency, true)
			if err != nil {
				return nil, err
			}
			bid, err := parseMoneyField("bid", in.Body.Bid, p.Currency, false)
			if err != nil {
				return nil, err
			}
			res, err := w.Board(ctx, workout.BoardSpec{PortfolioID: in.ID, AwardDate: in.Body.AwardDate, Price: price, Bid: bid,
				Seller: in.Body.Seller, Buyer: in.Body.Buyer, Actor: reclaim.Actor(ctx)})
			return &boardOut{Body: res}, err
		})
	register(s, reclaim.PermCaseRead, huma.Operation{OperationID: "list-cases", Method: http.MethodGet,
		Path: "/api/v1/cases", Summary: "Cases I may see (a collector's queue: earliest limitation expiry first)", Tags: tags},
		func(ctx context.Context, in *CasesInput) (*caseListOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			rows, err := w.Cases(ctx, v, workout.CaseQuery{Mine: in.Mine, ExpiringDays: in.ExpiringDays, AfterID: in.After, Limit: in.Limit,
				Assignee: in.Assignee, AgencyFilter: in.Agency, IncludeClosed: in.Closed})
			if rows == nil {
				rows = []workout.CaseRow{}
			}
			return &caseListOut{Body: CaseList{Items: rows}}, err
		})
	register(s, reclaim.PermCaseRead, huma.Operation{OperationID: "get-case", Method: http.MethodGet,
		Path: "/api/v1/cases/{id}", Summary: "A case page: masked data, accounts, timeline, notices, complaints, consents, placements",
		Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *CasePath) (*casePageOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			p, err := w.Case(ctx, v, in.ID)
			return &casePageOut{Body: p}, err
		})
	register(s, reclaim.PermCasePersonal, huma.Operation{OperationID: "reveal-case-personal", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/personal", Summary: "Decrypted personal data of a case's debtor (purpose required, audited)",
		Tags: tags, Errors: []int{400, 404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *CaseRevealInput) (*personalOut, error) {
			purpose := textnorm.Trim(in.Body.Purpose)
			if textnorm.Len(purpose) < minPurpose {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "say why you need the data, in at least 5 characters",
					Fields: map[string]string{"purpose": "at least 5 characters once leading and trailing spaces are removed"}}
			}
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			acc := reclaim.Access{Actor: reclaim.Actor(ctx), Purpose: "case " + strconv.FormatInt(in.ID, 10) + ": " + purpose}
			pid, ref, err := w.RevealTarget(ctx, v, in.ID, in.Body.LoanRef)
			if err != nil {
				if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
					if rerr := s.store.RecordPIIRefusal(ctx, reclaim.PIIRefusal{Actor: acc.Actor, Role: string(v.Role), Route: "case", CaseID: in.ID,
						BorrowerRef: in.Body.LoanRef, Purpose: acc.Purpose, Reason: reclaim.RefusedNotFound}); rerr != nil {
						return nil, rerr
					}
				}
				return nil, err
			}
			// The same scoped read as the portfolio route: the scope is checked again in the
			// read's own transaction.
			p, err := s.store.ReadPersonalAs(ctx, acc, v, "case", in.ID, pid, ref)
			return &personalOut{Body: p}, err
		})
	contact := func(check bool) func(ctx context.Context, in *ContactInput) (*contactOut, error) {
		return func(ctx context.Context, in *ContactInput) (*contactOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			src := workout.SourceAPI
			if in.Client == "console" {
				src = workout.SourceConsole
			}
			b := in.Body
			res, err := w.Contact(ctx, v, in.ID, workout.ActionInput{Kind: b.Kind, Outcome: b.Outcome, Party: b.Party, Number: b.Number, At: b.At,
				Consent: b.Consent, RecordingRef: b.RecordingRef, DebtID: b.DebtID, Note: b.Note}, src, check)
			return &contactOut{Body: res}, err
		}
	}
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "record-contact", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/contacts", Summary: "Record a contact (call, sms, letter, email, visit): the compliance engine decides first",
		Description: "The answer is 200 either way: allowed true with the recorded action, or allowed false with the reasons (rule ids). Every attempt is recorded.",
		Tags:        tags, Errors: []int{400, 404}, DefaultStatus: http.StatusOK}, contact(false))
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "check-contact", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/contacts/check", Summary: "Ask the compliance engine before dialling (recorded as a check; not a contact)",
		Tags: tags, Errors: []int{400, 404}, DefaultStatus: http.StatusOK}, contact(true))
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "record-note", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/notes", Summary: "Add a note to a case", Tags: tags, Errors: []int{400, 404}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *NoteInput) (*actionOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			a, err := w.Act(ctx, v, in.ID, workout.ActionInput{Kind: workout.KindNote, Note: in.Body.Note})
			return &actionOut{Body: a}, err
		})
	register(s, reclaim.PermLegalAct, huma.Operation{OperationID: "record-legal-step", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/legal", Summary: "Record a legal step (filing with its statutory court fee, judgment, enforcement, 终本, restoration)",
		Tags: tags, Errors: []int{400, 404}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *LegalInput) (*actionOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			b := in.Body
			ai := workout.ActionInput{Kind: workout.KindLegal, LegalStep: b.LegalStep, Effective: b.Effective, Simplified: b.Simplified,
				Court: b.Court, Note: b.Note}
			if b.Claim != "" {
				c, err := w.Case(ctx, v, in.ID)
				if err != nil {
					return nil, err
				}
				if ai.Claim, err = parseMoneyField("claim", b.Claim, c.Balance.Currency(), true); err != nil {
					return nil, err
				}
			}
			a, err := w.Act(ctx, v, in.ID, ai)
			return &actionOut{Body: a}, err
		})
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "assign-case", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/assign", Summary: "Assign a case to a collector", Tags: tags, Errors: []int{404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *AssignInput) (*okOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			out := &okOut{}
			err = w.Assign(ctx, v, in.ID, in.Body.Assignee)
			out.Body.OK = err == nil
			return out, err
		})
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "place-case", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/placement", Summary: "Place a case with an external agency", Tags: tags, Errors: []int{400, 404, 409},
		DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *PlaceInput) (*placementOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			p, err := w.Place(ctx, v, in.ID, in.Body.Agency, in.Body.Reason)
			return &placementOut{Body: p}, err
		})
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "recall-case", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/recall", Summary: "Recall a case from its agency", Tags: tags, Errors: []int{404, 409}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *RecallInput) (*placementOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			p, err := w.Recall(ctx, v, in.ID, in.Body.Reason)
			return &placementOut{Body: p}, err
		})
	register(s, reclaim.PermCaseRead, huma.Operation{OperationID: "list-placements", Method: http.MethodGet,
		Path: "/api/v1/placements", Summary: "Agency placements (an agency user: its own)", Tags: tags},
		func(ctx context.Context, in *PlacementsInput) (*placementsOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			ps, err := w.Placements(ctx, v, in.Agency, in.Open)
			return &placementsOut{Body: ps}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "add-complaint", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/complaints", Summary: "Record a complaint (12378 and others)", Tags: tags, Errors: []int{400, 404},
		DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *ComplaintInput) (*complaintOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			c, err := w.AddComplaint(ctx, v, workout.Complaint{CaseID: in.ID, Channel: in.Body.Channel, ReceivedOn: in.Body.ReceivedOn, Summary: in.Body.Summary})
			return &complaintOut{Body: c}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "handle-complaint", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/complaints/handle", Summary: "Record a complaint's handling", Tags: tags, Errors: []int{400, 404, 409},
		DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *HandleComplaintInput) (*complaintOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			c, err := w.HandleComplaint(ctx, v, in.ID, in.Body.ComplaintID, in.Body.Resolution)
			return &complaintOut{Body: c}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "add-consent", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/consents", Summary: "Record a consent, do-not-contact, third-party stop or inconvenient time", Tags: tags,
		Errors: []int{400, 404}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *ConsentInput) (*consentOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			c, err := w.AddConsent(ctx, v, workout.Consent{CaseID: in.ID, Kind: in.Body.Kind, Value: in.Body.Value, Ref: in.Body.Ref})
			return &consentOut{Body: c}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "revoke-consent", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/consents/revoke", Summary: "Revoke a consent record", Tags: tags, Errors: []int{404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *RevokeConsentInput) (*okOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			out := &okOut{}
			err = w.RevokeConsent(ctx, v, in.ID, in.Body.ConsentID)
			out.Body.OK = err == nil
			return out, err
		})
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "suppress-case", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/suppression", Summary: "Mark the debtor deceased or bankrupt (suppresses every contact)", Tags: tags,
		Errors: []int{400, 404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *SuppressInput) (*actionOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			a, err := w.Suppress(ctx, v, in.ID, in.Body.Deceased, in.Body.Bankrupt, in.Body.Note)
			return &actionOut{Body: a}, err
		})
	register(s, reclaim.PermCaseRead, huma.Operation{OperationID: "list-notices", Method: http.MethodGet,
		Path: "/api/v1/cases/{id}/notices", Summary: "A case's notices of assignment (masked text and HTML)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *CasePath) (*noticesOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			ns, err := w.Notices(ctx, v, in.ID)
			return &noticesOut{Body: ns}, err
		})
	register(s, reclaim.PermCaseWork, huma.Operation{OperationID: "deliver-notice", Method: http.MethodPost,
		Path: "/api/v1/cases/{id}/notices/deliver", Summary: "Record a notice's delivery (interrupts the limitation period)", Tags: tags,
		Errors: []int{400, 404, 409}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *DeliverNoticeInput) (*noticeOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			n, err := w.DeliverNotice(ctx, v, in.ID, in.Body.NoticeID, in.Body.DeliveredOn, in.Body.Channel, in.Body.ProofRef)
			return &noticeOut{Body: n}, err
		})
	register(s, reclaim.PermAgencyReport, huma.Operation{OperationID: "agency-contacts", Method: http.MethodPost,
		Path: "/api/v1/agency/contacts", Summary: "An agency reports its contacts (JSON); they count in the limits", Tags: tags,
		Errors: []int{400, 404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *AgencyContactsInput) (*feedOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			// The JSON form is the CSV form: one parser validates both.
			var buf bytes.Buffer
			buf.WriteString("contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\n")
			for _, c := range in.Body.Contacts {
				writeCSVLine(&buf, c.ContactID, c.DebtorID, c.DebtID, c.Channel, c.Party, c.Number, c.At, c.Outcome, c.Consent)
			}
			res, err := w.AgencyFile(ctx, v, &buf)
			return &feedOut{Body: res}, err
		})
	register(s, reclaim.PermAgencyReport, huma.Operation{OperationID: "agency-contacts-file", Method: http.MethodPost,
		Path: "/api/v1/agency/contacts.csv", Summary: "An agency reports its contacts as a contact-log CSV file", Tags: tags,
		Errors: []int{400, 404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *AgencyFileInput) (*feedOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			res, err := w.AgencyFile(ctx, v, bytes.NewReader(in.RawBody))
			return &feedOut{Body: res}, err
		})
	register(s, reclaim.PermCaseAssign, huma.Operation{OperationID: "set-agency-member", Method: http.MethodPost,
		Path: "/api/v1/agency/members", Summary: "Make an agency user a member of an agency", Tags: tags, Errors: []int{400}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *AgencyMemberInput) (*okOut, error) {
			out := &okOut{}
			if in.Body.Username == "" {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "username is required", Fields: map[string]string{"field": "username", "rule": "required"}}
			}
			err := w.SetAgencyMember(ctx, in.Body.Username, in.Body.Agency)
			out.Body.OK = err == nil
			return out, err
		})
	register(s, reclaim.PermComplianceReport, huma.Operation{OperationID: "compliance-report", Method: http.MethodGet,
		Path: "/api/v1/compliance/report", Summary: "Contact attempts per local day, agent and agency, with denials by rule", Tags: tags,
		Errors: []int{400}},
		func(ctx context.Context, in *ReportInput) (*complianceReportOut, error) {
			today := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
			from, to := today, today
			var err error
			if in.From != "" {
				if from, err = date.Parse(in.From); err != nil {
					return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "from must be YYYY-MM-DD", Fields: map[string]string{"field": "from", "value": in.From, "rule": "date"}}
				}
			}
			if in.To != "" {
				if to, err = date.Parse(in.To); err != nil {
					return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "to must be YYYY-MM-DD", Fields: map[string]string{"field": "to", "value": in.To, "rule": "date"}}
				}
			} else if in.From != "" {
				to = from
			}
			rows, err := w.Report(ctx, from, to, in.Agent, in.Agency)
			out := &complianceReportOut{}
			out.Body.From, out.Body.To, out.Body.Rows = from.String(), to.String(), rows
			if out.Body.Rows == nil {
				out.Body.Rows = []workout.AttemptSummary{}
			}
			return out, err
		})
	s.campaignRoutes()
	s.courtFeeRoute(tags)
	s.queueRoutes()
}

// CampaignInput starts a bulk campaign.
type CampaignInput struct {
	Body struct {
		Key         string                    `json:"key" maxLength:"100" doc:"idempotency key chosen by the client: the same key and request again returns the campaign made the first time (200), the same key with another request is 409"`
		Name        string                    `json:"name" maxLength:"200"`
		Channel     string                    `json:"channel" doc:"sms, letter or email"`
		Template    string                    `json:"template" maxLength:"64" doc:"the message template's id"`
		Selection   workout.CampaignSelection `json:"selection" doc:"case_ids (at most 10,000), or filters portfolio_id, assignee, agency (all of them must match), or all: true; only open cases"`
		MaxPerDay   int                       `json:"max_per_day,omitempty" doc:"per-debtor cap of contacts on this channel per local day, counting every source (0: none)"`
		ScheduledAt time.Time                 `json:"scheduled_at" doc:"when to send, RFC 3339; each contact is decided by the compliance engine when it is sent"`
	}
}

// CampaignPath identifies a campaign.
type CampaignPath struct {
	ID int64 `path:"id" minimum:"1"`
}

// CampaignsInput lists campaigns.
type CampaignsInput struct {
	Limit int `query:"limit" minimum:"0" maximum:"1000" doc:"default 100"`
}

type campaignOut struct {
	Status int
	Body   workout.Campaign
}

type campaignsOut struct{ Body []workout.Campaign }

func (s *Server) campaignRoutes() {
	w := s.cfg.Workout
	tags := []string{"workout"}
	register(s, reclaim.PermCampaignRun, huma.Operation{OperationID: "create-campaign", Method: http.MethodPost,
		Path: "/api/v1/workout/campaigns", Summary: "Start a bulk contact campaign (SMS, letter, email); each contact is decided by the compliance engine when sent",
		Description: "201 with the new campaign; 200 with the stored one when the same key and request come again (a retry sends nothing twice); 409 when the key was used for another request. Progress and the result by rule id: GET /api/v1/workout/campaigns/{id} or the SSE topic workout (type campaign).",
		Tags:        tags, Errors: []int{400, 409}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *CampaignInput) (*campaignOut, error) {
			v, err := s.viewer(ctx)
			if err != nil {
				return nil, err
			}
			b := in.Body
			c, created, err := w.CreateCampaign(ctx, v, workout.CampaignSpec{Key: b.Key, Name: b.Name, Channel: b.Channel, Template: b.Template,
				Selection: b.Selection, MaxPerDay: b.MaxPerDay, ScheduledAt: b.ScheduledAt})
			if err != nil {
				return nil, err
			}
			out := &campaignOut{Status: http.StatusCreated, Body: c}
			if !created {
				out.Status = http.StatusOK
			}
			return out, nil
		})
	register(s, reclaim.PermComplianceReport, huma.Operation{OperationID: "list-campaigns", Method: http.MethodGet,
		Path: "/api/v1/workout/campaigns", Summary: "Bulk campaigns, newest first, with progress and results", Tags: tags},
		func(ctx context.Context, in *CampaignsInput) (*campaignsOut, error) {
			cs, err := w.Campaigns(ctx, in.Limit)
			if cs == nil {
				cs = []workout.Campaign{}
			}
			return &campaignsOut{Body: cs}, err
		})
	register(s, reclaim.PermComplianceReport, huma.Operation{OperationID: "get-campaign", Method: http.MethodGet,
		Path: "/api/v1/workout/campaigns/{id}", Summary: "One campaign: progress (done of total) and result (sent, denied by rule id)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *CampaignPath) (*campaignOut, error) {
			c, err := w.Campaign(ctx, in.ID)
			return &campaignOut{Status: http.StatusOK, Body: c}, err
		})
}

func writeCSVLine(b *bytes.Buffer, fields ...string) {
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if bytes.ContainsAny([]byte(f), ",\"\n\r") {
			b.WriteByte('"')
			b.WriteString(string(bytes.ReplaceAll([]byte(f), []byte(`"`), []byte(`""`))))
			b.WriteByte('"')
		} else {
			b.WriteString(f)
		}
	}
	b.WriteByte('\n')
}

// workoutTopicAllowed decides the SSE topics case.<id> (the case's changes: anyone who may see
// the case) and workout (every case's changes: managers and auditors with compliance.report, and
// settlement checkers, whose Approvals page follows it; every one of them reads every case).
func (s *Server) workoutTopicAllowed(ctx context.Context, kind, id string) error {
	u := reclaim.UserFrom(ctx)
	if s.cfg.Workout == nil || u == nil {
		return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic")
	}
	if kind == "workout" {
		if !u.Role.Can(reclaim.PermComplianceReport) && !u.Role.Can(reclaim.PermCaseAssign) && !u.Role.Can(reclaim.PermSettlementApprove) {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", kind)
		}
		return nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || !u.Role.Can(reclaim.PermCaseRead) {
		return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", kind+"."+id)
	}
	v, err := s.viewer(ctx)
	if err != nil {
		return err
	}
	_, err = s.cfg.Workout.Case(ctx, v, n)
	return err
}
