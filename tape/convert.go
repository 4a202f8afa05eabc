package tape

import (
	"strconv"
	"strings"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
	"reclaim/region"
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
		cx.fail(-1, "", RuleColumns, "row has "+strconv.Itoa(len(row.Cells))+" cells, the header has "+strconv.Itoa(len(c.layout.Header)))
	}

	cur := money.DefaultCurrency
	if raw, _, ok := c.layout.Value(FCurrency, row.Cells); ok {
		cc := money.Currency(strings.ToUpper(raw))
		if !cc.Valid() {
			cx.fail(FCurrency, raw, RuleCurrency, "not an ISO 4217 currency code")
		} else {
			cur = cc
		}
	}
	l.Currency = cur

	l.PortfolioRef = cx.text(FPortfolioID)
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
	l.Court = cx.text(FCourt)
	l.LimitationExpiryDate = cx.date(FLimitationExpiry)
	l.BirthDate = cx.date(FBirthDate)
	l.Age = cx.count(FAge, -1)
	l.RegionCode = cx.text(FRegionCode)
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
			cx.fail(FLoanID, l.LoanID, RuleLoanIDUnique, "loan_id already used on line "+strconv.Itoa(line))
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
			cx.fail(FPortfolioID, l.PortfolioRef, RulePortfolioConsistent, "portfolio_id differs from the first row's "+c.ref+"; split the tape per portfolio")
		}
		if !l.CutOffDate.IsZero() && l.CutOffDate != c.cutOff {
			cx.fail(FCutOffDate, cx.raw(FCutOffDate), RulePortfolioConsistent, "cut_off_date differs from the first row's "+c.cutOff.String())
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
		from := l.DefaultDate
		if l.LastPaymentDate.After(from) {
			from = l.LastPaymentDate
		}
		l.LimitationExpiryDate = from.AddYears(3)
	}

	for _, f := range []Field{FPrincipal, FInterest, FFees, FTotalClaim, FOriginalAmount, FLastPaymentAmount} {
		if a := cx.amountOf(f); a.Sign() < 0 {
			cx.fail(f, cx.raw(f), RuleNegativeAmount, "a balance cannot be negative")
		}
	}
	if !cx.bad(FPrincipal, FInterest, FFees, FTotalClaim) && !l.TotalClaim.IsAbsent() && !l.PrincipalOutstanding.IsAbsent() {
		if sum, err := l.Claim(); err != nil {
			cx.fail(FTotalClaim, cx.raw(FTotalClaim), RuleAmountFormat, "principal + interest + fees overflows")
		} else if sum != l.TotalClaim {
			cx.fail(FTotalClaim, cx.raw(FTotalClaim), RuleClaimSum,
				"total_claim "+l.TotalClaim.String()+" != principal + interest + fees = "+sum.String())
		}
	}
	if !l.CutOffDate.IsZero() && !l.DefaultDate.IsZero() {
		if l.DefaultDate.After(l.CutOffDate) {
			cx.fail(FDefaultDate, cx.raw(FDefaultDate), RuleDefaultCutoff, "default_date is after the cut-off date "+l.CutOffDate.String())
		}
		if b[FDaysPastDue] != nil && !cx.bad(FDaysPastDue, FDefaultDate) && cx.present(FDaysPastDue) {
			if want := l.CutOffDate.Sub(l.DefaultDate); want != l.DaysPastDue {
				cx.fail(FDaysPastDue, cx.raw(FDaysPastDue), RuleDPDConsistent,
					"days_past_due should be cut_off_date - default_date = "+strconv.Itoa(want))
			}
		}
	}
	if !l.CutOffDate.IsZero() && l.LastPaymentDate.After(l.CutOffDate) {
		cx.fail(FLastPaymentDate, cx.raw(FLastPaymentDate), RuleLastPaymentCutoff, "last_payment_date is after the cut-off date "+l.CutOffDate.String())
	}
	if l.LastPaymentDate.IsZero() && !l.LastPaymentAmount.IsAbsent() && l.LastPaymentAmount.IsZero() {
		l.LastPaymentAmount = money.Amount{} // a zero payment without a date is no payment
	}
	if !cx.bad(FLastPaymentDate, FLastPaymentAmount) && l.LastPaymentDate.IsZero() != l.LastPaymentAmount.IsAbsent() {
		if l.LastPaymentDate.IsZero() {
			cx.fail(FLastPaymentDate, "", RuleLastPaymentPair, "a last payment amount is given without its date")
		} else {
			cx.fail(FLastPaymentAmount, "", RuleLastPaymentPair, "a last payment date is given without its amount")
		}
	}

	// Region and personal identifiers.
	chinese := l.Currency == money.CNY
	if chinese && l.RegionCode != "" && !region.Valid(l.RegionCode) {
		cx.fail(FRegionCode, l.RegionCode, RuleRegionCode, "not a GB/T 2260 administrative division code")
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
				cx.fail(f, "", RuleKeyPersonal, Fields[f].Name+" is a national ID; keys are kept in clear, so the seller must use another key")
			}
		}
	}
	if p.NationalID != "" {
		info, err := cnid.Validate(p.NationalID)
		switch {
		case err != nil:
			cx.fail(FNationalID, cnid.Mask(p.NationalID), RuleNationalID, "national ID: "+reason(err))
		default:
			if !l.BirthDate.IsZero() && l.BirthDate != info.Birth {
				// Neither date is echoed: together with a masked ID they would rebuild it.
				cx.fail(FBirthDate, "", RuleNationalIDBirth, "birth_date differs from the birth date inside the national ID")
			}
			if l.BirthDate.IsZero() {
				l.BirthDate = info.Birth
			}
			if chinese && len(l.RegionCode) == 6 && region.Valid(l.RegionCode) && l.RegionCode[:2] != info.Region[:2] {
				cx.fail(FRegionCode, l.RegionCode, RuleNationalIDRegion, "the national ID's province is "+info.Region[:2]+"0000")
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
			cx.fail(FPhone, cnid.MaskPhone(p.Phone), RuleMobile, "mobile: "+reason(err)+" (a mobile number has 11 digits and starts with 13 to 19)")
		}
	}
}

// reason is a cnid error without its package prefix: "10 characters, want 11 digits". The
// messages of package cnid describe what is wrong (length, position of a bad character, prefix,
// check digit) and never repeat the value, so they are safe beside a masked value.
func reason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
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

// fail records a broken rule; f < 0 means the row as a whole.
func (cx *rowCtx) fail(f Field, value, rule, msg string) {
	e := RowError{Line: cx.row.Line, Value: value, Rule: rule, Message: msg}
	if f >= 0 {
		cx.failed[f] = true
		e.Field = Fields[f].Name
		if b := cx.c.layout.Bindings[f]; b != nil {
			e.Column = b.Header
		}
		if Fields[f].Personal && f != FNationalID && f != FPhone {
			if value != "" && strings.Contains(e.Message, value) {
				e.Message = Fields[f].Name + ": the value (withheld: personal data) is not valid"
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
		cx.fail(f, "", RuleRequired, Fields[f].Name+" is required")
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
		cx.fail(f, v, RuleDateFormat, err.Error())
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
		cx.fail(f, v, RuleAmountFormat, amountMessage(err))
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
		v := strings.TrimSpace(cx.row.Cells[p.Column])
		if v == "" {
			continue
		}
		mode := money.Exact
		if p.Unit != money.Major {
			mode = money.HalfUp
		}
		a, err := money.ParseUnit(v, cur, p.Unit, mode)
		if err != nil {
			cx.fail(f, v, RuleAmountFormat, p.Header+": "+amountMessage(err))
			return money.Amount{}
		}
		if total, err = total.Add(a); err != nil {
			cx.fail(f, v, RuleAmountFormat, "the sum of "+b.Header+" is out of range")
			return money.Amount{}
		}
	}
	return total
}

func amountMessage(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "out of range"):
		return "amount out of range"
	case strings.Contains(s, "more decimals"):
		return "more decimals than the currency's minor unit"
	}
	return "not an amount (digits, optional thousand separators and decimal point)"
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
		cx.fail(f, v, RuleIntFormat, "not a whole number of zero or more")
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
		cx.fail(f, v, RuleBoolFormat, "not a yes/no value (是/否, 有/无, Y/N, true/false, 1/0)")
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
			cx.fail(f, v, RuleEnum, "a performing grade (正常/关注); a non-performing loan is substandard, doubtful or loss (次级/可疑/损失)")
			return ""
		}
	}
	cx.fail(f, v, RuleEnum, "expected one of "+strings.Join(Fields[f].Enum, ", ")+" (or a label listed in docs/tape-mapping.md)")
	return ""
}
