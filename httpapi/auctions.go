package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/csvsafe"
	"reclaim/date"
	"reclaim/market"
	"reclaim/money"
	"reclaim/tape"
	"reclaim/textnorm"
)

// MarketService is the auction marketplace (docs/marketplace.md): cmd/reclaim wires
// sqldb.Market. Every method takes the caller from ctx (reclaim.UserFrom) and enforces the
// marketplace's object scope itself: a bidder acts for its organisation and sees only the
// auctions it registered for.
type MarketService interface {
	RegisterOrg(ctx context.Context, spec market.OrgSpec) (market.Org, error)
	LinkUser(ctx context.Context, orgID, userID int64) error
	DecideOrg(ctx context.Context, orgID int64, approve bool, reason string) (market.Org, error)
	Org(ctx context.Context, id int64) (market.Org, error)
	Orgs(ctx context.Context) ([]market.Org, error)
	OrgOfUser(ctx context.Context, userID int64) (market.Org, error)
	CreditDeposit(ctx context.Context, orgID int64, amount money.Amount, note string) (market.Account, error)
	Account(ctx context.Context, orgID int64) (market.Account, error)
	CreateAuction(ctx context.Context, spec market.ListingSpec) (market.Auction, error)
	Auctions(ctx context.Context, orgID int64) ([]market.Auction, error)
	Teasers(ctx context.Context) ([]market.Auction, error)
	CanSee(ctx context.Context, auctionID int64) error
	Register(ctx context.Context, auctionID int64) error
	AcceptNDA(ctx context.Context, auctionID int64) error
	FreezeDeposit(ctx context.Context, auctionID int64) (market.BidReceipt, error)
	PlaceBid(ctx context.Context, auctionID int64, req market.BidRequest) (market.BidReceipt, error)
	State(ctx context.Context, auctionID int64) (market.State, error)
	Events(ctx context.Context, auctionID, since int64, limit int) ([]market.Event, error)
	MyBids(ctx context.Context) ([]market.Event, error)
	Result(ctx context.Context, auctionID int64) (market.Result, error)
	ConfirmPayment(ctx context.Context, auctionID int64) (market.Settlement, error)
	Default(ctx context.Context, auctionID int64, reason string) (market.Settlement, error)
	Settle(ctx context.Context, auctionID int64, effective date.Date) (market.Settlement, error)
	RecordOutside(ctx context.Context, auctionID int64, o market.Outside) (market.Auction, error)
	Attempts(ctx context.Context, auctionID int64, limit int) ([]market.RefusedAttempt, error)
	TapeAccess(ctx context.Context, auctionID int64, watermark string) (int64, error)
	FullTape(ctx context.Context, auctionID int64, watermark string, fn func(l *reclaim.Loan, pd reclaim.PersonalData) error) error
	Downloads(ctx context.Context, auctionID int64) ([]market.Download, error)
	AddBlob(ctx context.Context, auctionID int64, name, contentType string, data []byte) (market.BlobInfo, error)
	Blobs(ctx context.Context, auctionID int64) ([]market.BlobInfo, error)
	Blob(ctx context.Context, auctionID, id int64) (market.BlobInfo, []byte, error)
}

// AuctionPath identifies an auction.
type AuctionPath struct {
	ID int64 `path:"id" minimum:"1" doc:"auction id"`
}

// OrgPath identifies an organisation.
type OrgPath struct {
	ID int64 `path:"id" minimum:"1" doc:"organisation id"`
}

// BidInput places a bid. The idempotency key travels in the Idempotency-Key header or the
// body's key (the header wins).
type BidInput struct {
	AuctionPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"128" doc:"a retry with the same key gets the original answer"`
	Body           market.BidRequest
}

// EventsInput reads an auction's stored events after a sequence number (resynchronisation).
type EventsInput struct {
	AuctionPath
	Since int64 `query:"since" minimum:"0" default:"0" doc:"return events with seq > since"`
	Limit int   `query:"limit" minimum:"1" maximum:"5000" default:"1000"`
}

// DecisionInput approves or rejects an organisation.
type DecisionInput struct {
	OrgPath
	Body struct {
		Approve bool   `json:"approve"`
		Reason  string `json:"reason,omitempty" maxLength:"500" doc:"required for a rejection"`
	}
}

// LinkInput links a bidder-role user to an organisation.
type LinkInput struct {
	OrgPath
	Body struct {
		UserID int64 `json:"user_id" minimum:"1"`
	}
}

// CreditInput credits an organisation's deposit account.
type CreditInput struct {
	OrgPath
	Body struct {
		Amount money.Amount `json:"amount"`
		Note   string       `json:"note,omitempty" maxLength:"500"`
	}
}

// DefaultInput records a winner's default.
type DefaultInput struct {
	AuctionPath
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

// SettleInput settles a paid sale.
type SettleInput struct {
	AuctionPath
	Body struct {
		Effective string `json:"effective,omitempty" doc:"the transfer's date (YYYY-MM-DD; default today)"`
	}
}

// OutsideInput records a court auction's result.
type OutsideInput struct {
	AuctionPath
	Body market.Outside
}

// BlobInput uploads a listing file (the raw bytes; Content-Type names the type).
type BlobInput struct {
	AuctionPath
	Name        string `query:"name" required:"true" maxLength:"200"`
	ContentType string `header:"Content-Type"`
	RawBody     []byte
}

// BlobPath identifies a listing file.
type BlobPath struct {
	AuctionPath
	Blob int64 `path:"blob" minimum:"1"`
}

// MarketMe is the caller's organisation, its deposit account and its bids.
type MarketMe struct {
	Org     market.Org     `json:"org"`
	Account market.Account `json:"account"`
	Bids    []market.Event `json:"bids"`
}

type body[T any] struct{ Body T }

func out[T any](v T, err error) (*body[T], error) {
	if err != nil {
		return nil, err
	}
	return &body[T]{Body: v}, nil
}

// noContent is an empty answer (204).
type noContent struct{}

func (s *Server) marketRoutes() {
	mk := s.cfg.Market
	if mk == nil {
		return
	}
	// Amounts travel as decimal strings ("700000.00", null when absent): say so in the schema,
	// so that huma validates them as strings and money.Amount parses them.
	s.api.OpenAPI().Components.Schemas.RegisterTypeAlias(reflect.TypeOf(money.Amount{}), reflect.TypeOf(decimalAmount{}))
	tags := []string{"market"}
	const base = "/api/v1/market"
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "list-market-teasers", Method: http.MethodGet, Path: base + "/teasers",
		Summary: "Public teasers of open auctions (aggregates only; prices need a registration)", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*body[[]market.Auction], error) { return out(mk.Teasers(ctx)) })
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "list-auctions", Method: http.MethodGet, Path: base + "/auctions",
		Summary: "Auctions (a bidder sees only those its organisation registered for)", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*body[[]market.Auction], error) {
			var org int64
			if u := reclaim.UserFrom(ctx); u != nil && u.Role == reclaim.RoleBidder {
				o, err := mk.OrgOfUser(ctx, u.ID)
				if err != nil {
					return &body[[]market.Auction]{Body: []market.Auction{}}, nil
				}
				org = o.ID
			}
			return out(mk.Auctions(ctx, org))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "create-auction", Method: http.MethodPost, Path: base + "/auctions",
		Summary: "List an auction (checked against its rule pack; an acquired personal-NPL package is refused)", Tags: tags,
		DefaultStatus: http.StatusCreated, Errors: []int{400, 404}},
		func(ctx context.Context, in *struct{ Body market.ListingSpec }) (*body[market.Auction], error) {
			return out(mk.CreateAuction(ctx, in.Body))
		})
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "get-auction", Method: http.MethodGet, Path: base + "/auctions/{id}",
		Summary: "An auction's state, resynchronised from the database: the public view (bidder codes while bidding runs) and the caller's standing",
		Tags:    tags, Errors: []int{404}},
		func(ctx context.Context, in *AuctionPath) (*body[market.State], error) {
			return out(mk.State(ctx, in.ID))
		})
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "list-auction-events", Method: http.MethodGet, Path: base + "/auctions/{id}/events",
		Summary: "Stored events after seq `since` (a reconnecting client resynchronises here, then follows auction.<id>)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *EventsInput) (*body[[]market.Event], error) {
			return out(mk.Events(ctx, in.ID, in.Since, in.Limit))
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "place-bid", Method: http.MethodPost, Path: base + "/auctions/{id}/bids",
		Summary: "Place a bid for your organisation; answered once durable (accepted or rejected with the rule)",
		Description: "A refusal before the engine (absurd amount, unqualified, barred or unregistered organisation) is a 4xx error and is recorded; " +
			"the engine's rejections (below the price, off the increment, after the close, no deposit) are 200 with accepted=false, the rule and the reason, and are stored.",
		Tags: tags, Errors: []int{400, 404, 409}},
		func(ctx context.Context, in *BidInput) (*body[market.BidReceipt], error) {
			req := in.Body
			if in.IdempotencyKey != "" {
				req.Key = in.IdempotencyKey
			}
			return out(mk.PlaceBid(ctx, in.ID, req))
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "register-for-auction", Method: http.MethodPost, Path: base + "/auctions/{id}/registration",
		Summary: "Register your (qualified) organisation for an auction", Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{400, 404}},
		func(ctx context.Context, in *AuctionPath) (*noContent, error) {
			return &noContent{}, mk.Register(ctx, in.ID)
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "accept-auction-nda", Method: http.MethodPost, Path: base + "/auctions/{id}/nda",
		Summary: "Accept the auction's NDA for your organisation (recorded: who, when)", Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{404}},
		func(ctx context.Context, in *AuctionPath) (*noContent, error) {
			return &noContent{}, mk.AcceptNDA(ctx, in.ID)
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "freeze-auction-deposit", Method: http.MethodPost, Path: base + "/auctions/{id}/deposit",
		Summary: "Freeze the auction's deposit from your organisation's account (needed before bidding)", Tags: tags, Errors: []int{400, 404}},
		func(ctx context.Context, in *AuctionPath) (*body[market.BidReceipt], error) {
			return out(mk.FreezeDeposit(ctx, in.ID))
		})
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "get-auction-result", Method: http.MethodGet, Path: base + "/auctions/{id}/result",
		Summary: "A closed auction's result: outcome with names, the accepted-bid history and its SHA-256 (as on the ledger), the settlement",
		Tags:    tags, Errors: []int{404, 409}},
		func(ctx context.Context, in *AuctionPath) (*body[market.Result], error) {
			return out(mk.Result(ctx, in.ID))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "confirm-auction-payment", Method: http.MethodPost, Path: base + "/auctions/{id}/payment",
		Summary: "Confirm the winner's payment", Tags: tags, Errors: []int{404, 409}},
		func(ctx context.Context, in *AuctionPath) (*body[market.Settlement], error) {
			return out(mk.ConfirmPayment(ctx, in.ID))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "record-auction-default", Method: http.MethodPost, Path: base + "/auctions/{id}/default",
		Summary: "Record the winner's default (JA-8: deposit forfeited, organisation barred)", Tags: tags, Errors: []int{404, 409}},
		func(ctx context.Context, in *DefaultInput) (*body[market.Settlement], error) {
			return out(mk.Default(ctx, in.ID, in.Body.Reason))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "settle-auction", Method: http.MethodPost, Path: base + "/auctions/{id}/settle",
		Summary: "Settle a paid sale: transfer, documents, and the auction.result ledger entry for pool loans", Tags: tags, Errors: []int{400, 404, 409}},
		func(ctx context.Context, in *SettleInput) (*body[market.Settlement], error) {
			var eff date.Date
			if in.Body.Effective != "" {
				// It dates the ledger's auction.result and loan.removed entries: the API's range,
				// as every ledger date (1990-01-01 to tomorrow).
				d, err := s.apiDate("effective", in.Body.Effective)
				if err != nil {
					return nil, err
				}
				eff = d
			}
			return out(mk.Settle(ctx, in.ID, eff))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "record-court-auction", Method: http.MethodPost, Path: base + "/auctions/{id}/outside",
		Summary: "Record the result of a court auction held on an outside platform (and book its proceeds to the loan)", Tags: tags, Errors: []int{400, 404, 409}},
		func(ctx context.Context, in *OutsideInput) (*body[market.Auction], error) {
			// at dates the proceeds' collection on the pool's ledger: the API's range, as a
			// posted collection's date (1990-01-01 to tomorrow).
			if at := in.Body.At; !at.IsZero() {
				if d := date.FromTime(at.UTC()); d.Before(apiDateMin) || d.After(s.apiDateMax()) {
					why := "a time from " + apiDateMin.String() + " to " + s.apiDateMax().String()
					return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "at must be " + why, Fields: map[string]string{"at": why}}
				}
			}
			return out(mk.RecordOutside(ctx, in.ID, in.Body))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "list-auction-attempts", Method: http.MethodGet, Path: base + "/auctions/{id}/attempts",
		Summary: "Refused requests recorded for an auction", Tags: tags},
		func(ctx context.Context, in *AuctionPath) (*body[[]market.RefusedAttempt], error) {
			return out(mk.Attempts(ctx, in.ID, 1000))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "list-auction-downloads", Method: http.MethodGet, Path: base + "/auctions/{id}/downloads",
		Summary: "Logged tape downloads of an auction (watermark ids)", Tags: tags},
		func(ctx context.Context, in *AuctionPath) (*body[[]market.Download], error) {
			return out(mk.Downloads(ctx, in.ID))
		})
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "upload-auction-file", Method: http.MethodPost, Path: base + "/auctions/{id}/files",
		Summary: "Add a photo (JPEG, PNG, WebP) or document (PDF) to a listing; the raw bytes are the body", Tags: tags,
		DefaultStatus: http.StatusCreated, MaxBodyBytes: market.MaxFileBytes, Errors: []int{400, 404, 413}},
		func(ctx context.Context, in *BlobInput) (*body[market.BlobInfo], error) {
			return out(mk.AddBlob(ctx, in.ID, in.Name, in.ContentType, in.RawBody))
		})
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "list-auction-files", Method: http.MethodGet, Path: base + "/auctions/{id}/files",
		Summary: "A listing's photos and documents", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *AuctionPath) (*body[[]market.BlobInfo], error) {
			if err := mk.CanSee(ctx, in.ID); err != nil {
				return nil, err
			}
			return out(mk.Blobs(ctx, in.ID))
		})
	register(s, reclaim.PermAuctionRead, huma.Operation{OperationID: "get-auction-file", Method: http.MethodGet, Path: base + "/auctions/{id}/files/{blob}",
		Summary: "One listing file", Tags: tags, Errors: []int{404},
		Responses: map[string]*huma.Response{"200": {Description: "the file", Content: map[string]*huma.MediaType{"application/octet-stream": {}}}}},
		func(ctx context.Context, in *BlobPath) (*huma.StreamResponse, error) {
			if err := mk.CanSee(ctx, in.ID); err != nil {
				return nil, err
			}
			info, data, err := mk.Blob(ctx, in.ID, in.Blob)
			if err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				hc.SetHeader("Content-Type", info.ContentType)
				hc.SetHeader("Content-Length", strconv.Itoa(len(data)))
				hc.SetHeader("X-Content-Type-Options", "nosniff")
				hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="file-%d"`, info.ID))
				hc.BodyWriter().Write(data)
			}}, nil
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "download-auction-tape", Method: http.MethodPost, Path: base + "/auctions/{id}/tape.csv",
		Summary: "The masked tape of an NPL package (after the NDA; k-anonymity forced on; watermarked and logged per download)",
		Tags:    tags, Errors: []int{403, 404}, DefaultStatus: http.StatusOK,
		Responses: map[string]*huma.Response{"200": {Description: "CSV", Content: map[string]*huma.MediaType{"text/csv": {}}}}},
		func(ctx context.Context, in *AuctionPath) (*huma.StreamResponse, error) {
			var b [8]byte
			rand.Read(b[:])
			wm := hex.EncodeToString(b[:])
			pid, err := mk.TapeAccess(ctx, in.ID, wm)
			if err != nil {
				return nil, err
			}
			p, err := s.store.GetPortfolio(ctx, pid)
			if err != nil {
				return nil, err
			}
			mo := tape.MaskOptions{Salt: p.Salt, DownloadID: wm, K: 5, Suppress: true}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				w := &firstWrite{w: hc.BodyWriter(), start: func() {
					hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
					hc.SetHeader("X-Reclaim-Watermark", wm)
					hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="auction-%d-%s.csv"`, in.ID, wm))
				}}
				stream := func(ctx context.Context, fn func(*reclaim.Loan) error) error {
					return s.store.StreamLoans(ctx, pid, fn)
				}
				if _, err := tape.ExportMasked(hc.Context(), stream, w, tape.WriterOptions{Format: "csv", Encoding: "utf-8-bom"}, mo, nil); err != nil && !w.started {
					code := reclaim.ErrorCode(err)
					if code == "" {
						code = reclaim.EINTERNAL
					}
					hc.SetHeader("Content-Type", "application/json")
					hc.SetStatus(statusOf[code])
					_ = json.NewEncoder(hc.BodyWriter()).Encode(ErrorBody{Code: code, Message: "the tape could not be exported"})
				}
			}}, nil
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "download-auction-full-tape", Method: http.MethodPost, Path: base + "/auctions/{id}/full-tape.csv",
		Summary: "The buyer's full tape after payment, with personal data (an audited bulk read: one access-log row per borrower; watermarked and logged)",
		Tags:    tags, Errors: []int{403, 404}, DefaultStatus: http.StatusOK,
		Responses: map[string]*huma.Response{"200": {Description: "CSV", Content: map[string]*huma.MediaType{"text/csv": {}}}}},
		func(ctx context.Context, in *AuctionPath) (*huma.StreamResponse, error) {
			var b [8]byte
			rand.Read(b[:])
			wm := hex.EncodeToString(b[:])
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				var cw *csvsafe.Writer
				w := &firstWrite{w: hc.BodyWriter(), start: func() {
					hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
					hc.SetHeader("X-Reclaim-Watermark", wm)
					hc.SetHeader("Cache-Control", "no-store")
					hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="auction-%d-full-%s.csv"`, in.ID, wm))
				}}
				err := mk.FullTape(ctx, in.ID, wm, func(l *reclaim.Loan, pd reclaim.PersonalData) error {
					if cw == nil {
						cw = csvsafe.NewWriter(w)
						if err := cw.Write(fullTapeColumns); err != nil {
							return err
						}
					}
					return cw.Write([]string{wm, l.LoanID, l.BorrowerID, l.PrincipalOutstanding.String(), amountCell(l.InterestOutstanding),
						amountCell(l.FeesOutstanding), l.TotalClaim.String(), strconv.Itoa(l.DaysPastDue), pd.Name, pd.NationalID, pd.Phone,
						pd.Address, pd.Employer, pd.BankCard})
				})
				if cw != nil {
					cw.Flush()
				}
				if err != nil && !w.started {
					be := apiError(err)
					hc.SetHeader("Content-Type", "application/json")
					hc.SetStatus(be.Status)
					_ = json.NewEncoder(hc.BodyWriter()).Encode(be)
				}
			}}, nil
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "get-market-me", Method: http.MethodGet, Path: base + "/me",
		Summary: "Your organisation, its deposit account (every movement) and your bids", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, _ *struct{}) (*body[MarketMe], error) {
			u := reclaim.UserFrom(ctx)
			o, err := mk.OrgOfUser(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			acc, err := mk.Account(ctx, o.ID)
			if err != nil {
				return nil, err
			}
			bids, err := mk.MyBids(ctx)
			return out(MarketMe{Org: o, Account: acc, Bids: bids}, err)
		})
	register(s, reclaim.PermAuctionBid, huma.Operation{OperationID: "register-org", Method: http.MethodPost, Path: base + "/orgs",
		Summary: "Register your organisation (pending qualification by an administrator); you act for it", Tags: tags,
		DefaultStatus: http.StatusCreated, Errors: []int{400, 409}},
		func(ctx context.Context, in *struct{ Body market.OrgSpec }) (*body[market.Org], error) {
			return out(mk.RegisterOrg(ctx, in.Body))
		})
	register(s, reclaim.PermOrgManage, huma.Operation{OperationID: "list-orgs", Method: http.MethodGet, Path: base + "/orgs",
		Summary: "Bidding organisations", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*body[[]market.Org], error) { return out(mk.Orgs(ctx)) })
	register(s, reclaim.PermOrgManage, huma.Operation{OperationID: "decide-org", Method: http.MethodPost, Path: base + "/orgs/{id}/decision",
		Summary: "Approve (qualify) or reject an organisation", Tags: tags, Errors: []int{400, 404}},
		func(ctx context.Context, in *DecisionInput) (*body[market.Org], error) {
			return out(mk.DecideOrg(ctx, in.ID, in.Body.Approve, textnorm.Trim(in.Body.Reason)))
		})
	register(s, reclaim.PermOrgManage, huma.Operation{OperationID: "link-org-user", Method: http.MethodPost, Path: base + "/orgs/{id}/users",
		Summary: "Make a bidder account act for the organisation", Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{400, 404, 409}},
		func(ctx context.Context, in *LinkInput) (*noContent, error) {
			return &noContent{}, mk.LinkUser(ctx, in.ID, in.Body.UserID)
		})
	register(s, reclaim.PermOrgManage, huma.Operation{OperationID: "credit-org-deposit", Method: http.MethodPost, Path: base + "/orgs/{id}/deposits",
		Summary: "Credit money received to the organisation's deposit account", Tags: tags, Errors: []int{400, 404}},
		func(ctx context.Context, in *CreditInput) (*body[market.Account], error) {
			return out(mk.CreditDeposit(ctx, in.ID, in.Body.Amount, in.Body.Note))
		})
	register(s, reclaim.PermOrgManage, huma.Operation{OperationID: "get-org-account", Method: http.MethodGet, Path: base + "/orgs/{id}/account",
		Summary: "An organisation's deposit account with every movement", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *OrgPath) (*body[market.Account], error) {
			return out(mk.Account(ctx, in.ID))
		})
}

// fullTapeColumns are the buyer's full tape's columns: the download's watermark on every row,
// the loan's balances and the borrower's personal data.
var fullTapeColumns = []string{"download_id", "loan_id", "borrower_ref", "principal", "interest", "fees", "total_claim", "days_past_due",
	"name", "national_id", "phone", "address", "employer", "bank_card"}

func amountCell(a money.Amount) string {
	if a.IsAbsent() {
		return ""
	}
	return a.String()
}

// decimalAmount is the API schema of money.Amount: a decimal string in major units, or null.
type decimalAmount struct{}

// Schema describes money.Amount in the OpenAPI document.
func (decimalAmount) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Nullable: true, MaxLength: ptr(40),
		Description: "an amount in major units (yuan) as a decimal string, e.g. \"700000.00\"; null when absent"}
}

func ptr[T any](v T) *T { return &v }

// auctionTopicAllowed decides a subscription to auction.<id>: the caller must see the auction.
func (s *Server) auctionTopicAllowed(ctx context.Context, topic, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if s.cfg.Market == nil || !reclaim.UserFrom(ctx).Role.Can(reclaim.PermAuctionRead) || err != nil || n <= 0 {
		return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", topic)
	}
	return s.cfg.Market.CanSee(ctx, n)
}
