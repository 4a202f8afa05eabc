package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/abs/dealservice"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/ingest"
	"reclaim/ledger"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/valuation/service"
	wsvc "reclaim/workout/service"
)

// cheap argon2 parameters keep the tests fast; production uses auth.DefaultParams.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

const testPassword = "correct-horse-battery"

type fixture struct {
	t         *testing.T
	db        *sqldb.DB
	srv       *httpapi.Server
	ts        *httptest.Server
	portfolio int64
	borrower  string
	users     map[reclaim.Role]reclaim.User
	dir       string
	broker    *events.Broker
	ledger    *ledger.Service
	valuation *service.Service
	workout   *wsvc.Service // workout_test.go
	market    *sqldb.Market
	// onValuationProgress, when set, receives the valuation service's progress reports.
	onValuationProgress *atomic.Pointer[func(stage string, done, total int)]
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, db: db, users: map[reclaim.Role]reclaim.User{}, dir: t.TempDir()}
	keys, err := pii.LoadKey(pii.KeyOptions{DevDir: f.dir, AllowDev: true})
	if err != nil {
		t.Fatal(err)
	}
	tp := f.writeTape("tape.csv", 300, nil)
	rep, err := ingest.Run(ctx, db.IngestStore(), keys, tp, ingest.Options{SellerName: "Bank A"})
	if err != nil {
		t.Fatal(err)
	}
	f.portfolio = rep.PortfolioID
	db.StreamLoans(ctx, f.portfolio, func(l *reclaim.Loan) error {
		if f.borrower == "" {
			f.borrower = l.BorrowerID
		}
		return nil
	})
	for _, r := range reclaim.Roles {
		h, _ := auth.HashWith(testPassword, cheap)
		u, err := db.CreateUser(ctx, reclaim.User{Username: string(r) + "1", Role: r, PasswordHash: h})
		if err != nil {
			t.Fatal(err)
		}
		f.users[r] = u
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("RECLAIM_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	broker := events.New(events.Options{Fanout: db.Fanout(log)})
	t.Cleanup(broker.Close)
	f.broker = broker
	f.ledger, err = ledger.New(db, broker, log, ledger.Config{KeyFile: filepath.Join(f.dir, "ledger.key"), CreateKey: true,
		Origin: "test.example/ledger"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "P1", Origin: "test.example/ledger/P1", PortfolioID: f.portfolio,
		Effective: date.Of(2025, 7, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := f.ledger.SequenceAndPublish(ctx); err != nil {
		t.Fatal(err)
	}
	hook := &atomic.Pointer[func(stage string, done, total int)]{}
	f.onValuationProgress = hook
	f.valuation = service.New(db, service.Options{Logger: log, Progress: func(stage string, done, total int) {
		if h := hook.Load(); h != nil {
			(*h)(stage, done, total)
		}
	}})
	if _, err := f.valuation.SaveModel(ctx, testModelName, "test", testModel(t)); err != nil {
		t.Fatal(err)
	}
	f.workout = newWorkoutFixture(t, db, broker)
	f.market = db.NewMarket(sqldb.MarketOptions{Keys: keys, Notify: func(id int64, typ string, data any) {
		broker.Publish(context.Background(), "auction."+strconv.FormatInt(id, 10), typ, data)
	}})
	t.Cleanup(f.market.Close)
	f.srv, err = httpapi.New(httpapi.Config{Logger: log, UploadDir: f.dir, MaxUploadBytes: 64 << 20, LoginRate: 1000, Ledger: f.ledger,
		Valuation: f.valuation, Workout: f.workout, Performance: f.workout, Payments: sqldb.PaymentDesk{DB: db}, Market: f.market,
		Deals: dealservice.New(db, f.valuation, "test.example/ledger", "", nil)},
		sqldb.KeyedDB{DB: db, Keys: keys}, keys, broker)
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) writeTape(name string, loans int, invalid map[string]float64) string {
	f.t.Helper()
	path := filepath.Join(f.dir, name)
	out, err := os.Create(path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer out.Close()
	cfg := synth.Config{Seed: uint64(len(name) + loans), Loans: loans, PortfolioRef: "PKG-" + name, CutOff: date.Of(2025, 6, 30),
		Profile: synth.BankMixed, Invalid: invalid}
	if _, err := synth.WriteTape(context.Background(), cfg, out, nil, synth.TapeOptions{IncludePersonal: true}, nil); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// client is a browser-like client with its own cookie jar.
type client struct {
	f *fixture
	c *http.Client
}

func (f *fixture) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (f *fixture) as(r reclaim.Role) *client {
	f.t.Helper()
	c := f.anon()
	res, body := c.do("POST", "/api/v1/auth/login", `{"username":"`+string(r)+`1","password":"`+testPassword+`"}`)
	if res.StatusCode != 200 {
		f.t.Fatalf("login as %s: %d %s", r, res.StatusCode, body)
	}
	return c
}

func (c *client) do(method, path, body string, hdr ...string) (*http.Response, []byte) {
	c.f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.f.ts.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func errorCode(b []byte) string {
	var e struct{ Code string }
	json.Unmarshal(b, &e)
	return e.Code
}

// TestPermissionMatrix walks every operation of the OpenAPI document with every role and without
// a session, and checks the outcome against the one permission table.
func TestPermissionMatrix(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	perms := f.srv.Permissions()
	clients := map[reclaim.Role]*client{}
	for _, r := range reclaim.Roles {
		clients[r] = f.as(r)
	}
	anon := f.anon()
	doc := f.srv.API().OpenAPI()
	n := 0
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PATCH": item.Patch, "PUT": item.Put, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			perm, ok := perms[op.OperationID]
			if !ok {
				t.Errorf("%s %s (%s) has no permission entry", method, path, op.OperationID)
				continue
			}
			n++
			p := strings.NewReplacer("{id}", fmt.Sprint(f.portfolio), "{ref}", f.borrower, "{pool}", "P1", "{event}", "open").Replace(path)
			if strings.HasPrefix(path, "/api/v1/uploads/{id}") {
				p = strings.Replace(path, "{id}", "0123456789abcdef", 1)
			}
			if strings.HasPrefix(path, "/api/v1/users/{id}") {
				p = strings.Replace(path, "{id}", fmt.Sprint(f.users[reclaim.RoleAuditor].ID), 1)
			}
			if op.OperationID == "stream-events" {
				p += "?topic=upload.0123456789abcdef"
			}
			if op.OperationID == "logout" {
				continue // ends the session the other rows use; covered in TestLoginFlow
			}
			body := ""
			if method == "POST" || method == "PATCH" {
				body = "{}"
			}
			res, b := anon.do(method, p, body)
			if perm == "" {
				if res.StatusCode == 401 || res.StatusCode == 403 {
					t.Errorf("public %s %s: %d", method, path, res.StatusCode)
				}
			} else if res.StatusCode != 401 || errorCode(b) != reclaim.EUNAUTHORIZED {
				t.Errorf("anonymous %s %s: %d %s, want 401", method, path, res.StatusCode, b)
			}
			for _, r := range reclaim.Roles {
				res, b := clients[r].do(method, p, body)
				// A permission denial, not a domain refusal (the marketplace answers 403 to an
				// unqualified organisation, with its own message).
				denied := res.StatusCode == 401 || res.StatusCode == 403 && errorCode(b) == reclaim.EFORBIDDEN && strings.Contains(string(b), "does not have permission")
				if perm != "" && r.Can(perm) == denied {
					t.Errorf("%s %s as %s: %d %s (role may: %v)", method, path, r, res.StatusCode, b, r.Can(perm))
				}
			}
		}
	}
	if n < 12 {
		t.Errorf("only %d operations walked", n)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	res, b := f.anon().do("GET", "/api/v1/openapi.json", "")
	if res.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", res.StatusCode)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("not an OpenAPI 3.1 document: %v %q", err, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			id, _ := op["operationId"].(string)
			documented[id] = true
			if !strings.HasPrefix(path, "/api/v1/") {
				t.Errorf("%s %s is outside /api/v1", method, path)
			}
		}
	}
	for id := range f.srv.Permissions() {
		if !documented[id] {
			t.Errorf("route %s is served but missing from the OpenAPI document", id)
		}
	}
	// A path that no operation declares is a JSON 404, not the console or a panic.
	res, b = f.as(reclaim.RoleAdmin).do("GET", "/api/v1/not-a-route", "")
	if res.StatusCode != 404 || errorCode(b) != reclaim.ENOTFOUND {
		t.Errorf("unknown API path: %d %s", res.StatusCode, b)
	}
}

func TestLoginFlow(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.anon()
		res, b := c.do("POST", "/api/v1/auth/login", `{"username":"analyst1","password":"wrong-password"}`)
		if res.StatusCode != 401 || !strings.Contains(string(b), "wrong username or password") {
			t.Errorf("bad password: %d %s", res.StatusCode, b)
		}
		res, b = c.do("POST", "/api/v1/auth/login", `{"username":"nobody","password":"wrong-password"}`)
		if res.StatusCode != 401 || !strings.Contains(string(b), "wrong username or password") {
			t.Errorf("unknown user: %d %s", res.StatusCode, b)
		}
		c = f.as(reclaim.RoleAnalyst)
		res, b = c.do("GET", "/api/v1/auth/me", "")
		var me httpapi.MeBody
		json.Unmarshal(b, &me)
		if res.StatusCode != 200 || me.User.Role != reclaim.RoleAnalyst || len(me.Permissions) == 0 || strings.Contains(string(b), "argon2") {
			t.Errorf("me: %d %s", res.StatusCode, b)
		}
		for _, ck := range c.c.Jar.Cookies(mustURL(f.ts.URL)) {
			if ck.Name == "reclaim_session" && ck.Value == "" {
				t.Error("empty session cookie")
			}
		}
		// A cross-site form post is refused even with a valid session cookie.
		res, _ = c.do("POST", "/api/v1/auth/logout", "", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if res.StatusCode != 403 {
			t.Errorf("cross-origin POST: %d, want 403", res.StatusCode)
		}
		res, _ = c.do("POST", "/api/v1/auth/logout", "")
		if res.StatusCode != 204 {
			t.Errorf("logout: %d", res.StatusCode)
		}
		if res, _ = c.do("GET", "/api/v1/auth/me", ""); res.StatusCode != 401 {
			t.Errorf("after logout: %d", res.StatusCode)
		}
		// Disabled accounts cannot sign in.
		u := f.users[reclaim.RoleBidder]
		u.Disabled = true
		f.db.UpdateUser(context.Background(), u)
		if res, _ := f.anon().do("POST", "/api/v1/auth/login", `{"username":"bidder1","password":"`+testPassword+`"}`); res.StatusCode != 401 {
			t.Errorf("disabled user signed in: %d", res.StatusCode)
		}
	})
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestLoginRateLimit(t *testing.T) {
	db := sqldbtest.OpenSQLite(t)
	keys, _ := pii.LoadKey(pii.KeyOptions{DevDir: t.TempDir(), AllowDev: true})
	srv, _ := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LoginRate: 5},
		sqldb.KeyedDB{DB: db, Keys: keys}, keys, nil)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	var last int
	for i := 0; i < 7; i++ {
		res, err := http.Post(ts.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"x","password":"y"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		last = res.StatusCode
	}
	if last != 429 {
		t.Errorf("7th login in a minute: %d, want 429", last)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	admin := f.as(reclaim.RoleAdmin)
	before, _ := f.db.ListUsers(context.Background())
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"malformed JSON", "POST", "/api/v1/users", `{"username":`, 400},
		{"wrong type", "POST", "/api/v1/users", `{"username":42,"role":"analyst","password":"long enough pw"}`, 400},
		{"unknown field", "POST", "/api/v1/users", `{"username":"zed","role":"analyst","password":"long enough pw","admin":true}`, 400},
		{"bad role", "POST", "/api/v1/users", `{"username":"zed","role":"root","password":"long enough pw"}`, 400},
		{"sql injection", "POST", "/api/v1/users", `{"username":"x'); DROP TABLE users;--","role":"analyst","password":"long enough pw"}`, 400},
		{"short password", "POST", "/api/v1/users", `{"username":"zed","role":"analyst","password":"short"}`, 400},
		{"oversize body", "POST", "/api/v1/users", `{"username":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"bad id", "GET", "/api/v1/portfolios/abc", ``, 400},
		{"missing portfolio", "GET", "/api/v1/portfolios/999999", ``, 404},
		{"negative page", "GET", fmt.Sprintf("/api/v1/portfolios/%d/loans?offset=-1", f.portfolio), ``, 400},
		{"traversal in path", "GET", "/api/v1/uploads/..%2f..%2fetc%2fpasswd", ``, 400},
		{"sql in query", "GET", "/api/v1/audit?actor=x'%20OR%201=1--", ``, 200},
	}
	for _, tc := range cases {
		res, b := admin.do(tc.method, tc.path, tc.body)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, truncate(b), tc.status)
			continue
		}
		if tc.status >= 400 {
			var e httpapi.ErrorBody
			if json.Unmarshal(b, &e) != nil || e.Code == "" || e.Message == "" {
				t.Errorf("%s: error body %s", tc.name, truncate(b))
			}
		}
	}
	after, _ := f.db.ListUsers(context.Background())
	if len(after) != len(before) {
		t.Errorf("rejected requests created users: %d -> %d", len(before), len(after))
	}
	// Script in a display name is data: stored as text, served only as JSON that browsers may not
	// sniff into HTML.
	res, b := admin.do("POST", "/api/v1/users", `{"username":"xss","display_name":"<script>alert(1)</script>","role":"analyst","password":"long enough pw"}`)
	var u reclaim.User
	json.Unmarshal(b, &u)
	if res.StatusCode != 201 || u.DisplayName != "<script>alert(1)</script>" ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("script display name: %d %s %v", res.StatusCode, b, res.Header)
	}
	// A 2 GB upload is refused from its Content-Length, before a byte of the body is sent: a raw
	// request that announces 2 GiB and sends nothing gets its 413 at once.
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cookie string
	for _, ck := range admin.c.Jar.Cookies(mustURL(f.ts.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	fmt.Fprintf(conn, "POST /api/v1/uploads HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n",
		strings.TrimPrefix(f.ts.URL, "http://"), cookie, int64(2)<<30)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("2 GB upload: no response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || errorCode(body) != reclaim.ETOOLARGE {
		t.Errorf("2 GB upload: %d %s, want 413 too_large", resp.StatusCode, body)
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func TestPersonalDataIsAudited(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.assignBorrowers(t, "collector1", f.borrower)
		path := fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", f.portfolio, f.borrower)
		res, b := f.as(reclaim.RoleAnalyst).do("POST", path, `{"purpose":"curious analyst"}`)
		if res.StatusCode != 403 {
			t.Fatalf("analyst read personal data: %d %s", res.StatusCode, b)
		}
		col := f.as(reclaim.RoleCollector)
		if res, _ := col.do("POST", path, "{}"); res.StatusCode != 400 {
			t.Errorf("no purpose: %d", res.StatusCode)
		}
		res, b = col.do("POST", path, `{"purpose":"settlement call"}`)
		var pd reclaim.PersonalData
		json.Unmarshal(b, &pd)
		if res.StatusCode != 200 || len(pd.NationalID) != 18 || pd.Name == "" {
			t.Fatalf("collector read: %d %s", res.StatusCode, b)
		}
		// Lists show masked values only.
		res, b = f.as(reclaim.RoleAnalyst).do("GET", fmt.Sprintf("/api/v1/portfolios/%d/loans?limit=5", f.portfolio), "")
		var page httpapi.LoansPage
		json.Unmarshal(b, &page)
		if res.StatusCode != 200 || len(page.Items) != 5 || page.Total != 300 {
			t.Fatalf("loans page: %d %s", res.StatusCode, truncate(b))
		}
		for _, it := range page.Items {
			m := it.Borrower
			if !strings.Contains(m.NationalID, "********") || !strings.Contains(m.Phone, "****") || !strings.Contains(m.Name, "*") {
				t.Errorf("unmasked list entry: %+v", m)
			}
		}
		if bytes.Contains(b, []byte(pd.NationalID)) || bytes.Contains(b, []byte(pd.Phone)) {
			t.Error("the loans page leaks personal data")
		}
		// The auditor sees who read what and why.
		res, b = f.as(reclaim.RoleAuditor).do("GET", "/api/v1/audit?actor=user:collector1", "")
		var log []reclaim.PIIAccess
		json.Unmarshal(b, &log)
		if res.StatusCode != 200 || len(log) != 1 || log[0].Purpose != "settlement call" || log[0].BorrowerRef != f.borrower {
			t.Errorf("audit: %d %s", res.StatusCode, b)
		}
	})
}

func TestPortfolioReads(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	c := f.as(reclaim.RoleAnalyst)
	res, b := c.do("GET", "/api/v1/portfolios", "")
	var ps []reclaim.Portfolio
	json.Unmarshal(b, &ps)
	if res.StatusCode != 200 || len(ps) != 1 || ps[0].LoanCount != 300 || bytes.Contains(b, []byte("salt")) {
		t.Fatalf("list: %d %s", res.StatusCode, b)
	}
	res, b = c.do("GET", fmt.Sprintf("/api/v1/portfolios/%d/header", f.portfolio), "")
	var h struct {
		Loans       int64 `json:"loans"`
		ByDPDBucket []any `json:"by_dpd_bucket"`
	}
	json.Unmarshal(b, &h)
	if res.StatusCode != 200 || h.Loans != 300 || len(h.ByDPDBucket) == 0 {
		t.Errorf("header: %d %s", res.StatusCode, truncate(b))
	}
	res, b = c.do("POST", fmt.Sprintf("/api/v1/portfolios/%d/masked-tape.csv", f.portfolio), `{"recipient":"bidder-9"}`)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	// Suppression is the default: rows of classes smaller than k are left out.
	if res.StatusCode != 200 || len(lines) < 2 || len(lines) > 301 || !strings.Contains(lines[0], "masked_loan_id") {
		t.Fatalf("masked tape: %d, %d lines", res.StatusCode, len(lines))
	}
	evs, _ := f.db.ListEvents(context.Background(), f.portfolio, 10)
	found := false
	for _, e := range evs {
		found = found || (e.Type == reclaim.EventMaskedExported && strings.Contains(e.Detail, "bidder-9") && e.Actor == "user:analyst1")
	}
	if !found {
		t.Errorf("masked download not logged: %+v", evs)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "X-Request-ID"} {
		if res.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
}

// TestUploadWithProgress uploads a tape with invalid rows, follows its event stream to the end,
// and reads the report and the rejects file.
func TestUploadWithProgress(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		tp := f.writeTape("bad.csv", 25000, map[string]float64{"claim_sum": 0.001, "mobile": 0.001})
		c := f.as(reclaim.RoleAnalyst)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "../../etc/bad.csv")
		data, _ := os.ReadFile(tp)
		fw.Write(data)
		mw.WriteField("seller", "Bank B")
		mw.Close()
		req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/uploads", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, err := c.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var up httpapi.Upload
		json.Unmarshal(b, &up)
		if res.StatusCode != 202 || up.ID == "" || up.File != "bad.csv" {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		// Follow the stream until the import ends.
		sreq, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/stream?topic=upload."+up.ID, nil)
		sres, err := c.c.Do(sreq)
		if err != nil || sres.StatusCode != 200 || !strings.HasPrefix(sres.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %v %v", err, sres.Status)
		}
		sc := bufio.NewScanner(sres.Body)
		var types []string
		deadline := time.AfterFunc(60*time.Second, func() { sres.Body.Close() })
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				types = append(types, ev)
				if ev == "done" || ev == "failed" {
					break
				}
			}
		}
		deadline.Stop()
		sres.Body.Close()
		if len(types) == 0 || types[len(types)-1] != "failed" {
			t.Fatalf("events %v: want progress then failed (all-or-nothing)", types)
		}
		res2, b := c.do("GET", "/api/v1/uploads/"+up.ID, "")
		json.Unmarshal(b, &up)
		if res2.StatusCode != 200 || up.Report == nil || up.Report.Rows != 25000 || up.Report.Imported != 0 || up.Report.Invalid == 0 {
			t.Fatalf("upload status: %d %s", res2.StatusCode, truncate(b))
		}
		res2, b = c.do("GET", "/api/v1/uploads/"+up.ID+"/rejects.csv", "")
		if res2.StatusCode != 200 || strings.Count(string(b), "\n") != int(up.Report.Invalid)+1 {
			t.Errorf("rejects: %d, %d lines for %d invalid rows", res2.StatusCode, strings.Count(string(b), "\n"), up.Report.Invalid)
		}
		// Another importer cannot see this upload.
		if res2, _ = f.as(reclaim.RoleAdmin).do("GET", "/api/v1/uploads/"+up.ID, ""); res2.StatusCode != 200 {
			t.Errorf("admin sees uploads: %d", res2.StatusCode)
		}
		h, _ := auth.HashWith(testPassword, cheap)
		f.db.CreateUser(context.Background(), reclaim.User{Username: "analyst2", Role: reclaim.RoleAnalyst, PasswordHash: h})
		other := f.anon()
		other.do("POST", "/api/v1/auth/login", `{"username":"analyst2","password":"`+testPassword+`"}`)
		if res2, _ = other.do("GET", "/api/v1/uploads/"+up.ID, ""); res2.StatusCode != 404 {
			t.Errorf("another analyst sees the upload: %d", res2.StatusCode)
		}
		if ps, _ := f.db.ListPortfolios(context.Background()); len(ps) != 1 {
			t.Errorf("a rejected upload created a portfolio")
		}
	})
}

func TestHealthAndConsole(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	c := f.anon()
	// In this order: /metrics shows the request counter once a request was counted.
	for _, pw := range [][2]string{{"/healthz", "ok"}, {"/readyz", "ready"}, {"/", "npm ci"}, {"/metrics", "reclaim_http_requests_total"}} {
		path, want := pw[0], pw[1]
		res, b := c.do("GET", path, "")
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s", path, res.StatusCode, truncate(b))
		}
	}
}

// FuzzLoginDecoder posts arbitrary bodies to the login route: never a 5xx, always a JSON error
// or a success.
func FuzzLoginDecoder(f *testing.F) {
	db := sqldbtest.OpenSQLite(f)
	keys, _ := pii.LoadKey(pii.KeyOptions{DevDir: f.TempDir(), AllowDev: true})
	srv, _ := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LoginRate: 1 << 30},
		sqldb.KeyedDB{DB: db, Keys: keys}, keys, nil)
	h := srv.Handler()
	for _, s := range []string{`{"username":"a","password":"b"}`, `{`, `[]`, `{"username":1}`, `null`, "\x00", `{"username":"a","password":"b","x":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code != 200 && errorCode(rec.Body.Bytes()) == "" {
			t.Fatalf("%d without an error code for %q: %s", rec.Code, body, rec.Body)
		}
	})
}

// TestAPITokens: a machine client authenticates with a bearer token; revoked, malformed and
// unknown tokens are refused, and a token carries its owner's role.
func TestAPITokens(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	tok, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateToken(context.Background(), f.users[reclaim.RoleAnalyst].ID, "ci", hash); err != nil {
		t.Fatal(err)
	}
	c := f.anon()
	res, b := c.do("GET", "/api/v1/portfolios", "", "Authorization", "Bearer "+tok)
	if res.StatusCode != 200 {
		t.Errorf("token: %d %s", res.StatusCode, b)
	}
	if res, _ := c.do("GET", "/api/v1/users", "", "Authorization", "Bearer "+tok); res.StatusCode != 403 {
		t.Errorf("analyst token on admin route: %d", res.StatusCode)
	}
	for _, h := range []string{"Bearer " + tok + "x", "Bearer rcl_nope", "Basic Zm9vOmJhcg==", "Bearer"} {
		if res, _ := c.do("GET", "/api/v1/portfolios", "", "Authorization", h); res.StatusCode != 401 {
			t.Errorf("%q: %d", h, res.StatusCode)
		}
	}
}

// FuzzUserCreateDecoder posts arbitrary bodies to an authenticated JSON route: never a 5xx, and
// never an account from a body that is not a valid request.
func FuzzUserCreateDecoder(f *testing.F) {
	db := sqldbtest.OpenSQLite(f)
	keys, _ := pii.LoadKey(pii.KeyOptions{DevDir: f.TempDir(), AllowDev: true})
	srv, _ := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		sqldb.KeyedDB{DB: db, Keys: keys}, keys, nil)
	h, _ := auth.HashWith(testPassword, cheap)
	admin, _ := db.CreateUser(context.Background(), reclaim.User{Username: "root", Role: reclaim.RoleAdmin, PasswordHash: h})
	tok, th, _ := auth.NewToken()
	db.CreateToken(context.Background(), admin.ID, "fuzz", th)
	for _, s := range []string{`{"username":"a1","role":"analyst","password":"long enough pw"}`, `{"username":"a2"}`,
		`{"username":"a3","role":"analyst","password":"long enough pw","x":1}`, `{"role":["admin"]}`, `"`, "{\"username\":\"\\u0000\"}"} {
		f.Add([]byte(s))
	}
	handler := srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/users", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == 201 {
			var in struct {
				Username, Role, Password string
			}
			if json.Unmarshal(body, &in) != nil || len(in.Password) < 10 || !reclaim.Role(in.Role).Valid() {
				t.Fatalf("created an account from %q", body)
			}
		}
	})
}
