package ingest_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"reclaim"
	"reclaim/cnid"
	"reclaim/csvsafe"
	"reclaim/ingest"
	"reclaim/pii"
	"reclaim/synth"
	"reclaim/tape"
	"reclaim/workout"
)

// recordingStore keeps the rows each import transaction was given; the last committed
// transaction's rows are what the import stored.
type recordingStore struct {
	committed [][]ingest.LoanRow
	// batches and arrays: the last committed transaction's AddLoans calls and the distinct
	// backing arrays of their rows.
	batches, arrays int
	sizes           []int
}

func (s *recordingStore) FindByHash(context.Context, string) (int64, bool, error) {
	return 0, false, nil
}
func (s *recordingStore) Begin(context.Context, ingest.Meta) (ingest.Tx, error) {
	return &recordingTx{s: s}, nil
}

type recordingTx struct {
	s    *recordingStore
	rows []ingest.LoanRow
	ids  map[string]bool
	// arrays counts the batches by backing array: the import reuses a stored batch's.
	arrays map[*ingest.LoanRow]int
	sizes  []int // the batches' lengths
}

func (x *recordingTx) AddLoans(_ context.Context, rows []ingest.LoanRow) error {
	if x.ids == nil {
		x.ids = map[string]bool{}
		x.arrays = map[*ingest.LoanRow]int{}
	}
	if len(rows) > 0 {
		x.arrays[&rows[:1][0]]++
	}
	x.sizes = append(x.sizes, len(rows))
	for _, r := range rows {
		if x.ids[r.Loan.LoanID] {
			return reclaim.Errorf(reclaim.ECONFLICT, "loan id stored twice")
		}
		x.ids[r.Loan.LoanID] = true
	}
	x.rows = append(x.rows, rows...)
	return nil
}
func (x *recordingTx) AddRepayments(context.Context, []reclaim.Repayment) error { return nil }
func (x *recordingTx) HasLoans(_ context.Context, ids []string) ([]bool, error) {
	out := make([]bool, len(ids))
	for i, id := range ids {
		out[i] = x.ids[id]
	}
	return out, nil
}
func (x *recordingTx) Commit(context.Context, ingest.Summary) (reclaim.Portfolio, error) {
	x.s.committed = append(x.s.committed, x.rows)
	x.s.batches, x.s.arrays, x.s.sizes = 0, len(x.arrays), x.sizes
	for _, n := range x.arrays {
		x.s.batches += n
	}
	return reclaim.Portfolio{ID: int64(len(x.s.committed))}, nil
}
func (x *recordingTx) Rollback() error { return nil }

// maskReference is ingest.MaskPersonal as first written.
func maskReference(p reclaim.PersonalData) reclaim.Masked {
	var m reclaim.Masked
	if r := []rune(p.Name); len(r) > 0 {
		m.Name = string(r[0]) + strings.Repeat("*", min(len(r)-1, 3))
		if len(r) == 1 {
			m.Name = "*"
		}
	}
	if p.NationalID != "" {
		m.NationalID = cnid.Mask(p.NationalID)
	}
	if p.Phone != "" {
		m.Phone = cnid.MaskPhone(p.Phone)
	}
	return m
}

func TestMaskPersonalMatchesReference(t *testing.T) {
	for _, name := range []string{"", "张", "张三", "欧阳小明", "诸葛孔明亮", "A", "Li Lei", "\xff", "\xff张", "张\xff\xfe"} {
		p := reclaim.PersonalData{Name: name, NationalID: "11010519491231002X", Phone: "13800138000"}
		if got, want := ingest.MaskPersonal(p), maskReference(p); got != want {
			t.Errorf("MaskPersonal(%q) = %+v, want %+v", name, got, want)
		}
	}
}

// serialImport is what an import of path must come to, computed row by row in tape order with
// none of the pipeline: each row read, converted and checked (tape.Converter.Convert), the
// errors in order, the valid rows with their masked personal data and blind index.
type serialImport struct {
	rows, valid, invalid int64
	errors               []tape.RowError
	byRule               map[string]int64
	rejects              [][]string   // _line, _rules, _errors of each invalid row
	unread               map[int]bool // lines of the rows the reader rejected (no cells)
	stored               []ingest.LoanRow
	personal             []reclaim.PersonalData
	header               tape.PoolHeader
}

func serialReference(t *testing.T, path string, blind func(reclaim.PersonalData) []workout.BlindTerm) serialImport {
	t.Helper()
	src, err := tape.Open(path, tape.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	layout, err := tape.NewLayout(src.Header(), nil)
	if err != nil {
		t.Fatal(err)
	}
	conv := tape.NewConverter(layout, src.Info())
	hb := tape.NewHeaderBuilder()
	defer hb.Close()
	ref := serialImport{byRule: map[string]int64{}, unread: map[int]bool{}}
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		ref.rows++
		var errs []tape.RowError
		var res tape.Result
		var re *tape.RowError
		if errors.As(err, &re) {
			errs, row = []tape.RowError{*re}, tape.Row{Line: re.Line}
			ref.unread[re.Line] = true
		} else if err != nil {
			t.Fatal(err)
		} else {
			conv.Convert(row, &res)
			errs = res.Errors
		}
		if len(errs) > 0 {
			ref.invalid++
			var rules, msgs []string
			seen := map[string]bool{}
			for _, e := range errs {
				if !seen[e.Rule] {
					ref.byRule[e.Rule]++
					rules = append(rules, e.Rule)
					seen[e.Rule] = true
				}
				ref.errors = append(ref.errors, e)
				e.Line = 0
				msgs = append(msgs, e.Error())
			}
			ref.rejects = append(ref.rejects, []string{strconv.Itoa(row.Line), strings.Join(rules, ";"), strings.Join(msgs, " | ")})
			continue
		}
		ref.valid++
		hb.Add(&res.Loan)
		lr := ingest.LoanRow{Loan: res.Loan, Masked: maskReference(res.Personal)}
		if !res.Personal.IsEmpty() {
			lr.Blind = blind(res.Personal)
		}
		ref.stored = append(ref.stored, lr)
		ref.personal = append(ref.personal, res.Personal)
	}
	if ref.header, err = hb.Header(); err != nil {
		t.Fatal(err)
	}
	return ref
}

// The import's pipeline (reader, converters, import loop, writer) stores the rows, writes the
// report and the rejects file that reading, converting and checking the rows one by one gives:
// a clean tape, and one with invalid rows of several rules, a repeated loan id and a malformed
// row, each spanning many chunks so that the chunks are reused. The personal data is sealed
// with the row's additional data, and opens to the JSON encoding of the row's personal data.
func TestPipelineMatchesSerialImport(t *testing.T) {
	dir := t.TempDir()
	clean, _, _ := writeTape(t, dir, 6000, nil, synth.TapeOptions{})
	cleanPath := filepath.Join(dir, "clean.csv")
	if err := os.Rename(clean, cleanPath); err != nil {
		t.Fatal(err)
	}
	dirty, _, _ := writeTape(t, dir, 6000, map[string]float64{synth.RuleClaimSum: 0.02, synth.RuleMobile: 0.01,
		synth.RuleRequired: 0.01, synth.RuleLoanIDUnique: 0.005}, synth.TapeOptions{})
	rows := readCSV(t, dirty)
	rows[3100] = rows[3100][:7] // a row with too few cells: the reader reports it
	dirtyPath := filepath.Join(dir, "dirty.csv")
	f, err := os.Create(dirtyPath)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	ring := keyring(t)
	bk, err := pii.NewBlindKey(make([]byte, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	blind := func(p reclaim.PersonalData) []workout.BlindTerm {
		var out []workout.BlindTerm
		for _, term := range bk.Terms(p) {
			out = append(out, workout.BlindTerm{Kind: term.Kind, Hash: term.Hash})
		}
		return out
	}
	sealer := ingest.WithBlindIndex(ring, blind)

	for _, tc := range []struct {
		name, path string
		invalid    bool
	}{{"clean", cleanPath, false}, {"with errors", dirtyPath, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ref := serialReference(t, tc.path, blind)
			if tc.invalid != (ref.invalid > 0) || ref.valid < 5000 {
				t.Fatalf("the test tape has %d valid and %d invalid rows", ref.valid, ref.invalid)
			}
			rejectsPath := filepath.Join(t.TempDir(), "rejects.csv")
			store := &recordingStore{}
			rep, err := ingest.Run(context.Background(), store, sealer, tc.path, ingest.Options{
				SellerName: "Test Bank", SkipInvalid: true, RejectsPath: rejectsPath, MaxErrors: 1 << 20, BatchSize: 700})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Rows != ref.rows || rep.Valid != ref.valid || rep.Invalid != ref.invalid || rep.Imported != ref.valid ||
				rep.ErrorsTotal != int64(len(ref.errors)) || rep.ErrorsShown != len(ref.errors) {
				t.Fatalf("report counts %d rows %d valid %d invalid %d imported %d errors, want %d %d %d %d %d", rep.Rows, rep.Valid,
					rep.Invalid, rep.Imported, rep.ErrorsTotal, ref.rows, ref.valid, ref.invalid, ref.valid, len(ref.errors))
			}
			if tc.invalid && len(ref.unread) != 1 {
				t.Fatalf("the reader rejected %d rows, want 1", len(ref.unread))
			}
			if len(ref.errors) == 0 {
				ref.errors = nil
			}
			if !reflect.DeepEqual(rep.Errors, ref.errors) {
				t.Fatalf("report errors differ from the serial import's (%d, %d)", len(rep.Errors), len(ref.errors))
			}
			byRule := map[string]int64{}
			for _, rc := range rep.ByRule {
				byRule[rc.Rule] = rc.Rows
			}
			if !reflect.DeepEqual(byRule, ref.byRule) {
				t.Fatalf("rows by rule %v, want %v", byRule, ref.byRule)
			}
			if rep.Header == nil || !reflect.DeepEqual(*rep.Header, ref.header) {
				t.Fatalf("pool header %+v, want %+v", rep.Header, ref.header)
			}

			// Stored rows.
			if len(store.committed) != 1 {
				t.Fatalf("%d transactions committed", len(store.committed))
			}
			// The batches the writer stored were reused (and the rows below are still right).
			if store.batches < 8 || store.arrays > 6 {
				t.Fatalf("%d batches in %d arrays: stored batches are not reused", store.batches, store.arrays)
			}
			// The first batches ramp up (BatchSize 700: 87, 174, 348, 696, then 700), so that the
			// store starts early.
			if want := []int{87, 174, 348, 696, 700}; len(store.sizes) < len(want) || !reflect.DeepEqual(store.sizes[:len(want)], want) {
				t.Fatalf("batch sizes %v, want %v first", store.sizes, want)
			}
			stored := store.committed[0]
			if len(stored) != len(ref.stored) {
				t.Fatalf("stored %d rows, want %d", len(stored), len(ref.stored))
			}
			for i, got := range stored {
				want := ref.stored[i]
				plain, err := ring.Open(got.Sealed, ingest.PersonalAAD(rep.ContentHash, got.Loan.BorrowerID))
				if err != nil {
					t.Fatalf("row %d (loan %s): the sealed data does not open with the row's additional data: %v", i, got.Loan.LoanID, err)
				}
				if wantPlain, _ := json.Marshal(ref.personal[i]); string(plain) != string(wantPlain) {
					t.Fatalf("row %d: sealed plaintext differs from the JSON of its personal data", i)
				}
				if got.KeyID != ring.KeyID() {
					t.Fatalf("row %d: key id %q, want %q", i, got.KeyID, ring.KeyID())
				}
				got.Sealed, got.KeyID = nil, ""
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("row %d (loan %s) differs from the serial import's\n got %+v\nwant %+v", i, want.Loan.LoanID, got, want)
				}
			}

			// Rejects file: one row per invalid row, in tape order, with its line, rules and
			// messages; checkRejects checks its cells (personal ones masked).
			rej := readCSV(t, rejectsPath)
			if len(rej)-1 != len(ref.rejects) {
				t.Fatalf("rejects file has %d rows, want %d", len(rej)-1, len(ref.rejects))
			}
			for i, r := range rej[1:] {
				if got := r[len(r)-3:]; !reflect.DeepEqual(got, ref.rejects[i]) {
					t.Fatalf("rejects row %d ends %q, want %q", i+1, got, ref.rejects[i])
				}
			}
			// Its cells: the tape's own, personal cells masked, formulas neutralised; none for a
			// row the reader rejected.
			tf, err := os.Open(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer tf.Close()
			cr := csv.NewReader(tf)
			cr.FieldsPerRecord = -1
			orig, err := cr.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			layout, err := tape.NewLayout(orig[0], nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rej[1:] {
				line, _ := strconv.Atoi(r[len(orig[0])])
				src := orig[line-1] // no embedded newlines in synthetic tapes
				for c := range orig[0] {
					want := ""
					if !ref.unread[line] {
						want = csvsafe.Cell(src[c])
						for f, b := range layout.Bindings {
							if b != nil && b.Column == c && tape.Fields[f].Personal {
								want = tape.MaskCell(tape.Field(f), src[c])
							}
						}
					}
					if r[c] != want {
						t.Fatalf("rejects file, line %d column %s: %q, want %q", line, orig[0][c], r[c], want)
					}
				}
			}
		})
	}
}
