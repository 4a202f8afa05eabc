package tape

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsupportedFormat is returned (wrapped, with the reason) by Open and OpenReader for files that
// are neither CSV nor XLSX: legacy .xls workbooks, PDFs, archives and other binaries. Test with
// errors.Is.
var ErrUnsupportedFormat = errors.New("tape: unsupported file format")

// OpenOptions says how Open reads a tape. The zero value detects everything.
type OpenOptions struct {
	// Encoding forces the CSV text encoding: "utf-8" (a byte-order mark is still skipped), "gbk"
	// or "gb18030". Empty detects: a UTF-8 byte-order mark means UTF-8, and invalid UTF-8 in the
	// first 64 KiB means GB18030 (a superset of GBK and GB2312). Ignored for XLSX.
	Encoding string
	// Sheet names the XLSX sheet to read; empty reads the first sheet. Ignored for CSV.
	Sheet string
	// HeaderRow is the 1-based row (XLSX) or line (CSV) that holds the headers; rows above it are
	// skipped. Zero means 1. For CSV, the header is the first record that starts on or after
	// this line.
	HeaderRow int
	// Delimiter forces the CSV field separator; zero detects comma, tab, semicolon or '|' from
	// the header line (comma when none appears).
	Delimiter rune
	// MaxRecordBytes bounds one CSV record (after decoding); a longer record, typically a quote
	// that is never closed, stops reading with an error. Zero means 16 MiB.
	MaxRecordBytes int
	// XLSX bounds what an XLSX workbook may unpack (zero fields: DefaultXLSXLimits).
	XLSX XLSXLimits
}

// WithMapping returns o with the encoding, sheet and header row of m filled in where o leaves
// them unset. m may be nil.
func (o OpenOptions) WithMapping(m *Mapping) OpenOptions {
	if m == nil {
		return o
	}
	if o.Encoding == "" {
		o.Encoding = m.Encoding
	}
	if o.Sheet == "" {
		o.Sheet = m.Sheet
	}
	if o.HeaderRow == 0 {
		o.HeaderRow = m.HeaderRow
	}
	return o
}

const defaultMaxRecordBytes = 16 << 20

// maxXLSXBytes bounds the compressed size of a workbook OpenReader reads into memory.
const maxXLSXBytes = 1 << 30

func (o OpenOptions) headerRow() int {
	if o.HeaderRow < 1 {
		return 1
	}
	return o.HeaderRow
}

// Open opens the tape at path. The format comes from the file's first bytes (a ZIP archive is
// XLSX; OLE2, PDF, gzip and other known binaries are rejected with ErrUnsupportedFormat) and then
// from its extension (.csv, .tsv and .txt are CSV; .xls is rejected). A file with an unknown
// extension that holds no NUL byte in its first 64 KiB is read as CSV. The Source owns the file
// and closes it on Close. Errors name the file.
func Open(path string, opts OpenOptions) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tape: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tape: %w", err)
	}
	src, err := open(io.NewSectionReader(f, 0, st.Size()), f, st.Size(), f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// OpenReaderAt reads a tape of size bytes from r, as Open does a file: CSV is streamed, and an
// XLSX workbook is read in place (never copied into memory or to disk). name (a file name,
// possibly empty) supplies the extension when the content does not decide the format, and
// prefixes errors. If r is an io.Closer the Source closes it on Close.
func OpenReaderAt(r io.ReaderAt, size int64, name string, opts OpenOptions) (Source, error) {
	var c io.Closer
	if rc, ok := r.(io.Closer); ok {
		c = rc
	}
	return open(io.NewSectionReader(r, 0, size), r, size, c, name, opts)
}

// OpenReader reads a tape from r; name (a file name, possibly empty) supplies the extension when
// the content does not decide the format, and prefixes errors. CSV is streamed from r; XLSX is
// read into memory first (at most 1 GiB), as the ZIP format requires. If r is an io.Closer the
// Source closes it on Close.
func OpenReader(r io.Reader, name string, opts OpenOptions) (Source, error) {
	var c io.Closer
	if rc, ok := r.(io.Closer); ok {
		c = rc
	}
	return open(r, nil, 0, c, name, opts)
}

// open reads the tape from r; ra, when not nil, is the same content with random access (size
// bytes), which an XLSX workbook is read through.
func open(r io.Reader, ra io.ReaderAt, size int64, c io.Closer, name string, opts OpenOptions) (Source, error) {
	label := name
	if label == "" {
		label = "tape"
	}
	if opts.HeaderRow < 0 {
		return nil, fmt.Errorf("tape: %s: header row %d: must be 1 or more", label, opts.HeaderRow)
	}
	br := bufio.NewReaderSize(r, sniffSize+16)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("tape: %s: %w", label, err)
	}
	format, err := detectFormat(head, name)
	if err != nil {
		return nil, fmt.Errorf("tape: %s: %w", label, err)
	}
	switch format {
	case "xlsx":
		if ra == nil {
			data, err := io.ReadAll(io.LimitReader(br, maxXLSXBytes+1))
			if err != nil {
				return nil, fmt.Errorf("tape: %s: %w", label, err)
			}
			if len(data) > maxXLSXBytes {
				return nil, fmt.Errorf("tape: %s: %w", label, tooLarge(label, "workbook larger than %d bytes; read it from a file", maxXLSXBytes))
			}
			ra, size = bytes.NewReader(data), int64(len(data))
		}
		return newXLSXSource(ra, size, c, label, opts)
	default:
		return newCSVSource(br, c, label, opts)
	}
}

// sniffSize is how much of a file format and encoding detection look at.
const sniffSize = 64 << 10

var magics = []struct {
	prefix []byte
	what   string
}{
	{[]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "a legacy Excel .xls (or encrypted) workbook; save it as .xlsx or CSV"},
	{[]byte("%PDF"), "a PDF document; ask the seller for the tape as CSV or XLSX"},
	{[]byte{0x1F, 0x8B}, "a gzip archive; decompress it first"},
	{[]byte("7z\xBC\xAF\x27\x1C"), "a 7-Zip archive; extract it first"},
	{[]byte("Rar!"), "a RAR archive; extract it first"},
	{[]byte("{\\rtf"), "an RTF document"},
}

func detectFormat(head []byte, name string) (string, error) {
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return "xlsx", nil
	}
	if bytes.HasPrefix(head, []byte("PK")) && len(head) >= 4 && (head[2] == 5 || head[2] == 7) {
		return "", fmt.Errorf("%w: an empty or split ZIP archive", ErrUnsupportedFormat)
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, m.prefix) {
			return "", fmt.Errorf("%w: %s", ErrUnsupportedFormat, m.what)
		}
	}
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return "", fmt.Errorf("%w: UTF-16 text; save the CSV as UTF-8 or GBK", ErrUnsupportedFormat)
	}
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".xlsx", ".xlsm":
		return "", fmt.Errorf("%w: the name says %s but the content is not a ZIP archive (a corrupt or renamed file)", ErrUnsupportedFormat, ext)
	case ".xls":
		return "", fmt.Errorf("%w: legacy .xls workbooks are not read; save it as .xlsx or CSV", ErrUnsupportedFormat)
	case ".csv", ".tsv", ".txt", "":
	default:
		if bytes.IndexByte(head, 0) >= 0 {
			return "", fmt.Errorf("%w: %s is a binary file; tapes are CSV or XLSX", ErrUnsupportedFormat, ext)
		}
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return "", fmt.Errorf("%w: the file holds NUL bytes, so it is not CSV text (UTF-16 or a binary?)", ErrUnsupportedFormat)
	}
	return "csv", nil
}

// normalizeEncoding maps the encoding names accepted in options and mapping files to the ones
// SourceInfo reports: "", "utf-8", "gbk" or "gb18030".
func normalizeEncoding(e string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(e)) {
	case "":
		return "", true
	case "utf-8", "utf8", "utf-8-bom", "utf8-bom":
		return "utf-8", true
	case "gbk", "cp936", "gb2312", "936":
		return "gbk", true
	case "gb18030":
		return "gb18030", true
	}
	return "", false
}

// columnLetter returns the spreadsheet letter of a 0-based column index ("A", "AB").
func columnLetter(i int) string {
	s := ""
	for n := i + 1; n > 0; n = (n - 1) / 26 {
		s = string(rune('A'+(n-1)%26)) + s
	}
	return s
}
