-- PostgreSQL's 00035 drops borrower_blind_hash, which no query uses there. SQLite keeps it (its
-- import drops it during a large import and builds it again at the commit, docs/import.md); this
-- migration keeps the numbering of the two engines in step without changing anything.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
