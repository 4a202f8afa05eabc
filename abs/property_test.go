package abs

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/money"
)

func yuan(t *rapid.T, label string, lo, hi int64) string {
	return money.New(rapid.Int64Range(lo*100, hi*100).Draw(t, label), "CNY").String()
}

// genDoc draws a random but valid deal: one to three tranches, a reserve with a fixed or
// cover-multiple target, fees of every basis, an event of default and a curable performance
// trigger, pre- and post-default waterfalls with random modes and conditional blocks.
func genDoc(t *rapid.T) *Document {
	nt := rapid.IntRange(1, 3).Draw(t, "tranches")
	freq := rapid.SampledFrom([]string{"monthly", "quarterly", "semiannual"}).Draw(t, "freq")
	first := date.Of(2024, 3, 31).AddDays(rapid.IntRange(0, 60).Draw(t, "firstDays"))
	periods := rapid.IntRange(1, 24).Draw(t, "periods")
	step := map[string]int{"monthly": 1, "quarterly": 3, "semiannual": 6}[freq]
	legal := first.AddMonths(step * (periods - 1))
	doc := &Document{Name: "prop", Currency: "CNY",
		Dates: Dates{Cutoff: "2024-01-31", Closing: "2024-02-29", FirstPayment: first.String(), Frequency: freq, LegalMaturity: legal.String(),
			CollectionLagDays: rapid.IntRange(0, 20).Draw(t, "lag")},
		Pool: Pool{Claim: "1000000000.00"},
	}
	nf := rapid.IntRange(1, 40).Draw(t, "flows")
	d := date.Of(2024, 2, 1)
	for i := range nf {
		d = d.AddDays(rapid.IntRange(1, 60).Draw(t, fmt.Sprintf("gap%d", i)))
		doc.Pool.Forecast = append(doc.Pool.Forecast, FlowSpec{Date: d.String(), Amount: yuan(t, fmt.Sprintf("flow%d", i), 0, 5_000_000)})
	}
	res := Account{Name: "reserve", Kind: "reserve", Initial: yuan(t, "reserveInit", 0, 1_000_000)}
	names := []string{}
	for i := range nt {
		n := fmt.Sprintf("T%d", i)
		names = append(names, n)
		doc.Tranches = append(doc.Tranches, Tranche{Name: n, Balance: yuan(t, "bal"+n, 1, 20_000_000),
			Coupon:   fmt.Sprintf("%d.%02d%%", rapid.IntRange(0, 9).Draw(t, "cpn"+n), rapid.IntRange(0, 99).Draw(t, "cpnf"+n)),
			DayCount: rapid.SampledFrom(dayCounts).Draw(t, "dc"+n), IssuePrice: rapid.SampledFrom([]string{"100", "98.5", "110"}).Draw(t, "px"+n), Retained: "5%"})
	}
	if rapid.Bool().Draw(t, "fixedTarget") {
		res.Target = &ReserveTarget{Fixed: yuan(t, "target", 0, 2_000_000)}
	} else {
		res.Target = &ReserveTarget{Multiple: rapid.SampledFrom([]string{"0", "1", "1.5", "2"}).Draw(t, "mult"), Tranches: names[:1], Fees: []string{"trustee"}}
	}
	doc.Accounts = []Account{{Name: "collection", Kind: "collection"}, res}
	doc.Fees = []Fee{
		{Name: "taxes", Basis: "collections", Rate: rapid.SampledFrom([]string{"0", "0.3%", "1%"}).Draw(t, "tax")},
		{Name: "trustee", Basis: "annual", Amount: yuan(t, "trustee", 0, 500_000), DayCount: "ACT/360"},
		{Name: "agent", Basis: "fixed", Amount: yuan(t, "agent", 0, 50_000)},
		{Name: "servicer", Basis: "collections", Rate: "3%", Deferred: rapid.SampledFrom([]string{"0", "40%", "100%"}).Draw(t, "deferred")},
		{Name: "incentive", Basis: "residual"},
	}
	doc.Triggers = []Trigger{
		{Name: "eod", Kind: "interest_shortfall", Tranche: "T0", Status: "post_default"},
		{Name: "maturity", Kind: "principal_at_maturity", Tranche: "T0", Status: "post_default"},
		{Name: "perf", Kind: "cumulative_recovery", Threshold: "90%", Curable: true},
		{Name: "low_reserve", Kind: "reserve_below", Account: "reserve", Threshold: "50%", Curable: true},
		{Name: "either", Kind: "any", Of: []string{"perf", "low_reserve"}, Curable: true},
	}
	mode := func(label string, pass bool) string {
		ms := []string{"sequential", "pro_rata"}
		if pass {
			ms = append(ms, "pass_through")
		}
		return rapid.SampledFrom(ms).Draw(t, label)
	}
	limit := ""
	if rapid.Bool().Draw(t, "limited") {
		limit = yuan(t, "limit", 0, 3_000_000)
	}
	split := []Share{{Fee: "incentive", Pct: "20%"}, {Tranche: names[nt-1], Pct: "80%"}}
	doc.Waterfalls = map[string][]Step{
		"normal": {
			{Action: "pay_fee", Fees: []string{"taxes", "trustee", "agent"}, Mode: mode("m1", false), From: []string{"collection", "reserve"}},
			{Action: "if", If: &Cond{Trigger: "either"}, Then: []Step{{Action: "defer_fee", Fees: []string{"servicer"}}}},
			{Action: "pay_fee", Fees: []string{"servicer"}},
			{Action: "pay_interest", Tranches: names, Mode: mode("m2", false), From: []string{"collection", "reserve"}},
			{Action: "top_up_reserve", Account: "reserve"},
			{Action: "release_reserve", Account: "reserve"},
			{Action: "run_trigger", Trigger: "low_reserve"},
			{Action: "pay_principal", Tranches: names, Mode: mode("m3", true), Limit: limit},
			{Action: "if", If: &Cond{PaidOff: names[0]}, Then: []Step{{Action: "pay_deferred_fee", Fees: []string{"servicer"}}},
				Else: []Step{{Action: "transfer", From: []string{"collection"}, To: "reserve", Limit: "1000.00"}}},
			{Action: "split_residual", Shares: split},
		},
		"post_default": {
			{Action: "pay_fee", Fees: []string{"taxes", "trustee", "agent", "servicer"}, Mode: mode("m4", false), From: []string{"collection", "reserve"}},
			{Action: "pay_interest", Tranches: names[:1], From: []string{"collection", "reserve"}},
			{Action: "pay_principal", Tranches: names[:1], From: []string{"collection", "reserve"}},
			{Action: "pay_interest", Tranches: names},
			{Action: "pay_principal", Tranches: names},
			{Action: "pay_deferred_fee", Fees: []string{"servicer"}},
			{Action: "split_residual", Shares: split},
		},
	}
	if rapid.Bool().Draw(t, "call") {
		doc.CleanUpCall = &CleanUpCall{Threshold: "10%", Exercise: rapid.Bool().Draw(t, "exercise")}
	}
	return doc
}

// TestPropInvariants runs random deals under random collections and scenarios: the run never
// fails (it checks cash in = cash out + balances, no negative balance and the seniority of
// sequential steps on every date), principal paid never exceeds a tranche's balance, the
// statement adds up to the result, and every status change has a reason.
func TestPropInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := genDoc(t)
		d, err := Compile(doc, Options{})
		if err != nil {
			t.Fatalf("generated deal invalid: %v", err)
		}
		s := Scenario{Delay: rapid.IntRange(0, 3).Draw(t, "delay")}
		s.Haircut = money.MustRate(int64(rapid.IntRange(0, 100).Draw(t, "haircut")), 100)
		if rapid.Bool().Draw(t, "stretch") {
			s.Stretch = money.MustRate(int64(rapid.IntRange(5, 30).Draw(t, "stretchTenths")), 10)
		}
		if rapid.Bool().Draw(t, "actual") {
			dd := date.Of(2024, 2, 1)
			s.Collections = []Flow{}
			for i := range rapid.IntRange(0, 30).Draw(t, "actuals") {
				dd = dd.AddDays(rapid.IntRange(1, 45).Draw(t, fmt.Sprintf("agap%d", i)))
				s.Collections = append(s.Collections, Flow{Date: dd, Amount: money.New(rapid.Int64Range(0, 400_000_000).Draw(t, fmt.Sprintf("a%d", i)), "CNY")})
			}
		}
		r, err := d.Run(s)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		var in, out, held int64
		for _, l := range r.Statement {
			if l.Amount.Sign() <= 0 {
				t.Fatalf("statement line not positive: %+v", l)
			}
			fromOutside := l.From == "pool" || l.From == "issuance" || l.From == "originator"
			toAccount := d.accountIndex(l.To) >= 0
			switch {
			case fromOutside:
				in += l.Amount.Minor()
			case !toAccount:
				out += l.Amount.Minor()
			}
		}
		for _, a := range r.Accounts {
			held += a.Closing.Minor()
		}
		if in != r.CashIn.Minor() || out != r.CashOut.Minor() || in != out+held {
			t.Fatalf("statement in %d out %d held %d; result in %s out %s", in, out, held, r.CashIn, r.CashOut)
		}
		for i, tr := range r.Tranches {
			if tr.PrincipalPaid.Cmp(tr.Issued) > 0 || tr.PrincipalPaid.Minor()+tr.Outstanding.Minor() != tr.Issued.Minor() {
				t.Fatalf("tranche %d: %+v", i, tr)
			}
		}
		for _, sc := range r.StatusChanges {
			if strings.TrimSpace(sc.Reason) == "" {
				t.Fatalf("status change without a reason: %+v", sc)
			}
		}
		if len(r.Periods) == 0 || len(r.Periods) > len(d.pay) {
			t.Fatalf("%d periods of %d", len(r.Periods), len(d.pay))
		}
	})
}
