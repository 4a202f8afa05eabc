package workout

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"reclaim/date"
)

func TestComplianceReport(t *testing.T) {
	b, err := os.ReadFile("testdata/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	log, err := ReadContactLog(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	attempts := AttemptsFromAudit(log, Audit(PackCN, log))

	total := ComplianceReport(attempts, ReportBy{})
	if len(total) != 1 {
		t.Fatalf("totals: %+v", total)
	}
	// The golden CN audit flags 7 rules on 7 contacts: c01 CN-1, c05 and c07 CN-2, c08 and c34 CN-4,
	// c17 CN-3, c25 CN-1.
	want := ReportRow{Attempts: 33, Allowed: 26, Denied: 7, DeniedByRule: map[string]int{"CN-1": 2, "CN-2": 2, "CN-3": 1, "CN-4": 2}}
	if !reflect.DeepEqual(total[0], want) {
		t.Errorf("totals %+v, want %+v", total[0], want)
	}

	rows := ComplianceReport(attempts, ReportBy{Day: true, Agency: true, Agent: true})
	sum := ReportRow{DeniedByRule: map[string]int{}}
	for i, r := range rows {
		if r.Attempts != r.Allowed+r.Denied {
			t.Errorf("row %+v does not balance", r)
		}
		if i > 0 {
			p := rows[i-1]
			if p.Day.After(r.Day) || p.Day == r.Day && (p.Agency > r.Agency || p.Agency == r.Agency && p.Agent >= r.Agent) {
				t.Errorf("rows out of order at %d: %+v then %+v", i, p, r)
			}
		}
		sum.Attempts += r.Attempts
		sum.Allowed += r.Allowed
		sum.Denied += r.Denied
		for k, v := range r.DeniedByRule {
			sum.DeniedByRule[k] += v
		}
	}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("grouped rows sum to %+v, want %+v", sum, want)
	}
	// 2 March, Agency East, b.wang: c04 (allowed), c05 (CN-2), c06 (sms, allowed).
	found := false
	for _, r := range rows {
		if r.Day == date.Of(2026, 3, 2) && r.Agency == "Agency East" && r.Agent == "b.wang" {
			found = true
			if r.Attempts != 3 || r.Denied != 1 || r.DeniedByRule["CN-2"] != 1 || !reflect.DeepEqual(r.Rules(), []string{"CN-2"}) {
				t.Errorf("b.wang on 2 March: %+v", r)
			}
		}
		// c25 is 2026-03-09T03:00Z: its own local day is 9 March.
		if r.Agent == "d.smith" && r.Day == date.Of(2026, 3, 9) && (r.Attempts != 1 || r.DeniedByRule["CN-1"] != 1) {
			t.Errorf("d.smith on 9 March: %+v", r)
		}
	}
	if !found {
		t.Error("no row for b.wang on 2 March")
	}
}

// An attempt that breaks two rules counts once as denied and once under each rule.
func TestComplianceReportTwoRules(t *testing.T) {
	c := logOf(t, line("a", "d1", "L1", "call", "third_party", "n1", "2026-03-02T23:00:00+08:00", "answered", ""))[0]
	d := Decide(PackCN, DebtorState{DoNotContact: true}, nil, c)
	rows := ComplianceReport([]Decided{{Contact: c, Decision: d}, {Contact: c, Decision: Decision{Allowed: true}}}, ReportBy{Agent: true})
	want := []ReportRow{{Attempts: 2, Allowed: 1, Denied: 1, DeniedByRule: map[string]int{"DNC": 1, "CN-1": 1, "CN-4": 1}}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("%+v, want %+v", rows, want)
	}
	if rows := ComplianceReport(nil, ReportBy{Day: true}); len(rows) != 0 {
		t.Errorf("empty: %+v", rows)
	}
}
