-- market_events clustered by (auction_id, seq), and no index on idempotency keys (issue 14, the
-- bid batcher's SQLite cost; docs/benchmarks.md, "The bid batcher's SQLite cost").
--
-- As a rowid table every record went into three B-trees: the table (by rowid), its primary key
-- (auction_id, seq) and the unique index market_events_key (auction_id, idem_key). The records of
-- an auction are appended in seq order, so a WITHOUT ROWID table keyed by (auction_id, seq)
-- takes them into one B-tree, at the end of each auction's range: a batch of records for 20
-- auctions dirties about 20 leaf pages. Clients' idempotency keys are scattered, so the key index
-- dirtied one leaf page per record (one 8 KiB page written to the WAL for each bid).
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
CREATE TABLE market_events_new (
    auction_id   INTEGER NOT NULL REFERENCES market_auctions(id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    type         TEXT NOT NULL,
    bidder       TEXT NOT NULL,
    amount_minor INTEGER,
    idem_key     TEXT,
    accepted     INTEGER NOT NULL,
    rule         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    PRIMARY KEY (auction_id, seq)
) WITHOUT ROWID;
INSERT INTO market_events_new (auction_id, seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor)
    SELECT auction_id, seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor FROM market_events ORDER BY auction_id, seq;
DROP TABLE market_events;
ALTER TABLE market_events_new RENAME TO market_events;

-- +goose Down
CREATE TABLE market_events_old (
    auction_id   INTEGER NOT NULL REFERENCES market_auctions(id),
    seq          INTEGER NOT NULL,
    at           TEXT NOT NULL,
    type         TEXT NOT NULL,
    bidder       TEXT NOT NULL,
    amount_minor INTEGER,
    idem_key     TEXT,
    accepted     INTEGER NOT NULL,
    rule         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    PRIMARY KEY (auction_id, seq)
);
INSERT INTO market_events_old (auction_id, seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor)
    SELECT auction_id, seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor FROM market_events ORDER BY auction_id, seq;
DROP TABLE market_events;
ALTER TABLE market_events_old RENAME TO market_events;
CREATE UNIQUE INDEX market_events_key ON market_events (auction_id, idem_key);
