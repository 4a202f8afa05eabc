package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"reclaim"
	"reclaim/events"
)

// StreamInput subscribes to one topic.
type StreamInput struct {
	Topic       string `query:"topic" required:"true" maxLength:"200" doc:"upload.<id>"`
	LastEventID string `header:"Last-Event-ID" maxLength:"20" doc:"resume after this event id"`
}

// Heartbeat is how often an idle stream sends a comment to keep proxies from closing it.
var Heartbeat = 15 * time.Second

// topicAllowed decides whether the caller may subscribe to a topic: upload topics belong to the
// uploader (and admins). Later features add their own topic families here.
func (s *Server) topicAllowed(ctx context.Context, topic string) error {
	if !events.ValidTopic(topic) {
		return reclaim.Errorf(reclaim.EINVALID, "invalid topic %q", topic)
	}
	kind, id, _ := strings.Cut(topic, ".")
	switch kind {
	case "upload":
		if !reclaim.UserFrom(ctx).Role.Can(reclaim.PermTapeImport) {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", topic) // object scope: not visible
		}
		_, err := s.ownUpload(ctx, id)
		return err
	case "ledger":
		if s.cfg.Ledger == nil || !reclaim.UserFrom(ctx).Role.Can(reclaim.PermLedgerRead) {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", topic)
		}
		if _, err := s.cfg.Ledger.Pool(ctx, id); err != nil {
			return err
		}
		return s.poolVisible(ctx, reclaim.UserFrom(ctx), id) // investors: their deals only (deals.go)
	case "deal": // deal.<pool>: live monitoring (deals.go)
		return s.dealTopicAllowed(ctx, id)
	case "valuation": // valuation.<portfolio>: a valuation's progress (ValuationProgress)
		n, err := strconv.ParseInt(id, 10, 64)
		if s.cfg.Valuation == nil || !reclaim.UserFrom(ctx).Role.Can(reclaim.PermValuationRead) || err != nil || n <= 0 {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", topic)
		}
		_, err = s.store.GetPortfolio(ctx, n)
		return err
	case TopicPayments: // payments: imports, matches and reversals (payments.go)
		if s.cfg.Payments == nil || id != "" || !reclaim.UserFrom(ctx).Role.Can(reclaim.PermPaymentRead) {
			return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", topic)
		}
		return nil
	case "case", "workout": // case.<id>: one case's changes; workout: every case's (workout.go)
		return s.workoutTopicAllowed(ctx, kind, id)
	case "auction": // auction.<id>: stored events ("event") and the close ("closed")
		return s.auctionTopicAllowed(ctx, topic, id)
	}
	return reclaim.Errorf(reclaim.ENOTFOUND, "no such topic %q", topic)
}

// stillSignedIn re-resolves the caller of an open stream: the same user, with the same role,
// still enabled, on the same credential epoch, through a token that is not revoked or a session
// that was not signed out.
func (s *Server) stillSignedIn(r *http.Request, me reclaim.User) bool {
	u, err := s.userOf(r)
	if err != nil || u == nil || u.ID != me.ID || u.Role != me.Role || u.CredentialEpoch != me.CredentialEpoch || u.MustChangePassword {
		return false
	}
	if r.Header.Get("Authorization") == "" { // a session: signing out deletes it
		if _, found, err := s.store.Find(s.sessions.Token(r.Context())); err != nil || !found {
			return false
		}
	}
	return true
}

// streamOver re-checks an open stream's caller and topic, as a new subscription is checked
// (stillSignedIn, then topicAllowed with ctx, the stream's request context, which carries its
// caller), and reports whether the stream must end. A caller signed out (disabled, role changed)
// is told so with a signed_out event; a topic that left the caller's scope (a case assigned to
// someone else or recalled from the agency, an investor's holding removed) just ends the
// stream, and the client's reconnection is answered 404.
func (s *Server) streamOver(ctx context.Context, r *http.Request, me reclaim.User, topic string,
	bw interface{ Write([]byte) (int, error) }, rc *http.ResponseController) bool {
	if !s.stillSignedIn(r, me) {
		s.endStream(bw, rc)
		return true
	}
	return s.topicAllowed(ctx, topic) != nil
}

// sseStream is what every event stream holds while it runs: its request and flusher, and the
// signals to re-check its caller's credentials (a timer, and a kick when an account change is
// made through this server).
type sseStream struct {
	r       *http.Request
	rc      *http.ResponseController
	kicked  <-chan struct{}
	recheck *time.Ticker
	stop    func()
}

// startSSE writes an event stream's headers and registers it for credential checks; stop
// unregisters it.
func (s *Server) startSSE(hc huma.Context, me reclaim.User) *sseStream {
	kicked, unregister := s.streams.add(me.ID)
	recheck := time.NewTicker(s.cfg.StreamRecheck)
	r, w := humago.Unwrap(hc)
	hc.SetHeader("Content-Type", "text/event-stream")
	hc.SetHeader("Cache-Control", "no-store")
	hc.SetHeader("X-Accel-Buffering", "no")
	hc.SetStatus(http.StatusOK)
	return &sseStream{r: r, rc: http.NewResponseController(w), kicked: kicked, recheck: recheck,
		stop: func() { recheck.Stop(); unregister() }}
}

// directWriter returns the connection's own ResponseWriter under the middleware's wrappers
// (the session layer's, observe's status recorder) and its FlushError, or ok false when it has
// none. A stream writes through the wrappers until its first flush, which commits its status
// and headers; after that they only pass writes and flushes on, and the session layer's flush
// made a ResponseController and walked the wrappers again on every flush.
func directWriter(w http.ResponseWriter) (bw io.Writer, flush func() error, ok bool) {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(interface{ FlushError() error })
	if !ok {
		return nil, nil, false
	}
	return w, f.FlushError, true
}

// endStream tells the client its credentials ended (it reconnects and gets 401), then the
// handler returns.
func (s *Server) endStream(bw interface{ Write([]byte) (int, error) }, rc *http.ResponseController) {
	fmt.Fprint(bw, "event: signed_out\ndata: {}\n\n")
	rc.Flush()
}

// EventHold is how long a live-event stream holds an event for the events that follow it
// before writing them to the socket together (at most 64 at a time).
const EventHold = 20 * time.Millisecond

func (s *Server) streamRoutes() {
	register(s, reclaim.PermEventsSubscribe, huma.Operation{OperationID: "stream-events", Method: http.MethodGet,
		Path: "/api/v1/stream", Summary: "Server-sent events for one topic", Tags: []string{"events"}, Errors: []int{400, 404},
		Description: "A text/event-stream of `id:`, `event:` and `data:` (JSON) records. Send `Last-Event-ID` to resume; " +
			"events still in the replay window are sent first, and an event `gap` says some were lost. A comment line is sent every 15 s. " +
			"On `ledger.<pool>` the id is the number of entries seen, and a resumed stream is resent the entries after it from the " +
			"ledger itself (or sent `gap` when more than 2,000 are missing).",
		Responses: map[string]*huma.Response{"200": {Description: "event stream", Content: map[string]*huma.MediaType{"text/event-stream": {}}}}},
		func(ctx context.Context, in *StreamInput) (*huma.StreamResponse, error) {
			if s.broker == nil {
				return nil, reclaim.Errorf(reclaim.EUNAVAILABLE, "live events are not enabled")
			}
			if err := s.topicAllowed(ctx, in.Topic); err != nil {
				return nil, err
			}
			if pool, ok := strings.CutPrefix(in.Topic, "ledger."); ok {
				return s.ledgerStream(ctx, pool, in)
			}
			if pool, ok := strings.CutPrefix(in.Topic, "deal."); ok {
				return s.dealStream(ctx, pool)
			}
			var last uint64
			if in.LastEventID != "" {
				n, err := strconv.ParseUint(in.LastEventID, 10, 64)
				if err != nil {
					return nil, reclaim.Errorf(reclaim.EINVALID, "Last-Event-ID must be a number")
				}
				last = n
			}
			sub, replay, gap, err := s.broker.Subscribe(in.Topic, last)
			if err != nil {
				return nil, reclaim.WrapError(reclaim.EUNAVAILABLE, err, "cannot subscribe")
			}
			me := *reclaim.UserFrom(ctx)
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				defer sub.Close()
				ss := s.startSSE(hc, me)
				defer ss.stop()
				kicked, recheck, r, rc, bw := ss.kicked, ss.recheck, ss.r, ss.rc, hc.BodyWriter()
				write := func(e events.Event) bool {
					_, err := bw.Write(e.SSE()) // encoded once per event, shared by its subscribers
					return err == nil
				}
				fmt.Fprintf(bw, "retry: 2000\n\n")
				if gap {
					fmt.Fprintf(bw, "event: gap\ndata: {}\n\n")
				}
				for _, e := range replay {
					if !write(e) {
						return
					}
				}
				rc.Flush()
				flush := rc.Flush
				if rw, ok := bw.(http.ResponseWriter); ok {
					if w, f, ok := directWriter(rw); ok {
						bw, flush = w, f
					}
				}
				tick := time.NewTicker(Heartbeat)
				defer tick.Stop()
				hold := time.NewTimer(EventHold)
				hold.Stop()
				defer hold.Stop()
				done := hc.Context().Done()
				for {
					select {
					case <-done:
						return
					case <-tick.C:
						if _, err := io.WriteString(bw, ": ping\n\n"); err != nil {
							return
						}
						flush()
					case <-recheck.C:
						if s.streamOver(ctx, r, me, in.Topic, bw, rc) {
							return
						}
					case <-kicked:
						if s.streamOver(ctx, r, me, in.Topic, bw, rc) {
							return
						}
					case e, ok := <-sub.C:
						if !ok {
							return // slow reader or shutdown: the client reconnects with Last-Event-ID
						}
						if !write(e) {
							return
						}
						// Events that follow within EventHold go out with this one: one flush (one
						// write to the socket) for a burst, not one per event. The bid batcher
						// commits every few milliseconds under load, each commit a write to every
						// subscriber of its auctions, so holding the first event 20 ms cut the
						// writes and the server's CPU per bid without making the price staler than
						// a bidder notices (docs/benchmarks.md, "SSE bursts").
						hold.Reset(EventHold)
					drain:
						for n := 0; n < 64; n++ {
							select {
							case e, ok := <-sub.C:
								if !ok {
									flush()
									return
								}
								if !write(e) {
									return
								}
							case <-hold.C:
								break drain
							case <-done:
								return
							}
						}
						flush()
					}
				}
			}}, nil
		})
}
