package tape

import (
	"strconv"
	"strings"
	"sync/atomic"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
	"reclaim/msg"
	"reclaim/region"
	"reclaim/workout"
)

// Rule names. Each validation failure carries exactly one of them; reports group by them.
const (
	RuleRequired            = "required"                   // a critical field is empty
	RuleEnum                = "enum"                       // a value outside the field's set
	RuleDateFormat          = "date_format"                // a date that does not parse or does not exist
	RuleAmountFormat        = "amount_format"              // an amount that does not parse or overflows
	RuleIntFormat           = "int_format"                 // a count that is not a whole number
	RuleBoolFormat          = "bool_format"                // a yes/no value not understood
	RuleCurrency            = "currency"                   // not an ISO 4217 code
	RuleNegativeAmount      = "negative_amount"            // a balance below zero
	RuleClaimSum            = "claim_sum"                  // total_claim != principal + interest + fees
	RuleDPDConsistent       = "dpd_consistent"             // days_past_due != cut_off_date - default_date
	RuleLastPaymentCutoff   = "last_payment_before_cutoff" // last_payment_date after the cut-off
	RuleDefaultCutoff       = "default_before_cutoff"      // default_date after the cut-off
	RuleLastPaymentPair     = "last_payment_pair"          // a last payment date without an amount, or the reverse
	RuleLoanIDUnique        = "loan_id_unique"             // a loan_id seen earlier in the tape
	RuleNationalID          = "national_id"                // bad format, birth date or check digit
	RuleNationalIDBirth     = "national_id_birth"          // birth_date disagrees with the ID
	RuleNationalIDRegion    = "national_id_region"         // region_code's province disagrees with the ID
	RuleMobile              = "mobile"                     // not 11 digits starting with 1
	RuleRegionCode          = "region_code"                // not a GB/T 2260 code (CNY tapes)
	RulePortfolioConsistent = "portfolio_consistent"       // portfolio_id or cut_off_date differs from the first row
	RuleColumns             = "columns"                    // a row with the wrong number of cells
	RuleKeyPersonal         = "key_personal"               // loan_id or borrower_id is a national ID
)

// Rules lists every validation rule with a one-line description, in report order.
var Rules = []struct{ Name, Description string }{
	{RuleRequired, "critical field present"},
	{RuleEnum, "value in the field's set"},
	{RuleDateFormat, "date parses and exists"},
	{RuleAmountFormat, "amount parses, at most the currency's decimals"},
	{RuleIntFormat, "whole number"},
	{RuleBoolFormat, "yes/no value"},
	{RuleCurrency, "ISO 4217 currency code"},
	{RuleNegativeAmount, "balances not negative"},
	{RuleClaimSum, "total_claim = principal + interest + fees to the cent"},
	{RuleDPDConsistent, "days_past_due = cut_off_date - default_date"},
	{RuleLastPaymentCutoff, "last_payment_date <= cut_off_date"},
	{RuleDefaultCutoff, "default_date <= cut_off_date"},
	{RuleLastPaymentPair, "last payment date and amount given together"},
	{RuleLoanIDUnique, "loan_id unique in the portfolio"},
	{RuleNationalID, "national ID: 18 characters, valid birth date, GB 11643 check digit"},
	{RuleNationalIDBirth, "birth_date agrees with the national ID"},
	{RuleNationalIDRegion, "region_code's province agrees with the national ID"},
	{RuleMobile, "mobile: 11 digits starting with 1"},
	{RuleRegionCode, "GB/T 2260 region code (CNY tapes)"},
	{RulePortfolioConsistent, "one portfolio_id and cut_off_date per tape"},
	{RuleColumns, "row has as many cells as the header"},
	{RuleKeyPersonal, "loan_id and borrower_id are not national IDs (keys are stored and shown in clear)"},
}

// mayBeEmpty lists critical fields whose column must exist but whose value may be blank: a loan
// that never paid has no last payment.
var mayBeEmpty = map[Field]bool{FLastPaymentDate: true, FLastPaymentAmount: true}

// derivable lists critical fields that Convert computes when the tape has no column for them.
var derivable = map[Field]string{
	FTotalClaim:       "principal + interest + fees",
	FDaysPastDue:      "cut_off_date - default_date",
	FLimitationExpiry: "max(default_date, last_payment_date) + 3 years (Civil Code art. 188)",
}

// Derivation says how a missing critical column is filled in, or "" when it cannot be.
func Derivation(f Field) string { return derivable[f] }

// MissingCritical returns the critical fields the layout has no column or constant for and that
// cannot be derived: a tape missing any of them is rejected before its rows are read.
func MissingCritical(l *Layout) []Field {
	var out []Field
	for i := range Fields {
		f := Field(i)
		if !Fields[i].Critical || l.Bindings[f] != nil {
			continue
		}
		if _, ok := derivable[f]; ok {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Result is one converted row: the loan, its personal data, and every rule it breaks.
type Result struct {
	Line     int
	Loan     reclaim.Loan
	Personal reclaim.PersonalData
	Errors   []RowError
	// Derived lists fields computed because the tape had no column for them.
	Derived []Field
	row     Row
}

// OK reports whether the row broke no rule.
func (r *Result) OK() bool { return len(r.Errors) == 0 }

// Converter turns rows bound by a Layout into loans, validating each against every rule of
// design/tape.md. It remembers loan ids and the first row's portfolio and cut-off to check
// uniqueness and consistency across the tape, so one Converter serves one tape, in row order.
type Converter struct {
	layout   *Layout
	date1904 bool
	seen     map[string]int // loan_id -> first line (only the ids in track, when track is set)
	track    map[string]struct{}
	first    bool
	ref      string
	cutOff   date.Date
	derived  []Field
	// lastRef and lastCur hold copies of the portfolio id and currency of a recent row: a tape
	// has one of each, so rows share them instead of pointing into their own records (which the
	// loans would otherwise keep alive until they are stored), and the rules across rows compare
	// them without reading each record again.
	lastRef, lastCur atomic.Pointer[string]
	// okCur holds the last currency code isoCurrency accepted: a tape has one, so the code
	// table is searched once, not for every row.
	okCur atomic.Pointer[money.Currency]
}

// validCurrency is isoCurrency, remembering the last code it accepted.
func (c *Converter) validCurrency(cc money.Currency) bool {
	if p := c.okCur.Load(); p != nil && *p == cc {
		return true
	}
	if !isoCurrency(cc) {
		return false
	}
	c.okCur.Store(&cc)
	return true
}

// shared returns v, as the copy p holds when that is equal, else as a new copy p then holds.
func shared(p *atomic.Pointer[string], v string) string {
	if s := p.Load(); s != nil && *s == v {
		return *s
	}
	s := strings.Clone(v)
	p.Store(&s)
	return s
}

// NewConverter returns a converter for rows of a source with the given info.
func NewConverter(l *Layout, info SourceInfo) *Converter {
	c := &Converter{layout: l, date1904: info.Date1904, seen: make(map[string]int, 1024), first: true}
	for i := range Fields {
		if _, ok := derivable[Field(i)]; ok && l.Bindings[i] == nil {
			c.derived = append(c.derived, Field(i))
		}
	}
	return c
}

// LoanID returns the loan_id the converter reads from row, for a pass over the tape's keys.
func (c *Converter) LoanID(row Row) string {
	v, _, _ := c.layout.Value(FLoanID, row.Cells)
	return v
}

// TrackOnly bounds the memory of the loan_id uniqueness rule: only the ids in ids are remembered.
// The caller must have proved, by a pass over the same rows (LoanID), that every other loan_id
// occurs at most once in the tape; ids may hold more than the repeated ones. Call it before the
// first CheckAcross.
func (c *Converter) TrackOnly(ids map[string]struct{}) { c.track = ids }

// Convert converts one row into out, which is reset first (its slices are reused), and applies
// the rules across rows. Rows must come in tape order.
func (c *Converter) Convert(row Row, out *Result) {
	c.ConvertRow(row, out)
	c.CheckAcross(out)
}

// ConvertRow converts one row and applies every rule that concerns the row alone. It keeps no
// state, so several goroutines may call it at once; CheckAcross must then see the results in
// tape order.
func (c *Converter) ConvertRow(row Row, out *Result) {
	errs := out.Errors[:0]
	*out = Result{Line: row.Line, Errors: errs, Derived: c.derived, row: row}
	cx := rowCtx{c: c, row: row, out: out}
	l := &out.Loan
	l.Age, l.ForbearanceCount = -1, -1

	if len(row.Cells) != len(c.layout.Header) {
		cx.fail(-1, "", RuleColumns, "row.columns", msg.A("cells", strconv.Itoa(len(row.Cells)), "header", strconv.Itoa(len(c.layout.Header))))
	}

	cur := money.DefaultCurrency
	if raw, _, ok := c.layout.Value(FCurrency, row.Cells); ok {
		cc := money.Currency(shared(&c.lastCur, currencyCode(raw)))
		if !c.validCurrency(cc) {
			cx.fail(FCurrency, raw, RuleCurrency, "row.currency", nil)
		} else {
			cur = cc
		}
	}
	l.Currency = cur

	l.PortfolioRef = shared(&c.lastRef, cx.text(FPortfolioID))
	l.CutOffDate = cx.date(FCutOffDate)
	// Clone the keys: maps that outlive the row (uniqueness, borrowers) would otherwise pin the
	// whole record the reader allocated.
	l.LoanID = strings.Clone(cx.text(FLoanID))
	l.BorrowerID = strings.Clone(cx.text(FBorrowerID))
	l.ProductType = reclaim.ProductType(cx.enum(FProductType))
	l.OriginationDate = cx.date(FOriginationDate)
	l.OriginalAmount = cx.money(FOriginalAmount, cur)
	l.PrincipalOutstanding = cx.money(FPrincipal, cur)
	l.InterestOutstanding = cx.money(FInterest, cur)
	l.FeesOutstanding = cx.money(FFees, cur)
	if l.InterestOutstanding.IsAbsent() {
		l.InterestOutstanding = money.Zero(cur)
	}
	if l.FeesOutstanding.IsAbsent() {
		l.FeesOutstanding = money.Zero(cur)
	}
	l.TotalClaim = cx.money(FTotalClaim, cur)
	l.DefaultDate = cx.date(FDefaultDate)
	l.DaysPastDue = cx.count(FDaysPastDue, 0)
	l.FiveCategory = reclaim.FiveCategory(cx.enum(FFiveCategory))
	l.WrittenOff = cx.boolean(FWrittenOff)
	l.WriteOffDate = cx.date(FWriteOffDate)
	l.SecurityType = reclaim.SecurityType(cx.enum(FSecurityType))
	l.LastPaymentDate = cx.date(FLastPaymentDate)
	l.LastPaymentAmount = cx.money(FLastPaymentAmount, cur)
	l.LegalStatus = reclaim.LegalStatus(cx.enum(FLegalStatus))
	l.LegalStartDate = cx.date(FLegalStartDate)
	l.Court = strings.Clone(cx.text(FCourt)) // the loan keeps no part of the record alive
	l.LimitationExpiryDate = cx.date(FLimitationExpiry)
	l.BirthDate = cx.date(FBirthDate)
	l.Age = cx.count(FAge, -1)
	l.RegionCode = strings.Clone(cx.text(FRegionCode))
	l.Deceased = cx.boolean(FDeceased)
	l.Bankrupt = cx.boolean(FBankrupt)
	l.PhoneAvailable = cx.boolean(FPhoneAvailable)
	l.LastContactDate = cx.date(FLastContactDate)
	l.ForbearanceCount = cx.count(FForbearanceCount, -1)
	l.RepaymentPlanActive = cx.boolean(FRepaymentPlanActive)
	l.AgencyPlacements = cx.count(FAgencyPlacements, 0)
	l.ComplaintFlag = cx.boolean(FComplaintFlag)
	if len(c.layout.Extras) > 0 {
		l.Extras = c.layout.ExtrasOf(row.Cells)
	}

	p := &out.Personal
	p.Name = cx.text(FName)
	p.NationalID = strings.ToUpper(cx.text(FNationalID))
	p.Phone = cx.text(FPhone)
	p.Address = cx.text(FAddress)
	p.Employer = cx.text(FEmployer)
	p.BankCard = cx.text(FBankCard)
	p.Contacts = cx.text(FContacts)

	c.crossCheck(&cx)
}

// CheckAcross applies the rules that relate a converted row to the rows before it: loan_id
// unique, one portfolio_id and cut-off date per tape. Call it in tape order.
func (c *Converter) CheckAcross(out *Result) {
	cx := rowCtx{c: c, row: out.row, out: out}
	l := &out.Loan
	if _, tracked := c.track[l.LoanID]; l.LoanID != "" && (c.track == nil || tracked) {
		if line, dup := c.seen[l.LoanID]; dup {
			cx.fail(FLoanID, l.LoanID, RuleLoanIDUnique, "row.loan_id_unique", msg.A("line", strconv.Itoa(line)))
		} else {
			c.seen[l.LoanID] = cx.row.Line
		}
	}
	if c.first {
		if l.PortfolioRef != "" && !l.CutOffDate.IsZero() {
			c.ref, c.cutOff, c.first = l.PortfolioRef, l.CutOffDate, false
		}
	} else {
		if l.PortfolioRef != "" && l.PortfolioRef != c.ref {
			cx.fail(FPortfolioID, l.PortfolioRef, RulePortfolioConsistent, "row.portfolio_differs", msg.A("first", c.ref))
		}
		if !l.CutOffDate.IsZero() && l.CutOffDate != c.cutOff {
			cx.fail(FCutOffDate, cx.raw(FCutOffDate), RulePortfolioConsistent, "row.cutoff_differs", msg.A("first", c.cutOff.String()))
		}
	}

}

// crossCheck applies the rules that relate a row's fields to each other.
func (c *Converter) crossCheck(cx *rowCtx) {
	l, p := &cx.out.Loan, &cx.out.Personal
	b := c.layout.Bindings

	// Derivations for absent columns.
	if b[FTotalClaim] == nil && !cx.bad(FPrincipal, FInterest, FFees) {
		if t, err := l.Claim(); err == nil {
			l.TotalClaim = t
		}
	}
	if b[FDaysPastDue] == nil && !l.CutOffDate.IsZero() && !l.DefaultDate.IsZero() {
		l.DaysPastDue = l.CutOffDate.Sub(l.DefaultDate)
	}
	if b[FLimitationExpiry] == nil && !l.DefaultDate.IsZero() {
		l.LimitationExpiryDate = workout.LimitationExpiry([]workout.LimitationEvent{
			{Kind: workout.LimDefault, On: l.DefaultDate}, {Kind: workout.LimPartPayment, On: l.LastPaymentDate}}).Expiry
	}

	for _, f := range []Field{FPrincipal, FInterest, FFees, FTotalClaim, FOriginalAmount, FLastPaymentAmount} {
		if a := cx.amountOf(f); a.Sign() < 0 {
			cx.fail(f, cx.raw(f), RuleNegativeAmount, "row.negative", nil)
		}
	}
	if !cx.bad(FPrincipal, FInterest, FFees, FTotalClaim) && !l.TotalClaim.IsAbsent() && !l.PrincipalOutstanding.IsAbsent() {
		if sum, err := l.Claim(); err != nil {
			cx.fail(FTotalClaim, cx.raw(FTotalClaim), RuleAmountFormat, "row.claim_overflow", nil)
		} else if sum != l.TotalClaim {
			cx.fail(FTotalClaim, cx.raw(FTotalClaim), RuleClaimSum, "row.claim_sum",
				msg.A("total", l.TotalClaim.String(), "sum", sum.String()))
		}
	}
	if !l.CutOffDate.IsZero() && !l.DefaultDate.IsZero() {
		if l.DefaultDate.After(l.CutOffDate) {
			cx.fail(FDefaultDate, cx.raw(FDefaultDate), RuleDefaultCutoff, "row.default_after_cutoff", msg.A("cutoff", l.CutOffDate.String()))
		}
		if b[FDaysPastDue] != nil && !cx.bad(FDaysPastDue, FDefaultDate) && cx.present(FDaysPastDue) {
			if want := l.CutOffDate.Sub(l.DefaultDate); want != l.DaysPastDue {
				cx.fail(FDaysPastDue, cx.raw(FDaysPastDue), RuleDPDConsistent, "row.dpd",
					msg.A("want", strconv.Itoa(want)))
			}
		}
	}
	if !l.CutOffDate.IsZero() && l.LastPaymentDate.After(l.CutOffDate) {
		cx.fail(FLastPaymentDate, cx.raw(FLastPaymentDate), RuleLastPaymentCutoff, "row.last_payment_after", msg.A("cutoff", l.CutOffDate.String()))
	}
	if l.LastPaymentDate.IsZero() && !l.LastPaymentAmount.IsAbsent() && l.LastPaymentAmount.IsZero() {
		l.LastPaymentAmount = money.Amount{} // a zero payment without a date is no payment
	}
	if !cx.bad(FLastPaymentDate, FLastPaymentAmount) && l.LastPaymentDate.IsZero() != l.LastPaymentAmount.IsAbsent() {
		if l.LastPaymentDate.IsZero() {
			cx.fail(FLastPaymentDate, "", RuleLastPaymentPair, "row.last_payment_no_date", nil)
		} else {
			cx.fail(FLastPaymentAmount, "", RuleLastPaymentPair, "row.last_payment_no_amount", nil)
		}
	}

	// Region and personal identifiers.
	chinese := l.Currency == money.CNY
	regionValid := chinese && l.RegionCode != "" && region.Valid(l.RegionCode) // looked up once
	if chinese && l.RegionCode != "" && !regionValid {
		cx.fail(FRegionCode, l.RegionCode, RuleRegionCode, "row.region_code", nil)
	}
	// Keys are stored, listed and written to bidder tapes (hashed) in clear: a seller who keys its
	// debtors by their national ID would put the ID beside every loan.
	for _, f := range []Field{FLoanID, FBorrowerID} {
		v := l.LoanID
		if f == FBorrowerID {
			v = l.BorrowerID
		}
		if len(v) == cnid.Length {
			if _, err := cnid.Validate(v); err == nil {
				cx.fail(f, "", RuleKeyPersonal, "row.key_personal", msg.A("field", Fields[f].Name))
			}
		}
	}
	if p.NationalID != "" {
		// The birth date inside the ID must be valid (design/tape.md): one after the tape's
		// cut-off date is not (a zero cut-off, itself an error, skips that check).
		info, err := cnid.ValidateAsOf(p.NationalID, l.CutOffDate)
		switch {
		case err != nil:
			code, args := idReason(err)
			cx.fail(FNationalID, cnid.Mask(p.NationalID), RuleNationalID, code, args)
		default:
			if !l.BirthDate.IsZero() && l.BirthDate != info.Birth {
				// Neither date is echoed: together with a masked ID they would rebuild it.
				cx.fail(FBirthDate, "", RuleNationalIDBirth, "row.id_birth_mismatch", nil)
			}
			if l.BirthDate.IsZero() {
				l.BirthDate = info.Birth
			}
			if len(l.RegionCode) == 6 && regionValid && l.RegionCode[:2] != info.Region[:2] {
				cx.fail(FRegionCode, l.RegionCode, RuleNationalIDRegion, "row.id_region", msg.A("province", info.Region[:2]+"0000"))
			}
		}
	}
	if l.Age < 0 && !l.BirthDate.IsZero() && !l.CutOffDate.IsZero() {
		l.Age = date.Age(l.BirthDate, l.CutOffDate)
	}
	if !l.BirthDate.IsZero() {
		// The date is personal data and travels sealed with the rest; the loan keeps the year.
		l.BirthYear = l.BirthDate.Year()
		p.BirthDate = l.BirthDate
	}
	if p.Phone != "" {
		if err := cnid.ValidMobile(p.Phone); err != nil {
			code, args := mobileReason(err)
			cx.fail(FPhone, cnid.MaskPhone(p.Phone), RuleMobile, code, args)
		}
	}
}

type rowCtx struct {
	c      *Converter
	row    Row
	out    *Result
	failed [NumFields]bool
}

func (cx *rowCtx) raw(f Field) string {
	v, _, _ := cx.c.layout.Value(f, cx.row.Cells)
	return v
}

func (cx *rowCtx) present(f Field) bool {
	_, _, ok := cx.c.layout.Value(f, cx.row.Cells)
	return ok
}

func (cx *rowCtx) bad(fs ...Field) bool {
	for _, f := range fs {
		if cx.failed[f] {
			return true
		}
	}
	return false
}

func (cx *rowCtx) amountOf(f Field) money.Amount {
	l := &cx.out.Loan
	switch f {
	case FPrincipal:
		return l.PrincipalOutstanding
	case FInterest:
		return l.InterestOutstanding
	case FFees:
		return l.FeesOutstanding
	case FTotalClaim:
		return l.TotalClaim
	case FOriginalAmount:
		return l.OriginalAmount
	case FLastPaymentAmount:
		return l.LastPaymentAmount
	}
	return money.Amount{}
}

// fail records a broken rule; f < 0 means the row as a whole. code and args name the message
// in the catalog of package msg (args never hold personal data); Message is its English render.
func (cx *rowCtx) fail(f Field, value, rule, code string, args msg.Args) {
	e := RowError{Line: cx.row.Line, Value: value, Rule: rule, Code: code, Args: args}
	e.Message = msg.Render(msg.EN, code, args)
	if f >= 0 {
		cx.failed[f] = true
		e.Field = Fields[f].Name
		if b := cx.c.layout.Bindings[f]; b != nil {
			e.Column = b.Header
		}
		if Fields[f].Personal && f != FNationalID && f != FPhone {
			if value != "" && strings.Contains(e.Message, value) {
				e.Code, e.Args = "row.personal_withheld", msg.A("field", Fields[f].Name)
				e.Message = msg.Render(msg.EN, e.Code, e.Args)
			}
			e.Value = "" // never echo personal data
		}
	}
	cx.out.Errors = append(cx.out.Errors, e)
}

// get returns the field's raw value, reporting a missing critical value.
func (cx *rowCtx) get(f Field) (string, *Binding, bool) {
	v, b, ok := cx.c.layout.Value(f, cx.row.Cells)
	// A field with no column at all is a finding about the tape (MissingCritical), not about
	// each row: only an empty cell of a bound critical field breaks the row's rule.
	if !ok && b != nil && Fields[f].Critical && !mayBeEmpty[f] {
		cx.fail(f, "", RuleRequired, "row.required", msg.A("field", Fields[f].Name))
	}
	return v, b, ok
}

func (cx *rowCtx) text(f Field) string {
	v, _, _ := cx.get(f)
	return v
}

func (cx *rowCtx) date(f Field) date.Date {
	v, b, ok := cx.get(f)
	if !ok {
		return date.Date{}
	}
	d, err := parseDate(v, b, cx.c.date1904)
	if err != nil {
		cx.fail(f, v, RuleDateFormat, dateCode(err, b), dateArgs(b))
		return date.Date{}
	}
	return d
}

// parseDate reads a date cell: the binding's layout when it has one, an Excel serial number when
// the cell is a plain number of at most five integer digits, or any form date.Parse accepts.
func parseDate(v string, b *Binding, date1904 bool) (date.Date, error) {
	if b != nil && b.DateLayout != "" {
		return date.ParseLayout(v, b.DateLayout)
	}
	if isSerial(v) {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil {
			return date.FromExcelSerial(f, date1904)
		}
	}
	return date.Parse(v)
}

func isSerial(v string) bool {
	intPart, frac, _ := strings.Cut(v, ".")
	if len(intPart) == 0 || len(intPart) > 5 {
		return false
	}
	for _, s := range []string{intPart, frac} {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
	}
	return true
}

func (cx *rowCtx) money(f Field, cur money.Currency) money.Amount {
	v, b, ok := cx.get(f)
	if !ok {
		return money.Amount{}
	}
	if b != nil && b.Parts != nil {
		return cx.sumOf(f, b, cur)
	}
	unit, mode := money.Major, money.Exact
	if b != nil && b.Unit != money.Major {
		unit, mode = b.Unit, money.HalfUp
	}
	a, err := money.ParseUnit(v, cur, unit, mode)
	if err != nil {
		cx.fail(f, v, RuleAmountFormat, "row."+amountCode(err), nil)
		return money.Amount{}
	}
	return a
}

// sumOf reads a summed money field: each part in its own unit (rounded half-up to the currency's
// minor unit, as a single scaled column is), added with overflow checked. Blank parts are zero.
func (cx *rowCtx) sumOf(f Field, b *Binding, cur money.Currency) money.Amount {
	total := money.Zero(cur)
	for _, p := range b.Parts {
		if p.Column >= len(cx.row.Cells) {
			continue
		}
		v := trimCell(cx.row.Cells[p.Column])
		if v == "" {
			continue
		}
		mode := money.Exact
		if p.Unit != money.Major {
			mode = money.HalfUp
		}
		a, err := money.ParseUnit(v, cur, p.Unit, mode)
		if err != nil {
			cx.fail(f, v, RuleAmountFormat, "row.part_"+amountCode(err), msg.A("column", p.Header))
			return money.Amount{}
		}
		if total, err = total.Add(a); err != nil {
			cx.fail(f, v, RuleAmountFormat, "row.sum_range", msg.A("column", b.Header))
			return money.Amount{}
		}
	}
	return total
}

func (cx *rowCtx) count(f Field, absent int) int {
	v, _, ok := cx.get(f)
	if !ok {
		return absent
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		// Spreadsheets write whole numbers as 12.0.
		if fl, ferr := strconv.ParseFloat(v, 64); ferr == nil && fl == float64(int64(fl)) && fl > -1e9 && fl < 1e9 {
			n, err = int(fl), nil
		}
	}
	if err != nil || n < 0 {
		cx.fail(f, v, RuleIntFormat, "row.int", nil)
		return absent
	}
	return n
}

func (cx *rowCtx) boolean(f Field) bool {
	v, b, ok := cx.get(f)
	if !ok {
		return false
	}
	t, absolute, known := lookupBool(f, v)
	if !known {
		cx.fail(f, v, RuleBoolFormat, "row.bool", nil)
		return false
	}
	if b != nil && b.Invert && !absolute {
		t = !t
	}
	return t
}

func (cx *rowCtx) enum(f Field) string {
	v, _, ok := cx.get(f)
	if !ok {
		return ""
	}
	if e, ok := lookupEnum(f, v); ok {
		return e
	}
	if f == FFiveCategory {
		if _, performing := notNPLGrade[foldValue(v)]; performing {
			cx.fail(f, v, RuleEnum, "row.enum_performing", nil)
			return ""
		}
	}
	cx.fail(f, v, RuleEnum, "row.enum", enumArgs(f))
	return ""
}
