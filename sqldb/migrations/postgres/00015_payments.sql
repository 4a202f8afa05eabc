-- Payments (issue 12 item 5; docs/payments.md): bank-statement imports, every payment line
-- (applied, queued or reversed; a line is never dropped), and its allocations to servicing
-- accounts (and, for a loan in a pool, the ledger entry it wrote). The rules (matching,
-- allocation, reversal) are pure functions in package workout; these tables hold what they
-- decided. Payer details are personal data: only the masked name is kept.

-- +goose Up
CREATE TABLE statement_imports (
    id            BIGINT PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,
    filename      TEXT NOT NULL,
    mapping       TEXT NOT NULL,
    lines         BIGINT NOT NULL,
    matched       BIGINT NOT NULL,
    queued        BIGINT NOT NULL,
    reversals     BIGINT NOT NULL,
    applied_minor BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    imported_at   TIMESTAMPTZ NOT NULL
);

-- One row per payment line: a credit (amount > 0) or a reversal line (amount < 0).
-- status: applied | queued | reversed (a credit undone by a reversal) | reversal.
CREATE TABLE payments (
    id            BIGINT PRIMARY KEY,
    txn_id        TEXT NOT NULL,
    txn_key       TEXT NOT NULL UNIQUE,
    import_id     BIGINT REFERENCES statement_imports(id),
    line          BIGINT,
    source        TEXT NOT NULL,
    value_date    DATE NOT NULL,
    amount_minor  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    reference     TEXT NOT NULL,
    payer_masked  TEXT NOT NULL,
    status        TEXT NOT NULL,
    case_id       BIGINT,
    method        TEXT NOT NULL,
    queue_reason  TEXT NOT NULL,
    queue_detail  TEXT NOT NULL,
    credit_minor  BIGINT NOT NULL,
    reverses_id   BIGINT,
    reversed_by   BIGINT,
    reason        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    matched_by    TEXT,
    matched_at    TIMESTAMPTZ
);
-- The unmatched queue: a partial index, so that applied payments cost it nothing.
CREATE INDEX payments_queue ON payments (queue_reason, id) WHERE status = 'queued';
CREATE INDEX payments_case ON payments (case_id, id);

-- What a payment (kind 'payment', amounts > 0) or its reversal (kind 'reversal', amounts < 0)
-- did to one loan; pool, pool_loan and pool_event name the ledger entry when the loan is in a pool.
CREATE TABLE payment_allocations (
    id              BIGINT PRIMARY KEY,
    payment_id      BIGINT NOT NULL REFERENCES payments(id),
    kind            TEXT NOT NULL,
    loan_id         BIGINT NOT NULL,
    case_id         BIGINT NOT NULL,
    principal_minor BIGINT NOT NULL,
    interest_minor  BIGINT NOT NULL,
    fees_minor      BIGINT NOT NULL,
    pool            TEXT,
    pool_loan       TEXT,
    pool_event      TEXT
);
CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id, id);

-- Reference matching looks loans up by the seller's loan id quoted in a payment's reference.
CREATE INDEX accounts_loan_ref ON accounts (loan_ref);
-- Name-and-amount matching looks borrowers up by masked name, then their accounts.
CREATE INDEX borrowers_masked_name ON borrowers (masked_name);
CREATE INDEX accounts_borrower ON accounts (borrower_id);

-- +goose Down
DROP INDEX accounts_borrower;
DROP INDEX borrowers_masked_name;
DROP INDEX accounts_loan_ref;
DROP TABLE payment_allocations;
DROP TABLE payments;
DROP TABLE statement_imports;
