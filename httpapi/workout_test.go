package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/events"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
	wsvc "reclaim/workout/service"
)

// nightOnly stands in for the compliance engine in these tests: CN-1 only. Every assertion
// below also holds for the real engine.
func nightOnly(pack workout.Pack, st workout.DebtorState, h []workout.Contact, c workout.Contact) workout.Decision {
	hr := c.At.Hour()
	if (c.Channel == "call" || c.Channel == "sms" || c.Channel == "visit") && (hr < 8 || hr >= 22) && c.Consent != "late_hours" {
		return workout.Decision{Violations: []workout.Violation{{Rule: "CN-1", Message: "night"}}}
	}
	return workout.Decision{Allowed: true}
}

func newWorkoutFixture(t *testing.T, db *sqldb.DB, broker *events.Broker) *wsvc.Service {
	bk, err := pii.NewBlindKey(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return wsvc.New(db, wsvc.Options{Policy: nightOnly, NumberKey: wsvc.HexKey(bk.PhoneHash),
		Publish: func(ctx context.Context, topic, typ string, data any) { broker.Publish(ctx, topic, typ, data) }})
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestWorkoutAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		mgr := f.as(reclaim.RoleCollectionManager)
		col := f.as(reclaim.RoleCollector)
		ag := f.as(reclaim.RoleAgency)
		lawyer := f.as(reclaim.RoleLegal)

		// Board: bad price, then good; twice is a conflict.
		path := fmt.Sprintf("/api/v1/portfolios/%d/acquisition", f.portfolio)
		if res, b := mgr.do("POST", path, `{"award_date":"2026-03-02","price":"12,3"}`); res.StatusCode != 400 {
			t.Fatalf("bad price: %d %s", res.StatusCode, b)
		}
		res, b := mgr.do("POST", path, `{"award_date":"2026-03-02","price":"123456.78","bid":"123456.78"}`)
		if res.StatusCode != 201 {
			t.Fatalf("board: %d %s", res.StatusCode, b)
		}
		br := decode[workout.BoardResult](t, b)
		if br.Accounts != 300 || br.Cases == 0 || br.Notices != br.Cases {
			t.Fatalf("board result %+v", br)
		}
		if res, _ := mgr.do("POST", path, `{"award_date":"2026-03-02","price":"1"}`); res.StatusCode != 409 {
			t.Fatalf("second boarding: %d", res.StatusCode)
		}
		if res, _ := col.do("POST", path, `{"award_date":"2026-03-02","price":"1"}`); res.StatusCode != 403 {
			t.Fatalf("collector boards: %d", res.StatusCode)
		}
		all := decode[struct{ Items []workout.CaseRow }](t, must(t, mgr, "GET", "/api/v1/cases?limit=5", "", 200))
		if len(all.Items) != 5 {
			t.Fatalf("manager's list: %d", len(all.Items))
		}
		c1, c2 := all.Items[0].ID, all.Items[1].ID

		// A collector sees nothing until assigned, then only its own case.
		if mine := decode[struct{ Items []workout.CaseRow }](t, must(t, col, "GET", "/api/v1/cases", "", 200)); len(mine.Items) != 0 {
			t.Fatalf("unassigned collector sees %d cases", len(mine.Items))
		}
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/assign", c1), `{"assignee":"collector1"}`, 200)
		if mine := decode[struct{ Items []workout.CaseRow }](t, must(t, col, "GET", "/api/v1/cases", "", 200)); len(mine.Items) != 1 || mine.Items[0].ID != c1 {
			t.Fatalf("collector's queue %+v", mine.Items)
		}
		must(t, col, "GET", fmt.Sprintf("/api/v1/cases/%d", c1), "", 200)
		must(t, col, "GET", fmt.Sprintf("/api/v1/cases/%d", c2), "", 404)
		must(t, col, "POST", fmt.Sprintf("/api/v1/cases/%d/contacts", c2), `{"kind":"letter","outcome":"delivered"}`, 404)
		must(t, col, "POST", fmt.Sprintf("/api/v1/cases/%d/personal", c2), `{"purpose":"call about the offer"}`, 404)

		// Reveal on the assigned case goes through the audited path.
		before := countAccess(t, db)
		pd := decode[reclaim.PersonalData](t, must(t, col, "POST", fmt.Sprintf("/api/v1/cases/%d/personal", c1), `{"purpose":"call about the offer"}`, 200))
		if pd.Name == "" || countAccess(t, db) != before+1 {
			t.Fatalf("reveal: %+v, audit rows %d -> %d", pd, before, countAccess(t, db))
		}

		// A contact at 22:00 is denied with its reason, and recorded; at 10:00 it is allowed.
		cp := fmt.Sprintf("/api/v1/cases/%d/contacts", c1)
		cr := decode[workout.ContactResult](t, must(t, col, "POST", cp, `{"kind":"call","outcome":"no_answer","number":"13800138000","at":"2026-03-10T22:00:00+08:00"}`, 200))
		if cr.Allowed || len(cr.Reasons) == 0 || cr.Reasons[0].Rule != "CN-1" || cr.Attempt.ID == 0 {
			t.Fatalf("22:00 call: %+v", cr)
		}
		cr = decode[workout.ContactResult](t, must(t, col, "POST", cp, `{"kind":"call","outcome":"promise_to_pay","number":"13800138000","at":"2026-03-11T10:00:00+08:00"}`, 200))
		if !cr.Allowed || cr.Action == nil {
			t.Fatalf("10:00 call: %+v", cr)
		}
		// Bad input: a visit without its recording, an unknown channel, a bad outcome.
		must(t, col, "POST", cp, `{"kind":"visit","outcome":"visited"}`, 400)
		must(t, col, "POST", cp, `{"kind":"fax","outcome":"delivered"}`, 400)
		must(t, col, "POST", cp, `{"kind":"call","outcome":"maybe","number":"1"}`, 400)
		must(t, col, "POST", "/api/v1/cases/999999/contacts", `{"kind":"letter","outcome":"delivered"}`, 404)
		page := decode[workout.CasePage](t, must(t, col, "GET", fmt.Sprintf("/api/v1/cases/%d", c1), "", 200))
		if len(page.Timeline) < 3 || len(page.Notices) != 1 || len(page.Accounts) == 0 {
			t.Fatalf("case page: timeline %d notices %d accounts %d", len(page.Timeline), len(page.Notices), len(page.Accounts))
		}
		for _, acc := range page.Accounts {
			if strings.Contains(string(must(t, col, "GET", fmt.Sprintf("/api/v1/cases/%d", c1), "", 200)), pd.Name) {
				t.Fatalf("case page shows the clear name")
			}
			_ = acc
		}

		// Legal steps need legal.act: the collector is refused, the lawyer gets the court fee.
		lp := fmt.Sprintf("/api/v1/cases/%d/legal", c1)
		must(t, col, "POST", lp, `{"legal_step":"filing","effective":"2026-04-01","claim":"50000.00"}`, 403)
		must(t, lawyer, "POST", lp, `{"legal_step":"filing","effective":"2026-04-01","claim":"50000.00"}`, 201)

		// Agencies: each sees only its placements; contacts for another's case are refused.
		must(t, mgr, "POST", "/api/v1/agency/members", `{"username":"agency1","agency":"A"}`, 200)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/placement", c2), `{"agency":"A"}`, 201)
		c3 := all.Items[2].ID
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/placement", c3), `{"agency":"B"}`, 201)
		must(t, ag, "GET", fmt.Sprintf("/api/v1/cases/%d", c2), "", 200)
		must(t, ag, "GET", fmt.Sprintf("/api/v1/cases/%d", c3), "", 404)
		ps := decode[[]workout.Placement](t, must(t, ag, "GET", "/api/v1/placements", "", 200))
		if len(ps) != 1 || ps[0].CaseID != c2 {
			t.Fatalf("agency placements %+v", ps)
		}
		feed := fmt.Sprintf(`{"contacts":[{"contact_id":"x1","debtor_id":"C%d","channel":"call","party":"debtor","number":"13800138000","at":"2026-03-12T23:00:00+08:00","outcome":"answered"}]}`, c2)
		fr := decode[workout.FeedResult](t, must(t, ag, "POST", "/api/v1/agency/contacts", feed, 200))
		if fr.Contacts != 1 || fr.Flagged != 1 || fr.Violations[0].Rule != "CN-1" {
			t.Fatalf("agency feed %+v", fr)
		}
		must(t, ag, "POST", "/api/v1/agency/contacts", strings.Replace(feed, fmt.Sprintf("C%d", c2), fmt.Sprintf("C%d", c3), 1), 404)
		must(t, ag, "POST", "/api/v1/agency/contacts", strings.Replace(feed, fmt.Sprintf("C%d", c2), "C99999999", 1), 404)
		must(t, ag, "POST", "/api/v1/agency/contacts", strings.Replace(feed, `"call"`, `"pigeon"`, 1), 400)
		csvBody := "contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\n" +
			fmt.Sprintf("y1,C%d,,letter,debtor,,2026-03-12T10:00:00+08:00,delivered,\n", c2)
		if res, b := ag.do("POST", "/api/v1/agency/contacts.csv", csvBody, "Content-Type", "text/csv"); res.StatusCode != 200 {
			t.Fatalf("csv feed: %d %s", res.StatusCode, b)
		}

		// The compliance report counts the denied console call and the flagged agency call.
		rep := decode[struct {
			Rows []workout.AttemptSummary `json:"rows"`
		}](t, must(t, mgr, "GET", "/api/v1/compliance/report?from=2026-03-10&to=2026-03-12", "", 200))
		denied := 0
		for _, r := range rep.Rows {
			denied += r.Denied
		}
		if denied != 2 {
			t.Fatalf("report %+v", rep.Rows)
		}
		must(t, col, "GET", "/api/v1/compliance/report", "", 403)
		must(t, mgr, "GET", "/api/v1/compliance/report?from=2026-13-01", "", 400)
		_ = time.Now
	})
}

func must(t *testing.T, c *client, method, path, body string, want int) []byte {
	t.Helper()
	res, b := c.do(method, path, body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, want)
	}
	return b
}

func countAccess(t *testing.T, db *sqldb.DB) int {
	t.Helper()
	as, err := db.ListPIIAccess(context.Background(), reclaim.PIIAccessFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}

// TestWorkoutStream: case.<id> is visible to whoever may see the case, workout to managers; a
// contact is published on both.
func TestWorkoutStream(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	mgr, col := f.as(reclaim.RoleCollectionManager), f.as(reclaim.RoleCollector)
	must(t, mgr, "POST", fmt.Sprintf("/api/v1/portfolios/%d/acquisition", f.portfolio), `{"award_date":"2026-03-02","price":"100.00"}`, 201)
	all := decode[struct{ Items []workout.CaseRow }](t, must(t, mgr, "GET", "/api/v1/cases?limit=1", "", 200))
	id := all.Items[0].ID
	must(t, col, "GET", fmt.Sprintf("/api/v1/stream?topic=case.%d", id), "", 404)
	must(t, col, "GET", "/api/v1/stream?topic=workout", "", 404)
	must(t, mgr, "GET", "/api/v1/stream?topic=case.x", "", 404)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/stream?topic=case.%d", f.ts.URL, id), nil)
	res, err := mgr.c.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("manager's case stream: %v %v", res, err)
	}
	defer res.Body.Close()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "event: contact") {
				got <- line
				return
			}
		}
	}()
	must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/contacts", id), `{"kind":"letter","outcome":"delivered","at":"2026-03-10T10:00:00+08:00"}`, 200)
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("no contact event on the case stream")
	}
}
