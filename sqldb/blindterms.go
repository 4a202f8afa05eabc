package sqldb

import (
	"errors"

	"reclaim/workout"
)

// A borrower's blind-index terms are stored in borrower_pii.blind, beside the sealed personal data
// they are computed from (migration 00039): one column of one row the import writes anyway,
// rather than a row per term in a table of its own, which cost a PostgreSQL import a fifth of the
// server's work (docs/benchmarks.md, issue 11). The column holds the terms one after the other,
// each as its kind and its hash, each of those as a length byte and that many bytes. NULL means
// the borrower has not been indexed (imported before the blind index, or without its key).

// appendBlindTerms appends the encoding of the terms blindKept keeps and reports whether it kept
// any; a kind or a hash longer than 255 bytes is not a blind-index term and is skipped.
func appendBlindTerms(dst []byte, terms []workout.BlindTerm) ([]byte, bool) {
	kept := false
	for i, t := range terms {
		if !blindKept(terms, i) || len(t.Kind) > 255 || len(t.Hash) > 255 {
			continue
		}
		dst = append(dst, byte(len(t.Kind)))
		dst = append(dst, t.Kind...)
		dst = append(dst, byte(len(t.Hash)))
		dst = append(dst, t.Hash...)
		kept = true
	}
	return dst, kept
}

// encodeBlindTerms returns the column value of terms: nil (NULL) when none is kept.
func encodeBlindTerms(terms []workout.BlindTerm) []byte {
	b, ok := appendBlindTerms(nil, terms)
	if !ok {
		return nil
	}
	return b
}

var errBlindTerms = errors.New("sqldb: malformed blind-index terms")

// decodeBlindTerms parses a borrower_pii.blind value; the terms' hashes are copies, not views of b.
func decodeBlindTerms(b []byte) ([]workout.BlindTerm, error) {
	var out []workout.BlindTerm
	for len(b) > 0 {
		var kind, hash []byte
		var ok bool
		if kind, b, ok = cutBlindField(b); !ok || len(kind) == 0 {
			return nil, errBlindTerms
		}
		if hash, b, ok = cutBlindField(b); !ok || len(hash) == 0 {
			return nil, errBlindTerms
		}
		out = append(out, workout.BlindTerm{Kind: string(kind), Hash: append([]byte(nil), hash...)})
	}
	return out, nil
}

// cutBlindField splits a length byte and that many bytes off the front of b.
func cutBlindField(b []byte) (field, rest []byte, ok bool) {
	if len(b) == 0 || int(b[0]) > len(b)-1 {
		return nil, nil, false
	}
	n := int(b[0])
	return b[1 : 1+n], b[1+n:], true
}
