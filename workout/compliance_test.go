package workout

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const header = "contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\n"

// logOf reads a contact log from its lines (without the header).
func logOf(t *testing.T, lines ...string) []Contact {
	t.Helper()
	log, err := ReadContactLog(strings.NewReader(header + strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	return log
}

// decideAll applies Decide to each contact of log in time order with the contacts before it as
// history, and returns the flags in Audit's shape.
func decideAll(pack Pack, log []Contact) []Flag {
	var flags []Flag
	var hist []Contact
	for _, i := range TimeOrder(log) {
		d := Decide(pack, DebtorState{}, hist, log[i])
		if d.Allowed != (len(d.Violations) == 0) {
			panic("Allowed disagrees with Violations")
		}
		for _, v := range d.Violations {
			flags = append(flags, Flag{Index: i, ContactID: log[i].ID, Rule: v.Rule, Message: v.Message})
		}
		hist = append(hist, log[i])
	}
	slices.SortStableFunc(flags, func(a, b Flag) int { return a.Index - b.Index })
	return flags
}

// audited audits log under pack, checks that Decide on each prefix agrees, and returns the rules
// flagged per contact id as "R1,R2".
func audited(t *testing.T, pack Pack, log []Contact) (map[string]string, []Flag) {
	t.Helper()
	flags := Audit(pack, log)
	if d := decideAll(pack, log); !reflect.DeepEqual(flags, d) {
		t.Fatalf("Audit and Decide disagree:\naudit  %+v\ndecide %+v", flags, d)
	}
	m := map[string]string{}
	for _, f := range flags {
		if m[f.ContactID] != "" {
			m[f.ContactID] += ","
		}
		m[f.ContactID] += f.Rule
	}
	return m, flags
}

type ruleCase struct {
	name  string
	lines []string
	want  map[string]string // contact id -> "RULE,RULE"; every other contact must be clean
}

func runCases(t *testing.T, pack Pack, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := audited(t, pack, logOf(t, tc.lines...))
			if tc.want == nil {
				tc.want = map[string]string{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("flags %v, want %v", got, tc.want)
			}
		})
	}
}

// call returns a log line: a call to debtor d1 about debt L1 on number n1 unless overridden.
func line(id, debtor, debt, ch, party, number, at, outcome, consent string) string {
	return strings.Join([]string{id, debtor, debt, ch, party, number, at, outcome, consent}, ",")
}

func call(id, at, outcome string) string {
	return line(id, "d1", "L1", "call", "debtor", "n1", at, outcome, "")
}

// seq returns n calls c<start>.. at consecutive minutes from at (RFC 3339 without seconds part).
func seq(start, n int, day, offset string, hour int, outcome string) []string {
	var out []string
	for k := range n {
		out = append(out, call(fmt.Sprintf("c%d", start+k), fmt.Sprintf("%sT%02d:%02d:00%s", day, hour, k, offset), outcome))
	}
	return out
}

func TestCN1_Boundaries(t *testing.T) {
	runCases(t, PackCN, []ruleCase{
		{"07:59:59 flagged", []string{call("a", "2026-03-02T07:59:59+08:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"07:59:59.999 flagged", []string{call("a", "2026-03-02T07:59:59.999+08:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"08:00:00 allowed", []string{call("a", "2026-03-02T08:00:00+08:00", "no_answer")}, nil},
		{"21:59:59 allowed", []string{call("a", "2026-03-02T21:59:59+08:00", "no_answer")}, nil},
		{"21:59:59.999 allowed", []string{call("a", "2026-03-02T21:59:59.999+08:00", "no_answer")}, nil},
		{"22:00:00 flagged", []string{call("a", "2026-03-02T22:00:00+08:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"00:00:00 flagged", []string{call("a", "2026-03-02T00:00:00+08:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"consent lifts", []string{line("a", "d1", "L1", "call", "debtor", "n1", "2026-03-02T22:00:00+08:00", "answered", "late_hours"),
			line("b", "d1", "L1", "visit", "debtor", "", "2026-03-02T07:00:00+08:00", "visited", "late_hours")}, nil},
		{"sms and visit flagged", []string{line("a", "d1", "L1", "sms", "debtor", "n1", "2026-03-02T22:30:00+08:00", "delivered", ""),
			line("b", "d1", "L1", "visit", "debtor", "", "2026-03-03T06:00:00+08:00", "visited", "")},
			map[string]string{"a": "CN-1", "b": "CN-1"}},
		{"letter and email not covered", []string{line("a", "d1", "L1", "letter", "debtor", "", "2026-03-02T23:00:00+08:00", "delivered", ""),
			line("b", "d1", "L1", "email", "debtor", "", "2026-03-02T23:30:00+08:00", "delivered", "")}, nil},
		// The debtor's own offset decides: 14:00Z is 22:00 in Beijing but 14:00 in London.
		{"offset +08:00 at 22:00", []string{call("a", "2026-03-02T22:00:00+08:00", "busy")}, map[string]string{"a": "CN-1"}},
		{"same instant at +00:00", []string{call("a", "2026-03-02T14:00:00Z", "busy")}, nil},
		{"offset -05:00 at 07:59:59", []string{call("a", "2026-03-02T07:59:59-05:00", "busy")}, map[string]string{"a": "CN-1"}},
		{"offset +05:45 at 08:00:00", []string{call("a", "2026-03-02T08:00:00+05:45", "busy")}, nil},
	})
}

func TestCN2_Boundaries(t *testing.T) {
	answered3 := seq(1, 3, "2026-03-02", "+08:00", 9, "answered")
	cases := []ruleCase{
		{"3rd answered call allowed", answered3, nil},
		{"4th attempt after 3 answered flagged", append(slices.Clone(answered3), call("c4", "2026-03-02T15:00:00+08:00", "no_answer")),
			map[string]string{"c4": "CN-2"}},
		{"5th also flagged (the flagged 4th still counts)", append(slices.Clone(answered3),
			call("c4", "2026-03-02T15:00:00+08:00", "answered"), call("c5", "2026-03-02T16:00:00+08:00", "answered")),
			map[string]string{"c4": "CN-2", "c5": "CN-2"}},
		{"unanswered calls do not count", append(seq(1, 2, "2026-03-02", "+08:00", 9, "answered"),
			call("c3", "2026-03-02T10:00:00+08:00", "no_answer"), call("c4", "2026-03-02T10:01:00+08:00", "busy"),
			call("c5", "2026-03-02T10:02:00+08:00", "invalid_number"), call("c6", "2026-03-02T11:00:00+08:00", "answered"),
			call("c7", "2026-03-02T12:00:00+08:00", "answered")),
			map[string]string{"c7": "CN-2"}},
		{"an answered call flagged by CN-1 still counts", []string{call("c1", "2026-03-02T07:30:00+08:00", "answered"),
			call("c2", "2026-03-02T09:00:00+08:00", "answered"), call("c3", "2026-03-02T10:00:00+08:00", "answered"),
			call("c4", "2026-03-02T11:00:00+08:00", "answered")},
			map[string]string{"c1": "CN-1", "c4": "CN-2"}},
		{"across debts and numbers of one debtor", []string{call("c1", "2026-03-02T09:00:00+08:00", "answered"),
			line("c2", "d1", "L2", "call", "debtor", "n2", "2026-03-02T10:00:00+08:00", "answered", ""),
			line("c3", "d1", "L3", "call", "debtor", "n3", "2026-03-02T11:00:00+08:00", "answered", ""),
			line("c4", "d1", "L2", "call", "debtor", "n2", "2026-03-02T12:00:00+08:00", "no_answer", "")},
			map[string]string{"c4": "CN-2"}},
		{"another debtor's calls do not count", append(slices.Clone(answered3),
			line("c4", "d2", "L9", "call", "debtor", "n9", "2026-03-02T15:00:00+08:00", "answered", "")), nil},
		{"answered calls to a third party do not count", []string{call("c1", "2026-03-02T09:00:00+08:00", "answered"),
			call("c2", "2026-03-02T09:10:00+08:00", "answered"), call("c3", "2026-03-02T09:20:00+08:00", "invalid_number"),
			line("c4", "d1", "L1", "call", "third_party", "n7", "2026-03-02T10:00:00+08:00", "answered", ""),
			call("c5", "2026-03-02T11:00:00+08:00", "answered")},
			nil},
		{"a call to a third party after 3 answered is not CN-2", append(slices.Clone(answered3),
			call("c4", "2026-03-02T10:00:00+08:00", "invalid_number"),
			line("c5", "d1", "L1", "call", "third_party", "n7", "2026-03-02T15:00:00+08:00", "answered", "")),
			map[string]string{"c4": "CN-2"}},
		{"sms after 3 answered is not CN-2", append(slices.Clone(answered3),
			line("c4", "d1", "L1", "sms", "debtor", "n1", "2026-03-02T15:00:00+08:00", "delivered", "")), nil},
		{"next local day resets: 08:00:00", append(slices.Clone(answered3), call("c4", "2026-03-03T08:00:00+08:00", "answered")), nil},
		{"same local day up to 23:59:59", append(slices.Clone(answered3),
			line("c4", "d1", "L1", "call", "debtor", "n1", "2026-03-02T23:59:59+08:00", "answered", "late_hours")),
			map[string]string{"c4": "CN-2"}},
		{"local day 00:00:00 resets", append(slices.Clone(answered3),
			line("c4", "d1", "L1", "call", "debtor", "n1", "2026-03-03T00:00:00+08:00", "answered", "late_hours")), nil},
		// 2026-03-02T17:00-05:00 is 2026-03-03T06:00+08:00: by its own offset it is still 2 March.
		{"other offset, same own local day", append(slices.Clone(answered3), call("c4", "2026-03-02T17:00:00-05:00", "answered")),
			map[string]string{"c4": "CN-2"}},
		// 2026-03-03T09:00+09:00 is 2026-03-03T08:00+08:00, after the three: a new local day.
		{"other offset, next own local day", append(slices.Clone(answered3), call("c4", "2026-03-03T09:00:00+09:00", "answered")), nil},
	}
	runCases(t, PackCN, cases)
	log := logOf(t, cases[1].lines...)
	flags := Audit(PackCN, log)
	if len(flags) != 1 || !strings.Contains(flags[0].Message, "already had 3 answered calls") {
		t.Errorf("CN-2 message: %+v", flags)
	}
}

func TestCN3_Boundaries(t *testing.T) {
	mixed6 := []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"), call("c2", "2026-03-02T09:10:00+08:00", "busy"),
		call("c3", "2026-03-02T09:20:00+08:00", "no_answer"), call("c4", "2026-03-02T09:30:00+08:00", "busy"),
		call("c5", "2026-03-02T09:40:00+08:00", "no_answer"), call("c6", "2026-03-02T09:50:00+08:00", "no_answer")}
	runCases(t, PackCN, []ruleCase{
		{"6th unanswered dial allowed", mixed6, nil},
		{"7th dial flagged", append(slices.Clone(mixed6), call("c7", "2026-03-02T10:00:00+08:00", "answered")),
			map[string]string{"c7": "CN-3"}},
		{"8th flagged too", append(slices.Clone(mixed6), call("c7", "2026-03-02T10:00:00+08:00", "no_answer"),
			call("c8", "2026-03-02T10:10:00+08:00", "no_answer")), map[string]string{"c7": "CN-3", "c8": "CN-3"}},
		{"answered, invalid_number and failed do not count", append(mixed6[:5:5], call("x1", "2026-03-02T09:41:00+08:00", "answered"),
			call("x2", "2026-03-02T09:42:00+08:00", "invalid_number"), call("x3", "2026-03-02T09:43:00+08:00", "failed"),
			call("c6", "2026-03-02T09:50:00+08:00", "no_answer"), call("c7", "2026-03-02T10:00:00+08:00", "no_answer")),
			map[string]string{"c7": "CN-3"}},
		{"another number is not limited", append(slices.Clone(mixed6),
			line("c7", "d1", "L1", "call", "debtor", "n2", "2026-03-02T10:00:00+08:00", "no_answer", "")), nil},
		{"the number counts across debtors and parties", append(mixed6[:5:5],
			line("c6", "d2", "L2", "call", "third_party", "n1", "2026-03-02T09:50:00+08:00", "busy", ""),
			line("c7", "d3", "L3", "call", "third_party", "n1", "2026-03-02T10:00:00+08:00", "busy", "")),
			map[string]string{"c6": "CN-4", "c7": "CN-3,CN-4"}},
		{"sms to the number neither counts nor is limited", append(mixed6[:5:5],
			line("s1", "d1", "L1", "sms", "debtor", "n1", "2026-03-02T09:45:00+08:00", "failed", ""),
			call("c6", "2026-03-02T09:50:00+08:00", "no_answer"),
			line("s2", "d1", "L1", "sms", "debtor", "n1", "2026-03-02T09:55:00+08:00", "delivered", "")), nil},
		{"next local day resets", append(slices.Clone(mixed6), call("c7", "2026-03-03T08:00:00+08:00", "no_answer")), nil},
		// 2026-03-02T20:00-04:00 is 3 March in Beijing, but its own local day is 2 March.
		{"own offset decides the day", append(slices.Clone(mixed6), call("c7", "2026-03-02T20:00:00-04:00", "no_answer")),
			map[string]string{"c7": "CN-3"}},
	})
}

func TestCN4_Boundaries(t *testing.T) {
	tp := func(id, at string) string {
		return line(id, "d1", "L1", "call", "third_party", "n9", at, "answered", "")
	}
	runCases(t, PackCN, []ruleCase{
		{"no debtor contact yet", []string{tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"t": "CN-4"}},
		{"after 2 failed", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"), call("c2", "2026-03-02T10:00:00+08:00", "busy"),
			tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"t": "CN-4"}},
		{"after 3 failed", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"), call("c2", "2026-03-02T10:00:00+08:00", "busy"),
			line("c3", "d1", "L1", "visit", "debtor", "", "2026-03-02T11:00:00+08:00", "not_found", ""),
			tp("t", "2026-03-02T12:00:00+08:00")}, nil},
		{"after 3 failed of every kind", []string{line("c1", "d1", "L1", "sms", "debtor", "n1", "2026-03-01T09:00:00+08:00", "failed", ""),
			call("c2", "2026-03-02T10:00:00+08:00", "busy"), call("c3", "2026-03-02T11:00:00+08:00", "no_answer"),
			tp("t", "2026-03-02T12:00:00+08:00")}, nil},
		{"last 3 not all failed", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"), call("c2", "2026-03-02T10:00:00+08:00", "answered"),
			call("c3", "2026-03-02T11:00:00+08:00", "no_answer"), call("c4", "2026-03-02T11:10:00+08:00", "no_answer"),
			tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"t": "CN-4"}},
		{"an answered call before the last 3 failed", []string{call("c1", "2026-03-02T09:00:00+08:00", "answered"),
			call("c2", "2026-03-02T10:00:00+08:00", "no_answer"), call("c3", "2026-03-02T11:00:00+08:00", "busy"),
			call("c4", "2026-03-02T11:10:00+08:00", "no_answer"), tp("t", "2026-03-02T12:00:00+08:00")}, nil},
		{"a delivered letter breaks the run", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"),
			call("c2", "2026-03-02T10:00:00+08:00", "busy"), line("c3", "d1", "L1", "letter", "debtor", "", "2026-03-02T11:00:00+08:00", "delivered", ""),
			tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"t": "CN-4"}},
		{"after an invalid_number", []string{call("c1", "2026-03-02T09:00:00+08:00", "invalid_number"), tp("t", "2026-03-02T12:00:00+08:00")}, nil},
		{"invalid_number long ago, then answered", []string{call("c1", "2026-01-02T09:00:00+08:00", "invalid_number"),
			line("c2", "d1", "L1", "call", "debtor", "n2", "2026-03-02T09:00:00+08:00", "answered", ""), tp("t", "2026-03-02T12:00:00+08:00")}, nil},
		{"third-party contacts are not debtor contacts", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"),
			call("c2", "2026-03-02T10:00:00+08:00", "busy"), line("x", "d1", "L1", "call", "third_party", "n8", "2026-03-02T10:30:00+08:00", "no_answer", ""),
			tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"x": "CN-4", "t": "CN-4"}},
		{"an invalid_number on a third party's number does not count", []string{
			line("x", "d1", "L1", "call", "third_party", "n8", "2026-03-02T10:30:00+08:00", "invalid_number", ""),
			tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"x": "CN-4", "t": "CN-4"}},
		{"another debtor's failures do not count", []string{line("c1", "d2", "L2", "call", "debtor", "n2", "2026-03-02T09:00:00+08:00", "invalid_number", ""),
			tp("t", "2026-03-02T12:00:00+08:00")}, map[string]string{"t": "CN-4"}},
		{"debtor contact at the same instant, earlier in the file", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"),
			call("c2", "2026-03-02T10:00:00+08:00", "busy"), call("c3", "2026-03-02T12:00:00+08:00", "no_answer"),
			tp("t", "2026-03-02T12:00:00+08:00")}, nil},
		{"debtor contact at the same instant, later in the file", []string{call("c1", "2026-03-02T09:00:00+08:00", "no_answer"),
			call("c2", "2026-03-02T10:00:00+08:00", "busy"), tp("t", "2026-03-02T12:00:00+08:00"),
			call("c3", "2026-03-02T12:00:00+08:00", "no_answer")}, map[string]string{"t": "CN-4"}},
	})
}

func TestUS1_Boundaries(t *testing.T) {
	days := func(n int) []string { // one unanswered call a day at 10:00 from 2 March, n days
		var out []string
		for k := range n {
			out = append(out, call(fmt.Sprintf("c%d", k+1), fmt.Sprintf("2026-03-%02dT10:00:00-05:00", 2+k), "no_answer"))
		}
		return out
	}
	conv := call("v", "2026-03-02T10:00:00-05:00", "answered")
	runCases(t, PackUS, []ruleCase{
		{"7 calls in 7 days allowed", days(7), nil},
		{"8th call on day 7 flagged", append(days(7), call("c8", "2026-03-08T15:00:00-05:00", "no_answer")), map[string]string{"c8": "US-1"}},
		{"8th call on day 8 allowed (window 3-9 March has 6)", append(days(7), call("c8", "2026-03-09T10:00:00-05:00", "no_answer")), nil},
		{"7 calls one day, 7th allowed, 8th flagged", append(seq(1, 7, "2026-03-02", "-05:00", 10, "busy"),
			call("c8", "2026-03-02T11:00:00-05:00", "no_answer")), map[string]string{"c8": "US-1"}},
		{"7 calls one day, next call on day 7 flagged, day 8 not", append(seq(1, 7, "2026-03-02", "-05:00", 10, "busy"),
			call("c8", "2026-03-08T20:59:59-05:00", "no_answer"), call("c9", "2026-03-09T08:00:00-05:00", "no_answer")),
			map[string]string{"c8": "US-1"}},
		{"calls about another debt do not count", append(days(7),
			line("c8", "d1", "L2", "call", "debtor", "n1", "2026-03-08T15:00:00-05:00", "no_answer", "")), nil},
		{"sms and emails do not count", append(days(6), line("s", "d1", "L1", "sms", "debtor", "n1", "2026-03-07T09:00:00-05:00", "delivered", ""),
			call("c7", "2026-03-08T12:00:00-05:00", "no_answer")), nil},
		{"conversation: later the same day is day 1", []string{conv, call("a", "2026-03-02T10:00:01-05:00", "no_answer")}, map[string]string{"a": "US-1"}},
		{"conversation: day 7 flagged", []string{conv, call("a", "2026-03-08T20:59:59-05:00", "no_answer")}, map[string]string{"a": "US-1"}},
		{"conversation: day 8 allowed", []string{conv, call("a", "2026-03-09T08:00:00-05:00", "no_answer")}, nil},
		{"conversation about another debt", []string{conv, line("a", "d1", "L2", "call", "debtor", "n1", "2026-03-03T10:00:00-05:00", "no_answer", "")}, nil},
		{"an sms after a conversation is not a call", []string{conv, line("a", "d1", "L1", "sms", "debtor", "n1", "2026-03-03T10:00:00-05:00", "delivered", "")}, nil},
		{"a flagged answered call extends the bar", []string{conv, call("a", "2026-03-08T10:00:00-05:00", "answered"),
			call("b", "2026-03-14T10:00:00-05:00", "no_answer"), call("c", "2026-03-15T10:00:00-05:00", "no_answer")},
			map[string]string{"a": "US-1", "b": "US-1"}},
		// Conversation on 2 March at 23:00 in New York; a call at 2026-03-09T03:00Z is 8 March 22:00 in
		// New York but is written with offset +00:00: its own local day is 9 March, day 8.
		{"day 8 by the call's own offset", []string{line("v", "d1", "L1", "call", "debtor", "n1", "2026-03-02T23:00:00-05:00", "answered", "late_hours"),
			line("a", "d1", "L1", "call", "debtor", "n1", "2026-03-09T03:00:00Z", "no_answer", "late_hours")}, nil},
		{"day 7 by the call's own offset", []string{line("v", "d1", "L1", "call", "debtor", "n1", "2026-03-02T23:00:00-05:00", "answered", "late_hours"),
			line("a", "d1", "L1", "call", "debtor", "n1", "2026-03-08T23:59:59-05:00", "no_answer", "late_hours")}, map[string]string{"a": "US-1"}},
		{"ties: the conversation later in the file does not bar", []string{call("a", "2026-03-02T10:00:00-05:00", "no_answer"), conv}, nil},
		{"ties: the conversation earlier in the file bars", []string{conv, call("a", "2026-03-02T10:00:00-05:00", "no_answer")}, map[string]string{"a": "US-1"}},
	})
}

func TestUS2_Boundaries(t *testing.T) {
	runCases(t, PackUS, []ruleCase{
		{"07:59:59 flagged", []string{call("a", "2026-03-02T07:59:59-05:00", "no_answer")}, map[string]string{"a": "US-2"}},
		{"08:00:00 allowed", []string{call("a", "2026-03-02T08:00:00-05:00", "no_answer")}, nil},
		{"21:00:00 allowed", []string{call("a", "2026-03-02T21:00:00-05:00", "no_answer")}, nil},
		{"21:00:01 flagged", []string{call("a", "2026-03-02T21:00:01-05:00", "no_answer")}, map[string]string{"a": "US-2"}},
		{"21:00:00.001 flagged", []string{call("a", "2026-03-02T21:00:00.001-05:00", "no_answer")}, map[string]string{"a": "US-2"}},
		{"22:00:00 flagged", []string{call("a", "2026-03-02T22:00:00-05:00", "no_answer")}, map[string]string{"a": "US-2"}},
		{"sms, email, visit flagged; letter not", []string{line("a", "d1", "L1", "sms", "debtor", "n1", "2026-03-02T21:30:00-05:00", "delivered", ""),
			line("b", "d1", "L2", "email", "debtor", "", "2026-03-02T06:00:00-05:00", "delivered", ""),
			line("c", "d1", "L3", "visit", "debtor", "", "2026-03-02T21:00:01-05:00", "visited", ""),
			line("d", "d1", "L4", "letter", "debtor", "", "2026-03-02T23:00:00-05:00", "delivered", "")},
			map[string]string{"a": "US-2", "b": "US-2", "c": "US-2"}},
		{"consent lifts", []string{line("a", "d1", "L1", "call", "debtor", "n1", "2026-03-02T21:30:00-05:00", "no_answer", "late_hours")}, nil},
		{"own offset: 02:00Z is 21:00 in New York", []string{call("a", "2026-03-03T02:00:00Z", "no_answer"), call("b", "2026-03-02T21:00:00-05:00", "no_answer")},
			map[string]string{"a": "US-2"}},
	})
}

// The CN pack ignores the US rules and the reverse.
func TestPacksAreSeparate(t *testing.T) {
	log := logOf(t, call("a", "2026-03-02T21:30:00+08:00", "answered"), call("b", "2026-03-02T21:40:00+08:00", "no_answer"),
		line("c", "d1", "L1", "call", "third_party", "n2", "2026-03-02T21:45:00+08:00", "answered", ""))
	cn, _ := audited(t, PackCN, log)
	us, _ := audited(t, PackUS, log)
	if want := map[string]string{"c": "CN-4"}; !reflect.DeepEqual(cn, want) {
		t.Errorf("cn %v, want %v", cn, want)
	}
	if want := map[string]string{"a": "US-2", "b": "US-1,US-2", "c": "US-1,US-2"}; !reflect.DeepEqual(us, want) {
		t.Errorf("us %v, want %v", us, want)
	}
	if fl := Audit(Pack("eu"), log); len(fl) != 3 || fl[0].Rule != RuleUnknownPack {
		t.Errorf("unknown pack: %+v", fl)
	}
	if d := Decide("", DebtorState{}, nil, log[0]); d.Allowed {
		t.Error("an unknown pack must refuse")
	}
}

// A log out of time order is walked in time order; flags come back in file order.
func TestAuditOrder(t *testing.T) {
	log := logOf(t,
		call("c4", "2026-03-02T15:00:00+08:00", "answered"),
		call("c1", "2026-03-02T09:00:00+08:00", "answered"),
		line("x", "d1", "L1", "call", "debtor", "n1", "2026-03-02T23:00:00+08:00", "answered", ""),
		call("c3", "2026-03-02T11:00:00+08:00", "answered"),
		call("c2", "2026-03-02T10:00:00+08:00", "answered"),
	)
	_, flags := audited(t, PackCN, log)
	var got []string
	for _, f := range flags {
		got = append(got, fmt.Sprintf("%d:%s:%s", f.Index, f.ContactID, f.Rule))
	}
	if want := []string{"0:c4:CN-2", "2:x:CN-1", "2:x:CN-2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("flags %v, want %v", got, want)
	}
	if got := TimeOrder(log); !reflect.DeepEqual(got, []int{1, 4, 3, 0, 2}) {
		t.Errorf("TimeOrder %v", got)
	}
}

func TestDecideLiveOnly(t *testing.T) {
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	base := Contact{ID: "n", DebtorID: "d1", DebtID: "L1", Channel: ChannelCall, Party: PartyDebtor, Number: "n1", At: at("2026-03-10T10:00:00-05:00")}
	tp := base
	tp.Party, tp.Number = PartyThirdParty, "n9"
	hist := []Contact{{ID: "h", DebtorID: "d1", DebtID: "L1", Channel: ChannelCall, Party: PartyDebtor, Number: "n1",
		At: at("2026-03-01T10:00:00-05:00"), Outcome: OutcomeInvalidNumber}}
	sms := base
	sms.Channel = ChannelSMS
	smsNoOpt := sms
	smsNoOpt.OptOutMissing = true
	notice := base
	notice.ValidationNotice = true
	cases := []struct {
		name string
		pack Pack
		st   DebtorState
		c    Contact
		want []string
	}{
		{"clean cn", PackCN, DebtorState{}, base, nil},
		{"clean us", PackUS, DebtorState{}, base, nil},
		{"dnc", PackCN, DebtorState{DoNotContact: true}, base, []string{RuleDNC}},
		{"deceased and bankrupt", PackUS, DebtorState{Deceased: true, Bankrupt: true}, base, []string{RuleDeceased, RuleBankrupt}},
		{"third party stopped", PackCN, DebtorState{ThirdPartyStopped: []string{"n8", "n9"}}, tp, []string{RuleCN4Stop}},
		{"another third party not stopped", PackCN, DebtorState{ThirdPartyStopped: []string{"n8"}}, tp, nil},
		{"inconvenient hours", PackUS, DebtorState{Inconvenient: []Window{{Start: 9 * time.Hour, End: 17 * time.Hour}}}, base, []string{RuleUS2Window}},
		{"inconvenient end is exclusive", PackUS, DebtorState{Inconvenient: []Window{{Start: 8 * time.Hour, End: 10 * time.Hour}}}, base, nil},
		{"inconvenient overnight", PackUS, DebtorState{Inconvenient: []Window{{Start: 20 * time.Hour, End: 11 * time.Hour}}}, base, []string{RuleUS2Window}},
		{"inconvenient on Tuesdays (10 March 2026)", PackUS, DebtorState{Inconvenient: []Window{{Days: []time.Weekday{time.Tuesday}}}}, base, []string{RuleUS2Window}},
		{"not on Mondays", PackUS, DebtorState{Inconvenient: []Window{{Days: []time.Weekday{time.Monday}}}}, base, nil},
		{"inconvenient work number", PackUS, DebtorState{Inconvenient: []Window{{Number: "n1"}}}, base, []string{RuleUS2Window}},
		{"other number", PackUS, DebtorState{Inconvenient: []Window{{Number: "n2"}}}, base, nil},
		{"only visits inconvenient", PackUS, DebtorState{Inconvenient: []Window{{Channels: []Channel{ChannelVisit}}}}, base, nil},
		{"validation notice day 5", PackUS, DebtorState{FirstCommunication: at("2026-03-05T20:00:00-05:00")}, base, nil},
		{"validation notice day 6", PackUS, DebtorState{FirstCommunication: at("2026-03-04T20:00:00-05:00")}, base, []string{RuleUS3Notice}},
		// The first communication stored as a UTC instant: its day is New York's, not UTC's.
		// 2026-03-05T01:00:00Z is 4 March 20:00 in New York, day 6 before 10 March.
		{"validation notice: first communication in UTC, New York day 6", PackUS, DebtorState{FirstCommunication: at("2026-03-05T01:00:00Z")}, base, []string{RuleUS3Notice}},
		{"validation notice: New York 23:59:59 on day 6", PackUS, DebtorState{FirstCommunication: at("2026-03-05T04:59:59Z")}, base, []string{RuleUS3Notice}},
		{"validation notice: New York 00:00:00 on day 5", PackUS, DebtorState{FirstCommunication: at("2026-03-05T05:00:00Z")}, base, nil},
		{"validation notice sent", PackUS, DebtorState{FirstCommunication: at("2026-03-01T20:00:00-05:00"), ValidationNoticeSent: true}, base, nil},
		{"the notice itself", PackUS, DebtorState{FirstCommunication: at("2026-03-01T20:00:00-05:00")}, notice, nil},
		{"suit on time-barred", PackUS, DebtorState{TimeBarred: true, Purpose: PurposeSuit}, base, []string{RuleUS4Suit}},
		{"collection on time-barred", PackUS, DebtorState{TimeBarred: true, Purpose: PurposeCollection}, base, nil},
		{"sms with opt-out", PackUS, DebtorState{}, sms, nil},
		{"sms without opt-out", PackUS, DebtorState{}, smsNoOpt, []string{RuleUS4OptOut}},
		{"cn has no opt-out rule", PackCN, DebtorState{}, smsNoOpt, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.pack, tc.st, hist, tc.c)
			var got []string
			for _, v := range d.Violations {
				got = append(got, v.Rule)
				if v.Message == "" {
					t.Errorf("%s has no message", v.Rule)
				}
			}
			if !reflect.DeepEqual(got, tc.want) || d.Allowed != (len(tc.want) == 0) {
				t.Errorf("got %v (allowed %v), want %v", got, d.Allowed, tc.want)
			}
		})
	}
}

func TestUS1CallConsent(t *testing.T) {
	log := logOf(t, call("v", "2026-03-02T10:00:00-05:00", "answered"), call("a", "2026-03-03T10:00:00-05:00", "no_answer"))
	consent := log[0].At.Add(time.Hour)
	if d := Decide(PackUS, DebtorState{CallConsent: consent}, log[:1], log[1]); !d.Allowed {
		t.Errorf("consent within 7 days: %+v", d)
	}
	if d := Decide(PackUS, DebtorState{CallConsent: consent.Add(-7 * 24 * time.Hour)}, log[:1], log[1]); d.Allowed {
		t.Error("consent older than 7 days must not lift US-1")
	}
	if d := Decide(PackUS, DebtorState{CallConsent: log[1].At.Add(time.Minute)}, log[:1], log[1]); d.Allowed {
		t.Error("consent after the call must not lift US-1")
	}
}

// Decide ignores the outcome of the contact it decides and its arguments are left untouched.
func TestDecideIgnoresOwnOutcome(t *testing.T) {
	log := logOf(t, seq(1, 4, "2026-03-02", "+08:00", 9, "answered")...)
	for _, o := range []Outcome{"", OutcomeAnswered, OutcomeNoAnswer} {
		c := log[3]
		c.Outcome = o
		if d := Decide(PackCN, DebtorState{}, log[:3], c); d.Allowed || d.Violations[0].Rule != RuleCN2 {
			t.Errorf("outcome %q: %+v", o, d)
		}
	}
}

// Edges of CN-1 that the table above leaves out: just above each edge, the last instant of the
// local day, the extreme offsets, and the same instant read in Beijing and in UTC (the debtor's
// own offset decides, never UTC).
func TestCN1_MoreBoundaries(t *testing.T) {
	sms := func(id, at, consent string) string {
		return line(id, "d1", "L1", "sms", "debtor", "n1", at, "delivered", consent)
	}
	visit := func(id, at string) string { return line(id, "d1", "L1", "visit", "debtor", "", at, "visited", "") }
	runCases(t, PackCN, []ruleCase{
		{"08:00:00.001 allowed", []string{call("a", "2026-03-02T08:00:00.001+08:00", "no_answer")}, nil},
		{"22:00:00.001 flagged", []string{call("a", "2026-03-02T22:00:00.001+08:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"23:59:59.999 flagged", []string{call("a", "2026-03-02T23:59:59.999+08:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"sms 21:59:59 allowed, 22:00:00 flagged", []string{sms("a", "2026-03-02T21:59:59+08:00", ""), sms("b", "2026-03-02T22:00:00+08:00", "")},
			map[string]string{"b": "CN-1"}},
		{"sms consent at 22:00:00", []string{sms("a", "2026-03-02T22:00:00+08:00", "late_hours")}, nil},
		{"visit 07:59:59 flagged, 08:00:00 allowed", []string{visit("a", "2026-03-02T07:59:59+08:00"), visit("b", "2026-03-02T08:00:00+08:00")},
			map[string]string{"a": "CN-1"}},
		{"call consent at 07:59:59", []string{line("a", "d1", "L1", "call", "debtor", "n1", "2026-03-02T07:59:59+08:00", "answered", "late_hours")}, nil},
		// 2026-03-02T00:00:00Z and 2026-03-02T08:00:00+08:00 are one instant: only the contact
		// written in UTC is at local midnight.
		{"Beijing 08:00:00 allowed", []string{call("a", "2026-03-02T08:00:00+08:00", "no_answer")}, nil},
		{"the same instant in UTC flagged", []string{call("a", "2026-03-02T00:00:00Z", "no_answer")}, map[string]string{"a": "CN-1"}},
		// 2026-03-02T13:59:59Z is 21:59:59 in Beijing, 14:00:00Z is 22:00:00.
		{"Beijing 21:59:59 written in UTC is 13:59:59 local", []string{call("a", "2026-03-02T13:59:59Z", "no_answer")}, nil},
		{"offset +14:00 at 07:59:59", []string{call("a", "2026-03-02T07:59:59+14:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"offset -12:00 at 22:00:00", []string{call("a", "2026-03-02T22:00:00-12:00", "no_answer")}, map[string]string{"a": "CN-1"}},
		{"offset -12:00 at 21:59:59", []string{call("a", "2026-03-02T21:59:59-12:00", "no_answer")}, nil},
	})
}

// CN-2 and CN-3 count per local day of the debtor (Beijing here), whose midnight is 16:00 UTC:
// calls on one UTC day can fall on two Beijing days and the reverse.
func TestCN2CN3_BeijingDayNotUTCDay(t *testing.T) {
	late := func(id, at, outcome string) string {
		return line(id, "d1", "L1", "call", "debtor", "n1", at, outcome, "late_hours")
	}
	// 09:00-09:02 Beijing on 2 March is 01:00-01:02 UTC on 2 March.
	answered3 := seq(1, 3, "2026-03-02", "+08:00", 9, "answered")
	// 06:00-06:05 Beijing on 2 March is 22:00-22:05 UTC on 1 March.
	var early6 []string
	for k := range 6 {
		early6 = append(early6, late(fmt.Sprintf("u%d", k+1), fmt.Sprintf("2026-03-02T06:%02d:00+08:00", k), "no_answer"))
	}
	runCases(t, PackCN, []ruleCase{
		// 00:30 Beijing on 3 March is 16:30 UTC on 2 March, the UTC day of the three.
		{"CN-2: next Beijing day, same UTC day: allowed", append(slices.Clone(answered3), late("c4", "2026-03-03T00:30:00+08:00", "answered")), nil},
		{"CN-2: 23:59:59 Beijing, same day: flagged", append(slices.Clone(answered3), late("c4", "2026-03-02T23:59:59+08:00", "answered")),
			map[string]string{"c4": "CN-2"}},
		// Three answered at 06:00 Beijing (1 March UTC), the fourth at 09:00 Beijing (2 March UTC).
		{"CN-2: same Beijing day, previous UTC day: flagged", []string{late("c1", "2026-03-02T06:00:00+08:00", "answered"),
			late("c2", "2026-03-02T06:10:00+08:00", "answered"), late("c3", "2026-03-02T06:20:00+08:00", "answered"),
			call("c4", "2026-03-02T09:00:00+08:00", "no_answer")},
			map[string]string{"c4": "CN-2"}},
		{"CN-3: 7th dial at 23:59:59 Beijing: flagged", append(slices.Clone(early6), late("u7", "2026-03-02T23:59:59+08:00", "no_answer")),
			map[string]string{"u7": "CN-3"}},
		{"CN-3: 7th dial at 00:00:00 next Beijing day: allowed", append(slices.Clone(early6), late("u7", "2026-03-03T00:00:00+08:00", "no_answer")), nil},
		// 07:59 Beijing on 2 March is 23:59 UTC on 1 March, the UTC day of the six; 00:00 UTC on
		// 2 March is 08:00 Beijing, the same Beijing day as the six.
		{"CN-3: same Beijing day, next UTC day: flagged", append(slices.Clone(early6), call("u7", "2026-03-02T08:00:00+08:00", "busy")),
			map[string]string{"u7": "CN-3"}},
	})
}

// US-1 counts local calendar days, not 24-hour periods: the window and the bar after a
// conversation both move at the debtor's local midnight.
func TestUS1_MidnightEdges(t *testing.T) {
	late := func(id, debt, at, outcome string) string {
		return line(id, "d1", debt, "call", "debtor", "n1", at, outcome, "late_hours")
	}
	seven := seq(1, 7, "2026-03-02", "-05:00", 10, "busy")
	runCases(t, PackUS, []ruleCase{
		{"window: 8th call at 23:59:59 on day 7 flagged", append(slices.Clone(seven), late("c8", "L1", "2026-03-08T23:59:59-05:00", "no_answer")),
			map[string]string{"c8": "US-1"}},
		{"window: 8th call at 00:00:00 on day 8 allowed", append(slices.Clone(seven), late("c8", "L1", "2026-03-09T00:00:00-05:00", "no_answer")), nil},
		{"window: 6 calls then a 7th allowed, 8th flagged", append(seq(1, 6, "2026-03-02", "-05:00", 10, "busy"),
			late("c7", "L1", "2026-03-08T23:00:00-05:00", "no_answer"), late("c8", "L1", "2026-03-08T23:59:59-05:00", "no_answer")),
			map[string]string{"c8": "US-1"}},
		// A conversation at 23:59:59: one second later is day 2, still barred.
		{"conversation at 23:59:59, call at 00:00:00 is day 2", []string{late("v", "L1", "2026-03-02T23:59:59-05:00", "answered"),
			late("a", "L1", "2026-03-03T00:00:00-05:00", "no_answer")}, map[string]string{"a": "US-1"}},
		// 6 days and 1 second after a conversation at 23:59:59 is already day 8.
		{"conversation at 23:59:59, day 8 at 00:00:00 allowed", []string{late("v", "L1", "2026-03-02T23:59:59-05:00", "answered"),
			late("a", "L1", "2026-03-09T00:00:00-05:00", "no_answer")}, nil},
		// 7 days less 1 second after a conversation at 00:00:00 is still day 7.
		{"conversation at 00:00:00, day 7 at 23:59:59 flagged", []string{late("v", "L1", "2026-03-02T00:00:00-05:00", "answered"),
			late("a", "L1", "2026-03-08T23:59:59-05:00", "no_answer")}, map[string]string{"a": "US-1"}},
		{"conversation at 00:00:00, day 8 at 00:00:00 allowed", []string{late("v", "L1", "2026-03-02T00:00:00-05:00", "answered"),
			late("a", "L1", "2026-03-09T00:00:00-05:00", "no_answer")}, nil},
		{"busy and no_answer are not conversations", []string{late("v", "L1", "2026-03-02T10:00:00-05:00", "busy"),
			late("w", "L1", "2026-03-02T11:00:00-05:00", "no_answer"), late("a", "L1", "2026-03-03T10:00:00-05:00", "no_answer")}, nil},
		// Were calls without a debt id one debt "", the 8th and the call after the answered one
		// would be flagged.
		{"calls with no debt id are neither counted nor checked", []string{late("x1", "", "2026-03-02T10:00:00-05:00", "answered"),
			late("x2", "", "2026-03-02T10:01:00-05:00", "no_answer"), late("x3", "", "2026-03-02T10:02:00-05:00", "no_answer"),
			late("x4", "", "2026-03-02T10:03:00-05:00", "no_answer"), late("x5", "", "2026-03-02T10:04:00-05:00", "no_answer"),
			late("x6", "", "2026-03-02T10:05:00-05:00", "no_answer"), late("x7", "", "2026-03-02T10:06:00-05:00", "no_answer"),
			late("x8", "", "2026-03-02T10:07:00-05:00", "no_answer")}, nil},
	})
}

// US-2's edges just above and below each limit, and the limits read at the consumer's offset.
func TestUS2_MoreBoundaries(t *testing.T) {
	runCases(t, PackUS, []ruleCase{
		{"07:59:59.999 flagged", []string{call("a", "2026-03-02T07:59:59.999-05:00", "no_answer")}, map[string]string{"a": "US-2"}},
		{"08:00:00.001 allowed", []string{call("a", "2026-03-02T08:00:00.001-05:00", "no_answer")}, nil},
		{"20:59:59 allowed", []string{call("a", "2026-03-02T20:59:59-05:00", "no_answer")}, nil},
		{"consent at 21:00:01", []string{line("a", "d1", "L1", "call", "debtor", "n1", "2026-03-02T21:00:01-05:00", "no_answer", "late_hours")}, nil},
		{"email 21:00:00 allowed, 21:00:01 flagged", []string{line("a", "d1", "L1", "email", "debtor", "", "2026-03-02T21:00:00-05:00", "delivered", ""),
			line("b", "d1", "L2", "email", "debtor", "", "2026-03-02T21:00:01-05:00", "delivered", "")},
			map[string]string{"b": "US-2"}},
		{"letter at 03:00 not covered", []string{line("a", "d1", "L1", "letter", "debtor", "", "2026-03-02T03:00:00-05:00", "delivered", "")}, nil},
		// 2026-03-02T13:00:00Z is 08:00 in New York (-05:00) but 13:00 in UTC: the UTC reading would
		// allow 2026-03-02T12:59:59Z, New York reads it as 07:59:59.
		{"07:59:59 in New York", []string{call("a", "2026-03-02T07:59:59-05:00", "no_answer")}, map[string]string{"a": "US-2"}},
		{"the same instant in UTC", []string{call("a", "2026-03-02T12:59:59Z", "no_answer")}, nil},
	})
}
