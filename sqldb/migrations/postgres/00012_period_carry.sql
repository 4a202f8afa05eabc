-- Period reports are cut by effective date (tlog/verify/README.md, "How periods are cut"): a
-- report counts the movements sequenced before it whose date is in its period, so a movement
-- sequenced before a close but dated after the period's end is left for a later report.
-- carry_from is the smallest log index below to_index of a movement the report left for a later
-- period (to_index when there is none): the next report reads the log from there. Reports from
-- before this migration were cut by log position and carried nothing (NULL reads as to_index).

-- +goose Up
ALTER TABLE pool_reports ADD COLUMN carry_from BIGINT;

-- +goose Down
ALTER TABLE pool_reports DROP COLUMN carry_from;
