package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"reclaim/abs"
	"reclaim/abs/live"
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

// TestDealWaterfallRerun: `report --deal-doc` re-runs the waterfall of the published test vector
// (the example deal through two payment dates) and passes; a tampered distribution line and a
// document that is not the one fixed at pool opening each fail with exit code 1 and say why.
func TestDealWaterfallRerun(t *testing.T) {
	t.Setenv(tokenEnv, "tok")
	vector, err := os.ReadFile("../../tlog/testdata/deal-log-v2.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(tamper bool) *env {
		e := newEnv(t)
		e.srv.entries, e.srv.hashes = nil, nil
		for _, line := range strings.Split(strings.TrimSpace(string(vector)), "\n") {
			x, err := verify.ParseEntry([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := x.(verify.DealPayment); ok && tamper && p.Period == 1 {
				// One fen moved from the senior's principal to its interest: the lines still add
				// up, only the waterfall re-run can tell.
				switch p.To {
				case "tranche:A:interest":
					p.Amount++
				case "tranche:A:principal":
					p.Amount--
				}
				x = p
			}
			e.srv.add(t, x)
		}
		e.srv.publish(t)
		if code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir); code != 0 {
			t.Fatalf("sync: %d %s %s", code, out, errs)
		}
		return e
	}
	deal := "../../docs/examples/deal-npl-2tranche.yaml"

	e := serve(false)
	code, out, errs := e.run("report", "--dir", e.dir, "--deal-doc", deal)
	if code != 0 || !strings.Contains(out, "OK waterfall of period 1 (paid 2016-07-26) re-run with "+deal) ||
		!strings.Contains(out, "OK waterfall of period 2") || !strings.Contains(out, "fixed by pool.opened at 0") {
		t.Fatalf("clean deal: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = e.run("report", "--dir", e.dir, "--deal-doc", deal, "--deal-report", "../../abs/live/testdata/report-period-2.json")
	if code != 0 || !strings.Contains(out, "OK report document ../../abs/live/testdata/report-period-2.json against the re-run") {
		t.Fatalf("document against the re-run: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = e.run("report", "--dir", e.dir)
	if code != 0 || !strings.Contains(out, "give the deal documents with --deal-doc") {
		t.Fatalf("without documents: %d %s", code, out)
	}
	code, out, _ = e.run("--json", "report", "--dir", e.dir, "--deal-doc", deal)
	if code != 0 || !strings.Contains(out, `"waterfall"`) || !strings.Contains(out, `"rerun": true`) {
		t.Fatalf("--json: %d %s", code, out)
	}

	code, out, errs = e.run("report", "--dir", e.dir, "--deal-doc", e.file("other.yaml", strings.Replace(mustRead(t, deal), `coupon: "3.00%"`, `coupon: "3.10%"`, 1)))
	if code != 1 || !strings.Contains(out, "fixed by NOT on the log") || !strings.Contains(out, "does not hash to the deal fixed on the ledger") ||
		!strings.Contains(out, "NOT RE-RUN waterfall of period 1") || !strings.Contains(errs, "deal report mismatches") {
		t.Fatalf("wrong document: %d\n%s\n%s", code, out, errs)
	}

	e = serve(true)
	code, out, errs = e.run("report", "--dir", e.dir, "--deal-doc", deal)
	if code != 1 || !strings.Contains(out, "MISMATCH waterfall of period 1") ||
		!strings.Contains(out, "period 1 line 6 (collection -> tranche:A:interest): logged 942575.35, recomputed 942575.34") ||
		!strings.Contains(out, "OK waterfall of period 2") {
		t.Fatalf("tampered line: %d\n%s\n%s", code, out, errs)
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDealRerunWithBounceAndWaiver: the published vector (two payment dates) goes on with a
// third window in which a collection of window 1 bounces (loan.collection_reversal), a
// settlement waives part of a loan (loan.waiver) and a new collection comes in; the server's
// report of period 3 (package abs/live) is logged. `report --deal-doc --deal-report` re-runs
// all three waterfalls clean and accepts the document; a log that drops the bounce fails.
func TestDealRerunWithBounceAndWaiver(t *testing.T) {
	t.Setenv(tokenEnv, "tok")
	vector, err := os.ReadFile("../../tlog/testdata/deal-log-v2.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	deal := "../../docs/examples/deal-npl-2tranche.yaml"
	d, err := abs.Load([]byte(mustRead(t, deal)), abs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var log []verify.Entry
	for _, line := range strings.Split(strings.TrimSpace(string(vector)), "\n") {
		x, err := verify.ParseEntry([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, x)
	}
	wins, err := live.Windows(d)
	if err != nil {
		t.Fatal(err)
	}
	w3 := wins[2]
	h := func(id string, days int) verify.Header {
		return verify.Header{Pool: "P1", EventID: id, Effective: w3.CollectionStart.AddDays(days).String()}
	}
	log = append(log,
		verify.LoanCollection{Header: h("c9", 3), Loan: "L1", Amount: 900000000, Principal: 900000000, Channel: verify.ChannelOnline,
			BankTxn: strings.Repeat("c", 64)},
		verify.LoanCollectionReversal{Header: h("r1", 5), Loan: "L1", Amount: 1500000000, Principal: 1500000000, Reverses: "c1", Reason: "bounced"},
		verify.LoanWaiver{Header: h("w9", 6), Loan: "L2", Amount: 12345600, Principal: 12345600, Settlement: "offer-9", Reason: "settled"})
	st, err := live.StateFromEntries(log)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := live.Build(live.Input{Deal: d, State: st, Period: 3, Origin: "example/P1", LedgerSize: int64(len(log))})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := rep.Encode()
	_, ws, _ := live.Scenario(d, st, 3)
	es, err := rep.Entries(doc, ws[2])
	if err != nil {
		t.Fatal(err)
	}
	log = append(log, es...)
	// 9,000,000 collected less the 15,000,000 bounce: gross 0, 6,000,000 carried; 123,456 waived.
	if rep.PoolCash.Gross.String() != "0.00" || rep.PoolCash.CostsCarried.String() != "6000000.00" || rep.PoolCash.Waivers.String() != "123456.00" {
		t.Fatalf("period 3 pool cash %+v", rep.PoolCash)
	}
	serve := func(drop string) *env {
		e := newEnv(t)
		e.srv.entries, e.srv.hashes = nil, nil
		for _, x := range log {
			if x.EntryHeader().EventID != drop {
				e.srv.add(t, x)
			}
		}
		e.srv.publish(t)
		if code, out, errs := e.run("sync", "--policy", e.policy, "--dir", e.dir); code != 0 {
			t.Fatalf("sync: %d %s %s", code, out, errs)
		}
		return e
	}
	e := serve("")
	code, out, errs := e.run("report", "--dir", e.dir, "--deal-doc", deal, "--deal-report", e.file("report-3.json", string(doc)))
	if code != 0 || !strings.Contains(out, "OK waterfall of period 3") || !strings.Contains(out, "OK report document") {
		t.Fatalf("clean: %d\n%s\n%s", code, out, errs)
	}
	e = serve("r1")
	code, out, errs = e.run("report", "--dir", e.dir, "--deal-doc", deal, "--deal-report", e.file("report-3.json", string(doc)))
	if code != 1 || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("a dropped bounce: %d\n%s\n%s", code, out, errs)
	}
}
