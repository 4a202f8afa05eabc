package tape

import (
	"slices"
	"testing"
)

// splitInterestTape is the fixture loan written with its interest split into four columns, as
// Chinese banks' tapes carry it, and no interest total.
func splitInterestTape(t *testing.T, parts [4]string, unitSuffix string) ([]string, []string) {
	t.Helper()
	l, p := fixture()
	cols := AllColumns(true)
	header := HeaderRow(cols, EncodeOptions{Chinese: true})
	row := EncodeLoan(&l, &p, cols, EncodeOptions{Chinese: true})
	i := slices.Index(cols, FInterest)
	header = slices.Delete(header, i, i+1)
	row = slices.Delete(row, i, i+1)
	for k, h := range []string{"表内利息", "表外利息", "罚息", "复利"} {
		header = append(header, h+unitSuffix)
		row = append(row, parts[k])
	}
	return header, row
}

func TestSplitInterestIsSummedExactly(t *testing.T) {
	l, _ := fixture() // interest 8,123.45
	for _, tc := range []struct {
		name   string
		parts  [4]string
		suffix string
	}{
		{"yuan", [4]string{"5000.10", "2000.01", "1023.33", "100.01"}, "(元)"},
		{"blank parts are zero", [4]string{"8123.45", "", "", "0"}, ""},
		{"wan", [4]string{"0.500010", "0.200001", "0.102333", "0.010001"}, "(万元)"},
		{"wan written in the cells too", [4]string{"0.500010万元", "0.200001万", "0.102333", "0.010001 万元"}, "(万元)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, row := splitInterestTape(t, tc.parts, tc.suffix)
			res := convertCells(t, header, nil, row)[0]
			if !res.OK() {
				t.Fatalf("errors: %v", res.Errors)
			}
			if res.Loan.InterestOutstanding != l.InterestOutstanding {
				t.Errorf("interest %v, want %v", res.Loan.InterestOutstanding, l.InterestOutstanding)
			}
		})
	}
}

func TestSplitInterestByMapping(t *testing.T) {
	l, _ := fixture()
	header, row := splitInterestTape(t, [4]string{"5000.10", "2000.01", "1023.33", "100.01"}, "")
	for i, h := range header {
		switch h {
		case "表内利息":
			header[i] = "on_book"
		case "表外利息":
			header[i] = "off_book"
		case "罚息":
			header[i] = "penalty"
		case "复利":
			header[i] = "compound"
		}
	}
	// Without a mapping the renamed columns mean nothing: interest is missing.
	lay, err := NewLayout(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lay.Bindings[FInterest] != nil {
		t.Fatal("interest bound without a mapping")
	}
	m, err := ParseMapping([]byte("sums:\n  interest_outstanding: [on_book, off_book, penalty, compound]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := convertCells(t, header, m, row)[0]
	if !res.OK() || res.Loan.InterestOutstanding != l.InterestOutstanding {
		t.Fatalf("interest %v errors %v", res.Loan.InterestOutstanding, res.Errors)
	}
	// A bad part is reported under the field with the part's column named.
	row[slices.Index(header, "penalty")] = "12.3x"
	res = convertCells(t, header, m, row)[0]
	if len(res.Errors) == 0 || res.Errors[0].Rule != RuleAmountFormat || res.Errors[0].Field != "interest_outstanding" {
		t.Fatalf("errors %v", res.Errors)
	}
	// A sum column missing from the tape is a layout error naming it.
	m2, _ := ParseMapping([]byte("sums:\n  interest_outstanding: [on_book, nowhere]\n"), "m.yaml")
	if _, err := NewLayout(header, m2); err == nil {
		t.Fatal("missing sum column accepted")
	}
}

func TestOneInterestPartIsNotATotal(t *testing.T) {
	header, row := splitInterestTape(t, [4]string{"1", "2", "3", "4"}, "")
	// Keep only 罚息: a tape with penalty interest alone has no interest total.
	n := len(header)
	header = append(header[:n-4], header[n-2])
	row = append(row[:n-4], row[n-2])
	lay, err := NewLayout(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lay.Bindings[FInterest] != nil {
		t.Fatalf("interest bound to %q", lay.Bindings[FInterest].Header)
	}
	if !slices.Contains(MissingCritical(lay), FInterest) {
		t.Fatal("interest_outstanding not reported missing")
	}
}
