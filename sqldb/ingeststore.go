package sqldb

import (
	"context"
	"database/sql"

	"reclaim"
	"reclaim/ingest"
)

// PortfolioByHash returns the id of the portfolio imported from a tape with this content hash.
func (d *DB) PortfolioByHash(ctx context.Context, contentHash string) (id int64, found bool, err error) {
	err = d.r.QueryRowContext(ctx, d.rebind(`SELECT id FROM portfolios WHERE content_hash = ?`), contentHash).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, dbError(err, "looking up a tape by its hash")
	}
	return id, true, nil
}

// IngestStore returns the database as the storage of package ingest's import service.
func (d *DB) IngestStore() ingest.Store { return ingestStore{d} }

type ingestStore struct{ d *DB }

func (s ingestStore) FindByHash(ctx context.Context, hash string) (int64, bool, error) {
	return s.d.PortfolioByHash(ctx, hash)
}

func (s ingestStore) Begin(ctx context.Context, m ingest.Meta) (ingest.Tx, error) {
	imp, err := s.d.BeginImport(ctx, ImportMeta{
		SellerName: m.SellerName, Ref: m.Ref, Name: m.Name, CutOffDate: m.CutOffDate, Currency: m.Currency,
		SourceFile: m.SourceFile, ContentHash: m.ContentHash, Salt: m.Salt, Actor: m.Actor,
	})
	if err != nil {
		return nil, err
	}
	imp.Pipeline() // package ingest hands over batches from its own goroutine and reads errors late
	return &ingestTx{imp: imp}, nil
}

type ingestTx struct {
	imp *Import
}

func (t *ingestTx) AddLoans(ctx context.Context, rows []ingest.LoanRow) error {
	return t.imp.AddLoans(ctx, rows) // the same row type; Import does not retain rows
}

func (t *ingestTx) AddRepayments(ctx context.Context, rs []reclaim.Repayment) error {
	return t.imp.AddRepayments(ctx, rs)
}

func (t *ingestTx) HasLoans(ctx context.Context, ids []string) ([]bool, error) {
	return t.imp.HasLoans(ctx, ids)
}

func (t *ingestTx) Commit(ctx context.Context, s ingest.Summary) (reclaim.Portfolio, error) {
	return t.imp.Commit(ctx, ImportSummary{LoanCount: s.LoanCount, BorrowerCount: s.BorrowerCount,
		TotalClaim: s.TotalClaim, HeaderJSON: s.HeaderJSON, ReportJSON: s.ReportJSON})
}

func (t *ingestTx) Rollback() error { return t.imp.Rollback() }
