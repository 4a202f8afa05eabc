package msg

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestEveryCodeHasBothLanguages: no code may be missing a language, and a Chinese template is
// Chinese (it holds Han characters), so a zh render never falls back to English.
func TestEveryCodeHasBothLanguages(t *testing.T) {
	if len(Codes()) < 50 {
		t.Fatalf("catalog has only %d codes", len(Codes()))
	}
	for _, c := range Codes() {
		tx, _ := Lookup(c)
		if strings.TrimSpace(tx.EN) == "" || strings.TrimSpace(tx.ZH) == "" {
			t.Errorf("%s: a language is missing: %+v", c, tx)
			continue
		}
		if strings.HasPrefix(c, "field.") {
			continue // field labels are registered by package tape
		}
		if !strings.ContainsFunc(tx.ZH, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: the zh template is not Chinese: %q", c, tx.ZH)
		}
	}
}

// TestPlaceholdersAgree: both languages of a code take the same parameters. A zh template may
// take "X_zh" where the English one takes "X" (a list of values given in both languages).
func TestPlaceholdersAgree(t *testing.T) {
	for _, c := range Codes() {
		tx, _ := Lookup(c)
		en, zh := Placeholders(tx.EN), Placeholders(tx.ZH)
		for i, p := range zh {
			zh[i] = strings.TrimSuffix(p, "_zh")
		}
		slices.Sort(en)
		slices.Sort(zh)
		if !slices.Equal(en, zh) {
			t.Errorf("%s: en takes %v, zh takes %v", c, en, zh)
		}
		for _, l := range Langs {
			// Every brace belongs to a parameter: no stray brace a renderer might misread.
			tmpl := tx.In(l)
			if strings.Count(tmpl, "{") != strings.Count(tmpl, "}") || strings.Count(tmpl, "{") < len(Placeholders(tmpl)) {
				t.Errorf("%s/%s: unbalanced braces in %q", c, l, tmpl)
			}
		}
	}
}

func TestRender(t *testing.T) {
	if got := Render(EN, "row.loan_id_unique", A("line", "12")); got != "loan_id already used on line 12" {
		t.Errorf("en: %q", got)
	}
	if got := Render(ZH, "row.loan_id_unique", A("line", "12")); got != "借据号已在第 12 行使用" {
		t.Errorf("zh: %q", got)
	}
	// A missing argument stays visible rather than vanishing.
	if got := Render(EN, "row.loan_id_unique", nil); got != "loan_id already used on line {line}" {
		t.Errorf("missing arg: %q", got)
	}
	if got := Render(ZH, "no.such.code", nil); got != "" {
		t.Errorf("unknown code: %q", got)
	}
	// An argument's own braces are not expanded again.
	if got := Render(EN, "row.loan_id_unique", A("line", "{line}")); got != "loan_id already used on line {line}" {
		t.Errorf("arg with braces: %q", got)
	}
}

func TestRenderLocalisesFields(t *testing.T) {
	Register("field.test_only_field", Text{"test_only_field", "测试字段"})
	defer delete(catalog, "field.test_only_field")
	if got := Render(ZH, "row.required", A("field", "test_only_field")); got != "测试字段为必填项" {
		t.Errorf("zh field: %q", got)
	}
	if got := Render(EN, "row.required", A("field", "test_only_field")); got != "test_only_field is required" {
		t.Errorf("en field: %q", got)
	}
	got := Render(ZH, "report.no_rows", nil)
	if got != "数据没有数据行；本次未导入任何数据" {
		t.Errorf("zh: %q", got)
	}
	if got := fill("{fields}", ZH, A("fields", "test_only_field, other")); got != "测试字段、other" {
		t.Errorf("fields: %q", got)
	}
}

func TestLangFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want Lang
	}{
		{map[string]string{}, EN},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, ZH},
		{map[string]string{"LANG": "en_US.UTF-8"}, EN},
		{map[string]string{"LANG": "C.UTF-8"}, EN},
		{map[string]string{"LC_MESSAGES": "zh_TW", "LANG": "en_US"}, ZH},
		{map[string]string{"LC_ALL": "en_GB", "LC_MESSAGES": "zh_CN", "LANG": "zh_CN"}, EN},
		{map[string]string{"LC_ALL": "zh-CN"}, ZH},
	} {
		if got := FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, got, tc.want)
		}
	}
	for s, want := range map[string]Lang{"zh": ZH, "zh-CN": ZH, "ZH": ZH, "en": EN, "": EN, "fr": EN} {
		if got := ParseLang(s); got != want {
			t.Errorf("ParseLang(%q) = %s", s, got)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("row.claim_sum", "total", "{sum}", "zh")
	f.Add("row.enum", "values_zh", "a, b", "en")
	f.Add("report.validated_missing", "fields", "loan_id, , x", "zh")
	f.Fuzz(func(t *testing.T, code, k, v, lang string) {
		l := ParseLang(lang)
		out := Render(l, code, A(k, v))
		tx, ok := Lookup(code)
		if !ok {
			if out != "" {
				t.Fatalf("unknown code rendered %q", out)
			}
			return
		}
		// With every parameter given a brace-free value, nothing is left unfilled.
		if strings.ContainsAny(v, "{}") {
			return
		}
		args := Args{}
		for _, p := range Placeholders(tx.In(l)) {
			args[p] = v
		}
		if got := Render(l, code, args); strings.Contains(got, "{") != strings.Contains(stripParams(tx.In(l)), "{") {
			t.Fatalf("%s/%s with %q left a placeholder: %q", code, l, v, got)
		}
		// Arbitrary templates never panic and keep text outside placeholders.
		_ = fill(v+"{"+k+"}"+v, l, A(k, v))
		_ = Placeholders(v)
	})
}

// stripParams removes the well-formed placeholders of a template.
func stripParams(tmpl string) string {
	for _, p := range Placeholders(tmpl) {
		tmpl = strings.ReplaceAll(tmpl, "{"+p+"}", "")
	}
	return tmpl
}
