-- Workout II storage (issue 13 item 2): settlement offers with maker-checker approval,
-- instalment plans and their schedules, promises to pay, and the waivers of settlements paid in
-- full (each loan's share, with its ledger entry when the loan is in a pool). The rules are pure
-- functions in package workout (settle.go, settle_offer.go, plan.go); these tables hold what they
-- decided. See docs/strategy.md.

-- +goose Up
-- A settlement offer. status: proposed | approved | rejected | accepted | expired | paid | broken.
-- checker_role is the least senior role that must approve it ('' when the maker's own limits
-- cover it); checker is who did.
CREATE TABLE settlement_offers (
    id                 INTEGER PRIMARY KEY,
    case_id            INTEGER NOT NULL REFERENCES cases(id),
    currency           TEXT NOT NULL,
    claim_minor        INTEGER NOT NULL,
    amount_minor       INTEGER NOT NULL,
    waived_minor       INTEGER NOT NULL,
    discount           REAL NOT NULL,
    suggested_discount REAL NOT NULL,
    status             TEXT NOT NULL,
    maker              TEXT NOT NULL,
    maker_role         TEXT NOT NULL,
    checker_role       TEXT NOT NULL,
    checker            TEXT,
    decided_at         TEXT,
    decision_note      TEXT NOT NULL,
    expires_on         TEXT NOT NULL,
    pay_by             TEXT NOT NULL,
    grace_days         INTEGER NOT NULL,
    accepted_on        TEXT,
    closed_on          TEXT,
    received_minor     INTEGER NOT NULL,
    note               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX settlement_offers_case ON settlement_offers (case_id, id);
CREATE INDEX settlement_offers_status ON settlement_offers (status, id);
-- At most one live offer a case.
CREATE UNIQUE INDEX settlement_offers_live ON settlement_offers (case_id) WHERE status IN ('proposed', 'approved', 'accepted');

-- An instalment plan (of an accepted offer, or of a case's balance). status: active | complete |
-- broken. Payments count toward it from start_on.
CREATE TABLE payment_plans (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases(id),
    offer_id        INTEGER REFERENCES settlement_offers(id),
    currency        TEXT NOT NULL,
    total_minor     INTEGER NOT NULL,
    grace_days      INTEGER NOT NULL,
    start_on        TEXT NOT NULL,
    status          TEXT NOT NULL,
    paid_minor      INTEGER NOT NULL,
    missed_seq      INTEGER NOT NULL,
    shortfall_minor INTEGER NOT NULL,
    closed_on       TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX payment_plans_case ON payment_plans (case_id, id);
CREATE INDEX payment_plans_status ON payment_plans (status, id);

CREATE TABLE plan_instalments (
    plan_id      INTEGER NOT NULL REFERENCES payment_plans(id),
    seq          INTEGER NOT NULL,
    due          TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (plan_id, seq)
);

-- A promise to pay (from a call outcome or entered by hand). status: pending | kept | broken.
CREATE TABLE promises (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    action_id      INTEGER,
    made_on        TEXT NOT NULL,
    due            TEXT NOT NULL,
    currency       TEXT NOT NULL,
    amount_minor   INTEGER NOT NULL,
    grace_days     INTEGER NOT NULL,
    status         TEXT NOT NULL,
    received_minor INTEGER NOT NULL,
    closed_on      TEXT,
    actor          TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX promises_case ON promises (case_id, id);
CREATE INDEX promises_status ON promises (status, id);

-- The waiver of a settlement paid in full: one per offer.
CREATE TABLE waivers (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    offer_id     INTEGER NOT NULL UNIQUE REFERENCES settlement_offers(id),
    on_date      TEXT NOT NULL,
    currency     TEXT NOT NULL,
    claim_minor  INTEGER NOT NULL,
    paid_minor   INTEGER NOT NULL,
    waived_minor INTEGER NOT NULL,
    discount     REAL NOT NULL,
    maker        TEXT NOT NULL,
    checker      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX waivers_case ON waivers (case_id, id);

-- Each loan's share of a waiver; pool, pool_loan and pool_event name its loan.waiver entry.
CREATE TABLE waiver_loans (
    waiver_id       INTEGER NOT NULL REFERENCES waivers(id),
    loan_id         INTEGER NOT NULL,
    principal_minor INTEGER NOT NULL,
    interest_minor  INTEGER NOT NULL,
    fees_minor      INTEGER NOT NULL,
    pool            TEXT,
    pool_loan       TEXT,
    pool_event      TEXT,
    PRIMARY KEY (waiver_id, loan_id)
);

-- +goose Down
DROP TABLE waiver_loans;
DROP TABLE waivers;
DROP TABLE promises;
DROP TABLE plan_instalments;
DROP TABLE payment_plans;
DROP TABLE settlement_offers;
