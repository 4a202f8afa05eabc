// Package tape reads, maps, validates and writes loan tapes in Reclaim's canonical schema
// (shared/design/tape.md), and exports masked bidder tapes.
//
// The flow is: a Source yields a header and rows of text cells (CSV in UTF-8 or GBK, XLSX); a
// Layout binds columns to canonical fields through header aliases or a Mapping file; Convert turns
// each row into a reclaim.Loan and its reclaim.PersonalData, collecting every rule the row breaks
// as a located Issue instead of stopping at the first.
package tape

import (
	"strings"
	"unicode"

	"reclaim/money"
)

// Kind is the value type of a canonical field.
type Kind int

// Field kinds.
const (
	Text Kind = iota
	Date
	Money
	Int
	Bool
	Enum
	CurrencyCode
)

// Field identifies a canonical tape field by its index in Fields.
type Field int

// FieldSpec describes one canonical field.
type FieldSpec struct {
	Name     string   // canonical snake_case name, also the English header
	Kind     Kind     // value type
	Critical bool     // required for pricing: a row without it is invalid
	Personal bool     // personal data: encrypted at rest, never in a bidder tape
	ZH       string   // the Chinese header written on Chinese tapes
	Aliases  []string // other headers that mean this field; a leading "!" marks an inverted yes/no
	Enum     []string // valid canonical values for Enum fields
	EnumZH   map[string]string
}

// The canonical fields, in tape column order. Indices are stable: code refers to them by the
// constants below.
const (
	FPortfolioID Field = iota
	FCutOffDate
	FLoanID
	FBorrowerID
	FProductType
	FOriginationDate
	FOriginalAmount
	FCurrency
	FPrincipal
	FInterest
	FFees
	FTotalClaim
	FDefaultDate
	FDaysPastDue
	FFiveCategory
	FWrittenOff
	FWriteOffDate
	FSecurityType
	FLastPaymentDate
	FLastPaymentAmount
	FLegalStatus
	FLegalStartDate
	FCourt
	FLimitationExpiry
	FBirthDate
	FAge
	FRegionCode
	FDeceased
	FBankrupt
	FPhoneAvailable
	FLastContactDate
	FForbearanceCount
	FRepaymentPlanActive
	FAgencyPlacements
	FComplaintFlag
	FName
	FNationalID
	FPhone
	FAddress
	FEmployer
	FBankCard
	FContacts
	NumFields int = iota
)

// Fields is the canonical schema.
var Fields = [NumFields]FieldSpec{
	FPortfolioID:         {Name: "portfolio_id", Kind: Text, Critical: true, ZH: "资产包编号", Aliases: []string{"项目编号", "资产包号", "package_id", "pool_id"}},
	FCutOffDate:          {Name: "cut_off_date", Kind: Date, Critical: true, ZH: "基准日", Aliases: []string{"交易基准日", "封包日", "cutoff_date", "cut_off", "reference_date"}},
	FLoanID:              {Name: "loan_id", Kind: Text, Critical: true, ZH: "借据号", Aliases: []string{"贷款编号", "合同号", "借据编号", "loan_no", "account_id", "loan_number"}},
	FBorrowerID:          {Name: "borrower_id", Kind: Text, Critical: true, ZH: "客户号", Aliases: []string{"借款人编号", "客户编号", "customer_id", "debtor_id"}},
	FProductType:         {Name: "product_type", Kind: Enum, Critical: true, ZH: "产品类型", Aliases: []string{"业务品种", "product"}, Enum: []string{"credit_card", "consumer_loan", "business_loan", "auto_loan", "mortgage"}, EnumZH: map[string]string{"credit_card": "信用卡", "consumer_loan": "消费贷款", "business_loan": "个人经营贷款", "auto_loan": "汽车贷款", "mortgage": "住房按揭贷款"}},
	FOriginationDate:     {Name: "origination_date", Kind: Date, ZH: "放款日期", Aliases: []string{"发放日", "发放日期", "放款日", "issue_date"}},
	FOriginalAmount:      {Name: "original_amount", Kind: Money, ZH: "合同金额", Aliases: []string{"授信额度", "贷款金额", "credit_limit", "loan_amount"}},
	FCurrency:            {Name: "currency", Kind: CurrencyCode, ZH: "币种", Aliases: []string{"ccy"}},
	FPrincipal:           {Name: "principal_outstanding", Kind: Money, Critical: true, ZH: "本金余额", Aliases: []string{"未偿本金", "剩余本金", "principal", "outstanding_principal"}},
	FInterest:            {Name: "interest_outstanding", Kind: Money, Critical: true, ZH: "利息余额", Aliases: []string{"未偿利息", "欠息", "interest", "outstanding_interest"}},
	FFees:                {Name: "fees_outstanding", Kind: Money, ZH: "费用余额", Aliases: []string{"其他费用", "fees", "outstanding_fees"}},
	FTotalClaim:          {Name: "total_claim", Kind: Money, Critical: true, ZH: "本息费合计", Aliases: []string{"未偿本息总额", "债权总额", "claim", "total_outstanding"}},
	FDefaultDate:         {Name: "default_date", Kind: Date, Critical: true, ZH: "逾期起始日", Aliases: []string{"违约日", "逾期日期", "default_start_date"}},
	FDaysPastDue:         {Name: "days_past_due", Kind: Int, Critical: true, ZH: "逾期天数", Aliases: []string{"dpd"}},
	FFiveCategory:        {Name: "five_category", Kind: Enum, Critical: true, ZH: "五级分类", Aliases: []string{"五级分类结果", "loan_grade"}, Enum: []string{"substandard", "doubtful", "loss"}, EnumZH: map[string]string{"substandard": "次级", "doubtful": "可疑", "loss": "损失"}},
	FWrittenOff:          {Name: "written_off", Kind: Bool, Critical: true, ZH: "是否核销", Aliases: []string{"核销标识", "charged_off"}},
	FWriteOffDate:        {Name: "write_off_date", Kind: Date, ZH: "核销日期", Aliases: []string{"charge_off_date"}},
	FSecurityType:        {Name: "security_type", Kind: Enum, ZH: "担保方式", Aliases: []string{"security"}, Enum: []string{"unsecured", "guaranteed", "mortgage", "pledge"}, EnumZH: map[string]string{"unsecured": "信用", "guaranteed": "保证", "mortgage": "抵押", "pledge": "质押"}},
	FLastPaymentDate:     {Name: "last_payment_date", Kind: Date, Critical: true, ZH: "最后还款日", Aliases: []string{"最近还款日", "last_paid_date"}},
	FLastPaymentAmount:   {Name: "last_payment_amount", Kind: Money, Critical: true, ZH: "最后还款金额", Aliases: []string{"最近还款金额", "last_paid_amount"}},
	FLegalStatus:         {Name: "legal_status", Kind: Enum, Critical: true, ZH: "诉讼状态", Aliases: []string{"法律状态", "litigation_status"}, Enum: []string{"not_sued", "in_litigation", "mediated", "judgment", "enforcement", "enforcement_terminated", "closed"}, EnumZH: map[string]string{"not_sued": "未诉讼", "in_litigation": "诉讼中", "mediated": "已调解", "judgment": "已判决", "enforcement": "执行中", "enforcement_terminated": "终结本次执行", "closed": "已结案"}},
	FLegalStartDate:      {Name: "legal_start_date", Kind: Date, ZH: "起诉日期", Aliases: []string{"立案日期"}},
	FCourt:               {Name: "court", Kind: Text, ZH: "受理法院", Aliases: []string{"法院"}},
	FLimitationExpiry:    {Name: "limitation_expiry_date", Kind: Date, Critical: true, ZH: "诉讼时效到期日", Aliases: []string{"时效到期日", "limitation_date"}},
	FBirthDate:           {Name: "birth_date", Kind: Date, Personal: true, ZH: "出生日期", Aliases: []string{"date_of_birth", "dob"}},
	FAge:                 {Name: "age", Kind: Int, ZH: "年龄"},
	FRegionCode:          {Name: "region_code", Kind: Text, Critical: true, ZH: "行政区划代码", Aliases: []string{"户籍地", "地区代码", "region"}},
	FDeceased:            {Name: "deceased", Kind: Bool, ZH: "是否身故", Aliases: []string{"是否死亡"}},
	FBankrupt:            {Name: "bankrupt", Kind: Bool, ZH: "是否破产"},
	FPhoneAvailable:      {Name: "phone_available", Kind: Bool, Critical: true, ZH: "电话是否有效", Aliases: []string{"!是否失联", "!lost_contact", "contactable"}},
	FLastContactDate:     {Name: "last_contact_date", Kind: Date, ZH: "最近联系日期", Aliases: []string{"最后联系日期"}},
	FForbearanceCount:    {Name: "forbearance_count", Kind: Int, ZH: "重组次数", Aliases: []string{"展期重组次数"}},
	FRepaymentPlanActive: {Name: "repayment_plan_active", Kind: Bool, ZH: "是否分期中", Aliases: []string{"是否在分期"}},
	FAgencyPlacements:    {Name: "agency_placements", Kind: Int, Critical: true, ZH: "委外次数", Aliases: []string{"委外催收次数"}},
	FComplaintFlag:       {Name: "complaint_flag", Kind: Bool, ZH: "是否投诉", Aliases: []string{"投诉标识"}},
	FName:                {Name: "name", Kind: Text, Personal: true, ZH: "姓名", Aliases: []string{"借款人姓名", "客户姓名", "borrower_name"}},
	FNationalID:          {Name: "national_id", Kind: Text, Personal: true, ZH: "身份证号", Aliases: []string{"证件号码", "身份证号码", "id_number"}},
	FPhone:               {Name: "phone", Kind: Text, Personal: true, ZH: "手机号", Aliases: []string{"手机号码", "联系电话", "mobile"}},
	FAddress:             {Name: "address", Kind: Text, Personal: true, ZH: "地址", Aliases: []string{"家庭住址", "户籍地址", "住址"}},
	FEmployer:            {Name: "employer", Kind: Text, Personal: true, ZH: "工作单位", Aliases: []string{"单位名称"}},
	FBankCard:            {Name: "bank_card", Kind: Text, Personal: true, ZH: "银行卡号", Aliases: []string{"还款卡号", "card_number"}},
	FContacts:            {Name: "contacts", Kind: Text, Personal: true, ZH: "联系人", Aliases: []string{"紧急联系人"}},
}

// Spec returns the field's description.
func (f Field) Spec() *FieldSpec { return &Fields[f] }

// String returns the canonical name.
func (f Field) String() string {
	if f < 0 || int(f) >= NumFields {
		return "field(?)"
	}
	return Fields[f].Name
}

// FieldByName returns the field with the canonical name.
func FieldByName(name string) (Field, bool) {
	f, ok := byName[name]
	return f, ok
}

type aliasTarget struct {
	field  Field
	invert bool
}

var (
	byName  = map[string]Field{}
	byAlias = map[string]aliasTarget{}
)

func init() {
	for i := range Fields {
		f := Field(i)
		byName[Fields[i].Name] = f
		byAlias[NormalizeHeader(Fields[i].Name)] = aliasTarget{field: f}
		byAlias[NormalizeHeader(Fields[i].ZH)] = aliasTarget{field: f}
		for _, a := range Fields[i].Aliases {
			inv := strings.HasPrefix(a, "!")
			byAlias[NormalizeHeader(strings.TrimPrefix(a, "!"))] = aliasTarget{field: f, invert: inv}
		}
	}
}

// NormalizeHeader folds a header for alias matching: it drops a unit in brackets ("(元)",
// "（万元）"), spaces, underscores, hyphens and dots, full-width forms, and case.
func NormalizeHeader(h string) string {
	h, _ = SplitHeaderUnit(h)
	var b strings.Builder
	for _, r := range h {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case r == '_' || r == '-' || r == '.' || r == '\u3000' || unicode.IsSpace(r):
			continue
		case r == '\ufeff':
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// SplitHeaderUnit removes a trailing unit annotation from a header and returns the unit it names:
// "本金余额(万元)" is ("本金余额", Wan). Headers without a unit return money.Major.
func SplitHeaderUnit(h string) (string, money.Unit) {
	h = strings.TrimSpace(h)
	for _, p := range [][2]string{{"(", ")"}, {"（", "）"}, {"[", "]"}} {
		if !strings.HasSuffix(h, p[1]) {
			continue
		}
		i := strings.LastIndex(h, p[0])
		if i < 0 {
			continue
		}
		inner := strings.TrimSpace(h[i+len(p[0]) : len(h)-len(p[1])])
		base := strings.TrimSpace(h[:i])
		switch strings.ToLower(inner) {
		case "元", "人民币元", "yuan", "cny", "usd", "$", "¥":
			return base, money.Major
		case "万元", "万", "10k", "wan":
			return base, money.Wan
		case "千元", "thousand", "k":
			return base, money.Thousand
		case "亿元", "亿":
			return base, money.Yi
		case "分", "cents", "fen":
			return base, money.Cent
		}
		return base, money.Major
	}
	return h, money.Major
}

// MatchHeader returns the canonical field a header names, whether the header inverts a yes/no
// field ("是否失联" is the negation of phone_available), and the unit the header declares.
func MatchHeader(h string) (f Field, invert bool, unit money.Unit, ok bool) {
	_, unit = SplitHeaderUnit(h)
	t, ok := byAlias[NormalizeHeader(h)]
	return t.field, t.invert, unit, ok
}

// Header returns the header a writer puts on the field's column: the canonical name for English
// tapes, the Chinese header (with a unit for money columns) for Chinese ones.
func Header(f Field, chinese bool, unit money.Unit) string {
	s := &Fields[f]
	if !chinese {
		if s.Kind == Money && unit == money.Wan {
			return s.Name + " (10k)"
		}
		return s.Name
	}
	if s.Kind == Money {
		switch unit {
		case money.Wan:
			return s.ZH + "(万元)"
		default:
			return s.ZH + "(元)"
		}
	}
	return s.ZH
}
