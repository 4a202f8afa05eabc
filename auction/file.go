package auction

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"reclaim"
	"reclaim/money"
)

// File is a parsed auction file (../shared/design/auction-rules.md, "Replaying an auction"): a
// listing and the events in order of server receipt time.
type File struct {
	Listing Listing
	Events  []TimedEvent
}

// TimedEvent is an event of an auction file with its receipt time.
type TimedEvent struct {
	At    time.Time
	Event Event
}

// MaxFileSize is the largest auction file ParseFile reads (64 MiB).
const MaxFileSize = 64 << 20

// ParseError is a malformed auction file: Path names the bad element in JSON path form
// ("events[3].amount", "asset.kind", "" for the file as a whole).
type ParseError struct {
	Path    string
	Message string
}

// Error renders "path: message".
func (e *ParseError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ParseFile reads an auction file. A malformed file (not JSON, a missing or unknown field, a
// value of the wrong type, an amount that is not a decimal string, an unknown pack, format, kind
// or event type, events out of time order) is an EINVALID *reclaim.Error wrapping a *ParseError
// whose message starts with the path of the bad element: `events[3].amount: "7e5" is not a
// decimal amount`. A well-formed file whose listing breaks its pack's rules parses; Listing.Check
// reports the rules. ParseFile never panics.
func ParseFile(data []byte) (*File, error) {
	f, err := parseFile(data)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			pe = &ParseError{Message: err.Error()}
		}
		e := reclaim.WrapError(reclaim.EINVALID, pe, "malformed auction file")
		e.Fields = map[string]string{"path": pe.Path}
		return nil, e
	}
	return f, nil
}

func bad(path, format string, args ...any) error {
	return &ParseError{Path: path, Message: fmt.Sprintf(format, args...)}
}

// node is a JSON object being read field by field.
type node struct {
	path string
	m    map[string]json.RawMessage
	seen map[string]bool
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func object(path string, raw json.RawMessage) (*node, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, bad(path, "%s is not an object", show(raw))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, bad(path, "not a valid object: %v", err)
	}
	return &node{path: path, m: m, seen: map[string]bool{}}, nil
}

// show quotes a raw JSON value for a message, shortened.
func show(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	if s == "" {
		return "nothing"
	}
	return s
}

func (n *node) get(key string) (json.RawMessage, bool) {
	n.seen[key] = true
	v, ok := n.m[key]
	if ok && string(bytes.TrimSpace(v)) == "null" {
		return nil, false
	}
	return v, ok
}

func (n *node) str(key string, required bool) (string, error) {
	raw, ok := n.get(key)
	if !ok {
		if required {
			return "", bad(join(n.path, key), "missing")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", bad(join(n.path, key), "%s is not a string", show(raw))
	}
	return s, nil
}

func (n *node) name(key string, required bool) (string, error) {
	s, err := n.str(key, required)
	if err == nil && required && strings.TrimSpace(s) == "" {
		return "", bad(join(n.path, key), "is empty")
	}
	if err == nil && len(s) > 200 {
		return "", bad(join(n.path, key), "is longer than 200 bytes")
	}
	return s, err
}

func (n *node) amount(key string, required bool) (money.Amount, error) {
	raw, ok := n.get(key)
	p := join(n.path, key)
	if !ok {
		if required {
			return money.Amount{}, bad(p, "missing")
		}
		return money.Amount{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return money.Amount{}, bad(p, "%s is not a decimal amount in a string (write \"700000.00\")", show(raw))
	}
	a, err := money.ParseStrict(s, money.CNY)
	switch {
	case errors.Is(err, money.ErrOverflow):
		return money.Amount{}, bad(p, "%q is out of range", s)
	case err != nil:
		return money.Amount{}, bad(p, "%q is not a decimal amount", s)
	}
	return a, nil
}

func parseTime(p string, raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, bad(p, "%s is not an RFC 3339 time in a string", show(raw))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1900 || t.Year() > 9999 {
		return time.Time{}, bad(p, "%q is not an RFC 3339 time (2026-02-01T10:00:00+08:00)", s)
	}
	return t, nil
}

func (n *node) time(key string, required bool) (time.Time, error) {
	raw, ok := n.get(key)
	if !ok {
		if required {
			return time.Time{}, bad(join(n.path, key), "missing")
		}
		return time.Time{}, nil
	}
	return parseTime(join(n.path, key), raw)
}

func (n *node) array(key string, required bool) ([]json.RawMessage, error) {
	raw, ok := n.get(key)
	if !ok {
		if required {
			return nil, bad(join(n.path, key), "missing")
		}
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	var a []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
		return nil, bad(join(n.path, key), "%s is not an array", show(raw))
	}
	return a, nil
}

// done reports the first unknown field (in sorted order).
func (n *node) done() error {
	var unknown []string
	for k := range n.m {
		if !n.seen[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return bad(join(n.path, unknown[0]), "unknown field")
	}
	return nil
}

func idx(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func parseFile(data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, bad("", "the file is larger than %d MiB", MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, bad("", "not valid JSON: %s", jsonErr(data, err))
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, bad("", "text after the JSON object")
	}
	top, err := object("", raw)
	if err != nil {
		return nil, bad("", "the file is not a JSON object")
	}
	f := &File{}
	l := &f.Listing
	rules, err := top.str("rules", true)
	if err != nil {
		return nil, err
	}
	var ok bool
	if l.Pack, ok = Packs(rules); !ok {
		return nil, bad("rules", "%q is not a rule pack (judicial, yindeng, marketplace)", rules)
	}
	format, err := top.str("format", false)
	if err != nil {
		return nil, err
	}
	switch Format(format) {
	case "", English:
		l.Format = English
	case Sealed, "sealed_bid":
		l.Format = Sealed
	case Dutch:
		l.Format = Dutch
	case MultiRound, "multiround":
		l.Format = MultiRound
	default:
		return nil, bad("format", "%q is not a format (english, sealed, dutch, multi_round)", format)
	}
	rawAsset, ok := top.get("asset")
	if !ok {
		return nil, bad("asset", "missing")
	}
	asset, err := object("asset", rawAsset)
	if err != nil {
		return nil, err
	}
	kind, err := asset.str("kind", true)
	if err != nil {
		return nil, err
	}
	if l.Kind = AssetKind(kind); !l.Kind.Valid() {
		return nil, bad("asset.kind", "%q is not an asset kind (movable, real_estate, property_right, npl_package)", kind)
	}
	if l.Appraisal, err = asset.amount("appraisal", false); err != nil {
		return nil, err
	}
	if err := asset.done(); err != nil {
		return nil, err
	}
	for _, x := range []struct {
		key string
		dst *money.Amount
		req bool
	}{{"start_price", &l.StartPrice, true}, {"increment", &l.Increment, false}, {"deposit", &l.Deposit, false},
		{"reserve", &l.Reserve, false}} {
		if *x.dst, err = top.amount(x.key, x.req); err != nil {
			return nil, err
		}
	}
	if raw, ok := top.get("reserve_public"); ok {
		if err := json.Unmarshal(raw, &l.ReservePublic); err != nil {
			return nil, bad("reserve_public", "%s is not true or false", show(raw))
		}
	}
	for _, x := range []struct {
		key string
		dst *time.Time
	}{{"notice_at", &l.NoticeAt}, {"start", &l.Start}, {"end", &l.End}} {
		if *x.dst, err = top.time(x.key, true); err != nil {
			return nil, err
		}
	}
	pre, err := top.array("preemption", false)
	if err != nil {
		return nil, err
	}
	l.Preemption = map[string]int{}
	for i, raw := range pre {
		p := idx("preemption", i)
		o, err := object(p, raw)
		if err != nil {
			return nil, err
		}
		b, err := o.name("bidder", true)
		if err != nil {
			return nil, err
		}
		if _, dup := l.Preemption[b]; dup {
			return nil, bad(p+".bidder", "%q is listed twice", b)
		}
		rr, ok := o.get("rank")
		if !ok {
			return nil, bad(p+".rank", "missing")
		}
		rank, err := strconv.Atoi(string(bytes.TrimSpace(rr)))
		if err != nil || rank < 1 || rank > 1000 {
			return nil, bad(p+".rank", "%s is not a rank (1 is the highest)", show(rr))
		}
		if err := o.done(); err != nil {
			return nil, err
		}
		l.Preemption[b] = rank
	}
	for _, x := range []struct {
		key string
		dst *map[string]bool
	}{{"deposit_exempt", &l.DepositExempt}, {"barred", &l.Barred}} {
		arr, err := top.array(x.key, false)
		if err != nil {
			return nil, err
		}
		*x.dst = map[string]bool{}
		for i, raw := range arr {
			var s string
			if json.Unmarshal(raw, &s) != nil || strings.TrimSpace(s) == "" {
				return nil, bad(idx(x.key, i), "%s is not a bidder name", show(raw))
			}
			(*x.dst)[s] = true
		}
	}
	stage, err := top.str("stage", false)
	if err != nil {
		return nil, err
	}
	switch Stage(stage) {
	case "", First:
		l.Stage = First
	case Second, SellOff:
		l.Stage = Stage(stage)
	default:
		return nil, bad("stage", "%q is not a stage (first, second, selloff)", stage)
	}
	if raw, ok := top.get("previous"); ok {
		o, err := object("previous", raw)
		if err != nil {
			return nil, err
		}
		pv := &Previous{}
		if pv.StartPrice, err = o.amount("start_price", true); err != nil {
			return nil, err
		}
		if pv.End, err = o.time("end", false); err != nil {
			return nil, err
		}
		if err := o.done(); err != nil {
			return nil, err
		}
		l.Previous = pv
	}
	if raw, ok := top.get("dutch"); ok {
		o, err := object("dutch", raw)
		if err != nil {
			return nil, err
		}
		d := &DutchSchedule{}
		if d.Step, err = o.amount("step", true); err != nil {
			return nil, err
		}
		if d.Floor, err = o.amount("floor", false); err != nil {
			return nil, err
		}
		every, err := o.str("every", true)
		if err != nil {
			return nil, err
		}
		if d.Every, err = time.ParseDuration(every); err != nil || d.Every <= 0 {
			return nil, bad("dutch.every", "%q is not a positive duration (10m, 1h)", every)
		}
		if err := o.done(); err != nil {
			return nil, err
		}
		l.Dutch = d
	}
	rounds, err := top.array("rounds", false)
	if err != nil {
		return nil, err
	}
	for i, raw := range rounds {
		t, err := parseTime(idx("rounds", i), raw)
		if err != nil {
			return nil, err
		}
		l.Rounds = append(l.Rounds, t)
	}
	evs, err := top.array("events", true)
	if err != nil {
		return nil, err
	}
	if err := top.done(); err != nil {
		return nil, err
	}
	for i, raw := range evs {
		te, err := parseEvent(idx("events", i), raw)
		if err != nil {
			return nil, err
		}
		if i > 0 && te.At.Before(f.Events[i-1].At) {
			return nil, bad(idx("events", i)+".at", "%s is before events[%d].at %s (events are in order of receipt)",
				stamp(te.At), i-1, stamp(f.Events[i-1].At))
		}
		f.Events = append(f.Events, te)
	}
	return f, nil
}

func parseEvent(p string, raw json.RawMessage) (TimedEvent, error) {
	var te TimedEvent
	o, err := object(p, raw)
	if err != nil {
		return te, err
	}
	if te.At, err = o.time("at", true); err != nil {
		return te, err
	}
	typ, err := o.str("type", true)
	if err != nil {
		return te, err
	}
	ev := &te.Event
	ev.Type = EventType(typ)
	needBidder, needAmount := false, false
	switch ev.Type {
	case Deposit, Accept:
		needBidder = true
	case Bid, Quote:
		needBidder, needAmount = true, true
	case Payment, Default, Tick:
	default:
		return te, bad(p+".type", "%q is not an event type (deposit, bid, payment, default, quote, accept, tick)", typ)
	}
	if ev.Bidder, err = o.name("bidder", needBidder); err != nil {
		return te, err
	}
	if ev.Amount, err = o.amount("amount", needAmount); err != nil {
		return te, err
	}
	if ev.Key, err = o.str("key", false); err != nil {
		return te, err
	}
	if len(ev.Key) > 200 {
		return te, bad(p+".key", "is longer than 200 bytes")
	}
	return te, o.done()
}

// jsonErr describes a JSON decoding error with its line and column.
func jsonErr(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d column %d: %v", line, col, err)
}
