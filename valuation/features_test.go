package valuation

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/synth"
	"reclaim/tape"
	"reclaim/valuation/gbdt"
)

// handLoan is a complete canonical loan: cut-off 2025-06-30, default 2023-01-15, last payment
// 2024-03-10, not sued.
func handLoan() reclaim.Loan {
	return reclaim.Loan{
		PortfolioRef: "P1", CutOffDate: date.Of(2025, 6, 30), LoanID: "L1", BorrowerID: "B1",
		ProductType: reclaim.ConsumerLoan, OriginationDate: date.Of(2021, 3, 5),
		OriginalAmount: money.Yuan(50000), Currency: money.CNY,
		PrincipalOutstanding: money.Yuan(20000), InterestOutstanding: money.Yuan(3000), FeesOutstanding: money.Yuan(1000),
		TotalClaim:  money.Yuan(24000),
		DefaultDate: date.Of(2023, 1, 15), DaysPastDue: 897, FiveCategory: reclaim.Loss,
		SecurityType: reclaim.Unsecured, LastPaymentDate: date.Of(2024, 3, 10), LastPaymentAmount: money.Yuan(500),
		LegalStatus: reclaim.NotSued, BirthDate: date.Of(1985, 7, 1), BirthYear: 1985, Age: 39, RegionCode: "320505",
		PhoneAvailable: true, LastContactDate: date.Of(2025, 5, 2), ForbearanceCount: 0, AgencyPlacements: 2,
	}
}

func value(t *testing.T, fs *FeatureSet, r Row, name string) float64 {
	t.Helper()
	i := fs.Index(name)
	if i < 0 {
		t.Fatalf("no feature %q", name)
	}
	return r.Values[i]
}

func TestCNAsOfArithmetic(t *testing.T) {
	fs := CN()
	pay := func(y int, m time.Month, yuan int64) reclaim.Repayment {
		return reclaim.Repayment{LoanID: "L1", Month: date.Of(y, m, 1), Amount: money.Yuan(yuan)}
	}
	tests := []struct {
		name  string
		edit  func(l *reclaim.Loan, in *Input)
		wants map[string]float64 // NaN means NaN
	}{
		{"tape only", nil, map[string]float64{
			"dpd": 897, "months_since_default": 29, "loan_age_months": 51, "borrower_age": 40, // 2025 - 1985
			// Expiry 2027-03-10: 2025-06-30 + 20 months = 2027-02-28 <= it < 2027-03-30.
			"limitation_headroom_months": 20,
			"months_since_last_payment":  15, // 2024-03-10 + 15 months = 2025-06-10
			"never_paid":                 0, "last_payment_share": 500.0 / 24000,
			"months_since_contact": 1, "months_since_legal_start": math.NaN(), "months_since_write_off": math.NaN(),
			"paid_to_date_share": 0.6, "interest_fee_share": 4000.0 / 24000, "log_claim": math.Log1p(24000),
			"five_category_rank": 2, "agency_placements": 2, "phone_available": 1, "forbearance_count": 0,
			"pay_months_6m": math.NaN(), // no history supplied: missing
		}},
		{"history after the tape's last payment", func(l *reclaim.Loan, in *Input) {
			in.HistoryStart = date.Of(2024, 7, 1) // 12 months up to June 2025
			in.History = []reclaim.Repayment{pay(2024, 8, 300), pay(2025, 2, 200), pay(2025, 2, 100), pay(2025, 6, 0), pay(2025, 7, 999)}
		}, map[string]float64{
			"months_since_last_payment": 4, // 2025-02-01 to 2025-06-30
			// Expiry 2028-02-01: 2025-06-30 + 31 months = 2028-01-30; + 32 = 2028-02-29.
			"limitation_headroom_months": 31,
			"last_payment_share":         300.0 / 24000, // the month's total
			"pay_months_6m":              1, "pay_share_6m": 300.0 / 24000,
			"pay_months_12m": 2, "pay_share_12m": 600.0 / 24000,
			"pay_months_36m":          math.NaN(), // the history covers only 12 months
			"post_default_pay_months": 2,
		}},
		{"expired", func(l *reclaim.Loan, in *Input) {
			l.DefaultDate, l.LastPaymentDate = date.Of(2020, 1, 1), date.Of(2021, 5, 20)
		}, map[string]float64{
			// Expiry 2024-05-20; 2025-06-30 - 14 months = 2024-04-30 <= it < 2024-05-30.
			"limitation_headroom_months": -14,
			"months_since_last_payment":  49,
		}},
		{"expired within the month", func(l *reclaim.Loan, in *Input) {
			l.LastPaymentDate = date.Of(2022, 6, 29)
			l.DefaultDate = date.Of(2022, 1, 1)
		}, map[string]float64{"limitation_headroom_months": -1}},
		{"expires within the month", func(l *reclaim.Loan, in *Input) {
			l.DefaultDate = date.Of(2022, 1, 1)
			l.LastPaymentDate = date.Of(2022, 7, 15)
		}, map[string]float64{"limitation_headroom_months": 0}},
		{"a suit interrupts", func(l *reclaim.Loan, in *Input) {
			l.LegalStatus, l.LegalStartDate = reclaim.Judgment, date.Of(2024, 9, 1)
		}, map[string]float64{
			"limitation_headroom_months": 26, // 2027-09-01
			"months_since_legal_start":   9,
		}},
		{"the tape's later expiry wins", func(l *reclaim.Loan, in *Input) {
			l.LimitationExpiryDate = date.Of(2029, 1, 1)
		}, map[string]float64{"limitation_headroom_months": 42}},
		{"as-of after the cut-off", func(l *reclaim.Loan, in *Input) {
			in.AsOf = date.Of(2026, 6, 30)
		}, map[string]float64{
			"dpd": 897 + 365, "months_since_default": 41, "borrower_age": 41,
			"limitation_headroom_months": 8, "months_since_last_payment": 27,
		}},
		{"end-of-month clipping", func(l *reclaim.Loan, in *Input) {
			in.AsOf = date.Of(2025, 2, 28)
			l.LastPaymentDate = date.Of(2024, 11, 30)
		}, map[string]float64{"months_since_last_payment": 3}},
		{"a last payment after the as-of date is not known yet", func(l *reclaim.Loan, in *Input) {
			in.AsOf = date.Of(2024, 1, 31)
		}, map[string]float64{"never_paid": 1, "months_since_last_payment": math.NaN(),
			// Expiry 2026-01-15 (the default): 2024-01-31 + 23 months = 2025-12-31.
			"limitation_headroom_months": 23}},
		{"age from the tape's age when no birth date", func(l *reclaim.Loan, in *Input) {
			l.BirthDate, l.BirthYear = date.Date{}, 0
			l.Age = 44
			in.AsOf = date.Of(2027, 7, 1)
		}, map[string]float64{"borrower_age": 46}},
		{"default date from the DPD", func(l *reclaim.Loan, in *Input) {
			l.DefaultDate = date.Date{}
		}, map[string]float64{"dpd": 897, "months_since_default": 29}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := handLoan()
			in := Input{Loan: &l}
			if tc.edit != nil {
				tc.edit(&l, &in)
			}
			r := fs.Compute(in)
			for name, want := range tc.wants {
				got := value(t, fs, r, name)
				if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(got-want) > 1e-12) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestCNProvinceAndCategories(t *testing.T) {
	fs := CN()
	l := handLoan()
	r := fs.Compute(Input{Loan: &l})
	if len(r.Missing) != len(paymentWindows)*2+1 { // history windows and post-default payments
		t.Errorf("missing %v", r.Missing)
	}
	specs := fs.Specs()
	lv := func(name string) string {
		i := fs.Index(name)
		return specs[i].Levels[int(r.Values[i])]
	}
	if lv("province") != "320000" || lv("macro_region") != "East China" || lv("product") != "consumer_loan" ||
		lv("security") != "unsecured" || lv("legal_status") != "not_sued" {
		t.Errorf("categories: %s %s %s %s %s", lv("province"), lv("macro_region"), lv("product"), lv("security"), lv("legal_status"))
	}
}

// A loan missing optional fields gets NaN for them and names them in Missing; values that merely
// do not apply are NaN without being flagged.
func TestCNMissing(t *testing.T) {
	fs := CN()
	l := handLoan()
	l.BirthDate, l.BirthYear, l.Age = date.Date{}, 0, -1
	l.RegionCode = ""
	l.OriginationDate = date.Date{}
	l.OriginalAmount = money.Amount{}
	l.ProductType = ""
	l.SecurityType = "pawn"
	l.LastContactDate = date.Date{}
	l.ForbearanceCount = -1
	l.LastPaymentDate, l.LastPaymentAmount = date.Date{}, money.Amount{}
	r := fs.Compute(Input{Loan: &l, History: nil, HistoryStart: date.Of(2020, 1, 1)})
	want := []string{"log_original_amount", "paid_to_date_share", "loan_age_months", "borrower_age", "province", "macro_region",
		"product", "security", "months_since_contact", "forbearance_count"}
	if !slices.Equal(r.Missing, want) {
		t.Errorf("Missing = %v\nwant      %v", r.Missing, want)
	}
	for i, s := range fs.Specs() {
		flagged := slices.Contains(r.Missing, s.Name)
		if flagged && !math.IsNaN(r.Values[i]) {
			t.Errorf("%s flagged but %v", s.Name, r.Values[i])
		}
	}
	for _, name := range []string{"months_since_last_payment", "last_payment_share"} {
		if v := value(t, fs, r, name); !math.IsNaN(v) {
			t.Errorf("%s = %v for a loan that never paid", name, v)
		}
	}
	if v := value(t, fs, r, "never_paid"); v != 1 {
		t.Errorf("never_paid = %v", v)
	}
	// With a history but no payments at all the windows are zero, not missing.
	if v := value(t, fs, r, "pay_months_36m"); v != 0 {
		t.Errorf("pay_months_36m = %v", v)
	}
	// An empty loan: everything that needs a field is missing, nothing panics.
	empty := reclaim.Loan{Age: -1, ForbearanceCount: -1}
	r = fs.Compute(Input{Loan: &empty})
	for i, s := range fs.Specs() {
		if math.IsNaN(r.Values[i]) != (slices.Contains(r.Missing, s.Name) || s.Name == "months_since_last_payment" || s.Name == "last_payment_share" || s.Name == "months_since_legal_start" || s.Name == "months_since_write_off") {
			t.Errorf("empty loan: %s = %v, missing %v", s.Name, r.Values[i], slices.Contains(r.Missing, s.Name))
		}
	}
}

func TestFeatureSetMetadata(t *testing.T) {
	for _, fs := range []*FeatureSet{CN(), LendingClub()} {
		seen := map[string]bool{}
		for _, s := range fs.Specs() {
			if seen[s.Name] || s.Name == "" || s.Name == MonthsOnBook {
				t.Errorf("%s: feature name %q repeated or reserved", fs.Name(), s.Name)
			}
			seen[s.Name] = true
			if len(s.Sources) == 0 || s.Definition == "" || s.Unit == "" {
				t.Errorf("%s: %s lacks sources, definition or unit", fs.Name(), s.Name)
			}
			if (s.Kind == gbdt.Categorical) != (len(s.Levels) > 0) {
				t.Errorf("%s: %s: kind %d with %d levels", fs.Name(), s.Name, s.Kind, len(s.Levels))
			}
			if s.Monotone != 0 {
				t.Errorf("%s: %s is constrained; constraints are the lead's call", fs.Name(), s.Name)
			}
		}
		got, ok := FeatureSetByName(fs.Name())
		if !ok || got != fs {
			t.Errorf("FeatureSetByName(%q)", fs.Name())
		}
		if len(fs.Fingerprint()) != 64 || fs.Fingerprint() != got.Fingerprint() {
			t.Errorf("fingerprint %q", fs.Fingerprint())
		}
	}
	if CN().Fingerprint() == LendingClub().Fingerprint() {
		t.Error("two sets share a fingerprint")
	}
	m, err := CN().WithMonotone(map[string]int8{"dpd": -1, "phone_available": 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.Features()[m.Index("dpd")].Monotone != -1 || CN().Features()[0].Monotone != 0 || m.Fingerprint() == CN().Fingerprint() {
		t.Error("WithMonotone")
	}
	for _, bad := range []map[string]int8{{"nope": 1}, {"dpd": 2}, {"product": 1}} {
		if _, err := CN().WithMonotone(bad); err == nil {
			t.Errorf("WithMonotone(%v) accepted", bad)
		}
	}
}

// The training path (a seasoned portfolio streamed into a Table) and the scoring path (the same
// loan written to a tape, read back through package tape, and scored with its history) give the
// same row, bit for bit.
func TestTrainingAndScoringAgree(t *testing.T) {
	cfg := synth.Config{Seed: 3, Loans: 300, PortfolioRef: "SEASON-1", CutOff: date.Of(2024, 12, 31), Profile: synth.BankMixed}
	s, err := synth.NewSeasoned(cfg, 12)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := BuildSeasoned(s, CN(), TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ = synth.NewSeasoned(cfg, 12)
	cols := tape.AllColumns(false)
	header := tape.HeaderRow(cols, tape.EncodeOptions{Chinese: true})
	layout, err := tape.NewLayout(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	conv := tape.NewConverter(layout, tape.SourceInfo{Format: "csv"})
	var res tape.Result
	fs := CN()
	for i := 0; ; i++ {
		it, ok := s.Next()
		if !ok {
			break
		}
		cells := tape.EncodeLoan(&it.Loan, nil, cols, tape.EncodeOptions{Chinese: true})
		conv.Convert(tape.Row{Line: i + 2, Cells: cells}, &res)
		if !res.OK() {
			t.Fatalf("loan %d: %v", i, res.Errors)
		}
		r := fs.Compute(Input{Loan: &res.Loan, History: it.History, HistoryStart: it.HistoryStart})
		for j, v := range r.Values {
			w := tab.Columns[j][i]
			if math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
				t.Fatalf("loan %d: %s: scoring %v, training %v", i, fs.Specs()[j].Name, v, w)
			}
		}
	}
}

// Every feature of both sets is documented.
func TestFeaturesDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/features.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, fs := range []*FeatureSet{CN(), LendingClub()} {
		if !strings.Contains(doc, fs.Name()) {
			t.Errorf("docs/features.md does not name %s", fs.Name())
		}
		for _, s := range fs.Specs() {
			if !strings.Contains(doc, "`"+s.Name+"`") {
				t.Errorf("docs/features.md does not define %s feature `%s`", fs.Name(), s.Name)
			}
		}
	}
}

// TestBorrowerAgeRevealsOnlyTheYear: borrower_age is shown with reason codes at an as-of date the
// caller chooses; computed from the birth date, moving the date would find the birthday. It must
// be the same for every birth date of one year, at every as-of date.
func TestBorrowerAgeRevealsOnlyTheYear(t *testing.T) {
	fs := CN()
	for asOf := date.Of(2025, 1, 1); asOf.Before(date.Of(2026, 1, 1)); asOf = asOf.AddDays(7) {
		var ages []float64
		for _, birth := range []date.Date{date.Of(1985, 1, 1), date.Of(1985, 7, 1), date.Of(1985, 12, 31)} {
			l := handLoan()
			l.BirthDate, l.BirthYear = birth, birth.Year()
			ages = append(ages, value(t, fs, fs.Compute(Input{Loan: &l, AsOf: asOf}), "borrower_age"))
		}
		if ages[0] != ages[1] || ages[1] != ages[2] || ages[0] != 40 {
			t.Fatalf("as of %s: borrower_age %v for birth dates in one year; want 40 for all", asOf, ages)
		}
	}
}
