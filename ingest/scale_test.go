package ingest_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tape"
)

// dupTape writes a 300-loan tape with repeated loan ids: one id three times, one twice, and the id
// of an invalid row (a bad default date) once more. It returns the tape, the loan_id_unique errors
// a reader that remembers every id finds (line and first line, in tape order), the number of
// invalid rows and, for each repeated id, the borrower of its first row.
func dupTape(t *testing.T, dir string) (path string, want []tape.RowError, invalid int, firstBorrower map[string]string) {
	t.Helper()
	tp, _, _ := writeTape(t, dir, 300, nil, synth.TapeOptions{})
	rows := readCSV(t, tp)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	id, dd := col["loan_id"], col["default_date"]
	data := rows[1:]
	data[50][id] = data[10][id]
	data[120][id] = data[10][id]
	data[200][id] = data[150][id]
	data[30][dd] = "not a date"
	data[250][id] = data[30][id] // repeats the id of an invalid row: still a repeat
	first := map[string]int{}
	firstBorrower = map[string]string{}
	for i, r := range data {
		line := i + 2
		if f, ok := first[r[id]]; ok {
			want = append(want, tape.RowError{Line: line, Field: "loan_id", Value: r[id], Rule: tape.RuleLoanIDUnique,
				Message: "loan_id already used on line " + strconv.Itoa(f)})
			firstBorrower[r[id]] = data[f-2][col["borrower_id"]]
			continue
		}
		first[r[id]] = line
	}
	path = filepath.Join(dir, "dups.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, want, len(want) + 1, firstBorrower
}

func dupErrors(rep *ingest.Report) []tape.RowError {
	var out []tape.RowError
	for _, e := range rep.Errors {
		if e.Rule == tape.RuleLoanIDUnique {
			e.Column, e.Code, e.Args = "", "", nil // the located message is what this test compares
			out = append(out, e)
		}
	}
	return out
}

// Every repeated loan_id is reported on its line with the line of its first use, in tape order,
// exactly as when every id was kept in memory; with skip-invalid the repeats are rejected (in the
// rejects file), not stored, and the stored loan is the first row's. On both engines, and by
// tape validate.
func TestDuplicateLoanIDsReportedWithFirstLine(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		tp, want, invalid, firstBorrower := dupTape(t, dir)
		if len(want) != 4 {
			t.Fatalf("fixture: %d repeats", len(want))
		}
		check := func(what string, rep *ingest.Report) {
			t.Helper()
			if got := dupErrors(rep); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: loan_id_unique errors\n got %+v\nwant %+v", what, got, want)
			}
			n := int64(-1)
			for _, rc := range rep.ByRule {
				if rc.Rule == tape.RuleLoanIDUnique {
					n = rc.Rows
				}
			}
			if n != int64(len(want)) || rep.Invalid != int64(invalid) || rep.Valid+rep.Invalid != rep.Rows {
				t.Errorf("%s: %d rows break loan_id_unique, %d invalid of %d", what, n, rep.Invalid, rep.Rows)
			}
		}

		rep, err := ingest.Run(ctx, nil, nil, tp, ingest.Options{DryRun: true})
		if reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("validate: %v", err)
		}
		check("validate", rep)

		rejects := filepath.Join(dir, "rejects.csv")
		rep, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{RejectsPath: rejects})
		if reclaim.ErrorCode(err) != reclaim.EINVALID || rep.Imported != 0 {
			t.Fatalf("all-or-nothing: %v, imported %d", err, rep.Imported)
		}
		check("all-or-nothing", rep)
		checkRejects(t, tp, rejects, invalid)
		if ps, _ := db.ListPortfolios(ctx); len(ps) != 0 {
			t.Fatalf("a rejected tape left %d portfolios", len(ps))
		}

		rep, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{SkipInvalid: true, RejectsPath: rejects})
		if err != nil {
			t.Fatalf("skip-invalid: %v (%s)", err, rep.Message)
		}
		check("skip-invalid", rep)
		checkRejects(t, tp, rejects, invalid)
		if rep.Imported != int64(300-invalid) {
			t.Errorf("skip-invalid imported %d, want %d", rep.Imported, 300-invalid)
		}
		stored := map[string]string{}
		if err := db.StreamLoans(ctx, rep.PortfolioID, func(l *reclaim.Loan) error {
			if _, dup := stored[l.LoanID]; dup {
				t.Errorf("loan %s stored twice", l.LoanID)
			}
			stored[l.LoanID] = l.BorrowerID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(stored) != 300-invalid {
			t.Errorf("%d loans stored, want %d", len(stored), 300-invalid)
		}
		for id, b := range firstBorrower {
			if got, ok := stored[id]; ok && got != b {
				t.Errorf("loan %s stored from a repeat (borrower %s), not its first row (%s)", id, got, b)
			}
		}
	})
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// An import's memory does not grow with the tape: from 50,000 to 200,000 loans (about 160,000
// borrowers) the live heap grows by less than 12 MiB (measured: 1-6 MiB). The heap is sampled at
// every progress report (about every 10,000 rows); each side of the comparison is the least of
// its window's samples (40,000-60,000 rows, and 150,000 rows up to the last report, which comes
// after the writer has drained), so that a batch in flight when one sample is taken (the writer
// queue holds a few) does not count as growth, while memory kept per loan raises every late
// sample (a mutation keeping 180 bytes a loan fails it). Before the loan_id rule, the pool header
// and the store stopped keeping every loan id and borrower in maps, it grew by 25-28 MiB over the
// same rows (about 180 bytes a loan).
func TestImportMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 200,000 loans")
	}
	dir := t.TempDir()
	const n = 200_000
	tp, _, _ := writeTape(t, dir, n, nil, synth.TapeOptions{})
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		var early, late []uint64
		opts := ingest.Options{SellerName: "Test Bank", BatchSize: 1000, Progress: func(rows, _, _ int64) {
			switch {
			case rows >= 40_000 && rows <= 60_000:
				early = append(early, liveHeap())
			case rows >= 150_000 && rows < n:
				late = append(late, liveHeap())
			}
		}}
		rep, err := ingest.Run(context.Background(), db.IngestStore(), keyring(t), tp, opts)
		if err != nil {
			t.Fatalf("%v (%s)", err, rep.Message)
		}
		if rep.Imported != n {
			t.Fatalf("imported %d", rep.Imported)
		}
		if len(early) < 2 || len(late) < 2 {
			t.Fatalf("progress was reported %d times from 40k to 60k loans and %d times from 150k to the end", len(early), len(late))
		}
		at50k, at200k := slices.Min(early), slices.Min(late)
		t.Logf("live heap: least %.1f MiB near 50k loans (%d samples), least %.1f MiB from 150k to 200k (%d samples; most %.1f MiB); %d borrowers",
			float64(at50k)/(1<<20), len(early), float64(at200k)/(1<<20), len(late), float64(slices.Max(late))/(1<<20), rep.Header.Borrowers)
		if at200k > at50k+12<<20 {
			t.Errorf("live heap grew from %.1f MiB near 50k loans to %.1f MiB near 200k", float64(at50k)/(1<<20), float64(at200k)/(1<<20))
		}
	})
}

// The repayment history is checked against the loans the import stored, in batches, and stored as
// it is read: rows for a loan the tape lacks or for an invalid row's loan are rejected with their
// line; with skip-invalid the rest is stored, and without it nothing is. Both engines; the history
// spans several look-up batches.
func TestHistoryCheckedAgainstStoredLoans(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		tp, hp, st := writeTape(t, dir, 1500, nil, synth.TapeOptions{})
		if st.HistoryRows < 2*4096 {
			t.Fatalf("fixture: %d history rows, want several batches", st.HistoryRows)
		}
		rows := readCSV(t, tp)
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		badID := rows[700][col["loan_id"]] // data row 699: made invalid below
		rows[700][col["default_date"]] = "not a date"
		f, err := os.Create(tp)
		if err != nil {
			t.Fatal(err)
		}
		csv.NewWriter(f).WriteAll(rows)
		f.Close()
		hist := readCSV(t, hp)
		hist = append(hist, []string{"NO-SUCH-LOAN", "2024-01", "10.00", "", ""})
		var wantLines []int
		for i, r := range hist[1:] {
			if r[0] == badID || r[0] == "NO-SUCH-LOAN" {
				wantLines = append(wantLines, i+2)
			}
		}
		f, err = os.Create(hp)
		if err != nil {
			t.Fatal(err)
		}
		csv.NewWriter(f).WriteAll(hist)
		f.Close()

		rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{HistoryPath: hp, SkipInvalid: true})
		if err != nil {
			t.Fatalf("%v (%s)", err, rep.Message)
		}
		h := rep.History
		var gotLines []int
		for _, e := range h.Errors {
			if e.Rule != "history_loan" {
				t.Errorf("unexpected history error %+v", e)
			}
			gotLines = append(gotLines, e.Line)
		}
		if !slices.Equal(gotLines, wantLines) || h.Rejected != int64(len(wantLines)) || h.Imported+h.Rejected != h.Rows {
			t.Errorf("history: rows %d imported %d rejected %d, error lines %v, want %v", h.Rows, h.Imported, h.Rejected, gotLines, wantLines)
		}
		stored := 0
		if err := db.StreamLoans(ctx, rep.PortfolioID, func(l *reclaim.Loan) error {
			r, err := db.Repayments(ctx, rep.PortfolioID, l.LoanID)
			stored += len(r)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if int64(stored) != h.Imported {
			t.Errorf("%d repayments stored, report says %d", stored, h.Imported)
		}

		// Without skip-invalid the invalid tape row alone rejects the import; with a valid tape,
		// the invalid history rows do.
		tp2, hp2, _ := writeTape(t, t.TempDir(), 300, nil, synth.TapeOptions{})
		hist2 := readCSV(t, hp2)
		hist2 = append(hist2, []string{"NO-SUCH-LOAN", "2024-01", "10.00", "", ""})
		f, _ = os.Create(hp2)
		csv.NewWriter(f).WriteAll(hist2)
		f.Close()
		rep, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp2, ingest.Options{HistoryPath: hp2})
		if reclaim.ErrorCode(err) != reclaim.EINVALID || rep.Imported != 0 || rep.History == nil || rep.History.Rejected != 1 || rep.History.Imported != 0 {
			t.Fatalf("all-or-nothing with a bad history row: %v, %+v", err, rep.History)
		}
		if ps, _ := db.ListPortfolios(ctx); len(ps) != 1 {
			t.Errorf("%d portfolios after a rejected history, want the first only", len(ps))
		}
	})
}

// TestHistoryMonthForms: a repayment history's month may be written as sellers write it (2024年1月,
// 2024/1, 202401, a whole date, a spreadsheet serial): every row is stored in its month. Both
// engines.
func TestHistoryMonthForms(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tp, hp, _ := writeTape(t, t.TempDir(), 200, nil, synth.TapeOptions{})
		hist := readCSV(t, hp)
		want := map[string]int{} // loan id and month -> rows
		for i, r := range hist[1:] {
			m, err := date.ParseStrict(r[1]) // synth writes the month's first day
			if err != nil {
				t.Fatalf("fixture month %q: %v", r[1], err)
			}
			want[r[0]+" "+m.String()]++
			switch i % 6 {
			case 1:
				r[1] = fmt.Sprintf("%d年%d月", m.Year(), m.Month())
			case 2:
				r[1] = fmt.Sprintf("%d/%d", m.Year(), m.Month())
			case 3:
				r[1] = fmt.Sprintf("%d%02d", m.Year(), m.Month())
			case 4:
				r[1] = m.AddDays(14).String()
			case 5:
				r[1] = strconv.Itoa(m.Sub(date.Of(1899, 12, 30))) // Excel's 1900 system
			}
		}
		f, err := os.Create(hp)
		if err != nil {
			t.Fatal(err)
		}
		csv.NewWriter(f).WriteAll(hist)
		f.Close()
		rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{HistoryPath: hp})
		if err != nil {
			t.Fatalf("%v (%s)", err, rep.Message)
		}
		if h := rep.History; h.Rejected != 0 || h.Imported != int64(len(hist)-1) {
			t.Fatalf("history: %d imported, %d rejected of %d (first errors %+v)", h.Imported, h.Rejected, len(hist)-1, h.Errors[:min(3, len(h.Errors))])
		}
		got := map[string]int{}
		if err := db.StreamLoans(ctx, rep.PortfolioID, func(l *reclaim.Loan) error {
			rs, err := db.Repayments(ctx, rep.PortfolioID, l.LoanID)
			for _, r := range rs {
				got[r.LoanID+" "+r.Month.String()]++
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("stored %d (loan, month) pairs, want %d; they differ", len(got), len(want))
		}
	})
}
