package verify

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// This file is ParseEntry's fast path: a scanner that reads an entry once, left to right, and
// accepts it only if every byte is where the canonical encoding (encodeUnchecked) puts it. It
// checks, in one pass and without building a map or a second encoding:
//
//   - the fixed start {"v":1,"pool": and then, for each key of the header and of the entry's type
//     in order, the exact bytes ,"<key>": that the encoder writes (so a missing, unknown,
//     duplicate or reordered key, or whitespace anywhere outside a string, is a mismatch);
//   - each value against its field's rule, on the encoded bytes: identifiers, dates, hex,
//     currency and enumerations as plain strings of their allowed characters (none of which
//     needs an escape); amounts as digits, a point and two digits without a leading zero;
//     integers as digits without a leading zero; field lists sorted and distinct; free text as
//     valid UTF-8 whose only escapes are the ones appendJSONString writes (\" \\ \b \f \n \r \t,
//     \u00xx in lower-case hex for the other control characters, \u2028 and \u2029), with raw
//     control characters, raw U+2028/U+2029 and every other escape refused;
//   - the closing } as the last byte, and then the type's cross-field rules (check).
//
// Every accepted piece is the unique canonical encoding of the value it decodes to, so an
// accepted entry is byte for byte what Encode writes for the decoded value: the same guarantee
// as parseEntrySlow's re-encode-and-compare, without the second encoding. Whatever the scanner
// does not accept goes to parseEntrySlow, which names the problem (or, for a canonical entry
// the scanner is too cautious about, accepts it); so the scanner decides speed, never errors.
// FuzzParseEntryFastPath checks that the two agree.

// Entry type indices, in the order of entryTypeNames.
const (
	tPoolOpened = iota
	tLoanBoarded
	tLoanCollection
	tLoanStatus
	tLoanRemoved
	tLoanRecordUpdated
	tCashStatement
	tPeriodReport
	tAuctionResult
	tKeyRotation
	tLoanCollectionReversal
	tLoanWaiver
	numEntryTypes
)

var entryTypeNames = [numEntryTypes]string{TypePoolOpened, TypeLoanBoarded, TypeLoanCollection, TypeLoanStatus,
	TypeLoanRemoved, TypeLoanRecordUpdated, TypeCashStatement, TypePeriodReport, TypeAuctionResult, TypeKeyRotation,
	TypeLoanCollectionReversal, TypeLoanWaiver}

// entryTypeIndex returns the index of the type named s, or -1.
func entryTypeIndex(s []byte) int {
	switch string(s) {
	case TypePoolOpened:
		return tPoolOpened
	case TypeLoanBoarded:
		return tLoanBoarded
	case TypeLoanCollection:
		return tLoanCollection
	case TypeLoanStatus:
		return tLoanStatus
	case TypeLoanRemoved:
		return tLoanRemoved
	case TypeLoanRecordUpdated:
		return tLoanRecordUpdated
	case TypeCashStatement:
		return tCashStatement
	case TypePeriodReport:
		return tPeriodReport
	case TypeAuctionResult:
		return tAuctionResult
	case TypeKeyRotation:
		return tKeyRotation
	case TypeLoanCollectionReversal:
		return tLoanCollectionReversal
	case TypeLoanWaiver:
		return tLoanWaiver
	}
	return -1
}

// maxEntryFields is the largest number of body keys of any type (period.report).
const maxEntryFields = 14

// schemaField is one body key of a type: the exact bytes before its value and its rule.
type schemaField struct {
	lit  string // ,"<key>":
	rule rule
}

// entrySchemas holds each type's body keys in order. They are derived from the types' fields
// methods, the one definition the encoder and parseEntrySlow use too.
var entrySchemas [numEntryTypes][]schemaField

// Character sets of the rules whose values are plain strings.
var (
	poolChars, eventIDChars, loanChars, hexChars, upperChars, enumChars, fieldNameChars charSet
)

type charSet [256]bool

func (s *charSet) add(ranges ...string) {
	for _, r := range ranges {
		if len(r) == 3 && r[1] == '-' {
			for c := int(r[0]); c <= int(r[2]); c++ {
				s[c] = true
			}
			continue
		}
		for i := 0; i < len(r); i++ {
			s[r[i]] = true
		}
	}
}

func init() {
	for t, name := range entryTypeNames {
		fs := newBody(name).fields()
		if len(fs) > maxEntryFields {
			panic("verify: maxEntryFields is too small for " + name)
		}
		for _, f := range fs {
			entrySchemas[t] = append(entrySchemas[t], schemaField{lit: "," + string(appendJSONString(nil, f.key)) + ":", rule: f.rule})
		}
	}
	// The same sets as checkID, checkString and checkList.
	poolChars.add("a-z", "A-Z", "0-9", "._:/-")
	eventIDChars.add("a-z", "A-Z", "0-9", "._:-")
	loanChars.add("a-z", "A-Z", "0-9", "_-")
	hexChars.add("0-9", "a-f")
	upperChars.add("A-Z")
	enumChars.add("a-z", "_")
	fieldNameChars.add("a-z", "0-9", "_.")
}

// scanVal is where a scanned value is and what it holds.
type scanVal struct {
	lo, hi int32 // a string's content without the quotes, or an array's without the brackets
	n      int64 // an amount in minor units, an integer, or the length of an array
	esc    bool  // the string has escapes
}

// entryScan is the result of scanEntry.
type entryScan struct {
	typ  int
	hdr  [3]scanVal // pool, event_id, effective
	vals [maxEntryFields]scanVal
}

func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// scanEntry reports whether b is the canonical encoding of an entry whose fields all satisfy
// their rules, filling sc. The cross-field rules are left to entryScan.entry.
func scanEntry(b []byte, sc *entryScan) bool {
	if len(b) > MaxEntrySize {
		return false
	}
	const head = `{"v":1,"pool":`
	if !hasLit(b, 0, head) {
		return false
	}
	i, ok := scanChars(b, len(head), &sc.hdr[0], &poolChars, 1, 128)
	if !ok || !hasLit(b, i, `,"event_id":`) {
		return false
	}
	if i, ok = scanChars(b, i+len(`,"event_id":`), &sc.hdr[1], &eventIDChars, 1, 64); !ok || !hasLit(b, i, `,"type":"`) {
		return false
	}
	i += len(`,"type":"`)
	j := bytes.IndexByte(b[i:min(len(b), i+32)], '"')
	if j < 0 {
		return false
	}
	if sc.typ = entryTypeIndex(b[i : i+j]); sc.typ < 0 {
		return false
	}
	i += j + 1
	if !hasLit(b, i, `,"effective":`) {
		return false
	}
	if i, ok = scanDate(b, i+len(`,"effective":`), &sc.hdr[2]); !ok {
		return false
	}
	for k, f := range entrySchemas[sc.typ] {
		if !hasLit(b, i, f.lit) {
			return false
		}
		i += len(f.lit)
		v := &sc.vals[k]
		switch f.rule {
		case ruleAmount, rulePositive:
			i, ok = scanAmount(b, i, v, f.rule == rulePositive)
		case ruleInt:
			i, ok = scanInt(b, i, v)
		case ruleFields:
			i, ok = scanFieldList(b, i, v)
		default:
			i, ok = scanStringValue(b, i, v, f.rule)
		}
		if !ok {
			return false
		}
	}
	return i == len(b)-1 && b[i] == '}'
}

// scanChars scans a string at b[i] of min to max characters of set (which never holds '"' or
// '\', so the string has no escapes) and returns the index after it.
func scanChars(b []byte, i int, v *scanVal, set *charSet, min, max int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	j := i + 1
	for j < len(b) && set[b[j]] {
		j++
	}
	if j >= len(b) || b[j] != '"' || j-(i+1) < min || j-(i+1) > max {
		return 0, false
	}
	v.lo, v.hi, v.esc = int32(i+1), int32(j), false
	return j + 1, true
}

func scanDate(b []byte, i int, v *scanVal) (int, bool) {
	if len(b)-i < 12 || b[i] != '"' || b[i+11] != '"' || !validDateBytes(b[i+1:i+11]) {
		return 0, false
	}
	v.lo, v.hi, v.esc = int32(i+1), int32(i+11), false
	return i + 12, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validDateBytes reports whether d is a date YYYY-MM-DD from 0001-01-01 to 9999-12-31 of the
// proleptic Gregorian calendar (what validDate accepts).
func validDateBytes(d []byte) bool {
	if len(d) != 10 || d[4] != '-' || d[7] != '-' {
		return false
	}
	for _, k := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if !isDigit(d[k]) {
			return false
		}
	}
	y := int(d[0]-'0')*1000 + int(d[1]-'0')*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	m := int(d[5]-'0')*10 + int(d[6]-'0')
	day := int(d[8]-'0')*10 + int(d[9]-'0')
	if y < 1 || m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return day <= days
}

// scanAmount scans a canonical amount string at b[i]: minor units, "0" to "99999999999999999"
// (17 digits), no leading zeros; more than "0" when positive.
func scanAmount(b []byte, i int, v *scanVal, positive bool) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	j := i + 1
	var u uint64
	for j < len(b) && isDigit(b[j]) {
		if j-(i+1) == 17 { // 18 digits exceed MaxAmount
			return 0, false
		}
		u = u*10 + uint64(b[j]-'0')
		j++
	}
	if nd := j - (i + 1); nd == 0 || nd > 1 && b[i+1] == '0' {
		return 0, false
	}
	if j >= len(b) || b[j] != '"' {
		return 0, false
	}
	if u > uint64(MaxAmount) || positive && u == 0 {
		return 0, false
	}
	v.n = int64(u)
	return j + 1, true
}

// scanInt scans a canonical integer from 0 to MaxJSONInt at b[i]. The caller checks what
// follows it (a ',' or the closing '}', so "1.5" or "1e3" do not pass).
func scanInt(b []byte, i int, v *scanVal) (int, bool) {
	j := i
	var u uint64
	for j < len(b) && isDigit(b[j]) {
		if j-i == 16 { // 17 digits exceed MaxJSONInt
			return 0, false
		}
		u = u*10 + uint64(b[j]-'0')
		j++
	}
	if nd := j - i; nd == 0 || nd > 1 && b[i] == '0' || u > MaxJSONInt {
		return 0, false
	}
	v.n = int64(u)
	return j, true
}

// scanFieldList scans a loan.record_updated field list: 1 to 1024 distinct field names (1 to
// 64 of [a-z0-9_.]) in increasing order.
func scanFieldList(b []byte, i int, v *scanVal) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	j := i + 1
	var prev, cur scanVal
	for n := 1; n <= 1024; n++ {
		k, ok := scanChars(b, j, &cur, &fieldNameChars, 1, 64)
		if !ok || n > 1 && bytes.Compare(b[prev.lo:prev.hi], b[cur.lo:cur.hi]) >= 0 {
			return 0, false
		}
		prev, j = cur, k
		if j < len(b) && b[j] == ']' {
			v.lo, v.hi, v.n = int32(i+1), int32(j), int64(n)
			return j + 1, true
		}
		if j >= len(b) || b[j] != ',' {
			return 0, false
		}
		j++
	}
	return 0, false
}

// scanStringValue scans the string value of a field with string rule r at b[i].
func scanStringValue(b []byte, i int, v *scanVal, r rule) (int, bool) {
	switch r {
	case rulePool:
		return scanChars(b, i, v, &poolChars, 1, 128)
	case ruleEventID:
		return scanChars(b, i, v, &eventIDChars, 1, 64)
	case ruleLoan:
		return scanChars(b, i, v, &loanChars, 1, 64)
	case ruleDate:
		return scanDate(b, i, v)
	case ruleHex:
		return scanChars(b, i, v, &hexChars, 64, 64)
	case ruleHexEmpty:
		j, ok := scanChars(b, i, v, &hexChars, 0, 64)
		return j, ok && (v.hi == v.lo || v.hi-v.lo == 64)
	case ruleCurrency:
		return scanChars(b, i, v, &upperChars, 3, 3)
	case ruleChannel, ruleStatus, ruleRemoval:
		j, ok := scanChars(b, i, v, &enumChars, 1, 32)
		if !ok {
			return 0, false
		}
		list := channels
		if r == ruleStatus {
			list = statuses
		} else if r == ruleRemoval {
			list = removalReasons
		}
		for _, x := range list {
			if string(b[v.lo:v.hi]) == x {
				return j, true
			}
		}
		return 0, false
	case ruleName, ruleText, ruleVKey:
		j, esc, runes, ok := scanString(b, i)
		if !ok {
			return 0, false
		}
		v.lo, v.hi, v.esc = int32(i+1), int32(j-1), esc
		switch r {
		case ruleName:
			return j, runes >= 1 && runes <= 200
		case ruleText:
			return j, runes <= 200
		default:
			s := string(b[v.lo:v.hi])
			if esc {
				s = unescape(b[v.lo:v.hi])
			}
			_, err := note.NewVerifier(s)
			return j, err == nil
		}
	}
	return 0, false
}

// scanString scans a string at b[i] written as appendJSONString writes it: valid UTF-8 with no
// raw control character, '"', '\', U+2028 or U+2029, and only the escapes appendJSONString
// uses. It returns the index after the closing quote, whether there were escapes and the
// number of characters (runes) of the value.
func scanString(b []byte, i int) (end int, esc bool, runes int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, 0, false
	}
	for i++; i < len(b); runes++ {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, esc, runes, true
		case c == '\\':
			n := canonicalEscape(b[i:])
			if n == 0 {
				return 0, false, 0, false
			}
			esc = true
			i += n
		case c < 0x20:
			return 0, false, 0, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return 0, false, 0, false
			}
			i += size
		}
	}
	return 0, false, 0, false
}

// canonicalEscape returns the length of the escape at the start of e (which starts with '\') if
// it is one that appendJSONString writes, or 0.
func canonicalEscape(e []byte) int {
	if len(e) < 2 {
		return 0
	}
	switch e[1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(e) < 6 {
			return 0
		}
		switch string(e[2:6]) {
		case "2028", "2029":
			return 6
		}
		if e[2] != '0' || e[3] != '0' || e[4] != '0' && e[4] != '1' || !hexChars[e[5]] {
			return 0
		}
		switch r := unhex(e[4])<<4 | unhex(e[5]); r {
		case '\b', '\f', '\n', '\r', '\t': // these have short forms
			return 0
		}
		return 6
	}
	return 0
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// unescape returns the value of string content that scanString accepted.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(unhex(raw[i+1]))<<12 | rune(unhex(raw[i+2]))<<8 | rune(unhex(raw[i+3]))<<4 | rune(unhex(raw[i+4]))
			out = utf8.AppendRune(out, r)
			i += 4
		default: // '"' or '\'
			out = append(out, raw[i])
		}
	}
	return string(out)
}

// entryStrings makes the string values of a scanned entry: substrings of one copy of the entry
// (one allocation for all of them) unless they have escapes.
type entryStrings struct {
	s string
	b []byte
}

func (x *entryStrings) str(v scanVal) string {
	if v.esc {
		return unescape(x.b[v.lo:v.hi])
	}
	return x.s[v.lo:v.hi]
}

// list splits a scanned field list: "a","b",... (names without escapes).
func (x *entryStrings) list(v scanVal) []string {
	out := make([]string, 0, v.n)
	for s := x.s[v.lo:v.hi]; len(s) > 0; {
		j := 1 + strings.IndexByte(s[1:], '"') // the closing quote
		out = append(out, s[1:j])
		s = s[min(len(s), j+2):] // after the closing quote and the comma
	}
	return out
}

func amt(v scanVal) Amount { return Amount(v.n) }

// entry builds the scanned entry from b and checks its cross-field rules. It returns nil if
// they fail (parseEntrySlow then reports which).
func (sc *entryScan) entry(b []byte) Entry {
	x := entryStrings{s: string(b), b: b}
	h := Header{Pool: x.str(sc.hdr[0]), EventID: x.str(sc.hdr[1]), Effective: x.str(sc.hdr[2])}
	v := &sc.vals
	switch sc.typ {
	case tPoolOpened:
		e := PoolOpened{Header: h, Name: x.str(v[0]), Cutoff: x.str(v[1]), Currency: x.str(v[2]), WaterfallHash: x.str(v[3])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanBoarded:
		e := LoanBoarded{Header: h, Loan: x.str(v[0]), Claim: amt(v[1]), Principal: amt(v[2]), Interest: amt(v[3]),
			Fees: amt(v[4]), DPD: v[5].n, Commitment: x.str(v[6])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanCollection:
		e := LoanCollection{Header: h, Loan: x.str(v[0]), Amount: amt(v[1]), Principal: amt(v[2]), Interest: amt(v[3]),
			Fees: amt(v[4]), Channel: x.str(v[5]), BankTxn: x.str(v[6])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanStatus:
		e := LoanStatus{Header: h, Loan: x.str(v[0]), Status: x.str(v[1]), Reason: x.str(v[2])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanRemoved:
		e := LoanRemoved{Header: h, Loan: x.str(v[0]), Reason: x.str(v[1]), Balance: amt(v[2]), Price: amt(v[3])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanRecordUpdated:
		e := LoanRecordUpdated{Header: h, Loan: x.str(v[0]), Commitment: x.str(v[1]), Fields: x.list(v[2])}
		if e.check() != nil {
			return nil
		}
		return e
	case tCashStatement:
		e := CashStatement{Header: h, Account: x.str(v[0]), PeriodStart: x.str(v[1]), PeriodEnd: x.str(v[2]), Opening: amt(v[3]),
			Credits: amt(v[4]), Debits: amt(v[5]), Closing: amt(v[6]), StatementHash: x.str(v[7])}
		if e.check() != nil {
			return nil
		}
		return e
	case tPeriodReport:
		e := PeriodReport{Header: h, PeriodStart: x.str(v[0]), PeriodEnd: x.str(v[1]), FromIndex: v[2].n, ToIndex: v[3].n,
			LoansBoarded: v[4].n, LoansRemoved: v[5].n, CollectionsCount: v[6].n, Collections: amt(v[7]),
			PrincipalCollected: amt(v[8]), OpeningBalance: amt(v[9]), BoardedBalance: amt(v[10]), RemovedBalance: amt(v[11]),
			ClosingBalance: amt(v[12]), ReportHash: x.str(v[13])}
		if e.check() != nil {
			return nil
		}
		return e
	case tAuctionResult:
		e := AuctionResult{Header: h, Auction: x.str(v[0]), Lot: x.str(v[1]), Loans: v[2].n, Price: amt(v[3]), Winner: x.str(v[4]),
			Bids: v[5].n, BidHistory: x.str(v[6])}
		if e.check() != nil {
			return nil
		}
		return e
	case tKeyRotation:
		e := KeyRotation{Header: h, OldKey: x.str(v[0]), NewKey: x.str(v[1])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanCollectionReversal:
		e := LoanCollectionReversal{Header: h, Loan: x.str(v[0]), Amount: amt(v[1]), Principal: amt(v[2]), Interest: amt(v[3]),
			Fees: amt(v[4]), Reverses: x.str(v[5]), Reason: x.str(v[6])}
		if e.check() != nil {
			return nil
		}
		return e
	case tLoanWaiver:
		e := LoanWaiver{Header: h, Loan: x.str(v[0]), Amount: amt(v[1]), Principal: amt(v[2]), Interest: amt(v[3]),
			Fees: amt(v[4]), Settlement: x.str(v[5]), Reason: x.str(v[6])}
		if e.check() != nil {
			return nil
		}
		return e
	}
	return nil
}
