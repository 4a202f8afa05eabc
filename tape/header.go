package tape

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

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

// HeaderBuilder accumulates a PoolHeader one loan at a time in bounded memory: each loan's
// borrower and claim (for the borrower count and the largest and average claim per borrower) is
// appended to a list of at most borrowerSpill entries; a full list is sorted and summed by
// borrower, and kept if that halved it, else spilled to a temporary file as a sorted run; the runs
// are merged when the header is asked for. Call Close to release the files. (A list sorted now and
// then costs less than a map of the borrowers, which an import updated for every loan at random
// places in a few megabytes.)
type HeaderBuilder struct {
	h                         PoolHeader
	cur                       money.Currency
	principal, interest, fees int64
	claim                     int64
	w, wDPD                   float64
	wAge, wAgeSum             float64
	wLine, wLineSum           float64
	borrowers                 []borrowerClaim
	runs                      []*os.File // sorted (borrower, claim) runs, already unlinked
	err                       error      // a run could not be written
	strata                    [7]map[string]*Stratum
	overflow                  bool
}

// borrowerSpill is the number of claims a HeaderBuilder holds in memory (24 bytes each, and the
// borrower ids) before it sums them by borrower and, unless that halves them, spills them to a
// sorted run.
var borrowerSpill = 1 << 16

// borrowerClaim is a borrower's claim: one loan's, or the sum of several.
type borrowerClaim struct {
	id    string
	claim int64
}

// NewHeaderBuilder returns an empty builder.
func NewHeaderBuilder() *HeaderBuilder {
	b := &HeaderBuilder{}
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
	b.borrowers = append(b.borrowers, borrowerClaim{l.BorrowerID, l.TotalClaim.Minor()})
	if len(b.borrowers) >= borrowerSpill && b.err == nil {
		b.sumBorrowers()
		if len(b.borrowers) >= borrowerSpill/2 {
			b.err = b.spill()
		}
	}

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
	if b.err != nil {
		return PoolHeader{}, b.err
	}
	nb, largest, err := b.borrowerTotals()
	if err != nil {
		return PoolHeader{}, err
	}
	h.Borrowers = nb
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

// Close releases the builder's temporary files. The builder must not be used afterwards.
func (b *HeaderBuilder) Close() error {
	var first error
	for _, f := range b.runs {
		name := f.Name()
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		os.Remove(name) // already unlinked where the system allows it
	}
	b.runs, b.borrowers = nil, nil
	return first
}

// sumBorrowers sorts the claims in memory by borrower and sums each borrower's into one.
func (b *HeaderBuilder) sumBorrowers() {
	bs := b.borrowers
	slices.SortFunc(bs, func(x, y borrowerClaim) int { return strings.Compare(x.id, y.id) })
	n := 0
	for i := range bs {
		if n > 0 && bs[n-1].id == bs[i].id {
			bs[n-1].claim += bs[i].claim
			continue
		}
		bs[n] = bs[i]
		n++
	}
	clear(bs[n:])
	b.borrowers = bs[:n]
}

// spill writes the claims in memory, summed by borrower (sumBorrowers), to a new run, sorted by
// borrower, and empties the list. The file is unlinked at once, so nothing is left behind if the
// process dies.
func (b *HeaderBuilder) spill() error {
	f, err := os.CreateTemp("", "reclaim-header-*.run")
	if err != nil {
		return err
	}
	os.Remove(f.Name())
	b.runs = append(b.runs, f)
	w := bufio.NewWriterSize(f, 1<<16)
	var buf [2 * binary.MaxVarintLen64]byte
	for _, c := range b.borrowers {
		n := binary.PutUvarint(buf[:], uint64(len(c.id)))
		w.Write(buf[:n])
		w.WriteString(c.id)
		n = binary.PutVarint(buf[:], c.claim)
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	clear(b.borrowers)
	b.borrowers = b.borrowers[:0]
	return nil
}

// borrowerTotals returns the number of distinct borrowers and the largest claim of one, merging
// the spilled runs with the borrowers still in memory.
func (b *HeaderBuilder) borrowerTotals() (count, largest int64, err error) {
	b.sumBorrowers()
	if len(b.runs) == 0 {
		for _, c := range b.borrowers {
			largest = max(largest, c.claim)
		}
		return int64(len(b.borrowers)), largest, nil
	}
	h := &runHeap{}
	mem := &runCursor{mem: b.borrowers}
	if mem.next() {
		h.cs = append(h.cs, mem)
	}
	for _, f := range b.runs {
		st, err := f.Stat()
		if err != nil {
			return 0, 0, err
		}
		c := &runCursor{r: bufio.NewReaderSize(io.NewSectionReader(f, 0, st.Size()), 1<<16)}
		if c.next() {
			h.cs = append(h.cs, c)
		} else if c.err != nil {
			return 0, 0, c.err
		}
	}
	heap.Init(h)
	var cur string
	var sum int64
	started := false
	for h.Len() > 0 {
		c := h.cs[0]
		if !started || c.key != cur {
			if started {
				largest = max(largest, sum)
			}
			cur, sum, started = c.key, 0, true
			count++
		}
		sum += c.val
		if c.next() {
			heap.Fix(h, 0)
		} else {
			if c.err != nil {
				return 0, 0, c.err
			}
			heap.Pop(h)
		}
	}
	if started {
		largest = max(largest, sum)
	}
	return count, largest, nil
}

// runCursor walks one sorted run: a spilled file, or the claims in memory (summed).
type runCursor struct {
	r   *bufio.Reader
	mem []borrowerClaim
	key string
	val int64
	err error
}

func (c *runCursor) next() bool {
	if c.r == nil {
		if len(c.mem) == 0 {
			return false
		}
		c.key, c.val, c.mem = c.mem[0].id, c.mem[0].claim, c.mem[1:]
		return true
	}
	n, err := binary.ReadUvarint(c.r)
	if err == io.EOF {
		return false
	}
	if err != nil || n > 1<<20 {
		c.err = io.ErrUnexpectedEOF
		return false
	}
	kb := make([]byte, n)
	if _, err := io.ReadFull(c.r, kb); err != nil {
		c.err = io.ErrUnexpectedEOF
		return false
	}
	if c.val, err = binary.ReadVarint(c.r); err != nil {
		c.err = io.ErrUnexpectedEOF
		return false
	}
	c.key = string(kb)
	return true
}

type runHeap struct{ cs []*runCursor }

func (h *runHeap) Len() int           { return len(h.cs) }
func (h *runHeap) Less(i, j int) bool { return h.cs[i].key < h.cs[j].key }
func (h *runHeap) Swap(i, j int)      { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *runHeap) Push(x any)         { h.cs = append(h.cs, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	c := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return c
}
