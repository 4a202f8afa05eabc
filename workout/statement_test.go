package workout

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

const goodStatement = `txn_id,date,amount,payer_name,payer_account,reference,reverses
T1,2026-11-02,1200.50,张三,6222000011112222,还款 LN-2024-0001,
T2,2026-11-02,300,李四,,CASE-000042 李四还款,
T3,2026/11/03,-1200.50,张三,6222000011112222,退票,T1

T4,2026-11-04,"1,000.00",王五,,,
`

func TestParseStatementGood(t *testing.T) {
	st, err := ParseStatement(strings.NewReader(goodStatement), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lines) != 4 {
		t.Fatalf("got %d lines, want 4", len(st.Lines))
	}
	l := st.Lines[0]
	if l.Line != 2 || l.TxnID != "T1" || l.Date.String() != "2026-11-02" || l.Amount != money.New(120050, "CNY") || l.PayerName != "张三" || l.Reference != "还款 LN-2024-0001" {
		t.Errorf("line 1 = %+v", l)
	}
	if r := st.Lines[2]; !r.IsReversal() || r.Reverses != "T1" || r.Amount.Minor() != -120050 {
		t.Errorf("reversal = %+v", r)
	}
	if st.Lines[3].Line != 6 || st.Lines[3].Amount.Minor() != 100000 {
		t.Errorf("line after the blank = %+v", st.Lines[3])
	}
	if len(st.SHA256) != 64 {
		t.Errorf("sha256 %q", st.SHA256)
	}
}

func TestParseStatementGBKChineseHeaders(t *testing.T) {
	src := "交易流水号,交易日期,交易金额,对方户名,附言\nB001,2026年11月2日,500.00,赵六,LN-2024-0009\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatement(bytes.NewReader(gbk), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lines) != 1 || st.Lines[0].PayerName != "赵六" || st.Lines[0].Date.String() != "2026-11-02" {
		t.Fatalf("got %+v", st.Lines)
	}
}

func TestParseStatementErrors(t *testing.T) {
	const h = "txn_id,date,amount,reference,reverses\n"
	cases := []struct {
		name, src string
		line      int
		field     string
		rule      string
	}{
		{"unknown column", "txn_id,date,amount,colour\nT1,2026-11-02,1.00,red\n", 1, "colour", StmtRuleUnknownColumn},
		{"missing column", "txn_id,amount\nT1,1.00\n", 1, "date", StmtRuleMissingColumn},
		{"duplicate txn", h + "T1,2026-11-02,1.00,a,\nt1,2026-11-03,2.00,b,\n", 3, "txn_id", StmtRuleDuplicateTxn},
		{"duplicate line", h + "T1,2026-11-02,1.00,LN-12345,\nT2,2026-11-02,1.00,ln-12345,\n", 3, "reference", StmtRuleDuplicateLine},
		{"negative without original", h + "T1,2026-11-02,-5.00,bounce,\n", 2, "amount", StmtRuleNegativeNoRef},
		{"reverses on a credit", h + "T1,2026-11-02,5.00,x,T0\n", 2, "reverses", StmtRuleReversesOnPos},
		{"reverses itself", h + "T1,2026-11-02,-5.00,x,t1\n", 2, "reverses", StmtRuleReversesSelf},
		{"bad date", h + "T1,2026-02-30,5.00,x,\n", 2, "date", StmtRuleDateSyntax},
		{"bad amount", h + "T1,2026-02-03,5.0.0,x,\n", 2, "amount", StmtRuleAmountSyntax},
		{"zero amount", h + "T1,2026-02-03,0.00,x,\n", 2, "amount", StmtRuleAmountZero},
		{"too many decimals", h + "T1,2026-02-03,5.001,x,\n", 2, "amount", StmtRuleAmountSyntax},
		{"no txn id", h + " ,2026-02-03,5.00,x,\n", 2, "txn_id", StmtRuleRequired},
		{"control char", h + "T1,2026-02-03,5.00,a\x01b,\n", 2, "reference", StmtRuleText},
		{"csv syntax", h + "T1,2026-02-03,\"5.00,x,\n", 2, "file", StmtRuleCSVSyntax},
		{"empty", "", 1, "file", StmtRuleEmpty},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := ParseStatement(strings.NewReader(c.src), nil)
			if err == nil {
				t.Fatalf("accepted: %+v", st)
			}
			if st != nil {
				t.Fatal("a rejected file returned lines")
			}
			if reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Errorf("code %s", reclaim.ErrorCode(err))
			}
			var re *reclaim.Error
			errors.As(err, &re)
			if re.Fields["line"] != itoa(c.line) || re.Fields["field"] != c.field || re.Fields["rule"] != c.rule {
				t.Errorf("fields %v, want line %d field %s rule %s; %v", re.Fields, c.line, c.field, c.rule, err)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseStatementListsEveryProblem(t *testing.T) {
	src := "txn_id,date,amount\nT1,bad,1.00\nT2,2026-01-01,x\nT3,2026-01-01,-1\n"
	_, err := ParseStatement(strings.NewReader(src), nil)
	var es StatementErrors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	for i, want := range []int{2, 3, 4} {
		if es[i].Line != want {
			t.Errorf("problem %d on line %d, want %d", i, es[i].Line, want)
		}
	}
}

func TestStatementMappingNotStrict(t *testing.T) {
	m, err := ParseStatementMapping([]byte(`
name: lenient
strict: false
amount_unit: fen
date_format: DD/MM/YYYY
columns:
  txn_id: [id]
  date: [day]
  amount: [cents]
`), "lenient.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatement(strings.NewReader("id,day,cents,colour\nA1,02/11/2026,12345,red\n"), m)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines[0].Amount.Minor() != 12345 || st.Lines[0].Date.String() != "2026-11-02" {
		t.Fatalf("got %+v", st.Lines[0])
	}
}

func TestParseStatementMappingErrors(t *testing.T) {
	for name, src := range map[string]string{
		"unknown key":      "name: x\ncolums: {}\n",
		"unknown field":    "name: x\ncolumns: {txn_id: [a], date: [b], amount: [c], colour: [d]}\n",
		"missing required": "name: x\ncolumns: {txn_id: [a], date: [b]}\n",
		"alias twice":      "name: x\ncolumns: {txn_id: [a], date: [a], amount: [c]}\n",
		"bad unit":         "name: x\namount_unit: bushel\ncolumns: {txn_id: [a], date: [b], amount: [c]}\n",
		"bad encoding":     "name: x\nencoding: latin1\ncolumns: {txn_id: [a], date: [b], amount: [c]}\n",
		"bad date format":  "name: x\ndate_format: QQ\ncolumns: {txn_id: [a], date: [b], amount: [c]}\n",
	} {
		if _, err := ParseStatementMapping([]byte(src), "m.yaml"); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// The shipped default mapping file is DefaultStatementMapping.
func TestDefaultMappingFileMatches(t *testing.T) {
	b, err := os.ReadFile("../mappings/statement-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseStatementMapping(b, "statement-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultStatementMapping()
	if m.Name != d.Name || m.Strict != d.Strict || m.cur != d.cur || m.unit != d.unit || m.layout != d.layout || len(m.Columns) != len(d.Columns) {
		t.Fatalf("file %+v, default %+v", m, d)
	}
	for f, a := range d.Columns {
		if !slices.Equal(m.Columns[f], a) {
			t.Errorf("%s: file %v, default %v", f, m.Columns[f], a)
		}
	}
}

func TestShippedStatementMappings(t *testing.T) {
	for _, f := range []string{"../mappings/statement-default.yaml", "../mappings/statement-gbk-bank.yaml"} {
		b, err := readFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseStatementMapping(b, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(goodStatement))
	f.Add([]byte("txn_id,date,amount\nT1,2026-11-02,-1\n"))
	f.Add([]byte("交易流水号,交易日期,交易金额\n1,2026年1月2日,¥5\n"))
	f.Add([]byte("txn_id,date,amount\n\"T1,2026"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStatement(bytes.NewReader(b), nil)
		if err != nil {
			if st != nil {
				t.Fatal("error with lines")
			}
			if c := reclaim.ErrorCode(err); c != reclaim.EINVALID && c != reclaim.ETOOLARGE {
				t.Fatalf("code %s: %v", c, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, l := range st.Lines {
			if l.TxnID == "" || l.Date.IsZero() || l.Amount.Sign() == 0 || seen[l.TxnID] {
				t.Fatalf("bad accepted line %+v", l)
			}
			if l.IsReversal() != (l.Reverses != "") {
				t.Fatalf("reversal without original %+v", l)
			}
			seen[l.TxnID] = true
		}
	})
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

// BenchmarkParseStatement100k parses a 100,000-line statement in the default format.
func BenchmarkParseStatement100k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&buf, "T%d,2026-11-02,%d.%02d,张三,还款 LN%d 谢谢,\n", i, 100+i%500, i%100, 10000000+i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	c0 := cpuTime()
	for b.Loop() {
		st, err := ParseStatement(bytes.NewReader(data), nil)
		if err != nil || len(st.Lines) != 100000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user + system CPU time: on a shared machine it says what the work
// cost when the wall clock also counts waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func FuzzParseStatementMapping(f *testing.F) {
	for _, p := range []string{"../mappings/statement-default.yaml", "../mappings/statement-gbk-bank.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("name: x\ncolumns: {txn_id: [a], date: [b], amount: [c]}\ndate_format: DD/MM/YYYY\n"))
	f.Add([]byte("columns: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseStatementMapping(b, "fuzz.yaml")
		if err != nil {
			if c := reclaim.ErrorCode(err); c != reclaim.EINVALID && c != reclaim.ETOOLARGE {
				t.Fatalf("code %s: %v", c, err)
			}
			return
		}
		for _, f := range requiredStatementFields {
			if len(m.Columns[f]) == 0 {
				t.Fatalf("accepted a mapping without %s", f)
			}
		}
		// An accepted mapping reads its own header without panicking.
		var hdr []string
		for _, f := range StatementFields {
			if a := m.Columns[f]; len(a) > 0 {
				hdr = append(hdr, strings.ReplaceAll(a[0], ",", " "))
			}
		}
		ParseStatement(strings.NewReader(strings.Join(hdr, ",")+"\n"), m)
	})
}

// TestStatementCheckDates: a line dated outside [lo, hi] rejects the statement naming the line,
// the date field and the rule; the bounds themselves are accepted.
func TestStatementCheckDates(t *testing.T) {
	st, err := ParseStatement(strings.NewReader("txn_id,date,amount\nA1,1990-01-01,1.00\nA2,2026-12-08,2.00\nA3,2026-12-09,3.00\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := date.Of(1990, 1, 1), date.Of(2026, 12, 8)
	err = st.CheckDates(lo, hi)
	var e *reclaim.Error
	var es StatementErrors
	if !errors.As(err, &e) || e.Code != reclaim.EINVALID || e.Fields["line"] != "4" || e.Fields["field"] != "date" || e.Fields["rule"] != StmtRuleDateRange ||
		!errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("a line after hi: %v (%+v)", err, e)
	}
	if err := st.CheckDates(lo, hi.AddDays(1)); err != nil {
		t.Fatalf("every line within the bounds: %v", err)
	}
	if err := st.CheckDates(date.Of(1990, 1, 2), hi.AddDays(1)); err == nil {
		t.Fatal("a line before lo was accepted")
	}
}

// TestStatementAmountRange: a line beyond MaxPaymentMinor either way is refused naming the line;
// the bound itself is accepted.
func TestStatementAmountRange(t *testing.T) {
	if _, err := ParseStatement(strings.NewReader("txn_id,date,amount,reverses\nA1,2026-01-05,10000000000.00,\nA2,2026-01-05,-10000000000.00,A1\n"), nil); err != nil {
		t.Fatalf("the bound: %v", err)
	}
	for _, line := range []string{"A1,2026-01-05,10000000000.01,", "A1,2026-01-05,92233720368547758.07,", "A1,2026-01-05,-10000000000.01,A0"} {
		_, err := ParseStatement(strings.NewReader("txn_id,date,amount,reverses\nA0,2026-01-05,1.00,\n"+line+"\n"), nil)
		var e *reclaim.Error
		if !errors.As(err, &e) || e.Fields["line"] != "3" || e.Fields["field"] != "amount" || e.Fields["rule"] != StmtRuleAmountRange {
			t.Errorf("%s: %v", line, err)
		}
	}
}
