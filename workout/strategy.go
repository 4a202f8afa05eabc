package workout

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"reclaim"
	"reclaim/money"
)

// A strategy file (YAML, docs/strategy.md) names the contact channels the AMC may use with what
// each attempt costs, and the teams (in-house collectors and external agencies) that make the
// contacts, each with the channels it works, its daily capacity and its shift. ParseStrategy
// reads it; every problem is an EINVALID error naming the path in the file.

// Strategy is a parsed strategy file.
type Strategy struct {
	// Name identifies the strategy in reports.
	Name string
	// Pack is the conduct rule pack the queue asks workout.Decide under (default cn).
	Pack Pack
	// Channels maps each usable channel to its cost per attempt.
	Channels map[Channel]money.Amount
	// Teams make the contacts; the daily queue never gives a team more than its capacity.
	Teams []Team
	// Offset is the UTC offset of the debtors' local time in seconds (default +08:00): planned
	// contact times carry it, so the compliance rules read the debtor's local day and hour.
	Offset int
	// MinGapDays is the least number of days between two contacts with one case (default 3).
	MinGapDays int
	// MaxDiscount caps any settlement discount the strategy offers, in [0, 1) (default 0.6).
	MaxDiscount float64
}

// Team is one group of collectors (Agency empty) or an external agency (Agency set).
type Team struct {
	Name     string
	Agency   string    // "" for the AMC's own collectors
	Channels []Channel // the channels the team works (each must be in Strategy.Channels)
	Capacity int       // contacts a day, > 0
	Agents   int       // named agents the contacts are spread over (>= 1)
	// ShiftStart and ShiftEnd bound the local time of day of the team's planned contacts.
	ShiftStart, ShiftEnd time.Duration
}

// strategyFile is the YAML shape of a strategy file.
type strategyFile struct {
	Name        string                 `yaml:"name"`
	Pack        string                 `yaml:"pack"`
	Offset      string                 `yaml:"utc_offset"`
	MinGapDays  *int                   `yaml:"min_gap_days"`
	MaxDiscount *float64               `yaml:"max_discount"`
	Channels    map[string]channelFile `yaml:"channels"`
	Teams       []teamFile             `yaml:"teams"`
}

type channelFile struct {
	Cost string `yaml:"cost"`
}

type teamFile struct {
	Name     string   `yaml:"name"`
	Agency   string   `yaml:"agency"`
	Channels []string `yaml:"channels"`
	Capacity int      `yaml:"capacity"`
	Agents   int      `yaml:"agents"`
	Shift    string   `yaml:"shift"`
}

// MaxStrategyFile is the largest strategy file ParseStrategy reads (bytes).
const MaxStrategyFile = 1 << 20

func strategyErr(file, path, value, rule string) error {
	return &reclaim.Error{Code: reclaim.EINVALID,
		Message: fmt.Sprintf("%s: %s: %s", file, path, rule),
		Fields:  map[string]string{"file": file, "path": path, "value": value, "rule": rule}}
}

// ParseStrategy reads a strategy file. An unknown key, an unknown channel (anything but call, sms,
// visit, letter, email), a missing or negative cost, a team without a name, channels or capacity,
// a team channel the file gives no cost for, a duplicate team name, a bad shift ("09:00-18:00")
// or offset ("+08:00") is an EINVALID error naming the file and the path (channels.fax,
// teams[2].channels[0]) with the value and the rule broken.
func ParseStrategy(data []byte, filename string) (*Strategy, error) {
	if len(data) > MaxStrategyFile {
		return nil, reclaim.Errorf(reclaim.ETOOLARGE, "%s: a strategy file is at most 1 MiB", filename)
	}
	var f strategyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		e := reclaim.Errorf(reclaim.EINVALID, "%s: %v", filename, err)
		e.Fields = map[string]string{"file": filename}
		return nil, e
	}
	s := &Strategy{Name: f.Name, Pack: PackCN, Channels: map[Channel]money.Amount{}, Offset: 8 * 3600, MinGapDays: 3, MaxDiscount: 0.6}
	if s.Name == "" {
		s.Name = "strategy"
	}
	if f.Pack != "" {
		p, err := ParsePack(f.Pack)
		if err != nil {
			return nil, strategyErr(filename, "pack", f.Pack, "want cn or us")
		}
		s.Pack = p
	}
	if f.Offset != "" {
		t, err := time.Parse("-07:00", f.Offset)
		if err != nil {
			return nil, strategyErr(filename, "utc_offset", f.Offset, "want an offset like +08:00")
		}
		_, s.Offset = t.Zone()
	}
	if f.MinGapDays != nil {
		if *f.MinGapDays < 1 || *f.MinGapDays > 365 {
			return nil, strategyErr(filename, "min_gap_days", fmt.Sprint(*f.MinGapDays), "must be 1..365")
		}
		s.MinGapDays = *f.MinGapDays
	}
	if f.MaxDiscount != nil {
		if !(*f.MaxDiscount >= 0 && *f.MaxDiscount < 1) {
			return nil, strategyErr(filename, "max_discount", fmt.Sprint(*f.MaxDiscount), "must be in [0, 1)")
		}
		s.MaxDiscount = *f.MaxDiscount
	}
	if len(f.Channels) == 0 {
		return nil, strategyErr(filename, "channels", "", "at least one channel is required")
	}
	names := make([]string, 0, len(f.Channels))
	for n := range f.Channels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ch := Channel(n)
		path := "channels." + n
		if !ch.Valid() {
			return nil, strategyErr(filename, path, n, "unknown channel: want call, sms, visit, letter or email")
		}
		c, err := money.ParseStrict(f.Channels[n].Cost, money.CNY)
		if err != nil {
			return nil, strategyErr(filename, path+".cost", f.Channels[n].Cost, "want a decimal amount in yuan, like \"2.50\"")
		}
		if c.Sign() < 0 {
			return nil, strategyErr(filename, path+".cost", f.Channels[n].Cost, "a cost may not be negative")
		}
		s.Channels[ch] = c
	}
	if len(f.Teams) == 0 {
		return nil, strategyErr(filename, "teams", "", "at least one team is required")
	}
	seen := map[string]bool{}
	for i, tf := range f.Teams {
		path := fmt.Sprintf("teams[%d]", i)
		if strings.TrimSpace(tf.Name) == "" {
			return nil, strategyErr(filename, path+".name", tf.Name, "a team needs a name")
		}
		if seen[tf.Name] {
			return nil, strategyErr(filename, path+".name", tf.Name, "duplicate team name")
		}
		seen[tf.Name] = true
		if tf.Capacity <= 0 || tf.Capacity > 10_000_000 {
			return nil, strategyErr(filename, path+".capacity", fmt.Sprint(tf.Capacity), "must be 1..10000000 contacts a day")
		}
		if len(tf.Channels) == 0 {
			return nil, strategyErr(filename, path+".channels", "", "a team works at least one channel")
		}
		t := Team{Name: tf.Name, Agency: tf.Agency, Capacity: tf.Capacity, Agents: tf.Agents}
		if t.Agents == 0 {
			t.Agents = 1
		}
		if t.Agents < 0 {
			return nil, strategyErr(filename, path+".agents", fmt.Sprint(tf.Agents), "may not be negative")
		}
		for j, cn := range tf.Channels {
			ch := Channel(cn)
			cp := fmt.Sprintf("%s.channels[%d]", path, j)
			if !ch.Valid() {
				return nil, strategyErr(filename, cp, cn, "unknown channel: want call, sms, visit, letter or email")
			}
			if _, ok := s.Channels[ch]; !ok {
				return nil, strategyErr(filename, cp, cn, "the channel has no cost under channels")
			}
			if slicesContains(t.Channels, ch) {
				return nil, strategyErr(filename, cp, cn, "channel listed twice")
			}
			t.Channels = append(t.Channels, ch)
		}
		shift := tf.Shift
		if shift == "" {
			shift = "09:00-18:00"
		}
		a, b, ok := parseShift(shift)
		if !ok {
			return nil, strategyErr(filename, path+".shift", shift, "want HH:MM-HH:MM with the start before the end")
		}
		t.ShiftStart, t.ShiftEnd = a, b
		s.Teams = append(s.Teams, t)
	}
	return s, nil
}

func slicesContains(cs []Channel, c Channel) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func parseShift(s string) (start, end time.Duration, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	ta, err1 := time.Parse("15:04", strings.TrimSpace(a))
	tb, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		if strings.TrimSpace(b) == "24:00" && err1 == nil {
			return time.Duration(ta.Hour())*time.Hour + time.Duration(ta.Minute())*time.Minute, 24 * time.Hour, true
		}
		return 0, 0, false
	}
	start = time.Duration(ta.Hour())*time.Hour + time.Duration(ta.Minute())*time.Minute
	end = time.Duration(tb.Hour())*time.Hour + time.Duration(tb.Minute())*time.Minute
	return start, end, start < end
}

// DefaultStrategyYAML is the strategy the simulator uses when none is given: in-house callers,
// an SMS platform, a letter house and a field-visit agency, with costs in line with market.md's
// operating cost of about 40% of collections.
const DefaultStrategyYAML = `name: default
pack: cn
utc_offset: "+08:00"
min_gap_days: 3
max_discount: 0.6
channels:
  call:   {cost: "3.00"}
  sms:    {cost: "0.10"}
  letter: {cost: "6.00"}
  visit:  {cost: "120.00"}
teams:
  - {name: callers, channels: [call], capacity: 1500, agents: 25, shift: "09:00-20:00"}
  - {name: sms-platform, channels: [sms], capacity: 3000, agents: 1, shift: "10:00-19:00"}
  - {name: letters, channels: [letter], capacity: 400, agents: 1, shift: "09:00-17:00"}
  - {name: field-agency, agency: huadong-field, channels: [visit], capacity: 40, agents: 8, shift: "09:00-18:00"}
`

// DefaultStrategy returns the parsed DefaultStrategyYAML.
func DefaultStrategy() *Strategy {
	s, err := ParseStrategy([]byte(DefaultStrategyYAML), "default-strategy.yaml")
	if err != nil {
		panic(err) // a constant
	}
	return s
}

// Cost returns the cost of one attempt on ch (zero when the strategy does not use ch).
func (s *Strategy) Cost(ch Channel) money.Amount {
	if c, ok := s.Channels[ch]; ok {
		return c
	}
	return money.Zero(money.CNY)
}

// Capacity returns the total daily capacity of the teams.
func (s *Strategy) Capacity() int {
	n := 0
	for _, t := range s.Teams {
		n += t.Capacity
	}
	return n
}

// Scaled returns a copy of s with every team's capacity multiplied by f (> 0), rounded, at least
// 1: the same strategy for a portfolio of another size, or one arm of a champion/challenger split.
func (s *Strategy) Scaled(f float64) *Strategy {
	c := *s
	c.Teams = append([]Team(nil), s.Teams...)
	for i := range c.Teams {
		c.Teams[i].Capacity = max(int(float64(c.Teams[i].Capacity)*f+0.5), 1)
	}
	return &c
}

// Split divides every team's capacity between two arms of a champion/challenger test: the
// challenger gets the share (rounded) and the champion the rest, so the arms together never
// exceed the strategy's capacity (an arm may get zero of a small team).
func (s *Strategy) Split(share float64) (champion, challenger *Strategy) {
	a, b := *s, *s
	a.Teams = append([]Team(nil), s.Teams...)
	b.Teams = append([]Team(nil), s.Teams...)
	for i, t := range s.Teams {
		c := int(float64(t.Capacity)*share + 0.5)
		c = min(max(c, 0), t.Capacity)
		b.Teams[i].Capacity = c
		a.Teams[i].Capacity = t.Capacity - c
	}
	return &a, &b
}
