package tape

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"reclaim/msg"
)

// xlsxSource streams one sheet of a workbook with excelize's row iterator. Cells come as stored
// (RawCellValue): dates as serial numbers, amounts unformatted, formulas as their cached values.
// A second, light XML scan of the same sheet runs in step when the sheet holds formulas at all, to
// tell a formula with no cached value from an empty cell.
type xlsxSource struct {
	name   string
	f      *excelize.File
	rows   *excelize.Rows
	row    int // sheet row number of the last row read
	header []string
	info   SourceInfo
	scan   *formulaScan // nil when the sheet has no formula
	done   bool
	fatal  error
}

func newXLSXSource(data []byte, name string, opts OpenOptions) (src *xlsxSource, err error) {
	defer func() {
		if r := recover(); r != nil {
			src, err = nil, fmt.Errorf("tape: %s: malformed workbook: %v", name, r)
		}
	}()
	if err := checkZip(data); err != nil {
		return nil, fmt.Errorf("tape: %s: cannot read the workbook: %w", name, err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true, UnzipSizeLimit: maxUnzipBytes})
	if err != nil {
		return nil, fmt.Errorf("tape: %s: cannot read the workbook: %w", name, err)
	}
	s := &xlsxSource{name: name, f: f, info: SourceInfo{Format: "xlsx"}}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("tape: %s: the workbook has no sheet", name)
	}
	sheet := sheets[0]
	if opts.Sheet != "" {
		sheet = ""
		for _, sh := range sheets {
			if sh == opts.Sheet {
				sheet = sh
			}
		}
		if sheet == "" {
			return nil, fmt.Errorf("tape: %s: no sheet named %q (sheets: %s)", name, opts.Sheet, strings.Join(sheets, ", "))
		}
	}
	s.info.Sheet = sheet
	props, err := f.GetWorkbookProps()
	if err != nil {
		return nil, fmt.Errorf("tape: %s: reading workbook properties: %w", name, err)
	}
	if props.Date1904 != nil {
		s.info.Date1904 = *props.Date1904
	}
	s.rows, err = f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("tape: %s: sheet %q: %w", name, sheet, err)
	}
	s.scan, err = newFormulaScan(data, sheet)
	if err != nil {
		return nil, fmt.Errorf("tape: %s: sheet %q: %w", name, sheet, err)
	}
	if err := s.readHeader(opts.headerRow()); err != nil {
		return nil, err
	}
	return s, nil
}

// maxUnzipBytes bounds the declared uncompressed size of a workbook's parts, together.
const maxUnzipBytes = 8 << 30

// checkZip rejects archives whose entries declare sizes no real entry can have, before excelize
// allocates buffers of the declared size: a stored entry must be as long as its data, and
// deflate expands at most about 1032:1.
func checkZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not a valid XLSX (ZIP) file: %w", err)
	}
	var total uint64
	for _, zf := range zr.File {
		u, c := zf.UncompressedSize64, zf.CompressedSize64
		switch {
		case zf.Method == zip.Store && u != c:
			return fmt.Errorf("corrupt ZIP entry %q: stored size %d, data %d", zf.Name, u, c)
		case zf.Method != zip.Store && u > 1100*c+1<<16:
			return fmt.Errorf("corrupt ZIP entry %q: declares %d bytes from %d compressed", zf.Name, u, c)
		}
		total += u
		if total > maxUnzipBytes {
			return fmt.Errorf("the workbook unpacks to more than %d bytes; export it as CSV", uint64(maxUnzipBytes))
		}
	}
	return nil
}

// next reads the next sheet row: its number, its cells and the 1-based columns holding a formula
// without a cached value.
func (s *xlsxSource) next() (cells []string, noValue []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed sheet near row %d: %v", s.row+1, r)
		}
	}()
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, nil, err
		}
		return nil, nil, io.EOF
	}
	s.row++
	cells, err = s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, err
	}
	if s.scan != nil {
		noValue, err = s.scan.row(s.row)
	}
	return cells, noValue, err
}

func (s *xlsxSource) readHeader(headerRow int) error {
	for {
		cells, noValue, err := s.next()
		if err == io.EOF {
			return fmt.Errorf("tape: %s: sheet %q: no header row (the sheet is empty, or has fewer than %d rows)", s.name, s.info.Sheet, headerRow)
		}
		if err != nil {
			return fmt.Errorf("tape: %s: sheet %q: %w", s.name, s.info.Sheet, err)
		}
		if s.row < headerRow || (blankRecord(cells) && len(noValue) == 0) {
			continue
		}
		if len(noValue) > 0 {
			return fmt.Errorf("tape: %s: sheet %q: header cell %s%d is a formula with no cached value; open and save the workbook in Excel or LibreOffice so it is calculated", s.name, s.info.Sheet, columnLetter(noValue[0]-1), s.row)
		}
		h := make([]string, len(cells))
		for i, c := range cells {
			h[i] = strings.TrimSpace(c)
		}
		for len(h) > 0 && h[len(h)-1] == "" {
			h = h[:len(h)-1]
		}
		for i, c := range h {
			if c == "" {
				return fmt.Errorf("tape: %s: sheet %q: header cell %s%d is empty (a merged header cell?); unmerge the header and give every column its own name", s.name, s.info.Sheet, columnLetter(i), s.row)
			}
		}
		s.header = h
		return nil
	}
}

// Header implements Source.
func (s *xlsxSource) Header() []string { return s.header }

// Info implements Source.
func (s *xlsxSource) Info() SourceInfo { return s.info }

// Close implements Source.
func (s *xlsxSource) Close() error {
	if s.f == nil {
		return nil
	}
	var err error
	if s.rows != nil {
		err = s.rows.Close()
	}
	if s.scan != nil {
		s.scan.close()
	}
	if e := s.f.Close(); err == nil {
		err = e
	}
	s.f = nil
	return err
}

// Next implements Source. Rows are padded with empty cells to the header's width. A row with a
// value beyond the last header, or with a formula that has no cached value, comes back as
// *RowError (with the row) and the next call reads on; a broken sheet is a final error.
func (s *xlsxSource) Next() (Row, error) {
	if s.fatal != nil {
		return Row{}, s.fatal
	}
	if s.done {
		return Row{}, io.EOF
	}
	for {
		cells, noValue, err := s.next()
		if err == io.EOF {
			s.done = true
			return Row{}, io.EOF
		}
		if err != nil {
			s.fatal = fmt.Errorf("tape: %s: sheet %q: %w", s.name, s.info.Sheet, err)
			return Row{}, s.fatal
		}
		if blankRecord(cells) && len(noValue) == 0 {
			continue
		}
		row := Row{Line: s.row}
		if len(cells) > len(s.header) {
			for i := len(s.header); i < len(cells); i++ {
				if strings.TrimSpace(cells[i]) != "" {
					row.Cells = cells[:len(s.header)]
					return row, rowError(s.row, columnLetter(i), cells[i], "unnamed_column", "row.unnamed_cell",
						msg.A("cell", columnLetter(i)+strconv.Itoa(s.row)))
				}
			}
			cells = cells[:len(s.header)]
		}
		for len(cells) < len(s.header) {
			cells = append(cells, "")
		}
		row.Cells = cells
		if len(noValue) > 0 {
			c := noValue[0] - 1
			col := columnLetter(c)
			if c < len(s.header) {
				col = s.header[c]
			}
			code, args := "row.formula", msg.A("cell", columnLetter(c)+strconv.Itoa(s.row))
			if len(noValue) > 1 {
				code, args["more"] = "row.formula_more", strconv.Itoa(len(noValue)-1)
			}
			return row, rowError(s.row, col, "", "formula_without_value", code, args)
		}
		return row, nil
	}
}

// formulaScan walks a worksheet's XML alongside excelize's iterator and reports, per row, the
// cells that hold a formula but no cached value (<c><f>..</f></c> without <v>).
type formulaScan struct {
	rc    io.ReadCloser
	dec   *xml.Decoder
	cur   int   // number of the row buffered in cols
	cols  []int // its formula-without-value columns
	atEOF bool
}

// newFormulaScan returns nil when the sheet holds no formula element, so plain sheets are read once.
func newFormulaScan(data []byte, sheet string) (*formulaScan, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	p, err := sheetPath(zr, sheet)
	if err != nil || p == "" {
		return nil, nil // excelize found the sheet; if we cannot, skip the check rather than fail
	}
	open := func() (io.ReadCloser, error) {
		for _, zf := range zr.File {
			if strings.EqualFold(strings.TrimPrefix(zf.Name, "/"), p) {
				return zf.Open()
			}
		}
		return nil, nil
	}
	rc, err := open()
	if err != nil || rc == nil {
		return nil, nil
	}
	has, err := hasFormula(rc)
	rc.Close()
	if err != nil || !has {
		return nil, nil
	}
	rc, err = open()
	if err != nil || rc == nil {
		return nil, nil
	}
	return &formulaScan{rc: rc, dec: xml.NewDecoder(rc)}, nil
}

// hasFormula reports whether the sheet XML contains an <f> element (possibly with a namespace
// prefix). False positives only cost a second scan.
func hasFormula(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := r.Read(buf)
		chunk := append(carry, buf[:n]...)
		for _, pat := range [][]byte{[]byte("<f>"), []byte("<f "), []byte("<f/"), []byte(":f>"), []byte(":f "), []byte(":f/")} {
			if bytes.Contains(chunk, pat) {
				return true, nil
			}
		}
		if len(chunk) > 2 {
			carry = append(carry[:0], chunk[len(chunk)-2:]...)
		} else {
			carry = append(carry[:0], chunk...)
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func (fs *formulaScan) close() { fs.rc.Close() }

// row returns the formula-without-value columns of sheet row n; rows must be asked for in
// increasing order.
func (fs *formulaScan) row(n int) ([]int, error) {
	for fs.cur < n && !fs.atEOF {
		if err := fs.advance(); err != nil {
			return nil, err
		}
	}
	if fs.cur == n {
		return fs.cols, nil
	}
	return nil, nil
}

// advance reads the next <row> element into cur and cols.
func (fs *formulaScan) advance() error {
	for {
		tok, err := fs.dec.Token()
		if err == io.EOF {
			fs.atEOF = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("sheet XML: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		num := fs.cur + 1
		if v := attr(se, "r"); v != "" {
			if k, err := strconv.Atoi(v); err == nil && k > 0 {
				num = k
			}
		}
		fs.cur, fs.cols = num, fs.cols[:0]
		return fs.readRow()
	}
}

func (fs *formulaScan) readRow() error {
	col := 0
	for {
		tok, err := fs.dec.Token()
		if err != nil {
			return fmt.Errorf("sheet XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "row" {
				return nil
			}
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := fs.dec.Skip(); err != nil {
					return fmt.Errorf("sheet XML: %w", err)
				}
				continue
			}
			col++
			if ref := attr(t, "r"); ref != "" {
				if c, _, err := excelize.CellNameToCoordinates(ref); err == nil {
					col = c
				}
			}
			hasF, hasV, err := fs.readCell()
			if err != nil {
				return err
			}
			if hasF && !hasV {
				fs.cols = append(fs.cols, col)
			}
		}
	}
}

func (fs *formulaScan) readCell() (hasF, hasV bool, err error) {
	for {
		tok, err := fs.dec.Token()
		if err != nil {
			return false, false, fmt.Errorf("sheet XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "c" {
				return hasF, hasV, nil
			}
		case xml.StartElement:
			switch t.Name.Local {
			case "f":
				hasF = true
			case "v":
				hasV = true
			case "is":
				hasV = true
			}
			if err := fs.dec.Skip(); err != nil {
				return false, false, fmt.Errorf("sheet XML: %w", err)
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// sheetPath finds the ZIP path of the named sheet through xl/workbook.xml and its relationships.
func sheetPath(zr *zip.Reader, sheet string) (string, error) {
	read := func(name string) ([]byte, error) {
		for _, zf := range zr.File {
			if strings.EqualFold(zf.Name, name) {
				rc, err := zf.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return io.ReadAll(io.LimitReader(rc, 64<<20))
			}
		}
		return nil, nil
	}
	wb, err := read("xl/workbook.xml")
	if err != nil || wb == nil {
		return "", err
	}
	var w struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(wb, &w); err != nil {
		return "", nil
	}
	id := ""
	for _, sh := range w.Sheets {
		if sh.Name == sheet {
			id = sh.ID
		}
	}
	rels, err := read("xl/_rels/workbook.xml.rels")
	if err != nil || rels == nil || id == "" {
		return "", err
	}
	var r struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(rels, &r); err != nil {
		return "", nil
	}
	for _, rel := range r.Rels {
		if rel.ID == id {
			t := rel.Target
			if strings.HasPrefix(t, "/") {
				return strings.TrimPrefix(t, "/"), nil
			}
			return path.Clean(path.Join("xl", t)), nil
		}
	}
	return "", nil
}
