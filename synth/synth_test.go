package synth

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
	"reclaim/region"
)

var cut = date.Of(2025, time.June, 30)

func cfgFor(p Profile, n int, seed uint64) Config {
	return Config{Seed: seed, Loans: n, PortfolioRef: "TEST-" + p.String(), Seller: "测试银行", CutOff: cut, Profile: p}
}

// fataler is what generate needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

func generate(t fataler, cfg Config) []Item {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []Item
	for {
		it, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, it)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := cfgFor(BankMixed, 10, 1)
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no loans", func(c *Config) { c.Loans = 0 }, "loans"},
		{"negative loans", func(c *Config) { c.Loans = -5 }, "loans"},
		{"no ref", func(c *Config) { c.PortfolioRef = " " }, "portfolio_ref"},
		{"no cut-off", func(c *Config) { c.CutOff = date.Date{} }, "cut_off"},
		{"cut-off too early", func(c *Config) { c.CutOff = date.Of(1999, 12, 31) }, "cut_off"},
		{"bad profile", func(c *Config) { c.Profile = Profile(9) }, "profile"},
		{"history too long", func(c *Config) { c.HistoryMonths = 241 }, "history_months"},
		{"negative history", func(c *Config) { c.HistoryMonths = -1 }, "history_months"},
		{"bad currency", func(c *Config) { c.Currency = "yuan" }, "currency"},
		{"unknown rule", func(c *Config) { c.Invalid = map[string]float64{"claim_total": 0.1} }, "invalid"},
		{"share above one", func(c *Config) { c.Invalid = map[string]float64{RuleClaimSum: 1.5} }, "invalid"},
		{"negative share", func(c *Config) { c.Invalid = map[string]float64{RuleClaimSum: -0.1} }, "invalid"},
		{"shares sum above one", func(c *Config) {
			c.Invalid = map[string]float64{RuleClaimSum: 0.6, RuleMobile: 0.6}
		}, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			_, err := New(c)
			var re *reclaim.Error
			if !errors.As(err, &re) || re.Code != reclaim.EINVALID {
				t.Fatalf("New: got %v, want an EINVALID reclaim.Error", err)
			}
			if _, has := re.Fields[tc.field]; !has {
				t.Errorf("error %v does not name field %q", err, tc.field)
			}
		})
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

func TestParseProfile(t *testing.T) {
	for _, p := range Profiles {
		got, err := ParseProfile(p.String())
		if err != nil || got != p {
			t.Errorf("ParseProfile(%q) = %v, %v", p.String(), got, err)
		}
	}
	if got, err := ParseProfile("Consumer-Finance"); err != nil || got != ConsumerFinance {
		t.Errorf("ParseProfile(Consumer-Finance) = %v, %v", got, err)
	}
	if _, err := ParseProfile("student"); err == nil {
		t.Error("ParseProfile(student) succeeded")
	}
}

func TestDeterministic(t *testing.T) {
	for _, p := range Profiles {
		t.Run(p.String(), func(t *testing.T) {
			a := generate(t, cfgFor(p, 2000, 42))
			b := generate(t, cfgFor(p, 2000, 42))
			if d := cmp.Diff(a, b, cmp.AllowUnexported(money.Amount{}, date.Date{})); d != "" {
				t.Fatalf("same seed, different items (-first +second):\n%s", d)
			}
			c := generate(t, cfgFor(p, 2000, 43))
			if cmp.Equal(a[0].Loan, c[0].Loan, cmp.AllowUnexported(money.Amount{}, date.Date{})) {
				t.Error("different seeds gave the same first loan")
			}
		})
	}
}

// Loan i does not depend on how many loans are generated.
func TestPrefixStable(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		p := rapid.SampledFrom(Profiles).Draw(rt, "profile")
		n := rapid.IntRange(1, 300).Draw(rt, "n")
		m := rapid.IntRange(n, 400).Draw(rt, "m")
		short := generate(rt, cfgFor(p, n, seed))
		long := generate(rt, cfgFor(p, m, seed))
		if d := cmp.Diff(short, long[:n], cmp.AllowUnexported(money.Amount{}, date.Date{})); d != "" {
			rt.Fatalf("prefix of %d differs from the first %d of %d:\n%s", n, n, m, d)
		}
	})
}

// checkItem reports every local consistency rule the item breaks.
func checkItem(it *Item, cfg Config) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	l, p := &it.Loan, &it.Personal
	c := l.CutOffDate
	if c != cfg.CutOff || l.PortfolioRef != cfg.PortfolioRef || l.LoanID == "" || l.BorrowerID == "" {
		fail("identity: %s %s %s %s", c, l.PortfolioRef, l.LoanID, l.BorrowerID)
	}
	if sum, err := l.Claim(); err != nil || sum != l.TotalClaim {
		fail("total_claim %v != %v", l.TotalClaim, sum)
	}
	for name, a := range map[string]money.Amount{"principal": l.PrincipalOutstanding, "interest": l.InterestOutstanding, "fees": l.FeesOutstanding, "original": l.OriginalAmount} {
		if a.Sign() < 0 || a.Currency() != money.CNY {
			fail("%s %v", name, a)
		}
	}
	if l.PrincipalOutstanding.Sign() <= 0 || l.OriginalAmount.Cmp(l.PrincipalOutstanding) < 0 {
		fail("principal %v original %v", l.PrincipalOutstanding, l.OriginalAmount)
	}
	if l.DaysPastDue != c.Sub(l.DefaultDate) || l.DaysPastDue < 90 {
		fail("dpd %d, default %s", l.DaysPastDue, l.DefaultDate)
	}
	if !l.OriginationDate.Before(l.DefaultDate) {
		fail("origination %s not before default %s", l.OriginationDate, l.DefaultDate)
	}
	if !l.LastPaymentDate.IsZero() {
		if l.LastPaymentDate.After(c) || l.LastPaymentAmount.Sign() <= 0 || !l.LastPaymentDate.After(l.OriginationDate) {
			fail("last payment %s %v", l.LastPaymentDate, l.LastPaymentAmount)
		}
	} else if !l.LastPaymentAmount.IsAbsent() {
		fail("last payment amount without date")
	}
	switch {
	case l.DaysPastDue > 360 && l.FiveCategory == reclaim.Substandard,
		l.DaysPastDue > 180 && l.FiveCategory == reclaim.Substandard,
		l.DaysPastDue <= 180 && l.FiveCategory == reclaim.Loss && !l.WrittenOff:
		fail("grade %s at %d days", l.FiveCategory, l.DaysPastDue)
	}
	if l.WrittenOff != !l.WriteOffDate.IsZero() || (l.WrittenOff && (l.WriteOffDate.Before(l.DefaultDate) || l.WriteOffDate.After(c))) {
		fail("write-off %v %s", l.WrittenOff, l.WriteOffDate)
	}
	if (l.LegalStatus == reclaim.NotSued) != l.LegalStartDate.IsZero() || (l.LegalStatus == reclaim.NotSued) != (l.Court == "") {
		fail("legal %s %s %q", l.LegalStatus, l.LegalStartDate, l.Court)
	}
	if !l.LegalStartDate.IsZero() && (!l.LegalStartDate.After(l.DefaultDate) || l.LegalStartDate.After(c)) {
		fail("legal start %s", l.LegalStartDate)
	}
	from := l.DefaultDate
	if l.LastPaymentDate.After(from) {
		from = l.LastPaymentDate
	}
	if l.LimitationExpiryDate.Before(from.AddYears(3)) {
		fail("limitation %s before %s + 3y", l.LimitationExpiryDate, from)
	}
	if !l.LastContactDate.IsZero() && l.LastContactDate.After(c) {
		fail("last contact %s", l.LastContactDate)
	}
	if l.Age != date.Age(l.BirthDate, c) || l.Age < 18 || l.Age > 75 {
		fail("age %d birth %s", l.Age, l.BirthDate)
	}
	if !region.Valid(l.RegionCode) || len(l.RegionCode) != 6 || l.RegionCode[4:] == "00" {
		fail("region %q", l.RegionCode)
	}
	info, err := cnid.Validate(p.NationalID)
	if err != nil {
		fail("national id: %v", err)
	} else {
		if info.Birth != l.BirthDate {
			fail("id birth %s != %s", info.Birth, l.BirthDate)
		}
		if info.Region != l.RegionCode {
			fail("id region %s != %s", info.Region, l.RegionCode)
		}
	}
	if err := cnid.ValidMobile(p.Phone); err != nil || len(p.Phone) != 11 {
		fail("mobile %q: %v", p.Phone, err)
	}
	if !luhnValid(p.BankCard) || len(p.BankCard) < 16 || len(p.BankCard) > 19 {
		fail("bank card %q", p.BankCard)
	}
	if p.Name == "" || p.Address == "" || p.Employer == "" || p.Contacts == "" {
		fail("personal data incomplete")
	}
	// History: in the window, one per month, oldest first, ending with the last payment when it
	// falls in the window.
	win := c.StartOfMonth().AddMonths(-(cfg.withDefaults().HistoryMonths - 1))
	for k, h := range it.History {
		if h.LoanID != l.LoanID || h.Month.Day() != 1 || h.Month.Before(win) || h.Month.After(c) || h.Amount.Sign() <= 0 {
			fail("history[%d] %+v", k, h)
		}
		if k > 0 && !h.Month.After(it.History[k-1].Month) {
			fail("history not increasing at %d", k)
		}
		switch h.Source {
		case reclaim.SourceDebtor, reclaim.SourceGuarantor, reclaim.SourceCollateral, reclaim.SourceCourt:
		default:
			fail("source %q", h.Source)
		}
		switch h.Channel {
		case reclaim.ChannelInternal, reclaim.ChannelAgency, reclaim.ChannelLegal:
		default:
			fail("channel %q", h.Channel)
		}
		if h.Source == reclaim.SourceCourt && l.LegalStatus == reclaim.NotSued {
			fail("court payment without a lawsuit")
		}
	}
	inWindow := !l.LastPaymentDate.IsZero() && !l.LastPaymentDate.Before(win)
	if inWindow != (len(it.History) > 0) {
		fail("history has %d entries, last payment %s in window: %v", len(it.History), l.LastPaymentDate, inWindow)
	}
	if inWindow {
		last := it.History[len(it.History)-1]
		if last.Month != l.LastPaymentDate.StartOfMonth() || last.Amount != l.LastPaymentAmount {
			fail("last history entry %+v != last payment %s %v", last, l.LastPaymentDate, l.LastPaymentAmount)
		}
	}
	return bad
}

func TestItemsConsistent(t *testing.T) {
	for _, p := range Profiles {
		t.Run(p.String(), func(t *testing.T) {
			cfg := cfgFor(p, 5000, 11)
			for _, it := range generate(t, cfg) {
				if bad := checkItem(&it, cfg); len(bad) > 0 {
					t.Fatalf("loan %d (%s): %v", it.Index, it.Loan.LoanID, bad)
				}
			}
		})
	}
}

func TestItemsConsistentProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := cfgFor(rapid.SampledFrom(Profiles).Draw(rt, "profile"), rapid.IntRange(1, 60).Draw(rt, "n"), rapid.Uint64().Draw(rt, "seed"))
		cfg.CutOff = date.Of(rapid.IntRange(2012, 2030).Draw(rt, "year"), time.Month(rapid.IntRange(1, 12).Draw(rt, "month")), rapid.IntRange(1, 28).Draw(rt, "day"))
		cfg.HistoryMonths = rapid.IntRange(0, 60).Draw(rt, "history")
		for _, it := range generate(rt, cfg) {
			if bad := checkItem(&it, cfg); len(bad) > 0 {
				rt.Fatalf("loan %d (%s): %v", it.Index, it.Loan.LoanID, bad)
			}
		}
	})
}

// Loans of one borrower are consecutive and share the borrower's data.
func TestBorrowersShareData(t *testing.T) {
	items := generate(t, cfgFor(BankMixed, 3000, 5))
	for k := 1; k < len(items); k++ {
		a, b := &items[k-1], &items[k]
		if a.BorrowerIndex == b.BorrowerIndex {
			if a.Loan.BorrowerID != b.Loan.BorrowerID || a.Personal != b.Personal || a.Propensity != b.Propensity || a.Loan.BirthDate != b.Loan.BirthDate {
				t.Fatalf("loans %d and %d of one borrower differ in borrower data", k-1, k)
			}
		} else if b.BorrowerIndex != a.BorrowerIndex+1 || a.Loan.BorrowerID == b.Loan.BorrowerID {
			t.Fatalf("borrowers not sequential at loan %d", k)
		}
	}
}

func TestLuhn(t *testing.T) {
	for _, s := range []string{"4539578763621486", "6222021234567890123"} {
		if luhnValid(s) != (luhnDigit(s[:len(s)-1]) == s[len(s)-1]) {
			t.Errorf("luhn inconsistent for %s", s)
		}
	}
	if !luhnValid("4539578763621486") || luhnValid("4539578763621487") || !luhnValid("79927398713") {
		t.Error("luhnValid wrong on known numbers")
	}
}

func TestPortfolios(t *testing.T) {
	cfgs := Portfolios(9, 100001, cut)
	if len(cfgs) < 4 || len(cfgs) > 6 {
		t.Fatalf("got %d packages", len(cfgs))
	}
	total, refs, profiles := 0, map[string]bool{}, map[Profile]int{}
	for _, c := range cfgs {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.Seller == "" || refs[c.PortfolioRef] || c.CutOff != cut {
			t.Errorf("bad package %+v", c)
		}
		refs[c.PortfolioRef] = true
		profiles[c.Profile]++
		total += c.Loans
	}
	if total != 100001 {
		t.Errorf("loans add up to %d, want 100001", total)
	}
	if profiles[ConsumerFinance] != 2 || profiles[BankCards] != 1 || profiles[BankMixed] != 1 || profiles[Aged] != 1 {
		t.Errorf("profiles %v", profiles)
	}
	if d := cmp.Diff(cfgs, Portfolios(9, 100001, cut), cmp.AllowUnexported(date.Date{})); d != "" {
		t.Errorf("Portfolios not deterministic:\n%s", d)
	}
	small := Portfolios(9, 3, cut)
	n := 0
	for _, c := range small {
		n += c.Loans
	}
	if n != 3 || Portfolios(9, 0, cut) != nil {
		t.Errorf("small totals: %d packages with %d loans", len(small), n)
	}
}
