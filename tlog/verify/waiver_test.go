package verify

import (
	"strings"
	"testing"
)

// waiverLog: loan A (10000) pays 4000 and the remaining 6000 is waived in January; loan B (5000)
// pays 300 in January and 1700 of it is waived in February.
func waiverLog() []Entry {
	h2 := func(id, eff string) Header { h := hdr(id, eff); h.V = EntryVersion2; return h }
	return []Entry{
		PoolOpened{Header: hdr("open", "2025-01-01"), Name: "P", Cutoff: "2024-12-31", Currency: "CNY"},
		LoanBoarded{Header: hdr("b1", "2025-01-02"), Loan: "A", Claim: 10000, Principal: 10000, Commitment: hx('1')},
		LoanBoarded{Header: hdr("b2", "2025-01-02"), Loan: "B", Claim: 5000, Principal: 5000, Commitment: hx('2')},
		periodColl("c1", "2025-01-15", "A", 4000),
		LoanWaiver{Header: hdr("w1", "2025-01-16"), Loan: "A", Amount: 6000, Principal: 6000, Settlement: "offer-1", Reason: "settlement paid in full"},
		periodColl("c2", "2025-01-20", "B", 300),
		// 6: January: opening 0 + boarded 15000 - collections 4300 - waived 6000 = 4700.
		PeriodReport{Header: h2("r1", "2025-02-01"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", FromIndex: 0, ToIndex: 6,
			LoansBoarded: 2, CollectionsCount: 2, Collections: 4300, PrincipalCollected: 4300, BoardedBalance: 15000,
			WaiversCount: 1, Waived: 6000, ClosingBalance: 4700, ReportHash: hx('a')},
		LoanWaiver{Header: hdr("w2", "2025-02-03"), Loan: "B", Amount: 1700, Principal: 1700, Settlement: "offer-2"},
		// 8: February: 4700 - 1700 = 3000.
		PeriodReport{Header: h2("r2", "2025-03-01"), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", FromIndex: 6, ToIndex: 8,
			OpeningBalance: 4700, WaiversCount: 1, Waived: 1700, ClosingBalance: 3000, ReportHash: hx('b')},
	}
}

func TestReportRollsWaiversForward(t *testing.T) {
	es := waiverLog()
	for _, idx := range []int64{6, 8} {
		res, err := ReportEntries(es, idx)
		if err != nil {
			t.Fatalf("report %d: %v %+v", idx, err, res.Mismatches)
		}
		if idx == 8 && res.Outstanding != 3000 {
			t.Fatalf("outstanding %s, want 30.00", res.Outstanding.Major())
		}
	}
	if _, err := CheckPeriods(es); err != nil {
		t.Fatal(err)
	}
	// A report that leaves the waiver out of its roll-forward is caught.
	r1 := es[6].(PeriodReport)
	r1.WaiversCount, r1.Waived, r1.ClosingBalance = 0, 0, 10700
	es[6] = r1
	res, err := ReportEntries(es, 6)
	wantFailure(t, err, "report-mismatch")
	f := mismatchFields(res)
	if !f["waived"] || !f["closing_balance"] || !f["waivers_count"] {
		t.Errorf("mismatches %+v", res.Mismatches)
	}
	// So is a version-1 report of a period with waivers: it cannot carry them.
	es = waiverLog()
	r1 = es[6].(PeriodReport)
	r1.V, r1.WaiversCount, r1.Waived, r1.ClosingBalance = EntryVersion, 0, 0, 10700
	es[6] = r1
	res, err = ReportEntries(es, 6)
	wantFailure(t, err, "report-mismatch")
	found := false
	for _, m := range res.Mismatches {
		found = found || (m.Field == "waived" && strings.Contains(m.Detail, "version 2"))
	}
	if !found {
		t.Errorf("no version-2 mismatch: %+v", res.Mismatches)
	}
}

func TestReportBadWaivers(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(es []Entry)
		want   string
	}{
		"beyond balance": {func(es []Entry) {
			w := es[7].(LoanWaiver)
			w.Amount, w.Principal = 4800, 4800
			es[7] = w
		}, "whose balance is only"},
		"unknown loan": {func(es []Entry) {
			w := es[7].(LoanWaiver)
			w.Loan = "Z"
			es[7] = w
		}, "not in the pool"},
	} {
		t.Run(name, func(t *testing.T) {
			es := waiverLog()
			tc.mutate(es)
			res, err := ReportEntries(es, 8)
			wantFailure(t, err, "report-mismatch")
			found := false
			for _, m := range res.Mismatches {
				found = found || strings.Contains(m.Detail, tc.want)
			}
			if !found {
				t.Errorf("no mismatch saying %q: %+v", tc.want, res.Mismatches)
			}
		})
	}
}

func TestWaiverEntryRules(t *testing.T) {
	base := LoanWaiver{Header: hdr("wv", "2025-01-02"), Loan: "A", Amount: 100, Principal: 60, Interest: 30, Fees: 10, Settlement: "offer-9"}
	b, err := base.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]LoanWaiver{
		"sum":            func() LoanWaiver { e := base; e.Fees = 11; return e }(),
		"zero":           func() LoanWaiver { e := base; e.Amount, e.Principal, e.Interest, e.Fees = 0, 0, 0, 0; return e }(),
		"bad settlement": func() LoanWaiver { e := base; e.Settlement = "a b"; return e }(),
		"no settlement":  func() LoanWaiver { e := base; e.Settlement = ""; return e }(),
		"long reason":    func() LoanWaiver { e := base; e.Reason = strings.Repeat("x", 201); return e }(),
	} {
		if _, err := e.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	got, err := ParseEntry(b)
	if err != nil || got.(LoanWaiver) != base {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	// A version-1 period report cannot carry waivers; version 2 must balance with them.
	rep := PeriodReport{Header: hdr("r", "2025-01-31"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", BoardedBalance: 100,
		WaiversCount: 1, Waived: 40, ClosingBalance: 60, ReportHash: hx('a')}
	if _, err := rep.Encode(); err == nil {
		t.Error("v1 report with waivers encoded")
	}
	rep.V = EntryVersion2
	if _, err := rep.Encode(); err != nil {
		t.Fatal(err)
	}
	rep.ClosingBalance = 100
	if _, err := rep.Encode(); err == nil {
		t.Error("v2 report that ignores its waivers encoded")
	}
}
