package workout

import (
	"fmt"
	"testing"

	"reclaim/date"
)

// benchDash is a floor of 100,000 cases in two portfolios, 40 agents and 3 agencies, with 200,000
// payments and 400,000 contacts over a 30-day window.
func benchDash() DashInput {
	from := date.Of(2026, 5, 1)
	in := DashInput{From: from, To: from.AddDays(29), Forecast: map[int64]float64{1: 5e6, 2: 2e6},
		PortfolioClaim: map[int64]float64{}, ChannelCost: map[string]float64{"call": 3, "sms": 0.1, "letter": 6}}
	chans := []string{"call", "sms", "letter"}
	for i := range 100000 {
		p := int64(1 + i%2)
		cl := float64(1000 + i%50000)
		in.PortfolioClaim[p] += cl
		c := DashCase{ID: int64(i + 1), Assignee: fmt.Sprintf("agent-%02d", i%40), Arm: DrawArm(1, CaseRef(int64(i+1)), 0.5),
			Claims: []DashClaim{{Portfolio: p, Claim: cl}}}
		if i%10 == 0 {
			c.Agency = fmt.Sprintf("agency-%d", i%3)
		}
		in.Cases = append(in.Cases, c)
	}
	for i := range 400000 {
		in.Contacts = append(in.Contacts, DashContact{CaseID: int64(1 + (i*7919)%100000), On: from.AddDays(i % 30), Channel: chans[i%3]})
	}
	for i := range 200000 {
		in.Payments = append(in.Payments, DashPayment{CaseID: int64(1 + (i*104729)%100000), On: from.AddDays((i * 13) % 30), Amount: float64(100 + i%900)})
	}
	return in
}

// BenchmarkCollections attributes the floor's payments and contacts by channel, agent and agency.
func BenchmarkCollections(b *testing.B) {
	in := benchDash()
	for b.Loop() {
		Collections(in)
	}
}

// BenchmarkArmLift measures the champion/challenger lift on the same floor.
func BenchmarkArmLift(b *testing.B) {
	in := benchDash()
	for b.Loop() {
		ArmLift(in, 0.95)
	}
}

// BenchmarkPeerGroupSum is the peer: one pass summing the payments by the case's agent through a
// map (the least any breakdown must do).
func BenchmarkPeerGroupSum(b *testing.B) {
	in := benchDash()
	for b.Loop() {
		agent := make(map[int64]string, len(in.Cases))
		for _, c := range in.Cases {
			agent[c.ID] = c.Assignee
		}
		sum := map[string]float64{}
		for _, p := range in.Payments {
			sum[agent[p.CaseID]] += p.Amount
		}
	}
}
