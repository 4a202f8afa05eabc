package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/httpapi"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/textnorm"
)

// wantInvalid checks a 400 with code "invalid" that names field (a prefix of a Fields key) and
// does not echo the offending text.
func wantInvalid(t *testing.T, what string, status int, b []byte, field string) {
	t.Helper()
	var e httpapi.ErrorBody
	if status != 400 || json.Unmarshal(b, &e) != nil || e.Code != reclaim.EINVALID {
		t.Errorf("%s: %d %s, want 400 invalid", what, status, b)
		return
	}
	named := false
	for k := range e.Fields {
		named = named || strings.HasPrefix(k, field)
	}
	if !named {
		t.Errorf("%s: error does not name %q: %s", what, field, b)
	}
	if strings.ContainsAny(string(b), "\x00\x07") || strings.Contains(string(b), "\\u0000") {
		t.Errorf("%s: error echoes the bad text: %s", what, b)
	}
}

// TestTextAtTheEdge (issue 9, item 10): NUL bytes, invalid UTF-8 and control characters are
// refused with 400 naming the field on both engines, on every kind of input (JSON escapes, raw
// bytes in JSON, query, path), including the unauthenticated login; nothing is written.
func TestTextAtTheEdge(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		anon := f.anon()
		for _, u := range []string{`"a\u0000b"`, "\"a\xffb\"", `"admin1\u0000"`, "\"\xc0\x80\""} {
			res, b := anon.do("POST", "/api/v1/auth/login", `{"username":`+u+`,"password":"`+testPassword+`"}`)
			field := "username"
			if strings.Contains(u, "\xff") || strings.Contains(u, "\xc0") {
				field = "body" // raw invalid UTF-8 is refused before the JSON is decoded
			}
			wantInvalid(t, "login username "+u, res.StatusCode, b, field)
		}

		// Without a Content-Type the body is still JSON to huma, and still checked.
		res, b := anon.do("POST", "/api/v1/auth/login", "{\"username\":\"a\xffb\",\"password\":\"x\"}", "Content-Type", "")
		wantInvalid(t, "login without a content type", res.StatusCode, b, "body")

		admin := f.as(reclaim.RoleAdmin)
		before, _ := f.db.ListUsers(ctx)
		for _, dn := range []string{`"x\u0000y"`, "\"x\xfe\"", `"bell\u0007"`, `"esc\u001b[2J"`, `"nel\u0085"`} {
			res, b := admin.do("POST", "/api/v1/users", `{"username":"edge1","display_name":`+dn+`,"role":"analyst","password":"long enough pw 1"}`)
			field := "display_name"
			if strings.Contains(dn, "\xfe") {
				field = "body"
			}
			wantInvalid(t, "display name "+dn, res.StatusCode, b, field)
			res, b = admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", f.users[reclaim.RoleAuditor].ID), `{"display_name":`+dn+`}`)
			wantInvalid(t, "patched display name "+dn, res.StatusCode, b, field)
		}
		if after, _ := f.db.ListUsers(ctx); len(after) != len(before) {
			t.Errorf("a refused request created a user")
		}
		if u, _ := f.db.UserByID(ctx, f.users[reclaim.RoleAuditor].ID); u.DisplayName != f.users[reclaim.RoleAuditor].DisplayName {
			t.Errorf("a refused request changed a display name to %q", u.DisplayName)
		}

		loans, _, err := f.db.PoolLoans(ctx, "P1", 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref := loans[0].Ref
		col := f.as(reclaim.RoleCollector)
		for _, tc := range []struct{ body, field string }{
			{`{"loan":"` + ref + `","amount":"1.00","channel":"bank_transfer","txn_id":"T\u0000-1","effective":"2025-07-15"}`, "txn_id"},
			{"{\"loan\":\"" + ref + "\",\"amount\":\"1.00\",\"channel\":\"bank_transfer\",\"txn_id\":\"T\xff-1\",\"effective\":\"2025-07-15\"}", "body"},
			{`{"loan":"` + ref + `\u0000","amount":"1.00","channel":"bank_transfer","txn_id":"T-9","effective":"2025-07-15"}`, "loan"},
			{`{"loan":"` + ref + `","amount":"1.00","channel":"bank_transfer","txn_id":"T-9\r\u0008","effective":"2025-07-15"}`, "txn_id"},
		} {
			res, b := col.do("POST", "/api/v1/pools/P1/collections", tc.body)
			wantInvalid(t, "collection "+tc.field, res.StatusCode, b, tc.field)
		}
		if p, _ := f.db.LedgerPool(ctx, "P1"); p.Pending != 0 {
			t.Errorf("a refused collection queued %d entries", p.Pending)
		}

		aud := f.as(reclaim.RoleAuditor)
		for _, q := range []string{"actor=%00", "actor=user%3A%FF", "actor=a%07"} {
			res, b := aud.do("GET", "/api/v1/audit?"+q, "")
			wantInvalid(t, "audit "+q, res.StatusCode, b, "query.actor")
		}
		res, b = f.as(reclaim.RoleCollector).do("POST", fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s%%00/personal", f.portfolio, f.borrower),
			`{"purpose":"settlement call"}`)
		wantInvalid(t, "borrower ref in the path", res.StatusCode, b, "path")
		res, b = f.as(reclaim.RoleCollector).do("POST", fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", f.portfolio, f.borrower),
			`{"purpose":"settlement\u0000call"}`)
		wantInvalid(t, "purpose", res.StatusCode, b, "purpose")
		if rows, _ := f.db.ListPIIAccess(ctx, reclaim.PIIAccessFilter{}); len(rows) != 0 {
			t.Errorf("a refused read was audited as done: %+v", rows)
		}
	})
}

// collectionRef is a loan of pool P1 with a balance of at least 100 yuan.
func collectionRef(t *testing.T, f *fixture) string {
	t.Helper()
	loans, _, err := f.db.PoolLoans(context.Background(), "P1", 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range loans {
		if l.Balance.Minor() >= 10000 {
			return l.Ref
		}
	}
	t.Fatal("no loan with a balance")
	return ""
}

func collection(ref, amount, txn, effective string) string {
	b, _ := json.Marshal(map[string]string{"loan": ref, "amount": amount, "channel": "bank_transfer", "txn_id": txn, "effective": effective})
	return string(b)
}

// TestStrictAmountsAndDates (issue 9, item 12): the API takes amounts and dates in the documented
// form only, on both engines; the lenient tape forms are refused naming the field, and nothing is
// written.
func TestStrictAmountsAndDates(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ref := collectionRef(t, f)
		col := f.as(reclaim.RoleCollector)
		n := 0
		for _, a := range []string{"1万", "1E2", "1e2", "１２", "¥1", "+5", ".5", "5.", "1,000", " 1", "1.234", "007", "0", "-1", "-0", "(5)", "1元"} {
			n++
			res, b := col.do("POST", "/api/v1/pools/P1/collections", collection(ref, a, fmt.Sprint("A-", n), "2025-07-15"))
			wantInvalid(t, "amount "+a, res.StatusCode, b, "amount")
		}
		tomorrow := time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02")
		for _, d := range []string{"20250702", "2025/07/02", "2025.07.02", "2025-7-2", "2025年7月2日", "2025-07-02T00:00:00Z",
			"2025-07-02 08:00", " 2025-07-02", "9999-12-31", tomorrow, "1989-12-31", "2025-02-30"} {
			n++
			res, b := col.do("POST", "/api/v1/pools/P1/collections", collection(ref, "1.00", fmt.Sprint("D-", n), d))
			wantInvalid(t, "effective "+d, res.StatusCode, b, "effective")
		}
		if p, _ := f.db.LedgerPool(context.Background(), "P1"); p.Pending != 0 {
			t.Fatalf("refused collections queued %d entries", p.Pending)
		}
		if res, b := col.do("POST", "/api/v1/pools/P1/collections", collection(ref, "12.30", "OK-1", "2025-07-15")); res.StatusCode != 201 {
			t.Fatalf("the documented form: %d %s", res.StatusCode, b)
		}
		trustee := f.as(reclaim.RoleTrustee)
		for _, body := range []string{`{"period_start":"2025-07-01","period_end":"9999-12-31"}`, `{"period_start":"2025/07/01","period_end":"2025-07-31"}`,
			`{"period_start":"20250701","period_end":"2025-07-31"}`} {
			res, b := trustee.do("POST", "/api/v1/pools/P1/reports", body)
			wantInvalid(t, "period "+body, res.StatusCode, b, "period_")
		}
		for _, tc := range []struct{ field, body string }{
			{"credits", `{"account":"6222","period_start":"2025-07-01","period_end":"2025-07-31","opening":"0","credits":"1万","debits":"0","closing":"10000","document":"eA=="}`},
			{"debits", `{"account":"6222","period_start":"2025-07-01","period_end":"2025-07-31","opening":"0","credits":"1","debits":"-1","closing":"2","document":"eA=="}`},
			{"closing", `{"account":"6222","period_start":"2025-07-01","period_end":"2025-07-31","opening":"0","credits":"1","debits":"0","closing":"1E0","document":"eA=="}`},
			{"period_end", `{"account":"6222","period_start":"2025-07-01","period_end":"9999-12-31","opening":"0","credits":"1","debits":"0","closing":"1","document":"eA=="}`},
		} {
			res, b := trustee.do("POST", "/api/v1/pools/P1/statements", tc.body)
			wantInvalid(t, "statement "+tc.field, res.StatusCode, b, tc.field)
		}
	})
}

// TestTxnIDVariantsOverAPI (issue 9, item 13): ids that differ only in case, width, spaces or
// invisible characters post once through the API on both engines.
func TestTxnIDVariantsOverAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ref := collectionRef(t, f)
		col := f.as(reclaim.RoleCollector)
		if res, b := col.do("POST", "/api/v1/pools/P1/collections", collection(ref, "1.00", "ICBC-20250715-0042", "2025-07-15")); res.StatusCode != 201 {
			t.Fatalf("first posting: %d %s", res.StatusCode, b)
		}
		for _, v := range []string{"icbc-20250715-0042", "ＩＣＢＣ－２０２５０７１５－００４２", "ICBC-20250715-\u200b0042", "\ufeffICBC-20250715-0042",
			" ICBC-20250715-0042\u3000", "Icbc-20250715-0042\u2060"} {
			res, b := col.do("POST", "/api/v1/pools/P1/collections", collection(ref, "1.00", v, "2025-07-15"))
			if res.StatusCode != 409 || errorCode(b) != reclaim.ECONFLICT {
				t.Errorf("variant %q: %d %s, want 409", v, res.StatusCode, b)
			}
		}
		if p, _ := f.db.LedgerPool(context.Background(), "P1"); p.Pending != 1 {
			t.Errorf("%d entries queued, want 1", p.Pending)
		}
	})
}

// TestPurposeTrimmedFirst (issue 9, item 14): the purpose's minimum length is judged after
// trimming white space (Unicode spaces included) and invisible format characters.
func TestPurposeTrimmedFirst(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		f.assignBorrowers(t, "collector1", f.borrower)
		path := fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", f.portfolio, f.borrower)
		col := f.as(reclaim.RoleCollector)
		for _, p := range []string{"     ab", "ab     ", "\u3000\u3000\u3000\u3000ab", "\u200b\u200b\u200b\u200bab", "\u00a0\u2003\u2003\u2003\u2003x", "\t\n\r  ok"} {
			b, _ := json.Marshal(map[string]string{"purpose": p})
			res, body := col.do("POST", path, string(b))
			wantInvalid(t, fmt.Sprintf("purpose %q", p), res.StatusCode, body, "purpose")
		}
		if rows, _ := f.db.ListPIIAccess(context.Background(), reclaim.PIIAccessFilter{}); len(rows) != 0 {
			t.Fatalf("short purposes were audited as reads: %+v", rows)
		}
		res, body := col.do("POST", path, `{"purpose":"\u3000 settlement call \u200b"}`)
		if res.StatusCode != 200 {
			t.Fatalf("a real purpose: %d %s", res.StatusCode, body)
		}
		rows, _ := f.db.ListPIIAccess(context.Background(), reclaim.PIIAccessFilter{})
		if len(rows) != 1 || rows[0].Purpose != "settlement call" {
			t.Errorf("audited purpose %+v, want it trimmed", rows)
		}
	})
}

// TestSideEffectsArePOSTAndUncached (issue 9, item 17): the audited personal-data read and the
// logged masked export are POSTs, so a cross-site request (a link, an image, a form from another
// site) neither reads nor logs; API responses, personal data first, are never cached.
func TestSideEffectsArePOSTAndUncached(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.assignBorrowers(t, "collector1", f.borrower)
		personal := fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", f.portfolio, f.borrower)
		masked := fmt.Sprintf("/api/v1/portfolios/%d/masked-tape.csv", f.portfolio)
		col, ana := f.as(reclaim.RoleCollector), f.as(reclaim.RoleAnalyst)
		events := func() int {
			evs, _ := f.db.ListEvents(ctx, f.portfolio, 100)
			n := 0
			for _, e := range evs {
				if e.Type == reclaim.EventMaskedExported {
					n++
				}
			}
			return n
		}
		// The old GET forms no longer read or export.
		if res, b := col.do("GET", personal+"?purpose=settlement%20call", ""); res.StatusCode == 200 {
			t.Errorf("GET personal data: %d %s", res.StatusCode, truncate(b))
		}
		if res, b := ana.do("GET", masked+"?recipient=bidder-9", ""); res.StatusCode == 200 {
			t.Errorf("GET masked tape: %d %s", res.StatusCode, truncate(b))
		}
		// Cross-site POSTs are refused before anything happens.
		xsite := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
		if res, _ := col.do("POST", personal, `{"purpose":"settlement call"}`, xsite...); res.StatusCode != 403 {
			t.Errorf("cross-site personal read: %d, want 403", res.StatusCode)
		}
		if res, _ := ana.do("POST", masked, `{"recipient":"bidder-9"}`, xsite...); res.StatusCode != 403 {
			t.Errorf("cross-site masked export: %d, want 403", res.StatusCode)
		}
		if rows, _ := f.db.ListPIIAccess(ctx, reclaim.PIIAccessFilter{}); len(rows) != 0 || events() != 0 {
			t.Fatalf("refused requests read or exported: %d reads, %d exports", len(rows), events())
		}
		// Same-origin POSTs work and are not cached.
		res, b := col.do("POST", personal, `{"purpose":"settlement call"}`)
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("personal read: %d %q %s", res.StatusCode, res.Header.Get("Cache-Control"), truncate(b))
		}
		res, b = ana.do("POST", masked, `{"recipient":"bidder-9","k":3}`)
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(b), "masked_loan_id") || events() != 1 {
			t.Errorf("masked export: %d %q %d exports", res.StatusCode, res.Header.Get("Cache-Control"), events())
		}
		if res, _ := ana.do("POST", masked, `{"recipient":"  "}`); res.StatusCode != 400 {
			t.Errorf("blank recipient: %d", res.StatusCode)
		}
		for _, p := range []string{"/api/v1/portfolios", "/api/v1/auth/me", fmt.Sprintf("/api/v1/portfolios/%d/loans?limit=1", f.portfolio)} {
			if res, _ := ana.do("GET", p, ""); res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", p, res.Header.Get("Cache-Control"))
			}
		}
		if res, _ := f.as(reclaim.RoleAuditor).do("GET", "/api/v1/audit", ""); res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("audit: Cache-Control %q", res.Header.Get("Cache-Control"))
		}
	})
}

// TestMetricsByRoute (issue 9, item 18): requests are counted under their route pattern, not
// "unmatched".
func TestMetricsByRoute(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.as(reclaim.RoleAnalyst)
		for i := 0; i < 3; i++ {
			c.do("GET", "/api/v1/portfolios/3", "")
		}
		c.do("GET", fmt.Sprintf("/api/v1/portfolios/%d", f.portfolio), "")
		for _, m := range []string{"BREW", "X-PROBE-1"} {
			c.do(m, "/api/v1/no/such/"+m, "")
		}
		_, b := f.anon().do("GET", "/metrics", "")
		m := string(b)
		want := `reclaim_http_requests_total{method="GET",route="/api/v1/portfolios/{id}",status="404"} 3`
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(m, "reclaim_http_requests_total"))
		}
		if !strings.Contains(m, `reclaim_http_requests_total{method="GET",route="/api/v1/portfolios/{id}",status="200"} 1`) {
			t.Errorf("the 200 is not counted under its route:\n%s", grepLines(m, "reclaim_http_requests_total"))
		}
		if !strings.Contains(m, `reclaim_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} 1`) {
			t.Errorf("the sign-in is not counted under its route:\n%s", grepLines(m, "reclaim_http_requests_total"))
		}
		if strings.Contains(m, "BREW") || strings.Contains(m, "X-PROBE") || strings.Contains(m, "/no/such") {
			t.Errorf("made-up methods or paths became labels:\n%s", grepLines(m, "reclaim_http_requests_total"))
		}
		if strings.Contains(m, `route="unmatched"`) {
			t.Errorf("requests counted as unmatched:\n%s", grepLines(m, "unmatched"))
		}
		if !strings.Contains(m, `reclaim_http_request_duration_seconds_count{route="/api/v1/portfolios/{id}"} 4`) {
			t.Errorf("latency not by route:\n%s", grepLines(m, "duration_seconds_count"))
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// jsonString quotes s for JSON without repairing it: invalid UTF-8 stays raw bytes (json.Marshal
// would turn it into U+FFFD), control characters become \u escapes.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, "\\u%04x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzEdgeText sends arbitrary text as the unauthenticated login's username and as the audit
// view's actor filter, on PostgreSQL when RECLAIM_TEST_POSTGRES_DSN is set (where such text used
// to be a 500) and on SQLite otherwise: never a 5xx, and text that is not acceptable is always a
// 400 "invalid".
func FuzzEdgeText(f *testing.F) {
	db := sqldbtest.OpenSQLite(f)
	if os.Getenv(sqldbtest.EnvPostgresDSN) != "" {
		db = sqldbtest.OpenPostgres(f)
	}
	keys, _ := pii.LoadKey(pii.KeyOptions{DevDir: f.TempDir(), AllowDev: true})
	srv, _ := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LoginRate: 1 << 30},
		sqldb.KeyedDB{DB: db, Keys: keys}, keys, nil)
	h, _ := auth.HashWith(testPassword, cheap)
	aud, _ := db.CreateUser(context.Background(), reclaim.User{Username: "aud", Role: reclaim.RoleAuditor, PasswordHash: h})
	tok, th, _ := auth.NewToken()
	db.CreateToken(context.Background(), aud.ID, "fuzz", th)
	handler := srv.Handler()
	for _, s := range []string{"alice", "a\x00b", "\xff", "user:\u200b", "\x1b[31m", "\u0085", "电话", "\xed\xa0\x80", "a\tb", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bad := textnorm.Check(s) != nil
		req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":`+jsonString(s)+`,"password":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 || (bad && (rec.Code != 400 || errorCode(rec.Body.Bytes()) != reclaim.EINVALID)) {
			t.Fatalf("login username %q: %d %s", s, rec.Code, rec.Body)
		}
		req = httptest.NewRequest("GET", "/api/v1/audit?actor="+url.QueryEscape(s), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec = httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 || (bad && (rec.Code != 400 || errorCode(rec.Body.Bytes()) != reclaim.EINVALID)) ||
			(!bad && textnorm.Len(s) <= 100 && rec.Code != 200) {
			t.Fatalf("audit actor %q: %d %s", s, rec.Code, rec.Body)
		}
	})
}
