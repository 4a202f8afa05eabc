package workout

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"reclaim"
)

// ContactLogColumns is the header of a contact log, in the order collection-rules.md gives it.
// Every column is required; extra columns are ignored except the optional ContactLogOptional.
var ContactLogColumns = []string{"contact_id", "debtor_id", "debt_id", "channel", "party", "number", "at", "outcome", "consent"}

// ContactLogOptional are the optional columns ReadContactLog also reads when present.
var ContactLogOptional = []string{"agent", "agency"}

// MaxContactLogField bounds one field of a contact log, in bytes; a longer field is an error.
const MaxContactLogField = 4096

// ReadContactLog reads a contact log (collection-rules.md, "The contact log and the audit"): CSV,
// UTF-8 (a leading byte-order mark is skipped), a header naming at least ContactLogColumns in any
// order (names are trimmed and matched case-insensitively; other columns are ignored, except
// agent and agency, which are read when present), one contact a line. Fields are trimmed of
// surrounding spaces. contact_id and debtor_id must not be empty and contact_id must be unique;
// channel, party, outcome and consent must be one of their values; at must be RFC 3339 with a UTC
// offset ("Z" is the offset +00:00). The contacts are returned in file order (TimeOrder gives the
// audit's order).
//
// On the first bad line it returns a reclaim.Error with code EINVALID whose message names the
// line and field, and Fields "line", "field", "value" and "rule"; no contacts are returned.
func ReadContactLog(r io.Reader) ([]Contact, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, logError(1, "header", "", "the file is empty: want a header "+strings.Join(ContactLogColumns, ","))
		}
		return nil, csvError(err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; !dup && h != "" {
			col[h] = i
		}
	}
	var missing []string
	for _, name := range ContactLogColumns {
		if _, ok := col[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, logError(1, missing[0], "", "missing required column(s) "+strings.Join(missing, ", ")+
			": want a header with "+strings.Join(ContactLogColumns, ","))
	}
	idx := func(name string) int {
		if i, ok := col[name]; ok {
			return i
		}
		return -1
	}
	names := [...]string{"contact_id", "debtor_id", "debt_id", "channel", "party", "number", "at", "outcome", "consent", "agent", "agency"}
	ci := [...]int{idx("contact_id"), idx("debtor_id"), idx("debt_id"), idx("channel"), idx("party"), idx("number"),
		idx("at"), idx("outcome"), idx("consent"), idx("agent"), idx("agency")}
	width := len(head) // head is reused by the reader from here on (ReuseRecord)
	seen := map[string]int{}
	var out []Contact
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			return nil, logError(line, "", "", "has "+strconv.Itoa(len(rec))+" fields, the header has "+strconv.Itoa(width))
		}
		get := func(k int) string {
			if ci[k] < 0 {
				return ""
			}
			return strings.TrimSpace(rec[ci[k]])
		}
		for k, i := range ci {
			if i >= 0 && len(rec[i]) > MaxContactLogField {
				return nil, logError(line, names[k], "", "is longer than "+strconv.Itoa(MaxContactLogField)+" bytes")
			}
			if i >= 0 && !utf8.ValidString(rec[i]) {
				return nil, logError(line, names[k], "", "is not valid UTF-8")
			}
		}
		c := Contact{ID: get(0), DebtorID: get(1), DebtID: get(2), Channel: Channel(get(3)), Party: Party(get(4)),
			Number: get(5), Outcome: Outcome(get(7)), Consent: get(8), Agent: get(9), Agency: get(10)}
		switch {
		case c.ID == "":
			return nil, logError(line, "contact_id", "", "is empty")
		case seen[c.ID] != 0:
			return nil, logError(line, "contact_id", c.ID, "duplicates line "+strconv.Itoa(seen[c.ID]))
		case c.DebtorID == "":
			return nil, logError(line, "debtor_id", "", "is empty")
		case !c.Channel.Valid():
			return nil, logError(line, "channel", string(c.Channel), "is not a channel: want call, sms, visit, letter or email")
		case !c.Party.Valid():
			return nil, logError(line, "party", string(c.Party), "is not a party: want debtor or third_party")
		case !c.Outcome.Valid():
			return nil, logError(line, "outcome", string(c.Outcome),
				"is not an outcome: want answered, no_answer, busy, invalid_number, delivered, failed, visited or not_found")
		case c.Consent != "" && c.Consent != ConsentLateHours:
			return nil, logError(line, "consent", c.Consent, "is not a consent: want empty or late_hours")
		}
		at := get(6)
		t, err := parseContactTime(at)
		if err != nil {
			return nil, logError(line, "at", at, "is not an RFC 3339 time with a UTC offset (2026-03-02T21:59:00+08:00)")
		}
		c.At = t
		seen[c.ID] = line
		out = append(out, c)
	}
	return out, nil
}

// parseContactTime parses an RFC 3339 time that carries its offset, keeping the offset.
func parseContactTime(s string) (time.Time, error) {
	// time.Parse accepts a few forms RFC 3339 does not (hour 24 is refused, but a lowercase "t" or
	// a space is not RFC 3339's separator); insist on the shape YYYY-MM-DDTHH:MM:SS[.f](Z|+hh:mm).
	if len(s) < len("2006-01-02T15:04:05Z") || s[10] != 'T' {
		return time.Time{}, errors.New("not RFC 3339")
	}
	return time.Parse(time.RFC3339Nano, s)
}

// logError is the EINVALID error for a bad line: "contact log line 5, field at: "x" is not ...".
func logError(line int, field, value, rule string) error {
	msg := "contact log line " + strconv.Itoa(line)
	fields := map[string]string{"line": strconv.Itoa(line), "rule": rule}
	if field != "" {
		msg += ", field " + field
		fields["field"] = field
	}
	if value != "" {
		msg += ": " + quote(value) + " " + rule
		fields["value"] = value
	} else {
		msg += ": " + rule
	}
	return &reclaim.Error{Code: reclaim.EINVALID, Message: msg, Fields: fields}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: "contact log line " + strconv.Itoa(pe.Line) + ": " + pe.Err.Error(),
			Fields: map[string]string{"line": strconv.Itoa(pe.Line), "rule": "CSV syntax"}, Err: err}
	}
	return reclaim.WrapError(reclaim.EINVALID, err, "contact log: read failed")
}
