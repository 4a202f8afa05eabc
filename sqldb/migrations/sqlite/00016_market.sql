-- The auction marketplace (docs/marketplace.md, ../shared/design/auction-rules.md).
--
-- market_orgs: bidding organisations (qualification: licence type, documents, admin decision;
--   barred after a default, JA-8). market_org_users links bidder-role users to one organisation.
-- market_auctions: one row per auction (a marketplace listing, or a court auction held elsewhere
--   and only recorded, external = true). listing is the engine's listing as JSON; end_at and
--   last_seq move with every committed batch of events (last_seq is the arbiter between nodes:
--   a batch commits only from the seq it was built on); status 'open' -> 'sold' | 'failed' is
--   changed once, by a conditional UPDATE ... WHERE status = 'open'.
-- market_events: every event the engine judged (accepted or rejected), in order: Restore replays
--   them. idem_key is the client's idempotency key, unique per auction.
-- market_registrations: an organisation registered for an auction, its NDA acceptance.
-- market_deposits: every movement of an organisation's deposit account.
-- market_attempts: rejected requests that never reached the engine (unqualified, barred,
--   another organisation's auction, absurd amounts, replays), for the record.
-- market_downloads: every tape download (watermark id, who, when, which auction).
-- market_blobs: documents and photos of a listing (collateral), size and type limited.
-- market_settlements: award, payment, transfer, documents, the ledger entry.
-- market_dispositions: each loan sold by a settled auction (ownership left the AMC).
-- portfolios.acquired: the AMC bought this package (the no-resale promise): it may not be relisted.

-- +goose Up
ALTER TABLE portfolios ADD COLUMN acquired INTEGER NOT NULL DEFAULT 0;

CREATE TABLE market_orgs (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    licence_type  TEXT NOT NULL,
    documents     TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    barred        INTEGER NOT NULL DEFAULT 0,
    barred_reason TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    decided_at    TEXT,
    decided_by    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE market_org_users (
    user_id   INTEGER PRIMARY KEY REFERENCES users(id),
    org_id    INTEGER NOT NULL REFERENCES market_orgs(id),
    linked_at TEXT NOT NULL
);
CREATE INDEX market_org_users_org ON market_org_users (org_id);

CREATE TABLE market_auctions (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    pack         TEXT NOT NULL,
    format       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    stage        TEXT NOT NULL,
    portfolio_id INTEGER REFERENCES portfolios(id),
    loans        TEXT NOT NULL,
    external     INTEGER NOT NULL DEFAULT 0,
    case_number  TEXT NOT NULL DEFAULT '',
    platform     TEXT NOT NULL DEFAULT '',
    previous_id  INTEGER REFERENCES market_auctions(id),
    listing      TEXT NOT NULL,
    teaser       TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    end_at       TEXT NOT NULL,
    last_seq     INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT,
    closed_at    TEXT,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL
);
CREATE INDEX market_auctions_status ON market_auctions (status, end_at);

CREATE TABLE market_events (
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
CREATE UNIQUE INDEX market_events_key ON market_events (auction_id, idem_key);

CREATE TABLE market_registrations (
    auction_id    INTEGER NOT NULL REFERENCES market_auctions(id),
    org_id        INTEGER NOT NULL REFERENCES market_orgs(id),
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    nda_at        TEXT,
    nda_by        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (auction_id, org_id)
);
CREATE INDEX market_registrations_org ON market_registrations (org_id);

CREATE TABLE market_deposits (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES market_orgs(id),
    auction_id   INTEGER REFERENCES market_auctions(id),
    kind         TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX market_deposits_org ON market_deposits (org_id, id);

CREATE TABLE market_attempts (
    id         INTEGER PRIMARY KEY,
    auction_id INTEGER,
    org_id     INTEGER,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX market_attempts_auction ON market_attempts (auction_id, id);

CREATE TABLE market_downloads (
    watermark  TEXT PRIMARY KEY,
    auction_id INTEGER NOT NULL REFERENCES market_auctions(id),
    org_id     INTEGER,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    loans      INTEGER NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX market_downloads_auction ON market_downloads (auction_id, at);

CREATE TABLE market_blobs (
    id           INTEGER PRIMARY KEY,
    auction_id   INTEGER NOT NULL REFERENCES market_auctions(id),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL
);
CREATE INDEX market_blobs_auction ON market_blobs (auction_id, id);

CREATE TABLE market_settlements (
    auction_id    INTEGER PRIMARY KEY REFERENCES market_auctions(id),
    winner_org    INTEGER NOT NULL REFERENCES market_orgs(id),
    price_minor   INTEGER NOT NULL,
    status        TEXT NOT NULL,
    awarded_at    TEXT NOT NULL,
    paid_at       TEXT,
    settled_at    TEXT,
    bids          INTEGER NOT NULL DEFAULT 0,
    history_hash  TEXT NOT NULL DEFAULT '',
    ledger_pool   TEXT NOT NULL DEFAULT '',
    ledger_event  TEXT NOT NULL DEFAULT '',
    agreement     TEXT NOT NULL DEFAULT '',
    notification  TEXT NOT NULL DEFAULT '',
    proceeds_note TEXT NOT NULL DEFAULT ''
);

-- Loans that left the AMC by a settled sale: the disposition of each (servicing skips them).
CREATE TABLE market_dispositions (
    portfolio_id INTEGER NOT NULL REFERENCES portfolios(id),
    loan_id      TEXT NOT NULL,
    auction_id   INTEGER NOT NULL REFERENCES market_auctions(id),
    buyer_org    INTEGER NOT NULL REFERENCES market_orgs(id),
    at           TEXT NOT NULL,
    PRIMARY KEY (portfolio_id, loan_id)
);

-- +goose Down
DROP TABLE market_dispositions;
DROP TABLE market_settlements;
DROP TABLE market_blobs;
DROP TABLE market_downloads;
DROP TABLE market_attempts;
DROP TABLE market_deposits;
DROP TABLE market_registrations;
DROP TABLE market_events;
DROP TABLE market_auctions;
DROP TABLE market_org_users;
DROP TABLE market_orgs;
ALTER TABLE portfolios DROP COLUMN acquired;
