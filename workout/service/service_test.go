package service_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/workout"
	"reclaim/workout/service"
)

// nightPolicy stands in for the compliance engine: it denies a call, SMS or visit between 22:00
// and 08:00 at the debtor's offset without consent (CN-1). Every assertion below holds for the
// real engine too.
func nightPolicy(pack workout.Pack, st workout.DebtorState, history []workout.Contact, c workout.Contact) workout.Decision {
	h := c.At.Hour()
	if (c.Channel == "call" || c.Channel == "sms" || c.Channel == "visit") && (h < 8 || h >= 22) && c.Consent != "late_hours" {
		return workout.Decision{Violations: []workout.Violation{{Rule: "CN-1", Message: "outside 08:00-22:00 without consent"}}}
	}
	return workout.Decision{Allowed: true}
}

var cst = time.FixedZone("CST", 8*3600)

type fixture struct {
	db    *sqldb.DB
	svc   *service.Service
	cases []int64
	p     reclaim.Portfolio
	now   time.Time
	pub   []string
}

func setup(t *testing.T, db *sqldb.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, now: time.Date(2026, 3, 10, 10, 0, 0, 0, cst)}
	bk, _ := pii.NewBlindKey(bytes.Repeat([]byte{9}, 32))
	kr := func() *pii.Keyring {
		k, _ := pii.NewKey(bytes.Repeat([]byte{1}, 32))
		r, _ := pii.NewKeyring(k)
		return r
	}()
	imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "某银行", Ref: "PKG-S", CutOffDate: date.Of(2025, 12, 31), Currency: money.CNY,
		SourceFile: "t.csv", ContentHash: "svc-hash", Salt: make([]byte, 32), Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	var rows []sqldb.LoanRow
	for i, b := range []string{"B1", "B1", "B2"} {
		l := reclaim.Loan{PortfolioRef: "PKG-S", CutOffDate: date.Of(2025, 12, 31), LoanID: "L" + string(rune('1'+i)), BorrowerID: b,
			Currency: money.CNY, PrincipalOutstanding: money.New(4000000, money.CNY), InterestOutstanding: money.New(900000, money.CNY),
			FeesOutstanding: money.New(100000, money.CNY), TotalClaim: money.New(5000000, money.CNY), DefaultDate: date.Of(2024, 2, 29),
			Age: -1, ForbearanceCount: -1}
		p := reclaim.PersonalData{Name: "张" + b, NationalID: "11010519491231002X" + b, Phone: "1380013800" + b[1:]}
		sealed, _ := kr.SealPersonal(p, []byte("x"))
		var terms []workout.BlindTerm
		for _, t := range bk.Terms(p) {
			terms = append(terms, workout.BlindTerm{Kind: t.Kind, Hash: t.Hash})
		}
		rows = append(rows, sqldb.LoanRow{Loan: l, Sealed: sealed, KeyID: kr.KeyID(), Blind: terms, Masked: reclaim.Masked{Name: "张*"}})
	}
	if err := imp.AddLoans(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if f.p, err = imp.Commit(ctx, sqldb.ImportSummary{}); err != nil {
		t.Fatal(err)
	}
	f.svc = service.New(db, service.Options{Policy: nightPolicy, NumberKey: service.HexKey(bk.PhoneHash),
		Now: func() time.Time { return f.now }, Publish: func(_ context.Context, topic, typ string, _ any) { f.pub = append(f.pub, topic+"/"+typ) }})
	res, err := f.svc.Board(ctx, workout.BoardSpec{PortfolioID: f.p.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(75000000, money.CNY), Actor: "mgr"})
	if err != nil || res.NewCases != 2 {
		t.Fatalf("board: %+v %v", res, err)
	}
	for _, ref := range []string{"L1", "L3"} {
		id, err := db.CaseForLoan(ctx, f.p.ID, ref)
		if err != nil {
			t.Fatal(err)
		}
		f.cases = append(f.cases, id)
	}
	return f
}

var (
	manager = workout.Viewer{Role: reclaim.RoleCollectionManager, Username: "mgr"}
	alice   = workout.Viewer{Role: reclaim.RoleCollector, Username: "alice"}
	bob     = workout.Viewer{Role: reclaim.RoleCollector, Username: "bob"}
	legal   = workout.Viewer{Role: reclaim.RoleLegal, Username: "lawyer"}
)

func code(err error) string { return reclaim.ErrorCode(err) }

func TestContactFlow(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setup(t, db)
		c1 := f.cases[0]
		if err := f.svc.Assign(ctx, manager, c1, "alice"); err != nil {
			t.Fatal(err)
		}
		// Scope: bob is not assigned.
		if _, err := f.svc.Case(ctx, bob, c1); code(err) != reclaim.ENOTFOUND {
			t.Fatalf("bob reads alice's case: %v", err)
		}
		call := workout.ActionInput{Kind: workout.KindCall, Outcome: workout.CallNoAnswer, Number: "13800138001"}
		if _, err := f.svc.Contact(ctx, bob, c1, call, workout.SourceConsole, false); code(err) != reclaim.ENOTFOUND {
			t.Fatalf("bob contacts alice's case: %v", err)
		}
		mine, err := f.svc.Cases(ctx, alice, workout.CaseQuery{})
		if err != nil || len(mine) != 1 || mine[0].ID != c1 {
			t.Fatalf("alice's queue %+v %v", mine, err)
		}
		// 22:00 at the debtor's offset: denied, with the reason, and recorded.
		late := call
		late.At = time.Date(2026, 3, 10, 22, 0, 0, 0, cst)
		res, err := f.svc.Contact(ctx, alice, c1, late, workout.SourceConsole, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed || !hasRule(res.Reasons, "CN-1") || res.Attempt.ID == 0 || res.Action != nil {
			t.Fatalf("late call: %+v", res)
		}
		// 10:00: allowed and logged as an action.
		day := call
		day.At = time.Date(2026, 3, 11, 10, 0, 0, 0, cst)
		day.Outcome = workout.CallPromiseToPay
		res, err = f.svc.Contact(ctx, alice, c1, day, workout.SourceConsole, false)
		if err != nil || !res.Allowed || res.Action == nil || res.Attempt.Outcome != "answered" {
			t.Fatalf("day call: %+v %v", res, err)
		}
		// Bad input.
		for _, in := range []workout.ActionInput{
			{Kind: workout.KindVisit, Outcome: "visited"},
			{Kind: "fax", Outcome: "delivered"},
			{Kind: workout.KindCall, Outcome: "delivered", Number: "1"},
			{Kind: workout.KindCall, Outcome: "answered", Number: "13800138001", DebtID: "NOPE"},
		} {
			if _, err := f.svc.Contact(ctx, alice, c1, in, workout.SourceConsole, false); code(err) != reclaim.EINVALID {
				t.Errorf("%+v: %v, want EINVALID", in, err)
			}
		}
		if _, err := f.svc.Contact(ctx, alice, 99999, call, workout.SourceConsole, false); code(err) != reclaim.ENOTFOUND {
			t.Errorf("unknown case: %v", err)
		}
		// A check is recorded but is not a contact.
		chk, err := f.svc.Contact(ctx, alice, c1, workout.ActionInput{Kind: workout.KindCall, Number: "13800138001", At: day.At}, workout.SourceConsole, true)
		if err != nil || chk.Attempt.Source != workout.SourceCheck || chk.Action != nil {
			t.Fatalf("check: %+v %v", chk, err)
		}
		ats, err := db.Attempts(ctx, sqldb.AttemptFilter{CaseID: c1})
		if err != nil || len(ats) != 3 {
			t.Fatalf("attempts %d %v", len(ats), err)
		}
		if ats[0].Allowed || ats[0].Reasons[0].Rule != "CN-1" || ats[0].NumberKey == "" || strings.Contains(ats[0].NumberKey, "138") {
			t.Fatalf("denied attempt stored as %+v", ats[0])
		}
		st, err := db.ContactState(ctx, c1, time.Time{})
		if err != nil || len(st.History) != 1 {
			t.Fatalf("history counts only the call that happened: %d %v", len(st.History), err)
		}
		// Do-not-contact suppresses even a daytime call.
		if _, err := f.svc.AddConsent(ctx, alice, workout.Consent{CaseID: c1, Kind: workout.ConsentDoNotContact, Ref: "call-rec-9"}); err != nil {
			t.Fatal(err)
		}
		res, err = f.svc.Contact(ctx, alice, c1, day, workout.SourceConsole, false)
		if err != nil || res.Allowed || !hasRule(res.Reasons, "DNC") {
			t.Fatalf("call after DNC: %+v %v", res, err)
		}
		page, err := f.svc.Case(ctx, alice, c1)
		if err != nil {
			t.Fatal(err)
		}
		if !page.DoNotContact || len(page.Accounts) != 2 || len(page.Notices) != 1 || len(page.Timeline) < 5 {
			t.Fatalf("case page: dnc %v accounts %d notices %d timeline %d", page.DoNotContact, len(page.Accounts), len(page.Notices), len(page.Timeline))
		}
		for i := 1; i < len(page.Timeline); i++ {
			if page.Timeline[i].At.After(page.Timeline[i-1].At) {
				t.Fatal("timeline not in time order (newest first)")
			}
		}
		// Deceased suppression.
		yes := true
		c2 := f.cases[1]
		if _, err := f.svc.Suppress(ctx, manager, c2, &yes, nil, "death certificate"); err != nil {
			t.Fatal(err)
		}
		res, err = f.svc.Contact(ctx, manager, c2, day, workout.SourceConsole, false)
		if err != nil || res.Allowed || !hasRule(res.Reasons, "DECEASED") {
			t.Fatalf("deceased: %+v %v", res, err)
		}
		if len(f.pub) == 0 || !strings.HasPrefix(f.pub[len(f.pub)-1], "workout/") {
			t.Fatalf("events %v", f.pub)
		}
	})
}

func hasRule(vs []workout.ContactReason, rule string) bool {
	for _, v := range vs {
		if v.Rule == rule {
			return true
		}
	}
	return false
}

func TestLegalAndNotices(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setup(t, db)
		c1 := f.cases[0]
		page, _ := f.svc.Case(ctx, manager, c1)
		if page.LimitationExpiry != date.Of(2027, 2, 28) {
			t.Fatalf("boarded expiry %v", page.LimitationExpiry)
		}
		n := page.Notices[0]
		if !strings.Contains(n.Text, "张*") || strings.Contains(n.Text, "张B1") {
			t.Fatalf("notice is not masked: %s", n.Text)
		}
		if _, err := f.svc.DeliverNotice(ctx, manager, c1, n.ID, date.Of(2026, 3, 9), "ems", "EMS1234"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.DeliverNotice(ctx, manager, c1, n.ID, date.Of(2026, 3, 9), "ems", "EMS1234"); code(err) != reclaim.ECONFLICT {
			t.Fatalf("second delivery: %v", err)
		}
		c, _ := db.GetCase(ctx, c1)
		if c.LimitationExpiry != date.Of(2029, 3, 9) {
			t.Fatalf("expiry after notice %v", c.LimitationExpiry)
		}
		f.now = time.Date(2026, 4, 1, 10, 0, 0, 0, cst) // a legal step is recorded once it happened (workout.CheckHappened)
		if _, err := f.svc.Act(ctx, legal, c1, workout.ActionInput{Kind: workout.KindLegal, LegalStep: workout.LegalFiling,
			Effective: date.Of(2026, 4, 3), Claim: money.New(5000000, money.CNY)}); code(err) != reclaim.EINVALID {
			t.Fatalf("a filing dated after tomorrow: %v", err)
		}
		a, err := f.svc.Act(ctx, legal, c1, workout.ActionInput{Kind: workout.KindLegal, LegalStep: workout.LegalFiling,
			Effective: date.Of(2026, 4, 1), Claim: money.New(5000000, money.CNY), Court: "朝阳法院"})
		if err != nil || a.Amount != money.New(105000, money.CNY) {
			t.Fatalf("filing: %+v %v", a, err)
		}
		a, err = f.svc.Act(ctx, legal, c1, workout.ActionInput{Kind: workout.KindLegal, LegalStep: workout.LegalFiling,
			Effective: date.Of(2026, 4, 1), Claim: money.New(5000000, money.CNY), Simplified: true})
		if err != nil || a.Amount != money.New(52500, money.CNY) {
			t.Fatalf("simplified filing: %+v %v", a, err)
		}
		if _, err := f.svc.Act(ctx, legal, c1, workout.ActionInput{Kind: workout.KindLegal, LegalStep: workout.LegalJudgment, Effective: date.Of(2026, 9, 30)}); err != nil {
			t.Fatal(err)
		}
		c, _ = db.GetCase(ctx, c1)
		if c.LimitationExpiry != date.Of(2029, 4, 1) || c.EnforcementDeadline != date.Of(2028, 9, 30) {
			t.Fatalf("after suit and judgment: expiry %v enforcement %v", c.LimitationExpiry, c.EnforcementDeadline)
		}
		f.now = time.Date(2026, 11, 1, 10, 0, 0, 0, cst)
		for _, step := range []string{workout.LegalEnforcement, workout.LegalTerminated, workout.LegalRestored} {
			if _, err := f.svc.Act(ctx, legal, c1, workout.ActionInput{Kind: workout.KindLegal, LegalStep: step, Effective: date.Of(2026, 11, 1)}); err != nil {
				t.Fatal(step, err)
			}
		}
		c, _ = db.GetCase(ctx, c1)
		if !c.EnforcementDeadline.IsZero() {
			t.Fatalf("enforcement applied, deadline still %v", c.EnforcementDeadline)
		}
		if _, err := f.svc.AddComplaint(ctx, manager, workout.Complaint{CaseID: c1, Channel: "12378", Summary: "too many calls"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddComplaint(ctx, manager, workout.Complaint{CaseID: c1, Channel: "fax", Summary: "x"}); code(err) != reclaim.EINVALID {
			t.Fatalf("bad complaint channel: %v", err)
		}
		cs, _ := db.Complaints(ctx, c1)
		if _, err := f.svc.HandleComplaint(ctx, manager, c1, cs[0].ID, "apologised; calls limited"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.HandleComplaint(ctx, manager, c1, cs[0].ID, "again"); code(err) != reclaim.ECONFLICT {
			t.Fatalf("handled twice: %v", err)
		}
		// A delivered letter with proof is a demand: it moves the expiry of the other case.
		c2 := f.cases[1]
		before, _ := db.GetCase(ctx, c2)
		letter := workout.ActionInput{Kind: workout.KindLetter, Outcome: "delivered", RecordingRef: "EMS-778", At: time.Date(2026, 5, 4, 10, 0, 0, 0, cst)}
		if res, err := f.svc.Contact(ctx, manager, c2, letter, workout.SourceAPI, false); err != nil || !res.Allowed {
			t.Fatalf("letter: %+v %v", res, err)
		}
		after, _ := db.GetCase(ctx, c2)
		if before.LimitationExpiry != date.Of(2027, 2, 28) || after.LimitationExpiry != date.Of(2029, 5, 4) {
			t.Fatalf("demand with proof: expiry %v -> %v", before.LimitationExpiry, after.LimitationExpiry)
		}
		if err := db.AddLimitationEvent(ctx, c2, 0, workout.LimitationEvent{Kind: workout.LimPartPayment, On: date.Of(2026, 6, 30)}, "payment:1"); err != nil {
			t.Fatal(err)
		}
		if after, _ = db.GetCase(ctx, c2); after.LimitationExpiry != date.Of(2029, 6, 30) {
			t.Fatalf("part-payment: expiry %v", after.LimitationExpiry)
		}
		if err := db.AddLimitationEvent(ctx, c2, 123456, workout.LimitationEvent{Kind: workout.LimPartPayment, On: date.Of(2026, 7, 1)}, "payment:2"); code(err) != reclaim.ENOTFOUND {
			t.Fatalf("loan not in the case: %v", err)
		}

		// Warnings in the queue: on 2029-01-01 the suit's expiry (2029-04-01) is 90 days away;
		// the other case's (2029-06-30) is not yet due.
		f.now = time.Date(2029, 1, 1, 9, 0, 0, 0, cst)
		rows, err := f.svc.Cases(ctx, manager, workout.CaseQuery{ExpiringDays: 90})
		if err != nil || len(rows) != 1 || rows[0].ID != c1 || rows[0].LimitationWarning != workout.Warn90 {
			t.Fatalf("expiring cases %+v %v", rows, err)
		}
		f.now = time.Date(2029, 1, 1, 9, 0, 0, 0, cst).AddDate(0, 0, -1)
		if rows, _ := f.svc.Cases(ctx, manager, workout.CaseQuery{ExpiringDays: 90}); len(rows) != 0 {
			t.Fatalf("91 days before the expiry the case is not expiring: %+v", rows)
		}
		f.now = time.Date(2029, 7, 1, 9, 0, 0, 0, cst)
		if rows, _ := f.svc.Cases(ctx, manager, workout.CaseQuery{ExpiringDays: 30}); len(rows) != 2 || rows[0].LimitationWarning != workout.WarnExpired {
			t.Fatalf("expired cases stay in the list, flagged: %+v", rows)
		}
	})
}

func TestAgencyFeed(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setup(t, db)
		c1, c2 := f.cases[0], f.cases[1]
		if _, err := f.svc.Place(ctx, manager, c1, "AgencyA", "90 days"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Place(ctx, manager, c1, "AgencyB", "again"); code(err) != reclaim.ECONFLICT {
			t.Fatalf("placed twice: %v", err)
		}
		if err := f.svc.SetAgencyMember(ctx, "ag1", "AgencyA"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetAgencyMember(ctx, "ag2", "AgencyB"); err != nil {
			t.Fatal(err)
		}
		a1, _ := f.svc.Viewer(ctx, reclaim.User{Role: reclaim.RoleAgency, Username: "ag1"})
		a2, _ := f.svc.Viewer(ctx, reclaim.User{Role: reclaim.RoleAgency, Username: "ag2"})
		if _, err := f.svc.Case(ctx, a1, c1); err != nil {
			t.Fatalf("agency reads its placement: %v", err)
		}
		if _, err := f.svc.Case(ctx, a2, c1); code(err) != reclaim.ENOTFOUND {
			t.Fatalf("another agency reads the placement: %v", err)
		}
		if ps, _ := f.svc.Placements(ctx, a2, "", false); len(ps) != 0 {
			t.Fatalf("agency B sees placements %+v", ps)
		}
		ref := workout.CaseRef(c1)
		csv := "contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent,extra\n" +
			"a1," + ref + ",L1,call,debtor,13800138001,2026-03-02T10:00:00+08:00,no_answer,,x\n" +
			"a2," + ref + ",L1,call,debtor,13800138001,2026-03-02T22:30:00+08:00,answered,,x\n"
		res, err := f.svc.AgencyFile(ctx, a1, strings.NewReader(csv))
		if err != nil || res.Contacts != 2 || res.Flagged != 1 || res.Violations[0].ContactID != "a2" || res.Violations[0].Rule != "CN-1" {
			t.Fatalf("feed %+v %v", res, err)
		}
		st, _ := db.ContactState(ctx, c1, time.Time{})
		if len(st.History) != 2 {
			t.Fatalf("agency contacts count in the limits: history %d", len(st.History))
		}
		// Unknown debtor, a case of another agency, bad lines: nothing recorded.
		for _, bad := range []struct{ csv, code string }{
			{"contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\nb1,C99999,,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", reclaim.ENOTFOUND},
			{"contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\nb1," + workout.CaseRef(c2) + ",,letter,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", reclaim.ENOTFOUND},
			{"contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\nb1," + ref + ",,fax,debtor,,2026-03-02T10:00:00+08:00,delivered,\n", reclaim.EINVALID},
			{"contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\nb1," + ref + ",,letter,debtor,,2026-03-02 10:00,delivered,\n", reclaim.EINVALID},
		} {
			if _, err := f.svc.AgencyFile(ctx, a1, strings.NewReader(bad.csv)); code(err) != bad.code {
				t.Errorf("%q: %v, want %s", bad.csv, err, bad.code)
			}
		}
		if ats, _ := db.Attempts(ctx, sqldb.AttemptFilter{}); len(ats) != 2 {
			t.Fatalf("rejected feeds wrote attempts: %d", len(ats))
		}
		rep, err := f.svc.Report(ctx, date.Of(2026, 3, 2), date.Of(2026, 3, 2), "", "")
		if err != nil || len(rep) != 1 || rep[0].Attempts != 2 || rep[0].Denied != 1 || rep[0].ByRule["CN-1"] != 1 || rep[0].Agency != "AgencyA" {
			t.Fatalf("report %+v %v", rep, err)
		}
		if _, err := f.svc.Recall(ctx, manager, c1, "end"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Case(ctx, a1, c1); code(err) != reclaim.ENOTFOUND {
			t.Fatalf("agency reads a recalled case: %v", err)
		}
		_ = hex.EncodeToString
	})
}

// CN-4 reads the debtor's contacts of any age (collection-rules.md: "no earlier invalid_number
// on the debtor's numbers", "the last 3"), not only the contacts of the history window (90
// days): with the real engine, a third-party call is allowed after an invalid number or three
// failed contacts beyond the window's edge, and still refused when the old contacts do not make
// the debtor unreachable.
func TestContactCN4ReadsOldDebtorContacts(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setup(t, db)
		bk, _ := pii.NewBlindKey(bytes.Repeat([]byte{9}, 32))
		// The service's clock is moved to each scenario's day: a contact dated after tomorrow is
		// refused as not having happened yet (workout.CheckHappened).
		clock := f.now
		svc := service.New(db, service.Options{Policy: workout.Decide, NumberKey: service.HexKey(bk.PhoneHash), Now: func() time.Time { return clock }})
		// Each scenario decides a third-party call at its own day, 400 days after the previous
		// one's, after the debtor calls it lists (days before that day, and their outcomes). An
		// invalid number counts forever, so the scenario that has one runs on its own case.
		day := 0
		check := func(name string, caseID int64, ago []int, outcomes []string, want bool) {
			t.Helper()
			day++
			at := f.now.AddDate(0, 0, 400*day)
			clock = at
			for i, a := range ago {
				res, err := svc.Contact(ctx, manager, caseID, workout.ActionInput{Kind: workout.KindCall, Outcome: outcomes[i], Number: "13800138001",
					At: at.AddDate(0, 0, -a)}, workout.SourceConsole, false)
				if err != nil || !res.Allowed {
					t.Fatalf("%s: debtor call %d days before: %+v %v", name, a, res, err)
				}
			}
			res, err := svc.Contact(ctx, manager, caseID, workout.ActionInput{Kind: workout.KindCall, Outcome: workout.CallAnswered,
				Number: "13900139009", Party: "third_party", At: at}, workout.SourceConsole, true)
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed != want || (!want && !hasRule(res.Reasons, "CN-4")) {
				t.Errorf("%s: allowed %v %+v, want allowed %v", name, res.Allowed, res.Reasons, want)
			}
		}
		c1, c2 := f.cases[0], f.cases[1]
		no, busy, ans := workout.CallNoAnswer, workout.CallBusy, workout.CallAnswered
		// A refused call did not happen: its invalid_number, beyond the window, makes nobody unreachable.
		day++
		at := f.now.AddDate(0, 0, 400*day)
		clock = at
		night := time.Date(at.Year(), at.Month(), at.Day()-100, 23, 0, 0, 0, cst)
		if res, err := svc.Contact(ctx, manager, c1, workout.ActionInput{Kind: workout.KindCall, Outcome: workout.CallInvalidNumber,
			Number: "13800138001", At: night}, workout.SourceConsole, false); err != nil || res.Allowed {
			t.Fatalf("night call: %+v %v", res, err)
		}
		if res, err := svc.Contact(ctx, manager, c1, workout.ActionInput{Kind: workout.KindCall, Outcome: ans, Number: "13900139009",
			Party: "third_party", At: at}, workout.SourceConsole, true); err != nil || res.Allowed || !hasRule(res.Reasons, "CN-4") {
			t.Errorf("after a refused invalid_number: %+v %v", res, err)
		}
		check("answered, then 2 failed, all beyond the window", c1, []int{200, 150, 140}, []string{ans, no, busy}, false)
		check("3 failed beyond the window, then answered inside it", c1, []int{150, 140, 130, 5}, []string{no, busy, no, ans}, false)
		check("3 failed 91, 90 and 89 days before", c1, []int{91, 90, 89}, []string{no, busy, no}, true)
		check("3 failed, 2 beyond the window", c1, []int{120, 110, 10}, []string{busy, no, busy}, true)
		check("invalid number 91 days before", c2, []int{91}, []string{workout.CallInvalidNumber}, true)
	})
}
