package workout

import (
	"bytes"
	"fmt"

	"reclaim"
	"reclaim/money"
)

// CostBasis splits the price paid for a portfolio over its loans in proportion to their claims
// (largest remainder, money.Allocate): the parts always sum to price exactly. Every claim must be
// in the price's currency and not negative; when every claim is zero the price is split evenly.
// It fails with EINVALID for an empty portfolio, a negative price, a negative claim or a currency
// mismatch (naming the loan index).
func CostBasis(price money.Amount, claims []money.Amount) ([]money.Amount, error) {
	if len(claims) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "cost basis: the portfolio has no loans")
	}
	if price.Sign() < 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "cost basis: price %s is negative", price)
	}
	w := make([]int64, len(claims))
	var total int64
	for i, c := range claims {
		if c.Currency() != price.Currency() {
			return nil, reclaim.Errorf(reclaim.EINVALID, "cost basis: loan %d: claim currency %q is not the price currency %q", i, c.Currency(), price.Currency())
		}
		if c.Sign() < 0 {
			return nil, reclaim.Errorf(reclaim.EINVALID, "cost basis: loan %d: claim %s is negative", i, c)
		}
		w[i] = c.Minor()
		total += w[i]
	}
	if total == 0 {
		for i := range w {
			w[i] = 1
		}
	}
	parts, err := price.Allocate(w...)
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EINVALID, err, "cost basis")
	}
	return parts, nil
}

// Blind-index kinds: what an identifier hash was computed from.
const (
	BlindNationalID = "nid"   // the normalised national ID
	BlindPhone      = "phone" // one normalised phone number
)

// BlindTerm is one keyed blind-index hash of a borrower identifier.
type BlindTerm struct {
	Kind string
	Hash []byte
}

// CaseMatch is an existing case that shares a blind-index hash with a borrower being boarded.
type CaseMatch struct {
	CaseID int64
	Kind   string // the kind of the shared hash
}

// JoinCase decides which case a borrower's loans join when boarded: the case that shares the
// borrower's national-ID hash (the lowest case id when several do, which only happens for data
// boarded before the rule); failing that, when the borrower has no national-ID hash at all, the
// lowest case sharing one of its phone hashes; otherwise a new case (0). A phone alone never joins
// a borrower whose national ID is known to a different person's case: family members share phones.
func JoinCase(terms []BlindTerm, matches []CaseMatch) int64 {
	hasNID := false
	for _, t := range terms {
		if t.Kind == BlindNationalID {
			hasNID = true
		}
	}
	best := func(kind string) int64 {
		var id int64
		for _, m := range matches {
			if m.Kind == kind && (id == 0 || m.CaseID < id) {
				id = m.CaseID
			}
		}
		return id
	}
	if id := best(BlindNationalID); id != 0 {
		return id
	}
	if !hasNID {
		return best(BlindPhone)
	}
	return 0
}

// SameTerms reports whether a and b hold the same hash (kind and bytes).
func SameTerms(a, b BlindTerm) bool { return a.Kind == b.Kind && bytes.Equal(a.Hash, b.Hash) }

// CaseRef is the external reference of a case ("C" and its id), used as the contact log's
// debtor_id.
func CaseRef(id int64) string { return fmt.Sprintf("C%d", id) }
