-- Per-portfolio figures the console and the valuation read on every request, kept so that no
-- request scans a portfolio's loans or repayments (issue 17 item 3, docs/scale.md). Portfolios
-- do not change after their import, so both tables are written once: portfolio_stats by the
-- import's commit (and here, for the portfolios imported before), valuation_results when a
-- valuation has been computed.

-- +goose Up
-- first_loan_id and last_loan_id bound the portfolio's loans' row ids; when they span exactly
-- loan_count ids the loans are contiguous and a page at any offset is read by id. The
-- repayment_* columns summarise the repayment history (first and last month, rows).
CREATE TABLE portfolio_stats (
    portfolio_id    BIGINT PRIMARY KEY REFERENCES portfolios (id),
    first_loan_id   BIGINT,
    last_loan_id    BIGINT,
    repayment_first DATE,
    repayment_last  DATE,
    repayment_rows  BIGINT NOT NULL
);
INSERT INTO portfolio_stats (portfolio_id, first_loan_id, last_loan_id, repayment_first, repayment_last, repayment_rows)
SELECT p.id,
    (SELECT MIN(l.id) FROM loans l WHERE l.portfolio_id = p.id),
    (SELECT MAX(l.id) FROM loans l WHERE l.portfolio_id = p.id),
    (SELECT MIN(r.month) FROM repayments r WHERE r.portfolio_id = p.id),
    (SELECT MAX(r.month) FROM repayments r WHERE r.portfolio_id = p.id),
    (SELECT COUNT(*) FROM repayments r WHERE r.portfolio_id = p.id)
FROM portfolios p;

-- A computed portfolio valuation (the JSON the API returns), by the parameters it was computed
-- with (cache_key: model version, target IRR and multiple, confidence, paths, assumptions).
CREATE TABLE valuation_results (
    portfolio_id  BIGINT NOT NULL REFERENCES portfolios (id),
    cache_key     TEXT NOT NULL,
    model_name    TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (portfolio_id, cache_key)
);

-- +goose Down
DROP TABLE valuation_results;
DROP TABLE portfolio_stats;
