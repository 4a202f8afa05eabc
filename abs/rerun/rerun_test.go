package rerun

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/tlog/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const examplePath = "../../docs/examples/deal-npl-2tranche.yaml"

func exampleDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// amendedDoc is the example deal with the senior coupon raised from 3.00% to 3.50%.
func amendedDoc(t *testing.T) []byte {
	t.Helper()
	b := exampleDoc(t)
	out := bytes.Replace(b, []byte(`coupon: "3.00%"`), []byte(`coupon: "3.50%"`), 1)
	if bytes.Equal(out, b) {
		t.Fatal("the example's coupon line moved")
	}
	return out
}

// goldenLog reads the version-2 test vector: the example deal's log through two payment dates
// (abs/live's TestGoldenDealLog writes it).
func goldenLog(t *testing.T) []verify.Entry {
	t.Helper()
	f, err := os.Open("../../tlog/testdata/deal-log-v2.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []verify.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e, err := verify.ParseEntry(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustLoad(t *testing.T, b []byte) *abs.Deal {
	t.Helper()
	d, err := abs.Load(b, abs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// closeWith is the servicer's side (package abs/live, as the server runs it): period p's report
// of the log under deal d, its entries appended to the log.
func closeWith(t *testing.T, d *abs.Deal, log []verify.Entry, p int) []verify.Entry {
	t.Helper()
	st, err := live.StateFromEntries(log)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := live.Build(live.Input{Deal: d, State: st, Period: p, Origin: "example/P1", LedgerSize: int64(len(log))})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	_, wins, err := live.Scenario(d, st, p)
	if err != nil {
		t.Fatal(err)
	}
	es, err := rep.Entries(doc, wins[p-1])
	if err != nil {
		t.Fatal(err)
	}
	return append(log, es...)
}

func docs(pairs ...any) []Document {
	var out []Document
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Document{Name: pairs[i].(string), Data: pairs[i+1].([]byte)})
	}
	return out
}

func mustCheck(t *testing.T, log []verify.Entry, ds []Document) *Result {
	t.Helper()
	res, err := Check(log, ds)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// text renders a result the way a reader checks it (the golden file).
func text(r *Result) string {
	var b strings.Builder
	for _, d := range r.Documents {
		fmt.Fprintf(&b, "document %s sha256 %s fixed by %s\n", d.Name, d.Hash, d.FixedBy)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem %s: %s / %s %s\n", p.Field, p.Reported, p.Recomputed, p.Detail)
	}
	for _, p := range r.Periods {
		fmt.Fprintf(&b, "period %d paid %s (deal.report at %d) document %s rerun %v net %s: %d lines, %d trigger tests\n",
			p.Period, p.PaymentDate, p.Index, p.Document, p.Rerun, p.Net, len(p.Lines), p.Triggers)
		for _, l := range p.Lines {
			fmt.Fprintf(&b, "  %-12s -> %-22s %16s  %s\n", l.From, l.To, l.Amount, l.Memo)
		}
		for _, m := range p.Mismatches {
			fmt.Fprintf(&b, "  MISMATCH %s: logged %s, recomputed %s %s\n", m.Field, m.Reported, m.Recomputed, m.Detail)
		}
	}
	return b.String()
}

// TestCleanDealGolden re-runs the published test vector (the example deal through two payment
// dates) from the log and the example document: every line and trigger test matches, and the
// recomputed distribution is pinned in a golden file.
func TestCleanDealGolden(t *testing.T) {
	log := goldenLog(t)
	res := mustCheck(t, log, docs("deal-npl-2tranche.yaml", exampleDoc(t)))
	if res.Mismatches() != 0 {
		t.Fatalf("clean deal: %s", text(res))
	}
	if len(res.Periods) != 2 || !res.Periods[0].Rerun || !res.Periods[1].Rerun {
		t.Fatalf("periods: %s", text(res))
	}
	// Every logged deal.payment was compared with a recomputed line.
	var logged int
	for _, e := range log {
		if _, ok := e.(verify.DealPayment); ok {
			logged++
		}
	}
	if got := len(res.Periods[0].Lines) + len(res.Periods[1].Lines); got != logged || logged == 0 {
		t.Fatalf("%d lines recomputed, %d logged", got, logged)
	}
	if res.Documents[0].FixedBy != "pool.opened at 0" {
		t.Errorf("document fixed by %q", res.Documents[0].FixedBy)
	}
	path := filepath.Join("testdata", "deal-log-v2.rerun.txt")
	got := []byte(text(res))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./abs/rerun -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run with -update and review the diff:\n%s", path, got)
	}
}

// TestTamperedLine: a logged distribution line whose amount is not what the waterfall pays is
// named with its period, its line number and both amounts.
func TestTamperedLine(t *testing.T) {
	log := goldenLog(t)
	var at, n int
	for i, e := range log {
		if p, ok := e.(verify.DealPayment); ok && p.Period == 2 {
			n++
			if p.To == "tranche:A:interest" {
				p.Amount += 100 // one yuan more to the senior's interest
				log[i] = p
				at = n
			}
		}
	}
	if at == 0 {
		t.Fatal("no senior interest line in period 2")
	}
	// Keep the distribution's logged sum and the accounts consistent for the other checks: move
	// the yuan out of the next line, so only the waterfall re-run can see it.
	for i := range log {
		if p, ok := log[i].(verify.DealPayment); ok && p.Period == 2 && p.To == "tranche:A:principal" {
			p.Amount -= 100
			log[i] = p
		}
	}
	res := mustCheck(t, log, docs("deal.yaml", exampleDoc(t)))
	if len(res.Periods[0].Mismatches) != 0 {
		t.Errorf("period 1 was not touched: %+v", res.Periods[0].Mismatches)
	}
	ms := res.Periods[1].Mismatches
	if len(ms) != 2 {
		t.Fatalf("want the two changed lines: %s", text(res))
	}
	m := ms[0]
	wantField := fmt.Sprintf("period 2 line %d (collection -> tranche:A:interest)", at)
	if m.Field != wantField {
		t.Errorf("field %q, want %q", m.Field, wantField)
	}
	var orig verify.DealPayment
	for _, e := range goldenLog(t) {
		if p, ok := e.(verify.DealPayment); ok && p.Period == 2 && p.To == "tranche:A:interest" {
			orig = p
		}
	}
	if m.Reported != (orig.Amount+100).Major() || m.Recomputed != orig.Amount.Major() {
		t.Errorf("amounts: logged %s recomputed %s, want %s and %s", m.Reported, m.Recomputed, (orig.Amount + 100).Major(), orig.Amount.Major())
	}
	if !strings.Contains(ms[1].Field, "tranche:A:principal") {
		t.Errorf("second mismatch %+v", ms[1])
	}
}

// TestDocumentNotTheLoggedHash: a document that does not hash to pool.opened's waterfall_hash is
// refused as such, and no period is re-run with it.
func TestDocumentNotTheLoggedHash(t *testing.T) {
	log := goldenLog(t)
	other := amendedDoc(t)
	res := mustCheck(t, log, docs("other.yaml", other))
	opened := log[0].(verify.PoolOpened).WaterfallHash
	if len(res.Problems) != 1 {
		t.Fatalf("problems: %s", text(res))
	}
	p := res.Problems[0]
	if p.Field != "deal document other.yaml" || p.Reported != "sha256 "+mustLoad(t, other).Hash() ||
		p.Recomputed != opened+" (pool.opened at 0)" || !strings.Contains(p.Detail, "does not hash to the deal fixed on the ledger") {
		t.Errorf("problem %+v", p)
	}
	for _, pr := range res.Periods {
		if pr.Rerun || len(pr.Mismatches) != 1 || pr.Mismatches[0].Recomputed != opened || pr.Mismatches[0].Reported != "none given" {
			t.Errorf("period %d: %+v", pr.Period, pr.Mismatches)
		}
	}
	// Layout does not matter: the canonical hash is of the document, not its bytes.
	relaid := append([]byte("# a comment the servicer did not write\n"), exampleDoc(t)...)
	if res := mustCheck(t, log, docs("relaid.yaml", relaid)); res.Mismatches() != 0 {
		t.Errorf("a re-laid-out document: %s", text(res))
	}
	// Not a deal at all: an error naming the document.
	if _, err := Check(log, docs("junk.yaml", []byte("name: [\n"))); err == nil || !strings.Contains(err.Error(), "junk.yaml") {
		t.Errorf("junk document: %v", err)
	}
}

// amendedLog is the example deal's log with period 1 closed under the original document, then
// (when logAmendment) a deal.amended to the 3.50% document, then period 2 closed under the
// 3.50% document.
func amendedLog(t *testing.T, logAmendment bool) []verify.Entry {
	t.Helper()
	orig, amended := mustLoad(t, exampleDoc(t)), mustLoad(t, amendedDoc(t))
	var log []verify.Entry
	for _, e := range goldenLog(t) {
		if r, ok := e.(verify.DealReport); ok && r.Period == 1 {
			log = append(log, e)
			break
		}
		log = append(log, e)
	}
	// Rebuild period 1 from the servicer's side to be sure the prefix is what it publishes.
	var prefix []verify.Entry
	for _, e := range log {
		switch e.(type) {
		case verify.DealPayment, verify.DealTrigger, verify.DealReport:
		default:
			prefix = append(prefix, e)
		}
	}
	log = closeWith(t, orig, prefix, 1)
	if logAmendment {
		log = append(log, verify.DealAmended{Header: verify.Header{Pool: "P1", EventID: "amend-1", Effective: "2016-08-01", V: verify.EntryVersion2},
			DealHash: amended.Hash(), PreviousHash: orig.Hash(), Reason: "senior coupon reset"})
	}
	return closeWith(t, amended, log, 2)
}

// TestAmendment: after a logged amendment, period 2 is re-run with the amended document; without
// that document the verifier says which hash is in force and that it was not given; and a
// servicer that ran an amended document without logging the amendment is caught line by line.
func TestAmendment(t *testing.T) {
	both := docs("deal.yaml", exampleDoc(t), "amended.yaml", amendedDoc(t))
	log := amendedLog(t, true)
	res := mustCheck(t, log, both)
	if res.Mismatches() != 0 {
		t.Fatalf("amended deal with both documents: %s", text(res))
	}
	if res.Periods[0].Document != "deal.yaml" || res.Periods[1].Document != "amended.yaml" {
		t.Errorf("documents re-run: %q %q", res.Periods[0].Document, res.Periods[1].Document)
	}
	if res.Documents[1].FixedBy == "" || !strings.HasPrefix(res.Documents[1].FixedBy, "deal.amended at ") {
		t.Errorf("amended document fixed by %q", res.Documents[1].FixedBy)
	}

	// The amendment's document is missing.
	res = mustCheck(t, log, docs("deal.yaml", exampleDoc(t)))
	if len(res.Periods[0].Mismatches) != 0 {
		t.Errorf("period 1: %+v", res.Periods[0].Mismatches)
	}
	ms := res.Periods[1].Mismatches
	amendedHash := mustLoad(t, amendedDoc(t)).Hash()
	if len(ms) != 1 || ms[0].Field != "period 2 deal document" || ms[0].Reported != "none given" || ms[0].Recomputed != amendedHash ||
		!strings.Contains(ms[0].Detail, "deal.amended at") {
		t.Fatalf("missing amendment document: %s", text(res))
	}

	// The servicer used the amended document without logging deal.amended: the lines of period 2
	// differ from the document in force (the senior's interest at 3.00%, not 3.50%).
	res = mustCheck(t, amendedLog(t, false), both)
	if res.Problems[0].Field != "deal document amended.yaml" {
		t.Errorf("an unlogged amendment's document must be refused: %+v", res.Problems)
	}
	var found bool
	for _, m := range res.Periods[1].Mismatches {
		if strings.Contains(m.Field, "tranche:A:interest") && m.Reported != m.Recomputed {
			found = true
		}
	}
	if !found || res.Periods[1].Document != "deal.yaml" {
		t.Fatalf("unlogged amendment: %s", text(res))
	}
}

// TestCheckDocument: the published report documents of the test vector agree with the re-run;
// a document whose senior interest was edited is caught on that field with both values.
func TestCheckDocument(t *testing.T) {
	res := mustCheck(t, goldenLog(t), docs("deal.yaml", exampleDoc(t)))
	for p := 1; p <= 2; p++ {
		doc, err := os.ReadFile(fmt.Sprintf("../live/testdata/report-period-%d.json", p))
		if err != nil {
			t.Fatal(err)
		}
		ms, err := res.CheckDocument(doc)
		if err != nil || len(ms) != 0 {
			t.Fatalf("period %d: %v %+v", p, err, ms)
		}
		if p == 1 {
			bad := bytes.Replace(doc, []byte(`"interest_paid":"942575.34"`), []byte(`"interest_paid":"942575.00"`), 1)
			if bytes.Equal(bad, doc) {
				t.Fatal("the senior's interest moved in the vector")
			}
			ms, err := res.CheckDocument(bad)
			if err != nil || len(ms) != 1 || ms[0].Field != "period 1 tranche A interest_paid" || ms[0].Reported != "942575.00" || ms[0].Recomputed != "942575.34" {
				t.Fatalf("edited document: %v %+v", err, ms)
			}
		}
	}
	if _, err := res.CheckDocument([]byte("{")); err == nil {
		t.Error("a document that is not JSON")
	}
}

// TestRerunProperty: for random servicing (collections, costs and servicer rows in the first
// windows) closed by the servicer's code for 1 to 3 periods, the re-run from the log and the
// document finds no mismatch; moving one fen on any one logged line is caught in that period.
func TestRerunProperty(t *testing.T) {
	doc := exampleDoc(t)
	d := mustLoad(t, doc)
	rapid.Check(t, func(rt *rapid.T) {
		h := func(id, eff string) verify.Header { return verify.Header{Pool: "P1", EventID: id, Effective: eff} }
		log := []verify.Entry{verify.PoolOpened{Header: h("open", "2016-04-30"), Name: "HC", Cutoff: "2016-04-30", Currency: "CNY", WaterfallHash: d.Hash()}}
		for i := range 3 {
			log = append(log, verify.LoanBoarded{Header: verify.Header{Pool: "P1", EventID: fmt.Sprintf("b%d", i), Effective: "2016-04-30", V: 2},
				Loan: fmt.Sprintf("L%d", i), Claim: 70_000_000_000, Principal: 70_000_000_000, Commitment: strings.Repeat("b", 64),
				Product: "credit_card", Region: "440305", Grade: "loss"})
		}
		days := []string{"2016-05-10", "2016-06-20", "2016-07-05", "2016-08-31", "2016-10-02", "2016-12-30"}
		for i := range rapid.IntRange(0, 8).Draw(rt, "events") {
			eff := rapid.SampledFrom(days).Draw(rt, "day")
			amt := verify.Amount(rapid.Int64Range(1, 3_000_000_000).Draw(rt, "amount"))
			switch rapid.IntRange(0, 2).Draw(rt, "kind") {
			case 0:
				log = append(log, verify.LoanCollection{Header: h(fmt.Sprintf("c%d", i), eff), Loan: fmt.Sprintf("L%d", i%3), Amount: amt, Principal: amt,
					Channel: verify.ChannelAgency, BankTxn: strings.Repeat("c", 64)})
			case 1:
				log = append(log, verify.DealCollections{Header: verify.Header{Pool: "P1", EventID: fmt.Sprintf("s%d", i), Effective: eff, V: 2},
					Amount: amt, Line: int64(i + 1), FileHash: strings.Repeat("f", 64)})
			default:
				log = append(log, verify.DealCost{Header: verify.Header{Pool: "P1", EventID: fmt.Sprintf("k%d", i), Effective: eff, V: 2},
					Kind: verify.CostDisposal, Amount: amt/10 + 1, Memo: "fee"})
			}
		}
		periods := rapid.IntRange(1, 3).Draw(rt, "periods")
		// Entries dated in a window already closed would be refused by the server: keep each
		// period's servicing before its close by sorting the servicing by date first.
		slices.SortStableFunc(log[4:], func(a, b verify.Entry) int {
			return strings.Compare(a.EntryHeader().Effective, b.EntryHeader().Effective)
		})
		for p := 1; p <= periods; p++ {
			log = closeWith(t, d, log, p)
		}
		res, err := Check(log, docs("deal.yaml", doc))
		if err != nil {
			rt.Fatal(err)
		}
		if res.Mismatches() != 0 || len(res.Periods) != periods {
			rt.Fatalf("clean log: %s", text(res))
		}
		var lines []int
		for i, e := range log {
			if _, ok := e.(verify.DealPayment); ok {
				lines = append(lines, i)
			}
		}
		at := rapid.SampledFrom(lines).Draw(rt, "tampered line")
		p := log[at].(verify.DealPayment)
		if p.Amount > 0 && rapid.Bool().Draw(rt, "down") {
			p.Amount--
		} else {
			p.Amount++
		}
		tampered := slices.Clone(log)
		tampered[at] = p
		res, err = Check(tampered, docs("deal.yaml", doc))
		if err != nil {
			rt.Fatal(err)
		}
		pr := res.Periods[p.Period-1]
		found := false
		for _, m := range pr.Mismatches {
			if strings.HasPrefix(m.Field, fmt.Sprintf("period %d line ", p.Period)) && m.Reported == p.Amount.Major() {
				found = true
			}
		}
		if !found {
			rt.Fatalf("one fen on line %d (%s -> %s) not caught: %s", at, p.From, p.To, text(res))
		}
	})
}
