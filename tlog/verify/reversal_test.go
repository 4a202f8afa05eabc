package verify

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// reversalLog: c1 (1000 on A) bounces in January; c2 (2000 on B) is collected in February and
// reversed in February too.
func reversalLog() []Entry {
	rev := func(id, eff string, c LoanCollection) LoanCollectionReversal {
		return LoanCollectionReversal{Header: hdr(id, eff), Loan: c.Loan, Amount: c.Amount, Principal: c.Principal,
			Interest: c.Interest, Fees: c.Fees, Reverses: c.EventID, Reason: "bounced"}
	}
	c1 := periodColl("c1", "2025-01-15", "A", 1000)
	c2 := periodColl("c2", "2025-02-03", "B", 2000)
	return []Entry{
		PoolOpened{Header: hdr("open", "2025-01-01"), Name: "P", Cutoff: "2024-12-31", Currency: "CNY"},
		LoanBoarded{Header: hdr("b1", "2025-01-02"), Loan: "A", Claim: 10000, Principal: 10000, Commitment: hx('1')},
		LoanBoarded{Header: hdr("b2", "2025-01-02"), Loan: "B", Claim: 5000, Principal: 5000, Commitment: hx('2')},
		c1,
		periodColl("c1b", "2025-01-16", "B", 300),
		rev("r-c1", "2025-01-20", c1),
		// 6: January: two collections, 1300 gross, 300 net of the reversal; A is back to 10000.
		PeriodReport{Header: hdr("r1", "2025-02-01"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", FromIndex: 0, ToIndex: 6,
			LoansBoarded: 2, CollectionsCount: 2, Collections: 300, PrincipalCollected: 300, BoardedBalance: 15000, ClosingBalance: 14700, ReportHash: hx('a')},
		c2,
		rev("r-c2", "2025-02-04", c2),
		// 9: February: one collection reversed, net 0.
		PeriodReport{Header: hdr("r2", "2025-03-01"), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", FromIndex: 6, ToIndex: 9,
			CollectionsCount: 1, Collections: 0, PrincipalCollected: 0, OpeningBalance: 14700, ClosingBalance: 14700, ReportHash: hx('b')},
	}
}

func TestReportNetsReversals(t *testing.T) {
	es := reversalLog()
	for _, idx := range []int64{6, 9} {
		if res, err := ReportEntries(es, idx); err != nil {
			t.Fatalf("report %d: %v %+v", idx, err, res.Mismatches)
		}
	}
	if pr, err := CheckPeriods(es); err != nil || pr.Movements != 7 {
		t.Fatalf("periods %+v %v", pr, err)
	}
	// A report that ignores the reversal (gross collections) is caught.
	r1 := es[6].(PeriodReport)
	r1.Collections, r1.PrincipalCollected, r1.ClosingBalance = 1300, 1300, 13700
	es[6] = r1
	res, err := ReportEntries(es, 6)
	wantFailure(t, err, "report-mismatch")
	if !mismatchFields(res)["collections"] || !mismatchFields(res)["closing_balance"] {
		t.Errorf("mismatches %+v", res.Mismatches)
	}
}

func TestReportBadReversals(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(es []Entry)
		want   string
	}{
		"unknown original": {func(es []Entry) {
			r := es[5].(LoanCollectionReversal)
			r.Reverses = "nope"
			es[5] = r
		}, "not an earlier loan.collection"},
		"other figures": {func(es []Entry) {
			r := es[5].(LoanCollectionReversal)
			r.Amount, r.Principal = 900, 900
			es[5] = r
		}, "with other figures"},
		"twice": {func(es []Entry) {
			r := es[8].(LoanCollectionReversal)
			r.Reverses, r.Loan, r.Amount, r.Principal = "c1", "A", 1000, 1000
			es[8] = r
		}, "already reversed"},
	} {
		t.Run(name, func(t *testing.T) {
			es := reversalLog()
			tc.mutate(es)
			res, err := ReportEntries(es, 9)
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

func TestReversalEntryRules(t *testing.T) {
	base := LoanCollectionReversal{Header: hdr("rv", "2025-01-02"), Loan: "A", Amount: 100, Principal: 60, Interest: 30, Fees: 10, Reverses: "c1"}
	if _, err := base.Encode(); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]LoanCollectionReversal{
		"sum": func() LoanCollectionReversal { e := base; e.Fees = 11; return e }(),
		"zero": func() LoanCollectionReversal {
			e := base
			e.Amount, e.Principal, e.Interest, e.Fees = 0, 0, 0, 0
			return e
		}(),
		"self":     func() LoanCollectionReversal { e := base; e.Reverses = "rv"; return e }(),
		"bad ref":  func() LoanCollectionReversal { e := base; e.Reverses = "a b"; return e }(),
		"long why": func() LoanCollectionReversal { e := base; e.Reason = strings.Repeat("x", 201); return e }(),
	} {
		if _, err := e.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	b, _ := base.Encode()
	got, err := ParseEntry(b)
	if err != nil || got.(LoanCollectionReversal) != base {
		t.Fatalf("round trip: %v %+v", err, got)
	}
}

// One bank transaction that paid two loans reconciles when its collections sum to the credit.
func TestReconcileOneTransactionSeveralLoans(t *testing.T) {
	salt := bytes.Repeat([]byte{5}, 32)
	coll := func(id, loan string, amt Amount) LoanCollection {
		return LoanCollection{Header: hdr(id, "2025-01-15"), Loan: loan, Amount: amt, Principal: amt, Channel: ChannelBankTransfer,
			BankTxn: Commit(salt, TagBankTxn, BankTxnRecord("TX-1"))}
	}
	dir := syncEntries(t, []Entry{
		PoolOpened{Header: hdr("open", "2025-01-01"), Name: "P", Cutoff: "2024-12-31", Currency: "CNY"},
		LoanBoarded{Header: hdr("b1", "2025-01-02"), Loan: "A", Claim: 10000, Principal: 10000, Commitment: hx('1')},
		LoanBoarded{Header: hdr("b2", "2025-01-02"), Loan: "B", Claim: 5000, Principal: 5000, Commitment: hx('2')},
		coll("c1", "A", 700), coll("c2", "B", 300),
	})
	h := hex.EncodeToString(salt)
	opens := "c1," + h + ",TX-1\nc2," + h + ",TX-1\n"
	res, err := Reconcile(dir, strings.NewReader("TX-1,2025-01-15,10.00\n"), strings.NewReader(opens))
	if err != nil || res.Matched != 2 || res.Credits != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = Reconcile(dir, strings.NewReader("TX-1,2025-01-15,10.01\n"), strings.NewReader(opens))
	wantFailure(t, err, "reconcile-unmatched")
	if len(res.UnmatchedCollections) != 2 || !strings.Contains(res.UnmatchedCollections[0].Reason, "2 collections on it sum to 10.00") {
		t.Fatalf("%+v", res.UnmatchedCollections)
	}
}
