package tape

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"reclaim/money"
)

// Binding says where a canonical field's value comes from in each row, and how to read it.
type Binding struct {
	// Column is the 0-based index of the column, or -1 when the field is a constant.
	Column int
	// Header is the column's header as written (empty for a constant).
	Header string
	// Const is the constant value when Column is -1.
	Const string
	// Unit is the power-of-ten scale of amounts: from the mapping, else from the header
	// ("本金余额(万元)" is money.Wan), else money.Major.
	Unit money.Unit
	// DateLayout is the Go layout for dates (the column's, else the mapping's default); empty
	// means the built-in forms (ISO, 2024/1/31, 2024年1月31日, Excel serial numbers).
	DateLayout string
	// Values maps raw cell values to canonical ones before parsing; nil when none.
	Values map[string]string
	// Prefix is put before every non-empty value (after Values).
	Prefix string
	// Invert says the column is a yes/no that means the opposite of the field ("是否失联" for
	// phone_available). Value does not apply it; the converter does, after parsing the yes/no.
	Invert bool
	// Fallback is the column read when this column is empty in a row, valid when FallbackHeader
	// is set (a mapping's fallbacks).
	Fallback       int
	FallbackHeader string
	// Parts, when set, make the field the sum of these columns (a mapping's sums, or the split
	// interest columns of a tape without a total): Column is the first part's and Header reads
	// "表内利息 + 表外利息". Each part is read in its own unit and added exactly.
	Parts []SumPart
}

// SumPart is one column of a summed field.
type SumPart struct {
	Column int
	Header string
	Unit   money.Unit
}

// InterestParts are the headers of interest split by kind, in the order a tape usually has them:
// a tape with two or more of them and no interest total has interest_outstanding read as their
// sum.
var InterestParts = []string{"表内利息", "表外利息", "表内欠息", "表外欠息", "应收利息", "催收利息", "逾期利息",
	"罚息", "复利", "罚息余额", "复利余额", "on_balance_interest", "off_balance_interest", "penalty_interest",
	"compound_interest"}

// ExtraColumn is a column a mapping asked to carry along unmapped.
type ExtraColumn struct {
	Name   string // the name from the mapping's extras list (the key in Loan.Extras)
	Column int    // 0-based column index
}

// Layout binds the columns of one tape to canonical fields. Build it with NewLayout.
type Layout struct {
	// Header is the tape's header as given to NewLayout.
	Header []string
	// Bindings holds, per field, where its value comes from; nil when the tape lacks the field.
	Bindings [NumFields]*Binding
	// Extras lists the columns carried along unmapped, in header order.
	Extras []ExtraColumn
	// Unmapped lists the headers that neither fill a field nor are extras, in header order.
	Unmapped []string
}

// NewLayout binds the columns of header to canonical fields. The mapping (which may be nil) comes
// first: its columns, then its constants. Every other column is matched by MatchHeader against
// the canonical names and the English and Chinese aliases of the schema, taking a unit from the
// header ("本金余额(万元)") and an inversion from the alias ("是否失联"). A field the mapping binds
// is never bound again by alias: a column whose alias names it is left in Unmapped.
//
// Mapping columns match a header exactly (after trimming spaces), else ignoring case, full-width
// forms and spaces. Errors: an empty header cell, a mapping column or extra absent from the
// header (with the nearest header as a suggestion), a mapping column or extra whose header
// appears twice, and two columns bound to one field (both are named). A missing critical field
// is not an error here (some are derived); see Missing.
func NewLayout(header []string, m *Mapping) (*Layout, error) {
	l := &Layout{Header: header}
	var errs []RowError
	fail := func(code string, kv ...string) { errs = append(errs, layoutProblem(code, kv...)) }
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			fail("layout.empty_header", "n", strconv.Itoa(i+1), "letter", columnLetter(i))
		}
	}
	used := make([]bool, len(header))
	mapped := map[Field]bool{}
	// src names the mapping in a problem's message, in both languages.
	src := []string{"mapping", "the mapping", "mapping_zh", "映射文件"}
	if m != nil && m.Name != "" {
		src = []string{"mapping", fmt.Sprintf("mapping %q", m.Name), "mapping_zh", fmt.Sprintf("映射文件 %q", m.Name)}
	}
	// missingColumn reports a column findColumn did not find, in part ("sums: ", ...) of the mapping.
	missingColumn := func(part string, kv []string) {
		fail(kv[0], append(append(slices.Clone(src), "part", part), kv[1:]...)...)
	}
	if m != nil {
		cols := m.sortedColumns()
		// Bind in header order so that "bound twice" names columns left to right.
		type colRef struct {
			key string
			idx int
		}
		var refs []colRef
		for _, key := range cols {
			idx, why := findColumn(header, key)
			if why != nil {
				missingColumn("", why)
				continue
			}
			refs = append(refs, colRef{key, idx})
		}
		sort.SliceStable(refs, func(a, b int) bool { return refs[a].idx < refs[b].idx })
		for _, r := range refs {
			cm := m.Columns[r.key]
			used[r.idx] = true
			_, hdrUnit := SplitHeaderUnit(header[r.idx])
			for _, f := range cm.Fields {
				if f < 0 || int(f) >= NumFields {
					fail("layout.invalid_field", append(slices.Clone(src), "column", r.key)...)
					continue
				}
				if prev := l.Bindings[f]; prev != nil {
					fail("layout.bound_twice", "field", Fields[f].Name, "col1", columnLetter(prev.Column), "head1", prev.Header, "col2", columnLetter(r.idx), "head2", header[r.idx])
					continue
				}
				b := &Binding{Column: r.idx, Header: header[r.idx], Unit: cm.Unit, DateLayout: cm.DateFormat,
					Values: cm.Values, Prefix: cm.Prefix, Invert: cm.Invert}
				if b.Unit == money.Major {
					b.Unit = hdrUnit
				}
				if b.DateLayout == "" {
					b.DateLayout = m.DateFormat
				}
				l.Bindings[f] = b
				mapped[f] = true
			}
		}
		consts := make([]Field, 0, len(m.Constants))
		for f := range m.Constants {
			consts = append(consts, f)
		}
		sort.Slice(consts, func(a, b int) bool { return consts[a] < consts[b] })
		for _, f := range consts {
			if f < 0 || int(f) >= NumFields {
				fail("layout.const_invalid_field", src...)
				continue
			}
			if prev := l.Bindings[f]; prev != nil {
				fail("layout.bound_twice_const", "field", Fields[f].Name, "col1", columnLetter(prev.Column), "head1", prev.Header)
				continue
			}
			l.Bindings[f] = &Binding{Column: -1, Const: m.Constants[f]}
			mapped[f] = true
		}
		sums := make([]Field, 0, len(m.Sums))
		for f := range m.Sums {
			sums = append(sums, f)
		}
		sort.Slice(sums, func(a, b int) bool { return sums[a] < sums[b] })
		for _, f := range sums {
			if prev := l.Bindings[f]; prev != nil {
				fail("layout.bound_twice_sums", "field", Fields[f].Name, "col1", columnLetter(prev.Column), "head1", prev.Header)
				continue
			}
			sm := m.Sums[f]
			var parts []SumPart
			for _, col := range sm.Columns {
				idx, why := findColumn(header, col)
				if why != nil {
					missingColumn("sums: ", why)
					continue
				}
				_, u := SplitHeaderUnit(header[idx])
				if sm.Unit != money.Major {
					u = sm.Unit
				}
				parts = append(parts, SumPart{Column: idx, Header: header[idx], Unit: u})
				used[idx] = true
			}
			if len(parts) == len(sm.Columns) {
				l.Bindings[f] = sumBinding(parts)
				mapped[f] = true
			}
		}
		for f, col := range m.Fallbacks {
			b := l.Bindings[f]
			if b == nil || b.Column < 0 {
				fail("layout.fallback_no_column", append(slices.Clone(src), "field", Fields[f].Name)...)
				continue
			}
			idx, why := findColumn(header, col)
			if why != nil {
				missingColumn("fallbacks: ", why)
				continue
			}
			b.Fallback, b.FallbackHeader = idx, header[idx]
		}
		for _, e := range m.Extras {
			idx, why := findColumn(header, e)
			if why != nil {
				missingColumn("extras: ", why)
				continue
			}
			personal := false
			// Extras are stored and listed in clear: a column that is personal data (a name, an
			// ID, a birth date) may not ride along that way.
			for _, h := range []string{e, header[idx]} {
				if f, _, _, ok := MatchHeader(h); ok && Fields[f].Personal {
					fail("layout.extra_personal", append(slices.Clone(src), "column", header[idx], "field", Fields[f].Name)...)
					personal = true
					break
				}
			}
			if personal {
				continue
			}
			l.Extras = append(l.Extras, ExtraColumn{Name: e, Column: idx})
		}
		sort.SliceStable(l.Extras, func(a, b int) bool { return l.Extras[a].Column < l.Extras[b].Column })
	}
	for i, h := range header {
		if used[i] || strings.TrimSpace(h) == "" {
			continue
		}
		f, invert, unit, ok := MatchHeader(h)
		if !ok || mapped[f] {
			continue
		}
		if prev := l.Bindings[f]; prev != nil {
			fail("layout.bound_twice_header", "field", Fields[f].Name, "col1", columnLetter(prev.Column), "head1", prev.Header, "col2", columnLetter(i), "head2", h)
			continue
		}
		l.Bindings[f] = &Binding{Column: i, Header: h, Unit: unit, Invert: invert}
		if m != nil {
			l.Bindings[f].DateLayout = m.DateFormat
		}
		used[i] = true
	}
	if l.Bindings[FInterest] == nil && !mapped[FInterest] {
		var parts []SumPart
		for i, h := range header {
			if used[i] {
				continue
			}
			base, u := SplitHeaderUnit(h)
			for _, p := range InterestParts {
				if NormalizeHeader(base) == NormalizeHeader(p) {
					parts = append(parts, SumPart{Column: i, Header: h, Unit: u})
				}
			}
		}
		if len(parts) >= 2 {
			for _, p := range parts {
				used[p.Column] = true
			}
			l.Bindings[FInterest] = sumBinding(parts)
		}
	}
	extra := map[int]bool{}
	for _, e := range l.Extras {
		extra[e.Column] = true
	}
	for i, h := range header {
		if !used[i] && !extra[i] {
			l.Unmapped = append(l.Unmapped, h)
		}
	}
	if len(errs) > 0 {
		return nil, &LayoutError{Problems: errs}
	}
	return l, nil
}

func sumBinding(parts []SumPart) *Binding {
	hs := make([]string, len(parts))
	for i, p := range parts {
		hs[i] = p.Header
	}
	return &Binding{Column: parts[0].Column, Header: strings.Join(hs, " + "), Unit: parts[0].Unit, Parts: parts}
}

// foldHeader folds a header for loose matching: case, full-width forms, spaces and a BOM.
func foldHeader(h string) string {
	var b strings.Builder
	for _, r := range h {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch r {
		case ' ', '\t', '\u3000', '\ufeff', '\u00a0':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// findColumn returns the index of the header named key, or why there is none: a catalog code
// followed by its args as key, value pairs.
func findColumn(header []string, key string) (int, []string) {
	key = strings.TrimSpace(key)
	var hits []int
	for i, h := range header {
		if strings.TrimSpace(h) == key {
			hits = append(hits, i)
		}
	}
	if len(hits) == 0 {
		fk := foldHeader(key)
		for i, h := range header {
			if foldHeader(h) == fk {
				hits = append(hits, i)
			}
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		if near := suggest(key, header); near != "" {
			return -1, []string{"layout.column_missing_near", "column", key, "near", strings.TrimSuffix(strings.TrimPrefix(near, "; did you mean "), "?")}
		}
		return -1, []string{"layout.column_missing", "column", key}
	}
	cols := make([]string, len(hits))
	for i, h := range hits {
		cols[i] = columnLetter(h)
	}
	return -1, []string{"layout.column_repeated", "column", key, "times", strconv.Itoa(len(hits)), "columns", strings.Join(cols, ", ")}
}

// Value returns the text a row holds for field f: the constant, or the cell trimmed of spaces;
// then replaced through the binding's Values table when it has an entry (exact, else ignoring
// case), then prefixed with Prefix when non-empty. b is the field's binding (nil when the tape
// lacks the field) and ok reports whether the field is bound and the result is non-empty. A row
// shorter than the header reads as empty cells.
func (l *Layout) Value(f Field, cells []string) (raw string, b *Binding, ok bool) {
	if f < 0 || int(f) >= NumFields {
		return "", nil, false
	}
	b = l.Bindings[f]
	if b == nil {
		return "", nil, false
	}
	if b.Parts != nil {
		// The cells as written, joined: the converter adds them (sumOf); this text is for reports.
		var parts []string
		for _, p := range b.Parts {
			if p.Column < len(cells) {
				if v := trimCell(cells[p.Column]); v != "" {
					parts = append(parts, v)
				}
			}
		}
		raw = strings.Join(parts, " + ")
		return raw, b, raw != ""
	} else if b.Column < 0 {
		raw = b.Const
	} else if b.Column < len(cells) {
		raw = trimCell(cells[b.Column])
		if raw == "" && b.FallbackHeader != "" && b.Fallback < len(cells) {
			raw = trimCell(cells[b.Fallback])
		}
	}
	if b.Values != nil {
		if v, hit := b.Values[raw]; hit {
			raw = v
		} else {
			for k, v := range b.Values {
				if strings.EqualFold(k, raw) {
					raw = v
					break
				}
			}
		}
	}
	if raw != "" && b.Prefix != "" {
		raw = b.Prefix + raw
	}
	return raw, b, raw != ""
}

// ExtrasOf returns the extra columns of a row by name (values trimmed; empty cells included as
// ""), or nil when the layout has no extras.
func (l *Layout) ExtrasOf(cells []string) map[string]string {
	if len(l.Extras) == 0 {
		return nil
	}
	out := make(map[string]string, len(l.Extras))
	for _, e := range l.Extras {
		v := ""
		if e.Column < len(cells) {
			v = trimCell(cells[e.Column])
		}
		out[e.Name] = v
	}
	return out
}

// Missing returns the critical fields (FieldSpec.Critical) the layout does not bind, in schema
// order. Whether each is an error is the validator's call: some can be derived (total_claim
// from its parts, days_past_due from the dates).
func (l *Layout) Missing() []Field {
	var out []Field
	for i := range Fields {
		if Fields[i].Critical && l.Bindings[i] == nil {
			out = append(out, Field(i))
		}
	}
	return out
}

// trimCell is strings.TrimSpace(s), returning s at once when neither end can be white space: an
// ASCII character other than a space, or a character whose first byte (or, at the end, whose
// last two or three bytes) no white-space character of Unicode has (those start with C2, E1, E2
// or E3). Chinese text then needs no decoding.
func trimCell(s string) string {
	n := len(s)
	if n == 0 {
		return s
	}
	switch c := s[0]; {
	case c < utf8.RuneSelf:
		if asciiSpace(c) {
			return strings.TrimSpace(s)
		}
	case c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3:
		return strings.TrimSpace(s)
	}
	if c := s[n-1]; c < utf8.RuneSelf {
		if asciiSpace(c) {
			return strings.TrimSpace(s)
		}
		return s
	}
	if n >= 2 && s[n-2] == 0xC2 {
		return strings.TrimSpace(s)
	}
	if n >= 3 {
		if c := s[n-3]; c == 0xE1 || c == 0xE2 || c == 0xE3 {
			return strings.TrimSpace(s)
		}
	}
	return s
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
