-- Ledger leadership and durable announcements (docs/ledger.md, "Several nodes").
--
-- ledger_leases: the lease of the one node that sequences and signs (its expiry, renewed often,
-- is in ledger_lease_beats). A node takes an expired lease with a new epoch; every sequencing,
-- announcing and signing transaction checks that its node still holds the lease with its epoch
-- (fencing), so a node that lost the lease cannot write.
-- ledger_announcements: index ranges sequenced but not yet announced as live events, written in
-- the sequencing transaction; whoever leads announces them and deletes them.
-- ledger_signers: which node (and epoch) signed each checkpoint size: one signer per size.

-- +goose Up
CREATE TABLE ledger_leases (
    role        TEXT PRIMARY KEY,
    node        TEXT NOT NULL,
    epoch       INTEGER NOT NULL,
    acquired_at TEXT NOT NULL
);

-- Renewals touch only this row, so that they never conflict with the fenced transactions that
-- hold the lease row (ledger_leases changes only when the role changes hands).
CREATE TABLE ledger_lease_beats (
    role       TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);

CREATE TABLE ledger_announcements (
    pool         TEXT NOT NULL,
    from_idx     INTEGER NOT NULL,
    next_idx     INTEGER NOT NULL,
    to_idx       INTEGER NOT NULL,
    sequenced_at TEXT NOT NULL,
    PRIMARY KEY (pool, from_idx)
);

CREATE TABLE ledger_signers (
    pool       TEXT NOT NULL,
    tree_size  INTEGER NOT NULL,
    node       TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (pool, tree_size)
);

-- +goose Down
DROP TABLE ledger_signers;
DROP TABLE ledger_announcements;
DROP TABLE ledger_lease_beats;
DROP TABLE ledger_leases;
