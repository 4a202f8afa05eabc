package valuation

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"reclaim"
	"reclaim/synth"
	"reclaim/tape"
	"reclaim/valuation/gbdt"
)

// Label names a Table can turn into a gbdt.Dataset.
const (
	// LabelRate is the recovery rate: collections within the horizon (synthetic) or
	// recoveries (LendingClub) divided by the exposure, capped to [0, 1].
	LabelRate = "rate"
	// LabelMaterial is 1 when the rate is at least MaterialThreshold: any material recovery.
	LabelMaterial = "material"
	// LabelHigh is 1 when the rate is at least HighThreshold (the LendingClub AUC target).
	LabelHigh = "rate_ge_10"
)

// Label thresholds and defaults.
const (
	// MaterialThreshold is the rate from which a recovery counts as material: 1% of the exposure.
	MaterialThreshold = 0.01
	// HighThreshold is the rate of LabelHigh: 10% of the exposure.
	HighThreshold = 0.10
	// DefaultFolds is the number of cross-validation folds when TableOptions.Folds is 0.
	DefaultFolds = 5
	// DefaultMinSegmentLoans is the fewest loans a static-pool segment needs to be used on its
	// own; smaller segments borrow the rate of their parent (see StaticPool.Predict).
	DefaultMinSegmentLoans = 50
	// MonthsOnBook is the name of the extra feature of a hazard dataset: the month after the
	// as-of date that the row is at risk in (1, 2, ...).
	MonthsOnBook = "months_on_book"
)

// Example is one loan of a training set: the inputs of its features and what was collected on it
// afterwards.
type Example struct {
	// Input is the loan as known at the as-of date (the purchase cut-off, or the charge-off).
	Input Input
	// Exposure is the denominator of the recovery rate in major units: the total claim
	// (synthetic portfolios) or the principal at charge-off (LendingClub's ead_principal). It must
	// be positive.
	Exposure float64
	// Recovered is what was collected within the horizon, in major units (not negative).
	Recovered float64
	// Monthly, when the timing is known, holds the collections of months 1..Horizon after the
	// as-of date (TableOptions.Horizon values); nil when it is not (LendingClub).
	Monthly []float64
}

// SegmentFunc names a loan's static-pool segment as components joined by "|", coarsest first,
// so that a segment's parents are its prefixes ("credit_card|1_2y|5k_20k" ->
// "credit_card|1_2y" -> "credit_card" -> "").
type SegmentFunc func(in *Input) string

// Balance bands of StandardSegment: upper bounds of the claim in major units.
var balanceBands = []struct {
	key string
	hi  float64
}{
	{"lt5k", 5_000}, {"5k_20k", 20_000}, {"20k_50k", 50_000}, {"50k_100k", 100_000}, {"ge100k", math.Inf(1)},
}

// StandardSegment is the industry's static-pool segmentation: product × DPD bucket at the as-of
// date (the pool header's buckets, tape.DPDBuckets) × balance band of the claim in major units
// (< 5k, 5k-20k, 20k-50k, 50k-100k, >= 100k). Unknown components are "unknown".
func StandardSegment(in *Input) string {
	return standardSegment(newCtx(in)).String()
}

// segmentKey is a StandardSegment by its components.
type segmentKey struct{ prod, dpd, band string }

func (k segmentKey) String() string { return k.prod + "|" + k.dpd + "|" + k.band }

// standardSegment returns the StandardSegment of c's loan by its components.
func standardSegment(c *ctx) segmentKey {
	k := segmentKey{prod: string(c.l.ProductType), dpd: "unknown", band: "unknown"}
	if k.prod == "" {
		k.prod = "unknown"
	}
	if !c.def.IsZero() && !c.asOf.IsZero() {
		k.dpd = tape.DPDBucket(c.asOf.Sub(c.def))
	}
	if c.claimOK {
		for _, b := range balanceBands {
			if c.claim < b.hi {
				k.band = b.key
				break
			}
		}
	}
	return k
}

// FoldKey is the key a loan's fold is drawn from: the portfolio and the borrower (the loan id
// when the borrower is unknown), so that loans of one borrower, who share a propensity to pay,
// never sit on both sides of a split. For LendingClub, where every borrower has one loan, it is
// the loan id.
func FoldKey(l *reclaim.Loan) string {
	id := l.BorrowerID
	if id == "" {
		id = l.LoanID
	}
	return l.PortfolioRef + "/" + id
}

// FoldOf assigns a key to one of k folds (0..k-1) by a 64-bit FNV-1a hash of the key, mixed by a
// SplitMix64 finaliser: deterministic, independent of row order, and the same in every program
// that uses it.
func FoldOf(key string, k int) int {
	if k <= 1 {
		return 0
	}
	h := fnv.New64a()
	io.WriteString(h, key)
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return int(x % uint64(k))
}

// TableOptions configure a TableBuilder.
type TableOptions struct {
	// Folds is the number of cross-validation folds (0 means DefaultFolds).
	Folds int
	// Horizon is the number of months in Example.Monthly (0: the timing is unknown).
	Horizon int
	// Segment names each loan's static-pool segment (nil means StandardSegment).
	Segment SegmentFunc
}

// Table is a training set: one row per loan with its features (column-major, as gbdt wants
// them), its labels, its fold and its static-pool segment.
type Table struct {
	// FeatureSet computed the columns.
	FeatureSet *FeatureSet
	// Columns[j][i] is feature j of row i; NaN is missing.
	Columns [][]float64
	// IDs are the loans' ids, Keys their fold keys (FoldKey), Folds their folds.
	IDs   []string
	Keys  []string
	Folds []int
	// NumFolds is the number of folds.
	NumFolds int
	// Segments are the loans' static-pool segments.
	Segments []string
	// Exposure, Recovered and Rate are Example.Exposure, Example.Recovered and the capped
	// recovery rate.
	Exposure  []float64
	Recovered []float64
	Rate      []float64
	// Horizon is the months of timing each row carries (0: none).
	Horizon int
	// FirstPayment is the month (1..Horizon) of each loan's first collection after the as-of
	// date, 0 when nothing was collected within the horizon, -1 when the timing is unknown.
	FirstPayment []int
	// Cohort and DefaultCohort are each loan's cohorts for the uncertainty estimate: its
	// portfolio and the calendar quarter of its origination, and of its default.
	Cohort        []string
	DefaultCohort []string
	// MeanMonth is the collection-weighted mean month (1..Horizon) of each loan's collections,
	// NaN when nothing was collected or the timing is unknown.
	MeanMonth []float64
	// MissingCount counts, per feature, the rows in which it was flagged missing.
	MissingCount []int
	// Pool holds the static-pool sums per segment and fold.
	Pool *PoolStats
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return len(t.IDs) }

// Label returns the named label (LabelRate, LabelMaterial or LabelHigh), one value per row.
func (t *Table) Label(name string) ([]float64, error) {
	out := make([]float64, len(t.Rate))
	switch name {
	case LabelRate:
		copy(out, t.Rate)
	case LabelMaterial, LabelHigh:
		th := MaterialThreshold
		if name == LabelHigh {
			th = HighThreshold
		}
		for i, r := range t.Rate {
			if r >= th {
				out[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("valuation: unknown label %q (want %s, %s or %s)", name, LabelRate, LabelMaterial, LabelHigh)
	}
	return out, nil
}

// Dataset returns the table as a gbdt.Dataset with the named label and no weights. The dataset
// shares the table's columns: do not modify them. Set Weight to Exposure to weigh loans by
// their size (the portfolio view).
func (t *Table) Dataset(label string) (*gbdt.Dataset, error) {
	y, err := t.Label(label)
	if err != nil {
		return nil, err
	}
	return &gbdt.Dataset{Features: t.FeatureSet.Features(), Columns: t.Columns, Label: y}, nil
}

// Split returns the rows outside fold (training) and inside it (testing), in row order.
func (t *Table) Split(fold int) (train, test []int) {
	for i, f := range t.Folds {
		if f == fold {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test
}

// HazardDataset expands the given rows (nil means all) into a discrete-time hazard dataset for
// the timing of the first collection: one row per loan and month at risk, from month 1 to the
// month of its first collection (label 1) or to the horizon (label 0 throughout), with the
// loan's features and MonthsOnBook as the last feature. It needs a table with timing
// (Horizon > 0). The result has about Rows × (1 - P(pay)) × Horizon rows: with 100,000 loans,
// 24 months and the 41 columns of cn-v1 and MonthsOnBook that is some 700 MB, which is why the
// model's default timing is the per-segment curve of StaticPool instead (docs/features.md).
func (t *Table) HazardDataset(rows []int) (*gbdt.Dataset, error) {
	if t.Horizon <= 0 {
		return nil, errors.New("valuation: the table has no timing (Horizon is 0)")
	}
	if rows == nil {
		rows = make([]int, t.Rows())
		for i := range rows {
			rows[i] = i
		}
	}
	n := 0
	for _, i := range rows {
		n += t.atRisk(i)
	}
	feats := append(t.FeatureSet.Features(), gbdt.Feature{Name: MonthsOnBook, Kind: gbdt.Numeric})
	d := gbdt.NewDataset(feats, n)
	r := 0
	mob := d.Columns[len(feats)-1]
	for _, i := range rows {
		m := t.atRisk(i)
		for k := 1; k <= m; k++ {
			for j, c := range t.Columns {
				d.Columns[j][r] = c[i]
			}
			mob[r] = float64(k)
			if k == t.FirstPayment[i] {
				d.Label[r] = 1
			}
			r++
		}
	}
	return d, nil
}

func (t *Table) atRisk(i int) int {
	if f := t.FirstPayment[i]; f > 0 {
		return f
	}
	return t.Horizon
}

// BaselineOOF returns, for every row, the static-pool segment fitted on the other folds
// (StaticPool.Predict of a pool fitted without the row's fold): the transparent baseline's
// out-of-fold prediction. Its Rate predicts LabelRate, its MaterialShare LabelMaterial and its
// HighShare LabelHigh.
func (t *Table) BaselineOOF(minLoans int) []SegmentCurve {
	pools := make([]*StaticPool, t.NumFolds)
	for f := range pools {
		pools[f] = t.Pool.Fit(f, minLoans)
	}
	out := make([]SegmentCurve, t.Rows())
	for i, s := range t.Segments {
		out[i] = pools[t.Folds[i]].Predict(s)
	}
	return out
}

// TableBuilder accumulates Examples into a Table, one at a time.
type TableBuilder struct {
	t   *Table
	seg SegmentFunc
	row Row
}

// NewTableBuilder returns a builder of a table whose features fs computes.
func NewTableBuilder(fs *FeatureSet, opts TableOptions) *TableBuilder {
	if opts.Folds <= 0 {
		opts.Folds = DefaultFolds
	}
	if opts.Segment == nil {
		opts.Segment = StandardSegment
	}
	t := &Table{
		FeatureSet:   fs,
		Columns:      make([][]float64, fs.Len()),
		NumFolds:     opts.Folds,
		Horizon:      max(opts.Horizon, 0),
		MissingCount: make([]int, fs.Len()),
		Pool:         NewPoolStats(opts.Folds, max(opts.Horizon, 0)),
	}
	return &TableBuilder{t: t, seg: opts.Segment}
}

// Add appends one example. It fails, adding nothing, when the example has no loan, a
// non-positive or non-finite exposure, a negative or non-finite recovery, or Monthly values that
// do not match the horizon.
func (b *TableBuilder) Add(ex *Example) error {
	t := b.t
	l := ex.Input.Loan
	if l == nil {
		return errors.New("valuation: example without a loan")
	}
	switch {
	case !(ex.Exposure > 0) || math.IsInf(ex.Exposure, 0):
		return fmt.Errorf("valuation: loan %s: exposure %v is not positive", l.LoanID, ex.Exposure)
	case !(ex.Recovered >= 0) || math.IsInf(ex.Recovered, 0):
		return fmt.Errorf("valuation: loan %s: recovered %v is not a non-negative amount", l.LoanID, ex.Recovered)
	case ex.Monthly != nil && len(ex.Monthly) != t.Horizon:
		return fmt.Errorf("valuation: loan %s: %d monthly collections for a horizon of %d", l.LoanID, len(ex.Monthly), t.Horizon)
	case ex.Monthly == nil && t.Horizon > 0:
		return fmt.Errorf("valuation: loan %s: no monthly collections for a horizon of %d", l.LoanID, t.Horizon)
	}
	first := -1
	meanMonth := math.NaN()
	if ex.Monthly != nil {
		first = 0
		var sm, sw float64
		for k, v := range ex.Monthly {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("valuation: loan %s: collection %v in month %d", l.LoanID, v, k+1)
			}
			if v > 0 && first == 0 {
				first = k + 1
			}
			sm += v * float64(k+1)
			sw += v
		}
		if sw > 0 {
			meanMonth = sm / sw
		}
	}
	t.FeatureSet.Fill(ex.Input, &b.row)
	for j, v := range b.row.Values {
		t.Columns[j] = append(t.Columns[j], v)
	}
	for _, name := range b.row.Missing {
		t.MissingCount[t.FeatureSet.Index(name)]++
	}
	key := FoldKey(l)
	fold := FoldOf(key, t.NumFolds)
	seg := b.seg(&ex.Input)
	rate := math.Min(ex.Recovered/ex.Exposure, 1)
	t.IDs = append(t.IDs, l.LoanID)
	t.Keys = append(t.Keys, key)
	t.Folds = append(t.Folds, fold)
	t.Segments = append(t.Segments, seg)
	t.Exposure = append(t.Exposure, ex.Exposure)
	t.Recovered = append(t.Recovered, ex.Recovered)
	t.Rate = append(t.Rate, rate)
	t.FirstPayment = append(t.FirstPayment, first)
	t.MeanMonth = append(t.MeanMonth, meanMonth)
	t.Cohort = append(t.Cohort, l.PortfolioRef+"|"+quarterKey(l.OriginationDate))
	t.DefaultCohort = append(t.DefaultCohort, l.PortfolioRef+"|"+quarterKey(l.DefaultDate))
	t.Pool.Add(seg, fold, ex.Exposure, ex.Recovered, ex.Monthly)
	return nil
}

// Table returns the table built so far. The builder must not be used afterwards.
func (b *TableBuilder) Table() *Table { return b.t }

// SeasonedExample fills ex with a seasoned synthetic loan: its features as of the purchase
// cut-off (the tape and the pre-purchase history), its claim as the exposure and the monthly
// collections since the purchase as the outcome. ex.Monthly is reused.
func SeasonedExample(it *synth.SeasonedItem, ex *Example) {
	ex.Input = Input{Loan: &it.Loan, History: it.History, HistoryStart: it.HistoryStart, AsOf: it.Loan.CutOffDate}
	ex.Exposure = it.Loan.TotalClaim.Float()
	ex.Recovered = it.Outcome.Total.Float()
	if cap(ex.Monthly) < len(it.Monthly) {
		ex.Monthly = make([]float64, len(it.Monthly))
	}
	ex.Monthly = ex.Monthly[:len(it.Monthly)]
	for k, a := range it.Monthly {
		ex.Monthly[k] = a.Float()
	}
}

// BuildSeasoned reads a seasoned synthetic portfolio to its end into a table with timing
// (opts.Horizon is set to s.Months()).
func BuildSeasoned(s *synth.Seasoned, fs *FeatureSet, opts TableOptions) (*Table, error) {
	opts.Horizon = s.Months()
	b := NewTableBuilder(fs, opts)
	var ex Example
	for {
		it, ok := s.Next()
		if !ok {
			return b.Table(), nil
		}
		SeasonedExample(&it, &ex)
		if err := b.Add(&ex); err != nil {
			return nil, err
		}
	}
}

// ReadLendingClub reads the LendingClub charged-off file at dataPath through the mapping file
// at mappingPath (mappings/lendingclub.yaml) with package tape's reader, and calls fn for every
// loan in file order with its features as of the file's cut-off, ead_principal as the exposure
// and recoveries as the outcome (no timing). A row that breaks a tape rule or lacks its
// recoveries stops the read with an error naming the line. ex is reused between calls.
func ReadLendingClub(dataPath, mappingPath string, fn func(ex *Example) error) error {
	m, err := tape.LoadMapping(mappingPath)
	if err != nil {
		return err
	}
	src, err := tape.Open(dataPath, tape.OpenOptions{}.WithMapping(m))
	if err != nil {
		return err
	}
	defer src.Close()
	layout, err := tape.NewLayout(src.Header(), m)
	if err != nil {
		return err
	}
	if layout.Bindings[tape.FPrincipal] == nil {
		return fmt.Errorf("valuation: %s: no column is bound to principal_outstanding, the exposure the recovery rate divides by (mappings/lendingclub.yaml binds ead_principal to it)", dataPath)
	}
	if miss := tape.MissingCritical(layout); len(miss) > 0 {
		return fmt.Errorf("valuation: %s: the mapping leaves critical fields unbound: %v", dataPath, miss)
	}
	hasOutcome := false
	for _, e := range layout.Extras {
		hasOutcome = hasOutcome || e.Name == "recoveries"
	}
	if !hasOutcome {
		return fmt.Errorf("valuation: %s: no 'recoveries' column: the training outcome (the amount recovered) must be a column of the file listed under the mapping's extras", dataPath)
	}
	conv := tape.NewConverter(layout, src.Info())
	var res tape.Result
	var ex Example
	for {
		row, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		conv.Convert(row, &res)
		if !res.OK() {
			return fmt.Errorf("valuation: %s: %w", dataPath, &res.Errors[0])
		}
		l := &res.Loan
		rec, err := strconv.ParseFloat(strings.TrimSpace(l.Extras["recoveries"]), 64)
		if err != nil || math.IsNaN(rec) || math.IsInf(rec, 0) {
			return fmt.Errorf("valuation: %s: line %d: recoveries %q: not a number", dataPath, row.Line, l.Extras["recoveries"])
		}
		if rec < 0 {
			return fmt.Errorf("valuation: %s: line %d: recoveries %v is negative (the outcome is an amount recovered)", dataPath, row.Line, rec)
		}
		ex = Example{Input: Input{Loan: l, AsOf: l.CutOffDate}, Exposure: l.PrincipalOutstanding.Float(), Recovered: rec}
		if err := fn(&ex); err != nil {
			return err
		}
	}
}

// BuildLendingClub reads the LendingClub file (see ReadLendingClub) into a table without timing.
func BuildLendingClub(dataPath, mappingPath string, fs *FeatureSet, opts TableOptions) (*Table, error) {
	opts.Horizon = 0
	b := NewTableBuilder(fs, opts)
	if err := ReadLendingClub(dataPath, mappingPath, b.Add); err != nil {
		return nil, err
	}
	return b.Table(), nil
}

// PoolStats sums exposures, recoveries and monthly collections per static-pool segment (and
// each of its parents) and fold, so that pools can be fitted on any set of training folds.
type PoolStats struct {
	folds   int
	horizon int
	cells   map[string][]poolCell // segment prefix -> per fold
}

type poolCell struct {
	loans, material, high int
	exposure, recovered   float64
	monthly               []float64
}

// NewPoolStats returns empty sums for the given number of folds and months of timing.
func NewPoolStats(folds, horizon int) *PoolStats {
	return &PoolStats{folds: max(folds, 1), horizon: max(horizon, 0), cells: map[string][]poolCell{}}
}

// Add accounts for one loan of the segment in the fold: its exposure, its recovery (capped at the
// exposure, like LabelRate) and, when the horizon is positive and monthly is not nil, its
// collections per month (capped in proportion).
func (s *PoolStats) Add(segment string, fold int, exposure, recovered float64, monthly []float64) {
	if fold < 0 || fold >= s.folds {
		fold = 0
	}
	capped := math.Min(recovered, exposure)
	scale := 1.0
	if recovered > capped && recovered > 0 {
		scale = capped / recovered
	}
	rate := capped / exposure
	for _, key := range prefixes(segment) {
		cs, ok := s.cells[key]
		if !ok {
			cs = make([]poolCell, s.folds)
			s.cells[key] = cs
		}
		c := &cs[fold]
		c.loans++
		c.exposure += exposure
		c.recovered += capped
		if rate >= MaterialThreshold {
			c.material++
		}
		if rate >= HighThreshold {
			c.high++
		}
		if s.horizon > 0 && monthly != nil {
			if c.monthly == nil {
				c.monthly = make([]float64, s.horizon)
			}
			for k := 0; k < s.horizon && k < len(monthly); k++ {
				c.monthly[k] += monthly[k] * scale
			}
		}
	}
}

// prefixes returns "", "a", "a|b", "a|b|c" for "a|b|c".
func prefixes(seg string) []string {
	out := []string{""}
	if seg == "" {
		return out
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] == '|' {
			out = append(out, seg[:i])
		}
	}
	return append(out, seg)
}

// SegmentCurve is a static pool's figures for one segment, estimated on training data.
type SegmentCurve struct {
	// Key is the segment ("" is the whole pool).
	Key string
	// Loans, Exposure and Recovered are the training sums (recoveries capped at each exposure).
	Loans     int
	Exposure  float64
	Recovered float64
	// Rate is Recovered / Exposure: the exposure-weighted static-pool recovery rate, the
	// segment's prediction of LabelRate.
	Rate float64
	// MaterialShare and HighShare are the shares of loans whose rate reached MaterialThreshold
	// and HighThreshold.
	MaterialShare float64
	HighShare     float64
	// Curve[k] is the cumulative share of the exposure collected by the end of month k+1 after the
	// as-of date; nil without timing.
	Curve []float64
}

// StaticPool is the transparent baseline: per-segment static-pool recovery rates and curves.
type StaticPool struct {
	// MinLoans is the fewest training loans a segment needs for Predict to use it.
	MinLoans int
	// Horizon is the length of the curves.
	Horizon int
	// Segments holds every segment and parent seen in training, by key.
	Segments map[string]SegmentCurve
}

// Fit estimates the pool on every fold except excludeFold (-1 uses all folds). Segments with
// fewer than minLoans loans are kept but Predict skips them (minLoans <= 0 means
// DefaultMinSegmentLoans).
func (s *PoolStats) Fit(excludeFold, minLoans int) *StaticPool {
	return s.FitExcept(minLoans, excludeFold)
}

// FitExcept estimates the pool on every fold except the given ones (see Fit).
func (s *PoolStats) FitExcept(minLoans int, exclude ...int) *StaticPool {
	if minLoans <= 0 {
		minLoans = DefaultMinSegmentLoans
	}
	p := &StaticPool{MinLoans: minLoans, Horizon: s.horizon, Segments: make(map[string]SegmentCurve, len(s.cells))}
	for key, cs := range s.cells {
		var sum poolCell
		var monthly []float64
		for f := range cs {
			if slices.Contains(exclude, f) {
				continue
			}
			c := &cs[f]
			sum.loans += c.loans
			sum.material += c.material
			sum.high += c.high
			sum.exposure += c.exposure
			sum.recovered += c.recovered
			if c.monthly != nil {
				if monthly == nil {
					monthly = make([]float64, s.horizon)
				}
				for k, v := range c.monthly {
					monthly[k] += v
				}
			}
		}
		if sum.loans == 0 {
			continue
		}
		sc := SegmentCurve{Key: key, Loans: sum.loans, Exposure: sum.exposure, Recovered: sum.recovered,
			Rate:          ratio(sum.recovered, sum.exposure),
			MaterialShare: float64(sum.material) / float64(sum.loans),
			HighShare:     float64(sum.high) / float64(sum.loans)}
		if monthly != nil {
			sc.Curve = make([]float64, s.horizon)
			cum := 0.0
			for k, v := range monthly {
				cum += v
				sc.Curve[k] = ratio(cum, sum.exposure)
			}
		}
		p.Segments[key] = sc
	}
	return p
}

// Predict returns the figures of the segment, or of its nearest parent (the longest "|" prefix)
// with at least MinLoans training loans, or of the whole pool. A pool fitted on no data returns a
// zero SegmentCurve.
func (p *StaticPool) Predict(segment string) SegmentCurve {
	ps := prefixes(segment)
	for i := len(ps) - 1; i >= 0; i-- {
		if sc, ok := p.Segments[ps[i]]; ok && (sc.Loans >= p.MinLoans || i == 0) {
			return sc
		}
	}
	return SegmentCurve{}
}
