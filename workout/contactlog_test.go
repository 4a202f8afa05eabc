package workout

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"reclaim"
)

func TestReadContactLog(t *testing.T) {
	in := "\ufeffAt , contact_id,debtor_id,debt_id,channel,party,number,outcome,consent,note,agency,agent\r\n" +
		"2026-03-02T21:59:00+08:00,c1,d1,L1,call,debtor,13800000000,answered,,hello,,alice\r\n" +
		"2026-03-02T22:30:00.5-05:00, c2 ,d1,L1,sms,third_party,139,delivered,late_hours,\"a, b\",Agency A,bob\r\n" +
		"\r\n" +
		"2026-03-02T00:00:00Z,c3,d2,,letter,debtor,,not_found,,,,\r\n"
	log, err := ReadContactLog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("%d contacts", len(log))
	}
	c := log[1]
	if c.ID != "c2" || c.Channel != ChannelSMS || c.Party != PartyThirdParty || c.Number != "139" || c.Outcome != OutcomeDelivered ||
		c.Consent != ConsentLateHours || c.Agent != "bob" || c.Agency != "Agency A" {
		t.Errorf("contact 2: %+v", c)
	}
	if _, off := c.At.Zone(); off != -5*3600 || c.At.Hour() != 22 || c.At.Nanosecond() != 5e8 {
		t.Errorf("time of contact 2 lost its offset: %v", c.At)
	}
	if log[0].Agent != "alice" || log[0].Agency != "" || log[2].DebtID != "" || log[2].At.Location() != time.UTC && log[2].At.Format(time.RFC3339) != "2026-03-02T00:00:00Z" {
		t.Errorf("contacts 1, 3: %+v %+v", log[0], log[2])
	}
	// The header alone is an empty log.
	if log, err := ReadContactLog(strings.NewReader(header)); err != nil || len(log) != 0 {
		t.Errorf("header only: %v %v", log, err)
	}
}

func TestReadContactLogErrors(t *testing.T) {
	const ok = "c1,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n"
	cases := []struct {
		name, in    string
		line, field string
	}{
		{"empty file", "", "1", "header"},
		{"missing column", "contact_id,debtor_id,debt_id,channel,party,number,at,outcome\nc1,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered\n", "1", "consent"},
		{"time without offset", header + ok + "c2,d1,L1,call,debtor,n1,2026-03-02T21:59:00,answered,\n", "3", "at"},
		{"time with a space", header + "c2,d1,L1,call,debtor,n1,2026-03-02 21:59:00+08:00,answered,\n", "2", "at"},
		{"date only", header + "c2,d1,L1,call,debtor,n1,2026-03-02,answered,\n", "2", "at"},
		{"empty time", header + "c2,d1,L1,call,debtor,n1,,answered,\n", "2", "at"},
		{"hour 24", header + "c2,d1,L1,call,debtor,n1,2026-03-02T24:00:00+08:00,answered,\n", "2", "at"},
		{"unknown channel", header + ok + ok[:0] + "c2,d1,L1,fax,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n", "3", "channel"},
		{"channel in capitals", header + "c2,d1,L1,CALL,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n", "2", "channel"},
		{"unknown party", header + "c2,d1,L1,call,neighbour,n1,2026-03-02T09:00:00+08:00,answered,\n", "2", "party"},
		{"unknown outcome", header + "c2,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,promise,\n", "2", "outcome"},
		{"empty outcome", header + "c2,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,,\n", "2", "outcome"},
		{"unknown consent", header + "c2,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,yes\n", "2", "consent"},
		{"empty id", header + ok + ",d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n", "3", "contact_id"},
		{"empty debtor", header + "c2,,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n", "2", "debtor_id"},
		{"duplicate id", header + ok + "c2,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n" + ok, "4", "contact_id"},
		{"too few fields", header + "c2,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered\n", "2", ""},
		{"invalid UTF-8", header + "c2,d1,L1,call,debtor,n\xff,2026-03-02T09:00:00+08:00,answered,\n", "2", "number"},
		{"bad quote", header + ok + "c2,\"d1,L1\n", "3", ""},
		{"multi-line field then error", header + "c2,\"d\n1\",L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n" +
			"c3,d1,L1,call,debtor,n1,nope,answered,\n", "4", "at"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, err := ReadContactLog(strings.NewReader(tc.in))
			var re *reclaim.Error
			if !errors.As(err, &re) || re.Code != reclaim.EINVALID {
				t.Fatalf("got %v, %v; want EINVALID", log, err)
			}
			if log != nil {
				t.Errorf("contacts returned with an error: %v", log)
			}
			if re.Fields["line"] != tc.line || re.Fields["field"] != tc.field {
				t.Errorf("fields %v, want line %s field %q", re.Fields, tc.line, tc.field)
			}
			if !strings.Contains(re.Message, "line "+tc.line) || (tc.field != "" && !strings.Contains(re.Message, tc.field)) {
				t.Errorf("message %q does not name line %s and field %s", re.Message, tc.line, tc.field)
			}
		})
	}
}

func FuzzContactLog(f *testing.F) {
	seed, err := os.ReadFile("testdata/contacts.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(header + "c1,d1,L1,call,debtor,n1,2026-03-02T09:00:00+08:00,answered,\n"))
	f.Add([]byte("\ufeff" + header + "c1,d1,L1,visit,third_party,,2026-03-02T23:00:00.123-05:00,visited,late_hours\n"))
	f.Add([]byte(header + "c1,d1,L1,call,debtor,n1,2026-03-02T09:00:00,answered,\n"))
	f.Add([]byte("contact_id,at\n\"x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		log, err := ReadContactLog(bytes.NewReader(b))
		if err != nil {
			var re *reclaim.Error
			if !errors.As(err, &re) || re.Code != reclaim.EINVALID || re.Fields["line"] == "" || log != nil {
				t.Fatalf("error without a line: %#v", err)
			}
			return
		}
		ids := map[string]bool{}
		for _, c := range log {
			if c.ID == "" || ids[c.ID] || c.DebtorID == "" || !c.Channel.Valid() || !c.Party.Valid() || !c.Outcome.Valid() ||
				(c.Consent != "" && c.Consent != ConsentLateHours) {
				t.Fatalf("invalid contact accepted: %+v", c)
			}
			ids[c.ID] = true
		}
		for _, p := range []Pack{PackCN, PackUS} {
			flags := Audit(p, log)
			for _, fl := range flags {
				if fl.Index < 0 || fl.Index >= len(log) || log[fl.Index].ID != fl.ContactID {
					t.Fatalf("flag %+v does not name a contact", fl)
				}
			}
		}
	})
}
