package workout

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"reclaim/date"
	"reclaim/money"
)

func TestNewPlanSumsAndClips(t *testing.T) {
	p, err := NewPlan("C1", money.New(100_001, money.CNY), date.Of(2026, 1, 31), 4, money.Amount{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"}
	for k, in := range p.Instalments {
		if in.Due.String() != want[k] {
			t.Errorf("instalment %d due %s, want %s", k+1, in.Due, want[k])
		}
	}
	if p.Instalments[0].Amount.Minor() != 25_001 || p.Instalments[3].Amount.Minor() != 25_000 {
		t.Errorf("amounts %v", p.Instalments)
	}
	d, err := NewPlan("C1", money.New(10_000, money.CNY), date.Of(2024, 2, 29), 3, money.New(4_000, money.CNY))
	if err != nil || d.Instalments[0].Amount.Minor() != 4_000 || d.Instalments[1].Amount.Minor() != 3_000 || d.Instalments[2].Due.String() != "2024-04-29" {
		t.Errorf("down payment plan %+v %v", d, err)
	}
}

func TestNewPlanProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		total := rapid.Int64Range(1, 1_000_000_000).Draw(rt, "total")
		months := rapid.IntRange(1, MaxPlanMonths).Draw(rt, "months")
		if total < int64(months) {
			months = int(total)
		}
		first := date.FromDays(rapid.IntRange(19000, 30000).Draw(rt, "first"))
		p, err := NewPlan("C", money.New(total, money.CNY), first, months, money.Amount{})
		if err != nil {
			rt.Fatal(err)
		}
		var sum int64
		for k, in := range p.Instalments {
			sum += in.Amount.Minor()
			if in.Amount.Minor() <= 0 {
				rt.Fatalf("instalment %d not positive", k)
			}
			if in.Due != first.AddMonths(k) {
				rt.Fatalf("instalment %d due %s, want %s", k, in.Due, first.AddMonths(k))
			}
		}
		if sum != total || len(p.Instalments) != months {
			rt.Fatalf("sum %d of %d instalments, want %d of %d", sum, len(p.Instalments), total, months)
		}
	})
}

func TestValidatePlanErrors(t *testing.T) {
	cny := func(m int64) money.Amount { return money.New(m, money.CNY) }
	d := date.Of(2026, 7, 1)
	for _, tc := range []struct {
		name string
		p    Plan
		want string
	}{
		{"negative", Plan{Total: cny(100), Instalments: []Instalment{{1, d, cny(150)}, {2, d.AddMonths(1), cny(-50)}}}, "instalments[1].amount"},
		{"overlapping", Plan{Total: cny(100), Instalments: []Instalment{{1, d, cny(50)}, {2, d, cny(50)}}}, "instalments[1].due"},
		{"backwards", Plan{Total: cny(100), Instalments: []Instalment{{1, d, cny(50)}, {2, d.AddDays(-1), cny(50)}}}, "instalments[1].due"},
		{"short", Plan{Total: cny(100), Instalments: []Instalment{{1, d, cny(50)}}}, "must sum to the total"},
		{"seq", Plan{Total: cny(100), Instalments: []Instalment{{2, d, cny(100)}}}, "instalments[0].seq"},
		{"empty", Plan{Total: cny(100)}, "at least one instalment"},
		{"currency", Plan{Total: cny(100), Instalments: []Instalment{{1, d, money.New(100, money.USD)}}}, "currency"},
	} {
		if err := ValidatePlan(tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewPlan("C", money.New(100, money.CNY), d, 0, money.Amount{}); err == nil {
		t.Errorf("zero months accepted")
	}
	if _, err := NewPlan("C", money.New(-100, money.CNY), d, 3, money.Amount{}); err == nil {
		t.Errorf("negative total accepted")
	}
}

func TestCheckPromise(t *testing.T) {
	p := Promise{CaseID: "C", Made: date.Of(2026, 7, 1), Due: date.Of(2026, 7, 10), Amount: money.New(10_000, money.CNY), Grace: 3}
	part := []Receipt{{On: date.Of(2026, 7, 5), Amount: money.New(6_000, money.CNY)}}
	full := append(part, Receipt{On: date.Of(2026, 7, 13), Amount: money.New(4_000, money.CNY)})
	late := append(part, Receipt{On: date.Of(2026, 7, 14), Amount: money.New(4_000, money.CNY)})
	for _, tc := range []struct {
		r    []Receipt
		asOf date.Date
		want PromiseStatus
	}{
		{part, date.Of(2026, 7, 13), PromisePending}, // last day of grace
		{part, date.Of(2026, 7, 14), PromiseBroken},
		{full, date.Of(2026, 7, 14), PromiseKept}, // paid on the last day of grace
		{late, date.Of(2026, 7, 20), PromiseBroken},
		{nil, date.Of(2026, 7, 2), PromisePending},
	} {
		st, _, err := CheckPromise(p, tc.r, tc.asOf)
		if err != nil || st != tc.want {
			t.Errorf("as of %s: %s %v, want %s", tc.asOf, st, err, tc.want)
		}
	}
}

func TestCheckPlan(t *testing.T) {
	p, _ := NewPlan("C", money.New(30_000, money.CNY), date.Of(2026, 7, 15), 3, money.Amount{})
	r := []Receipt{{On: date.Of(2026, 7, 15), Amount: money.New(10_000, money.CNY)}}
	st, err := CheckPlan(p, r, date.Of(2026, 8, 25), 10)
	if err != nil || st.Broken || st.Missed != 0 {
		t.Fatalf("within grace: %+v %v", st, err)
	}
	st, _ = CheckPlan(p, r, date.Of(2026, 8, 26), 10)
	if !st.Broken || st.Missed != 2 || st.Shortfall.Minor() != 10_000 {
		t.Fatalf("after grace: %+v", st)
	}
	r = append(r, Receipt{On: date.Of(2026, 8, 20), Amount: money.New(20_000, money.CNY)})
	st, _ = CheckPlan(p, r, date.Of(2026, 10, 1), 10)
	if st.Broken || !st.Complete {
		t.Fatalf("paid ahead: %+v", st)
	}
}
