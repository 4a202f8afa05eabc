-- No index on market_events' idempotency keys (issue 14, the bid batcher's SQLite cost;
-- docs/benchmarks.md, "The bid batcher's SQLite cost").
--
-- Every record went into three B-trees: the table (by rowid, appended at its end), its primary
-- key (auction_id, seq) (appended at the end of each auction's range) and the unique index
-- market_events_key (auction_id, idem_key). Clients' idempotency keys are scattered, so that
-- index dirtied a leaf page of its own for nearly every record: a batch of 68 records wrote 93
-- pages (8 KiB each) to the WAL, 29 without the index. (A WITHOUT ROWID table clustered by
-- (auction_id, seq) was measured too and wrote 54: its interior pages hold whole rows, and each
-- auction's range splits in the middle of the tree. The table stays as it is.)
--
-- The index is dropped (here and in PostgreSQL's 00038) because the store already makes a key
-- stored twice on an auction impossible without it (sqldb/auctions.go, "Idempotency keys"): only
-- the bid batcher writes market_events; an engine judges a key against every key of the history
-- it was built on plus its own queued records, and is built from the whole stored history; a
-- batch commits only from the last_seq that history ends at (the conditional UPDATE of
-- market_auctions, and the primary key (auction_id, seq)), so a node that missed another node's
-- records cannot store anything until it has reloaded them, keys included.
-- TestMarketIdemKeysTwoNodes checks it on both engines.

-- +goose Up
DROP INDEX market_events_key;

-- +goose Down
CREATE UNIQUE INDEX market_events_key ON market_events (auction_id, idem_key);
