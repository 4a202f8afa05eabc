-- The store's self-audit and the key ids (issue 9, items 6 and 7).
--
-- ledger_integrity: per pool, the scheduled audit's cursor (entries [0, audit_next) recomputed;
-- audit_edge holds the recomputed right-edge hashes, so a resumed audit trusts no stored hash)
-- and, when the audit or the publisher found the store damaged, the report (JSON) and when.
-- A damaged pool is not signed until 'reclaim ledger fsck' finds it clean again.
--
-- key_ids: the fingerprints of the keys the database's data is under, never the keys:
-- 'pii' is HMAC-SHA256(key, "reclaim/pii/key-fingerprint/v1") of the personal-data key;
-- pending_key_id is the new key's during a 'reclaim pii rotate-key'.
--
-- ledger_keys: per pool, the note verifier key that signs its checkpoints from tree size
-- since_size on (the first at 0; each later one follows a key.rotation entry at since_size-1).

-- +goose Up
CREATE TABLE ledger_integrity (
    pool            TEXT PRIMARY KEY,
    audit_next      BIGINT NOT NULL DEFAULT 0,
    audit_edge      BYTEA,
    pass_started_at TIMESTAMPTZ,
    last_clean_at   TIMESTAMPTZ,
    damaged_at      TIMESTAMPTZ,
    report          TEXT
);

CREATE TABLE key_ids (
    purpose        TEXT PRIMARY KEY,
    key_id         TEXT NOT NULL,
    pending_key_id TEXT,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE ledger_keys (
    pool       TEXT NOT NULL,
    since_size BIGINT NOT NULL,
    vkey       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pool, since_size)
);

-- +goose Down
DROP TABLE ledger_keys;
DROP TABLE key_ids;
DROP TABLE ledger_integrity;
