package sqldb

import (
	"context"

	"reclaim"
)

// PersonalOpener decrypts sealed personal data (pii.Keyring).
type PersonalOpener interface {
	OpenPersonal(blob, aad []byte) (reclaim.PersonalData, error)
}

// KeyedDB is a DB together with the key that opens its personal data: what the API server needs.
// The key stays outside the database; KeyedDB only carries both to the one place that joins them.
type KeyedDB struct {
	*DB
	Keys PersonalOpener
}

// ReadPersonal decrypts one borrower's personal data, recording the read (actor, purpose, fields)
// in the same transaction. ENOTFOUND when the borrower has none stored. It checks no case scope:
// the API reads through ReadPersonalAs; this is for tools that run with the operator's authority.
func (k KeyedDB) ReadPersonal(ctx context.Context, acc reclaim.Access, portfolioID int64, ref string) (reclaim.PersonalData, error) {
	return k.readPersonal(ctx, acc, portfolioID, ref, nil)
}
