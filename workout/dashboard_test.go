package workout

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
)

func TestCollectionsAttribution(t *testing.T) {
	d := func(day int) date.Date { return date.Of(2026, 5, day) }
	in := DashInput{From: d(1), To: d(31), AttributionDays: 10,
		Cases: []DashCase{
			{ID: 1, Assignee: "li", Claims: []DashClaim{{Portfolio: 7, Claim: 600}}},
			{ID: 2, Assignee: "li", Agency: "huadong", Claims: []DashClaim{{Portfolio: 7, Claim: 400}}},
			{ID: 3, Claims: []DashClaim{{Portfolio: 8, Claim: 100}}}, // portfolio 8 has no forecast
		},
		Payments: []DashPayment{
			{CaseID: 1, On: d(10), Amount: 300}, // after a call on the 5th: call
			{CaseID: 1, On: d(28), Amount: 50},  // the call is 23 days old, the sms 3: sms
			{CaseID: 2, On: d(3), Amount: 120},  // no contact before it
			{CaseID: 2, On: d(20), Amount: -20}, // a reversal, after a visit on the 20th (same day counts)
			{CaseID: 3, On: d(15), Amount: 10},
			{CaseID: 9, On: d(15), Amount: 1e6},               // unknown case: ignored
			{CaseID: 1, On: date.Of(2026, 6, 1), Amount: 1e6}, // outside the window: ignored
		},
		Contacts: []DashContact{{CaseID: 1, On: d(5), Channel: "call"}, {CaseID: 1, On: d(25), Channel: "sms"},
			{CaseID: 2, On: d(20), Channel: "visit"}, {CaseID: 1, On: d(29), Channel: "call"}},
		Forecast:       map[int64]float64{7: 1000},
		PortfolioClaim: map[int64]float64{7: 1000, 8: 100},
		ChannelCost:    map[string]float64{"call": 3, "sms": 0.1, "visit": 120},
	}
	b := Collections(in)
	if b.Total.Collected != 460 || b.Total.Forecast != nil || b.Total.Contacts != 4 || math.Abs(b.Total.ContactCost-126.1) > 1e-9 {
		t.Errorf("total %+v", b.Total)
	}
	want := map[string]float64{"call": 300, "sms": 50, KeyNoContact: 120, "visit": -20}
	for _, r := range b.ByChannel {
		if r.Key == KeyNoContact && r.Collected != 120+10 {
			t.Errorf("no contact: %v", r.Collected)
		} else if r.Key != KeyNoContact && r.Collected != want[r.Key] {
			t.Errorf("channel %s: %v, want %v", r.Key, r.Collected, want[r.Key])
		}
		if r.Forecast != nil {
			t.Errorf("channel %s has a forecast", r.Key)
		}
	}
	for _, r := range b.ByAgent {
		switch r.Key {
		case "li":
			if r.Collected != 450 || r.Cases != 2 || r.Forecast == nil || *r.Forecast != 1000 || *r.Ratio != 0.45 {
				t.Errorf("li: %+v", r)
			}
		case KeyUnassigned:
			if r.Collected != 10 || r.Forecast != nil {
				t.Errorf("unassigned: %+v", r)
			}
		default:
			t.Errorf("agent %q", r.Key)
		}
	}
	if b.ByAgency[0].Key != KeyInHouse || b.ByAgency[1].Key != "huadong" || *b.ByAgency[1].Forecast != 400 {
		t.Errorf("agencies %+v", b.ByAgency)
	}
}

// Every breakdown adds up to the total; with a forecast for every portfolio, the agents'
// forecasts add up to the total forecast.
func TestCollectionsAddUp(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 30).Draw(t, "cases")
		from := date.Of(2026, 1, 1)
		in := DashInput{From: from, To: from.AddDays(59), Forecast: map[int64]float64{1: 5000, 2: 800},
			PortfolioClaim: map[int64]float64{}, ChannelCost: map[string]float64{"call": 3, "sms": 0.1}}
		for i := range n {
			p := int64(rapid.IntRange(1, 2).Draw(t, "p"))
			cl := rapid.Float64Range(1, 1000).Draw(t, "claim")
			in.PortfolioClaim[p] += cl
			in.Cases = append(in.Cases, DashCase{ID: int64(i + 1), Assignee: rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "agent"),
				Agency: rapid.SampledFrom([]string{"", "x"}).Draw(t, "agency"), Claims: []DashClaim{{Portfolio: p, Claim: cl}}})
		}
		for range rapid.IntRange(0, 60).Draw(t, "payments") {
			in.Payments = append(in.Payments, DashPayment{CaseID: int64(rapid.IntRange(1, n).Draw(t, "case")),
				On: from.AddDays(rapid.IntRange(-10, 70).Draw(t, "on")), Amount: float64(rapid.IntRange(-100, 1000).Draw(t, "amt"))})
		}
		for range rapid.IntRange(0, 60).Draw(t, "contacts") {
			in.Contacts = append(in.Contacts, DashContact{CaseID: int64(rapid.IntRange(1, n).Draw(t, "case")),
				On: from.AddDays(rapid.IntRange(-10, 70).Draw(t, "on")), Channel: rapid.SampledFrom([]string{"call", "sms"}).Draw(t, "ch")})
		}
		b := Collections(in)
		for name, rows := range map[string][]CollectionRow{"channel": b.ByChannel, "agent": b.ByAgent, "agency": b.ByAgency} {
			sum, contacts, fc := 0.0, 0, 0.0
			for _, r := range rows {
				sum += r.Collected
				contacts += r.Contacts
				if r.Forecast != nil {
					fc += *r.Forecast
				}
			}
			if sum != b.Total.Collected || contacts != b.Total.Contacts {
				t.Fatalf("%s: collected %v contacts %d, total %v %d", name, sum, contacts, b.Total.Collected, b.Total.Contacts)
			}
			if name != "channel" && math.Abs(fc-*b.Total.Forecast) > 1e-6 {
				t.Fatalf("%s: forecasts add to %v, total %v", name, fc, *b.Total.Forecast)
			}
		}
		if math.Abs(*b.Total.Forecast-5800) > 1e-6 && len(in.PortfolioClaim) == 2 {
			t.Fatalf("total forecast %v, want 5800", *b.Total.Forecast)
		}
	})
}

func TestArmLift(t *testing.T) {
	from := date.Of(2026, 1, 1)
	in := DashInput{From: from, To: from.AddDays(30), ChannelCost: map[string]float64{"call": 3}}
	for i := range 400 {
		arm := DrawArm(42, CaseRef(int64(i+1)), 0.5)
		in.Cases = append(in.Cases, DashCase{ID: int64(i + 1), Arm: arm})
		if i%4 == 0 {
			amt := 100.0
			if arm == ArmChallenger {
				amt = 160
			}
			in.Payments = append(in.Payments, DashPayment{CaseID: int64(i + 1), On: from.AddDays(3), Amount: amt})
		}
		in.Contacts = append(in.Contacts, DashContact{CaseID: int64(i + 1), On: from.AddDays(1), Channel: "call"})
	}
	r := ArmLift(in, 0.95)
	if r.Lift == nil || r.Champion+r.Challenger != 400 || r.Champion < 150 || r.Challenger < 150 {
		t.Fatalf("%+v", r)
	}
	// Each arm: a quarter of cases pay 100 (160), every case costs 3: means 22 and 37.
	if math.Abs(r.Lift.ChampionMean-22) > 4 || math.Abs(r.Lift.ChallengerMean-37) > 6 || !(r.Lift.Lo < r.Lift.Diff && r.Lift.Diff < r.Lift.Hi) {
		t.Errorf("%+v", *r.Lift)
	}
	if r := ArmLift(DashInput{Cases: []DashCase{{ID: 1, Arm: ArmChampion}}}, 0.95); r.Lift != nil || r.Note == "" {
		t.Errorf("one case: %+v", r)
	}
	if DrawArm(42, "C1", 0) != ArmChampion || DrawArm(42, "C1", 1) != ArmChallenger {
		t.Error("share 0 and 1")
	}
}

func TestCountLimitation(t *testing.T) {
	today := date.Of(2026, 5, 1)
	cs := []DashCase{{LimitationExpiry: today.AddDays(-1)}, {LimitationExpiry: today}, {LimitationExpiry: today.AddDays(30)},
		{LimitationExpiry: today.AddDays(31)}, {LimitationExpiry: today.AddDays(90)}, {LimitationExpiry: today.AddDays(91)}, {}}
	if got := CountLimitation(cs, today); got != (LimitationCounts{Expired: 1, Within30: 2, Within90: 2, Later: 1, Unknown: 1}) {
		t.Errorf("%+v", got)
	}
}
