package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"reclaim/tlog/verify"
)

// TestDealReport: `report` checks a live deal's deal.report entries from the synced log, and
// --deal-report checks a downloaded report document against it; a tampered document fails.
func TestDealReport(t *testing.T) {
	t.Setenv(tokenEnv, "tok")
	e := newEnv(t)
	e.srv.entries, e.srv.hashes = nil, nil
	tab := func(k string) string {
		return `[{"key":"` + k + `","count":1,"gross":"25.00","costs":"0.00","net":"25.00"}]`
	}
	doc := `{"period":1,"pool_cash":{"collections_gross":"25.00","costs":"0.00","costs_carried":"0.00","collections_net":"25.00"},` +
		`"by_channel":` + tab("bank_transfer") + `,"by_region":` + tab("440000") + `,"by_dpd_bucket":` + tab("lt180") + `,"by_grade":` + tab("loss") + `,"distribution":[{"from":"pool","to":"collection","amount":"25.00","memo":"collections of the period"},` +
		`{"from":"collection","to":"tranche:A:interest","amount":"25.00","memo":"interest"}]}`
	sum := sha256.Sum256([]byte(doc))
	dealHash := strings.Repeat("d", 64)
	h := func(id, eff string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: eff} }
	for _, x := range []verify.Entry{
		verify.PoolOpened{Header: h("open", "2025-01-01"), Name: "Deal one", Cutoff: "2024-12-31", Currency: "CNY", WaterfallHash: dealHash},
		verify.LoanBoarded{Header: verify.Header{Pool: "P1", EventID: "b1", Effective: "2025-01-01", V: 2}, Loan: "A", Claim: 10000, Principal: 10000,
			Commitment: verify.Commit(e.salt, verify.TagLoanRecord, []byte("record A")), Product: "credit_card", Region: "440305", Grade: "loss"},
		verify.LoanCollection{Header: h("c1", "2025-01-10"), Loan: "A", Amount: 2500, Principal: 2500, Channel: verify.ChannelBankTransfer,
			BankTxn: verify.Commit(e.salt, verify.TagBankTxn, verify.BankTxnRecord("T1"))},
		verify.DealPayment{Header: h("p1", "2025-04-26"), Period: 1, PaymentDate: "2025-04-26", From: "pool", To: "collection", Amount: 2500, Memo: "collections of the period"},
		verify.DealPayment{Header: h("p2", "2025-04-26"), Period: 1, PaymentDate: "2025-04-26", From: "collection", To: "tranche:A:interest", Amount: 2500, Memo: "interest"},
		verify.DealReport{Header: h("r1", "2025-04-26"), Period: 1, PaymentDate: "2025-04-26", CollectionStart: "2025-01-01", CollectionEnd: "2025-03-31",
			DealHash: dealHash, Collections: 2500, Net: 2500, Payments: 2, Distributed: 5000, ReportHash: hex.EncodeToString(sum[:])},
	} {
		e.srv.add(t, x)
	}
	e.srv.publish(t)
	if code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir); code != 0 {
		t.Fatalf("sync: %d %s %s", code, out, errs)
	}
	code, out, errs := e.run("report", "--dir", e.dir, "--deal-report", e.file("report.json", doc))
	if code != 0 || !strings.Contains(out, "OK deal report at 5 (period 1") || !strings.Contains(out, "OK report document") {
		t.Fatalf("report: %d %s %s", code, out, errs)
	}
	bad := strings.Replace(doc, `"amount":"25.00","memo":"interest"`, `"amount":"24.00","memo":"interest"`, 1)
	code, out, errs = e.run("report", "--dir", e.dir, "--deal-report", e.file("bad.json", bad))
	if code != 1 || !strings.Contains(out, "MISMATCH report document") || !strings.Contains(out, "distribution[1]") || !strings.Contains(out, "report_hash") {
		t.Fatalf("tampered document: %d %s %s", code, out, errs)
	}
}
