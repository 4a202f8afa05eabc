-- Live ABS deals (docs/abs-live.md): a deal is a pool (ledger_pools) with its deal document,
-- fixed at opening by its hash; the loans selected into it across portfolios; its costs,
-- waivers and servicer collections; its period reports; and the investors who hold its tranches.

-- +goose Up
CREATE TABLE deals (
    pool        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    doc         BYTEA NOT NULL,
    hash        TEXT NOT NULL,
    opened_hash TEXT NOT NULL,
    criteria    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Amendments of the deal document, each logged as deal.amended.
CREATE TABLE deal_amendments (
    pool       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    hash       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    doc        BYTEA NOT NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pool, event_id)
);

-- A loan is in at most one deal pool at a time: the primary key is the loan (its portfolio and
-- the seller's loan id). A row whose pool loan has left its pool (removed, repurchased, sold) is
-- released when the loan is selected again. The boarding attributes feed the report's tables.
CREATE TABLE deal_members (
    portfolio_id BIGINT NOT NULL,
    loan_id      TEXT NOT NULL,
    pool         TEXT NOT NULL,
    loan_ref     TEXT NOT NULL,
    product      TEXT NOT NULL,
    region       TEXT NOT NULL,
    grade        TEXT NOT NULL,
    dpd          BIGINT NOT NULL,
    claim_minor  BIGINT NOT NULL,
    PRIMARY KEY (portfolio_id, loan_id),
    UNIQUE (pool, loan_ref)
);

-- Costs (paid out of collections) and waivers (claim forgiven), each logged as deal.cost.
CREATE TABLE deal_costs (
    pool         TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    loan_ref     TEXT NOT NULL,
    channel      TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    effective DATE NOT NULL,
    memo         TEXT NOT NULL,
    posted_by    TEXT NOT NULL,
    posted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pool, event_id)
);

-- Collections from an imported servicer file (date,amount), each row logged as
-- deal.collections; a file is imported once (its SHA-256).
CREATE TABLE deal_servicer_flows (
    pool         TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    file_hash    TEXT NOT NULL,
    line         BIGINT NOT NULL,
    effective DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (pool, event_id),
    UNIQUE (pool, file_hash, line)
);

-- The trustee/servicer report of each payment date: the document whose SHA-256 deal.report
-- carries.
CREATE TABLE deal_reports (
    pool         TEXT NOT NULL,
    period       BIGINT NOT NULL,
    payment_date DATE NOT NULL,
    collection_end DATE NOT NULL,
    event_id     TEXT NOT NULL,
    hash         TEXT NOT NULL,
    doc          BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pool, period)
);

-- Investor organisations, their users, and their holdings (tranche, amount) per deal.
CREATE TABLE investors (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE investor_users (
    user_id  BIGINT PRIMARY KEY,
    investor TEXT NOT NULL REFERENCES investors(id)
);

CREATE TABLE deal_holdings (
    investor     TEXT NOT NULL REFERENCES investors(id),
    pool         TEXT NOT NULL,
    tranche      TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (investor, pool, tranche)
);
CREATE INDEX deal_holdings_pool ON deal_holdings (pool);

-- +goose Down
DROP TABLE deal_holdings;
DROP TABLE investor_users;
DROP TABLE investors;
DROP TABLE deal_reports;
DROP TABLE deal_servicer_flows;
DROP TABLE deal_costs;
DROP TABLE deal_members;
DROP TABLE deal_amendments;
DROP TABLE deals;
