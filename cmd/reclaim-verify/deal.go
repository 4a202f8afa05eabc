package main

import (
	"fmt"
	"os"
	"path/filepath"

	"reclaim/abs/rerun"
	"reclaim/tlog/verify"
)

// dealReports checks the deal.report entries of the local copy (verify.DealReports) and, when
// docFile is given, a downloaded report document against the log (verify.CheckDealReportDoc). It
// prints the outcome (or returns it for --json) and returns a *verify.Failure on any mismatch.
// With deal documents (dealDocs: the document fixed at pool opening and every amendment's), it
// also re-runs each reported payment date's waterfall (package abs/rerun) and compares it line by
// line with the logged distribution. found says whether the log has deal reports at all.
func (c *cli) dealReports(docFile string, dealDocs []string) (found bool, out any, err error) {
	l, err := verify.LoadLocal(c.dir)
	if err != nil {
		return false, nil, err
	}
	res, bal := verify.DealReports(l.Parsed)
	var docMs []verify.Mismatch
	var doc []byte
	if docFile != "" {
		doc, err = os.ReadFile(docFile)
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
	var wf *rerun.Result
	var wfDocMs []verify.Mismatch // the report document against the re-run
	if len(dealDocs) > 0 {
		var docs []rerun.Document
		for _, name := range dealDocs {
			b, err := os.ReadFile(name)
			if err != nil {
				return true, nil, err
			}
			docs = append(docs, rerun.Document{Name: name, Data: b, Files: os.DirFS(filepath.Dir(name))})
		}
		if wf, err = rerun.Check(l.Parsed, docs); err != nil {
			return true, nil, &verify.Failure{Kind: "deal-document", Err: err}
		}
		if doc != nil {
			ms, err := wf.CheckDocument(doc)
			if err != nil {
				return true, nil, &verify.Failure{Kind: "deal-report-document", Err: err}
			}
			wfDocMs = ms
		}
	}
	bad := len(docMs)
	for _, r := range res {
		bad += len(r.Mismatches)
	}
	if wf != nil {
		bad += wf.Mismatches() + len(wfDocMs)
	}
	out = struct {
		DealReports []*verify.DealReportResult `json:"deal_reports"`
		Accounts    verify.DealAccountBalances `json:"accounts"`
		Document    []verify.Mismatch          `json:"document_mismatches,omitempty"`
		Waterfall   *rerun.Result              `json:"waterfall,omitempty"`
		DocRerun    []verify.Mismatch          `json:"document_rerun_mismatches,omitempty"`
	}{res, bal, docMs, wf, wfDocMs}
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
		if wf == nil {
			fmt.Fprintln(c.stdout, "  (the distribution lines are checked to add up and match; the waterfall is not re-run: give the deal documents with --deal-doc)")
		} else {
			c.printWaterfall(wf)
			if doc != nil {
				status := "OK"
				if len(wfDocMs) > 0 {
					status = "MISMATCH"
				}
				fmt.Fprintf(c.stdout, "%s report document %s against the re-run (status and tranche figures)\n", status, docFile)
				for _, m := range wfDocMs {
					fmt.Fprintf(c.stdout, "  %s: document %s, recomputed %s %s\n", m.Field, m.Reported, m.Recomputed, m.Detail)
				}
			}
		}
	}
	if bad > 0 {
		return true, out, &verify.Failure{Kind: "deal-report-mismatch", Err: fmt.Errorf("%d deal report mismatches", bad), Evidence: out}
	}
	return true, out, nil
}

// printWaterfall prints the waterfall re-run: the documents and where the log fixes them, then
// per payment date the document re-run, the lines compared and every mismatch.
func (c *cli) printWaterfall(wf *rerun.Result) {
	for _, d := range wf.Documents {
		by := d.FixedBy
		if by == "" {
			by = "NOT on the log"
		}
		fmt.Fprintf(c.stdout, "deal document %s: sha256 %s, fixed by %s\n", d.Name, d.Hash, by)
	}
	for _, m := range wf.Problems {
		fmt.Fprintf(c.stdout, "  MISMATCH %s: %s, the log has %s (%s)\n", m.Field, m.Reported, m.Recomputed, m.Detail)
	}
	for _, p := range wf.Periods {
		status := "OK"
		switch {
		case !p.Rerun:
			status = "NOT RE-RUN"
		case len(p.Mismatches) > 0:
			status = "MISMATCH"
		}
		if p.Rerun {
			fmt.Fprintf(c.stdout, "%s waterfall of period %d (paid %s) re-run with %s on net cash %s: %d lines, %d trigger tests\n",
				status, p.Period, p.PaymentDate, p.Document, p.Net, len(p.Lines), p.Triggers)
		} else {
			fmt.Fprintf(c.stdout, "%s waterfall of period %d (paid %s): deal %s in force\n", status, p.Period, p.PaymentDate, p.DealHash)
			for _, m := range p.Mismatches {
				fmt.Fprintf(c.stdout, "  %s: %s\n", m.Field, m.Detail)
			}
			continue
		}
		for _, m := range p.Mismatches {
			fmt.Fprintf(c.stdout, "  %s: logged %s, recomputed %s %s\n", m.Field, m.Reported, m.Recomputed, m.Detail)
		}
	}
}
