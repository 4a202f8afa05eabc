-- The live daily work queue (issue 13 item 1, docs/strategy.md "The live daily queue"): the plan
-- of one day, as workout.PlanQueue decided it for the open cases. Planning a day again replaces
-- that day's rows in one transaction.

-- +goose Up
CREATE TABLE queue_plans (
    day        TEXT NOT NULL,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    arm        TEXT NOT NULL,
    team       TEXT NOT NULL,
    assignee   TEXT,
    agency     TEXT,
    channel    TEXT NOT NULL,
    planned_at TEXT NOT NULL,
    value      REAL NOT NULL,
    net        REAL NOT NULL,
    rank       INTEGER NOT NULL,
    planned_by TEXT NOT NULL,
    PRIMARY KEY (day, case_id)
);
CREATE INDEX queue_plans_assignee ON queue_plans (day, assignee, rank);
CREATE INDEX queue_plans_agency ON queue_plans (day, agency, rank);

-- +goose Down
DROP TABLE queue_plans;
