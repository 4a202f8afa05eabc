package workout

import (
	"context"
	"math"
	"strings"
	"testing"

	"reclaim"
)

func TestParseStrategyDefault(t *testing.T) {
	s := DefaultStrategy()
	if s.Pack != PackCN || s.Offset != 8*3600 || len(s.Teams) != 4 || len(s.Channels) != 4 {
		t.Fatalf("default strategy = %+v", s)
	}
	if got := s.Cost(ChannelVisit).String(); got != "120.00" {
		t.Errorf("visit cost %s, want 120.00", got)
	}
	if s.Capacity() != 1500+3000+400+40 {
		t.Errorf("capacity %d", s.Capacity())
	}
	h := s.Scaled(0.1)
	if h.Teams[0].Capacity != 150 || s.Teams[0].Capacity != 1500 || h.Teams[3].Capacity != 4 {
		t.Errorf("scaled %+v (original changed? %d)", h.Teams, s.Teams[0].Capacity)
	}
}

func TestParseStrategyErrors(t *testing.T) {
	base := "channels:\n  call: {cost: \"1.00\"}\nteams:\n  - {name: a, channels: [call], capacity: 10}\n"
	for _, tc := range []struct {
		name, yaml, path string
	}{
		{"unknown channel", "channels:\n  fax: {cost: \"1\"}\nteams:\n  - {name: a, channels: [fax], capacity: 1}\n", "channels.fax"},
		{"unknown team channel", "channels:\n  call: {cost: \"1.00\"}\nteams:\n  - {name: a, channels: [call, pigeon], capacity: 10}\n", "teams[0].channels[1]"},
		{"team channel without cost", "channels:\n  call: {cost: \"1.00\"}\nteams:\n  - {name: a, channels: [sms], capacity: 10}\n", "teams[0].channels[0]"},
		{"negative cost", "channels:\n  call: {cost: \"-1.00\"}\nteams:\n  - {name: a, channels: [call], capacity: 10}\n", "channels.call.cost"},
		{"bad cost", "channels:\n  call: {cost: \"cheap\"}\nteams:\n  - {name: a, channels: [call], capacity: 10}\n", "channels.call.cost"},
		{"zero capacity", "channels:\n  call: {cost: \"1\"}\nteams:\n  - {name: a, channels: [call], capacity: 0}\n", "teams[0].capacity"},
		{"duplicate team", base + "  - {name: a, channels: [call], capacity: 10}\n", "teams[1].name"},
		{"bad shift", "channels:\n  call: {cost: \"1\"}\nteams:\n  - {name: a, channels: [call], capacity: 1, shift: \"18:00-09:00\"}\n", "teams[0].shift"},
		{"bad pack", "pack: eu\n" + base, "pack"},
		{"bad offset", "utc_offset: CST\n" + base, "utc_offset"},
		{"no teams", "channels:\n  call: {cost: \"1\"}\n", "teams"},
		{"no channels", "teams:\n  - {name: a, channels: [call], capacity: 1}\n", "channels"},
		{"max discount", "max_discount: 1.5\n" + base, "max_discount"},
	} {
		_, err := ParseStrategy([]byte(tc.yaml), "s.yaml")
		var e *reclaim.Error
		if err == nil || !errorAs(err, &e) || e.Code != reclaim.EINVALID || e.Fields["path"] != tc.path || !strings.Contains(err.Error(), "s.yaml") {
			t.Errorf("%s: err = %v, want EINVALID naming path %s", tc.name, err, tc.path)
		}
	}
	if _, err := ParseStrategy([]byte("chanels: {}\n"), "s.yaml"); err == nil || !strings.Contains(err.Error(), "chanels") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := ParseStrategy([]byte(base), "s.yaml"); err != nil {
		t.Errorf("base: %v", err)
	}
}

func errorAs(err error, e **reclaim.Error) bool {
	x, ok := err.(*reclaim.Error)
	if ok {
		*e = x
	}
	return ok
}

func FuzzParseStrategy(f *testing.F) {
	f.Add([]byte(DefaultStrategyYAML))
	f.Add([]byte("channels:\n  fax: {cost: \"1\"}\n"))
	f.Add([]byte("teams:\n  - {name: a, channels: [call], capacity: 1, shift: \"9-5\"}\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStrategy(b, "f.yaml")
		if err != nil {
			if reclaim.ErrorCode(err) == reclaim.EINTERNAL {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if len(s.Teams) == 0 || len(s.Channels) == 0 {
			t.Fatalf("accepted a strategy without teams or channels")
		}
		for _, tm := range s.Teams {
			if tm.Capacity <= 0 || tm.ShiftStart >= tm.ShiftEnd || tm.Agents < 1 {
				t.Fatalf("accepted team %+v", tm)
			}
			for _, ch := range tm.Channels {
				if _, ok := s.Channels[ch]; !ok {
					t.Fatalf("team channel %s without cost", ch)
				}
			}
		}
	})
}

func TestStrategySplit(t *testing.T) {
	s := DefaultStrategy().Scaled(0.01) // capacities 15, 30, 4, 1
	for _, share := range []float64{0, 0.3, 0.5, 0.9, 1} {
		a, b := s.Split(share)
		for i, tm := range s.Teams {
			if a.Teams[i].Capacity+b.Teams[i].Capacity != tm.Capacity || a.Teams[i].Capacity < 0 || b.Teams[i].Capacity < 0 {
				t.Errorf("share %v team %s: %d + %d != %d", share, tm.Name, a.Teams[i].Capacity, b.Teams[i].Capacity, tm.Capacity)
			}
		}
	}
}

func TestStrategyModels(t *testing.T) {
	ctx := context.Background()
	var cex []ContactExample
	var aex []AcceptExample
	for i := 0; i < 400; i++ {
		f := CaseFeatures{Claim: float64(1000 + 37*i), DPD: 200 + i, Age: 40, PhoneAvailable: i%3 != 0, DaysSinceReach: -1}
		ch := []Channel{"", ChannelCall, ChannelSMS, ChannelVisit}[i%4]
		// calls and visits work on debtors with a phone; nothing works without one
		cex = append(cex, ContactExample{Features: f, Channel: ch, Paid: f.PhoneAvailable && (ch == ChannelCall || ch == ChannelVisit) && i%5 != 0})
		d := float64(i%20) * 0.04
		aex = append(aex, AcceptExample{Features: f, Discount: d, Accepted: d > 0.4})
	}
	p := ModelParams{Trees: 30, Threads: 1, Seed: 1}
	cm, err := TrainContactModel(ctx, cex, p)
	if err != nil {
		t.Fatal(err)
	}
	am, err := TrainAcceptanceModel(ctx, aex, p)
	if err != nil {
		t.Fatal(err)
	}
	f := CaseFeatures{Claim: 5000, DPD: 300, Age: 40, PhoneAvailable: true, DaysSinceReach: -1}
	if !(cm.PPay(&f, ChannelCall) > cm.PPay(&f, ChannelSMS)) || cm.Uplift(&f, ChannelCall) <= 0 {
		t.Errorf("call %v sms %v none %v", cm.PPay(&f, ChannelCall), cm.PPay(&f, ChannelSMS), cm.PPay(&f, ""))
	}
	lo, hi := am.PAccept(&f, 0.2), am.PAccept(&f, 0.6)
	if !(hi > lo) {
		t.Errorf("acceptance not increasing in the discount: %v at 20%%, %v at 60%%", lo, hi)
	}
	for d := 0.0; d < 0.8; d += 0.05 {
		if am.PAccept(&f, d+0.05) < am.PAccept(&f, d)-1e-12 {
			t.Errorf("monotone constraint broken at %v", d)
		}
	}
	v := ChannelValues(DefaultStrategy(), cm, &f, 1000, false)
	if !math.IsNaN(v[ChannelIndex(ChannelEmail)]) || math.IsNaN(v[ChannelIndex(ChannelCall)]) {
		t.Errorf("values %v: email is not in the default strategy, call is", v)
	}
	if _, err := TrainContactModel(ctx, cex[:50], p); err == nil {
		t.Errorf("50 examples accepted")
	}
	one := append([]ContactExample(nil), cex...)
	for i := range one {
		one[i].Paid = false
	}
	if _, err := TrainContactModel(ctx, one, p); err == nil {
		t.Errorf("a single label accepted")
	}
	bad := append([]ContactExample(nil), cex...)
	bad[3].Channel = "fax"
	if _, err := TrainContactModel(ctx, bad, p); err == nil || !strings.Contains(err.Error(), "fax") {
		t.Errorf("unknown channel: %v", err)
	}
	badA := append([]AcceptExample(nil), aex...)
	badA[0].Discount = 1.5
	if _, err := TrainAcceptanceModel(ctx, badA, p); err == nil {
		t.Errorf("discount 1.5 accepted")
	}
}
