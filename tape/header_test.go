package tape

import (
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

func loanFor(id, borrower string, principal, interest int64, dpd, age int, region string) reclaim.Loan {
	cut := date.Of(2025, 6, 30)
	l, _ := fixture()
	l.LoanID, l.BorrowerID = id, borrower
	l.PrincipalOutstanding, l.InterestOutstanding, l.FeesOutstanding = money.New(principal, money.CNY), money.New(interest, money.CNY), money.Zero(money.CNY)
	l.TotalClaim = money.New(principal+interest, money.CNY)
	l.DefaultDate, l.DaysPastDue = cut.AddDays(-dpd), dpd
	l.Age, l.RegionCode = age, region
	return l
}

func TestPoolHeaderByHand(t *testing.T) {
	b := NewHeaderBuilder()
	loans := []reclaim.Loan{
		loanFor("1", "A", 100_00, 0, 100, 30, "310115"),      // weight 100
		loanFor("2", "A", 200_00, 100_00, 400, 40, "310101"), // weight 300
		loanFor("3", "B", 50_00, 50_00, 2000, -1, "440305"),  // weight 100, age unknown
	}
	loans[2].OriginalAmount = money.Amount{}
	for i := range loans {
		b.Add(&loans[i])
	}
	h, err := b.Header()
	if err != nil {
		t.Fatal(err)
	}
	if h.Loans != 3 || h.Borrowers != 2 {
		t.Errorf("loans %d borrowers %d", h.Loans, h.Borrowers)
	}
	if h.Claim != money.New(500_00, money.CNY) || h.Principal != money.New(350_00, money.CNY) {
		t.Errorf("claim %v principal %v", h.Claim, h.Principal)
	}
	// (100*100 + 300*400 + 100*2000) / 500 = 660
	if h.WADaysPastDue != 660 {
		t.Errorf("WA DPD = %v, want 660", h.WADaysPastDue)
	}
	// (100*30 + 300*40) / 400 = 37.5 over 80% of the weight
	if h.WABorrowerAge != 37.5 || h.AgeCoverage != 0.8 {
		t.Errorf("WA age %v coverage %v", h.WABorrowerAge, h.AgeCoverage)
	}
	if h.LargestBorrowerClaim != money.New(400_00, money.CNY) || h.AverageBorrowerClaim != money.New(250_00, money.CNY) {
		t.Errorf("largest %v average %v", h.LargestBorrowerClaim, h.AverageBorrowerClaim)
	}
	if len(h.ByProvince) != 2 || h.ByProvince[0].Key != "310000" || h.ByProvince[0].Loans != 2 || h.ByProvince[0].LabelZH != "上海市" {
		t.Errorf("by province %+v", h.ByProvince)
	}
	buckets := map[string]int64{}
	for _, s := range h.ByDPDBucket {
		buckets[s.Key] = s.Loans
	}
	if buckets["lt180"] != 1 || buckets["1_2y"] != 1 || buckets["gt5y"] != 1 {
		t.Errorf("dpd buckets %v", buckets)
	}
}

func TestDPDBucketEdges(t *testing.T) {
	for dpd, want := range map[int]string{0: "lt180", 179: "lt180", 180: "180_360", 364: "180_360", 365: "1_2y", 729: "1_2y",
		730: "2_3y", 1094: "2_3y", 1095: "3_5y", 1825: "3_5y", 1826: "gt5y", 9000: "gt5y"} {
		if got := DPDBucket(dpd); got != want {
			t.Errorf("DPDBucket(%d) = %s, want %s", dpd, got, want)
		}
	}
}

// TestPoolHeaderStrataCoverEveryLoan: every stratification table partitions the pool.
func TestPoolHeaderStrataCoverEveryLoan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := NewHeaderBuilder()
		n := rapid.IntRange(1, 60).Draw(t, "n")
		for i := 0; i < n; i++ {
			l := loanFor(rapid.StringMatching(`L[0-9]{3}`).Draw(t, "id"), rapid.StringMatching(`B[0-9]`).Draw(t, "b"),
				rapid.Int64Range(0, 1e9).Draw(t, "p"), rapid.Int64Range(0, 1e8).Draw(t, "i"),
				rapid.IntRange(0, 4000).Draw(t, "dpd"), rapid.IntRange(-1, 80).Draw(t, "age"),
				rapid.SampledFrom([]string{"310115", "110101", "440305", "510104", "US-CA"}).Draw(t, "region"))
			l.ProductType = rapid.SampledFrom(reclaim.ProductTypes).Draw(t, "product")
			l.LegalStatus = rapid.SampledFrom(reclaim.LegalStatuses).Draw(t, "legal")
			l.WrittenOff = rapid.Bool().Draw(t, "wo")
			b.Add(&l)
		}
		h, err := b.Header()
		if err != nil {
			t.Fatal(err)
		}
		for name, table := range map[string][]Stratum{"grade": h.ByFiveCategory, "wo": h.ByWrittenOff, "security": h.BySecurity,
			"legal": h.ByLegalStatus, "product": h.ByProduct, "province": h.ByProvince, "dpd": h.ByDPDBucket} {
			var loans, claim int64
			var share float64
			for _, s := range table {
				loans += s.Loans
				claim += s.Claim.Minor()
				share += s.LoanShare
			}
			if loans != h.Loans || claim != h.Claim.Minor() {
				t.Fatalf("%s: %d loans %d claim, pool %d %d", name, loans, claim, h.Loans, h.Claim.Minor())
			}
			if math.Abs(share-1) > 0.001*float64(len(table)) {
				t.Fatalf("%s: loan shares sum to %v", name, share)
			}
		}
		if h.WADaysPastDue < 0 || h.WADaysPastDue > 4000 {
			t.Fatalf("WA DPD %v out of range", h.WADaysPastDue)
		}
	})
}

func TestMaskerKAnonymity(t *testing.T) {
	m := NewMasker(MaskOptions{Salt: []byte("salt"), DownloadID: "d1", K: 5, Suppress: true})
	var loans []reclaim.Loan
	// 10 loans sharing one class, and 2 loans each alone in its class.
	for i := 0; i < 10; i++ {
		loans = append(loans, loanFor("L"+string(rune('a'+i)), "B", 1_000_00, 0, 100, 40, "310115"))
	}
	odd := loanFor("X1", "C", 900_000_00, 0, 100, 71, "650102")
	odd2 := loanFor("X2", "D", 900_000_00, 0, 100, 22, "540102")
	loans = append(loans, odd, odd2)
	for i := range loans {
		m.Observe(&loans[i])
	}
	ka := m.Check()
	if ka.Rows != 12 || ka.Satisfied || ka.SmallClasses != 2 || ka.RowsInSmall != 2 || ka.MinClassSize != 1 {
		t.Errorf("check %+v", ka)
	}
	if !ka.SatisfiedWritten || ka.Suppressed != 2 {
		t.Errorf("suppression %+v", ka)
	}
	written := 0
	for i := range loans {
		if row := m.Row(&loans[i]); row != nil {
			written++
			if len(row) != len(MaskedColumns) {
				t.Fatalf("row has %d cells, want %d", len(row), len(MaskedColumns))
			}
			for _, c := range row {
				if c == loans[i].LoanID || c == loans[i].BorrowerID {
					t.Errorf("raw id leaked: %v", row)
				}
			}
		}
	}
	if written != 10 {
		t.Errorf("written %d rows, want 10", written)
	}
	if MaskID([]byte("a"), "loan", "L1") == MaskID([]byte("b"), "loan", "L1") {
		t.Error("masked ids do not depend on the salt")
	}
	if MaskID([]byte("a"), "loan", "L1") != MaskID([]byte("a"), "loan", "L1") {
		t.Error("masked ids are not stable")
	}
}

// TestMaskerGeneralises: a pool too thin for the finest quasi-identifier is generalised until
// classes reach k.
func TestMaskerGeneralises(t *testing.T) {
	m := NewMasker(MaskOptions{Salt: []byte("s"), K: 5})
	var loans []reclaim.Loan
	for i := 0; i < 40; i++ {
		l := loanFor("L"+string(rune('A'+i)), "B", 1_000_00, 0, 100, 40+i%4, "3101"+[]string{"01", "04", "05", "06"}[i%4])
		l.OriginationDate = date.Of(2020, 1, 1).AddMonths(i % 12)
		loans = append(loans, l)
	}
	for i := range loans {
		m.Observe(&loans[i])
	}
	ka := m.Check()
	if ka.Level == 0 || !ka.Satisfied || ka.FinestShareInSmall == 0 {
		t.Errorf("expected generalisation to satisfy k: %+v", ka)
	}
	row := m.Row(&loans[0])
	// Ten loans a quarter (and one prefecture, one age band) reach k=5 at the quarter level.
	if ka.Level != 1 || row[4] != "2020-Q1" {
		t.Errorf("level %d, origination period %q; want level 1 and 2020-Q1", ka.Level, row[4])
	}
}

// TestMaskerKAnonymityEdge: design/tape.md asks for k-anonymity >= 5, so a class of exactly K
// rows is safe and one of K-1 is not.
func TestMaskerKAnonymityEdge(t *testing.T) {
	for _, n := range []int{4, 5, 6} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := NewMasker(MaskOptions{Salt: []byte("s"), K: 5})
			var loans []reclaim.Loan
			for i := 0; i < n; i++ { // one class of n rows in Shanghai
				loans = append(loans, loanFor(fmt.Sprint("S", i), "B", 1_000_00, 0, 100, 40, "310115"))
			}
			for i := 0; i < 5; i++ { // one class of 5 rows in Urumqi, never merged with it
				loans = append(loans, loanFor(fmt.Sprint("U", i), "C", 1_000_00, 0, 100, 40, "650102"))
			}
			for i := range loans {
				m.Observe(&loans[i])
			}
			ka := m.checkLevel(0)
			small := n < 5
			if ka.Classes != 2 || ka.Satisfied == small || (ka.SmallClasses == 1) != small {
				t.Errorf("class of %d rows: %+v", n, ka)
			}
			if want := min(n, 5); ka.MinClassSize != int64(want) {
				t.Errorf("smallest class %d, want %d", ka.MinClassSize, want)
			}
		})
	}
}
