package sqldb_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/workout"
)

func synthTape(t *testing.T, dir, ref string, seed uint64) string {
	t.Helper()
	path := filepath.Join(dir, ref+".csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := synth.Config{Seed: seed, Loans: 60, PortfolioRef: ref, CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed}
	if _, err := synth.WriteTape(context.Background(), cfg, f, nil, synth.TapeOptions{IncludePersonal: true}, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBlindIndexImportAndBackfill: the import writes the blind index when its sealer indexes;
// a portfolio imported without it is backfilled by one audited read per borrower; the key is
// bound on first use.
func TestBlindIndexImportAndBackfill(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		keys := testKeyring(t)
		bk := testBlindKey(t)
		rep, err := ingest.Run(ctx, db.IngestStore(), ingest.WithBlindIndex(keys, func(p reclaim.PersonalData) []workout.BlindTerm {
			return blindTerms(bk, p)
		}), synthTape(t, dir, "PKG-B1", 1), ingest.Options{SellerName: "Bank"})
		if err != nil {
			t.Fatal(err)
		}
		idx, sealed, err := db.BlindIndexCount(ctx, rep.PortfolioID)
		if err != nil || sealed == 0 || idx != sealed {
			t.Fatalf("indexed %d of %d sealed: %v", idx, sealed, err)
		}
		rep2, err := ingest.Run(ctx, db.IngestStore(), keys, synthTape(t, dir, "PKG-B2", 2), ingest.Options{SellerName: "Bank"})
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := db.GetPortfolio(ctx, rep2.PortfolioID)
		if idx, sealed, _ := db.BlindIndexCount(ctx, p2.ID); idx != 0 || sealed == 0 {
			t.Fatalf("plain import indexed %d of %d", idx, sealed)
		}
		var after int64
		reads := 0
		for {
			refs, last, err := db.BorrowersWithoutBlindIndex(ctx, p2.ID, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) == 0 {
				break
			}
			after = last
			pds, err := db.ReadPersonalData(ctx, reclaim.Access{Actor: "test", Purpose: "blind-index backfill"}, p2.ID, refs,
				func(sealed []byte, _ string, ref string) (reclaim.PersonalData, error) {
					return keys.OpenPersonal(sealed, ingest.PersonalAAD(p2.ContentHash, ref))
				})
			if err != nil {
				t.Fatal(err)
			}
			reads += len(pds)
			m := map[string][]workout.BlindTerm{}
			for ref, pd := range pds {
				m[ref] = blindTerms(bk, pd)
			}
			if err := db.AddBlindIndex(ctx, p2.ID, m); err != nil {
				t.Fatal(err)
			}
			if err := db.AddBlindIndex(ctx, p2.ID, m); err != nil { // a resumed batch
				t.Fatal(err)
			}
		}
		idx, sealed, _ = db.BlindIndexCount(ctx, p2.ID)
		if idx != sealed || int64(reads) != sealed {
			t.Fatalf("backfill indexed %d of %d with %d reads", idx, sealed, reads)
		}
		acc, _ := db.ListPIIAccess(ctx, reclaim.PIIAccessFilter{Limit: 10000})
		if int64(len(acc)) != sealed {
			t.Fatalf("%d audit rows for %d reads", len(acc), sealed)
		}
		if err := db.AddBlindIndex(ctx, p2.ID, map[string][]workout.BlindTerm{"nobody": nil}); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("unknown borrower: %v", err)
		}
		// A term added later joins the borrower's terms (stored beside its sealed data); the same
		// term again changes nothing.
		termsOf := func(ref string) int {
			all, err := sqldb.BlindTermsForTest(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, x := range all {
				if x.BorrowerRef == ref {
					n++
				}
			}
			return n
		}
		refs, _, err := db.BorrowersWithoutBlindIndex(ctx, rep.PortfolioID, 0, 1)
		if err != nil || len(refs) != 0 {
			t.Fatalf("the indexed portfolio has borrowers without terms: %v %v", refs, err)
		}
		var ref string
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT borrower_ref FROM borrowers WHERE portfolio_id = ? ORDER BY id LIMIT 1`, p2.ID).Scan(&ref)
		}); err != nil {
			t.Fatal(err)
		}
		had := termsOf(ref)
		extra := map[string][]workout.BlindTerm{ref: {{Kind: "phone", Hash: bytes.Repeat([]byte{9}, 32)}}}
		for round := 0; round < 2; round++ {
			if err := db.AddBlindIndex(ctx, p2.ID, extra); err != nil {
				t.Fatal(err)
			}
			if got := termsOf(ref); had == 0 || got != had+1 {
				t.Fatalf("round %d: borrower %s has %d terms, had %d", round, ref, got, had)
			}
		}
		if err := db.BindBlindKey(ctx, bk.Fingerprint()); err != nil {
			t.Fatal(err)
		}
		if err := db.BindBlindKey(ctx, bk.Fingerprint()); err != nil {
			t.Fatal(err)
		}
		other, _ := pii.NewBlindKey(make([]byte, 32))
		if err := db.BindBlindKey(ctx, other.Fingerprint()); reclaim.ErrorCode(err) != sqldb.ErrWrongKey {
			t.Fatalf("another key: %v", err)
		}
	})
}
