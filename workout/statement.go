package workout

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/textnorm"
)

// The bank-statement import (docs/payments.md). A statement is a CSV file, one bank credit (or a
// bounce of an earlier credit) a line, whose columns a StatementMapping names. ParseStatement
// reads the whole file and returns every line, or every problem it found: a rejected file is
// never partly used.

// StatementField is one canonical column of a bank statement.
type StatementField string

// The statement's canonical fields. TxnID, Date and Amount are required; the rest are optional.
const (
	StmtTxnID        StatementField = "txn_id"        // the bank's transaction id, unique in the file
	StmtDate         StatementField = "date"          // the value date
	StmtAmount       StatementField = "amount"        // credit amount; negative for a bounce/reversal
	StmtPayerName    StatementField = "payer_name"    // the payer's account name (personal data)
	StmtPayerAccount StatementField = "payer_account" // the payer's account or card number (personal data)
	StmtPayerID      StatementField = "payer_id"      // the payer's national ID number, when the bank gives it (personal data)
	StmtPayerPhone   StatementField = "payer_phone"   // the payer's phone (personal data)
	StmtReference    StatementField = "reference"     // the free-text reference (附言 / 摘要 / 用途)
	StmtReverses     StatementField = "reverses"      // for a negative line: the txn_id of the credit it reverses
	StmtCurrency     StatementField = "currency"      // ISO 4217 code; the mapping's currency when absent
)

// StatementFields lists every canonical field in the order of the documented default header.
var StatementFields = []StatementField{StmtTxnID, StmtDate, StmtAmount, StmtPayerName, StmtPayerAccount, StmtPayerID,
	StmtPayerPhone, StmtReference, StmtReverses, StmtCurrency}

var requiredStatementFields = []StatementField{StmtTxnID, StmtDate, StmtAmount}

// Statement limits: a larger file, line or field is refused (ETOOLARGE / EINVALID).
const (
	MaxStatementLines = 1_000_000
	MaxStatementField = 1024 // bytes in one cell
	MaxTxnIDLen       = 128  // characters in a transaction id
	maxStatementErrs  = 100  // problems listed before the parser stops
	// MaxPaymentMinor bounds a payment's amount, credit or reversal, in minor units (10 billion
	// yuan): a statement's total over MaxStatementLines lines then stays within int64.
	MaxPaymentMinor = 1_000_000_000_000
)

// PaymentAmountInRange reports whether a payment's amount is within MaxPaymentMinor either way.
func PaymentAmountInRange(a money.Amount) bool {
	m := a.Minor()
	return m <= MaxPaymentMinor && m >= -MaxPaymentMinor
}

// StatementMapping says how a bank's statement maps onto the canonical fields: header aliases
// per field, the encoding, the date format, the amount unit and currency, and whether an
// unknown column is an error. The zero value is not useful; use DefaultStatementMapping or
// ParseStatementMapping.
type StatementMapping struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Encoding is "utf-8", "gbk" (read as GB18030, its superset) or "auto" (UTF-8 when the
	// file is valid UTF-8, else GB18030). Empty means auto.
	Encoding string `yaml:"encoding"`
	// Delimiter is one character; empty means a comma.
	Delimiter string `yaml:"delimiter"`
	// DateFormat is a tape-style date format (YYYY-MM-DD, DD/MM/YYYY, YYYY年MM月DD日, or a Go
	// layout); empty or "auto" accepts every form date.Parse reads.
	DateFormat string `yaml:"date_format"`
	// AmountUnit is "yuan" (default), "fen" (minor units) or "wan".
	AmountUnit string `yaml:"amount_unit"`
	// Currency of the amounts unless a currency column says otherwise; empty means CNY.
	Currency string `yaml:"currency"`
	// Strict makes a header column that maps to no field an error; otherwise it is ignored.
	Strict bool `yaml:"strict"`
	// Columns lists, per canonical field, the header names that mean it (compared after
	// trimming and case folding).
	Columns map[StatementField][]string `yaml:"columns"`

	layout string     // Go layout of DateFormat, "" for auto
	unit   money.Unit // of AmountUnit
	cur    money.Currency
}

// DefaultStatementMapping returns the mapping of the documented default statement format
// (docs/payments.md): a header of the canonical field names (English) or their common Chinese
// bank headers, UTF-8 or GBK, dates as date.Parse reads them, amounts in yuan, CNY, strict.
func DefaultStatementMapping() *StatementMapping {
	m := &StatementMapping{Name: "statement-default", Encoding: "auto", AmountUnit: "yuan", Currency: "CNY", Strict: true,
		Columns: map[StatementField][]string{
			StmtTxnID:        {"txn_id", "交易流水号", "流水号"},
			StmtDate:         {"date", "value_date", "交易日期", "记账日期"},
			StmtAmount:       {"amount", "交易金额", "金额", "贷方发生额"},
			StmtPayerName:    {"payer_name", "付款人", "对方户名", "付款人名称"},
			StmtPayerAccount: {"payer_account", "对方账号", "付款人账号"},
			StmtPayerID:      {"payer_id", "付款人证件号"},
			StmtPayerPhone:   {"payer_phone", "付款人电话"},
			StmtReference:    {"reference", "附言", "摘要", "用途", "备注"},
			StmtReverses:     {"reverses", "原交易流水号"},
			StmtCurrency:     {"currency", "币种"},
		}}
	if err := m.compile(); err != nil {
		panic(err) // the default mapping is a constant
	}
	return m
}

// ParseStatementMapping reads a statement mapping (YAML, see mappings/statement-*.yaml). An
// unknown key, an unknown field, a header alias given to two fields, a missing required field,
// a bad date format, unit, encoding or currency is an EINVALID error naming it (and its line
// for YAML syntax and unknown keys).
func ParseStatementMapping(data []byte, filename string) (*StatementMapping, error) {
	if len(data) > 1<<20 {
		return nil, reclaim.Errorf(reclaim.ETOOLARGE, "%s: a mapping is at most 1 MiB", filename)
	}
	var m StatementMapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		e := reclaim.Errorf(reclaim.EINVALID, "%s: %v", filename, err)
		e.Fields = map[string]string{"file": filename}
		return nil, e
	}
	if err := m.compile(); err != nil {
		e := reclaim.Errorf(reclaim.EINVALID, "%s: %v", filename, err)
		e.Fields = map[string]string{"file": filename}
		return nil, e
	}
	return &m, nil
}

func (m *StatementMapping) compile() error {
	switch strings.ToLower(m.Encoding) {
	case "", "auto", "utf-8", "utf8", "gbk", "gb18030":
	default:
		return fmt.Errorf("encoding %q is not utf-8, gbk or auto", m.Encoding)
	}
	if utf8.RuneCountInString(m.Delimiter) > 1 {
		return fmt.Errorf("delimiter %q is more than one character", m.Delimiter)
	}
	m.layout = ""
	if f := strings.TrimSpace(m.DateFormat); f != "" && !strings.EqualFold(f, "auto") {
		l, err := dateLayoutOf(f)
		if err != nil {
			return err
		}
		m.layout = l
	}
	switch strings.ToLower(m.AmountUnit) {
	case "", "yuan", "元", "major":
		m.unit = money.Major
	case "fen", "分", "minor":
		m.unit = money.Cent
	case "wan", "万元":
		m.unit = money.Wan
	default:
		return fmt.Errorf("amount_unit %q is not yuan, fen or wan", m.AmountUnit)
	}
	m.cur = money.Currency(m.Currency)
	if m.cur == "" {
		m.cur = money.CNY
	}
	if !m.cur.Valid() {
		return fmt.Errorf("currency %q is not an ISO 4217 code", m.Currency)
	}
	seen := map[string]StatementField{}
	for f, aliases := range m.Columns {
		if !slices.Contains(StatementFields, f) {
			return fmt.Errorf("columns: unknown field %q (fields: %v)", f, StatementFields)
		}
		for _, a := range aliases {
			k := headerKey(a)
			if k == "" {
				return fmt.Errorf("columns: %s has an empty header name", f)
			}
			if g, dup := seen[k]; dup && g != f {
				return fmt.Errorf("columns: header %q is given to both %s and %s", a, g, f)
			}
			seen[k] = f
		}
	}
	for _, f := range requiredStatementFields {
		if len(m.Columns[f]) == 0 {
			return fmt.Errorf("columns: the required field %s has no header", f)
		}
	}
	return nil
}

// headerKey is the form header names are compared in: NFKC, trimmed, case-folded (TxnKey).
func headerKey(s string) string { return textnorm.TxnKey(s) }

// StatementLine is one accepted line of a statement.
type StatementLine struct {
	Line         int            `json:"line"` // 1-based line number of the record in the file
	TxnID        string         `json:"txn_id"`
	Date         date.Date      `json:"date"`
	Amount       money.Amount   `json:"amount"` // > 0 for a credit, < 0 for a reversal
	PayerName    string         `json:"payer_name,omitempty"`
	PayerAccount string         `json:"payer_account,omitempty"`
	PayerID      string         `json:"payer_id,omitempty"`
	PayerPhone   string         `json:"payer_phone,omitempty"`
	Reference    string         `json:"reference,omitempty"`
	Reverses     string         `json:"reverses,omitempty"` // set exactly when Amount < 0
	Currency     money.Currency `json:"currency"`
}

// IsReversal reports whether the line bounces an earlier credit (a negative amount).
func (l StatementLine) IsReversal() bool { return l.Amount.Sign() < 0 }

// Statement is a parsed statement file: its lines in file order and the SHA-256 of its bytes.
type Statement struct {
	Mapping string          `json:"mapping"`
	SHA256  string          `json:"sha256"`
	Lines   []StatementLine `json:"lines"`
}

// StatementError is one problem in a statement file: the line (1-based; the header's line for
// a header problem), the field (canonical name, or the file's column for an unknown column),
// the offending value (truncated) and the rule it breaks.
type StatementError struct {
	Line  int    `json:"line"`
	Field string `json:"field"`
	Value string `json:"value"`
	Rule  string `json:"rule"`
	Msg   string `json:"message"`
}

// Error formats "line 12: amount "abc": not an amount (rule amount_syntax)".
func (e StatementError) Error() string {
	return fmt.Sprintf("line %d: %s %q: %s (rule %s)", e.Line, e.Field, e.Value, e.Msg, e.Rule)
}

// StatementErrors is every problem found in a rejected file, in file order (at most 100).
type StatementErrors []StatementError

// Error lists the problems, one a line.
func (es StatementErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Statement-error rules: the Rule of a StatementError.
const (
	StmtRuleUnknownColumn   = "unknown_column"
	StmtRuleMissingColumn   = "missing_column"
	StmtRuleDuplicateColumn = "duplicate_column"
	StmtRuleCSVSyntax       = "csv_syntax"
	StmtRuleEncoding        = "encoding"
	StmtRuleRequired        = "required"
	StmtRuleTooLong         = "too_long"
	StmtRuleText            = "text"
	StmtRuleDateSyntax      = "date_syntax"
	StmtRuleDateRange       = "date_range"
	StmtRuleAmountSyntax    = "amount_syntax"
	StmtRuleAmountZero      = "amount_zero"
	StmtRuleAmountRange     = "amount_range"
	StmtRuleNegativeNoRef   = "negative_without_original"
	StmtRuleReversesOnPos   = "reverses_on_credit"
	StmtRuleReversesSelf    = "reverses_itself"
	StmtRuleCurrency        = "currency"
	StmtRuleDuplicateTxn    = "duplicate_txn_id"
	StmtRuleDuplicateLine   = "duplicate_line"
	StmtRuleTooManyLines    = "too_many_lines"
	StmtRuleEmpty           = "empty_file"
)

// problems carries a rejected file's StatementErrors inside the *reclaim.Error (errors.As finds
// them) without repeating them: the error's message lists them already.
type problems struct{ es StatementErrors }

func (p problems) Error() string { return fmt.Sprintf("%d problem(s)", len(p.es)) }

// As lets errors.As find the StatementErrors.
func (p problems) As(target any) bool {
	if t, ok := target.(*StatementErrors); ok {
		*t = p.es
		return true
	}
	return false
}

// AsReclaimError turns the problems into the one error the API and CLI return: EINVALID, with
// Fields naming the first problem's line, field, value and rule, and the message listing them.
func (es StatementErrors) AsReclaimError() *reclaim.Error {
	if len(es) == 0 {
		return nil
	}
	f := es[0]
	code := reclaim.EINVALID
	if f.Rule == StmtRuleTooManyLines {
		code = reclaim.ETOOLARGE
	}
	return &reclaim.Error{Code: code, Message: fmt.Sprintf("statement rejected, nothing was imported: %d problem(s):\n%s", len(es), es.Error()),
		Fields: map[string]string{"line": strconv.Itoa(f.Line), "field": f.Field, "value": f.Value, "rule": f.Rule}}
}

// ParseStatement reads a whole statement with mapping m (nil: DefaultStatementMapping). It
// returns every line, or a *reclaim.Error (EINVALID, ETOOLARGE) whose cause is the
// StatementErrors found (errors.As finds them): the header must carry every required field and,
// when the mapping is strict, no unknown column; every line needs a transaction id, a date in
// the mapping's format and a non-zero amount; a negative amount (a bounce or reversal) must name
// the credit it reverses in the reverses column; a transaction id may appear once (compared by
// textnorm.TxnKey), and so may a date + amount + reference + payer; text must be acceptable
// (textnorm.Check) and at most MaxStatementField bytes. Blank lines are skipped. It never panics
// on any input.
func ParseStatement(r io.Reader, m *StatementMapping) (*Statement, error) {
	if m == nil {
		m = DefaultStatementMapping()
	}
	raw, err := io.ReadAll(io.LimitReader(r, 1<<30+1))
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EINVALID, err, "reading the statement: %v", err)
	}
	if len(raw) > 1<<30 {
		return nil, reclaim.Errorf(reclaim.ETOOLARGE, "a statement is at most 1 GiB")
	}
	sum := sha256.Sum256(raw)
	text, err := decodeStatement(raw, m.Encoding)
	if err != nil {
		return nil, StatementErrors{{Line: 1, Field: "file", Rule: StmtRuleEncoding, Msg: err.Error()}}.AsReclaimError()
	}
	p := stmtParser{m: m, txns: map[string]int{}, dups: map[string]int{}}
	lines := p.parse(text)
	if len(p.errs) > 0 {
		e := p.errs.AsReclaimError()
		e.Err = problems{p.errs}
		return nil, e
	}
	return &Statement{Mapping: m.Name, SHA256: hex.EncodeToString(sum[:]), Lines: lines}, nil
}

// CheckDates refuses a statement with a line whose value date is before lo or after hi: a
// payment is a fact of the past, and its date dates the pool's ledger entry and moves the case's
// limitation expiry (to the date + 3 years), so a statement dated in the future would revive a
// time-barred debt. It returns nil, or the *reclaim.Error ParseStatement returns for a rejected
// file (EINVALID naming the first such line, its StatementErrors inside, at most
// maxStatementErrs).
func (st *Statement) CheckDates(lo, hi date.Date) error {
	var es StatementErrors
	for _, l := range st.Lines {
		if !l.Date.Before(lo) && !l.Date.After(hi) {
			continue
		}
		if len(es) == maxStatementErrs {
			break
		}
		es = append(es, StatementError{Line: l.Line, Field: string(StmtDate), Value: l.Date.String(), Rule: StmtRuleDateRange,
			Msg: fmt.Sprintf("a value date from %s to %s", lo, hi)})
	}
	if len(es) == 0 {
		return nil
	}
	e := es.AsReclaimError()
	e.Err = problems{es}
	return e
}

func decodeStatement(raw []byte, enc string) ([]byte, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	switch strings.ToLower(enc) {
	case "utf-8", "utf8":
		if i := invalidUTF8(raw); i >= 0 {
			return nil, fmt.Errorf("not valid UTF-8 at byte %d (set encoding: gbk in the mapping for a GBK file)", i)
		}
		return raw, nil
	case "gbk", "gb18030":
		return gbDecode(raw)
	default:
		if utf8.Valid(raw) {
			return raw, nil
		}
		return gbDecode(raw)
	}
}

func gbDecode(raw []byte) ([]byte, error) {
	out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), raw)
	if err != nil {
		return nil, fmt.Errorf("not valid GB18030/GBK: %v", err)
	}
	return out, nil
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

type stmtParser struct {
	m    *StatementMapping
	errs StatementErrors
	txns map[string]int // TxnKey -> line
	dups map[string]int // date|amount|reference|payer -> line
	col  map[StatementField]int
}

func (p *stmtParser) add(line int, field StatementField, value, rule, format string, args ...any) {
	if len(p.errs) >= maxStatementErrs {
		return
	}
	if utf8.RuneCountInString(value) > 64 {
		r := []rune(value)
		value = string(r[:64]) + "…"
	}
	if !utf8.ValidString(value) {
		value = strings.ToValidUTF8(value, "\uFFFD")
	}
	p.errs = append(p.errs, StatementError{Line: line, Field: string(field), Value: value, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (p *stmtParser) full() bool { return len(p.errs) >= maxStatementErrs }

func (p *stmtParser) parse(text []byte) []StatementLine {
	cr := csv.NewReader(bufio.NewReaderSize(bytes.NewReader(text), 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if p.m.Delimiter != "" {
		cr.Comma, _ = utf8.DecodeRuneInString(p.m.Delimiter)
	}
	var out []StatementLine
	header := true
	for !p.full() {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			p.add(line, "file", "", StmtRuleCSVSyntax, "%v", err)
			return nil
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if header {
			header = false
			if !p.header(rec, line) {
				return nil
			}
			continue
		}
		if len(out) >= MaxStatementLines {
			p.add(line, "file", "", StmtRuleTooManyLines, "a statement has at most %d lines", MaxStatementLines)
			return nil
		}
		if l, ok := p.record(rec, line); ok {
			out = append(out, l)
		}
	}
	if header && len(p.errs) == 0 {
		p.add(1, "file", "", StmtRuleEmpty, "the file has no header line")
	}
	return out
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (p *stmtParser) header(rec []string, line int) bool {
	byKey := map[string]StatementField{}
	for f, aliases := range p.m.Columns {
		for _, a := range aliases {
			byKey[headerKey(a)] = f
		}
	}
	p.col = map[StatementField]int{}
	for i, h := range rec {
		k := headerKey(h)
		f, ok := byKey[k]
		if !ok {
			if p.m.Strict {
				p.add(line, StatementField(h), h, StmtRuleUnknownColumn, "column %d is not a column of mapping %s (strict)", i+1, p.m.Name)
			}
			continue
		}
		if j, dup := p.col[f]; dup {
			p.add(line, f, h, StmtRuleDuplicateColumn, "columns %d and %d both map to %s", j+1, i+1, f)
			continue
		}
		p.col[f] = i
	}
	for _, f := range requiredStatementFields {
		if _, ok := p.col[f]; !ok {
			p.add(line, f, "", StmtRuleMissingColumn, "the header has no %s column (headers: %v)", f, p.m.Columns[f])
		}
	}
	return len(p.errs) == 0
}

func (p *stmtParser) cell(rec []string, f StatementField, line int) (string, bool) {
	i, ok := p.col[f]
	if !ok || i >= len(rec) {
		return "", true
	}
	v := rec[i]
	if len(v) > MaxStatementField {
		p.add(line, f, v, StmtRuleTooLong, "more than %d bytes", MaxStatementField)
		return "", false
	}
	if err := textnorm.Check(v); err != nil {
		p.add(line, f, "", StmtRuleText, "%v", err)
		return "", false
	}
	return textnorm.Trim(v), true
}

func (p *stmtParser) record(rec []string, line int) (StatementLine, bool) {
	l := StatementLine{Line: line, Currency: p.m.cur}
	n := len(p.errs)
	var txn, ds, as, cur string
	txn, _ = p.cell(rec, StmtTxnID, line)
	ds, _ = p.cell(rec, StmtDate, line)
	as, _ = p.cell(rec, StmtAmount, line)
	cur, _ = p.cell(rec, StmtCurrency, line)
	l.PayerName, _ = p.cell(rec, StmtPayerName, line)
	l.PayerAccount, _ = p.cell(rec, StmtPayerAccount, line)
	l.PayerID, _ = p.cell(rec, StmtPayerID, line)
	l.PayerPhone, _ = p.cell(rec, StmtPayerPhone, line)
	l.Reference, _ = p.cell(rec, StmtReference, line)
	l.Reverses, _ = p.cell(rec, StmtReverses, line)
	if len(p.errs) > n {
		return l, false
	}
	// Transaction id.
	switch key := textnorm.TxnKey(txn); {
	case key == "":
		p.add(line, StmtTxnID, txn, StmtRuleRequired, "a line needs the bank's transaction id")
	case utf8.RuneCountInString(txn) > MaxTxnIDLen:
		p.add(line, StmtTxnID, txn, StmtRuleTooLong, "a transaction id is at most %d characters", MaxTxnIDLen)
	default:
		if first, dup := p.txns[key]; dup {
			p.add(line, StmtTxnID, txn, StmtRuleDuplicateTxn, "transaction id already on line %d", first)
		} else {
			p.txns[key] = line
		}
		l.TxnID = txn
	}
	// Currency.
	if cur != "" {
		c := money.Currency(strings.ToUpper(cur))
		if !c.Valid() {
			p.add(line, StmtCurrency, cur, StmtRuleCurrency, "not an ISO 4217 currency code")
		} else {
			l.Currency = c
		}
	}
	// Date.
	if ds == "" {
		p.add(line, StmtDate, ds, StmtRuleRequired, "a line needs its value date")
	} else {
		var d date.Date
		var err error
		if p.m.layout != "" {
			d, err = date.ParseLayout(ds, p.m.layout)
		} else {
			d, err = date.Parse(ds)
		}
		if err != nil {
			p.add(line, StmtDate, ds, StmtRuleDateSyntax, "not a date in the format %s", orAuto(p.m.DateFormat))
		} else {
			l.Date = d
		}
	}
	// Amount.
	if as == "" {
		p.add(line, StmtAmount, as, StmtRuleRequired, "a line needs its amount")
	} else if a, err := money.ParseUnit(as, l.Currency, p.m.unit, money.Exact); err != nil {
		p.add(line, StmtAmount, as, StmtRuleAmountSyntax, "not an amount in %s (%v)", orDefault(p.m.AmountUnit, "yuan"), err)
	} else {
		l.Amount = a
		switch {
		case a.Sign() == 0:
			p.add(line, StmtAmount, as, StmtRuleAmountZero, "a line moves money: zero is not an amount")
		case !PaymentAmountInRange(a):
			p.add(line, StmtAmount, as, StmtRuleAmountRange, "at most %s either way", money.New(MaxPaymentMinor, l.Currency))
		case a.Sign() < 0 && textnorm.TxnKey(l.Reverses) == "":
			p.add(line, StmtAmount, as, StmtRuleNegativeNoRef, "a negative amount is a bounce or reversal and must name the original transaction in the reverses column")
		case a.Sign() > 0 && l.Reverses != "":
			p.add(line, StmtReverses, l.Reverses, StmtRuleReversesOnPos, "only a negative amount reverses a transaction")
		case a.Sign() < 0 && textnorm.TxnKey(l.Reverses) == textnorm.TxnKey(l.TxnID):
			p.add(line, StmtReverses, l.Reverses, StmtRuleReversesSelf, "a line cannot reverse itself")
		}
	}
	if len(p.errs) > n {
		return l, false
	}
	dk := l.Date.String() + "|" + strconv.FormatInt(l.Amount.Minor(), 10) + "|" + string(l.Currency) + "|" + textnorm.TxnKey(l.Reference) +
		"|" + textnorm.TxnKey(l.PayerName) + "|" + textnorm.TxnKey(l.PayerAccount)
	if first, dup := p.dups[dk]; dup {
		p.add(line, StmtReference, l.Reference, StmtRuleDuplicateLine, "same date, amount, reference and payer as line %d", first)
		return l, false
	}
	p.dups[dk] = line
	return l, true
}

func orAuto(s string) string { return orDefault(s, "auto") }

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

// dateLayoutOf turns a statement date format into a Go time layout, as the tape mappings do
// (tape.DateLayoutOf; package tape uses this package, so it cannot be imported here): a format
// containing a digit is a Go layout already ("2006-01-02"); otherwise the tokens YYYY, YY, MM,
// M, DD, D (and HH, mm, ss) are replaced and any other non-letter text is kept: "DD/MM/YYYY",
// "YYYY年MM月DD日". The layout must carry a year, a month and a day.
func dateLayoutOf(format string) (string, error) {
	layout := format
	if !strings.ContainsAny(format, "0123456789") {
		tokens := []struct{ tok, goTok string }{{"YYYY", "2006"}, {"YY", "06"}, {"MM", "01"}, {"DD", "02"}, {"HH", "15"},
			{"mm", "04"}, {"ss", "05"}, {"M", "1"}, {"D", "2"}}
		var b strings.Builder
	scan:
		for i := 0; i < len(format); {
			for _, t := range tokens {
				if strings.HasPrefix(format[i:], t.tok) {
					b.WriteString(t.goTok)
					i += len(t.tok)
					continue scan
				}
			}
			r, n := utf8.DecodeRuneInString(format[i:])
			if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return "", fmt.Errorf("date format %q: unknown token at %q (use YYYY, MM, DD or a Go layout such as 2006-01-02)", format, format[i:])
			}
			b.WriteString(format[i : i+n])
			i += n
		}
		layout = b.String()
	}
	ref := time.Date(2023, time.November, 28, 0, 0, 0, 0, time.UTC)
	back, err := time.Parse(layout, ref.Format(layout))
	if err != nil || back.Year() != 2023 || back.Month() != time.November || back.Day() != 28 {
		return "", fmt.Errorf("date format %q does not carry a year, a month and a day (YYYY-MM-DD, DD/MM/YYYY, YYYY年MM月DD日)", format)
	}
	return layout, nil
}
