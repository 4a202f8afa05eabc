package auction

import (
	"testing"
	"time"

	"reclaim/money"
)

// BenchmarkApply measures accepted English bids: two bidders outbid each other one increment at a
// time, a millisecond apart, in one long auction. It reports bids/s.
func BenchmarkApply(b *testing.B) {
	l := judicial()
	l.End = t0.Add(365 * day)
	a, err := New(l)
	if err != nil {
		b.Fatal(err)
	}
	a.Apply(dep("A"), t0)
	a.Apply(dep("B"), t0)
	who := [2]string{"A", "B"}
	price := l.StartPrice.Minor()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := a.Apply(Event{Type: Bid, Bidder: who[i&1], Amount: money.New(price, money.CNY)}, t0.Add(time.Duration(i+1)*time.Millisecond))
		if !r.Accepted {
			b.Fatalf("bid %d rejected: %s", i, r.Reason)
		}
		price += l.Increment.Minor()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bids/s")
}

// BenchmarkApplyRejected measures bids rejected for being below the current price (the common
// case of a crowded auction).
func BenchmarkApplyRejected(b *testing.B) {
	a, _ := New(judicial())
	a.Apply(dep("A"), t0)
	a.Apply(bidOf("A", y(800_000)), t0.Add(time.Second))
	ev := bidOf("A", y(700_000))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := a.Apply(ev, t0.Add(2*time.Second)); r.Accepted {
			b.Fatal("accepted")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bids/s")
}

// BenchmarkRestore measures rebuilding an auction of 10,000 records from its history.
func BenchmarkRestore(b *testing.B) {
	l := judicial()
	a, _ := New(l)
	a.Apply(dep("A"), t0)
	a.Apply(dep("B"), t0)
	for i := 0; i < 10_000; i++ {
		a.Apply(bidOf([]string{"A", "B"}[i&1], money.New(l.StartPrice.Minor()+int64(i)*l.Increment.Minor(), money.CNY)), t0.Add(time.Duration(i)*time.Second))
	}
	h := a.History()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Restore(l, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(h)*b.N)/b.Elapsed().Seconds(), "records/s")
}
