-- Reclaim schema, SQLite flavour. See sqldb/doc.go for the storage conventions:
-- money is INTEGER minor units, civil dates TEXT 'YYYY-MM-DD', instants TEXT RFC 3339 UTC with
-- microseconds ('2006-01-02T15:04:05.000000Z', which sorts as text), booleans INTEGER 0/1,
-- absent optional values NULL.

-- Referential integrity of the bulk tables (borrowers, borrower_pii, loans, repayments) is kept by
-- construction, not by FOREIGN KEY clauses: only sqldb's import session writes them, inside the
-- same transaction that creates the portfolio and assigns the borrower ids, and the conformance
-- suite checks the links after every import. Per-row foreign-key checks cost PostgreSQL about
-- 20 s per million rows on a bulk load (each check locks the parent row), more than the COPY
-- itself; the small tables (portfolios, events, pii_access_log) keep their foreign keys.

-- +goose Up
CREATE TABLE sellers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE portfolios (
    id                INTEGER PRIMARY KEY,
    seller_id         INTEGER NOT NULL REFERENCES sellers(id),
    ref               TEXT NOT NULL,
    name              TEXT NOT NULL,
    cut_off_date      TEXT NOT NULL,
    currency          TEXT NOT NULL,
    status            TEXT NOT NULL,
    loan_count        INTEGER NOT NULL DEFAULT 0,
    borrower_count    INTEGER NOT NULL DEFAULT 0,
    total_claim_minor INTEGER NOT NULL DEFAULT 0,
    source_file       TEXT NOT NULL,
    content_hash      TEXT NOT NULL UNIQUE,
    salt              BLOB NOT NULL,
    header_json       TEXT,
    report_json       TEXT,
    imported_at       TEXT NOT NULL
);
CREATE INDEX portfolios_seller ON portfolios (seller_id);

CREATE TABLE borrowers (
    id           INTEGER PRIMARY KEY,
    portfolio_id INTEGER NOT NULL,
    borrower_ref TEXT NOT NULL,
    UNIQUE (portfolio_id, borrower_ref)
);

CREATE TABLE borrower_pii (
    borrower_id INTEGER PRIMARY KEY,
    key_id      TEXT NOT NULL,
    sealed      BLOB NOT NULL
);

CREATE TABLE loans (
    id                        INTEGER PRIMARY KEY,
    portfolio_id              INTEGER NOT NULL,
    borrower_id               INTEGER NOT NULL,
    loan_ref                  TEXT NOT NULL,
    borrower_ref              TEXT NOT NULL,
    product_type              TEXT,
    origination_date          TEXT,
    original_amount_minor     INTEGER,
    currency                  TEXT NOT NULL,
    principal_minor           INTEGER,
    interest_minor            INTEGER,
    fees_minor                INTEGER,
    total_claim_minor         INTEGER,
    default_date              TEXT,
    days_past_due             INTEGER NOT NULL,
    five_category             TEXT,
    written_off               INTEGER NOT NULL,
    write_off_date            TEXT,
    security_type             TEXT,
    last_payment_date         TEXT,
    last_payment_amount_minor INTEGER,
    legal_status              TEXT,
    legal_start_date          TEXT,
    court                     TEXT,
    limitation_expiry_date    TEXT,
    birth_date                TEXT,
    age                       INTEGER,
    region_code               TEXT,
    deceased                  INTEGER NOT NULL,
    bankrupt                  INTEGER NOT NULL,
    phone_available           INTEGER NOT NULL,
    last_contact_date         TEXT,
    forbearance_count         INTEGER,
    repayment_plan_active     INTEGER NOT NULL,
    agency_placements         INTEGER NOT NULL,
    complaint_flag            INTEGER NOT NULL,
    extras_json               TEXT,
    UNIQUE (portfolio_id, loan_ref)
);
-- Loans are read per portfolio in id order (StreamLoans, LoansPage): this index serves both.
CREATE INDEX loans_portfolio ON loans (portfolio_id, id);

CREATE TABLE repayments (
    portfolio_id INTEGER NOT NULL,
    loan_ref     TEXT NOT NULL,
    month        TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    source       TEXT NOT NULL,
    channel      TEXT NOT NULL
);
CREATE INDEX repayments_loan ON repayments (portfolio_id, loan_ref, month);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    portfolio_id INTEGER REFERENCES portfolios(id),
    type         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    detail       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX events_portfolio ON events (portfolio_id, id);

CREATE TABLE pii_access_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    portfolio_id INTEGER NOT NULL REFERENCES portfolios(id),
    borrower_ref TEXT NOT NULL,
    fields       TEXT NOT NULL
);
CREATE INDEX pii_access_log_portfolio ON pii_access_log (portfolio_id, id);
CREATE INDEX pii_access_log_actor ON pii_access_log (actor, id);

-- +goose Down
DROP TABLE pii_access_log;
DROP TABLE events;
DROP TABLE repayments;
DROP TABLE loans;
DROP TABLE borrower_pii;
DROP TABLE borrowers;
DROP TABLE portfolios;
DROP TABLE sellers;
