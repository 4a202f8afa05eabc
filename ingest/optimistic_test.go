package ingest_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"reclaim"
	"reclaim/ingest"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tape"
)

// renamedStore imports a tape a second time into the same database under another content hash,
// so that the optimistic and the exact import of the same bytes can be compared side by side.
type renamedStore struct {
	ingest.Store
	suffix string
}

func (s renamedStore) FindByHash(context.Context, string) (int64, bool, error) { return 0, false, nil }
func (s renamedStore) Begin(ctx context.Context, m ingest.Meta) (ingest.Tx, error) {
	m.ContentHash += s.suffix
	return s.Store.Begin(ctx, m)
}

// sameImport checks that two reports of the same tape say the same, and that the portfolios they
// stored hold the same loans.
func sameImport(t *testing.T, db *sqldb.DB, opt, exact *ingest.Report) {
	t.Helper()
	a, b := *opt, *exact
	a.Seconds, b.Seconds, a.PortfolioID, b.PortfolioID = 0, 0, 0, 0
	if !reflect.DeepEqual(a, b) {
		t.Errorf("reports differ\noptimistic %+v\n     exact %+v", a, b)
	}
	if opt.PortfolioID == 0 || exact.PortfolioID == 0 {
		if opt.PortfolioID != exact.PortfolioID {
			t.Errorf("one import stored a portfolio, the other not: %d, %d", opt.PortfolioID, exact.PortfolioID)
		}
		return
	}
	loans := func(id int64) []reclaim.Loan {
		var out []reclaim.Loan
		if err := db.StreamLoans(context.Background(), id, func(l *reclaim.Loan) error {
			out = append(out, *l)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	la, lb := loans(opt.PortfolioID), loans(exact.PortfolioID)
	if len(la) != len(lb) || int64(len(la)) != opt.Imported {
		t.Fatalf("stored %d and %d loans, reported %d", len(la), len(lb), opt.Imported)
	}
	for i := range la {
		if !reflect.DeepEqual(la[i], lb[i]) {
			t.Fatalf("loan %d differs\noptimistic %+v\n     exact %+v", i, la[i], lb[i])
		}
	}
}

// The optimistic first attempt (no pass over the loan ids) gives exactly what the exact import
// gives: on a clean tape (where it stands), on a tape whose only fault is a loan id used twice by
// two valid rows (the store's unique index stops it and the import starts again), and on a tape
// with an invalid row (it stops at that row). All-or-nothing and skip-invalid, both engines.
func TestOptimisticImportIsExact(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		clean, _, _ := writeTape(t, dir, 1500, nil, synth.TapeOptions{})
		rows := readCSV(t, clean)
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		write := func(name string, edit func(data [][]string)) string {
			data := make([][]string, len(rows))
			for i := range rows {
				data[i] = append([]string(nil), rows[i]...)
			}
			edit(data[1:])
			p := filepath.Join(dir, name)
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			w := csv.NewWriter(f)
			w.WriteAll(data)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			return p
		}
		// The repeat is far from its first use, so that the first use is stored before it is read.
		repeated := write("repeated.csv", func(d [][]string) { d[1400][col["loan_id"]] = d[3][col["loan_id"]] })
		invalid := write("invalid.csv", func(d [][]string) { d[700][col["default_date"]] = "not a date" })
		for _, tc := range []struct {
			name, path string
			skip       bool
			wantDup    bool
			wantErr    bool
		}{
			{"clean", clean, false, false, false},
			{"repeated id, all or nothing", repeated, false, true, true},
			{"repeated id, skip invalid", repeated, true, true, false},
			{"invalid row, skip invalid", invalid, true, false, false},
			{"invalid row, all or nothing", invalid, false, false, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				opts := ingest.Options{SellerName: "Test Bank", SkipInvalid: tc.skip, BatchSize: 200}
				before, _ := db.ListPortfolios(ctx)
				opt, err1 := ingest.Run(ctx, renamedStore{db.IngestStore(), "-opt-" + tc.name}, keyring(t), tc.path, opts)
				exact, err2 := ingest.Run(ctx, renamedStore{db.IngestStore(), "-exact-" + tc.name}, keyring(t), tc.path, ingest.ExactOnly(opts))
				if (err1 != nil) != tc.wantErr || (err2 != nil) != tc.wantErr || reclaim.ErrorCode(err1) != reclaim.ErrorCode(err2) {
					t.Fatalf("errors: optimistic %v, exact %v", err1, err2)
				}
				if dup := len(dupErrors(opt)) > 0; dup != tc.wantDup {
					t.Errorf("loan_id_unique reported: %v, want %v (%+v)", dup, tc.wantDup, opt.Errors)
				}
				if tc.wantDup && opt.Errors[0].Rule != tape.RuleLoanIDUnique {
					t.Errorf("first error %+v", opt.Errors[0])
				}
				sameImport(t, db, opt, exact)
				if ps, _ := db.ListPortfolios(ctx); tc.wantErr && len(ps) != len(before) {
					t.Errorf("a rejected tape left %d portfolios", len(ps)-len(before))
				}
			})
		}
	})
}
