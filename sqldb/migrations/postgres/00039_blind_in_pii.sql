-- A borrower's blind-index terms move into borrower_pii.blind, beside the sealed personal data
-- they are computed from (issue 11, docs/benchmarks.md "The blind index folded into
-- borrower_pii"). As rows of borrower_blind they cost a 300,000-loan import about 490,000 more
-- rows and primary-key entries, a fifth of the server's work; they were only ever read by
-- borrower. The column holds the terms one after the other, each as its kind and its hash, each of
-- those as a length byte and that many bytes (sqldb/blindterms.go); NULL: not indexed.

-- +goose Up
ALTER TABLE borrower_pii ADD COLUMN blind BYTEA;
UPDATE borrower_pii p SET blind = x.terms
FROM (SELECT borrower_id,
             string_agg(set_byte('\x00'::bytea, 0, length(convert_to(kind, 'UTF8'))) || convert_to(kind, 'UTF8')
                        || set_byte('\x00'::bytea, 0, length(hash)) || hash, ''::bytea ORDER BY kind, hash) AS terms
      FROM borrower_blind
      WHERE kind <> '' AND length(convert_to(kind, 'UTF8')) <= 255 AND length(hash) BETWEEN 1 AND 255
      GROUP BY borrower_id) x
WHERE x.borrower_id = p.borrower_id;
DROP TABLE borrower_blind;

-- +goose Down
CREATE TABLE borrower_blind (
    borrower_id BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    hash        BYTEA NOT NULL,
    PRIMARY KEY (borrower_id, kind, hash)
);
WITH RECURSIVE t (borrower_id, rest, kind, hash) AS (
    SELECT borrower_id, blind, NULL::text, NULL::bytea FROM borrower_pii WHERE blind IS NOT NULL
    UNION ALL
    SELECT borrower_id,
           substring(rest FROM 3 + get_byte(rest, 0) + get_byte(rest, 1 + get_byte(rest, 0))),
           convert_from(substring(rest FROM 2 FOR get_byte(rest, 0)), 'UTF8') COLLATE "default",
           substring(rest FROM 3 + get_byte(rest, 0) FOR get_byte(rest, 1 + get_byte(rest, 0)))
    FROM t WHERE length(rest) > 0
)
INSERT INTO borrower_blind (borrower_id, kind, hash)
SELECT borrower_id, kind, hash FROM t WHERE kind IS NOT NULL ON CONFLICT DO NOTHING;
ALTER TABLE borrower_pii DROP COLUMN blind;
