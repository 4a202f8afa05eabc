package main

import (
	"fmt"
	"os"

	"reclaim/tlog/verify"
)

// dealReports checks the deal.report entries of the local copy (verify.DealReports) and, when
// docFile is given, a downloaded report document against the log (verify.CheckDealReportDoc). It
// prints the outcome (or returns it for --json) and returns a *verify.Failure on any mismatch.
// found says whether the log has deal reports at all.
func (c *cli) dealReports(docFile string) (found bool, out any, err error) {
	l, err := verify.LoadLocal(c.dir)
	if err != nil {
		return false, nil, err
	}
	res, bal := verify.DealReports(l.Parsed)
	var docMs []verify.Mismatch
	if docFile != "" {
		doc, err := os.ReadFile(docFile)
		if err != nil {
			return false, nil, err
		}
		if docMs, err = verify.CheckDealReportDoc(l.Parsed, doc); err != nil {
			return len(res) > 0, nil, &verify.Failure{Kind: "deal-report-document", Err: err}
		}
	}
	if len(res) == 0 && docFile == "" {
		return false, nil, nil
	}
	bad := len(docMs)
	for _, r := range res {
		bad += len(r.Mismatches)
	}
	out = struct {
		DealReports []*verify.DealReportResult `json:"deal_reports"`
		Accounts    verify.DealAccountBalances `json:"accounts"`
		Document    []verify.Mismatch          `json:"document_mismatches,omitempty"`
	}{res, bal, docMs}
	if !c.jsonOut {
		for _, r := range res {
			status := "OK"
			if len(r.Mismatches) > 0 {
				status = "MISMATCH"
			}
			rp := r.Reported
			fmt.Fprintf(c.stdout, "%s deal report at %d (period %d, paid %s, collections %s..%s): gross %s, costs %s, net %s, %d lines summing %s, %d trigger tests\n",
				status, r.Index, rp.Period, rp.PaymentDate, rp.CollectionStart, rp.CollectionEnd, rp.Collections.Major(), rp.CostsApplied.Major(),
				rp.Net.Major(), rp.Payments, rp.Distributed.Major(), rp.Triggers)
			for _, m := range r.Mismatches {
				fmt.Fprintf(c.stdout, "  %s: reported %s, recomputed %s %s\n", m.Field, m.Reported, m.Recomputed, m.Detail)
			}
		}
		if docFile != "" {
			status := "OK"
			if len(docMs) > 0 {
				status = "MISMATCH"
			}
			fmt.Fprintf(c.stdout, "%s report document %s against the log\n", status, docFile)
			for _, m := range docMs {
				fmt.Fprintf(c.stdout, "  %s: document %s, log %s %s\n", m.Field, m.Reported, m.Recomputed, m.Detail)
			}
		}
		fmt.Fprintln(c.stdout, "  (the distribution lines are checked to add up and match; the waterfall itself is not re-run from the deal document: docs/abs-live.md)")
	}
	if bad > 0 {
		return true, out, &verify.Failure{Kind: "deal-report-mismatch", Err: fmt.Errorf("%d deal report mismatches", bad), Evidence: out}
	}
	return true, out, nil
}
