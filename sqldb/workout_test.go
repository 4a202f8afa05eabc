package sqldb_test

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
)

func testBlindKey(t testing.TB) *pii.BlindKey {
	k, err := pii.NewBlindKey(bytes.Repeat([]byte{7}, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func blindTerms(k *pii.BlindKey, p reclaim.PersonalData) []workout.BlindTerm {
	var out []workout.BlindTerm
	for _, t := range k.Terms(p) {
		out = append(out, workout.BlindTerm{Kind: t.Kind, Hash: t.Hash})
	}
	return out
}

// workoutLoan is a loan of borrower b with a claim of claim fen.
func workoutLoan(ref, loan, b string, claim int64) reclaim.Loan {
	return reclaim.Loan{PortfolioRef: ref, CutOffDate: cutOff, LoanID: loan, BorrowerID: b, Currency: money.CNY,
		PrincipalOutstanding: cny(claim - 100), InterestOutstanding: cny(60), FeesOutstanding: cny(40), TotalClaim: cny(claim),
		DefaultDate: date.Of(2024, time.February, 29), Age: -1, ForbearanceCount: -1}
}

// importPeople imports a portfolio whose borrowers have the given personal data (by borrower
// ref), writing the blind index as the import path does.
func importPeople(t *testing.T, db *sqldb.DB, hash, ref string, loans []reclaim.Loan, people map[string]reclaim.PersonalData) reclaim.Portfolio {
	t.Helper()
	ctx := context.Background()
	kr, bk := testKeyring(t), testBlindKey(t)
	m := meta(hash)
	m.Ref = ref
	imp, err := db.BeginImport(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	rows := make([]sqldb.LoanRow, len(loans))
	var claim int64
	bs := map[string]bool{}
	for i, l := range loans {
		rows[i].Loan = l
		claim += l.TotalClaim.Minor()
		bs[l.BorrowerID] = true
		if p, ok := people[l.BorrowerID]; ok {
			sealed, err := kr.SealPersonal(p, aad(hash, l.BorrowerID))
			if err != nil {
				t.Fatal(err)
			}
			rows[i].Sealed, rows[i].KeyID, rows[i].Blind = sealed, kr.KeyID(), blindTerms(bk, p)
			rows[i].Masked = reclaim.Masked{Name: "张*"}
		}
	}
	if err := imp.AddLoans(ctx, rows); err != nil {
		t.Fatal(err)
	}
	p, err := imp.Commit(ctx, sqldb.ImportSummary{LoanCount: int64(len(loans)), BorrowerCount: int64(len(bs)), TotalClaim: cny(claim)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBoardPortfolio(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		zhang := reclaim.PersonalData{Name: "张三", NationalID: "11010519491231002x", Phone: "138 0013 8000"}
		li := reclaim.PersonalData{Name: "李四", NationalID: "110105194912310021", Phone: "13800138000"} // same phone, another person
		wang := reclaim.PersonalData{Name: "王五", Phone: "+86 139 0000 0000"}                           // phone only
		p1 := importPeople(t, db, "h1", "PKG-1", []reclaim.Loan{
			workoutLoan("PKG-1", "A1", "Z", 100000), workoutLoan("PKG-1", "A2", "Z", 200001), workoutLoan("PKG-1", "A3", "L", 300000),
			workoutLoan("PKG-1", "A4", "W", 1), workoutLoan("PKG-1", "A5", "N", 5),
		}, map[string]reclaim.PersonalData{"Z": zhang, "L": li, "W": wang})
		// The same people under other borrower refs, with the ID written differently.
		zhang2 := zhang
		zhang2.NationalID = "１１０１０５１９４９１２３１００２Ｘ"
		p2 := importPeople(t, db, "h2", "PKG-2", []reclaim.Loan{
			workoutLoan("PKG-2", "B1", "ZZ", 7000), workoutLoan("PKG-2", "B2", "WW", 9000), workoutLoan("PKG-2", "B3", "NEW", 1000),
		}, map[string]reclaim.PersonalData{"ZZ": zhang2, "WW": {Phone: "13900000000"}, "NEW": {NationalID: "110105194912310048"}})

		price := money.New(1234567, money.CNY)
		res, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p1.ID, AwardDate: date.Of(2026, 3, 2), Price: price, Bid: price, Actor: "tester"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Accounts != 5 || res.NewCases != 4 || res.Cases != 4 || res.Notices != 4 {
			t.Fatalf("first boarding: %+v", res)
		}
		if _, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p1.ID, AwardDate: date.Of(2026, 3, 2), Price: price}); reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			t.Fatalf("second boarding of the same portfolio: %v", err)
		}
		if _, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: 999, AwardDate: date.Of(2026, 3, 2), Price: price}); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("unknown portfolio: %v", err)
		}
		if _, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p2.ID, AwardDate: date.Of(2026, 3, 2), Price: money.New(1, "USD")}); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Fatalf("price in another currency: %v", err)
		}
		zCase, err := db.CaseForLoan(ctx, p1.ID, "A1")
		if err != nil {
			t.Fatal(err)
		}
		lCase, _ := db.CaseForLoan(ctx, p1.ID, "A3")
		wCase, _ := db.CaseForLoan(ctx, p1.ID, "A4")
		if lCase == zCase {
			t.Fatal("two people sharing a phone were put in one case")
		}
		res2, err := db.BoardPortfolio(ctx, sqldb.BoardSpec{PortfolioID: p2.ID, AwardDate: date.Of(2026, 4, 1), Price: money.New(100, money.CNY)})
		if err != nil {
			t.Fatal(err)
		}
		if res2.Accounts != 3 || res2.NewCases != 1 || res2.Cases != 3 {
			t.Fatalf("second portfolio: %+v", res2)
		}
		if c, _ := db.CaseForLoan(ctx, p2.ID, "B1"); c != zCase {
			t.Fatalf("same national ID across portfolios: case %d, want %d", c, zCase)
		}
		if c, _ := db.CaseForLoan(ctx, p2.ID, "B2"); c != wCase {
			t.Fatalf("same phone, no ID: case %d, want %d", c, wCase)
		}
		c, err := db.GetCase(ctx, zCase)
		if err != nil {
			t.Fatal(err)
		}
		if c.Loans != 3 || c.Balance != cny(100000+200001+7000) || c.MaskedName != "张*" || c.Status != sqldb.CaseOpen {
			t.Fatalf("case %+v", c)
		}
		// Default 29 Feb 2024 + 3 years = 28 Feb 2027.
		if c.LimitationExpiry != date.Of(2027, 2, 28) {
			t.Fatalf("limitation expiry %v", c.LimitationExpiry)
		}
		accs, err := db.CaseAccounts(ctx, zCase)
		if err != nil || len(accs) != 3 {
			t.Fatalf("accounts %v %v", accs, err)
		}
		// Cost basis of portfolio 1 sums to the price and follows the claims.
		var sum int64
		for _, ref := range []string{"A1", "A2", "A3", "A4", "A5"} {
			id, _ := db.CaseForLoan(ctx, p1.ID, ref)
			as, _ := db.CaseAccounts(ctx, id)
			for _, a := range as {
				if a.LoanRef == ref {
					sum += a.CostBasis.Minor()
				}
			}
		}
		if sum != price.Minor() {
			t.Fatalf("cost basis sums to %d, want %d", sum, price.Minor())
		}
		ms, err := db.Movements(ctx, zCase)
		if err != nil || len(ms) != 3 || ms[0].Type != sqldb.MoveBoarded || ms[0].Amount != cny(100000) {
			t.Fatalf("movements %+v %v", ms, err)
		}
		a, err := db.GetAcquisition(ctx, p1.ID)
		if err != nil || a.Price != price || a.Seller != "某银行信用卡中心" || a.AwardDate != date.Of(2026, 3, 2) {
			t.Fatalf("acquisition %+v %v", a, err)
		}
		// The notice of the first acquisition moves only its own loans' expiry.
		ns, err := db.Notices(ctx, zCase)
		if err != nil || len(ns) != 2 {
			t.Fatalf("notices %+v %v", ns, err)
		}
		if _, err := db.DeliverNotice(ctx, zCase, ns[0].ID, date.Of(2026, 3, 9), "ems", "EMS1", "tester"); err != nil {
			t.Fatal(err)
		}
		accs, _ = db.CaseAccounts(ctx, zCase)
		for _, a := range accs {
			want := date.Of(2029, 3, 9)
			if a.PortfolioID == p2.ID {
				want = date.Of(2027, 2, 28)
			}
			if a.LimitationExpiry != want {
				t.Errorf("loan %s expiry %v, want %v", a.LoanRef, a.LimitationExpiry, want)
			}
		}
		if c, _ := db.GetCase(ctx, zCase); c.LimitationExpiry != date.Of(2027, 2, 28) {
			t.Fatalf("case expiry %v", c.LimitationExpiry)
		}
		if err := db.AssignCase(ctx, zCase, "alice"); err != nil {
			t.Fatal(err)
		}
		mine, err := db.ListCases(ctx, sqldb.CaseFilter{Assignee: "alice"})
		if err != nil || len(mine) != 1 || mine[0].ID != zCase {
			t.Fatalf("alice's cases %+v %v", mine, err)
		}
		all, err := db.ListCases(ctx, sqldb.CaseFilter{})
		if err != nil || len(all) != 5 {
			t.Fatalf("all cases: %d %v", len(all), err)
		}
		if err := db.AssignCase(ctx, 9999, "bob"); reclaim.ErrorCode(err) != reclaim.ENOTFOUND {
			t.Fatalf("assign unknown case: %v", err)
		}
		_ = fmt.Sprint
	})
}
