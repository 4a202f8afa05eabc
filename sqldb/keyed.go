package sqldb

import (
	"context"

	"reclaim"
	"reclaim/cnid"
	"reclaim/ingest"
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
// in the same transaction. ENOTFOUND when the borrower has none stored.
func (k KeyedDB) ReadPersonal(ctx context.Context, acc reclaim.Access, portfolioID int64, ref string) (reclaim.PersonalData, error) {
	p, err := k.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return reclaim.PersonalData{}, err
	}
	got, err := k.ReadPersonalData(ctx, acc, portfolioID, []string{ref},
		func(sealed []byte, _ string, borrowerRef string) (reclaim.PersonalData, error) {
			pd, err := k.Keys.OpenPersonal(sealed, ingest.PersonalAAD(p.ContentHash, borrowerRef))
			if err == nil && pd.BirthDate.IsZero() && pd.NationalID != "" {
				// Sealed before birth dates were sealed too (migration 00006 took them out of the
				// loans table): the national ID holds the date.
				if info, verr := cnid.Validate(pd.NationalID); verr == nil {
					pd.BirthDate = info.Birth
				}
			}
			return pd, err
		})
	if err != nil {
		return reclaim.PersonalData{}, err
	}
	pd, ok := got[ref]
	if !ok {
		return pd, reclaim.Errorf(reclaim.ENOTFOUND, "no personal data stored for borrower %s", ref)
	}
	return pd, nil
}
