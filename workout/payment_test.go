package workout

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/textnorm"
)

func TestReferenceTokens(t *testing.T) {
	for in, want := range map[string][]string{
		"还款LN-2024-0001，张三":                    {"LN-2024-0001"},
		"ｃａｓｅ－０００４２ 还款":                        {"CASE-00042"},
		"pay 12 ok":                            nil,
		"LN12345 ln12345 CASE9/ AB12 c7 C0 X9": {"LN12345", "CASE9", "AB12", "C7"},
		"-CASE-77777-":                         {"CASE-77777"},
		"ref: ABCDEFG":                         nil, // no digit
	} {
		if got := ReferenceTokens(in); !slices.Equal(got, want) {
			t.Errorf("ReferenceTokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchLine(t *testing.T) {
	refs := ReferenceIndex{}
	refs.Add("CASE-00042", RefTarget{Case: 42})
	refs.Add("LN-2024-0001", RefTarget{Case: 42, Loan: "L1"})
	refs.Add("LN-2024-0009", RefTarget{Case: 9, Loan: "L9"})
	refs.Add("CASE-00077", RefTarget{Case: 77, Closed: true})
	refs.Add("DUP-12345", RefTarget{Case: 42, Loan: "L1"})
	refs.Add("DUP-12345", RefTarget{Case: 9, Loan: "L9"})
	line := func(ref string) StatementLine {
		return StatementLine{Line: 2, TxnID: "T", Date: date.Of(2026, 11, 2), Amount: cny(100), Currency: "CNY", Reference: ref}
	}
	bi := func(c int64) Candidate { return Candidate{Case: c, Method: MatchBlindIndex} }
	na := func(c int64) Candidate { return Candidate{Case: c, Method: MatchNameAmount} }
	cases := []struct {
		name    string
		l       StatementLine
		cands   []Candidate
		outcome LineOutcome
		c       int64
		method  MatchMethod
		reason  QueueReason
		loans   []string
	}{
		{"case ref", line("还款 case-00042"), nil, LineMatched, 42, MatchReference, "", nil},
		{"loan ref", line("LN-2024-0001"), []Candidate{bi(9)}, LineMatched, 42, MatchReference, "", []string{"L1"}},
		{"two refs one case", line("CASE-00042 LN-2024-0001"), nil, LineMatched, 42, MatchReference, "", []string{"L1"}},
		{"refs of two cases, blind decides", line("LN-2024-0001 LN-2024-0009"), []Candidate{bi(9)}, LineMatched, 9, MatchBlindIndex, "", nil},
		{"refs of two cases, nothing else", line("LN-2024-0001 LN-2024-0009"), nil, LineQueued, 0, "", QueueAmbiguous, nil},
		{"closed by ref", line("CASE-00077"), nil, LineQueued, 77, MatchReference, QueueCaseClosed, nil},
		{"blind index", line("还款"), []Candidate{bi(5), bi(5)}, LineMatched, 5, MatchBlindIndex, "", nil},
		{"blind beats name", line(""), []Candidate{na(6), bi(5)}, LineMatched, 5, MatchBlindIndex, "", nil},
		{"two blind, name decides", line(""), []Candidate{bi(5), bi(6), na(6)}, LineMatched, 6, MatchNameAmount, "", nil},
		{"two blind", line(""), []Candidate{bi(5), bi(6)}, LineQueued, 0, "", QueueAmbiguous, nil},
		{"name amount", line(""), []Candidate{na(6)}, LineMatched, 6, MatchNameAmount, "", nil},
		{"two names", line(""), []Candidate{na(6), na(7)}, LineQueued, 0, "", QueueAmbiguous, nil},
		{"closed by blind", line(""), []Candidate{{Case: 5, Method: MatchBlindIndex, Closed: true}}, LineQueued, 5, MatchBlindIndex, QueueCaseClosed, nil},
		{"nothing", line("thanks"), nil, LineQueued, 0, "", QueueNoMatch, nil},
		{"a loan id two cases share", line("DUP-12345"), nil, LineQueued, 0, "", QueueAmbiguous, nil},
		{"a shared id and a case ref", line("DUP-12345 CASE-00042"), nil, LineMatched, 42, MatchReference, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := MatchLine(c.l, refs, c.cands, "CNY")
			if r.Outcome != c.outcome || r.Case != c.c || r.Method != c.method || r.Reason != c.reason || !slices.Equal(r.Loans, c.loans) {
				t.Errorf("got %+v", r)
			}
		})
	}
	usd := line("CASE-00042")
	usd.Currency = "USD"
	if r := MatchLine(usd, refs, nil, "CNY"); r.Reason != QueueCurrency {
		t.Errorf("USD line: %+v", r)
	}
}

func TestMatchStatementReversals(t *testing.T) {
	refs := ReferenceIndex{}
	refs.Add("CASE-00042", RefTarget{Case: 42})
	lines := []StatementLine{
		{Line: 2, TxnID: "T1", Amount: cny(100), Currency: "CNY", Reference: "CASE-00042"},
		{Line: 3, TxnID: "T2", Amount: cny(-100), Currency: "CNY", Reverses: "t1"},
		{Line: 4, TxnID: "T3", Amount: cny(-100), Currency: "CNY", Reverses: "T1"},
		{Line: 5, TxnID: "T4", Amount: cny(-50), Currency: "CNY", Reverses: "OLD-1"},
		{Line: 6, TxnID: "T5", Amount: cny(-50), Currency: "CNY", Reverses: "NEVER"},
	}
	got := MatchStatement(lines, MatchInput{Refs: refs, Currency: "CNY", Posted: func(k string) bool { return k == textnorm.TxnKey("OLD-1") }})
	want := []LineOutcome{LineMatched, LineReversal, LineQueued, LineReversal, LineQueued}
	for i := range want {
		if got[i].Outcome != want[i] || got[i].Line != lines[i].Line {
			t.Errorf("line %d: %+v, want %s", lines[i].Line, got[i], want[i])
		}
	}
}

// Every line ends matched, reversed or queued, exactly once and in order; a match names a case
// and a method, a queued line a reason.
func TestMatchStatementNeverLosesALine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		refs := ReferenceIndex{}
		nCases := rapid.IntRange(0, 5).Draw(t, "cases")
		for c := 1; c <= nCases; c++ {
			refs.Add(fmt.Sprintf("CASE-%05d", c), RefTarget{Case: int64(c), Closed: rapid.Bool().Draw(t, "closed")})
		}
		n := rapid.IntRange(0, 40).Draw(t, "lines")
		lines := make([]StatementLine, n)
		for i := range lines {
			l := StatementLine{Line: i + 2, TxnID: fmt.Sprintf("T%d", i), Amount: cny(rapid.Int64Range(1, 1000).Draw(t, "a")), Currency: "CNY",
				Reference: fmt.Sprintf("CASE-%05d", rapid.IntRange(0, 7).Draw(t, "ref"))}
			if i > 0 && rapid.IntRange(0, 4).Draw(t, "rev") == 0 {
				l.Amount = cny(-l.Amount.Minor())
				l.Reverses = fmt.Sprintf("T%d", rapid.IntRange(0, i).Draw(t, "orig"))
			}
			lines[i] = l
		}
		cands := func(l StatementLine) []Candidate {
			var out []Candidate
			for k := rapid.IntRange(0, 3).Draw(t, "nc"); k > 0; k-- {
				out = append(out, Candidate{Case: int64(rapid.IntRange(1, 6).Draw(t, "cc")),
					Method: rapid.SampledFrom([]MatchMethod{MatchBlindIndex, MatchNameAmount}).Draw(t, "m")})
			}
			return out
		}
		res := MatchStatement(lines, MatchInput{Refs: refs, Candidates: cands, Currency: "CNY"})
		if len(res) != len(lines) {
			t.Fatalf("%d results for %d lines", len(res), len(lines))
		}
		for i, r := range res {
			if r.Line != lines[i].Line || r.TxnID != lines[i].TxnID {
				t.Fatalf("result %d is for line %d", i, r.Line)
			}
			switch r.Outcome {
			case LineMatched:
				if r.Case == 0 || r.Method == "" || r.Reason != "" || lines[i].IsReversal() {
					t.Fatalf("bad match %+v", r)
				}
			case LineQueued:
				if r.Reason == "" || r.Detail == "" {
					t.Fatalf("queued without reason %+v", r)
				}
			case LineReversal:
				if !lines[i].IsReversal() || r.Reverses == "" {
					t.Fatalf("bad reversal %+v", r)
				}
			default:
				t.Fatalf("no outcome %+v", r)
			}
		}
	})
}

// BenchmarkMatchStatement100k matches a 100,000-line statement against a reference index of
// 100,000 loans and 80,000 cases, with no database (the pure matcher alone).
func BenchmarkMatchStatement100k(b *testing.B) {
	const n = 100000
	refs := ReferenceIndex{}
	for i := 0; i < n; i++ {
		refs.Add(fmt.Sprintf("LN%d", 10000000+i), RefTarget{Case: int64(i*4/5 + 1), Loan: fmt.Sprint(i)})
	}
	lines := make([]StatementLine, n)
	for i := range lines {
		lines[i] = StatementLine{Line: i + 2, TxnID: fmt.Sprintf("T%d", i), Amount: cny(10000), Currency: "CNY",
			Reference: fmt.Sprintf("还款 LN%d 谢谢", 10000000+(i*7919)%n)}
		if i%100 == 50 {
			lines[i].Reference = "谢谢"
		}
	}
	c0 := cpuTime()
	for b.Loop() {
		res := MatchStatement(lines, MatchInput{Refs: refs, Currency: "CNY"})
		if len(res) != n {
			b.Fatal(len(res))
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
}
