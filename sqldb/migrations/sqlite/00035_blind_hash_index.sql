-- No index on borrower_blind.hash on either engine (issues 11 and 17, docs/import.md "Pipeline",
-- docs/benchmarks.md). No query looks blind-index rows up by hash: they are read by borrower (the
-- primary key, borrower_id first: workout boarding, the backfill), and a payer's hashes are
-- matched against case_keys, which has its own index. On SQLite the index on uniformly random
-- 32-byte HMACs either touched a random page per row once it outgrew the page cache (an import of
-- 10 million loans ran past 12 minutes) or, dropped during a large import and built again at its
-- commit, cost a sort of every row of the table (about 30 million at 10 million loans).

-- +goose Up
DROP INDEX IF EXISTS borrower_blind_hash;

-- +goose Down
CREATE INDEX IF NOT EXISTS borrower_blind_hash ON borrower_blind (hash);
