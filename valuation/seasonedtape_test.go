package valuation

import (
	"slices"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/synth"
)

// TestPortfolioExampleMatchesSeasoned: a seasoned synthetic loan whose collections after the
// cut-off are appended to its history (what an imported seasoned tape holds) gives the same
// example as SeasonedExample; ObservedMonths finds the months; bad horizons are refused.
func TestPortfolioExampleMatchesSeasoned(t *testing.T) {
	const months = 9
	s, err := synth.NewSeasoned(synth.Config{Seed: 3, Loans: 400, PortfolioRef: "S3", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}, months)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []Input
	var want, got Example
	paid := 0
	for it, ok := s.Next(); ok; it, ok = s.Next() {
		SeasonedExample(&it, &want)
		hist := slices.Concat(it.History, it.Outcome.Payments)
		loan := it.Loan
		in := Input{Loan: &loan, History: hist, HistoryStart: it.HistoryStart}
		inputs = append(inputs, in)
		if !PortfolioExample(in, months, &got) {
			t.Fatalf("loan %s refused", loan.LoanID)
		}
		if got.Exposure != want.Exposure || got.Recovered != want.Recovered || !slices.Equal(got.Monthly, want.Monthly) || got.Input.AsOf != loan.CutOffDate {
			t.Fatalf("loan %s: got exposure %v recovered %v monthly %v, want %v %v %v", loan.LoanID, got.Exposure, got.Recovered, got.Monthly, want.Exposure, want.Recovered, want.Monthly)
		}
		if want.Recovered > 0 {
			paid++
		}
	}
	if paid == 0 {
		t.Fatal("no loan paid: the comparison proved nothing")
	}
	if n := ObservedMonths(inputs); n != months {
		t.Errorf("ObservedMonths = %d, want %d", n, months)
	}
	if n := ObservedMonths([]Input{{Loan: &reclaim.Loan{CutOffDate: date.Of(2024, 6, 30)}}}); n != 0 {
		t.Errorf("ObservedMonths without history = %d", n)
	}
	for _, h := range []int{0, -1, MaxHorizonMonths + 1} {
		if PortfolioExample(inputs[0], h, &got) {
			t.Errorf("horizon %d accepted", h)
		}
	}
	if PortfolioExample(Input{Loan: &reclaim.Loan{}}, months, &got) {
		t.Error("a loan without a claim accepted")
	}
}
