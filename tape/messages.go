package tape

import (
	"errors"
	"strings"

	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
	"reclaim/msg"
)

// Field labels join the message catalog, so a message about a field names it in the reader's
// language ("field.principal_outstanding": 本金余额).
func init() {
	for _, f := range Fields {
		msg.Register("field."+f.Name, msg.Text{EN: f.Name, ZH: f.ZH})
	}
}

// RuleDescription returns a rule's one-line description in lang (the English of Rules when the
// catalog has no entry for it).
func RuleDescription(lang msg.Lang, rule string) string {
	if s := msg.Render(lang, "rule."+rule, nil); s != "" {
		return s
	}
	for _, r := range Rules {
		if r.Name == rule {
			return r.Description
		}
	}
	return ""
}

// Render returns the error's message in lang, from its code and args; an error without a code
// (or with one the catalog lacks) renders as its Message.
func (e *RowError) Render(lang msg.Lang) string {
	if e.Code != "" {
		if s := msg.Render(lang, e.Code, e.Args); s != "" {
			return s
		}
	}
	return e.Message
}

// rowError builds a reader's RowError with its code, args and English message.
func rowError(line int, column, value, rule, code string, args msg.Args) *RowError {
	return &RowError{Line: line, Column: column, Value: value, Rule: rule, Code: code, Args: args,
		Message: msg.Render(msg.EN, code, args)}
}

// idReason names what is wrong with a national ID from cnid's error: the sentinel says which
// check failed and the number in its text (a length, a position, a year) is the parameter.
// cnid's texts never repeat the value, so neither do these.
func idReason(err error) (string, msg.Args) {
	s := reasonText(err)
	n := firstNumber(s)
	switch {
	case errors.Is(err, cnid.ErrLength) && strings.Contains(s, "Upgrade15"):
		return "row.id_length15", msg.A("n", n)
	case errors.Is(err, cnid.ErrLength) && n != "":
		return "row.id_length", msg.A("n", n)
	case errors.Is(err, cnid.ErrFormat) && strings.Contains(s, "non-ASCII"):
		return "row.id_non_ascii", nil
	case errors.Is(err, cnid.ErrFormat) && strings.Contains(s, "character 18"):
		return "row.id_last_char", nil
	case errors.Is(err, cnid.ErrFormat) && n != "":
		return "row.id_not_digit", msg.A("pos", n)
	case errors.Is(err, cnid.ErrBirthDate) && strings.Contains(s, "is after "):
		return "row.id_birth_future", msg.A("date", s[strings.Index(s, "is after ")+len("is after "):])
	case errors.Is(err, cnid.ErrBirthDate) && strings.Contains(s, "is before "):
		return "row.id_birth_year", msg.A("year", n, "min", s[strings.Index(s, "is before ")+len("is before "):])
	case errors.Is(err, cnid.ErrBirthDate):
		return "row.id_birth_invalid", nil
	case errors.Is(err, cnid.ErrChecksum):
		return "row.id_checksum", nil
	}
	return "row.id_other", msg.A("detail", s)
}

// mobileReason is idReason for a mobile number.
func mobileReason(err error) (string, msg.Args) {
	s := reasonText(err)
	n := firstNumber(s)
	switch {
	case strings.Contains(s, "characters, want"):
		return "row.mobile_length", msg.A("n", n)
	case strings.Contains(s, "is not a digit"):
		return "row.mobile_not_digit", msg.A("pos", n)
	case strings.Contains(s, "start with"):
		return "row.mobile_prefix", nil
	}
	return "row.mobile_other", msg.A("detail", s)
}

// reasonText is an error's text without its package prefixes: "10 characters, want 11 digits".
func reasonText(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// firstNumber returns the first run of digits in s, or "".
func firstNumber(s string) string {
	i := strings.IndexAny(s, "0123456789")
	if i < 0 {
		return ""
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return s[i:j]
}

// dateCode names why a date cell did not parse. The value itself is in RowError.Value (withheld
// for personal fields), never in the message.
func dateCode(err error, b *Binding) string {
	switch {
	case b != nil && b.DateLayout != "" && errors.Is(err, date.ErrSyntax):
		return "row.date_layout"
	case errors.Is(err, date.ErrInvalid):
		return "row.date_invalid"
	case errors.Is(err, date.ErrRange):
		return "row.date_range"
	}
	return "row.date_syntax"
}

func dateArgs(b *Binding) msg.Args {
	if b != nil && b.DateLayout != "" {
		return msg.A("layout", b.DateLayout)
	}
	return nil
}

// amountCode names why an amount did not parse: "amount_range", "amount_decimals" or
// "amount_syntax" (prefixed "row." or "row.part_" by the caller).
func amountCode(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, money.ErrOverflow) || strings.Contains(s, "out of range"):
		return "amount_range"
	case strings.Contains(s, "more decimals"):
		return "amount_decimals"
	}
	return "amount_syntax"
}

// enumArgs lists a field's values in English ("values") and by their Chinese labels
// ("values_zh").
func enumArgs(f Field) msg.Args {
	spec := Fields[f]
	zh := make([]string, len(spec.Enum))
	for i, v := range spec.Enum {
		zh[i] = v
		if l := spec.EnumZH[v]; l != "" {
			zh[i] = l
		}
	}
	return msg.A("values", strings.Join(spec.Enum, ", "), "values_zh", strings.Join(zh, "、"))
}

// RuleLayout is the rule of a problem binding the tape's header to fields (LayoutError): it
// concerns the whole tape, so its RowErrors have no line.
const RuleLayout = "layout"

// LayoutError is NewLayout's error: every problem found binding the header, each coded like a
// row problem (Rule "layout", Line 0). Its text is the problems' English messages.
type LayoutError struct {
	Problems []RowError
}

func (e *LayoutError) Error() string {
	return "tape: layout: " + e.Render(msg.EN)
}

// Render returns the problems in lang, joined by "; ".
func (e *LayoutError) Render(lang msg.Lang) string {
	parts := make([]string, len(e.Problems))
	for i := range e.Problems {
		parts[i] = e.Problems[i].Render(lang)
	}
	sep := "; "
	if lang == msg.ZH {
		sep = "；"
	}
	return strings.Join(parts, sep)
}

func layoutProblem(code string, kv ...string) RowError {
	a := msg.A(kv...)
	return RowError{Rule: RuleLayout, Code: code, Args: a, Message: msg.Render(msg.EN, code, a)}
}
