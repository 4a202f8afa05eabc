package service_test

import (
	"bytes"
	"context"
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

const queueStrategy = `name: test
channels:
  call:  {cost: "3.00"}
  sms:   {cost: "0.10"}
  visit: {cost: "120.00"}
teams:
  - {name: callers, channels: [call], capacity: 8, agents: 2, shift: "09:00-20:00"}
  - {name: sms-platform, channels: [sms], capacity: 4, agents: 1, shift: "10:00-19:00"}
  - {name: field, agency: huadong-field, channels: [visit], capacity: 2, agents: 1, shift: "09:00-18:00"}
`

// queueFixture boards 16 debtors (one loan each, claims 60,000-75,000 yuan), with the real
// compliance engine as the policy.
func queueFixture(t *testing.T, db *sqldb.DB) (*service.Service, []int64) {
	t.Helper()
	ctx := context.Background()
	bk, _ := pii.NewBlindKey(bytes.Repeat([]byte{9}, 32))
	k, _ := pii.NewKey(bytes.Repeat([]byte{1}, 32))
	kr, _ := pii.NewKeyring(k)
	imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "某银行", Ref: "PKG-Q", CutOffDate: date.Of(2025, 12, 31), Currency: money.CNY,
		SourceFile: "q.csv", ContentHash: "queue-hash", Salt: make([]byte, 32), Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	var rows []sqldb.LoanRow
	for i := 0; i < 16; i++ {
		b := fmt.Sprintf("B%02d", i)
		claim := int64(6_000_000 + 100_000*i)
		l := reclaim.Loan{PortfolioRef: "PKG-Q", CutOffDate: date.Of(2025, 12, 31), LoanID: fmt.Sprintf("L%02d", i), BorrowerID: b,
			Currency: money.CNY, PrincipalOutstanding: money.New(claim, money.CNY), InterestOutstanding: money.New(0, money.CNY),
			FeesOutstanding: money.New(0, money.CNY), TotalClaim: money.New(claim, money.CNY), DefaultDate: date.Of(2025, 2, 28),
			Age: -1, ForbearanceCount: -1}
		p := reclaim.PersonalData{Name: "李" + b, NationalID: fmt.Sprintf("1101051949123100%02d", i), Phone: fmt.Sprintf("139001390%02d", i)}
		sealed, _ := kr.SealPersonal(p, []byte("x"))
		var terms []workout.BlindTerm
		for _, t := range bk.Terms(p) {
			terms = append(terms, workout.BlindTerm{Kind: t.Kind, Hash: t.Hash})
		}
		rows = append(rows, sqldb.LoanRow{Loan: l, Sealed: sealed, KeyID: kr.KeyID(), Blind: terms, Masked: reclaim.Masked{Name: "李*"}})
	}
	if err := imp.AddLoans(ctx, rows); err != nil {
		t.Fatal(err)
	}
	p, err := imp.Commit(ctx, sqldb.ImportSummary{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, cst)
	svc := service.New(db, service.Options{Policy: func(pack workout.Pack, st workout.DebtorState, h []workout.Contact, c workout.Contact) workout.Decision {
		return workout.Decide(pack, st, h, c)
	}, NumberKey: service.HexKey(bk.PhoneHash), Now: func() time.Time { return now }})
	res, err := svc.Board(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(75000000, money.CNY), Actor: "mgr"})
	if err != nil || res.NewCases != 16 {
		t.Fatalf("board: %+v %v", res, err)
	}
	var ids []int64
	for i := 0; i < 16; i++ {
		id, err := db.CaseForLoan(ctx, p.ID, fmt.Sprintf("L%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := db.CreateUser(ctx, reclaim.User{Username: u, Role: reclaim.RoleCollector, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AssignArms(ctx, "cc-1", 7, 0.5, date.Of(2026, 3, 2)); err != nil {
		t.Fatal(err)
	}
	// Cases 0-5 and 14-15 alice's, 6-11 bob's, 12-13 placed with the field agency; 14 asked not
	// to be contacted, 15 is deceased.
	for i, id := range ids {
		switch {
		case i < 6 || i >= 14:
			err = svc.Assign(ctx, manager, id, "alice")
		case i < 12:
			err = svc.Assign(ctx, manager, id, "bob")
		default:
			_, err = svc.Place(ctx, manager, id, "huadong-field", "field work")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddConsent(ctx, manager, workout.Consent{CaseID: ids[14], Kind: workout.ConsentDoNotContact, Value: "all", Ref: "letter"}); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := svc.Suppress(ctx, manager, ids[15], &yes, nil, "death certificate"); err != nil {
		t.Fatal(err)
	}
	return svc, ids
}

func TestPlanDay(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ids := queueFixture(t, db)
		strat, err := workout.ParseStrategy([]byte(queueStrategy), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		day := date.Of(2026, 3, 11)
		if _, err := svc.PlanDay(ctx, alice, day, strat); code(err) != reclaim.EFORBIDDEN {
			t.Fatalf("a collector planned the day: %v", err)
		}
		plan, err := svc.PlanDay(ctx, manager, day, strat)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("plan: planned %d refused %d skipped %d per arm %v per team %v", plan.Planned, plan.Refused, plan.Skipped, plan.PerArm, plan.PerTeam)
		if plan.Planned == 0 || plan.PerArm[workout.ArmChampion] == 0 || plan.PerArm[workout.ArmChallenger] == 0 {
			t.Fatalf("both arms must be planned: %+v", plan)
		}
		// Capacity: each collector 8/2 = 4 contacts a day, split 2 + 2 between the arms.
		wantCap := map[string]int{"alice": 4, "bob": 4, "sms-platform": 4, "huadong-field": 2}
		for team, c := range wantCap {
			if plan.Capacity[team] != c {
				t.Fatalf("capacity of %s = %d, want %d (%v)", team, plan.Capacity[team], c, plan.Capacity)
			}
		}
		perTeamArm := map[string]int{}
		owner := map[int64]string{}
		for i, id := range ids {
			switch {
			case i < 6 || i >= 14:
				owner[id] = "alice"
			case i < 12:
				owner[id] = "bob"
			default:
				owner[id] = "huadong-field"
			}
		}
		states, err := db.ContactStates(ctx, ids, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range plan.Items {
			perTeamArm[it.Team+"/"+it.Arm]++
			if it.CaseID == ids[14] || it.CaseID == ids[15] {
				t.Fatalf("planned a suppressed case: %+v", it)
			}
			if it.Team != "sms-platform" && owner[it.CaseID] != it.Team {
				t.Fatalf("case %d of %s planned for %s", it.CaseID, owner[it.CaseID], it.Team)
			}
			// The compliance engine allows every planned contact at its planned time.
			at, err := time.Parse(time.RFC3339, it.PlannedAt)
			if err != nil {
				t.Fatal(err)
			}
			st := states[it.CaseID]
			ds := workout.DebtorState{DoNotContact: st.Case.DoNotContact, Deceased: st.Case.Deceased, Bankrupt: st.Case.Bankrupt,
				ValidationNoticeSent: st.NoticeDelivered, Purpose: "collection"}
			if d := workout.Decide(workout.PackCN, ds, nil, workout.Contact{DebtorID: workout.CaseRef(it.CaseID), Channel: workout.Channel(it.Channel),
				Party: workout.PartyDebtor, At: at, Agency: it.Agency}); !d.Allowed {
				t.Fatalf("planned contact refused: %+v %+v", it, d.Violations)
			}
		}
		for key, n := range perTeamArm {
			var team, arm string
			for k := range key {
				if key[k] == '/' {
					team, arm = key[:k], key[k+1:]
				}
			}
			limit := wantCap[team] / 2
			if arm == workout.ArmChallenger {
				limit = wantCap[team] - wantCap[team]/2
			}
			if n > limit {
				t.Fatalf("%s: %d planned over its capacity %d (%v)", key, n, limit, perTeamArm)
			}
		}
		if plan.PerTeam["alice"] == 0 || plan.PerTeam["bob"] == 0 || plan.PerTeam["huadong-field"] == 0 {
			t.Fatalf("every owner should get work: %v", plan.PerTeam)
		}

		// Scope: a collector sees only its own items; an agency user its agency's; the manager all.
		mine, err := svc.Queue(ctx, alice, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != plan.PerTeam["alice"] {
			t.Fatalf("alice sees %d items, planned %d", len(mine), plan.PerTeam["alice"])
		}
		for _, it := range mine {
			if it.Assignee != "alice" || owner[it.CaseID] != "alice" {
				t.Fatalf("alice sees %+v", it)
			}
		}
		bobs, err := svc.Queue(ctx, bob, day)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range bobs {
			if owner[it.CaseID] != "bob" {
				t.Fatalf("bob sees %+v", it)
			}
		}
		ag := workout.Viewer{Role: reclaim.RoleAgency, Username: "field-user", Agency: "huadong-field"}
		theirs, err := svc.Queue(ctx, ag, day)
		if err != nil || len(theirs) != plan.PerTeam["huadong-field"] {
			t.Fatalf("agency sees %d items (%v), planned %d", len(theirs), err, plan.PerTeam["huadong-field"])
		}
		if none, err := svc.Queue(ctx, workout.Viewer{Role: reclaim.RoleAgency, Username: "stray"}, day); err != nil || len(none) != 0 {
			t.Fatalf("an agency user of no agency sees %d items (%v)", len(none), err)
		}
		all, err := svc.Queue(ctx, manager, day)
		if err != nil || len(all) != plan.Planned {
			t.Fatalf("manager sees %d of %d (%v)", len(all), plan.Planned, err)
		}
		for i, it := range all {
			if it.Rank != i+1 {
				t.Fatalf("ranks: %+v", all)
			}
		}
		// After a reassignment the old owner no longer sees the item.
		if len(bobs) > 0 {
			if err := svc.Assign(ctx, manager, bobs[0].CaseID, "alice"); err != nil {
				t.Fatal(err)
			}
			again, _ := svc.Queue(ctx, bob, day)
			if len(again) != len(bobs)-1 {
				t.Fatalf("bob still sees a reassigned case: %d of %d", len(again), len(bobs))
			}
		}

		// Re-planning replaces the day's plan: a newly deceased debtor drops out, nothing doubles.
		victim := all[0].CaseID
		yes := true
		if _, err := svc.Suppress(ctx, manager, victim, &yes, nil, "death certificate"); err != nil {
			t.Fatal(err)
		}
		plan2, err := svc.PlanDay(ctx, manager, day, strat)
		if err != nil {
			t.Fatal(err)
		}
		all2, err := svc.Queue(ctx, manager, day)
		if err != nil || len(all2) != plan2.Planned {
			t.Fatalf("after re-planning: %d stored, %d planned (%v)", len(all2), plan2.Planned, err)
		}
		for _, it := range all2 {
			if it.CaseID == victim {
				t.Fatalf("re-planned a deceased debtor: %+v", it)
			}
		}
		// Planning again unchanged gives the same plan.
		plan3, err := svc.PlanDay(ctx, manager, day, strat)
		if err != nil || plan3.Planned != plan2.Planned {
			t.Fatalf("idempotent: %d then %d (%v)", plan2.Planned, plan3.Planned, err)
		}
		// Another day's plan is kept apart.
		if other, err := svc.Queue(ctx, manager, day.AddDays(1)); err != nil || len(other) != 0 {
			t.Fatalf("next day: %d (%v)", len(other), err)
		}
	})
}
