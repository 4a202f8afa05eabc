package tape

import (
	"strconv"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// EncodeOptions says how EncodeLoan writes values.
type EncodeOptions struct {
	// Chinese writes Chinese headers, enum labels (信用卡) and yes/no as 是/否.
	Chinese bool
	// Unit writes money columns in a larger unit (money.Wan for 万元) with enough decimals to stay
	// exact to the fen.
	Unit money.Unit
	// DateStyle is "iso" (2024-01-31, the default), "slash" (2024/1/31) or "chinese" (2024年1月31日).
	DateStyle string
}

// AllColumns returns every canonical field in schema order; without includePersonal the personal
// fields are left out.
func AllColumns(includePersonal bool) []Field {
	cols := make([]Field, 0, NumFields)
	for i := 0; i < NumFields; i++ {
		if !includePersonal && Fields[i].Personal {
			continue
		}
		cols = append(cols, Field(i))
	}
	return cols
}

// HeaderRow returns the header cells for cols under opts.
func HeaderRow(cols []Field, opts EncodeOptions) []string {
	h := make([]string, len(cols))
	for i, f := range cols {
		h[i] = Header(f, opts.Chinese, opts.Unit)
	}
	return h
}

// EncodeLoan writes a loan (and, when p is non-nil, its personal data) as tape cells for cols.
// Absent optional values are empty cells. Convert reads the cells back to an equal Loan.
func EncodeLoan(l *reclaim.Loan, p *reclaim.PersonalData, cols []Field, opts EncodeOptions) []string {
	out := make([]string, len(cols))
	for i, f := range cols {
		out[i] = encodeField(l, p, f, opts)
	}
	return out
}

func encodeField(l *reclaim.Loan, p *reclaim.PersonalData, f Field, o EncodeOptions) string {
	switch f {
	case FPortfolioID:
		return l.PortfolioRef
	case FCutOffDate:
		return encDate(l.CutOffDate, o)
	case FLoanID:
		return l.LoanID
	case FBorrowerID:
		return l.BorrowerID
	case FProductType:
		return encEnum(f, string(l.ProductType), o)
	case FOriginationDate:
		return encDate(l.OriginationDate, o)
	case FOriginalAmount:
		return encMoney(l.OriginalAmount, o)
	case FCurrency:
		return string(l.Currency)
	case FPrincipal:
		return encMoney(l.PrincipalOutstanding, o)
	case FInterest:
		return encMoney(l.InterestOutstanding, o)
	case FFees:
		return encMoney(l.FeesOutstanding, o)
	case FTotalClaim:
		return encMoney(l.TotalClaim, o)
	case FDefaultDate:
		return encDate(l.DefaultDate, o)
	case FDaysPastDue:
		return strconv.Itoa(l.DaysPastDue)
	case FFiveCategory:
		return encEnum(f, string(l.FiveCategory), o)
	case FWrittenOff:
		return encBool(l.WrittenOff, o)
	case FWriteOffDate:
		return encDate(l.WriteOffDate, o)
	case FSecurityType:
		return encEnum(f, string(l.SecurityType), o)
	case FLastPaymentDate:
		return encDate(l.LastPaymentDate, o)
	case FLastPaymentAmount:
		return encMoney(l.LastPaymentAmount, o)
	case FLegalStatus:
		return encEnum(f, string(l.LegalStatus), o)
	case FLegalStartDate:
		return encDate(l.LegalStartDate, o)
	case FCourt:
		return l.Court
	case FLimitationExpiry:
		return encDate(l.LimitationExpiryDate, o)
	case FBirthDate:
		if l.BirthDate.IsZero() && p != nil {
			return encDate(p.BirthDate, o) // a loan read from the store keeps only the year
		}
		return encDate(l.BirthDate, o)
	case FAge:
		return encCount(l.Age)
	case FRegionCode:
		return l.RegionCode
	case FDeceased:
		return encBool(l.Deceased, o)
	case FBankrupt:
		return encBool(l.Bankrupt, o)
	case FPhoneAvailable:
		return encBool(l.PhoneAvailable, o)
	case FLastContactDate:
		return encDate(l.LastContactDate, o)
	case FForbearanceCount:
		return encCount(l.ForbearanceCount)
	case FRepaymentPlanActive:
		return encBool(l.RepaymentPlanActive, o)
	case FAgencyPlacements:
		return strconv.Itoa(l.AgencyPlacements)
	case FComplaintFlag:
		return encBool(l.ComplaintFlag, o)
	}
	if p == nil {
		return ""
	}
	switch f {
	case FName:
		return p.Name
	case FNationalID:
		return p.NationalID
	case FPhone:
		return p.Phone
	case FAddress:
		return p.Address
	case FEmployer:
		return p.Employer
	case FBankCard:
		return p.BankCard
	case FContacts:
		return p.Contacts
	}
	return ""
}

func encDate(d date.Date, o EncodeOptions) string {
	if d.IsZero() {
		return ""
	}
	switch o.DateStyle {
	case "slash":
		y, m, dd := d.Date()
		return strconv.Itoa(y) + "/" + strconv.Itoa(int(m)) + "/" + strconv.Itoa(dd)
	case "chinese":
		y, m, dd := d.Date()
		return strconv.Itoa(y) + "年" + strconv.Itoa(int(m)) + "月" + strconv.Itoa(dd) + "日"
	}
	return d.String()
}

func encMoney(a money.Amount, o EncodeOptions) string {
	if a.IsAbsent() {
		return ""
	}
	if o.Unit > 0 {
		// Enough decimals to keep the fen exact: unit digits plus the currency's minor digits.
		return a.InUnit(o.Unit, int(o.Unit)+a.Currency().Digits(), money.Exact)
	}
	return a.String()
}

func encEnum(f Field, v string, o EncodeOptions) string {
	if o.Chinese {
		if zh, ok := Fields[f].EnumZH[v]; ok {
			return zh
		}
	}
	return v
}

func encBool(b bool, o EncodeOptions) string {
	switch {
	case o.Chinese && b:
		return "是"
	case o.Chinese:
		return "否"
	case b:
		return "true"
	}
	return "false"
}

func encCount(n int) string {
	if n < 0 {
		return ""
	}
	return strconv.Itoa(n)
}
