package tape

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"

	"reclaim"
	"reclaim/money"
	"reclaim/region"
)

// MaskedColumns are the columns of a registered bidder's tape (design/tape.md, "Tiered
// disclosure"): per-portfolio salted-hash ids, no personal fields, an age band instead of the birth
// date, the prefecture (or province) instead of the address, the origination period, yes/no contactability, exact balances, dates and legal status, and
// a per-row watermark that ties every row to the download it came from.
var MaskedColumns = []string{
	"masked_loan_id", "masked_borrower_id", "product_type", "currency", "origination_period", "original_amount",
	"principal_outstanding", "interest_outstanding", "fees_outstanding", "total_claim",
	"default_date", "days_past_due", "five_category", "written_off", "write_off_date", "security_type",
	"last_payment_date", "last_payment_amount", "legal_status", "legal_start_date", "limitation_expiry_date",
	"age_band", "prefecture_code", "deceased", "bankrupt", "phone_available", "last_contact_date",
	"forbearance_count", "repayment_plan_active", "agency_placements", "complaint_flag", "watermark",
}

// MaskOptions configure a masked export.
type MaskOptions struct {
	// Salt is the portfolio's secret salt: masked ids are stable for a portfolio and unlinkable
	// across portfolios.
	Salt []byte
	// DownloadID identifies this download; it keys the per-row watermark.
	DownloadID string
	// K is the k-anonymity threshold (default 5).
	K int
	// MaxSmallShare is the largest share of rows that may sit in classes smaller than K at the
	// chosen generalisation level (default 0.01); the finest level that meets it is chosen.
	MaxSmallShare float64
	// Suppress leaves out the rows of classes still smaller than K at the chosen level, so that
	// the written tape satisfies k-anonymity.
	Suppress bool
}

// QuasiKey is the quasi-identifier a masked row is checked on for k-anonymity: age band,
// prefecture, balance band and origination month, generalised to a level.
type QuasiKey struct {
	AgeBand, Prefecture, BalanceBand, OriginationMonth string
}

// Generalisation levels, finest first: each coarsens the quasi-identifier until classes reach K.
// Area is a prefecture, a province, or one of China's six macro-regions; Period is the
// origination month, quarter, year, or a span of Years years.
var maskLevels = []struct {
	Name       string
	AgeWidth   int
	Area       string // prefecture, province, macro
	CoarseBand bool
	Period     string // month, quarter, year, span
	Years      int
}{
	{"5-year age, prefecture, balance band, month", 5, "prefecture", false, "month", 1},
	{"5-year age, prefecture, balance band, quarter", 5, "prefecture", false, "quarter", 1},
	{"10-year age, prefecture, balance band, year", 10, "prefecture", false, "year", 1},
	{"10-year age, province, balance band, year", 10, "province", false, "year", 1},
	{"10-year age, province, coarse balance band, year", 10, "province", true, "year", 1},
	{"10-year age, macro-region, coarse balance band, 3 years", 10, "macro", true, "span", 3},
	{"20-year age, macro-region, coarse balance band, 5 years", 20, "macro", true, "span", 5},
}

// KAnonymity is the result of the k-anonymity check on a masked tape.
type KAnonymity struct {
	K            int     `json:"k"`
	Level        int     `json:"level"`      // generalisation level chosen (0 = finest)
	LevelName    string  `json:"level_name"` // what the quasi-identifier holds at that level
	Rows         int64   `json:"rows"`
	Classes      int     `json:"classes"`
	MinClassSize int64   `json:"min_class_size"`
	SmallClasses int     `json:"small_classes"` // classes with fewer than K rows
	RowsInSmall  int64   `json:"rows_in_small"` // rows in those classes
	ShareInSmall float64 `json:"share_in_small"`
	Satisfied    bool    `json:"satisfied"`  // every class has at least K rows
	Suppressed   int64   `json:"suppressed"` // rows left out (Suppress)
	// SatisfiedWritten reports whether the tape as written satisfies k-anonymity.
	SatisfiedWritten bool `json:"satisfied_written"`
	// FinestLevel is the check at level 0, to show what generalisation bought.
	FinestShareInSmall float64 `json:"finest_share_in_small"`
}

// Masker builds a masked tape in two passes over the portfolio: Observe every loan, Check to
// choose the generalisation level, then Row for each loan to write (nil when suppressed).
type Masker struct {
	opts    MaskOptions
	classes []map[QuasiKey]int64
	level   int
	checked bool
}

// NewMasker returns a masker; K defaults to 5 and MaxSmallShare to 0.01.
func NewMasker(opts MaskOptions) *Masker {
	if opts.K <= 0 {
		opts.K = 5
	}
	if opts.MaxSmallShare <= 0 {
		opts.MaxSmallShare = 0.01
	}
	m := &Masker{opts: opts, classes: make([]map[QuasiKey]int64, len(maskLevels))}
	for i := range m.classes {
		m.classes[i] = map[QuasiKey]int64{}
	}
	return m
}

// Quasi returns the loan's quasi-identifier at generalisation level (0 = finest).
func Quasi(l *reclaim.Loan, level int) QuasiKey {
	lv := maskLevels[level]
	q := QuasiKey{AgeBand: ageBand(l.Age, lv.AgeWidth), Prefecture: area(l.RegionCode, lv.Area), BalanceBand: balanceBand(l.TotalClaim, lv.CoarseBand)}
	q.OriginationMonth = period(l, lv.Period, lv.Years)
	return q
}

// area generalises a region code to a prefecture, province or macro-region.
func area(code, level string) string {
	if len(code) != 6 {
		return code
	}
	switch level {
	case "province":
		return code[:2] + "0000"
	case "macro":
		if d, ok := region.Province(code); ok {
			return d.Region.English()
		}
		return code[:2] + "0000"
	}
	return code[:4] + "00"
}

func period(l *reclaim.Loan, p string, years int) string {
	if l.OriginationDate.IsZero() {
		return ""
	}
	s := l.OriginationDate.String()
	switch p {
	case "quarter":
		return s[:4] + "-Q" + strconv.Itoa((int(l.OriginationDate.Month())-1)/3+1)
	case "year":
		return s[:4]
	case "span":
		y := l.OriginationDate.Year()
		lo := y - y%years
		return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+years-1)
	}
	return s[:7]
}

func ageBand(age, width int) string {
	if age < 0 {
		return "unknown"
	}
	lo := age / width * width
	return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+width-1)
}

// balance bands in major units of total claim.
var (
	balanceBands       = []int64{5_000, 10_000, 20_000, 50_000, 100_000, 300_000}
	coarseBalanceBands = []int64{10_000, 50_000, 300_000}
)

func balanceBand(a money.Amount, coarse bool) string {
	major := a.Minor() / 100
	bands := balanceBands
	if coarse {
		bands = coarseBalanceBands
	}
	lo := int64(0)
	for _, hi := range bands {
		if major < hi {
			return strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10)
		}
		lo = hi
	}
	return ">=" + strconv.FormatInt(lo, 10)
}

// Observe counts the loan's equivalence class at every level (first pass).
func (m *Masker) Observe(l *reclaim.Loan) {
	for i := range maskLevels {
		m.classes[i][Quasi(l, i)]++
	}
}

func (m *Masker) checkLevel(level int) KAnonymity {
	r := KAnonymity{K: m.opts.K, Level: level, LevelName: maskLevels[level].Name, Classes: len(m.classes[level]), MinClassSize: -1}
	for _, n := range m.classes[level] {
		r.Rows += n
		if r.MinClassSize < 0 || n < r.MinClassSize {
			r.MinClassSize = n
		}
		if n < int64(m.opts.K) {
			r.SmallClasses++
			r.RowsInSmall += n
		}
	}
	if r.MinClassSize < 0 {
		r.MinClassSize = 0
	}
	if r.Rows > 0 {
		r.ShareInSmall = float64(r.RowsInSmall) / float64(r.Rows)
	}
	r.Satisfied = r.SmallClasses == 0
	return r
}

// Check chooses the finest generalisation level whose share of rows in classes smaller than K is
// at most MaxSmallShare (the coarsest level when none is), and returns the check at that level.
// Row uses the chosen level.
func (m *Masker) Check() KAnonymity {
	var r KAnonymity
	for lv := range maskLevels {
		r = m.checkLevel(lv)
		if r.ShareInSmall <= m.opts.MaxSmallShare {
			break
		}
	}
	m.level, m.checked = r.Level, true
	r.FinestShareInSmall = m.checkLevel(0).ShareInSmall
	if m.opts.Suppress {
		r.Suppressed = r.RowsInSmall
	}
	r.SatisfiedWritten = r.Satisfied || m.opts.Suppress
	return r
}

// MaskID returns the salted hash of an identifier under the portfolio salt and a domain tag
// ("loan" or "borrower"): 16 hex characters.
func MaskID(salt []byte, tag, id string) string {
	h := hmac.New(sha256.New, salt)
	h.Write([]byte(tag))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Row returns the masked cells for a loan in MaskedColumns order, or nil when Suppress is set and
// the loan's class is smaller than K. Age, prefecture and origination date are written no finer
// than the chosen generalisation level. Call Check first.
func (m *Masker) Row(l *reclaim.Loan) []string {
	if !m.checked {
		m.Check()
	}
	q := Quasi(l, m.level)
	if m.opts.Suppress && m.classes[m.level][q] < int64(m.opts.K) {
		return nil
	}
	o := EncodeOptions{}
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	fc := ""
	if l.ForbearanceCount >= 0 {
		fc = strconv.Itoa(l.ForbearanceCount)
	}
	return []string{
		MaskID(m.opts.Salt, "loan", l.LoanID), MaskID(m.opts.Salt, "borrower", l.BorrowerID),
		string(l.ProductType), string(l.Currency), q.OriginationMonth, encMoney(l.OriginalAmount, o),
		encMoney(l.PrincipalOutstanding, o), encMoney(l.InterestOutstanding, o), encMoney(l.FeesOutstanding, o),
		encMoney(l.TotalClaim, o), encDate(l.DefaultDate, o), strconv.Itoa(l.DaysPastDue), string(l.FiveCategory),
		yn(l.WrittenOff), encDate(l.WriteOffDate, o), string(l.SecurityType),
		encDate(l.LastPaymentDate, o), encMoney(l.LastPaymentAmount, o), string(l.LegalStatus),
		encDate(l.LegalStartDate, o), encDate(l.LimitationExpiryDate, o),
		q.AgeBand, q.Prefecture, yn(l.Deceased), yn(l.Bankrupt), yn(l.PhoneAvailable), encDate(l.LastContactDate, o),
		fc, yn(l.RepaymentPlanActive), strconv.Itoa(l.AgencyPlacements), yn(l.ComplaintFlag),
		MaskID(m.opts.Salt, "watermark:"+m.opts.DownloadID, l.LoanID),
	}
}

// SmallestClasses returns up to n of the smallest equivalence classes, for the report.
func (m *Masker) SmallestClasses(n int) []struct {
	Key  QuasiKey
	Size int64
} {
	type kv = struct {
		Key  QuasiKey
		Size int64
	}
	all := make([]kv, 0, len(m.classes))
	for k, v := range m.classes[m.level] {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Size != all[j].Size {
			return all[i].Size < all[j].Size
		}
		return all[i].Key.Prefecture+all[i].Key.AgeBand < all[j].Key.Prefecture+all[j].Key.AgeBand
	})
	if len(all) > n {
		all = all[:n]
	}
	return all
}
