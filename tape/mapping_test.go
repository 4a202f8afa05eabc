package tape

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"reclaim/money"
)

func TestParseMappingFull(t *testing.T) {
	want := &Mapping{
		Name:        "example",
		Description: "a Chinese bank tape with an English id column",
		Encoding:    "gbk",
		Sheet:       "Sheet1",
		HeaderRow:   2,
		DateFormat:  "2006/01/02",
		Columns: map[string]ColumnMap{
			"id":           {Fields: []Field{FLoanID, FBorrowerID}},
			"loan_amnt":    {Fields: []Field{FOriginalAmount}},
			"本金(万元)":       {Fields: []Field{FPrincipal}, Unit: money.Wan},
			"利息(千元)":       {Fields: []Field{FInterest}, Unit: money.Thousand},
			"last_pymnt_d": {Fields: []Field{FLastPaymentDate}, DateFormat: "2006-01-02"},
			"是否失联":         {Fields: []Field{FPhoneAvailable}, Invert: true},
			"status":       {Fields: []Field{FLegalStatus}, Values: map[string]string{"已起诉": "in_litigation", "未起诉": "not_sued"}},
			"addr_state":   {Fields: []Field{FRegionCode}, Prefix: "US-"},
			"违约月份":         {Fields: []Field{FDefaultDate}, DateFormat: "Jan-2006"},
		},
		Constants: map[Field]string{FCutOffDate: "2018-12-01", FCurrency: "USD", FWrittenOff: "true"},
		Extras:    []string{"grade", "fico_range_low"},
	}
	for _, f := range []string{"mapping_full.yaml", "mapping_full.json"} {
		t.Run(f, func(t *testing.T) {
			m, err := LoadMapping("testdata/" + f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMappingErrors(t *testing.T) {
	_, err := LoadMapping("testdata/mapping_bad.yaml")
	var es MappingErrors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v", err)
	}
	want := []struct {
		line int
		text string
	}{
		{3, `unknown key "colums"; did you mean columns?`},
		{5, `unknown field "princpal_outstanding"; did you mean principal_outstanding?`},
		{6, `unknown unit "lakh"`},
		{7, `scale "300" is not a power of ten`},
		{9, `field loan_id is bound twice: by column "d" (line 8) and by column "e"`},
		{10, `column "f": unit applies to money fields only`},
		{11, `unknown column option "feild"; did you mean field?`},
		{13, `constant legal_status: "sued" is not valid; did you mean not_sued?`},
		{14, `constant cut_off_date: "31/12/2018" is not a date`},
	}
	for _, w := range want {
		found := false
		for _, e := range es {
			if e.Line == w.line && strings.Contains(e.Message, w.text) && e.File == "testdata/mapping_bad.yaml" && e.Column > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at line %d containing %q; got:\n%v", w.line, w.text, err)
		}
	}
	var one *MappingError
	if !errors.As(err, &one) {
		t.Error("errors.As does not find a *MappingError")
	}

	_, err = LoadMapping("testdata/mapping_bad.json")
	if err == nil || !strings.Contains(err.Error(), `mapping_bad.json:2:`) || !strings.Contains(err.Error(), `did you mean loan_id?`) ||
		!strings.Contains(err.Error(), `mapping_bad.json:3:`) || !strings.Contains(err.Error(), "header_row") {
		t.Errorf("json errors = %v", err)
	}
}

func TestParseMappingCases(t *testing.T) {
	tests := []struct {
		name, file, src, want string // want "" means valid
	}{
		{"minimal", "m.yaml", "columns: {a: loan_id}", ""},
		{"empty", "m.yaml", "", "empty"},
		{"not a map", "m.yaml", "- a\n- b", "must be a mapping"},
		{"yaml syntax", "m.yaml", "columns:\n  a: [loan_id\n", "m.yaml:"},
		{"json syntax", "m.json", "{\"columns\": {\"a\": }}", "m.json:1:"},
		{"json trailing", "m.json", "{} {}", "after the top-level"},
		{"duplicate yaml key", "m.yaml", "columns:\n  a: loan_id\n  a: borrower_id\n", "appears twice"},
		{"duplicate json key", "m.json", `{"columns": {"a": "loan_id", "a": "borrower_id"}}`, "m.json:1:30: key \"a\" appears twice"},
		{"alias hint", "m.yaml", "columns: {a: 本金余额}", "did you mean principal_outstanding"},
		{"unit and scale", "m.yaml", "columns: {a: {field: principal_outstanding, unit: wan, scale: 10000}}", "not both"},
		{"scale cent", "m.yaml", "columns: {a: {field: principal_outstanding, scale: 0.01}}", ""},
		{"constant and column", "m.yaml", "columns: {a: currency}\nconstants: {currency: CNY}", "bound twice"},
		{"bad date format", "m.yaml", "date_format: QQ-YYYY", "unknown token"},
		{"date format no month", "m.yaml", "date_format: YYYY", "year and a month"},
		{"go layout", "m.yaml", "date_format: \"02.01.2006\"", ""},
		{"bad enum value", "m.yaml", "columns: {s: {field: legal_status, values: {x: sued}}}", "not a valid legal_status"},
		{"bad encoding", "m.yaml", "encoding: latin1", "unknown encoding"},
		{"invert on text", "m.yaml", "columns: {a: {field: court, invert: true}}", "yes/no fields only"},
		{"bad constant int", "m.yaml", "constants: {agency_placements: many}", "whole number"},
		{"bad currency", "m.yaml", "constants: {currency: dollars}", "ISO 4217"},
		{"currency of three letters not in ISO 4217", "m.yaml", "constants: {currency: ABC}", "ISO 4217"},
		{"currency in ISO 4217", "m.yaml", "constants: {currency: usd}", ""},
		{"no field", "m.yaml", "columns: {a: {unit: wan}}", "name no field"},
		{"null column", "m.yaml", "columns: {a: }", "names no field"},
		{"merge key", "m.yaml", "base: &b {a: loan_id}\ncolumns: {<<: *b}", "merge keys"},
		{"alias bomb", "m.yaml", "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n", "too deeply nested or too large"},
		{"sniff json", "mapping", `{"columns": {"a": "loan_id"}}`, ""},
		{"extras twice", "m.yaml", "extras: [a, a]", "twice"},
		{"invalid utf8", "m.yaml", "name: \xff", "UTF-8"},
		{"sum", "m.yaml", "sums: {interest_outstanding: [表内利息, 表外利息, 罚息, 复利]}", ""},
		{"sum with unit", "m.yaml", "sums: {interest_outstanding: {columns: [a, b], unit: wan}}", ""},
		{"sum of text", "m.yaml", "sums: {court: [a, b]}", "only money fields"},
		{"sum of one", "m.yaml", "sums: {interest_outstanding: [a]}", "at least two"},
		{"sum twice", "m.yaml", "sums: {interest_outstanding: [a, a]}", "twice"},
		{"sum and column", "m.yaml", "columns: {i: interest_outstanding}\nsums: {interest_outstanding: [a, b]}", "bound twice"},
		{"sum bad key", "m.yaml", "sums: {interest_outstanding: {cols: [a, b]}}", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMapping([]byte(tt.src), tt.file)
			if tt.want == "" {
				if err != nil || m == nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if m != nil {
				t.Error("a Mapping came back with an error")
			}
		})
	}
}

func TestDateLayoutOf(t *testing.T) {
	tests := map[string]string{
		"YYYY-MM-DD":  "2006-01-02",
		"YYYY/MM/DD":  "2006/01/02",
		"DD/MM/YYYY":  "02/01/2006",
		"MM/DD/YYYY":  "01/02/2006",
		"YYYYMMDD":    "20060102",
		"Mon-YYYY":    "Jan-2006",
		"MMM-YY":      "Jan-06",
		"YYYY年M月D日":   "2006年1月2日",
		"2006-01-02":  "2006-01-02",
		"D MMMM YYYY": "2 January 2006",
	}
	for in, want := range tests {
		got, err := DateLayoutOf(in)
		if err != nil || got != want {
			t.Errorf("DateLayoutOf(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, name := range []string{"mapping_full.yaml", "mapping_full.json", "mapping_bad.yaml", "mapping_bad.json"} {
		b, err := readTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".json"))
	}
	if b, err := readFileUp("mappings/lendingclub.yaml"); err == nil {
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		name := "fuzz.yaml"
		if isJSON {
			name = "fuzz.json"
		}
		m, err := ParseMapping(data, name)
		if err != nil {
			if m != nil {
				t.Fatal("mapping and error")
			}
			var es MappingErrors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is not MappingErrors: %v", err)
			}
			for _, e := range es {
				if e.File != name {
					t.Fatalf("error without the file name: %v", e)
				}
			}
			return
		}
		for _, cm := range m.Columns {
			if len(cm.Fields) == 0 {
				t.Fatal("column without fields")
			}
		}
		// Whatever parsed must be usable by NewLayout without panicking.
		var header []string
		for h := range m.Columns {
			header = append(header, h)
		}
		header = append(header, m.Extras...)
		_, _ = NewLayout(header, m)
	})
}
