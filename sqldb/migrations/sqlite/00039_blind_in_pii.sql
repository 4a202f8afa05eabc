-- A borrower's blind-index terms move into borrower_pii.blind, beside the sealed personal data
-- they are computed from (issue 11, docs/benchmarks.md "The blind index folded into
-- borrower_pii"): one column of a row the import writes anyway instead of about 490,000 more rows
-- in a 300,000-loan import; they were only ever read by borrower. The column holds the terms one
-- after the other, each as its kind and its hash, each of those as a length byte and that many
-- bytes (sqldb/blindterms.go); NULL: not indexed. The length bytes are written and read through
-- hex (printf, unhex) and a 256-byte table (instr), SQLite having no byte functions.

-- +goose Up
ALTER TABLE borrower_pii ADD COLUMN blind BLOB;
UPDATE borrower_pii SET blind = (
    SELECT unhex(group_concat(printf('%02X', length(CAST(kind AS BLOB))) || hex(kind) || printf('%02X', length(hash)) || hex(hash), '' ORDER BY kind, hash))
    FROM borrower_blind x
    WHERE x.borrower_id = borrower_pii.borrower_id AND kind <> '' AND length(CAST(kind AS BLOB)) <= 255 AND length(hash) BETWEEN 1 AND 255)
WHERE borrower_id IN (SELECT borrower_id FROM borrower_blind);
DROP TABLE borrower_blind;

-- +goose Down
CREATE TABLE borrower_blind (
    borrower_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (borrower_id, kind, hash)
) WITHOUT ROWID;
WITH RECURSIVE b (lut) AS (SELECT X'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'),
t (borrower_id, rest, kind, hash) AS (
    SELECT borrower_id, blind, NULL, NULL FROM borrower_pii WHERE blind IS NOT NULL
    UNION ALL
    SELECT borrower_id, substr(rest, 3 + (instr(b.lut, substr(rest, 1, 1)) - 1) + (instr(b.lut, substr(rest, 2 + (instr(b.lut, substr(rest, 1, 1)) - 1), 1)) - 1)), CAST(substr(rest, 2, (instr(b.lut, substr(rest, 1, 1)) - 1)) AS TEXT),
           substr(rest, 3 + (instr(b.lut, substr(rest, 1, 1)) - 1), (instr(b.lut, substr(rest, 2 + (instr(b.lut, substr(rest, 1, 1)) - 1), 1)) - 1))
    FROM t, b WHERE length(rest) > 0
)
INSERT OR IGNORE INTO borrower_blind (borrower_id, kind, hash)
SELECT borrower_id, kind, hash FROM t WHERE kind IS NOT NULL;
ALTER TABLE borrower_pii DROP COLUMN blind;
