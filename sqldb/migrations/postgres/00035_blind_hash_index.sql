-- The PostgreSQL import stops maintaining borrower_blind_hash (issue 11, docs/benchmarks.md
-- "Tape import into PostgreSQL against psql \copy"). No query looks blind-index rows up by hash:
-- they are read by borrower (the primary key, borrower_id first: workout boarding, the backfill),
-- and a payer's hashes are matched against case_keys, which has its own index. Keeping a B-tree
-- on uniformly random 32-byte HMACs up to date cost the server about 1.6 s of its 5.3 s of CPU in
-- a 300,000-loan import (every insert a binary search down to a random leaf, and a full-page
-- image in the WAL for each leaf first touched after a checkpoint), and it grows past the buffer
-- cache long before 10 million loans. A look-up by hash still answers, by a scan. SQLite's 00035
-- drops its index too.
-- Dropping an index takes an exclusive lock on borrower_blind for a moment, here once.

-- +goose Up
DROP INDEX IF EXISTS borrower_blind_hash;

-- +goose Down
CREATE INDEX IF NOT EXISTS borrower_blind_hash ON borrower_blind (hash);
