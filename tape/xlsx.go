package tape

import (
	"archive/zip"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"reclaim"
	"reclaim/msg"
)

// XLSXLimits bound what reading one workbook may unpack and hold, so that a small file cannot
// expand into gigabytes (a "decompression bomb"). Every limit is checked on the bytes actually
// inflated or decoded, never on the sizes an archive declares. A workbook past a limit is refused
// with a *reclaim.Error of code reclaim.ETOOLARGE that names the limit. Zero fields take the
// defaults (DefaultXLSXLimits).
type XLSXLimits struct {
	// Part bounds the inflated size of any one part read (the sheet XML, the shared strings).
	Part int64
	// Cell bounds the text of one cell or one shared string, in bytes after XML decoding. One XML
	// token (a text run, a tag, a comment) may be at most 8 times this plus 4 KiB, raw.
	Cell int
	// Row bounds the text of one row, all its cells together.
	Row int
	// SharedStrings bounds the memory the shared-string table may take: its strings' bytes plus
	// 12 bytes for each string.
	SharedStrings int64
	// Ratio bounds how many times its compressed size a part may inflate to, once it has
	// inflated past 64 MiB (real sheets inflate about 5 to 20 times; DEFLATE allows 1032), so
	// that a small file cannot keep the reader busy for long.
	Ratio int64
}

// DefaultXLSXLimits are the limits used where XLSXLimits leaves a field zero: a part may inflate
// to 2 GiB (a million rows of forty columns), a cell hold 128 KiB (Excel's own maximum is 32,767
// characters), a row 16 MiB, the shared strings take 192 MiB, and a part past 64 MiB inflate at
// most 200 times its compressed size. Together they keep the reader's memory under about 250 MB
// whatever the workbook, and a small workbook's reading short.
var DefaultXLSXLimits = XLSXLimits{Part: 2 << 30, Cell: 128 << 10, Row: 16 << 20, SharedStrings: 192 << 20, Ratio: 200}

func (l XLSXLimits) withDefaults() XLSXLimits {
	d := DefaultXLSXLimits
	if l.Part > 0 {
		d.Part = l.Part
	}
	if l.Cell > 0 {
		d.Cell = l.Cell
	}
	if l.Row > 0 {
		d.Row = l.Row
	}
	if l.SharedStrings > 0 {
		d.SharedStrings = l.SharedStrings
	}
	if l.Ratio > 0 {
		d.Ratio = l.Ratio
	}
	return d
}

const (
	// maxMetaPart bounds the parts read whole into memory: relationships and the workbook.
	maxMetaPart = 16 << 20
	// maxCentralDir bounds the ZIP's central directory (every entry's name and sizes), which
	// archive/zip holds in memory; an XLSX has a few dozen entries.
	maxCentralDir = 4 << 20
	// maxXMLDepth bounds element nesting; SpreadsheetML needs about 6.
	maxXMLDepth = 64
	// Excel's grid.
	maxSheetRows = 1 << 20
	maxSheetCols = 1 << 14
)

func tooLarge(part, format string, args ...any) error {
	e := &reclaim.Error{Code: reclaim.ETOOLARGE, Message: fmt.Sprintf(format, args...) + "; export the sheet as CSV, or split it"}
	if part != "" {
		e.Fields = map[string]string{"part": part}
	}
	return e
}

// xlsxSource streams one sheet of a workbook with its own SpreadsheetML reader over archive/zip:
// nothing is unpacked to disk, and only the shared-string table and the current row are held in
// memory, each under a limit (XLSXLimits). Cells come as stored: dates as serial numbers, amounts
// unformatted, formulas as their cached values; a formula with no cached value is reported.
type xlsxSource struct {
	name   string
	closer io.Closer
	part   io.Closer
	sheet  *sheetReader
	row    int // sheet row number of the last row read
	header []string
	info   SourceInfo
	done   bool
	fatal  error
}

func newXLSXSource(ra io.ReaderAt, size int64, closer io.Closer, name string, opts OpenOptions) (src *xlsxSource, err error) {
	defer func() {
		if r := recover(); r != nil {
			src, err = nil, fmt.Errorf("tape: %s: malformed workbook: %v", name, r)
		}
	}()
	lim := opts.XLSX.withDefaults()
	if err := checkCentralDir(ra, size); err != nil {
		return nil, fmt.Errorf("tape: %s: cannot read the workbook: %w", name, err)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("tape: %s: cannot read the workbook: not a valid XLSX (ZIP) file: %w", name, err)
	}
	wb, err := readWorkbook(zr)
	if err != nil {
		return nil, fmt.Errorf("tape: %s: cannot read the workbook: %w", name, err)
	}
	if len(wb.sheets) == 0 {
		return nil, fmt.Errorf("tape: %s: the workbook has no sheet", name)
	}
	sh := wb.sheets[0]
	if opts.Sheet != "" {
		found := false
		var names []string
		for _, s := range wb.sheets {
			names = append(names, s.name)
			if s.name == opts.Sheet && !found {
				sh, found = s, true
			}
		}
		if !found {
			return nil, fmt.Errorf("tape: %s: no sheet named %q (sheets: %s)", name, opts.Sheet, strings.Join(names, ", "))
		}
	}
	s := &xlsxSource{name: name, closer: closer, info: SourceInfo{Format: "xlsx", Sheet: sh.name, Date1904: wb.date1904}}
	var sst *sharedStrings
	if wb.sst != "" {
		if sst, err = readSharedStrings(zr, wb.sst, lim); err != nil {
			return nil, fmt.Errorf("tape: %s: shared strings: %w", name, err)
		}
	}
	rc, err := openPart(zr, sh.path, lim)
	if err != nil {
		return nil, fmt.Errorf("tape: %s: sheet %q: %w", name, sh.name, err)
	}
	if rc == nil {
		return nil, fmt.Errorf("tape: %s: sheet %q: the workbook has no part %s", name, sh.name, sh.path)
	}
	s.part = rc
	s.sheet = &sheetReader{dec: newXMLDecoder(rc, lim), sst: sst, lim: lim}
	if err := s.readHeader(opts.headerRow()); err != nil {
		rc.Close()
		return nil, err
	}
	return s, nil
}

// checkCentralDir refuses an archive whose central directory is larger than maxCentralDir before
// archive/zip reads all of it into memory.
func checkCentralDir(ra io.ReaderAt, size int64) error {
	const eocdLen = 22
	tail := int64(eocdLen + 0xFFFF)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := ra.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return err
	}
	i := len(buf) - eocdLen
	for ; i >= 0; i-- {
		if buf[i] == 'P' && buf[i+1] == 'K' && buf[i+2] == 5 && buf[i+3] == 6 {
			break
		}
	}
	if i < 0 {
		return errors.New("not a valid XLSX (ZIP) file: no end of central directory")
	}
	dirSize := uint64(binary.LittleEndian.Uint32(buf[i+12:]))
	if dirSize == 0xFFFFFFFF || binary.LittleEndian.Uint16(buf[i+10:]) == 0xFFFF {
		// ZIP64: the real size is in the ZIP64 end record, which the locator before this points at.
		loc := size - tail + int64(i) - 20
		var l [20]byte
		if loc < 0 {
			return errors.New("not a valid XLSX (ZIP) file: bad ZIP64 locator")
		}
		if _, err := ra.ReadAt(l[:], loc); err != nil || string(l[:4]) != "PK\x06\x07" {
			return errors.New("not a valid XLSX (ZIP) file: bad ZIP64 locator")
		}
		var rec [56]byte
		off := binary.LittleEndian.Uint64(l[8:])
		if off > uint64(size) {
			return errors.New("not a valid XLSX (ZIP) file: bad ZIP64 record")
		}
		if _, err := ra.ReadAt(rec[:], int64(off)); err != nil || string(rec[:4]) != "PK\x06\x06" {
			return errors.New("not a valid XLSX (ZIP) file: bad ZIP64 record")
		}
		dirSize = binary.LittleEndian.Uint64(rec[40:])
	}
	if dirSize > maxCentralDir {
		return tooLarge("", "the workbook's ZIP directory is %d bytes, more than the limit of %d bytes", dirSize, maxCentralDir)
	}
	return nil
}

type sheetRef struct{ name, path string }

type workbookInfo struct {
	sheets   []sheetRef
	sst      string // path of the shared strings part, "" when none
	date1904 bool
}

// readWorkbook finds the workbook part, its sheets in order, the path of each sheet and of the
// shared strings, and the date system.
func readWorkbook(zr *zip.Reader) (*workbookInfo, error) {
	type rel struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	}
	var rels struct {
		Rels []rel `xml:"Relationship"`
	}
	wbPath := "xl/workbook.xml"
	if err := readXMLPart(zr, "_rels/.rels", &rels); err != nil {
		return nil, err
	}
	for _, r := range rels.Rels {
		if strings.HasSuffix(r.Type, "/officeDocument") {
			wbPath = partPath("", r.Target)
		}
	}
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	found, err := readXMLPartFound(zr, wbPath, &wb)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("not an XLSX workbook: no %s", wbPath)
	}
	dir := path.Dir(wbPath)
	rels.Rels = nil
	if err := readXMLPart(zr, path.Join(dir, "_rels", path.Base(wbPath)+".rels"), &rels); err != nil {
		return nil, err
	}
	info := &workbookInfo{date1904: wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"}
	targets := map[string]string{}
	for _, r := range rels.Rels {
		targets[r.ID] = partPath(dir, r.Target)
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			info.sst = partPath(dir, r.Target)
		}
	}
	if info.sst == "" && findPart(zr, path.Join(dir, "sharedStrings.xml")) != nil {
		info.sst = path.Join(dir, "sharedStrings.xml")
	}
	for i, s := range wb.Sheets {
		p := targets[s.ID]
		if p == "" {
			p = path.Join(dir, "worksheets", "sheet"+strconv.Itoa(i+1)+".xml")
		}
		info.sheets = append(info.sheets, sheetRef{name: s.Name, path: p})
	}
	return info, nil
}

// partPath resolves a relationship target against the directory of the part that names it.
func partPath(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return path.Clean(strings.TrimPrefix(target, "/"))
	}
	return path.Clean(path.Join(dir, target))
}

func findPart(zr *zip.Reader, name string) *zip.File {
	for _, zf := range zr.File {
		if strings.EqualFold(strings.TrimPrefix(zf.Name, "/"), name) {
			return zf
		}
	}
	return nil
}

// ratioFloor is how far a part may inflate before XLSXLimits.Ratio applies.
const ratioFloor = 64 << 20

// openPart opens a part for streaming; reading it fails once more than lim.Part bytes came out,
// or more than lim.Ratio times its compressed size past ratioFloor. It returns nil, nil when the
// archive has no such part.
func openPart(zr *zip.Reader, name string, lim XLSXLimits) (io.ReadCloser, error) {
	zf := findPart(zr, name)
	if zf == nil {
		return nil, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("part %s: %w", name, err)
	}
	b := &boundedPart{rc: rc, name: name, left: lim.Part, limit: lim.Part}
	// The compressed size bounds what archive/zip reads of the file for this entry, so it can be
	// trusted here as an upper bound; the uncompressed size the header declares is not used.
	c := int64(zf.CompressedSize64)
	if c >= 0 && c < lim.Part/lim.Ratio {
		if r := max(c*lim.Ratio, ratioFloor); r < lim.Part {
			b.left, b.limit, b.ratio = r, r, lim.Ratio
		}
	}
	return b, nil
}

// boundedPart counts the bytes inflated from one ZIP entry and fails past its limit, whatever
// size the entry's header declares.
type boundedPart struct {
	rc    io.ReadCloser
	name  string
	left  int64
	limit int64
	ratio int64 // when not 0, limit comes from XLSXLimits.Ratio
}

func (b *boundedPart) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a part of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			if b.ratio != 0 {
				return 0, tooLarge(b.name, "the workbook part %s unpacks to more than %d bytes, past the limit of %d times its compressed size", b.name, b.limit, b.ratio)
			}
			return 0, tooLarge(b.name, "the workbook part %s unpacks to more than the limit of %d bytes", b.name, b.limit)
		}
		return b.rc.Read(p[:0])
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedPart) Close() error { return b.rc.Close() }

func readXMLPart(zr *zip.Reader, name string, v any) error {
	_, err := readXMLPartFound(zr, name, v)
	return err
}

func readXMLPartFound(zr *zip.Reader, name string, v any) (bool, error) {
	meta := DefaultXLSXLimits
	meta.Part = maxMetaPart
	rc, err := openPart(zr, name, meta)
	if err != nil || rc == nil {
		return false, err
	}
	defer rc.Close()
	dec := newXMLDecoder(rc, DefaultXLSXLimits)
	if err := dec.Decode(v); err != nil {
		if reclaim.ErrorCode(err) == reclaim.ETOOLARGE {
			return true, err
		}
		return true, fmt.Errorf("part %s: %w", name, err)
	}
	return true, nil
}

func newXMLDecoder(r io.Reader, lim XLSXLimits) *xml.Decoder {
	return xml.NewDecoder(&xmlGuard{r: r, maxToken: 8*lim.Cell + 4096})
}

// sharedStrings is the shared-string table packed into blocks of at most 1 MiB, so that its
// memory is what its strings take plus 12 bytes each, with no per-string allocation.
type sharedStrings struct {
	blocks [][]byte
	refs   []sstRef
}

type sstRef struct{ block, off, n uint32 }

const sstBlock = 1 << 20

func (t *sharedStrings) add(s string) {
	if len(t.blocks) == 0 || len(t.blocks[len(t.blocks)-1])+len(s) > sstBlock {
		t.blocks = append(t.blocks, make([]byte, 0, max(sstBlock, len(s))))
	}
	b := len(t.blocks) - 1
	t.refs = append(t.refs, sstRef{block: uint32(b), off: uint32(len(t.blocks[b])), n: uint32(len(s))})
	t.blocks[b] = append(t.blocks[b], s...)
}

func (t *sharedStrings) len() int {
	if t == nil {
		return 0
	}
	return len(t.refs)
}

func (t *sharedStrings) get(i int) string {
	r := t.refs[i]
	return string(t.blocks[r.block][r.off : r.off+r.n])
}

// readSharedStrings reads the shared-string table, bounded by lim.SharedStrings in all and
// lim.Cell for each string.
func readSharedStrings(zr *zip.Reader, name string, lim XLSXLimits) (*sharedStrings, error) {
	rc, err := openPart(zr, name, lim)
	if err != nil || rc == nil {
		return nil, err
	}
	defer rc.Close()
	dec := newXMLDecoder(rc, lim)
	out := &sharedStrings{}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, xmlErr(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			s, err := readText(dec, "si", lim.Cell)
			if err != nil {
				return nil, err
			}
			out.add(s)
			// Whole blocks count, with their unused tails, and 12 bytes per string.
			if int64(len(out.blocks))*sstBlock+12*int64(len(out.refs)) > lim.SharedStrings {
				return nil, tooLarge(name, "the shared strings take more than the limit of %d bytes", lim.SharedStrings)
			}
		}
	}
}

func xmlErr(err error) error {
	if reclaim.ErrorCode(err) == reclaim.ETOOLARGE {
		return err
	}
	return fmt.Errorf("malformed XML: %w", err)
}

// readText returns the text of the element end (just opened): its <t> elements, directly or in
// rich-text runs <r>, without phonetic runs <rPh>; at most limit bytes.
func readText(dec *xml.Decoder, end string, limit int) (string, error) {
	var b strings.Builder
	inT, skip := 0, 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "rPh":
				skip++
			case "t":
				inT++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case end:
				return unescapeOOXML(b.String()), nil
			case "rPh":
				skip--
			case "t":
				inT--
			}
		case xml.CharData:
			if inT > 0 && skip == 0 {
				if b.Len()+len(t) > limit {
					return "", tooLarge("", "a cell holds more than the limit of %d bytes of text", limit)
				}
				b.Write(t)
			}
		}
	}
}

// unescapeOOXML decodes the _xHHHH_ escapes SpreadsheetML uses for characters XML cannot carry.
func unescapeOOXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(v))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// sheetReader reads <row> elements of a worksheet one at a time.
type sheetReader struct {
	dec    *xml.Decoder
	sst    *sharedStrings
	lim    XLSXLimits
	rowNum int
	done   bool
	// width, once the header is known, is how many cells of a row are kept: a row with a cell in
	// column XFD must not cost 16,384 cells. The first non-empty cell beyond it is kept in
	// beyondCol (1-based; 0 for none) and beyondVal.
	width     int
	beyondCol int
	beyondVal string
}

// next returns the next row: its number, its cells and the 1-based columns that hold a formula
// without a cached value. io.EOF after the last.
func (r *sheetReader) next() (num int, cells []string, noValue []int, err error) {
	if r.done {
		return 0, nil, nil, io.EOF
	}
	for {
		tok, err := r.dec.RawToken()
		if err == io.EOF {
			r.done = true
			return 0, nil, nil, io.EOF
		}
		if err != nil {
			return 0, nil, nil, xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				r.done = true
				return 0, nil, nil, io.EOF
			}
		case xml.StartElement:
			if t.Name.Local != "row" {
				continue
			}
			num := r.rowNum + 1
			if v := attr(t, "r"); v != "" {
				k, err := strconv.Atoi(v)
				if err != nil || k <= r.rowNum {
					return 0, nil, nil, fmt.Errorf("malformed sheet: row number %q after row %d", v, r.rowNum)
				}
				num = k
			}
			if num > maxSheetRows {
				return 0, nil, nil, tooLarge("", "the sheet has more than %d rows", maxSheetRows)
			}
			r.rowNum = num
			cells, noValue, err := r.readRow()
			return num, cells, noValue, err
		}
	}
}

func (r *sheetReader) readRow() (cells []string, noValue []int, err error) {
	col, total := 0, 0
	r.beyondCol, r.beyondVal = 0, ""
	for {
		tok, err := r.dec.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "row" {
				return cells, noValue, nil
			}
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			col++
			if ref := attr(t, "r"); ref != "" {
				c, err := refColumn(ref)
				if err != nil {
					return nil, nil, fmt.Errorf("malformed sheet: row %d: %w", r.rowNum, err)
				}
				col = c
			}
			if col > maxSheetCols {
				return nil, nil, fmt.Errorf("malformed sheet: row %d has a cell beyond column %d", r.rowNum, maxSheetCols)
			}
			val, hasF, hasV, err := r.readCell(attr(t, "t"))
			if err != nil {
				return nil, nil, err
			}
			if total += len(val); total > r.lim.Row {
				return nil, nil, tooLarge("", "row %d holds more than the limit of %d bytes of text", r.rowNum, r.lim.Row)
			}
			if hasF && !hasV {
				noValue = append(noValue, col)
			}
			if r.width > 0 && col > r.width {
				if strings.TrimSpace(val) != "" && r.beyondCol == 0 {
					r.beyondCol, r.beyondVal = col, val
				}
				continue
			}
			// Before the header, a blank cell is not kept: rows of blanks far to the right must
			// not cost a cell per column either.
			if val != "" && (r.width > 0 || strings.TrimSpace(val) != "") {
				for len(cells) < col {
					cells = append(cells, "")
				}
				cells[col-1] = val
			}
		}
	}
}

// readCell reads a <c> element (just opened) of type typ: its value as stored (shared strings
// resolved), and whether it holds a formula and a value.
func (r *sheetReader) readCell(typ string) (val string, hasF, hasV bool, err error) {
	var v strings.Builder
	var inline string
	inV := false
	for {
		tok, err := r.dec.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", false, false, xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "f":
				hasF = true
			case "v":
				hasV, inV = true, true
			case "is":
				hasV = true
				if inline, err = readText(r.dec, "is", r.lim.Cell); err != nil {
					return "", false, false, err
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "c":
				switch typ {
				case "s":
					s := strings.TrimSpace(v.String())
					if s == "" {
						return "", hasF, hasV, nil
					}
					i, err := strconv.Atoi(s)
					if err != nil || i < 0 || i >= r.sst.len() {
						return "", false, false, fmt.Errorf("malformed sheet: row %d: shared string index %q out of range", r.rowNum, s)
					}
					return r.sst.get(i), hasF, hasV, nil
				case "inlineStr":
					if inline == "" {
						return v.String(), hasF, hasV, nil
					}
					return inline, hasF, hasV, nil
				}
				return v.String(), hasF, hasV, nil
			}
		case xml.CharData:
			if inV {
				if v.Len()+len(t) > r.lim.Cell {
					return "", false, false, tooLarge("", "cell of row %d holds more than the limit of %d bytes", r.rowNum, r.lim.Cell)
				}
				v.Write(t)
			}
		}
	}
}

// refColumn returns the 1-based column of a cell reference such as "AB12".
func refColumn(ref string) (int, error) {
	c := 0
	i := 0
	for ; i < len(ref); i++ {
		ch := ref[i] | 0x20 // lower case
		if ch < 'a' || ch > 'z' {
			break
		}
		c = c*26 + int(ch-'a'+1)
		if c > maxSheetCols {
			return 0, fmt.Errorf("cell reference %.20q beyond column %d", ref, maxSheetCols)
		}
	}
	if i == 0 {
		return 0, fmt.Errorf("bad cell reference %.20q", ref)
	}
	return c, nil
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// next reads the next sheet row: its cells and the 1-based columns holding a formula without a
// cached value.
func (s *xlsxSource) next() (cells []string, noValue []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed sheet near row %d: %v", s.row+1, r)
		}
	}()
	num, cells, noValue, err := s.sheet.next()
	if err != nil {
		return nil, nil, err
	}
	s.row = num
	return cells, noValue, nil
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
		s.sheet.width = len(h)
		return nil
	}
}

// Header implements Source.
func (s *xlsxSource) Header() []string { return s.header }

// Info implements Source.
func (s *xlsxSource) Info() SourceInfo { return s.info }

// Close implements Source.
func (s *xlsxSource) Close() error {
	var err error
	if s.part != nil {
		err = s.part.Close()
		s.part = nil
	}
	if s.closer != nil {
		if e := s.closer.Close(); err == nil {
			err = e
		}
		s.closer = nil
	}
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
		if blankRecord(cells) && len(noValue) == 0 && s.sheet.beyondCol == 0 {
			continue
		}
		row := Row{Line: s.row}
		if c := s.sheet.beyondCol; c > 0 {
			for len(cells) < len(s.header) {
				cells = append(cells, "")
			}
			row.Cells = cells[:len(s.header)]
			return row, rowError(s.row, columnLetter(c-1), s.sheet.beyondVal, "unnamed_column", "row.unnamed_cell",
				msg.A("cell", columnLetter(c-1)+strconv.Itoa(s.row)))
		}
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

// xmlGuard sits between an inflated part and the XML decoder. It follows the markup byte by byte
// and fails as soon as one token (a text run, a tag, a comment, a CDATA section) grows past
// maxToken bytes, or elements nest deeper than maxXMLDepth, so the decoder never buffers more
// than that: a gigabyte-long cell is refused after its first megabyte. Document type
// declarations are refused (a workbook has none).
type xmlGuard struct {
	r        io.Reader
	maxToken int
	st       int
	n        int // bytes of the current token
	depth    int
	quote    byte
	endTag   bool
	prev     byte
	head     []byte // bytes after "<!" while deciding comment or CDATA
	last2    [2]byte
	err      error
}

const (
	gText = iota
	gOpen // just read '<'
	gTag
	gBang
	gComment
	gCDATA
	gPI
)

func (g *xmlGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if e := g.scan(p[:n]); e != nil {
		g.err = e
		return 0, e
	}
	return n, err
}

func (g *xmlGuard) fail() error {
	return tooLarge("", "an XML token of the workbook is longer than the limit of %d bytes (a cell too long to be real)", g.maxToken)
}

func (g *xmlGuard) scan(b []byte) error {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if g.st == gText {
			j := i
			for j < len(b) && b[j] != '<' {
				j++
			}
			g.n += j - i
			if g.n > g.maxToken {
				return g.fail()
			}
			if j == len(b) {
				return nil
			}
			i = j
			g.st, g.n = gOpen, 1
			continue
		}
		g.n++
		if g.n > g.maxToken {
			return g.fail()
		}
		switch g.st {
		case gOpen:
			switch c {
			case '/':
				g.st, g.endTag = gTag, true
			case '?':
				g.st, g.last2 = gPI, [2]byte{}
			case '!':
				g.st, g.head = gBang, g.head[:0]
			default:
				g.st, g.endTag = gTag, false
			}
			g.quote, g.prev = 0, c
		case gTag:
			switch {
			case g.quote != 0:
				if c == g.quote {
					g.quote = 0
				}
			case c == '"' || c == '\'':
				g.quote = c
			case c == '>':
				if g.endTag {
					g.depth--
				} else if g.prev != '/' {
					if g.depth++; g.depth > maxXMLDepth {
						return fmt.Errorf("malformed XML: elements nested deeper than %d", maxXMLDepth)
					}
				}
				g.st, g.n = gText, 0
			}
			g.prev = c
		case gBang:
			g.head = append(g.head, c)
			h := string(g.head)
			switch {
			case h == "--":
				g.st, g.last2 = gComment, [2]byte{}
			case h == "[CDATA[":
				g.st, g.last2 = gCDATA, [2]byte{}
			case strings.HasPrefix("--", h) || strings.HasPrefix("[CDATA[", h):
			default:
				return errors.New("malformed XML: document type declarations are not allowed in a workbook")
			}
		case gComment, gCDATA, gPI:
			end := (g.st == gComment && c == '>' && g.last2 == [2]byte{'-', '-'}) ||
				(g.st == gCDATA && c == '>' && g.last2 == [2]byte{']', ']'}) ||
				(g.st == gPI && c == '>' && g.last2[1] == '?')
			if end {
				g.st, g.n = gText, 0
			}
			g.last2 = [2]byte{g.last2[1], c}
		}
	}
	return nil
}
