package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"sort"
	"strings"
	"testing"

	"reclaim"
	"reclaim/money"
	"reclaim/tape"
)

// allRules gives every rule the same share.
func allRules(share float64) map[string]float64 {
	m := map[string]float64{}
	for _, r := range Rules {
		m[r] = share
	}
	return m
}

func TestInjectionShares(t *testing.T) {
	cfg := cfgFor(BankMixed, 40000, 99)
	cfg.Invalid = map[string]float64{RuleClaimSum: 0.05, RuleMobile: 0.02, RuleRequired: 0.01, RuleLoanIDUnique: 0.003}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	n := 0
	for it, ok := g.Next(); ok; it, ok = g.Next() {
		n++
		if len(it.Corrupted) > 1 {
			t.Fatalf("loan %d breaks %v, want at most one rule", it.Index, it.Corrupted)
		}
		for _, r := range it.Corrupted {
			counts[r]++
		}
	}
	for rule, share := range cfg.Invalid {
		want := share * float64(n)
		sd := math.Sqrt(want * (1 - share))
		if got := float64(counts[rule]); math.Abs(got-want) > 4*sd {
			t.Errorf("rule %s: %v rows, want %.0f ± %.0f", rule, got, want, 4*sd)
		}
	}
	if len(counts) != len(cfg.Invalid) {
		t.Errorf("rules injected: %v", counts)
	}
}

// readTape validates a written tape with package tape and returns, per data row, the rules it
// breaks.
func readTape(t *testing.T, data []byte, name string) ([][]string, []tape.Result) {
	t.Helper()
	src, err := tape.OpenReader(bytes.NewReader(data), name, tape.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	lay, err := tape.NewLayout(src.Header(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if miss := tape.MissingCritical(lay); len(miss) > 0 {
		t.Fatalf("missing critical fields %v", miss)
	}
	conv := tape.NewConverter(lay, src.Info())
	var rules [][]string
	var results []tape.Result
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var res tape.Result
		conv.Convert(row, &res)
		var rs []string
		for _, e := range res.Errors {
			rs = append(rs, e.Rule)
		}
		sort.Strings(rs)
		rules = append(rules, compact(rs))
		results = append(results, res)
	}
	return rules, results
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Every row WriteTape writes reads back through the tape validator breaking exactly the rules it
// was given (none for clean rows), in every writer style.
func TestWriteTapeRoundTrip(t *testing.T) {
	styles := []struct {
		name string
		opts TapeOptions
	}{
		{"english-csv", TapeOptions{IncludePersonal: true}},
		{"chinese-gbk-wan", TapeOptions{Chinese: true, Encoding: "gbk", Unit: money.Wan, DateStyle: "chinese", IncludePersonal: true}},
		{"chinese-bom-slash", TapeOptions{Chinese: true, Encoding: "utf-8-bom", DateStyle: "slash", IncludePersonal: true}},
		{"xlsx", TapeOptions{Format: "xlsx", Chinese: true, IncludePersonal: true}},
	}
	for _, p := range Profiles {
		for _, st := range styles {
			t.Run(p.String()+"/"+st.name, func(t *testing.T) {
				cfg := cfgFor(p, 1500, 17)
				cfg.Invalid = allRules(0.02) // 28% of rows corrupted, each rule about 2%
				var tb, hb bytes.Buffer
				calls := 0
				stats, err := WriteTape(context.Background(), cfg, &tb, &hb, st.opts, func(int) { calls++ })
				if err != nil {
					t.Fatal(err)
				}
				if stats.Rows != cfg.Loans || calls == 0 || stats.Borrowers == 0 || stats.TotalClaim.Sign() <= 0 {
					t.Fatalf("stats %+v, progress calls %d", stats, calls)
				}
				items := generate(t, cfg)
				name := "tape.csv"
				if st.opts.Format == "xlsx" {
					name = "tape.xlsx"
				}
				got, results := readTape(t, tb.Bytes(), name)
				if len(got) != len(items) {
					t.Fatalf("read %d rows, want %d", len(got), len(items))
				}
				corrupted := map[string]int{}
				for i, it := range items {
					want := it.Corrupted
					if !equalStrings(got[i], want) {
						t.Errorf("row %d (%s) breaks %v, want %v", i, it.Loan.LoanID, got[i], want)
					}
					for _, r := range want {
						corrupted[r]++
					}
					if len(want) == 0 && !sameLoan(&results[i].Loan, &it.Loan) {
						t.Errorf("row %d reads back as a different loan", i)
					}
				}
				if !equalCounts(corrupted, stats.Corrupted) {
					t.Errorf("stats.Corrupted %v, items say %v", stats.Corrupted, corrupted)
				}
				// History file: header, then rows of known loans.
				recs, err := csv.NewReader(bytes.NewReader(decodeIf(t, hb.Bytes(), st.opts.Encoding))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if want := HistoryHeader(st.opts.Chinese); !equalStrings(trimBOM(recs[0]), want) {
					t.Errorf("history header %v, want %v", recs[0], want)
				}
				if len(recs)-1 != stats.HistoryRows || stats.HistoryRows == 0 {
					t.Errorf("history rows %d, stats say %d", len(recs)-1, stats.HistoryRows)
				}
			})
		}
	}
}

// sameLoan compares the fields the tape carries.
func sameLoan(a, b *reclaim.Loan) bool {
	return a.LoanID == b.LoanID && a.TotalClaim == b.TotalClaim && a.DefaultDate == b.DefaultDate &&
		a.LastPaymentDate == b.LastPaymentDate && a.LastPaymentAmount == b.LastPaymentAmount &&
		a.LegalStatus == b.LegalStatus && a.PhoneAvailable == b.PhoneAvailable && a.RegionCode == b.RegionCode &&
		a.BirthDate == b.BirthDate && a.ProductType == b.ProductType && a.FiveCategory == b.FiveCategory
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func trimBOM(rec []string) []string {
	out := append([]string(nil), rec...)
	if len(out) > 0 {
		out[0] = strings.TrimPrefix(out[0], "\ufeff")
	}
	return out
}

func TestWriteTapeErrors(t *testing.T) {
	cfg := cfgFor(BankCards, 10, 1)
	cfg.Invalid = map[string]float64{RuleNationalID: 0.1}
	if _, err := WriteTape(context.Background(), cfg, io.Discard, nil, TapeOptions{}, nil); err == nil {
		t.Error("national_id injection without personal columns accepted")
	}
	cfg.Invalid = nil
	cfg.Loans = 5000
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WriteTape(ctx, cfg, io.Discard, nil, TapeOptions{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: got %v", err)
	}
	cfg.Loans = 0
	if _, err := WriteTape(context.Background(), cfg, io.Discard, nil, TapeOptions{}, nil); err == nil {
		t.Error("invalid config accepted")
	}
}
