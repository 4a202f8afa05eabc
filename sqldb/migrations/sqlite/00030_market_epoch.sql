-- The marketplace's change counter (issue 14, bid throughput): every change to what a bidder's
-- qualification rests on (an organisation's status or bar, a user's link to it, a registration,
-- an NDA) adds one in the same transaction. A node caches a bidder's organisation and
-- registration and reads only this row (every 250 ms) to know when to drop that cache.

-- +goose Up
CREATE TABLE market_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO market_epoch (id, n) VALUES (1, 0);

-- +goose Down
DROP TABLE market_epoch;
