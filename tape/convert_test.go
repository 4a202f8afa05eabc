package tape

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
)

// fixture returns a valid loan with every field set and its personal data.
func fixture() (reclaim.Loan, reclaim.PersonalData) {
	cut := date.Of(2025, 6, 30)
	def := date.Of(2023, 3, 15)
	birth := date.Of(1982, 7, 9)
	l := reclaim.Loan{
		PortfolioRef: "PKG-2025-001", CutOffDate: cut, LoanID: "L0001", BorrowerID: "B0001",
		ProductType: reclaim.CreditCard, OriginationDate: date.Of(2019, 5, 20),
		OriginalAmount: money.Yuan(50000), Currency: money.CNY,
		PrincipalOutstanding: money.New(3_245_067, money.CNY), InterestOutstanding: money.New(812_345, money.CNY),
		FeesOutstanding: money.New(10_000, money.CNY), TotalClaim: money.New(4_067_412, money.CNY),
		DefaultDate: def, DaysPastDue: cut.Sub(def), FiveCategory: reclaim.Doubtful, WrittenOff: true,
		WriteOffDate: date.Of(2024, 1, 31), SecurityType: reclaim.Unsecured,
		LastPaymentDate: date.Of(2023, 2, 10), LastPaymentAmount: money.New(150_000, money.CNY),
		LegalStatus: reclaim.Judgment, LegalStartDate: date.Of(2024, 3, 1), Court: "上海市浦东新区人民法院",
		LimitationExpiryDate: date.Of(2027, 3, 1), BirthDate: birth, BirthYear: 1982, Age: 42, RegionCode: "310115",
		PhoneAvailable: true, LastContactDate: date.Of(2025, 5, 2), ForbearanceCount: 1, AgencyPlacements: 2,
	}
	p := reclaim.PersonalData{Name: "张伟", NationalID: cnid.Generate("310115", birth, 123, true), Phone: "13812345678",
		Address: "上海市浦东新区世纪大道100号", Employer: "某某科技有限公司", BankCard: "6222021234567890123", Contacts: "李娜 13900001111",
		BirthDate: birth}
	return l, p
}

func convertCells(t *testing.T, header []string, m *Mapping, rows ...[]string) []Result {
	t.Helper()
	lay, err := NewLayout(header, m)
	if err != nil {
		t.Fatalf("NewLayout: %v", err)
	}
	c := NewConverter(lay, SourceInfo{})
	out := make([]Result, len(rows))
	for i, r := range rows {
		c.Convert(Row{Line: i + 2, Cells: r}, &out[i])
		out[i].Errors = slices.Clone(out[i].Errors)
	}
	return out
}

func TestConvertRoundTrip(t *testing.T) {
	l, p := fixture()
	for _, opts := range []EncodeOptions{
		{},
		{Chinese: true},
		{Chinese: true, Unit: money.Wan, DateStyle: "chinese"},
		{DateStyle: "slash", Unit: money.Wan},
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			cols := AllColumns(true)
			res := convertCells(t, HeaderRow(cols, opts), nil, EncodeLoan(&l, &p, cols, opts))[0]
			if !res.OK() {
				t.Fatalf("errors: %v", res.Errors)
			}
			if d := cmp.Diff(l, res.Loan); d != "" {
				t.Errorf("loan (-want +got):\n%s", d)
			}
			if res.Personal != p {
				t.Errorf("personal data differs")
			}
		})
	}
}

// TestConvertRules breaks one rule at a time and expects exactly that rule, located.
func TestConvertRules(t *testing.T) {
	l, p := fixture()
	cols := AllColumns(true)
	header := HeaderRow(cols, EncodeOptions{})
	base := EncodeLoan(&l, &p, cols, EncodeOptions{})
	idx := func(f Field) int { return slices.Index(cols, f) }
	tests := []struct {
		name  string
		field Field
		value string
		rule  string
	}{
		{"missing principal", FPrincipal, "", RuleRequired},
		{"missing loan id", FLoanID, "", RuleRequired},
		{"bad product", FProductType, "crypto_loan", RuleEnum},
		{"bad grade", FFiveCategory, "pass", RuleEnum},
		{"bad date", FDefaultDate, "2023-02-30", RuleDateFormat},
		{"garbage date", FCutOffDate, "yesterday", RuleDateFormat},
		{"bad amount", FInterest, "12,34.5x", RuleAmountFormat},
		{"too many decimals", FFees, "100.001", RuleAmountFormat},
		{"overflow", FPrincipal, "99999999999999999999", RuleAmountFormat},
		{"negative", FFees, "-1.00", RuleNegativeAmount},
		{"claim off by a cent", FTotalClaim, "40674.13", RuleClaimSum},
		{"dpd mismatch", FDaysPastDue, "800", RuleDPDConsistent},
		{"default after cut-off", FDefaultDate, "2025-07-01", RuleDefaultCutoff},
		{"payment after cut-off", FLastPaymentDate, "2025-07-01", RuleLastPaymentCutoff},
		{"bad bool", FWrittenOff, "maybe", RuleBoolFormat},
		{"bad count", FAgencyPlacements, "two", RuleIntFormat},
		{"bad currency", FCurrency, "yuan", RuleCurrency},
		{"national id check digit", FNationalID, breakCheckDigit(p.NationalID), RuleNationalID},
		{"national id short", FNationalID, "31011519820709", RuleNationalID},
		{"birth disagrees", FBirthDate, "1982-07-10", RuleNationalIDBirth},
		{"region disagrees", FRegionCode, "110101", RuleNationalIDRegion},
		{"bad mobile", FPhone, "1381234567", RuleMobile},
		{"bad region", FRegionCode, "990101", RuleRegionCode},
		{"borrower keyed by national ID", FBorrowerID, cnid.Generate("310115", date.Of(1982, 7, 9), 123, true), RuleKeyPersonal},
		{"loan keyed by national ID", FLoanID, cnid.Generate("110105", date.Of(1949, 12, 31), 2, false), RuleKeyPersonal},
		{"payment pair", FLastPaymentAmount, "", RuleLastPaymentPair},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := slices.Clone(base)
			row[idx(tc.field)] = tc.value
			res := convertCells(t, header, nil, row)[0]
			var rules []string
			for _, e := range res.Errors {
				rules = append(rules, e.Rule)
				if e.Line != 2 || e.Field == "" || e.Message == "" {
					t.Errorf("error not located: %+v", e)
				}
			}
			if !slices.Contains(rules, tc.rule) {
				t.Fatalf("want rule %s, got %v", tc.rule, res.Errors)
			}
			if len(slices.Compact(slices.Sorted(slices.Values(rules)))) != 1 {
				t.Errorf("want only %s, got %v", tc.rule, res.Errors)
			}
		})
	}
}

func breakCheckDigit(id string) string {
	last := id[17]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return id[:17] + string(repl)
}

func TestConvertAcrossRows(t *testing.T) {
	l, p := fixture()
	cols := AllColumns(true)
	header := HeaderRow(cols, EncodeOptions{})
	a := EncodeLoan(&l, &p, cols, EncodeOptions{})
	b := slices.Clone(a) // same loan_id: duplicate
	c := slices.Clone(a)
	c[slices.Index(cols, FLoanID)] = "L0002"
	c[slices.Index(cols, FPortfolioID)] = "OTHER"
	res := convertCells(t, header, nil, a, b, c)
	if !res[0].OK() {
		t.Fatalf("first row: %v", res[0].Errors)
	}
	if len(res[1].Errors) != 1 || res[1].Errors[0].Rule != RuleLoanIDUnique || !strings.Contains(res[1].Errors[0].Message, "line 2") {
		t.Errorf("duplicate: %v", res[1].Errors)
	}
	if len(res[2].Errors) != 1 || res[2].Errors[0].Rule != RulePortfolioConsistent {
		t.Errorf("portfolio change: %v", res[2].Errors)
	}
}

func TestConvertDerivesMissingColumns(t *testing.T) {
	l, p := fixture()
	var cols []Field
	for _, f := range AllColumns(true) {
		if f != FTotalClaim && f != FDaysPastDue && f != FLimitationExpiry && f != FAge && f != FBirthDate {
			cols = append(cols, f)
		}
	}
	lay, err := NewLayout(HeaderRow(cols, EncodeOptions{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if miss := MissingCritical(lay); len(miss) != 0 {
		t.Fatalf("derivable fields reported missing: %v", miss)
	}
	res := convertCells(t, HeaderRow(cols, EncodeOptions{}), nil, EncodeLoan(&l, &p, cols, EncodeOptions{}))[0]
	if !res.OK() {
		t.Fatal(res.Errors)
	}
	got := res.Loan
	if got.TotalClaim != l.TotalClaim || got.DaysPastDue != l.DaysPastDue {
		t.Errorf("derived claim %v dpd %d, want %v %d", got.TotalClaim, got.DaysPastDue, l.TotalClaim, l.DaysPastDue)
	}
	if want := l.DefaultDate.AddYears(3); got.LimitationExpiryDate != want {
		t.Errorf("limitation %v, want %v", got.LimitationExpiryDate, want)
	}
	if got.BirthDate != l.BirthDate || got.Age != 42 {
		t.Errorf("birth %v age %d from the national ID, want %v 42", got.BirthDate, got.Age, l.BirthDate)
	}
	if len(res.Derived) != 3 {
		t.Errorf("derived = %v", res.Derived)
	}
}

func TestMissingCriticalColumns(t *testing.T) {
	lay, err := NewLayout([]string{"loan_id", "principal_outstanding"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	miss := MissingCritical(lay)
	for _, f := range []Field{FPortfolioID, FCutOffDate, FBorrowerID, FDefaultDate, FRegionCode} {
		if !slices.Contains(miss, f) {
			t.Errorf("%s not reported missing: %v", f, miss)
		}
	}
	for _, f := range []Field{FTotalClaim, FDaysPastDue, FLoanID} {
		if slices.Contains(miss, f) {
			t.Errorf("%s reported missing", f)
		}
	}
}

func TestConvertExcelSerialDates(t *testing.T) {
	l, p := fixture()
	cols := AllColumns(true)
	row := EncodeLoan(&l, &p, cols, EncodeOptions{})
	row[slices.Index(cols, FCutOffDate)] = "45838" // 2025-06-30 in the 1900 system
	res := convertCells(t, HeaderRow(cols, EncodeOptions{}), nil, row)[0]
	if !res.OK() || res.Loan.CutOffDate != l.CutOffDate {
		t.Fatalf("serial date: %v %v", res.Loan.CutOffDate, res.Errors)
	}
}

func TestConvertNeverEchoesPersonalData(t *testing.T) {
	l, p := fixture()
	cols := AllColumns(true)
	row := EncodeLoan(&l, &p, cols, EncodeOptions{})
	row[slices.Index(cols, FNationalID)] = breakCheckDigit(p.NationalID)
	row[slices.Index(cols, FPhone)] = "1381234567"
	res := convertCells(t, HeaderRow(cols, EncodeOptions{}), nil, row)[0]
	for _, e := range res.Errors {
		s := e.Error()
		if strings.Contains(s, p.NationalID[:14]) || strings.Contains(s, "1381234567") {
			t.Errorf("personal data in error: %s", s)
		}
	}
	// The import report is read by roles that may not see personal data: a birth date that
	// disagrees with the ID, or does not parse, is named by rule only; neither date is echoed.
	for _, bad := range []string{"1982-07-10", "1982-13-09"} {
		row := EncodeLoan(&l, &p, cols, EncodeOptions{})
		row[slices.Index(cols, FBirthDate)] = bad
		res := convertCells(t, HeaderRow(cols, EncodeOptions{}), nil, row)[0]
		if res.OK() {
			t.Fatalf("birth date %s accepted", bad)
		}
		for _, e := range res.Errors {
			if s := e.Error() + e.Value; strings.Contains(s, "1982") || strings.Contains(s, "07-09") || strings.Contains(s, "07-10") {
				t.Errorf("birth date echoed in the report: %+v", e)
			}
		}
	}
	// Mask shows no digit of the birth date or sequence of an invalid ID either.
	if m := cnid.Mask(breakCheckDigit(p.NationalID)); strings.Contains(m, p.NationalID[4:6]+"19") || strings.Trim(m[4:], "*") != "" {
		t.Errorf("invalid ID masked as %s", m)
	}
}

// TestConvertProperty: any valid loan survives encode -> convert unchanged, in every encoding.
func TestConvertProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l, p := fixture()
		cut := date.Of(2020, 1, 1).AddDays(rapid.IntRange(0, 3000).Draw(t, "cut"))
		def := cut.AddDays(-rapid.IntRange(0, 4000).Draw(t, "dpd"))
		l.CutOffDate, l.DefaultDate, l.DaysPastDue = cut, def, cut.Sub(def)
		pr := rapid.Int64Range(0, 1e12).Draw(t, "principal")
		in := rapid.Int64Range(0, 1e11).Draw(t, "interest")
		fe := rapid.Int64Range(0, 1e9).Draw(t, "fees")
		l.PrincipalOutstanding, l.InterestOutstanding, l.FeesOutstanding = money.New(pr, money.CNY), money.New(in, money.CNY), money.New(fe, money.CNY)
		l.TotalClaim = money.New(pr+in+fe, money.CNY)
		l.LastPaymentDate = def.AddDays(-rapid.IntRange(0, 400).Draw(t, "lp"))
		l.ProductType = rapid.SampledFrom(reclaim.ProductTypes).Draw(t, "product")
		l.LegalStatus = rapid.SampledFrom(reclaim.LegalStatuses).Draw(t, "legal")
		l.WrittenOff = rapid.Bool().Draw(t, "wo")
		if rapid.Bool().Draw(t, "noLastPayment") {
			l.LastPaymentDate, l.LastPaymentAmount = date.Date{}, money.Amount{}
		}
		l.Age = date.Age(l.BirthDate, cut)
		opts := EncodeOptions{Chinese: rapid.Bool().Draw(t, "zh"), DateStyle: rapid.SampledFrom([]string{"iso", "slash", "chinese"}).Draw(t, "ds")}
		if rapid.Bool().Draw(t, "wan") {
			opts.Unit = money.Wan
		}
		cols := AllColumns(true)
		lay, err := NewLayout(HeaderRow(cols, opts), nil)
		if err != nil {
			t.Fatal(err)
		}
		var res Result
		NewConverter(lay, SourceInfo{}).Convert(Row{Line: 2, Cells: EncodeLoan(&l, &p, cols, opts)}, &res)
		if !res.OK() {
			t.Fatalf("errors: %v", res.Errors)
		}
		if d := cmp.Diff(l, res.Loan); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
	})
}

// TestConvertBoundaries checks each rule of design/tape.md just below, at and just above its
// edge: a case with rule "" must convert cleanly, any other must break exactly that rule. The
// fixture's cut-off is 2025-06-30, its default date 2023-03-15 (838 days before), and its
// balances 32450.67 + 8123.45 + 100.00 = 40674.12.
func TestConvertBoundaries(t *testing.T) {
	l, p := fixture()
	cols := AllColumns(true)
	header := HeaderRow(cols, EncodeOptions{})
	base := EncodeLoan(&l, &p, cols, EncodeOptions{})
	idx := func(f Field) int { return slices.Index(cols, f) }
	// idX is a valid ID of the fixture's borrower whose check character is X.
	idX := ""
	for seq := 1; idX == ""; seq += 2 {
		if id := cnid.Generate("310115", date.Of(1982, 7, 9), seq, true); id[17] == 'X' {
			idX = id
		}
	}
	// An ID whose birth date is 29 February of a year that has none, with a correct check character.
	first17 := "310115" + "19830229" + "123"
	check, err := cnid.CheckDigit(first17)
	if err != nil {
		t.Fatal(err)
	}
	noLeapDay := first17 + string(check)
	leapDayID := cnid.Generate("310115", date.Of(1984, 2, 29), 123, true)
	// IDs born on the cut-off date and the day after it.
	bornAtCutOff := cnid.Generate("310115", l.CutOffDate, 123, true)
	bornAfterCutOff := cnid.Generate("310115", l.CutOffDate.AddDays(1), 123, true)

	type cells = map[Field]string
	tests := []struct {
		name string
		set  cells
		rule string
	}{
		// total_claim == principal + interest + fees, to the cent.
		{"claim a fen below the sum", cells{FTotalClaim: "40674.11"}, RuleClaimSum},
		{"claim equal to the sum", cells{FTotalClaim: "40674.12"}, ""},
		{"claim a fen above the sum", cells{FTotalClaim: "40674.13"}, RuleClaimSum},
		{"claim with thousand separators", cells{FTotalClaim: "40,674.12"}, ""},
		{"claim with separators misplaced", cells{FTotalClaim: "4,0674.12"}, RuleAmountFormat},
		{"claim with a third decimal zero", cells{FTotalClaim: "40674.120"}, ""},
		{"claim with a third decimal", cells{FTotalClaim: "40674.121"}, RuleAmountFormat},
		{"claim in 万 with six decimals", cells{FTotalClaim: "4.067412万"}, ""},
		{"fees empty count as zero", cells{FFees: "", FTotalClaim: "40574.12"}, ""},
		{"fees empty but claimed", cells{FFees: ""}, RuleClaimSum},
		// Balances are not negative; minus zero is zero.
		{"fees minus one fen", cells{FFees: "-0.01"}, RuleNegativeAmount},
		{"fees minus zero", cells{FFees: "-0.00", FTotalClaim: "40574.12"}, ""},
		{"fees in accounting brackets", cells{FFees: "(100.00)"}, RuleNegativeAmount},
		// days_past_due == cut_off_date - default_date.
		{"dpd a day short", cells{FDaysPastDue: "837"}, RuleDPDConsistent},
		{"dpd exact", cells{FDaysPastDue: "838"}, ""},
		{"dpd a day over", cells{FDaysPastDue: "839"}, RuleDPDConsistent},
		{"dpd written as 838.0", cells{FDaysPastDue: "838.0"}, ""},
		{"dpd negative", cells{FDaysPastDue: "-1"}, RuleIntFormat},
		{"dpd across 29 February", cells{FCutOffDate: "2024-03-01", FDefaultDate: "2024-02-28", FDaysPastDue: "2", FLastPaymentDate: "2024-02-01"}, ""},
		{"dpd across 29 February counted as 28", cells{FCutOffDate: "2024-03-01", FDefaultDate: "2024-02-28", FDaysPastDue: "1", FLastPaymentDate: "2024-02-01"}, RuleDPDConsistent},
		{"dpd from 29 February", cells{FDefaultDate: "2024-02-29", FDaysPastDue: "487"}, ""},
		// default_date <= cut_off_date: the cut-off itself is allowed.
		{"default a day before the cut-off", cells{FDefaultDate: "2025-06-29", FDaysPastDue: "1", FLastPaymentDate: "2025-06-01"}, ""},
		{"default on the cut-off", cells{FDefaultDate: "2025-06-30", FDaysPastDue: "0", FLastPaymentDate: "2025-06-01"}, ""},
		{"default a day after the cut-off", cells{FDefaultDate: "2025-07-01", FDaysPastDue: "0", FLastPaymentDate: "2025-06-01"}, RuleDefaultCutoff},
		// last_payment_date <= cut_off_date: the cut-off itself is allowed.
		{"last payment a day before the cut-off", cells{FLastPaymentDate: "2025-06-29"}, ""},
		{"last payment on the cut-off", cells{FLastPaymentDate: "2025-06-30"}, ""},
		{"last payment a day after the cut-off", cells{FLastPaymentDate: "2025-07-01"}, RuleLastPaymentCutoff},
		// Dates: the forms of the design, and days that do not exist.
		{"cut-off with slashes", cells{FCutOffDate: "2025/06/30"}, ""},
		{"cut-off with slashes, no zeros", cells{FCutOffDate: "2025/6/30"}, ""},
		{"cut-off in Chinese", cells{FCutOffDate: "2025年6月30日"}, ""},
		{"cut-off as an Excel serial", cells{FCutOffDate: "45838"}, ""},
		{"cut-off day first", cells{FCutOffDate: "30/06/2025"}, RuleDateFormat},
		{"29 February of a leap year", cells{FOriginationDate: "2000-02-29"}, ""},
		{"29 February of a common year", cells{FOriginationDate: "2019-02-29"}, RuleDateFormat},
		{"29 February of a century year", cells{FOriginationDate: "2100-02-29"}, RuleDateFormat},
		{"Excel serial 59 (1900-02-28)", cells{FOriginationDate: "59"}, ""},
		{"Excel serial 60 (the 1900-02-29 Excel invented)", cells{FOriginationDate: "60"}, RuleDateFormat},
		{"Excel serial 61 (1900-03-01)", cells{FOriginationDate: "61"}, ""},
		{"Excel serial 0", cells{FOriginationDate: "0"}, RuleDateFormat},
		// Required critical fields: empty and blank are both missing.
		{"portfolio empty", cells{FPortfolioID: ""}, RuleRequired},
		{"portfolio blank", cells{FPortfolioID: " \t"}, RuleRequired},
		{"portfolio an ideographic space", cells{FPortfolioID: "\u3000"}, RuleRequired},
		{"critical yes/no empty", cells{FWrittenOff: ""}, RuleRequired},
		{"critical count empty", cells{FAgencyPlacements: ""}, RuleRequired},
		{"optional enum empty", cells{FSecurityType: ""}, ""},
		// National ID: 18 characters, check character, a real birth date.
		{"national id of 17 characters", cells{FNationalID: p.NationalID[:17]}, RuleNationalID},
		{"national id of 19 characters", cells{FNationalID: p.NationalID + "1"}, RuleNationalID},
		{"national id with a lower-case x", cells{FNationalID: strings.ToLower(idX)}, ""},
		{"national id born 29 February of a leap year", cells{FNationalID: leapDayID, FBirthDate: "1984-02-29"}, ""},
		{"national id born 29 February of a common year", cells{FNationalID: noLeapDay, FBirthDate: ""}, RuleNationalID},
		{"national id born on the cut-off date", cells{FNationalID: bornAtCutOff, FBirthDate: ""}, ""},
		{"national id born after the cut-off date", cells{FNationalID: bornAfterCutOff, FBirthDate: ""}, RuleNationalID},
		{"national id and birth date a day apart", cells{FBirthDate: "1982-07-08"}, RuleNationalIDBirth},
		{"national id and birth date absent", cells{FBirthDate: ""}, ""},
		// Mobile: 11 digits starting with 1.
		{"mobile of 10 digits", cells{FPhone: "1381234567"}, RuleMobile},
		{"mobile of 11 digits", cells{FPhone: "13812345678"}, ""},
		{"mobile of 12 digits", cells{FPhone: "138123456789"}, RuleMobile},
		{"mobile starting with 2", cells{FPhone: "23812345678"}, RuleMobile},
		// Region: a 6-digit GB/T 2260 code.
		{"region of 5 digits", cells{FRegionCode: "31011"}, RuleRegionCode},
		{"region of 6 digits", cells{FRegionCode: "310115"}, ""},
		{"region of 7 digits", cells{FRegionCode: "3101150"}, RuleRegionCode},
		// Currency: an ISO 4217 code; empty is CNY.
		{"currency empty", cells{FCurrency: ""}, ""},
		{"currency lower case", cells{FCurrency: "cny"}, ""},
		{"currency not in ISO 4217", cells{FCurrency: "ABC"}, RuleCurrency},
		{"currency RMB, the yuan", cells{FCurrency: "RMB"}, ""},
		{"currency 人民币", cells{FCurrency: "人民币"}, ""},
		{"currency 美金", cells{FCurrency: "美金"}, RuleCurrency},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := slices.Clone(base)
			for f, v := range tc.set {
				row[idx(f)] = v
			}
			res := convertCells(t, header, nil, row)[0]
			if tc.rule == "" {
				if !res.OK() {
					t.Fatalf("want no error, got %v", res.Errors)
				}
				return
			}
			if len(res.Errors) == 0 {
				t.Fatalf("want rule %s, got none", tc.rule)
			}
			for _, e := range res.Errors {
				if e.Rule != tc.rule {
					t.Errorf("want only %s, got %+v", tc.rule, e)
				}
			}
		})
	}
}

// TestISOCurrency: ISO 4217 codes, current, withdrawn and issued after x/text's table, pass;
// three letters that are no ISO code do not.
func TestISOCurrency(t *testing.T) {
	for c, want := range map[money.Currency]bool{
		"CNY": true, "USD": true, "HKD": true, "JPY": true, "EUR": true,
		"DEM": true,              // withdrawn (2002): older tapes still read
		"VES": true, "ZWG": true, // issued after CLDR 32 (newISOCodes)
		"ABC": false, "RMB": false, "YUA": false, // RMB is read as CNY before (currencyCode)
		"cny": false, "CN": false, "CNYY": false, "": false,
	} {
		if got := isoCurrency(c); got != want {
			t.Errorf("isoCurrency(%q) = %v, want %v", c, got, want)
		}
	}
}

// TestCurrencyCode: the yuan written the ways Chinese tapes write it reads as CNY; other cells are
// only upper-cased and trimmed, and a code that is not ISO 4217 stays refused.
func TestCurrencyCode(t *testing.T) {
	for raw, want := range map[string]string{
		"人民币": "CNY", "元": "CNY", "RMB": "CNY", "rmb": "CNY", " Rmb ": "CNY",
		"cny": "CNY", "usd": "USD", "ABC": "ABC", "人民币元": "人民币元", "": "",
	} {
		got := currencyCode(raw)
		if got != want {
			t.Errorf("currencyCode(%q) = %q, want %q", raw, got, want)
		}
		if ok := isoCurrency(money.Currency(got)); ok != (want == "CNY" || want == "USD") {
			t.Errorf("currencyCode(%q) = %q: isoCurrency %v", raw, got, ok)
		}
	}
}

// TestConvertDerivesLimitationAcrossLeapDay: without a limitation_expiry_date column the expiry
// is 3 years after the later of the default and the last payment; from 29 February it is the
// last day of February three years on, and a payment the day after moves it to 1 March.
func TestConvertDerivesLimitationAcrossLeapDay(t *testing.T) {
	l, p := fixture()
	var cols []Field
	for _, f := range AllColumns(true) {
		if f != FLimitationExpiry {
			cols = append(cols, f)
		}
	}
	l.DefaultDate = date.Of(2024, 2, 29)
	l.DaysPastDue = l.CutOffDate.Sub(l.DefaultDate)
	for _, tc := range []struct {
		lastPayment, want date.Date
	}{
		{date.Of(2024, 1, 31), date.Of(2027, 2, 28)},
		{date.Of(2024, 2, 29), date.Of(2027, 2, 28)},
		{date.Of(2024, 3, 1), date.Of(2027, 3, 1)},
		{date.Date{}, date.Of(2027, 2, 28)},
	} {
		l.LastPaymentDate, l.LastPaymentAmount = tc.lastPayment, money.New(100_00, money.CNY)
		if tc.lastPayment.IsZero() {
			l.LastPaymentAmount = money.Amount{}
		}
		res := convertCells(t, HeaderRow(cols, EncodeOptions{}), nil, EncodeLoan(&l, &p, cols, EncodeOptions{}))[0]
		if !res.OK() {
			t.Fatalf("last payment %v: %v", tc.lastPayment, res.Errors)
		}
		if got := res.Loan.LimitationExpiryDate; got != tc.want {
			t.Errorf("last payment %v: expiry %v, want %v", tc.lastPayment, got, tc.want)
		}
	}
}

// TestConvertCellUnitUnderUnitHeader: design/tape.md scales amounts by 万元 "where the header
// says so"; a cell that writes a unit itself is in that unit (the header's again: not 万 × 万;
// another: that one).
func TestConvertCellUnitUnderUnitHeader(t *testing.T) {
	for _, tc := range []struct {
		header, cell string
		want         int64 // fen
	}{
		{"本金余额(万元)", "1", 1_0000_00},
		{"本金余额(万元)", "1万", 1_0000_00},
		{"本金余额(万元)", "1万元", 1_0000_00},
		{"本金余额(万元)", "1.5 万元", 1_5000_00},
		{"本金余额(万元)", "(1万元)", -1_0000_00},
		{"本金余额(万元)", "1,000", 1000_0000_00},
		{"本金余额(万元)", "1.2345675", 1_2345_68}, // half up to the fen
		{"本金余额(千元)", "2千元", 2000_00},
		{"本金余额(亿元)", "0.5亿", 5000_0000_00},
		{"本金余额", "1万", 1_0000_00},     // a plain column: the cell's unit alone
		{"本金余额(元)", "1万元", 1_0000_00}, // a yuan column: the cell's unit alone
		{"本金余额(万元)", "800元", 800_00},  // yuan written out in a 万元 column
		{"本金余额(万元)", "0.5亿", 5000_0000_00},
	} {
		res := convertCells(t, []string{tc.header}, nil, []string{tc.cell})[0]
		for _, e := range res.Errors {
			if e.Rule == RuleAmountFormat {
				t.Errorf("%s %q: %v", tc.header, tc.cell, e)
			}
		}
		if got := res.Loan.PrincipalOutstanding.Minor(); got != tc.want || res.Loan.PrincipalOutstanding.IsAbsent() {
			t.Errorf("%s %q = %d fen, want %d", tc.header, tc.cell, got, tc.want)
		}
	}
}
