-- market_accounts: each organisation's deposit account in one row (balance and frozen, minor
-- units), kept in step with market_deposits in the same transaction as every movement. The row
-- is the arbiter of a freeze: UPDATE ... SET frozen = frozen + amount WHERE balance - frozen >=
-- amount, with its row count checked, so two app nodes freezing the same organisation's deposit
-- at once cannot both pass (docs/marketplace.md, "Deposits"). The CHECK is the last line: an
-- account is never frozen beyond its balance nor negative.

-- +goose Up
CREATE TABLE market_accounts (
    org_id        BIGINT PRIMARY KEY REFERENCES market_orgs(id),
    balance_minor BIGINT NOT NULL DEFAULT 0,
    frozen_minor  BIGINT NOT NULL DEFAULT 0,
    CHECK (frozen_minor >= 0 AND balance_minor >= frozen_minor)
);
INSERT INTO market_accounts (org_id, balance_minor, frozen_minor)
SELECT org_id,
    COALESCE(SUM(CASE kind WHEN 'credit' THEN amount_minor WHEN 'apply' THEN -amount_minor WHEN 'forfeit' THEN -amount_minor ELSE 0 END), 0),
    COALESCE(SUM(CASE kind WHEN 'freeze' THEN amount_minor WHEN 'release' THEN -amount_minor WHEN 'apply' THEN -amount_minor WHEN 'forfeit' THEN -amount_minor ELSE 0 END), 0)
FROM market_deposits GROUP BY org_id;

-- +goose Down
DROP TABLE market_accounts;
