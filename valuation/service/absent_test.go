package service_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"reclaim/date"
	"reclaim/ingest"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/valuation/service"
)

// TestAbsentFieldsAreMissingFeatures: a tape imported without its phone_available column
// (--allow-missing) is valued with the contactability features missing, not read as "no phone".
func TestAbsentFieldsAreMissingFeatures(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		full := filepath.Join(dir, "full.csv")
		f, _ := os.Create(full)
		cfg := synth.Config{Seed: 4, Loans: 30, PortfolioRef: "PKG-ABS", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed}
		if _, err := synth.WriteTape(ctx, cfg, f, nil, synth.TapeOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		f.Close()
		rows := readAll(t, full)
		col := slices.Index(rows[0], "phone_available")
		if col < 0 {
			t.Fatal("the synthetic tape has no phone_available column")
		}
		thin := filepath.Join(dir, "thin.csv")
		out, _ := os.Create(thin)
		w := csv.NewWriter(out)
		for _, r := range rows {
			w.Write(slices.Delete(slices.Clone(r), col, col+1))
		}
		w.Flush()
		out.Close()
		keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ingest.Run(ctx, db.IngestStore(), keys, thin, ingest.Options{AllowMissing: []string{"phone_available"}})
		if err != nil {
			t.Fatal(err)
		}
		s := service.New(db, service.Options{})
		p, err := s.LoadPortfolio(ctx, rep.PortfolioID)
		if err != nil {
			t.Fatal(err)
		}
		m := model(t)
		fs := m.FeatureSetOf()
		row := fs.Compute(p.Inputs[0])
		if !slices.Contains(row.Missing, "phone_available") {
			t.Errorf("phone_available computed from an absent column: missing %v", row.Missing)
		}
		// A feature that does not read the absent field is still computed.
		if slices.Contains(row.Missing, "dpd") {
			t.Errorf("dpd missing too: %v", row.Missing)
		}
	})
}

func readAll(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
