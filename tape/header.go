package tape

import (
	"math"
	"sort"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/region"
)

// PoolHeader is the 银登-style summary of a portfolio (design/tape.md, "Pool header"): totals,
// counts, weighted averages weighted by each loan's principal + interest, per-borrower claims and
// the stratification tables.
type PoolHeader struct {
	PortfolioRef string         `json:"portfolio_ref"`
	CutOffDate   date.Date      `json:"cut_off_date"`
	Currency     money.Currency `json:"currency"`

	Loans     int64 `json:"loans"`
	Borrowers int64 `json:"borrowers"`

	Principal money.Amount `json:"principal"`
	Interest  money.Amount `json:"interest"`
	Fees      money.Amount `json:"fees"`
	Claim     money.Amount `json:"claim"`

	// Weighted averages, weighted by principal + interest. Age and credit line cover the loans that
	// state them (AgeCoverage, CreditLineCoverage: their share of the weight).
	WADaysPastDue      float64      `json:"wa_days_past_due"`
	WABorrowerAge      float64      `json:"wa_borrower_age"`
	AgeCoverage        float64      `json:"age_coverage"`
	WACreditLine       money.Amount `json:"wa_credit_line"`
	CreditLineCoverage float64      `json:"credit_line_coverage"`

	LargestBorrowerClaim money.Amount `json:"largest_borrower_claim"`
	AverageBorrowerClaim money.Amount `json:"average_borrower_claim"`
	AverageLoanClaim     money.Amount `json:"average_loan_claim"`

	// Stratification tables, each covering every loan once.
	ByFiveCategory []Stratum `json:"by_five_category"`
	ByWrittenOff   []Stratum `json:"by_written_off"`
	BySecurity     []Stratum `json:"by_security_type"`
	ByLegalStatus  []Stratum `json:"by_legal_status"`
	ByProduct      []Stratum `json:"by_product"`
	ByProvince     []Stratum `json:"by_province"`
	ByDPDBucket    []Stratum `json:"by_dpd_bucket"`
}

// Stratum is one row of a stratification table.
type Stratum struct {
	Key        string       `json:"key"`   // canonical value or code
	Label      string       `json:"label"` // English label
	LabelZH    string       `json:"label_zh"`
	Loans      int64        `json:"loans"`
	Principal  money.Amount `json:"principal"`
	Claim      money.Amount `json:"claim"`
	ClaimShare float64      `json:"claim_share"` // of the pool's claim
	LoanShare  float64      `json:"loan_share"`
}

// DPDBuckets are the days-past-due bands of the pool header: [lower, upper) in days.
var DPDBuckets = []struct {
	Key, Label, LabelZH string
	Lo, Hi              int
}{
	{"lt180", "< 180 days", "180天以内", 0, 180},
	{"180_360", "180-360 days", "180-360天", 180, 365},
	{"1_2y", "1-2 years", "1-2年", 365, 730},
	{"2_3y", "2-3 years", "2-3年", 730, 1095},
	{"3_5y", "3-5 years", "3-5年", 1095, 1826},
	{"gt5y", "> 5 years", "5年以上", 1826, math.MaxInt},
}

// DPDBucket returns the key of the bucket that holds dpd days past due.
func DPDBucket(dpd int) string {
	for _, b := range DPDBuckets {
		if dpd >= b.Lo && dpd < b.Hi {
			return b.Key
		}
	}
	return DPDBuckets[0].Key
}

// HeaderBuilder accumulates a PoolHeader one loan at a time, in memory proportional to the number
// of borrowers (it keeps each borrower's claim).
type HeaderBuilder struct {
	h                         PoolHeader
	cur                       money.Currency
	principal, interest, fees int64
	claim                     int64
	w, wDPD                   float64
	wAge, wAgeSum             float64
	wLine, wLineSum           float64
	borrowers                 map[string]int64
	strata                    [7]map[string]*Stratum
	overflow                  bool
}

// NewHeaderBuilder returns an empty builder.
func NewHeaderBuilder() *HeaderBuilder {
	b := &HeaderBuilder{borrowers: make(map[string]int64, 1024)}
	for i := range b.strata {
		b.strata[i] = map[string]*Stratum{}
	}
	return b
}

func addChecked(a *int64, v int64, overflow *bool) {
	s := *a + v
	if (s > *a) != (v > 0) {
		*overflow = true
	}
	*a = s
}

// Add accounts for one valid loan.
func (b *HeaderBuilder) Add(l *reclaim.Loan) {
	if b.h.Loans == 0 {
		b.h.PortfolioRef, b.h.CutOffDate, b.cur = l.PortfolioRef, l.CutOffDate, l.Currency
	}
	b.h.Loans++
	addChecked(&b.principal, l.PrincipalOutstanding.Minor(), &b.overflow)
	addChecked(&b.interest, l.InterestOutstanding.Minor(), &b.overflow)
	addChecked(&b.fees, l.FeesOutstanding.Minor(), &b.overflow)
	addChecked(&b.claim, l.TotalClaim.Minor(), &b.overflow)
	w := float64(l.PrincipalOutstanding.Minor() + l.InterestOutstanding.Minor())
	b.w += w
	b.wDPD += w * float64(l.DaysPastDue)
	if l.Age >= 0 {
		b.wAge += w * float64(l.Age)
		b.wAgeSum += w
	}
	if !l.OriginalAmount.IsAbsent() {
		b.wLine += w * float64(l.OriginalAmount.Minor())
		b.wLineSum += w
	}
	b.borrowers[l.BorrowerID] += l.TotalClaim.Minor()

	b.stratum(0, string(l.FiveCategory), l)
	wo := "no"
	if l.WrittenOff {
		wo = "yes"
	}
	b.stratum(1, wo, l)
	sec := string(l.SecurityType)
	if sec == "" {
		sec = "unknown"
	}
	b.stratum(2, sec, l)
	b.stratum(3, string(l.LegalStatus), l)
	b.stratum(4, string(l.ProductType), l)
	b.stratum(5, provinceKey(l.RegionCode), l)
	b.stratum(6, DPDBucket(l.DaysPastDue), l)
}

func provinceKey(code string) string {
	if d, ok := region.Province(code); ok {
		return d.Code
	}
	if code == "" {
		return "unknown"
	}
	return code
}

func (b *HeaderBuilder) stratum(i int, key string, l *reclaim.Loan) {
	s := b.strata[i][key]
	if s == nil {
		s = &Stratum{Key: key}
		b.strata[i][key] = s
	}
	s.Loans++
	s.Principal = money.New(s.Principal.Minor()+l.PrincipalOutstanding.Minor(), b.cur)
	s.Claim = money.New(s.Claim.Minor()+l.TotalClaim.Minor(), b.cur)
}

// Header returns the finished header. It may be called more than once.
func (b *HeaderBuilder) Header() (PoolHeader, error) {
	if b.overflow {
		return PoolHeader{}, money.ErrOverflow
	}
	h := b.h
	c := b.cur
	if c == "" {
		c = money.DefaultCurrency
	}
	h.Currency = c
	h.Principal, h.Interest, h.Fees, h.Claim = money.New(b.principal, c), money.New(b.interest, c), money.New(b.fees, c), money.New(b.claim, c)
	h.Borrowers = int64(len(b.borrowers))
	if b.w > 0 {
		h.WADaysPastDue = round2(b.wDPD / b.w)
		if b.wAgeSum > 0 {
			h.WABorrowerAge = round2(b.wAge / b.wAgeSum)
		}
		h.AgeCoverage = round4(b.wAgeSum / b.w)
		if b.wLineSum > 0 {
			h.WACreditLine = money.New(int64(math.Round(b.wLine/b.wLineSum)), c)
		}
		h.CreditLineCoverage = round4(b.wLineSum / b.w)
	}
	var largest int64
	for _, v := range b.borrowers {
		if v > largest {
			largest = v
		}
	}
	h.LargestBorrowerClaim = money.New(largest, c)
	if h.Borrowers > 0 {
		h.AverageBorrowerClaim = money.New(divRound(b.claim, h.Borrowers), c)
	}
	if h.Loans > 0 {
		h.AverageLoanClaim = money.New(divRound(b.claim, h.Loans), c)
	}
	tables := []*[]Stratum{&h.ByFiveCategory, &h.ByWrittenOff, &h.BySecurity, &h.ByLegalStatus, &h.ByProduct, &h.ByProvince, &h.ByDPDBucket}
	for i, t := range tables {
		*t = b.finish(i, h)
	}
	return h, nil
}

func (b *HeaderBuilder) finish(i int, h PoolHeader) []Stratum {
	out := make([]Stratum, 0, len(b.strata[i]))
	for _, s := range b.strata[i] {
		st := *s
		st.Label, st.LabelZH = strataLabel(i, st.Key)
		if h.Claim.Minor() != 0 {
			st.ClaimShare = round4(float64(st.Claim.Minor()) / float64(h.Claim.Minor()))
		}
		if h.Loans > 0 {
			st.LoanShare = round4(float64(st.Loans) / float64(h.Loans))
		}
		out = append(out, st)
	}
	order := strataOrder(i)
	sort.Slice(out, func(a, c int) bool {
		oa, ob := order[out[a].Key], order[out[c].Key]
		if oa != ob {
			return oa < ob
		}
		if out[a].Claim.Minor() != out[c].Claim.Minor() {
			return out[a].Claim.Minor() > out[c].Claim.Minor()
		}
		return out[a].Key < out[c].Key
	})
	return out
}

// strataOrder gives the display order of known keys; unknown keys sort after them by claim.
func strataOrder(i int) map[string]int {
	m := map[string]int{}
	var keys []string
	switch i {
	case 0:
		keys = Fields[FFiveCategory].Enum
	case 1:
		keys = []string{"no", "yes"}
	case 2:
		keys = Fields[FSecurityType].Enum
	case 3:
		keys = Fields[FLegalStatus].Enum
	case 4:
		keys = Fields[FProductType].Enum
	case 6:
		for _, b := range DPDBuckets {
			keys = append(keys, b.Key)
		}
	default:
		return m // provinces: by claim
	}
	for j, k := range keys {
		m[k] = j - len(keys) - 1
	}
	return m
}

var enLabels = map[string]string{
	"credit_card": "Credit card", "consumer_loan": "Consumer loan", "business_loan": "Business loan",
	"auto_loan": "Auto loan", "mortgage": "Mortgage", "substandard": "Substandard", "doubtful": "Doubtful",
	"loss": "Loss", "unsecured": "Unsecured", "guaranteed": "Guaranteed", "pledge": "Pledge",
	"not_sued": "Not sued", "in_litigation": "In litigation", "mediated": "Mediated", "judgment": "Judgment",
	"enforcement": "Enforcement", "enforcement_terminated": "Enforcement terminated", "closed": "Closed",
	"yes": "Written off", "no": "Not written off", "unknown": "Unknown",
}

func strataLabel(i int, key string) (en, zh string) {
	switch i {
	case 1:
		if key == "yes" {
			return "Written off", "已核销"
		}
		return "Not written off", "未核销"
	case 2:
		if key == "mortgage" {
			return "Mortgage", "抵押"
		}
	case 5:
		if d, ok := region.Lookup(key); ok {
			return d.NameEN, d.Name
		}
		return key, key
	case 6:
		for _, b := range DPDBuckets {
			if b.Key == key {
				return b.Label, b.LabelZH
			}
		}
	}
	en = enLabels[key]
	if en == "" {
		en = key
	}
	fields := map[int]Field{0: FFiveCategory, 2: FSecurityType, 3: FLegalStatus, 4: FProductType}
	if f, ok := fields[i]; ok {
		zh = Fields[f].EnumZH[key]
	}
	if zh == "" {
		zh = en
	}
	return en, zh
}

func divRound(a, b int64) int64 {
	q, r := a/b, a%b
	if 2*r >= b {
		q++
	}
	return q
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round4(f float64) float64 { return math.Round(f*10000) / 10000 }
