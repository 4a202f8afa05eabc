package valuation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/region"
	"reclaim/valuation/gbdt"
	"reclaim/workout"
)

// Input is everything a FeatureSet may look at for one loan.
type Input struct {
	// Loan is the tape row (balances as of Loan.CutOffDate). Required.
	Loan *reclaim.Loan
	// History is the loan's repayment history (the repayments table of design/tape.md), in any
	// order. Entries dated after AsOf's month are ignored, so a history that runs on past the
	// as-of date cannot leak the future into a row.
	History []reclaim.Repayment
	// HistoryStart is the first month (any day in it) that History covers: a covered month
	// without an entry had no payment. The zero date means no history was supplied; the
	// history-window features are then missing.
	HistoryStart date.Date
	// AsOf is the date the features describe. The zero date means Loan.CutOffDate.
	AsOf date.Date
	// Absent lists tape fields (canonical names) the tape did not carry at all and that the
	// import was allowed to go without (ingest's missing_allowed): the loan record holds a zero
	// value for them, so every feature that reads one is missing rather than computed from it.
	Absent []string
}

// Spec describes one feature of a FeatureSet.
type Spec struct {
	// Feature is the metadata the learner sees. Feature.Monotone is 0 unless WithMonotone set it.
	gbdt.Feature
	// Unit is the feature's unit ("days", "months", "ln(1+CNY)", "share of claim", "0/1", ...).
	Unit string
	// Sources lists the tape fields (canonical names) or extra columns (LendingClub column
	// names) the feature reads. Nothing else feeds it.
	Sources []string
	// Definition says how the value is computed and when it is NaN.
	Definition string
	// MonotoneCandidate is the direction (+1 or -1) in which recovery is believed to move with
	// the feature, for the lead to decide on; 0 when the economics are not clear. It is
	// documentation only: it does not constrain the model.
	MonotoneCandidate int8
	// Levels names the categories of a categorical feature: code i is Levels[i].
	Levels []string
}

// Row is one loan's feature values.
type Row struct {
	// Values has one value per feature, in FeatureSet order; NaN marks a missing or
	// inapplicable value.
	Values []float64
	// Missing names, in FeatureSet order, the features that are NaN because an input field
	// they need was absent (not those that are NaN because they do not apply, such as months
	// since the last payment of a loan that never paid).
	Missing []string
}

// value is how a feature computes: (v, true) is a value (NaN when the feature does not apply);
// (_, false) means an input was missing.
type valueFunc func(c *ctx) (float64, bool)

type def struct {
	Spec
	fn valueFunc
}

// FeatureSet is a versioned list of features and the one function that computes them, used alike
// to build training data and to score. A FeatureSet is immutable and safe for concurrent use.
type FeatureSet struct {
	name string
	defs []def
}

// Names of the feature sets.
const (
	// CNV1 is the feature set of the canonical Chinese personal-NPL tape.
	CNV1 = "cn-v1"
	// LendingClubV1 is the feature set of the LendingClub charged-off file.
	LendingClubV1 = "lendingclub-v1"
)

// FeatureSetByName returns the feature set with the given name (CNV1 or LendingClubV1).
func FeatureSetByName(name string) (*FeatureSet, bool) {
	switch name {
	case CNV1:
		return CN(), true
	case LendingClubV1:
		return LendingClub(), true
	}
	return nil, false
}

// Name returns the feature set's versioned name ("cn-v1").
func (fs *FeatureSet) Name() string { return fs.name }

// Len returns the number of features.
func (fs *FeatureSet) Len() int { return len(fs.defs) }

// Specs returns a copy of the feature descriptions, in row order.
func (fs *FeatureSet) Specs() []Spec {
	out := make([]Spec, len(fs.defs))
	for i, d := range fs.defs {
		out[i] = d.Spec
		out[i].Sources = slices.Clone(d.Sources)
		out[i].Levels = slices.Clone(d.Levels)
	}
	return out
}

// Features returns the learner's metadata for the features, in row order.
func (fs *FeatureSet) Features() []gbdt.Feature {
	out := make([]gbdt.Feature, len(fs.defs))
	for i, d := range fs.defs {
		out[i] = d.Feature
	}
	return out
}

// Index returns the position of the named feature, or -1.
func (fs *FeatureSet) Index(name string) int {
	for i, d := range fs.defs {
		if d.Name == name {
			return i
		}
	}
	return -1
}

// Fingerprint returns a hex SHA-256 of the set's name and every feature's name, kind,
// monotone constraint and levels: a model file can store it to refuse rows from another version.
func (fs *FeatureSet) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", fs.name)
	for _, d := range fs.defs {
		fmt.Fprintf(h, "%s\t%d\t%d\t%s\n", d.Name, d.Kind, d.Monotone, strings.Join(d.Levels, ","))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WithMonotone returns a copy of the set in which the named numeric features carry the given
// monotone constraints (+1, -1 or 0). The copy keeps the name; its Fingerprint differs.
func (fs *FeatureSet) WithMonotone(m map[string]int8) (*FeatureSet, error) {
	out := &FeatureSet{name: fs.name, defs: slices.Clone(fs.defs)}
	for name, v := range m {
		i := out.Index(name)
		switch {
		case i < 0:
			return nil, fmt.Errorf("valuation: %s has no feature %q", fs.name, name)
		case v < -1 || v > 1:
			return nil, fmt.Errorf("valuation: feature %q: monotone must be -1, 0 or +1", name)
		case v != 0 && out.defs[i].Kind != gbdt.Numeric:
			return nil, fmt.Errorf("valuation: categorical feature %q cannot be monotone", name)
		}
		out.defs[i].Monotone = v
	}
	return out, nil
}

// Compute returns the loan's row.
func (fs *FeatureSet) Compute(in Input) Row {
	var r Row
	fs.Fill(in, &r)
	return r
}

// Fill computes the loan's row into r, reusing r's slices.
func (fs *FeatureSet) Fill(in Input, r *Row) {
	fs.fill(newCtx(&in), r)
}

// fill computes the row of c's loan into r, reusing r's slices (r.Values has room for every
// feature).
func (fs *FeatureSet) fill(c *ctx, r *Row) {
	if cap(r.Values) < len(fs.defs) {
		r.Values = make([]float64, len(fs.defs))
	}
	r.Values = r.Values[:len(fs.defs)]
	r.Missing = r.Missing[:0]
	in := c.in
	for i := range fs.defs {
		d := &fs.defs[i]
		if len(in.Absent) > 0 && slices.ContainsFunc(d.Sources, func(src string) bool { return slices.Contains(in.Absent, src) }) {
			r.Values[i] = math.NaN()
			r.Missing = append(r.Missing, d.Name)
			continue
		}
		v, ok := d.fn(c)
		if !ok {
			v = math.NaN()
			r.Missing = append(r.Missing, d.Name)
		} else if math.IsInf(v, 0) {
			v = math.NaN()
		}
		r.Values[i] = v
	}
}

// ctx holds what several features derive from the same input, computed once per loan.
type ctx struct {
	in        *Input
	l         *reclaim.Loan
	asOf      date.Date // zero when neither Input.AsOf nor the cut-off is known
	asOfMonth date.Date
	def       date.Date // default date (or cut-off - DPD); zero when unknown
	claim     float64
	claimOK   bool
	// lastPay is the latest payment known at asOf (the tape's last payment date or the latest
	// history month with a payment, whichever is later); zero when the loan never paid.
	lastPay    date.Date
	lastPayAmt float64
}

// featureCtx names ctx where a context.Context is called ctx.
type featureCtx = ctx

func newCtx(in *Input) *ctx {
	c := new(ctx)
	c.init(in)
	return c
}

// init sets c to describe in (c may be reused from loan to loan).
func (c *ctx) init(in *Input) {
	l := in.Loan
	*c = ctx{in: in, l: l, asOf: in.AsOf}
	if c.asOf.IsZero() {
		c.asOf = l.CutOffDate
	}
	if !c.asOf.IsZero() {
		c.asOfMonth = c.asOf.StartOfMonth()
	}
	switch {
	case !l.DefaultDate.IsZero():
		c.def = l.DefaultDate
	case !l.CutOffDate.IsZero() && l.DaysPastDue > 0:
		c.def = l.CutOffDate.AddDays(-l.DaysPastDue)
	}
	if !l.TotalClaim.IsAbsent() {
		c.claim, c.claimOK = l.TotalClaim.Float(), true
	} else if !l.PrincipalOutstanding.IsAbsent() {
		if s, err := l.Claim(); err == nil {
			c.claim, c.claimOK = s.Float(), true
		}
	}
	if !l.LastPaymentDate.IsZero() && (c.asOf.IsZero() || !l.LastPaymentDate.After(c.asOf)) {
		c.lastPay = l.LastPaymentDate
		if !l.LastPaymentAmount.IsAbsent() {
			c.lastPayAmt = l.LastPaymentAmount.Float()
		}
	}
	// A history month later than the tape's last payment's month supersedes it: its first day is
	// the latest date that is certain, and its amount is the month's total.
	var latest date.Date
	for _, p := range in.History {
		if m := p.Month.StartOfMonth(); p.Amount.Sign() > 0 && c.known(m) && m.After(latest) {
			latest = m
		}
	}
	if !latest.IsZero() && (c.lastPay.IsZero() || latest.After(c.lastPay.StartOfMonth())) {
		c.lastPay, c.lastPayAmt = latest, 0
		for _, p := range in.History {
			if p.Amount.Sign() > 0 && p.Month.StartOfMonth() == latest {
				c.lastPayAmt += p.Amount.Float()
			}
		}
	}
}

// known reports whether a history month is at or before the as-of month.
func (c *ctx) known(month date.Date) bool {
	return !c.asOf.IsZero() && !month.StartOfMonth().After(c.asOfMonth)
}

// monthsSince returns whole months from d to the as-of date (date.MonthsBetween).
func (c *ctx) monthsSince(d date.Date) (float64, bool) {
	if d.IsZero() || c.asOf.IsZero() {
		return 0, false
	}
	return float64(date.MonthsBetween(d, c.asOf)), true
}

// covered reports whether the history covers the k months ending with the as-of month.
func (c *ctx) covered(k int) bool {
	if c.in.HistoryStart.IsZero() || c.asOf.IsZero() {
		return false
	}
	return !c.in.HistoryStart.StartOfMonth().After(c.asOfMonth.AddMonths(-(k - 1)))
}

// window returns the number of months with a payment and the amount paid in the k months ending
// with the as-of month.
func (c *ctx) window(k int) (months int, amount float64) {
	return c.paidMonths(c.asOfMonth.AddMonths(-(k - 1)))
}

// paidMonths returns the number of distinct months from the month of from to the as-of month
// with a payment, and the amount paid in them.
func (c *ctx) paidMonths(from date.Date) (months int, amount float64) {
	from = from.StartOfMonth()
	var buf [64]date.Date
	seen := buf[:0]
	for _, p := range c.in.History {
		m := p.Month.StartOfMonth()
		if p.Amount.Sign() <= 0 || m.Before(from) || m.After(c.asOfMonth) {
			continue
		}
		amount += p.Amount.Float()
		if !slices.Contains(seen, m) {
			seen = append(seen, m)
		}
	}
	return len(seen), amount
}

// everPaid reports whether the loan made any payment known at the as-of date.
func (c *ctx) everPaid() bool { return !c.lastPay.IsZero() }

// limitationExpiry returns the date the 3-year limitation period (Civil Code arts. 188, 195;
// shared/design/collection-rules.md) expires: three years after the last interruption known at
// the as-of date (the later of the default date, the last payment and the filing of a suit), or
// the tape's stated expiry when that is later (the seller may know of demands the tape does not
// show).
func (c *ctx) limitationExpiry() (date.Date, bool) {
	ev := []workout.LimitationEvent{{Kind: workout.LimDefault, On: c.def}, {Kind: workout.LimPartPayment, On: c.lastPay},
		{Kind: workout.LimStatedExpiry, On: c.l.LimitationExpiryDate}}
	if s := c.l.LegalStartDate; !s.IsZero() && c.l.LegalStatus != reclaim.NotSued && (c.asOf.IsZero() || !s.After(c.asOf)) {
		ev = append(ev, workout.LimitationEvent{Kind: workout.LimSuit, On: s})
	}
	exp := workout.LimitationExpiry(ev).Expiry
	return exp, !exp.IsZero()
}

func amount(a money.Amount) (float64, bool) {
	if a.IsAbsent() {
		return 0, false
	}
	return a.Float(), true
}

func log1p(x float64, ok bool) (float64, bool) {
	if !ok {
		return 0, false
	}
	return math.Log1p(math.Max(x, 0)), true
}

func flag(b bool) (float64, bool) {
	if b {
		return 1, true
	}
	return 0, true
}

// ratio returns a/b, NaN (not applicable) when b is not positive.
func ratio(a, b float64) float64 {
	if !(b > 0) {
		return math.NaN()
	}
	return a / b
}

func levelsOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// code returns v's index in levels; missing when v is empty or unknown.
func code(levels []string, v string) (float64, bool) {
	if i := slices.Index(levels, v); i >= 0 {
		return float64(i), true
	}
	return 0, false
}

func numeric(name, unit, definition string, monotone int8, fn valueFunc, sources ...string) def {
	return def{Spec: Spec{Feature: gbdt.Feature{Name: name, Kind: gbdt.Numeric}, Unit: unit, Sources: sources, Definition: definition, MonotoneCandidate: monotone}, fn: fn}
}

func categorical(name, definition string, levels []string, fn valueFunc, sources ...string) def {
	return def{Spec: Spec{Feature: gbdt.Feature{Name: name, Kind: gbdt.Categorical}, Unit: "category", Sources: sources, Definition: definition, Levels: levels}, fn: fn}
}

var (
	productLevels  = levelsOf(reclaim.ProductTypes)
	securityLevels = levelsOf(reclaim.SecurityTypes)
	legalLevels    = levelsOf(reclaim.LegalStatuses)
	fiveLevels     = levelsOf(reclaim.FiveCategories)
	provinceLevels = func() []string {
		var out []string
		for _, p := range region.Provinces() {
			out = append(out, p.Code)
		}
		return out
	}()
	macroLevels = func() []string {
		var out []string
		for _, m := range region.MacroRegions() {
			out = append(out, m.English())
		}
		return out
	}()
)

// paymentWindows are the history windows, in months ending with the as-of month.
var paymentWindows = []int{6, 12, 36}

// CN returns the "cn-v1" feature set for the canonical Chinese tape. docs/features.md defines
// each feature.
func CN() *FeatureSet { return cnV1 }

var cnV1 = &FeatureSet{name: CNV1, defs: cnDefs()}

func cnDefs() []def {
	defs := []def{
		numeric("dpd", "days", "as-of date - default_date (or days_past_due + as-of - cut-off when the default date is absent)", -1,
			func(c *ctx) (float64, bool) {
				if c.def.IsZero() || c.asOf.IsZero() {
					return 0, false
				}
				return float64(c.asOf.Sub(c.def)), true
			}, "default_date", "days_past_due", "cut_off_date"),
		numeric("months_since_default", "months", "whole months from the default date to the as-of date", -1,
			func(c *ctx) (float64, bool) { return c.monthsSince(c.def) }, "default_date", "days_past_due", "cut_off_date"),
		numeric("log_principal", "ln(1+amount)", "ln(1 + principal_outstanding in major units)", -1,
			func(c *ctx) (float64, bool) { return log1p(amount(c.l.PrincipalOutstanding)) }, "principal_outstanding"),
		numeric("log_interest", "ln(1+amount)", "ln(1 + interest_outstanding)", 0,
			func(c *ctx) (float64, bool) { return log1p(amount(c.l.InterestOutstanding)) }, "interest_outstanding"),
		numeric("log_fees", "ln(1+amount)", "ln(1 + fees_outstanding)", 0,
			func(c *ctx) (float64, bool) { return log1p(amount(c.l.FeesOutstanding)) }, "fees_outstanding"),
		numeric("log_claim", "ln(1+amount)", "ln(1 + total_claim), the claim being principal + interest + fees when total_claim is absent", -1,
			func(c *ctx) (float64, bool) { return log1p(c.claim, c.claimOK) }, "total_claim", "principal_outstanding", "interest_outstanding", "fees_outstanding"),
		numeric("interest_fee_share", "share of claim", "(interest + fees) / claim; NaN when the claim is zero", 0,
			func(c *ctx) (float64, bool) {
				p, ok := amount(c.l.PrincipalOutstanding)
				if !ok || !c.claimOK {
					return 0, false
				}
				return ratio(c.claim-p, c.claim), true
			}, "principal_outstanding", "total_claim"),
		numeric("interest_accrual_rate", "per year", "interest_outstanding / principal_outstanding / max(years since default, 0.25): the tape's proxy for the contract rate, which the canonical schema does not carry; NaN when the principal is zero", 0,
			func(c *ctx) (float64, bool) {
				p, ok1 := amount(c.l.PrincipalOutstanding)
				i, ok2 := amount(c.l.InterestOutstanding)
				if !ok1 || !ok2 || c.def.IsZero() || c.asOf.IsZero() {
					return 0, false
				}
				years := math.Max(float64(c.asOf.Sub(c.def))/365, 0.25)
				return ratio(i, p) / years, true
			}, "principal_outstanding", "interest_outstanding", "default_date"),
		numeric("log_original_amount", "ln(1+amount)", "ln(1 + original_amount): original principal, or the credit line of a card", 0,
			func(c *ctx) (float64, bool) { return log1p(amount(c.l.OriginalAmount)) }, "original_amount"),
		numeric("paid_to_date_share", "share of original", "max(0, 1 - principal_outstanding / original_amount): principal repaid (for cards, the unused share of the line); NaN when the original amount is zero", 0,
			func(c *ctx) (float64, bool) {
				o, ok1 := amount(c.l.OriginalAmount)
				p, ok2 := amount(c.l.PrincipalOutstanding)
				if !ok1 || !ok2 {
					return 0, false
				}
				return math.Max(0, 1-ratio(p, o)), true
			}, "original_amount", "principal_outstanding"),
		numeric("loan_age_months", "months", "whole months from origination_date to the as-of date", 0,
			func(c *ctx) (float64, bool) { return c.monthsSince(c.l.OriginationDate) }, "origination_date"),
		// The birth year, never the birth date: the date is personal data (not in the store), and
		// an exact age at a caller-chosen as-of date would let anyone who sees reason codes find
		// the birthday by moving the date (docs/security-pii.md).
		numeric("borrower_age", "years", "as-of year - birth_year, else age (at the cut-off) + whole years from the cut-off to the as-of date", 0,
			func(c *ctx) (float64, bool) {
				if c.asOf.IsZero() {
					return 0, false
				}
				if c.l.BirthYear > 0 {
					return float64(c.asOf.Year() - c.l.BirthYear), true
				}
				if c.l.Age >= 0 && !c.l.CutOffDate.IsZero() {
					return float64(c.l.Age + date.MonthsBetween(c.l.CutOffDate, c.asOf)/12), true
				}
				return 0, false
			}, "birth_year", "age"),
		categorical("province", "province of region_code (GB/T 2260 first two digits); code = index in Levels (province codes)", provinceLevels,
			func(c *ctx) (float64, bool) {
				p, ok := region.Province(c.l.RegionCode)
				if !ok {
					return 0, false
				}
				return code(provinceLevels, p.Code)
			}, "region_code"),
		categorical("macro_region", "statistical macro-region (六大区) of the province", macroLevels,
			func(c *ctx) (float64, bool) {
				p, ok := region.Province(c.l.RegionCode)
				if !ok {
					return 0, false
				}
				return code(macroLevels, p.Region.English())
			}, "region_code"),
		categorical("product", "product_type", productLevels,
			func(c *ctx) (float64, bool) { return code(productLevels, string(c.l.ProductType)) }, "product_type"),
		categorical("security", "security_type", securityLevels,
			func(c *ctx) (float64, bool) { return code(securityLevels, string(c.l.SecurityType)) }, "security_type"),
		numeric("five_category_rank", "rank", "five_category: 0 substandard, 1 doubtful, 2 loss", 0,
			func(c *ctx) (float64, bool) { return code(fiveLevels, string(c.l.FiveCategory)) }, "five_category"),
		categorical("legal_status", "legal_status", legalLevels,
			func(c *ctx) (float64, bool) { return code(legalLevels, string(c.l.LegalStatus)) }, "legal_status"),
		numeric("months_since_legal_start", "months", "whole months from legal_start_date to the as-of date; NaN (not applicable) when not sued", 0,
			func(c *ctx) (float64, bool) {
				if c.l.LegalStatus == reclaim.NotSued || c.l.LegalStatus == "" {
					return math.NaN(), true
				}
				return c.monthsSince(c.l.LegalStartDate)
			}, "legal_status", "legal_start_date"),
		numeric("limitation_headroom_months", "months", "whole months from the as-of date to the limitation expiry: 3 years after the latest of default_date, the last payment (tape or history) and legal_start_date, or limitation_expiry_date when later; negative once expired (-1: expired within the last month)", +1,
			func(c *ctx) (float64, bool) {
				e, ok := c.limitationExpiry()
				if !ok || c.asOf.IsZero() {
					return 0, false
				}
				return float64(date.MonthsBetween(c.asOf, e)), true
			}, "default_date", "last_payment_date", "legal_start_date", "legal_status", "limitation_expiry_date", "history"),
		numeric("written_off", "0/1", "written_off", 0,
			func(c *ctx) (float64, bool) { return flag(c.l.WrittenOff) }, "written_off"),
		numeric("months_since_write_off", "months", "whole months from write_off_date to the as-of date; NaN (not applicable) when not written off", 0,
			func(c *ctx) (float64, bool) {
				if !c.l.WrittenOff {
					return math.NaN(), true
				}
				return c.monthsSince(c.l.WriteOffDate)
			}, "written_off", "write_off_date"),
	}
	for _, k := range paymentWindows {
		defs = append(defs,
			numeric(fmt.Sprintf("pay_months_%dm", k), "months", fmt.Sprintf("months with a payment in the %d months ending with the as-of month; missing when the history does not cover them", k), +1,
				func(c *ctx) (float64, bool) {
					if !c.covered(k) {
						return 0, false
					}
					n, _ := c.window(k)
					return float64(n), true
				}, "history"),
			numeric(fmt.Sprintf("pay_share_%dm", k), "share of claim", fmt.Sprintf("amount paid in the %d months ending with the as-of month / claim; missing when the history does not cover them", k), +1,
				func(c *ctx) (float64, bool) {
					if !c.covered(k) || !c.claimOK {
						return 0, false
					}
					_, a := c.window(k)
					return ratio(a, c.claim), true
				}, "history", "total_claim"),
		)
	}
	defs = append(defs,
		numeric("post_default_pay_months", "months", "months with a payment after the default month, within the history; missing without a history or a default date", +1,
			func(c *ctx) (float64, bool) {
				if c.in.HistoryStart.IsZero() || c.def.IsZero() || c.asOf.IsZero() {
					return 0, false
				}
				n, _ := c.paidMonths(c.def.StartOfMonth().AddMonths(1))
				return float64(n), true
			}, "history", "default_date"),
		numeric("months_since_last_payment", "months", "whole months from the last payment (the later of last_payment_date and the latest history month with a payment) to the as-of date; NaN (not applicable) when the loan never paid", -1,
			func(c *ctx) (float64, bool) {
				if !c.everPaid() {
					return math.NaN(), true
				}
				return c.monthsSince(c.lastPay)
			}, "last_payment_date", "history"),
		numeric("never_paid", "0/1", "1 when neither the tape nor the history shows any payment up to the as-of date", -1,
			func(c *ctx) (float64, bool) { return flag(!c.everPaid()) }, "last_payment_date", "history"),
		numeric("last_payment_share", "share of claim", "amount of the last payment / claim; NaN (not applicable) when the loan never paid", 0,
			func(c *ctx) (float64, bool) {
				if !c.everPaid() {
					return math.NaN(), true
				}
				if !c.claimOK {
					return 0, false
				}
				return ratio(c.lastPayAmt, c.claim), true
			}, "last_payment_amount", "history", "total_claim"),
		numeric("agency_placements", "count", "agency_placements: times placed with a collection agency", 0,
			func(c *ctx) (float64, bool) {
				if c.l.AgencyPlacements < 0 {
					return 0, false
				}
				return float64(c.l.AgencyPlacements), true
			}, "agency_placements"),
		numeric("phone_available", "0/1", "phone_available (the tape's contactability flag)", +1,
			func(c *ctx) (float64, bool) { return flag(c.l.PhoneAvailable) }, "phone_available"),
		numeric("months_since_contact", "months", "whole months from last_contact_date to the as-of date", -1,
			func(c *ctx) (float64, bool) { return c.monthsSince(c.l.LastContactDate) }, "last_contact_date"),
		numeric("forbearance_count", "count", "forbearance_count (restructurings)", 0,
			func(c *ctx) (float64, bool) {
				if c.l.ForbearanceCount < 0 {
					return 0, false
				}
				return float64(c.l.ForbearanceCount), true
			}, "forbearance_count"),
		numeric("repayment_plan_active", "0/1", "repayment_plan_active", +1,
			func(c *ctx) (float64, bool) { return flag(c.l.RepaymentPlanActive) }, "repayment_plan_active"),
		numeric("complaint", "0/1", "complaint_flag", 0,
			func(c *ctx) (float64, bool) { return flag(c.l.ComplaintFlag) }, "complaint_flag"),
		numeric("deceased", "0/1", "deceased", -1,
			func(c *ctx) (float64, bool) { return flag(c.l.Deceased) }, "deceased"),
		numeric("bankrupt", "0/1", "bankrupt", -1,
			func(c *ctx) (float64, bool) { return flag(c.l.Bankrupt) }, "bankrupt"),
	)
	return defs
}

// LendingClub returns the "lendingclub-v1" feature set for the LendingClub charged-off file read
// through mappings/lendingclub.yaml. It reads only information known at charge-off: the loan's
// terms, the borrower's application data and the payments made before default; never a column
// that LendingClubLeak reports.
func LendingClub() *FeatureSet { return lcV1 }

var lcV1 = &FeatureSet{name: LendingClubV1, defs: lcDefs()}

// LendingClub category levels (the values found in LoanStats3a; others are missing).
var (
	lcGrades       = []string{"A", "B", "C", "D", "E", "F", "G"}
	lcHome         = []string{"RENT", "MORTGAGE", "OWN", "OTHER", "NONE"}
	lcVerification = []string{"Not Verified", "Verified", "Source Verified"}
	lcPurposes     = []string{"debt_consolidation", "credit_card", "other", "home_improvement", "major_purchase", "small_business",
		"car", "wedding", "medical", "moving", "house", "educational", "vacation", "renewable_energy"}
	usStates = []string{"AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS",
		"KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH",
		"OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY"}
)

// LendingClubLeaks are the columns of the LendingClub file that describe what happened after the
// charge-off (shared/data/lendingclub/README.md); LendingClubLeak also matches their families.
var LendingClubLeaks = []string{
	"recoveries", "collection_recovery_fee", "total_pymnt", "total_pymnt_inv", "debt_settlement_flag",
	"debt_settlement_flag_date", "settlement_status", "settlement_date", "settlement_amount",
	"settlement_percentage", "settlement_term", "last_credit_pull_d", "last_fico_range_high",
	"last_fico_range_low", "recovery_rate_gross", "recovery_rate_net",
}

// LendingClubLeak reports whether a LendingClub column leaks the recovery outcome: the outcome
// columns themselves and every total_pymnt*, *settlement*, last_credit_pull_d, last_fico_range_*
// and recovery_rate_* column.
func LendingClubLeak(column string) bool {
	c := strings.ToLower(strings.TrimSpace(column))
	if slices.Contains(LendingClubLeaks, c) {
		return true
	}
	for _, p := range []string{"total_pymnt", "last_fico_range_", "recovery_rate_", "last_credit_pull"} {
		if strings.HasPrefix(c, p) {
			return true
		}
	}
	return strings.Contains(c, "settlement") || strings.Contains(c, "recover")
}

// extra parses a numeric extra column; missing when absent, empty or not a number.
func (c *ctx) extra(name string) (float64, bool) {
	s := strings.TrimSpace(c.l.Extras[name])
	if s == "" {
		return 0, false
	}
	s = strings.TrimSuffix(s, "%")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func (c *ctx) extraText(name string) string { return strings.TrimSpace(c.l.Extras[name]) }

// monthsFromIssueToLastPayment is months_issue_to_last_pymnt, else computed from the dates;
// NaN (not applicable) for a loan that never paid.
func (c *ctx) monthsFromIssueToLastPayment() (float64, bool) {
	if v, ok := c.extra("months_issue_to_last_pymnt"); ok {
		return v, true
	}
	if c.l.LastPaymentDate.IsZero() {
		return math.NaN(), true
	}
	if c.l.OriginationDate.IsZero() {
		return 0, false
	}
	return float64(date.MonthsBetween(c.l.OriginationDate, c.l.LastPaymentDate)), true
}

func lcExtra(name, unit, definition string, monotone int8) def {
	return numeric(name, unit, definition, monotone, func(c *ctx) (float64, bool) { return c.extra(name) }, name)
}

func lcDefs() []def {
	gradeRank := func(c *ctx) (float64, bool) {
		v, ok := code(lcGrades, strings.ToUpper(c.extraText("grade")))
		return v + 1, ok
	}
	return []def{
		numeric("loan_amnt", "USD", "loan_amnt (original_amount)", 0,
			func(c *ctx) (float64, bool) { return amount(c.l.OriginalAmount) }, "loan_amnt"),
		lcExtra("funded_amnt", "USD", "funded_amnt", 0),
		lcExtra("term", "months", "term: 36 or 60", 0),
		lcExtra("int_rate", "fraction per year", "int_rate", 0),
		lcExtra("installment", "USD per month", "installment", 0),
		categorical("grade", "grade A-G", lcGrades,
			func(c *ctx) (float64, bool) { return code(lcGrades, strings.ToUpper(c.extraText("grade"))) }, "grade"),
		numeric("grade_rank", "rank", "grade as 1 (A) to 7 (G)", 0, gradeRank, "grade"),
		numeric("sub_grade_rank", "rank", "sub_grade as 1 (A1) to 35 (G5)", 0,
			func(c *ctx) (float64, bool) {
				s := strings.ToUpper(c.extraText("sub_grade"))
				if len(s) != 2 || s[1] < '1' || s[1] > '5' {
					return 0, false
				}
				g, ok := code(lcGrades, s[:1])
				return 5*g + float64(s[1]-'0'), ok
			}, "sub_grade"),
		numeric("emp_length", "years", "emp_length: \"< 1 year\" is 0, \"10+ years\" is 10; \"n/a\" is missing", 0,
			func(c *ctx) (float64, bool) {
				s := strings.ToLower(c.extraText("emp_length"))
				switch {
				case strings.HasPrefix(s, "<"):
					return 0, true
				case s == "" || s == "n/a":
					return 0, false
				}
				s = strings.TrimSpace(strings.TrimRight(strings.TrimSuffix(strings.TrimSuffix(s, "years"), "year"), " +"))
				v, err := strconv.Atoi(s)
				return float64(v), err == nil
			}, "emp_length"),
		categorical("home_ownership", "home_ownership", lcHome,
			func(c *ctx) (float64, bool) { return code(lcHome, strings.ToUpper(c.extraText("home_ownership"))) }, "home_ownership"),
		lcExtra("annual_inc", "USD per year", "annual_inc (self-reported)", 0),
		categorical("verification_status", "verification_status", lcVerification,
			func(c *ctx) (float64, bool) { return code(lcVerification, c.extraText("verification_status")) }, "verification_status"),
		categorical("purpose", "purpose", lcPurposes,
			func(c *ctx) (float64, bool) { return code(lcPurposes, strings.ToLower(c.extraText("purpose"))) }, "purpose"),
		categorical("addr_state", "addr_state (region_code without its \"US-\" prefix)", usStates,
			func(c *ctx) (float64, bool) {
				return code(usStates, strings.ToUpper(strings.TrimPrefix(c.l.RegionCode, "US-")))
			}, "addr_state"),
		lcExtra("dti", "percent", "dti: debt payments / monthly income, in percent", 0),
		lcExtra("delinq_2yrs", "count", "delinq_2yrs", 0),
		numeric("fico", "points", "(fico_range_low + fico_range_high) / 2 at origination", 0,
			func(c *ctx) (float64, bool) {
				lo, ok1 := c.extra("fico_range_low")
				hi, ok2 := c.extra("fico_range_high")
				return (lo + hi) / 2, ok1 && ok2
			}, "fico_range_low", "fico_range_high"),
		lcExtra("inq_last_6mths", "count", "inq_last_6mths", 0),
		lcExtra("open_acc", "count", "open_acc", 0),
		lcExtra("pub_rec", "count", "pub_rec", 0),
		lcExtra("revol_bal", "USD", "revol_bal", 0),
		lcExtra("revol_util", "fraction", "revol_util", 0),
		lcExtra("total_acc", "count", "total_acc", 0),
		lcExtra("pub_rec_bankruptcies", "count", "pub_rec_bankruptcies", 0),
		numeric("credit_history_months", "months", "whole months from earliest_cr_line to issue_d", 0,
			func(c *ctx) (float64, bool) {
				e, err := date.Parse(c.extraText("earliest_cr_line"))
				if err != nil || c.l.OriginationDate.IsZero() {
					return 0, false
				}
				return float64(date.MonthsBetween(e, c.l.OriginationDate)), true
			}, "earliest_cr_line", "issue_d"),
		lcExtra("total_rec_prncp", "USD", "total_rec_prncp: principal repaid before charge-off", 0),
		lcExtra("total_rec_int", "USD", "total_rec_int: interest paid before charge-off", 0),
		lcExtra("total_rec_late_fee", "USD", "total_rec_late_fee", 0),
		numeric("ead_principal", "USD", "ead_principal = funded_amnt - total_rec_prncp (principal_outstanding): the exposure at charge-off", 0,
			func(c *ctx) (float64, bool) { return amount(c.l.PrincipalOutstanding) }, "ead_principal"),
		numeric("paid_principal_share", "share of funded", "total_rec_prncp / funded_amnt", 0,
			func(c *ctx) (float64, bool) {
				p, ok1 := c.extra("total_rec_prncp")
				f, ok2 := c.extra("funded_amnt")
				return ratio(p, f), ok1 && ok2
			}, "total_rec_prncp", "funded_amnt"),
		numeric("months_to_last_payment", "months", "months_issue_to_last_pymnt (else whole months from issue_d to last_pymnt_d); NaN (not applicable) when the loan never paid", 0,
			func(c *ctx) (float64, bool) { return c.monthsFromIssueToLastPayment() }, "months_issue_to_last_pymnt", "issue_d", "last_pymnt_d"),
		numeric("paid_term_share", "share of term", "months_to_last_payment / term; NaN (not applicable) when the loan never paid", 0,
			func(c *ctx) (float64, bool) {
				m, ok1 := c.monthsFromIssueToLastPayment()
				t, ok2 := c.extra("term")
				return ratio(m, t), ok1 && ok2
			}, "months_issue_to_last_pymnt", "issue_d", "last_pymnt_d", "term"),
		numeric("never_paid", "0/1", "1 when last_pymnt_d is empty (the loan never paid)", 0,
			func(c *ctx) (float64, bool) { return flag(c.l.LastPaymentDate.IsZero()) }, "last_pymnt_d"),
		numeric("last_payment_to_installment", "ratio", "last_pymnt_amnt / installment; NaN (not applicable) when the loan never paid", 0,
			func(c *ctx) (float64, bool) {
				if c.l.LastPaymentDate.IsZero() {
					return math.NaN(), true
				}
				a, ok1 := amount(c.l.LastPaymentAmount)
				i, ok2 := c.extra("installment")
				return ratio(a, i), ok1 && ok2
			}, "last_pymnt_amnt", "last_pymnt_d", "installment"),
		numeric("installment_to_income", "share of income", "12 × installment / annual_inc", 0,
			func(c *ctx) (float64, bool) {
				i, ok1 := c.extra("installment")
				y, ok2 := c.extra("annual_inc")
				return ratio(12*i, y), ok1 && ok2
			}, "installment", "annual_inc"),
		numeric("issue_year", "year", "calendar year of issue_d", 0,
			func(c *ctx) (float64, bool) {
				if c.l.OriginationDate.IsZero() {
					return 0, false
				}
				return float64(c.l.OriginationDate.Year()), true
			}, "issue_d"),
	}
}
