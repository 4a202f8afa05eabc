-- Workout I (issue 12): acquisitions, servicing accounts and their movements, cases (one per
-- debtor across portfolios, found by a keyed blind index, never by decryption), notices of
-- assignment, actions, contact attempts (every one, allowed or denied), agency placements,
-- complaints, consent and do-not-contact records, and limitation events. The rules (cost basis,
-- which case a loan joins, limitation) are pure functions in package workout; these tables only
-- hold what they decided. See docs/workout.md.

-- +goose Up
-- A purchase of a portfolio: one per portfolio.
CREATE TABLE acquisitions (
    id           INTEGER PRIMARY KEY,
    portfolio_id INTEGER NOT NULL UNIQUE REFERENCES portfolios(id),
    seller       TEXT NOT NULL,
    bid_minor    INTEGER,
    award_date   TEXT NOT NULL,
    price_minor  INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- Keyed blind index of a borrower's identifiers: HMAC-SHA256 under the blind-index key (not the
-- personal-data key) of the normalised national ID (kind 'nid') and of each normalised phone
-- (kind 'phone'). Written at import; backfilled once for older portfolios.
CREATE TABLE borrower_blind (
    borrower_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (borrower_id, kind, hash)
);
CREATE INDEX borrower_blind_hash ON borrower_blind (hash);

-- A case: one debtor, all of the debtor's loans across every portfolio.
CREATE TABLE cases (
    id                   INTEGER PRIMARY KEY,
    status               TEXT NOT NULL,
    currency             TEXT NOT NULL,
    assignee             TEXT,
    agency               TEXT,
    deceased             INTEGER NOT NULL DEFAULT 0,
    bankrupt             INTEGER NOT NULL DEFAULT 0,
    do_not_contact       INTEGER NOT NULL DEFAULT 0,
    limitation_expiry    TEXT,
    enforcement_deadline TEXT,
    opened_at            TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX cases_assignee ON cases (assignee, limitation_expiry);
CREATE INDEX cases_agency ON cases (agency);

-- The blind-index hashes that lead to a case (a phone may lead to several).
CREATE TABLE case_keys (
    hash    BLOB NOT NULL,
    kind    TEXT NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    PRIMARY KEY (hash, case_id)
);

-- A servicing account: one boarded loan's balance of record, outside any pool.
CREATE TABLE accounts (
    loan_id           INTEGER PRIMARY KEY,
    case_id           INTEGER NOT NULL REFERENCES cases(id),
    acquisition_id    INTEGER NOT NULL REFERENCES acquisitions(id),
    portfolio_id      INTEGER NOT NULL,
    borrower_id       INTEGER NOT NULL,
    loan_ref          TEXT NOT NULL,
    currency          TEXT NOT NULL,
    principal_minor   INTEGER NOT NULL,
    interest_minor    INTEGER NOT NULL,
    fees_minor        INTEGER NOT NULL,
    claim_minor       INTEGER NOT NULL,
    cost_basis_minor  INTEGER NOT NULL,
    status            TEXT NOT NULL,
    boarded_on        TEXT NOT NULL,
    limitation_expiry TEXT
);
CREATE INDEX accounts_case ON accounts (case_id, loan_id);
CREATE INDEX accounts_portfolio ON accounts (portfolio_id, loan_id);

-- Every movement of an account's balance (boarding, payment, reversal, fee, adjustment).
CREATE TABLE account_movements (
    id              INTEGER PRIMARY KEY,
    loan_id         INTEGER NOT NULL,
    case_id         INTEGER NOT NULL,
    type            TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    principal_minor INTEGER NOT NULL,
    interest_minor  INTEGER NOT NULL,
    fees_minor      INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    effective       TEXT NOT NULL,
    reference       TEXT NOT NULL,
    actor           TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX account_movements_loan ON account_movements (loan_id, id);
CREATE INDEX account_movements_case ON account_movements (case_id, id);

-- Notices of assignment (CN-7) and their delivery.
CREATE TABLE notices (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    acquisition_id INTEGER NOT NULL REFERENCES acquisitions(id),
    kind           TEXT NOT NULL,
    body_text      TEXT NOT NULL,
    body_html      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    delivered_on   TEXT,
    channel        TEXT,
    proof_ref      TEXT,
    delivered_by   TEXT,
    delivered_at   TEXT,
    UNIQUE (case_id, acquisition_id, kind)
);

-- Everything done on a case (calls, SMS, letters, visits, legal steps, placements, complaints,
-- consents...): the timeline's rows.
CREATE TABLE case_actions (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    kind          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    actor         TEXT NOT NULL,
    agency        TEXT,
    at            TEXT NOT NULL,
    effective     TEXT,
    recording_ref TEXT,
    amount_minor  INTEGER,
    note          TEXT NOT NULL,
    detail_json   TEXT
);
CREATE INDEX case_actions_case ON case_actions (case_id, at, id);

-- Every contact attempt, allowed or denied, with the compliance decision (CN-6: kept >= 5 years).
-- number_key is the blind index of the number dialled, never the number.
CREATE TABLE contact_attempts (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    contact_id TEXT NOT NULL,
    debt_id    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    party      TEXT NOT NULL,
    number_key TEXT NOT NULL,
    at         TEXT NOT NULL,
    local_at   TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    consent    TEXT NOT NULL,
    agent      TEXT NOT NULL,
    agency     TEXT NOT NULL,
    source     TEXT NOT NULL,
    pack       TEXT NOT NULL,
    allowed    INTEGER NOT NULL,
    reasons    TEXT NOT NULL,
    action_id  INTEGER
);
CREATE INDEX contact_attempts_case ON contact_attempts (case_id, at, id);
CREATE INDEX contact_attempts_at ON contact_attempts (at, id);

-- Agency placements and recalls.
CREATE TABLE placements (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    agency      TEXT NOT NULL,
    placed_at   TEXT NOT NULL,
    placed_by   TEXT NOT NULL,
    recalled_at TEXT,
    recalled_by TEXT,
    reason      TEXT NOT NULL
);
CREATE INDEX placements_agency ON placements (agency, id);
CREATE INDEX placements_case ON placements (case_id, id);

-- Agency membership of agency users (username -> agency).
CREATE TABLE agency_members (
    username TEXT PRIMARY KEY,
    agency   TEXT NOT NULL
);

-- Complaints (12378 and others) and their handling.
CREATE TABLE complaints (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    channel     TEXT NOT NULL,
    received_on TEXT NOT NULL,
    summary     TEXT NOT NULL,
    status      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    handled_by  TEXT,
    handled_at  TEXT,
    resolution  TEXT
);
CREATE INDEX complaints_case ON complaints (case_id, id);

-- Consent, do-not-contact, third-party stop and suppression records.
CREATE TABLE consents (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    ref        TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX consents_case ON consents (case_id, id);

-- Events that interrupt the limitation period or start the enforcement deadline.
CREATE TABLE limitation_events (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    loan_id INTEGER,
    kind    TEXT NOT NULL,
    on_date TEXT NOT NULL,
    ref     TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX limitation_events_case ON limitation_events (case_id, on_date);

-- +goose Down
DROP TABLE limitation_events;
DROP TABLE consents;
DROP TABLE complaints;
DROP TABLE agency_members;
DROP TABLE placements;
DROP TABLE contact_attempts;
DROP TABLE case_actions;
DROP TABLE notices;
DROP TABLE account_movements;
DROP TABLE accounts;
DROP TABLE case_keys;
DROP TABLE cases;
DROP TABLE borrower_blind;
DROP TABLE acquisitions;
