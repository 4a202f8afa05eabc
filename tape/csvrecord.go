package tape

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"io"
	"math/bits"
	"unicode/utf8"
)

// recordReader reads CSV records as an encoding/csv Reader does with FieldsPerRecord -1 (and no
// lazy quotes, comments or trimming): the same records, line numbers and errors. A line that holds
// no quote and fits the buffer is split on the delimiter here, without encoding/csv's copying
// through its own buffer and record buffer; any other line, and every line when the delimiter is
// not a single byte, is handed to an encoding/csv Reader that reads through lineFeeder, which gives
// it one line at a time, so that it never reads ahead of the record it parses (FuzzRecordReader).
type recordReader struct {
	br    *bufio.Reader
	comma byte     // the delimiter when the fast path may split on it; 0: every record goes to cr
	bad   bool     // encoding/csv rejects the delimiter (and every Read)
	line  int      // lines consumed
	cells []string // room for the cells of the next records
	lend  []string // room a caller lends for the cells of the next records (csvSource.NextInto)
	feed  lineFeeder
	cr    *csv.Reader
}

// lineFeeder hands the lines of br to the encoding/csv Reader, never past the end of a line per
// Read, and stops a record at limit bytes (tripped).
type lineFeeder struct {
	br      *bufio.Reader
	pending []byte // the rest of a line taken from br
	lines   int    // lines ('\n') delivered
	n       int64  // bytes delivered
	start   int64  // n when the current record started
	limit   int64
	tripped bool
}

func (f *lineFeeder) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		line, err := f.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			err = nil
		}
		if len(line) == 0 {
			return 0, err
		}
		f.pending = line
	}
	room := f.limit - (f.n - f.start)
	if room <= 0 {
		f.tripped = true
		return 0, errRecordTooLarge
	}
	m := min(len(p), len(f.pending))
	if int64(m) > room {
		m = int(room)
	}
	copy(p, f.pending[:m])
	if f.pending[m-1] == '\n' {
		f.lines++
	}
	f.pending = f.pending[m:]
	f.n += int64(m)
	return m, nil
}

func newRecordReader(br *bufio.Reader, comma rune, limit int64) *recordReader {
	r := &recordReader{br: br}
	r.feed = lineFeeder{br: br, limit: limit}
	r.cr = csv.NewReader(&r.feed)
	r.cr.FieldsPerRecord = -1
	r.cr.Comma = comma
	// The fast path takes a delimiter that encoding/csv accepts and that is one byte.
	r.bad = comma == 0 || comma == '"' || comma == '\r' || comma == '\n' || !utf8.ValidRune(comma) || comma == utf8.RuneError
	if !r.bad && comma < utf8.RuneSelf {
		r.comma = byte(comma)
	}
	return r
}

// read returns the next record and the line it starts on. valid reports that every cell is known
// to be valid UTF-8 (false: not checked). Errors are those of encoding/csv's Read, *csv.ParseError
// with lines counted from the start of br; errRecordTooLarge when a record is longer than the limit
// (tripped is then set).
func (r *recordReader) read() (rec []string, line int, valid bool, err error) {
	if r.bad {
		_, err := r.cr.Read() // its error, having read nothing
		return nil, 0, false, err
	}
	for {
		b, err := r.br.ReadSlice('\n')
		switch {
		case err == nil:
		case err == io.EOF:
			if len(b) == 0 {
				return nil, 0, false, io.EOF
			}
		case err == bufio.ErrBufferFull:
			return r.slow(b)
		default:
			// encoding/csv returns what it read with the error, which is final for the caller.
			return nil, 0, false, err
		}
		if r.comma == 0 || int64(len(b)) > r.feed.limit || bytes.IndexByte(b, '"') >= 0 {
			return r.slow(b)
		}
		r.line++
		// encoding/csv drops the line's "\n" or "\r\n", or a "\r" before the end of the file.
		content := b
		if err == nil {
			content = content[:len(content)-1]
		}
		if n := len(content); n > 0 && content[n-1] == '\r' {
			content = content[:n-1]
		}
		if len(content) == 0 {
			continue // an empty line
		}
		valid = utf8.Valid(content)
		s := string(content)
		n := bytes.Count(content, []byte{r.comma}) + 1
		switch {
		case len(r.lend) >= n:
			rec, r.lend = r.lend[:n:n], r.lend[n:]
		default:
			if len(r.cells) < n {
				// The cells of many records are cut from one array, each record's slice
				// capped at its own cells. A part is never handed out twice: a row's cells
				// live as long as the row.
				r.cells = make([]string, max(32*n, 1024))
			}
			rec, r.cells = r.cells[:n:n], r.cells[n:]
		}
		splitCells(rec, s, content, r.comma)
		return rec, r.line, valid, nil
	}
}

// splitCells cuts s, the string of b, at each c into rec, which has room for exactly the cells.
// It looks at eight bytes at a time: cells are short, and a call to find each delimiter cost more
// than the search.
func splitCells(rec []string, s string, b []byte, c byte) {
	const lo7, ones = 0x7F7F7F7F7F7F7F7F, 0x0101010101010101
	pat := ones * uint64(c)
	k, start, i := 0, 0, 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ pat // zero bytes where b holds c
		m := ^(((x & lo7) + lo7) | x | lo7)          // the high bit of each zero byte, exactly
		for m != 0 {
			j := i + bits.TrailingZeros64(m)>>3
			rec[k] = s[start:j]
			k++
			start = j + 1
			m &= m - 1
		}
	}
	for ; i < len(b); i++ {
		if b[i] == c {
			rec[k] = s[start:i]
			k++
			start = i + 1
		}
	}
	rec[k] = s[start:]
}

// slow reads the record that starts with b (a line, or the first part of one, just taken from
// br) with encoding/csv.
func (r *recordReader) slow(b []byte) ([]string, int, bool, error) {
	r.feed.pending = b
	r.feed.start = r.feed.n
	delta := r.line - r.feed.lines // the reader's line numbers are ours less delta
	rec, err := r.cr.Read()
	r.line = r.feed.lines + delta
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			p := *pe
			p.StartLine += delta
			p.Line += delta
			return nil, 0, false, &p
		}
		return nil, 0, false, err
	}
	line, _ := r.cr.FieldPos(0)
	return rec, line + delta, false, nil
}
