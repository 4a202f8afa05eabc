package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// LedgerService is what the pool-ledger routes read and write. cmd/reclaim implements it over
// sqldb, the sequencer and the publisher.
type LedgerService interface {
	Pools(ctx context.Context) ([]tlog.Pool, error)
	Pool(ctx context.Context, pool string) (tlog.Pool, error)
	// Head is the pool's current tree (cheaper than Pool).
	Head(ctx context.Context, pool string) (tlog.Head, error)
	// LatestCheckpoint is the largest published checkpoint (ENOTFOUND before the first).
	LatestCheckpoint(ctx context.Context, pool string) (tlog.StoredCheckpoint, error)
	Leaves(ctx context.Context, pool string, before int64, limit int) ([]tlog.Leaf, error)
	LeafByEvent(ctx context.Context, pool, eventID string) (tlog.Leaf, error)
	Entries(ctx context.Context, pool string, from, to int64) ([][]byte, error)
	Hashes(ctx context.Context, pool string) sumtlog.HashReader
	Reports(ctx context.Context, pool string) ([]tlog.PeriodReport, error)
	// PoolLoans pages through a pool's loans in reference order.
	PoolLoans(ctx context.Context, pool string, offset, limit int) ([]tlog.PoolLoan, int64, error)
	PostCollection(ctx context.Context, c tlog.Collection) (string, error)
	ClosePeriod(ctx context.Context, pool string, start, end date.Date) (tlog.PeriodReport, error)
	// RecordCashStatement logs the trustee's statement of the pool's collection account.
	RecordCashStatement(ctx context.Context, s tlog.CashStatement) (string, error)
	// Publish signs (and has witnessed) a checkpoint of the pool's current tree now.
	Publish(ctx context.Context, pool string) (tlog.Published, error)
	// VerifierKey is the log's note verifier key; Witnesses the configured witnesses' keys.
	VerifierKey() string
	Witnesses() []WitnessInfo
	Quorum() int
}

// WitnessInfo names a configured witness and its cosignature verifier key.
type WitnessInfo = tlog.WitnessInfo

// PoolPath identifies a pool.
type PoolPath struct {
	Pool string `path:"pool" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9._:-]+$" doc:"pool id"`
}

// PoolView is a pool with its latest published checkpoint.
type PoolView struct {
	tlog.Pool
	Checkpoint *tlog.StoredCheckpoint `json:"checkpoint,omitempty"`
	Witnesses  []WitnessInfo          `json:"witnesses,omitempty"`
	Quorum     int                    `json:"quorum"`
	VKey       string                 `json:"vkey,omitempty"`
	// Integrity is the store self-audit status (damaged: signing stopped, with what differs).
	Integrity *tlog.Integrity `json:"integrity,omitempty"`
}

// LeafView is a sequenced entry for browsing (the entry's exact bytes as a string).
type LeafView struct {
	Index       int64  `json:"index"`
	EventID     string `json:"event_id"`
	Type        string `json:"type"`
	Entry       string `json:"entry"`
	QueuedAt    string `json:"queued_at"`
	SequencedAt string `json:"sequenced_at"`
}

// LeafPage is a page of entries, newest first.
type LeafPage struct {
	Items []LeafView `json:"items"`
	Size  int64      `json:"size"`
}

// CollectionInput posts a collection.
type CollectionInput struct {
	PoolPath
	Body struct {
		Loan      string `json:"loan" minLength:"1" maxLength:"64" doc:"the loan's per-pool reference"`
		Amount    string `json:"amount" minLength:"1" maxLength:"32" pattern:"^-?(0|[1-9][0-9]*)(\\.[0-9]{1,2})?$" doc:"amount in yuan, greater than zero: digits with at most two decimals, e.g. 1234.56"`
		Channel   string `json:"channel" enum:"bank_transfer,online,cash,court,agency,sale"`
		TxnID     string `json:"txn_id" minLength:"1" maxLength:"128" doc:"bank transaction id (kept private; committed on the ledger)"`
		Effective string `json:"effective" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"value date YYYY-MM-DD, from 1990-01-01 to tomorrow (UTC)"`
	}
}

// PoolLoansInput asks for a page of a pool's loans.
type PoolLoansInput struct {
	PoolPath
	Offset int `query:"offset" minimum:"0" default:"0"`
	Limit  int `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

// PoolLoanView is a loan of a pool: its per-pool reference, balances and status. LoanID (the
// seller's loan id from the tape) is filled only for roles that may read the portfolio
// (portfolio.read); investors and trustees see the per-pool reference alone, as on the ledger.
type PoolLoanView struct {
	Ref       string       `json:"ref"`
	LoanID    string       `json:"loan_id,omitempty"`
	Claim     money.Amount `json:"claim"`
	Principal money.Amount `json:"principal"`
	Interest  money.Amount `json:"interest"`
	Fees      money.Amount `json:"fees"`
	Balance   money.Amount `json:"balance"`
	Status    string       `json:"status"`
}

// PoolLoansPage is a page of a pool's loans.
type PoolLoansPage struct {
	Items  []PoolLoanView `json:"items"`
	Total  int64          `json:"total"`
	Offset int            `json:"offset"`
	Limit  int            `json:"limit"`
}

// PortfolioPoolView names a pool opened from a portfolio (where its loans' collections are posted).
type PortfolioPoolView struct {
	Pool   string `json:"pool"`
	Name   string `json:"name"`
	Frozen bool   `json:"frozen"`
}

// poolLoanViews turns pool loans into their views; withLoanID says whether the caller may see
// the seller's loan ids.
func poolLoanViews(ls []tlog.PoolLoan, withLoanID bool) []PoolLoanView {
	out := make([]PoolLoanView, len(ls))
	for i, l := range ls {
		out[i] = PoolLoanView{Ref: l.Ref, Claim: l.Claim, Principal: l.Principal, Interest: l.Interest, Fees: l.Fees,
			Balance: l.Balance, Status: l.Status}
		if withLoanID {
			out[i].LoanID = l.LoanKey
		}
	}
	return out
}

// PeriodInput closes a reporting period.
type PeriodInput struct {
	PoolPath
	Body struct {
		Start string `json:"period_start" doc:"YYYY-MM-DD"`
		End   string `json:"period_end" doc:"YYYY-MM-DD"`
	}
}

func entryType(b []byte) string {
	var h struct {
		Type string `json:"type"`
	}
	json.Unmarshal(b, &h)
	return h.Type
}

func (s *Server) ledgerRoutes() {
	l := s.cfg.Ledger
	if l == nil {
		return
	}
	register(s, reclaim.PermLedgerRead, huma.Operation{OperationID: "list-pools", Method: http.MethodGet, Path: "/api/v1/pools",
		Summary: "Pools and their latest checkpoints", Tags: []string{"ledger"}},
		func(ctx context.Context, _ *struct{}) (*struct{ Body []PoolView }, error) {
			ps, err := l.Pools(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]PoolView, 0, len(ps))
			for _, p := range ps {
				if s.poolVisible(ctx, reclaim.UserFrom(ctx), p.Pool) != nil {
					continue // investors: their deals only (deals.go)
				}
				v := PoolView{Pool: p, Quorum: l.Quorum(), Integrity: s.poolIntegrity(ctx, p.Pool)}
				if c, err := l.LatestCheckpoint(ctx, p.Pool); err == nil {
					v.Checkpoint = &c
				}
				out = append(out, v)
			}
			return &struct{ Body []PoolView }{out}, nil
		})
	register(s, reclaim.PermLedgerRead, huma.Operation{OperationID: "get-pool", Method: http.MethodGet, Path: "/api/v1/pools/{pool}",
		Summary: "One pool, its latest checkpoint, the log key and the witnesses", Tags: []string{"ledger"}},
		func(ctx context.Context, in *PoolPath) (*struct{ Body PoolView }, error) {
			p, err := l.Pool(ctx, in.Pool)
			if err != nil {
				return nil, err
			}
			v := PoolView{Pool: p, Witnesses: l.Witnesses(), Quorum: l.Quorum(), VKey: l.VerifierKey(), Integrity: s.poolIntegrity(ctx, p.Pool)}
			if pk, ok := l.(interface {
				PoolVerifierKey(ctx context.Context, pool string) (string, error)
			}); ok {
				if k, err := pk.PoolVerifierKey(ctx, p.Pool); err == nil {
					v.VKey = k // the pool's current key (after a rotation, the new one)
				}
			}
			if c, err := l.LatestCheckpoint(ctx, p.Pool); err == nil {
				v.Checkpoint = &c
			}
			return &struct{ Body PoolView }{v}, nil
		})
	type entriesIn struct {
		PoolPath
		Before int64 `query:"before" minimum:"0" doc:"entries with a smaller index (0: from the newest)"`
		Limit  int   `query:"limit" minimum:"1" maximum:"500" default:"50"`
	}
	register(s, reclaim.PermLedgerRead, huma.Operation{OperationID: "list-pool-entries", Method: http.MethodGet, Path: "/api/v1/pools/{pool}/entries",
		Summary: "Sequenced entries, newest first", Tags: []string{"ledger"}},
		func(ctx context.Context, in *entriesIn) (*struct{ Body LeafPage }, error) {
			p, err := l.Pool(ctx, in.Pool)
			if err != nil {
				return nil, err
			}
			ls, err := l.Leaves(ctx, in.Pool, in.Before, in.Limit)
			if err != nil {
				return nil, err
			}
			page := LeafPage{Items: make([]LeafView, 0, len(ls)), Size: p.Size}
			for _, x := range ls {
				page.Items = append(page.Items, LeafView{Index: x.Index, EventID: x.EventID, Type: entryType(x.Entry), Entry: string(x.Entry),
					QueuedAt: x.QueuedAt.Format("2006-01-02T15:04:05.000Z07:00"), SequencedAt: x.SequencedAt.Format("2006-01-02T15:04:05.000Z07:00")})
			}
			return &struct{ Body LeafPage }{page}, nil
		})
	type eventIn struct {
		PoolPath
		Event string `path:"event" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._:-]+$"`
	}
	register(s, reclaim.PermLedgerRead, huma.Operation{OperationID: "get-pool-entry", Method: http.MethodGet, Path: "/api/v1/pools/{pool}/entries/{event}",
		Summary: "An entry's receipt: the entry, its inclusion proof and the checkpoint it is proved against", Tags: []string{"ledger"}},
		func(ctx context.Context, in *eventIn) (*struct{ Body verify.Receipt }, error) {
			leaf, err := l.LeafByEvent(ctx, in.Pool, in.Event)
			if err != nil {
				return nil, err
			}
			r, err := s.receipt(ctx, in.Pool, leaf.Index)
			if err != nil {
				return nil, err
			}
			return &struct{ Body verify.Receipt }{*r}, nil
		})
	register(s, reclaim.PermLedgerRead, huma.Operation{OperationID: "list-pool-reports", Method: http.MethodGet, Path: "/api/v1/pools/{pool}/reports",
		Summary: "The pool's period reports", Tags: []string{"ledger"}},
		func(ctx context.Context, in *PoolPath) (*struct{ Body []tlog.PeriodReport }, error) {
			if _, err := l.Pool(ctx, in.Pool); err != nil {
				return nil, err
			}
			rs, err := l.Reports(ctx, in.Pool)
			return &struct{ Body []tlog.PeriodReport }{rs}, err
		})
	register(s, reclaim.PermLedgerRead, huma.Operation{OperationID: "list-pool-loans", Method: http.MethodGet, Path: "/api/v1/pools/{pool}/loans",
		Summary: "A page of a pool's loans: per-pool reference, balances, status, and the tape's loan id for roles that may read the portfolio",
		Tags:    []string{"ledger"}, Errors: []int{404}},
		func(ctx context.Context, in *PoolLoansInput) (*struct{ Body PoolLoansPage }, error) {
			ls, total, err := l.PoolLoans(ctx, in.Pool, in.Offset, in.Limit)
			if err != nil {
				return nil, err
			}
			// The seller's loan id is portfolio data: never to investors or trustees.
			u := reclaim.UserFrom(ctx)
			withID := u != nil && u.Role.Can(reclaim.PermPortfolioRead)
			return &struct{ Body PoolLoansPage }{PoolLoansPage{Items: poolLoanViews(ls, withID), Total: total, Offset: in.Offset, Limit: in.Limit}}, nil
		})
	register(s, reclaim.PermPortfolioRead, huma.Operation{OperationID: "list-portfolio-pools", Method: http.MethodGet, Path: "/api/v1/portfolios/{id}/pools",
		Summary: "The pools opened from a portfolio (where its loans' collections are posted)", Tags: []string{"ledger"}, Errors: []int{404}},
		func(ctx context.Context, in *PortfolioPath) (*struct{ Body []PortfolioPoolView }, error) {
			if _, err := s.store.GetPortfolio(ctx, in.ID); err != nil {
				return nil, err
			}
			ps, err := l.Pools(ctx)
			if err != nil {
				return nil, err
			}
			out := []PortfolioPoolView{}
			for _, p := range ps {
				if p.PortfolioID == in.ID {
					out = append(out, PortfolioPoolView{Pool: p.Pool, Name: p.Name, Frozen: p.FrozenAt != nil})
				}
			}
			return &struct{ Body []PortfolioPoolView }{out}, nil
		})
	register(s, reclaim.PermCollectionPost, huma.Operation{OperationID: "post-collection", Method: http.MethodPost, Path: "/api/v1/pools/{pool}/collections",
		Summary: "Post a collection (written to the pool's ledger in the same transaction)", Tags: []string{"ledger"}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *CollectionInput) (*struct {
			Body struct {
				EventID string `json:"event_id"`
			}
		}, error) {
			amt, err := apiAmount("amount", in.Body.Amount, positive)
			if err != nil {
				return nil, err
			}
			eff, err := s.apiDate("effective", in.Body.Effective)
			if err != nil {
				return nil, err
			}
			id, err := l.PostCollection(ctx, tlog.Collection{Pool: in.Pool, LoanRef: in.Body.Loan, Amount: amt, Channel: in.Body.Channel,
				TxnID: in.Body.TxnID, Effective: eff, PostedBy: reclaim.Actor(ctx)})
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
	register(s, reclaim.PermLedgerManage, huma.Operation{OperationID: "close-period", Method: http.MethodPost, Path: "/api/v1/pools/{pool}/reports",
		Summary: "Close a reporting period: a period.report entry computed from the log", Tags: []string{"ledger"}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *PeriodInput) (*struct{ Body tlog.PeriodReport }, error) {
			start, err := s.apiDate("period_start", in.Body.Start)
			if err != nil {
				return nil, err
			}
			end, err := s.apiDate("period_end", in.Body.End)
			if err != nil {
				return nil, err
			}
			r, err := l.ClosePeriod(ctx, in.Pool, start, end)
			return &struct{ Body tlog.PeriodReport }{r}, err
		})
	type statementIn struct {
		PoolPath
		Body struct {
			Account     string `json:"account" minLength:"1" maxLength:"64" doc:"collection account number (committed on the ledger, never shown)"`
			PeriodStart string `json:"period_start" doc:"YYYY-MM-DD"`
			PeriodEnd   string `json:"period_end" doc:"YYYY-MM-DD"`
			Opening     string `json:"opening" maxLength:"32"`
			Credits     string `json:"credits" maxLength:"32"`
			Debits      string `json:"debits" maxLength:"32"`
			Closing     string `json:"closing" maxLength:"32"`
			Document    []byte `json:"document" minLength:"1" doc:"the statement file, base64; its SHA-256 goes on the ledger"`
		}
	}
	register(s, reclaim.PermLedgerManage, huma.Operation{OperationID: "record-cash-statement", Method: http.MethodPost, Path: "/api/v1/pools/{pool}/statements",
		Summary: "Record the trustee's bank statement of the pool's collection account (cash.statement entry)", Tags: []string{"ledger"}, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *statementIn) (*struct {
			Body struct {
				EventID string `json:"event_id"`
			}
		}, error) {
			b := in.Body
			start, err := s.apiDate("period_start", b.PeriodStart)
			if err != nil {
				return nil, err
			}
			end, err := s.apiDate("period_end", b.PeriodEnd)
			if err != nil {
				return nil, err
			}
			var amts [4]money.Amount
			for i, v := range []struct {
				field, value string
				rule         int
			}{{"opening", b.Opening, anySign}, {"credits", b.Credits, nonNegative}, {"debits", b.Debits, nonNegative}, {"closing", b.Closing, anySign}} {
				if amts[i], err = apiAmount(v.field, v.value, v.rule); err != nil {
					return nil, err
				}
			}
			id, err := l.RecordCashStatement(ctx, tlog.CashStatement{Pool: in.Pool, Account: b.Account, PeriodStart: start, PeriodEnd: end,
				Opening: amts[0], Credits: amts[1], Debits: amts[2], Closing: amts[3], Document: b.Document, Effective: end})
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
	register(s, reclaim.PermLedgerManage, huma.Operation{OperationID: "publish-checkpoint", Method: http.MethodPost, Path: "/api/v1/pools/{pool}/checkpoint",
		Summary: "Sign and have witnessed a checkpoint now", Tags: []string{"ledger"}},
		func(ctx context.Context, in *PoolPath) (*struct{ Body tlog.StoredCheckpoint }, error) {
			if _, err := l.Publish(ctx, in.Pool); err != nil {
				return nil, err
			}
			c, err := l.LatestCheckpoint(ctx, in.Pool)
			return &struct{ Body tlog.StoredCheckpoint }{c}, err
		})

	// The raw log under /ledger/{pool}/: C2SP tlog-tiles plus proofs and receipts. The checkpoint
	// and the key are public; everything else needs ledger.read.
	s.mux.HandleFunc("GET /ledger/{pool}/checkpoint", s.ledgerPublic(func(w http.ResponseWriter, r *http.Request, pool string) error {
		c, err := l.LatestCheckpoint(r.Context(), pool)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, err = w.Write([]byte(c.Note))
		return err
	}))
	s.mux.HandleFunc("GET /ledger/{pool}/vkey", s.ledgerPublic(func(w http.ResponseWriter, r *http.Request, pool string) error {
		if _, err := l.Head(r.Context(), pool); err != nil {
			return err
		}
		vkey := l.VerifierKey()
		if pk, ok := l.(interface {
			PoolVerifierKey(ctx context.Context, pool string) (string, error)
		}); ok {
			k, err := pk.PoolVerifierKey(r.Context(), pool)
			if err != nil {
				return err
			}
			vkey = k
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte(vkey + "\n"))
		return err
	}))
	// A verifier holding a log key that was rotated away fetches the checkpoint, signed by that
	// key, that covers the key.rotation entry (public, like the checkpoint).
	if kr, ok := l.(interface {
		KeyRotationCheckpoint(ctx context.Context, pool, keyHash string) ([]byte, error)
	}); ok {
		s.mux.HandleFunc("GET /ledger/{pool}/key-rotation/{keyhash}", s.ledgerPublic(func(w http.ResponseWriter, r *http.Request, pool string) error {
			note, err := kr.KeyRotationCheckpoint(r.Context(), pool, r.PathValue("keyhash"))
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, err = w.Write(note)
			return err
		}))
	}
	s.mux.HandleFunc("GET /ledger/{pool}/tile/{path...}", s.ledgerRead(func(w http.ResponseWriter, r *http.Request, pool string) error {
		t, err := verify.ParseTilePath("tile/" + r.PathValue("path"))
		if err != nil {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no such tile: %v", err)
		}
		p, err := l.Head(r.Context(), pool)
		if err != nil {
			return err
		}
		avail := tlog.TileWidth(p.Size, t.L, t.N)
		if int64(t.W) > avail {
			return reclaim.Errorf(reclaim.ENOTFOUND, "tile %s is not in the tree (size %d)", r.PathValue("path"), p.Size)
		}
		var data []byte
		if t.L == -1 {
			entries, err := l.Entries(r.Context(), pool, t.N<<tlog.TileHeight, t.N<<tlog.TileHeight+int64(t.W))
			if err != nil {
				return err
			}
			for _, e := range entries {
				if data, err = verify.AppendEntryBundle(data, e); err != nil {
					return err
				}
			}
		} else {
			if data, err = tlog.TileData(p.Size, t, l.Hashes(r.Context(), pool)); err != nil {
				return err
			}
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if t.W == 1<<tlog.TileHeight {
			w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		_, err = w.Write(data)
		return err
	}))
	s.mux.HandleFunc("GET /ledger/{pool}/proof/inclusion", s.ledgerRead(func(w http.ResponseWriter, r *http.Request, pool string) error {
		index, err1 := strconv.ParseInt(r.URL.Query().Get("index"), 10, 64)
		size, err2 := s.proofSize(r, pool)
		if err1 != nil || err2 != nil {
			return reclaim.Errorf(reclaim.EINVALID, "index and size must be integers")
		}
		p, err := tlog.InclusionProof(size, index, l.Hashes(r.Context(), pool))
		if err != nil {
			return reclaim.WrapError(reclaim.EINVALID, err, "%v", err)
		}
		return writeJSON(w, verify.InclusionProof{Index: index, Size: size, Proof: p})
	}))
	s.mux.HandleFunc("GET /ledger/{pool}/proof/consistency", s.ledgerRead(func(w http.ResponseWriter, r *http.Request, pool string) error {
		old, err1 := strconv.ParseInt(r.URL.Query().Get("old"), 10, 64)
		size, err2 := s.proofSize(r, pool)
		if err1 != nil || err2 != nil {
			return reclaim.Errorf(reclaim.EINVALID, "old and size must be integers")
		}
		p, err := tlog.ConsistencyProof(size, old, l.Hashes(r.Context(), pool))
		if err != nil {
			return reclaim.WrapError(reclaim.EINVALID, err, "%v", err)
		}
		return writeJSON(w, verify.ConsistencyProof{Old: old, Size: size, Proof: p})
	}))
	s.mux.HandleFunc("GET /ledger/{pool}/receipt/{index}", s.ledgerRead(func(w http.ResponseWriter, r *http.Request, pool string) error {
		index, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
		if err != nil {
			return reclaim.Errorf(reclaim.EINVALID, "index must be an integer")
		}
		rc, err := s.receipt(r.Context(), pool, index)
		if err != nil {
			return err
		}
		return writeJSON(w, rc)
	}))
}

// proofSize is the size query parameter, defaulting to the latest published checkpoint's, and
// never beyond the stored tree.
func (s *Server) proofSize(r *http.Request, pool string) (int64, error) {
	l := s.cfg.Ledger
	if q := r.URL.Query().Get("size"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			return 0, err
		}
		p, err := l.Head(r.Context(), pool)
		if err != nil {
			return 0, err
		}
		if n > p.Size || n < 0 {
			return 0, reclaim.Errorf(reclaim.EINVALID, "size %d is beyond the tree (%d)", n, p.Size)
		}
		return n, nil
	}
	c, err := l.LatestCheckpoint(r.Context(), pool)
	if err != nil {
		return 0, err
	}
	return c.Size, nil
}

// receipt builds the receipt of entry index against the latest published checkpoint.
func (s *Server) receipt(ctx context.Context, pool string, index int64) (*verify.Receipt, error) {
	l := s.cfg.Ledger
	c, err := l.LatestCheckpoint(ctx, pool)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= c.Size {
		return nil, reclaim.Errorf(reclaim.ENOTFOUND, "entry %d is not covered by the latest checkpoint (size %d) yet", index, c.Size)
	}
	entries, err := l.Entries(ctx, pool, index, index+1)
	if err != nil {
		return nil, err
	}
	p, err := tlog.InclusionProof(c.Size, index, l.Hashes(ctx, pool))
	if err != nil {
		return nil, err
	}
	return &verify.Receipt{Pool: pool, Index: index, Entry: entries[0], Proof: p, Checkpoint: c.Note}, nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	return json.NewEncoder(w).Encode(v)
}

type ledgerHandler func(w http.ResponseWriter, r *http.Request, pool string) error

// ledgerPublic serves a public raw-log path.
func (s *Server) ledgerPublic(h ledgerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pool := r.PathValue("pool")
		if !validPool(pool) {
			writeError(w, apiError(reclaim.Errorf(reclaim.ENOTFOUND, "no such pool")))
			return
		}
		if err := h(w, r, pool); err != nil {
			s.ledgerError(w, r, err)
		}
	}
}

// ledgerRead serves a raw-log path that needs ledger.read (API token or session).
func (s *Server) ledgerRead(h ledgerHandler) http.HandlerFunc {
	return s.ledgerPublic(func(w http.ResponseWriter, r *http.Request, pool string) error {
		u, err := s.userOf(r)
		if err != nil {
			return err
		}
		if u == nil {
			return &reclaim.Error{Code: reclaim.EUNAUTHORIZED, Message: "sign in or send an API token (Authorization: Bearer)"}
		}
		if u.MustChangePassword {
			return passwordChangeRequired()
		}
		if !u.Role.Can(reclaim.PermLedgerRead) {
			return &reclaim.Error{Code: reclaim.EFORBIDDEN, Message: "your role (" + string(u.Role) + ") cannot read pool ledgers (ledger.read)"}
		}
		if err := s.poolVisible(r.Context(), u, pool); err != nil { // investors: their deals only (deals.go)
			return err
		}
		return h(w, r.WithContext(reclaim.WithUser(r.Context(), u)), pool)
	})
}

func (s *Server) ledgerError(w http.ResponseWriter, r *http.Request, err error) {
	be := apiError(err)
	if be.Status >= 500 {
		s.log.ErrorContext(r.Context(), "ledger request failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, be)
}

func validPool(p string) bool {
	if p == "" || len(p) > 128 {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r))
	})
}
