package abs

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

func exampleDoc(t testing.TB) *Document {
	t.Helper()
	b, err := os.ReadFile("../docs/examples/deal-npl-2tranche.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestExampleValid keeps docs/examples/deal-npl-2tranche.yaml (the example of docs/abs-deal.md)
// valid, with 16 payment dates.
func TestExampleValid(t *testing.T) {
	d, err := Compile(exampleDoc(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.PaymentDates()); n != 16 {
		t.Errorf("%d payment dates, want 16", n)
	}
	if len(d.Hash()) != 64 {
		t.Errorf("hash %q", d.Hash())
	}
}

func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	if reclaim.ErrorCode(err) != reclaim.EINVALID {
		t.Fatalf("code %s", reclaim.ErrorCode(err))
	}
	return ve.Problems
}

// TestValidation checks that each kind of bad deal is rejected with the path to the offending
// element and that nothing is compiled.
func TestValidation(t *testing.T) {
	for _, c := range []struct {
		name, path, rule string
		mutate           func(d *Document)
	}{
		{"coupon above 100%", "tranches[0].coupon", "is above 100%", func(d *Document) { d.Tranches[0].Coupon = "1.5" }},
		{"deferred above 100%", "fees[2].deferred", "is above 100%", func(d *Document) { d.Fees[2].Deferred = "120%" }},
		{"negative reserve", "accounts[1].initial", "is negative", func(d *Document) { d.Accounts[1].Initial = "-5.00" }},
		{"negative balance", "tranches[1].balance", "is negative", func(d *Document) { d.Tranches[1].Balance = "-1.00" }},
		{"unknown account", "waterfalls.normal[0].from[1]", "is not defined", func(d *Document) { d.Waterfalls["normal"][0].From = []string{"collection", "cash"} }},
		{"unknown target account", "waterfalls.normal[3].account", "is not a reserve", func(d *Document) { d.Waterfalls["normal"][3].Account = "nope" }},
		{"unknown action", "waterfalls.normal[1].action", "is not an action", func(d *Document) { d.Waterfalls["normal"][1].Action = "pay_bonus" }},
		{"no residual step", "waterfalls.post_default", "can leave cash undistributed", func(d *Document) {
			w := d.Waterfalls["post_default"]
			d.Waterfalls["post_default"] = w[:len(w)-1]
		}},
		{"shares not 100%", "waterfalls.normal[7].shares", "do not add up to 100%", func(d *Document) { d.Waterfalls["normal"][7].Shares[0].Pct = "30%" }},
		{"trigger cycle", "triggers[2].of", "makes a cycle", func(d *Document) {
			d.Triggers = append(d.Triggers, Trigger{Name: "x", Kind: "any", Of: []string{"y"}}, Trigger{Name: "y", Kind: "all", Of: []string{"x"}})
		}},
		{"unknown trigger status", "triggers[0].status", "has no waterfall", func(d *Document) { d.Triggers[0].Status = "wound_up" }},
		{"closing before cut-off", "dates.closing", "is not after the cut-off", func(d *Document) { d.Dates.Closing = "2016-04-01" }},
		{"unordered forecast", "pool.forecast[3].date", "is not after the previous date", func(d *Document) { d.Pool.Forecast[3].Date = d.Pool.Forecast[1].Date }},
		{"forecast before cut-off", "pool.forecast[0].date", "is not after the cut-off", func(d *Document) { d.Pool.Forecast[0].Date = "2016-04-30" }},
		{"overlapping schedule", "dates.schedule[1].collection_end", "overlaps the previous collection period", func(d *Document) {
			d.Dates.Schedule = []SchedEntry{{"2016-07-26", "2016-06-30"}, {"2016-10-26", "2016-06-30"}, {"2020-04-26", "2020-03-31"}}
		}},
		{"collection after payment", "dates.schedule[0].collection_end", "is after its payment date", func(d *Document) {
			d.Dates.Schedule = []SchedEntry{{"2016-07-26", "2016-07-30"}, {"2020-04-26", "2020-03-31"}}
		}},
		{"retention below 5%", "tranches[1].retained", "below the 5%", func(d *Document) { d.Tranches[1].Retained = "4%" }},
		{"bad date", "dates.first_payment", "is not a date", func(d *Document) { d.Dates.FirstPayment = "2016-02-30" }},
		{"bad frequency", "dates.frequency", "is not a payment frequency", func(d *Document) { d.Dates.Frequency = "weekly" }},
		{"bad day count", "tranches[0].day_count", "is not a day count", func(d *Document) { d.Tranches[0].DayCount = "ACT/364" }},
		{"two collection accounts", "accounts[1].kind", "is used twice", func(d *Document) { d.Accounts[1].Kind = "collection"; d.Accounts[1].Target = nil }},
		{"duplicate tranche", "tranches[1].name", "is used twice", func(d *Document) { d.Tranches[1].Name = "A" }},
		{"residual fee paid as fee", "waterfalls.normal[1].fees[0]", "is a residual fee", func(d *Document) { d.Waterfalls["normal"][1].Fees = []string{"incentive"} }},
		{"status change without reason", "waterfalls.normal[0].reason", "is required", func(d *Document) {
			d.Waterfalls["normal"][0] = Step{Action: "change_status", Status: "post_default"}
		}},
		{"misplaced field", "waterfalls.normal[2].shares", "is not used by action pay_interest", func(d *Document) {
			d.Waterfalls["normal"][2].Shares = []Share{{Fee: "incentive", Pct: "100%"}}
		}},
		{"initial status unknown", "initial_status", "has no waterfall", func(d *Document) { d.InitialStatus = "revolving" }},
		{"forecast file without fs", "pool.forecast_file", "cannot be read", func(d *Document) { d.Pool.Forecast = nil; d.Pool.ForecastFile = "f.csv" }},
		{"threshold above 100%", "clean_up_call.threshold", "is above 100%", func(d *Document) { d.CleanUpCall.Threshold = "101%" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := exampleDoc(t)
			c.mutate(doc)
			d, err := Compile(doc, Options{})
			if d != nil {
				t.Fatal("an invalid deal was compiled")
			}
			ps := problems(t, err)
			for _, p := range ps {
				if p.Path == c.path && strings.Contains(p.Rule, c.rule) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q; got:\n%v", c.path, c.rule, err.(*reclaim.Error).Err)
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "name: x\nbogus: 1\n", "name: [\n", "a: 1\n---\nb: 2\n", "tranches: 5\n"} {
		if _, err := Parse([]byte(in)); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}

// TestForecastFile reads the forecast from a CSV beside the document; the hash covers the flows,
// not the file name, so the inline and file forms of one deal hash the same.
func TestForecastFile(t *testing.T) {
	doc := exampleDoc(t)
	inline, err := Compile(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("date,amount\n")
	for _, f := range doc.Pool.Forecast {
		csv.WriteString(f.Date + "," + f.Amount + "\n")
	}
	doc.Pool.Forecast, doc.Pool.ForecastFile = nil, "flows/forecast.csv"
	fromFile, err := Compile(doc, Options{Files: fstest.MapFS{"flows/forecast.csv": {Data: []byte(csv.String())}}})
	if err != nil {
		t.Fatal(err)
	}
	if inline.Hash() != fromFile.Hash() {
		t.Errorf("hash %s (inline) != %s (file)", inline.Hash(), fromFile.Hash())
	}
	_, err = Compile(doc, Options{Files: fstest.MapFS{"flows/forecast.csv": {Data: []byte("date,amount\n2016-05-31,12.5\n2016-05-31,1\n")}}})
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad forecast file: %v", err)
	}
}

// TestHashLayout: comments, layout and key order do not change the hash; a changed amount does.
func TestHashLayout(t *testing.T) {
	a := "name: x\ncurrency: CNY\n"
	b := "# comment\ncurrency:   CNY\nname: \"x\"\n"
	da, _ := Parse([]byte(a))
	db, _ := Parse([]byte(b))
	ha, _ := da.Hash()
	hb, _ := db.Hash()
	if ha != hb {
		t.Errorf("layout changed the hash")
	}
	dc, _ := Parse([]byte("name: y\ncurrency: CNY\n"))
	if hc, _ := dc.Hash(); hc == ha {
		t.Errorf("a different document has the same hash")
	}
}

func TestParseFlowsCSV(t *testing.T) {
	fl, err := ParseFlowsCSV(strings.NewReader("\ufeffdate,amount\n2024-01-31,100.5\n\n2024-02-29, 7\n"), "CNY")
	if err != nil || len(fl) != 2 || fl[0].Amount.Minor() != 10050 || fl[1].Amount.Minor() != 700 {
		t.Fatalf("%v %v", fl, err)
	}
	for in, line := range map[string]string{
		"2024-01-31,100\n2024-01-31,5\n": "line 2", "2024-01-31,abc\n": "line 1", "2024-01-31\n": "line 1",
		"date,amount\n2024-13-01,1\n": "line 2", "2024-01-31,-1\n": "line 1", "2024-01-31,1,2\n": "line 1",
	} {
		_, err := ParseFlowsCSV(strings.NewReader(in), "CNY")
		var re *reclaim.Error
		if !errors.As(err, &re) || re.Code != reclaim.EINVALID || re.Fields[line] == "" {
			t.Errorf("%q: %v (want a problem at %s)", in, err, line)
		}
	}
}

// TestDocExample keeps the complete example of docs/abs-deal.md identical to
// docs/examples/deal-npl-2tranche.yaml (which TestExampleValid keeps valid).
func TestDocExample(t *testing.T) {
	page, err := os.ReadFile("../docs/abs-deal.md")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("../docs/examples/deal-npl-2tranche.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(page), "## Complete example\n\n```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 || block != string(file) {
		t.Error("the example in docs/abs-deal.md differs from docs/examples/deal-npl-2tranche.yaml")
	}
}

// miniDoc is a one-tranche deal small enough to check by hand at the fen: cut-off 2024-01-31,
// closing 2024-02-29, monthly payments on the 26th from 2024-03-26 to the legal maturity
// 2024-05-26, each collection period ending on the last day of the month before (lag 26); tranche
// A of 365.00 at 1% ACT/365F, so that it accrues one fen a day (26, 31 and 30 fen on the three
// dates); the waterfall pays A's interest, then its principal, then gives the rest to A's holders.
func miniDoc() *Document {
	return &Document{Name: "mini", Currency: "CNY",
		Dates: Dates{Cutoff: "2024-01-31", Closing: "2024-02-29", FirstPayment: "2024-03-26", Frequency: "monthly",
			CollectionLagDays: 26, LegalMaturity: "2024-05-26"},
		Pool: Pool{Claim: "10000.00", Forecast: []FlowSpec{{Date: "2024-02-15", Amount: "100.00"},
			{Date: "2024-03-15", Amount: "100.00"}, {Date: "2024-04-15", Amount: "200.00"}}},
		Accounts: []Account{{Name: "collection", Kind: "collection"}},
		Tranches: []Tranche{{Name: "A", Balance: "365.00", Coupon: "1%", Retained: "5%"}},
		Waterfalls: map[string][]Step{"normal": {
			{Action: "pay_interest", Tranches: []string{"A"}},
			{Action: "pay_principal", Tranches: []string{"A"}, Mode: "pass_through"},
			{Action: "split_residual", Shares: []Share{{Tranche: "A", Pct: "100%"}}},
		}},
	}
}

func compileDoc(t testing.TB, doc *Document) *Deal {
	t.Helper()
	d, err := Compile(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// flows builds collections from "date amount" pairs.
func flows(t testing.TB, pairs ...string) []Flow {
	t.Helper()
	var out []Flow
	for i := 0; i+1 < len(pairs); i += 2 {
		d, err := date.ParseStrict(pairs[i])
		if err != nil {
			t.Fatal(err)
		}
		a, err := money.ParseStrict(pairs[i+1], "CNY")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Flow{Date: d, Amount: a})
	}
	return out
}

// TestRetentionBoundary: abs.md, "originators retain >= 5% of each tranche": 5% exactly is
// enough, one hundredth of a percent less is not.
func TestRetentionBoundary(t *testing.T) {
	for _, c := range []struct {
		retained string
		ok       bool
	}{{"4.99%", false}, {"0.0499999", false}, {"5%", true}, {"1/20", true}, {"0.05", true}, {"5.01%", true}, {"100%", true}} {
		doc := exampleDoc(t)
		doc.Tranches[1].Retained = c.retained
		_, err := Compile(doc, Options{})
		if (err == nil) != c.ok {
			t.Errorf("retained %s: error %v, want ok %v", c.retained, err, c.ok)
		}
		if err != nil && !strings.Contains(err.(*reclaim.Error).Err.Error(), "tranches[1].retained") {
			t.Errorf("retained %s: problem not at tranches[1].retained: %v", c.retained, err)
		}
	}
}

// TestScheduleEndOfMonth: abs.md, "months stepped from the anchor date with end-of-month
// clipping": a schedule anchored on 31 January keeps the month's last day after a short month
// (31 March, not 29 March), and a legal maturity off the stepping is appended as the last date.
func TestScheduleEndOfMonth(t *testing.T) {
	for _, c := range []struct {
		legal string
		want  []string
	}{
		{"2024-05-31", []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"}},
		{"2024-05-15", []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-15"}},
		{"2024-01-31", []string{"2024-01-31"}},
	} {
		doc := miniDoc()
		doc.Dates = Dates{Cutoff: "2023-12-15", Closing: "2023-12-20", FirstPayment: "2024-01-31", Frequency: "monthly", LegalMaturity: c.legal}
		d := compileDoc(t, doc)
		var got []string
		for _, p := range d.PaymentDates() {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("legal %s: payment dates %v, want %v", c.legal, got, c.want)
		}
	}
}

// TestCollectionPeriodEdges: abs.md, "collect cash for the period (interim collections to the
// first period)" and "Collections between the cut-off date and closing belong to the trust and
// fund the first payment". A period runs from the day after the previous period's end (the day
// after the cut-off for the first) to its end, both days included; cash on the cut-off is the
// seller's, cash after the last period's end is never collected, and CheckCollections refuses
// both rather than leave them out silently.
func TestCollectionPeriodEdges(t *testing.T) {
	d := compileDoc(t, miniDoc())
	actual := flows(t,
		"2024-01-31", "1.00", // the cut-off: the seller's
		"2024-02-01", "2.00", // first day of period 1
		"2024-02-29", "4.00", // last day of period 1 (interim: before closing)
		"2024-03-01", "8.00", // first day of period 2
		"2024-04-30", "16.00", // last day of period 3, the last period
		"2024-05-01", "32.00", // after the last period
	)
	if got, want := d.collections(Scenario{Collections: actual}), []int64{600, 800, 1600}; !slices.Equal(got, want) {
		t.Errorf("collections by period %v, want %v", got, want)
	}
	r, err := d.Run(Scenario{Collections: actual})
	if err != nil {
		t.Fatal(err)
	}
	wantDates := [][2]string{{"2024-02-01", "2024-02-29"}, {"2024-03-01", "2024-03-31"}, {"2024-04-01", "2024-04-30"}}
	if len(r.Periods) != len(wantDates) {
		t.Fatalf("%d periods, want %d", len(r.Periods), len(wantDates))
	}
	for k, p := range r.Periods {
		if p.CollectionStart.String() != wantDates[k][0] || p.CollectionEnd.String() != wantDates[k][1] {
			t.Errorf("period %d collects %s..%s, want %s..%s", k+1, p.CollectionStart, p.CollectionEnd, wantDates[k][0], wantDates[k][1])
		}
	}
	var ve *ValidationError
	if err := d.CheckCollections(actual); !errors.As(err, &ve) {
		t.Fatalf("CheckCollections: %v, want a *ValidationError", err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
	}
	if strings.Join(paths, " ") != "collections[0] collections[5]" {
		t.Errorf("CheckCollections refused %v, want collections[0] and collections[5]", paths)
	}
	if err := d.CheckCollections(actual[1:5]); err != nil {
		t.Errorf("flows inside the periods refused: %v", err)
	}
}
