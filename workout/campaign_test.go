package workout

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestCampaignCapProperty: with max > 0 a campaign contact is refused exactly when the debtor
// already had max contacts on its channel on its local day (any source, party debtor); other
// days, channels, debtors and third-party contacts never count; max 0 never refuses.
func TestCampaignCapProperty(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	rapid.Check(t, func(t *rapid.T) {
		at := time.Date(2026, 3, 10, rapid.IntRange(8, 21).Draw(t, "hour"), 0, 0, 0, cst)
		c := Contact{DebtorID: "C1", Channel: ChannelSMS, Party: PartyDebtor, At: at}
		max := rapid.IntRange(0, 4).Draw(t, "max")
		n := rapid.IntRange(0, 12).Draw(t, "n")
		var history []Contact
		want := 0
		start := at.Add(-72 * time.Hour)
		for i := range n {
			h := Contact{DebtorID: rapid.SampledFrom([]string{"C1", "C2"}).Draw(t, "debtor"),
				Channel: rapid.SampledFrom([]Channel{ChannelSMS, ChannelLetter, ChannelCall}).Draw(t, "channel"),
				Party:   rapid.SampledFrom([]Party{PartyDebtor, PartyThirdParty}).Draw(t, "party"),
				At:      start.Add(time.Duration(i) * 6 * time.Hour)}
			if h.At.After(at) {
				break
			}
			history = append(history, h)
			if h.DebtorID == "C1" && h.Channel == ChannelSMS && h.Party == PartyDebtor && h.At.In(cst).YearDay() == at.YearDay() {
				want++
			}
		}
		v := CampaignCap(max, history, c)
		denied := v != nil
		if denied != (max > 0 && want >= max) {
			t.Fatalf("max %d, %d same-day SMS: denied %v", max, want, denied)
		}
		if denied && v.Rule != RuleCampaignCap {
			t.Fatalf("rule %s", v.Rule)
		}
	})
}

func TestValidateCampaignNormalises(t *testing.T) {
	s := CampaignSpec{Key: " k ", Name: " n ", Channel: "sms", Template: "t", ScheduledAt: time.Now(),
		Selection: CampaignSelection{CaseIDs: []int64{5, 3, 5, 1}}}
	if err := ValidateCampaign(&s); err != nil {
		t.Fatal(err)
	}
	if s.Key != "k" || s.Name != "n" || len(s.Selection.CaseIDs) != 3 || s.Selection.CaseIDs[0] != 1 {
		t.Fatalf("%+v", s)
	}
	// The hash is the request: equal requests, equal hashes; any change, another hash.
	s2 := s
	if s.Hash() != s2.Hash() {
		t.Fatal("equal requests hash differently")
	}
	s2.Template = "u"
	if s.Hash() == s2.Hash() {
		t.Fatal("different requests hash alike")
	}
}
