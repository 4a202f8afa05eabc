package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// What the verifier checks of a live deal's period reports (deal.report, version 2), and what it
// does not.
//
// It recomputes from the log alone: the period's gross collections (the loan.collection and deal.collections entries
// sequenced before the report and dated in its collection window, less the
// loan.collection_reversal entries dated there: a bounce counts in the window it is dated in,
// as in a pool period report), the costs set against them
// (deal.cost of kind cost dated in the window, plus the costs the previous report carried, plus
// the reversals beyond the window's collections, which leave a gross of zero; capped at the
// collections) and what is carried on, the net collections, the count and sum of
// the period's distribution lines (deal.payment) and trigger tests (deal.trigger), that the
// pool's line into the trust is the net collections, that no trust account's balance, rolled
// forward line by line from zero over every period, ever goes negative, that periods run 1, 2,
// 3... with increasing payment dates and contiguous collection windows, and that the deal hash
// each report names is the one in force (pool.opened's waterfall_hash or the last deal.amended).
// Given the report document (the JSON the trustee publishes), it checks its SHA-256 against the
// logged report_hash, its distribution lines, one by one, against the logged deal.payment entries,
// its pool cash figures against the deal.report (and its waivers against the window's deal.cost
// waivers and loan.waiver entries), and its four breakdowns (collections and costs
// by channel, province, DPD bucket and grade) against the ones recomputed from the loans'
// version-2 boarding entries and the window's collections and costs.
//
// This package does not re-run the waterfall from the deal document: that needs the deal engine
// (package abs), which this dependency-light package does not import. Package abs/rerun does it
// for reclaim-verify (report --deal-doc), driven by these entries and the investor's deal
// documents only; the log guarantees that the lines, the report and the collections they were
// computed from cannot change afterwards.

// DealReportResult is the outcome of checking one deal.report.
type DealReportResult struct {
	Index      int64      `json:"index"`
	Reported   DealReport `json:"reported"`
	Recomputed DealReport `json:"recomputed"`
	Mismatches []Mismatch `json:"mismatches"`
}

// DealAccountBalances are the trust accounts' balances rolled forward over the logged lines.
type DealAccountBalances map[string]Amount

// externalSource reports whether a payment line's source is outside the trust's accounts.
func externalSource(name string) bool {
	return name == "pool" || name == "issuance" || name == "originator"
}

// isAccount reports whether a line's party is a trust account (not an external source and not a
// payee such as fee:NAME or tranche:A:interest).
func isAccount(name string) bool { return !externalSource(name) && !strings.Contains(name, ":") }

// DealReports checks every deal.report of the log (entries in log order) as described above. It
// returns one result per report (with its mismatches) and the accounts' balances after the last
// report's lines.
func DealReports(entries []Entry) ([]*DealReportResult, DealAccountBalances) {
	var (
		out       []*DealReportResult
		bal       = DealAccountBalances{}
		dealHash  string
		carried   Amount
		prev      *DealReport
		payments  []DealPayment
		triggers  int64
		lineIssue []Mismatch
	)
	type dated struct {
		eff string
		amt Amount
	}
	var colls, costs []dated
	for i, e := range entries {
		switch e := e.(type) {
		case PoolOpened:
			dealHash = e.WaterfallHash
		case DealAmended:
			if e.PreviousHash != dealHash {
				lineIssue = append(lineIssue, Mismatch{Field: "previous_hash", Reported: e.PreviousHash, Recomputed: dealHash,
					Detail: fmt.Sprintf("deal.amended at %d", i)})
			}
			dealHash = e.DealHash
		case LoanCollection:
			colls = append(colls, dated{e.Effective, e.Amount})
		case DealCollections:
			colls = append(colls, dated{e.Effective, e.Amount})
		case LoanCollectionReversal:
			colls = append(colls, dated{e.Effective, -e.Amount})
		case DealCost:
			if e.Kind == CostDisposal {
				costs = append(costs, dated{e.Effective, e.Amount})
			}
		case DealPayment:
			payments = append(payments, e)
			if isAccount(e.From) {
				bal[e.From] -= e.Amount
				if bal[e.From] < 0 {
					lineIssue = append(lineIssue, Mismatch{Field: "account " + e.From, Reported: e.Amount.String(), Recomputed: (bal[e.From] + e.Amount).String(),
						Detail: fmt.Sprintf("deal.payment at %d takes more than the account holds", i)})
				}
			}
			if isAccount(e.To) {
				bal[e.To] += e.Amount
			}
		case DealTrigger:
			triggers++
		case DealReport:
			res := &DealReportResult{Index: int64(i), Reported: e}
			rc := DealReport{Header: e.Header, Period: e.Period, PaymentDate: e.PaymentDate, CollectionStart: e.CollectionStart,
				CollectionEnd: e.CollectionEnd, DealHash: dealHash, ReportHash: e.ReportHash}
			res.Mismatches = append(res.Mismatches, lineIssue...)
			lineIssue = nil
			wantPeriod := int64(1)
			if prev != nil {
				wantPeriod = prev.Period + 1
				if e.PaymentDate <= prev.PaymentDate {
					res.Mismatches = append(res.Mismatches, Mismatch{Field: "payment_date", Reported: e.PaymentDate, Recomputed: "after " + prev.PaymentDate})
				}
				if want := DayAfter(prev.CollectionEnd); e.CollectionStart != want {
					res.Mismatches = append(res.Mismatches, Mismatch{Field: "collection_start", Reported: e.CollectionStart, Recomputed: want,
						Detail: "collection windows are contiguous"})
				}
			}
			rc.Period = wantPeriod
			var windowCosts Amount
			for _, c := range colls {
				if InPeriod(c.eff, e.CollectionStart, e.CollectionEnd) {
					rc.Collections += c.amt
				}
			}
			for _, c := range costs {
				if InPeriod(c.eff, e.CollectionStart, e.CollectionEnd) {
					windowCosts += c.amt
				}
			}
			var excess Amount
			if rc.Collections < 0 { // reversals of cash already distributed: carried with the costs
				excess, rc.Collections = -rc.Collections, 0
			}
			due := carried + windowCosts + excess
			rc.CostsApplied = min(due, rc.Collections)
			rc.CostsCarried = due - rc.CostsApplied
			rc.Net = rc.Collections - rc.CostsApplied
			var poolIn Amount
			for _, p := range payments {
				if p.Period != e.Period || p.PaymentDate != e.PaymentDate {
					res.Mismatches = append(res.Mismatches, Mismatch{Field: "payment", Reported: fmt.Sprintf("period %d %s", p.Period, p.PaymentDate),
						Recomputed: fmt.Sprintf("period %d %s", e.Period, e.PaymentDate), Detail: "a distribution line logged before another period's report"})
				}
				rc.Payments++
				rc.Distributed += p.Amount
				if p.From == "pool" {
					poolIn += p.Amount
				}
			}
			rc.Triggers = triggers
			if poolIn != rc.Net {
				res.Mismatches = append(res.Mismatches, Mismatch{Field: "pool line", Reported: poolIn.String(), Recomputed: rc.Net.String(),
					Detail: "the period's lines from the pool must carry the net collections"})
			}
			res.Recomputed = rc
			res.Mismatches = append(res.Mismatches, compareDealReport(e, rc)...)
			out = append(out, res)
			carried = rc.CostsCarried
			r := e
			prev = &r
			payments, triggers = nil, 0
		}
	}
	return out, bal
}

func compareDealReport(rep, rc DealReport) []Mismatch {
	var ms []Mismatch
	s := func(field, a, b string) {
		if a != b {
			ms = append(ms, Mismatch{Field: field, Reported: a, Recomputed: b})
		}
	}
	s("period", strconv.FormatInt(rep.Period, 10), strconv.FormatInt(rc.Period, 10))
	s("deal_hash", rep.DealHash, rc.DealHash)
	s("collections", rep.Collections.String(), rc.Collections.String())
	s("costs_applied", rep.CostsApplied.String(), rc.CostsApplied.String())
	s("costs_carried", rep.CostsCarried.String(), rc.CostsCarried.String())
	s("net", rep.Net.String(), rc.Net.String())
	s("payments", strconv.FormatInt(rep.Payments, 10), strconv.FormatInt(rc.Payments, 10))
	s("triggers", strconv.FormatInt(rep.Triggers, 10), strconv.FormatInt(rc.Triggers, 10))
	s("distributed", rep.Distributed.String(), rc.Distributed.String())
	return ms
}

// DealReportDocLine is one distribution line of a published report document, as the verifier
// reads it: amounts are decimal strings in major units ("1234.56").
type DealReportDocLine struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount string `json:"amount"`
	Memo   string `json:"memo"`
}

// CheckDealReportDoc checks a published report document against the log: its SHA-256 must be
// the report_hash of the deal.report of its period, its "distribution" lines must be the period's
// deal.payment entries, in order (from, to, amount, memo), its "pool_cash" gross, costs, carried
// and net the deal.report's, its waivers (when given, or when the window has any) the window's
// deal.cost waivers plus loan.waiver entries, and its by_channel, by_region, by_dpd_bucket and
// by_grade rows the ones recomputed from the entries before the report (dealBreakdowns). doc is the file as
// downloaded (the exact bytes that were hashed). It returns the mismatches (none when it matches).
func CheckDealReportDoc(entries []Entry, doc []byte) ([]Mismatch, error) {
	var d struct {
		Period       int64                      `json:"period"`
		Distribution []DealReportDocLine        `json:"distribution"`
		ByChannel    []DealReportDocBucket      `json:"by_channel"`
		ByRegion     []DealReportDocBucket      `json:"by_region"`
		ByDPD        []DealReportDocBucket      `json:"by_dpd_bucket"`
		ByGrade      []DealReportDocBucket      `json:"by_grade"`
		PoolCash     map[string]json.RawMessage `json:"pool_cash"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("the report document is not JSON: %v", err)
	}
	sum := sha256.Sum256(doc)
	hash := hex.EncodeToString(sum[:])
	var rep *DealReport
	var lines []DealPayment
	repAt := len(entries)
	for i, e := range entries {
		switch e := e.(type) {
		case DealPayment:
			if e.Period == d.Period {
				lines = append(lines, e)
			}
		case DealReport:
			if e.Period == d.Period && rep == nil {
				r := e
				rep = &r
				repAt = i
			}
		}
	}
	if rep == nil {
		return nil, fmt.Errorf("the log has no deal.report for period %d", d.Period)
	}
	var ms []Mismatch
	if rep.ReportHash != hash {
		ms = append(ms, Mismatch{Field: "report_hash", Reported: rep.ReportHash, Recomputed: hash, Detail: "SHA-256 of the document"})
	}
	if len(d.Distribution) != len(lines) {
		ms = append(ms, Mismatch{Field: "distribution", Reported: strconv.Itoa(len(d.Distribution)), Recomputed: strconv.Itoa(len(lines)),
			Detail: "lines in the document vs deal.payment entries"})
	}
	// The breakdowns, recomputed from the entries before the report.
	tabs := dealBreakdowns(entries[:repAt], rep.CollectionStart, rep.CollectionEnd)
	for i, got := range [4][]DealReportDocBucket{d.ByChannel, d.ByRegion, d.ByDPD, d.ByGrade} {
		name := [4]string{"by_channel", "by_region", "by_dpd_bucket", "by_grade"}[i]
		want := tabs[i]
		seen := map[string]bool{}
		for _, b := range got {
			seen[b.Key] = true
			w := want[b.Key]
			g, e1 := parseSigned(b.Gross)
			c, e2 := parseSigned(b.Costs)
			n, e3 := parseSigned(b.Net)
			if e1 != nil || e2 != nil || e3 != nil || w == nil || g != w.gross || c != w.costs || n != w.gross-w.costs || b.Count != w.n {
				rc := "absent"
				if w != nil {
					rc = fmt.Sprintf("count %d gross %s costs %s", w.n, w.gross.Major(), w.costs.Major())
				}
				ms = append(ms, Mismatch{Field: name + "[" + b.Key + "]", Reported: fmt.Sprintf("count %d gross %s costs %s net %s", b.Count, b.Gross, b.Costs, b.Net),
					Recomputed: rc})
			}
		}
		for k, w := range want {
			if !seen[k] {
				ms = append(ms, Mismatch{Field: name + "[" + k + "]", Reported: "absent", Recomputed: fmt.Sprintf("count %d gross %s costs %s", w.n, w.gross.Major(), w.costs.Major())})
			}
		}
	}
	// The window's waivers: deal.cost waivers and settlements' loan.waiver entries, each once.
	var waived Amount
	for _, e := range entries[:repAt] {
		switch e := e.(type) {
		case DealCost:
			if e.Kind == CostWaiver && InPeriod(e.Effective, rep.CollectionStart, rep.CollectionEnd) {
				waived += e.Amount
			}
		case LoanWaiver:
			if InPeriod(e.Effective, rep.CollectionStart, rep.CollectionEnd) {
				waived += e.Amount
			}
		}
	}
	for key, want := range map[string]Amount{"collections_gross": rep.Collections, "costs": rep.CostsApplied, "collections_net": rep.Net,
		"costs_carried": rep.CostsCarried, "waivers": waived} {
		if _, given := d.PoolCash[key]; key == "waivers" && !given && waived == 0 {
			continue
		}
		var v string
		json.Unmarshal(d.PoolCash[key], &v)
		if a, err := parseMajor(v); err != nil || a != want {
			ms = append(ms, Mismatch{Field: "pool_cash." + key, Reported: v, Recomputed: want.Major()})
		}
	}
	for i := range min(len(d.Distribution), len(lines)) {
		dl, ll := d.Distribution[i], lines[i]
		a, err := parseMajor(dl.Amount)
		if err != nil || dl.From != ll.From || dl.To != ll.To || a != ll.Amount || dl.Memo != ll.Memo {
			ms = append(ms, Mismatch{Field: fmt.Sprintf("distribution[%d]", i),
				Reported:   fmt.Sprintf("%s -> %s %s %q", dl.From, dl.To, dl.Amount, dl.Memo),
				Recomputed: fmt.Sprintf("%s -> %s %s %q", ll.From, ll.To, ll.Amount.Major(), ll.Memo)})
		}
	}
	return ms, nil
}

// DealReportDocBucket is a row of a report document's breakdown (by channel, region, DPD bucket or
// grade), amounts in major units.
type DealReportDocBucket struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
	Gross string `json:"gross"`
	Costs string `json:"costs"`
	Net   string `json:"net"`
}

type bucketSum struct {
	n            int
	gross, costs Amount
}

// dpdBands are the pool header's days-past-due bands (../shared/design/tape.md), [lower, upper).
var dpdBands = []struct {
	key    string
	lo, hi int64
}{{"lt180", 0, 180}, {"180_360", 180, 365}, {"1_2y", 365, 730}, {"2_3y", 730, 1095}, {"3_5y", 1095, 1826}, {"gt5y", 1826, 1 << 62}}

func dpdBand(d int64) string {
	for _, b := range dpdBands {
		if d >= b.lo && d < b.hi {
			return b.key
		}
	}
	return dpdBands[0].key
}

// dealBreakdowns recomputes a report's four breakdowns from the log: the window's collections
// (loan.collection by the loan's boarding attributes, less the window's loan.collection_reversal
// entries under their collection's channel and loan; deal.collections as channel "servicer",
// elsewhere "unallocated") and its costs (deal.cost of kind cost: by their channel, or
// "unallocated"; by their loan's attributes, or "unallocated"). Regions are provinces ("440000");
// empty values are "unknown".
func dealBreakdowns(entries []Entry, start, end string) [4]map[string]*bucketSum {
	type member struct{ region, dpd, grade string }
	members := map[string]member{}
	tabs := [4]map[string]*bucketSum{{}, {}, {}, {}}
	unknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	keys := func(channel, loan string) [4]string {
		m, ok := members[loan]
		if !ok {
			return [4]string{unknown(channel), "unallocated", "unallocated", "unallocated"}
		}
		return [4]string{unknown(channel), m.region, m.dpd, m.grade}
	}
	add := func(k [4]string, gross, costs Amount) {
		for i, key := range k {
			b := tabs[i][key]
			if b == nil {
				b = &bucketSum{}
				tabs[i][key] = b
			}
			if gross > 0 {
				b.n++
			}
			b.gross += gross
			b.costs += costs
		}
	}
	channels := map[string]string{} // event id of each loan.collection -> its channel
	for _, e := range entries {
		switch e := e.(type) {
		case LoanBoarded:
			region := "unknown"
			if len(e.Region) == 6 {
				region = e.Region[:2] + "0000"
			}
			members[e.Loan] = member{region: region, dpd: dpdBand(e.DPD), grade: unknown(e.Grade)}
		case LoanCollection:
			channels[e.EventID] = e.Channel
			if InPeriod(e.Effective, start, end) {
				add(keys(e.Channel, e.Loan), e.Amount, 0)
			}
		case LoanCollectionReversal:
			// A bounce nets the gross of its collection's channel and loan (count unchanged).
			if InPeriod(e.Effective, start, end) {
				add(keys(channels[e.Reverses], e.Loan), -e.Amount, 0)
			}
		case DealCollections:
			if InPeriod(e.Effective, start, end) {
				add(keys("servicer", ""), e.Amount, 0)
			}
		case DealCost:
			if e.Kind == CostDisposal && InPeriod(e.Effective, start, end) {
				k := keys(e.Channel, e.Loan)
				if e.Channel == "" {
					k[0] = "unallocated"
				}
				add(k, 0, e.Amount)
			}
		}
	}
	return tabs
}

// parseSigned reads a decimal amount in major units that may be negative (a breakdown's net).
func parseSigned(s string) (Amount, error) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		a, err := parseMajor(rest)
		return -a, err
	}
	return parseMajor(s)
}

// parseMajor reads a non-negative decimal amount in major units with at most two decimals.
func parseMajor(s string) (Amount, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad amount %q", s)
	}
	return Amount(w*100 + f), nil
}
