package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"reclaim"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/money"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
)

// board boards the fixture's portfolio once (the personal-data routes read only borrowers of
// boarded cases).
func (f *fixture) board(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if cs, _ := f.db.BorrowerCases(ctx, f.portfolio, f.borrower); len(cs) > 0 {
		return
	}
	p, err := f.db.GetPortfolio(ctx, f.portfolio)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.workout.Board(ctx, workout.BoardSpec{PortfolioID: f.portfolio, AwardDate: date.Of(2026, 3, 2),
		Price: money.New(12345678, p.Currency), Actor: "test"}); err != nil {
		t.Fatal(err)
	}
}

// caseOf is the case holding the borrower's loans.
func (f *fixture) caseOf(t *testing.T, ref string) int64 {
	t.Helper()
	cs, err := f.db.BorrowerCases(context.Background(), f.portfolio, ref)
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases of borrower %s: %+v %v", ref, cs, err)
	}
	return cs[0].ID
}

// assignBorrowers boards the portfolio and assigns the cases of the borrowers to username, so
// that the collector may read their personal data.
func (f *fixture) assignBorrowers(t *testing.T, username string, refs ...string) {
	t.Helper()
	f.board(t)
	for _, ref := range refs {
		if err := f.db.AssignCase(context.Background(), f.caseOf(t, ref), username); err != nil {
			t.Fatal(err)
		}
	}
}

// otherBorrower is a borrower of the fixture's portfolio in another case than f.borrower's.
func (f *fixture) otherBorrower(t *testing.T) string {
	t.Helper()
	mine := f.caseOf(t, f.borrower)
	var other string
	f.db.StreamLoans(context.Background(), f.portfolio, func(l *reclaim.Loan) error {
		if other == "" && l.BorrowerID != f.borrower {
			if cs, _ := f.db.BorrowerCases(context.Background(), f.portfolio, l.BorrowerID); len(cs) == 1 && cs[0].ID != mine {
				other = l.BorrowerID
			}
		}
		return nil
	})
	if other == "" {
		t.Fatal("no second borrower")
	}
	return other
}

func refusals(t *testing.T, db *sqldb.DB, actor string) []reclaim.PIIRefusal {
	t.Helper()
	rs, err := db.ListPIIRefusals(context.Background(), reclaim.PIIRefusalFilter{Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestPersonalDataScoped (issue 12 item 6): the portfolio-level personal-data route has the
// case scope of the case route. A collector reads only borrowers of cases assigned to it, an
// agency user only borrowers of cases placed with its agency and not recalled, legal staff any
// boarded borrower; anything else is 404 (existence is not revealed), reads nothing, logs no
// read and records the refusal.
func TestPersonalDataScoped(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		h, _ := auth.HashWith(testPassword, cheap)
		if _, err := db.CreateUser(ctx, reclaim.User{Username: "collector2", Role: reclaim.RoleCollector, PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
		personal := func(pid int64, ref string) string {
			return fmt.Sprintf("/api/v1/portfolios/%d/borrowers/%s/personal", pid, url.PathEscape(ref))
		}
		const purpose = `{"purpose":"settlement call"}`
		colA := f.as(reclaim.RoleCollector)
		colB, res, b := f.login("collector2", testPassword)
		if res.StatusCode != 200 {
			t.Fatalf("login collector2: %d %s", res.StatusCode, b)
		}
		mine := personal(f.portfolio, f.borrower)

		// Not boarded: nobody reads, not even legal staff.
		for _, c := range []*client{colA, f.as(reclaim.RoleLegal)} {
			must(t, c, "POST", mine, purpose, 404)
		}
		f.assignBorrowers(t, "collector1", f.borrower)
		other := f.otherBorrower(t)
		f.assignBorrowers(t, "collector2", other)
		reads := func() int {
			rows, err := db.ListPIIAccess(ctx, reclaim.PIIAccessFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(rows)
		}

		// Collector A reads its own debtor; collector B's debtor is 404, like a ref that does
		// not exist, with the same message.
		pd := decode[reclaim.PersonalData](t, must(t, colA, "POST", mine, purpose, 200))
		if len(pd.NationalID) != 18 {
			t.Fatalf("own debtor: %+v", pd)
		}
		if n := reads(); n != 1 {
			t.Fatalf("%d reads logged, want 1", n)
		}
		theirs := must(t, colA, "POST", personal(f.portfolio, other), purpose, 404)
		nobody := must(t, colA, "POST", personal(f.portfolio, "NO-SUCH-REF"), purpose, 404)
		// The two answers differ only by the ref the caller sent.
		if errorCode(theirs) != reclaim.ENOTFOUND || strings.ReplaceAll(string(theirs), other, "REF") != strings.ReplaceAll(string(nobody), "NO-SUCH-REF", "REF") {
			t.Fatalf("out-of-scope answer differs from not-found: %s / %s", theirs, nobody)
		}
		must(t, colB, "POST", personal(f.portfolio, other), purpose, 200)
		must(t, colB, "POST", mine, purpose, 404)
		// A ref from another portfolio (the portfolio id wrong) is 404.
		must(t, colA, "POST", personal(f.portfolio+1000, f.borrower), purpose, 404)
		// No purpose is 400 and records nothing.
		before := len(refusals(t, db, "user:collector1"))
		if res, b := colA.do("POST", personal(f.portfolio, other), `{}`); res.StatusCode != 400 {
			t.Fatalf("no purpose: %d %s", res.StatusCode, b)
		}
		if res, b := colA.do("POST", personal(f.portfolio, other), `{"purpose":"  x  "}`); res.StatusCode != 400 {
			t.Fatalf("short purpose: %d %s", res.StatusCode, b)
		}
		if got := len(refusals(t, db, "user:collector1")); got != before {
			t.Fatalf("a 400 recorded a refusal (%d -> %d)", before, got)
		}
		if n := reads(); n != 2 {
			t.Fatalf("%d reads logged, want 2 (A's and B's own)", n)
		}
		rs := refusals(t, db, "user:collector1")
		if len(rs) != 4 || rs[3].Reason != reclaim.RefusedNotInScope || rs[3].BorrowerRef != f.borrower {
			t.Fatalf("collector1's refusals: %+v", rs)
		}
		// Newest first: other portfolio, no such ref, B's debtor, then the one before boarding.
		if rs[2].Reason != reclaim.RefusedNotInScope || rs[2].BorrowerRef != other || rs[2].Route != "portfolio" ||
			rs[2].Purpose != "settlement call" || rs[2].Role != "collector" || rs[1].Reason != reclaim.RefusedNotFound ||
			rs[0].PortfolioID != f.portfolio+1000 {
			t.Fatalf("refusal rows %+v", rs)
		}

		// Reassignment: A loses its debtor at once, on both routes.
		myCase := f.caseOf(t, f.borrower)
		must(t, f.as(reclaim.RoleCollectionManager), "POST", fmt.Sprintf("/api/v1/cases/%d/assign", myCase), `{"assignee":"collector2"}`, 200)
		must(t, colA, "POST", mine, purpose, 404)
		must(t, colA, "POST", fmt.Sprintf("/api/v1/cases/%d/personal", myCase), purpose, 404)
		must(t, colB, "POST", mine, purpose, 200)
		if rs := refusals(t, db, "user:collector1"); len(rs) != 6 || rs[0].Route != "case" || rs[0].CaseID != myCase || rs[1].Reason != reclaim.RefusedNotInScope {
			t.Fatalf("refusals after reassignment %+v", rs)
		}

		// Agency: its placement only, until recalled.
		mgr := f.as(reclaim.RoleCollectionManager)
		must(t, mgr, "POST", "/api/v1/agency/members", `{"username":"agency1","agency":"Acme"}`, 200)
		ag := f.as(reclaim.RoleAgency)
		must(t, ag, "POST", mine, purpose, 404)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/placement", myCase), `{"agency":"Acme"}`, 201)
		must(t, ag, "POST", mine, purpose, 200)
		must(t, ag, "POST", personal(f.portfolio, other), purpose, 404)
		must(t, mgr, "POST", fmt.Sprintf("/api/v1/cases/%d/recall", myCase), `{}`, 200)
		must(t, ag, "POST", mine, purpose, 404)
		must(t, ag, "POST", fmt.Sprintf("/api/v1/cases/%d/personal", myCase), purpose, 404)

		// Legal staff: any boarded borrower. Roles without case.personal: 403 before any lookup.
		must(t, f.as(reclaim.RoleLegal), "POST", personal(f.portfolio, other), purpose, 200)
		for _, r := range []reclaim.Role{reclaim.RoleAdmin, reclaim.RoleAnalyst, reclaim.RoleAuditor, reclaim.RoleCollectionManager,
			reclaim.RoleBidder, reclaim.RoleInvestor, reclaim.RoleTrustee} {
			if res, b := f.as(r).do("POST", mine, purpose); res.StatusCode != 403 {
				t.Errorf("%s: %d %s", r, res.StatusCode, b)
			}
		}

		// Auditors see the refusals through the API; collectors do not.
		aud := decode[[]reclaim.PIIRefusal](t, must(t, f.as(reclaim.RoleAuditor), "GET", "/api/v1/audit/refusals?actor=user:agency1", "", 200))
		if len(aud) != 4 || aud[0].Role != "agency" {
			t.Fatalf("agency refusals %+v", aud)
		}
		must(t, colA, "GET", "/api/v1/audit/refusals", "", 403)
		// The refusal log is insert-only.
		for _, q := range []string{`UPDATE pii_refusals SET actor = 'nobody'`, `DELETE FROM pii_refusals`} {
			if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { _, err := tx.Exec(ctx, q); return err }); err == nil {
				t.Errorf("%s succeeded", q)
			}
		}
	})
}
