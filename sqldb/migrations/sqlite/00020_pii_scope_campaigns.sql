-- Issue 12 hardening: refused personal-data reads, and bulk contact campaigns.
-- pii_refusals: every refused reveal (out of scope, unknown portfolio or borrower), insert-only,
-- read by admins and auditors; no personal values, only what the caller sent. It has no foreign
-- keys: a refusal may name a portfolio or case that does not exist.
-- campaigns / campaign_items: a bulk campaign (SMS, letter, email) over a case selection; each
-- case is decided by the compliance engine at send time and recorded once (the primary key of
-- campaign_items makes a retried or resumed run idempotent). See docs/workout-api.md.

-- +goose Up
CREATE TABLE pii_refusals (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    route        TEXT NOT NULL,
    portfolio_id INTEGER,
    borrower_ref TEXT NOT NULL,
    case_id      INTEGER,
    purpose      TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX pii_refusals_actor ON pii_refusals (actor, id);
-- +goose StatementBegin
CREATE TRIGGER pii_refusals_no_update BEFORE UPDATE ON pii_refusals
BEGIN SELECT RAISE(ABORT, 'pii_refusals is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER pii_refusals_no_delete BEFORE DELETE ON pii_refusals
BEGIN SELECT RAISE(ABORT, 'pii_refusals is insert-only'); END;
-- +goose StatementEnd

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    created_by   TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    name         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    template     TEXT NOT NULL,
    selection    TEXT NOT NULL,
    max_per_day  INTEGER NOT NULL,
    scheduled_at TEXT NOT NULL,
    status       TEXT NOT NULL,
    total        INTEGER NOT NULL DEFAULT 0,
    done         INTEGER NOT NULL DEFAULT 0,
    sent         INTEGER NOT NULL DEFAULT 0,
    denied       INTEGER NOT NULL DEFAULT 0,
    by_rule      TEXT NOT NULL DEFAULT '{}',
    cursor_id    INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  TEXT,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    UNIQUE (created_by, idem_key)
);
CREATE INDEX campaigns_due ON campaigns (status, scheduled_at);

CREATE TABLE campaign_items (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    case_id     INTEGER NOT NULL,
    attempt_id  INTEGER NOT NULL,
    allowed     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, case_id)
);

-- +goose Down
DROP TABLE campaign_items;
DROP TABLE campaigns;
DROP TABLE pii_refusals;
