package events

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func publishN(t *testing.T, b *Broker, topic string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := b.Publish(context.Background(), topic, "tick", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
}

func seq(e Event) int {
	var v struct{ I int }
	json.Unmarshal(e.Data, &v)
	return v.I
}

func TestDeliveryInOrder(t *testing.T) {
	b := New(Options{})
	defer b.Close()
	s, _, _, err := b.Subscribe("upload.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, b, "upload.1", 100)
	publishN(t, b, "upload.2", 5) // another topic never reaches s
	for i := 1; i <= 100; i++ {
		e := <-s.C
		if e.ID != uint64(i) || seq(e) != i || e.Topic != "upload.1" || e.Type != "tick" {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	select {
	case e := <-s.C:
		t.Fatalf("unexpected %+v", e)
	default:
	}
}

func TestReplayFromLastEventID(t *testing.T) {
	b := New(Options{Replay: 10})
	defer b.Close()
	publishN(t, b, "t", 25)
	_, replay, gap, err := b.Subscribe("t", 20)
	if err != nil || gap || len(replay) != 5 || replay[0].ID != 21 || replay[4].ID != 25 {
		t.Fatalf("replay after 20: %v gap=%v err=%v", ids(replay), gap, err)
	}
	_, replay, gap, _ = b.Subscribe("t", 3) // 4..15 are gone: the ring holds 16..25
	if !gap || len(replay) != 10 || replay[0].ID != 16 {
		t.Fatalf("replay after 3: %v gap=%v", ids(replay), gap)
	}
	_, replay, gap, _ = b.Subscribe("t", 0)
	if gap || len(replay) != 0 {
		t.Fatalf("lastID 0 replays nothing: %v", ids(replay))
	}
}

func ids(es []Event) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestSlowSubscriberIsDisconnected(t *testing.T) {
	b := New(Options{Buffer: 4})
	defer b.Close()
	slow, _, _, _ := b.Subscribe("t", 0)
	fast, _, _, _ := b.Subscribe("t", 0)
	var got []uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range fast.C {
			got = append(got, e.ID)
			if e.ID == 50 {
				return
			}
		}
	}()
	for i := 1; i <= 50; i++ {
		b.Publish(context.Background(), "t", "x", i)
		time.Sleep(100 * time.Microsecond)
	}
	wg.Wait()
	if len(got) != 50 {
		t.Errorf("fast subscriber got %d of 50", len(got))
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 4 || !errors.Is(slow.Err(), ErrSlowReader) {
		t.Errorf("slow subscriber: %d events buffered, err %v", n, slow.Err())
	}
	if b.Subscribers("t") != 1 {
		t.Errorf("subscribers = %d", b.Subscribers("t"))
	}
}

func TestManySubscribers(t *testing.T) {
	b := New(Options{})
	defer b.Close()
	const subs, events = 1000, 50
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	for i := 0; i < subs; i++ {
		s, _, _, err := b.Subscribe("pool.7", 0)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Close()
			for want := uint64(1); want <= events; want++ {
				e, ok := <-s.C
				if !ok || e.ID != want {
					errs <- errors.New("out of order or closed")
					return
				}
			}
		}()
	}
	publishN(t, b, "pool.7", events)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if b.Subscribers("pool.7") != 0 {
		t.Errorf("closed subscriptions still counted: %d", b.Subscribers("pool.7"))
	}
}

func TestBadInput(t *testing.T) {
	b := New(Options{})
	for _, topic := range []string{"", "a b", "x/../y", string(make([]byte, 201))} {
		if err := b.Publish(context.Background(), topic, "x", 1); !errors.Is(err, ErrBadTopic) {
			t.Errorf("topic %q: %v", topic, err)
		}
		if _, _, _, err := b.Subscribe(topic, 0); !errors.Is(err, ErrBadTopic) {
			t.Errorf("subscribe %q: %v", topic, err)
		}
	}
	if err := b.Publish(context.Background(), "t", "x", string(make([]byte, MaxData))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
	s, _, _, _ := b.Subscribe("t", 0)
	b.Close()
	if _, ok := <-s.C; ok || !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("after Close: %v", s.Err())
	}
	if err := b.Publish(context.Background(), "t", "x", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("publish after close: %v", err)
	}
}

// memFanout simulates two nodes sharing a bus that numbers events per topic.
type memFanout struct {
	mu    sync.Mutex
	last  map[string]uint64
	nodes []func(Event)
	ready chan struct{}
}

func (f *memFanout) Publish(_ context.Context, e Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last[e.Topic]++
	e.ID = f.last[e.Topic]
	for _, d := range f.nodes {
		d(e)
	}
	return nil
}

func (f *memFanout) Listen(ctx context.Context, deliver func(Event)) error {
	f.mu.Lock()
	f.nodes = append(f.nodes, deliver)
	f.mu.Unlock()
	f.ready <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestFanoutAcrossNodes(t *testing.T) {
	f := &memFanout{last: map[string]uint64{}, ready: make(chan struct{}, 2)}
	a, b := New(Options{Fanout: f}), New(Options{Fanout: f})
	defer a.Close()
	defer b.Close()
	<-f.ready
	<-f.ready
	sa, _, _, _ := a.Subscribe("t", 0)
	sb, _, _, _ := b.Subscribe("t", 0)
	a.Publish(context.Background(), "t", "x", 1)
	b.Publish(context.Background(), "t", "x", 2)
	for _, s := range []*Subscription{sa, sb} {
		e1, e2 := <-s.C, <-s.C
		if e1.ID != 1 || e2.ID != 2 || string(e1.Data) != "1" || string(e2.Data) != "2" {
			t.Errorf("node got %+v %+v", e1, e2)
		}
	}
}

// PublishAll numbers and delivers messages in order, as Publish one by one would, carries the
// encoded SSE record with every event (the same bytes for every subscriber), leaves out a bad
// message with its error, and goes through a plain Fanout one event at a time.
func TestPublishAll(t *testing.T) {
	b := New(Options{})
	defer b.Close()
	s1, _, _, _ := b.Subscribe("t", 0)
	s2, _, _, _ := b.Subscribe("t", 0)
	b.Publish(context.Background(), "t", "x", 0)
	err := b.PublishAll(context.Background(), []Message{{"t", "x", 1}, {"bad topic!", "x", 2}, {"t", "y", map[string]int{"a": 3}}, {"u", "x", 4}})
	if !errors.Is(err, ErrBadTopic) {
		t.Errorf("bad topic: %v", err)
	}
	var got [2][]Event
	for i, s := range []*Subscription{s1, s2} {
		for n := 0; n < 3; n++ {
			got[i] = append(got[i], <-s.C)
		}
	}
	want := []string{"id: 1\nevent: x\ndata: 0\n\n", "id: 2\nevent: x\ndata: 1\n\n", "id: 3\nevent: y\ndata: {\"a\":3}\n\n"}
	for n, w := range want {
		if a, c := got[0][n].SSE(), got[1][n].SSE(); string(a) != w || &a[0] != &c[0] {
			t.Errorf("event %d: %q and %q (shared: %v), want %q", n, a, c, &a[0] == &c[0], w)
		}
	}
	if b.Last("u") != 1 {
		t.Errorf("topic u: last %d", b.Last("u"))
	}
	if e := (Event{ID: 7, Type: "z", Data: []byte(`{}`)}); string(e.SSE()) != "id: 7\nevent: z\ndata: {}\n\n" {
		t.Errorf("undelivered event's SSE: %q", e.SSE())
	}
	// Through a Fanout without PublishAll: one Publish per event, in order, on every node.
	f := &memFanout{last: map[string]uint64{}, ready: make(chan struct{}, 2)}
	a, c := New(Options{Fanout: f}), New(Options{Fanout: f})
	defer a.Close()
	defer c.Close()
	<-f.ready
	<-f.ready
	sc, _, _, _ := c.Subscribe("t", 0)
	if err := a.PublishAll(context.Background(), []Message{{"t", "x", 1}, {"t", "x", 2}}); err != nil {
		t.Fatal(err)
	}
	if e1, e2 := <-sc.C, <-sc.C; e1.ID != 1 || e2.ID != 2 || string(e2.Data) != "2" {
		t.Errorf("fan-out: %+v %+v", e1, e2)
	}
}

// The replay ring keeps the last Replay events in order however often it wraps: a subscriber
// resuming after any id gets exactly the kept events after it, and gap says whether some after
// it are gone.
func TestReplayRingProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		keep := rapid.IntRange(1, 12).Draw(rt, "replay")
		n := rapid.IntRange(0, 60).Draw(rt, "events")
		b := New(Options{Replay: keep})
		defer b.Close()
		for i := 1; i <= n; i++ {
			if err := b.Publish(context.Background(), "t", "tick", map[string]int{"i": i}); err != nil {
				rt.Fatal(err)
			}
		}
		for last := 1; last <= n+1; last++ {
			_, replay, gap, err := b.Subscribe("t", uint64(last))
			if err != nil {
				rt.Fatal(err)
			}
			first := max(last+1, n-keep+1)
			var want []uint64
			for id := first; id <= n; id++ {
				want = append(want, uint64(id))
			}
			if got := ids(replay); !slices.Equal(got, want) {
				rt.Fatalf("replay after %d of %d (ring %d): %v, want %v", last, n, keep, got, want)
			}
			for _, e := range replay {
				if seq(e) != int(e.ID) || string(e.SSE()) != string(appendSSE(nil, e)) {
					rt.Fatalf("event %d: data %s, record %q", e.ID, e.Data, e.SSE())
				}
			}
			if wantGap := last < n-keep; gap != wantGap {
				rt.Fatalf("gap after %d of %d (ring %d): %v", last, n, keep, gap)
			}
		}
	})
}
