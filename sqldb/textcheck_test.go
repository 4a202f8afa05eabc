package sqldb_test

import (
	"context"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

// TestTextLastLine (issue 9, item 10): text PostgreSQL cannot store (NUL, invalid UTF-8) is a
// validation error on both engines, never an internal error, whichever way it reaches sqldb, and
// nothing is written.
func TestTextLastLine(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "text", mixedLoans(8), nil)
		bad := []string{"a\x00b", "a\xffb", "\xc0\x80"}
		for _, s := range bad {
			_, err := db.CreateUser(ctx, reclaim.User{Username: "u" + s, Role: reclaim.RoleAnalyst, PasswordHash: "h"})
			mustCode(t, err, reclaim.EINVALID)
			_, err = db.CreateUser(ctx, reclaim.User{Username: "ok", DisplayName: s, Role: reclaim.RoleAnalyst, PasswordHash: "h"})
			mustCode(t, err, reclaim.EINVALID)
			// Reads by a bad key: not found or invalid, never internal.
			if _, err := db.UserByUsername(ctx, s); reclaim.ErrorCode(err) == reclaim.EINTERNAL {
				t.Errorf("UserByUsername(%q): %v", s, err)
			}
			if _, err := db.ListPIIAccess(ctx, sqldb.PIIAccessFilter{Actor: s}); reclaim.ErrorCode(err) == reclaim.EINTERNAL {
				t.Errorf("ListPIIAccess(actor %q): %v", s, err)
			}
			for _, acc := range []sqldb.Access{{Actor: "alice", Purpose: "settlement " + s}, {Actor: "user:" + s, Purpose: "settlement call"}} {
				_, err := db.ReadPersonalData(ctx, acc, p.ID, []string{"B000000"}, func([]byte, string, string) (reclaim.PersonalData, error) {
					t.Fatal("decrypted for a refused read")
					return reclaim.PersonalData{}, nil
				})
				mustCode(t, err, reclaim.EINVALID)
			}
			_, err = db.ReadPersonalData(ctx, sqldb.Access{Actor: "alice", Purpose: "settlement call"}, p.ID, []string{"B0" + s},
				func([]byte, string, string) (reclaim.PersonalData, error) { return reclaim.PersonalData{}, nil })
			mustCode(t, err, reclaim.EINVALID)
			// Any write through a transaction.
			err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE users SET display_name = ? WHERE id = -1`, s)
				return err
			})
			mustCode(t, err, reclaim.EINVALID)
		}
		if n := count(t, db, "users"); n != 0 {
			t.Errorf("%d users written from bad text", n)
		}
		if n := count(t, db, "pii_access_log"); n != 0 {
			t.Errorf("%d audit rows written from bad text", n)
		}
		// A collection with a bad transaction id, loan ref or poster.
		eff := date.Of(2026, 7, 1)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "TXT", Origin: "test.example/ledger/TXT", PortfolioID: p.ID, Effective: eff}); err != nil {
			t.Fatal(err)
		}
		pl, _, err := db.PoolLoans(ctx, "TXT", 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range bad {
			for _, c := range []sqldb.Collection{
				{Pool: "TXT", LoanRef: pl[0].Ref, TxnID: "T" + s, PostedBy: "c"},
				{Pool: "TXT", LoanRef: pl[0].Ref + s, TxnID: "T1", PostedBy: "c"},
				{Pool: "TXT", LoanRef: pl[0].Ref, TxnID: "T1", PostedBy: "c" + s},
			} {
				c.Amount, c.Channel, c.Effective = money.New(100, "CNY"), verify.ChannelCash, eff
				_, err := db.PostCollection(ctx, c)
				mustCode(t, err, reclaim.EINVALID)
			}
		}
		if n := count(t, db, "pool_collections"); n != 0 {
			t.Errorf("%d collections written from bad text", n)
		}
	})
}

// TestTxnIDVariantsPostOnce (issue 9, item 13): bank transaction ids that differ only in case,
// width, surrounding space or invisible characters are one transaction: the first posts, every
// variant is ECONFLICT, and the id is kept as sent. A genuinely different id still posts.
func TestTxnIDVariantsPostOnce(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		p := importTape(t, db, "txnkey", mixedLoans(8), nil)
		eff := date.Of(2026, 7, 1)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "TK", Origin: "test.example/ledger/TK", PortfolioID: p.ID, Effective: eff}); err != nil {
			t.Fatal(err)
		}
		pl, _, err := db.PoolLoans(ctx, "TK", 0, 8)
		if err != nil {
			t.Fatal(err)
		}
		ref := ""
		for _, l := range pl {
			if l.Balance.Minor() >= 100 {
				ref = l.Ref
			}
		}
		if ref == "" {
			t.Fatal("no loan with a balance")
		}
		post := func(txn string) error {
			_, err := db.PostCollection(ctx, sqldb.Collection{Pool: "TK", LoanRef: ref, Amount: money.New(1, "CNY"),
				Channel: verify.ChannelBankTransfer, TxnID: txn, Effective: eff, PostedBy: "collector"})
			return err
		}
		if err := post(" BANK-2025-0001 "); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"BANK-2025-0001", "bank-2025-0001", "Bank-2025-0001", "ＢＡＮＫ－２０２５－０００１",
			"BANK-2025-\u200b0001", "\ufeffBANK-2025-0001", "\u3000BANK-2025-0001\u00a0", "BANK\u2060-2025-0001\u200d"} {
			mustCode(t, post(v), reclaim.ECONFLICT)
		}
		if err := post("BANK-2025-0002"); err != nil {
			t.Errorf("a different id: %v", err)
		}
		mustCode(t, post("\u200b \u3000"), reclaim.EINVALID) // nothing but invisible characters
		// Collections stored before migration 00009 get their key at the next Migrate; a variant
		// posted twice back then keeps no key and breaks nothing.
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for i, txn := range []string{"OLD-7", "old-7"} {
				if _, err := tx.Exec(ctx, `INSERT INTO pool_collections (pool, event_id, loan_ref, amount_minor, channel, txn_id, effective, posted_by, posted_at)
					VALUES ('TK', ?, ?, 1, 'cash', ?, '2026-07-01', 'legacy', '2026-07-01T00:00:00Z')`, "legacy-"+string(rune('a'+i)), ref, txn); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate with legacy rows: %v", err)
		}
		mustCode(t, post("ＯＬＤ－７"), reclaim.ECONFLICT)
		if n := count(t, db, "pool_collections"); n != 4 {
			t.Errorf("%d collections, want 2 posted and 2 legacy", n)
		}
		var sent string
		if err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			return tx.QueryRow(ctx, `SELECT txn_id FROM pool_collections WHERE txn_key = ?`, "bank-2025-0001").Scan(&sent)
		}); err != nil || sent != "BANK-2025-0001" {
			t.Errorf("stored id %q, %v; want it as sent, trimmed", sent, err)
		}
	})
}
