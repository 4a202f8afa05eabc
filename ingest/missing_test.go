package ingest_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"reclaim"
	"reclaim/ingest"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tape"
)

// chineseTapeWithout writes a GBK tape with Chinese headers, some invalid rows, and without the
// columns of the given fields, as a seller sends it.
func chineseTapeWithout(t *testing.T, dir string, drop ...tape.Field) string {
	t.Helper()
	src, _, _ := writeTape(t, dir, 200, map[string]float64{"claim_sum": 0.05}, synth.TapeOptions{Chinese: true})
	rows := readCSV(t, src)
	var keep []int
	for i, h := range rows[0] {
		f, _, _, ok := tape.MatchHeader(h)
		if !ok || !slices.Contains(drop, f) {
			keep = append(keep, i)
		}
	}
	if len(keep) != len(rows[0])-len(drop) {
		t.Fatalf("the tape has no column for one of %v", drop)
	}
	path := filepath.Join(dir, "seller-gbk.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(simplifiedchinese.GBK.NewEncoder().Writer(f))
	for _, r := range rows {
		out := make([]string, len(keep))
		for j, i := range keep {
			out[j] = r[i]
		}
		w.Write(out)
	}
	w.Flush()
	if err := f.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
	return path
}

// TestMissingColumnsReportedWithRowErrors: a GBK tape lacking 是否失联 and 委外次数 is validated
// whole (both missing columns and every row's own errors at once), refused on import unless the
// fields are allowed to be missing, and then imported with the allowance on record.
func TestMissingColumnsReportedWithRowErrors(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tp := chineseTapeWithout(t, t.TempDir(), tape.FPhoneAvailable, tape.FAgencyPlacements)
		rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{DryRun: true})
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !strings.HasPrefix(rep.Encoding, "gb") {
			t.Fatalf("validate: %v (encoding %s)", err, rep.Encoding)
		}
		if !slices.Equal(rep.Missing, []string{"phone_available", "agency_placements"}) {
			t.Errorf("missing %v", rep.Missing)
		}
		if rep.Rows != 200 || rep.Invalid == 0 || rep.Valid+rep.Invalid != 200 {
			t.Errorf("rows not all checked: %+v", rep)
		}
		for _, e := range rep.Errors {
			if e.Rule == tape.RuleRequired && (e.Field == "phone_available" || e.Field == "agency_placements") {
				t.Fatalf("a missing column is reported on every row: %+v", e)
			}
		}
		if !slices.ContainsFunc(rep.ByRule, func(r ingest.RuleCount) bool { return r.Rule == tape.RuleClaimSum }) {
			t.Errorf("row errors missing from the report: %+v", rep.ByRule)
		}
		if !strings.Contains(rep.Message, "phone_available") || !strings.Contains(rep.Message, "allow-missing") {
			t.Errorf("message %q", rep.Message)
		}

		// Import refuses, having still read and checked every row.
		rep, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{SkipInvalid: true})
		if reclaim.ErrorCode(err) != reclaim.EINVALID || rep.Imported != 0 || rep.Rejected != 200 || rep.Invalid == 0 {
			t.Fatalf("import without allowance: %v %+v", err, rep)
		}
		if ps, _ := db.ListPortfolios(ctx); len(ps) != 0 {
			t.Fatalf("a refused tape left %d portfolios", len(ps))
		}
		// Allowing one of the two is not enough.
		_, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{SkipInvalid: true, AllowMissing: []string{"phone_available"}})
		if reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("one allowance of two: %v", err)
		}
		// A name that is not a critical field is a usage error.
		_, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{AllowMissing: []string{"court"}})
		if reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("allow-missing court: %v", err)
		}
		rep, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{SkipInvalid: true,
			AllowMissing: []string{"phone_available", "agency_placements"}})
		if err != nil || rep.Imported != rep.Valid || rep.Imported == 0 {
			t.Fatalf("import with allowance: %v %+v", err, rep)
		}
		if !slices.Equal(rep.MissingAllowed, []string{"phone_available", "agency_placements"}) || len(rep.Missing) != 0 {
			t.Errorf("allowance not on record: %+v", rep)
		}
	})
}

// TestProgressRunsOnce: over the pass over the loan ids and the import, the progress a bar shows
// never goes back and ends at the file's size.
func TestProgressRunsOnce(t *testing.T) {
	db := sqldbtest.OpenSQLite(t)
	tp, _, _ := writeTape(t, t.TempDir(), 140000, nil, synth.TapeOptions{})
	var seen []int64
	var size int64
	_, err := ingest.Run(context.Background(), db.IngestStore(), keyring(t), tp, ingest.Options{DryRun: true,
		Progress: func(rows, read, sz int64) { seen, size = append(seen, read), sz }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 4 || seen[len(seen)-1] != size {
		t.Fatalf("progress %v of %d", seen, size)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("progress went back: %v", seen)
		}
	}
}
