-- SQLite's 00038 makes market_events a WITHOUT ROWID table clustered by (auction_id, seq) and
-- drops the unique index on (auction_id, idem_key). A PostgreSQL table is a heap with no rowid
-- tree, so only the index goes: the store makes a key stored twice on an auction impossible
-- without it (the reasoning is in SQLite's 00038 and sqldb/auctions.go, "Idempotency keys";
-- TestMarketIdemKeysTwoNodes checks it on both engines), and every record no longer costs an
-- insert into a B-tree ordered by the clients' scattered keys.

-- +goose Up
DROP INDEX market_events_key;

-- +goose Down
CREATE UNIQUE INDEX market_events_key ON market_events (auction_id, idem_key);
