package sqldb

import (
	"context"
	"fmt"
	"time"
)

// MigrateToForTest applies the migrations up to and including version, for tests that load data
// in an older schema and then run a later migration over it.
func MigrateToForTest(ctx context.Context, d *DB, version int64) error {
	p, err := d.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// CheckpointForTest runs a TRUNCATE checkpoint on SQLite's writer connection, so that the
// database file holds every committed page and the WAL file is emptied.
func CheckpointForTest(ctx context.Context, d *DB) error {
	_, err := d.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// MigrateDownToForTest rolls migrations back until version is the newest applied.
func MigrateDownToForTest(ctx context.Context, d *DB, version int64) error {
	p, err := d.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}

// TokenEpochEvery is how often a node reads auth_epoch.
const TokenEpochEvery = tokenEpochEvery

// SetTokenClockForTest replaces the clock of d's API-token cache.
func SetTokenClockForTest(d *DB, now func() time.Time) {
	d.tokens.mu.Lock()
	d.tokens.now = now
	d.tokens.mu.Unlock()
}

// BlindTermForTest is one stored blind-index term and its borrower.
type BlindTermForTest struct {
	BorrowerID  int64
	BorrowerRef string
	Kind        string
	Hash        []byte
}

// BlindTermsForTest returns every blind-index term stored in borrower_pii.blind, by borrower id:
// what borrower_blind's rows held before migration 00039.
func BlindTermsForTest(ctx context.Context, d *DB) ([]BlindTermForTest, error) {
	var out []BlindTermForTest
	err := d.ReadTx(ctx, func(tx *Tx) error {
		rs, err := tx.Query(ctx, `SELECT p.borrower_id, b.borrower_ref, p.blind FROM borrower_pii p
			JOIN borrowers b ON b.id = p.borrower_id WHERE p.blind IS NOT NULL ORDER BY p.borrower_id`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var id int64
			var ref string
			var enc []byte
			if err := rs.Scan(&id, &ref, &enc); err != nil {
				return err
			}
			terms, err := decodeBlindTerms(enc)
			if err != nil {
				return fmt.Errorf("borrower %d: %w", id, err)
			}
			for _, t := range terms {
				out = append(out, BlindTermForTest{id, ref, t.Kind, t.Hash})
			}
		}
		return rs.Err()
	})
	return out, err
}

// SetWALSizeLimitForTest sets the size the writer cuts the SQLite WAL back to, for the DBs opened
// until the returned function restores it.
func SetWALSizeLimitForTest(n int64) (restore func()) {
	old := walSizeLimit
	walSizeLimit = n
	return func() { walSizeLimit = old }
}

// SetMarketDriverInsertForTest makes the bid batcher write market_events through database/sql
// (true) instead of its prepared statement below the driver on SQLite, until restore.
func SetMarketDriverInsertForTest(on bool) (restore func()) {
	old := marketDriverInsert.Swap(on)
	return func() { marketDriverInsert.Store(old) }
}

// SetLastBatchForTest makes the batcher take its last batch to have held n records: from
// LingerAfter on, its next batch waits up to MarketOptions.Linger for more.
func SetLastBatchForTest(m *Market, n int) { m.prev.Store(int64(n)) }

// LingeringForTest is the number of records a lingering batch holds (0 when none lingers).
func LingeringForTest(m *Market) int { return int(m.held.Load()) }
