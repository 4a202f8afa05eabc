package tape

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"reclaim/csvsafe"
)

// WriterOptions says how a Writer writes a tape.
type WriterOptions struct {
	// Format is "csv" (the default) or "xlsx".
	Format string
	// Encoding applies to CSV: "utf-8" (the default), "utf-8-bom" (what Excel on Windows needs to
	// open UTF-8 correctly), "gbk" or "gb18030". It must be empty for XLSX.
	Encoding string
	// Sheet names the XLSX sheet; empty means "Sheet1".
	Sheet string
}

// MaxXLSXRows is the most rows (header included) an XLSX sheet holds.
const MaxXLSXRows = excelize.TotalRows

// maxXLSXCellChars is the longest XLSX cell, in UTF-16 code units.
const maxXLSXCellChars = excelize.TotalCellChars

// Writer writes a tape as CSV or XLSX, streaming: memory does not grow with the number of rows
// (excelize's StreamWriter spills to a temporary file). Every cell is written as text, so reading
// the file back with Open gives the same header and cells, with four exceptions inherent to the
// formats and the readers: header cells are trimmed of spaces, rows whose cells are all blank are
// skipped, in CSV a "\r\n" inside a cell reads back as "\n", and in CSV a cell that a spreadsheet
// would run as a formula (it starts with =, +, -, @, a tab or a carriage return and is not a plain
// number) is written with a single quote in front (package csvsafe).
type Writer struct {
	opts   WriterOptions
	width  int // header width; 0 before the header
	rows   int
	closed bool
	err    error

	// CSV
	buf *bufio.Writer
	tw  io.WriteCloser // transform writer for GBK/GB18030, nil for UTF-8
	dst io.Writer      // what cw writes to
	cw  *csv.Writer
	enc *encoding.Encoder

	// XLSX
	out     io.Writer
	maxRows int // MaxXLSXRows; lowered by tests
	f       *excelize.File
	sw      *excelize.StreamWriter
	row     []any
}

// NewWriter returns a Writer to w. The first Write is the header.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	wr := &Writer{opts: opts}
	switch strings.ToLower(opts.Format) {
	case "", "csv":
		wr.opts.Format = "csv"
		wr.buf = bufio.NewWriterSize(w, 64<<10)
		var dst io.Writer = wr.buf
		switch strings.ToLower(opts.Encoding) {
		case "", "utf-8", "utf8":
		case "utf-8-bom", "utf8-bom":
			wr.buf.WriteString("\ufeff")
		case "gbk", "cp936", "gb2312":
			wr.enc = simplifiedchinese.GBK.NewEncoder()
			wr.tw = transform.NewWriter(wr.buf, simplifiedchinese.GBK.NewEncoder())
			dst = wr.tw
		case "gb18030":
			wr.tw = transform.NewWriter(wr.buf, simplifiedchinese.GB18030.NewEncoder())
			dst = wr.tw
		default:
			return nil, fmt.Errorf("tape: writer: unknown encoding %q (use utf-8, utf-8-bom, gbk or gb18030)", opts.Encoding)
		}
		wr.cw, wr.dst = csv.NewWriter(dst), dst
	case "xlsx":
		wr.opts.Format = "xlsx"
		if opts.Encoding != "" {
			return nil, fmt.Errorf("tape: writer: an XLSX file has no text encoding (got %q)", opts.Encoding)
		}
		sheet := opts.Sheet
		if sheet == "" {
			sheet = "Sheet1"
		}
		wr.f = excelize.NewFile()
		if sheet != "Sheet1" {
			if err := wr.f.SetSheetName("Sheet1", sheet); err != nil {
				wr.f.Close()
				return nil, fmt.Errorf("tape: writer: sheet name %q: %w", sheet, err)
			}
		}
		sw, err := wr.f.NewStreamWriter(sheet)
		if err != nil {
			wr.f.Close()
			return nil, fmt.Errorf("tape: writer: sheet name %q: %w", sheet, err)
		}
		wr.sw, wr.out, wr.maxRows = sw, w, MaxXLSXRows
	default:
		return nil, fmt.Errorf("tape: writer: unknown format %q (use csv or xlsx)", opts.Format)
	}
	return wr, nil
}

// Write writes one row: the header first, then data rows with exactly as many cells as the
// header. It fails, writing nothing of the row, on a row of the wrong width, an empty header
// cell, a cell that is not valid UTF-8, a character the encoding cannot hold (GBK), and for XLSX
// a cell longer than 32,767 characters, a character XML cannot carry, or a row past 1,048,576.
// After an I/O error every later call returns it.
func (w *Writer) Write(cells []string) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("tape: writer: write after Close")
	}
	line := w.rows + 1
	if w.width == 0 {
		if len(cells) == 0 {
			return errors.New("tape: writer: the header has no cells")
		}
		for i, c := range cells {
			if strings.TrimSpace(c) == "" {
				return fmt.Errorf("tape: writer: header cell %d (%s) is empty", i+1, columnLetter(i))
			}
		}
	} else if len(cells) != w.width {
		return fmt.Errorf("tape: writer: row %d has %d cells, the header %d", line, len(cells), w.width)
	}
	for i, c := range cells {
		if !utf8.ValidString(c) {
			return fmt.Errorf("tape: writer: row %d, column %s: the cell is not valid UTF-8", line, columnLetter(i))
		}
	}
	var err error
	if w.cw != nil {
		err = w.writeCSV(cells, line)
	} else {
		err = w.writeXLSX(cells, line)
	}
	if err != nil {
		return err
	}
	if w.width == 0 {
		w.width = len(cells)
	}
	w.rows++
	return nil
}

func (w *Writer) writeCSV(cells []string, line int) error {
	if w.enc != nil {
		for i, c := range cells {
			if isASCII(c) {
				continue
			}
			for _, r := range c {
				if _, err := w.enc.String(string(r)); err != nil {
					return fmt.Errorf("tape: writer: row %d, column %s: character %q cannot be written in GBK (use gb18030 or utf-8)", line, columnLetter(i), r)
				}
			}
		}
	}
	if w.width == 0 {
		// The header is quoted wherever it holds a character a reader could take for the
		// delimiter, so that delimiter detection (see OpenOptions.Delimiter) finds the comma.
		if _, err := io.WriteString(w.dst, quoteHeader(cells)); err != nil {
			w.err = fmt.Errorf("tape: writer: %w", err)
			return w.err
		}
		return nil
	}
	if err := w.cw.Write(safeCells(cells)); err != nil {
		w.err = fmt.Errorf("tape: writer: %w", err)
		return w.err
	}
	return nil
}

// safeCells returns cells with every cell a spreadsheet could take for a formula neutralised
// (csvsafe.Cell); cells itself when none is.
func safeCells(cells []string) []string {
	for i, c := range cells {
		if csvsafe.Risky(c) {
			out := append([]string(nil), cells...)
			for j := i; j < len(out); j++ {
				out[j] = csvsafe.Cell(out[j])
			}
			return out
		}
	}
	return cells
}

// quoteHeader writes a CSV header line, quoting every cell that holds a comma, semicolon, tab,
// '|', quote, line break or leading or trailing space.
func quoteHeader(cells []string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		c = csvsafe.Cell(c)
		if strings.ContainsAny(c, ",;\t|\"\r\n") || strings.TrimSpace(c) != c {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(c, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(c)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// xmlChar reports whether r may appear in XML 1.0 text.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func (w *Writer) writeXLSX(cells []string, line int) error {
	if line > w.maxRows {
		return fmt.Errorf("tape: writer: an XLSX sheet holds at most %d rows (header included); write CSV for bigger tapes", w.maxRows)
	}
	if len(cells) > excelize.MaxColumns {
		return fmt.Errorf("tape: writer: an XLSX sheet holds at most %d columns", excelize.MaxColumns)
	}
	for i, c := range cells {
		n := 0
		for _, r := range c {
			if !xmlChar(r) {
				return fmt.Errorf("tape: writer: row %d, column %s: control character %U cannot be stored in XLSX", line, columnLetter(i), r)
			}
			n += len(utf16.Encode([]rune{r}))
		}
		if n > maxXLSXCellChars {
			return fmt.Errorf("tape: writer: row %d, column %s: %d characters; an XLSX cell holds at most %d (write CSV)", line, columnLetter(i), n, maxXLSXCellChars)
		}
	}
	if cap(w.row) < len(cells) {
		w.row = make([]any, len(cells))
	}
	row := w.row[:len(cells)]
	for i, c := range cells {
		row[i] = c
	}
	ref, err := excelize.CoordinatesToCellName(1, line)
	if err == nil {
		err = w.sw.SetRow(ref, row)
	}
	if err != nil {
		w.err = fmt.Errorf("tape: writer: row %d: %w", line, err)
		return w.err
	}
	return nil
}

// Close finishes the file: it flushes CSV, or assembles and writes the XLSX workbook. It does not
// close the underlying io.Writer. A Writer that never got a header writes an empty CSV, or a
// workbook with an empty sheet.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.cw != nil {
		w.cw.Flush()
		err := w.cw.Error()
		if w.tw != nil {
			if e := w.tw.Close(); err == nil {
				err = e
			}
		}
		if e := w.buf.Flush(); err == nil {
			err = e
		}
		if err != nil && w.err == nil {
			w.err = fmt.Errorf("tape: writer: %w", err)
		}
		return w.err
	}
	defer w.f.Close()
	if w.err != nil {
		return w.err
	}
	if err := w.sw.Flush(); err != nil {
		w.err = fmt.Errorf("tape: writer: %w", err)
		return w.err
	}
	if err := w.f.Write(w.out); err != nil {
		w.err = fmt.Errorf("tape: writer: %w", err)
	}
	return w.err
}
