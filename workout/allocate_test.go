package workout

import (
	"testing"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

func cny(m int64) money.Amount { return money.New(m, "CNY") }

func bal(loan string, d date.Date, f, i, p int64) LoanBalance {
	return LoanBalance{Loan: loan, DefaultDate: d, Fees: cny(f), Interest: cny(i), Principal: cny(p)}
}

func TestAllocateTable(t *testing.T) {
	d1, d2 := date.Of(2020, 1, 5), date.Of(2021, 6, 1)
	loans := []LoanBalance{bal("B", d2, 100, 200, 1000), bal("A", d1, 50, 0, 500)}
	cases := []struct {
		name   string
		amount int64
		prefer []string
		p      AllocationPolicy
		want   []LoanMovement
		credit int64
	}{
		{"oldest first, fees interest principal", 700, nil, DefaultAllocationPolicy(),
			[]LoanMovement{{"A", cny(50), cny(0), cny(500)}, {"B", cny(100), cny(50), cny(0)}}, 0},
		// Loan by loan: A is paid in full (its principal first), then B's principal.
		{"principal first", 700, nil, AllocationPolicy{Order: []Component{CompPrincipal, CompInterest, CompFees}, Across: OldestDefaultFirst},
			[]LoanMovement{{"A", cny(50), cny(0), cny(500)}, {"B", cny(0), cny(0), cny(150)}}, 0},
		{"principal first, short", 300, nil, AllocationPolicy{Order: []Component{CompPrincipal, CompInterest, CompFees}, Across: OldestDefaultFirst},
			[]LoanMovement{{"A", cny(0), cny(0), cny(300)}}, 0},
		{"reference names B first", 400, []string{"B"}, DefaultAllocationPolicy(),
			[]LoanMovement{{"B", cny(100), cny(200), cny(100)}}, 0},
		{"overpayment is a credit", 2000, nil, DefaultAllocationPolicy(),
			[]LoanMovement{{"A", cny(50), cny(0), cny(550 - 50)}, {"B", cny(100), cny(200), cny(1000)}}, 150},
		{"pro rata", 370, nil, AllocationPolicy{Order: []Component{CompFees, CompInterest, CompPrincipal}, Across: ProRata},
			// weights 1300 and 550 of 1850: 259.89.. -> 260 and 110.
			[]LoanMovement{{"B", cny(100), cny(160), cny(0)}, {"A", cny(50), cny(0), cny(60)}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Allocate(cny(c.amount), loans, c.prefer, c.p)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Movements) != len(c.want) {
				t.Fatalf("movements %+v, want %+v", a.Movements, c.want)
			}
			for i := range c.want {
				if a.Movements[i] != c.want[i] {
					t.Errorf("movement %d = %+v, want %+v", i, a.Movements[i], c.want[i])
				}
			}
			if a.Credit != cny(c.credit) {
				t.Errorf("credit %v, want %d", a.Credit, c.credit)
			}
		})
	}
}

func TestAllocateRejects(t *testing.T) {
	loans := []LoanBalance{bal("A", date.Of(2020, 1, 1), 1, 1, 1)}
	for name, f := range map[string]func() error{
		"zero":     func() error { _, err := Allocate(cny(0), loans, nil, DefaultAllocationPolicy()); return err },
		"negative": func() error { _, err := Allocate(cny(-5), loans, nil, DefaultAllocationPolicy()); return err },
		"bad order": func() error {
			_, err := Allocate(cny(5), loans, nil, AllocationPolicy{Order: []Component{CompFees}})
			return err
		},
		"dup loan": func() error {
			_, err := Allocate(cny(5), append(loans, loans...), nil, DefaultAllocationPolicy())
			return err
		},
		"currency": func() error {
			_, err := Allocate(money.New(5, "USD"), loans, nil, DefaultAllocationPolicy())
			return err
		},
		"bad across":  func() error { _, err := ParseAllocationPolicy("", "newest"); return err },
		"order twice": func() error { _, err := ParseAllocationPolicy("fees,fees,principal", ""); return err },
	} {
		if err := f(); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func genLoans(t *rapid.T) []LoanBalance {
	n := rapid.IntRange(0, 6).Draw(t, "n")
	out := make([]LoanBalance, n)
	for i := range out {
		out[i] = bal(string(rune('A'+i)), date.Of(2015+rapid.IntRange(0, 8).Draw(t, "y"), 1, 1),
			rapid.Int64Range(0, 1e6).Draw(t, "f"), rapid.Int64Range(0, 1e7).Draw(t, "i"), rapid.Int64Range(0, 1e9).Draw(t, "p"))
	}
	return out
}

func genPolicy(t *rapid.T) AllocationPolicy {
	perm := rapid.Permutation([]Component{CompFees, CompInterest, CompPrincipal}).Draw(t, "order")
	return AllocationPolicy{Order: perm, Across: rapid.SampledFrom([]AcrossLoans{OldestDefaultFirst, ProRata}).Draw(t, "across")}
}

// Parts sum to the payment, no balance goes below zero, and the reversal restores every balance.
func TestAllocateProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		loans := genLoans(t)
		p := genPolicy(t)
		amount := rapid.Int64Range(1, 2e9).Draw(t, "amount")
		var prefer []string
		if len(loans) > 0 && rapid.Bool().Draw(t, "prefer") {
			prefer = []string{loans[rapid.IntRange(0, len(loans)-1).Draw(t, "pi")].Loan}
		}
		a, err := Allocate(cny(amount), loans, prefer, p)
		if err != nil {
			t.Fatal(err)
		}
		sum := a.Credit.Minor()
		if sum < 0 {
			t.Fatalf("negative credit %v", a.Credit)
		}
		var total int64
		for _, l := range loans {
			total += l.Total()
		}
		for _, m := range a.Movements {
			if m.Fees.Sign() < 0 || m.Interest.Sign() < 0 || m.Principal.Sign() < 0 || m.Total() == 0 {
				t.Fatalf("bad movement %+v", m)
			}
			sum += m.Total()
		}
		if sum != amount {
			t.Fatalf("parts sum to %d, payment %d", sum, amount)
		}
		if want := max(0, amount-total); a.Credit.Minor() != want {
			t.Fatalf("credit %d, want %d (balance %d)", a.Credit.Minor(), want, total)
		}
		after, err := ApplyMovements(loans, a.Movements)
		if err != nil {
			t.Fatalf("allocation went above a balance: %v", err)
		}
		back, err := ApplyMovements(after, a.Reversal())
		if err != nil {
			t.Fatal(err)
		}
		for i := range loans {
			if back[i].Fees.Minor() != loans[i].Fees.Minor() || back[i].Interest.Minor() != loans[i].Interest.Minor() || back[i].Principal.Minor() != loans[i].Principal.Minor() {
				t.Fatalf("reversal left %+v, was %+v", back[i], loans[i])
			}
		}
	})
}
