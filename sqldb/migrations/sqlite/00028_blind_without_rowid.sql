-- The blind index as a WITHOUT ROWID table (issue 11 "Import speed", docs/benchmarks.md "Tape
-- import: the writer's B-trees"). As a rowid table every blind-index row went into three
-- B-trees: the table, its primary key and borrower_blind_hash. Keyed by its primary key it goes
-- into two; the rows are the key, so nothing else changes. PostgreSQL's heap has no rowid tree
-- (its 00028 changes nothing).

-- +goose Up
CREATE TABLE borrower_blind_new (
    borrower_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (borrower_id, kind, hash)
) WITHOUT ROWID;
INSERT INTO borrower_blind_new (borrower_id, kind, hash) SELECT borrower_id, kind, hash FROM borrower_blind;
DROP TABLE borrower_blind;
ALTER TABLE borrower_blind_new RENAME TO borrower_blind;
CREATE INDEX borrower_blind_hash ON borrower_blind (hash);

-- +goose Down
CREATE TABLE borrower_blind_old (
    borrower_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (borrower_id, kind, hash)
);
INSERT INTO borrower_blind_old (borrower_id, kind, hash) SELECT borrower_id, kind, hash FROM borrower_blind;
DROP TABLE borrower_blind;
ALTER TABLE borrower_blind_old RENAME TO borrower_blind;
CREATE INDEX borrower_blind_hash ON borrower_blind (hash);
