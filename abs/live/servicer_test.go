package live

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tlog/verify"
)

// TestParseServicerFile: a per-loan file is read with its optional columns in any order; an
// older date,amount file still reads as unallocated flows; every bad row is named by line and
// column.
func TestParseServicerFile(t *testing.T) {
	sf, err := ParseServicerFile([]byte("\ufeffTxn_ID, Amount,Loan,Date,channel\nT1,10.50,L1,2016-06-02,court\n,3,12/L-9,2016-05-01,\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []ServicerRow{
		{Line: 2, Date: date.Of(2016, 6, 2), Loan: "L1", Amount: money.New(1050, money.CNY), Channel: verify.ChannelCourt, TxnID: "T1"},
		{Line: 3, Date: date.Of(2016, 5, 1), Loan: "12/L-9", Amount: money.New(300, money.CNY), Channel: verify.ChannelBankTransfer},
	}
	if sf.Flows != nil || fmt.Sprint(sf.Rows) != fmt.Sprint(want) {
		t.Fatalf("rows %+v", sf.Rows)
	}
	sf, err = ParseServicerFile([]byte("date,amount\n2016-06-30,1000.00\n"))
	if err != nil || sf.Rows != nil || len(sf.Flows) != 1 || sf.Flows[0].Amount.Minor() != 100000 {
		t.Fatalf("date,amount file: %+v %v", sf, err)
	}
	for _, c := range []struct {
		name, file string
		fields     []string
	}{
		{"bad values", "date,loan,amount,channel,txn_id\n2016-02-30,L1,1.00,,\n2016-03-01,,1.00,,\n2016-03-01,L1,-2,,\n2016-03-01,L1,0,,\n2016-03-01,L1,1.00,fax,\n",
			[]string{"line 2 date", "line 3 loan", "line 4 amount", "line 5 amount", "line 6 channel"}},
		{"duplicate transaction", "date,loan,amount,txn_id\n2016-03-01,L1,1.00,T-1\n2016-03-02,L2,1.00,t-1\n", []string{"line 3 txn_id"}},
		{"short row", "date,loan,amount\n2016-03-01,L1\n", []string{"line 2"}},
		{"unknown column", "date,loan,amount,colour\n2016-03-01,L1,1.00,red\n", []string{"line 1 column 4"}},
		{"no amount column", "date,loan\n2016-03-01,L1\n", []string{"line 1 amount"}},
		{"twice", "date,loan,amount,loan\n", []string{"line 1 loan"}},
	} {
		_, err := ParseServicerFile([]byte(c.file))
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !asError(err, &re) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, f := range c.fields {
			if re.Fields[f] == "" {
				t.Errorf("%s: no problem at %q: %v", c.name, f, re.Fields)
			}
		}
		if len(re.Fields) != len(c.fields) {
			t.Errorf("%s: problems %v, want %v", c.name, re.Fields, c.fields)
		}
	}
	if _, err := ParseServicerFile([]byte("date,loan,amount\n")); reclaim.ErrorCode(err) != reclaim.EINVALID {
		t.Errorf("a header without rows: %v", err)
	}
}

func asError(err error, re **reclaim.Error) bool {
	e, ok := err.(*reclaim.Error)
	if ok {
		*re = e
	}
	return ok
}

// TestAllocateServicerRows: rows pay fees, then interest, then principal, against what earlier
// rows left; two names of one loan share its balance; unknown loans and overpayments are named by
// line and nothing is allocated.
func TestAllocateServicerRows(t *testing.T) {
	l1 := LoanBalance{Ref: "L1", Fees: 100, Interest: 200, Principal: 1000}
	loans := map[string]LoanBalance{"L1": l1, "7/A1": l1, "L2": {Ref: "L2", Principal: 50}}
	row := func(line int, loan string, amt int64) ServicerRow {
		return ServicerRow{Line: line, Loan: loan, Amount: money.New(amt, money.CNY), Date: date.Of(2016, 5, 1), Channel: verify.ChannelBankTransfer}
	}
	ps, err := AllocateServicerRows([]ServicerRow{row(2, "L1", 150), row(3, "7/A1", 300), row(4, "L2", 50)}, loans)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %d/%d/%d; %s %d/%d/%d; %s %d/%d/%d", ps[0].Ref, ps[0].Fees, ps[0].Interest, ps[0].Principal,
		ps[1].Ref, ps[1].Fees, ps[1].Interest, ps[1].Principal, ps[2].Ref, ps[2].Fees, ps[2].Interest, ps[2].Principal)
	if got != "L1 100/50/0; L1 0/150/150; L2 0/0/50" {
		t.Fatalf("allocation %s", got)
	}
	_, err = AllocateServicerRows([]ServicerRow{row(2, "L1", 1000), row(3, "7/A1", 301), row(4, "NOPE", 1)}, loans)
	var re *reclaim.Error
	if !asError(err, &re) || re.Code != reclaim.EINVALID || !strings.Contains(re.Fields["line 3 amount"], "exceeds loan L1's balance 3.00") ||
		re.Fields["line 4 loan"] == "" || len(re.Fields) != 2 {
		t.Fatalf("refused file: %v", err)
	}
}

// TestAllocateServicerRowsProperties: over random loans and files, an accepted file's postings
// sum to each row's amount, never take a part below zero, pay fees before interest before
// principal, and a refused file exceeds some loan's balance or names an unknown loan.
func TestAllocateServicerRowsProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "loans")
		loans := map[string]LoanBalance{}
		var names []string
		for i := range n {
			l := LoanBalance{Ref: fmt.Sprintf("L%d", i), Fees: rapid.Int64Range(0, 1000).Draw(t, "f"),
				Interest: rapid.Int64Range(0, 1000).Draw(t, "i"), Principal: rapid.Int64Range(0, 5000).Draw(t, "p")}
			loans[l.Ref] = l
			loans[fmt.Sprintf("9/K%d", i)] = l
			names = append(names, l.Ref, fmt.Sprintf("9/K%d", i))
		}
		names = append(names, "UNKNOWN")
		var rows []ServicerRow
		for i := range rapid.IntRange(1, 12).Draw(t, "rows") {
			rows = append(rows, ServicerRow{Line: i + 2, Loan: rapid.SampledFrom(names).Draw(t, "loan"),
				Amount: money.New(rapid.Int64Range(1, 3000).Draw(t, "amt"), money.CNY)})
		}
		ps, err := AllocateServicerRows(rows, loans)
		// The model: running balances by reference.
		left := map[string]int64{}
		parts := map[string][3]int64{}
		for _, l := range loans {
			left[l.Ref] = l.Balance()
			parts[l.Ref] = [3]int64{l.Fees, l.Interest, l.Principal}
		}
		ok := true
		for _, r := range rows {
			l, known := loans[r.Loan]
			if !known || r.Amount.Minor() > left[l.Ref] {
				ok = false
				continue
			}
			left[l.Ref] -= r.Amount.Minor()
		}
		if !ok {
			if err == nil {
				t.Fatalf("a file with an unknown loan or an overpayment was accepted")
			}
			return
		}
		if err != nil {
			t.Fatalf("a good file refused: %v", err)
		}
		for i, p := range ps {
			if p.Fees < 0 || p.Interest < 0 || p.Principal < 0 || p.Fees+p.Interest+p.Principal != rows[i].Amount.Minor() {
				t.Fatalf("posting %+v of row %+v", p, rows[i])
			}
			pr := parts[p.Ref]
			if (p.Interest > 0 || p.Principal > 0) && pr[0] != p.Fees {
				t.Fatalf("interest or principal paid while fees are owed: %+v with %v", p, pr)
			}
			if p.Principal > 0 && pr[1] != p.Interest {
				t.Fatalf("principal paid while interest is owed: %+v with %v", p, pr)
			}
			pr[0] -= p.Fees
			pr[1] -= p.Interest
			pr[2] -= p.Principal
			if pr[0] < 0 || pr[1] < 0 || pr[2] < 0 {
				t.Fatalf("a part below zero: %v", pr)
			}
			parts[p.Ref] = pr
		}
	})
}

// FuzzParseServicerFile: the parser never panics; it returns per-loan rows with positive amounts
// and named loans, or date,amount flows, or an EINVALID error.
func FuzzParseServicerFile(f *testing.F) {
	f.Add([]byte("date,loan,amount,channel,txn_id\n2016-06-02,L1,10.50,court,T1\n2016-06-03,7/A,1,,\n"))
	f.Add([]byte("date,amount\n2016-06-30,1000.00\n"))
	f.Add([]byte("loan\n\"unterminated\n"))
	f.Add([]byte("date,loan,amount\n2016-02-30,,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := ParseServicerFile(data)
		if err != nil {
			if reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Fatalf("code %s: %v", reclaim.ErrorCode(err), err)
			}
			return
		}
		if (sf.Rows == nil) == (sf.Flows == nil) {
			t.Fatalf("rows and flows: %+v", sf)
		}
		for _, r := range sf.Rows {
			if r.Amount.Minor() <= 0 || r.Loan == "" || r.Date.IsZero() || r.Channel == "" {
				t.Fatalf("row %+v", r)
			}
		}
	})
}
