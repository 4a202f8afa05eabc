package valuation

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"reclaim"
	"reclaim/date"
	"reclaim/synth"
	"reclaim/tape"
)

const (
	lcData    = "../../shared/data/lendingclub/chargedoff_dev.csv"
	lcMapping = "../mappings/lendingclub.yaml"
)

func TestFoldOf(t *testing.T) {
	// Pinned: exported fold ids and saved comparisons rely on the exact assignment.
	pinned := map[string]int{"lendingclub-2007-2011/74323": 2, "lendingclub-2007-2011/76629": 0}
	for k, want := range pinned {
		if got := FoldOf(k, 5); got != want {
			t.Errorf("FoldOf(%q, 5) = %d, want %d", k, got, want)
		}
	}
	if FoldOf("a", 1) != 0 || FoldOf("a", 0) != 0 {
		t.Error("one fold")
	}
	counts := make([]int, 5)
	for i := range 20000 {
		counts[FoldOf(fmt.Sprintf("P/C%09d", i), 5)]++
	}
	for f, n := range counts {
		if n < 3700 || n > 4300 {
			t.Errorf("fold %d has %d of 20000 keys", f, n)
		}
	}
	l := reclaim.Loan{PortfolioRef: "P", LoanID: "L1", BorrowerID: "B1"}
	if FoldKey(&l) != "P/B1" {
		t.Error(FoldKey(&l))
	}
	l.BorrowerID = ""
	if FoldKey(&l) != "P/L1" {
		t.Error(FoldKey(&l))
	}
}

func TestFoldOfGolden(t *testing.T) {
	// The hash itself: FNV-1a 64 of "abc" is 0xe71fa2190541574b; the finaliser and modulus follow.
	got := []int{FoldOf("abc", 5), FoldOf("abc", 7), FoldOf("", 5), FoldOf("lendingclub-2007-2011/74323", 5)}
	want := []int{foldRef("abc", 5), foldRef("abc", 7), foldRef("", 5), foldRef("lendingclub-2007-2011/74323", 5)}
	if !slices.Equal(got, want) {
		t.Errorf("FoldOf = %v, reference %v", got, want)
	}
}

// foldRef is an independent implementation of FoldOf's documented hash.
func foldRef(s string, k int) int {
	x := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= 1099511628211
	}
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return int(x % uint64(k))
}

func TestTableBuilderRejects(t *testing.T) {
	l := handLoan()
	b := NewTableBuilder(CN(), TableOptions{Horizon: 3})
	bad := []Example{
		{Exposure: 1, Monthly: make([]float64, 3)},
		{Input: Input{Loan: &l}, Exposure: 0, Monthly: make([]float64, 3)},
		{Input: Input{Loan: &l}, Exposure: math.NaN(), Monthly: make([]float64, 3)},
		{Input: Input{Loan: &l}, Exposure: 10, Recovered: -1, Monthly: make([]float64, 3)},
		{Input: Input{Loan: &l}, Exposure: 10, Monthly: make([]float64, 2)},
		{Input: Input{Loan: &l}, Exposure: 10},
		{Input: Input{Loan: &l}, Exposure: 10, Monthly: []float64{0, -1, 0}},
	}
	for i, ex := range bad {
		if err := b.Add(&ex); err == nil {
			t.Errorf("example %d accepted", i)
		}
	}
	ok := Example{Input: Input{Loan: &l}, Exposure: 100, Recovered: 150, Monthly: []float64{0, 150, 0}}
	if err := b.Add(&ok); err != nil {
		t.Fatal(err)
	}
	tab := b.Table()
	if tab.Rows() != 1 || tab.Rate[0] != 1 || tab.FirstPayment[0] != 2 || tab.Segments[0] != "consumer_loan|2_3y|20k_50k" {
		t.Errorf("rows %d rate %v first %d segment %q", tab.Rows(), tab.Rate, tab.FirstPayment, tab.Segments)
	}
	for _, name := range []string{LabelRate, LabelMaterial, LabelHigh} {
		d, err := tab.Dataset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := tab.Dataset("nope"); err == nil {
		t.Error("unknown label accepted")
	}
}

func TestStaticPool(t *testing.T) {
	s := NewPoolStats(2, 3)
	// Segment a|x: 60 loans in fold 0, each exposure 100, recovering 10 in month 2.
	for range 60 {
		s.Add("a|x", 0, 100, 10, []float64{0, 10, 0})
	}
	// Segment a|y: 10 loans in fold 1 (too few alone), recovering 50 in month 1, plus one loan
	// recovering twice its exposure (capped).
	for range 10 {
		s.Add("a|y", 1, 100, 50, []float64{50, 0, 0})
	}
	s.Add("a|y", 1, 100, 200, []float64{100, 100, 0})
	p := s.Fit(-1, 50)
	ax := p.Predict("a|x")
	if ax.Key != "a|x" || ax.Loans != 60 || ax.Rate != 0.1 || ax.MaterialShare != 1 || ax.HighShare != 1 ||
		!slices.Equal(ax.Curve, []float64{0, 0.1, 0.1}) {
		t.Errorf("a|x: %+v", ax)
	}
	ay := p.Predict("a|y")
	wantRate := (60*10 + 10*50 + 100.0) / (71 * 100)
	if ay.Key != "a" || ay.Loans != 71 || math.Abs(ay.Rate-wantRate) > 1e-12 {
		t.Errorf("a|y falls back to a: %+v (rate want %v)", ay, wantRate)
	}
	// Month 1: 10 × 50 + the capped loan's 100 × (100/200); month 2: 60 × 10 + 50.
	if c := ay.Curve; math.Abs(c[0]-550.0/7100) > 1e-12 || math.Abs(c[1]-1200.0/7100) > 1e-12 || c[2] != c[1] || math.Abs(c[2]-ay.Rate) > 1e-12 {
		t.Errorf("curve of a: %v", c)
	}
	if got := p.Predict("b|z"); got.Key != "" || got.Loans != 71 {
		t.Errorf("unknown segment: %+v", got)
	}
	// Without fold 0, only a|y's 11 loans remain: every level is too small but the whole pool
	// still answers.
	p1 := s.Fit(0, 50)
	if got := p1.Predict("a|x"); got.Key != "" || got.Loans != 11 {
		t.Errorf("fold 0 excluded: %+v", got)
	}
	if got := (&StaticPool{}).Predict("a"); got.Loans != 0 {
		t.Errorf("empty pool: %+v", got)
	}
	if got := prefixes("a|b|c"); !slices.Equal(got, []string{"", "a", "a|b", "a|b|c"}) {
		t.Error(got)
	}
}

// auc is the probability that a random positive scores above a random negative (ties half).
func auc(score, label []float64) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if label[idx[k]] == 1 {
				rankSum += avg
			}
		}
		i = j
	}
	for _, y := range label {
		if y == 1 {
			pos++
		} else {
			neg++
		}
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestSeasonedTable(t *testing.T) {
	cfg := synth.Config{Seed: 9, Loans: 8000, PortfolioRef: "SEASON-9", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}
	s, err := synth.NewSeasoned(cfg, 24)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := BuildSeasoned(s, CN(), TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows() != 8000 || tab.Horizon != 24 || tab.NumFolds != 5 {
		t.Fatalf("rows %d horizon %d folds %d", tab.Rows(), tab.Horizon, tab.NumFolds)
	}
	for _, name := range []string{LabelRate, LabelMaterial, LabelHigh} {
		d, _ := tab.Dataset(name)
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	material, _ := tab.Label(LabelMaterial)
	payers := 0
	for i, f := range tab.FirstPayment {
		if (f > 0) != (tab.Recovered[i] > 0) {
			t.Fatalf("row %d: first payment %d, recovered %v", i, f, tab.Recovered[i])
		}
		if f > 0 {
			payers++
		}
	}
	// Loans of one borrower share a fold.
	byKey := map[string]int{}
	for i, k := range tab.Keys {
		if f, ok := byKey[k]; ok && f != tab.Folds[i] {
			t.Fatalf("borrower %s in folds %d and %d", k, f, tab.Folds[i])
		}
		byKey[k] = tab.Folds[i]
	}
	// Real signal: tape features rank material recovery better than chance, and the
	// static-pool baseline does too, out of fold.
	col := func(name string) []float64 { return tab.Columns[CN().Index(name)] }
	neg := func(x []float64) []float64 {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = -v
		}
		return out
	}
	for name, score := range map[string][]float64{
		"phone_available": col("phone_available"),
		"-dpd":            neg(col("dpd")),
		"pay_months_36m":  col("pay_months_36m"),
	} {
		a := auc(score, material)
		t.Logf("AUC(%s, material) = %.3f", name, a)
		if a < 0.55 {
			t.Errorf("AUC(%s, material) = %.3f", name, a)
		}
	}
	oof := tab.BaselineOOF(0)
	ms := make([]float64, len(oof))
	for i, sc := range oof {
		ms[i] = sc.MaterialShare
		if len(sc.Curve) != 24 {
			t.Fatalf("row %d: curve of %d months", i, len(sc.Curve))
		}
	}
	a := auc(ms, material)
	t.Logf("baseline OOF AUC(material) = %.3f; %d payers; missing %v", a, payers, tab.MissingCount)
	if a < 0.55 {
		t.Errorf("baseline AUC %.3f", a)
	}
	// Hazard rows: each loan at risk until its first payment or the horizon.
	_, test := tab.Split(0)
	h, err := tab.HazardDataset(test)
	if err != nil {
		t.Fatal(err)
	}
	want, ones := 0, 0
	for _, i := range test {
		want += tab.atRisk(i)
		if tab.FirstPayment[i] > 0 {
			ones++
		}
	}
	sum := 0.0
	for _, y := range h.Label {
		sum += y
	}
	if h.Rows() != want || int(sum) != ones || h.Features[len(h.Features)-1].Name != MonthsOnBook {
		t.Errorf("hazard: %d rows (want %d), %v events (want %d)", h.Rows(), want, sum, ones)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
}

// TestLendingClub reads the real file: all 4,481 rows become rows, and no leaking column feeds
// a feature.
func TestLendingClub(t *testing.T) {
	if _, err := os.Stat(lcData); err != nil {
		t.Skip("shared/data/lendingclub/chargedoff_dev.csv is not present")
	}
	fs := LendingClub()
	// Declared sources: none leaks.
	declared := map[string]bool{}
	for _, s := range fs.Specs() {
		for _, src := range s.Sources {
			declared[src] = true
			if LendingClubLeak(src) {
				t.Errorf("feature %s reads leaking column %s", s.Name, src)
			}
		}
	}
	// The mapping binds no leaking column to a canonical field (they may only ride as extras).
	m, err := tape.LoadMapping(lcMapping)
	if err != nil {
		t.Fatal(err)
	}
	for col := range m.Columns {
		if LendingClubLeak(col) {
			t.Errorf("mapping binds leaking column %s to a field", col)
		}
	}
	var rows, noPay int
	var rates []float64
	var leakExtras int
	err = ReadLendingClub(lcData, lcMapping, func(ex *Example) error {
		rows++
		l := ex.Input.Loan
		full := fs.Compute(ex.Input)
		// Only declared extras: the same row, so nothing undeclared feeds a feature.
		only := *l
		only.Extras = map[string]string{}
		for k, v := range l.Extras {
			if declared[k] {
				only.Extras[k] = v
			}
			if LendingClubLeak(k) {
				leakExtras++
			}
		}
		same(t, fs, full, fs.Compute(Input{Loan: &only, AsOf: ex.Input.AsOf}), l.LoanID+" (declared extras only)")
		// Leaking columns changed wildly: the same row.
		pert := *l
		pert.Extras = maps.Clone(l.Extras)
		for k := range pert.Extras {
			if LendingClubLeak(k) {
				pert.Extras[k] = "123456.78"
			}
		}
		for _, k := range LendingClubLeaks {
			pert.Extras[k] = "9"
		}
		same(t, fs, full, fs.Compute(Input{Loan: &pert, AsOf: ex.Input.AsOf}), l.LoanID+" (leaks perturbed)")
		if l.LastPaymentDate.IsZero() {
			noPay++
		}
		rates = append(rates, math.Min(ex.Recovered/ex.Exposure, 1))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 4481 || noPay != 62 || leakExtras == 0 {
		t.Fatalf("rows %d, never paid %d, leaking extras seen %d", rows, noPay, leakExtras)
	}
	tab, err := BuildLendingClub(lcData, lcMapping, fs, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rows() != 4481 || tab.Horizon != 0 || tab.FirstPayment[0] != -1 {
		t.Fatalf("table: %d rows, horizon %d", tab.Rows(), tab.Horizon)
	}
	high, _ := tab.Label(LabelHigh)
	mat, _ := tab.Label(LabelMaterial)
	var sumR, sumE, sumH, sumM float64
	for i := range high {
		sumR += tab.Rate[i] * tab.Exposure[i]
		sumE += tab.Exposure[i]
		sumH += high[i]
		sumM += mat[i]
	}
	t.Logf("EAD-weighted capped rate %.4f; rate >= 10%%: %.4f; >= 1%%: %.4f; missing %v", sumR/sumE, sumH/4481, sumM/4481, tab.MissingCount)
	if w := sumR / sumE; w < 0.07 || w > 0.11 {
		t.Errorf("EAD-weighted recovery %.4f, README says about 0.09", w)
	}
	for j, n := range tab.MissingCount {
		if n > 300 {
			t.Errorf("%s missing in %d rows", fs.Specs()[j].Name, n)
		}
	}
	d, _ := tab.Dataset(LabelHigh)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	// The loans' categorical levels are all known.
	for _, name := range []string{"grade", "home_ownership", "verification_status", "purpose", "addr_state"} {
		if n := tab.MissingCount[fs.Index(name)]; n != 0 {
			t.Errorf("%s unknown in %d rows", name, n)
		}
	}
}

func same(t *testing.T, fs *FeatureSet, a, b Row, what string) {
	t.Helper()
	for j := range a.Values {
		x, y := a.Values[j], b.Values[j]
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			t.Fatalf("%s: %s: %v vs %v", what, fs.Specs()[j].Name, x, y)
		}
	}
	if !slices.Equal(a.Missing, b.Missing) {
		t.Fatalf("%s: missing %v vs %v", what, a.Missing, b.Missing)
	}
}

func TestLendingClubLeak(t *testing.T) {
	for _, c := range []string{"recoveries", "collection_recovery_fee", "total_pymnt", "total_pymnt_inv", "settlement_amount",
		"debt_settlement_flag", "last_credit_pull_d", "last_fico_range_low", "recovery_rate_gross", "recovery_rate_net", " Recoveries "} {
		if !LendingClubLeak(c) {
			t.Errorf("%s not a leak", c)
		}
	}
	for _, c := range []string{"loan_amnt", "total_rec_prncp", "total_rec_int", "ead_principal", "fico_range_low", "last_pymnt_d", "months_issue_to_last_pymnt", "grade"} {
		if LendingClubLeak(c) {
			t.Errorf("%s taken for a leak", c)
		}
	}
}

// BenchmarkBuildSeasoned streams a seasoned portfolio into a training table (cn-v1 features).
func BenchmarkBuildSeasoned(b *testing.B) {
	const n = 20000
	cfg := synth.Config{Seed: 1, Loans: n, PortfolioRef: "BENCH", CutOff: date.Of(2024, 6, 30), Profile: synth.BankMixed}
	b.ReportAllocs()
	for b.Loop() {
		s, err := synth.NewSeasoned(cfg, 24)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := BuildSeasoned(s, CN(), TableOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(n, "loans/op")
}

// miniLendingClub writes a three-loan file with every column mappings/lendingclub.yaml reads
// (recoveries as given, "" leaving the column out) and a copy of the mapping edited by edit.
func miniLendingClub(t *testing.T, recoveries []string, edit func(string) string) (data, mapping string) {
	t.Helper()
	m, err := tape.LoadMapping(lcMapping)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{"id": "", "issue_d": "2011-03-01", "loan_amnt": "10000", "ead_principal": "6000",
		"last_pymnt_d": "2012-05-01", "last_pymnt_amnt": "320", "addr_state": "CA", "term": " 36 months", "int_rate": "0.12",
		"grade": "B", "sub_grade": "B3", "emp_length": "5 years", "home_ownership": "RENT", "purpose": "debt_consolidation",
		"zip_code": "940xx", "earliest_cr_line": "2001-04-01", "verification_status": "Verified"}
	var header []string
	for c := range m.Columns {
		header = append(header, c)
	}
	for _, e := range m.Extras {
		if e != "recoveries" || recoveries != nil {
			header = append(header, e)
		}
	}
	slices.Sort(header)
	header = slices.Compact(header)
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for i := range 3 {
		row := make([]string, len(header))
		for j, h := range header {
			v, ok := vals[h]
			if !ok {
				v = "1"
			}
			switch h {
			case "id":
				v = fmt.Sprint(1000 + i)
			case "recoveries":
				v = recoveries[i]
			}
			row[j] = v
		}
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	dir := t.TempDir()
	data, mapping = filepath.Join(dir, "lc.csv"), filepath.Join(dir, "lc.yaml")
	y, err := os.ReadFile(lcMapping)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mapping, []byte(edit(string(y))), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, mapping
}

// TestLendingClubBadInput: a training file whose outcome column is missing, empty or negative,
// and a mapping that binds no exposure, are refused with an error naming the column.
func TestLendingClubBadInput(t *testing.T) {
	same := func(s string) string { return s }
	read := func(data, mapping string) (int, error) {
		n := 0
		err := ReadLendingClub(data, mapping, func(*Example) error { n++; return nil })
		return n, err
	}
	if n, err := read(miniLendingClub(t, []string{"0", "120.5", "3000"}, same)); err != nil || n != 3 {
		t.Fatalf("good file: %d rows, %v", n, err)
	}
	for name, c := range map[string]struct {
		rec  []string
		edit func(string) string
		want string
	}{
		"negative outcome":   {[]string{"0", "-5", "1"}, same, "line 3: recoveries -5 is negative"},
		"empty outcome":      {[]string{"0", "", "1"}, same, `line 3: recoveries "": not a number`},
		"no outcome column":  {nil, same, `column "recoveries" is not in the tape's header`},
		"outcome not mapped": {[]string{"0", "1", "1"}, func(s string) string { return strings.Replace(s, "  - recoveries ", "  # - recoveries ", 1) }, "no 'recoveries' column"},
		"no exposure": {[]string{"0", "1", "1"}, func(s string) string {
			return strings.Replace(s, "ead_principal: principal_outstanding", "# no exposure", 1)
		}, "principal_outstanding"},
	} {
		data, mapping := miniLendingClub(t, c.rec, c.edit)
		if _, err := read(data, mapping); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want %q)", name, err, c.want)
		}
	}
}
