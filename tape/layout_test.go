package tape

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"reclaim/date"
	"reclaim/money"
)

func TestLayoutAliases(t *testing.T) {
	header := []string{"借据号", "客户号", "本金余额(万元)", "利息余额", "逾期起始日", "是否失联", "五级分类", "备注"}
	l, err := NewLayout(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := l.Bindings[FPrincipal]
	if b == nil || b.Column != 2 || b.Unit != money.Wan {
		t.Errorf("principal binding = %+v", b)
	}
	if b := l.Bindings[FPhoneAvailable]; b == nil || !b.Invert || b.Column != 5 {
		t.Errorf("phone binding = %+v", b)
	}
	if diff := cmp.Diff([]string{"备注"}, l.Unmapped); diff != "" {
		t.Error(diff)
	}
	cells := []string{" L1 ", "C1", "1.5", "", "2023-01-15", "否", "损失", "x"}
	if v, b, ok := l.Value(FLoanID, cells); v != "L1" || !ok || b.Header != "借据号" {
		t.Errorf("Value(loan_id) = %q %v %v", v, b, ok)
	}
	if v, b, ok := l.Value(FInterest, cells); v != "" || ok || b == nil {
		t.Errorf("empty interest: %q %v %v", v, b, ok)
	}
	if _, b, ok := l.Value(FCourt, cells); ok || b != nil {
		t.Error("unbound field reported")
	}
	if _, _, ok := l.Value(FLoanID, cells[:0]); ok {
		t.Error("short row")
	}
	missing := l.Missing()
	for _, f := range missing {
		if !Fields[f].Critical || l.Bindings[f] != nil {
			t.Errorf("Missing lists %v", f)
		}
	}
	if len(missing) == 0 || missing[0] != FPortfolioID {
		t.Errorf("Missing = %v", missing)
	}
}

func TestLayoutMapping(t *testing.T) {
	m, err := LoadMapping("testdata/mapping_full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"status", "ＩＤ", "loan_amnt", "本金(万元)", "利息(千元)", "last_pymnt_d", "是否失联", "addr_state", "违约月份", "grade", "fico_range_low", "currency_note", "court"}
	l, err := NewLayout(header, m)
	if err != nil {
		t.Fatal(err)
	}
	cells := []string{"已起诉", "42", "1000", "1.5", "2", "2018-03-01", "否", "CA", "Mar-2018", "B", "700", "", "某法院"}
	get := func(f Field) string { v, _, _ := l.Value(f, cells); return v }
	want := map[Field]string{
		FLoanID: "42", FBorrowerID: "42", FOriginalAmount: "1000", FPrincipal: "1.5", FInterest: "2",
		FLegalStatus: "in_litigation", FRegionCode: "US-CA", FCutOffDate: "2018-12-01", FCurrency: "USD",
		FWrittenOff: "true", FCourt: "某法院",
	}
	for f, w := range want {
		if got := get(f); got != w {
			t.Errorf("%s = %q, want %q", f, got, w)
		}
	}
	if b := l.Bindings[FPrincipal]; b.Unit != money.Wan {
		t.Errorf("unit %v", b.Unit)
	}
	if b := l.Bindings[FInterest]; b.Unit != money.Thousand {
		t.Errorf("unit %v", b.Unit)
	}
	if b := l.Bindings[FLastPaymentDate]; b.DateLayout != "2006-01-02" {
		t.Errorf("layout %q", b.DateLayout)
	}
	if b := l.Bindings[FDefaultDate]; b.DateLayout != "Jan-2006" {
		t.Errorf("layout %q", b.DateLayout)
	} else if d, err := date.ParseLayout(get(FDefaultDate), b.DateLayout); err != nil || d != date.Of(2018, 3, 1) {
		t.Errorf("default date %v %v", d, err)
	}
	if b := l.Bindings[FPhoneAvailable]; !b.Invert {
		t.Error("invert lost")
	}
	if b := l.Bindings[FCutOffDate]; b.Column != -1 {
		t.Errorf("constant binding %+v", b)
	}
	if diff := cmp.Diff(map[string]string{"grade": "B", "fico_range_low": "700"}, l.ExtrasOf(cells)); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"currency_note"}, l.Unmapped); diff != "" {
		t.Error(diff)
	}
}

func TestLayoutErrors(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		m      string
		want   []string
	}{
		{"alias bound twice", []string{"loan_id", "本金余额", "未偿本金"}, "", []string{"principal_outstanding is bound twice", "column B (本金余额)", "column C (未偿本金)"}},
		{"duplicate header", []string{"loan_id", "x", "loan_id"}, "", []string{"loan_id is bound twice", "column A", "column C"}},
		{"mapped duplicate", []string{"id", "id"}, "columns: {id: loan_id}", []string{`"id" appears 2 times`, "A, B"}},
		{"absent column", []string{"loan_number_x"}, "columns: {loan_numbr_x: loan_id}", []string{`"loan_numbr_x" is not in the tape's header; did you mean loan_number_x?`}},
		{"absent extra", []string{"a"}, "extras: [grade]", []string{`extras: column "grade" is not in the tape's header`}},
		{"empty header", []string{"loan_id", " ", "c"}, "", []string{"column 2 (B) is empty"}},
		// Extras are stored and listed in clear: personal columns may not ride along.
		{"birth date as an extra", []string{"loan_id", "dob"}, "extras: [dob]", []string{`column "dob" is personal data (birth_date)`}},
		{"ID as an extra", []string{"loan_id", "身份证号"}, "extras: [身份证号]", []string{`is personal data (national_id)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *Mapping
			if tt.m != "" {
				var err error
				if m, err = ParseMapping([]byte(tt.m), "m.yaml"); err != nil {
					t.Fatal(err)
				}
			}
			_, err := NewLayout(tt.header, m)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want %q", err, w)
				}
			}
		})
	}
	// A field bound both by a mapping column and by a constant (a Mapping built in code).
	m := &Mapping{Columns: map[string]ColumnMap{"a": {Fields: []Field{FCurrency}}}, Constants: map[Field]string{FCurrency: "CNY"}}
	if _, err := NewLayout([]string{"a"}, m); err == nil || !strings.Contains(err.Error(), "by a constant") {
		t.Errorf("err = %v", err)
	}
	// The mapping wins over an alias column for the same field.
	m2, _ := ParseMapping([]byte("columns: {id: loan_id}"), "m.yaml")
	l, err := NewLayout([]string{"loan_id", "id"}, m2)
	if err != nil || l.Bindings[FLoanID].Column != 1 || len(l.Unmapped) != 1 || l.Unmapped[0] != "loan_id" {
		t.Errorf("mapping precedence: %v %+v", err, l)
	}
}

func TestLayoutDuplicateHeadersCSV(t *testing.T) {
	src := openTestdata(t, "duplicate_headers.csv", OpenOptions{})
	_, err := NewLayout(src.Header(), nil)
	if err == nil || !strings.Contains(err.Error(), "loan_id is bound twice") || !strings.Contains(err.Error(), "principal_outstanding is bound twice") {
		t.Errorf("err = %v", err)
	}
}

// lendingClubPath finds the shared LendingClub file (outside the repository; absent in most
// checkouts).
func lendingClubPath() string {
	for _, p := range []string{"../../shared/data/lendingclub/chargedoff_dev.csv", "/work/shared/data/lendingclub/chargedoff_dev.csv"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestLendingClubMapping(t *testing.T) {
	m, err := LoadMapping("../mappings/lendingclub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := lendingClubPath()
	if path == "" {
		t.Skip("shared/data/lendingclub/chargedoff_dev.csv is not present")
	}
	src, err := Open(path, OpenOptions{}.WithMapping(m))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	l, err := NewLayout(src.Header(), m)
	if err != nil {
		t.Fatal(err)
	}
	if miss := l.Missing(); len(miss) != 3 {
		// total_claim and days_past_due are derived; limitation_expiry_date is unknown for US loans.
		t.Errorf("missing critical fields: %v", miss)
	}
	n, noPayment := 0, 0
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *RowError
			if errors.As(err, &re) {
				t.Errorf("row error: %v", re)
				continue
			}
			t.Fatal(err)
		}
		n++
		id, _, ok := l.Value(FLoanID, row.Cells)
		if bid, _, _ := l.Value(FBorrowerID, row.Cells); !ok || bid != id {
			t.Fatalf("line %d: loan_id %q borrower_id %q", row.Line, id, bid)
		}
		p, b, ok := l.Value(FPrincipal, row.Cells)
		if !ok {
			t.Fatalf("line %d: no principal", row.Line)
		}
		if _, err := money.ParseUnit(p, money.USD, b.Unit, money.HalfUp); err != nil {
			t.Fatalf("line %d: principal %q: %v", row.Line, p, err)
		}
		for _, f := range []Field{FOriginationDate, FCutOffDate, FDefaultDate, FLastPaymentDate} {
			v, b, ok := l.Value(f, row.Cells)
			if !ok {
				// A few charged-off loans never paid at all: no last payment date.
				if f == FLastPaymentDate {
					noPayment++
				}
				if f == FDefaultDate || f == FLastPaymentDate {
					continue
				}
				t.Fatalf("line %d: no %s", row.Line, f)
			}
			if _, err := date.ParseLayout(v, b.DateLayout); err != nil && b.DateLayout != "" {
				t.Fatalf("line %d: %s %q: %v", row.Line, f, v, err)
			}
		}
		if r, _, _ := l.Value(FRegionCode, row.Cells); !strings.HasPrefix(r, "US-") || len(r) != 5 {
			t.Fatalf("line %d: region %q", row.Line, r)
		}
		ex := l.ExtrasOf(row.Cells)
		if len(ex) != len(m.Extras) || ex["grade"] == "" {
			t.Fatalf("line %d: extras %v", row.Line, ex)
		}
	}
	if n != 4481 {
		t.Errorf("read %d loans, want 4481", n)
	}
	// 62 loans of the file never made a payment: they have no last payment (nor proxy default) date.
	if noPayment > n/50 {
		t.Errorf("%d of %d loans have no last payment date", noPayment, n)
	}
	t.Logf("%d loans, %d without a last payment date", n, noPayment)
}

func TestLayoutFallback(t *testing.T) {
	m, err := ParseMapping([]byte("columns:\n  paid: default_date\nfallbacks:\n  default_date: issued\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLayout([]string{"paid", "issued"}, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cells []string
		want  string
	}{
		{[]string{"2020-05-01", "2019-01-01"}, "2020-05-01"},
		{[]string{"", "2019-01-01"}, "2019-01-01"},
		{[]string{" ", ""}, ""},
	} {
		if got, _, _ := l.Value(FDefaultDate, tc.cells); got != tc.want {
			t.Errorf("Value(%q) = %q, want %q", tc.cells, got, tc.want)
		}
	}
	if _, err := NewLayout([]string{"paid"}, m); err == nil || !strings.Contains(err.Error(), "issued") {
		t.Errorf("missing fallback column: %v", err)
	}
	if _, err := ParseMapping([]byte("fallbacks:\n  default_dat: issued\n"), "m.yaml"); err == nil || !strings.Contains(err.Error(), "default_date") {
		t.Errorf("unknown field in fallbacks: %v", err)
	}
}

// FuzzTrimCell: trimCell is strings.TrimSpace.
func FuzzTrimCell(f *testing.F) {
	for _, s := range []string{"", " ", "a", " a", "a ", "长", "\u3000长\u3000", "长\u00a0", "\u0085x", "x\u2028", "\u1680", "长\u205f",
		"\xe3", "\xc2", "a\xe2\x80", "\xe2\x80\x8a", "a\xc2\xa0", "\xe3\x80\x80", "中文\t", "\x85", "\xff "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimCell(s), strings.TrimSpace(s); got != want {
			t.Fatalf("trimCell(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestTrimCellEveryRune: every character, alone or between letters, at either end.
func TestTrimCellEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		c := string(r)
		for _, s := range []string{c, "a" + c, c + "a", "长" + c, c + "长"} {
			if got, want := trimCell(s), strings.TrimSpace(s); got != want {
				t.Fatalf("trimCell(%q) = %q, want %q", s, got, want)
			}
		}
	}
}
