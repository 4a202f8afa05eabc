-- SQLite's 00028 makes borrower_blind a WITHOUT ROWID table, so that an imported blind-index row
-- goes into two B-trees instead of three. A PostgreSQL table is a heap with no rowid tree: its
-- blind index already costs two B-trees (the primary key and borrower_blind_hash), and this
-- migration keeps the numbering of the two engines in step without changing anything.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
