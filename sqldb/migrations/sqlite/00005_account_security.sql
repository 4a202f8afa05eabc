-- Account security (docs/security.md): temporary passwords, a credential epoch that ends every
-- session and token of a user when the password, role or status changes, revocable tokens with a
-- reason, user names unique regardless of case, an append-only audit trail of account changes,
-- and session tokens stored only as their SHA-256.

-- +goose Up
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN credential_epoch INTEGER NOT NULL DEFAULT 1;
-- Fails when two existing accounts differ only in case: rename one first (docs/security.md).
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));

ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_reason TEXT;
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

CREATE TABLE account_events (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users(id),
    username TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX account_events_user ON account_events (user_id, id);
CREATE INDEX account_events_actor ON account_events (actor, id);
-- +goose StatementBegin
CREATE TRIGGER account_events_no_update BEFORE UPDATE ON account_events
BEGIN SELECT RAISE(ABORT, 'account_events is insert-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER account_events_no_delete BEFORE DELETE ON account_events
BEGIN SELECT RAISE(ABORT, 'account_events is insert-only'); END;
-- +goose StatementEnd

-- Sessions were keyed by the clear token; they are now keyed by its SHA-256 (hex). Old sessions
-- cannot be carried over without the clear token in the database, so everyone signs in again.
DELETE FROM sessions;

-- +goose Down
DROP TABLE account_events;
DROP INDEX api_tokens_user;
ALTER TABLE api_tokens DROP COLUMN revoked_reason;
ALTER TABLE api_tokens DROP COLUMN revoked_at;
DROP INDEX users_username_ci;
ALTER TABLE users DROP COLUMN credential_epoch;
ALTER TABLE users DROP COLUMN must_change_password;
DELETE FROM sessions;
