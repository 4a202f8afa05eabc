package tape

import (
	"strings"
	"unicode"
)

// The value vocabularies of real sellers' tapes. A tape says 已判未执 where the canonical schema
// says judgment, 次级类 for substandard and 有/无 for yes/no; every form below is accepted, and
// docs/tape-mapping.md lists them. A seller's own word that is not here goes into a mapping
// file's `values:` table.
//
// Matching folds the cell first (foldValue): surrounding and inner spaces, full-width forms,
// case, and the separators "-", "_" and "·" do not matter, so "Sub-standard", "ＳＵＢＳＴＡＮＤＡＲＤ"
// and "sub standard" all read as substandard.

// enumVocab maps folded seller labels to canonical enum values, per field. The canonical values
// themselves (folded) are always accepted too.
var enumVocab = map[Field]map[string]string{
	FProductType: words(map[string][]string{
		"credit_card": {"信用卡", "贷记卡", "准贷记卡", "信用卡透支", "信用卡分期", "卡贷", "credit card", "card"},
		"consumer_loan": {"消费贷", "消费贷款", "个人消费贷款", "个人消费贷", "消费金融", "个人信用贷款", "信用贷款",
			"现金贷", "网贷", "互联网贷款", "小额贷款", "个人贷款", "消费分期", "现金分期", "consumer loan", "consumer",
			"personal loan"},
		"business_loan": {"经营贷", "经营贷款", "个人经营贷款", "个人经营性贷款", "经营性贷款", "小微贷款", "个体工商户贷款",
			"business loan", "business"},
		"auto_loan": {"车贷", "汽车贷款", "汽车消费贷款", "个人汽车贷款", "个人汽车消费贷款", "车辆贷款", "汽车金融",
			"auto loan", "auto", "car loan"},
		"mortgage": {"房贷", "住房按揭贷款", "住房贷款", "个人住房贷款", "个人住房按揭贷款", "按揭贷款", "房屋按揭",
			"mortgage loan", "home loan"},
	}),
	FFiveCategory: words(map[string][]string{
		// Banks code the five categories 1-5 (正常, 关注, 次级, 可疑, 损失); only the last three are
		// non-performing.
		"substandard": {"次级", "次级类", "次级贷款", "3", "03", "sub standard"},
		"doubtful":    {"可疑", "可疑类", "可疑贷款", "4", "04"},
		"loss":        {"损失", "损失类", "损失贷款", "5", "05"},
	}),
	FSecurityType: words(map[string][]string{
		"unsecured":  {"信用", "纯信用", "信用类", "无担保", "无", "none", "unsecured loan", "clean"},
		"guaranteed": {"保证", "担保", "保证担保", "保证人", "有保证人", "联保", "第三方保证", "guarantee", "guarantor"},
		"mortgage":   {"抵押", "抵押担保", "房产抵押", "车辆抵押", "secured by mortgage"},
		"pledge":     {"质押", "质押担保", "权利质押"},
	}),
	FLegalStatus: words(map[string][]string{
		"not_sued": {"未诉", "未诉讼", "未起诉", "尚未起诉", "未涉诉", "无诉讼", "非诉", "诉前", "not sued",
			"no litigation", "pre-litigation"},
		"mediated": {"诉前调解", "调解", "已调解", "调解中", "诉讼调解", "达成调解", "已达成调解", "调解结案", "mediation"},
		"in_litigation": {"诉讼中", "已诉未判", "已起诉", "已起诉未判决", "起诉中", "已诉", "涉诉", "已立案", "立案",
			"审理中", "一审", "一审中", "二审", "二审中", "上诉中", "litigation", "sued", "in court"},
		"judgment": {"判决", "已判决", "已判", "已判未执", "已判决未执行", "判决未执行", "判决生效", "已生效判决", "胜诉",
			"已胜诉", "judgement", "judged"},
		"enforcement": {"执行中", "执行", "强制执行", "强制执行中", "已执行", "申请执行", "已申请执行", "已立案执行",
			"恢复执行", "已恢复执行", "in enforcement", "enforcing"},
		"enforcement_terminated": {"终本", "已终本", "终本执行", "终本裁定", "终结本次执行", "终结本次执行程序",
			"已终结本次执行", "终结执行", "terminated", "enforcement terminated"},
		"closed": {"结案", "已结案", "执行完毕", "已执行完毕", "执行结案", "closed case"},
	}),
}

// notNPLGrade lists five-category labels of performing loans: a tape of bad loans that says 正常
// or 关注 is told so, rather than shown the list of valid grades.
var notNPLGrade = words(map[string][]string{"performing": {"正常", "正常类", "关注", "关注类", "1", "01", "2", "02",
	"pass", "normal", "special mention"}})

// boolWords are the generic yes/no forms; a column that means the opposite (是否失联 for
// phone_available) inverts them.
var boolWords = words(map[string][]string{
	"true":  {"是", "有", "y", "yes", "true", "t", "1", "1.0", "√", "✓", "对"},
	"false": {"否", "无", "n", "no", "false", "f", "0", "0.0", "×", "✗", "╳", "错", "没有"},
})

// fieldBoolWords are words that carry their own meaning for one field (失联 says the phone is not
// available whatever the column is called), so a column's inversion does not apply to them.
var fieldBoolWords = map[Field]map[string]string{
	FPhoneAvailable: labelsOnly(map[string][]string{
		"true":  {"未失联", "可联", "可联系", "能联系", "联系正常", "有效", "正常", "reachable", "contactable"},
		"false": {"失联", "已失联", "不可联", "无法联系", "联系不上", "无效", "空号", "停机", "lost", "lost contact", "unreachable"},
	}),
	FWrittenOff: labelsOnly(map[string][]string{
		"true":  {"已核销", "核销"},
		"false": {"未核销", "表内"},
	}),
	FDeceased: labelsOnly(map[string][]string{
		"true":  {"身故", "已身故", "死亡", "已死亡", "已故", "deceased", "dead"},
		"false": {"健在", "未身故", "alive"},
	}),
	FBankrupt: labelsOnly(map[string][]string{
		"true":  {"破产", "已破产", "bankrupt"},
		"false": {"未破产"},
	}),
	FComplaintFlag: labelsOnly(map[string][]string{
		"true":  {"已投诉", "投诉", "有投诉"},
		"false": {"未投诉", "无投诉"},
	}),
	FRepaymentPlanActive: labelsOnly(map[string][]string{
		"true":  {"分期中", "还款中", "在分期"},
		"false": {"未分期", "无分期"},
	}),
}

// labelsOnly is words without the canonical values themselves: "true" under a column that means
// the opposite must still be inverted.
func labelsOnly(m map[string][]string) map[string]string {
	out := words(m)
	for canon := range m {
		delete(out, foldValue(canon))
	}
	return out
}

// words inverts a canonical -> labels table into folded label -> canonical, adding each canonical
// value itself.
func words(m map[string][]string) map[string]string {
	out := make(map[string]string)
	for canon, labels := range m {
		out[foldValue(canon)] = canon
		for _, l := range labels {
			k := foldValue(l)
			if prev, dup := out[k]; dup && prev != canon {
				panic("tape: vocabulary label " + l + " means both " + prev + " and " + canon)
			}
			out[k] = canon
		}
	}
	return out
}

// foldValue normalises a cell for vocabulary look-up: trimmed, full-width forms folded to ASCII,
// lower case, without spaces (ASCII, ideographic, no-break) and the separators - _ ·.
func foldValue(v string) string {
	if alreadyFolded(v) {
		return v // most cells of a clean tape: nothing to allocate
	}
	return foldValueSlow(v)
}

// alreadyFolded reports whether foldValueSlow would return v unchanged: ASCII with no upper-case
// letter, space, '-' or '_'.
func alreadyFolded(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') || c == '-' || c == '_' || c == ' ' || ('\t' <= c && c <= '\r') {
			return false
		}
	}
	return true
}

func foldValueSlow(v string) string {
	v = strings.TrimSpace(v)
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case r == '-' || r == '_' || r == '·' || r == '\u3000' || unicode.IsSpace(r):
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// lookupEnum returns the canonical value of a seller's label for an enum field.
func lookupEnum(f Field, v string) (string, bool) {
	if f >= 0 && int(f) < NumFields {
		for _, w := range enumExact[f] {
			if v == w.v {
				return w.e, w.ok
			}
		}
	}
	return lookupEnumFolded(f, v)
}

// exactEnum is lookupEnum's answer for a cell that is written exactly v.
type exactEnum struct {
	v, e string
	ok   bool
}

// enumExact holds lookupEnum's answers for each enum field's canonical values as written, the
// usual cells of a tape in Reclaim's schema: they are found by comparing strings, without folding
// the cell ("consumer_loan" would be copied without its '_') and two map look-ups.
var enumExact = func() [NumFields][]exactEnum {
	var m [NumFields][]exactEnum
	for i := range Fields {
		for _, e := range Fields[i].Enum {
			c, ok := lookupEnumFolded(Field(i), e)
			m[i] = append(m[i], exactEnum{v: e, e: c, ok: ok})
		}
	}
	return m
}()

func lookupEnumFolded(f Field, v string) (string, bool) {
	k := foldValue(v)
	if e, ok := foldedEnum[f][k]; ok {
		return e, true
	}
	e, ok := enumVocab[f][k]
	return e, ok
}

// foldedEnum maps each enum field's canonical values, folded, to the first canonical value with
// that folded form (the order lookupEnum used to try them in).
var foldedEnum = func() [NumFields]map[string]string {
	var m [NumFields]map[string]string
	for i := range Fields {
		if len(Fields[i].Enum) == 0 {
			continue
		}
		m[i] = map[string]string{}
		for _, e := range Fields[i].Enum {
			if _, dup := m[i][foldValue(e)]; !dup {
				m[i][foldValue(e)] = e
			}
		}
	}
	return m
}()

// lookupBool reads a yes/no cell for field f. absolute reports a word that means one thing for
// the field whatever its column's header (失联), to which a column's inversion does not apply.
func lookupBool(f Field, v string) (value, absolute, ok bool) {
	if f >= 0 && int(f) < NumFields {
		for _, w := range boolExact[f] {
			if v == w.v {
				return w.value, w.absolute, w.ok
			}
		}
	}
	return lookupBoolFolded(f, v)
}

// exactBool is lookupBool's answer for a cell that is written exactly v.
type exactBool struct {
	v                   string
	value, absolute, ok bool
}

// commonBoolCells are the yes/no cells most tapes write, whose look-up boolExact holds for every
// field, so that they are found without folding the cell and two map look-ups.
var commonBoolCells = []string{"true", "false", "是", "否", "Y", "N", "y", "n", "1", "0", "有", "无", "TRUE", "FALSE", "yes", "no"}

var boolExact = func() [NumFields][]exactBool {
	var m [NumFields][]exactBool
	for i := range Fields {
		if Fields[i].Kind != Bool {
			continue
		}
		for _, v := range commonBoolCells {
			t, abs, ok := lookupBoolFolded(Field(i), v)
			m[i] = append(m[i], exactBool{v: v, value: t, absolute: abs, ok: ok})
		}
	}
	return m
}()

func lookupBoolFolded(f Field, v string) (value, absolute, ok bool) {
	k := foldValue(v)
	if s, hit := fieldBoolWords[f][k]; hit {
		return s == "true", true, true
	}
	if s, hit := boolWords[k]; hit {
		return s == "true", false, true
	}
	return false, false, false
}

// Vocabulary returns the accepted labels of an enum or yes/no field, canonical value -> labels,
// for documentation and help output. Labels are in their folded form.
func Vocabulary(f Field) map[string][]string {
	out := map[string][]string{}
	add := func(m map[string]string) {
		for label, canon := range m {
			out[canon] = append(out[canon], label)
		}
	}
	switch Fields[f].Kind {
	case Enum:
		add(enumVocab[f])
	case Bool:
		add(boolWords)
		add(fieldBoolWords[f])
	}
	return out
}
