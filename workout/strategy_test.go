package workout

import (
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
