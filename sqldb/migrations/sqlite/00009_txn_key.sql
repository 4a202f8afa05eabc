-- Bank transaction ids are unique per pool by their normalised key (textnorm.TxnKey: NFKC, format
-- characters dropped, trimmed, case-folded), so "BANK-1", "bank-1", "ＢＡＮＫ－１" and "BANK-1"
-- with a zero-width space are one transaction and post once. txn_id keeps the id as sent (it is
-- what the ledger commits to and what the bank statement shows). Rows from before this migration
-- get their key from sqldb.Migrate (Go computes it; SQL cannot do NFKC).

-- +goose Up
ALTER TABLE pool_collections ADD COLUMN txn_key TEXT;
CREATE UNIQUE INDEX pool_collections_txn_key ON pool_collections (pool, txn_key);

-- +goose Down
DROP INDEX pool_collections_txn_key;
ALTER TABLE pool_collections DROP COLUMN txn_key;
