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

-- +goose Down
DROP TABLE contact_models;
