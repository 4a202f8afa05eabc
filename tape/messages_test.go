package tape

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"reclaim/cnid"
	"reclaim/date"
	"reclaim/msg"
)

// everyRuleBroken converts rows that, together, break every rule of the converter (and the
// readers' rules, through CSV text), and returns each error found.
func everyRuleBroken(t *testing.T) []RowError {
	t.Helper()
	l, p := fixture()
	cols := AllColumns(true)
	header := HeaderRow(cols, EncodeOptions{})
	base := EncodeLoan(&l, &p, cols, EncodeOptions{})
	idx := func(f Field) int { return slices.Index(cols, f) }
	id := p.NationalID
	cases := []struct {
		f Field
		v string
	}{
		{FPrincipal, ""}, {FProductType, "crypto_loan"}, {FFiveCategory, "正常"}, {FFiveCategory, "pass"},
		{FDefaultDate, "2023-02-30"}, {FCutOffDate, "yesterday"}, {FLastContactDate, "99999999"},
		{FInterest, "12,34.5x"}, {FFees, "100.001"}, {FPrincipal, "99999999999999999999"},
		{FFees, "-1.00"}, {FTotalClaim, "40674.13"}, {FDaysPastDue, "800"}, {FDefaultDate, "2025-07-01"},
		{FLastPaymentDate, "2025-07-01"}, {FWrittenOff, "maybe"}, {FAgencyPlacements, "two"}, {FCurrency, "yuan"},
		{FNationalID, breakCheckDigit(id)}, {FNationalID, id[:14]}, {FNationalID, id[:15]}, {FNationalID, id[:5] + "A" + id[6:]},
		{FNationalID, id[:17] + "Y"}, {FNationalID, id[:6] + "19821309" + id[14:]}, {FNationalID, id[:6] + "17990101" + id[14:]},
		{FNationalID, "３" + id[1:]},
		{FBirthDate, "1982-07-10"}, {FRegionCode, "110101"}, {FRegionCode, "990101"},
		{FPhone, "1381234567"}, {FPhone, "12812345678"}, {FPhone, "1381234567a"},
		{FBorrowerID, cnid.Generate("310115", date.Of(1982, 7, 9), 123, true)}, {FLastPaymentAmount, ""}, {FLastPaymentDate, ""},
		{FName, "x"}, // not an error by itself; keeps the personal-withheld path honest below
	}
	var out []RowError
	for _, tc := range cases {
		row := slices.Clone(base)
		row[idx(tc.f)] = tc.v
		for _, r := range convertCells(t, header, nil, row) {
			out = append(out, r.Errors...)
		}
	}
	// Rules across rows and the row's shape.
	short := base[:len(base)-1]
	other := slices.Clone(base)
	other[idx(FPortfolioID)], other[idx(FCutOffDate)], other[idx(FDefaultDate)] = "PKG-OTHER", "2025-05-31", "2023-03-01"
	for _, r := range convertCells(t, header, nil, base, base, short, other) {
		out = append(out, r.Errors...)
	}
	// Readers: an unclosed quote, a bare quote, a ragged row, a value without a header.
	csvText := strings.Join(header, ",") + "\n" +
		strings.Join(base, ",") + ",extra\n" +
		strings.Join(base[:3], ",") + "\n" +
		strings.Join(base[:1], ",") + ",a\"b" + strings.Repeat(",", len(base)-1) + "\n" +
		strings.Join(base[:1], ",") + ",\"open\n"
	src, err := OpenReader(strings.NewReader(csvText), "bad.csv", OpenOptions{Encoding: "utf-8"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, rerrs, _ := readAll(t, src)
	for _, e := range rerrs {
		out = append(out, *e)
	}
	// A value under a column without a header.
	src2, err := OpenReader(strings.NewReader("loan_id,principal_outstanding,\nL1,100,oops\n"), "unnamed.csv", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	_, rerrs, _ = readAll(t, src2)
	for _, e := range rerrs {
		out = append(out, *e)
	}
	return out
}

var asciiWord = regexp.MustCompile(`[A-Za-z][A-Za-z_]+`)

// zhAllowed are the ASCII words a Chinese message may hold besides the values it quotes:
// standards, formats and the yes/no forms sellers write.
var zhAllowed = map[string]bool{"ISO": true, "GB": true, "CSV": true, "UTF": true, "GBK": true, "Excel": true,
	"LibreOffice": true, "true": true, "false": true, "docs": true, "tape": true, "mapping": true, "md": true, "gbk": true}

// TestEveryRowErrorIsCoded: every problem the converter and the readers report carries a code
// of the catalog whose templates take exactly the args given (nothing left unfilled, no arg
// unused), its Message is the English render, and the Chinese render is Chinese: its only ASCII
// words are the args' values (field values, dates, amounts), standards and file formats.
func TestEveryRowErrorIsCoded(t *testing.T) {
	errs := everyRuleBroken(t)
	rulesSeen, codesSeen := map[string]bool{}, map[string]bool{}
	for _, e := range errs {
		rulesSeen[e.Rule], codesSeen[e.Code] = true, true
		tx, ok := msg.Lookup(e.Code)
		if !ok {
			t.Errorf("%s: code %q not in the catalog (%s)", e.Rule, e.Code, e.Message)
			continue
		}
		used := map[string]bool{}
		for _, l := range msg.Langs {
			for _, ph := range msg.Placeholders(tx.In(l)) {
				used[ph] = true
				if _, ok := e.Args[ph]; !ok {
					t.Errorf("%s/%s: template takes {%s}, args %v", e.Code, l, ph, e.Args)
				}
			}
		}
		for k := range e.Args {
			if !used[k] {
				t.Errorf("%s: arg %q is used by no language", e.Code, k)
			}
		}
		if e.Message != e.Render(msg.EN) {
			t.Errorf("%s: Message %q is not the English render %q", e.Code, e.Message, e.Render(msg.EN))
		}
		zh := e.Render(msg.ZH)
		if strings.Contains(zh, "{") && !strings.Contains(e.Message, "{") {
			t.Errorf("%s: unfilled zh %q", e.Code, zh)
		}
		rest := zh
		for _, v := range e.Args {
			rest = strings.ReplaceAll(rest, v, " ")
		}
		for _, w := range asciiWord.FindAllString(rest, -1) {
			if !zhAllowed[w] {
				t.Errorf("%s: zh render %q has the English word %q", e.Code, zh, w)
			}
		}
	}
	for _, r := range Rules {
		if !rulesSeen[r.Name] {
			t.Errorf("rule %s not broken by the test tape", r.Name)
		}
	}
	for _, want := range []string{"row.id_length", "row.id_length15", "row.id_not_digit", "row.id_last_char", "row.id_birth_invalid",
		"row.id_birth_year", "row.id_checksum", "row.id_non_ascii", "row.mobile_length", "row.mobile_prefix", "row.mobile_not_digit",
		"row.enum_performing", "row.enum", "row.date_invalid", "row.date_syntax", "row.amount_range", "row.amount_decimals",
		"row.amount_syntax", "row.csv_quote", "row.csv_bare_quote", "row.field_count", "row.unnamed_column",
		"row.columns", "row.loan_id_unique", "row.portfolio_differs", "row.cutoff_differs", "row.key_personal",
		"row.last_payment_no_date", "row.last_payment_no_amount"} {
		if !codesSeen[want] {
			t.Errorf("code %s not produced (codes seen: %v)", want, codesSeen)
		}
	}
}

// TestChineseRuleDescriptions: every rule has a Chinese description and it is Chinese.
func TestChineseRuleDescriptions(t *testing.T) {
	for _, r := range Rules {
		en, zh := RuleDescription(msg.EN, r.Name), RuleDescription(msg.ZH, r.Name)
		if en != r.Description {
			t.Errorf("%s: en %q differs from Rules %q", r.Name, en, r.Description)
		}
		if zh == "" || zh == en {
			t.Errorf("%s: no Chinese description", r.Name)
		}
		for _, w := range asciiWord.FindAllString(zh, -1) {
			if !zhAllowed[w] && !strings.HasPrefix(w, "T") {
				t.Errorf("%s: zh %q has the English word %q", r.Name, zh, w)
			}
		}
	}
}

// TestCodedErrorsKeepPersonalDataOut: the args of a rejected ID or phone hold positions and
// lengths only, and a personal field's bad value never reaches the args.
func TestCodedErrorsKeepPersonalDataOut(t *testing.T) {
	_, p := fixture()
	for _, tc := range []struct {
		f Field
		v string
	}{{FPhone, "1381234567"}, {FNationalID, breakCheckDigit(p.NationalID)}, {FNationalID, p.NationalID[:17]}, {FBirthDate, "1982-07-10"}, {FBirthDate, "1982-13-45"}} {
		res := convertOne(t, tc.f, "", tc.v)
		for _, e := range res.Errors {
			for k, a := range e.Args {
				if len(a) >= 6 && strings.Contains(tc.v, a) || strings.Contains(a, tc.v) {
					t.Errorf("%q: arg %s=%q echoes the value", tc.v, k, a)
				}
			}
			for _, l := range msg.Langs {
				if strings.Contains(e.Render(l), tc.v) {
					t.Errorf("%q: %s render %q echoes the value", tc.v, l, e.Render(l))
				}
			}
		}
	}
}

// consoleCatalog is the catalog as the console embeds it.
const consoleCatalog = "../web/src/api/messages.json"

// TestConsoleCatalogUpToDate: the console renders codes from a JSON copy of this catalog; the
// copy must equal the catalog. RECLAIM_UPDATE_MESSAGES=1 rewrites it.
func TestConsoleCatalogUpToDate(t *testing.T) {
	want, err := json.MarshalIndent(msg.Catalog(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if os.Getenv("RECLAIM_UPDATE_MESSAGES") != "" {
		if err := os.WriteFile(filepath.FromSlash(consoleCatalog), want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.FromSlash(consoleCatalog))
	if err != nil {
		t.Fatalf("%v (run RECLAIM_UPDATE_MESSAGES=1 go test ./tape -run TestConsoleCatalogUpToDate)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s is out of date: run RECLAIM_UPDATE_MESSAGES=1 go test ./tape -run TestConsoleCatalogUpToDate", consoleCatalog)
	}
}

// TestLayoutProblemsAreCoded: every problem binding a header is a coded RowError (rule layout, no
// line) whose templates take exactly its args, the error's text is the English render, and the
// Chinese render is Chinese apart from the names it quotes.
func TestLayoutProblemsAreCoded(t *testing.T) {
	cases := []struct {
		header []string
		m      string
		code   string
	}{
		{[]string{"loan_id", "本金余额", "未偿本金"}, "", "layout.bound_twice_header"},
		{[]string{"id", "id"}, "columns: {id: loan_id}", "layout.column_repeated"},
		{[]string{"loan_number_x"}, "columns: {loan_numbr_x: loan_id}", "layout.column_missing_near"},
		{[]string{"a"}, "extras: [grade]", "layout.column_missing"},
		{[]string{"loan_id", " ", "c"}, "", "layout.empty_header"},
		{[]string{"loan_id", "dob"}, "extras: [dob]", "layout.extra_personal"},
		{[]string{"a", "b"}, "sums: {interest_outstanding: [a, zzzzzzzz]}", "layout.column_missing"},
	}
	for _, tc := range cases {
		var m *Mapping
		if tc.m != "" {
			var err error
			if m, err = ParseMapping([]byte(tc.m), "m.yaml"); err != nil {
				t.Fatal(err)
			}
		}
		_, err := NewLayout(tc.header, m)
		var le *LayoutError
		if !errors.As(err, &le) || len(le.Problems) == 0 {
			t.Fatalf("%v: %v is not a LayoutError", tc.header, err)
		}
		found := false
		for _, p := range le.Problems {
			found = found || p.Code == tc.code
			if p.Rule != RuleLayout || p.Line != 0 || p.Message != p.Render(msg.EN) {
				t.Errorf("%+v", p)
			}
			tx, ok := msg.Lookup(p.Code)
			if !ok {
				t.Fatalf("code %q not in the catalog", p.Code)
			}
			for _, l := range msg.Langs {
				for _, ph := range msg.Placeholders(tx.In(l)) {
					if _, ok := p.Args[ph]; !ok {
						t.Errorf("%s/%s takes {%s}; args %v", p.Code, l, ph, p.Args)
					}
				}
			}
			rest := p.Render(msg.ZH)
			for _, v := range p.Args {
				rest = strings.ReplaceAll(rest, v, " ")
			}
			for _, w := range asciiWord.FindAllString(rest, -1) {
				if w != "sums" && w != "extras" && w != "fallbacks" {
					t.Errorf("%s: zh %q has the English word %q", p.Code, p.Render(msg.ZH), w)
				}
			}
		}
		if !found {
			t.Errorf("%v %q: no %s among %v", tc.header, tc.m, tc.code, le.Problems)
		}
		if !strings.HasPrefix(err.Error(), "tape: layout: ") || !strings.Contains(le.Render(msg.ZH), "；") && len(le.Problems) > 1 {
			t.Errorf("text %q / %q", err, le.Render(msg.ZH))
		}
	}
}
