package httpapi

import (
	"testing"
	"time"

	"reclaim"
	"reclaim/market"
	"reclaim/money"
)

func TestCheckListing(t *testing.T) {
	y := func(s string) money.Amount {
		a, err := money.Parse(s, money.CNY)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	start := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	judicial := market.ListingSpec{Title: "flat", Pack: "judicial", Format: "english", Kind: "real_estate",
		Appraisal: y("1000000.00"), StartPrice: y("700000.00"), Increment: y("10000.00"), Deposit: y("70000.00"),
		NoticeAt: start.AddDate(0, 0, -30), Start: start, End: start.Add(24 * time.Hour)}
	tests := []struct {
		name     string
		edit     func(s *market.ListingSpec)
		rules    []string
		minStart string
		depMin   string
		depMax   string
	}{
		{"the worked example is valid", func(*market.ListingSpec) {}, nil, "700000.00", "35000.00", "140000.00"},
		{"start below 70% of the appraisal", func(s *market.ListingSpec) { s.StartPrice = y("690000.00"); s.Deposit = y("69000.00") },
			[]string{"JA-1"}, "700000.00", "34500.00", "138000.00"},
		{"notice 29 days for real estate", func(s *market.ListingSpec) { s.NoticeAt = start.AddDate(0, 0, -29) }, []string{"JA-3"}, "700000.00", "35000.00", "140000.00"},
		{"deposit above 20%", func(s *market.ListingSpec) { s.Deposit = y("150000.00") }, []string{"JA-4"}, "700000.00", "35000.00", "140000.00"},
		{"23 hours of bidding", func(s *market.ListingSpec) { s.End = start.Add(23 * time.Hour) }, []string{"JA-6"}, "700000.00", "35000.00", "140000.00"},
		{"marketplace pack: one hour, a day's notice, no appraisal", func(s *market.ListingSpec) {
			s.Pack, s.Kind, s.Appraisal, s.Deposit = "marketplace", "npl_package", money.Amount{}, money.Amount{}
			s.NoticeAt, s.End = start.Add(-24*time.Hour), start.Add(time.Hour)
		}, nil, "", "0.00", "140000.00"},
		// 70% of 100.03 is 70.021, 5% of 70.03 is 3.5015, 20% is 14.006: half up would offer
		// 70.02, 3.50 and 14.01, each of which the check refuses.
		{"bounds round towards the rule", func(s *market.ListingSpec) {
			s.Appraisal, s.StartPrice, s.Increment, s.Deposit = y("100.03"), y("70.03"), y("1.00"), y("7.00")
		}, nil, "70.03", "3.51", "14.00"},
		{"one fen below the named minimum start", func(s *market.ListingSpec) {
			s.Appraisal, s.StartPrice, s.Increment, s.Deposit = y("100.03"), y("70.02"), y("1.00"), y("7.00")
		}, []string{"JA-1"}, "70.03", "3.51", "14.00"},
		{"one fen above the named maximum deposit", func(s *market.ListingSpec) {
			s.Appraisal, s.StartPrice, s.Increment, s.Deposit = y("100.03"), y("70.03"), y("1.00"), y("14.01")
		}, []string{"JA-4"}, "70.03", "3.51", "14.00"},
		{"one fen below the named minimum deposit", func(s *market.ListingSpec) {
			s.Appraisal, s.StartPrice, s.Increment, s.Deposit = y("100.03"), y("70.03"), y("1.00"), y("3.50")
		}, []string{"JA-4"}, "70.03", "3.51", "14.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := judicial
			tc.edit(&s)
			c, err := CheckListing(s)
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, v := range c.Violations {
				rules = append(rules, v.Rule)
			}
			if c.Valid != (len(tc.rules) == 0) || len(rules) != len(tc.rules) {
				t.Fatalf("valid %v, violations %v; want %v", c.Valid, c.Violations, tc.rules)
			}
			for i := range rules {
				if rules[i] != tc.rules[i] {
					t.Errorf("violation %d is %s, want %s", i, rules[i], tc.rules[i])
				}
			}
			str := func(p *string) string {
				if p == nil {
					return ""
				}
				return *p
			}
			if str(c.Pack.MinStartPrice) != tc.minStart || str(c.Pack.DepositMin) != tc.depMin || str(c.Pack.DepositMax) != tc.depMax {
				t.Errorf("bounds %s %s-%s, want %s %s-%s", str(c.Pack.MinStartPrice), str(c.Pack.DepositMin), str(c.Pack.DepositMax), tc.minStart, tc.depMin, tc.depMax)
			}
		})
	}
	for _, bad := range []market.ListingSpec{{Pack: "ebay", Kind: "movable"}, {Pack: "judicial", Kind: "car"}} {
		if _, err := CheckListing(bad); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", bad, err)
		}
	}
}
