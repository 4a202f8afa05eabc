package sqldb_test

import (
	"bytes"
	"context"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

func TestModelRegistry(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if ms, err := db.ListModels(ctx); err != nil || len(ms) != 0 {
			t.Fatalf("empty registry: %v %v", ms, err)
		}
		if _, err := db.GetModel(ctx, "recovery", 0); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("no model: %v", err)
		}
		file1 := bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000) // binary, with NULs
		file2 := []byte("RECLAIM-RECOVERY 1 2 x\n{}")
		m1, err := db.SaveModel(ctx, sqldb.NewModel{Name: "recovery", FeatureSet: "cn-v1", CreatedBy: "cli:alice",
			MetricsJSON: []byte(`{"metrics":{"auc_material":0.7}}`), File: file1})
		if err != nil {
			t.Fatal(err)
		}
		if m1.Version != 1 || !m1.Active || m1.Size != int64(len(file1)) || len(m1.SHA256) != 64 || m1.CreatedAt.IsZero() {
			t.Fatalf("first save: %+v", m1)
		}
		m2, err := db.SaveModel(ctx, sqldb.NewModel{Name: "recovery", FeatureSet: "cn-v1", MetricsJSON: []byte(`{}`), File: file2})
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.SaveModel(ctx, sqldb.NewModel{Name: "lc", FeatureSet: "lendingclub-v1", MetricsJSON: []byte(`{}`), File: file2})
		if err != nil {
			t.Fatal(err)
		}
		if m2.Version != 2 || m2.CreatedBy != "system" || other.Version != 1 {
			t.Fatalf("versions %d %d (%s)", m2.Version, other.Version, m2.CreatedBy)
		}
		ms, err := db.ListModels(ctx)
		if err != nil || len(ms) != 3 {
			t.Fatalf("list: %v %v", ms, err)
		}
		// By name, newest first; only the newest of each name is active; no files.
		if ms[0].Name != "lc" || ms[1].Version != 2 || !ms[1].Active || ms[2].Version != 1 || ms[2].Active || ms[2].File != nil ||
			string(ms[2].MetricsJSON) != `{"metrics":{"auc_material":0.7}}` || ms[2].CreatedBy != "cli:alice" || ms[2].Size != int64(len(file1)) {
			t.Fatalf("list: %+v", ms)
		}
		got, err := db.GetModel(ctx, "recovery", 0)
		if err != nil || got.Version != 2 || !bytes.Equal(got.File, file2) {
			t.Fatalf("active: %+v %v", got, err)
		}
		got, err = db.GetModel(ctx, "recovery", 1)
		if err != nil || !bytes.Equal(got.File, file1) || got.SHA256 != m1.SHA256 || got.FeatureSet != "cn-v1" || !got.CreatedAt.Equal(m1.CreatedAt) {
			t.Fatalf("version 1: %+v %v", got.ID, err)
		}
		if _, err := db.GetModel(ctx, "recovery", 9); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("missing version: %v", err)
		}
		// Activation moves the active flag.
		if err := db.ActivateModel(ctx, "recovery", 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.GetModel(ctx, "recovery", 0); got.Version != 1 {
			t.Errorf("after activation the active version is %d", got.Version)
		}
		if err := db.ActivateModel(ctx, "recovery", 5); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("activate a missing version: %v", err)
		}
		// A third save is version 3 and active again.
		if m3, err := db.SaveModel(ctx, sqldb.NewModel{Name: "recovery", FeatureSet: "cn-v1", MetricsJSON: []byte(`{}`), File: file2}); err != nil || m3.Version != 3 {
			t.Fatalf("third save: %+v %v", m3, err)
		}
		// Bad input is refused and stores nothing.
		for _, bad := range []sqldb.NewModel{
			{Name: "", FeatureSet: "cn-v1", MetricsJSON: []byte(`{}`), File: file2},
			{Name: "has space", FeatureSet: "cn-v1", MetricsJSON: []byte(`{}`), File: file2},
			{Name: "x", FeatureSet: "cn-v1", MetricsJSON: []byte(`[1]`), File: file2},
			{Name: "x", FeatureSet: "cn-v1", MetricsJSON: []byte(`{}`)},
			{Name: "x", MetricsJSON: []byte(`{}`), File: file2},
		} {
			if _, err := db.SaveModel(ctx, bad); reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Errorf("%+v: %v", bad.Name, err)
			}
		}
		if n := count(t, db, "models"); n != 4 {
			t.Errorf("%d model rows", n)
		}
		// A file corrupted in the database is detected on read.
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE models SET file = ? WHERE name = ? AND version = ?`, []byte("tampered"), "recovery", 1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetModel(ctx, "recovery", 1); reclaim.ErrorCode(err) != reclaim.EINTERNAL {
			t.Errorf("corrupted file: %v", err)
		}
	})
}

func TestValuationReads(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		loans := mixedLoans(30)
		reps := []reclaim.Repayment{
			{LoanID: "L000001", Month: date.Of(2023, 2, 1), Amount: cny(500), Source: reclaim.SourceDebtor, Channel: reclaim.ChannelInternal},
			{LoanID: "L000000", Month: date.Of(2022, 11, 1), Amount: cny(30000), Source: reclaim.SourceDebtor, Channel: reclaim.ChannelInternal},
			{LoanID: "L000000", Month: date.Of(2022, 12, 1), Amount: cny(50000), Source: reclaim.SourceGuarantor, Channel: reclaim.ChannelAgency},
		}
		p := importTape(t, db, "val-hash", loans, reps)
		l, err := db.LoanByRef(ctx, p.ID, "L000004")
		if err != nil || l.LoanID != "L000004" || l.CutOffDate != cutOff || l.PortfolioRef != p.Ref || l.TotalClaim != cny(1470134) {
			t.Fatalf("loan by ref: %+v %v", l, err)
		}
		if _, err := db.LoanByRef(ctx, p.ID, "nope"); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown loan: %v", err)
		}
		var got []reclaim.Repayment
		if err := db.StreamRepayments(ctx, p.ID, func(r *reclaim.Repayment) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].LoanID != "L000000" || got[0].Month != date.Of(2022, 11, 1) || got[2].LoanID != "L000001" || got[2].Amount != cny(500) {
			t.Fatalf("repayments %+v", got)
		}
		first, last, n, err := db.RepaymentMonths(ctx, p.ID)
		if err != nil || first != date.Of(2022, 11, 1) || last != date.Of(2023, 2, 1) || n != 3 {
			t.Fatalf("months %v %v %d %v", first, last, n, err)
		}
		if first, _, n, err := db.RepaymentMonths(ctx, p.ID+100); err != nil || n != 0 || !first.IsZero() {
			t.Errorf("no repayments: %v %d %v", first, n, err)
		}
		// Collections posted to a pool come back with the loans' tape keys.
		eff := date.Of(2026, 7, 1)
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "VP", Origin: "test.example/ledger/VP", PortfolioID: p.ID, Effective: eff}); err != nil {
			t.Fatal(err)
		}
		sequenceAll(t, db, "VP")
		all, _, err := db.PoolLoans(ctx, "VP", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var pl []sqldb.PoolLoan
		for _, l := range all {
			if l.Balance.Minor() > 1000 {
				pl = append(pl, l)
			}
		}
		for i, l := range pl[:2] {
			if _, err := db.PostCollection(ctx, sqldb.Collection{Pool: "VP", LoanRef: l.Ref, Amount: money.New(int64(100*(i+1)), "CNY"),
				Channel: verify.ChannelBankTransfer, TxnID: "T" + l.Ref, Effective: eff.AddDays(40 - 30*i), PostedBy: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		var cs []sqldb.PoolCollectionRow
		if err := db.StreamPoolCollections(ctx, "VP", func(c sqldb.PoolCollectionRow) error { cs = append(cs, c); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].LoanRef != pl[1].Ref || cs[0].LoanKey != pl[1].LoanKey || cs[0].Amount != money.New(200, "CNY") ||
			cs[0].Effective != eff.AddDays(10) || cs[1].Effective != eff.AddDays(40) {
			t.Fatalf("collections %+v", cs)
		}
	})
}
