package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/auth"
	"reclaim/ingest"
	"reclaim/tape"
	"reclaim/textnorm"
	"reclaim/workout"
)

func (s *Server) routes() {
	s.authRoutes()
	s.portfolioRoutes()
	s.uploadRoutes()
	s.userRoutes()
	s.auditRoutes()
	s.streamRoutes()
	s.maskedRoute()
	s.ledgerRoutes()
	s.dealRoutes()
	s.valuationRoutes()
	s.workoutRoutes()
	s.performanceRoutes()
	s.settleRoutes()
	s.paymentRoutes()
	s.marketRoutes()
	s.marketConsoleRoutes()
}

// PortfolioPath identifies a portfolio.
type PortfolioPath struct {
	ID int64 `path:"id" minimum:"1" doc:"portfolio id"`
}

type portfolioList struct {
	Body []reclaim.Portfolio
}

type portfolioOne struct{ Body reclaim.Portfolio }

type headerOut struct{ Body tape.PoolHeader }

type reportOut struct{ Body ingest.Report }

// LoansInput pages through a portfolio's loans.
type LoansInput struct {
	PortfolioPath
	Offset int `query:"offset" minimum:"0" default:"0"`
	Limit  int `query:"limit" minimum:"1" maximum:"500" default:"50"`
	// After asks for keyset paging: the page starts after the loan with this loan_id (the
	// previous page's next_after). Not with an offset.
	After string `query:"after" maxLength:"200" doc:"start after this loan_id (keyset paging: pass the previous page's next_after); not with offset"`
}

// LoansPage is a page of loans with masked personal data.
type LoansPage struct {
	Items  []reclaim.LoanView `json:"items"`
	Total  int64              `json:"total"`
	Offset int                `json:"offset"`
	Limit  int                `json:"limit"`
	// NextAfter is the loan_id to pass as after for the next page ("" on the last page).
	NextAfter string `json:"next_after"`
}

type loansOut struct{ Body LoansPage }

// PersonalInput asks for one borrower's decrypted personal data, with the reason. It is a POST
// (the read is audited: a side effect), so cross-site requests are refused (CrossOriginProtection)
// and the purpose travels in the body, not in URLs that proxies and browsers record.
type PersonalInput struct {
	PortfolioPath
	Ref  string `path:"ref" maxLength:"200"`
	Body struct {
		Purpose string `json:"purpose" minLength:"5" maxLength:"500" doc:"why the data is needed, at least 5 characters once leading and trailing spaces are trimmed; recorded in the audit log"`
	}
}

// minPurpose is the shortest purpose, in characters after trimming (textnorm.Trim).
const minPurpose = 5

type personalOut struct{ Body reclaim.PersonalData }

func (s *Server) portfolioRoutes() {
	tags := []string{"portfolios"}
	register(s, reclaim.PermPortfolioRead, huma.Operation{OperationID: "list-portfolios", Method: http.MethodGet,
		Path: "/api/v1/portfolios", Summary: "List portfolios", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*portfolioList, error) {
			ps, err := s.store.ListPortfolios(ctx)
			if ps == nil {
				ps = []reclaim.Portfolio{}
			}
			return &portfolioList{Body: ps}, err
		})
	register(s, reclaim.PermPortfolioRead, huma.Operation{OperationID: "get-portfolio", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}", Summary: "One portfolio", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *PortfolioPath) (*portfolioOne, error) {
			p, err := s.store.GetPortfolio(ctx, in.ID)
			return &portfolioOne{Body: p}, err
		})
	register(s, reclaim.PermPortfolioRead, huma.Operation{OperationID: "get-portfolio-header", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}/header", Summary: "Pool header and stratification", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *PortfolioPath) (*headerOut, error) {
			raw, err := s.store.PortfolioHeaderJSON(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			out := &headerOut{}
			if len(raw) == 0 {
				return nil, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d has no pool header", in.ID)
			}
			if err := json.Unmarshal(raw, &out.Body); err != nil {
				return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "stored pool header unreadable")
			}
			return out, nil
		})
	register(s, reclaim.PermPortfolioRead, huma.Operation{OperationID: "get-portfolio-report", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}/report", Summary: "The portfolio's import report", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *PortfolioPath) (*reportOut, error) {
			raw, err := s.store.PortfolioReportJSON(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			out := &reportOut{}
			if len(raw) == 0 {
				return nil, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d has no import report", in.ID)
			}
			if err := json.Unmarshal(raw, &out.Body); err != nil {
				return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "stored import report unreadable")
			}
			return out, nil
		})
	register(s, reclaim.PermPortfolioRead, huma.Operation{OperationID: "list-loans", Method: http.MethodGet,
		Path: "/api/v1/portfolios/{id}/loans", Summary: "A page of loans (personal data masked)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *LoansInput) (*loansOut, error) {
			if _, err := s.store.GetPortfolio(ctx, in.ID); err != nil {
				return nil, err
			}
			var items []reclaim.LoanView
			var total int64
			var err error
			if in.After != "" {
				if in.Offset != 0 {
					return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "give either offset or after, not both",
						Fields: map[string]string{"after": "not with offset"}}
				}
				items, total, err = s.store.LoansPageAfter(ctx, in.ID, in.After, in.Limit)
			} else {
				items, total, err = s.store.LoansPage(ctx, in.ID, in.Offset, in.Limit)
			}
			if err != nil {
				return nil, err
			}
			if items == nil {
				items = []reclaim.LoanView{}
			}
			page := LoansPage{Items: items, Total: total, Offset: in.Offset, Limit: in.Limit}
			if len(items) == in.Limit {
				page.NextAfter = items[len(items)-1].LoanID
			}
			return &loansOut{Body: page}, nil
		})
	register(s, reclaim.PermCasePersonal, huma.Operation{OperationID: "read-personal-data", Method: http.MethodPost,
		Path: "/api/v1/portfolios/{id}/borrowers/{ref}/personal", Summary: "Decrypted personal data of one borrower in my cases (purpose required, audited)",
		Description: "The same scope as POST /api/v1/cases/{id}/personal: a collector reads only borrowers of cases assigned to it, an agency user only borrowers of cases placed with its agency and not recalled, legal staff borrowers of any case; a borrower outside that scope, or not boarded, is 404 (and the refusal is recorded). A POST because every read is written to the audit log. The response is never cached (Cache-Control: no-store).",
		Tags:        tags, Errors: []int{400, 404}, DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *PersonalInput) (*personalOut, error) {
			purpose := textnorm.Trim(in.Body.Purpose)
			if textnorm.Len(purpose) < minPurpose {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "say why you need the data, in at least 5 characters",
					Fields: map[string]string{"purpose": "at least 5 characters once leading and trailing spaces are removed"}}
			}
			v, err := s.personalViewer(ctx)
			if err != nil {
				return nil, err
			}
			p, err := s.store.ReadPersonalAs(ctx, reclaim.Access{Actor: reclaim.Actor(ctx), Purpose: purpose}, v, "portfolio", 0, in.ID, in.Ref)
			return &personalOut{Body: p}, err
		})
}

// personalViewer is the caller as the personal-data scope sees it: with its agency when the
// workout is served (an agency user without one reads nothing).
func (s *Server) personalViewer(ctx context.Context) (workout.Viewer, error) {
	if s.cfg.Workout != nil {
		return s.viewer(ctx)
	}
	u := reclaim.UserFrom(ctx)
	if u == nil {
		return workout.Viewer{}, reclaim.Errorf(reclaim.EUNAUTHORIZED, "sign in first")
	}
	return workout.Viewer{Role: u.Role, Username: u.Username}, nil
}

// Users.

// UserCreate is a new account.
type UserCreate struct {
	Body struct {
		Username    string       `json:"username" pattern:"^[a-zA-Z0-9._-]{2,64}$" doc:"letters, digits, . _ -"`
		DisplayName string       `json:"display_name" maxLength:"100"`
		Role        reclaim.Role `json:"role" enum:"admin,analyst,collector,bidder,investor,trustee,auditor,collection_manager,agency,legal,credit_committee"`
		Password    string       `json:"password" minLength:"12" maxLength:"1024" doc:"temporary: the user must change it at the first sign-in"`
	}
}

// UserPatch changes an account; absent fields stay as they are.
type UserPatch struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		DisplayName *string       `json:"display_name,omitempty" maxLength:"100"`
		Role        *reclaim.Role `json:"role,omitempty" enum:"admin,analyst,collector,bidder,investor,trustee,auditor,collection_manager,agency,legal,credit_committee"`
		Disabled    *bool         `json:"disabled,omitempty"`
		Password    *string       `json:"password,omitempty" minLength:"12" maxLength:"1024" doc:"temporary: the user must change it at the next sign-in; ends the user's sessions and tokens"`
	}
}

type userOut struct{ Body reclaim.User }
type usersOut struct{ Body []reclaim.User }

func (s *Server) userRoutes() {
	tags := []string{"users"}
	register(s, reclaim.PermUserManage, huma.Operation{OperationID: "list-users", Method: http.MethodGet,
		Path: "/api/v1/users", Summary: "List accounts", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*usersOut, error) {
			us, err := s.store.ListUsers(ctx)
			if us == nil {
				us = []reclaim.User{}
			}
			return &usersOut{Body: us}, err
		})
	register(s, reclaim.PermUserManage, huma.Operation{OperationID: "create-user", Method: http.MethodPost,
		Path: "/api/v1/users", Summary: "Create an account", Tags: tags, DefaultStatus: http.StatusCreated, Errors: []int{409}},
		func(ctx context.Context, in *UserCreate) (*userOut, error) {
			if err := auth.CheckPassword(in.Body.Password, in.Body.Username); err != nil {
				return nil, weakPassword("password", err)
			}
			h, err := auth.Hash(in.Body.Password)
			if err != nil {
				return nil, err
			}
			// The admin knows the password: it only lets the user in to choose their own.
			u, err := s.store.CreateUser(ctx, reclaim.User{Username: in.Body.Username, DisplayName: in.Body.DisplayName,
				Role: in.Body.Role, PasswordHash: h, MustChangePassword: true})
			return &userOut{Body: u}, err
		})
	register(s, reclaim.PermUserManage, huma.Operation{OperationID: "update-user", Method: http.MethodPatch,
		Path: "/api/v1/users/{id}", Summary: "Change an account's role, name, password or status", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *UserPatch) (*userOut, error) {
			u, err := s.store.UserByID(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			me := reclaim.UserFrom(ctx)
			if b := in.Body; b.DisplayName != nil {
				u.DisplayName = *b.DisplayName
			}
			if r := in.Body.Role; r != nil {
				if me.ID == u.ID && *r != reclaim.RoleAdmin {
					return nil, reclaim.Errorf(reclaim.EINVALID, "you cannot take the admin role from yourself")
				}
				u.Role = *r
			}
			if d := in.Body.Disabled; d != nil {
				if me.ID == u.ID && *d {
					return nil, reclaim.Errorf(reclaim.EINVALID, "you cannot disable your own account")
				}
				u.Disabled = *d
			}
			if p := in.Body.Password; p != nil {
				if me.ID == u.ID {
					return nil, reclaim.Errorf(reclaim.EINVALID, "change your own password with POST /api/v1/auth/password (it needs the current one)")
				}
				if err := auth.CheckPassword(*p, u.Username); err != nil {
					return nil, weakPassword("password", err)
				}
				if u.PasswordHash, err = auth.Hash(*p); err != nil {
					return nil, err
				}
				u.MustChangePassword = true // the admin knows it: temporary
			}
			u, err = s.store.UpdateUser(ctx, u)
			if err == nil {
				s.streams.kick(u.ID) // streams re-check at once: a reset, role change or disable ends them
			}
			return &userOut{Body: u}, err
		})
}

// AuditInput filters the personal-data access log.
type AuditInput struct {
	Actor       string    `query:"actor" maxLength:"100"`
	PortfolioID int64     `query:"portfolio_id" minimum:"0"`
	From        time.Time `query:"from" doc:"RFC 3339, inclusive"`
	To          time.Time `query:"to" doc:"RFC 3339, exclusive"`
	Limit       int       `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type auditOut struct{ Body []reclaim.PIIAccess }

func (s *Server) auditRoutes() {
	register(s, reclaim.PermAuditRead, huma.Operation{OperationID: "list-pii-access", Method: http.MethodGet,
		Path: "/api/v1/audit", Summary: "Who read which personal data, when and why", Tags: []string{"audit"}},
		func(ctx context.Context, in *AuditInput) (*auditOut, error) {
			rows, err := s.store.ListPIIAccess(ctx, reclaim.PIIAccessFilter{Actor: in.Actor, PortfolioID: in.PortfolioID,
				Since: in.From, Until: in.To, Limit: in.Limit})
			if rows == nil {
				rows = []reclaim.PIIAccess{}
			}
			return &auditOut{Body: rows}, err
		})
	register(s, reclaim.PermAuditRead, huma.Operation{OperationID: "list-pii-refusals", Method: http.MethodGet,
		Path: "/api/v1/audit/refusals", Summary: "Refused personal-data reveals: who asked for whom, through which route, why refused",
		Description: "A reveal of a borrower outside the caller's cases (or of one that does not exist) is answered 404 and recorded here; no personal values.",
		Tags:        []string{"audit"}},
		func(ctx context.Context, in *RefusalsInput) (*refusalsOut, error) {
			rows, err := s.store.ListPIIRefusals(ctx, reclaim.PIIRefusalFilter{Actor: in.Actor, Since: in.From, Until: in.To, Limit: in.Limit})
			if rows == nil {
				rows = []reclaim.PIIRefusal{}
			}
			return &refusalsOut{Body: rows}, err
		})
}

// RefusalsInput filters the refused personal-data reveals.
type RefusalsInput struct {
	Actor string    `query:"actor" maxLength:"100"`
	From  time.Time `query:"from" doc:"RFC 3339, inclusive"`
	To    time.Time `query:"to" doc:"RFC 3339, exclusive"`
	Limit int       `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type refusalsOut struct{ Body []reclaim.PIIRefusal }

// MaskedInput asks for a portfolio's masked bidder tape. It is a POST (the export is logged and
// watermarked: a side effect), so cross-site requests are refused.
type MaskedInput struct {
	PortfolioPath
	Body struct {
		Recipient string `json:"recipient" minLength:"1" maxLength:"200" doc:"who receives the tape; logged and watermarked"`
		K         int    `json:"k,omitempty" minimum:"2" maximum:"100" doc:"smallest class size (default 5)"`
		Suppress  *bool  `json:"suppress,omitempty" doc:"leave out rows whose class stays smaller than k (default true); false asks for every row, and a tape that then fails k-anonymity is refused with 400 before any row is sent"`
	}
}

func (s *Server) maskedRoute() {
	register(s, reclaim.PermTapeExportMask, huma.Operation{OperationID: "download-masked-tape", Method: http.MethodPost,
		Path: "/api/v1/portfolios/{id}/masked-tape.csv", Summary: "The masked bidder tape (logged, watermarked)",
		Description: "A POST because every export is logged and watermarked for its recipient.",
		Tags:        []string{"portfolios"}, Errors: []int{404}, DefaultStatus: http.StatusOK,
		Responses: map[string]*huma.Response{"200": {Description: "CSV", Content: map[string]*huma.MediaType{"text/csv": {}}}}},
		func(ctx context.Context, in *MaskedInput) (*huma.StreamResponse, error) {
			recipient, k := textnorm.Trim(in.Body.Recipient), in.Body.K
			suppress := in.Body.Suppress == nil || *in.Body.Suppress
			if k == 0 {
				k = 5
			}
			if recipient == "" {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "name the recipient of the tape",
					Fields: map[string]string{"recipient": "required"}}
			}
			p, err := s.store.GetPortfolio(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			var b [8]byte
			rand.Read(b[:])
			download := hex.EncodeToString(b[:])
			detail, _ := json.Marshal(map[string]any{"recipient": recipient, "download_id": download, "k": k, "suppress": suppress})
			// The download is logged before a byte leaves.
			if _, err := s.store.AddEvent(ctx, reclaim.Event{PortfolioID: p.ID, Type: reclaim.EventMaskedExported,
				Actor: reclaim.Actor(ctx), Detail: string(detail)}); err != nil {
				return nil, err
			}
			mo := tape.MaskOptions{Salt: p.Salt, DownloadID: download, K: k, Suppress: suppress}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				// Headers go out with the first row: a tape refused after the k-anonymity pass is
				// answered with an error instead of an empty CSV.
				w := &firstWrite{w: hc.BodyWriter(), start: func() {
					hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
					hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="masked-%d-%s.csv"`, p.ID, download))
				}}
				stream := func(ctx context.Context, fn func(*reclaim.Loan) error) error {
					return s.store.StreamLoans(ctx, p.ID, fn)
				}
				if _, err := tape.ExportMasked(hc.Context(), stream, w, tape.WriterOptions{Format: "csv", Encoding: "utf-8-bom"}, mo, nil); err != nil {
					if !w.started {
						code := reclaim.ErrorCode(err)
						if code == "" {
							code = reclaim.EINTERNAL
						}
						body := ErrorBody{Code: code, Message: "internal error"}
						if code != reclaim.EINTERNAL {
							body.Message = err.Error()
						}
						hc.SetHeader("Content-Type", "application/json")
						hc.SetStatus(statusOf[code])
						_ = json.NewEncoder(hc.BodyWriter()).Encode(body)
					}
					if reclaim.ErrorCode(err) != reclaim.EINVALID {
						s.log.Error("masked export failed", "portfolio", p.ID, "err", err)
					}
				}
			}}, nil
		})
}

// firstWrite calls start before the first byte is written through it.
type firstWrite struct {
	w       io.Writer
	start   func()
	started bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.started {
		f.started = true
		f.start()
	}
	return f.w.Write(p)
}
