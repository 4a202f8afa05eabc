package sqldb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// Migration 00039 moves every blind-index row into its borrower's borrower_pii.blind and drops
// borrower_blind; a borrower without rows keeps NULL (not indexed). Down, the rows come back as
// they were. Both engines, with a hash holding every byte value (the length bytes and the hex
// round trip on SQLite) and a kind in Chinese (multi-byte).
func TestMigration00039(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openMigratedTo(t, dsn, 38)
		h := func(i int) []byte { s := sha256.Sum256([]byte{byte(i)}); return s[:] }
		every := make([]byte, 255)
		for i := range every {
			every[i] = byte(i)
		}
		type row struct {
			bid  int64
			kind string
			hash []byte
		}
		var want []row
		for b := int64(1); b <= 40; b++ {
			if b%10 == 0 {
				continue // sealed, never indexed
			}
			want = append(want, row{b, "nid", h(int(b))}, row{b, "phone", h(100 + int(b))})
			if b%7 == 0 {
				want = append(want, row{b, "phone", h(200 + int(b))}) // a second phone
			}
		}
		want = append(want, row{3, "证件", every})
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for b := int64(1); b <= 40; b++ {
				if _, err := tx.Exec(ctx, `INSERT INTO borrowers (id, portfolio_id, borrower_ref) VALUES (?, 1, ?)`, b, fmt.Sprintf("B%02d", b)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO borrower_pii (borrower_id, key_id, sealed) VALUES (?, 'k', ?)`, b, []byte("sealed")); err != nil {
					return err
				}
			}
			for _, r := range want {
				if _, err := tx.Exec(ctx, `INSERT INTO borrower_blind (borrower_id, kind, hash) VALUES (?, ?, ?)`, r.bid, r.kind, r.hash); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		cmpRow := func(a, b row) int {
			if a.bid != b.bid {
				return int(a.bid - b.bid)
			}
			if c := strings.Compare(a.kind, b.kind); c != 0 {
				return c
			}
			return bytes.Compare(a.hash, b.hash)
		}
		slices.SortFunc(want, cmpRow)
		same := func(what string, got []row) {
			t.Helper()
			slices.SortFunc(got, cmpRow)
			if !slices.EqualFunc(got, want, func(a, b row) bool { return cmpRow(a, b) == 0 }) {
				t.Fatalf("%s: %d rows, want %d (first: %v)", what, len(got), len(want), got[:min(len(got), 3)])
			}
		}

		if err := sqldb.MigrateToForTest(ctx, db, 39); err != nil {
			t.Fatal(err)
		}
		terms, err := sqldb.BlindTermsForTest(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, x := range terms {
			got = append(got, row{x.BorrowerID, x.Kind, x.Hash})
		}
		same("up", got)
		var nulls int
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_pii WHERE blind IS NULL`).Scan(&nulls)
		}); err != nil || nulls != 4 {
			t.Errorf("%d borrowers not indexed after 00039 (%v), want 4", nulls, err)
		}
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			var n int
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM borrower_blind`).Scan(&n)
		}); err == nil {
			t.Error("borrower_blind is still there")
		}

		if err := sqldb.MigrateDownToForTest(ctx, db, 38); err != nil {
			t.Fatal(err)
		}
		got = nil
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			rs, err := tx.Query(ctx, `SELECT borrower_id, kind, hash FROM borrower_blind`)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var r row
				if err := rs.Scan(&r.bid, &r.kind, &r.hash); err != nil {
					return err
				}
				got = append(got, r)
			}
			return rs.Err()
		}); err != nil {
			t.Fatal(err)
		}
		same("down", got)
	})
}
