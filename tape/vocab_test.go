package tape

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// convertOne converts the fixture loan with one column replaced by value, under header h for
// that column (the canonical header when h is "").
func convertOne(t *testing.T, f Field, h, value string) Result {
	t.Helper()
	l, p := fixture()
	cols := AllColumns(true)
	header := HeaderRow(cols, EncodeOptions{})
	row := EncodeLoan(&l, &p, cols, EncodeOptions{})
	i := slices.Index(cols, f)
	if h != "" {
		header[i] = h
	}
	row[i] = value
	return convertCells(t, header, nil, row)[0]
}

// TestEnumVocabulary reads every label of every enum field's vocabulary, in its written form and
// in forms sellers produce (full width, padded, upper case), and expects its canonical value.
func TestEnumVocabulary(t *testing.T) {
	for _, f := range []Field{FProductType, FFiveCategory, FSecurityType, FLegalStatus} {
		for canon, labels := range Vocabulary(f) {
			for _, label := range labels {
				for _, form := range []string{label, " " + strings.ToUpper(label) + " ", fullWidth(label)} {
					res := convertOne(t, f, "", form)
					var got string
					switch f {
					case FProductType:
						got = string(res.Loan.ProductType)
					case FFiveCategory:
						got = string(res.Loan.FiveCategory)
					case FSecurityType:
						got = string(res.Loan.SecurityType)
					case FLegalStatus:
						got = string(res.Loan.LegalStatus)
					}
					if got != canon || !res.OK() {
						t.Errorf("%s %q: got %q (errors %v), want %s", f, form, got, res.Errors, canon)
					}
				}
			}
		}
	}
}

// TestLegalStatusFromRealTapes pins the labels that the issue names: values real tapes carry.
func TestLegalStatusFromRealTapes(t *testing.T) {
	for label, want := range map[string]string{
		"未诉": "not_sued", "诉前调解": "mediated", "已诉未判": "in_litigation", "诉讼中": "in_litigation",
		"已判决": "judgment", "已判未执": "judgment", "执行中": "enforcement", "终本": "enforcement_terminated",
		"终结本次执行": "enforcement_terminated", "已结案": "closed",
	} {
		res := convertOne(t, FLegalStatus, "", label)
		if string(res.Loan.LegalStatus) != want || !res.OK() {
			t.Errorf("%s: got %q %v, want %s", label, res.Loan.LegalStatus, res.Errors, want)
		}
	}
}

func TestPerformingGradeIsNamed(t *testing.T) {
	for _, v := range []string{"正常", "关注类", "2"} {
		res := convertOne(t, FFiveCategory, "", v)
		if len(res.Errors) != 1 || res.Errors[0].Rule != RuleEnum || !strings.Contains(res.Errors[0].Message, "performing") {
			t.Errorf("%s: %v", v, res.Errors)
		}
	}
	res := convertOne(t, FFiveCategory, "", "good")
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "expected one of") {
		t.Errorf("unknown grade: %v", res.Errors)
	}
}

// TestYesNoForms reads every generic yes/no form under a plain and an inverted column, and the
// words that carry their own meaning (失联) under both, where inversion must not apply.
func TestYesNoForms(t *testing.T) {
	for canon, labels := range map[string][]string{
		"true":  {"是", "Y", "y", "1", "有", "yes", "TRUE", "√", "Ｙ", "1.0"},
		"false": {"否", "N", "0", "无", "no", "false", "×", "０"},
	} {
		want := canon == "true"
		for _, v := range labels {
			if res := convertOne(t, FWrittenOff, "", v); res.Loan.WrittenOff != want || !res.OK() {
				t.Errorf("written_off %q: got %v %v", v, res.Loan.WrittenOff, res.Errors)
			}
			// 是否失联 means the opposite of phone_available.
			if res := convertOne(t, FPhoneAvailable, "是否失联", v); res.Loan.PhoneAvailable == want || !res.OK() {
				t.Errorf("是否失联 %q: phone_available %v %v", v, res.Loan.PhoneAvailable, res.Errors)
			}
		}
	}
	for _, h := range []string{"", "是否失联"} {
		if res := convertOne(t, FPhoneAvailable, h, "失联"); res.Loan.PhoneAvailable || !res.OK() {
			t.Errorf("%q 失联: phone_available %v", h, res.Loan.PhoneAvailable)
		}
		if res := convertOne(t, FPhoneAvailable, h, "可联系"); !res.Loan.PhoneAvailable || !res.OK() {
			t.Errorf("%q 可联系: phone_available %v", h, res.Loan.PhoneAvailable)
		}
	}
	if res := convertOne(t, FWrittenOff, "", "已核销"); !res.Loan.WrittenOff {
		t.Error("已核销 is written off")
	}
	if res := convertOne(t, FWrittenOff, "", "maybe"); len(res.Errors) != 1 || res.Errors[0].Rule != RuleBoolFormat {
		t.Errorf("maybe: %v", res.Errors)
	}
}

func TestVocabularyLabelsAreUnambiguous(t *testing.T) {
	// words panics on a label with two meanings; building every table again proves none has.
	for f, m := range enumVocab {
		for label, canon := range m {
			if !slices.Contains(Fields[f].Enum, canon) {
				t.Errorf("%s: %q maps to %q, not a canonical value", f, label, canon)
			}
		}
	}
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x21 && r <= 0x7E {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzLookupEnum(f *testing.F) {
	for _, s := range []string{"已判未执", "ＳＵＢＳＴＡＮＤＡＲＤ", " 3 ", "", "\x00", "终本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, fld := range []Field{FProductType, FFiveCategory, FSecurityType, FLegalStatus} {
			if e, ok := lookupEnum(fld, v); ok && !slices.Contains(Fields[fld].Enum, e) {
				t.Fatalf("%s %q -> %q", fld, v, e)
			}
		}
		_, _, _ = lookupBool(FPhoneAvailable, v)
	})
}

// TestVocabularyIsDocumented keeps docs/tape-mapping.md's table of accepted values complete.
func TestVocabularyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/tape-mapping.md")
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| ") {
			for _, c := range strings.Split(line, "|") {
				for _, w := range strings.FieldsFunc(c, func(r rune) bool { return r == ',' || r == '/' }) {
					cells = append(cells, foldValue(w))
				}
			}
		}
	}
	for i := range Fields {
		f := Field(i)
		for _, labels := range Vocabulary(f) {
			for _, l := range labels {
				if !slices.Contains(cells, l) {
					t.Errorf("%s: %q is accepted but not in docs/tape-mapping.md", f, l)
				}
			}
		}
	}
}

// TestRejectedIdentifiersSayWhy: a rejected phone or ID is shown masked, so the message must say
// what is wrong (length, character, prefix, check digit) without repeating the value.
func TestRejectedIdentifiersSayWhy(t *testing.T) {
	_, p := fixture()
	for _, tc := range []struct {
		f          Field
		value      string
		want       string
		secretPart string
	}{
		{FPhone, "1381234567", "10 characters", "1381234567"},
		{FPhone, "12812345678", "start with 13 to 19", "12812345678"},
		{FPhone, "1381234567a", "character 11 is not a digit", "1381234567"},
		{FNationalID, breakCheckDigit(p.NationalID), "check character", p.NationalID[:17]},
		{FNationalID, p.NationalID[:17], "17 characters", p.NationalID[:17]},
	} {
		res := convertOne(t, tc.f, "", tc.value)
		if len(res.Errors) != 1 {
			t.Fatalf("%q: %v", tc.value, res.Errors)
		}
		e := res.Errors[0]
		if !strings.Contains(e.Message, tc.want) {
			t.Errorf("%q: message %q does not say %q", tc.value, e.Message, tc.want)
		}
		if strings.Contains(e.Message, tc.secretPart) || strings.Contains(e.Value, tc.secretPart) {
			t.Errorf("%q: the value is echoed: %+v", tc.value, e)
		}
	}
	// A birth date that disagrees with the ID echoes neither date.
	res := convertOne(t, FBirthDate, "", "1982-07-10")
	for _, e := range res.Errors {
		if strings.Contains(e.Message, "1982") || strings.Contains(e.Value, "1982") {
			t.Errorf("birth date echoed: %+v", e)
		}
	}
}
