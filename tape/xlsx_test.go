package tape

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"reclaim/date"
)

// workbook builds an XLSX in memory: build edits the file (sheet "Sheet1" exists).
func workbook(t testing.TB, build func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func setRow(t testing.TB, f *excelize.File, sheet, cell string, vals ...any) {
	t.Helper()
	if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
		t.Fatal(err)
	}
}

func openXLSX(t *testing.T, data []byte, opts OpenOptions) Source {
	t.Helper()
	src, err := OpenReader(bytes.NewReader(data), "test.xlsx", opts)
	if err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestXLSXDateSystems(t *testing.T) {
	day := date.Of(2023, 1, 15)
	for _, d1904 := range []bool{false, true} {
		t.Run(map[bool]string{false: "1900", true: "1904"}[d1904], func(t *testing.T) {
			data := workbook(t, func(f *excelize.File) {
				if d1904 {
					v := true
					if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &v}); err != nil {
						t.Fatal(err)
					}
				}
				setRow(t, f, "Sheet1", "A1", "借据号", "本金余额(万元)", "逾期起始日")
				// A real date cell: excelize stores the serial of the workbook's date system.
				setRow(t, f, "Sheet1", "A2", "L001", 1.5, day.Time())
				setRow(t, f, "Sheet1", "A3", "L002", 12345.678, "2022-06-30")
			})
			src := openXLSX(t, data, OpenOptions{})
			info := src.Info()
			if info.Format != "xlsx" || info.Sheet != "Sheet1" || info.Date1904 != d1904 {
				t.Fatalf("Info = %+v", info)
			}
			rows, rerrs, fatal := readAll(t, src)
			if fatal != nil || len(rerrs) > 0 || len(rows) != 2 {
				t.Fatal(fatal, rerrs, rows)
			}
			serial := rows[0].Cells[2]
			if strings.ContainsAny(serial, "-/") {
				t.Fatalf("date cell came formatted: %q", serial)
			}
			var n float64
			if _, err := fmtSscan(serial, &n); err != nil {
				t.Fatal(err)
			}
			got, err := date.FromExcelSerial(n, info.Date1904)
			if err != nil || got != day {
				t.Errorf("serial %s (1904=%v) is %v, want %v (%v)", serial, info.Date1904, got, day, err)
			}
			if rows[1].Cells[1] != "12345.678" || rows[1].Cells[2] != "2022-06-30" || rows[1].Line != 3 {
				t.Errorf("row 2 = %+v", rows[1])
			}
		})
	}
}

func TestXLSXFormulaCells(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", "A1", "loan_id", "principal_outstanding", "interest_outstanding", "total_claim")
		setRow(t, f, "Sheet1", "A2", "L001", 100, 5)
		setRow(t, f, "Sheet1", "A3", "L002", 200, 7)
		setRow(t, f, "Sheet1", "A4", "L003", 300, 9)
		// D2: a formula with a cached value (as Excel saves it); D3: no cached value.
		if err := f.SetCellFormula("Sheet1", "D2", "B2+C2"); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue("Sheet1", "D2", "105"); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellFormula("Sheet1", "D3", "B3+C3"); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellFormula("Sheet1", "D4", "B4+C4"); err != nil {
			t.Fatal(err)
		}
	})
	src := openXLSX(t, data, OpenOptions{})
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rows) != 1 || rows[0].Cells[3] != "105" {
		t.Errorf("rows = %+v", rows)
	}
	if len(rerrs) != 2 {
		t.Fatalf("row errors = %v", rerrs)
	}
	for i, e := range rerrs {
		if e.Rule != "formula_without_value" || e.Line != 3+i || e.Column != "total_claim" || !strings.Contains(e.Message, "D") {
			t.Errorf("error %d = %+v", i, e)
		}
	}
}

func TestXLSXMergedHeader(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", "A1", "loan_id", "本金", "", "court")
		if err := f.MergeCell("Sheet1", "B1", "C1"); err != nil {
			t.Fatal(err)
		}
		setRow(t, f, "Sheet1", "A2", "L1", 1, 2, "x")
	})
	_, err := OpenReader(bytes.NewReader(data), "merged.xlsx", OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "C1 is empty") || !strings.Contains(err.Error(), "merged") {
		t.Fatalf("err = %v", err)
	}
}

func TestXLSXSheetsAndHeaderRow(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", "A1", "cover sheet")
		if _, err := f.NewSheet("贷款明细"); err != nil {
			t.Fatal(err)
		}
		setRow(t, f, "贷款明细", "A1", "XX银行不良资产包")
		setRow(t, f, "贷款明细", "A3", "借据号", "本金余额")
		setRow(t, f, "贷款明细", "A4", "L1", 100)
		setRow(t, f, "贷款明细", "A6", "L2", 200) // row 5 empty: skipped
		setRow(t, f, "贷款明细", "A7", "L3", 300, "stray")
	})
	src := openXLSX(t, data, OpenOptions{Sheet: "贷款明细", HeaderRow: 3})
	if diff := cmp.Diff([]string{"借据号", "本金余额"}, src.Header()); diff != "" {
		t.Fatal(diff)
	}
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rows) != 2 || rows[0].Line != 4 || rows[1].Line != 6 || rows[1].Cells[1] != "200" {
		t.Errorf("rows = %+v", rows)
	}
	if len(rerrs) != 1 || rerrs[0].Rule != "unnamed_column" || rerrs[0].Line != 7 || rerrs[0].Column != "C" {
		t.Errorf("row errors = %+v", rerrs)
	}
	_, err := OpenReader(bytes.NewReader(data), "t.xlsx", OpenOptions{Sheet: "Loans"})
	if err == nil || !strings.Contains(err.Error(), "贷款明细") {
		t.Errorf("missing sheet: %v", err)
	}
	// Default: the first sheet.
	src = openXLSX(t, data, OpenOptions{})
	if src.Info().Sheet != "Sheet1" || src.Header()[0] != "cover sheet" {
		t.Errorf("first sheet: %+v %q", src.Info(), src.Header())
	}
}

func TestXLSXPaddingAndEmpty(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", "A1", "a", "b", "c")
		setRow(t, f, "Sheet1", "A2", "1")
		setRow(t, f, "Sheet1", "C3", "3")
	})
	src := openXLSX(t, data, OpenOptions{})
	rows, _, _ := readAll(t, src)
	want := []Row{{Line: 2, Cells: []string{"1", "", ""}}, {Line: 3, Cells: []string{"", "", "3"}}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Error(diff)
	}
	empty := workbook(t, func(f *excelize.File) {})
	if _, err := OpenReader(bytes.NewReader(empty), "e.xlsx", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "no header row") {
		t.Errorf("empty sheet: %v", err)
	}
	if _, err := OpenReader(bytes.NewReader(append([]byte("PK\x03\x04"), make([]byte, 100)...)), "bad.xlsx", OpenOptions{}); err == nil {
		t.Error("corrupt zip opened")
	}
}

func TestXLSXOpenFile(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", "A1", "loan_id")
		setRow(t, f, "Sheet1", "A2", "L1")
	})
	path := t.TempDir() + "/tape.bin" // magic bytes decide, not the extension
	if err := writeFile(path, data); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Info().Format != "xlsx" {
		t.Fatal(src.Info())
	}
	row, err := src.Next()
	if err != nil || row.Cells[0] != "L1" {
		t.Fatal(row, err)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatal(err)
	}
}

func FuzzXLSXSource(f *testing.F) {
	f.Add(workbook(f, func(x *excelize.File) {
		setRow(f, x, "Sheet1", "A1", "loan_id", "principal_outstanding", "total_claim")
		setRow(f, x, "Sheet1", "A2", "L1", 100, 100)
		_ = x.SetCellFormula("Sheet1", "C3", "B3")
		setRow(f, x, "Sheet1", "A3", "L2", 5)
	}))
	f.Add(workbook(f, func(x *excelize.File) {
		v := true
		_ = x.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &v})
		setRow(f, x, "Sheet1", "A1", "借据号")
		setRow(f, x, "Sheet1", "A2", "L1")
	}))
	f.Add(handXLSX(`<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="inlineStr"><is><t>b</t></is></c></row>`+
		`<row r="3"><c r="B3"><f>A1</f></c><c t="b"><v>1</v></c></row></sheetData></worksheet>`,
		`<sst><si><r><t>a</t></r><rPh><t>x</t></rPh></si></sst>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := OpenReader(bytes.NewReader(data), "fuzz.xlsx", OpenOptions{XLSX: XLSXLimits{Part: 1 << 20, SharedStrings: 4 << 20}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tape: ") {
				t.Fatalf("unlocated error: %v", err)
			}
			return
		}
		defer src.Close()
		h := src.Header()
		for i := 0; i < 1<<16; i++ {
			row, err := src.Next()
			if err == io.EOF {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				if re.Line < 1 {
					t.Fatalf("row error without a line: %v", re)
				}
				continue
			}
			if err != nil {
				return
			}
			if len(row.Cells) != len(h) {
				t.Fatalf("row %+v against header %q", row, h)
			}
		}
		t.Fatal("Next never returned io.EOF")
	})
}
