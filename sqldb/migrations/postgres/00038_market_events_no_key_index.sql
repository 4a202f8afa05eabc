-- No index on market_events' idempotency keys, as SQLite's 00038 (the reasoning is there and in
-- sqldb/auctions.go, "Idempotency keys"; TestMarketIdemKeysTwoNodes checks it on both engines):
-- every record no longer costs an insert into a B-tree ordered by the clients' scattered keys.

-- +goose Up
DROP INDEX market_events_key;

-- +goose Down
CREATE UNIQUE INDEX market_events_key ON market_events (auction_id, idem_key);
