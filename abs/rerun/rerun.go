// Package rerun re-runs a live deal's waterfall the way an investor's verifier does: driven only
// by the pool's transparency log and the deal documents the investor holds, it recomputes every
// reported payment date's distribution with the deal engine (package abs) and compares it, line
// by line, with the deal.payment and deal.trigger entries the servicer logged.
//
// What it takes from where:
//   - the deal in force for a report is the document whose hash (abs.Document.Hash, the
//     canonical encoding) is pool.opened's waterfall_hash, or the deal_hash of the last
//     deal.amended before the report; a document given that hashes to no logged hash is refused,
//     and a logged hash with no document given is reported (that report is not re-run);
//   - each period's cash is the net the verifier itself recomputes from the log
//     (tlog/verify.DealReports: the loan.collection and deal.collections entries dated in the
//     window less its loan.collection_reversal entries, less the deal.cost costs applied and any
//     bounces carried), put at the end of the period's collection
//     window; after the reported period, the document's own forecast (as the servicer does, so
//     that the run is the same);
//   - the collection windows and payment dates come from the document (a base run).
//
// It does not import the server's report code (package abs/live) or its storage: only the engine
// and the verifier's entry types. docs/abs-live.md ("The verifier") describes the checks.
package rerun

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"

	"reclaim/abs"
	"reclaim/money"
	"reclaim/tlog/verify"
)

// Document is a deal document as the investor holds it: a name to report it by (its file) and
// its bytes (YAML or JSON). Files resolves a forecast_file it names (nil: the document must
// inline its forecast, as every live deal does).
type Document struct {
	Name  string
	Data  []byte
	Files fs.FS
}

// DocumentInfo is a document given and where the log fixes its hash.
type DocumentInfo struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
	// FixedBy is the entry that fixes the hash ("pool.opened at 0", "deal.amended at 17"), or
	// empty when no entry does (a mismatch is reported).
	FixedBy string `json:"fixed_by"`
}

// Line is one recomputed distribution line of a payment date.
type Line struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount string `json:"amount"`
	Memo   string `json:"memo"`
}

// PeriodResult is one deal.report re-run: the deal document in force, the lines and trigger tests
// recomputed, and every difference with the log.
type PeriodResult struct {
	Index       int64             `json:"index"`
	Period      int64             `json:"period"`
	PaymentDate string            `json:"payment_date"`
	DealHash    string            `json:"deal_hash"`
	Document    string            `json:"document"` // the name of the document re-run ("" when none was given)
	Rerun       bool              `json:"rerun"`
	Net         string            `json:"net"` // the period's cash into the waterfall, as recomputed
	Lines       []Line            `json:"lines"`
	Triggers    int               `json:"triggers"`
	Mismatches  []verify.Mismatch `json:"mismatches"`
	// Status and Tranches are the recomputed payment date's deal status and tranche figures
	// (empty when it was not re-run).
	Status   string              `json:"status,omitempty"`
	Tranches []abs.TranchePeriod `json:"tranches,omitempty"`
}

// Result is the outcome of Check.
type Result struct {
	Documents []DocumentInfo    `json:"documents"`
	Periods   []*PeriodResult   `json:"periods"`
	Problems  []verify.Mismatch `json:"problems"` // about the documents themselves
}

// Mismatches counts every mismatch and problem.
func (r *Result) Mismatches() int {
	n := len(r.Problems)
	for _, p := range r.Periods {
		n += len(p.Mismatches)
	}
	return n
}

// memoLimit is the length (in characters) of a memo on a deal.payment entry.
const memoLimit = 200

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// hashRef is a hash fixed on the log and the entry that fixed it.
type hashRef struct {
	hash string
	by   string
}

// Check re-runs every deal.report of a pool's log (entries in log order, as synced) with the
// documents given and returns what it found. An error means a document could not be read as a
// deal (it names the document and the first problems); every difference with the log is a
// mismatch in the result.
func Check(entries []verify.Entry, docs []Document) (*Result, error) {
	res := &Result{Documents: []DocumentInfo{}, Periods: []*PeriodResult{}, Problems: []verify.Mismatch{}}
	deals := map[string]*abs.Deal{}
	names := map[string]string{}
	// Every hash the log fixes, in order.
	var fixed []hashRef
	for i, e := range entries {
		switch e := e.(type) {
		case verify.PoolOpened:
			fixed = append(fixed, hashRef{e.WaterfallHash, fmt.Sprintf("pool.opened at %d", i)})
		case verify.DealAmended:
			fixed = append(fixed, hashRef{e.DealHash, fmt.Sprintf("deal.amended at %d", i)})
		}
	}
	for _, doc := range docs {
		d, err := abs.Load(doc.Data, abs.Options{Files: doc.Files})
		if err != nil {
			return nil, fmt.Errorf("deal document %s is not a valid deal: %w", doc.Name, err)
		}
		info := DocumentInfo{Name: doc.Name, Hash: d.Hash()}
		for _, f := range fixed {
			if f.hash == d.Hash() {
				info.FixedBy = f.by
				break
			}
		}
		if info.FixedBy == "" {
			want := "no pool.opened"
			if len(fixed) > 0 {
				want = fixed[0].hash + " (" + fixed[0].by + ")"
				for _, f := range fixed[1:] {
					want += ", " + f.hash + " (" + f.by + ")"
				}
			}
			res.Problems = append(res.Problems, verify.Mismatch{Field: "deal document " + doc.Name, Reported: "sha256 " + d.Hash(),
				Recomputed: want, Detail: "the document does not hash to the deal fixed on the ledger at pool opening nor to any logged amendment"})
		}
		res.Documents = append(res.Documents, info)
		deals[d.Hash()] = d
		names[d.Hash()] = doc.Name
	}

	// The verifier's own recomputation of every window's cash (and its checks of the reports).
	checked, _ := verify.DealReports(entries)
	nets := make([]int64, 0, len(checked))

	var (
		inForce  hashRef
		payments []verify.DealPayment
		triggers []verify.DealTrigger
		k        int
	)
	for i, e := range entries {
		switch e := e.(type) {
		case verify.PoolOpened:
			inForce = hashRef{e.WaterfallHash, fmt.Sprintf("pool.opened at %d", i)}
		case verify.DealAmended:
			inForce = hashRef{e.DealHash, fmt.Sprintf("deal.amended at %d", i)}
		case verify.DealPayment:
			payments = append(payments, e)
		case verify.DealTrigger:
			triggers = append(triggers, e)
		case verify.DealReport:
			if k >= len(checked) || checked[k].Index != int64(i) {
				return nil, fmt.Errorf("deal.report at %d: the verifier's checks did not reach it", i)
			}
			nets = append(nets, int64(checked[k].Recomputed.Net))
			k++
			pr := &PeriodResult{Index: int64(i), Period: e.Period, PaymentDate: e.PaymentDate, DealHash: inForce.hash, Lines: []Line{},
				Mismatches: []verify.Mismatch{}}
			res.Periods = append(res.Periods, pr)
			d := deals[inForce.hash]
			if d == nil {
				pr.Mismatches = append(pr.Mismatches, verify.Mismatch{Field: fmt.Sprintf("period %d deal document", e.Period), Reported: "none given",
					Recomputed: inForce.hash, Detail: "the deal in force (" + inForce.by + ") has this hash and no document given hashes to it: the waterfall is not re-run"})
			} else {
				pr.Document = names[inForce.hash]
				rerunPeriod(pr, d, e, nets, payments, triggers)
			}
			payments, triggers = nil, nil
		}
	}
	return res, nil
}

// rerunPeriod runs deal d with the recomputed nets of periods 1..P (nets[k-1] for period k) and
// the forecast after, and compares period P's lines and trigger tests with the logged ones.
func rerunPeriod(pr *PeriodResult, d *abs.Deal, rep verify.DealReport, nets []int64, payments []verify.DealPayment, triggers []verify.DealTrigger) {
	P := int(rep.Period)
	mis := func(field, reported, recomputed, detail string) {
		pr.Mismatches = append(pr.Mismatches, verify.Mismatch{Field: fmt.Sprintf("period %d %s", P, field), Reported: reported,
			Recomputed: recomputed, Detail: detail})
	}
	base, err := d.Run(abs.Scenario{})
	if err != nil {
		mis("run", "", err.Error(), "the deal document does not run")
		return
	}
	if P != len(nets) {
		mis("number", strconv.Itoa(P), strconv.Itoa(len(nets)), "the reports must be periods 1, 2, 3... in order for the waterfall to be re-run")
		return
	}
	if P < 1 || P > len(base.Periods) {
		mis("payment date", rep.PaymentDate, fmt.Sprintf("periods 1..%d", len(base.Periods)), "not a payment date of the deal document")
		return
	}
	bp := base.Periods[P-1]
	if bp.Date.String() != rep.PaymentDate {
		mis("payment_date", rep.PaymentDate, bp.Date.String(), "the deal document's payment date")
	}
	if bp.CollectionStart.String() != rep.CollectionStart || bp.CollectionEnd.String() != rep.CollectionEnd {
		mis("collection window", rep.CollectionStart+".."+rep.CollectionEnd, bp.CollectionStart.String()+".."+bp.CollectionEnd.String(),
			"the deal document's collection window")
	}
	cur := d.Currency()
	flows := []abs.Flow{}
	for k := 1; k <= P; k++ {
		if nets[k-1] > 0 {
			flows = append(flows, abs.Flow{Date: base.Periods[k-1].CollectionEnd, Amount: money.New(nets[k-1], cur)})
		}
	}
	for _, f := range d.Forecast() {
		if f.Date.After(bp.CollectionEnd) {
			flows = append(flows, f)
		}
	}
	pr.Net = money.New(nets[P-1], cur).String()
	run, err := d.Run(abs.Scenario{Collections: flows})
	if err != nil {
		mis("run", "", err.Error(), "the deal document does not run on the logged cash")
		return
	}
	if P > len(run.Periods) {
		mis("run", rep.PaymentDate, fmt.Sprintf("the deal ended at period %d", len(run.Periods)), "")
		return
	}
	pr.Rerun = true
	pr.Status, pr.Tranches = run.Periods[P-1].Status, run.Periods[P-1].Tranches
	for _, l := range run.Statement {
		if l.Period == P {
			pr.Lines = append(pr.Lines, Line{From: l.From, To: l.To, Amount: l.Amount.String(), Memo: truncate(l.Memo, memoLimit)})
		}
	}
	var logged []verify.DealPayment
	for _, p := range payments {
		if p.Period == rep.Period {
			logged = append(logged, p)
		}
	}
	show := func(from, to, amount, memo string) string {
		return fmt.Sprintf("%s -> %s %s %q", from, to, amount, memo)
	}
	for i := range max(len(pr.Lines), len(logged)) {
		field := fmt.Sprintf("line %d", i+1)
		switch {
		case i >= len(logged):
			l := pr.Lines[i]
			mis(field, "absent", show(l.From, l.To, l.Amount, l.Memo), "the waterfall pays a line the log does not have")
		case i >= len(pr.Lines):
			l := logged[i]
			mis(field+" ("+l.From+" -> "+l.To+")", l.Amount.Major(), "absent", "a logged line the waterfall does not pay")
		default:
			g, w := logged[i], pr.Lines[i]
			switch {
			case g.From != w.From || g.To != w.To || g.Memo != w.Memo:
				mis(field, show(g.From, g.To, g.Amount.Major(), g.Memo), show(w.From, w.To, w.Amount, w.Memo), "")
			case g.Amount.Major() != w.Amount:
				mis(field+" ("+g.From+" -> "+g.To+")", g.Amount.Major(), w.Amount, "")
			}
		}
	}
	// Trigger tests.
	var tests []abs.TriggerTest
	for _, t := range run.Triggers {
		if t.Period == P {
			tests = append(tests, t)
		}
	}
	pr.Triggers = len(tests)
	var loggedT []verify.DealTrigger
	for _, t := range triggers {
		if t.Period == rep.Period {
			loggedT = append(loggedT, t)
		}
	}
	showT := func(trigger, when, metric, threshold, hit, inForce string) string {
		return fmt.Sprintf("%s %s: %s against %s, hit %s, in force %s", trigger, when, metric, threshold, hit, inForce)
	}
	for i := range max(len(tests), len(loggedT)) {
		field := fmt.Sprintf("trigger test %d", i+1)
		var g, w string
		if i < len(loggedT) {
			t := loggedT[i]
			g = showT(t.Trigger, t.When, t.Metric, t.Threshold, t.Hit, t.InForce)
		} else {
			g = "absent"
		}
		if i < len(tests) {
			t := tests[i]
			w = showT(t.Trigger, t.When, truncate(t.Metric, memoLimit), truncate(t.Threshold, memoLimit), verify.YesNo(t.Hit), verify.YesNo(t.InForce))
		} else {
			w = "absent"
		}
		if g != w {
			mis(field, g, w, "")
		}
	}
}

// CheckDocument compares a published report document (the JSON whose SHA-256 the deal.report
// carries; tlog/verify.CheckDealReportDoc checks its hash and lines against the log) with the
// re-run of its period: the deal status and, per tranche, the opening and closing balance,
// interest due, paid and short, principal and residual paid. It returns the mismatches, each
// naming the period, the tranche and the field with both values.
func (r *Result) CheckDocument(doc []byte) ([]verify.Mismatch, error) {
	var d struct {
		Period   int64  `json:"period"`
		Status   string `json:"status"`
		Tranches []struct {
			Name              string `json:"name"`
			Opening           string `json:"opening_balance"`
			Closing           string `json:"closing_balance"`
			InterestDue       string `json:"interest_due"`
			InterestPaid      string `json:"interest_paid"`
			InterestShortfall string `json:"interest_shortfall"`
			PrincipalPaid     string `json:"principal_paid"`
			ResidualPaid      string `json:"residual_paid"`
		} `json:"tranches"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("the report document is not JSON: %v", err)
	}
	var pr *PeriodResult
	for _, p := range r.Periods {
		if p.Period == d.Period {
			pr = p
		}
	}
	if pr == nil {
		return nil, fmt.Errorf("the log has no deal.report for the document's period %d", d.Period)
	}
	if !pr.Rerun {
		return []verify.Mismatch{{Field: fmt.Sprintf("period %d document", d.Period), Reported: "published", Recomputed: "not re-run",
			Detail: "the period's waterfall was not re-run, so the document's tranche figures are not checked"}}, nil
	}
	var ms []verify.Mismatch
	mis := func(field, doc, rc string) {
		if doc != rc {
			ms = append(ms, verify.Mismatch{Field: fmt.Sprintf("period %d %s", d.Period, field), Reported: doc, Recomputed: rc})
		}
	}
	mis("status", d.Status, pr.Status)
	if len(d.Tranches) != len(pr.Tranches) {
		mis("tranches", strconv.Itoa(len(d.Tranches)), strconv.Itoa(len(pr.Tranches)))
	}
	for i := range min(len(d.Tranches), len(pr.Tranches)) {
		g, w := d.Tranches[i], pr.Tranches[i]
		if g.Name != w.Name {
			mis(fmt.Sprintf("tranches[%d].name", i), g.Name, w.Name)
			continue
		}
		for _, f := range []struct{ name, doc, rc string }{
			{"opening_balance", g.Opening, w.Opening.String()}, {"closing_balance", g.Closing, w.Closing.String()},
			{"interest_due", g.InterestDue, w.InterestDue.String()}, {"interest_paid", g.InterestPaid, w.InterestPaid.String()},
			{"interest_shortfall", g.InterestShortfall, w.InterestShortfall.String()}, {"principal_paid", g.PrincipalPaid, w.PrincipalPaid.String()},
			{"residual_paid", g.ResidualPaid, w.ResidualPaid.String()},
		} {
			mis("tranche "+g.Name+" "+f.name, f.doc, f.rc)
		}
	}
	return ms, nil
}
