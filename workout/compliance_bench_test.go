package workout

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchDebtor is one debtor's contact history and the contacts to decide next.
type benchDebtor struct {
	history []Contact
	next    []Contact
}

// benchHistories builds n debtors, each with perDebtor contacts over about four months (a
// realistic working of a debt: calls on two own numbers, SMS, the odd letter and visit, a
// relative now and then), in time order, and a few candidate contacts on the next day.
func benchHistories(n, perDebtor int, seed uint64) []benchDebtor {
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	offsets := []*time.Location{time.FixedZone("CST", 8*3600), time.FixedZone("EST", -5*3600)}
	outcomes := []Outcome{OutcomeNoAnswer, OutcomeNoAnswer, OutcomeBusy, OutcomeAnswered, OutcomeNoAnswer, OutcomeAnswered, OutcomeInvalidNumber}
	out := make([]benchDebtor, n)
	for d := range out {
		loc := offsets[d%len(offsets)]
		debtor := fmt.Sprintf("d%06d", d)
		own := []string{fmt.Sprintf("138%08d", d), fmt.Sprintf("139%08d", d)}
		relative := fmt.Sprintf("137%08d", d)
		debts := []string{debtor + "-L1", debtor + "-L2"}
		span := 120 * 24 * time.Hour
		step := span / time.Duration(perDebtor)
		at := start.In(loc).Add(9 * time.Hour)
		mk := func(i int, at time.Time) Contact {
			c := Contact{ID: fmt.Sprintf("%s-%d", debtor, i), DebtorID: debtor, DebtID: debts[r.IntN(2)], Party: PartyDebtor,
				Channel: ChannelCall, Number: own[r.IntN(2)], At: at, Agent: fmt.Sprintf("agent%d", r.IntN(20))}
			switch k := r.IntN(20); {
			case k < 3:
				c.Channel = ChannelSMS
			case k == 3:
				c.Channel, c.Number = ChannelLetter, ""
			case k == 4:
				c.Channel, c.Number = ChannelVisit, ""
			case k == 5:
				c.Party, c.Number = PartyThirdParty, relative
			}
			return c
		}
		var h []Contact
		for i := range perDebtor {
			// Daytime contacts, now and then several on one day.
			at = at.Add(step + time.Duration(r.IntN(3600))*time.Second)
			if tod := at.Hour(); tod < 8 || tod >= 20 {
				at = at.Add(12 * time.Hour)
			}
			c := mk(i, at)
			switch c.Channel {
			case ChannelCall:
				c.Outcome = outcomes[r.IntN(len(outcomes))]
			case ChannelSMS, ChannelLetter:
				c.Outcome = OutcomeDelivered
			case ChannelVisit:
				c.Outcome = OutcomeNotFound
			}
			h = append(h, c)
		}
		next := make([]Contact, 8)
		for i := range next {
			next[i] = mk(perDebtor+i, at.Add(time.Duration(i+1)*37*time.Minute))
		}
		out[d] = benchDebtor{history: h, next: next}
	}
	return out
}

// BenchmarkDecide measures live decisions: each decides one contact of one of 1,000 debtors with
// a history of 120 contacts over four months (the whole history is passed).
func BenchmarkDecide(b *testing.B) {
	debtors := benchHistories(1000, 120, 7)
	for _, pack := range []Pack{PackCN, PackUS} {
		b.Run(string(pack), func(b *testing.B) {
			st := DebtorState{}
			denied := 0
			i := 0
			for b.Loop() {
				d := &debtors[i%len(debtors)]
				if !Decide(pack, st, d.history, d.next[(i/len(debtors))%len(d.next)]).Allowed {
					denied++
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "decisions/s")
			if i > 0 && denied == i {
				b.Fatal("every decision denied: the benchmark history is unrealistic")
			}
		})
	}
}

// BenchmarkDecideParallel is BenchmarkDecide on every core (GOMAXPROCS goroutines).
func BenchmarkDecideParallel(b *testing.B) {
	debtors := benchHistories(1000, 120, 7)
	for _, pack := range []Pack{PackCN, PackUS} {
		b.Run(string(pack), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(len(debtors))
				for pb.Next() {
					d := &debtors[i%len(debtors)]
					Decide(pack, DebtorState{}, d.history, d.next[(i/len(debtors))%len(d.next)])
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// BenchmarkAudit audits a log of 100,000 contacts (1,000 debtors x 100 contacts over four
// months, debtor after debtor, so the audit sorts it).
func BenchmarkAudit(b *testing.B) {
	var log []Contact
	for _, d := range benchHistories(1000, 100, 11) {
		log = append(log, d.history...)
	}
	for _, pack := range []Pack{PackCN, PackUS} {
		b.Run(string(pack), func(b *testing.B) {
			n := 0
			for b.Loop() {
				Audit(pack, log)
				n++
			}
			b.ReportMetric(float64(n*len(log))/b.Elapsed().Seconds(), "contacts/s")
		})
	}
}
