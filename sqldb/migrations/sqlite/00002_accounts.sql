-- Accounts, console sessions and API tokens; masked personal data for lists.

-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    revoked    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

ALTER TABLE borrowers ADD COLUMN masked_name TEXT;
ALTER TABLE borrowers ADD COLUMN masked_national_id TEXT;
ALTER TABLE borrowers ADD COLUMN masked_phone TEXT;

-- +goose Down
ALTER TABLE borrowers DROP COLUMN masked_phone;
ALTER TABLE borrowers DROP COLUMN masked_national_id;
ALTER TABLE borrowers DROP COLUMN masked_name;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE users;
