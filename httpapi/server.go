// Package httpapi serves Reclaim's JSON API under /api/v1 (typed handlers and the OpenAPI 3.1
// document through huma on net/http), server-sent events, health and metrics endpoints, and the
// embedded web console. It knows the domain through package reclaim and the Store interface; it
// never imports a database package (cmd/reclaim wires sqldb in).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"reclaim"
	"reclaim/events"
	"reclaim/ingest"
	"reclaim/spill"
	"reclaim/workout"
)

// Store is everything the API reads and writes. cmd/reclaim implements it over sqldb and pii.
type Store interface {
	reclaim.UserService
	ListPortfolios(ctx context.Context) ([]reclaim.Portfolio, error)
	GetPortfolio(ctx context.Context, id int64) (reclaim.Portfolio, error)
	PortfolioHeaderJSON(ctx context.Context, id int64) ([]byte, error)
	PortfolioReportJSON(ctx context.Context, id int64) ([]byte, error)
	// LoansPage returns loans in id order with their borrowers' masked personal data.
	LoansPage(ctx context.Context, portfolioID int64, offset, limit int) ([]reclaim.LoanView, int64, error)
	// LoansPageAfter returns the loans after the one with loan_id after (keyset paging).
	LoansPageAfter(ctx context.Context, portfolioID int64, after string, limit int) ([]reclaim.LoanView, int64, error)
	StreamLoans(ctx context.Context, portfolioID int64, fn func(*reclaim.Loan) error) error
	// ReadPersonalAs decrypts one borrower's personal data for viewer v, only when the borrower
	// is in a case v may reveal (workout.MayReadPersonal), and writes the audit record of the
	// read in the same transaction; otherwise ENOTFOUND, recorded as a refusal (route "portfolio"
	// or "case", caseID when the route names one). There is no unscoped read on this interface.
	ReadPersonalAs(ctx context.Context, access reclaim.Access, v workout.Viewer, route string, caseID, portfolioID int64, borrowerRef string) (reclaim.PersonalData, error)
	// RecordPIIRefusal records a refused reveal that never reached ReadPersonalAs.
	RecordPIIRefusal(ctx context.Context, r reclaim.PIIRefusal) error
	ListPIIRefusals(ctx context.Context, f reclaim.PIIRefusalFilter) ([]reclaim.PIIRefusal, error)
	ListPIIAccess(ctx context.Context, f reclaim.PIIAccessFilter) ([]reclaim.PIIAccess, error)
	AddEvent(ctx context.Context, e reclaim.Event) (reclaim.Event, error)
	Ping(ctx context.Context) error
	// Sessions persist console sign-ins (scs.Store).
	scs.Store
	// Importer is where uploaded tapes are imported.
	IngestStore() ingest.Store
}

// Config configures a Server.
type Config struct {
	Logger         *slog.Logger
	Version        string
	SecureCookies  bool          // set the Secure flag (behind TLS)
	SessionTTL     time.Duration // lifetime of a console sign-in (default 12h)
	MaxBodyBytes   int64         // JSON request bodies (default 1 MiB)
	MaxUploadBytes int64         // tape uploads (default 512 MiB)
	UploadDir      string        // this node's own spool for uploads and rejects, encrypted (package spill); default: a new temp dir
	Web            fs.FS         // the built console (web/dist); nil or without index.html shows how to build it
	LoginRate      int           // failed sign-ins per account and client address before backoff starts (default 5)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client (for the
	// sign-in backoff and the request log); from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	// StreamRecheck is how often an open event stream re-checks its caller's credentials
	// (default 5s); changes made through this server end streams at once.
	StreamRecheck time.Duration
	Now           func() time.Time
	// Ledger serves the pool ledgers (nil: no ledger routes).
	Ledger LedgerService
	// Valuation serves the model registry and portfolio valuations (nil: no valuation routes).
	Valuation ValuationService
	// Workout serves acquisition, cases, contacts and the compliance report (nil: no workout routes).
	Workout WorkoutService
	// Market serves the auction marketplace (nil: no market routes; docs/marketplace.md).
	Market MarketService
	// Deals serves live ABS deals (nil: no deal routes, and investors' pool access is not
	// filtered by holdings).
	Deals DealService
	// Collectors are more metrics served on /metrics (the ledger's leadership and lag).
	Collectors []prometheus.Collector
	// Payments posts, matches and reverses payments (nil: no payment routes).
	Payments PaymentService
	// Performance serves performance against the price paid and the manager's dashboard (nil:
	// no such routes; performance.go).
	Performance PerformanceService
}

// Leadership is implemented by a LedgerService that runs on several nodes: its role ("leader" or
// "follower"), node id and lease epoch are shown on /readyz.
type Leadership interface {
	Leadership() (role, node string, epoch int64)
}

// Server is the HTTP server. Create it with New.
type Server struct {
	cfg      Config
	store    Store
	sealer   ingest.Sealer
	broker   *events.Broker
	log      *slog.Logger
	api      huma.API
	mux      *http.ServeMux
	fastBids atomic.Int64 // bids served by fastBid (bidfast.go)
	handler  http.Handler
	cop      *http.CrossOriginProtection
	sessions *scs.SessionManager
	perms    map[string]reclaim.Permission // operation id -> permission ("" = public)
	// bigBodies are the operations whose bodies may be larger than MaxBodyBytes (tape and
	// statement uploads, listing files), with their limits; written by register, read-only
	// once the server is built.
	bigBodies []bodyLimit
	guard     *loginGuard
	streams   *streamSet
	uploads   *uploads
	metrics   *metrics
	wg        sync.WaitGroup // background imports
	ready     func(context.Context) error
}

// New builds a server.
func New(cfg Config, store Store, sealer ingest.Sealer, broker *events.Broker) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 512 << 20
	}
	if cfg.UploadDir == "" {
		// A directory of this server's own, so that sweeping it cannot touch another's files.
		dir, err := os.MkdirTemp("", "reclaim-uploads-")
		if err != nil {
			return nil, err
		}
		cfg.UploadDir = dir
	} else if n, err := spill.Sweep(cfg.UploadDir); err != nil {
		return nil, fmt.Errorf("httpapi: cleaning the upload directory: %w", err)
	} else if n > 0 {
		cfg.Logger.Info("removed spill files left by an earlier run", "dir", cfg.UploadDir, "files", n)
	}
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 5
	}
	if cfg.StreamRecheck <= 0 {
		cfg.StreamRecheck = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	s := &Server{cfg: cfg, store: store, sealer: sealer, broker: broker, log: cfg.Logger, mux: http.NewServeMux(),
		perms: map[string]reclaim.Permission{}}
	s.guard = newLoginGuard(cfg.LoginRate, cfg.Now)
	s.streams = newStreamSet()
	s.uploads = newUploads()
	s.metrics = newMetrics()
	if ir := s.integrity(); ir != nil {
		s.metrics.reg.MustRegister(newIntegrityCollector(ir))
	}
	for _, c := range cfg.Collectors {
		if err := s.metrics.reg.Register(c); err != nil {
			return nil, err
		}
	}

	s.sessions = scs.New()
	s.sessions.Store = store
	// An absolute lifetime and no idle timeout: a session is written only when it changes (sign
	// in, sign out), so reads stay reads; on SQLite they never wait behind a running import.
	s.sessions.Lifetime = cfg.SessionTTL
	s.sessions.Cookie.Name = "reclaim_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Secure = cfg.SecureCookies
	s.sessions.Cookie.Path = "/"

	hc := huma.DefaultConfig("Reclaim API", cfg.Version)
	hc.Info.Description = "Reclaim: personal NPL portfolios from tape to disposal. Errors are {code, message, fields}."
	hc.OpenAPIPath = "/api/v1/openapi"
	hc.DocsPath = "" // the docs page loads scripts from a CDN; the strict CSP forbids that
	hc.SchemasPath = "/api/v1/schemas"
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"session": {Type: "apiKey", In: "cookie", Name: "reclaim_session"},
		"token":   {Type: "http", Scheme: "bearer"},
	}
	hc.CreateHooks = nil // no $schema links in bodies
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	s.api = humago.New(s.mux, hc)
	s.api.UseMiddleware(s.authorize)
	s.routes()

	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.mux.Handle("/", s.webHandler())

	var h http.Handler = http.HandlerFunc(s.serveMux)
	h = s.sessions.LoadAndSave(h)
	h = s.checkText(h)
	s.cop = http.NewCrossOriginProtection()
	h = s.cop.Handler(h)
	h = s.limitBodies(h)
	h = s.front(h)
	h = securityHeaders(h, cfg.SecureCookies)
	h = s.observe(h)
	s.handler = h
	return s, nil
}

// front serves the bid route's ordinary token-authenticated requests itself (fastBid, which
// makes the checks of the layers it skips: the body limit, CrossOriginProtection and the text
// checks; it needs no session) and hands everything else to next: the body limit, CSRF
// protection, the text checks, the session and the mux (where fastBid serves the ordinary bids
// of a session).
func (s *Server) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && len(r.Header["Authorization"]) == 1 {
			if id := fastBidPath(r.URL.Path); id > 0 && s.fastBid(w, r, id) {
				if info := infoOf(r.Context()); info != nil {
					info.pattern = bidRoutePattern
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// API returns the huma API (tests walk its OpenAPI document).
func (s *Server) API() huma.API { return s.api }

// Permissions returns the permission each operation requires ("" for public), by operation id.
func (s *Server) Permissions() map[string]reclaim.Permission { return s.perms }

// Serve serves on ln until ctx ends, then stops accepting, lets in-flight requests finish (up to
// 30 s) and waits for running imports.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests")
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.broker != nil {
		s.broker.Close() // ends SSE streams so Shutdown does not wait on them
	}
	err := srv.Shutdown(shut)
	s.wg.Wait()
	s.uploads.removeSpills() // their keys die with the process: nothing could read them again
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if bad, err := s.damagedPools(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	} else if len(bad) > 0 {
		http.Error(w, "not ready: ledger store damaged, signing stopped:\n"+joinLines(bad), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
	if l, ok := s.cfg.Ledger.(Leadership); ok {
		role, node, epoch := l.Leadership()
		fmt.Fprintf(w, "role: %s\nnode: %s\nepoch: %d\n", role, node, epoch)
	}
}

// securityHeaders sets a strict Content-Security-Policy and the usual hardening headers, and
// Cache-Control: no-store on every /api/ response.
func securityHeaders(next http.Handler, hsts bool) http.Handler {
	all := secHeaders
	if hsts {
		all = append(all[:len(all):len(all)], header("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range all {
			h[kv.k] = kv.v
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// API answers carry personal data, accounts and audit records: no browser or proxy
			// keeps a copy (a handler may still set its own Cache-Control).
			h[noStore.k] = noStore.v
		}
		next.ServeHTTP(w, r)
	})
}

// headerKV is a header set on many answers: its canonical name and its value, a slice shared
// by every answer (its capacity is its length, so that Header.Add copies it instead of writing
// into it; nothing in this program writes into a header's value slice).
type headerKV struct {
	k string
	v []string
}

func header(k, v string) headerKV {
	return headerKV{k: http.CanonicalHeaderKey(k), v: []string{v}[:1:1]}
}

var (
	secHeaders = []headerKV{
		header("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; "+
			"form-action 'self'; frame-ancestors 'none'"),
		header("X-Content-Type-Options", "nosniff"),
		header("X-Frame-Options", "DENY"),
		header("Referrer-Policy", "no-referrer"),
		header("Cross-Origin-Opener-Policy", "same-origin"),
		header("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
	}
	noStore    = header("Cache-Control", "no-store")
	jsonType   = header("Content-Type", "application/json")
	varyCookie = header("Vary", "Cookie")
)

// limitBodies caps request bodies at MaxBodyBytes, or at the limit of an operation registered
// with a larger one (bodyLimitFor): the tape and statement uploads and the listing files, whose
// larger limits huma then enforces per operation. The cap here comes first, so a body that
// announces more is refused before any handler reads it.
func (s *Server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.bodyLimitFor(r.Method, r.URL.Path)
		if r.ContentLength > limit {
			writeError(w, &ErrorBody{Status: http.StatusRequestEntityTooLarge, Code: reclaim.ETOOLARGE,
				Message: "the request body is larger than the limit of " + strconv.FormatInt(limit>>20, 10) + " MiB"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// bodyLimit is an operation's body limit, its path split in segments ("{id}" matches any one).
type bodyLimit struct {
	method string
	segs   []string
	limit  int64
}

// bodyLimitFor returns the body limit of a request: the limit of the registered operation its
// method and path match, if that is larger than MaxBodyBytes, else MaxBodyBytes.
func (s *Server) bodyLimitFor(method, path string) int64 {
	for _, b := range s.bigBodies {
		if b.method == method && matchSegments(b.segs, path) {
			return b.limit
		}
	}
	return s.cfg.MaxBodyBytes
}

// matchSegments reports whether path has the segments of a route pattern, a "{...}" segment
// matching any non-empty one.
func matchSegments(segs []string, path string) bool {
	path = strings.Trim(path, "/")
	for i, seg := range segs {
		var part string
		if i == len(segs)-1 {
			part, path = path, ""
			if strings.Contains(part, "/") {
				return false
			}
		} else {
			var ok bool
			if part, path, ok = strings.Cut(path, "/"); !ok {
				return false
			}
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if part == "" {
				return false
			}
		} else if part != seg {
			return false
		}
	}
	return true
}

// reqInfo is what observe keeps about a request, in its context: the client's address (for
// the sign-in backoff and the log) and the route the mux matched (for the metrics: the
// middlewares in between pass copies of the request, so observe's own r.Pattern stays empty).
// It shares one allocation with the status recorder.
type reqInfo struct {
	rec     statusRecorder
	remote  string
	pattern string
}

type reqInfoKey struct{}

func infoOf(ctx context.Context) *reqInfo {
	info, _ := ctx.Value(reqInfoKey{}).(*reqInfo)
	return info
}

// observe assigns a request id, logs one line per request, and records metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header()["X-Request-Id"] = []string{id}
		info := &reqInfo{rec: statusRecorder{ResponseWriter: w, status: http.StatusOK}, remote: ClientAddr(r, s.cfg.TrustedProxies)}
		ctx := context.WithValue(r.Context(), reqInfoKey{}, info)
		next.ServeHTTP(&info.rec, r.WithContext(ctx))
		if info.pattern == "" {
			// Refused before routing (CSRF, body limit, bad text): still counted under its route.
			_, info.pattern = s.mux.Handler(r)
		}
		route := routeLabel(info.pattern)
		status := info.rec.status
		d := s.cfg.Now().Sub(start)
		s.metrics.observe(route, methodLabel(r.Method), status, d)
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		if s.log.Enabled(ctx, lvl) {
			s.log.LogAttrs(ctx, lvl, "request", slog.String("id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Duration("duration", d),
				slog.String("remote", info.remote))
		}
	})
}

// routeLabel is the metrics label of a matched pattern: the pattern without its method
// ("/api/v1/portfolios/{id}", "/" for the console and unknown paths), or "unmatched" when no
// pattern matches at all (a method no route of the path allows). Patterns are few and fixed, so
// the label's cardinality is bounded.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// methodLabel is the method as a metrics label: the standard methods by name, anything else
// "other", so that made-up methods cannot grow the label set.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// serveMux routes the request and records the matched pattern for observe (ServeMux sets
// r.Pattern on the request it is given). The bid route's ordinary requests are served by
// fastBid (bidfast.go): those with an API token already by front, those of a session here.
func (s *Server) serveMux(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if info := infoOf(r.Context()); info != nil {
			info.pattern = r.Pattern
		}
	}()
	if r.Method == http.MethodPost && len(r.Header["Authorization"]) == 0 {
		// A console bidder's (session) bid: front tried the token-authenticated ones already.
		if id := fastBidPath(r.URL.Path); id > 0 && s.fastBid(w, r, id) {
			r.Pattern = bidRoutePattern
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	imports  *prometheus.CounterVec
	// The children of requests and duration already used, by their labels: looking a child up
	// in its vector hashes and checks the label values and takes the vector's lock on every
	// request.
	counters  sync.Map // counterKey -> prometheus.Counter
	observers sync.Map // route -> prometheus.Observer
}

type counterKey struct {
	route, method string
	status        int
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reclaim_http_requests_total", Help: "HTTP requests by route, method and status."}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "reclaim_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"})
	m.imports = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "reclaim_tape_imports_total", Help: "Tape imports by outcome."}, []string{"status"})
	m.reg.MustRegister(m.requests, m.duration, m.imports, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts a request and its latency. Its labels are bounded (routeLabel, methodLabel,
// the status codes the server writes), so the caches stay small.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	k := counterKey{route, method, status}
	c, ok := m.counters.Load(k)
	if !ok {
		c, _ = m.counters.LoadOrStore(k, m.requests.WithLabelValues(route, method, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
	o, ok := m.observers.Load(route)
	if !ok {
		o, _ = m.observers.LoadOrStore(route, m.duration.WithLabelValues(route))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}

// prefixedSchemaPackages are domain packages whose type names repeat other packages' (an
// Account or an Attempt of the marketplace is not the workout's): their schemas are named with
// the prefix, so that the OpenAPI document has one schema per Go type.
var prefixedSchemaPackages = map[string]string{"reclaim/market": "Market"}

// schemaName names a type's OpenAPI schema: huma's default name, prefixed for the packages in
// prefixedSchemaPackages.
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if p, ok := prefixedSchemaPackages[t.PkgPath()]; ok && t.Name() != "" {
		return p + name
	}
	return name
}
