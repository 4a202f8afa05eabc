-- The model registry (package valuation): every trained recovery model, versioned by name, with
-- its file (checksummed) and its summary (metrics, calibration, importance) as JSON. One version
-- per name is active: the one valuations use unless asked for another.

-- +goose Up
CREATE TABLE models (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    feature_set  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    file         BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (name, version)
);
CREATE UNIQUE INDEX models_active ON models (name) WHERE active = 1;

-- +goose Down
DROP TABLE models;
