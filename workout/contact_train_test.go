package workout

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
)

func liveContact(id, caseID int64, day date.Date, ch, outcome string) LiveContact {
	return LiveContact{ID: id, CaseID: caseID, At: day.Time().Add(10 * time.Hour), Day: day, Channel: ch, Outcome: outcome}
}

func TestLiveExamples(t *testing.T) {
	d := date.Of
	log := &ContactLog{
		Cases: []LiveCase{{ID: 1, Claim: 10_000, DPD: 100, CutOff: d(2026, 1, 1), BirthYear: 1980, Phone: true, BoardedOn: d(2026, 2, 1), SuedOn: d(2026, 3, 1)}},
		Contacts: []LiveContact{
			liveContact(1, 1, d(2026, 2, 10), "call", "answered"),
			liveContact(2, 1, d(2026, 2, 20), "sms", "delivered"),
			liveContact(3, 1, d(2026, 3, 5), "call", "invalid_number"),
			liveContact(4, 1, d(2026, 3, 28), "letter", "delivered"), // horizon ends after as-of: left out
		},
		Payments: []LivePayment{{CaseID: 1, On: d(2026, 2, 10), Amount: 50}, {CaseID: 1, On: d(2026, 3, 12), Amount: 300}},
	}
	ex, err := LiveExamples(log, 10, d(2026, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 3 {
		t.Fatalf("%d examples, want 3: %+v", len(ex), ex)
	}
	// A payment on the contact's own day is not its outcome; one 7 days after is.
	if ex[0].Paid || ex[1].Paid || !ex[2].Paid || ex[2].Collected != 300 {
		t.Fatalf("labels %v %v %v (%v)", ex[0].Paid, ex[1].Paid, ex[2].Paid, ex[2].Collected)
	}
	f := ex[2].Features // on 2026-03-05: two earlier contacts, one reached 23 days before
	if f.Attempts30 != 2 || f.Reached30 != 1 || f.DaysSinceReach != 23 || f.InvalidNumber || !f.Sued || f.DPD != 100+63 ||
		f.Age != 46 || f.DaysOnBook != 32 || !f.PhoneAvailable {
		t.Fatalf("features %+v", f)
	}
	if g := ex[0].Features; g.Attempts30 != 0 || g.DaysSinceReach != -1 || g.Sued {
		t.Fatalf("first contact's features %+v", g)
	}

	bad := *log
	bad.Contacts = append([]LiveContact{}, log.Contacts...)
	bad.Contacts[1].Channel = "pigeon"
	if _, err := LiveExamples(&bad, 10, d(2026, 4, 1)); reclaim.ErrorCode(err) != reclaim.EINVALID || !strings.Contains(err.Error(), `unknown channel "pigeon"`) {
		t.Fatalf("unknown channel: %v", err)
	}
	bad.Contacts[1].Channel, bad.Contacts[1].CaseID = "sms", 99
	if _, err := LiveExamples(&bad, 10, d(2026, 4, 1)); reclaim.ErrorCode(err) != reclaim.EINVALID || !strings.Contains(err.Error(), "case 99") {
		t.Fatalf("unknown case: %v", err)
	}
	if _, err := LiveExamples(log, 0, d(2026, 4, 1)); reclaim.ErrorCode(err) != reclaim.EINVALID {
		t.Fatalf("horizon 0: %v", err)
	}
}

// channelEffectExamples: n examples on call/sms/letter where P(pay) is 0.6, 0.1, 0.05.
func channelEffectExamples(n int, seed uint64) []LiveExample {
	r := rand.New(rand.NewPCG(seed, 1))
	chans := []Channel{ChannelCall, ChannelSMS, ChannelLetter}
	p := map[Channel]float64{ChannelCall: 0.6, ChannelSMS: 0.1, ChannelLetter: 0.05}
	out := make([]LiveExample, n)
	for i := range out {
		ch := chans[r.IntN(3)]
		paid := r.Float64() < p[ch]
		out[i] = LiveExample{ContactExample: ContactExample{Features: CaseFeatures{Claim: 10_000 + float64(r.IntN(50_000)), DPD: 100 + r.IntN(900), Age: -1,
			PhoneAvailable: true, DaysSinceReach: -1}, Channel: ch, Paid: paid}, CaseID: int64(i / 3), Collected: map[bool]float64{true: 500}[paid]}
	}
	return out
}

func TestTrainLiveContactModel(t *testing.T) {
	ctx := context.Background()
	ex := channelEffectExamples(900, 1)
	m, s, err := TrainLiveContactModel(ctx, ex, LiveTrainOptions{Params: ModelParams{Seed: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if s.AUC < 0.7 || s.Rows != 900 || s.HoldoutRows == 0 || s.TrainRows+s.HoldoutRows != 900 || s.PosByChannel["call"] <= s.PosByChannel["sms"] {
		t.Fatalf("summary %+v", s)
	}
	f := &ex[0].Features
	if m.PPay(f, ChannelCall) <= m.PPay(f, ChannelSMS)+0.2 {
		t.Fatalf("P(pay|call) %v, P(pay|sms) %v", m.PPay(f, ChannelCall), m.PPay(f, ChannelSMS))
	}
	// The stored bytes give the same model.
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalContactModel(b)
	if err != nil || m2.PPay(f, ChannelCall) != m.PPay(f, ChannelCall) {
		t.Fatalf("round trip: %v", err)
	}
	// Model values: no call or SMS without a number; a call worth more than an SMS here.
	st := DefaultStrategy()
	v := ModelValues(st, m, f, 1000)
	if !(v[ChannelIndex(ChannelCall)] > v[ChannelIndex(ChannelSMS)]) {
		t.Fatalf("values %v", v)
	}
	nf := *f
	nf.PhoneAvailable = false
	if v := ModelValues(st, m, &nf, 1000); v[ChannelIndex(ChannelCall)] == v[ChannelIndex(ChannelCall)] {
		t.Fatalf("a call valued without a number: %v", v)
	}

	// Too few rows, one label: EINVALID naming the counts.
	if _, _, err := TrainLiveContactModel(ctx, ex[:150], LiveTrainOptions{MinRows: 200}); reclaim.ErrorCode(err) != reclaim.EINVALID ||
		!strings.Contains(err.Error(), "has 150 usable contacts") || !strings.Contains(err.Error(), "at least 200") {
		t.Fatalf("too few: %v", err)
	}
	none := append([]LiveExample{}, ex...)
	for i := range none {
		none[i].Paid = false
	}
	if _, _, err := TrainLiveContactModel(ctx, none, LiveTrainOptions{}); reclaim.ErrorCode(err) != reclaim.EINVALID || !strings.Contains(err.Error(), "both outcomes") {
		t.Fatalf("one label: %v", err)
	}
	if _, err := UnmarshalContactModel([]byte("not a model")); reclaim.ErrorCode(err) != reclaim.EINVALID {
		t.Fatalf("garbage: %v", err)
	}
}

// TestLiveExamplesProperty: for any log, every example's horizon ended by the as-of day, its
// label is exactly "a payment in (day, day+horizon]", and there is at most one per contact.
func TestLiveExamplesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		start := date.Of(2026, 1, 1)
		nc := rapid.IntRange(1, 5).Draw(t, "cases")
		log := &ContactLog{}
		for i := 1; i <= nc; i++ {
			log.Cases = append(log.Cases, LiveCase{ID: int64(i), Claim: 1000})
		}
		chans := []string{"call", "sms", "visit", "letter", "email"}
		for k := range rapid.IntRange(0, 30).Draw(t, "contacts") {
			c := int64(rapid.IntRange(1, nc).Draw(t, "case"))
			day := start.AddDays(rapid.IntRange(0, 90).Draw(t, "day"))
			log.Contacts = append(log.Contacts, liveContact(int64(k), c, day, rapid.SampledFrom(chans).Draw(t, "ch"), rapid.SampledFrom([]string{"answered", "no_answer"}).Draw(t, "o")))
		}
		for range rapid.IntRange(0, 20).Draw(t, "payments") {
			log.Payments = append(log.Payments, LivePayment{CaseID: int64(rapid.IntRange(1, nc).Draw(t, "pc")), On: start.AddDays(rapid.IntRange(0, 120).Draw(t, "pd")), Amount: 10})
		}
		h := rapid.IntRange(1, 40).Draw(t, "horizon")
		asOf := start.AddDays(rapid.IntRange(0, 130).Draw(t, "asof"))
		ex, err := LiveExamples(log, h, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex) > len(log.Contacts) {
			t.Fatalf("%d examples from %d contacts", len(ex), len(log.Contacts))
		}
		for _, e := range ex {
			if e.Day.AddDays(h).After(asOf) {
				t.Fatalf("example on %s with horizon %d after as-of %s", e.Day, h, asOf)
			}
			want := false
			for _, p := range log.Payments {
				if p.CaseID == e.CaseID && p.On.After(e.Day) && !p.On.After(e.Day.AddDays(h)) {
					want = true
				}
			}
			if e.Paid != want {
				t.Fatalf("example %+v: paid %v, want %v", e, e.Paid, want)
			}
		}
	})
}

// FuzzUnmarshalContactModel: any bytes either decode to a contact model or are EINVALID; never a
// panic.
func FuzzUnmarshalContactModel(f *testing.F) {
	m, _, err := TrainLiveContactModel(context.Background(), channelEffectExamples(300, 2), LiveTrainOptions{MinRows: 100, Params: ModelParams{Trees: 5, Threads: 1}})
	if err != nil {
		f.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte("gbdt "), 10))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalContactModel(data)
		if err != nil {
			if reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		_ = m.PPay(&CaseFeatures{Age: -1, DaysSinceReach: -1}, ChannelCall)
	})
}
