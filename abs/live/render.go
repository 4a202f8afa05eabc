package live

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"reclaim/csvsafe"
	"reclaim/money"
)

// WriteCSV writes the report as one CSV table of section,row,field,value rows (UTF-8, a header
// row first), every field of the JSON document once, in the document's order. Text cells are
// neutralised against spreadsheet formula injection (package csvsafe).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(section, key, field, value string) {
		cw.Write([]string{section, csvsafe.Cell(key), field, csvsafe.Cell(value)})
	}
	row("section", "row", "field", "value")
	head := [][2]string{{"deal", r.Deal}, {"pool", r.Pool}, {"deal_hash", r.DealHash}, {"period", strconv.Itoa(r.Period)},
		{"payment_date", r.PaymentDate.String()}, {"collection_start", r.CollectionStart.String()}, {"collection_end", r.CollectionEnd.String()},
		{"status", r.Status}, {"currency", r.Currency}, {"preview", strconv.FormatBool(r.Preview)}}
	for _, h := range head {
		row("report", "", h[0], h[1])
	}
	for _, t := range r.Tranches {
		for _, f := range [][2]string{{"opening_balance", t.Opening.String()}, {"closing_balance", t.Closing.String()}, {"factor", t.Factor},
			{"interest_due", t.InterestDue.String()}, {"interest_paid", t.InterestPaid.String()}, {"interest_shortfall", t.InterestShortfall.String()},
			{"principal_paid", t.PrincipalPaid.String()}, {"residual_paid", t.ResidualPaid.String()}, {"credit_enhancement", t.CreditEnhancement}} {
			row("tranche", t.Name, f[0], f[1])
		}
	}
	p := r.PoolCash
	for _, f := range [][2]string{{"opening_claim", p.OpeningClaim.String()}, {"closing_claim", p.ClosingClaim.String()},
		{"collections_gross", p.Gross.String()}, {"costs", p.Costs.String()}, {"costs_carried", p.CostsCarried.String()},
		{"collections_net", p.Net.String()}, {"waivers", p.Waivers.String()}, {"removed", p.Removed.String()}, {"loans", strconv.Itoa(p.LoansBoarded)}} {
		row("pool", "", f[0], f[1])
	}
	for _, tab := range []struct {
		name string
		b    []Bucket
	}{{"by_channel", r.ByChannel}, {"by_region", r.ByRegion}, {"by_dpd_bucket", r.ByDPD}, {"by_grade", r.ByGrade}} {
		for _, b := range tab.b {
			row(tab.name, b.Key, "count", strconv.Itoa(b.Count))
			row(tab.name, b.Key, "gross", b.Gross.String())
			row(tab.name, b.Key, "costs", b.Costs.String())
			row(tab.name, b.Key, "net", b.Net.String())
		}
	}
	rc := r.Recoveries
	for _, f := range [][2]string{{"period_collections", rc.Period.String()}, {"period_forecast", rc.PeriodForecast.String()},
		{"period_ratio", rc.PeriodRatio}, {"cumulative_collections", rc.Cumulative.String()}, {"cumulative_forecast", rc.CumulativeFcst.String()},
		{"cumulative_ratio", rc.CumulativeRatio}, {"cumulative_recovery_rate_of_claim", rc.RecoveryRateOfClaim}} {
		row("recoveries", "", f[0], f[1])
	}
	for _, h := range r.History {
		k := strconv.Itoa(h.Period)
		row("history", k, "date", h.Date.String())
		row("history", k, "collections", h.Collections.String())
		row("history", k, "forecast", h.Forecast.String())
		row("history", k, "cumulative_collections", h.CumCollections.String())
		row("history", k, "cumulative_forecast", h.CumForecast.String())
	}
	for _, a := range r.Accounts {
		row("account", a.Name, "opening", a.Opening.String())
		for i, l := range a.Lines {
			row("account", a.Name, fmt.Sprintf("line %d", i+1), fmt.Sprintf("%s -> %s %s %s", l.From, l.To, l.Amount, l.Memo))
		}
		row("account", a.Name, "closing", a.Closing.String())
	}
	for _, f := range r.Fees {
		row("fee", f.Name, "accrued", f.Accrued.String())
		row("fee", f.Name, "paid", f.Paid.String())
		row("fee", f.Name, "deferred_paid", f.DeferredPaid.String())
		row("fee", f.Name, "unpaid", f.Unpaid.String())
		row("fee", f.Name, "deferred_balance", f.Deferred.String())
	}
	for i, l := range r.Distribution {
		k := strconv.Itoa(i + 1)
		row("distribution", k, "from", l.From)
		row("distribution", k, "to", l.To)
		row("distribution", k, "amount", l.Amount.String())
		row("distribution", k, "memo", l.Memo)
	}
	for i, t := range r.Triggers {
		k := strconv.Itoa(i + 1)
		row("trigger", k, "trigger", t.Trigger)
		row("trigger", k, "when", t.When)
		row("trigger", k, "metric", t.Metric)
		row("trigger", k, "threshold", t.Threshold)
		row("trigger", k, "hit", strconv.FormatBool(t.Hit))
		row("trigger", k, "in_force", strconv.FormatBool(t.InForce))
	}
	for _, t := range r.Projection {
		irr := ""
		if t.IRR != nil {
			irr = fmt.Sprintf("%.6f", *t.IRR)
		}
		row("projection", t.Name, "wal", fmt.Sprintf("%.4f", t.WAL))
		row("projection", t.Name, "irr", irr)
		row("projection", t.Name, "loss", t.Loss.String())
	}
	row("ledger", "", "origin", r.Ledger.Origin)
	row("ledger", "", "report_event", r.Ledger.ReportEvent)
	row("ledger", "", "report_index", strconv.FormatInt(r.Ledger.ReportIndex, 10))
	row("ledger", "", "lines_from_index", strconv.FormatInt(r.Ledger.FromIndex, 10))
	cw.Flush()
	return cw.Error()
}

// chartSeries is one line of an SVG chart.
type chartSeries struct {
	Name   string
	Color  string
	Points string
	Dash   bool
}

type chart struct {
	W, H   int
	Series []chartSeries
	Labels []chartLabel
	Max    string
}

type chartLabel struct {
	X    int
	Text string
}

// lineChart draws cumulative series (minor units) over periods as SVG polylines.
func lineChart(names, colors []string, series [][]int64, labels []string) chart {
	c := chart{W: 640, H: 220}
	var top int64 = 1
	for _, s := range series {
		for _, v := range s {
			top = max(top, v)
		}
	}
	n := 0
	for _, s := range series {
		n = max(n, len(s))
	}
	x := func(i int) int {
		if n <= 1 {
			return 40
		}
		return 40 + i*(c.W-60)/(n-1)
	}
	for j, s := range series {
		var b strings.Builder
		for i, v := range s {
			fmt.Fprintf(&b, "%d,%d ", x(i), c.H-20-int(float64(v)/float64(top)*float64(c.H-40)))
		}
		c.Series = append(c.Series, chartSeries{Name: names[j], Color: colors[j], Points: b.String(), Dash: j == 1})
	}
	for i, l := range labels {
		c.Labels = append(c.Labels, chartLabel{X: x(i), Text: l})
	}
	c.Max = money.New(top, "CNY").Grouped()
	return c
}

var htmlReport = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{.R.Deal}}: report for payment date {{.R.PaymentDate}}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:15px;margin-top:24px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.hit{color:#b00;font-weight:bold}.preview{color:#b60}
@media print{body{margin:0}h2{page-break-after:avoid}table{page-break-inside:avoid}}
</style></head><body>
<h1>{{.R.Deal}}: trustee and servicer report, period {{.R.Period}} ({{.R.PaymentDate}})</h1>
{{if .R.Preview}}<p class="preview">Preview: not closed on the ledger; figures may change.</p>{{end}}
<p>Pool {{.R.Pool}}; collection period {{.R.CollectionStart}} to {{.R.CollectionEnd}}; deal status <b>{{.R.Status}}</b>; currency {{.R.Currency}}.<br>
Deal document SHA-256 <code>{{.R.DealHash}}</code>.</p>
<h2>Tranches</h2>
<table><tr><th class="l">tranche</th><th>opening</th><th>interest due</th><th>interest paid</th><th>shortfall</th><th>principal paid</th><th>residual paid</th><th>closing</th><th>factor</th><th>credit enhancement</th></tr>
{{range .R.Tranches}}<tr><td class="l">{{.Name}}</td><td>{{.Opening}}</td><td>{{.InterestDue}}</td><td>{{.InterestPaid}}</td><td>{{.InterestShortfall}}</td><td>{{.PrincipalPaid}}</td><td>{{.ResidualPaid}}</td><td>{{.Closing}}</td><td>{{.Factor}}</td><td>{{.CreditEnhancement}}</td></tr>
{{end}}</table>
{{.Balances}}
<h2>Pool</h2>
<table><tr><th class="l">opening claim</th><th>collections gross</th><th>costs</th><th>net</th><th>costs carried</th><th>waivers</th><th>removed</th><th>closing claim</th><th>loans</th></tr>
<tr><td class="l">{{.R.PoolCash.OpeningClaim}}</td><td>{{.R.PoolCash.Gross}}</td><td>{{.R.PoolCash.Costs}}</td><td>{{.R.PoolCash.Net}}</td><td>{{.R.PoolCash.CostsCarried}}</td><td>{{.R.PoolCash.Waivers}}</td><td>{{.R.PoolCash.Removed}}</td><td>{{.R.PoolCash.ClosingClaim}}</td><td>{{.R.PoolCash.LoansBoarded}}</td></tr></table>
{{range .Tabs}}<h2>Collections by {{.Name}}</h2><table><tr><th class="l">{{.Name}}</th><th>collections</th><th>gross</th><th>costs</th><th>net</th></tr>
{{range .B}}<tr><td class="l">{{.Key}}</td><td>{{.Count}}</td><td>{{.Gross}}</td><td>{{.Costs}}</td><td>{{.Net}}</td></tr>{{end}}</table>{{end}}
<h2>Recoveries against the forecast</h2>
<table><tr><th class="l"></th><th>collections</th><th>forecast</th><th>ratio</th></tr>
<tr><td class="l">period</td><td>{{.R.Recoveries.Period}}</td><td>{{.R.Recoveries.PeriodForecast}}</td><td>{{.R.Recoveries.PeriodRatio}}</td></tr>
<tr><td class="l">cumulative</td><td>{{.R.Recoveries.Cumulative}}</td><td>{{.R.Recoveries.CumulativeFcst}}</td><td>{{.R.Recoveries.CumulativeRatio}}</td></tr></table>
<p>Cumulative recoveries are {{.R.Recoveries.RecoveryRateOfClaim}} of the claim boarded.</p>
{{.Recoveries}}
<h2>Accounts</h2>
{{range .R.Accounts}}<h3>{{.Name}}</h3><table><tr><th class="l">from</th><th class="l">to</th><th>amount</th><th class="l">memo</th></tr>
<tr><td class="l" colspan="2">opening</td><td>{{.Opening}}</td><td></td></tr>
{{range .Lines}}<tr><td class="l">{{.From}}</td><td class="l">{{.To}}</td><td>{{.Amount}}</td><td class="l">{{.Memo}}</td></tr>{{end}}
<tr><td class="l" colspan="2">closing</td><td>{{.Closing}}</td><td></td></tr></table>{{end}}
<h2>Fees</h2><table><tr><th class="l">fee</th><th>accrued</th><th>paid</th><th>deferred paid</th><th>unpaid</th><th>deferred balance</th></tr>
{{range .R.Fees}}<tr><td class="l">{{.Name}}</td><td>{{.Accrued}}</td><td>{{.Paid}}</td><td>{{.DeferredPaid}}</td><td>{{.Unpaid}}</td><td>{{.Deferred}}</td></tr>{{end}}</table>
<h2>Distribution</h2><table><tr><th>#</th><th class="l">from</th><th class="l">to</th><th>amount</th><th class="l">step</th></tr>
{{range $i, $l := .R.Distribution}}<tr><td>{{$i}}</td><td class="l">{{$l.From}}</td><td class="l">{{$l.To}}</td><td>{{$l.Amount}}</td><td class="l">{{$l.Memo}}</td></tr>{{end}}</table>
<h2>Trigger tests</h2><table><tr><th class="l">trigger</th><th class="l">when</th><th class="l">metric</th><th class="l">threshold</th><th class="l">status</th></tr>
{{range .R.Triggers}}<tr><td class="l">{{.Trigger}}</td><td class="l">{{.When}}</td><td class="l">{{.Metric}}</td><td class="l">{{.Threshold}}</td><td class="l{{if .InForce}} hit{{end}}">{{if .Hit}}hit{{else if .InForce}}in force{{else}}not hit{{end}}</td></tr>{{end}}</table>
<h2>Ledger</h2>
<p>This report's SHA-256 is logged in the pool's transparency log <code>{{.R.Ledger.Origin}}</code> as entry {{.R.Ledger.ReportIndex}}
(event {{.R.Ledger.ReportEvent}}), after its distribution lines and trigger tests (entries {{.R.Ledger.FromIndex}} on); any signed
checkpoint of a larger size covers it. Check it with <code>reclaim-verify report</code>.</p>
</body></html>
`))

var svgChart = template.Must(template.New("svg").Parse(`<figure><svg xmlns="http://www.w3.org/2000/svg" width="{{.C.W}}" height="{{.C.H}}" role="img" aria-label="{{.Title}}">
<line x1="40" y1="{{.Y0}}" x2="{{.C.W}}" y2="{{.Y0}}" stroke="#999"/><line x1="40" y1="10" x2="40" y2="{{.Y0}}" stroke="#999"/>
<text x="42" y="14" font-size="10">{{.C.Max}}</text>
{{range .C.Series}}<polyline fill="none" stroke="{{.Color}}" stroke-width="2"{{if .Dash}} stroke-dasharray="5,4"{{end}} points="{{.Points}}"/>{{end}}
{{range .C.Labels}}<text x="{{.X}}" y="{{$.LabelY}}" font-size="9" text-anchor="middle">{{.Text}}</text>{{end}}
</svg><figcaption>{{.Title}}: {{range $i, $s := .C.Series}}{{if $i}}, {{end}}<span style="color:{{$s.Color}}">{{$s.Name}}</span>{{end}}</figcaption></figure>`))

func renderChart(title string, c chart) template.HTML {
	var b strings.Builder
	svgChart.Execute(&b, map[string]any{"C": c, "Title": title, "Y0": c.H - 20, "LabelY": c.H - 6})
	return template.HTML(b.String())
}

// WriteHTML writes the report as a printable HTML page with two inline SVG charts (cumulative
// collections against the forecast; tranche balances over the periods reported in History).
func (r *Report) WriteHTML(w io.Writer) error {
	var coll, fc []int64
	var labels []string
	for _, h := range r.History {
		coll = append(coll, h.CumCollections.Minor())
		fc = append(fc, h.CumForecast.Minor())
		labels = append(labels, strconv.Itoa(h.Period))
	}
	rec := renderChart("Cumulative net collections against the forecast", lineChart([]string{"collections", "forecast"}, []string{"#1f77b4", "#ff7f0e"},
		[][]int64{coll, fc}, labels))
	var names []string
	var bars [][]int64
	colors := []string{"#2ca02c", "#d62728", "#9467bd", "#8c564b"}
	for _, t := range r.Tranches {
		names = append(names, t.Name+" opening→closing")
		bars = append(bars, []int64{t.Opening.Minor(), t.Closing.Minor()})
	}
	bal := renderChart("Tranche balances this period (opening to closing)", lineChart(names, colors[:min(len(names), len(colors))], bars, []string{"opening", "closing"}))
	if len(names) > len(colors) {
		bal = ""
	}
	return htmlReport.Execute(w, map[string]any{
		"R": r, "Recoveries": rec, "Balances": bal,
		"Tabs": []map[string]any{{"Name": "channel", "B": r.ByChannel}, {"Name": "region (province)", "B": r.ByRegion},
			{"Name": "DPD bucket at boarding", "B": dpdOrder(r.ByDPD)}, {"Name": "grade", "B": r.ByGrade}},
	})
}
