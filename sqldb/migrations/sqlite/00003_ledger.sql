-- The pool ledger (package tlog): per-pool transparency logs, their outbox, and the pool
-- membership the ledger's business changes act on. Leaves, stored hashes and published
-- checkpoints are insert-only: triggers reject UPDATE and DELETE.

-- +goose Up
CREATE TABLE ledger_pools (
    pool         TEXT PRIMARY KEY,
    origin       TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    portfolio_id INTEGER,
    currency     TEXT NOT NULL,
    cutoff       TEXT NOT NULL,
    tree_size    INTEGER NOT NULL DEFAULT 0,
    root         BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    frozen_at    TEXT
);

CREATE TABLE ledger_outbox (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    pool      TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    entry     BLOB NOT NULL,
    queued_at TEXT NOT NULL,
    UNIQUE (pool, event_id)
);

CREATE TABLE ledger_leaves (
    pool         TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    entry        BLOB NOT NULL,
    queued_at    TEXT NOT NULL,
    sequenced_at TEXT NOT NULL,
    PRIMARY KEY (pool, idx),
    UNIQUE (pool, event_id)
);

CREATE TABLE ledger_hashes (
    pool TEXT NOT NULL,
    hidx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (pool, hidx)
);

CREATE TABLE ledger_checkpoints (
    pool         TEXT NOT NULL,
    tree_size    INTEGER NOT NULL,
    root         BLOB NOT NULL,
    note         TEXT NOT NULL,
    cosigners    INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (pool, tree_size)
);

-- Salts of the record commitments on the log. Deleting a salt (PIPL erasure) makes its
-- commitment unopenable; the log itself never changes.
CREATE TABLE ledger_salts (
    pool     TEXT NOT NULL,
    event_id TEXT NOT NULL,
    tag      TEXT NOT NULL,
    loan_ref TEXT,
    salt     BLOB NOT NULL,
    PRIMARY KEY (pool, event_id, tag)
);

-- The loans of a pool under their random per-pool references, with the balance the ledger's
-- collections and removals move.
CREATE TABLE pool_loans (
    pool          TEXT NOT NULL,
    loan_ref      TEXT NOT NULL,
    loan_key      TEXT NOT NULL,
    claim_minor     INTEGER NOT NULL,
    principal_minor INTEGER NOT NULL,
    interest_minor  INTEGER NOT NULL,
    fees_minor      INTEGER NOT NULL,
    balance_minor   INTEGER NOT NULL,
    status        TEXT NOT NULL,
    boarded_event TEXT NOT NULL,
    PRIMARY KEY (pool, loan_ref)
);
CREATE INDEX pool_loans_key ON pool_loans (pool, loan_key);

-- Period reports: the full document whose SHA-256 the period.report entry carries.
CREATE TABLE pool_reports (
    pool         TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    to_index     INTEGER NOT NULL,
    closing_minor INTEGER NOT NULL,
    doc          BLOB NOT NULL,
    PRIMARY KEY (pool, event_id)
);

CREATE TABLE pool_collections (
    pool         TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    loan_ref     TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    channel      TEXT NOT NULL,
    txn_id       TEXT NOT NULL,
    effective    TEXT NOT NULL,
    posted_by    TEXT NOT NULL,
    posted_at    TEXT NOT NULL,
    PRIMARY KEY (pool, event_id),
    UNIQUE (pool, txn_id)
);

-- +goose StatementBegin
CREATE TRIGGER ledger_leaves_no_update BEFORE UPDATE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'ledger_leaves is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_leaves_no_delete BEFORE DELETE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'ledger_leaves is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_hashes_no_update BEFORE UPDATE ON ledger_hashes
BEGIN SELECT RAISE(ABORT, 'ledger_hashes is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_hashes_no_delete BEFORE DELETE ON ledger_hashes
BEGIN SELECT RAISE(ABORT, 'ledger_hashes is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is insert-only'); END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE pool_reports;
DROP TABLE pool_collections;
DROP TABLE pool_loans;
DROP TABLE ledger_salts;
DROP TABLE ledger_checkpoints;
DROP TABLE ledger_hashes;
DROP TABLE ledger_leaves;
DROP TABLE ledger_outbox;
DROP TABLE ledger_pools;
