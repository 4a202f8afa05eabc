package cnid

import (
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
)

// TestPropMaskLeavesManyCandidates is the anonymity property of the masked ID: for random valid
// IDs, the number of valid IDs consistent with what a non-collector sees (the mask, the county
// code shown in clear, the birth year) is at least MinConsistentIDs. With the mask this package
// used before (first 6 and last 4 characters) the same count is about 33 (365 days / 11 check
// values), and 1 with the birth date that lists showed beside it.
func TestPropMaskLeavesManyCandidates(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		region := rapid.StringMatching(`[1-6][0-9]{5}`).Draw(t, "region")
		birth := date.FromDays(rapid.IntRange(date.Of(1930, 1, 1).Days(), date.Of(2008, 12, 31).Days()).Draw(t, "birth"))
		id := Generate(region, birth, rapid.IntRange(0, 999).Draw(t, "seq"), rapid.Bool().Draw(t, "male"))
		s := Shown{Mask: Mask(id), Region: id[:6], BirthYear: birth.Year()}
		n, err := ConsistentIDs(s)
		if err != nil {
			t.Fatal(err)
		}
		if n < MinConsistentIDs {
			t.Fatalf("%d valid IDs consistent with mask %s, county and birth year %d; want >= %d", n, s.Mask, s.BirthYear, MinConsistentIDs)
		}
		// Every day of the year and every sequence number fits: the mask shows nothing of them.
		days := date.Of(birth.Year(), 12, 31).Sub(date.Of(birth.Year(), 1, 1)) + 1
		if n != days*1000 {
			t.Fatalf("%d consistent IDs, want %d days x 1000", n, days)
		}
	})
}

// TestConsistentIDsCountsDisclosures checks the counter itself on what other disclosures would
// cost: the exact birth date beside the mask leaves only the 1000 sequence numbers, and a mask
// that does not fit the region leaves nothing.
func TestConsistentIDsCountsDisclosures(t *testing.T) {
	id := Generate("440502", date.Of(1985, 7, 7), 635, true)
	n, err := ConsistentIDs(Shown{Mask: Mask(id), Region: "440502", BirthYear: 1985, Birth: date.Of(1985, 7, 7)})
	if err != nil || n != 1000 {
		t.Errorf("with the birth date: %d, %v; want 1000", n, err)
	}
	if n, _ := ConsistentIDs(Shown{Mask: Mask(id), Region: "110101", BirthYear: 1985}); n != 0 {
		t.Errorf("region outside the mask: %d candidates, want 0", n)
	}
	if n, _ := ConsistentIDs(Shown{Mask: Mask(id), Region: "440502", BirthYear: 1985, Birth: date.Of(1986, 1, 1)}); n != 0 {
		t.Errorf("birth date outside the year: %d candidates, want 0", n)
	}
	for _, bad := range []Shown{{Mask: Mask(id), Region: "4405", BirthYear: 1985}, {Mask: Mask(id), Region: "44050a", BirthYear: 1985},
		{Mask: Mask(id), Region: "440502", BirthYear: 1700}} {
		if _, err := ConsistentIDs(bad); err == nil {
			t.Errorf("ConsistentIDs(%+v) accepted", bad)
		}
	}
}
