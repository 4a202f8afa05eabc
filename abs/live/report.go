package live

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"reclaim"
	"reclaim/abs"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tape"
	"reclaim/tlog/verify"
)

// Report is the trustee/servicer report of one payment date (受托机构报告 / 贷款服务机构报告)
// with every field ../shared/design/abs.md lists under "Reports per period". Amounts are decimal
// strings in yuan; ratios are percentages with two decimals. Its JSON encoding (Encode) is the
// document whose SHA-256 the deal.report ledger entry carries.
type Report struct {
	Deal            string    `json:"deal"`
	Pool            string    `json:"pool"`
	DealHash        string    `json:"deal_hash"`
	Period          int       `json:"period"`
	PaymentDate     date.Date `json:"payment_date"`
	CollectionStart date.Date `json:"collection_start"`
	CollectionEnd   date.Date `json:"collection_end"`
	Status          string    `json:"status"`
	Currency        string    `json:"currency"`
	// Preview is true for a report computed before it was closed on the ledger (not covered by a
	// checkpoint, may still change).
	Preview bool `json:"preview"`

	Tranches []TrancheLine `json:"tranches"`
	PoolCash PoolLine      `json:"pool_cash"`
	// Collections gross / costs / net by channel, region (province), DPD bucket at boarding and
	// five-category grade.
	ByChannel []Bucket `json:"by_channel"`
	ByRegion  []Bucket `json:"by_region"`
	ByDPD     []Bucket `json:"by_dpd_bucket"`
	ByGrade   []Bucket `json:"by_grade"`

	Recoveries Recoveries `json:"recoveries"`
	// History is the collections against the forecast for every period so far (the chart).
	History  []HistoryPoint     `json:"history"`
	Accounts []AccountStatement `json:"accounts"`
	Fees     []abs.FeePeriod    `json:"fees"`
	// Distribution is the waterfall of the payment date, line by line (deal.payment entries).
	Distribution []DistLine `json:"distribution"`
	// Triggers are the trigger tests of the payment date (deal.trigger entries).
	Triggers []TriggerLine `json:"triggers"`
	// Projection is each tranche's outlook: actual cash to this date, the forecast after it.
	Projection []abs.TrancheResult `json:"projection"`
	Ledger     LedgerRef           `json:"ledger"`
}

// TrancheLine is a tranche on the payment date. CreditEnhancement is (the closing balances of
// the tranches junior to it + the reserve accounts' closing balances) / the closing balances of
// all tranches.
type TrancheLine struct {
	Name              string       `json:"name"`
	Opening           money.Amount `json:"opening_balance"`
	Closing           money.Amount `json:"closing_balance"`
	Factor            string       `json:"factor"`
	InterestDue       money.Amount `json:"interest_due"`
	InterestPaid      money.Amount `json:"interest_paid"`
	InterestShortfall money.Amount `json:"interest_shortfall"`
	PrincipalPaid     money.Amount `json:"principal_paid"`
	ResidualPaid      money.Amount `json:"residual_paid"`
	CreditEnhancement string       `json:"credit_enhancement"`
}

// PoolLine is the pool on the payment date: its claim (本息费) at the start and end of the
// collection window, the window's gross collections, costs applied, net, waivers and removals.
type PoolLine struct {
	OpeningClaim money.Amount `json:"opening_claim"`
	ClosingClaim money.Amount `json:"closing_claim"`
	Gross        money.Amount `json:"collections_gross"`
	Costs        money.Amount `json:"costs"`
	CostsCarried money.Amount `json:"costs_carried"`
	Net          money.Amount `json:"collections_net"`
	Waivers      money.Amount `json:"waivers"`
	Removed      money.Amount `json:"removed"`
	LoansBoarded int          `json:"loans"`
}

// Bucket is one row of a breakdown: gross collections of the window, the costs of the window
// attributed to it (by the cost's channel, or its loan's region, DPD bucket and grade;
// "unallocated" when a cost names neither) and gross - costs.
type Bucket struct {
	Key   string       `json:"key"`
	Count int          `json:"count"`
	Gross money.Amount `json:"gross"`
	Costs money.Amount `json:"costs"`
	Net   money.Amount `json:"net"`
}

// Recoveries compares the collections with the forecast, for the period and cumulatively.
type Recoveries struct {
	Period              money.Amount `json:"period_collections"`
	PeriodForecast      money.Amount `json:"period_forecast"`
	PeriodRatio         string       `json:"period_ratio"`
	Cumulative          money.Amount `json:"cumulative_collections"`
	CumulativeFcst      money.Amount `json:"cumulative_forecast"`
	CumulativeRatio     string       `json:"cumulative_ratio"`
	RecoveryRateOfClaim string       `json:"cumulative_recovery_rate_of_claim"`
}

// HistoryPoint is one period's net collections and forecast, and their cumulative sums.
type HistoryPoint struct {
	Period         int          `json:"period"`
	Date           date.Date    `json:"date"`
	Collections    money.Amount `json:"collections"`
	Forecast       money.Amount `json:"forecast"`
	CumCollections money.Amount `json:"cumulative_collections"`
	CumForecast    money.Amount `json:"cumulative_forecast"`
}

// AccountStatement is a trust account on the payment date: opening, every line in or out, closing.
type AccountStatement struct {
	Name    string       `json:"name"`
	Opening money.Amount `json:"opening"`
	Lines   []DistLine   `json:"lines"`
	Closing money.Amount `json:"closing"`
}

// DistLine is one movement of cash (abs.Line without its period).
type DistLine struct {
	From   string       `json:"from"`
	To     string       `json:"to"`
	Amount money.Amount `json:"amount"`
	Memo   string       `json:"memo"`
}

// TriggerLine is one trigger test.
type TriggerLine struct {
	Trigger   string `json:"trigger"`
	When      string `json:"when"`
	Metric    string `json:"metric"`
	Threshold string `json:"threshold"`
	Hit       bool   `json:"hit"`
	InForce   bool   `json:"in_force"`
}

// LedgerRef is the ledger checkpoint that covers the report: the report's deal.report entry is
// at ReportIndex of the pool's log (origin Origin), after the period's distribution lines and
// trigger tests; any signed checkpoint of size > ReportIndex covers it (the API adds the latest
// such checkpoint beside the document).
type LedgerRef struct {
	Origin      string `json:"origin"`
	ReportEvent string `json:"report_event"`
	ReportIndex int64  `json:"report_index"`
	FromIndex   int64  `json:"lines_from_index"`
}

// Input is what Build needs.
type Input struct {
	Deal   *abs.Deal
	State  *State
	Period int
	// Preview marks a report computed before it is closed.
	Preview bool
	// Origin and LedgerSize (the pool's log size when the report is closed, with nothing
	// waiting to be sequenced) place the report's entries on the log.
	Origin     string
	LedgerSize int64
}

// Windows returns the deal's collection windows, one per payment date up to the legal maturity,
// each with the forecast it collects (abs.Deal.Schedule). They come from the schedule, not from a
// run on the forecast: such a run stops once the forecast has repaid everything, and a deal whose
// actual collections fall short of the forecast must still close (and report) its later periods.
// The error is always nil; it is kept for the callers.
func Windows(d *abs.Deal) ([]abs.Period, error) {
	return d.Schedule(), nil
}

// Scenario builds the live run's collections through period upto: for each period already
// reported, the net it reported; for the others up to upto, the net of its window from the
// state; after upto's window, the deal's forecast. It returns the windows of periods 1..upto.
func Scenario(d *abs.Deal, s *State, upto int) (abs.Scenario, []Window, error) {
	periods, err := Windows(d)
	if err != nil {
		return abs.Scenario{}, nil, err
	}
	if upto < 1 || upto > len(periods) {
		return abs.Scenario{}, nil, reclaim.Errorf(reclaim.EINVALID, "period %d is not a payment date of the deal (1..%d)", upto, len(periods))
	}
	cur := d.Currency()
	flows := []abs.Flow{}
	var wins []Window
	var carried int64
	for k := 1; k <= upto; k++ {
		p := periods[k-1]
		w := s.Window(p.CollectionStart, p.CollectionEnd, carried)
		if k <= len(s.Reports) && s.Reports[k-1].Period == int64(k) {
			r := s.Reports[k-1]
			w.Gross, w.CostsApplied, w.CostsCarried, w.Net = int64(r.Collections), int64(r.CostsApplied), int64(r.CostsCarried), int64(r.Net)
		}
		carried = w.CostsCarried
		wins = append(wins, w)
		if w.Net > 0 {
			flows = append(flows, abs.Flow{Date: p.CollectionEnd, Amount: money.New(w.Net, cur)})
		}
	}
	end := periods[upto-1].CollectionEnd
	for _, f := range d.Forecast() {
		if f.Date.After(end) {
			flows = append(flows, f)
		}
	}
	return abs.Scenario{Collections: flows}, wins, nil
}

// Build runs the deal with actual cash to the period and the forecast after it, and writes the
// period's report.
func Build(in Input) (*Report, *abs.Result, error) {
	d, s, P := in.Deal, in.State, in.Period
	sc, wins, err := Scenario(d, s, P)
	if err != nil {
		return nil, nil, err
	}
	res, err := d.Run(sc)
	if err != nil {
		return nil, nil, err
	}
	if P > len(res.Periods) {
		return nil, nil, reclaim.Errorf(reclaim.EINVALID, "the deal ended at period %d, before period %d", len(res.Periods), P)
	}
	cur := d.Currency()
	amt := func(m int64) money.Amount { return money.New(m, cur) }
	per := res.Periods[P-1]
	w := wins[P-1]
	rep := &Report{Deal: d.Name(), Pool: s.Pool, DealHash: d.Hash(), Period: P, PaymentDate: per.Date, CollectionStart: per.CollectionStart,
		CollectionEnd: per.CollectionEnd, Status: per.Status, Currency: string(cur), Preview: in.Preview, Fees: per.Fees, Projection: res.Tranches}
	// Tranches and credit enhancement.
	var total int64
	for _, t := range per.Tranches {
		total += t.Closing.Minor()
	}
	var reserve int64
	doc := d.Document()
	reserves := map[string]bool{}
	for _, a := range doc.Accounts {
		if a.Kind == "reserve" {
			reserves[a.Name] = true
		}
	}
	for _, a := range per.Accounts {
		if reserves[a.Name] {
			reserve += a.Closing.Minor()
		}
	}
	for i, t := range per.Tranches {
		var junior int64
		for _, u := range per.Tranches[i+1:] {
			junior += u.Closing.Minor()
		}
		rep.Tranches = append(rep.Tranches, TrancheLine{Name: t.Name, Opening: t.Opening, Closing: t.Closing, Factor: fmt.Sprintf("%.6f", t.Factor),
			InterestDue: t.InterestDue, InterestPaid: t.InterestPaid, InterestShortfall: t.InterestShortfall, PrincipalPaid: t.PrincipalPaid,
			ResidualPaid: t.ResidualPaid, CreditEnhancement: pct(junior+reserve, total)})
	}
	// Pool cash.
	var removed int64
	for _, r := range s.Removals {
		if !r.Date.Before(w.Start) && !r.Date.After(w.End) {
			removed += r.Balance
		}
	}
	rep.PoolCash = PoolLine{OpeningClaim: amt(s.ClaimAt(w.Start.AddDays(-1))), ClosingClaim: amt(s.ClaimAt(w.End)), Gross: amt(w.Gross),
		Costs: amt(w.CostsApplied), CostsCarried: amt(w.CostsCarried), Net: amt(w.Net), Waivers: amt(w.Waivers), Removed: amt(removed),
		LoansBoarded: len(s.Members)}
	rep.ByChannel, rep.ByRegion, rep.ByDPD, rep.ByGrade = breakdowns(s, w, cur)
	// Recoveries against the forecast.
	rep.Recoveries = Recoveries{Period: per.Collections, PeriodForecast: per.Forecast, PeriodRatio: pct(per.Collections.Minor(), per.Forecast.Minor()),
		Cumulative: per.CumCollections, CumulativeFcst: per.CumForecast, CumulativeRatio: pct(per.CumCollections.Minor(), per.CumForecast.Minor())}
	var boarded int64
	for _, m := range s.Members {
		boarded += m.Claim
	}
	rep.Recoveries.RecoveryRateOfClaim = pct(per.CumCollections.Minor(), boarded)
	for _, p := range res.Periods[:P] {
		rep.History = append(rep.History, HistoryPoint{Period: p.Period, Date: p.Date, Collections: p.Collections, Forecast: p.Forecast,
			CumCollections: p.CumCollections, CumForecast: p.CumForecast})
	}
	// The distribution and the accounts' statements.
	for _, l := range res.Statement {
		if l.Period == P {
			// The memo as the deal.payment entry carries it (at most 200 characters), so that the
			// document and the log agree line for line.
			rep.Distribution = append(rep.Distribution, DistLine{From: l.From, To: l.To, Amount: l.Amount, Memo: truncate(l.Memo, 200)})
		}
	}
	for _, a := range per.Accounts {
		st := AccountStatement{Name: a.Name, Opening: a.Opening, Closing: a.Closing, Lines: []DistLine{}}
		for _, l := range rep.Distribution {
			if l.From == a.Name || l.To == a.Name {
				st.Lines = append(st.Lines, l)
			}
		}
		rep.Accounts = append(rep.Accounts, st)
	}
	for _, t := range res.Triggers {
		if t.Period == P {
			rep.Triggers = append(rep.Triggers, TriggerLine{Trigger: t.Trigger, When: t.When, Metric: t.Metric, Threshold: t.Threshold, Hit: t.Hit, InForce: t.InForce})
		}
	}
	if rep.Distribution == nil {
		rep.Distribution = []DistLine{}
	}
	if rep.Triggers == nil {
		rep.Triggers = []TriggerLine{}
	}
	rep.Ledger = LedgerRef{Origin: in.Origin, ReportEvent: ReportEventID(P), FromIndex: in.LedgerSize,
		ReportIndex: in.LedgerSize + int64(len(rep.Distribution)+len(rep.Triggers))}
	return rep, res, nil
}

// ReportEventID is the event id of period P's deal.report entry.
func ReportEventID(p int) string { return fmt.Sprintf("deal-report-%d", p) }

// Encode returns the report document: its JSON, the bytes whose SHA-256 is the report hash.
func (r *Report) Encode() ([]byte, error) { return json.Marshal(r) }

// Hash returns the lowercase hex SHA-256 of a report document.
func Hash(doc []byte) string {
	s := sha256.Sum256(doc)
	return hex.EncodeToString(s[:])
}

// Entries returns the ledger entries that checkpoint the report (doc is its encoding, eff the
// payment date): one deal.payment per distribution line, one deal.trigger per test, then the
// deal.report, all version 2, with event ids that are unique per period.
func (r *Report) Entries(doc []byte, w Window) ([]verify.Entry, error) {
	pay := r.PaymentDate.String()
	h := func(id string) verify.Header {
		return verify.Header{Pool: r.Pool, EventID: id, Effective: pay, V: verify.EntryVersion2}
	}
	var out []verify.Entry
	var dist int64
	for i, l := range r.Distribution {
		out = append(out, verify.DealPayment{Header: h(fmt.Sprintf("deal-pay-%d-%d", r.Period, i+1)), Period: int64(r.Period), PaymentDate: pay,
			From: l.From, To: l.To, Amount: verify.Amount(l.Amount.Minor()), Memo: truncate(l.Memo, 200)})
		dist += l.Amount.Minor()
	}
	for i, t := range r.Triggers {
		out = append(out, verify.DealTrigger{Header: h(fmt.Sprintf("deal-trg-%d-%d", r.Period, i+1)), Period: int64(r.Period), PaymentDate: pay,
			Trigger: t.Trigger, When: t.When, Metric: truncate(t.Metric, 200), Threshold: truncate(t.Threshold, 200),
			Hit: verify.YesNo(t.Hit), InForce: verify.YesNo(t.InForce)})
	}
	out = append(out, verify.DealReport{Header: h(ReportEventID(r.Period)), Period: int64(r.Period), PaymentDate: pay,
		CollectionStart: r.CollectionStart.String(), CollectionEnd: r.CollectionEnd.String(), DealHash: r.DealHash,
		Collections: verify.Amount(w.Gross), CostsApplied: verify.Amount(w.CostsApplied), CostsCarried: verify.Amount(w.CostsCarried),
		Net: verify.Amount(w.Net), Payments: int64(len(r.Distribution)), Triggers: int64(len(r.Triggers)), Distributed: verify.Amount(dist),
		ReportHash: Hash(doc)})
	for _, e := range out {
		if err := e.Validate(); err != nil {
			return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "report entry %s: %v", e.EntryHeader().EventID, err)
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// province maps a region code to its province's code ("440305" -> "440000").
func province(code string) string {
	if len(code) != 6 {
		return "unknown"
	}
	return code[:2] + "0000"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// breakdowns tabulates the window's gross collections and costs by channel, province, DPD bucket
// and grade.
func breakdowns(s *State, w Window, cur money.Currency) (ch, reg, dpd, gr []Bucket) {
	type acc struct {
		n            int
		gross, costs int64
	}
	tabs := [4]map[string]*acc{{}, {}, {}, {}}
	keys := func(channel, loan string) [4]string {
		m, ok := s.Members[loan]
		if !ok {
			return [4]string{orUnknown(channel), "unallocated", "unallocated", "unallocated"}
		}
		return [4]string{orUnknown(channel), province(m.Region), tape.DPDBucket(int(m.DPD)), orUnknown(m.Grade)}
	}
	add := func(k [4]string, gross, cost int64) {
		for i, key := range k {
			a := tabs[i][key]
			if a == nil {
				a = &acc{}
				tabs[i][key] = a
			}
			if gross > 0 {
				a.n++
			}
			a.gross += gross
			a.costs += cost
		}
	}
	in := func(d date.Date) bool { return !d.Before(w.Start) && !d.After(w.End) }
	for _, c := range s.Collections {
		if in(c.Date) {
			add(keys(c.Channel, c.Loan), c.Amount, 0)
		}
	}
	for _, c := range s.Costs {
		if in(c.Date) && c.Kind == verify.CostDisposal {
			k := keys(c.Channel, c.Loan)
			if c.Channel == "" {
				k[0] = "unallocated"
			}
			add(k, 0, c.Amount)
		}
	}
	out := [4][]Bucket{}
	for i, t := range tabs {
		out[i] = []Bucket{}
		for _, k := range sortedKeys(t) {
			a := t[k]
			out[i] = append(out[i], Bucket{Key: k, Count: a.n, Gross: money.New(a.gross, cur), Costs: money.New(a.costs, cur), Net: money.New(a.gross-a.costs, cur)})
		}
	}
	return out[0], out[1], out[2], out[3]
}

// dpdOrder sorts DPD bucket keys in tape's order (for the HTML).
func dpdOrder(b []Bucket) []Bucket {
	order := map[string]int{}
	for i, x := range tape.DPDBuckets {
		order[x.Key] = i
	}
	out := slices.Clone(b)
	slices.SortStableFunc(out, func(a, c Bucket) int {
		ia, oka := order[a.Key]
		ic, okc := order[c.Key]
		if !oka {
			ia = 99
		}
		if !okc {
			ic = 99
		}
		if ia != ic {
			return ia - ic
		}
		return strings.Compare(a.Key, c.Key)
	})
	return out
}
