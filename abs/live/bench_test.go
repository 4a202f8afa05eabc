package live

import (
	"fmt"
	"testing"

	"reclaim/tlog/verify"
)

// benchLog is the example deal's pool with n loan collections spread over the first 8 collection
// windows, and the reports of periods 1..7 already closed.
func benchLog(b *testing.B, n int) []verify.Entry {
	d := loadDeal(b)
	wins, err := Windows(d)
	if err != nil {
		b.Fatal(err)
	}
	log := poolLog(d)[:3]
	for p := 1; p <= 8; p++ {
		w := wins[p-1]
		days := w.CollectionEnd.Sub(w.CollectionStart)
		for i := range n / 8 {
			h := verify.Header{Pool: "P1", EventID: fmt.Sprintf("c%d-%d", p, i), Effective: w.CollectionStart.AddDays(i % (days + 1)).String()}
			log = append(log, verify.LoanCollection{Header: h, Loan: []string{"L1", "L2"}[i%2], Amount: 250000, Principal: 250000,
				Channel: verify.ChannelOnline, BankTxn: hx('c')})
		}
		if p == 8 {
			break
		}
		st, _ := StateFromEntries(log)
		rep, _, err := Build(Input{Deal: d, State: st, Period: p, LedgerSize: int64(len(log))})
		if err != nil {
			b.Fatal(err)
		}
		doc, _ := rep.Encode()
		_, ws, _ := Scenario(d, st, p)
		es, _ := rep.Entries(doc, ws[p-1])
		log = append(log, es...)
	}
	return log
}

// BenchmarkBuildReport: period 8's report of the 16-period example deal from a log of 10,000
// collections (state, live run, report, encoding, entries).
func BenchmarkBuildReport(b *testing.B) {
	d := loadDeal(b)
	log := benchLog(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		st, err := StateFromEntries(log)
		if err != nil {
			b.Fatal(err)
		}
		rep, _, err := Build(Input{Deal: d, State: st, Period: 8, LedgerSize: int64(len(log))})
		if err != nil {
			b.Fatal(err)
		}
		doc, _ := rep.Encode()
		_, ws, _ := Scenario(d, st, 8)
		if _, err := rep.Entries(doc, ws[7]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyDealReports: the verifier's check of 7 deal reports over the same log.
func BenchmarkVerifyDealReports(b *testing.B) {
	log := benchLog(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		res, _ := verify.DealReports(log)
		if len(res) != 7 {
			b.Fatal(len(res))
		}
	}
}

// BenchmarkMonitor: the monitoring snapshot (the SSE topic's event) over the same log.
func BenchmarkMonitor(b *testing.B) {
	d := loadDeal(b)
	log := benchLog(b, 10000)
	st, _ := StateFromEntries(log)
	asOf := d.PaymentDates()[8]
	b.ResetTimer()
	for b.Loop() {
		if _, err := Monitor(d, st, asOf); err != nil {
			b.Fatal(err)
		}
	}
}
