-- Workout II (issue 13): the trained contact model the live planner values the challenger arm
-- with (docs/strategy.md, "The trained contact model"), trained from the system's own contact
-- log and payments. model is valuation/gbdt's model file; summary_json the training summary
-- (rows, positives per channel, held-out AUC, pay share, horizon). The newest row is the one used.

-- +goose Up
CREATE TABLE contact_models (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    trainer      TEXT NOT NULL,
    model        BLOB NOT NULL,
    summary_json TEXT NOT NULL
);

-- The manager's dashboard at 100,000 cases (docs/benchmarks.md): covering indexes for its three
-- loads and the performance report. Claims by case and portfolio read in index order without the
-- table; the payment movements of a window (and of every acquisition) without scanning the
-- boarding movements; the contacts of a window in (at, id) order without a table lookup a row.
CREATE INDEX accounts_case_claim ON accounts (case_id, portfolio_id, claim_minor);
CREATE INDEX account_movements_type ON account_movements (type, effective, case_id, amount_minor, loan_id);
CREATE INDEX contact_attempts_window ON contact_attempts (at, id, case_id, source, allowed, local_at, channel);
-- The denials by rule read only the attempts that carry reasons (sqldb.AttemptDays): a partial
-- index, so that the window's other attempts cost nothing.
CREATE INDEX contact_attempts_reasons ON contact_attempts (at) WHERE reasons NOT IN ('[]', 'null', '');

-- +goose Down
DROP INDEX contact_attempts_reasons;
DROP INDEX contact_attempts_window;
DROP INDEX account_movements_type;
DROP INDEX accounts_case_claim;
DROP TABLE contact_models;
