package workout

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"reclaim"
)

// The agency feed: contacts an external agency reports (they happened), in the contact-log CSV
// format of ../shared/design/collection-rules.md ("The contact log and the audit"): UTF-8, one
// attempt a line, header contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent
// (extra columns ignored, order free). debtor_id is the case reference (C<id>).

// FeedColumns are the required columns of a contact log, in the documented order.
var FeedColumns = []string{"contact_id", "debtor_id", "debt_id", "channel", "party", "number", "at", "outcome", "consent"}

var (
	feedChannels = []string{"call", "sms", "visit", "letter", "email"}
	feedParties  = []string{"debtor", "third_party"}
	feedOutcomes = []string{"answered", "no_answer", "busy", "invalid_number", "delivered", "failed", "visited", "not_found"}
)

// MaxFeedLines bounds a feed file.
const MaxFeedLines = 200_000

// ParseAgencyFeed reads a contact log. The first malformed line stops it with an EINVALID error
// that names the line (1 is the header), the field, the value and the rule; nothing is
// returned then (a rejected file changes nothing). At keeps the line's UTC offset.
func ParseAgencyFeed(r io.Reader) ([]Contact, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, feedErr(1, "header", "", "required", "the contact log is empty: it needs the header %s", strings.Join(FeedColumns, ","))
	}
	if err != nil {
		return nil, feedErr(1, "header", "", "csv", "the header cannot be read: %v", err)
	}
	idx := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := idx[h]; dup && slices.Contains(FeedColumns, h) {
			return nil, feedErr(1, h, h, "duplicate", "column %s appears twice", h)
		}
		idx[h] = i
	}
	for _, c := range FeedColumns {
		if _, ok := idx[c]; !ok {
			return nil, feedErr(1, c, "", "required", "column %s is missing (header: %s)", c, strings.Join(FeedColumns, ","))
		}
	}
	var out []Contact
	ids := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, feedErr(pe.Line, "line", "", "csv", "line %d is not valid CSV: %v", pe.Line, pe.Err)
			}
			return nil, feedErr(line, "line", "", "csv", "line %d cannot be read: %v", line, err)
		}
		if len(out) >= MaxFeedLines {
			return nil, feedErr(line, "line", "", "max_lines", "a contact log holds at most %d lines", MaxFeedLines)
		}
		get := func(c string) string {
			i := idx[c]
			if i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		c := Contact{ID: get("contact_id"), DebtorID: get("debtor_id"), DebtID: get("debt_id"), Channel: Channel(get("channel")),
			Party: Party(get("party")), Number: get("number"), Outcome: Outcome(get("outcome")), Consent: get("consent")}
		switch {
		case c.ID == "":
			return nil, feedErr(line, "contact_id", "", "required", "line %d: contact_id is empty", line)
		case ids[c.ID] != 0:
			return nil, feedErr(line, "contact_id", c.ID, "unique", "line %d: contact_id %s repeats line %d", line, c.ID, ids[c.ID])
		case c.DebtorID == "":
			return nil, feedErr(line, "debtor_id", "", "required", "line %d: debtor_id is empty", line)
		case !slices.Contains(feedChannels, string(c.Channel)):
			return nil, feedErr(line, "channel", string(c.Channel), "channel", "line %d: channel %q is not one of %s", line, c.Channel, strings.Join(feedChannels, ", "))
		case !slices.Contains(feedParties, string(c.Party)):
			return nil, feedErr(line, "party", string(c.Party), "party", "line %d: party %q is neither debtor nor third_party", line, c.Party)
		case !slices.Contains(feedOutcomes, string(c.Outcome)):
			return nil, feedErr(line, "outcome", string(c.Outcome), "outcome", "line %d: outcome %q is not one of %s", line, c.Outcome, strings.Join(feedOutcomes, ", "))
		case c.Consent != "" && c.Consent != "late_hours":
			return nil, feedErr(line, "consent", c.Consent, "consent", "line %d: consent %q is neither empty nor late_hours", line, c.Consent)
		case (c.Channel == "call" || c.Channel == "sms") && c.Number == "":
			return nil, feedErr(line, "number", "", "required", "line %d: a %s needs the number", line, c.Channel)
		}
		at, err := time.Parse(time.RFC3339, get("at"))
		if err != nil {
			return nil, feedErr(line, "at", get("at"), "rfc3339", "line %d: at %q is not an RFC 3339 time with a UTC offset (2026-03-02T21:59:00+08:00)", line, get("at"))
		}
		if at.Year() < 1900 || at.Year() > 2200 {
			return nil, feedErr(line, "at", get("at"), "range", "line %d: at %q is not a plausible time (years 1900-2200)", line, get("at"))
		}
		c.At = at
		ids[c.ID] = line
		out = append(out, c)
	}
	return out, nil
}

func feedErr(line int, field, value, rule, format string, args ...any) error {
	e := reclaim.Errorf(reclaim.EINVALID, format, args...)
	e.Fields = map[string]string{"line": fmt.Sprint(line), "field": field, "value": value, "rule": rule}
	return e
}
