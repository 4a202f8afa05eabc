package abs

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"reclaim"
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
