package synth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

func seasoned(t *testing.T, cfg Config, months int) []SeasonedItem {
	t.Helper()
	s, err := NewSeasoned(cfg, months)
	if err != nil {
		t.Fatal(err)
	}
	var out []SeasonedItem
	for {
		it, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, it)
	}
}

var seasonedOpts = cmp.Options{cmp.AllowUnexported(money.Amount{}, date.Date{}), cmpopts.EquateEmpty()}

func TestSeasonedDeterministic(t *testing.T) {
	cfg := cfgFor(BankMixed, 400, 11)
	a := seasoned(t, cfg, 18)
	b := seasoned(t, cfg, 18)
	if d := cmp.Diff(a, b, seasonedOpts); d != "" {
		t.Fatalf("same seed, different portfolios:\n%s", d)
	}
	cfg.Seed = 12
	c := seasoned(t, cfg, 18)
	same := 0
	for i := range a {
		if a[i].Loan.PrincipalOutstanding == c[i].Loan.PrincipalOutstanding {
			same++
		}
	}
	if same > len(a)/10 {
		t.Errorf("seeds 11 and 12 share %d of %d principals", same, len(a))
	}
	// The loans are the generator's, and a shorter observation is a prefix of a longer one.
	items := generate(t, cfgFor(BankMixed, 400, 11))
	short := seasoned(t, cfgFor(BankMixed, 400, 11), 6)
	for i := range a {
		if !cmp.Equal(a[i].Item.Loan, items[i].Loan, seasonedOpts) || a[i].Propensity != items[i].Propensity {
			t.Fatalf("loan %d differs from the generator's", i)
		}
		if !cmp.Equal(short[i].Monthly, a[i].Monthly[:6], seasonedOpts) {
			t.Fatalf("loan %d: 6-month collections are not a prefix of the 18-month ones", i)
		}
	}
}

func TestSeasonedConsistent(t *testing.T) {
	cfg := cfgFor(ConsumerFinance, 2000, 5)
	s, err := NewSeasoned(cfg, 24)
	if err != nil {
		t.Fatal(err)
	}
	wantAsOf := date.Of(2027, 6, 30) // cut-off 2025-06-30: June 2025 + 24 months, month end
	wantStart := date.Of(2022, 7, 1) // 36 months up to June 2025
	if s.AsOf() != wantAsOf || s.HistoryStart() != wantStart {
		t.Fatalf("as-of %s history start %s", s.AsOf(), s.HistoryStart())
	}
	paid := 0
	for it, ok := s.Next(); ok; it, ok = s.Next() {
		if len(it.Monthly) != 24 || it.AsOf != wantAsOf || it.HistoryStart != wantStart {
			t.Fatalf("loan %d: %d months, as-of %s, history start %s", it.Index, len(it.Monthly), it.AsOf, it.HistoryStart)
		}
		sum := money.Zero(it.Loan.Currency)
		for _, a := range it.Monthly {
			if a.Sign() < 0 || a.Currency() != it.Loan.Currency {
				t.Fatalf("loan %d: monthly %v", it.Index, a)
			}
			sum, _ = sum.Add(a)
		}
		if sum != it.Outcome.Total {
			t.Fatalf("loan %d: monthly sum %v, outcome total %v", it.Index, sum, it.Outcome.Total)
		}
		if sum.Cmp(it.Loan.TotalClaim) > 0 {
			t.Fatalf("loan %d: collected %v of a claim of %v", it.Index, sum, it.Loan.TotalClaim)
		}
		for _, h := range it.History {
			if h.Month.Before(wantStart) || h.Month.After(it.Loan.CutOffDate) {
				t.Fatalf("loan %d: history month %s outside [%s, cut-off]", it.Index, h.Month, wantStart)
			}
		}
		if len(it.Corrupted) != 0 {
			t.Fatalf("loan %d corrupted", it.Index)
		}
		if sum.Sign() > 0 {
			paid++
		}
	}
	if share := float64(paid) / 2000; share < 0.08 || share > 0.35 {
		t.Errorf("%.1f%% of consumer-finance loans paid within 24 months", 100*share)
	}
}

func TestSeasonedErrors(t *testing.T) {
	for _, m := range []int{0, -1, MaxSeasonedMonths + 1} {
		if _, err := NewSeasoned(cfgFor(BankCards, 10, 1), m); err == nil {
			t.Errorf("months %d accepted", m)
		}
	}
	cfg := cfgFor(BankCards, 10, 1)
	cfg.Invalid = map[string]float64{RuleClaimSum: 0.1}
	if _, err := NewSeasoned(cfg, 12); err == nil {
		t.Error("corruption accepted")
	}
	cfg.Loans = 0
	cfg.Invalid = nil
	if _, err := NewSeasoned(cfg, 12); err == nil {
		t.Error("invalid config accepted")
	}
}

// The collections carry the latent propensity's signal: a real, noisy one.
func TestSeasonedSignal(t *testing.T) {
	items := seasoned(t, cfgFor(BankMixed, 6000, 21), 24)
	z := make([]float64, len(items))
	r := make([]float64, len(items))
	for i, it := range items {
		z[i] = it.Propensity
		r[i] = it.Outcome.Total.Float() / it.Loan.TotalClaim.Float()
	}
	rho := spearman(z, r)
	t.Logf("Spearman(propensity, 24-month recovery share) = %.3f", rho)
	if rho < 0.15 {
		t.Errorf("Spearman %.3f: the propensity carries too little signal", rho)
	}
	if rho > 0.8 {
		t.Errorf("Spearman %.3f: the outcome is nearly deterministic", rho)
	}
	// Payers by propensity quartile rise.
	var lo, hi, nlo, nhi float64
	for i := range z {
		switch {
		case z[i] < -0.674:
			nlo++
			if r[i] >= 0.01 {
				lo++
			}
		case z[i] > 0.674:
			nhi++
			if r[i] >= 0.01 {
				hi++
			}
		}
	}
	if lo/nlo*2 > hi/nhi {
		t.Errorf("material recovery: bottom quartile %.3f, top quartile %.3f", lo/nlo, hi/nhi)
	}
}

func TestMonthlyAmounts(t *testing.T) {
	cut := date.Of(2025, 1, 31)
	got := MonthlyAmounts([]reclaim.Repayment{
		{Month: date.Of(2025, 1, 1), Amount: money.Yuan(5)},  // the cut-off's month: not after it
		{Month: date.Of(2025, 2, 1), Amount: money.Yuan(10)}, // month 1
		{Month: date.Of(2025, 2, 1), Amount: money.Yuan(1)},
		{Month: date.Of(2025, 4, 1), Amount: money.Yuan(7)}, // month 3
		{Month: date.Of(2025, 5, 1), Amount: money.Yuan(9)}, // month 4: beyond 3
	}, cut, 3, money.CNY)
	want := []money.Amount{money.Yuan(11), money.Zero(money.CNY), money.Yuan(7)}
	if d := cmp.Diff(want, got, seasonedOpts); d != "" {
		t.Error(d)
	}
}

// A million seasoned loans stream in flat memory.
func TestSeasonedMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 1,000,000 seasoned loans")
	}
	const n = 1_000_000
	s, err := NewSeasoned(cfgFor(BankMixed, n, 1), 24)
	if err != nil {
		t.Fatal(err)
	}
	before := heapInuse()
	var at100k uint64
	count := 0
	for _, ok := s.Next(); ok; _, ok = s.Next() {
		count++
		if count == 100_000 {
			at100k = heapInuse()
		}
	}
	at1M := heapInuse()
	t.Logf("HeapInuse: start %d KiB, after 100k loans %d KiB, after 1M loans %d KiB", before>>10, at100k>>10, at1M>>10)
	if count != n {
		t.Fatalf("generated %d loans", count)
	}
	if at1M > at100k+4<<20 {
		t.Errorf("heap grew from %d KiB at 100k loans to %d KiB at 1M", at100k>>10, at1M>>10)
	}
}
