package abs

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"reclaim/date"
	"reclaim/money"
)

// Result is the full record of a run.
type Result struct {
	Deal          string          `json:"deal"`
	Hash          string          `json:"hash"`
	Currency      money.Currency  `json:"currency"`
	Scenario      string          `json:"scenario"`
	FinalStatus   string          `json:"final_status"`
	CashIn        money.Amount    `json:"cash_in"`
	CashOut       money.Amount    `json:"cash_out"`
	Periods       []Period        `json:"periods"`
	Tranches      []TrancheResult `json:"tranches"`
	Accounts      []AccountPeriod `json:"accounts"`
	StatusChanges []StatusChange  `json:"status_changes"`
	Triggers      []TriggerTest   `json:"triggers"`
	Statement     []Line          `json:"statement"`
}

// Period is one payment date: the cash collected, the status it was distributed under, and per
// tranche, fee and account what happened.
type Period struct {
	Period          int             `json:"period"`
	Date            date.Date       `json:"date"`
	CollectionStart date.Date       `json:"collection_start"`
	CollectionEnd   date.Date       `json:"collection_end"`
	Status          string          `json:"status"`
	Collections     money.Amount    `json:"collections"`
	Forecast        money.Amount    `json:"forecast"`
	CumCollections  money.Amount    `json:"cumulative_collections"`
	CumForecast     money.Amount    `json:"cumulative_forecast"`
	CallProceeds    money.Amount    `json:"call_proceeds,omitzero"`
	Tranches        []TranchePeriod `json:"tranches"`
	Fees            []FeePeriod     `json:"fees"`
	Accounts        []AccountPeriod `json:"accounts"`
}

// TranchePeriod is a tranche on one payment date. InterestDue includes arrears; the shortfall is
// carried to the next date.
type TranchePeriod struct {
	Name              string       `json:"name"`
	Opening           money.Amount `json:"opening_balance"`
	InterestDue       money.Amount `json:"interest_due"`
	InterestPaid      money.Amount `json:"interest_paid"`
	InterestShortfall money.Amount `json:"interest_shortfall"`
	PrincipalPaid     money.Amount `json:"principal_paid"`
	ResidualPaid      money.Amount `json:"residual_paid"`
	Closing           money.Amount `json:"closing_balance"`
	Factor            float64      `json:"factor"`
}

// FeePeriod is a fee on one payment date: accrued this period, paid (current and arrears), paid
// from the deferred balance, still unpaid (carried as arrears) and the deferred balance.
type FeePeriod struct {
	Name         string       `json:"name"`
	Accrued      money.Amount `json:"accrued"`
	Paid         money.Amount `json:"paid"`
	DeferredPaid money.Amount `json:"deferred_paid"`
	Unpaid       money.Amount `json:"unpaid"`
	Deferred     money.Amount `json:"deferred_balance"`
}

// AccountPeriod is an account's balance before and after a payment date.
type AccountPeriod struct {
	Name    string       `json:"name"`
	Opening money.Amount `json:"opening"`
	Closing money.Amount `json:"closing"`
}

// TrancheResult is a tranche over the whole run. Loss is the principal not repaid; IRR is the
// annual XIRR of buying the tranche at its issue price on the pricing date and receiving its
// interest, principal and residual (nil when the flows have no yield); WAL is in ACT/365 years from
// the pricing date.
type TrancheResult struct {
	Name           string       `json:"name"`
	Issued         money.Amount `json:"issued"`
	IssuePrice     string       `json:"issue_price"`
	Retained       string       `json:"retained"`
	InterestPaid   money.Amount `json:"interest_paid"`
	PrincipalPaid  money.Amount `json:"principal_paid"`
	ResidualPaid   money.Amount `json:"residual_paid"`
	Outstanding    money.Amount `json:"outstanding"`
	InterestUnpaid money.Amount `json:"interest_unpaid"`
	Loss           money.Amount `json:"loss"`
	LossRate       float64      `json:"loss_rate"`
	WAL            float64      `json:"wal"`
	IRR            *float64     `json:"irr"`
	// Duration and ModifiedDuration are the Macaulay and modified durations of the tranche's
	// received flows at its IRR, from the pricing date (zero when there is no IRR).
	Duration         float64    `json:"duration"`
	ModifiedDuration float64    `json:"modified_duration"`
	Repaid           *date.Date `json:"repaid,omitempty"`
}

func (res *Result) finish(d *Deal, r *runner) {
	res.FinalStatus = d.statuses[r.status]
	res.CashIn, res.CashOut = r.amt(r.in), r.amt(r.out)
	for a, ac := range d.accounts {
		res.Accounts = append(res.Accounts, AccountPeriod{Name: ac.name, Opening: r.amt(ac.initial), Closing: r.amt(r.bal[a])})
	}
	for t := range d.tranches {
		res.Tranches = append(res.Tranches, r.trancheResult(t))
	}
}

// trancheResult summarises tranche t from the runner's per-period cash.
func (r *runner) trancheResult(t int) TrancheResult {
	d := r.d
	tr := d.tranches[t]
	tres := TrancheResult{Name: tr.name, Issued: r.amt(tr.balance), IssuePrice: ratePer100(tr.price), Retained: tr.retained.Percent(2),
		Outstanding: r.amt(r.tBal[t]), InterestUnpaid: r.amt(r.tDue[t]), Loss: r.amt(r.tBal[t])}
	var ip, pp, rp int64
	for k := range r.periods {
		ip += r.tInt[t][k]
		pp += r.tPrin[t][k]
		rp += r.tRes[t][k]
		if r.tPrin[t][k] > 0 && pp == tr.balance {
			dt := d.pay[k]
			tres.Repaid = &dt
		}
	}
	tres.InterestPaid, tres.PrincipalPaid, tres.ResidualPaid = r.amt(ip), r.amt(pp), r.amt(rp)
	tres.LossRate = float64(r.tBal[t]) / float64(tr.balance)
	tres.WAL, tres.IRR = r.analytics(t)
	if tres.IRR != nil && *tres.IRR > -1 {
		var flows []CashFlow
		unit := 1 / float64(pow10(d.cur.Digits()))
		for k := range r.periods {
			if c := r.tInt[t][k] + r.tPrin[t][k] + r.tRes[t][k]; c > 0 {
				flows = append(flows, CashFlow{Date: d.pay[k], Amount: float64(c) * unit})
			}
		}
		tres.Duration, tres.ModifiedDuration = Duration(d.pricing, flows, *tres.IRR)
	}
	return tres
}

// analytics returns tranche t's WAL and IRR at its issue price.
func (r *runner) analytics(t int) (float64, *float64) {
	d := r.d
	tr := d.tranches[t]
	unit := 1 / float64(pow10(d.cur.Digits()))
	var num, den float64
	flows := make([]CashFlow, 0, r.periods+1)
	flows = append(flows, CashFlow{Date: d.pricing, Amount: -float64(tr.balance) * unit * tr.price.Float()})
	received := false
	for k := range r.periods {
		p := float64(r.tPrin[t][k]) * unit
		num += p * years(d.pricing, d.pay[k])
		den += p
		if c := r.tInt[t][k] + r.tPrin[t][k] + r.tRes[t][k]; c > 0 {
			flows = append(flows, CashFlow{Date: d.pay[k], Amount: float64(c) * unit})
			received = true
		}
	}
	var wal float64
	if den > 0 {
		wal = num / den
	}
	if !received {
		irr := -1.0
		return wal, &irr
	}
	irr, err := XIRR(flows)
	if err != nil {
		return wal, nil
	}
	return wal, &irr
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// ratePer100 writes a price held per 1 of face as a price per 100 ("110").
func ratePer100(r money.Rate) string {
	p, _ := r.Mul(money.MustRate(100, 1))
	return strings.TrimSuffix(strings.TrimRight(p.Rat().FloatString(4), "0"), ".")
}

// WriteTable writes the run as readable tables: the tranches' summary, then per payment date the
// collections, the status and each tranche, fee and account, then the status changes and the
// triggers that were hit. Golden tests hold this text.
func (res *Result) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Deal %s (%s), scenario: %s, final status: %s\n", res.Deal, res.Currency, res.Scenario, res.FinalStatus)
	fmt.Fprintf(&b, "Deal hash %s\nCash in %s = cash out %s + closing balances", res.Hash, res.CashIn, res.CashOut)
	for _, a := range res.Accounts {
		fmt.Fprintf(&b, " (%s %s)", a.Name, a.Closing)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tranche\tissued\tprice\tinterest\tprincipal\tresidual\toutstanding\tloss\tWAL\tIRR\tduration\trepaid\t")
	for _, t := range res.Tranches {
		irr := "n/a"
		if t.IRR != nil {
			irr = fmt.Sprintf("%.4f%%", *t.IRR*100)
		}
		repaid := "-"
		if t.Repaid != nil {
			repaid = t.Repaid.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f%%\t%.4f\t%s\t%.4f\t%s\t\n", t.Name, t.Issued, t.IssuePrice, t.InterestPaid, t.PrincipalPaid,
			t.ResidualPaid, t.Outstanding, t.LossRate*100, t.WAL, irr, t.Duration, repaid)
	}
	tw.Flush()
	b.WriteString("\nPeriods\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "#\tdate\tstatus\tcollections\tforecast"
	if len(res.Periods) > 0 {
		for _, t := range res.Periods[0].Tranches {
			head += "\t" + t.Name + " int due\t" + t.Name + " int paid\t" + t.Name + " prin\t" + t.Name + " resid\t" + t.Name + " bal"
		}
		for _, f := range res.Periods[0].Fees {
			head += "\t" + f.Name + " paid\t" + f.Name + " unpaid\t" + f.Name + " deferred"
		}
		for _, a := range res.Periods[0].Accounts {
			head += "\t" + a.Name
		}
	}
	fmt.Fprintln(tw, head+"\t")
	for _, p := range res.Periods {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s", p.Period, p.Date, p.Status, p.Collections.String(), p.Forecast.String())
		for _, t := range p.Tranches {
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s\t%s", t.InterestDue, t.InterestPaid, t.PrincipalPaid, t.ResidualPaid, t.Closing)
		}
		for _, f := range p.Fees {
			fmt.Fprintf(tw, "\t%s\t%s\t%s", money.New(f.Paid.Minor()+f.DeferredPaid.Minor(), f.Paid.Currency()), f.Unpaid, f.Deferred)
		}
		for _, a := range p.Accounts {
			fmt.Fprintf(tw, "\t%s", a.Closing)
		}
		fmt.Fprintln(tw, "\t")
	}
	tw.Flush()
	if len(res.StatusChanges) > 0 {
		b.WriteString("\nStatus changes\n")
		for _, s := range res.StatusChanges {
			fmt.Fprintf(&b, "  period %d %s: %s -> %s: %s\n", s.Period, s.Date, s.From, s.To, s.Reason)
		}
	}
	hits := false
	for _, t := range res.Triggers {
		if t.Hit {
			if !hits {
				b.WriteString("\nTriggers hit\n")
				hits = true
			}
			fmt.Fprintf(&b, "  period %d %s %s (%s): %s, threshold %s\n", t.Period, t.Date, t.Trigger, t.When, t.Metric, t.Threshold)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
