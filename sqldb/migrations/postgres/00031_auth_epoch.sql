-- The API-token change counter (issue 14, bid throughput): every change that can end an API
-- token (a token revoked; a user's role, password, disabled flag or any other field updated)
-- adds one in the same transaction. A node caches verified tokens and reads only this row
-- (every 250 ms) to know when to drop that cache, instead of re-reading every token every 2 s.

-- +goose Up
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);

-- +goose Down
DROP TABLE auth_epoch;
