package tape

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"reclaim"
)

// deflateRepeat returns a raw DEFLATE stream of prefix, n copies of unit, then suffix, and the
// CRC-32 of that content, in time proportional to len(unit), not n: once the compressor's window
// holds only copies of unit, every further copy compresses to the same bytes, so that segment is
// repeated. unit's length must be a multiple of its period and at least 32 KiB.
func deflateRepeat(t testing.TB, prefix, unit []byte, n int, suffix []byte) ([]byte, uint32, int64) {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(prefix)
	fw.Write(unit)
	fw.Flush()
	var marks []int
	var seg []byte
	for i := 0; i < 6; i++ {
		marks = append(marks, buf.Len())
		fw.Write(unit)
		fw.Flush()
		if i > 0 && bytes.Equal(buf.Bytes()[marks[i-1]:marks[i]], buf.Bytes()[marks[i]:]) {
			seg = append([]byte(nil), buf.Bytes()[marks[i]:]...)
			break
		}
	}
	if seg == nil {
		t.Fatal("deflateRepeat: no steady state")
	}
	head := append([]byte(nil), buf.Bytes()[:marks[0]]...)
	done := len(marks) + 1 // copies of unit the head and the measured segments hold
	if n < done {
		t.Fatalf("deflateRepeat: n must be at least %d", done)
	}
	before := buf.Len()
	fw.Write(suffix)
	fw.Close()
	tail := buf.Bytes()[before:]
	var out bytes.Buffer
	out.Write(head)
	out.Write(buf.Bytes()[marks[0]:before]) // the copies written while looking for the steady state
	for i := done; i < n; i++ {
		out.Write(seg)
	}
	out.Write(tail)
	crc := crc32.Update(0, crc32.IEEETable, prefix)
	for i := 0; i < n; i++ {
		crc = crc32.Update(crc, crc32.IEEETable, unit)
	}
	crc = crc32.Update(crc, crc32.IEEETable, suffix)
	return out.Bytes(), crc, int64(len(prefix)) + int64(n)*int64(len(unit)) + int64(len(suffix))
}

type bombPart struct {
	name                 string
	prefix, unit, suffix []byte
	n                    int
	declare              int64 // the uncompressed size the header claims; 0: the true size
}

// bombWorkbook builds an XLSX whose sheet (and shared strings, when given) are bombPart streams.
func bombWorkbook(t testing.TB, parts ...bombPart) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	small := map[string]string{
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
	}
	for _, name := range []string{"xl/workbook.xml", "xl/_rels/workbook.xml.rels"} {
		w, _ := zw.Create(name)
		io.WriteString(w, small[name])
	}
	for _, p := range parts {
		data, crc, size := deflateRepeat(t, p.prefix, p.unit, p.n, p.suffix)
		if p.declare != 0 {
			size = p.declare
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(size)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return b.Bytes()
}

const sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>loan_id</t></is></c></row>`

// readAllRows opens data and reads every row, returning the first error that is not a RowError,
// with the peak growth of the heap in use (sampled every 5 ms) and the time taken.
func readAllRows(t *testing.T, data []byte, opts OpenOptions) (err error, peak uint64, took time.Duration) {
	t.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, sampled := make(chan struct{}), make(chan uint64)
	go func() {
		var m runtime.MemStats
		top := uint64(0)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				sampled <- top
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	err = func() error {
		src, err := OpenReaderAt(bytes.NewReader(data), int64(len(data)), "bomb.xlsx", opts)
		if err != nil {
			return err
		}
		defer src.Close()
		for {
			_, err := src.Next()
			if err == io.EOF {
				return nil
			}
			var re *RowError
			if err != nil && !errors.As(err, &re) {
				return err
			}
		}
	}()
	took = time.Since(start)
	close(stop)
	top := <-sampled
	if top > before.HeapInuse {
		peak = top - before.HeapInuse
	}
	return err, peak, took
}

func wantTooLarge(t *testing.T, err error, limit string) {
	t.Helper()
	if err == nil {
		t.Fatal("the bomb was read without an error")
	}
	if reclaim.ErrorCode(err) != reclaim.ETOOLARGE || !strings.Contains(err.Error(), "limit of "+limit) {
		t.Fatalf("error %q (code %s): want %s naming the limit of %s", err, reclaim.ErrorCode(err), reclaim.ETOOLARGE, limit)
	}
}

// TestXLSXBombs reads workbooks of about 1 MB that unpack to 1 GiB: one inline-string cell of
// 1 GiB (the attack reported), one shared string of 1 GiB, a shared-string table of millions of
// strings, a sheet larger than the part limit, and a part whose header understates its size. Each
// is refused with an error naming the limit while the heap grows by a small fraction of what the
// workbook unpacks to (excelize took 4.9 GB and 37 s on the first).
func TestXLSXBombs(t *testing.T) {
	const gib = 1 << 30
	unit := bytes.Repeat([]byte("A"), 1<<20)
	t.Run("inline string cell", func(t *testing.T) {
		data := bombWorkbook(t, bombPart{name: "xl/worksheets/sheet1.xml",
			prefix: []byte(sheetHead + `<row r="2"><c r="A2" t="inlineStr"><is><t>`), unit: unit, n: gib / len(unit),
			suffix: []byte(`</t></is></c></row></sheetData></worksheet>`)})
		if len(data) > 2<<20 {
			t.Fatalf("bomb is %d bytes", len(data))
		}
		err, alloc, took := readAllRows(t, data, OpenOptions{})
		wantTooLarge(t, err, "131072 bytes")
		if alloc > 64<<20 {
			t.Errorf("heap grew %d MB reading a %d KB bomb", alloc>>20, len(data)>>10)
		}
		t.Logf("%d KB workbook, 1 GiB cell: refused in %v, heap grew %d MB: %v", len(data)>>10, took, alloc>>20, err)
	})
	t.Run("value cell", func(t *testing.T) {
		// Under the token limit but over the cell limit: <v> of 200 KiB.
		data := bombWorkbook(t, bombPart{name: "xl/worksheets/sheet1.xml",
			prefix: []byte(sheetHead + `<row r="2"><c r="A2"><v>`), unit: bytes.Repeat([]byte("7"), 40<<10), n: 5,
			suffix: []byte(`</v></c></row></sheetData></worksheet>`)})
		err, _, _ := readAllRows(t, data, OpenOptions{})
		wantTooLarge(t, err, "131072 bytes")
	})
	t.Run("shared string", func(t *testing.T) {
		data := bombWorkbook(t,
			bombPart{name: "xl/sharedStrings.xml", prefix: []byte(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>`),
				unit: unit, n: gib / len(unit), suffix: []byte(`</t></si></sst>`)},
			bombPart{name: "xl/worksheets/sheet1.xml", prefix: []byte(sheetHead), unit: bytes.Repeat([]byte(" "), 32<<10), n: 8,
				suffix: []byte(`<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>`)})
		err, alloc, took := readAllRows(t, data, OpenOptions{})
		wantTooLarge(t, err, "131072 bytes")
		if alloc > 64<<20 {
			t.Errorf("heap grew %d MB", alloc>>20)
		}
		t.Logf("1 GiB shared string: refused in %v, heap grew %d MB", took, alloc>>20)
	})
	t.Run("shared-string table", func(t *testing.T) {
		// 256 MiB of one-character strings: 15 million of them, past an 8 MiB table limit.
		si := []byte("<si><t>x</t></si>")
		u := bytes.Repeat(si, (1<<20)/len(si)+1)
		data := bombWorkbook(t,
			bombPart{name: "xl/sharedStrings.xml", prefix: []byte(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`),
				unit: u, n: 256, suffix: []byte(`</sst>`)},
			bombPart{name: "xl/worksheets/sheet1.xml", prefix: []byte(sheetHead), unit: bytes.Repeat([]byte(" "), 32<<10), n: 8,
				suffix: []byte(`</sheetData></worksheet>`)})
		err, alloc, took := readAllRows(t, data, OpenOptions{XLSX: XLSXLimits{SharedStrings: 8 << 20}})
		wantTooLarge(t, err, "8388608 bytes")
		if alloc > 64<<20 {
			t.Errorf("heap grew %d MB for an 8 MiB table", alloc>>20)
		}
		t.Logf("shared-string table: refused in %v, heap grew %d MB", took, alloc>>20)
	})
	t.Run("sheet part", func(t *testing.T) {
		e := []byte("<x/>")
		data := bombWorkbook(t, bombPart{name: "xl/worksheets/sheet1.xml", prefix: []byte(sheetHead),
			unit: bytes.Repeat(e, (1<<20)/len(e)), n: 8, suffix: []byte(`</sheetData></worksheet>`)})
		err, _, _ := readAllRows(t, data, OpenOptions{XLSX: XLSXLimits{Part: 4 << 20}})
		wantTooLarge(t, err, "4194304 bytes")
		if err, _, _ := readAllRows(t, data, OpenOptions{XLSX: XLSXLimits{Part: 16 << 20}}); err != nil {
			t.Fatalf("the same sheet under a larger limit: %v", err)
		}
	})
	t.Run("ratio", func(t *testing.T) {
		// 128 MiB of comments from 128 KB: past 64 MiB, over 200 times the compressed size.
		c := append(append([]byte("<!--"), bytes.Repeat([]byte("A"), 1<<20-7)...), "-->"...)
		data := bombWorkbook(t, bombPart{name: "xl/worksheets/sheet1.xml", prefix: []byte(sheetHead),
			unit: c, n: 128, suffix: []byte(`</sheetData></worksheet>`)})
		err, alloc, took := readAllRows(t, data, OpenOptions{})
		wantTooLarge(t, err, "200 times its compressed size")
		if alloc > 64<<20 {
			t.Errorf("heap grew %d MB", alloc>>20)
		}
		t.Logf("%d KB workbook inflating to 128 MiB: refused in %v: %v", len(data)>>10, took, err)
	})
	t.Run("understated header", func(t *testing.T) {
		data := bombWorkbook(t, bombPart{name: "xl/worksheets/sheet1.xml", prefix: []byte(sheetHead + `<!--`),
			unit: unit, n: 64, suffix: []byte(`--></sheetData></worksheet>`), declare: 1000})
		err, alloc, _ := readAllRows(t, data, OpenOptions{})
		if err == nil || alloc > 64<<20 {
			t.Fatalf("understated part: %v after %d MB", err, alloc>>20)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		data := bombWorkbook(t, bombPart{name: "xl/worksheets/sheet1.xml", prefix: []byte(sheetHead),
			unit: bytes.Repeat([]byte("<a>"), 32<<10), n: 64, suffix: []byte(`</sheetData></worksheet>`)})
		err, alloc, _ := readAllRows(t, data, OpenOptions{})
		if err == nil || !strings.Contains(err.Error(), "nested deeper") || alloc > 64<<20 {
			t.Fatalf("deep nesting: %v after %d MB", err, alloc>>20)
		}
	})
}

// TestXLSXCentralDirectoryLimit: an archive whose directory lists more than maxCentralDir bytes of
// entries is refused before archive/zip reads the directory.
func TestXLSXCentralDirectoryLimit(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	name := strings.Repeat("n", 60000)
	for i := 0; i < 80; i++ {
		zw.CreateHeader(&zip.FileHeader{Name: name + string(rune('a'+i%26)) + string(rune('a'+i/26)), Method: zip.Store})
	}
	zw.Close()
	_, err := OpenReaderAt(bytes.NewReader(b.Bytes()), int64(b.Len()), "dir.xlsx", OpenOptions{})
	wantTooLarge(t, err, "4194304 bytes")
}

// TestXLSXMatchesExcelize reads a workbook with every kind of cell (shared and inline strings,
// rich text, numbers, booleans, dates, formulas with cached values, escaped characters, gaps) with
// this package's reader and with excelize (RawCellValue, as tapes were read before), and wants
// the same cells.
func TestXLSXMatchesExcelize(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		setRow(t, f, "Sheet1", "A1", "loan_id", "name", "amount", "flag", "when", "calc", "note")
		setRow(t, f, "Sheet1", "A2", "L1", "张三", 1234.5, true, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), nil, "a_x000D_b")
		setRow(t, f, "Sheet1", "A4", "L3", "李四", -7, false, "2024-01-01", nil, " lead and trail ")
		if err := f.SetCellRichText("Sheet1", "G2", []excelize.RichTextRun{{Text: "rich "}, {Text: "text", Font: &excelize.Font{Bold: true}}}); err != nil {
			t.Fatal(err)
		}
		f.SetCellFormula("Sheet1", "F2", "C2*2")
		f.SetCellValue("Sheet1", "F2", 2469)
		f.SetCellStr("Sheet1", "J4", "far")
		f.SetCellValue("Sheet1", "B5", "=not a formula")
		f.SetCellInt("Sheet1", "A5", 5)
	})
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	want, err := x.GetRows("Sheet1", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenReaderAt(bytes.NewReader(data), int64(len(data)), "t.xlsx", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	xs := src.(*xlsxSource)
	xs.sheet.width = 0 // whole rows, as excelize returns them
	got := [][]string{}
	for {
		_, cells, _, err := xs.sheet.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cells)
	}
	// The header row was consumed by Open; compare it through Header.
	got = append([][]string{xs.Header()}, got...)
	trim := func(rows [][]string) [][]string {
		var out [][]string
		for _, r := range rows {
			for len(r) > 0 && r[len(r)-1] == "" {
				r = r[:len(r)-1]
			}
			if len(r) > 0 {
				out = append(out, r)
			}
		}
		return out
	}
	if d := cmp.Diff(trim(want), trim(got)); d != "" {
		t.Errorf("cells differ from excelize's (-excelize +ours):\n%s", d)
	}
}

// handXLSX builds a workbook from the XML of its sheet and shared strings ("" for none).
func handXLSX(sheet, sst string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	parts := [][2]string{
		{"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="1"/><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/s.xml"/></Relationships>`},
		{"xl/worksheets/s.xml", sheet},
	}
	if sst != "" {
		parts = append(parts, [2]string{"xl/sharedStrings.xml", sst})
	}
	for _, p := range parts {
		w, _ := zw.Create(p[0])
		io.WriteString(w, p[1])
	}
	zw.Close()
	return b.Bytes()
}

// TestXLSXHandWritten covers what excelize does not write: rows without numbers, cells without
// references, phonetic runs, comments and CDATA, an absolute relationship target, a formula with
// no value, and the 1904 date system.
func TestXLSXHandWritten(t *testing.T) {
	data := handXLSX(`<worksheet><sheetData><!-- a <comment> --><row><c t="s"><v>0</v></c><c t="inlineStr"><is><t><![CDATA[x<y]]></t></is></c></row>`+
		`<row><c r="B2" t="s"><v>1</v></c><c><f>A1</f></c></row><row r="5"><c><v>1.5</v></c></row></sheetData></worksheet>`,
		`<sst><si><t>id</t></si><si><r><t>山</t></r><rPh><t>やま</t></rPh><r><t>田</t></r></si></sst>`)
	src, err := OpenReaderAt(bytes.NewReader(data), int64(len(data)), "h.xlsx", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if h := src.Header(); len(h) != 2 || h[0] != "id" || h[1] != "x<y" || !src.Info().Date1904 {
		t.Fatalf("header %q info %+v", h, src.Info())
	}
	row, err := src.Next()
	var re *RowError
	if !errors.As(err, &re) || re.Rule != "formula_without_value" || row.Line != 2 || row.Cells[1] != "山田" {
		t.Fatalf("row 2: %+v %v", row, err)
	}
	if row, err = src.Next(); err != nil || row.Line != 5 || row.Cells[0] != "1.5" {
		t.Fatalf("row 5: %+v %v", row, err)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatal(err)
	}
	// A DTD (the door to entity expansion) is refused.
	data = handXLSX(`<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet><sheetData/></worksheet>`, "")
	if _, err := OpenReaderAt(bytes.NewReader(data), int64(len(data)), "d.xlsx", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "document type") {
		t.Fatalf("DTD: %v", err)
	}
}

// TestXLSXFarColumns: rows whose only cell sits in the last column (XFD) are reported as values
// without a header, without building 16,384 cells per row.
func TestXLSXFarColumns(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>loan_id</t></is></c><c r="B1" t="inlineStr"><is><t>x</t></is></c></row>`)
	const rows = 20000
	for i := 2; i < rows+2; i++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d"><v>%d</v></c><c r="XFD%d"><v>1</v></c></row>`, i, i, i, i)
	}
	b.WriteString(`</sheetData></worksheet>`)
	data := handXLSX(b.String(), "")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	src, err := OpenReaderAt(bytes.NewReader(data), int64(len(data)), "far.xlsx", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if !errors.As(err, &re) || re.Rule != "unnamed_column" || re.Column != "XFD" || len(row.Cells) != 2 {
			t.Fatalf("row %d: %+v %v", n+2, row, err)
		}
		n++
	}
	runtime.ReadMemStats(&after)
	if n != rows {
		t.Fatalf("%d rows, want %d", n, rows)
	}
	// Building each row out to column XFD would allocate 256 KiB a row: 5 GB here.
	if a := after.TotalAlloc - before.TotalAlloc; a > 256<<20 {
		t.Errorf("allocated %d MB for %d rows", a>>20, rows)
	}
}
