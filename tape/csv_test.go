package tape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// readAll reads every row of src, collecting rows and row errors; it stops at io.EOF or at the
// first non-row error (returned as fatal). It fails the test if reading never ends.
func readAll(t tb, src Source) (rows []Row, rowErrs []*RowError, fatal error) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("Next never returned io.EOF")
		}
		row, err := src.Next()
		if err == io.EOF {
			return rows, rowErrs, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			if re.Line <= 0 {
				t.Errorf("row error without a line: %v", re)
			}
			rowErrs = append(rowErrs, re)
			continue
		}
		if err != nil {
			return rows, rowErrs, err
		}
		rows = append(rows, row)
	}
}

func openTestdata(t *testing.T, name string, opts OpenOptions) Source {
	t.Helper()
	src, err := Open(filepath.Join("testdata", name), opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

var zhHeader = []string{"借据号", "客户号", "本金余额(万元)", "利息余额", "逾期起始日", "是否失联", "五级分类"}
var zhRows = [][]string{
	{"L001", "C001", "1.5", "200.00", "2023-01-15", "否", "损失"},
	{"L002", "C002", "0.83", "0", "2022/6/30", "是", "可疑"},
}

func TestCSVEncodings(t *testing.T) {
	tests := []struct {
		file, declared, want string
	}{
		{"utf8_zh.csv", "", "utf-8"},
		{"utf8_bom_zh.csv", "", "utf-8-bom"},
		{"utf8_bom_zh.csv", "utf-8", "utf-8-bom"},
		{"gbk_zh.csv", "", "gb18030"},
		{"gbk_zh.csv", "gbk", "gbk"},
		{"gbk_zh.csv", "GB18030", "gb18030"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.declared, func(t *testing.T) {
			src := openTestdata(t, tt.file, OpenOptions{Encoding: tt.declared})
			if got := src.Info(); got.Format != "csv" || got.Encoding != tt.want {
				t.Errorf("Info = %+v, want csv %s", got, tt.want)
			}
			if diff := cmp.Diff(zhHeader, src.Header()); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			rows, rerrs, fatal := readAll(t, src)
			if fatal != nil || len(rerrs) > 0 {
				t.Fatalf("errors: %v %v", fatal, rerrs)
			}
			var cells [][]string
			for _, r := range rows {
				cells = append(cells, r.Cells)
			}
			if diff := cmp.Diff(zhRows, cells); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if rows[0].Line != 2 || rows[1].Line != 3 {
				t.Errorf("lines = %d, %d; want 2, 3", rows[0].Line, rows[1].Line)
			}
		})
	}
}

func TestCSVGBKDeclaredUTF8(t *testing.T) {
	_, err := Open("testdata/gbk_zh.csv", OpenOptions{Encoding: "utf-8"})
	if err == nil || !strings.Contains(err.Error(), "line 1 is not valid UTF-8") || !strings.Contains(err.Error(), "GBK") {
		t.Fatalf("err = %v, want a clear UTF-8/GBK error", err)
	}
	// GBK bytes beyond the 64 KiB sample of a UTF-8 file: the row is reported, not garbled.
	var b bytes.Buffer
	b.WriteString("loan_id,court\n")
	for b.Len() < 70<<10 {
		b.WriteString("L1,plain ascii court name\n")
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("北京市朝阳区人民法院")
	b.WriteString("L2," + gbk + "\nL3,ok\n")
	src, err := OpenReader(bytes.NewReader(b.Bytes()), "late.csv", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if src.Info().Encoding != "utf-8" {
		t.Fatalf("encoding = %s", src.Info().Encoding)
	}
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil || len(rerrs) != 1 || rerrs[0].Rule != "encoding" || rerrs[0].Column != "court" {
		t.Fatalf("fatal %v, row errors %v; want one encoding error", fatal, rerrs)
	}
	if last := rows[len(rows)-1]; last.Cells[0] != "L3" {
		t.Errorf("reading did not continue after the bad row: %v", last)
	}
}

func TestCSVDelimiters(t *testing.T) {
	want := [][]string{{"L001", "C001", "15000.00", "200.00", "2023-01-15"}, {"L002", "C002", "8300", "0", "2022-06-30"}}
	for _, f := range []string{"basic.csv", "semicolon.csv", "tab.tsv"} {
		t.Run(f, func(t *testing.T) {
			src := openTestdata(t, f, OpenOptions{})
			if len(src.Header()) != 5 {
				t.Fatalf("header = %q", src.Header())
			}
			rows, rerrs, fatal := readAll(t, src)
			if fatal != nil || len(rerrs) > 0 {
				t.Fatal(fatal, rerrs)
			}
			var got [][]string
			for _, r := range rows {
				got = append(got, r.Cells)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestCSVTruncated(t *testing.T) {
	src := openTestdata(t, "truncated.csv", OpenOptions{})
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil {
		t.Fatal(fatal)
	}
	// The quote opened on line 2 swallows the rest of the file.
	if len(rows) != 0 || len(rerrs) != 1 {
		t.Fatalf("rows %v, errors %v", rows, rerrs)
	}
	e := rerrs[0]
	if e.Line != 2 || e.Rule != "csv_syntax" || !strings.Contains(e.Message, "truncated") {
		t.Errorf("error = %+v", e)
	}
}

func TestCSVRaggedRows(t *testing.T) {
	src := openTestdata(t, "ragged.csv", OpenOptions{})
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rows) != 2 || rows[0].Cells[0] != "L001" || rows[1].Cells[0] != "L004" {
		t.Errorf("rows = %v", rows)
	}
	if len(rerrs) != 2 || rerrs[0].Line != 3 || rerrs[1].Line != 4 || rerrs[0].Rule != "field_count" {
		t.Errorf("errors = %v", rerrs)
	}
}

func TestCSVEmptyRows(t *testing.T) {
	src := openTestdata(t, "empty_rows.csv", OpenOptions{})
	if diff := cmp.Diff([]string{"loan_id", "borrower_id", "principal_outstanding"}, src.Header()); diff != "" {
		t.Fatal(diff)
	}
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil || len(rerrs) > 0 {
		t.Fatal(fatal, rerrs)
	}
	if len(rows) != 2 || rows[0].Line != 4 || rows[1].Line != 8 {
		t.Errorf("rows = %+v", rows)
	}
}

func TestCSVMultilineAndQuotes(t *testing.T) {
	src := openTestdata(t, "multiline.csv", OpenOptions{})
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil || len(rerrs) > 0 {
		t.Fatal(fatal, rerrs)
	}
	if len(rows) != 2 || rows[0].Cells[1] != "Court of\nChaoyang, Beijing" || rows[1].Line != 4 || rows[1].Cells[1] != `say "hi"` {
		t.Errorf("rows = %v", rows)
	}
}

func TestCSVBareQuoteContinues(t *testing.T) {
	src := openTestdata(t, "bare_quote.csv", OpenOptions{})
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil {
		t.Fatal(fatal)
	}
	if len(rerrs) != 1 || rerrs[0].Line != 2 || rerrs[0].Rule != "csv_syntax" {
		t.Errorf("errors = %v", rerrs)
	}
	if len(rows) != 1 || rows[0].Cells[0] != "L002" {
		t.Errorf("rows = %v", rows)
	}
}

func TestCSVHeaderRow(t *testing.T) {
	src := openTestdata(t, "header_row3.csv", OpenOptions{HeaderRow: 3})
	if diff := cmp.Diff([]string{"loan_id", "principal_outstanding"}, src.Header()); diff != "" {
		t.Fatal(diff)
	}
	rows, _, _ := readAll(t, src)
	if len(rows) != 1 || rows[0].Line != 4 {
		t.Errorf("rows = %v", rows)
	}
	if _, err := Open("testdata/header_row3.csv", OpenOptions{HeaderRow: 9}); err == nil || !strings.Contains(err.Error(), "no header row") {
		t.Errorf("header row past the end: err = %v", err)
	}
}

func TestCSVHeaderProblems(t *testing.T) {
	_, err := Open("testdata/empty_header.csv", OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "column 2 (B) is empty") {
		t.Errorf("empty header: err = %v", err)
	}
	src := openTestdata(t, "trailing_comma.csv", OpenOptions{})
	if diff := cmp.Diff([]string{"loan_id", "principal_outstanding"}, src.Header()); diff != "" {
		t.Fatal(diff)
	}
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil || len(rerrs) > 0 || len(rows) != 2 || len(rows[1].Cells) != 2 {
		t.Errorf("rows %v errors %v %v", rows, rerrs, fatal)
	}
	if _, err := OpenReader(strings.NewReader(""), "empty.csv", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "no header") {
		t.Errorf("empty file: err = %v", err)
	}
}

func TestCSVHugeCells(t *testing.T) {
	big := strings.Repeat("长", 1<<20) // 3 MiB of UTF-8
	data := "loan_id,note\nL1," + big + "\nL2,short\n"
	src, err := OpenReader(strings.NewReader(data), "big.csv", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, rerrs, fatal := readAll(t, src)
	if fatal != nil || len(rerrs) > 0 || len(rows) != 2 || rows[0].Cells[1] != big {
		t.Fatalf("huge cell not read: %v %v rows=%d", fatal, rerrs, len(rows))
	}
	// Over the limit: a located, final error instead of unbounded memory.
	src, err = OpenReader(strings.NewReader(data), "big.csv", OpenOptions{MaxRecordBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, _, fatal = readAll(t, src)
	if fatal == nil || !strings.Contains(fatal.Error(), "after line 1") || !strings.Contains(fatal.Error(), "longer than") {
		t.Fatalf("fatal = %v", fatal)
	}
	if _, err := src.Next(); err == nil || err == io.EOF {
		t.Errorf("error is not sticky: %v", err)
	}
}

func TestCSVSwappedColumnsBind(t *testing.T) {
	for _, f := range []string{"basic.csv", "swapped.csv"} {
		src := openTestdata(t, f, OpenOptions{})
		l, err := NewLayout(src.Header(), nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, _, _ := readAll(t, src)
		got := map[Field]string{}
		for _, fld := range []Field{FLoanID, FBorrowerID, FPrincipal, FInterest, FDefaultDate} {
			got[fld], _, _ = l.Value(fld, rows[0].Cells)
		}
		want := map[Field]string{FLoanID: "L001", FBorrowerID: "C001", FPrincipal: "15000.00", FInterest: "200.00", FDefaultDate: "2023-01-15"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: %s", f, diff)
		}
	}
}

func TestOpenUnsupported(t *testing.T) {
	tests := []struct{ name, want string }{
		{"testdata/legacy.xls", ".xls"},
		{"testdata/scan.pdf", "PDF"},
	}
	for _, tt := range tests {
		_, err := Open(tt.name, OpenOptions{})
		if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v", tt.name, err)
		}
	}
	_, err := OpenReader(strings.NewReader("not a zip"), "tape.xlsx", OpenOptions{})
	if !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("renamed xlsx: %v", err)
	}
	_, err = OpenReader(bytes.NewReader([]byte{'a', 0, 'b', 0}), "x.dat", OpenOptions{})
	if !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("binary: %v", err)
	}
	_, err = OpenReader(strings.NewReader("a,b\n"), "x.csv", OpenOptions{Encoding: "latin1"})
	if err == nil || !strings.Contains(err.Error(), "unknown encoding") {
		t.Errorf("bad encoding: %v", err)
	}
	if _, err := Open("testdata/does-not-exist.csv", OpenOptions{}); err == nil {
		t.Error("missing file opened")
	}
}

func FuzzCSVSource(f *testing.F) {
	for _, name := range []string{"basic.csv", "gbk_zh.csv", "utf8_bom_zh.csv", "truncated.csv", "ragged.csv", "empty_rows.csv", "multiline.csv", "bare_quote.csv", "semicolon.csv"} {
		b, err := readTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte("a,b\n\"x"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := OpenOptions{MaxRecordBytes: 1 << 16}
		switch mode % 4 {
		case 1:
			opts.Encoding = "gbk"
		case 2:
			opts.Encoding = "utf-8"
		case 3:
			opts.HeaderRow = 2
		}
		src, err := OpenReader(bytes.NewReader(data), "fuzz.csv", opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tape: ") {
				t.Fatalf("unlocated error: %v", err)
			}
			return
		}
		defer src.Close()
		h := src.Header()
		if len(h) == 0 {
			t.Fatal("no header and no error")
		}
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
			if len(row.Cells) != len(h) || row.Line < 1 {
				t.Fatalf("row %+v against header %q", row, h)
			}
		}
		t.Fatal("Next never returned io.EOF")
	})
}

func TestCSVDetectShortGBK(t *testing.T) {
	tests := []struct{ text, want string }{
		{"一,二\n三,四\n", "gb18030"}, // D2BB: valid UTF-8 (Cyrillic) but GBK
		{"Café,José\n1,2\n", "utf-8"},
		{"借据号\nL1\n", "utf-8"},
	}
	for _, tt := range tests {
		data := []byte(tt.text)
		if tt.want != "utf-8" {
			data, _ = simplifiedchinese.GBK.NewEncoder().Bytes(data)
		}
		src, err := OpenReader(bytes.NewReader(data), "s.csv", OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if src.Info().Encoding != tt.want || src.Header()[0] != strings.Split(tt.text, ",")[0] && tt.want != "utf-8" {
			t.Errorf("%q: encoding %s header %q", tt.text, src.Info().Encoding, src.Header())
		}
	}
}

// TestCSVDelimiterInGBKTrailByte: 亅 is 0x81 0x7C in GBK, and 0x7C is '|'. A one-column GBK
// file whose header holds it, with a value holding a real '|', is still one column: delimiters
// are counted in the decoded text, not in the raw bytes (found by TestWriterRoundTripProperty).
func TestCSVDelimiterInGBKTrailByte(t *testing.T) {
	for _, enc := range []string{"gbk", "gb18030", ""} {
		data, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("亅\na|\n"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data[:2], []byte("|")) {
			t.Fatalf("the fixture lost its point: 亅 encodes as % x", data[:2])
		}
		src, err := OpenReader(bytes.NewReader(data), "s.csv", OpenOptions{Encoding: enc})
		if err != nil {
			t.Fatalf("encoding %q: %v", enc, err)
		}
		if h := src.Header(); len(h) != 1 || h[0] != "亅" {
			t.Fatalf("encoding %q: header %q, want one column 亅", enc, h)
		}
		row, err := src.Next()
		if err != nil || len(row.Cells) != 1 || row.Cells[0] != "a|" {
			t.Fatalf("encoding %q: row %+v %v, want one cell a|", enc, row, err)
		}
	}
}

// FuzzCSVSourceNextInto: reading with NextInto, lending memory that is reused every few rows as
// an import reuses its chunks', gives the rows and errors Next gives.
func FuzzCSVSourceNextInto(f *testing.F) {
	for _, name := range []string{"basic.csv", "gbk_zh.csv", "utf8_bom_zh.csv", "truncated.csv", "ragged.csv", "empty_rows.csv", "multiline.csv", "bare_quote.csv", "semicolon.csv"} {
		b, err := readTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte("a,b\nc,d\ne,f,g\n\"h\",i\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		opts := OpenOptions{MaxRecordBytes: 1 << 16}
		want, err := OpenReader(bytes.NewReader(data), "fuzz.csv", opts)
		if err != nil {
			return
		}
		defer want.Close()
		got, err := OpenReader(bytes.NewReader(data), "fuzz.csv", opts)
		if err != nil {
			t.Fatalf("opened once, not twice: %v", err)
		}
		defer got.Close()
		lender := got.(interface {
			NextInto([]string) (Row, []string, error)
		})
		mem := make([]string, int(size%64))
		buf := mem
		for i := 0; i < 1<<16; i++ {
			if i%3 == 0 {
				buf = mem // the rows read before are done with: lend the memory again
			}
			wrow, werr := want.Next()
			row, rest, err := lender.NextInto(buf)
			buf = rest
			if fmt.Sprint(err) != fmt.Sprint(werr) || row.Line != wrow.Line || !slices.Equal(row.Cells, wrow.Cells) {
				t.Fatalf("row %d: NextInto %+v %v, Next %+v %v", i, row, err, wrow, werr)
			}
			if werr != nil {
				var re *RowError
				if errors.As(werr, &re) {
					continue
				}
				return
			}
		}
	})
}
