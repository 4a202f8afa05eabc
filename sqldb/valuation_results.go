package sqldb

import (
	"context"
	"database/sql"
)

// StoredValuation is a computed portfolio valuation as stored (table valuation_results): the
// JSON of the result, by the key its parameters make (the valuation service's cache key).
type StoredValuation struct {
	PortfolioID  int64
	Key          string
	ModelName    string
	ModelVersion int
	// Body is the valuation as JSON.
	Body []byte
}

// SaveValuation stores a computed valuation, replacing one stored under the same portfolio and
// key (a recomputation of the same request gives the same result). The body must be the JSON
// the caller will read back with LoadValuation.
func (d *DB) SaveValuation(ctx context.Context, v StoredValuation) error {
	_, err := d.w.ExecContext(ctx, d.rebind(`INSERT INTO valuation_results
		(portfolio_id, cache_key, model_name, model_version, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (portfolio_id, cache_key) DO UPDATE SET model_name = excluded.model_name,
		model_version = excluded.model_version, body = excluded.body, created_at = excluded.created_at`),
		v.PortfolioID, v.Key, v.ModelName, v.ModelVersion, string(v.Body), d.instant(d.nowUTC()))
	return dbError(err, "storing valuation")
}

// LoadValuation returns the body of the valuation stored for the portfolio under key, and
// whether there is one.
func (d *DB) LoadValuation(ctx context.Context, portfolioID int64, key string) ([]byte, bool, error) {
	var body string
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT body FROM valuation_results WHERE portfolio_id = ? AND cache_key = ?`),
		portfolioID, key).Scan(&body)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dbError(err, "reading stored valuation")
	}
	return []byte(body), true, nil
}
