package tape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"reclaim/date"
	"reclaim/money"
)

// MappingError is one problem in a mapping file, located by line and column (1-based; 0 when
// unknown).
type MappingError struct {
	File    string
	Line    int
	Column  int
	Message string
}

// Error implements error: "lendingclub.yaml:12:5: unknown field "princpal"; did you mean ...".
func (e *MappingError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// MappingErrors is every problem ParseMapping found, in file order. errors.As finds each
// *MappingError inside it.
type MappingErrors []*MappingError

// Error implements error: one problem per line.
func (es MappingErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the individual errors.
func (es MappingErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxMappingBytes bounds a mapping file.
const maxMappingBytes = 1 << 20

// LoadMapping reads and parses the mapping file at path (see ParseMapping).
func LoadMapping(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tape: mapping: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMappingBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tape: mapping: %w", err)
	}
	return ParseMapping(data, path)
}

// ParseMapping reads a mapping file: YAML when filename ends in .yaml or .yml, JSON when it ends
// in .json (other names are JSON when the text starts with '{', else YAML). filename is also used
// to locate errors. On failure the error is MappingErrors listing every problem found with its
// line and column; the returned Mapping is then nil.
//
// The format (JSON uses the same keys):
//
//	name: lendingclub                 # a label
//	description: LendingClub 2007-2011 charged-off loans
//	encoding: utf-8                   # CSV encoding: utf-8, gbk or gb18030; omit to detect
//	sheet: Sheet1                     # XLSX sheet; omit for the first
//	header_row: 1                     # 1-based row (or CSV line) of the headers
//	date_format: YYYY-MM-DD           # default for date columns: a Go layout ("2006-01-02") or
//	                                  # tokens YYYY YY MM M DD D MMM/Mon MMMM (YYYY/MM/DD,
//	                                  # DD/MM/YYYY, MM/DD/YYYY, YYYYMMDD, Mon-YYYY, YYYY年MM月DD日)
//	columns:                          # column header -> field(s)
//	  id: [loan_id, borrower_id]      # one column can fill several fields
//	  loan_amnt: original_amount
//	  本金(万元): {field: principal_outstanding, unit: wan}
//	                                  # unit: yuan|thousand|wan|yi|cent (or 元 千元 万元 亿元 分),
//	                                  # or scale: 10000 (a power of ten); money fields only
//	  last_pymnt_d: {field: [last_payment_date, default_date], date_format: "2006-01-02"}
//	  是否失联: {field: phone_available, invert: true}   # yes/no column meaning the opposite
//	  status: {field: legal_status, values: {"已起诉": in_litigation}}  # raw -> canonical value
//	  addr_state: {field: region_code, prefix: "US-"}   # text put before every value
//	constants: {cut_off_date: "2018-12-01", currency: USD}  # fields the tape lacks, same on every row
//	extras: [grade, fico_range_low]   # columns carried along unmapped (Loan.Extras)
//
// Field names are the canonical names of design/tape.md (Fields). A field may be bound once: by
// one column or one constant. Unknown keys and field names, bad units, non-power-of-ten scales,
// bad enum values and unparsable constants are errors, with a "did you mean" suggestion where a
// near name exists.
func ParseMapping(data []byte, filename string) (*Mapping, error) {
	p := &mappingParser{file: filename}
	root := p.parse(data, filename)
	if root == nil {
		return nil, p.errs
	}
	m := p.mapping(root)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, p.errs
	}
	return m, nil
}

// mnode is a YAML or JSON value with its position.
type mnode struct {
	kind      nodeKind
	value     string
	line, col int
	keys      []*mnode // map keys, in order
	vals      []*mnode // map values
	items     []*mnode // sequence items
}

type nodeKind int

const (
	nullNode nodeKind = iota
	scalarNode
	mapNode
	seqNode
)

func (k nodeKind) String() string {
	return [...]string{"nothing", "a single value", "a mapping", "a list"}[k]
}

type mappingParser struct {
	file   string
	errs   MappingErrors
	budget int
}

func (p *mappingParser) errorf(n *mnode, format string, args ...any) {
	if len(p.errs) >= 100 {
		return
	}
	e := &MappingError{File: p.file, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.line, n.col
	}
	p.errs = append(p.errs, e)
}

func (p *mappingParser) parse(data []byte, filename string) *mnode {
	if len(data) > maxMappingBytes {
		p.errorf(nil, "mapping file larger than %d bytes", maxMappingBytes)
		return nil
	}
	if !utf8.Valid(data) {
		p.errorf(nil, "mapping file is not valid UTF-8 (save it as UTF-8)")
		return nil
	}
	p.budget = 100000
	ext := strings.ToLower(filepath.Ext(filename))
	isJSON := ext == ".json" || (ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff"))), []byte("{")))
	var root *mnode
	if isJSON {
		root = p.parseJSON(bytes.TrimPrefix(data, []byte("\ufeff")))
	} else {
		root = p.parseYAML(data)
	}
	if root == nil {
		return nil
	}
	if root.kind != mapNode {
		p.errorf(root, "a mapping file must be a mapping of keys (name, columns, constants, ...), not %s", root.kind)
		return nil
	}
	return root
}

func (p *mappingParser) parseYAML(data []byte) *mnode {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &MappingError{File: p.file, Message: strings.TrimPrefix(err.Error(), "yaml: ")}
		var line int
		if _, scanErr := fmt.Sscanf(e.Message, "line %d:", &line); scanErr == nil {
			e.Line = line
			e.Message = strings.TrimSpace(e.Message[strings.Index(e.Message, ":")+1:])
		}
		p.errs = append(p.errs, e)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(nil, "the mapping file is empty")
		return nil
	}
	n := p.fromYAML(doc.Content[0], 0)
	if p.budget < 0 || len(p.errs) > 0 {
		return nil
	}
	return n
}

func (p *mappingParser) fromYAML(n *yaml.Node, depth int) *mnode {
	p.budget--
	if p.budget < 0 || depth > 64 {
		if len(p.errs) == 0 {
			p.errorf(&mnode{line: n.Line, col: n.Column}, "mapping file too deeply nested or too large (aliases?)")
		}
		return &mnode{kind: nullNode, line: n.Line, col: n.Column}
	}
	out := &mnode{line: n.Line, col: n.Column}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return out
		}
		return p.fromYAML(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return out
		}
		a := p.fromYAML(n.Alias, depth+1)
		c := *a
		c.line, c.col = n.Line, n.Column
		return &c
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return out
		}
		out.kind, out.value = scalarNode, n.Value
	case yaml.MappingNode:
		out.kind = mapNode
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := p.fromYAML(n.Content[i], depth+1)
			if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == "<<" && n.Content[i].Tag == "!!merge" {
				p.errorf(k, "YAML merge keys (<<) are not supported in mapping files; write the keys out")
				continue
			}
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, p.fromYAML(n.Content[i+1], depth+1))
		}
	case yaml.SequenceNode:
		out.kind = seqNode
		for _, c := range n.Content {
			out.items = append(out.items, p.fromYAML(c, depth+1))
		}
	}
	return out
}

// jsonParser builds an mnode tree from JSON tokens, locating each value by byte offset.
type jsonParser struct {
	p    *mappingParser
	data []byte
	dec  *json.Decoder
}

func (p *mappingParser) parseJSON(data []byte) *mnode {
	jp := &jsonParser{p: p, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	jp.dec.UseNumber()
	n, err := jp.value(0)
	if err == nil {
		if _, e := jp.dec.Token(); e != io.EOF {
			err = fmt.Errorf("unexpected data after the top-level object")
		}
	}
	if err != nil {
		if len(p.errs) == 0 || !errors.Is(err, errReported) {
			off := jp.dec.InputOffset()
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off = se.Offset
			}
			line, col := jp.pos(off)
			p.errs = append(p.errs, &MappingError{File: p.file, Line: line, Column: col, Message: "JSON: " + err.Error()})
		}
		return nil
	}
	return n
}

var errReported = errors.New("reported")

// pos turns a byte offset into a 1-based line and column (in runes).
func (jp *jsonParser) pos(off int64) (int, int) {
	if off > int64(len(jp.data)) {
		off = int64(len(jp.data))
	}
	if off < 0 {
		off = 0
	}
	before := jp.data[:off]
	line := 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// here locates the next token: the decoder's offset, past whitespace and separators.
func (jp *jsonParser) here() (int, int) {
	off := jp.dec.InputOffset()
	for off < int64(len(jp.data)) {
		switch jp.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return jp.pos(off)
}

func (jp *jsonParser) value(depth int) (*mnode, error) {
	if depth > 64 {
		line, col := jp.here()
		jp.p.errorf(&mnode{line: line, col: col}, "mapping file too deeply nested")
		return nil, errReported
	}
	jp.p.budget--
	if jp.p.budget < 0 {
		jp.p.errorf(nil, "mapping file too large")
		return nil, errReported
	}
	line, col := jp.here()
	tok, err := jp.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("unexpected end of input")
		}
		return nil, err
	}
	n := &mnode{line: line, col: col}
	switch t := tok.(type) {
	case nil:
		n.kind = nullNode
	case string:
		n.kind, n.value = scalarNode, t
	case json.Number:
		n.kind, n.value = scalarNode, t.String()
	case bool:
		n.kind, n.value = scalarNode, strconv.FormatBool(t)
	case json.Delim:
		switch t {
		case '{':
			n.kind = mapNode
			for jp.dec.More() {
				kl, kc := jp.here()
				kt, err := jp.dec.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				v, err := jp.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, &mnode{kind: scalarNode, value: ks, line: kl, col: kc})
				n.vals = append(n.vals, v)
			}
			if _, err := jp.dec.Token(); err != nil {
				return nil, err
			}
		case '[':
			n.kind = seqNode
			for jp.dec.More() {
				v, err := jp.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			if _, err := jp.dec.Token(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unexpected %q", rune(t))
		}
	}
	return n, nil
}

// fieldBinding records where a field was bound, for "bound twice" errors.
type fieldBinding struct {
	what string
	n    *mnode
}

var mappingKeys = []string{"name", "description", "encoding", "sheet", "header_row", "date_format", "columns", "constants", "fallbacks", "extras", "sums"}
var columnKeys = []string{"field", "fields", "unit", "scale", "date_format", "values", "prefix", "invert"}

// mapEntries walks a map node, reporting duplicate keys and keys that are not scalars.
func (p *mappingParser) mapEntries(n *mnode, fn func(k string, kn, v *mnode)) {
	seen := map[string]*mnode{}
	for i, k := range n.keys {
		if k.kind != scalarNode {
			p.errorf(k, "a key must be a single value, not %s", k.kind)
			continue
		}
		if prev, ok := seen[k.value]; ok {
			p.errorf(k, "key %q appears twice (first on line %d)", k.value, prev.line)
			continue
		}
		seen[k.value] = k
		fn(k.value, k, n.vals[i])
	}
}

func (p *mappingParser) scalar(n *mnode, key string) (string, bool) {
	if n.kind != scalarNode {
		p.errorf(n, "%s must be a single value, not %s", key, n.kind)
		return "", false
	}
	return n.value, true
}

func (p *mappingParser) mapping(root *mnode) *Mapping {
	m := &Mapping{Columns: map[string]ColumnMap{}, Constants: map[Field]string{}}
	bound := map[Field]fieldBinding{}
	var columnsNode, constantsNode, fallbacksNode, sumsNode *mnode
	p.mapEntries(root, func(k string, kn, v *mnode) {
		switch k {
		case "name":
			m.Name, _ = p.optScalar(v, k)
		case "description":
			m.Description, _ = p.optScalar(v, k)
		case "encoding":
			s, _ := p.optScalar(v, k)
			e, ok := normalizeEncoding(s)
			if !ok {
				p.errorf(v, "unknown encoding %q (use utf-8, gbk or gb18030, or omit it to detect)", s)
			}
			m.Encoding = e
		case "sheet":
			m.Sheet, _ = p.optScalar(v, k)
		case "header_row":
			s, ok := p.optScalar(v, k)
			if !ok || s == "" {
				return
			}
			r, err := strconv.Atoi(s)
			if err != nil || r < 1 || r > 1048576 {
				p.errorf(v, "header_row must be a row number from 1 to 1048576, not %q", s)
				return
			}
			m.HeaderRow = r
		case "date_format":
			s, ok := p.optScalar(v, k)
			if !ok || s == "" {
				return
			}
			l, err := DateLayoutOf(s)
			if err != nil {
				p.errorf(v, "%v", err)
			}
			m.DateFormat = l
		case "columns":
			columnsNode = v
		case "constants":
			constantsNode = v
		case "fallbacks":
			fallbacksNode = v
		case "extras":
			m.Extras = p.extras(v)
		case "sums":
			sumsNode = v
		default:
			p.errorf(kn, "unknown key %q%s (known keys: %s)", k, suggest(k, mappingKeys), strings.Join(mappingKeys, ", "))
		}
	})
	if columnsNode != nil {
		p.columns(columnsNode, m, bound)
	}
	if constantsNode != nil {
		p.constants(constantsNode, m, bound)
	}
	if fallbacksNode != nil {
		p.fallbacks(fallbacksNode, m)
	}
	if sumsNode != nil {
		p.sums(sumsNode, m, bound)
	}
	return m
}

// optScalar reads a scalar; null is "".
func (p *mappingParser) optScalar(n *mnode, key string) (string, bool) {
	if n.kind == nullNode {
		return "", true
	}
	s, ok := p.scalar(n, key)
	return strings.TrimSpace(s), ok
}

func (p *mappingParser) extras(n *mnode) []string {
	var items []*mnode
	switch n.kind {
	case nullNode:
		return nil
	case scalarNode:
		items = []*mnode{n}
	case seqNode:
		items = n.items
	default:
		p.errorf(n, "extras must be a list of column headers, not %s", n.kind)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, it := range items {
		s, ok := p.scalar(it, "an extras entry")
		s = strings.TrimSpace(s)
		if !ok {
			continue
		}
		if s == "" {
			p.errorf(it, "empty column name in extras")
			continue
		}
		if seen[s] {
			p.errorf(it, "extras lists column %q twice", s)
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// field resolves a canonical field name, reporting unknown names with a suggestion.
func (p *mappingParser) field(n *mnode) (Field, bool) {
	s, ok := p.scalar(n, "a field name")
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if f, ok := FieldByName(s); ok {
		return f, true
	}
	hint := ""
	if f, _, _, ok := MatchHeader(s); ok {
		hint = fmt.Sprintf("; did you mean %s?", Fields[f].Name)
	} else {
		hint = suggest(s, fieldNames())
	}
	p.errorf(n, "unknown field %q%s (fields are the canonical names of design/tape.md, such as loan_id or principal_outstanding)", s, hint)
	return 0, false
}

func fieldNames() []string {
	out := make([]string, NumFields)
	for i := range Fields {
		out[i] = Fields[i].Name
	}
	return out
}

func (p *mappingParser) bind(f Field, what string, n *mnode, bound map[Field]fieldBinding) bool {
	if prev, ok := bound[f]; ok {
		p.errorf(n, "field %s is bound twice: by %s (line %d) and by %s", Fields[f].Name, prev.what, prev.n.line, what)
		return false
	}
	bound[f] = fieldBinding{what: what, n: n}
	return true
}

func (p *mappingParser) columns(n *mnode, m *Mapping, bound map[Field]fieldBinding) {
	if n.kind == nullNode {
		return
	}
	if n.kind != mapNode {
		p.errorf(n, "columns must map column headers to fields, not be %s", n.kind)
		return
	}
	p.mapEntries(n, func(header string, kn, v *mnode) {
		header = strings.TrimSpace(header)
		if header == "" {
			p.errorf(kn, "empty column header in columns")
			return
		}
		cm, fieldNodes, ok := p.columnMap(v)
		if !ok {
			return
		}
		var fields []Field
		for i, f := range cm.Fields {
			if p.bind(f, fmt.Sprintf("column %q", header), fieldNodes[i], bound) {
				fields = append(fields, f)
			}
		}
		cm.Fields = fields
		p.checkColumnOptions(v, header, &cm)
		m.Columns[header] = cm
	})
}

// columnMap reads one entry of columns: a field name, a list of them, or a mapping of options.
func (p *mappingParser) columnMap(v *mnode) (ColumnMap, []*mnode, bool) {
	var cm ColumnMap
	var fieldNodes []*mnode
	addFields := func(n *mnode) {
		var items []*mnode
		switch n.kind {
		case scalarNode:
			items = []*mnode{n}
		case seqNode:
			items = n.items
		default:
			p.errorf(n, "a column's field must be a field name or a list of them, not %s", n.kind)
			return
		}
		if len(items) == 0 {
			p.errorf(n, "empty list of fields")
		}
		for _, it := range items {
			if f, ok := p.field(it); ok {
				for _, g := range cm.Fields {
					if g == f {
						p.errorf(it, "field %s is listed twice for this column", Fields[f].Name)
						goto next
					}
				}
				cm.Fields = append(cm.Fields, f)
				fieldNodes = append(fieldNodes, it)
			}
		next:
		}
	}
	switch v.kind {
	case scalarNode, seqNode:
		addFields(v)
	case nullNode:
		p.errorf(v, "the column names no field (write the field name, or list the column under extras)")
		return cm, nil, false
	case mapNode:
		var unitNode, scaleNode *mnode
		hasField := false
		p.mapEntries(v, func(k string, kn, o *mnode) {
			switch k {
			case "field", "fields":
				if hasField {
					p.errorf(kn, "give the fields once, under field")
					return
				}
				hasField = true
				addFields(o)
			case "unit":
				unitNode = o
				s, ok := p.scalar(o, "unit")
				if !ok {
					return
				}
				u, ok := parseUnit(s)
				if !ok {
					p.errorf(o, "unknown unit %q (use yuan, thousand, wan, yi or cent, or give scale: 10000)", s)
					return
				}
				cm.Unit = u
			case "scale":
				scaleNode = o
				s, ok := p.scalar(o, "scale")
				if !ok {
					return
				}
				u, ok := parseScale(s)
				if !ok {
					p.errorf(o, "scale %q is not a power of ten between 0.000001 and 10^12 (amounts are multiplied by it: 10000 for 万元)", s)
					return
				}
				cm.Unit = u
			case "date_format":
				s, ok := p.scalar(o, "date_format")
				if !ok {
					return
				}
				l, err := DateLayoutOf(s)
				if err != nil {
					p.errorf(o, "%v", err)
					return
				}
				cm.DateFormat = l
			case "values":
				cm.Values = p.values(o)
			case "prefix":
				cm.Prefix, _ = p.scalar(o, "prefix")
			case "invert":
				s, ok := p.scalar(o, "invert")
				if !ok {
					return
				}
				b, err := strconv.ParseBool(s)
				if err != nil {
					p.errorf(o, "invert must be true or false, not %q", s)
					return
				}
				cm.Invert = b
			default:
				p.errorf(kn, "unknown column option %q%s (options: %s)", k, suggest(k, columnKeys), strings.Join(columnKeys, ", "))
			}
		})
		if unitNode != nil && scaleNode != nil {
			p.errorf(scaleNode, "give either unit or scale, not both")
		}
		if !hasField {
			p.errorf(v, "the column options name no field (add field: <name>)")
			return cm, nil, false
		}
	}
	return cm, fieldNodes, len(cm.Fields) > 0
}

// checkColumnOptions reports options that do not fit the column's fields.
func (p *mappingParser) checkColumnOptions(v *mnode, header string, cm *ColumnMap) {
	if v.kind != mapNode || len(cm.Fields) == 0 {
		return
	}
	has := func(k Kind) bool {
		for _, f := range cm.Fields {
			if Fields[f].Kind == k {
				return true
			}
		}
		return false
	}
	for i, k := range v.keys {
		switch k.value {
		case "unit", "scale":
			if !has(Money) {
				p.errorf(k, "column %q: %s applies to money fields only", header, k.value)
			}
		case "date_format":
			if !has(Date) {
				p.errorf(k, "column %q: date_format applies to date fields only", header)
			}
		case "invert":
			if cm.Invert && !has(Bool) {
				p.errorf(k, "column %q: invert applies to yes/no fields only", header)
			}
		case "values":
			for j, raw := range v.vals[i].keys {
				target := cm.Values[raw.value]
				for _, f := range cm.Fields {
					if Fields[f].Kind == Enum && target != "" && !enumValid(f, target) {
						p.errorf(v.vals[i].vals[j], "column %q: %q is not a valid %s%s (valid: %s)", header, target, Fields[f].Name, suggest(target, Fields[f].Enum), strings.Join(Fields[f].Enum, ", "))
					}
				}
			}
		}
	}
}

func enumValid(f Field, v string) bool {
	for _, e := range Fields[f].Enum {
		if e == v {
			return true
		}
	}
	for _, zh := range Fields[f].EnumZH {
		if zh == v {
			return true
		}
	}
	return false
}

func (p *mappingParser) values(n *mnode) map[string]string {
	if n.kind != mapNode {
		p.errorf(n, "values must map raw values to canonical ones, not be %s", n.kind)
		return nil
	}
	out := map[string]string{}
	p.mapEntries(n, func(k string, kn, v *mnode) {
		if v.kind == nullNode {
			out[strings.TrimSpace(k)] = ""
			return
		}
		if s, ok := p.scalar(v, "a value"); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(s)
		}
	})
	return out
}

// eachField calls fn for every entry of a map from canonical field names (constants,
// fallbacks), reporting a node that is not such a map and keys that are not field names.
func (p *mappingParser) eachField(n *mnode, what, values string, fn func(f Field, kn, v *mnode)) {
	if n.kind == nullNode {
		return
	}
	if n.kind != mapNode {
		p.errorf(n, "%s must map field names to %s, not be %s", what, values, n.kind)
		return
	}
	for i, kn := range n.keys {
		if kn.kind != scalarNode {
			p.errorf(kn, "a key must be a single value, not %s", kn.kind)
			continue
		}
		if f, ok := p.field(kn); ok {
			fn(f, kn, n.vals[i])
		}
	}
}

func (p *mappingParser) constants(n *mnode, m *Mapping, bound map[Field]fieldBinding) {
	p.eachField(n, "constants", "values", func(f Field, kn, v *mnode) {
		s, ok := p.scalar(v, "constant "+Fields[f].Name)
		if !ok {
			return
		}
		s = strings.TrimSpace(s)
		if !p.bind(f, "constant "+Fields[f].Name, kn, bound) {
			return
		}
		if msg := checkConstant(f, s, m.DateFormat); msg != "" {
			p.errorf(v, "constant %s: %s", Fields[f].Name, msg)
			return
		}
		m.Constants[f] = s
	})
}

// fallbacks reads field -> column: the column whose value a row uses when the field's own column
// is empty in that row.
func (p *mappingParser) fallbacks(n *mnode, m *Mapping) {
	p.eachField(n, "fallbacks", "column headers", func(f Field, _, v *mnode) {
		s, ok := p.scalar(v, "fallback of "+Fields[f].Name)
		if !ok {
			return
		}
		if s = strings.TrimSpace(s); s == "" {
			p.errorf(v, "fallback of %s: empty column name", Fields[f].Name)
			return
		}
		if m.Fallbacks == nil {
			m.Fallbacks = map[Field]string{}
		}
		m.Fallbacks[f] = s
	})
}

// sums reads the sums key: field -> [column, ...] or field -> {columns: [...], unit: wan}.
func (p *mappingParser) sums(n *mnode, m *Mapping, bound map[Field]fieldBinding) {
	p.eachField(n, "sums", "lists of column headers", func(f Field, kn, v *mnode) {
		if Fields[f].Kind != Money {
			p.errorf(kn, "sums: %s is not an amount; only money fields can be the sum of columns", Fields[f].Name)
			return
		}
		var sm SumMap
		list := v
		if v.kind == mapNode {
			list = nil
			p.mapEntries(v, func(k string, okn, o *mnode) {
				switch k {
				case "columns":
					list = o
				case "unit":
					s, ok := p.scalar(o, "unit")
					if !ok {
						return
					}
					u, ok := parseUnit(s)
					if !ok {
						p.errorf(o, "unknown unit %q (use yuan, thousand, wan, yi or cent)", s)
						return
					}
					sm.Unit = u
				default:
					p.errorf(okn, "unknown key %q in sums (known keys: columns, unit)", k)
				}
			})
			if list == nil {
				p.errorf(v, "sums: %s names no columns", Fields[f].Name)
				return
			}
		}
		if list.kind != seqNode {
			p.errorf(list, "sums: %s must be a list of at least two column headers, not %s", Fields[f].Name, list.kind)
			return
		}
		seen := map[string]bool{}
		for _, it := range list.items {
			s, ok := p.scalar(it, "a column of sums")
			if !ok {
				continue
			}
			if s = strings.TrimSpace(s); s == "" {
				p.errorf(it, "sums: %s: empty column name", Fields[f].Name)
				continue
			}
			if seen[s] {
				p.errorf(it, "sums: %s lists column %q twice", Fields[f].Name, s)
				continue
			}
			seen[s] = true
			sm.Columns = append(sm.Columns, s)
		}
		if len(list.items) < 2 {
			p.errorf(list, "sums: %s needs at least two columns (bind a single column under columns)", Fields[f].Name)
			return
		}
		if !p.bind(f, "sums", kn, bound) {
			return
		}
		if m.Sums == nil {
			m.Sums = map[Field]SumMap{}
		}
		m.Sums[f] = sm
	})
}

// checkConstant returns why s is not a valid value of f, or "".
func checkConstant(f Field, s, layout string) string {
	spec := &Fields[f]
	if s == "" {
		return "empty value"
	}
	switch spec.Kind {
	case Date:
		if _, err := date.Parse(s); err == nil {
			return ""
		}
		if layout != "" {
			if _, err := date.ParseLayout(s, layout); err == nil {
				return ""
			}
		}
		return fmt.Sprintf("%q is not a date (write it as 2018-12-01)", s)
	case Money:
		if _, err := money.ParseUnit(s, money.DefaultCurrency, money.Major, money.HalfUp); err != nil {
			return fmt.Sprintf("%q is not an amount", s)
		}
	case Int:
		if _, err := strconv.Atoi(s); err != nil {
			return fmt.Sprintf("%q is not a whole number", s)
		}
	case Bool:
		switch strings.ToLower(s) {
		case "true", "false", "yes", "no", "y", "n", "1", "0", "t", "f", "是", "否":
		default:
			return fmt.Sprintf("%q is not yes/no (write true or false)", s)
		}
	case Enum:
		if !enumValid(f, s) {
			return fmt.Sprintf("%q is not valid%s (valid: %s)", s, suggest(s, spec.Enum), strings.Join(spec.Enum, ", "))
		}
	case CurrencyCode:
		if !isoCurrency(money.Currency(currencyCode(s))) {
			return fmt.Sprintf("%q is not an ISO 4217 currency code such as CNY or USD", s)
		}
	}
	return ""
}

func parseUnit(s string) (money.Unit, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yuan", "元", "major", "dollar", "dollars", "1":
		return money.Major, true
	case "thousand", "千元", "千", "k":
		return money.Thousand, true
	case "wan", "万元", "万", "10k":
		return money.Wan, true
	case "yi", "亿元", "亿":
		return money.Yi, true
	case "cent", "cents", "fen", "分":
		return money.Cent, true
	}
	return 0, false
}

// parseScale accepts a power of ten from 10^-6 to 10^12 and returns its exponent.
func parseScale(s string) (money.Unit, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	for e := -6; e <= 12; e++ {
		if v == math.Pow10(e) {
			return money.Unit(e), true
		}
	}
	return 0, false
}

// DateLayoutOf turns a date format into a Go time layout. A format containing a digit is taken
// as a Go layout already ("2006-01-02", "02/01/2006", "Jan-06"); otherwise it is read as tokens:
// YYYY (year), YY, MMMM (January), MMM or Mon (Jan), MM (01), M (1), DD (02), D (2), HH, mm, ss,
// with any other non-letter text kept literally: "DD/MM/YYYY" is "02/01/2006", "Mon-YYYY" is
// "Jan-2006", "YYYY年MM月DD日" is "2006年01月02日". The layout must carry a year and a month; a
// missing day means the first of the month.
func DateLayoutOf(format string) (string, error) {
	f := strings.TrimSpace(format)
	if f == "" {
		return "", fmt.Errorf("empty date format")
	}
	layout := f
	if !strings.ContainsAny(f, "0123456789") {
		var b strings.Builder
		tokens := []struct{ tok, go_ string }{
			{"YYYY", "2006"}, {"yyyy", "2006"}, {"MMMM", "January"}, {"MMM", "Jan"}, {"Mon", "Jan"}, {"mon", "Jan"},
			{"YY", "06"}, {"yy", "06"}, {"MM", "01"}, {"DD", "02"}, {"dd", "02"}, {"HH", "15"}, {"hh", "03"},
			{"mm", "04"}, {"ss", "05"}, {"M", "1"}, {"D", "2"}, {"d", "2"}, {"T", "T"},
		}
	scan:
		for i := 0; i < len(f); {
			for _, t := range tokens {
				if strings.HasPrefix(f[i:], t.tok) {
					b.WriteString(t.go_)
					i += len(t.tok)
					continue scan
				}
			}
			r, n := utf8.DecodeRuneInString(f[i:])
			if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return "", fmt.Errorf("date format %q: unknown token at %q (use YYYY, MM, DD, Mon, or a Go layout such as 2006-01-02)", format, f[i:])
			}
			b.WriteString(f[i : i+n])
			i += n
		}
		layout = b.String()
	}
	// The layout must round-trip a reference date's year and month.
	ref := time.Date(2023, time.November, 28, 0, 0, 0, 0, time.UTC)
	back, err := time.Parse(layout, ref.Format(layout))
	if err != nil || back.Year() != 2023 || back.Month() != time.November {
		return "", fmt.Errorf("date format %q does not carry a year and a month (tokens: YYYY-MM-DD, DD/MM/YYYY, Mon-YYYY; or a Go layout such as 2006-01-02)", format)
	}
	return layout, nil
}

// suggest returns "; did you mean X?" for the candidate nearest to s, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	n := utf8.RuneCountInString(s)
	limit := 2
	if n/3 > limit {
		limit = n / 3
	}
	if best == "" || bestD > limit {
		// A prefix or substring match is a good hint too ("principal" -> principal_outstanding).
		var hits []string
		for _, c := range candidates {
			if len(ls) >= 3 && strings.Contains(strings.ToLower(c), ls) {
				hits = append(hits, c)
			}
		}
		if len(hits) == 1 {
			return "; did you mean " + hits[0] + "?"
		}
		return ""
	}
	return "; did you mean " + best + "?"
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 200 || len(rb) > 200 {
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// sortedColumns returns the mapping's column headers in a stable order.
func (m *Mapping) sortedColumns() []string {
	out := make([]string, 0, len(m.Columns))
	for h := range m.Columns {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}
