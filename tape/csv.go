package tape

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"reclaim/msg"
)

// csvSource streams a CSV tape: the file is decoded to UTF-8 on the fly and read one record at a
// time, so memory use is bounded by the longest record.
type csvSource struct {
	closer io.Closer
	r      *recordReader
	name   string
	header []string
	width  int // cells in the header record as written (before trailing empty cells are dropped)
	info   SourceInfo
	utf8   bool // the text is UTF-8 as read (not decoded from GB18030), so check each row
	last   int  // line of the last record read
	fatal  error
}

var errRecordTooLarge = errors.New("record too large")

func newCSVSource(br *bufio.Reader, c io.Closer, name string, opts OpenOptions) (*csvSource, error) {
	enc, ok := normalizeEncoding(opts.Encoding)
	if !ok {
		return nil, fmt.Errorf("tape: %s: unknown encoding %q (use utf-8, gbk or gb18030)", name, opts.Encoding)
	}
	head, _ := br.Peek(sniffSize)
	s := &csvSource{closer: c, name: name, info: SourceInfo{Format: "csv"}}
	bom := bytes.HasPrefix(head, []byte("\xEF\xBB\xBF"))
	if bom {
		if enc == "gbk" || enc == "gb18030" {
			return nil, fmt.Errorf("tape: %s: declared %s but the file starts with a UTF-8 byte-order mark; it is UTF-8 (drop the encoding setting)", name, enc)
		}
		br.Discard(3)
		head = head[3:]
		enc = "utf-8"
	}
	sample := head
	if len(head) >= sniffSize-3 {
		sample = trimPartialRune(head)
	}
	switch enc {
	case "utf-8":
		if !utf8.Valid(sample) {
			line := 1 + bytes.Count(sample[:invalidUTF8At(sample)], []byte("\n"))
			return nil, fmt.Errorf("tape: %s: declared UTF-8 but line %d is not valid UTF-8; the file looks GBK/GB18030-encoded (declare encoding gbk, or leave it empty to detect)", name, line)
		}
	case "":
		enc = "utf-8"
		if !utf8.Valid(sample) || looksGB18030(sample) {
			enc = "gb18030"
		}
	}
	text := br
	switch enc {
	case "utf-8":
		s.utf8 = true
		s.info.Encoding = "utf-8"
		if bom {
			s.info.Encoding = "utf-8-bom"
		}
	case "gbk":
		s.info.Encoding = "gbk"
		text = bufio.NewReaderSize(transform.NewReader(br, simplifiedchinese.GBK.NewDecoder()), sniffSize)
	case "gb18030":
		s.info.Encoding = "gb18030"
		text = bufio.NewReaderSize(transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), sniffSize)
	}
	limit := int64(opts.MaxRecordBytes)
	if limit <= 0 {
		limit = defaultMaxRecordBytes
	}
	comma := opts.Delimiter
	if comma == 0 {
		comma = detectDelimiter(sniffText(head, enc), opts.headerRow())
	}
	s.r = newRecordReader(text, comma, limit)
	if err := s.readHeader(opts.headerRow()); err != nil {
		return nil, err
	}
	return s, nil
}

// trimPartialRune drops a multi-byte UTF-8 sequence cut off at the end of a sample.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// looksGB18030 catches short GBK texts whose bytes happen to be valid UTF-8 ("一" is D2 BB, which
// UTF-8 reads as Cyrillic "һ"): the sample has two-byte UTF-8 characters only, some of them in the
// Greek to NKo blocks (U+0370-U+07FF, implausible on Chinese or English tapes), none of the
// three-byte ones that CJK text in UTF-8 is made of, and it decodes as GB18030 to CJK text.
func looksGB18030(sample []byte) bool {
	odd := false
	for _, r := range string(sample) {
		switch {
		case r >= 0x800:
			return false
		case r >= 0x370:
			odd = true
		}
	}
	if !odd {
		return false
	}
	dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(sample)
	if err != nil {
		return false
	}
	for _, r := range string(dec) {
		if r == utf8.RuneError {
			return false
		}
	}
	for _, r := range string(dec) {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// sniffText returns the start of the file as UTF-8 for delimiter detection: a GBK or GB18030
// character's second byte can be 0x7C, the byte of '|' (亅 is 0x81 0x7C in GBK), so counting
// delimiters in the undecoded bytes could take a one-column GBK file for a '|'-separated one.
func sniffText(head []byte, enc string) []byte {
	if enc != "gbk" && enc != "gb18030" {
		return head
	}
	d, err := simplifiedchinese.GB18030.NewDecoder().Bytes(head)
	if err != nil {
		return head
	}
	return d
}

// detectDelimiter picks the most frequent of comma, tab, semicolon and '|' outside quotes on the
// header line (comma on a tie or when none appears).
func detectDelimiter(head []byte, headerRow int) rune {
	lines := bytes.SplitN(head, []byte("\n"), headerRow+1)
	line := lines[0]
	if headerRow-1 < len(lines) {
		line = lines[headerRow-1]
	}
	counts := map[byte]int{}
	inQuote := false
	for _, c := range line {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ',' || c == '\t' || c == ';' || c == '|'):
			counts[c]++
		}
	}
	best, n := byte(','), counts[',']
	for _, c := range []byte{'\t', ';', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

func (s *csvSource) readHeader(headerRow int) error {
	for {
		rec, line, _, err := s.r.read()
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("tape: %s: no header row (the file is empty, or has fewer than %d lines)", s.name, headerRow)
			}
			return fmt.Errorf("tape: %s: reading the header: %w", s.name, s.readError(err))
		}
		s.last = line
		if line < headerRow || blankRecord(rec) {
			continue
		}
		s.width = len(rec)
		h := make([]string, len(rec))
		for i, c := range rec {
			h[i] = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
		}
		for len(h) > 0 && h[len(h)-1] == "" {
			h = h[:len(h)-1]
		}
		for i, c := range h {
			if c == "" {
				return fmt.Errorf("tape: %s: line %d: the header of column %d (%s) is empty; every column needs a name", s.name, line, i+1, columnLetter(i))
			}
			if s.utf8 && !utf8.ValidString(c) {
				return fmt.Errorf("tape: %s: line %d: header of column %d (%s) is not valid UTF-8; the file may be GBK (declare encoding gbk)", s.name, line, i+1, columnLetter(i))
			}
		}
		s.header = h
		return nil
	}
}

// readError turns a csv.Reader error into a located message.
func (s *csvSource) readError(err error) error {
	if s.r.feed.tripped {
		return fmt.Errorf("the record after line %d is longer than %d bytes: a quote that is never closed, or not a CSV file", s.last, s.r.feed.limit)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		code, args := csvSyntaxCode(pe)
		return rowError(pe.StartLine, "", "", "csv_syntax", code, args)
	}
	return err
}

func csvSyntaxCode(pe *csv.ParseError) (string, msg.Args) {
	line, col := strconv.Itoa(pe.Line), strconv.Itoa(pe.Column)
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		return "row.csv_quote", msg.A("start", strconv.Itoa(pe.StartLine), "line", line, "col", col)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return "row.csv_bare_quote", msg.A("line", line, "col", col)
	}
	return "row.csv_other", msg.A("detail", pe.Err.Error(), "line", line, "col", col)
}

func blankRecord(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// Header implements Source.
func (s *csvSource) Header() []string { return s.header }

// Info implements Source.
func (s *csvSource) Info() SourceInfo { return s.info }

// Close implements Source.
func (s *csvSource) Close() error {
	if s.closer != nil {
		c := s.closer
		s.closer = nil
		return c.Close()
	}
	return nil
}

// NextInto is Next, except that the cells of a row read without encoding/csv (a record without
// quotes) are cut from the front of buf when it has room; it returns the rest of buf. The caller
// lends buf's memory to the rows: it must not write to it, or lend it again, while it uses them.
// (An import reads its rows in chunks and lends each chunk the same memory every time it is
// filled, instead of allocating each row's cells.)
func (s *csvSource) NextInto(buf []string) (Row, []string, error) {
	s.r.lend = buf
	row, err := s.Next()
	buf, s.r.lend = s.r.lend, nil
	return row, buf, err
}

// Next implements Source. Syntax errors and rows whose cell count differs from the header come
// back as *RowError with the row's line, and the next call reads on; any other error (I/O, an
// over-long record) is final and returned again on every later call.
func (s *csvSource) Next() (Row, error) {
	if s.fatal != nil {
		return Row{}, s.fatal
	}
	for {
		rec, line, valid, err := s.r.read()
		if err != nil {
			if err == io.EOF && !s.r.feed.tripped {
				return Row{}, io.EOF
			}
			e := s.readError(err)
			var re *RowError
			if errors.As(e, &re) {
				s.last = re.Line
				return Row{Line: re.Line}, re
			}
			s.fatal = fmt.Errorf("tape: %s: %w", s.name, e)
			return Row{}, s.fatal
		}
		s.last = line
		if blankRecord(rec) {
			continue
		}
		row := Row{Line: line, Cells: rec}
		if len(rec) != s.width {
			return row, rowError(line, "", "", "field_count", "row.field_count",
				msg.A("cells", strconv.Itoa(len(rec)), "header", strconv.Itoa(s.width)))
		}
		for i := len(s.header); i < len(rec); i++ {
			if strings.TrimSpace(rec[i]) != "" {
				return row, rowError(line, columnLetter(i), rec[i], "unnamed_column", "row.unnamed_column",
					msg.A("n", strconv.Itoa(i+1), "letter", columnLetter(i)))
			}
		}
		row.Cells = rec[:len(s.header)]
		if s.utf8 && valid {
			return row, nil // the whole line is valid UTF-8
		}
		for i, c := range row.Cells {
			if s.utf8 && !utf8.ValidString(c) {
				return row, rowError(line, s.header[i], strings.ToValidUTF8(c, "\uFFFD"), "encoding", "row.encoding_utf8", nil)
			}
			if !s.utf8 && strings.ContainsRune(c, utf8.RuneError) {
				return row, rowError(line, s.header[i], c, "encoding", "row.encoding", msg.A("encoding", strings.ToUpper(s.info.Encoding)))
			}
		}
		return row, nil
	}
}
