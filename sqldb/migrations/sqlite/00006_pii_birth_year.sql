-- Personal data out of clear columns (issue 9, item 2; docs/security-pii.md). Loan lists showed
-- the borrower's exact birth date beside a national ID masked as 440502********635X, which hid
-- exactly the birth date: anyone allowed to list loans rebuilt every ID. From this version:
--   * loans keep the birth year (birth_year) instead of the birth date, and age becomes
--     cut-off year - birth year wherever the year is known, so that the two together narrow the
--     birth date no further than the year does (an exact age beside the year could pin it to a
--     few days);
--   * borrowers.masked_national_id keeps only the first four characters (province and
--     prefecture) of the ID: nothing of the birth date, the sequence number or the check digit.
-- The birth date itself is sealed with the rest of the personal data on import; for borrowers
-- imported before this version the sealed record still holds the national ID, from which
-- collectors' audited reads derive it. A tape that gave a birth date without a national ID loses
-- the day and month (the original tape has them).
--
-- secure_delete makes SQLite overwrite the freed content (the old cells, the dropped column) with
-- zeros instead of leaving it in free pages; the operator's duties for the WAL file and backups
-- taken before the upgrade are in docs/security-pii.md.

-- +goose Up
PRAGMA secure_delete = ON;
ALTER TABLE loans ADD COLUMN birth_year INTEGER;
UPDATE loans SET
    birth_year = CAST(substr(birth_date, 1, 4) AS INTEGER),
    age = CAST(substr((SELECT p.cut_off_date FROM portfolios p WHERE p.id = loans.portfolio_id), 1, 4) AS INTEGER)
        - CAST(substr(birth_date, 1, 4) AS INTEGER),
    birth_date = NULL
WHERE birth_date IS NOT NULL;
ALTER TABLE loans DROP COLUMN birth_date;
UPDATE borrowers SET masked_national_id =
    CASE WHEN length(masked_national_id) >= 11
         THEN substr(masked_national_id, 1, 4) || substr('******************************', 1, length(masked_national_id) - 4)
         ELSE substr('******************************', 1, length(masked_national_id)) END
WHERE masked_national_id IS NOT NULL;
PRAGMA secure_delete = OFF;

-- +goose Down
-- Birth dates and the longer masks cannot be restored: they are gone from the clear columns.
ALTER TABLE loans ADD COLUMN birth_date TEXT;
ALTER TABLE loans DROP COLUMN birth_year;
