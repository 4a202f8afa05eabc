package workout

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"reclaim/date"
)

// BenchmarkPlanQueue plans one day's queue for 100,000 candidate cases under the built-in strategy
// (4 teams, 4,940 contacts a day), with values drawn like the simulator's (claim-proportional,
// heavy-tailed).
func BenchmarkPlanQueue(b *testing.B) {
	s := DefaultStrategy()
	r := rand.New(rand.NewPCG(1, 2))
	cases := make([]QueueCase, 100_000)
	for i := range cases {
		c := &cases[i]
		c.CaseID, c.DebtorID, c.DebtID, c.Number = fmt.Sprint("C", i), fmt.Sprint("D", i), fmt.Sprint("L", i), fmt.Sprint(13800000000+i)
		claim := math.Exp(r.NormFloat64()*1.2 + 10)
		p := 0.02 * r.Float64()
		for k := range c.Value {
			c.Value[k] = math.NaN()
		}
		c.Value[ChannelIndex(ChannelCall)] = claim * p * 0.4 * 0.3
		c.Value[ChannelIndex(ChannelSMS)] = claim * p * 0.05
		c.Value[ChannelIndex(ChannelLetter)] = claim * p * 0.03
		c.Value[ChannelIndex(ChannelVisit)] = claim * p * 0.3
	}
	b.ResetTimer()
	for b.Loop() {
		q, err := PlanQueue(s, date.Of(2026, 7, 1), cases, nil)
		if err != nil || len(q.Items) != s.Capacity() {
			b.Fatalf("%v: %d items", err, len(q.Items))
		}
	}
}
