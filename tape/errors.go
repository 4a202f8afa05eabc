package tape

import (
	"fmt"
	"strconv"
)

// RowError is one broken rule in one row of a tape: where (line and column), what (the field and
// the value as written), which rule, and a message a person can act on. Readers return it for
// malformed rows; the validator collects every RowError of a row instead of stopping at the first.
type RowError struct {
	Line    int    `json:"line"`             // 1-based line (CSV) or row (XLSX) of the file; 0 when not tied to a row
	Column  string `json:"column,omitempty"` // the column header as written in the tape, if any
	Field   string `json:"field,omitempty"`  // the canonical field name, if any
	Value   string `json:"value,omitempty"`  // the offending value as written (personal fields are masked)
	Rule    string `json:"rule"`             // a stable rule name such as "claim_sum" or "national_id"
	Message string `json:"message"`          // what is wrong, in plain English (Render("en"))
	// Code and Args name the message in the catalog of package msg, for a reader's language;
	// Args never hold personal data.
	Code string            `json:"code,omitempty"`
	Args map[string]string `json:"args,omitempty"`
}

// Error implements error: "line 12, column 本金余额 (principal_outstanding): value "abc": amount_format: ...".
func (e *RowError) Error() string {
	s := ""
	if e.Line > 0 {
		s = "line " + strconv.Itoa(e.Line)
	}
	col := e.Column
	if e.Field != "" && e.Field != e.Column {
		if col == "" {
			col = e.Field
		} else {
			col += " (" + e.Field + ")"
		}
	}
	if col != "" {
		if s != "" {
			s += ", "
		}
		s += "column " + col
	}
	if e.Value != "" {
		s += fmt.Sprintf(", value %q", e.Value)
	}
	if s != "" {
		s += ": "
	}
	return s + e.Rule + ": " + e.Message
}
