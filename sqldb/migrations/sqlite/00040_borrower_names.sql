-- Name-and-amount payment matching finds borrowers by masked name (issue 15). Only a boarded
-- borrower can be matched (the match goes on through its accounts), so the look-up moves from an
-- index on every imported borrower (borrowers_masked_name, kept up to date by every tape import:
-- about a tenth of the server's work in a 300,000-loan import, docs/benchmarks.md, issue 11) to a
-- table that boarding fills with its borrowers' masked names.

-- +goose Up
CREATE TABLE borrower_names (
    masked_name TEXT NOT NULL,
    borrower_id INTEGER NOT NULL,
    PRIMARY KEY (masked_name, borrower_id)
);
INSERT INTO borrower_names (masked_name, borrower_id)
SELECT DISTINCT b.masked_name, b.id FROM borrowers b JOIN accounts a ON a.borrower_id = b.id WHERE b.masked_name IS NOT NULL;
DROP INDEX borrowers_masked_name;

-- +goose Down
CREATE INDEX borrowers_masked_name ON borrowers (masked_name);
DROP TABLE borrower_names;
