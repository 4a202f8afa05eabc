package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tlog"
)

// DealService is what the live-deal routes read and write (docs/abs-live.md). cmd/reclaim
// implements it over sqldb, the valuation service and the ledger.
type DealService interface {
	Deals(ctx context.Context) ([]live.DealRecord, error)
	// Deal returns a deal (ENOTFOUND when the pool is not a deal).
	Deal(ctx context.Context, pool string) (live.DealRecord, error)
	// UserPools are the pools the user's investor organisation holds a tranche of.
	UserPools(ctx context.Context, userID int64) (map[string]bool, error)
	UserInvestor(ctx context.Context, userID int64) (string, error)
	// Select previews a pool selection: the loans the criteria take and their disclosure, with the
	// deal's sizing against them when a deal document is given.
	Select(ctx context.Context, c live.Criteria, asOf date.Date, model string, doc []byte) (*DealSelection, error)
	// Create selects the pool, inlines the forecast (the valuation's, unless useDocForecast) and
	// opens the deal.
	Create(ctx context.Context, req DealCreate) (live.DealRecord, error)
	Amend(ctx context.Context, pool string, doc []byte, reason string, eff date.Date) (live.DealRecord, error)
	Run(ctx context.Context, pool string, asOf date.Date) (*abs.Result, error)
	Monitor(ctx context.Context, pool string, asOf date.Date) (*live.DealSnapshot, error)
	Reports(ctx context.Context, pool string) ([]live.ReportInfo, error)
	ReportDoc(ctx context.Context, pool string, period int) ([]byte, error)
	PreviewReport(ctx context.Context, pool string, period int) (*live.Report, error)
	CloseReport(ctx context.Context, pool string, period int) ([]byte, error)
	Loans(ctx context.Context, pool string) ([]live.DealLoanRow, error)
	RecordCost(ctx context.Context, c DealCost) (string, error)
	ImportServicerFile(ctx context.Context, pool string, file []byte) (int, error)
	Investors(ctx context.Context) ([]live.Investor, error)
	CreateInvestor(ctx context.Context, inv live.Investor) error
	SetInvestorUser(ctx context.Context, investor string, userID int64) error
	SetHolding(ctx context.Context, h live.Holding) error
	Holdings(ctx context.Context, investor string) ([]live.Holding, error)
}

// DealSelection is a previewed pool selection.
type DealSelection struct {
	Loans      int              `json:"loans"`
	Disclosure *live.Disclosure `json:"disclosure"`
	// ForecastNote says why the disclosure has no forecast (no recovery model registered...).
	ForecastNote string `json:"forecast_note,omitempty"`
}

// DealCreate opens a deal.
type DealCreate struct {
	Pool, Name     string
	Document       []byte
	Criteria       live.Criteria
	AsOf           date.Date
	Effective      date.Date
	Model          string
	UseDocForecast bool
	Actor          string
}

// DealCost is a cost or waiver posted through the API.
type DealCost struct {
	Pool, Kind, Loan, Channel, Memo, Actor string
	Amount                                 money.Amount
	Effective                              date.Date
}

// DealView is a deal as the API shows it.
type DealView struct {
	Pool       string                 `json:"pool"`
	Name       string                 `json:"name"`
	Origin     string                 `json:"origin"`
	Hash       string                 `json:"hash"`
	OpenedHash string                 `json:"opened_hash"`
	Criteria   json.RawMessage        `json:"criteria"`
	CreatedBy  string                 `json:"created_by"`
	CreatedAt  time.Time              `json:"created_at"`
	Tranches   []DealTranche          `json:"tranches"`
	Holdings   []live.Holding         `json:"holdings"`
	Document   string                 `json:"document,omitempty"`
	Checkpoint *tlog.StoredCheckpoint `json:"checkpoint,omitempty"`
}

// DealTranche summarises a tranche of the deal document.
type DealTranche struct {
	Name       string `json:"name"`
	Balance    string `json:"balance"`
	Coupon     string `json:"coupon,omitempty"`
	IssuePrice string `json:"issue_price,omitempty"`
	Rating     string `json:"rating,omitempty"`
}

// ReportInfoView is a stored report with the latest checkpoint that covers it.
type ReportInfoView struct {
	live.ReportInfo
	Checkpoint *tlog.StoredCheckpoint `json:"checkpoint,omitempty"`
}

// DealPath identifies a deal.
type DealPath struct {
	Pool string `path:"pool" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9._:-]+$" doc:"deal (pool) id"`
}

// isInvestor reports whether u sees only its organisation's deals.
func isInvestor(u *reclaim.User) bool { return u != nil && u.Role == reclaim.RoleInvestor }

// poolVisible decides whether the caller may see a pool: an investor sees a deal only when its
// organisation holds one of its tranches (any other deal is ENOTFOUND, as if it did not exist);
// pools that are not deals, and every other role, are unaffected.
func (s *Server) poolVisible(ctx context.Context, u *reclaim.User, pool string) error {
	if s.cfg.Deals == nil || !isInvestor(u) {
		return nil
	}
	if _, err := s.cfg.Deals.Deal(ctx, pool); reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
		return nil // not a deal: the ledger's own rule
	} else if err != nil {
		return err
	}
	pools, err := s.cfg.Deals.UserPools(ctx, u.ID)
	if err != nil {
		return err
	}
	if !pools[pool] {
		return reclaim.Errorf(reclaim.ENOTFOUND, "no such pool %q", pool)
	}
	return nil
}

// dealVisible is poolVisible for the deal routes: the pool must be a deal.
func (s *Server) dealVisible(ctx context.Context, pool string) (live.DealRecord, error) {
	d, err := s.cfg.Deals.Deal(ctx, pool)
	if err != nil {
		return d, err
	}
	if err := s.poolVisible(ctx, reclaim.UserFrom(ctx), pool); err != nil {
		return live.DealRecord{}, err
	}
	return d, nil
}

func (s *Server) dealView(ctx context.Context, d live.DealRecord, withDoc bool) DealView {
	v := DealView{Pool: d.Pool, Name: d.Name, Origin: d.Origin, Hash: d.Hash, OpenedHash: d.OpenedHash, Criteria: json.RawMessage(d.Criteria),
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, Tranches: []DealTranche{}, Holdings: []live.Holding{}}
	if !json.Valid(v.Criteria) {
		v.Criteria = json.RawMessage("{}")
	}
	if doc, err := abs.Parse(d.Doc); err == nil {
		for _, t := range doc.Tranches {
			v.Tranches = append(v.Tranches, DealTranche{Name: t.Name, Balance: t.Balance, Coupon: t.Coupon, IssuePrice: t.IssuePrice, Rating: t.Rating})
		}
	}
	if withDoc {
		v.Document = string(d.Doc)
	}
	u := reclaim.UserFrom(ctx)
	inv := ""
	if isInvestor(u) {
		inv, _ = s.cfg.Deals.UserInvestor(ctx, u.ID)
	}
	if hs, err := s.cfg.Deals.Holdings(ctx, inv); err == nil && (inv != "" || !isInvestor(u)) {
		for _, h := range hs {
			if h.Pool == d.Pool {
				v.Holdings = append(v.Holdings, h)
			}
		}
	}
	if s.cfg.Ledger != nil {
		if c, err := s.cfg.Ledger.LatestCheckpoint(ctx, d.Pool); err == nil {
			v.Checkpoint = &c
		}
	}
	return v
}

func (s *Server) asOfOrToday(field, v string) (date.Date, error) {
	if v == "" {
		return date.FromTime(s.cfg.Now().UTC()), nil
	}
	d, err := date.ParseStrict(v)
	if err != nil {
		return d, &reclaim.Error{Code: reclaim.EINVALID, Message: field + ": " + err.Error(), Fields: map[string]string{field: "not a date YYYY-MM-DD"}}
	}
	return d, nil
}

// effectiveOrToday reads a ledger date (a deal's opening or amendment) in the API's range
// (apiDate: 1990-01-01 to tomorrow), today when absent; unlike as_of, which may ask for a
// forecast, it dates an entry on the pool's log.
func (s *Server) effectiveOrToday(v string) (date.Date, error) {
	if v == "" {
		return date.FromTime(s.cfg.Now().UTC()), nil
	}
	return s.apiDate("effective", v)
}

// rawBody is a non-JSON answer (CSV, HTML, the stored report's exact bytes).
type rawBody struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *Server) dealRoutes() {
	ds := s.cfg.Deals
	if ds == nil {
		return
	}
	tags := []string{"deals"}
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "list-deals", Method: http.MethodGet, Path: "/api/v1/deals",
		Summary: "Live ABS deals (an investor sees the deals it holds)", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*struct{ Body []DealView }, error) {
			all, err := ds.Deals(ctx)
			if err != nil {
				return nil, err
			}
			out := []DealView{}
			for _, d := range all {
				if s.poolVisible(ctx, reclaim.UserFrom(ctx), d.Pool) == nil {
					out = append(out, s.dealView(ctx, d, false))
				}
			}
			return &struct{ Body []DealView }{out}, nil
		})
	type selectIn struct {
		Body struct {
			Criteria live.Criteria `json:"criteria"`
			AsOf     string        `json:"as_of,omitempty" doc:"YYYY-MM-DD; default today"`
			Model    string        `json:"model,omitempty" doc:"recovery model (NAME or NAME@VERSION); default the active one"`
			Document string        `json:"document,omitempty" maxLength:"1000000" doc:"a deal document to size against the selection (optional)"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "select-deal-pool", Method: http.MethodPost, Path: "/api/v1/deals/selection",
		Summary: "Preview a pool selection: the loans the criteria take, their disclosure tables and forecast (nothing is stored)", Tags: tags},
		func(ctx context.Context, in *selectIn) (*struct{ Body DealSelection }, error) {
			asOf, err := s.asOfOrToday("as_of", in.Body.AsOf)
			if err != nil {
				return nil, err
			}
			var doc []byte
			if in.Body.Document != "" {
				doc = []byte(in.Body.Document)
			}
			sel, err := ds.Select(ctx, in.Body.Criteria, asOf, in.Body.Model, doc)
			if err != nil {
				return nil, err
			}
			return &struct{ Body DealSelection }{*sel}, nil
		})
	type createIn struct {
		Body struct {
			Pool                string        `json:"pool" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9._:-]+$"`
			Name                string        `json:"name,omitempty" maxLength:"200"`
			Document            string        `json:"document" minLength:"1" maxLength:"1000000" doc:"the deal document (YAML or JSON, docs/abs-deal.md)"`
			Criteria            live.Criteria `json:"criteria"`
			AsOf                string        `json:"as_of,omitempty" doc:"YYYY-MM-DD; default today"`
			Effective           string        `json:"effective" doc:"boarding date YYYY-MM-DD"`
			Model               string        `json:"model,omitempty"`
			UseDocumentForecast bool          `json:"use_document_forecast,omitempty" doc:"keep the document's own forecast instead of the valuation's"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "create-deal", Method: http.MethodPost, Path: "/api/v1/deals",
		Summary: "Open a deal: select its pool, inline the valuation's forecast, fix the document by its hash on the pool's log", Tags: tags,
		DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *createIn) (*struct{ Body DealView }, error) {
			asOf, err := s.asOfOrToday("as_of", in.Body.AsOf)
			if err != nil {
				return nil, err
			}
			eff, err := s.effectiveOrToday(in.Body.Effective)
			if err != nil {
				return nil, err
			}
			d, err := ds.Create(ctx, DealCreate{Pool: in.Body.Pool, Name: in.Body.Name, Document: []byte(in.Body.Document), Criteria: in.Body.Criteria,
				AsOf: asOf, Effective: eff, Model: in.Body.Model, UseDocForecast: in.Body.UseDocumentForecast, Actor: reclaim.Actor(ctx)})
			if err != nil {
				return nil, err
			}
			return &struct{ Body DealView }{s.dealView(ctx, d, true)}, nil
		})
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "get-deal", Method: http.MethodGet, Path: "/api/v1/deals/{pool}",
		Summary: "A deal with its document, tranches, holdings and latest checkpoint", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *DealPath) (*struct{ Body DealView }, error) {
			d, err := s.dealVisible(ctx, in.Pool)
			if err != nil {
				return nil, err
			}
			return &struct{ Body DealView }{s.dealView(ctx, d, true)}, nil
		})
	type amendIn struct {
		DealPath
		Body struct {
			Document  string `json:"document" minLength:"1" maxLength:"1000000"`
			Reason    string `json:"reason" minLength:"1" maxLength:"200"`
			Effective string `json:"effective,omitempty" doc:"YYYY-MM-DD; default today"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "amend-deal", Method: http.MethodPost, Path: "/api/v1/deals/{pool}/amendments",
		Summary: "Amend the deal document (logged as deal.amended)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *amendIn) (*struct{ Body DealView }, error) {
			eff, err := s.effectiveOrToday(in.Body.Effective)
			if err != nil {
				return nil, err
			}
			d, err := ds.Amend(ctx, in.Pool, []byte(in.Body.Document), in.Body.Reason, eff)
			if err != nil {
				return nil, err
			}
			return &struct{ Body DealView }{s.dealView(ctx, d, true)}, nil
		})
	type asOfIn struct {
		DealPath
		AsOf string `query:"as_of" doc:"YYYY-MM-DD; default today"`
	}
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "monitor-deal", Method: http.MethodGet, Path: "/api/v1/deals/{pool}/monitor",
		Summary: "Collections against the forecast, tranche balances, reserve levels, trigger headroom and alerts", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *asOfIn) (*struct{ Body live.DealSnapshot }, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			asOf, err := s.asOfOrToday("as_of", in.AsOf)
			if err != nil {
				return nil, err
			}
			snap, err := ds.Monitor(ctx, in.Pool, asOf)
			if err != nil {
				return nil, err
			}
			return &struct{ Body live.DealSnapshot }{*snap}, nil
		})
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "run-deal", Method: http.MethodGet, Path: "/api/v1/deals/{pool}/run",
		Summary: "The deal's run: actual cash for the collection periods ended by as_of, the forecast after", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *asOfIn) (*struct{ Body *abs.Result }, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			asOf, err := s.asOfOrToday("as_of", in.AsOf)
			if err != nil {
				return nil, err
			}
			res, err := ds.Run(ctx, in.Pool, asOf)
			return &struct{ Body *abs.Result }{res}, err
		})
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "list-deal-reports", Method: http.MethodGet, Path: "/api/v1/deals/{pool}/reports",
		Summary: "The deal's period reports and the checkpoint covering each", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *DealPath) (*struct{ Body []ReportInfoView }, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			rs, err := ds.Reports(ctx, in.Pool)
			if err != nil {
				return nil, err
			}
			out := []ReportInfoView{}
			var cp *tlog.StoredCheckpoint
			if s.cfg.Ledger != nil {
				if c, err := s.cfg.Ledger.LatestCheckpoint(ctx, in.Pool); err == nil {
					cp = &c
				}
			}
			for _, r := range rs {
				v := ReportInfoView{ReportInfo: r}
				if cp != nil && s.reportCovered(ctx, in.Pool, r.Period, cp.Size) {
					v.Checkpoint = cp
				}
				out = append(out, v)
			}
			return &struct{ Body []ReportInfoView }{out}, nil
		})
	type closeIn struct {
		DealPath
		Body struct {
			Period int `json:"period" minimum:"1" maximum:"1200"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "close-deal-report", Method: http.MethodPost, Path: "/api/v1/deals/{pool}/reports",
		Summary: "Close a payment date: the report, its distribution lines, trigger tests and deal.report on the pool's log", Tags: tags,
		DefaultStatus: http.StatusCreated, Errors: []int{404}},
		func(ctx context.Context, in *closeIn) (*rawBody, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			doc, err := ds.CloseReport(ctx, in.Pool, in.Body.Period)
			if err != nil {
				return nil, err
			}
			return &rawBody{ContentType: "application/json", Body: doc}, nil
		})
	type reportIn struct {
		DealPath
		Period int    `path:"period" minimum:"1" maximum:"1200"`
		Format string `query:"format" enum:"json,csv,html" default:"json"`
	}
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "get-deal-report", Method: http.MethodGet, Path: "/api/v1/deals/{pool}/reports/{period}",
		Summary: "A stored period report: JSON (the exact bytes the ledger's report_hash covers), CSV or a printable HTML page", Tags: tags, Errors: []int{404},
		Responses: map[string]*huma.Response{"200": {Description: "the report", Content: map[string]*huma.MediaType{
			"application/json": {}, "text/csv": {}, "text/html": {}}}}},
		func(ctx context.Context, in *reportIn) (*rawBody, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			doc, err := ds.ReportDoc(ctx, in.Pool, in.Period)
			if err != nil {
				return nil, err
			}
			return renderReport(doc, in.Format, fmt.Sprintf("%s-period-%d", in.Pool, in.Period))
		})
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "preview-deal-report", Method: http.MethodGet, Path: "/api/v1/deals/{pool}/reports/{period}/preview",
		Summary: "A period report computed now from the log (preview: not closed, may change)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *reportIn) (*rawBody, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			rep, err := ds.PreviewReport(ctx, in.Pool, in.Period)
			if err != nil {
				return nil, err
			}
			doc, err := rep.Encode()
			if err != nil {
				return nil, err
			}
			return renderReport(doc, in.Format, fmt.Sprintf("%s-period-%d-preview", in.Pool, in.Period))
		})
	type loansIn struct {
		DealPath
		Format string `query:"format" enum:"json,csv,parquet" default:"json"`
	}
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "list-deal-loans", Method: http.MethodGet, Path: "/api/v1/deals/{pool}/loans",
		Summary: "Loan-level data without personal data (per-pool reference, product, prefecture, grade, DPD and claim at boarding, balance, status)",
		Tags:    tags, Errors: []int{404}},
		func(ctx context.Context, in *loansIn) (*rawBody, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			rows, err := ds.Loans(ctx, in.Pool)
			if err != nil {
				return nil, err
			}
			switch in.Format {
			case "csv":
				var b bytes.Buffer
				if err := live.WriteLoansCSV(&b, rows); err != nil {
					return nil, err
				}
				return &rawBody{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="` + in.Pool + `-loans.csv"`, Body: b.Bytes()}, nil
			case "parquet":
				var b bytes.Buffer
				if err := live.WriteLoansParquet(&b, rows); err != nil {
					return nil, err
				}
				return &rawBody{ContentType: "application/vnd.apache.parquet", ContentDisposition: `attachment; filename="` + in.Pool + `-loans.parquet"`, Body: b.Bytes()}, nil
			}
			b, err := json.Marshal(rows)
			return &rawBody{ContentType: "application/json", Body: b}, err
		})
	type costIn struct {
		DealPath
		Body struct {
			Kind      string `json:"kind" enum:"cost,waiver"`
			Loan      string `json:"loan,omitempty" maxLength:"64" doc:"per-pool reference or pool key (PORTFOLIO/LOAN_ID); required for a waiver"`
			Channel   string `json:"channel,omitempty" enum:"bank_transfer,online,cash,court,agency,sale,"`
			Amount    string `json:"amount" minLength:"1" maxLength:"32" pattern:"^(0|[1-9][0-9]*)(\\.[0-9]{1,2})?$"`
			Effective string `json:"effective" doc:"YYYY-MM-DD"`
			Memo      string `json:"memo,omitempty" maxLength:"200"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "post-deal-cost", Method: http.MethodPost, Path: "/api/v1/deals/{pool}/costs",
		Summary: "Record a cost paid from collections or a waiver of a loan's claim (deal.cost)", Tags: tags, DefaultStatus: http.StatusCreated, Errors: []int{404}},
		func(ctx context.Context, in *costIn) (*struct {
			Body struct {
				EventID string `json:"event_id"`
			}
		}, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			amt, err := apiAmount("amount", in.Body.Amount, positive)
			if err != nil {
				return nil, err
			}
			eff, err := s.apiDate("effective", in.Body.Effective)
			if err != nil {
				return nil, err
			}
			id, err := ds.RecordCost(ctx, DealCost{Pool: in.Pool, Kind: in.Body.Kind, Loan: in.Body.Loan, Channel: in.Body.Channel, Memo: in.Body.Memo,
				Actor: reclaim.Actor(ctx), Amount: amt, Effective: eff})
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					EventID string `json:"event_id"`
				}
			}{}
			out.Body.EventID = id
			return out, nil
		})
	type servicerIn struct {
		DealPath
		Body struct {
			CSV string `json:"csv" minLength:"1" maxLength:"1000000" doc:"the servicer's file: a header date,loan,amount[,channel][,txn_id] (one loan.collection per row, allocated to its loan), or date,amount rows (yuan; pool cash without a loan)"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "import-deal-servicer-file", Method: http.MethodPost, Path: "/api/v1/deals/{pool}/servicer-files",
		Summary: "Import a servicer's collections file (per loan: loan.collection per row; date,amount: deal.collections per row; a file once)", Tags: tags, DefaultStatus: http.StatusCreated, Errors: []int{404}},
		func(ctx context.Context, in *servicerIn) (*struct {
			Body struct {
				Entries int `json:"entries"`
			}
		}, error) {
			if _, err := s.dealVisible(ctx, in.Pool); err != nil {
				return nil, err
			}
			n, err := ds.ImportServicerFile(ctx, in.Pool, []byte(in.Body.CSV))
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Entries int `json:"entries"`
				}
			}{}
			out.Body.Entries = n
			return out, nil
		})
	register(s, reclaim.PermDealRead, huma.Operation{OperationID: "list-holdings", Method: http.MethodGet, Path: "/api/v1/holdings",
		Summary: "Holdings: an investor's organisation's own; every holding for other roles", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*struct{ Body []live.Holding }, error) {
			u := reclaim.UserFrom(ctx)
			inv := ""
			if isInvestor(u) {
				var err error
				if inv, err = ds.UserInvestor(ctx, u.ID); err != nil {
					return nil, err
				}
				if inv == "" {
					return &struct{ Body []live.Holding }{[]live.Holding{}}, nil
				}
			}
			hs, err := ds.Holdings(ctx, inv)
			return &struct{ Body []live.Holding }{hs}, err
		})
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "list-investors", Method: http.MethodGet, Path: "/api/v1/investors",
		Summary: "Investor organisations", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*struct{ Body []live.Investor }, error) {
			is, err := ds.Investors(ctx)
			return &struct{ Body []live.Investor }{is}, err
		})
	type investorIn struct {
		Body live.Investor
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "create-investor", Method: http.MethodPost, Path: "/api/v1/investors",
		Summary: "Create an investor organisation", Tags: tags, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *investorIn) (*struct{ Body live.Investor }, error) {
			if err := ds.CreateInvestor(ctx, in.Body); err != nil {
				return nil, err
			}
			return &struct{ Body live.Investor }{in.Body}, nil
		})
	type invPath struct {
		ID string `path:"id" minLength:"1" maxLength:"64"`
	}
	type invUserIn struct {
		invPath
		Body struct {
			UserID int64 `json:"user_id" minimum:"1"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "add-investor-user", Method: http.MethodPost, Path: "/api/v1/investors/{id}/users",
		Summary: "Make a user a member of an investor organisation", Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{404}},
		func(ctx context.Context, in *invUserIn) (*struct{}, error) {
			if _, err := s.store.UserByID(ctx, in.Body.UserID); err != nil {
				return nil, err
			}
			return &struct{}{}, ds.SetInvestorUser(ctx, in.ID, in.Body.UserID)
		})
	type holdingIn struct {
		invPath
		Body struct {
			Pool    string `json:"pool" minLength:"1" maxLength:"128"`
			Tranche string `json:"tranche" minLength:"1" maxLength:"64"`
			Amount  string `json:"amount" minLength:"1" maxLength:"32" pattern:"^(0|[1-9][0-9]*)(\\.[0-9]{1,2})?$"`
		}
	}
	register(s, reclaim.PermDealManage, huma.Operation{OperationID: "set-investor-holding", Method: http.MethodPut, Path: "/api/v1/investors/{id}/holdings",
		Summary: "Set an investor's holding of a deal's tranche (0 removes it)", Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{404}},
		func(ctx context.Context, in *holdingIn) (*struct{}, error) {
			amt, err := apiAmount("amount", in.Body.Amount, 0)
			if err != nil {
				return nil, err
			}
			return &struct{}{}, ds.SetHolding(ctx, live.Holding{Investor: in.ID, Pool: in.Body.Pool, Tranche: in.Body.Tranche, Amount: amt})
		})
}

// reportCovered reports whether the deal.report of a period is below a checkpoint's size.
func (s *Server) reportCovered(ctx context.Context, pool string, period int, size int64) bool {
	l, err := s.cfg.Ledger.LeafByEvent(ctx, pool, live.ReportEventID(period))
	return err == nil && l.Index < size
}

// renderReport answers a report document in the asked format.
func renderReport(doc []byte, format, name string) (*rawBody, error) {
	if format == "" || format == "json" {
		return &rawBody{ContentType: "application/json", Body: doc}, nil
	}
	var rep live.Report
	if err := json.Unmarshal(doc, &rep); err != nil {
		return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "a stored report does not decode")
	}
	var b bytes.Buffer
	if format == "csv" {
		if err := rep.WriteCSV(&b); err != nil {
			return nil, err
		}
		return &rawBody{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="` + name + `.csv"`, Body: b.Bytes()}, nil
	}
	if err := rep.WriteHTML(&b); err != nil {
		return nil, err
	}
	return &rawBody{ContentType: "text/html; charset=utf-8", Body: b.Bytes()}, nil
}

// dealTopicAllowed decides whether the caller may subscribe to deal.<pool>.
func (s *Server) dealTopicAllowed(ctx context.Context, pool string) error {
	u := reclaim.UserFrom(ctx)
	if s.cfg.Deals == nil || !u.Role.Can(reclaim.PermDealRead) {
		return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", "deal."+pool)
	}
	_, err := s.dealVisible(ctx, pool)
	return err
}

// dealStream serves deal.<pool>: a `monitor` event (the Snapshot) when the stream opens and after
// every change to the pool's log (the ledger.<pool> events), and an `alert` event for each alert
// that was not in the previous snapshot.
func (s *Server) dealStream(ctx context.Context, pool string) (*huma.StreamResponse, error) {
	sub, _, _, err := s.broker.Subscribe("ledger."+pool, 0)
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot subscribe")
	}
	first, err := s.cfg.Deals.Monitor(ctx, pool, date.FromTime(s.cfg.Now().UTC()))
	if err != nil {
		sub.Close()
		return nil, err
	}
	me := *reclaim.UserFrom(ctx)
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		defer sub.Close()
		ss := s.startSSE(hc, me)
		defer ss.stop()
		kicked, recheck, r, rc, bw := ss.kicked, ss.recheck, ss.r, ss.rc, hc.BodyWriter()
		var id uint64
		seen := map[string]bool{}
		send := func(snap *live.DealSnapshot) bool {
			b, _ := json.Marshal(snap)
			id++
			if _, err := fmt.Fprintf(bw, "id: %d\nevent: monitor\ndata: %s\n\n", id, b); err != nil {
				return false
			}
			now := map[string]bool{}
			for _, a := range snap.Alerts {
				key := a.Trigger + "/" + a.Level
				now[key] = true
				if !seen[key] {
					ab, _ := json.Marshal(a)
					id++
					if _, err := fmt.Fprintf(bw, "id: %d\nevent: alert\ndata: %s\n\n", id, ab); err != nil {
						return false
					}
				}
			}
			seen = now
			rc.Flush()
			return true
		}
		fmt.Fprintf(bw, "retry: 2000\n\n")
		if !send(first) {
			return
		}
		tick := time.NewTicker(Heartbeat)
		defer tick.Stop()
		done := hc.Context().Done()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := fmt.Fprint(bw, ": ping\n\n"); err != nil {
					return
				}
				rc.Flush()
			case <-recheck.C:
				if s.streamOver(ctx, r, me, "deal."+pool, bw, rc) {
					return
				}
			case <-kicked:
				if s.streamOver(ctx, r, me, "deal."+pool, bw, rc) {
					return
				}
			case _, ok := <-sub.C:
				if !ok {
					return
				}
				// Drain what else arrived, then recompute once.
				for drained := false; !drained; {
					select {
					case _, ok := <-sub.C:
						if !ok {
							return
						}
					default:
						drained = true
					}
				}
				snap, err := s.cfg.Deals.Monitor(hc.Context(), pool, date.FromTime(s.cfg.Now().UTC()))
				if err != nil {
					s.log.WarnContext(hc.Context(), "deal monitor failed", "pool", pool, "err", err)
					continue
				}
				if !send(snap) {
					return
				}
			}
		}
	}}, nil
}
