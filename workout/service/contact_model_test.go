package service_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// contactLogFixture boards n debtors (claims 20,000-40,000 yuan), draws their arms, and writes
// a contact log with a known channel effect: each case is contacted three times, 25 days apart,
// on a random channel; a call is followed by a payment 3 days later with probability 0.6, an SMS
// with 0.1, a letter with 0.05. The service's clock is 2026-09-01.
func contactLogFixture(t *testing.T, db *sqldb.DB, n int) (*service.Service, []int64) {
	t.Helper()
	ctx := context.Background()
	bk, _ := pii.NewBlindKey(bytes.Repeat([]byte{9}, 32))
	k, _ := pii.NewKey(bytes.Repeat([]byte{1}, 32))
	kr, _ := pii.NewKeyring(k)
	imp, err := db.BeginImport(ctx, sqldb.ImportMeta{SellerName: "某银行", Ref: "PKG-CM", CutOffDate: date.Of(2025, 12, 31), Currency: money.CNY,
		SourceFile: "cm.csv", ContentHash: "cm-hash", Salt: make([]byte, 32), Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	var rows []sqldb.LoanRow
	for i := 0; i < n; i++ {
		b := fmt.Sprintf("B%04d", i)
		claim := int64(2_000_000 + 5_000*(i%400))
		l := reclaim.Loan{PortfolioRef: "PKG-CM", CutOffDate: date.Of(2025, 12, 31), LoanID: fmt.Sprintf("L%04d", i), BorrowerID: b,
			Currency: money.CNY, PrincipalOutstanding: money.New(claim, money.CNY), InterestOutstanding: money.New(0, money.CNY),
			FeesOutstanding: money.New(0, money.CNY), TotalClaim: money.New(claim, money.CNY), DefaultDate: date.Of(2025, 2, 28),
			DaysPastDue: 300 + i%200, Age: -1, ForbearanceCount: -1}
		p := reclaim.PersonalData{Name: "王" + b, NationalID: fmt.Sprintf("11010519491231%04d", i), Phone: fmt.Sprintf("1390139%04d", i)}
		sealed, _ := kr.SealPersonal(p, []byte("x"))
		var terms []workout.BlindTerm
		for _, t := range bk.Terms(p) {
			terms = append(terms, workout.BlindTerm{Kind: t.Kind, Hash: t.Hash})
		}
		rows = append(rows, sqldb.LoanRow{Loan: l, Sealed: sealed, KeyID: kr.KeyID(), Blind: terms, Masked: reclaim.Masked{Name: "王*"}})
	}
	if err := imp.AddLoans(ctx, rows); err != nil {
		t.Fatal(err)
	}
	p, err := imp.Commit(ctx, sqldb.ImportSummary{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, cst)
	svc := service.New(db, service.Options{Policy: func(pack workout.Pack, st workout.DebtorState, h []workout.Contact, c workout.Contact) workout.Decision {
		return workout.Decide(pack, st, h, c)
	}, NumberKey: service.HexKey(bk.PhoneHash), Now: func() time.Time { return now }})
	if _, err := svc.Board(ctx, workout.BoardSpec{PortfolioID: p.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(75000000, money.CNY), Actor: "mgr"}); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		if ids[i], err = db.CaseForLoan(ctx, p.ID, fmt.Sprintf("L%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AssignArms(ctx, "cc-1", 7, 0.5, date.Of(2026, 3, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, reclaim.User{Username: "alice", Role: reclaim.RoleCollector, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:n/2] { // alice calls half of them
		if err := db.AssignCase(ctx, id, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(13, 13))
	chans := []string{"call", "sms", "letter"}
	payP := map[string]float64{"call": 0.6, "sms": 0.1, "letter": 0.05}
	var ats []workout.Attempt
	var st strings.Builder
	st.WriteString("txn_id,date,amount,payer_name,reference,reverses\n")
	npay := 0
	for i, id := range ids {
		for j := 0; j < 3; j++ {
			day := date.Of(2026, 3, 5).AddDays(25*j + rng.IntN(5))
			ch := chans[rng.IntN(3)]
			at := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, cst)
			ats = append(ats, workout.Attempt{CaseID: id, ContactID: fmt.Sprintf("C%d-%d", i, j), DebtID: "L", Channel: ch, Party: "debtor",
				At: at.UTC(), LocalAt: at.Format(time.RFC3339), Outcome: "answered", Agent: "agent-1", Agency: "huadong", Source: workout.SourceAgency,
				Pack: "cn", Allowed: true, Reasons: []workout.ContactReason{}})
			if rng.Float64() < payP[ch] {
				npay++
				fmt.Fprintf(&st, "CM%06d,%s,%s,,还款 %s,\n", npay, day.AddDays(3), "500.00", workout.CaseRef(id))
			}
		}
	}
	if _, err := db.RecordAgencyAttempts(ctx, ats); err != nil {
		t.Fatal(err)
	}
	s, err := workout.ParseStatement(strings.NewReader(st.String()), workout.DefaultStatementMapping())
	if err != nil {
		t.Fatal(err)
	}
	if imp, err := db.ImportStatement(ctx, "cm.csv", s, sqldb.PaymentOptions{Actor: "t"}); err != nil || imp.Matched != npay {
		t.Fatalf("payments: %+v %v (want %d matched)", imp, err, npay)
	}
	return svc, ids
}

// TestTrainContactModel: training on a log with a known channel effect gives a model whose
// held-out AUC is well above 0.5, stored and shown on the card; the planner then values the
// challenger arm (only) with it. Too small a log, an unknown channel in the log and a collector
// are refused and store nothing.
func TestTrainContactModel(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ids := contactLogFixture(t, db, 240)
		strat, err := workout.ParseStrategy([]byte(queueStrategy), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		day := date.Of(2026, 9, 2)
		// No model yet: both arms by rules, and the plan says so.
		plan0, err := svc.PlanDay(ctx, manager, day, strat)
		if err != nil || plan0.ChallengerValuation != workout.ValuationRules {
			t.Fatalf("plan without a model: %v %+v", err, plan0)
		}
		card, err := svc.ContactModel(ctx, manager)
		if err != nil || card.Model || card.Valuation != workout.ValuationRules {
			t.Fatalf("card without a model: %+v %v", card, err)
		}

		// Refusals store nothing.
		if _, err := svc.TrainContactModel(ctx, alice, workout.ContactTrainRequest{Horizon: 10}); code(err) != reclaim.EFORBIDDEN {
			t.Fatalf("a collector trained: %v", err)
		}
		_, err = svc.TrainContactModel(ctx, manager, workout.ContactTrainRequest{Horizon: 10, MinRows: 5000})
		if code(err) != reclaim.EINVALID || !strings.Contains(err.Error(), "has 720 usable contacts") || !strings.Contains(err.Error(), "at least 5000") {
			t.Fatalf("too small a log: %v", err)
		}
		if _, err := svc.TrainContactModel(ctx, manager, workout.ContactTrainRequest{Horizon: -3}); code(err) != reclaim.EINVALID {
			t.Fatalf("negative horizon: %v", err)
		}
		if n, _ := db.CountContactModels(ctx); n != 0 {
			t.Fatalf("%d models stored after refusals", n)
		}

		rec, err := svc.TrainContactModel(ctx, manager, workout.ContactTrainRequest{Horizon: 10, Name: "cm-test"})
		if err != nil {
			t.Fatal(err)
		}
		s := rec.Summary
		t.Logf("summary: %+v", s)
		if s.Rows != 720 || s.HorizonDays != 10 || s.AUC < 0.7 || s.Positives == 0 || s.PosByChannel["call"] <= s.PosByChannel["sms"] ||
			!(s.PayShare > 0 && s.PayShare < 1) || s.TrainRows+s.HoldoutRows != s.Rows || s.HoldoutRows == 0 {
			t.Fatalf("summary %+v", s)
		}
		if _, err := svc.TrainContactModel(ctx, manager, workout.ContactTrainRequest{Horizon: 10, Name: "cm-test"}); code(err) != reclaim.ECONFLICT {
			t.Fatalf("duplicate name: %v", err)
		}
		card, err = svc.ContactModel(ctx, manager)
		if err != nil || !card.Model || card.Valuation != "model:cm-test" || card.Info.Summary.Rows != 720 {
			t.Fatalf("card %+v %v", card, err)
		}

		// The planner: the challenger's values come from the model (a call's value is
		// P(pay | call) x balance x pay share: hundreds of yuan here, where the rules value a
		// call at its cost plus about claim/1000); the champion's stay the rules'.
		plan, err := svc.PlanDay(ctx, manager, day, strat)
		if err != nil {
			t.Fatal(err)
		}
		if plan.ChallengerValuation != "model:cm-test" || plan.PerArm[workout.ArmChallenger] == 0 || plan.PerArm[workout.ArmChampion] == 0 {
			t.Fatalf("plan %+v", plan)
		}
		rules := map[string]float64{}
		for _, it := range plan0.Items {
			rules[fmt.Sprint(it.CaseID, it.Channel)] = it.Value
		}
		states, err := db.ContactStates(ctx, ids, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		var firstChall *workout.PlanItem
		for i, it := range plan.Items {
			bal := states[it.CaseID].Case.Balance.Float()
			switch it.Arm {
			case workout.ArmChampion:
				if it.Value > 3+bal/1000+0.5 {
					t.Fatalf("champion item valued beyond the rules: %+v", it)
				}
			case workout.ArmChallenger:
				if firstChall == nil {
					firstChall = &plan.Items[i]
				}
				if it.Value <= 3+bal/1000+0.5 || it.Value >= bal*s.PayShare {
					t.Fatalf("challenger item not valued by the model (balance %v, pay share %v): %+v", bal, s.PayShare, it)
				}
				if v, ok := rules[fmt.Sprint(it.CaseID, it.Channel)]; ok && math.Abs(v-it.Value) < 1e-9 {
					t.Fatalf("challenger value equals the rules': %+v", it)
				}
			}
		}
		// The model learnt that calls pay: the challenger's most valuable contact is a call.
		if firstChall == nil || firstChall.Channel != "call" {
			t.Fatalf("first challenger item %+v", firstChall)
		}

		// An unknown channel in the log: a clear error, nothing stored.
		if _, err := db.RecordAgencyAttempts(ctx, []workout.Attempt{{CaseID: ids[0], ContactID: "X1", DebtID: "L", Channel: "pigeon", Party: "debtor",
			At: time.Date(2026, 4, 1, 2, 0, 0, 0, time.UTC), LocalAt: "2026-04-01T10:00:00+08:00", Outcome: "answered", Agent: "a", Agency: "huadong",
			Source: workout.SourceAgency, Pack: "cn", Allowed: true, Reasons: []workout.ContactReason{}}}); err != nil {
			t.Fatal(err)
		}
		_, err = svc.TrainContactModel(ctx, manager, workout.ContactTrainRequest{Horizon: 10})
		if code(err) != reclaim.EINVALID || !strings.Contains(err.Error(), `unknown channel "pigeon"`) {
			t.Fatalf("unknown channel: %v", err)
		}
		if n, _ := db.CountContactModels(ctx); n != 1 {
			t.Fatalf("%d models stored", n)
		}
	})
}

// TestAttemptDaysMatchesSummary: the dashboard's set-based denial summary (sqldb.AttemptDays)
// gives the per-day attempts, denials and rules that SummarizeAttempts gives over every attempt:
// contacts allowed and refused (22:30 is outside the CN-1 hours), agency reports, and pre-dial
// checks (left out of both).
func TestAttemptDaysMatchesSummary(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ids := queueFixture(t, db)
		for i, id := range ids[:10] {
			h := 10 + i
			if i%3 == 0 {
				h = 22
			}
			at := time.Date(2026, 3, 3+i%4, h, 30, 0, 0, cst)
			if _, err := svc.Contact(ctx, manager, id, workout.ActionInput{Kind: "call", Outcome: "answered", Party: "debtor", At: at, Number: "13900139000"},
				workout.SourceConsole, i == 4); err != nil {
				t.Fatal(err)
			}
		}
		from, to := date.Of(2026, 3, 1), date.Of(2026, 3, 31)
		lo, hi := from.Time().Add(-14*time.Hour), to.AddDays(1).Time().Add(14*time.Hour)
		ats, err := db.Attempts(ctx, sqldb.AttemptFilter{From: lo, To: hi})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]workout.AttemptSummary{}
		for _, r := range service.SummarizeAttempts(ats, from, to) {
			w := want[r.Day]
			w.Day, w.Attempts, w.Denied = r.Day, w.Attempts+r.Attempts, w.Denied+r.Denied
			if w.ByRule == nil {
				w.ByRule = map[string]int{}
			}
			for k, n := range r.ByRule {
				w.ByRule[k] += n
			}
			want[r.Day] = w
		}
		got, err := db.AttemptDays(ctx, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		denied := 0
		for _, g := range got {
			w := want[g.Day]
			if g.Attempts != w.Attempts || g.Denied != w.Denied || fmt.Sprint(g.ByRule) != fmt.Sprint(w.ByRule) {
				t.Fatalf("day %s: got %+v, want %+v", g.Day, g, w)
			}
			denied += g.Denied
			delete(want, g.Day)
		}
		if len(want) != 0 || denied == 0 {
			t.Fatalf("days missing %v, %d denied", want, denied)
		}
	})
}
