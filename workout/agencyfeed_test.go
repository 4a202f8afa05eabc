package workout_test

import (
	"strings"
	"testing"

	"reclaim"
	. "reclaim/workout"
)

const woFeedHead = "contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\n"

func TestParseAgencyFeed(t *testing.T) {
	cs, err := ParseAgencyFeed(strings.NewReader("\ufeffextra," + strings.TrimSuffix(woFeedHead, "\n") + "\n" +
		"x,c1,C12,L1,call,debtor,13800138000,2026-03-02T21:59:00+08:00,answered,\n" +
		"y,c2,C12,,visit,third_party,,2026-03-02T07:00:00+08:00,visited,late_hours\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "c1" || cs[0].DebtorID != "C12" || cs[0].Channel != "call" || cs[0].At.Hour() != 21 ||
		cs[1].Consent != "late_hours" || cs[1].Party != "third_party" {
		t.Fatalf("%+v", cs)
	}
	_, off := cs[0].At.Zone()
	if off != 8*3600 {
		t.Fatalf("offset lost: %d", off)
	}
	bad := []struct {
		in, line, field string
	}{
		{"", "1", "header"},
		{"contact_id,debtor_id\n", "1", "debt_id"},
		{woFeedHead + "c1,C1,,fax,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", "2", "channel"},
		{woFeedHead + "c1,C1,,letter,neighbour,,2026-03-02T10:00:00+08:00,delivered,\n", "2", "party"},
		{woFeedHead + "c1,C1,,letter,debtor,,2026-03-02 10:00,delivered,\n", "2", "at"},
		{woFeedHead + "c1,C1,,letter,debtor,,2026-03-02T10:00:00,delivered,\n", "2", "at"},
		{woFeedHead + "c1,C1,,letter,debtor,,2026-03-02T10:00:00+08:00,maybe,\n", "2", "outcome"},
		{woFeedHead + "c1,C1,,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,yes\n", "2", "consent"},
		{woFeedHead + "c1,C1,,call,debtor,,2026-03-02T10:00:00+08:00,answered,\n", "2", "number"},
		{woFeedHead + ",C1,,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", "2", "contact_id"},
		{woFeedHead + "c1,,,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", "2", "debtor_id"},
		{woFeedHead + "c1,C1,,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,\nc1,C1,,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", "3", "contact_id"},
		{woFeedHead + "c1,\"C1,,letter\n", "2", "line"},
		{woFeedHead + "c1,C1,,letter,debtor,,0000-03-02T10:00:00+08:00,delivered,\n", "2", "at"},
	}
	for _, b := range bad {
		_, err := ParseAgencyFeed(strings.NewReader(b.in))
		re, ok := err.(*reclaim.Error)
		if !ok || re.Code != reclaim.EINVALID || re.Fields["line"] != b.line || re.Fields["field"] != b.field {
			t.Errorf("%q: %v (fields %v), want line %s field %s", b.in, err, woFieldsOf(err), b.line, b.field)
		}
	}
}

func woFieldsOf(err error) map[string]string {
	if re, ok := err.(*reclaim.Error); ok {
		return re.Fields
	}
	return nil
}

func FuzzParseAgencyFeed(f *testing.F) {
	f.Add(woFeedHead + "c1,C1,L1,call,debtor,13800138000,2026-03-02T21:59:00+08:00,answered,\n")
	f.Add(woFeedHead + "c1,C1,,letter,debtor,,2026-03-02T10:00:00Z,delivered,late_hours\n")
	f.Add("contact_id\n\"")
	f.Add(woFeedHead + "c1,C1,,visit,third_party,,2026-13-02T10:00:00+08:00,visited,\n")
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseAgencyFeed(strings.NewReader(s))
		if err != nil {
			if reclaim.ErrorCode(err) != reclaim.EINVALID || woFieldsOf(err)["line"] == "" {
				t.Fatalf("error without a line: %v", err)
			}
			if cs != nil {
				t.Fatal("contacts returned with an error")
			}
			return
		}
		for _, c := range cs {
			if c.ID == "" || c.DebtorID == "" || c.At.IsZero() {
				t.Fatalf("incomplete contact %+v", c)
			}
		}
	})
}
