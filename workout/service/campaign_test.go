package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// campaignFixture boards n debtors (one loan each, so n cases) and serves them with the real
// compliance engine (workout.Decide), a settable clock and the given batch size.
type campaignFixture struct {
	db    *sqldb.DB
	svc   *service.Service
	cases []int64
	now   time.Time
	pub   int
	onPub func()
}

func setupCampaign(t *testing.T, db *sqldb.DB, n, batch int) *campaignFixture {
	t.Helper()
	ctx := context.Background()
	f := &campaignFixture{db: db, now: time.Date(2026, 3, 10, 10, 0, 0, 0, cst)}
	bk, _ := pii.NewBlindKey(bytes.Repeat([]byte{9}, 32))
	k, _ := pii.NewKey(bytes.Repeat([]byte{1}, 32))
	kr, _ := pii.NewKeyring(k)
	imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "某银行", Ref: "PKG-C", CutOffDate: date.Of(2025, 12, 31), Currency: money.CNY,
		SourceFile: "c.csv", ContentHash: "campaign-hash", Salt: make([]byte, 32), Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	var rows []sqldb.LoanRow
	for i := range n {
		b := fmt.Sprintf("B%04d", i)
		l := reclaim.Loan{PortfolioRef: "PKG-C", CutOffDate: date.Of(2025, 12, 31), LoanID: fmt.Sprintf("L%04d", i), BorrowerID: b,
			Currency: money.CNY, PrincipalOutstanding: money.New(4000000, money.CNY), InterestOutstanding: money.New(900000, money.CNY),
			FeesOutstanding: money.New(100000, money.CNY), TotalClaim: money.New(5000000, money.CNY), DefaultDate: date.Of(2024, 2, 29),
			Age: -1, ForbearanceCount: -1}
		p := reclaim.PersonalData{Name: "张" + b, NationalID: fmt.Sprintf("1101051949123%05d", i), Phone: fmt.Sprintf("139%08d", i)}
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
	p, err := imp.Commit(ctx, sqldb.ImportSummary{})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = service.New(db, service.Options{Policy: workout.Decide, NumberKey: service.HexKey(bk.PhoneHash), CampaignBatch: batch,
		Now: func() time.Time { return f.now }, Publish: func(_ context.Context, topic, typ string, _ any) {
			if typ == "campaign" {
				f.pub++
				if f.onPub != nil {
					f.onPub()
				}
			}
		}})
	res, err := f.svc.Board(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(75000000, money.CNY), Actor: "mgr"})
	if err != nil || res.NewCases != int64(n) {
		t.Fatalf("board: %+v %v", res, err)
	}
	for i := range n {
		id, err := db.CaseForLoan(ctx, p.ID, fmt.Sprintf("L%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		f.cases = append(f.cases, id)
	}
	return f
}

func (f *campaignFixture) attempts(t *testing.T, caseID int64) []workout.Attempt {
	t.Helper()
	ats, err := f.db.Attempts(context.Background(), sqldb.AttemptFilter{CaseID: caseID})
	if err != nil {
		t.Fatal(err)
	}
	return ats
}

func spec(key string, sel workout.CampaignSelection, at time.Time) workout.CampaignSpec {
	return workout.CampaignSpec{Key: key, Name: "三月提醒", Channel: workout.KindSMS, Template: "remind-v1", Selection: sel, ScheduledAt: at}
}

// TestCampaignAtNightDeniedCN1: an SMS campaign sent at 22:00 debtor time is refused for every
// debtor with CN-1; every attempt is recorded, nothing is sent, nothing lands on a timeline.
func TestCampaignAtNightDeniedCN1(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setupCampaign(t, db, 7, 3)
		f.now = time.Date(2026, 3, 10, 22, 0, 0, 0, cst)
		c, created, err := f.svc.CreateCampaign(ctx, manager, spec("night-1", workout.CampaignSelection{All: true}, f.now))
		if err != nil || !created || c.Status != workout.CampaignScheduled {
			t.Fatalf("create: %+v %v %v", c, created, err)
		}
		// Not due before its time.
		f.now = f.now.Add(-time.Minute)
		if n, err := f.svc.RunCampaigns(ctx, "r1"); n != 0 || err != nil {
			t.Fatalf("ran early: %d %v", n, err)
		}
		f.now = f.now.Add(time.Minute)
		if n, err := f.svc.RunCampaigns(ctx, "r1"); n != 1 || err != nil {
			t.Fatalf("run: %d %v", n, err)
		}
		c, _ = f.svc.Campaign(ctx, c.ID)
		if c.Status != workout.CampaignDone || c.Total != 7 || c.Done != 7 || c.Sent != 0 || c.Denied != 7 || c.ByRule[workout.RuleCN1] != 7 || len(c.ByRule) != 1 {
			t.Fatalf("result %+v", c)
		}
		if f.pub < 3 {
			t.Errorf("%d progress events, want one per batch and one at the end", f.pub)
		}
		for _, id := range f.cases {
			ats := f.attempts(t, id)
			if len(ats) != 1 || ats[0].Allowed || ats[0].Source != workout.SourceCampaign || ats[0].Outcome != workout.CampaignNotSent ||
				len(ats[0].Reasons) != 1 || ats[0].Reasons[0].Rule != workout.RuleCN1 || ats[0].LocalAt != "2026-03-10T22:00:00+08:00" {
				t.Fatalf("case %d attempts %+v", id, ats)
			}
			if tl, _ := db.Timeline(ctx, id, 50); countKind(tl, workout.KindSMS) != 0 {
				t.Fatalf("a refused SMS is on case %d's timeline", id)
			}
		}
		// A letter at 22:00 is not a CN-1 channel: sent.
		f.now = time.Date(2026, 3, 10, 22, 30, 0, 0, cst)
		l := spec("night-letter", workout.CampaignSelection{CaseIDs: f.cases[:2]}, f.now)
		l.Channel = workout.KindLetter
		lc, _, err := f.svc.CreateCampaign(ctx, manager, l)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunCampaigns(ctx, "r1"); err != nil {
			t.Fatal(err)
		}
		if lc, _ = f.svc.Campaign(ctx, lc.ID); lc.Sent != 2 || lc.Denied != 0 {
			t.Fatalf("letters %+v", lc)
		}
	})
}

func countKind(tl []workout.TimelineItem, kind string) int {
	n := 0
	for _, it := range tl {
		if it.Type == "action" && it.Kind == kind {
			n++
		}
	}
	return n
}

// TestCampaignSuppressionAndCaps: deceased and do-not-contact debtors are suppressed; the
// campaign's per-debtor daily cap counts manual, agency and earlier campaign contacts alike.
func TestCampaignSuppressionAndCaps(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setupCampaign(t, db, 6, 4)
		c := f.cases
		yes := true
		if _, err := f.svc.Suppress(ctx, manager, c[0], &yes, nil, "death certificate"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddConsent(ctx, manager, workout.Consent{CaseID: c[1], Kind: workout.ConsentDoNotContact, Ref: "call 3"}); err != nil {
			t.Fatal(err)
		}
		// A manual SMS on c[2] this morning; an agency SMS on c[3].
		f.now = time.Date(2026, 3, 10, 9, 0, 0, 0, cst)
		if err := f.svc.Assign(ctx, manager, c[2], "alice"); err != nil {
			t.Fatal(err)
		}
		if r, err := f.svc.Contact(ctx, alice, c[2], workout.ActionInput{Kind: workout.KindSMS, Outcome: "delivered", Number: "13900000002"},
			workout.SourceConsole, false); err != nil || !r.Allowed {
			t.Fatalf("manual sms: %+v %v", r, err)
		}
		if _, err := f.svc.AgencyContacts(ctx, manager, []workout.Contact{{ID: "ag-1", DebtorID: workout.CaseRef(c[3]), Channel: workout.ChannelSMS,
			Party: workout.PartyDebtor, At: time.Date(2026, 3, 10, 9, 30, 0, 0, cst), Outcome: "delivered"}}); err != nil {
			t.Fatal(err)
		}
		f.now = time.Date(2026, 3, 10, 11, 0, 0, 0, cst)
		s1 := spec("cap-1", workout.CampaignSelection{All: true}, f.now)
		s1.MaxPerDay = 1
		if _, _, err := f.svc.CreateCampaign(ctx, manager, s1); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunCampaigns(ctx, "r1"); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Campaigns(ctx, 10)
		r := got[0]
		if r.Done != 6 || r.Sent != 2 || r.Denied != 4 || r.ByRule[workout.RuleDeceased] != 1 || r.ByRule[workout.RuleDNC] != 1 ||
			r.ByRule[workout.RuleCampaignCap] != 2 {
			t.Fatalf("first campaign %+v", r)
		}
		for i, want := range []string{workout.RuleDeceased, workout.RuleDNC, workout.RuleCampaignCap, workout.RuleCampaignCap} {
			ats := f.attempts(t, c[i])
			last := ats[len(ats)-1]
			if last.Source != workout.SourceCampaign || last.Allowed || last.Reasons[0].Rule != want {
				t.Fatalf("case %d: %+v, want %s", i, last, want)
			}
		}
		// A sent SMS is an action on the case's timeline, linked from its attempt.
		sent := f.attempts(t, c[4])
		if len(sent) != 1 || !sent[0].Allowed || sent[0].ActionID == 0 || sent[0].Outcome != workout.CampaignSent {
			t.Fatalf("sent attempt %+v", sent)
		}
		if tl, _ := db.Timeline(ctx, c[4], 50); countKind(tl, workout.KindSMS) != 1 {
			t.Fatalf("the sent SMS is not on the timeline: %+v", tl)
		}
		// A second campaign the same day: the first campaign's SMS count against the cap.
		f.now = f.now.Add(time.Hour)
		s2 := spec("cap-2", workout.CampaignSelection{CaseIDs: []int64{c[4], c[5]}}, f.now)
		s2.MaxPerDay = 1
		if _, _, err := f.svc.CreateCampaign(ctx, manager, s2); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RunCampaigns(ctx, "r1"); err != nil {
			t.Fatal(err)
		}
		got, _ = f.svc.Campaigns(ctx, 10)
		if got[0].Sent != 0 || got[0].ByRule[workout.RuleCampaignCap] != 2 {
			t.Fatalf("second campaign %+v", got[0])
		}
		// The campaign's SMS is a contact that happened: the manual path sees it (the same cap
		// is not the manual path's, but the attempt is in the history the policy reads).
		st, err := db.ContactState(ctx, c[4], f.now.Add(-48*time.Hour))
		if err != nil || len(st.History) != 1 || st.History[0].Source != workout.SourceCampaign {
			t.Fatalf("history of c4: %+v %v", st.History, err)
		}
		// The next day the cap starts again.
		f.now = time.Date(2026, 3, 11, 10, 0, 0, 0, cst)
		s3 := spec("cap-3", workout.CampaignSelection{CaseIDs: []int64{c[4]}}, f.now)
		s3.MaxPerDay = 1
		f.svc.CreateCampaign(ctx, manager, s3)
		f.svc.RunCampaigns(ctx, "r1")
		if got, _ = f.svc.Campaigns(ctx, 1); got[0].Sent != 1 {
			t.Fatalf("next day %+v", got[0])
		}
	})
}

// TestCampaignIdempotent: the same request twice makes one campaign; a key reused for another
// request is a conflict; a run cut short resumes on another runner after the lease expires
// and contacts nobody twice; a batch recorded twice is recorded once.
func TestCampaignIdempotent(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := setupCampaign(t, db, 9, 2)
		s := spec("retry-me", workout.CampaignSelection{All: true}, f.now)
		a, created, err := f.svc.CreateCampaign(ctx, manager, s)
		if err != nil || !created {
			t.Fatal(err)
		}
		b, created, err := f.svc.CreateCampaign(ctx, manager, s)
		if err != nil || created || b.ID != a.ID {
			t.Fatalf("retried request: %+v %v %v", b, created, err)
		}
		other := s
		other.Template = "another"
		if _, _, err := f.svc.CreateCampaign(ctx, manager, other); code(err) != reclaim.ECONFLICT {
			t.Fatalf("key reused: %v", err)
		}
		// Another manager's key space is its own.
		if _, created, err := f.svc.CreateCampaign(ctx, workout.Viewer{Role: reclaim.RoleCollectionManager, Username: "mgr2"}, other); err != nil || !created {
			t.Fatalf("mgr2: %v %v", created, err)
		}
		// Runner r1 dies after its second batch (the context ends).
		rctx, cancel := context.WithCancel(ctx)
		f.pub = 0
		f.onPub = func() {
			if f.pub >= 2 {
				cancel()
			}
		}
		if _, err := f.svc.RunCampaigns(rctx, "r1"); err == nil {
			t.Fatal("the cut run reported no error")
		}
		f.onPub = nil
		mid, _ := f.svc.Campaign(ctx, a.ID)
		if mid.Status != workout.CampaignRunning || mid.Done != 4 {
			t.Fatalf("after the cut: %+v", mid)
		}
		// r2 cannot take it while r1's lease runs (it sends mgr2's campaign only); after the
		// lease expires, r2 finishes it.
		if n, _ := f.svc.RunCampaigns(ctx, "r2"); n != 1 {
			t.Fatalf("r2 finished %d campaigns, want mgr2's only", n)
		}
		if still, _ := f.svc.Campaign(ctx, a.ID); still.Done != 4 || still.Status != workout.CampaignRunning {
			t.Fatalf("r2 took a leased campaign: %+v", still)
		}
		f.now = f.now.Add(3 * time.Minute)
		if n, err := f.svc.RunCampaigns(ctx, "r2"); n != 1 || err != nil {
			t.Fatalf("r2: %d %v", n, err)
		}
		done, _ := f.svc.Campaign(ctx, a.ID)
		if done.Status != workout.CampaignDone || done.Done != 9 || done.Sent != 9 {
			t.Fatalf("resumed %+v", done)
		}
		for _, id := range f.cases {
			n := 0
			for _, at := range f.attempts(t, id) {
				if at.ContactID == fmt.Sprintf("campaign-%d-%s", a.ID, workout.CaseRef(id)) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("case %d contacted %d times by campaign %d", id, n, a.ID)
			}
		}
		// A stale runner (r1 woke up) cannot write; a batch replayed by its owner is skipped.
		if _, err := db.RecordCampaignBatch(ctx, a.ID, "r1", nil, 0, f.now); code(err) != reclaim.ECONFLICT {
			t.Fatalf("stale runner wrote: %v", err)
		}
		s4 := spec("replay", workout.CampaignSelection{CaseIDs: f.cases[:1]}, f.now)
		c4, _, _ := f.svc.CreateCampaign(ctx, manager, s4)
		claimed, ok, err := db.ClaimCampaign(ctx, "r3", f.now, time.Minute)
		if err != nil || !ok || claimed.ID != c4.ID || claimed.Total != 1 {
			t.Fatalf("claim: %+v %v %v", claimed, ok, err)
		}
		item := sqldb.CampaignItem{Attempt: workout.Attempt{CaseID: f.cases[0], ContactID: "x", Channel: "sms", Party: "debtor", At: f.now,
			LocalAt: f.now.Format(time.RFC3339), Outcome: "sent", Agent: "campaign", Source: workout.SourceCampaign, Pack: "cn", Allowed: true}}
		for range 2 {
			if _, err := db.RecordCampaignBatch(ctx, c4.ID, "r3", []sqldb.CampaignItem{item}, f.cases[0], f.now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := f.svc.Campaign(ctx, c4.ID); got.Done != 1 || got.Sent != 1 {
			t.Fatalf("replayed batch counted twice: %+v", got)
		}
	})
}

func TestCampaignValidation(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.OpenSQLite(t)
	f := setupCampaign(t, db, 1, 0)
	at := f.now
	for _, tc := range []struct {
		field string
		edit  func(*workout.CampaignSpec)
	}{
		{"key", func(s *workout.CampaignSpec) { s.Key = " " }},
		{"name", func(s *workout.CampaignSpec) { s.Name = "" }},
		{"channel", func(s *workout.CampaignSpec) { s.Channel = "call" }},
		{"channel", func(s *workout.CampaignSpec) { s.Channel = "visit" }},
		{"template", func(s *workout.CampaignSpec) { s.Template = "../etc/passwd" }},
		{"max_per_day", func(s *workout.CampaignSpec) { s.MaxPerDay = -1 }},
		{"scheduled_at", func(s *workout.CampaignSpec) { s.ScheduledAt = time.Time{} }},
		{"selection", func(s *workout.CampaignSpec) { s.Selection = workout.CampaignSelection{} }},
		{"selection", func(s *workout.CampaignSpec) {
			s.Selection = workout.CampaignSelection{CaseIDs: []int64{1}, Assignee: "alice"}
		}},
		{"selection.case_ids", func(s *workout.CampaignSpec) { s.Selection = workout.CampaignSelection{CaseIDs: []int64{0}} }},
		{"selection.case_ids", func(s *workout.CampaignSpec) { s.Selection = workout.CampaignSelection{CaseIDs: make([]int64, 10001)} }},
		{"selection.portfolio_id", func(s *workout.CampaignSpec) { s.Selection = workout.CampaignSelection{PortfolioID: -3} }},
	} {
		s := spec("v", workout.CampaignSelection{All: true}, at)
		tc.edit(&s)
		_, _, err := f.svc.CreateCampaign(ctx, manager, s)
		var e *reclaim.Error
		if !asError(err, &e) || e.Code != reclaim.EINVALID || e.Fields["field"] != tc.field {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	if cs, _ := f.svc.Campaigns(ctx, 10); len(cs) != 0 {
		t.Fatalf("refused requests stored %d campaigns", len(cs))
	}
}

func asError(err error, e **reclaim.Error) bool { return errors.As(err, e) }
