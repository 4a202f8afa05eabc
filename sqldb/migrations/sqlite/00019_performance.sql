-- Performance against the price paid and the manager's dashboard (issue 13 items 3 and 5;
-- docs/performance.md). The valuation forecast an acquisition was priced on, frozen at boarding
-- (or backfilled once from a valuation run), month by month; and the champion/challenger arm of
-- each case, drawn at random once and kept, so the lift is measured on collections per arm.

-- +goose Up
-- The forecast at purchase: one per acquired portfolio, never replaced.
CREATE TABLE acquisition_forecasts (
    portfolio_id         INTEGER PRIMARY KEY REFERENCES acquisitions(portfolio_id),
    source               TEXT NOT NULL,
    model                TEXT NOT NULL,
    target_irr           REAL NOT NULL,
    as_of                TEXT NOT NULL,
    collection_cost_rate REAL NOT NULL,
    currency             TEXT NOT NULL,
    actor                TEXT NOT NULL,
    created_at           TEXT NOT NULL
);

-- Month m (1 = the first month after the purchase) of a frozen forecast: expected gross
-- collections and the costs that do not scale with collections (legal and servicing).
CREATE TABLE acquisition_forecast_months (
    portfolio_id     INTEGER NOT NULL REFERENCES acquisition_forecasts(portfolio_id),
    month            INTEGER NOT NULL,
    gross_minor      INTEGER NOT NULL,
    fixed_cost_minor INTEGER NOT NULL,
    PRIMARY KEY (portfolio_id, month)
);

-- The strategy arm of a case (champion or challenger) in an experiment, drawn once.
CREATE TABLE case_arms (
    case_id     INTEGER PRIMARY KEY REFERENCES cases(id),
    experiment  TEXT NOT NULL,
    arm         TEXT NOT NULL,
    assigned_on TEXT NOT NULL
);
CREATE INDEX case_arms_experiment ON case_arms (experiment, arm);

-- +goose Down
DROP TABLE case_arms;
DROP TABLE acquisition_forecast_months;
DROP TABLE acquisition_forecasts;
