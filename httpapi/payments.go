package httpapi

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/spill"
	"reclaim/workout"
)

// PaymentService posts, matches and reverses payments (docs/payments.md). cmd/reclaim serves it
// with sqldb.PaymentDesk; the actor is the request's signed-in user.
type PaymentService interface {
	// ImportStatement stores a parsed statement whole or not at all.
	ImportStatement(ctx context.Context, filename string, st *workout.Statement) (workout.StatementImport, error)
	GetStatementImport(ctx context.Context, id int64) (workout.StatementImport, error)
	PostPayment(ctx context.Context, in workout.PaymentInput) (workout.Payment, error)
	ListPayments(ctx context.Context, f workout.PaymentFilter) ([]workout.Payment, error)
	GetPayment(ctx context.Context, id int64) (workout.Payment, error)
	MatchPayment(ctx context.Context, id, caseID int64, loans []int64) (workout.Payment, error)
	ReversePayment(ctx context.Context, id int64, on date.Date, reason string) (workout.Payment, error)
}

// TopicPayments is the event topic of payment changes (an import, a match, a reversal): event
// "payments" with the payment or import id, for the statement-matching screen to refresh.
const TopicPayments = "payments"

// PaymentBody is a payment posted through the API.
type PaymentBody struct {
	TxnID        string `json:"txn_id" minLength:"1" maxLength:"128" doc:"the bank's transaction id; a transaction posts once"`
	Date         string `json:"date" doc:"value date YYYY-MM-DD"`
	Amount       string `json:"amount" doc:"decimal string such as \"1234.56\"; negative for the bounce of an earlier credit (then reverses is required)"`
	Currency     string `json:"currency,omitempty" doc:"ISO 4217; default CNY"`
	Reference    string `json:"reference,omitempty" maxLength:"1024" doc:"the free-text reference (附言)"`
	PayerName    string `json:"payer_name,omitempty" maxLength:"200" doc:"personal data: only its masked form is stored"`
	PayerAccount string `json:"payer_account,omitempty" maxLength:"64" doc:"personal data: used for matching, not stored"`
	PayerID      string `json:"payer_id,omitempty" maxLength:"32" doc:"personal data: used for blind-index matching, not stored"`
	PayerPhone   string `json:"payer_phone,omitempty" maxLength:"64" doc:"personal data: used for blind-index matching, not stored"`
	Reverses     string `json:"reverses,omitempty" maxLength:"128" doc:"for a negative amount: the txn_id of the credit it reverses"`
	CaseID       int64  `json:"case_id,omitempty" minimum:"0" doc:"post to this case directly instead of matching"`
}

// PaymentPostInput is POST /api/v1/payments.
type PaymentPostInput struct {
	Body PaymentBody
}

// PaymentPath names a payment.
type PaymentPath struct {
	ID int64 `path:"id" minimum:"1"`
}

// PaymentMatchInput is a manual match from the queue.
type PaymentMatchInput struct {
	PaymentPath
	Body struct {
		CaseID int64   `json:"case_id" minimum:"1"`
		Loans  []int64 `json:"loans,omitempty" maxItems:"100" doc:"loan ids of the case to pay first"`
	}
}

// PaymentReverseInput records a bounce.
type PaymentReverseInput struct {
	PaymentPath
	Body struct {
		Date   string `json:"date" doc:"date of the bounce YYYY-MM-DD"`
		Reason string `json:"reason" minLength:"1" maxLength:"200"`
	}
}

// PaymentListInput selects payments; status=queued is the unmatched queue.
type PaymentListInput struct {
	Status  string `query:"status" enum:"applied,queued,reversed,reversal," doc:"queued: the unmatched queue"`
	Reason  string `query:"reason" maxLength:"40"`
	CaseID  int64  `query:"case_id" minimum:"0"`
	Import  int64  `query:"import_id" minimum:"0"`
	AfterID int64  `query:"after" minimum:"0" doc:"keyset paging: ids after this one"`
	Before  int64  `query:"before" minimum:"0" doc:"keyset paging with order=newest: ids before this one"`
	Order   string `query:"order" enum:"oldest,newest" default:"oldest" doc:"oldest first (the default) or newest first"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

// StatementImportPath names a statement import.
type StatementImportPath struct {
	ID int64 `path:"id" minimum:"1"`
}

// StatementUploadInput gives the handler the request: the multipart body is read part by part
// and the statement goes straight into an encrypted spill file, as a tape upload does.
type StatementUploadInput struct {
	req *http.Request
	w   http.ResponseWriter
}

// Resolve implements huma.Resolver.
func (in *StatementUploadInput) Resolve(ctx huma.Context) []error {
	u := UploadInput{}
	u.Resolve(ctx)
	in.req, in.w = u.req, u.w
	return nil
}

type paymentOut struct{ Body workout.Payment }

type paymentsOut struct{ Body []workout.Payment }

type statementImportOut struct{ Body workout.StatementImport }

// maxStatementMapping bounds an uploaded statement mapping.
const maxStatementMapping = 1 << 20

func (s *Server) paymentRoutes() {
	svc := s.cfg.Payments
	if svc == nil {
		return
	}
	tags := []string{"payments"}
	notify := func(ctx context.Context, what string, id int64) {
		if s.broker != nil {
			_ = s.broker.Publish(ctx, TopicPayments, "payments", map[string]any{"what": what, "id": id})
		}
	}
	register(s, reclaim.PermPaymentPost, huma.Operation{OperationID: "post-payment", Method: http.MethodPost, Path: "/api/v1/payments",
		Summary: "Post one payment (matched, allocated or queued; a negative amount reverses an earlier credit)", Tags: tags,
		DefaultStatus: http.StatusCreated, Errors: []int{400, 404, 409, 422}},
		func(ctx context.Context, in *PaymentPostInput) (*paymentOut, error) {
			b := in.Body
			d, err := s.apiDate("date", b.Date) // 1990-01-01 to tomorrow: the date moves the limitation expiry
			if err != nil {
				return nil, err
			}
			cur := money.Currency(b.Currency)
			if cur == "" {
				cur = money.CNY
			}
			if !cur.Valid() {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "currency is not an ISO 4217 code", Fields: map[string]string{"currency": b.Currency}}
			}
			amt, err := money.ParseStrict(b.Amount, cur)
			if err != nil {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "amount is not a decimal such as 1234.56", Fields: map[string]string{"amount": b.Amount}}
			}
			p, err := svc.PostPayment(ctx, workout.PaymentInput{TxnID: b.TxnID, Date: d, Amount: amt, Reference: b.Reference, PayerName: b.PayerName,
				PayerAccount: b.PayerAccount, PayerID: b.PayerID, PayerPhone: b.PayerPhone, Reverses: b.Reverses, CaseID: b.CaseID})
			if err != nil {
				return nil, err
			}
			notify(ctx, "payment", p.ID)
			return &paymentOut{Body: p}, nil
		})
	register(s, reclaim.PermPaymentPost, huma.Operation{OperationID: "upload-statement", Method: http.MethodPost, Path: "/api/v1/payments/statements",
		Summary: "Upload a bank statement and import it whole or not at all", Tags: tags, DefaultStatus: http.StatusCreated,
		MaxBodyBytes: s.cfg.MaxUploadBytes, Errors: []int{400, 409, 413, 422},
		Description: "multipart/form-data: `file` (the statement CSV, UTF-8 or GBK) and optionally `mapping` (a statement mapping, YAML; " +
			"default: mappings/statement-default.yaml). The file is kept only encrypted while it is read. A rejected file changes nothing; " +
			"the error names the line, field, value and rule of the first problem and lists up to 100."},
		func(ctx context.Context, in *StatementUploadInput) (*statementImportOut, error) {
			name, st, err := s.readStatementUpload(ctx, in.req, in.w)
			if err != nil {
				return nil, err
			}
			imp, err := svc.ImportStatement(ctx, name, st)
			if err != nil {
				return nil, err
			}
			notify(ctx, "statement", imp.ID)
			return &statementImportOut{Body: imp}, nil
		})
	if pi := s.api.OpenAPI().Paths["/api/v1/payments/statements"]; pi != nil && pi.Post != nil {
		pi.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"},
				Properties: map[string]*huma.Schema{
					"file":    {Type: "string", Format: "binary", Description: "the statement CSV (UTF-8 or GBK)"},
					"mapping": {Type: "string", Format: "binary", Description: "optional statement mapping (YAML), at most 1 MiB"},
				}}},
		}}
	}
	register(s, reclaim.PermPaymentRead, huma.Operation{OperationID: "get-statement-import", Method: http.MethodGet,
		Path: "/api/v1/payments/statements/{id}", Summary: "A statement import and its counts", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *StatementImportPath) (*statementImportOut, error) {
			imp, err := svc.GetStatementImport(ctx, in.ID)
			return &statementImportOut{Body: imp}, err
		})
	register(s, reclaim.PermPaymentRead, huma.Operation{OperationID: "list-payments", Method: http.MethodGet, Path: "/api/v1/payments",
		Summary: "List payments (status=queued: the unmatched queue)", Tags: tags},
		func(ctx context.Context, in *PaymentListInput) (*paymentsOut, error) {
			ps, err := svc.ListPayments(ctx, workout.PaymentFilter{Status: in.Status, Reason: in.Reason, CaseID: in.CaseID, ImportID: in.Import,
				AfterID: in.AfterID, BeforeID: in.Before, Newest: in.Order == "newest", Limit: in.Limit})
			if ps == nil {
				ps = []workout.Payment{}
			}
			return &paymentsOut{Body: ps}, err
		})
	register(s, reclaim.PermPaymentRead, huma.Operation{OperationID: "get-payment", Method: http.MethodGet, Path: "/api/v1/payments/{id}",
		Summary: "One payment with its allocations", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *PaymentPath) (*paymentOut, error) {
			p, err := svc.GetPayment(ctx, in.ID)
			return &paymentOut{Body: p}, err
		})
	register(s, reclaim.PermPaymentMatch, huma.Operation{OperationID: "match-payment", Method: http.MethodPost, Path: "/api/v1/payments/{id}/match",
		Summary: "Match a queued payment to a case by hand and allocate it", Tags: tags, DefaultStatus: http.StatusOK, Errors: []int{400, 404, 409, 422}},
		func(ctx context.Context, in *PaymentMatchInput) (*paymentOut, error) {
			p, err := svc.MatchPayment(ctx, in.ID, in.Body.CaseID, in.Body.Loans)
			if err != nil {
				return nil, err
			}
			notify(ctx, "match", p.ID)
			return &paymentOut{Body: p}, nil
		})
	register(s, reclaim.PermPaymentPost, huma.Operation{OperationID: "reverse-payment", Method: http.MethodPost, Path: "/api/v1/payments/{id}/reverse",
		Summary: "Record that a credit bounced: undo exactly what it did (or take it out of the queue)", Tags: tags,
		DefaultStatus: http.StatusCreated, Errors: []int{400, 404, 409, 422}},
		func(ctx context.Context, in *PaymentReverseInput) (*paymentOut, error) {
			d, err := s.apiDate("date", in.Body.Date)
			if err != nil {
				return nil, err
			}
			p, err := svc.ReversePayment(ctx, in.ID, d, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			notify(ctx, "reversal", p.ID)
			return &paymentOut{Body: p}, nil
		})
}

// readStatementUpload reads a statement upload (fields file and mapping) part by part; the file
// is encrypted into a spill file as it arrives and parsed from there; the spill file is removed
// before it returns.
func (s *Server) readStatementUpload(ctx context.Context, r *http.Request, w http.ResponseWriter) (string, *workout.Statement, error) {
	if r == nil {
		return "", nil, reclaim.Errorf(reclaim.EINVALID, "no request")
	}
	if w != nil {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Minute))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "a statement upload is a multipart/form-data body",
			Fields: map[string]string{"body": err.Error()}}
	}
	var file *spill.File
	defer func() {
		if file != nil {
			file.Remove()
		}
	}()
	var name string
	var mapping *workout.StatementMapping
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, s.bodyError(ctx, err)
		}
		switch field := part.FormName(); field {
		case "file":
			if file != nil {
				return "", nil, fieldError("file", "one statement per upload")
			}
			name = safeName(part.FileName())
			if ext := strings.ToLower(filepath.Ext(name)); ext != ".csv" && ext != ".txt" {
				return "", nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "a statement is a .csv file",
					Fields: map[string]string{"file": "unsupported file type " + ext}}
			}
			sw, err := spill.Create(s.cfg.UploadDir)
			if err != nil {
				return "", nil, err
			}
			if _, err := io.Copy(sw, part); err != nil {
				sw.Discard()
				return "", nil, s.bodyError(ctx, err)
			}
			if file, err = sw.Seal(); err != nil {
				return "", nil, err
			}
		case "mapping":
			data, err := io.ReadAll(io.LimitReader(part, maxStatementMapping+1))
			if err != nil {
				return "", nil, s.bodyError(ctx, err)
			}
			if len(data) > maxStatementMapping {
				return "", nil, &reclaim.Error{Code: reclaim.ETOOLARGE, Message: "the mapping file is larger than 1 MiB",
					Fields: map[string]string{"mapping": "too large"}}
			}
			if mapping, err = workout.ParseStatementMapping(data, safeName(part.FileName())); err != nil {
				return "", nil, err
			}
		default:
			return "", nil, fieldError(field, "unknown form field")
		}
		part.Close()
	}
	if file == nil {
		return "", nil, fieldError("file", "required")
	}
	st, err := workout.ParseStatement(file.Reader(), mapping)
	if err != nil {
		return "", nil, err
	}
	// Value dates in the API's range, as a posted payment's (apiDate): never in the future.
	if err := st.CheckDates(apiDateMin, s.apiDateMax()); err != nil {
		return "", nil, err
	}
	return name, st, nil
}
