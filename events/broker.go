// Package events is Reclaim's publish/subscribe facility for live updates: upload progress now,
// auction bids and pool monitoring later. A Broker keeps per-topic subscriptions and a replay
// ring, so a client that reconnects with the id of the last event it saw gets what it missed.
//
// On one node the Broker numbers events itself. Across several app nodes a Fanout (PostgreSQL
// LISTEN/NOTIFY, in package sqldb) numbers and carries every event to every node, and each node's
// Broker delivers it to its own subscribers, in order.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one published fact on a topic. IDs increase within a topic.
type Event struct {
	Topic string          `json:"topic"`
	ID    uint64          `json:"id"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
	At    time.Time       `json:"at"`

	wire []byte // the SSE record, encoded once on delivery and shared by every subscriber
}

// SSE returns the event as a server-sent-events record ("id: <ID>\nevent: <Type>\ndata:
// <Data>\n\n"). A delivered event carries it already encoded, the same bytes for every
// subscriber of its topic: the caller must not modify them.
func (e Event) SSE() []byte {
	if e.wire != nil {
		return e.wire
	}
	return appendSSE(nil, e)
}

func appendSSE(b []byte, e Event) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, e.ID, 10)
	b = append(b, "\nevent: "...)
	b = append(b, e.Type...)
	b = append(b, "\ndata: "...)
	b = append(b, e.Data...)
	return append(b, "\n\n"...)
}

// Fanout carries events between app nodes. Publish assigns the event its ID and delivers it to
// every node's handler, including the publisher's own, in ID order per topic.
type Fanout interface {
	Publish(ctx context.Context, e Event) error
	// Listen calls deliver for every event published by any node until ctx ends.
	Listen(ctx context.Context, deliver func(Event)) error
}

// BatchFanout is a Fanout that can also publish several events in one round (on PostgreSQL one
// transaction for all of them, instead of one each), numbered and delivered in the given order.
type BatchFanout interface {
	Fanout
	PublishAll(ctx context.Context, es []Event) error
}

// Message is one event for PublishAll: data is marshalled to JSON as by Publish.
type Message struct {
	Topic, Type string
	Data        any
}

// Errors.
var (
	ErrClosed     = errors.New("events: broker closed")
	ErrBadTopic   = errors.New("events: a topic is 1-200 characters of letters, digits and . _ - :")
	ErrTooLarge   = errors.New("events: event data over the size limit")
	ErrSlowReader = errors.New("events: subscriber fell behind and was disconnected")
)

// MaxData bounds an event's JSON data (PostgreSQL NOTIFY carries at most 8,000 bytes).
const MaxData = 7000

// Options tune a Broker.
type Options struct {
	Replay    int    // events kept per topic for replay (default 512)
	Buffer    int    // events queued per subscriber before it counts as slow (default 256)
	Fanout    Fanout // nil: this node only
	MaxTopics int    // topics kept (least recently used dropped beyond it; default 10,000)
	Now       func() time.Time
}

// Broker fans events out to subscribers. It is safe for concurrent use.
type Broker struct {
	opts   Options
	mu     sync.Mutex
	topics map[string]*topic
	closed bool
	cancel context.CancelFunc
	done   chan struct{}
}

type topic struct {
	last    uint64
	dropped uint64  // id of the newest event no longer in the ring
	ring    []Event // the last Replay events: a circular buffer once full, oldest at head
	head    int     // index of the oldest event in ring when it is full
	subs    map[*Subscription]struct{}
	used    time.Time
}

// Subscription receives a topic's events on C until it is closed. When the subscriber reads too
// slowly C is closed and Err returns ErrSlowReader; the client reconnects with its last event id.
type Subscription struct {
	C     <-chan Event
	ch    chan Event
	b     *Broker
	topic string
	mu    sync.Mutex
	err   error
	done  bool
}

// New returns a broker. With a Fanout it starts listening at once; Close stops it.
func New(opts Options) *Broker {
	if opts.Replay <= 0 {
		opts.Replay = 512
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	if opts.MaxTopics <= 0 {
		opts.MaxTopics = 10000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Broker{opts: opts, topics: map[string]*topic{}, done: make(chan struct{})}
	if opts.Fanout != nil {
		ctx, cancel := context.WithCancel(context.Background())
		b.cancel = cancel
		go func() {
			defer close(b.done)
			for ctx.Err() == nil {
				_ = opts.Fanout.Listen(ctx, b.deliver)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second): // reconnect after a dropped connection
				}
			}
		}()
	} else {
		close(b.done)
	}
	return b
}

// ValidTopic reports whether t is a usable topic name.
func ValidTopic(t string) bool {
	if t == "" || len(t) > 200 {
		return false
	}
	return !strings.ContainsFunc(t, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:", r))
	})
}

// Publish sends an event with data marshalled to JSON to every subscriber of the topic, on every
// node when the broker has a Fanout.
func (b *Broker) Publish(ctx context.Context, topicName, typ string, data any) error {
	if !ValidTopic(topicName) {
		return ErrBadTopic
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if len(raw) > MaxData {
		return ErrTooLarge
	}
	e := Event{Topic: topicName, Type: typ, Data: raw, At: b.opts.Now().UTC()}
	if b.opts.Fanout != nil {
		return b.opts.Fanout.Publish(ctx, e)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	t := b.topicLocked(topicName)
	e.ID = t.last + 1
	b.deliverLocked(t, e)
	b.mu.Unlock()
	return nil
}

// PublishAll publishes msgs in order, as Publish would one by one, except that a BatchFanout
// carries them all in one round. A message with an invalid topic or data is left out and its
// error returned (joined with any others); the rest are published.
func (b *Broker) PublishAll(ctx context.Context, msgs []Message) error {
	var errs []error
	es := make([]Event, 0, len(msgs))
	at := b.opts.Now().UTC()
	for _, m := range msgs {
		if !ValidTopic(m.Topic) {
			errs = append(errs, ErrBadTopic)
			continue
		}
		raw, err := json.Marshal(m.Data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(raw) > MaxData {
			errs = append(errs, ErrTooLarge)
			continue
		}
		es = append(es, Event{Topic: m.Topic, Type: m.Type, Data: raw, At: at})
	}
	if len(es) == 0 {
		return errors.Join(errs...)
	}
	switch f := b.opts.Fanout.(type) {
	case nil:
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return errors.Join(append(errs, ErrClosed)...)
		}
		for _, e := range es {
			t := b.topicLocked(e.Topic)
			e.ID = t.last + 1
			b.deliverLocked(t, e)
		}
		b.mu.Unlock()
	case BatchFanout:
		if err := f.PublishAll(ctx, es); err != nil {
			errs = append(errs, err)
		}
	default:
		for _, e := range es {
			if err := f.Publish(ctx, e); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// deliver hands an event that came through the Fanout to local subscribers. Events older than
// the last one seen on the topic are dropped (a replay after a reconnect).
func (b *Broker) deliver(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	t := b.topicLocked(e.Topic)
	if e.ID <= t.last {
		return
	}
	b.deliverLocked(t, e)
}

func (b *Broker) topicLocked(name string) *topic {
	t := b.topics[name]
	if t == nil {
		if len(b.topics) >= b.opts.MaxTopics {
			b.evictLocked()
		}
		t = &topic{subs: map[*Subscription]struct{}{}}
		b.topics[name] = t
	}
	t.used = b.opts.Now()
	return t
}

// evictLocked drops the least recently used topic without subscribers.
func (b *Broker) evictLocked() {
	var oldest string
	var at time.Time
	for name, t := range b.topics {
		if len(t.subs) == 0 && (oldest == "" || t.used.Before(at)) {
			oldest, at = name, t.used
		}
	}
	if oldest != "" {
		delete(b.topics, oldest)
	}
}

func (b *Broker) deliverLocked(t *topic, e Event) {
	t.last = e.ID
	e.wire = appendSSE(make([]byte, 0, len(e.Type)+len(e.Data)+40), e)
	if len(t.ring) >= b.opts.Replay {
		// Full: the newest replaces the oldest (moving the whole ring, 512 events, on every
		// event was a visible part of the broker's cost under load).
		t.dropped = t.ring[t.head].ID
		t.ring[t.head] = e
		t.head = (t.head + 1) % len(t.ring)
	} else {
		t.ring = append(t.ring, e)
	}
	for s := range t.subs {
		select {
		case s.ch <- e:
		default:
			// A slow reader must not hold up the others: disconnect it; it resumes by id.
			delete(t.subs, s)
			s.finish(ErrSlowReader)
		}
	}
}

// Subscribe subscribes to a topic. Events after lastID that are still in the replay ring are
// returned first (in order); gap reports that some events after lastID are no longer available.
// lastID 0 means "only new events".
func (b *Broker) Subscribe(topicName string, lastID uint64) (s *Subscription, replay []Event, gap bool, err error) {
	if !ValidTopic(topicName) {
		return nil, nil, false, ErrBadTopic
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, false, ErrClosed
	}
	t := b.topicLocked(topicName)
	if lastID > 0 {
		for i := range t.ring {
			if e := t.ring[(t.head+i)%len(t.ring)]; e.ID > lastID {
				replay = append(replay, e)
			}
		}
		// Ids need not be consecutive (a Fanout numbers events across topics), so a gap is
		// known only from what the ring dropped.
		gap = lastID < t.dropped
	}
	ch := make(chan Event, b.opts.Buffer)
	s = &Subscription{C: ch, ch: ch, b: b, topic: topicName}
	t.subs[s] = struct{}{}
	return s, replay, gap, nil
}

// HasFanout reports whether the broker carries events between nodes (Options.Fanout).
func (b *Broker) HasFanout() bool { return b.opts.Fanout != nil }

// Last returns the id of the last event published on a topic (0 if none).
func (b *Broker) Last(topicName string) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[topicName]; t != nil {
		return t.last
	}
	return 0
}

// Subscribers returns the number of live subscriptions on a topic.
func (b *Broker) Subscribers(topicName string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[topicName]; t != nil {
		return len(t.subs)
	}
	return 0
}

func (s *Subscription) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done, s.err = true, err
	close(s.ch)
}

// Err returns why C was closed: nil after Close, ErrSlowReader or ErrClosed otherwise.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription and closes C.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	if t := s.b.topics[s.topic]; t != nil {
		delete(t.subs, s)
	}
	s.b.mu.Unlock()
	s.finish(nil)
}

// Close stops the broker: every subscription ends with ErrClosed.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for _, t := range b.topics {
		for s := range t.subs {
			s.finish(ErrClosed)
		}
		t.subs = nil
	}
	b.mu.Unlock()
	if b.cancel != nil {
		b.cancel()
	}
	<-b.done
}
