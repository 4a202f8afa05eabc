// Package msg is the catalog of text the server produces for people: row problems of a tape,
// rule descriptions and import reports. Each message is a stable code with named parameters
// ("{row}", "{field}", ...) and a template per language; Render fills a template in. The console
// renders the same catalog (exported to JSON by a test in package tape), so there is one source
// of truth for both languages in the CLI and the console.
//
// Parameters never hold personal data: callers pass positions, lengths, field names, dates of the
// tape's own metadata and amounts, never a borrower's name, ID or phone.
package msg

import (
	"sort"
	"strings"
)

// Lang is a language of the catalog.
type Lang string

// The languages every code has.
const (
	EN Lang = "en"
	ZH Lang = "zh"
)

// Langs lists the catalog's languages.
var Langs = []Lang{EN, ZH}

// Text is one code's templates.
type Text struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// In returns the template of a language (English for an unknown one).
func (t Text) In(l Lang) string {
	if l == ZH {
		return t.ZH
	}
	return t.EN
}

// Args are a message's named parameters.
type Args = map[string]string

// A builds Args from key, value pairs: A("row", "12", "field", "loan_id").
func A(kv ...string) Args {
	if len(kv) == 0 {
		return nil
	}
	m := make(Args, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var catalog = map[string]Text{}

// Register adds codes to the catalog; packages call it from init for catalog entries derived
// from their own tables (the tape's field labels). A code registered twice panics.
func Register(code string, t Text) {
	if _, dup := catalog[code]; dup {
		panic("msg: code registered twice: " + code)
	}
	catalog[code] = t
}

func init() {
	for code, t := range builtin {
		Register(code, t)
	}
}

// Lookup returns a code's templates.
func Lookup(code string) (Text, bool) {
	t, ok := catalog[code]
	return t, ok
}

// Codes returns every code of the catalog, sorted.
func Codes() []string {
	out := make([]string, 0, len(catalog))
	for c := range catalog {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Catalog returns a copy of the whole catalog (for the console's JSON).
func Catalog() map[string]Text {
	out := make(map[string]Text, len(catalog))
	for c, t := range catalog {
		out[c] = t
	}
	return out
}

// Render fills in the template of code in lang with args. Two parameter names are localised:
// "field" (a canonical field name, shown by its label "field.NAME" when the catalog has one) and
// "fields" (a list of them joined by ", "). A placeholder without an arg is left as written. An
// unknown code renders as "" so callers can fall back to their own English text.
func Render(lang Lang, code string, args Args) string {
	t, ok := catalog[code]
	if !ok {
		return ""
	}
	return fill(t.In(lang), lang, args)
}

func fill(tmpl string, lang Lang, args Args) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			break
		}
		name := tmpl[i+1 : i+j]
		b.WriteString(tmpl[:i])
		if v, ok := args[name]; ok && validName(name) {
			b.WriteString(localise(lang, name, v))
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
	b.WriteString(tmpl)
	return b.String()
}

func localise(lang Lang, name, v string) string {
	switch name {
	case "field":
		return fieldLabel(lang, v)
	case "fields":
		if v == "" {
			return v
		}
		parts := strings.Split(v, ", ")
		for i, p := range parts {
			parts[i] = fieldLabel(lang, p)
		}
		if lang == ZH {
			return strings.Join(parts, "、")
		}
		return strings.Join(parts, ", ")
	}
	return v
}

func fieldLabel(lang Lang, name string) string {
	if t, ok := catalog["field."+name]; ok {
		if s := t.In(lang); s != "" {
			return s
		}
	}
	return name
}

// Placeholders returns the parameter names a template uses, in order of first use.
func Placeholders(tmpl string) []string {
	var out []string
	seen := map[string]bool{}
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return out
		}
		name := tmpl[i+1 : i+j]
		if validName(name) && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		tmpl = tmpl[i+j+1:]
	}
}

// validName reports whether s is a parameter name: lower-case letters, digits and '_'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ParseLang reads a language tag or locale ("zh", "zh-CN", "zh_CN.UTF-8", "en_US"): anything
// starting with "zh" is Chinese, anything else English.
func ParseLang(s string) Lang {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "zh") {
		return ZH
	}
	return EN
}

// FromEnv picks the language of the environment's locale the way setlocale does: the first of
// LC_ALL, LC_MESSAGES and LANG that is set decides.
func FromEnv(getenv func(string) string) Lang {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			return ParseLang(v)
		}
	}
	return EN
}
